//! `parapet serve`, `parapet watch --serve` and `parapet tokens`: the HTTP
//! API and the web UI over the database, and the tokens that open them.

use crate::cli::{Format, GlobalArgs, ServeArgs, ServeOptions, TokenScopeArg, TokensCommand};
use crate::output::{Style, print_json};
use anyhow::{Context, Result, bail};
use chrono::Utc;
use comfy_table::Cell;
use parapet_server::{Access, App, Settings};
use parapet_store::{Policy, TokenScope};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The application over the database `global` names.
fn app(
    global: &GlobalArgs,
    policy: &Policy,
    address: SocketAddr,
    options: &ServeOptions,
) -> Result<Arc<App>> {
    let rules = crate::rules_cmd::load_rules(global);
    crate::rules_cmd::report_load_errors(&rules);
    let access = if address.ip().is_loopback() && !options.auth {
        Access::OpenOnLoopback
    } else {
        Access::Authenticated
    };
    let database = crate::db::database(global)?;
    let policy = policy.clone();
    let open: parapet_server::OpenStore = Arc::new(move || database.open_with(&policy));
    App::new(
        open,
        rules.rules,
        parapet_rules::framework::builtin(),
        Settings {
            access,
            secure_cookies: options.secure_cookies,
            poll_interval: Duration::from_millis(500),
            oidc: oidc(options)?,
        },
    )
    .context("cannot open the database")
}

/// The OpenID Connect provider the options name, discovered.
fn oidc(options: &ServeOptions) -> Result<Option<Arc<parapet_server::oidc::Provider>>> {
    let (Some(issuer), Some(client_id), Some(redirect_url)) = (
        &options.oidc_issuer,
        &options.oidc_client_id,
        &options.oidc_redirect_url,
    ) else {
        return Ok(None);
    };
    let client_secret = std::env::var("PARAPET_OIDC_CLIENT_SECRET")
        .ok()
        .filter(|s| !s.is_empty());
    let provider = parapet_server::oidc::Provider::discover(parapet_server::oidc::OidcSettings {
        issuer: issuer.clone(),
        client_id: client_id.clone(),
        client_secret,
        redirect_url: redirect_url.clone(),
        read_write: options.oidc_read_write.clone(),
        read_only: options.oidc_read_only.clone(),
        groups_claim: options.oidc_groups_claim.clone(),
    })
    .context("cannot use the OpenID Connect provider")?;
    Ok(Some(Arc::new(provider)))
}

/// Binds `listen` on a runtime of two threads.
fn bind(runtime: &tokio::runtime::Runtime, listen: &str) -> Result<tokio::net::TcpListener> {
    runtime
        .block_on(tokio::net::TcpListener::bind(listen))
        .with_context(|| format!("cannot listen on {listen}"))
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("parapet-serve")
        .enable_all()
        .build()
        .context("cannot start the server's threads")
}

/// What the server says when it starts.
fn announce(address: SocketAddr, app: &App) {
    let access = match app.settings.access {
        Access::OpenOnLoopback => "no token needed on loopback",
        Access::Authenticated => "API token or session required",
    };
    eprintln!(
        "parapet: serving the web UI on http://{address}/ and the API on http://{address}/api/v1 ({access})"
    );
}

/// Runs `parapet serve` until SIGINT or SIGTERM.
pub fn run(global: &GlobalArgs, policy: &Policy, args: &ServeArgs) -> Result<ExitCode> {
    let runtime = runtime()?;
    let listener = bind(&runtime, &args.listen)?;
    let address = listener.local_addr().context("the listening address")?;
    let app = app(global, policy, address, &args.options)?;
    announce(address, &app);
    runtime.block_on(parapet_server::serve(listener, app, async {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async {
                match &mut terminate {
                    Some(signal) => { signal.recv().await; }
                    None => std::future::pending::<()>().await,
                }
            } => {}
        }
    }));
    Ok(ExitCode::SUCCESS)
}

/// A server running beside the daemon; stops when `stop` is set, or when
/// it is dropped (the daemon is ending).
pub struct Background {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Where it listens (a free port when asked for port 0).
    pub address: SocketAddr,
}

impl Drop for Background {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts the API and the web UI for `parapet watch --serve` (which logs
/// the address).
pub fn spawn(
    global: &GlobalArgs,
    policy: &Policy,
    listen: &str,
    options: &ServeOptions,
    stop: Arc<AtomicBool>,
) -> Result<Background> {
    let runtime = runtime()?;
    let listener = bind(&runtime, listen)?;
    let address = listener.local_addr().context("the listening address")?;
    let app = app(global, policy, address, options)?;
    let flag = Arc::clone(&stop);
    let thread = std::thread::Builder::new()
        .name("parapet-serve".into())
        .spawn(move || {
            let stopped = async move {
                while !stop.load(Ordering::Relaxed) {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            };
            runtime.block_on(parapet_server::serve(listener, app, stopped));
        })
        .context("cannot start the server's thread")?;
    Ok(Background {
        stop: flag,
        thread: Some(thread),
        address,
    })
}

/// Runs `parapet tokens ...`.
pub fn run_tokens(global: &GlobalArgs, command: &TokensCommand, style: Style) -> Result<ExitCode> {
    let mut store = crate::db::open(global)?;
    match command {
        TokensCommand::Create {
            name,
            scope,
            expires_in,
        } => {
            let secret = parapet_server::auth::new_token()
                .map_err(|e| anyhow::anyhow!("no randomness for the token: {e}"))?;
            let now = Utc::now();
            let expires_at = expires_in
                .map(|d| chrono::Duration::from_std(d).map(|d| now + d))
                .transpose()
                .context("the expiry is too far away")?;
            let scope = match scope {
                TokenScopeArg::ReadOnly => TokenScope::ReadOnly,
                TokenScopeArg::ReadWrite => TokenScope::ReadWrite,
            };
            let token = store.create_token(
                name,
                scope,
                &parapet_server::auth::token_hash(&secret),
                expires_at,
                now,
            )?;
            eprintln!(
                "Token {} `{}` ({}) created; it is shown once, keep it secret:",
                token.id,
                token.name,
                scope.as_str()
            );
            out!("{secret}");
        }
        TokensCommand::List { format } => {
            let tokens = store.tokens()?;
            match format {
                Format::Json => print_json(&tokens)?,
                Format::Table => {
                    let mut table = style.table(&[
                        "id",
                        "name",
                        "scope",
                        "created",
                        "expires",
                        "last used",
                        "state",
                    ]);
                    let now = Utc::now();
                    for t in &tokens {
                        let day = |t: Option<chrono::DateTime<Utc>>| {
                            t.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                                .unwrap_or_default()
                        };
                        let state = if t.revoked_at.is_some() {
                            "revoked"
                        } else if t.is_valid(now) {
                            "valid"
                        } else {
                            "expired"
                        };
                        table.add_row(vec![
                            Cell::new(t.id),
                            Cell::new(&t.name),
                            Cell::new(t.scope.as_str()),
                            Cell::new(day(Some(t.created_at))),
                            Cell::new(day(t.expires_at)),
                            Cell::new(day(t.last_used_at)),
                            Cell::new(state),
                        ]);
                    }
                    out!("{table}");
                }
            }
        }
        TokensCommand::Revoke { id } => {
            let token = match store.revoke_token(*id, Utc::now()) {
                Ok(token) => token,
                Err(parapet_store::StoreError::NotFound(_)) => bail!("no token {id}"),
                Err(e) => return Err(e.into()),
            };
            out!("Token {} `{}` revoked.", token.id, token.name);
        }
    }
    Ok(ExitCode::SUCCESS)
}
