use super::Server;
use parapet_server::Access;
use parapet_server::oidc::{OidcSettings, Provider};
use std::path::PathBuf;
use std::process::Child;
use std::sync::Arc;

const CLIENT: &str = "parapet";
const SECRET: &str = "client-s3cret";

/// The provider fixture on a free port, stopped when dropped.
struct Idp {
    child: Child,
    issuer: String,
    mode: PathBuf,
    _dir: tempfile::TempDir,
}

impl Idp {
    fn start() -> Idp {
        let dir = tempfile::tempdir().expect("temp dir");
        let mode = dir.path().join("mode");
        std::fs::write(&mode, "ok").expect("mode");
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oidc_provider.py");
        let (child, port) = parapet_testkit::start_python(
            &script,
            &[mode.as_os_str(), CLIENT.as_ref(), SECRET.as_ref()],
            false,
        );
        Idp {
            child,
            issuer: format!("http://127.0.0.1:{port}"),
            mode,
            _dir: dir,
        }
    }

    fn set(&self, mode: &str) {
        std::fs::write(&self.mode, mode).expect("mode");
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

/// Follows a login from `/auth/oidc/login` as `user`: the callback's answer.
fn log_in(server: &Server, user: &str) -> (u16, Option<String>, String) {
    let agent = agent();
    let start = agent
        .get(format!("{}/auth/oidc/login", server.base))
        .call()
        .expect("login");
    assert_eq!(start.status(), 302);
    let to_provider = start.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    assert!(
        to_provider.contains("code_challenge_method=S256"),
        "{to_provider}"
    );
    assert!(
        to_provider.contains("nonce=") && to_provider.contains("state="),
        "{to_provider}"
    );
    let back = agent
        .get(format!("{to_provider}&login_hint={user}"))
        .call()
        .expect("authorize");
    assert_eq!(back.status(), 302);
    let callback = back.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let mut done = agent.get(&callback).call().expect("callback");
    let cookie = done
        .headers()
        .get("set-cookie")
        .and_then(|c| c.to_str().ok())
        .map(|c| c.split(';').next().unwrap_or("").to_owned());
    let status = done.status().as_u16();
    let body = done.body_mut().read_to_string().unwrap_or_default();
    // The same callback twice is refused: its state was used.
    let again = agent.get(&callback).call().expect("replay");
    assert_eq!(again.status(), 401, "a replayed callback");
    (status, cookie, body)
}

#[test]
fn browsers_log_in_through_the_provider_and_bad_tokens_are_refused() {
    let idp = Idp::start();
    let server = Server::start_with(Access::Authenticated, |base| {
        let provider = Provider::discover(OidcSettings {
            issuer: idp.issuer.clone(),
            client_id: CLIENT.into(),
            client_secret: Some(SECRET.into()),
            redirect_url: format!("{base}/auth/oidc/callback"),
            read_write: vec!["alice@example.com".into()],
        })
        .expect("discovery");
        Some(Arc::new(provider))
    });
    let session = server.get("/api/v1/session", &[]);
    assert_eq!(session.json["oidc"], true);

    let (status, cookie, body) = log_in(&server, "alice");
    assert_eq!(status, 302, "{body}");
    let cookie = cookie.expect("a session cookie");
    let me = server.get("/api/v1/session", &[("cookie", &cookie)]);
    assert_eq!(me.json["name"], "alice@example.com");
    assert_eq!(me.json["scope"], "read-write");
    assert_eq!(
        server.get("/api/v1/assets", &[("cookie", &cookie)]).status,
        200
    );
    let (_, bob, _) = log_in(&server, "bob");
    let bob = bob.expect("cookie");
    let me = server.get("/api/v1/session", &[("cookie", &bob)]);
    assert_eq!(me.json["scope"], "read-only");

    for (mode, says) in [
        ("wrong-audience", "another client"),
        ("expired", "expired"),
        ("bad-signature", "does not verify"),
        ("wrong-nonce", "nonce"),
        ("wrong-issuer", "another issuer"),
        ("none-algorithm", "does not verify"),
    ] {
        idp.set(mode);
        let (status, cookie, body) = log_in(&server, "mallory");
        assert_eq!(status, 401, "{mode}: {body}");
        assert!(cookie.is_none(), "{mode}: no session");
        assert!(body.contains(says), "{mode}: {body}");
    }
    idp.set("ok");
    let unknown = server.get("/auth/oidc/callback?code=x&state=forged", &[]);
    assert_eq!(unknown.status, 401);
    let missing = server.get("/auth/oidc/callback", &[]);
    assert_eq!(missing.status, 400);
}
