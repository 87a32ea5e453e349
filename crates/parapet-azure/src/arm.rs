//! Azure Resource Manager reads: one resource, or every item of a list
//! page after page by `nextLink`, through `azure_core`'s pipeline (which
//! signs each request with a bearer token for ARM, retries what failed for
//! a moment and waits as `Retry-After` says). An answer that is not a
//! success is an [`ArmError`] with ARM's own code and message; a `nextLink`
//! that leaves ARM's host is refused, so that no token goes elsewhere.

use crate::credentials::Endpoints;
use crate::error::ArmError;
use azure_core::credentials::TokenCredential;
use azure_core::http::policies::auth::BearerTokenAuthorizationPolicy;
use azure_core::http::{
    ClientOptions, Context, ExponentialRetryOptions, HttpClient, Method, Pipeline,
    PipelineSendOptions, Request, RetryOptions, Transport, Url,
};
use azure_core::time::Duration;
use serde_json::Value;
use std::sync::Arc;

/// A client of Azure Resource Manager.
#[derive(Debug, Clone)]
pub struct Arm {
    pipeline: Pipeline,
    endpoint: Url,
}

impl Arm {
    /// A client of the Resource Manager `endpoints` name, signing in with
    /// `credential`, sending through `http`.
    pub fn new(
        credential: Arc<dyn TokenCredential>,
        endpoints: &Endpoints,
        http: Arc<dyn HttpClient>,
    ) -> Arm {
        let endpoint = endpoints.resource_manager.clone();
        let scope = format!("{}/.default", endpoint.as_str().trim_end_matches('/'));
        let auth = BearerTokenAuthorizationPolicy::new(credential, [scope]);
        let options = ClientOptions {
            transport: Some(Transport::new(http)),
            retry: RetryOptions::exponential(ExponentialRetryOptions {
                initial_delay: Duration::milliseconds(200),
                max_retries: 5,
                max_total_elapsed: Duration::seconds(120),
                max_delay: Duration::seconds(60),
            }),
            ..ClientOptions::default()
        };
        let pipeline = Pipeline::new(
            Some("parapet"),
            Some(env!("CARGO_PKG_VERSION")),
            options,
            Vec::new(),
            vec![Arc::new(auth)],
            None,
        );
        Arm { pipeline, endpoint }
    }

    /// The document at `path` (from the root: `/subscriptions/...`), read
    /// with `api_version`.
    pub async fn get(&self, path: &str, api_version: &str) -> Result<Value, ArmError> {
        let url = self.url(path, api_version)?;
        self.read(url, path).await
    }

    /// Every item of the list at `path`, read with `api_version`, following
    /// each page's `nextLink`.
    pub async fn list(&self, path: &str, api_version: &str) -> Result<Vec<Value>, ArmError> {
        let mut url = self.url(path, api_version)?;
        let mut items = Vec::new();
        loop {
            let page = self.read(url, path).await?;
            let Some(Value::Array(value)) = page.get("value") else {
                return Err(malformed(path, "a list's answer has no `value` array"));
            };
            items.extend(value.iter().cloned());
            match page.get("nextLink") {
                Some(Value::String(next)) if !next.is_empty() => url = self.next(path, next)?,
                None | Some(Value::Null) => return Ok(items),
                Some(Value::String(_)) => return Ok(items),
                Some(_) => return Err(malformed(path, "`nextLink` is not a string")),
            }
        }
    }

    /// The URL of `path` with its `api-version`.
    fn url(&self, path: &str, api_version: &str) -> Result<Url, ArmError> {
        let mut url = self
            .endpoint
            .join(path)
            .map_err(|e| malformed(path, &format!("not a path: {e}")))?;
        url.query_pairs_mut()
            .append_pair("api-version", api_version);
        Ok(url)
    }

    /// The next page `next` names, which must be on ARM's own host.
    fn next(&self, path: &str, next: &str) -> Result<Url, ArmError> {
        let url =
            Url::parse(next).map_err(|e| malformed(path, &format!("`nextLink` {next}: {e}")))?;
        let same = url.scheme() == self.endpoint.scheme()
            && url.host_str() == self.endpoint.host_str()
            && url.port_or_known_default() == self.endpoint.port_or_known_default();
        if !same {
            return Err(malformed(
                path,
                &format!("`nextLink` leaves {}: {next}", self.endpoint),
            ));
        }
        Ok(url)
    }

    /// Sends a GET of `url` and reads its JSON answer.
    async fn read(&self, url: Url, path: &str) -> Result<Value, ArmError> {
        let operation = format!("GET {path}");
        let mut request = Request::new(url, Method::Get);
        request.insert_header("accept", "application/json");
        let response = self
            .pipeline
            .send(
                &Context::new(),
                &mut request,
                Some(PipelineSendOptions {
                    skip_checks: true,
                    ..PipelineSendOptions::default()
                }),
            )
            .await
            .map_err(|e| ArmError {
                operation: operation.clone(),
                status: None,
                code: "NoAnswer".to_owned(),
                message: with_causes(&e),
            })?;
        let status = u16::from(response.status());
        let body = response.into_body();
        if !(200..300).contains(&status) {
            return Err(refused(operation, status, &body));
        }
        serde_json::from_slice(&body).map_err(|e| ArmError {
            operation,
            status: Some(status),
            code: "MalformedResponse".to_owned(),
            message: format!("the answer is not JSON: {e}"),
        })
    }
}

/// `error`'s message followed by those of its causes (a token refused by
/// Entra ID is the cause of the pipeline's error).
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let text = inner.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        cause = inner.source();
    }
    message
}

/// An answer that does not say what ARM's should.
fn malformed(path: &str, message: &str) -> ArmError {
    ArmError {
        operation: format!("GET {path}"),
        status: None,
        code: "MalformedResponse".to_owned(),
        message: message.to_owned(),
    }
}

/// The error of an answer with `status`: ARM's code and message when the
/// body has its error shape (`{"error": {"code", "message"}}`), else the
/// start of the body.
fn refused(operation: String, status: u16, body: &[u8]) -> ArmError {
    let error = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("error").cloned());
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let code = text(error.as_ref().and_then(|e| e.get("code")));
    let message = text(error.as_ref().and_then(|e| e.get("message")));
    ArmError {
        operation,
        status: Some(status),
        code: code.unwrap_or_else(|| format!("HTTP{status}")),
        message: message
            .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(200).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_in_arms_error_shape_gives_its_code_and_message_and_any_other_its_start() {
        let denied = refused(
            "GET /subscriptions/s".to_owned(),
            403,
            br#"{"error":{"code":"AuthorizationFailed","message":"The client does not have authorization"}}"#,
        );
        assert_eq!(denied.code, "AuthorizationFailed");
        assert!(denied.is_denied());
        assert_eq!(
            denied.to_string(),
            "GET /subscriptions/s: 403 AuthorizationFailed: The client does not have authorization"
        );
        let gateway = refused("GET /x".to_owned(), 502, b"<html>Bad Gateway</html>");
        assert_eq!(gateway.code, "HTTP502");
        assert_eq!(gateway.message, "<html>Bad Gateway</html>");
        assert!(!gateway.is_denied());
    }
}
