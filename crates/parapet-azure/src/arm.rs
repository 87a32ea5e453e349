//! Azure Resource Manager reads: one resource, or every item of a list
//! page after page by `nextLink`, through `azure_core`'s pipeline (which
//! signs each request with a bearer token for ARM, retries what failed for
//! a moment and waits as `Retry-After` says). An answer that is not a
//! success is an [`ArmError`] with ARM's own code and message; a `nextLink`
//! that leaves ARM's host is refused, so that no token goes elsewhere.

use crate::credentials::Endpoints;
use crate::error::ArmError;
use azure_core::credentials::TokenCredential;
use azure_core::http::headers::HeaderName;
use azure_core::http::policies::auth::BearerTokenAuthorizationPolicy;
use azure_core::http::policies::{Policy, PolicyResult};
use azure_core::http::{
    ClientOptions, Context, ExponentialRetryOptions, HttpClient, Method, Pipeline,
    PipelineSendOptions, Request, RetryOptions, Transport, Url,
};
use azure_core::time::Duration;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// A client of Azure Resource Manager.
#[derive(Debug, Clone)]
pub struct Arm {
    pipeline: Pipeline,
    endpoint: Url,
    counts: Arc<Counts>,
}

/// The calls a client made: each by the RBAC action it reads with, and
/// every try (retries included).
#[derive(Debug, Default)]
pub struct Counts {
    calls: Mutex<BTreeMap<String, u64>>,
    tries: AtomicU64,
}

impl Counts {
    /// The calls made, by action (`Microsoft.Storage/storageAccounts/read`).
    pub fn calls(&self) -> BTreeMap<String, u64> {
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Every request sent, retries included.
    pub fn tries(&self) -> u64 {
        self.tries.load(Ordering::Relaxed)
    }
}

/// Below this many reads left in the subscription's window
/// (`x-ms-ratelimit-remaining-subscription-reads`), requests go out one a
/// second, so that a collection slows down before ARM throttles it; an
/// answer with more left lifts the pace, for the requests already waiting
/// too.
const PACE_BELOW: u64 = 100;

/// A policy run on every try: counts it, and paces the requests while ARM
/// says few reads are left.
#[derive(Debug)]
struct Tries {
    counts: Arc<Counts>,
    /// While pacing, when the next request may go out.
    slot: Mutex<Option<tokio::time::Instant>>,
    /// Wakes the requests waiting for their slots when the pace is lifted.
    lifted: tokio::sync::Notify,
}

impl Tries {
    /// When this request may go out, taking the slot after it for the
    /// next; `None` when not pacing.
    fn take_slot(&self) -> Option<tokio::time::Instant> {
        let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        let at = (*slot)?.max(tokio::time::Instant::now());
        *slot = Some(at + std::time::Duration::from_secs(1));
        Some(at)
    }

