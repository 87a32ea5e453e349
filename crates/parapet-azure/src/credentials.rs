//! Which credential signs Parapet in to Azure, and the HTTP client every
//! request (tokens and Azure Resource Manager alike) goes through. The
//! environment chooses the credential as Azure's own tools do: a service
//! principal's secret or certificate, then workload identity, then the managed identity
//! of the machine Parapet runs on, then the user signed in to the Azure
//! CLI.

use crate::certificate::CertificateAssertion;
use crate::error::AzureError;
use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::{ClientOptions, HttpClient, Transport, Url};
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, ClientAssertionCredential,
    ClientAssertionCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions,
    ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId,
    WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where Azure is: Resource Manager, the sign-in, and the roots trusted.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// Azure Resource Manager, `https://management.azure.com`.
    pub resource_manager: Url,
    /// Microsoft Entra ID's sign-in, `https://login.microsoftonline.com`.
    pub authority: Url,
    /// Certificates trusted beside the public roots (a proxy that
    /// inspects TLS, a sovereign cloud's, a test server's).
    pub extra_roots: Vec<CertificateDer<'static>>,
}

impl Endpoints {
    /// Resource Manager and the sign-in at these URLs (a sovereign cloud,
    /// a test server), both HTTPS: a token is never sent in the clear.
    pub fn new(resource_manager: &str, authority: &str) -> Result<Endpoints, AzureError> {
        let parse = |setting: &str, value: &str| {
            let url = Url::parse(value).map_err(|e| AzureError::Setting {
                setting: setting.to_owned(),
                message: format!("{value}: {e}"),
            })?;
            if url.scheme() != "https" {
                return Err(AzureError::Setting {
                    setting: setting.to_owned(),
                    message: format!("{value}: not HTTPS"),
                });
            }
            Ok(url)
        };
        Ok(Endpoints {
            resource_manager: parse("resource manager", resource_manager)?,
            authority: parse("authority", authority)?,
            extra_roots: Vec::new(),
        })
    }

    /// Trusts the certificates of the PEM file `path` too.
    pub fn trust(mut self, path: &Path) -> Result<Endpoints, AzureError> {
        let setting = |message: String| AzureError::Setting {
            setting: format!("CA file {}", path.display()),
            message,
        };
        let before = self.extra_roots.len();
        for cert in CertificateDer::pem_file_iter(path).map_err(|e| setting(e.to_string()))? {
            self.extra_roots
                .push(cert.map_err(|e| setting(e.to_string()))?);
        }
        if self.extra_roots.len() == before {
            return Err(setting("no certificate in the file".to_owned()));
        }
        Ok(self)
    }

