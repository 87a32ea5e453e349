use super::Server;
use parapet_server::Access;
use parapet_store::TokenScope;
use parapet_store::roles::*;
use serde_json::json;

const MUTE: &str =
    r#"{"reason": "r", "selector": {"rule_id": "aws-s3-bucket-versioning-enabled"}}"#;

#[test]
fn an_authenticated_server_needs_a_valid_token() {
    let server = Server::start(Access::Authenticated);
    let answer = server.get("/api/v1/assets", &[]);
    assert_eq!((answer.status, answer.code()), (401, "unauthenticated"));
    assert!(
        answer.text.contains("parapet tokens create"),
        "{}",
        answer.text
    );
    let answer = server.get("/api/v1/assets", &[("authorization", "Bearer ppt_wrong")]);
    assert_eq!(answer.status, 401);
    let answer = server.get("/api/v1/assets", &[("authorization", "Basic dXNlcjpwYXNz")]);
    assert_eq!(answer.status, 401);
    // The pages, the API description and the session endpoint are public.
    assert_eq!(server.get("/", &[]).status, 200);
    assert_eq!(server.get("/api/v1/openapi.json", &[]).status, 200);
    let session = server.get("/api/v1/session", &[]);
    assert_eq!(
        session.json,
        json!({"authenticated": false, "auth_required": true, "oidc": false})
    );
    let token = server.token(TokenScope::ReadOnly);
    let bearer = format!("Bearer {token}");
    let answer = server.get("/api/v1/assets", &[("authorization", &bearer)]);
    assert_eq!(answer.status, 200, "{}", answer.text);
    // Its use is recorded, the secret nowhere.
    let store = server.store();
    let tokens = store.tokens().expect("tokens");
    assert!(tokens[0].last_used_at.is_some());
    let dump = std::fs::read(&server.db).expect("database");
    assert!(
        !String::from_utf8_lossy(&dump).contains(&token[4..]),
        "the secret is not stored"
    );
}

#[test]
fn scopes_decide_who_may_change_things() {
    let server = Server::start(Access::Authenticated);
    let read = format!("Bearer {}", server.token(TokenScope::ReadOnly));
    let write = format!("Bearer {}", server.token(TokenScope::ReadWrite));
    let answer = server.send("POST", "/api/v1/mutes", MUTE, &[("authorization", &read)]);
    assert_eq!((answer.status, answer.code()), (403, "read_only"));
    // A bearer token needs no CSRF token: no browser sends it by itself.
    let answer = server.send("POST", "/api/v1/mutes", MUTE, &[("authorization", &write)]);
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json["mutes"][0]["author"], "tester");
    // A revoked token stops working at once.
    let mut store = server.store();
    let id = store.tokens().expect("tokens")[1].id;
    store.revoke_token(id, chrono::Utc::now()).expect("revoke");
    let answer = server.get("/api/v1/assets", &[("authorization", &write)]);
    assert_eq!(answer.status, 401);
}