    /// Starts or lifts the pace as `left` reads are said to be left.
    fn heed(&self, left: u64) {
        let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        match left < PACE_BELOW {
            true if slot.is_none() => {
                *slot = Some(tokio::time::Instant::now() + std::time::Duration::from_secs(1));
            }
            true => {}
            false => {
                if slot.take().is_some() {
                    self.lifted.notify_waiters();
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl Policy for Tries {
    async fn send(
        &self,
        ctx: &Context,
        request: &mut Request,
        next: &[Arc<dyn Policy>],
    ) -> PolicyResult {
        // Registered before the slot is taken, so that a pace lifted
        // meanwhile wakes it.
        let lifted = self.lifted.notified();
        tokio::pin!(lifted);
        lifted.as_mut().enable();
        if let Some(at) = self.take_slot() {
            tokio::select! {
                () = tokio::time::sleep_until(at) => {}
                () = lifted => {}
            }
        }
        self.counts.tries.fetch_add(1, Ordering::Relaxed);
        let (first, rest) = next
            .split_first()
            .unwrap_or_else(|| unreachable!("the transport follows every policy"));
        let response = first.send(ctx, request, rest).await?;
        let left = response
            .headers()
            .get_optional_str(&HeaderName::from_static(
                "x-ms-ratelimit-remaining-subscription-reads",
            ))
            .and_then(|v| v.parse::<u64>().ok());
        if let Some(left) = left {
            self.heed(left);
        }
        Ok(response)
    }
}

/// The RBAC action a read of `path` needs: the resource provider's
/// namespace and the types along the path after its last `/providers/`
/// (`Microsoft.Storage/storageAccounts/blobServices/read`), or a
/// subscription's read (`Microsoft.Resources/subscriptions/resources/read`
/// for what lies under it).
pub fn action(path: &str) -> String {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let after = segments
        .iter()
        .rposition(|s| s.eq_ignore_ascii_case("providers"))
        .map_or(&[][..], |at| &segments[at + 1..]);
    match after.split_first() {
        Some((namespace, rest)) if !rest.is_empty() => {
            let types: Vec<&str> = rest.iter().step_by(2).copied().collect();
            format!("{namespace}/{}/read", types.join("/"))
        }
        // No provider: the subscription itself, or what lies under it
        // (`/subscriptions/{id}/resources`).
        _ => match segments.get(2) {
            Some(under) => format!("Microsoft.Resources/subscriptions/{under}/read"),
            None => "Microsoft.Resources/subscriptions/read".to_owned(),
        },
    }
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
        let counts = Arc::new(Counts::default());
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
            vec![
                Arc::new(auth),
                Arc::new(Tries {
                    counts: Arc::clone(&counts),
                    slot: Mutex::default(),
                    lifted: tokio::sync::Notify::new(),
                }),
            ],
            None,
        );
        Arm {
            pipeline,
            endpoint,
            counts,
        }
    }

    /// The calls made so far.
    pub fn counts(&self) -> &Counts {
        &self.counts
    }

    /// The document at `path` (from the root: `/subscriptions/...`), read
    /// with `api_version`.
    pub async fn get(&self, path: &str, api_version: &str) -> Result<Value, ArmError> {
        let url = self.url(path, api_version)?;
        self.read(url, path, None).await
    }

    /// The answer to the query `body` POSTed to `path` (Azure Resource
    /// Graph's), with `api_version`: a read that takes a body.
    pub async fn query(
        &self,
        path: &str,
        api_version: &str,
        body: &Value,
    ) -> Result<Value, ArmError> {
        let url = self.url(path, api_version)?;
        self.read(url, path, Some(body)).await
    }

    /// Every item of the list at `path`, read with `api_version`, following
    /// each page's `nextLink`.
    pub async fn list(&self, path: &str, api_version: &str) -> Result<Vec<Value>, ArmError> {
        let mut url = self.url(path, api_version)?;
        let mut items = Vec::new();
        loop {
            let page = self.read(url, path, None).await?;
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

    /// Sends a GET of `url` (a POST of `body`, when given) and reads its
    /// JSON answer.
    async fn read(&self, url: Url, path: &str, body: Option<&Value>) -> Result<Value, ArmError> {
        let method = if body.is_some() {
            Method::Post
        } else {
            Method::Get
        };
        let operation = format!("{method} {path}");
        *self
            .counts
            .calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(action(path))
            .or_default() += 1;
        let mut request = Request::new(url, method);
        request.insert_header("accept", "application/json");
        if let Some(body) = body {
            request.insert_header("content-type", "application/json");
            request.set_body(body.to_string());
        }
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
pub(crate) fn malformed(path: &str, message: &str) -> ArmError {
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
    fn a_reads_action_is_its_providers_namespace_and_the_types_along_its_path() {
        assert_eq!(
            action(
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a/blobServices/default/containers"
            ),
            "Microsoft.Storage/storageAccounts/blobServices/containers/read"
        );
        assert_eq!(
            action("/subscriptions/s/providers/Microsoft.Storage/storageAccounts"),
            "Microsoft.Storage/storageAccounts/read"
        );
        assert_eq!(
            action("/subscriptions/s"),
            "Microsoft.Resources/subscriptions/read"
        );
        assert_eq!(
            action("/subscriptions/s/resources"),
            "Microsoft.Resources/subscriptions/resources/read"
        );
    }

    #[test]
    fn an_answer_in_arms_error_shape_gives_its_code_and_message_and_any_other_its_start() {
        let denied = refused(
            "GET /subscriptions/s".to_owned(),
            403,
            br#"{"error":{"code":"AuthorizationFailed","message":"The client does not have authorization"}}"#,
        );
        assert_eq!(denied.code, "AuthorizationFailed");
        assert_eq!(denied.status, Some(403));
        assert_eq!(
            denied.to_string(),
            "GET /subscriptions/s: 403 AuthorizationFailed: The client does not have authorization"
        );
        let gateway = refused("GET /x".to_owned(), 502, b"<html>Bad Gateway</html>");
        assert_eq!(gateway.code, "HTTP502");
        assert_eq!(gateway.message, "<html>Bad Gateway</html>");
        assert_eq!(gateway.status, Some(502));
    }
}
