//! What every request shares: a small pool of store connections used on
//! blocking threads (SQLite calls never run on the async workers), the rules
//! and frameworks loaded at start, the settings, and the CSRF token of an
//! open server (browser sessions are in the store).

use crate::auth::OpenCsrf;
use crate::error::ApiError;
use parapet_rules::{Framework, Rule};
use parapet_store::{Store, StoreError};
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

/// Opens a store connection the way the binary configures them (with its
/// notification routes and incident policy), on whichever backend.
pub type OpenStore = Arc<dyn Fn() -> Result<Box<dyn Store>, StoreError> + Send + Sync>;

/// Who may use the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Every API request needs a token or a session.
    Authenticated,
    /// No credentials needed: only for a server on a loopback address,
    /// whose requests must name a loopback host (against DNS rebinding).
    OpenOnLoopback,
}

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Who may use it.
    pub access: Access,
    /// Whether session cookies are marked `Secure` (served over HTTPS, by
    /// a proxy in front).
    pub secure_cookies: bool,
    /// How often the live stream looks for new events.
    pub poll_interval: std::time::Duration,
    /// The OpenID Connect provider browsers may log in with.
    pub oidc: Option<Arc<crate::oidc::Provider>>,
}

/// How many store calls run at once.
const CONCURRENT_STORE_CALLS: usize = 8;

/// The shared state.
pub struct App {
    open: OpenStore,
    pool: Mutex<Vec<Box<dyn Store>>>,
    permits: Semaphore,
    /// Every rule loaded.
    pub rules: Vec<Rule>,
    /// Every compliance framework.
    pub frameworks: Vec<Framework>,
    /// The settings.
    pub settings: Settings,
    /// The CSRF token of an open loopback server.
    pub open_csrf: OpenCsrf,
}

impl App {
    /// The state of a server on the store `open` opens, with `rules` and
    /// `frameworks`.
    pub fn new(
        open: OpenStore,
        rules: Vec<Rule>,
        frameworks: Vec<Framework>,
        settings: Settings,
    ) -> Result<Arc<App>, StoreError> {
        // Opened once at start, so that a database that cannot be opened
        // stops the server at once rather than failing each request.
        let first = open()?;
        Ok(Arc::new(App {
            open,
            pool: Mutex::new(vec![first]),
            permits: Semaphore::new(CONCURRENT_STORE_CALLS),
            rules,
            frameworks,
            settings,
            open_csrf: OpenCsrf::default(),
        }))
    }

    /// Runs `call` with a store connection on a blocking thread.
    pub async fn store<T: Send + 'static>(
        self: &Arc<Self>,
        call: impl FnOnce(&mut dyn Store) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let _permit = self.permits.acquire().await.map_err(ApiError::internal)?;
        let app = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let taken = app.pool.lock().map_err(ApiError::internal)?.pop();
            let mut store = match taken {
                Some(store) => store,
                None => (app.open)()?,
            };
            let result = call(store.as_mut());
            app.pool.lock().map_err(ApiError::internal)?.push(store);
            result
        })
        .await
        .map_err(ApiError::internal)?
    }

    /// The rule with this id.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| &*r.id == id)
    }
}
