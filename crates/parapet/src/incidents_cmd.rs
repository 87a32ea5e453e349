//! `parapet incidents`: list, show, acknowledge and resolve the incidents
//! that findings are grouped into (with an `[incidents]` configuration).

use crate::cli::{Format, GlobalArgs, IncidentStatusArg, IncidentsCommand};
use crate::output::{Style, print_json};
use anyhow::Result;
use comfy_table::Cell;
use parapet_store::{Incident, IncidentStatus, Policy};
use std::process::ExitCode;

fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn table(incidents: &[Incident], style: Style) -> comfy_table::Table {
    let mut table = style.table(&[
        "id", "status", "severity", "title", "findings", "open", "owner", "opened",
    ]);
    for i in incidents {
        table.add_row(vec![
            Cell::new(i.id),
            Cell::new(i.status.as_str()),
            Cell::new(i.severity.as_str()),
            Cell::new(&i.title),
            Cell::new(i.findings.len()),
            Cell::new(i.open_findings),
            Cell::new(i.owner.as_deref().unwrap_or("")),
            Cell::new(when(i.opened_at)),
        ]);
    }
    table
}

/// Runs `parapet incidents`.
pub fn run(
    global: &GlobalArgs,
    policy: &Policy,
    command: &IncidentsCommand,
    style: Style,
) -> Result<ExitCode> {
    let mut store = crate::db::open_with(global, policy)?;
    let now = chrono::Utc::now();
    match command {
        IncidentsCommand::List {
            status,
            limit,
            format,
        } => {
            let status = status.map(|s| match s {
                IncidentStatusArg::Open => IncidentStatus::Open,
                IncidentStatusArg::Acknowledged => IncidentStatus::Acknowledged,
                IncidentStatusArg::Resolved => IncidentStatus::Resolved,
            });
            let incidents = store.incidents(status, None, *limit)?;
            match format {
                Format::Json => print_json(&incidents)?,
                Format::Table => {
                    out!("{}", table(&incidents, style));
                    out!("{} incident(s).", incidents.len());
                }
            }
        }
        IncidentsCommand::Show { id, format } => {
            let Some((incident, events)) = store.incident(*id)? else {
                anyhow::bail!("no incident {id}");
            };
            match format {
                Format::Json => print_json(&serde_json::json!({
                    "incident": incident, "timeline": events,
                }))?,
                Format::Table => {
                    out!("{}", table(std::slice::from_ref(&incident), style));
                    let mut findings = style.table(&["rule", "asset"]);
                    for (rule, asset) in &incident.findings {
                        findings.add_row(vec![Cell::new(rule), Cell::new(asset)]);
                    }
                    out!("{findings}");
                    let mut timeline = style.table(&["at", "event", "detail"]);
                    for e in &events {
                        timeline.add_row(vec![
                            Cell::new(when(e.at)),
                            Cell::new(&e.kind),
                            Cell::new(e.detail.to_string()),
                        ]);
                    }
                    out!("{timeline}");
                }
            }
        }
        IncidentsCommand::Ack { id, owner } => {
            let owner = owner
                .clone()
                .or_else(|| std::env::var("USER").ok())
                .unwrap_or_else(|| "someone".to_owned());
            let incident = store.acknowledge_incident(*id, &owner, now)?;
            out!("Incident {} acknowledged by {owner}.", incident.id);
        }
        IncidentsCommand::Resolve { id } => {
            let who = std::env::var("USER").unwrap_or_else(|_| "someone".to_owned());
            let incident = store.resolve_incident(*id, &who, now)?;
            out!("Incident {} resolved.", incident.id);
        }
    }
    Ok(ExitCode::SUCCESS)
}
