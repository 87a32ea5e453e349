//! Errors: the ones that stop a collection, and the failure of one API call,
//! which only makes its part of the estate unknown.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::fmt;

/// What stops a whole collection before it starts.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    /// The base credentials do not work: no account can be collected.
    #[error("cannot identify the AWS account of the credentials: {0}")]
    Identity(Failure),
    /// The tokio runtime could not start.
    #[error("cannot start the collector's runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// A unit of work that is not one of this build's.
    #[error("not a unit of AWS collection: {0}")]
    Unit(String),
}

/// One API call that was denied or failed, as the service said it. It never
/// holds a credential: AWS error messages name actions and resources only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The operation, as IAM names its action (`s3:GetBucketPolicy`).
    pub action: String,
    /// The error code (`AccessDenied`), or a kind of failure when the call
    /// got no answer (`Timeout`, `Unreachable`, `MalformedResponse`).
    pub code: String,
    /// The service's message.
    pub message: String,
}

impl Failure {
    /// A failure of `action` from the SDK's error.
    pub fn of<E>(
        action: &str,
        error: &SdkError<E, aws_smithy_runtime_api::http::Response>,
    ) -> Failure
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let (code, message) = match error {
            // A successful status whose body the SDK could not read.
            SdkError::ServiceError(service) if service.raw().status().is_success() => (
                "MalformedResponse".to_owned(),
                DisplayErrorContext(error).to_string(),
            ),
            SdkError::ServiceError(service) => {
                let status = service.raw().status().as_u16();
                // A refusal whose body names no code is still a refusal.
                let code = service.err().code().map(str::to_owned).unwrap_or_else(|| {
                    if status == 403 {
                        "AccessDenied".to_owned()
                    } else {
                        format!("HTTP{status}")
                    }
                });
                let message = service
                    .err()
                    .message()
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("HTTP status {status}"));
                (code, message)
            }
            SdkError::TimeoutError(_) => ("Timeout".to_owned(), "the call timed out".to_owned()),
            SdkError::DispatchFailure(_) => (
                "Unreachable".to_owned(),
                DisplayErrorContext(error).to_string(),
            ),
            SdkError::ResponseError(_) => (
                "MalformedResponse".to_owned(),
                DisplayErrorContext(error).to_string(),
            ),
            _ => (
                "RequestFailed".to_owned(),
                DisplayErrorContext(error).to_string(),
            ),
        };
        Failure {
            action: action.to_owned(),
            code,
            message: one_line(&message),
        }
    }

    /// A failure found in an answer the service gave (a document that does
    /// not parse, a field that should be there).
    pub fn malformed(action: &str, message: impl Into<String>) -> Failure {
        Failure {
            action: action.to_owned(),
            code: "MalformedResponse".to_owned(),
            message: one_line(&message.into()),
        }
    }

    /// The reason as an asset's `unknown` map states it.
    pub fn reason(&self) -> String {
        format!("{}: {}", self.code, self.action)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.action, self.code, self.message)
    }
}

impl std::error::Error for Failure {}

fn one_line(text: &str) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > 300 {
        line.chars().take(300).chain("…".chars()).collect()
    } else {
        line
    }
}

/// The result of one call.
pub type Call<T> = Result<T, Failure>;

/// Maps an SDK result to a [`Call`] named by its IAM action, and counts
/// the call in its collection: every call the collector makes is named.
pub trait Named<T> {
    /// The result, with a failure named `action`.
    fn named(self, action: &str) -> Call<T>;
}

impl<T, E> Named<T> for Result<T, SdkError<E, aws_smithy_runtime_api::http::Response>>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    fn named(self, action: &str) -> Call<T> {
        crate::calls::record(action);
        self.map_err(|e| Failure::of(action, &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::operation::get_bucket_policy::GetBucketPolicyError;
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    fn answered(status: u16, code: Option<&str>) -> SdkError<GetBucketPolicyError, Response> {
        let mut meta = ErrorMetadata::builder().message("the service said no");
        if let Some(code) = code {
            meta = meta.code(code);
        }
        let status = StatusCode::try_from(status).expect("a status");
        SdkError::service_error(
            GetBucketPolicyError::generic(meta.build()),
            Response::new(status, SdkBody::empty()),
        )
    }

    #[test]
    fn failures_are_named_by_the_services_code() {
        let failure = Failure::of("s3:GetBucketPolicy", &answered(403, Some("AccessDenied")));
        assert_eq!(failure.code, "AccessDenied");
        assert_eq!(failure.reason(), "AccessDenied: s3:GetBucketPolicy");
        assert_eq!(
            failure.to_string(),
            "s3:GetBucketPolicy AccessDenied: the service said no"
        );
    }

    #[test]
    fn a_refusal_without_a_code_is_access_denied() {
        let failure = Failure::of("iam:ListUsers", &answered(403, None));
        assert_eq!(failure.code, "AccessDenied");
    }

    #[test]
    fn an_unreadable_success_is_a_malformed_response() {
        let failure = Failure::of("s3:GetBucketPolicyStatus", &answered(200, None));
        assert_eq!(failure.code, "MalformedResponse");
    }

    #[test]
    fn server_errors_and_timeouts_are_named() {
        assert_eq!(Failure::of("x:Y", &answered(500, None)).code, "HTTP500");
        let timeout: SdkError<GetBucketPolicyError, Response> = SdkError::timeout_error("slow");
        assert_eq!(Failure::of("x:Y", &timeout).code, "Timeout");
    }

    #[test]
    fn long_messages_are_kept_to_one_short_line() {
        let text = format!("line one\nline two {}", "x".repeat(400));
        let line = one_line(&text);
        assert!(!line.contains('\n'));
        assert_eq!(line.chars().count(), 301);
    }
}
