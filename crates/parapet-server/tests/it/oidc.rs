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

/// The value of the cookie an answer sets, as `name=value`.
fn set_cookie(answer: &ureq::http::Response<ureq::Body>, name: &str) -> Option<String> {
    answer
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|c| c.to_str().ok())
        .map(|c| c.split(';').next().unwrap_or("").to_owned())
        .find(|c| c.starts_with(&format!("{name}=")))
}

/// Starts a login as `user` in a browser and goes through the provider:
/// the callback URL and the browser's login cookie.
fn start_login(server: &Server, user: &str) -> (String, String) {
    let agent = agent();
    let start = agent
        .get(format!("{}/auth/oidc/login", server.base))
        .call()
        .expect("login");
    assert_eq!(start.status(), 302);
    let binding = set_cookie(&start, "parapet_login").expect("the login cookie");
    let set = start.headers()["set-cookie"].to_str().expect("cookie");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Max-Age=600"),
        "{set}"
    );
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
    (callback, binding)
}

/// Brings the browser with `cookie` to `callback`: the status, the session
/// cookie and where it sends the browser.
fn callback(callback: &str, cookie: Option<&str>) -> (u16, Option<String>, String) {
    let mut request = agent().get(callback);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let done = request.call().expect("callback");
    let status = done.status().as_u16();
    let location = done
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let session = set_cookie(&done, "parapet_session");
    (status, session, location)
}

/// Follows a login from `/auth/oidc/login` as `user` in one browser: the
/// callback's status, session cookie and where it sends the browser.
fn log_in(server: &Server, user: &str) -> (u16, Option<String>, String) {
    let (url, binding) = start_login(server, user);
    let done = callback(&url, Some(&binding));
    // The same callback twice is refused: its state was used.
    let (_, _, again) = callback(&url, Some(&binding));
    assert!(
        login_error(&again).contains("already used"),
        "a replayed callback"
    );
    done
}

fn server_with_provider(idp: &Idp) -> Server {
    Server::start_with(Access::Authenticated, |base, settings| {
        let provider = Provider::discover(OidcSettings {
            issuer: idp.issuer.clone(),
            client_id: CLIENT.into(),
            client_secret: Some(SECRET.into()),
            redirect_url: format!("{base}/auth/oidc/callback"),
            read_write: vec!["alice@example.com".into()],
            read_only: vec!["group:engineering".into(), "sub-dave".into()],
            groups_claim: "groups".into(),
        })
        .expect("discovery");
        settings.oidc = Some(Arc::new(provider));
    })
}

#[test]
fn browsers_log_in_through_the_provider_and_bad_tokens_are_refused() {
    let idp = Idp::start();
    let server = server_with_provider(&idp);
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
    for (user, name) in [("bob", "bob@example.com"), ("dave", "dave@example.com")] {
        let (_, cookie, _) = log_in(&server, user);
        let cookie = cookie.unwrap_or_else(|| panic!("{user} may read"));
        let me = server.get("/api/v1/session", &[("cookie", &cookie)]);
        assert_eq!(
            (me.json["scope"].as_str(), me.json["name"].as_str()),
            (Some("read-only"), Some(name))
        );
    }
    // Named nowhere, or naming someone else by an unverified address and a
    // user name: no session at all.
    for user in ["eve", "mallory"] {
        let (status, cookie, location) = log_in(&server, user);
        assert_eq!(status, 302, "{user}");
        assert!(cookie.is_none(), "{user} got a session");
        let reason = login_error(&location);
        assert!(
            reason.contains("may not use this server"),
            "{user}: {reason}"
        );
    }

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

#[test]
fn a_login_is_finished_only_in_the_browser_that_started_it() {
    let idp = Idp::start();
    let server = server_with_provider(&idp);
    // Mallory starts a login in her browser and sends Alice the callback;
    // Alice's browser has no login cookie, or one of its own login.
    let (_, alices_cookie) = start_login(&server, "alice");
    for cookie in [None, Some(alices_cookie.as_str())] {
        let (mallorys, mallorys_cookie) = start_login(&server, "mallory");
        let (status, session, location) = callback(&mallorys, cookie);
        assert_eq!(status, 302);
        assert!(session.is_none(), "a session from someone else's login");
        assert!(
            login_error(&location).contains("started in another browser"),
            "{location}"
        );
        // The state is spent: not even Mallory's own browser can finish it.
        let (_, session, _) = callback(&mallorys, Some(&mallorys_cookie));
        assert!(session.is_none());
    }
}

#[test]
fn a_provider_with_no_one_named_is_refused_at_start() {
    let idp = Idp::start();
    let error = Provider::discover(OidcSettings {
        issuer: idp.issuer.clone(),
        client_id: CLIENT.into(),
        client_secret: None,
        redirect_url: "http://127.0.0.1/auth/oidc/callback".into(),
        read_write: Vec::new(),
        read_only: Vec::new(),
        groups_claim: "groups".into(),
    })
    .expect_err("no one may log in");
    assert!(error.to_string().contains("--oidc-read-only"), "{error}");
}
