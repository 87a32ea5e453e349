//! `parapet watch`: continuous mode. CloudTrail events arrive from an SQS
//! queue (read by a thread of its own) and from the `/events` HTTP endpoint
//! (for EventBridge API destinations, each request signed or carrying the
//! shared secret). What arrived while the last batch was handled is merged,
//! only the resources the events name are described again (with what
//! depends on them), evaluated and recorded; then the messages are deleted
//! and the requests answered: nothing is acknowledged before its result is
//! committed, so a restart reprocesses what was in flight. A message that is
//! not an event is set aside with the reason. Each account is also collected
//! whole on a schedule spread over the resync interval. SIGTERM and SIGINT
//! stop it between batches.

use crate::cli::{GlobalArgs, LogFormat, WatchArgs};
use crate::config::ConfigFile;
use anyhow::{Context, Result};
use parapet_aws::AwsOptions;
use parapet_aws::events::Target;
use parapet_aws::queue::{Message, Queue};
use parapet_core::Secret;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The largest event the endpoint accepts (EventBridge's own limit).
const MAX_EVENT_BYTES: usize = 256 * 1024;

/// How long an endpoint request waits for its event's result.
const REPLY_TIMEOUT: Duration = Duration::from_secs(60);

/// What the daemon has done, for `/metrics`.
#[derive(Default)]
struct Metrics {
    messages_received: AtomicU64,
    events_processed: AtomicU64,
    events_ignored: AtomicU64,
    messages_set_aside: AtomicU64,
    requests_refused: AtomicU64,
    refreshes: AtomicU64,
    refresh_failures: AtomicU64,
    refresh_milliseconds: AtomicU64,
    findings_opened: AtomicU64,
    findings_resolved: AtomicU64,
    lag_milliseconds: AtomicU64,
    resyncs: AtomicU64,
    notifications_delivered: AtomicU64,
    notification_failures: AtomicU64,
}

impl Metrics {
    /// The Prometheus text exposition.
    fn render(&self) -> String {
        let counters: [(&str, &str, &AtomicU64); 14] = [
            (
                "parapet_watch_messages_received_total",
                "Messages received from the queue and the event endpoint.",
                &self.messages_received,
            ),
            (
                "parapet_watch_events_processed_total",
                "Events that named resources to describe again.",
                &self.events_processed,
            ),
            (
                "parapet_watch_events_ignored_total",
                "Read-only, failed and unmapped events.",
                &self.events_ignored,
            ),
            (
                "parapet_watch_messages_set_aside_total",
                "Messages that were not CloudTrail events.",
                &self.messages_set_aside,
            ),
            (
                "parapet_watch_requests_refused_total",
                "Endpoint requests refused: no valid secret or signature, too large, not a POST.",
                &self.requests_refused,
            ),
            (
                "parapet_watch_refreshes_total",
                "Refreshes committed.",
                &self.refreshes,
            ),
            (
                "parapet_watch_refresh_failures_total",
                "Refreshes that failed (their messages are delivered again).",
                &self.refresh_failures,
            ),
            (
                "parapet_watch_refresh_milliseconds_total",
                "Time spent refreshing.",
                &self.refresh_milliseconds,
            ),
            (
                "parapet_watch_findings_opened_total",
                "Findings opened or reopened.",
                &self.findings_opened,
            ),
            (
                "parapet_watch_findings_resolved_total",
                "Findings resolved.",
                &self.findings_resolved,
            ),
            (
                "parapet_watch_resyncs_total",
                "Whole collections of an account.",
                &self.resyncs,
            ),
            (
                "parapet_watch_notifications_delivered_total",
                "Notifications their channel accepted.",
                &self.notifications_delivered,
            ),
            (
                "parapet_watch_notification_failures_total",
                "Delivery attempts that failed (tried again with backoff, then marked failed).",
                &self.notification_failures,
            ),
            (
                "parapet_watch_lag_milliseconds",
                "From the arrival of the oldest message of the last committed batch to its commit.",
                &self.lag_milliseconds,
            ),
        ];
        let mut out = String::new();
        for (name, help, value) in counters {
            let kind = if name.ends_with("_total") {
                "counter"
            } else {
                "gauge"
            };
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}\n",
                value.load(Ordering::Relaxed)
            ));
        }
        out
    }
}

/// Writes one log line to standard error.
#[derive(Clone, Copy)]
struct Log(LogFormat);

