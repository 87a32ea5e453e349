//! `parapet tokens` and `parapet serve`: a token created on the command line
//! opens the API of a server that requires one; revoked, it no longer does.

use super::{example_estate, parapet_with_db, stderr, stdout};
use std::io::{Read, Write};
use std::process::{Command, Stdio};

/// `GET path` with `headers`, the whole answer as text.
fn get(address: &str, path: &str, headers: &str) -> String {
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {address}\r\n{headers}\r\n"
    )
    .expect("request");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("answer");
    answer
}

#[test]
fn tokens_open_a_server_that_requires_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("parapet.db");
    let scan = parapet_with_db(&db, &["scan", "file", &example_estate().to_string_lossy()]);
    assert!(scan.status.success(), "{}", stderr(&scan));
    let created = parapet_with_db(
        &db,
        &["tokens", "create", "--name", "ci", "--expires-in", "30d"],
    );
    assert!(created.status.success(), "{}", stderr(&created));
    let token = stdout(&created).trim().to_owned();
    assert!(token.starts_with("ppt_"), "{token}");
    assert!(stderr(&created).contains("shown once"));
    // The server binds a free port of its own and says which.
    let mut server = Command::new(env!("CARGO_BIN_EXE_parapet"))
        .args(["serve", "--listen", "127.0.0.1:0", "--auth"])
        .env("PARAPET_DB", &db)
        .env_remove("PARAPET_RULES")
        .stderr(Stdio::piped())
        .spawn()
        .expect("parapet serve starts");
    let mut said = String::new();
    let mut log_reader = std::io::BufReader::new(server.stderr.take().expect("stderr"));
    std::io::BufRead::read_line(&mut log_reader, &mut said).expect("the server's first line");
    let address = said
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no address in {said}"))
        .to_owned();
    assert!(!address.ends_with(":0"), "{said}");
    let bearer = format!("Authorization: Bearer {token}\r\n");
    assert!(get(&address, "/api/v1/assets", "").contains(" 401 "));
    let assets = get(&address, "/api/v1/assets?type=AWS::S3::Bucket", &bearer);
    assert!(assets.contains(" 200 "), "{assets}");
    assert!(assets.contains("arn:aws:s3:::public-website"), "{assets}");
    // Read-only by default.
    let mut stream = std::net::TcpStream::connect(&address).expect("connect");
    let body = r#"{"reason": "r", "selector": {"account": "123456789012"}}"#;
    write!(
        stream,
        "POST /api/v1/mutes HTTP/1.0\r\nHost: {address}\r\n{bearer}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("request");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("answer");
    assert!(
        answer.contains(" 403 ") && answer.contains("read_only"),
        "{answer}"
    );
    let listed = parapet_with_db(&db, &["tokens", "list", "--format", "json"]);
    let tokens: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("JSON");
    assert_eq!(tokens[0]["name"], "ci");
    assert!(tokens[0]["last_used_at"].is_string(), "{tokens}");
    assert!(
        !stdout(&listed).contains(&token[4..]),
        "the secret is never shown again"
    );
    let revoked = parapet_with_db(&db, &["tokens", "revoke", "1"]);
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    assert!(get(&address, "/api/v1/assets", &bearer).contains(" 401 "));
    let again = parapet_with_db(&db, &["tokens", "revoke", "7"]);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("no token 7"), "{}", stderr(&again));
    let pid = server.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = server.wait().expect("wait");
    assert!(status.success(), "stops cleanly on SIGTERM");
    let mut log = said.clone();
    log_reader.read_to_string(&mut log).expect("log");
    assert!(log.contains("API token or session required"), "{log}");
    assert!(!log.contains(&token[4..]), "no secret in the log");
}

#[test]
fn an_unreachable_identity_provider_stops_the_server_with_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("parapet.db");
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let issuer = format!("http://{dead}");
    let output = Command::new(env!("CARGO_BIN_EXE_parapet"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--auth",
            "--oidc-issuer",
            &issuer,
        ])
        .args([
            "--oidc-client-id",
            "parapet",
            "--oidc-redirect-url",
            "http://127.0.0.1/auth/oidc/callback",
            "--oidc-read-only",
            "*",
        ])
        .env("PARAPET_DB", &db)
        .env("PARAPET_OIDC_CLIENT_SECRET", "never-shown")
        .env_remove("PARAPET_RULES")
        .output()
        .expect("parapet serve runs");
    assert!(!output.status.success());
    let text = stderr(&output);
    assert!(
        text.contains("cannot use the OpenID Connect provider"),
        "{text}"
    );
    assert!(text.contains(&issuer), "{text}");
    assert!(!text.contains("never-shown"), "{text}");
    // The issuer without its client id is refused by the command line.
    let partial = parapet_with_db(&db, &["serve", "--oidc-issuer", &issuer]);
    assert!(!partial.status.success());
    assert!(
        stderr(&partial).contains("--oidc-client-id"),
        "{}",
        stderr(&partial)
    );
}