    /// The HTTP client for Azure: rustls with ring, the public roots and
    /// the extra ones.
    pub fn http_client(&self) -> Result<Arc<dyn HttpClient>, AzureError> {
        let setting = |message: String| AzureError::Setting {
            setting: "TLS".to_owned(),
            message,
        };
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for cert in &self.extra_roots {
            roots
                .add(cert.clone())
                .map_err(|e| setting(e.to_string()))?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| setting(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .build()
            .map_err(|e| setting(e.to_string()))?;
        Ok(Arc::new(client))
    }

    /// Client options that send through `http` and sign in at this
    /// authority.
    fn client_options(&self, http: &Arc<dyn HttpClient>) -> ClientOptions {
        let mut cloud = CustomConfiguration::default();
        cloud.authority_host = self.authority.as_str().trim_end_matches('/').to_owned();
        ClientOptions {
            transport: Some(Transport::new(Arc::clone(http))),
            cloud: Some(Arc::new(CloudConfiguration::from(cloud))),
            ..ClientOptions::default()
        }
    }
}

/// The credential Parapet signs in with.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// A service principal and its secret (`AZURE_TENANT_ID`,
    /// `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`).
    ClientSecret {
        /// The tenant (directory) id.
        tenant: String,
        /// The application (client) id.
        client_id: String,
        /// The secret, never shown.
        secret: Secret,
    },
    /// A service principal and its certificate (`AZURE_TENANT_ID`,
    /// `AZURE_CLIENT_ID`, `AZURE_CLIENT_CERTIFICATE_PATH`: a PEM file with
    /// the certificate and its unencrypted private key).
    ClientCertificate {
        /// The tenant (directory) id.
        tenant: String,
        /// The application (client) id.
        client_id: String,
        /// The PEM file.
        certificate: PathBuf,
    },
    /// Workload identity: a federated token in a file
    /// (`AZURE_FEDERATED_TOKEN_FILE`, with `AZURE_TENANT_ID` and
    /// `AZURE_CLIENT_ID`), as on AKS.
    WorkloadIdentity {
        /// The tenant id.
        tenant: String,
        /// The application (client) id.
        client_id: String,
        /// The token's file.
        token_file: PathBuf,
    },
    /// The managed identity of the machine Parapet runs on: the
    /// system-assigned one, or the user-assigned one `AZURE_CLIENT_ID`
    /// names.
    ManagedIdentity {
        /// A user-assigned identity's client id.
        client_id: Option<String>,
    },
    /// The user signed in to the Azure CLI (`az login`), in its default
    /// tenant or this one.
    AzureCli {
        /// The tenant, when not the CLI's default.
        tenant: Option<String>,
    },
}

impl Credentials {
    /// The credential the environment `var` reads describes: a client
    /// secret, a federated token file, a managed identity's endpoint
    /// (`IDENTITY_ENDPOINT`, `MSI_ENDPOINT`) or one asked for
    /// (`PARAPET_AZURE_MANAGED_IDENTITY`), else the Azure CLI.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Credentials {
        let set = |name: &str| var(name).filter(|v| !v.is_empty());
        if let (Some(tenant), Some(client_id)) = (set("AZURE_TENANT_ID"), set("AZURE_CLIENT_ID")) {
            if let Some(secret) = set("AZURE_CLIENT_SECRET") {
                return Credentials::ClientSecret {
                    tenant,
                    client_id,
                    secret: Secret::new(secret),
                };
            }
            if let Some(file) = set("AZURE_CLIENT_CERTIFICATE_PATH") {
                return Credentials::ClientCertificate {
                    tenant,
                    client_id,
                    certificate: PathBuf::from(file),
                };
            }
            if let Some(file) = set("AZURE_FEDERATED_TOKEN_FILE") {
                return Credentials::WorkloadIdentity {
                    tenant,
                    client_id,
                    token_file: PathBuf::from(file),
                };
            }
        }
        let managed = [
            "IDENTITY_ENDPOINT",
            "MSI_ENDPOINT",
            "PARAPET_AZURE_MANAGED_IDENTITY",
        ]
        .iter()
        .any(|name| set(name).is_some());
        if managed {
            return Credentials::ManagedIdentity {
                client_id: set("AZURE_CLIENT_ID"),
            };
        }
        Credentials::AzureCli { tenant: None }
    }

    /// The same credential signing in to `tenant` (a multitenant
    /// application's, or the Azure CLI user's); a managed identity signs in
    /// to its own tenant only.
    pub fn in_tenant(&self, tenant: &str) -> Result<Credentials, AzureError> {
        let mut other = self.clone();
        match &mut other {
            Credentials::ClientSecret { tenant: t, .. }
            | Credentials::ClientCertificate { tenant: t, .. }
            | Credentials::WorkloadIdentity { tenant: t, .. } => tenant.clone_into(t),
            Credentials::AzureCli { tenant: t } => *t = Some(tenant.to_owned()),
            Credentials::ManagedIdentity { .. } => {
                return Err(AzureError::Setting {
                    setting: "tenants".to_owned(),
                    message: "a managed identity signs in to its own tenant only".to_owned(),
                });
            }
        }
        Ok(other)
    }