impl Log {
    fn line(&self, level: &str, message: &str, fields: serde_json::Value) {
        let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        match self.0 {
            LogFormat::Json => {
                let mut record = serde_json::json!({"at": at, "level": level, "message": message});
                if let (Some(record), Some(fields)) = (record.as_object_mut(), fields.as_object()) {
                    record.extend(fields.clone());
                }
                eprintln!("{record}");
            }
            LogFormat::Human => {
                let details = fields
                    .as_object()
                    .map(|f| {
                        f.iter()
                            .map(|(k, v)| format!(" {k}={v}"))
                            .collect::<String>()
                    })
                    .unwrap_or_default();
                eprintln!("{at} {level} {message}{details}");
            }
        }
    }
}

/// The daemon's settings: its options, else the configuration file's
/// `watch` section, else the defaults.
struct Settings {
    queue_url: Option<String>,
    queue_region: Option<String>,
    dead_letter_queue_url: Option<String>,
    delay: Duration,
    wait: i32,
    log: Log,
    listen: Option<String>,
    resync: Option<Duration>,
    event_secret: Option<String>,
}

impl Settings {
    fn resolve(args: &WatchArgs, config: &ConfigFile) -> Result<Settings> {
        let file = &config.watch;
        let secret = match (
            &args.event_secret_file,
            std::env::var("PARAPET_EVENT_SECRET"),
        ) {
            (Some(path), _) => Some(Secret::File(path.clone()).read()?),
            (None, Ok(value)) if !value.is_empty() => Some(value),
            _ => file.event_secret.as_ref().map(Secret::read).transpose()?,
        };
        let settings = Settings {
            queue_url: args.queue_url.clone().or_else(|| file.queue_url.clone()),
            queue_region: args
                .queue_region
                .clone()
                .or_else(|| file.queue_region.clone()),
            dead_letter_queue_url: args
                .dead_letter_queue_url
                .clone()
                .or_else(|| file.dead_letter_queue_url.clone()),
            delay: args.delay.or(file.delay).unwrap_or_default(),
            wait: args.wait.or(file.wait_seconds).unwrap_or(1),
            log: Log(args
                .log_format
                .or(file.log_format)
                .unwrap_or(LogFormat::Human)),
            listen: args.listen.clone().or_else(|| file.listen.clone()),
            resync: args.resync.or(file.resync),
            event_secret: secret,
        };
        anyhow::ensure!(
            settings.queue_url.is_some() || settings.event_secret.is_some(),
            "no event source: give a queue (--queue-url, PARAPET_QUEUE_URL or watch.queue_url), \
             or an address and a secret for the /events endpoint"
        );
        anyhow::ensure!(
            settings.event_secret.is_none() || settings.listen.is_some(),
            "the /events endpoint has a secret but no address: give --listen"
        );
        anyhow::ensure!(
            (0..=20).contains(&settings.wait),
            "the receive wait is {} s; SQS allows 0 to 20",
            settings.wait
        );
        Ok(settings)
    }
}

/// What the daemon's sources hand to its loop.
enum Work {
    /// Messages received from the queue, deleted once handled.
    Queue(Vec<Message>),
    /// One event posted to the endpoint, answered once handled.
    Request {
        body: String,
        received_at_ms: i64,
        reply: mpsc::Sender<Reply>,
    },
}

/// The answer to an endpoint request: its status and body.
type Reply = (u16, String);

