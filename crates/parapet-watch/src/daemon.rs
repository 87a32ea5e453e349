//! The daemon's loop. Change events arrive from a queue (read by a thread of
//! its own) and from the `/events` endpoint. What arrived while the last
//! batch was handled is merged, only the resources the events name are
//! described again (with what depends on them), evaluated and recorded;
//! then the messages are deleted and the requests answered: nothing is
//! acknowledged before its result is committed, so a restart reprocesses
//! what was in flight. A message that is not an event is set aside with the
//! reason. Each account is also collected whole on a schedule spread over
//! the resync interval, kept in the database: daemons sharing one take turns
//! rather than each collecting every account. The stop flag (SIGTERM, SIGINT) ends it between
//! batches.

use crate::endpoint;
use crate::log::Log;
use crate::metrics::Metrics;
use crate::{Settings, WatchError};
use chrono::Utc;
use parapet_core::error::chain;
use parapet_notify::Notifier;
use parapet_pipeline::{Pipeline, Request};
use parapet_provider::{Message, Provider, Queue, Quiet, Target};
use parapet_store::{Store, StoreError};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How often the resync schedule is looked at.
const SCHEDULE_LOOK: Duration = Duration::from_secs(1);

/// How long a claimed resync is kept from other daemons at least: longer
/// than a resync takes, so that only a daemon that stopped during one
/// leaves it to another.
const RESYNC_HOLD: Duration = Duration::from_secs(3600);

/// What the daemon's sources hand to its loop.
pub enum Work {
    /// Messages received from the queue, deleted once handled.
    Queue(Vec<Message>),
    /// One event posted to the endpoint, answered once handled.
    Request {
        /// The event.
        body: String,
        /// When it arrived, in milliseconds since the epoch.
        received_at_ms: i64,
        /// Where the answer goes.
        reply: mpsc::Sender<Reply>,
    },
}

/// The answer to an endpoint request: its status and body.
pub type Reply = (u16, String);

/// Opens a store handle: the loop keeps one, the notifier another.
pub type OpenStore<'a> = &'a (dyn Fn() -> Result<Box<dyn Store>, StoreError> + Sync);

/// What the daemon works with.
pub struct Daemon<'a> {
    /// The rules, compiled once for every refresh.
    pub pipeline: &'a Pipeline,
    /// Where events come from and what describes their resources.
    pub provider: &'a dyn Provider,
    /// The queue of change events, if there is one.
    pub queue: Option<Arc<dyn Queue>>,
    /// Opens the store.
    pub open: OpenStore<'a>,
    /// Sends the outbox, when notifications are configured.
    pub notifier: Option<&'a Notifier>,
    /// Its settings.
    pub settings: &'a Settings,
    /// Set to stop.
    pub stop: Arc<AtomicBool>,
}

impl Daemon<'_> {
    /// Runs until the stop flag is set.
    pub fn run(&self) -> Result<(), WatchError> {
        let log = self.settings.log;
        let metrics = Arc::new(Metrics::default());
        // A small bound: a source waits while a batch is handled rather
        // than holding messages past their visibility timeout.
        let (sender, work) = mpsc::sync_channel::<Work>(16);
        let endpoint = match &self.settings.listen {
            Some(address) => Some(endpoint::serve(
                address,
                self.settings.event_secret.clone(),
                sender.clone(),
                Arc::clone(&metrics),
                log,
                Arc::clone(&self.stop),
            )?),
            None => None,
        };
        match &self.queue {
            Some(queue) => poll(
                Arc::clone(queue),
                self.settings.wait,
                sender,
                Arc::clone(&self.stop),
                log,
            ),
            None => drop(sender),
        }
        let mut store = (self.open)()?;
        log.line(
            "info",
            "watching",
            serde_json::json!({
                "queue": self.queue.as_ref().map(|q| q.name().to_owned()),
                "listen": endpoint.as_ref().map(|e| e.address.to_string()),
                "serve": self.settings.serving,
                "endpoint": self.settings.event_secret.is_some(),
            }),
        );
        let (kick, kicked) = mpsc::channel::<()>();
        let mut running = Running {
            daemon: self,
            store: store.as_mut(),
            metrics: &metrics,
            kick: self.notifier.map(|_| kick),
        };
        std::thread::scope(|scope| {
            if let Some(notifier) = self.notifier {
                let (stop, metrics) = (&self.stop, &metrics);
                let open = self.open;
                scope.spawn(move || notify(open, notifier, &kicked, stop, metrics, log));
            }
            running.until_stopped(&work);
        });
        log.line("info", "stopped", serde_json::json!({}));
        Ok(())
    }
}