    /// What kind of credential it is, as messages name it.
    pub fn kind(&self) -> &'static str {
        match self {
            Credentials::ClientSecret { .. } => "client secret",
            Credentials::ClientCertificate { .. } => "client certificate",
            Credentials::WorkloadIdentity { .. } => "workload identity",
            Credentials::ManagedIdentity { .. } => "managed identity",
            Credentials::AzureCli { .. } => "Azure CLI",
        }
    }

    /// The credential, signing in at `endpoints`' authority through
    /// `http`.
    pub fn token_credential(
        &self,
        endpoints: &Endpoints,
        http: &Arc<dyn HttpClient>,
    ) -> Result<Arc<dyn TokenCredential>, AzureError> {
        let kind = self.kind();
        let failed = |e: azure_core::Error| AzureError::Credential {
            kind,
            message: e.to_string(),
        };
        let client_options = endpoints.client_options(http);
        Ok(match self {
            Credentials::ClientSecret {
                tenant,
                client_id,
                secret,
            } => ClientSecretCredential::new(
                tenant,
                client_id.clone(),
                secret.clone(),
                Some(ClientSecretCredentialOptions { client_options }),
            )
            .map_err(failed)?,
            Credentials::ClientCertificate {
                tenant,
                client_id,
                certificate,
            } => {
                let audience = format!(
                    "{}/{tenant}/oauth2/v2.0/token",
                    endpoints.authority.as_str().trim_end_matches('/')
                );
                let assertion = CertificateAssertion::from_file(certificate, client_id, &audience)
                    .map_err(|message| AzureError::Credential { kind, message })?;
                ClientAssertionCredential::new(
                    tenant.clone(),
                    client_id.clone(),
                    assertion,
                    Some(ClientAssertionCredentialOptions { client_options }),
                )
                .map_err(failed)?
            }
            Credentials::WorkloadIdentity {
                tenant,
                client_id,
                token_file,
            } => WorkloadIdentityCredential::new(Some(WorkloadIdentityCredentialOptions {
                credential_options: ClientAssertionCredentialOptions { client_options },
                client_id: Some(client_id.clone()),
                tenant_id: Some(tenant.clone()),
                token_file_path: Some(token_file.clone()),
            }))
            .map_err(failed)?,
            Credentials::ManagedIdentity { client_id } => {
                ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
                    user_assigned_id: client_id.clone().map(UserAssignedId::ClientId),
                    client_options,
                }))
                .map_err(failed)?
            }
            Credentials::AzureCli { tenant } => {
                AzureCliCredential::new(Some(AzureCliCredentialOptions {
                    tenant_id: tenant.clone(),
                    ..AzureCliCredentialOptions::default()
                }))
                .map_err(failed)?
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn endpoints_are_https_urls() {
        let fine = Endpoints::new(
            "https://management.usgovcloudapi.net",
            "https://login.microsoftonline.us",
        )
        .expect("HTTPS");
        assert_eq!(
            fine.resource_manager.host_str(),
            Some("management.usgovcloudapi.net")
        );
        let clear = Endpoints::new("http://127.0.0.1:1", "https://login.microsoftonline.com")
            .expect_err("not HTTPS");
        assert!(clear.to_string().contains("resource manager"), "{clear}");
        assert!(Endpoints::new("https://management.azure.com", "not a url").is_err());
    }

    #[test]
    fn the_environment_chooses_the_credential_as_azures_tools_do() {
        let secret = Credentials::from_env(env(&[
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_CLIENT_SECRET", "s3cret"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token"),
        ]));
        assert_eq!(secret.kind(), "client secret");
        assert!(
            !format!("{secret:?}").contains("s3cret"),
            "the secret is never shown"
        );
        let certificate = Credentials::from_env(env(&[
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_CLIENT_CERTIFICATE_PATH", "/etc/parapet/sp.pem"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token"),
        ]));
        assert_eq!(certificate.kind(), "client certificate");
        let workload = Credentials::from_env(env(&[
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token"),
        ]));
        assert_eq!(workload.kind(), "workload identity");
        let managed = Credentials::from_env(env(&[
            ("AZURE_CLIENT_ID", "c"),
            ("IDENTITY_ENDPOINT", "http://169.254.169.254"),
        ]));
        assert!(matches!(
            managed,
            Credentials::ManagedIdentity { client_id: Some(ref c) } if c == "c"
        ));
        assert_eq!(
            Credentials::from_env(env(&[("AZURE_CLIENT_SECRET", "")])).kind(),
            "Azure CLI"
        );
    }
}
