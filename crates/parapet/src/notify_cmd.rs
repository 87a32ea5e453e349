//! `parapet notify`: the outbox, sending what is due, a test message; and
//! the routes and notifier the other commands use when the configuration
//! has notification channels.

use crate::cli::{Format, GlobalArgs, NotifyCommand, OutboxStatusArg};
use crate::config::ConfigFile;
use crate::output::{Style, print_json};
use anyhow::{Context, Result};
use comfy_table::Cell;
use parapet_notify::{Notifier, Routes, RuleFacts};
use parapet_store::{OutboxStatus, Router};
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;

/// The configuration's notifier and routes, when it has channels: the
/// routes go into the recording policy of the stores that record.
pub fn setup(
    global: &GlobalArgs,
    config: &ConfigFile,
) -> Result<Option<(Notifier, Arc<dyn Router>)>> {
    let notify = &config.notifications;
    if notify.channels.is_empty() {
        return Ok(None);
    }
    let rules = crate::rules_cmd::load_rules(global).rules;
    let facts: BTreeMap<String, RuleFacts> = rules
        .iter()
        .map(|r| {
            let facts = RuleFacts {
                frameworks: r.frameworks.keys().cloned().collect(),
                tags: r.tags.iter().cloned().collect(),
            };
            (r.id.to_string(), facts)
        })
        .collect();
    let routes = Routes::new(notify, facts).context("the notification routes")?;
    let notifier = Notifier::new(notify).context("the notification channels")?;
    Ok(Some((notifier, Arc::new(routes))))
}

/// Sends what is due until nothing is, or only retries later remain.
pub fn deliver(global: &GlobalArgs, notifier: &Notifier) -> Result<parapet_notify::Delivery> {
    let mut store = crate::db::open(global)?;
    let mut total = parapet_notify::Delivery::default();
    // What is due now, batch after batch: those that fail wait for their
    // backoff, after this moment, so each is tried once and counted once.
    let now = chrono::Utc::now();
    loop {
        let done = notifier.deliver_due(store.as_mut(), now)?;
        total.delivered += done.delivered;
        total.retrying += done.retrying;
        total.failed += done.failed;
        if done.delivered + done.retrying + done.failed == 0 {
            return Ok(total);
        }
    }
}

/// Runs `parapet notify`.
pub fn run(
    global: &GlobalArgs,
    notifier: Option<&Notifier>,
    command: &NotifyCommand,
    style: Style,
) -> Result<ExitCode> {
    match command {
        NotifyCommand::Outbox {
            status,
            limit,
            format,
        } => {
            let status = status.map(|s| match s {
                OutboxStatusArg::Pending => OutboxStatus::Pending,
                OutboxStatusArg::Delivered => OutboxStatus::Delivered,
                OutboxStatusArg::Failed => OutboxStatus::Failed,
            });
            let outbox = crate::db::open(global)?.notifications(status, *limit)?;
            match format {
                Format::Json => print_json(&outbox)?,
                Format::Table => {
                    let mut table = style.table(&[
                        "id",
                        "created",
                        "channel",
                        "event",
                        "rule",
                        "asset",
                        "status",
                        "attempts",
                        "last error",
                    ]);
                    for n in &outbox {
                        table.add_row(vec![
                            Cell::new(n.id),
                            Cell::new(n.created_at.format("%Y-%m-%dT%H:%M:%SZ")),
                            Cell::new(&n.channel),
                            Cell::new(n.change.kind.as_str()),
                            Cell::new(&n.change.rule_id),
                            Cell::new(&n.change.asset_id),
                            Cell::new(n.status.as_str()),
                            Cell::new(n.attempts),
                            Cell::new(n.last_error.as_deref().unwrap_or("")),
                        ]);
                    }
                    out!("{table}");
                    out!("{} notification(s).", outbox.len());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        NotifyCommand::Send => {
            let notifier = notifier.context("the configuration has no notification channels")?;
            let started = std::time::Instant::now();
            let done = deliver(global, notifier)?;
            let seconds = started.elapsed().as_secs_f64();
            out!(
                "{} delivered, {} to try again later, {} failed for good.",
                done.delivered,
                done.retrying,
                done.failed
            );
            eprintln!(
                "{seconds:.2} s ({:.0} delivered a second){}",
                done.delivered as f64 / seconds.max(1e-9),
                crate::output::peak_memory_note(),
            );
            Ok(if done.failed > 0 {
                ExitCode::from(crate::output::EXIT_ERROR)
            } else {
                ExitCode::SUCCESS
            })
        }
        NotifyCommand::Test { channel } => {
            let notifier = notifier.context("the configuration has no notification channels")?;
            notifier.test(channel)?;
            out!("Sent a test message to {channel}.");
            Ok(ExitCode::SUCCESS)
        }
    }
}