/// Runs `parapet watch` until SIGTERM or SIGINT.
pub fn run(
    global: &GlobalArgs,
    config: &ConfigFile,
    notifier: Option<&parapet_notify::Notifier>,
    args: &WatchArgs,
) -> Result<ExitCode> {
    let settings = Settings::resolve(args, config)?;
    let log = settings.log;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("cannot listen for signals")?;
    }
    let queue = match &settings.queue_url {
        Some(url) => Some(Arc::new(
            Queue::connect(
                url,
                settings.queue_region.as_deref(),
                args.profile.as_deref(),
                args.endpoint_url.as_deref(),
            )
            .with_context(|| format!("cannot reach the queue {url}"))?,
        )),
        None => None,
    };
    let _server = args
        .serve
        .as_deref()
        .map(|listen| {
            crate::serve_cmd::spawn(global, listen, &args.serve_options, Arc::clone(&stop))
        })
        .transpose()?;
    let metrics = Arc::new(Metrics::default());
    // A small bound: a source waits while a batch is handled rather than
    // holding messages past their visibility timeout.
    let (sender, work) = mpsc::sync_channel::<Work>(16);
    if let Some(address) = &settings.listen {
        serve(
            address,
            settings.event_secret.clone(),
            sender.clone(),
            Arc::clone(&metrics),
            log,
        )?;
    }
    if let Some(queue) = &queue {
        poll(
            Arc::clone(queue),
            settings.wait,
            sender,
            Arc::clone(&stop),
            log,
        );
    } else {
        drop(sender);
    }
    log.line(
        "info",
        "watching",
        serde_json::json!({
            "queue": settings.queue_url, "listen": settings.listen, "serve": args.serve,
            "endpoint": settings.event_secret.is_some(),
        }),
    );
    let (kick, kicked) = mpsc::channel::<()>();
    let daemon = Daemon {
        global,
        config,
        args,
        settings: &settings,
        queue: queue.as_deref(),
        metrics: &metrics,
        kick: notifier.map(|_| kick),
    };
    std::thread::scope(|scope| {
        if let Some(notifier) = notifier {
            let (stop, metrics) = (&stop, &metrics);
            scope.spawn(move || notify(global, notifier, &kicked, stop, metrics, log));
        }
        let mut known = daemon.known_accounts();
        if known.is_empty() {
            // Nothing collected yet: the inventory starts whole.
            daemon.resync(None);
            known = daemon.known_accounts();
        }
        let mut schedule = settings
            .resync
            .map(|every| Schedule::new(every, known, Instant::now()));
        while !stop.load(Ordering::Relaxed) {
            if let Some(schedule) = &mut schedule
                && let Some(account) = schedule.due(Instant::now())
            {
                daemon.resync(account.as_deref());
                schedule.ran(account, Instant::now());
                schedule.learn(daemon.known_accounts(), Instant::now());
            }
            let first = match work.recv_timeout(Duration::from_millis(500)) {
                Ok(first) => first,
                Err(mpsc::RecvTimeoutError::Timeout) => continue,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    // No source left: wait for a signal.
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
            daemon.handle(batch);
        }
    });
    log.line("info", "stopped", serde_json::json!({}));
    Ok(ExitCode::SUCCESS)
}

/// Sends the outbox's due notifications until `stop`: at once after each
/// commit (`kicked`), and every second for retries.
fn notify(
    global: &GlobalArgs,
    notifier: &parapet_notify::Notifier,
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
            None => match crate::db::open(global) {
                Ok(opened) => store.insert(opened),
                Err(error) => {
                    log.line(
                        "error",
                        "cannot open the outbox",
                        serde_json::json!({"reason": format!("{error:#}")}),
                    );
                    continue;
                }
            },
        };
        loop {
            match notifier.deliver_due(store, chrono::Utc::now()) {
                Ok(done) => {
                    metrics
                        .notifications_delivered
                        .fetch_add(done.delivered as u64, Ordering::Relaxed);
                    let failures = (done.retrying + done.failed) as u64;
                    metrics
                        .notification_failures
                        .fetch_add(failures, Ordering::Relaxed);
                    if done.retrying + done.failed > 0 {
                        log.line(
                            "warn",
                            "notifications not delivered",
                            serde_json::json!({"retrying": done.retrying, "failed": done.failed}),
                        );
                    }
                    if done.delivered + done.retrying + done.failed == 0 {
                        break;
                    }
                }
                Err(error) => {
                    log.line(
                        "error",
                        "notification delivery failed",
                        serde_json::json!({"reason": error.to_string()}),
                    );
                    break;
                }
            }
        }
    }
}