/// The daemon running: its store handle and counters.
struct Running<'d, 's> {
    daemon: &'d Daemon<'d>,
    store: &'s mut dyn Store,
    metrics: &'d Metrics,
    /// Wakes the notifier after a commit.
    kick: Option<mpsc::Sender<()>>,
}

impl Running<'_, '_> {
    fn log(&self) -> Log {
        self.daemon.settings.log
    }

    /// Handles batches and resyncs until the stop flag is set.
    fn until_stopped(&mut self, work: &mpsc::Receiver<Work>) {
        let settings = self.daemon.settings;
        if self.scanned_accounts().is_empty() {
            // Nothing collected yet (whatever the configuration names): the
            // inventory starts whole.
            self.resync(None);
        }
        let known = self.known_accounts();
        if let Some(every) = settings.resync {
            self.plan_resyncs(&known, every);
        }
        let mut looked = Instant::now();
        while !self.daemon.stop.load(Ordering::Relaxed) {
            if let Some(every) = settings.resync
                && looked.elapsed() >= SCHEDULE_LOOK
            {
                looked = Instant::now();
                self.resync_due(every);
            }
            let first = match work.recv_timeout(Duration::from_millis(500)) {
                Ok(first) => first,
                Err(mpsc::RecvTimeoutError::Timeout) => continue,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    // No source left: wait for the stop flag.
                    std::thread::sleep(Duration::from_millis(500));
                    continue;
                }
            };
            if !settings.delay.is_zero() {
                std::thread::sleep(settings.delay);
            }
            // Everything that arrived meanwhile, in one refresh.
            let mut batch = vec![first];
            batch.extend(work.try_iter());
            self.handle(batch);
        }
    }

    /// Schedules the accounts not yet scheduled (the schedule is the
    /// database's, shared with every daemon on it).
    fn plan_resyncs(&mut self, accounts: &BTreeSet<String>, every: Duration) {
        let source = self.daemon.provider.source();
        if let Err(error) = self
            .store
            .plan_resyncs(&source, accounts, every, Utc::now())
        {
            self.log().line(
                "warn",
                "cannot schedule resyncs",
                serde_json::json!({"reason": chain(&error)}),
            );
        }
    }

    /// Runs the resync due first, if one is and no other daemon took it,
    /// then schedules its next and any account seen since.
    fn resync_due(&mut self, every: Duration) {
        let source = self.daemon.provider.source();
        let hold = every.max(RESYNC_HOLD);
        let account = match self.store.claim_resync(&source, hold, Utc::now()) {
            Ok(Some(account)) => account,
            Ok(None) => return,
            Err(error) => {
                self.log().line(
                    "warn",
                    "cannot read the resync schedule",
                    serde_json::json!({"reason": chain(&error)}),
                );
                return;
            }
        };
        self.resync(account.as_deref());
        if let Err(error) = self
            .store
            .resynced(&source, account.as_deref(), every, Utc::now())
        {
            self.log().line(
                "warn",
                "cannot schedule the next resync",
                serde_json::json!({"account": account, "reason": chain(&error)}),
            );
        }
        let known = self.known_accounts();
        self.plan_resyncs(&known, every);
    }

    /// The accounts to resync: those of recent scans of the provider and
    /// the configured ones.
    fn known_accounts(&self) -> BTreeSet<String> {
        let mut accounts = self.daemon.provider.configured_accounts();
        accounts.extend(self.scanned_accounts());
        accounts
    }

    /// The accounts of recent scans of the provider.
    fn scanned_accounts(&self) -> BTreeSet<String> {
        let source = self.daemon.provider.source();
        match self.store.scans(500) {
            Ok(scans) => scans
                .into_iter()
                .filter(|s| s.source == source)
                .flat_map(|s| s.scope.accounts)
                .collect(),
            Err(error) => {
                self.log().line(
                    "warn",
                    "cannot read the accounts of earlier scans",
                    serde_json::json!({"reason": error.to_string()}),
                );
                BTreeSet::new()
            }
        }
    }

    /// Collects one account (or everything) whole: what events missed.
    fn resync(&mut self, account: Option<&str>) {
        let started = Instant::now();
        let accounts: BTreeSet<String> = account.into_iter().map(str::to_owned).collect();
        let request = match account {
            Some(_) => Request::Accounts(&accounts),
            None => Request::Whole,
        };
        let run = self.daemon.pipeline.run_each(
            self.daemon.provider,
            Some(&mut *self.store),
            request,
            &Quiet,
            &mut |_| Ok(()),
        );
        match run {
            Ok(run) => {
                self.notify_now();
                Metrics::add(&self.metrics.resyncs, 1);
                let (opened, resolved) = self.count_findings(&run.recorded);
                self.log().line(
                    "info",
                    "resynced",
                    serde_json::json!({
                        "account": account, "accounts": run.recorded.len(), "opened": opened,
                        "resolved": resolved, "seconds": started.elapsed().as_secs_f64(),
                    }),
                );
            }
            Err(error) => self.log().line(
                "error",
                "resync failed",
                serde_json::json!({"account": account, "reason": chain(&error)}),
            ),
        }
    }

    /// Wakes the notifier: a commit may have written notifications.
    fn notify_now(&self) {
        if let Some(kick) = &self.kick {
            // The notifier stops only with the daemon.
            let _ = kick.send(());
        }
    }

    /// Findings opened (or reopened) and resolved by `runs`, counted.
    fn count_findings(&self, runs: &[parapet_core::ScanRun]) -> (u64, u64) {
        let opened: u64 = runs
            .iter()
            .map(|r| r.counts.opened + r.counts.reopened)
            .sum();
        let resolved: u64 = runs.iter().map(|r| r.counts.resolved).sum();
        Metrics::add(&self.metrics.findings_opened, opened);
        Metrics::add(&self.metrics.findings_resolved, resolved);
        (opened, resolved)
    }

    /// The resources one message's events touched, counted and logged; the
    /// reason when it is not an event.
    fn targets(&self, id: &str, body: &str) -> Result<Vec<Target>, String> {
        let message: serde_json::Value =
            serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
        let decoded = self
            .daemon
            .provider
            .decode(&message)
            .map_err(|e| e.to_string())?;
        for note in decoded.notes {
            self.log().line(
                "info",
                "event",
                serde_json::json!({"id": id, "event": note}),
            );
        }
        let counter = if decoded.targets.is_empty() {
            &self.metrics.events_ignored
        } else {
            &self.metrics.events_processed
        };
        Metrics::add(counter, 1);
        Ok(decoded.targets)
    }

    /// Keeps a message that is not an event in the dead-letter queue (when
    /// there is one) and deletes it from the queue.
    fn set_aside(&self, message: &Message, reason: &str) {
        Metrics::add(&self.metrics.messages_set_aside, 1);
        self.log().line(
            "warn",
            "message set aside",
            serde_json::json!({"id": message.id, "reason": reason}),
        );
        if let Some(queue) = &self.daemon.queue
            && let Err(failure) = queue.set_aside(message)
        {
            self.log().line(
                "error",
                "cannot set aside",
                serde_json::json!({"id": message.id, "reason": failure.to_string()}),
            );
        }
    }

    /// Handles one batch: what its events changed is described again once,
    /// then its messages are deleted and its requests answered.
    fn handle(&mut self, batch: Vec<Work>) {
        let mut pending = Pending::default();
        for work in batch {
            match work {
                Work::Queue(received) => {
                    Metrics::add(&self.metrics.messages_received, received.len() as u64);
                    for message in received {
                        match self.targets(&message.id, &message.body) {
                            Ok(found) => {
                                pending.add(found, message.sent_at_ms);
                                pending.messages.push(message);
                            }
                            Err(reason) => self.set_aside(&message, &reason),
                        }
                    }
                }
                Work::Request {
                    body,
                    received_at_ms,
                    reply,
                } => match self.targets("endpoint", &body) {
                    Ok(found) => {
                        pending.add(found, Some(received_at_ms));
                        pending.replies.push(reply);
                    }
                    Err(reason) => {
                        Metrics::add(&self.metrics.messages_set_aside, 1);
                        self.log().line(
                            "warn",
                            "request set aside",
                            serde_json::json!({"reason": reason}),
                        );
                        let _ = reply.send((400, serde_json::json!({"error": reason}).to_string()));
                    }
                },
            }
        }
        let mut summary =
            serde_json::json!({"committed": true, "resources": pending.targets.len()});
        if !pending.targets.is_empty() {
            match self.refresh(&pending) {
                Some((opened, resolved)) => {
                    summary["opened"] = opened.into();
                    summary["resolved"] = resolved.into();
                }
                None => {
                    // Not deleted: the queue delivers them again; the
                    // endpoint's senders retry.
                    for reply in pending.replies {
                        let _ = reply.send((
                            503,
                            serde_json::json!({"error": "the refresh failed; send it again"})
                                .to_string(),
                        ));
                    }
                    return;
                }
            }
        }
        for reply in pending.replies {
            let _ = reply.send((200, summary.to_string()));
        }
        if let Some(queue) = &self.daemon.queue
            && !pending.messages.is_empty()
        {
            let handled: Vec<&Message> = pending.messages.iter().collect();
            if let Err(failure) = queue.delete(&handled) {
                self.log().line(
                    "error",
                    "cannot delete",
                    serde_json::json!({"reason": failure.to_string()}),
                );
            }
        }
    }

    /// Describes again what a batch's events touched; the findings opened
    /// and resolved, or `None` when the refresh failed.
    fn refresh(&mut self, pending: &Pending) -> Option<(u64, u64)> {
        let started = Instant::now();
        let run = self.daemon.pipeline.run_each(
            self.daemon.provider,
            Some(&mut *self.store),
            Request::Refresh(&pending.targets),
            &Quiet,
            &mut |_| Ok(()),
        );
        match run {
            Ok(run) => {
                self.notify_now();
                let (opened, resolved) = self.count_findings(&run.recorded);
                Metrics::add(&self.metrics.refreshes, 1);
                let spent = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
                Metrics::add(&self.metrics.refresh_milliseconds, spent);
                if let Some(oldest) = pending.oldest {
                    let now = chrono::Utc::now().timestamp_millis();
                    let lag = u64::try_from(now - oldest).unwrap_or(0);
                    self.metrics.lag_milliseconds.store(lag, Ordering::Relaxed);
                }
                self.log().line(
                    "info",
                    "refreshed",
                    serde_json::json!({
                        "messages": pending.messages.len(), "requests": pending.replies.len(),
                        "resources": pending.targets.len(), "opened": opened, "resolved": resolved,
                    }),
                );
                Some((opened, resolved))
            }
            Err(error) => {
                Metrics::add(&self.metrics.refresh_failures, 1);
                self.log().line(
                    "error",
                    "refresh failed",
                    serde_json::json!({"reason": chain(&error)}),
                );
                None
            }
        }
    }
}