#[test]
fn browser_sessions_log_in_with_a_token_and_need_the_csrf_token() {
    let server = Server::start(Access::Authenticated);
    let token = server.token(TokenScope::ReadWrite);
    let bad = server.send("POST", "/api/v1/session", r#"{"token": "ppt_nope"}"#, &[]);
    assert_eq!(bad.status, 401);
    let login = server.send(
        "POST",
        "/api/v1/session",
        &json!({"token": token}).to_string(),
        &[],
    );
    assert_eq!(login.status, 200, "{}", login.text);
    let cookie = login.header("set-cookie").expect("a cookie").to_owned();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    let session = cookie.split(';').next().expect("pair").to_owned();
    let csrf = login.json["csrf_token"].as_str().expect("csrf").to_owned();
    let host = server.base.trim_start_matches("http://").to_owned();
    let with = |extra: &[(&'static str, String)]| {
        let mut headers = vec![("cookie", session.clone())];
        headers.extend(extra.iter().cloned());
        headers
    };
    let pairs = |h: &Vec<(&'static str, String)>| -> Vec<(&'static str, String)> { h.clone() };
    let call = |method: &str, headers: Vec<(&'static str, String)>| {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        match method {
            "GET" => server.get("/api/v1/session", &headers),
            _ => server.send("POST", "/api/v1/mutes", MUTE, &headers),
        }
    };
    let me = call("GET", with(&[]));
    assert_eq!(me.json["name"], "tester");
    assert_eq!(me.json["csrf_token"], csrf.as_str());
    let no_csrf = call("POST", with(&[]));
    assert_eq!((no_csrf.status, no_csrf.code()), (403, "csrf"));
    let wrong_csrf = call("POST", with(&[("x-csrf-token", "guess".to_owned())]));
    assert_eq!(wrong_csrf.status, 403);
    let foreign = call(
        "POST",
        with(&[
            ("x-csrf-token", csrf.clone()),
            ("origin", "https://evil.example".to_owned()),
        ]),
    );
    assert_eq!((foreign.status, foreign.code()), (403, "csrf"));
    let own = with(&[
        ("x-csrf-token", csrf.clone()),
        ("origin", format!("http://{host}")),
    ]);
    let ok = call("POST", pairs(&own));
    assert_eq!(ok.status, 200, "{}", ok.text);
    // Logging out ends the session.
    let headers: Vec<(&str, &str)> = own.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = server.delete("/api/v1/session", &headers);
    assert!(
        out.header("set-cookie")
            .is_some_and(|c| c.contains("Max-Age=0"))
    );
    let after = call("GET", with(&[]));
    assert_eq!(after.json["authenticated"], false);
}

#[test]
fn a_session_ends_when_its_token_is_revoked() {
    let server = Server::start(Access::Authenticated);
    let token = server.token(TokenScope::ReadOnly);
    let login = server.send(
        "POST",
        "/api/v1/session",
        &json!({"token": token}).to_string(),
        &[],
    );
    let cookie = login
        .header("set-cookie")
        .expect("cookie")
        .split(';')
        .next()
        .expect("pair")
        .to_owned();
    assert_eq!(
        server.get("/api/v1/assets", &[("cookie", &cookie)]).status,
        200
    );
    let mut store = server.store();
    let id = store.tokens().expect("tokens")[0].id;
    store.revoke_token(id, chrono::Utc::now()).expect("revoke");
    assert_eq!(
        server.get("/api/v1/assets", &[("cookie", &cookie)]).status,
        401
    );
}

#[test]
fn an_open_loopback_server_answers_only_loopback_names_and_checks_csrf() {
    let server = Server::start(Access::OpenOnLoopback);
    assert_eq!(server.get("/api/v1/assets", &[]).status, 200);
    let rebound = server.get("/api/v1/assets", &[("host", "attacker.example:8080")]);
    assert_eq!((rebound.status, rebound.code()), (403, "foreign_host"));
    let localhost = server.get("/api/v1/assets", &[("host", "localhost")]);
    assert_eq!(localhost.status, 200);
    let no_csrf = server.send("POST", "/api/v1/mutes", MUTE, &[]);
    assert_eq!((no_csrf.status, no_csrf.code()), (403, "csrf"));
    let session = server.get("/api/v1/session", &[]);
    assert_eq!(session.json["scope"], "read-write");
    let csrf = session.json["csrf_token"]
        .as_str()
        .expect("csrf")
        .to_owned();
    let ok = server.send("POST", "/api/v1/mutes", MUTE, &[("x-csrf-token", &csrf)]);
    assert_eq!(ok.status, 200, "{}", ok.text);
}

#[test]
fn every_answer_carries_the_security_headers() {
    let server = Server::start(Access::OpenOnLoopback);
    for path in ["/", "/ui/app.js", "/api/v1/assets", "/api/v1/nothing"] {
        let answer = server.get(path, &[]);
        let csp = answer.header("content-security-policy").unwrap_or("");
        assert!(
            csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
        assert_eq!(
            answer.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(answer.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(
            answer.header("referrer-policy"),
            Some("no-referrer"),
            "{path}"
        );
    }
    let api = server.get("/api/v1/assets", &[]);
    assert_eq!(api.header("cache-control"), Some("no-store"));
}

#[test]
fn a_session_started_on_one_replica_is_known_to_another_and_ends_on_both() {
    let one = Server::start(Access::Authenticated);
    let two = one.replica(Access::Authenticated);
    let token = one.token(TokenScope::ReadWrite);
    let (cookie, _) = session_cookie(&one, &token);
    let mine = one.get("/api/v1/session", &[("cookie", &cookie)]);
    let there = two.get("/api/v1/session", &[("cookie", &cookie)]);
    assert_eq!(there.json["authenticated"], true, "{}", there.text);
    assert_eq!(there.json["name"], "tester");
    let csrf = there.json["csrf_token"].as_str().expect("csrf").to_owned();
    assert_eq!(
        mine.json["csrf_token"],
        csrf.as_str(),
        "one CSRF token on every replica"
    );
    assert_eq!(
        two.get("/api/v1/assets?limit=1", &[("cookie", &cookie)])
            .status,
        200
    );
    // Logging out on the second ends it on the first.
    let out = two.delete(
        "/api/v1/session",
        &[("cookie", &cookie), ("x-csrf-token", &csrf)],
    );
    assert_eq!(out.status, 200, "{}", out.text);
    assert_eq!(
        one.get("/api/v1/assets?limit=1", &[("cookie", &cookie)])
            .status,
        401
    );
    // Nothing secret is kept: the cookie and its CSRF token appear nowhere
    // in the database or its log.
    let secret = cookie.split_once('=').expect("name=value").1;
    for file in [one.db.clone(), one.db.with_extension("db-wal")] {
        let bytes = std::fs::read(&file).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(secret), "{}", file.display());
        assert!(!text.contains(&csrf), "{}", file.display());
    }
}

/// Logs a browser in with `token`: the session cookie as `name=value`, and
/// the whole `Set-Cookie`.
fn session_cookie(server: &Server, token: &str) -> (String, String) {
    let login = server.send(
        "POST",
        "/api/v1/session",
        &json!({"token": token}).to_string(),
        &[],
    );
    assert_eq!(login.status, 200, "{}", login.text);
    let set = login.header("set-cookie").expect("a cookie").to_owned();
    let pair = set.split(';').next().expect("pair").to_owned();
    (pair, set)
}

/// Opens the live stream with `headers` and reads it until it ends: true
/// when the server ended it, false when it was still open after ten seconds.
fn stream_ends(server: &Server, headers: &[(&str, &str)], end_it: impl FnOnce()) -> bool {
    use std::io::BufRead;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(10)))
        .build()
        .into();
    let mut request = agent.get(format!("{}/api/v1/stream", server.base));
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.call().expect("stream");
    assert_eq!(response.status(), 200);
    let mut lines = std::io::BufReader::new(response.into_body().into_reader()).lines();
    end_it();
    loop {
        match lines.next() {
            None => return true,
            Some(Ok(_)) => continue,
            Some(Err(_)) => return false,
        }
    }
}

#[test]
fn a_live_stream_ends_when_its_token_is_revoked_or_its_session_ends() {
    let server = Server::start(Access::Authenticated);
    let token = server.token(TokenScope::ReadOnly);
    let bearer = format!("Bearer {token}");
    let revoke = || {
        let mut store = server.store();
        let id = store.tokens().expect("tokens")[0].id;
        store.revoke_token(id, chrono::Utc::now()).expect("revoke");
    };
    assert!(
        stream_ends(&server, &[("authorization", &bearer)], revoke),
        "the stream went on after its token was revoked"
    );
    let other = server.token(TokenScope::ReadOnly);
    let (cookie, _) = session_cookie(&server, &other);
    let log_out = || {
        let me = server.get("/api/v1/session", &[("cookie", &cookie)]);
        let csrf = me.json["csrf_token"].as_str().expect("csrf").to_owned();
        let out = server.delete(
            "/api/v1/session",
            &[("cookie", &cookie), ("x-csrf-token", &csrf)],
        );
        assert_eq!(out.status, 200, "{}", out.text);
    };
    assert!(
        stream_ends(&server, &[("cookie", &cookie)], log_out),
        "the stream went on after its session ended"
    );
}

#[test]
fn an_open_loopback_server_refuses_what_a_proxy_forwarded() {
    let server = Server::start(Access::OpenOnLoopback);
    for header in [
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "x-real-ip",
    ] {
        let answer = server.get("/api/v1/assets", &[(header, "203.0.113.9")]);
        assert_eq!((answer.status, answer.code()), (403, "proxied"), "{header}");
        assert!(answer.text.contains("--auth"), "{}", answer.text);
    }
    let guarded = Server::start(Access::Authenticated);
    let token = format!("Bearer {}", guarded.token(TokenScope::ReadOnly));
    let proxied = guarded.get(
        "/api/v1/assets",
        &[
            ("authorization", &token),
            ("x-forwarded-for", "203.0.113.9"),
        ],
    );
    assert_eq!(
        proxied.status, 200,
        "a server with --auth may sit behind a proxy"
    );
}

#[test]
fn secure_session_cookies_carry_the_host_prefix() {
    let server = Server::start_with(Access::Authenticated, |_, settings| {
        settings.secure_cookies = true;
    });
    let token = server.token(TokenScope::ReadOnly);
    let (pair, set) = session_cookie(&server, &token);
    assert!(pair.starts_with("__Host-parapet_session="), "{set}");
    for part in ["Secure", "Path=/", "HttpOnly", "SameSite=Strict"] {
        assert!(set.contains(part), "{set}");
    }
    assert!(!set.contains("Domain"), "{set}");
    assert_eq!(
        server.get("/api/v1/session", &[("cookie", &pair)]).json["name"],
        "tester"
    );
    let unprefixed = pair.trim_start_matches("__Host-");
    assert_eq!(
        server
            .get("/api/v1/assets", &[("cookie", unprefixed)])
            .status,
        401,
        "a cookie without the prefix could have been set by another host"
    );
}
