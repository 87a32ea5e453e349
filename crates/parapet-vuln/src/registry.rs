//! Pulling an image from a registry over the OCI distribution API: the
//! manifest (the platform's, from an index), its configuration and layers,
//! with a bearer token from the registry's token service or basic
//! authentication, as the registry's challenge asks. What is pulled is
//! written as an OCI image layout in a scratch folder, each blob checked
//! against its digest; credentials never appear in errors, and go only to
//! the registry and to a token service on its host or its domain (Docker
//! Hub's `auth.docker.io` for `registry-1.docker.io`), never to one over
//! plain HTTP when the registry speaks HTTPS.

use crate::error::VulnError;
use crate::tree::Limits;
use sha2::Digest;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// How to reach a registry.
#[derive(Clone, Default)]
pub struct Access {
    /// The user name, for basic authentication or the token service.
    pub username: Option<String>,
    /// The password or token.
    pub password: Option<String>,
    /// Speak HTTP rather than HTTPS (always so for `localhost` and
    /// `127.0.0.1`).
    pub plain_http: bool,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "(hidden)"))
            .field("plain_http", &self.plain_http)
            .finish()
    }
}

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `registry.example.com:5000`.
    pub host: String,
    /// `team/app`.
    pub repository: String,
    /// A tag or a digest.
    pub reference: String,
}

impl Reference {
    /// Reads `host[:port]/repository[:tag][@digest]`; without a host, Docker
    /// Hub's (`library/` for a single name).
    pub fn parse(text: &str) -> Result<Reference, VulnError> {
        let invalid = |why: &str| {
            VulnError::Unsupported(format!("`{text}` is not an image reference: {why}"))
        };
        let (rest, digest) = match text.split_once('@') {
            Some((rest, digest)) => (rest, Some(digest)),
            None => (text, None),
        };
        let (host, path) = match rest.split_once('/') {
            Some((first, path))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_owned(), path.to_owned())
            }
            _ if rest.contains('/') => ("registry-1.docker.io".to_owned(), rest.to_owned()),
            _ => ("registry-1.docker.io".to_owned(), format!("library/{rest}")),
        };
        let (repository, tag) = match path.rsplit_once(':') {
            Some((repository, tag)) if !tag.contains('/') => (repository.to_owned(), Some(tag)),
            _ => (path, None),
        };
        if repository.is_empty()
            || !repository
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/".contains(c))
        {
            return Err(invalid("the repository name"));
        }
        let reference = match (digest, tag) {
            (Some(digest), _) => digest.to_owned(),
            (None, Some(tag)) => tag.to_owned(),
            (None, None) => "latest".to_owned(),
        };
        Ok(Reference {
            host,
            repository,
            reference,
        })
    }
}

const MANIFEST_TYPES: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";

struct Client<'a> {
    agent: ureq::Agent,
    base: String,
    reference: &'a Reference,
    access: &'a Access,
    authorization: Option<String>,
}