/// What one batch asks: its resources, and the messages and requests to
/// acknowledge once they are committed.
#[derive(Default)]
struct Pending {
    targets: Vec<Target>,
    messages: Vec<Message>,
    replies: Vec<mpsc::Sender<Reply>>,
    /// When the oldest of them arrived.
    oldest: Option<i64>,
}

impl Pending {
    fn add(&mut self, found: Vec<Target>, arrived: Option<i64>) {
        // A burst's repeated changes to one resource are described once.
        for target in found {
            if !self.targets.contains(&target) {
                self.targets.push(target);
            }
        }
        self.oldest = match (self.oldest, arrived) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

/// Sends the outbox's due notifications until `stop`: at once after each
/// commit (`kicked`), and every second for retries.
fn notify(
    open: OpenStore<'_>,
    notifier: &Notifier,
    kicked: &mpsc::Receiver<()>,
    stop: &AtomicBool,
    metrics: &Metrics,
    log: Log,
) {
    let mut store = None;
    while !stop.load(Ordering::Relaxed) {
        let _ = kicked.recv_timeout(Duration::from_secs(1));
        while kicked.try_recv().is_ok() {}
        let store = match &mut store {
            Some(store) => store,
            None => match open() {
                Ok(opened) => store.insert(opened),
                Err(error) => {
                    log.line(
                        "error",
                        "cannot open the outbox",
                        serde_json::json!({"reason": error.to_string()}),
                    );
                    continue;
                }
            },
        };
        deliver_due(store.as_mut(), notifier, metrics, log);
    }
}

/// Sends what is due until nothing is, counting and logging failures.
fn deliver_due(store: &mut dyn Store, notifier: &Notifier, metrics: &Metrics, log: Log) {
    loop {
        match notifier.deliver_due(store, chrono::Utc::now()) {
            Ok(done) => {
                Metrics::add(&metrics.notifications_delivered, done.delivered as u64);
                let failures = (done.retrying + done.failed) as u64;
                Metrics::add(&metrics.notification_failures, failures);
                if failures > 0 {
                    log.line(
                        "warn",
                        "notifications not delivered",
                        serde_json::json!({"retrying": done.retrying, "failed": done.failed}),
                    );
                }
                if done.delivered + done.retrying + done.failed == 0 {
                    return;
                }
            }
            Err(error) => {
                log.line(
                    "error",
                    "notification delivery failed",
                    serde_json::json!({"reason": error.to_string()}),
                );
                return;
            }
        }
    }
}

/// Receives from the queue on a thread of its own until `stop`.
fn poll(
    queue: Arc<dyn Queue>,
    wait: i32,
    sender: mpsc::SyncSender<Work>,
    stop: Arc<AtomicBool>,
    log: Log,
) {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match queue.receive(wait) {
                Ok(messages) if messages.is_empty() => {}
                Ok(messages) => {
                    if sender.send(Work::Queue(messages)).is_err() {
                        return;
                    }
                }
                Err(failure) => {
                    log.line(
                        "error",
                        "cannot receive",
                        serde_json::json!({"reason": failure.to_string()}),
                    );
                    std::thread::sleep(Duration::from_secs(1));
                }
            }
        }
    });
}
