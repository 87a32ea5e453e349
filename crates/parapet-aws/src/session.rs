//! The SDK configuration of one account: credentials from the standard
//! chain (or a role assumed with them), one HTTP client that counts the calls
//! it makes, retries with backoff and jitter, timeouts, and the endpoint
//! override emulators need.

use crate::error::{Call, Failure, Named};
use crate::options::{AssumeRole, DEFAULT_SESSION_NAME};
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::client::endpoint::EndpointFuture;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::endpoint::Endpoint;
use aws_types::SdkConfig;
use aws_types::region::Region;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Semaphore;

/// The region used for global services and for calls made before the
/// regions are known, when the configuration names none.
pub const HOME_REGION: &str = "us-east-1";

/// An HTTP client that counts the requests it sends, and which of them
/// were retries, and bounds how many are in flight. The bound is taken per request, at the
/// leaves, so that no collector can wait for a permit that its own caller
/// holds.
#[derive(Debug, Clone)]
struct Counting {
    inner: SharedHttpClient,
    counts: Arc<Counts>,
    in_flight: Arc<Semaphore>,
}

/// Requests sent, and which of them were retries.
#[derive(Debug, Default)]
struct Counts {
    sent: AtomicU64,
    retries: AtomicU64,
}

#[derive(Debug)]
struct CountingConnector {
    inner: SharedHttpConnector,
    counts: Arc<Counts>,
    in_flight: Arc<Semaphore>,
}

impl HttpClient for Counting {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(CountingConnector {
            inner: self.inner.http_connector(settings, components),
            counts: self.counts.clone(),
            in_flight: self.in_flight.clone(),
        })
    }
}

impl HttpConnector for CountingConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        let counts = self.counts.clone();
        let in_flight = self.in_flight.clone();
        // The SDK numbers each attempt of a call in this header.
        let retry = request
            .headers()
            .get("amz-sdk-request")
            .is_some_and(|h| !h.starts_with("attempt=1;"));
        HttpConnectorFuture::new(async move {
            // The semaphore is never closed; were it, the call would go
            // unbounded rather than fail.
            let _permit = in_flight.acquire_owned().await.ok();
            counts.sent.fetch_add(1, Ordering::Relaxed);
            if retry {
                counts.retries.fetch_add(1, Ordering::Relaxed);
            }
            inner.call(request).await
        })
    }
}

/// Sends every call to one fixed endpoint: S3 Control puts the account id in
/// front of the host, which an emulator's address does not resolve.
#[derive(Debug)]
struct FixedEndpoint(String);

impl aws_sdk_s3control::config::endpoint::ResolveEndpoint for FixedEndpoint {
    fn resolve_endpoint<'a>(
        &'a self,
        _params: &'a aws_sdk_s3control::config::endpoint::Params,
    ) -> EndpointFuture<'a> {
        EndpointFuture::ready(Ok(Endpoint::builder().url(self.0.clone()).build()))
    }
}

/// What every account's session shares: the HTTP client and its count.
#[derive(Debug, Clone)]
pub struct Shared {
    http: Counting,
}

impl Shared {
    /// One rustls client (ring) for every service and account, with at most
    /// `concurrency` requests in flight.
    pub fn new(concurrency: usize) -> Shared {
        let inner = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        Shared {
            http: Counting {
                inner,
                counts: Arc::default(),
                in_flight: Arc::new(Semaphore::new(concurrency.max(1))),
            },
        }
    }

    /// The API calls sent so far, retries included.
    pub fn calls(&self) -> u64 {
        self.http.counts.sent.load(Ordering::Relaxed)
    }

    /// How many of them were retries of a call that failed.
    pub fn retries(&self) -> u64 {
        self.http.counts.retries.load(Ordering::Relaxed)
    }

    /// The configuration of the base credentials: the standard chain
    /// (environment, shared profiles, SSO, web identity, container and
    /// instance roles), or the named profile.
    pub async fn base(&self, profile: Option<&str>, endpoint_url: Option<&str>) -> SdkConfig {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(self.http.clone())
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(4)
                    .with_initial_backoff(Duration::from_millis(200)),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(Duration::from_secs(60))
                    .operation_timeout(Duration::from_secs(120))
                    .build(),
            );
        if let Some(profile) = profile {
            loader = loader.profile_name(profile);
        }
        if let Some(url) = endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let config = loader.load().await;
        if config.region().is_none() {
            config.to_builder().region(Region::new(HOME_REGION)).build()
        } else {
            config
        }
    }
}

/// One account's configuration and identity.
#[derive(Debug, Clone)]
pub struct Session {
    config: SdkConfig,
    /// The account id.
    pub account: String,
}

impl Session {
    /// The session of the base credentials' own account.
    pub async fn identify(config: SdkConfig) -> Call<Session> {
        let sts = aws_sdk_sts::Client::new(&config);
        let identity = sts
            .get_caller_identity()
            .send()
            .await
            .named("sts:GetCallerIdentity")?;
        let account = identity
            .account()
            .ok_or_else(|| Failure::malformed("sts:GetCallerIdentity", "no account in the answer"))?
            .to_owned();
        Ok(Session { config, account })
    }

    /// The session of a role assumed with `base`'s credentials.
    pub async fn assume(base: &SdkConfig, role: &AssumeRole) -> Call<Session> {
        let provider = aws_config::sts::AssumeRoleProvider::builder(role.role_arn.clone())
            .session_name(
                role.session_name
                    .clone()
                    .unwrap_or_else(|| DEFAULT_SESSION_NAME.to_owned()),
            )
            .configure(base);
        let provider = match &role.external_id {
            Some(id) => provider.external_id(id.clone()),
            None => provider,
        }
        .build()
        .await;
        let config = base
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .build();
        Session::identify(config).await
    }

    /// Whether calls go to an endpoint override (an emulator).
    pub fn endpoint_url(&self) -> Option<&str> {
        self.config.endpoint_url()
    }

    /// The configuration for `region`.
    pub fn in_region(&self, region: &str) -> SdkConfig {
        self.config
            .to_builder()
            .region(Region::new(region.to_owned()))
            .build()
    }

    /// An S3 client for `region`, with path-style addresses behind an
    /// endpoint override.
    pub fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.in_region(region))
            .force_path_style(self.endpoint_url().is_some())
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// An S3 Control client, sent to the plain endpoint behind an override.
    pub fn s3control(&self, region: &str) -> aws_sdk_s3control::Client {
        let mut builder = aws_sdk_s3control::config::Builder::from(&self.in_region(region));
        if let Some(url) = self.endpoint_url() {
            builder = builder.endpoint_resolver(FixedEndpoint(url.to_owned()));
        }
        aws_sdk_s3control::Client::from_conf(builder.build())
    }
}

/// The account id in a role ARN (`arn:aws:iam::123456789012:role/name`).
pub fn account_of_role(role_arn: &str) -> Option<&str> {
    role_arn.split(':').nth(4).filter(|a| !a.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_account_is_read_from_a_role_arn() {
        assert_eq!(
            account_of_role("arn:aws:iam::123456789012:role/Audit"),
            Some("123456789012")
        );
        assert_eq!(account_of_role("not-an-arn"), None);
        assert_eq!(account_of_role("arn:aws:iam:::role/x"), None);
    }
}