/// Receives from the queue on a thread of its own until `stop`.
fn poll(
    queue: Arc<Queue>,
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

/// Serves `/health`, `/metrics` and (with a secret) `/events` on `address`.
fn serve(
    address: &str,
    secret: Option<String>,
    sender: mpsc::SyncSender<Work>,
    metrics: Arc<Metrics>,
    log: Log,
) -> Result<()> {
    let server = Arc::new(
        tiny_http::Server::http(address)
            .map_err(|e| anyhow::anyhow!("cannot listen on {address}: {e}"))?,
    );
    let secret = Arc::new(secret);
    // A few workers: an event request waits for its commit while health
    // checks and scrapes are still answered.
    for _ in 0..4 {
        let server = Arc::clone(&server);
        let secret = Arc::clone(&secret);
        let sender = sender.clone();
        let metrics = Arc::clone(&metrics);
        std::thread::spawn(move || {
            while let Ok(request) = server.recv() {
                let (status, body, kind) = match request.url() {
                    "/health" => (200, "ok\n".to_owned(), "text/plain"),
                    "/metrics" => (200, metrics.render(), "text/plain; version=0.0.4"),
                    "/events" if secret.is_some() => {
                        let secret = secret.as_deref().unwrap_or_default();
                        event_request(request, secret, &sender, &metrics, log);
                        continue;
                    }
                    _ => (404, "not found\n".to_owned(), "text/plain"),
                };
                respond(request, status, body, kind);
            }
        });
    }
    Ok(())
}

fn respond(request: tiny_http::Request, status: u16, body: String, kind: &str) {
    let response = tiny_http::Response::from_string(body).with_status_code(status);
    let response = match tiny_http::Header::from_bytes(&b"Content-Type"[..], kind.as_bytes()) {
        Ok(header) => response.with_header(header),
        Err(()) => response,
    };
    // The sender may have gone; nothing to do about it.
    let _ = request.respond(response);
}

/// One event posted to `/events`: refused unless it carries the shared
/// secret (`X-Parapet-Secret`, what an EventBridge connection's API key
/// sends) or a valid HMAC-SHA256 of its body (`X-Parapet-Signature:
/// sha256=HEX`); answered once its result is committed.
fn event_request(
    mut request: tiny_http::Request,
    secret: &str,
    sender: &mpsc::SyncSender<Work>,
    metrics: &Metrics,
    log: Log,
) {
    let refuse = |request, status, why: &str| {
        metrics.requests_refused.fetch_add(1, Ordering::Relaxed);
        log.line(
            "warn",
            "request refused",
            serde_json::json!({"status": status, "reason": why}),
        );
        respond(request, status, format!("{why}\n"), "text/plain");
    };
    if *request.method() != tiny_http::Method::Post {
        return refuse(request, 405, "events are POSTed");
    }
    if request.body_length().is_some_and(|n| n > MAX_EVENT_BYTES) {
        return refuse(request, 413, "the event is larger than 256 KiB");
    }
    let mut body = Vec::new();
    let read = request
        .as_reader()
        .take(MAX_EVENT_BYTES as u64 + 1)
        .read_to_end(&mut body);
    if read.is_err() {
        return refuse(request, 400, "the body could not be read");
    }
    if body.len() > MAX_EVENT_BYTES {
        return refuse(request, 413, "the event is larger than 256 KiB");
    }
    let header = |name: &'static str| {
        request
            .headers()
            .iter()
            .find(|h| h.field.equiv(name))
            .map(|h| h.value.as_str().to_owned())
    };
    let proven = authentic(
        secret.as_bytes(),
        header("X-Parapet-Secret").as_deref(),
        header("X-Parapet-Signature").as_deref(),
        &body,
    );
    if !proven {
        return refuse(
            request,
            401,
            "no valid X-Parapet-Secret or X-Parapet-Signature",
        );
    }
    let Ok(body) = String::from_utf8(body) else {
        return refuse(request, 400, "the body is not UTF-8");
    };
    metrics.messages_received.fetch_add(1, Ordering::Relaxed);
    let (reply, answer) = mpsc::channel();
    let work = Work::Request {
        body,
        received_at_ms: chrono::Utc::now().timestamp_millis(),
        reply,
    };
    let (status, text) = if sender.send(work).is_err() {
        (503, "the daemon is stopping".to_owned())
    } else {
        answer
            .recv_timeout(REPLY_TIMEOUT)
            .unwrap_or_else(|_| (503, "not committed; send it again".to_owned()))
    };
    respond(request, status, text, "application/json");
}

/// Whether a request proves it holds `secret`: the secret itself, or the
/// HMAC-SHA256 of the body under it; both compared in constant time.
fn authentic(secret: &[u8], given: Option<&str>, signature: Option<&str>, body: &[u8]) -> bool {
    use hmac::Mac;
    use subtle::ConstantTimeEq;
    if let Some(given) = given {
        return given.as_bytes().ct_eq(secret).into();
    }
    let Some(signature) = signature.and_then(|s| s.strip_prefix("sha256=")) else {
        return false;
    };
    let Ok(signature) = hex::decode(signature.trim()) else {
        return false;
    };
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&signature).is_ok()
}

