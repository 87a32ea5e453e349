//! What can go wrong reaching Azure: setting up a credential or a client,
//! and a call Azure Resource Manager refused or failed.

use std::fmt;

/// A call to Azure Resource Manager that did not give what was asked: its
/// answer's status and ARM's error code and message, or why no answer came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmError {
    /// The operation, as the method and path called (without the query).
    pub operation: String,
    /// The HTTP status answered, if one was.
    pub status: Option<u16>,
    /// ARM's error code (`AuthorizationFailed`, `ResourceNotFound`...), or
    /// what went wrong without an answer.
    pub code: String,
    /// ARM's message.
    pub message: String,
}

impl fmt::Display for ArmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(status) => write!(
                f,
                "{}: {status} {}: {}",
                self.operation, self.code, self.message
            ),
            None => write!(f, "{}: {}: {}", self.operation, self.code, self.message),
        }
    }
}

impl std::error::Error for ArmError {}

/// An error setting Azure up.
#[derive(Debug, thiserror::Error)]
pub enum AzureError {
    /// A credential could not be made from what was given.
    #[error("Azure credential ({kind}): {message}")]
    Credential {
        /// Which credential.
        kind: &'static str,
        /// Why.
        message: String,
    },
    /// A setting is not valid.
    #[error("Azure setting {setting}: {message}")]
    Setting {
        /// The setting, as the user gives it.
        setting: String,
        /// Why.
        message: String,
    },
    /// A call failed.
    #[error(transparent)]
    Arm(#[from] ArmError),
}