impl Client<'_> {
    fn url(&self, path: &str) -> String {
        format!("{}/v2/{}/{path}", self.base, self.reference.repository)
    }

    fn remote(&self, url: &str, reason: impl std::fmt::Display) -> VulnError {
        VulnError::Remote {
            url: url.to_owned(),
            reason: reason.to_string(),
        }
    }

    /// GETs `url`, answering the registry's challenge once.
    fn get(
        &mut self,
        url: &str,
        accept: &str,
    ) -> Result<ureq::http::Response<ureq::Body>, VulnError> {
        for _ in 0..2 {
            let mut request = self.agent.get(url).header("Accept", accept);
            if let Some(authorization) = &self.authorization {
                request = request.header("Authorization", authorization);
            }
            let response = request
                .config()
                .http_status_as_error(false)
                .build()
                .call()
                .map_err(|e| self.remote(url, e))?;
            let status = response.status().as_u16();
            if status == 401 && self.authorization.is_none() {
                let challenge = response
                    .headers()
                    .get("www-authenticate")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                self.authorization = Some(self.answer(url, &challenge)?);
                continue;
            }
            if status != 200 {
                return Err(self.remote(url, format!("the registry answered HTTP {status}")));
            }
            return Ok(response);
        }
        Err(self.remote(url, "the registry refused the credentials (HTTP 401)"))
    }

    /// The `Authorization` header a challenge asks for.
    fn answer(&self, url: &str, challenge: &str) -> Result<String, VulnError> {
        use base64::Engine;
        let basic = match (&self.access.username, &self.access.password) {
            (Some(user), Some(password)) => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            )),
            _ => None,
        };
        let challenge = Challenge::parse(challenge);
        let scheme = challenge.scheme;
        if scheme.eq_ignore_ascii_case("basic") {
            return basic
                .ok_or_else(|| self.remote(url, "the registry wants a user name and password"));
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(self.remote(
                url,
                format!("an authentication scheme Parapet does not speak (`{scheme}`)"),
            ));
        }
        let parameter = |name: &str| challenge.parameter(name);
        let realm = parameter("realm")
            .ok_or_else(|| self.remote(url, "a bearer challenge without a realm"))?;
        let realm_uri = token_service(self.base.starts_with("https:"), &realm)
            .map_err(|e| self.remote(url, e))?;
        let trusted = realm_uri
            .host()
            .is_some_and(|host| token_service_of(&self.reference.host, host));
        let scope = parameter("scope")
            .unwrap_or_else(|| format!("repository:{}:pull", self.reference.repository));
        let mut request = self.agent.get(&realm).query("scope", &scope);
        if let Some(service) = parameter("service") {
            request = request.query("service", &service);
        }
        if let Some(basic) = basic.as_ref().filter(|_| trusted) {
            request = request.header("Authorization", basic);
        }
        let withheld = if basic.is_some() && !trusted {
            " (the credentials were not sent to it: it is neither the registry's host nor of its domain)"
        } else {
            ""
        };
        let mut response = request
            .call()
            .map_err(|e| self.remote(&realm, format!("the token service: {e}{withheld}")))?;
        let body: serde_json::Value = response
            .body_mut()
            .with_config()
            .limit(1024 * 1024)
            .read_json()
            .map_err(|e| self.remote(&realm, format!("the token service's answer: {e}")))?;
        let token = body["token"]
            .as_str()
            .or_else(|| body["access_token"].as_str())
            .ok_or_else(|| self.remote(&realm, "the token service gave no token"))?;
        Ok(format!("Bearer {token}"))
    }

    /// Downloads a blob (or a manifest, with `accept`) into the layout,
    /// checking its digest; returns its bytes when `keep`.
    fn fetch(
        &mut self,
        layout: &Path,
        digest: &str,
        url: &str,
        accept: &str,
        budget: &mut u64,
    ) -> Result<Vec<u8>, VulnError> {
        let hex = digest
            .strip_prefix("sha256:")
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.remote(url, format!("`{digest}` is not a sha256 digest")))?;
        let response = self.get(url, accept)?;
        let path = layout.join("blobs/sha256").join(hex);
        let mut file = std::fs::File::create(&path).map_err(|e| VulnError::io(&path, e))?;
        let mut hasher = sha2::Sha256::new();
        let mut body = response.into_body();
        let mut reader = body.with_config().limit(budget.saturating_add(1)).reader();
        let mut buffer = vec![0u8; 256 * 1024];
        let mut small = Vec::new();
        loop {
            let n = reader.read(&mut buffer).map_err(|e| self.remote(url, e))?;
            if n == 0 {
                break;
            }
            if n as u64 > *budget {
                return Err(VulnError::Limit {
                    input: url.to_owned(),
                    what: "the image's download".to_owned(),
                    limit: format!("{} bytes", *budget),
                });
            }
            *budget -= n as u64;
            hasher.update(&buffer[..n]);
            file.write_all(&buffer[..n])
                .map_err(|e| VulnError::io(&path, e))?;
            if small.len() < 16 * 1024 * 1024 {
                small.extend_from_slice(&buffer[..n]);
            }
        }
        let got = format!("sha256:{}", hex::encode(hasher.finalize()));
        if got != digest {
            return Err(self.remote(
                url,
                format!("the content does not match its digest (it is {got})"),
            ));
        }
        Ok(small)
    }
}

/// A `WWW-Authenticate` challenge: its scheme and parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge<'a> {
    /// `Bearer`, `Basic`.
    pub scheme: &'a str,
    parameters: &'a str,
}

