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

/// The reason a failed login's redirect carries.
fn login_error(location: &str) -> String {
    location
        .split_once("login_error=")
        .map(|(_, reason)| {
            form_urlencoded::parse(format!("r={reason}").as_bytes())
                .map(|(_, v)| v.into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Follows a login from `/auth/oidc/login` as `user`: the callback's
/// status, session cookie and where it sends the browser.
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
    let done = agent.get(&callback).call().expect("callback");
    let cookie = done
        .headers()
        .get("set-cookie")
        .and_then(|c| c.to_str().ok())
        .map(|c| c.split(';').next().unwrap_or("").to_owned());
    let status = done.status().as_u16();
    let location = done
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or("")
        .to_owned();
    // The same callback twice is refused: its state was used.
    let again = agent.get(&callback).call().expect("replay");
    assert!(
        login_error(again.headers()["location"].to_str().unwrap_or("")).contains("already used"),
        "a replayed callback"
    );
    (status, cookie, location)
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

    let (status, cookie, location) = log_in(&server, "alice");
    assert_eq!((status, location.as_str()), (302, "/"));
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
        let (status, cookie, location) = log_in(&server, "mallory");
        assert_eq!(status, 302, "{mode}");
        assert!(cookie.is_none(), "{mode}: no session");
        let reason = login_error(&location);
        assert!(reason.contains(says), "{mode}: {reason}");
    }
    idp.set("ok");
    let back = |query: &str| {
        let answer = agent()
            .get(format!("{}/auth/oidc/callback{query}", server.base))
            .call()
            .expect("callback");
        login_error(answer.headers()["location"].to_str().unwrap_or(""))
    };
    assert!(back("?code=x&state=forged").contains("not started here"));
    assert!(back("").contains("needs `code` and `state`"));
    assert!(
        back("?error=access_denied&error_description=no")
            .contains("refused the login: access_denied")
    );
}
