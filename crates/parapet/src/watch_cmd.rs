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
use std::collections::BTreeSet;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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
    log.line(
        "info",
        "watching",
        serde_json::json!({"queue": args.queue_url}),
    );
    while !stop.load(Ordering::Relaxed) {
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
        handle(global, args, &config, &queue, &log, &messages);
    }
    log.line("info", "stopped", serde_json::json!({}));
    Ok(ExitCode::SUCCESS)
}

/// Handles one batch: what its events changed is described again once.
fn handle(
    global: &GlobalArgs,
    args: &WatchArgs,
    config: &crate::config::ConfigFile,
    queue: &Queue,
    log: &Log,
    messages: &[Message],
) {
    let mut regions = BTreeSet::new();
    let mut types = BTreeSet::new();
    let mut handled: Vec<&Message> = Vec::new();
    let mut rejected: Vec<(&Message, String)> = Vec::new();
    for message in messages {
        let scope = serde_json::from_str::<serde_json::Value>(&message.body)
            .map_err(|e| format!("not JSON: {e}"))
            .and_then(|body| crate::scan_aws_cmd::scope_of(&body));
        match scope {
            Ok((found, notes)) => {
                for note in notes {
                    log.line(
                        "info",
                        "event",
                        serde_json::json!({"id": message.id, "event": note}),
                    );
                }
                if let Some((r, t)) = found {
                    regions.extend(r);
                    types.extend(t);
                }
                handled.push(message);
            }
            Err(reason) => rejected.push((message, reason)),
        }
    }
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
    if !types.is_empty() {
        let options = AwsOptions {
            profile: args.profile.clone(),
            role: None,
            regions: Some(regions.iter().cloned().collect()),
            resource_types: Some(types.iter().cloned().collect()),
            endpoint_url: args.endpoint_url.clone(),
            accounts: config.aws.accounts.clone(),
            organization_role: config.aws.organization_role.clone(),
            concurrency: parapet_aws::options::DEFAULT_CONCURRENCY,
        };
        match crate::scan_aws_cmd::refresh(global, &options, &config.tags) {
            Ok(runs) => {
                let opened: u64 = runs
                    .iter()
                    .map(|r| r.counts.opened + r.counts.reopened)
                    .sum();
                let resolved: u64 = runs.iter().map(|r| r.counts.resolved).sum();
                log.line(
                    "info",
                    "refreshed",
                    serde_json::json!({
                        "messages": handled.len(), "regions": regions, "types": types,
                        "opened": opened, "resolved": resolved,
                    }),
                );
            }
            Err(error) => {
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