/// When each account is next collected whole: the accounts spread evenly
/// over the interval, so that they do not all run at once. Before any
/// account is known, one whole collection (`None`) stands for them all.
#[derive(Debug)]
struct Schedule {
    every: Duration,
    due: BTreeMap<Option<String>, Instant>,
}

impl Schedule {
    fn new(every: Duration, accounts: BTreeSet<String>, now: Instant) -> Schedule {
        let mut schedule = Schedule {
            every,
            due: BTreeMap::new(),
        };
        if accounts.is_empty() {
            schedule.due.insert(None, now + every);
        } else {
            schedule.learn(accounts, now);
        }
        schedule
    }

    /// The first collection due at `now`.
    fn due(&self, now: Instant) -> Option<Option<String>> {
        self.due
            .iter()
            .filter(|(_, at)| **at <= now)
            .min_by_key(|(_, at)| **at)
            .map(|(account, _)| account.clone())
    }

    /// `account` was collected: next time in one interval.
    fn ran(&mut self, account: Option<String>, now: Instant) {
        self.due.insert(account, now + self.every);
    }

    /// Adds accounts seen since, spread over the interval after those
    /// already scheduled; once accounts are known, they replace the
    /// whole collection.
    fn learn(&mut self, accounts: BTreeSet<String>, now: Instant) {
        if accounts.is_empty() {
            return;
        }
        self.due.remove(&None);
        let new: Vec<String> = accounts
            .into_iter()
            .filter(|a| !self.due.contains_key(&Some(a.clone())))
            .collect();
        let count = new.len() as u32;
        for (i, account) in (1..).zip(new) {
            self.due
                .insert(Some(account), now + self.every * i / count.max(1));
        }
    }
}

/// The daemon's loop's context.
struct Daemon<'a> {
    global: &'a GlobalArgs,
    config: &'a ConfigFile,
    args: &'a WatchArgs,
    settings: &'a Settings,
    queue: Option<&'a Queue>,
    metrics: &'a Metrics,
    /// Wakes the notifier after a commit.
    kick: Option<mpsc::Sender<()>>,
}