impl<'a> Challenge<'a> {
    /// Reads `SCHEME key="value", key=value`.
    pub fn parse(header: &'a str) -> Challenge<'a> {
        let header = header.trim();
        let (scheme, parameters) = header.split_once(' ').unwrap_or((header, ""));
        Challenge { scheme, parameters }
    }

    /// The value of parameter `name`, unquoted.
    pub fn parameter(&self, name: &str) -> Option<String> {
        self.parameters.split(',').find_map(|p| {
            let (key, value) = p.trim().split_once('=')?;
            (key.trim() == name).then(|| value.trim().trim_matches('"').to_owned())
        })
    }
}

/// The token service a registry names, if it may be asked: an HTTPS URL
/// when the registry speaks HTTPS.
fn token_service(registry_https: bool, realm: &str) -> Result<ureq::http::Uri, String> {
    let uri: ureq::http::Uri = realm
        .parse()
        .map_err(|_| "the challenge's realm is not a URL".to_owned())?;
    match uri.scheme_str() {
        Some("https") => Ok(uri),
        Some("http") if !registry_https => Ok(uri),
        _ => Err(format!(
            "the registry names a token service that is not HTTPS ({realm}); refused"
        )),
    }
}

/// Whether `host` (`name[:port]`, `[v6]:port`) is this machine: `localhost`
/// or a loopback address (never `localhost.example.com`).
fn loopback(host: &str) -> bool {
    let name = host_name(host);
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The name of `host` without its port or brackets.
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Whether the token service on `realm_host` may have the credentials of
/// the registry at `registry`: the same host, or a host of the registry's
/// domain (the registry's name less its first label, itself of two labels
/// at least: `auth.docker.io` for `registry-1.docker.io`).
fn token_service_of(registry: &str, realm_host: &str) -> bool {
    let registry = host_name(registry).to_ascii_lowercase();
    let realm = host_name(realm_host)
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    if registry == realm {
        return true;
    }
    if registry.parse::<std::net::IpAddr>().is_ok() {
        return false;
    }
    match registry.split_once('.') {
        Some((_, domain)) if domain.contains('.') => realm.ends_with(&format!(".{domain}")),
        _ => false,
    }
}

/// Pulls `reference` into an OCI layout under `scratch`; returns its folder.
pub fn pull(
    reference: &str,
    access: &Access,
    scratch: &Path,
    limits: &Limits,
) -> Result<PathBuf, VulnError> {
    let parsed = Reference::parse(reference)?;
    let local = loopback(&parsed.host);
    let scheme = if access.plain_http || local {
        "http"
    } else {
        "https"
    };
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(300)))
        .build()
        .new_agent();
    let mut client = Client {
        agent,
        base: format!("{scheme}://{}", parsed.host),
        reference: &parsed,
        access,
        authorization: None,
    };
    let layout = scratch.join("layout");
    std::fs::create_dir_all(layout.join("blobs/sha256")).map_err(|e| VulnError::io(&layout, e))?;
    let mut budget = limits.max_bytes;
    let manifest_url = client.url(&format!("manifests/{}", parsed.reference));
    let mut response = client.get(&manifest_url, MANIFEST_TYPES)?;
    let mut text = Vec::new();
    response
        .body_mut()
        .with_config()
        .limit(16 * 1024 * 1024)
        .reader()
        .read_to_end(&mut text)
        .map_err(|e| client.remote(&manifest_url, e))?;
    let mut digest = format!("sha256:{}", hex::encode(sha2::Sha256::digest(&text)));
    if parsed.reference.starts_with("sha256:") && parsed.reference != digest {
        return Err(client.remote(&manifest_url, "the manifest does not match its digest"));
    }
    let mut manifest: serde_json::Value = serde_json::from_slice(&text)
        .map_err(|e| client.remote(&manifest_url, format!("the manifest is not JSON: {e}")))?;
    let media = |m: &serde_json::Value| m["mediaType"].as_str().unwrap_or_default().to_owned();
    if media(&manifest).contains("index") || media(&manifest).contains("manifest.list") {
        let chosen = manifest["manifests"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["platform"]["os"] == "linux" && m["platform"]["architecture"] == "amd64")
            .or_else(|| manifest["manifests"].get(0))
            .cloned()
            .ok_or_else(|| client.remote(&manifest_url, "an index with no manifest"))?;
        digest = chosen["digest"].as_str().unwrap_or_default().to_owned();
        let url = client.url(&format!("manifests/{digest}"));
        text = client.fetch(&layout, &digest, &url, MANIFEST_TYPES, &mut budget)?;
        manifest = serde_json::from_slice(&text)
            .map_err(|e| client.remote(&url, format!("the manifest is not JSON: {e}")))?;
    } else {
        let hex = &digest["sha256:".len()..];
        let path = layout.join("blobs/sha256").join(hex);
        std::fs::write(&path, &text).map_err(|e| VulnError::io(&path, e))?;
    }
    let mut blobs = vec![
        manifest["config"]["digest"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    ];
    for layer in manifest["layers"].as_array().into_iter().flatten() {
        blobs.push(layer["digest"].as_str().unwrap_or_default().to_owned());
    }
    for blob in blobs {
        let url = client.url(&format!("blobs/{blob}"));
        client.fetch(&layout, &blob, &url, "*/*", &mut budget)?;
    }
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": media(&manifest), "digest": digest, "size": text.len()}],
    });
    for (name, content) in [
        (
            "oci-layout",
            serde_json::json!({"imageLayoutVersion": "1.0.0"}),
        ),
        ("index.json", index),
    ] {
        let path = layout.join(name);
        std::fs::write(&path, content.to_string()).map_err(|e| VulnError::io(&path, e))?;
    }
    Ok(layout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_name_host_repository_and_tag_or_digest() {
        let r = Reference::parse("127.0.0.1:5000/team/app:1.2").expect("parsed");
        assert_eq!(
            (r.host.as_str(), r.repository.as_str(), r.reference.as_str()),
            ("127.0.0.1:5000", "team/app", "1.2")
        );
        let hub = Reference::parse("debian").expect("parsed");
        assert_eq!(
            (
                hub.host.as_str(),
                hub.repository.as_str(),
                hub.reference.as_str()
            ),
            ("registry-1.docker.io", "library/debian", "latest")
        );
        let pinned = Reference::parse("ghcr.io/o/r@sha256:abc").expect("parsed");
        assert_eq!(pinned.reference, "sha256:abc");
        assert!(Reference::parse("host.example/UPPER").is_err());
        let access = Access {
            username: Some("u".into()),
            password: Some("s3cr3t".into()),
            plain_http: false,
        };
        assert!(!format!("{access:?}").contains("s3cr3t"));
    }

    #[test]
    fn only_this_machine_is_spoken_to_in_plain_http_unasked() {
        for host in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "127.1.2.3",
            "[::1]:5000",
        ] {
            assert!(loopback(host), "{host}");
        }
        for host in [
            "localhost.evil.example",
            "localhost.evil.example:5000",
            "127.0.0.1.nip.io",
            "10.0.0.1:5000",
            "registry.example.com",
        ] {
            assert!(!loopback(host), "{host}");
        }
    }

    #[test]
    fn challenges_give_their_scheme_and_parameters() {
        let c = Challenge::parse(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/debian:pull""#,
        );
        assert_eq!(c.scheme, "Bearer");
        assert_eq!(
            c.parameter("realm").as_deref(),
            Some("https://auth.docker.io/token")
        );
        assert_eq!(
            c.parameter("service").as_deref(),
            Some("registry.docker.io")
        );
        assert_eq!(c.parameter("nothing"), None);
        assert_eq!(Challenge::parse("").scheme, "");
        assert_eq!(Challenge::parse("Basic").parameter("realm"), None);
    }

    #[test]
    fn an_https_registrys_token_service_is_https_too() {
        assert!(token_service(true, "https://auth.docker.io/token").is_ok());
        let refused = token_service(true, "http://auth.docker.io/token").expect_err("plain");
        assert!(refused.contains("not HTTPS"), "{refused}");
        assert!(token_service(true, "ftp://x/token").is_err());
        assert!(token_service(true, "not a url at all").is_err());
        assert!(token_service(false, "http://127.0.0.1:5001/token").is_ok());
    }

    #[test]
    fn credentials_go_to_token_services_of_the_registrys_host_or_domain_only() {
        let may = [
            ("registry-1.docker.io", "auth.docker.io"),
            ("ghcr.io", "ghcr.io"),
            ("127.0.0.1:5000", "127.0.0.1"),
            ("registry.example.com:5000", "auth.example.com"),
        ];
        for (registry, realm) in may {
            assert!(token_service_of(registry, realm), "{registry} -> {realm}");
        }
        let may_not = [
            ("registry-1.docker.io", "auth.docker.io.evil.example"),
            ("ghcr.io", "evil.io"),
            ("registry.foo.co.uk", "evil.co.uk"),
            ("127.0.0.1:5000", "127.0.0.2"),
            ("quay.io", "quay.io.evil.example"),
            ("registry.example.com", "example.com.evil.example"),
        ];
        for (registry, realm) in may_not {
            assert!(!token_service_of(registry, realm), "{registry} -> {realm}");
        }
    }
}
