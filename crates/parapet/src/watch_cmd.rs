//! `parapet watch`: continuous mode. Reads CloudTrail events from an SQS
//! queue, describes again only the resources they changed (with what
//! depends on them), evaluates and records, then deletes the messages: a
//! message is deleted only once its result is committed, so a restart
//! reprocesses what was in flight. A message that is not an event is set
//! aside with the reason; SIGTERM and SIGINT stop it between batches.

use crate::cli::{GlobalArgs, LogFormat, WatchArgs};
use anyhow::{Context, Result};
use parapet_aws::AwsOptions;
use parapet_aws::queue::{Message, Queue};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// What the daemon has done, for `/metrics`.
#[derive(Default)]
struct Metrics {
    messages_received: AtomicU64,
    events_processed: AtomicU64,
    events_ignored: AtomicU64,
    messages_set_aside: AtomicU64,
    refreshes: AtomicU64,
    refresh_failures: AtomicU64,
    refresh_milliseconds: AtomicU64,
    findings_opened: AtomicU64,
    findings_resolved: AtomicU64,
    lag_milliseconds: AtomicU64,
    resyncs: AtomicU64,
}

impl Metrics {
    /// The Prometheus text exposition.
    fn render(&self) -> String {
        let counters: [(&str, &str, &AtomicU64); 11] = [
            (
                "parapet_watch_messages_received_total",
                "Messages received from the queue.",
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
                "Full collections.",
                &self.resyncs,
            ),
            (
                "parapet_watch_lag_milliseconds",
                "From the arrival in the queue of the oldest message of the last committed batch to its commit.",
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

/// Serves `/health` and `/metrics` on `address`, on a thread of its own.
fn serve(address: &str, metrics: Arc<Metrics>) -> Result<()> {
    let server = tiny_http::Server::http(address)
        .map_err(|e| anyhow::anyhow!("cannot listen on {address}: {e}"))?;
    std::thread::spawn(move || {
        for request in server.incoming_requests() {
            let (status, body, kind) = match request.url() {
                "/health" => (200, "ok\n".to_owned(), "text/plain"),
                "/metrics" => (200, metrics.render(), "text/plain; version=0.0.4"),
                _ => (404, "not found\n".to_owned(), "text/plain"),
            };
            let header = tiny_http::Header::from_bytes(&b"Content-Type"[..], kind.as_bytes())
                .expect("a valid header");
            let response = tiny_http::Response::from_string(body)
                .with_status_code(status)
                .with_header(header);
            let _ = request.respond(response);
        }
    });
    Ok(())
}

/// Writes one log line to standard error.
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

/// Runs `parapet watch` until SIGTERM or SIGINT.
pub fn run(global: &GlobalArgs, args: &WatchArgs) -> Result<ExitCode> {
    let log = Log(args.log_format);
    let config = crate::config::load(global)?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("cannot listen for signals")?;
    }
    let queue = Queue::connect(
        &args.queue_url,
        args.queue_region.as_deref(),
        args.profile.as_deref(),
        args.endpoint_url.as_deref(),
    )
    .with_context(|| format!("cannot reach the queue {}", args.queue_url))?;
    let metrics = Arc::new(Metrics::default());
    if let Some(address) = &args.listen {
        serve(address, Arc::clone(&metrics))?;
    }
    log.line(
        "info",
        "watching",
        serde_json::json!({"queue": args.queue_url, "listen": args.listen}),
    );
    let mut last_resync = std::time::Instant::now();
    while !stop.load(Ordering::Relaxed) {
        if let Some(every) = args.resync
            && last_resync.elapsed() >= every
        {
            resync(global, args, &config, &log, &metrics);
            last_resync = std::time::Instant::now();
        }
        let messages = match queue.receive(args.wait) {
            Ok(messages) => messages,
            Err(failure) => {
                log.line(
                    "error",
                    "cannot receive",
                    serde_json::json!({"reason": failure.to_string()}),
                );
                std::thread::sleep(std::time::Duration::from_secs(1));
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        if !args.delay.is_zero() {
            std::thread::sleep(args.delay);
        }
        metrics
            .messages_received
            .fetch_add(messages.len() as u64, Ordering::Relaxed);
        handle(global, args, &config, &queue, &log, &metrics, &messages);
    }
    log.line("info", "stopped", serde_json::json!({}));
    Ok(ExitCode::SUCCESS)
}

/// Collects everything the configuration names: what events missed.
fn resync(
    global: &GlobalArgs,
    args: &WatchArgs,
    config: &crate::config::ConfigFile,
    log: &Log,
    metrics: &Metrics,
) {
    let started = std::time::Instant::now();
    match crate::scan_aws_cmd::refresh(global, &aws_options(args, config), &config.tags, None) {
        Ok(runs) => {
            metrics.resyncs.fetch_add(1, Ordering::Relaxed);
            count_findings(metrics, &runs);
            log.line(
                "info",
                "resynced",
                serde_json::json!({"accounts": runs.len(), "seconds": started.elapsed().as_secs_f64()}),
            );
        }
        Err(error) => log.line(
            "error",
            "resync failed",
            serde_json::json!({"reason": format!("{error:#}")}),
        ),
    }
}

/// The collection options of the daemon: the configuration's estate.
fn aws_options(args: &WatchArgs, config: &crate::config::ConfigFile) -> AwsOptions {
    AwsOptions {
        profile: args.profile.clone(),
        role: None,
        regions: config.aws.regions.clone(),
        resource_types: None,
        endpoint_url: args.endpoint_url.clone(),
        accounts: config.aws.accounts.clone(),
        organization_role: config.aws.organization_role.clone(),
        concurrency: parapet_aws::options::DEFAULT_CONCURRENCY,
        keys: Default::default(),
        only_accounts: None,
    }
}

/// Findings opened (or reopened) and resolved by `runs`, counted.
fn count_findings(metrics: &Metrics, runs: &[parapet_core::ScanRun]) -> (u64, u64) {
    let opened: u64 = runs
        .iter()
        .map(|r| r.counts.opened + r.counts.reopened)
        .sum();
    let resolved: u64 = runs.iter().map(|r| r.counts.resolved).sum();
    metrics.findings_opened.fetch_add(opened, Ordering::Relaxed);
    metrics
        .findings_resolved
        .fetch_add(resolved, Ordering::Relaxed);
    (opened, resolved)
}

/// Handles one batch: what its events changed is described again once.
fn handle(
    global: &GlobalArgs,
    args: &WatchArgs,
    config: &crate::config::ConfigFile,
    queue: &Queue,
    log: &Log,
    metrics: &Metrics,
    messages: &[Message],
) {
    let mut targets = Vec::new();
    let mut handled: Vec<&Message> = Vec::new();
    let mut rejected: Vec<(&Message, String)> = Vec::new();
    for message in messages {
        let found = serde_json::from_str::<serde_json::Value>(&message.body)
            .map_err(|e| format!("not JSON: {e}"))
            .and_then(|body| crate::scan_aws_cmd::targets_of(&body));
        match found {
            Ok((found, notes)) => {
                for note in notes {
                    log.line(
                        "info",
                        "event",
                        serde_json::json!({"id": message.id, "event": note}),
                    );
                }
                if found.is_empty() {
                    metrics.events_ignored.fetch_add(1, Ordering::Relaxed);
                } else {
                    metrics.events_processed.fetch_add(1, Ordering::Relaxed);
                }
                // A burst's repeated changes to one resource are described once.
                for target in found {
                    if !targets.contains(&target) {
                        targets.push(target);
                    }
                }
                handled.push(message);
            }
            Err(reason) => rejected.push((message, reason)),
        }
    }
    metrics
        .messages_set_aside
        .fetch_add(rejected.len() as u64, Ordering::Relaxed);
    for (message, reason) in &rejected {
        log.line(
            "warn",
            "message set aside",
            serde_json::json!({"id": message.id, "reason": reason}),
        );
        let kept = match &args.dead_letter_queue_url {
            Some(url) => queue.send_to(url, &message.body).map_err(|e| e.to_string()),
            None => Ok(()),
        };
        match kept.and_then(|()| queue.delete(&[*message]).map_err(|e| e.to_string())) {
            Ok(()) => {}
            Err(reason) => log.line(
                "error",
                "cannot set aside",
                serde_json::json!({"id": message.id, "reason": reason}),
            ),
        }
    }
    if !targets.is_empty() {
        let options = aws_options(args, config);
        let started = std::time::Instant::now();
        match crate::scan_aws_cmd::refresh(global, &options, &config.tags, Some(&targets)) {
            Ok(runs) => {
                let (opened, resolved) = count_findings(metrics, &runs);
                metrics.refreshes.fetch_add(1, Ordering::Relaxed);
                let spent = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
                metrics
                    .refresh_milliseconds
                    .fetch_add(spent, Ordering::Relaxed);
                let now = chrono::Utc::now().timestamp_millis();
                if let Some(oldest) = handled.iter().filter_map(|m| m.sent_at_ms).min() {
                    let lag = u64::try_from(now - oldest).unwrap_or(0);
                    metrics.lag_milliseconds.store(lag, Ordering::Relaxed);
                }
                log.line(
                    "info",
                    "refreshed",
                    serde_json::json!({
                        "messages": handled.len(), "resources": targets.len(),
                        "opened": opened, "resolved": resolved,
                    }),
                );
            }
            Err(error) => {
                metrics.refresh_failures.fetch_add(1, Ordering::Relaxed);
                // Not deleted: the queue delivers them again.
                log.line(
                    "error",
                    "refresh failed",
                    serde_json::json!({"reason": format!("{error:#}")}),
                );
                return;
            }
        }
    }
    if let Err(failure) = queue.delete(&handled) {
        log.line(
            "error",
            "cannot delete",
            serde_json::json!({"reason": failure.to_string()}),
        );
    }
}