impl Daemon<'_> {
    /// The collection options: the configuration's estate.
    fn options(&self) -> AwsOptions {
        AwsOptions {
            profile: self.args.profile.clone(),
            role: None,
            regions: self.config.aws.regions.clone(),
            resource_types: None,
            endpoint_url: self.args.endpoint_url.clone(),
            accounts: self.config.aws.accounts.clone(),
            organization_role: self.config.aws.organization_role.clone(),
            concurrency: parapet_aws::options::DEFAULT_CONCURRENCY,
            keys: BTreeMap::new(),
            only_accounts: None,
        }
    }

    /// The accounts to resync: those of recent AWS scans and the configured
    /// ones.
    fn known_accounts(&self) -> BTreeSet<String> {
        use parapet_store::roles::*;
        let mut accounts: BTreeSet<String> = self
            .config
            .aws
            .accounts
            .iter()
            .filter_map(|t| parapet_aws::session::account_of_role(&t.role.role_arn))
            .map(str::to_owned)
            .collect();
        match crate::db::open(self.global).and_then(|s| Ok(s.scans(500)?)) {
            Ok(scans) => accounts.extend(
                scans
                    .into_iter()
                    .filter(|s| s.source == "aws")
                    .flat_map(|s| s.scope.accounts),
            ),
            Err(error) => self.settings.log.line(
                "warn",
                "cannot read the accounts of earlier scans",
                serde_json::json!({"reason": format!("{error:#}")}),
            ),
        }
        accounts
    }

    /// Collects one account (or everything) whole: what events missed.
    fn resync(&self, account: Option<&str>) {
        let mut options = self.options();
        options.only_accounts = account.map(|a| BTreeSet::from([a.to_owned()]));
        let started = Instant::now();
        let log = self.settings.log;
        match crate::scan_aws_cmd::refresh(self.global, &options, &self.config.tags, None) {
            Ok(runs) => {
                self.notify_now();
                self.metrics.resyncs.fetch_add(1, Ordering::Relaxed);
                let (opened, resolved) = self.count_findings(&runs);
                log.line(
                    "info",
                    "resynced",
                    serde_json::json!({
                        "account": account, "accounts": runs.len(), "opened": opened,
                        "resolved": resolved, "seconds": started.elapsed().as_secs_f64(),
                    }),
                );
            }
            Err(error) => log.line(
                "error",
                "resync failed",
                serde_json::json!({"account": account, "reason": format!("{error:#}")}),
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
        self.metrics
            .findings_opened
            .fetch_add(opened, Ordering::Relaxed);
        self.metrics
            .findings_resolved
            .fetch_add(resolved, Ordering::Relaxed);
        (opened, resolved)
    }

    /// The resources one message's events touched, counted and logged; the
    /// reason when it is not an event.
    fn targets(&self, id: &str, body: &str) -> Result<Vec<Target>, String> {
        let (targets, notes) = serde_json::from_str::<serde_json::Value>(body)
            .map_err(|e| format!("not JSON: {e}"))
            .and_then(|body| crate::scan_aws_cmd::targets_of(&body))?;
        for note in notes {
            self.settings.log.line(
                "info",
                "event",
                serde_json::json!({"id": id, "event": note}),
            );
        }
        let counter = if targets.is_empty() {
            &self.metrics.events_ignored
        } else {
            &self.metrics.events_processed
        };
        counter.fetch_add(1, Ordering::Relaxed);
        Ok(targets)
    }

    /// Keeps a message that is not an event in the dead-letter queue (when
    /// there is one) and deletes it from the queue.
    fn set_aside(&self, message: &Message, reason: &str) {
        let log = self.settings.log;
        self.metrics
            .messages_set_aside
            .fetch_add(1, Ordering::Relaxed);
        log.line(
            "warn",
            "message set aside",
            serde_json::json!({"id": message.id, "reason": reason}),
        );
        let Some(queue) = self.queue else { return };
        let kept = match &self.settings.dead_letter_queue_url {
            Some(url) => queue.send_to(url, &message.body).map_err(|e| e.to_string()),
            None => Ok(()),
        };
        if let Err(reason) = kept.and_then(|()| queue.delete(&[message]).map_err(|e| e.to_string()))
        {
            log.line(
                "error",
                "cannot set aside",
                serde_json::json!({"id": message.id, "reason": reason}),
            );
        }
    }

    /// Handles one batch: what its events changed is described again once,
    /// then its messages are deleted and its requests answered.
    fn handle(&self, batch: Vec<Work>) {
        let log = self.settings.log;
        let mut targets: Vec<Target> = Vec::new();
        let mut messages: Vec<Message> = Vec::new();
        let mut replies: Vec<mpsc::Sender<Reply>> = Vec::new();
        let mut oldest: Option<i64> = None;
        let mut add = |found: Vec<Target>, arrived: Option<i64>| {
            // A burst's repeated changes to one resource are described once.
            for target in found {
                if !targets.contains(&target) {
                    targets.push(target);
                }
            }
            oldest = match (oldest, arrived) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        };
        for work in batch {
            match work {
                Work::Queue(received) => {
                    self.metrics
                        .messages_received
                        .fetch_add(received.len() as u64, Ordering::Relaxed);
                    for message in received {
                        match self.targets(&message.id, &message.body) {
                            Ok(found) => {
                                add(found, message.sent_at_ms);
                                messages.push(message);
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
                        add(found, Some(received_at_ms));
                        replies.push(reply);
                    }
                    Err(reason) => {
                        self.metrics
                            .messages_set_aside
                            .fetch_add(1, Ordering::Relaxed);
                        log.line(
                            "warn",
                            "request set aside",
                            serde_json::json!({"reason": reason}),
                        );
                        let _ = reply.send((400, serde_json::json!({"error": reason}).to_string()));
                    }
                },
            }
        }
        let mut summary = serde_json::json!({"committed": true, "resources": targets.len()});
        if !targets.is_empty() {
            let started = Instant::now();
            match crate::scan_aws_cmd::refresh(
                self.global,
                &self.options(),
                &self.config.tags,
                Some(&targets),
            ) {
                Ok(runs) => {
                    self.notify_now();
                    let (opened, resolved) = self.count_findings(&runs);
                    self.metrics.refreshes.fetch_add(1, Ordering::Relaxed);
                    let spent = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
                    self.metrics
                        .refresh_milliseconds
                        .fetch_add(spent, Ordering::Relaxed);
                    if let Some(oldest) = oldest {
                        let now = chrono::Utc::now().timestamp_millis();
                        let lag = u64::try_from(now - oldest).unwrap_or(0);
                        self.metrics.lag_milliseconds.store(lag, Ordering::Relaxed);
                    }
                    summary["opened"] = opened.into();
                    summary["resolved"] = resolved.into();
                    log.line(
                        "info",
                        "refreshed",
                        serde_json::json!({
                            "messages": messages.len(), "requests": replies.len(),
                            "resources": targets.len(), "opened": opened, "resolved": resolved,
                        }),
                    );
                }
                Err(error) => {
                    self.metrics
                        .refresh_failures
                        .fetch_add(1, Ordering::Relaxed);
                    // Not deleted: the queue delivers them again; the
                    // endpoint's senders retry.
                    log.line(
                        "error",
                        "refresh failed",
                        serde_json::json!({"reason": format!("{error:#}")}),
                    );
                    for reply in replies {
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
        for reply in replies {
            let _ = reply.send((200, summary.to_string()));
        }
        if let Some(queue) = self.queue
            && !messages.is_empty()
        {
            let handled: Vec<&Message> = messages.iter().collect();
            if let Err(failure) = queue.delete(&handled) {
                log.line(
                    "error",
                    "cannot delete",
                    serde_json::json!({"reason": failure.to_string()}),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::Mac;

    fn sign(secret: &[u8], body: &[u8]) -> String {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("any key");
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn requests_prove_the_secret_by_itself_or_by_a_signature_of_the_body() {
        let body = br#"{"detail-type": "AWS API Call via CloudTrail"}"#;
        assert!(authentic(b"s3cret", Some("s3cret"), None, body));
        assert!(!authentic(b"s3cret", Some("s3cre"), None, body));
        assert!(!authentic(b"s3cret", Some(""), None, body));
        let signature = sign(b"s3cret", body);
        assert!(authentic(b"s3cret", None, Some(&signature), body));
        assert!(
            !authentic(b"s3cret", None, Some(&signature), b"{}"),
            "a signature of another body"
        );
        assert!(!authentic(b"other", None, Some(&signature), body));
        assert!(!authentic(b"s3cret", None, Some("sha256=zz"), body));
        assert!(!authentic(
            b"s3cret",
            None,
            Some(signature.trim_start_matches("sha256=")),
            body
        ));
        assert!(!authentic(b"s3cret", None, None, body));
    }

    #[test]
    fn accounts_are_resynced_spread_over_the_interval() {
        let start = Instant::now();
        let every = Duration::from_secs(300);
        let accounts: BTreeSet<String> = ["1", "2", "3"].map(String::from).into();
        let mut schedule = Schedule::new(every, accounts.clone(), start);
        assert_eq!(schedule.due(start), None);
        assert_eq!(
            schedule.due(start + Duration::from_secs(100)),
            Some(Some("1".into()))
        );
        schedule.ran(Some("1".into()), start + Duration::from_secs(100));
        assert_eq!(schedule.due(start + Duration::from_secs(150)), None);
        assert_eq!(
            schedule.due(start + Duration::from_secs(200)),
            Some(Some("2".into()))
        );
        // Each account once per interval.
        let at: Vec<Instant> = schedule.due.values().copied().collect();
        assert_eq!(
            at,
            [
                start + Duration::from_secs(400),
                start + Duration::from_secs(200),
                start + Duration::from_secs(300)
            ]
        );
        // A new account joins without moving the others.
        schedule.learn(
            ["1", "2", "3", "4"].map(String::from).into(),
            start + Duration::from_secs(100),
        );
        assert_eq!(
            schedule.due[&Some("4".into())],
            start + Duration::from_secs(400)
        );
        assert_eq!(
            schedule.due[&Some("2".into())],
            start + Duration::from_secs(200)
        );
    }

    #[test]
    fn before_any_account_is_known_one_whole_collection_stands_for_all() {
        let start = Instant::now();
        let every = Duration::from_secs(60);
        let mut schedule = Schedule::new(every, BTreeSet::new(), start);
        assert_eq!(schedule.due(start + every), Some(None));
        schedule.ran(None, start + every);
        schedule.learn(["9".to_owned()].into(), start + every);
        assert_eq!(
            schedule.due.keys().collect::<Vec<_>>(),
            [&Some("9".to_owned())]
        );
    }
}
