//! What can go wrong reaching Google Cloud: setting up a credential or a
//! client, and a call Cloud Asset Inventory refused or failed.

use std::fmt;

/// A call to Cloud Asset Inventory that did not give what was asked: the
/// method and parent, and Google's status code and message, or why no
/// answer came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryError {
    /// The method (`ListAssets`) and the parent it was called on.
    pub call: String,
    /// Google's canonical status code (`PERMISSION_DENIED`, `INVALID_ARGUMENT`...),
    /// or what went wrong without an answer.
    pub code: String,
    /// Google's message.
    pub message: String,
}

impl fmt::Display for InventoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.call, self.code, self.message)
    }
}

impl std::error::Error for InventoryError {}

impl InventoryError {
    /// The error of `call` that Google's client gave.
    pub fn of(call: String, error: &google_cloud_gax::error::Error) -> InventoryError {
        match error.status() {
            Some(status) => InventoryError {
                call,
                code: status.code.name().to_owned(),
                message: status.message.clone(),
            },
            None if error.is_authentication() => InventoryError {
                call,
                code: "UNAUTHENTICATED".to_owned(),
                message: error.to_string(),
            },
            None => InventoryError {
                call,
                code: match error.http_status_code() {
                    Some(status) => format!("HTTP {status}"),
                    None => "NO_ANSWER".to_owned(),
                },
                message: error.to_string(),
            },
        }
    }
}

/// An error setting Google Cloud up.
#[derive(Debug, thiserror::Error)]
pub enum GcpError {
    /// A credential could not be made from what was given.
    #[error("Google Cloud credential: {0}")]
    Credential(String),
    /// A setting is not valid.
    #[error("Google Cloud setting {setting}: {message}")]
    Setting {
        /// The setting, as the user gives it.
        setting: String,
        /// Why.
        message: String,
    },
    /// A call failed.
    #[error(transparent)]
    Inventory(#[from] InventoryError),
}
