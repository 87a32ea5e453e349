//! Which credential signs Parapet in to Google Cloud, and where Google's
//! APIs are. The credential is found as Google's own tools find it
//! (Application Default Credentials, by `google-cloud-auth`): the file
//! `GOOGLE_APPLICATION_CREDENTIALS` names (a service account key, a
//! workload identity federation configuration, an impersonation
//! configuration), else gcloud's user credentials
//! (`gcloud auth application-default login`), else the metadata server of
//! the machine Parapet runs on (`GCE_METADATA_HOST` moves it). A service
//! account can be impersonated on top of it. Nothing of it is ever shown.

use crate::error::GcpError;
use google_cloud_auth::credentials::{
    Builder, external_account, impersonated, service_account, user_account,
};
use serde_json::Value;
use std::path::PathBuf;

/// The OAuth scope every call is made with: Cloud Asset Inventory and
/// Pub/Sub both take it.
pub const CLOUD_PLATFORM: &str = "https://www.googleapis.com/auth/cloud-platform";

/// The credential, as Application Default Credentials find it or from a
/// file named, and the service account it impersonates, if any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// A credentials file to read rather than looking as Application
    /// Default Credentials look (`--credentials-file`): a service account
    /// key, an `authorized_user` file from gcloud, an `external_account`
    /// (workload identity federation) or `impersonated_service_account`
    /// configuration.
    pub file: Option<PathBuf>,
    /// The email of a service account to act as (`--impersonate-service-account`):
    /// the credential found needs `roles/iam.serviceAccountTokenCreator` on it.
    pub impersonate: Option<String>,
}

impl Credentials {
    /// The credential Google's clients sign in with.
    pub fn signed_in(&self) -> Result<google_cloud_auth::credentials::Credentials, GcpError> {
        install_crypto();
        let found = match &self.file {
            Some(file) => from_file(file)?,
            None => Builder::default()
                .with_scopes([CLOUD_PLATFORM])
                .build()
                .map_err(|e| GcpError::Credential(e.to_string()))?,
        };
        match &self.impersonate {
            None => Ok(found),
            Some(email) => impersonated::Builder::from_source_credentials(found)
                .with_target_principal(email)
                .with_scopes([CLOUD_PLATFORM])
                .build()
                .map_err(|e| GcpError::Credential(format!("impersonating {email}: {e}"))),
        }
    }
}

/// The credential a credentials file describes, by its `type`.
fn from_file(
    file: &std::path::Path,
) -> Result<google_cloud_auth::credentials::Credentials, GcpError> {
    let refuse = |why: String| GcpError::Credential(format!("{}: {why}", file.display()));
    let text = std::fs::read_to_string(file).map_err(|e| refuse(e.to_string()))?;
    let json: Value = serde_json::from_str(&text).map_err(|e| refuse(format!("not JSON: {e}")))?;
    let built = match json.get("type").and_then(Value::as_str) {
        Some("service_account") => service_account::Builder::new(json)
            .with_access_specifier(service_account::AccessSpecifier::from_scopes([
                CLOUD_PLATFORM,
            ]))
            .build(),
        Some("authorized_user") => user_account::Builder::new(json)
            .with_scopes([CLOUD_PLATFORM])
            .build(),
        Some("external_account") => external_account::Builder::new(json)
            .with_scopes([CLOUD_PLATFORM])
            .build(),
        Some("impersonated_service_account") => impersonated::Builder::new(json)
            .with_scopes([CLOUD_PLATFORM])
            .build(),
        Some(other) => {
            return Err(refuse(format!(
                "credentials of type {other:?} are not supported"
            )));
        }
        None => {
            return Err(refuse(
                "no `type`: not a Google credentials file".to_owned(),
            ));
        }
    };
    built.map_err(|e| refuse(e.to_string()))
}

/// Makes rustls' ring provider the process's default, which Google's
/// clients (built without their own aws-lc-rs provider) sign and connect
/// with. Installing it again changes nothing.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Where Google's APIs are: their public endpoints, or others (a private
/// endpoint, or a test's fake on 127.0.0.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoints {
    /// Cloud Asset Inventory's root URL; `None`: `https://cloudasset.googleapis.com`.
    pub inventory: Option<String>,
    /// Pub/Sub's root URL; `None`: `https://pubsub.googleapis.com`.
    pub pubsub: Option<String>,
}

impl Endpoints {
    /// Google's public endpoints, or the URLs given: HTTPS, or HTTP to the
    /// machine itself only (no credential crosses a network in the clear).
    pub fn new(inventory: Option<&str>, pubsub: Option<&str>) -> Result<Endpoints, GcpError> {
        Ok(Endpoints {
            inventory: inventory
                .map(|u| checked("inventory endpoint", u))
                .transpose()?,
            pubsub: pubsub.map(|u| checked("Pub/Sub endpoint", u)).transpose()?,
        })
    }
}

/// `url` without its trailing slash, if it is HTTPS or HTTP to loopback.
fn checked(setting: &str, url: &str) -> Result<String, GcpError> {
    let refuse = |message: &str| GcpError::Setting {
        setting: setting.to_owned(),
        message: format!("{url}: {message}"),
    };
    let (scheme, rest) = url.split_once("://").ok_or_else(|| refuse("not a URL"))?;
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    match scheme {
        "https" if !host.is_empty() => Ok(url.trim_end_matches('/').to_owned()),
        "http" if matches!(host, "127.0.0.1" | "localhost" | "[::1]") => {
            Ok(url.trim_end_matches('/').to_owned())
        }
        "http" => Err(refuse("HTTP is allowed to this machine only; use HTTPS")),
        _ => Err(refuse("not an HTTPS URL")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_https_or_loopback() {
        let endpoints = Endpoints::new(Some("http://127.0.0.1:8080/"), None).expect("loopback");
        assert_eq!(
            endpoints.inventory.as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert!(Endpoints::new(Some("https://cloudasset.example.com"), None).is_ok());
        let refused =
            Endpoints::new(None, Some("http://pubsub.example.com")).expect_err("HTTP elsewhere");
        assert!(
            refused.to_string().contains("Pub/Sub endpoint"),
            "{refused}"
        );
        assert!(Endpoints::new(Some("cloudasset.googleapis.com"), None).is_err());
        assert!(Endpoints::new(Some("ftp://127.0.0.1"), None).is_err());
    }
}
