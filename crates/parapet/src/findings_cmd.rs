//! `parapet findings list|show|mute|unmute|mutes`.

use crate::cli::{
    FindingsCommand, FindingsListArgs, Format, GlobalArgs, MuteArgs, StatusFilter, When,
};
use crate::output::{Style, print_json, time};
use anyhow::{Context, Result, bail};
use chrono::Utc;
use comfy_table::Cell;
use parapet_core::{FindingStatus, MuteSelector};
use parapet_store::{FindingCursor, FindingQuery};
use std::process::ExitCode;

/// Runs a `parapet findings` command.
pub fn run(global: &GlobalArgs, command: &FindingsCommand, style: Style) -> Result<ExitCode> {
    let mut store = crate::db::open(global)?;
    // Mutes whose time is up end before anything is shown.
    store.expire_mutes(Utc::now())?;
    match command {
        FindingsCommand::List(args) => list(store.as_ref(), args, style)?,
        FindingsCommand::Show {
            rule,
            asset,
            format,
        } => {
            let Some(finding) = store.finding(rule, asset)? else {
                bail!("rule `{rule}` has not been evaluated on `{asset}`");
            };
            match format {
                Format::Json => print_json(&finding)?,
                Format::Table => {
                    let mut table = style.table(&["field", "value"]);
                    let rows: Vec<(&str, Cell)> = vec![
                        ("rule", Cell::new(&finding.rule_id)),
                        ("asset", Cell::new(&finding.asset_id)),
                        (
                            "account / region",
                            Cell::new(format!("{} / {}", finding.account, finding.region)),
                        ),
                        ("severity", style.severity(finding.severity)),
                        (
                            "status",
                            Cell::new(finding.status.map_or("never failed", FindingStatus::as_str)),
                        ),
                        ("latest result", style.status(finding.result)),
                        ("message", Cell::new(&finding.message)),
                        (
                            "first seen",
                            Cell::new(finding.first_seen.map(time).unwrap_or_default()),
                        ),
                        ("last seen", Cell::new(time(finding.last_seen))),
                        (
                            "resolved at",
                            Cell::new(finding.resolved_at.map(time).unwrap_or_default()),
                        ),
                        (
                            "muted by",
                            Cell::new(
                                finding
                                    .muted_by
                                    .map(|m| format!("mute {m}"))
                                    .unwrap_or_default(),
                            ),
                        ),
                        (
                            "evidence",
                            Cell::new(
                                finding
                                    .evidence
                                    .iter()
                                    .map(|(k, v)| format!("{k} = {v}"))
                                    .collect::<Vec<_>>()
                                    .join("\n"),
                            ),
                        ),
                    ];
                    for (name, value) in rows {
                        table.add_row(vec![Cell::new(name), value]);
                    }
                    out!("{table}");
                }
            }
        }
        FindingsCommand::Mute(args) => mute(store.as_mut(), args)?,
        FindingsCommand::Unmute { id } => {
            let mute = store.lift_mute(*id, Utc::now())?;
            out!("lifted mute {} ({})", mute.id, mute.reason);
        }
        FindingsCommand::Mutes { all, format } => {
            let mutes = store.mutes(*all)?;
            match format {
                Format::Json => print_json(&mutes)?,
                Format::Table => {
                    let mut table = style.table(&[
                        "id", "selector", "reason", "author", "created", "expires", "ended",
                    ]);
                    for m in &mutes {
                        table.add_row(vec![
                            Cell::new(m.id),
                            Cell::new(serde_json::to_string(&m.selector).unwrap_or_default()),
                            Cell::new(&m.reason),
                            Cell::new(&m.author),
                            Cell::new(time(m.created_at)),
                            Cell::new(m.expires_at.map(time).unwrap_or_default()),
                            Cell::new(m.lifted_at.map(time).unwrap_or_default()),
                        ]);
                    }
                    out!("{table}");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn list(store: &dyn parapet_store::Store, args: &FindingsListArgs, style: Style) -> Result<()> {
    let statuses = if args.status.is_empty() {
        vec![FindingStatus::Open, FindingStatus::Reopened]
    } else {
        args.status
            .iter()
            .map(|s| match s {
                StatusFilter::Open => FindingStatus::Open,
                StatusFilter::Reopened => FindingStatus::Reopened,
                StatusFilter::Resolved => FindingStatus::Resolved,
            })
            .collect()
    };
    let findings = store.findings(&FindingQuery {
        statuses,
        min_severity: args.severity,
        rule_ids: args.subject.rule.iter().cloned().collect(),
        asset_id: args.subject.asset.clone(),
        account: args.subject.account.clone(),
        include_muted: args.include_muted,
        limit: args.limit,
        offset: args.offset,
        after: args.after.as_deref().map(parse_cursor).transpose()?,
        ..FindingQuery::default()
    })?;
    match args.format {
        Format::Json => print_json(&findings)?,
        Format::Table => {
            let mut table = style.table(&[
                "severity",
                "status",
                "rule",
                "asset",
                "first seen",
                "last seen",
                "muted",
            ]);
            for f in &findings {
                table.add_row(vec![
                    style.severity(f.severity),
                    Cell::new(f.status.map_or("", FindingStatus::as_str)),
                    Cell::new(&f.rule_id),
                    Cell::new(&f.asset_id),
                    Cell::new(f.first_seen.map(time).unwrap_or_default()),
                    Cell::new(time(f.last_seen)),
                    Cell::new(f.muted_by.map(|m| format!("mute {m}")).unwrap_or_default()),
                ]);
            }
            out!("{table}");
            match findings.last() {
                Some(last) if findings.len() == args.limit => {
                    let c = FindingCursor::after(last);
                    out!(
                        "{} findings; next page: --after '{}/{}/{}'",
                        findings.len(),
                        c.severity,
                        c.rule_id,
                        c.asset_id
                    );
                }
                _ => out!("{} findings", findings.len()),
            }
        }
    }
    Ok(())
}

/// Reads a cursor written as SEVERITY/RULE/ASSET (the asset may contain `/`).
fn parse_cursor(text: &str) -> Result<FindingCursor> {
    let mut parts = text.splitn(3, '/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(severity), Some(rule), Some(asset)) if !rule.is_empty() && !asset.is_empty() => {
            Ok(FindingCursor {
                severity: severity.parse()?,
                rule_id: rule.to_owned(),
                asset_id: asset.to_owned(),
            })
        }
        _ => bail!("--after `{text}` is not SEVERITY/RULE/ASSET"),
    }
}

fn mute(store: &mut dyn parapet_store::Store, args: &MuteArgs) -> Result<()> {
    let tag = args
        .tag
        .as_ref()
        .map(|t| {
            t.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .with_context(|| format!("--tag `{t}` is not KEY=VALUE"))
        })
        .transpose()?;
    let selector = MuteSelector {
        rule_id: args.subject.rule.clone(),
        asset: args.subject.asset.clone(),
        account: args.subject.account.clone(),
        region: args.region.clone(),
        tag,
    };
    let now = Utc::now();
    let expires_at = args
        .expires
        .as_ref()
        .map(|text| -> Result<_> {
            if let Ok(duration) = humantime::parse_duration(text) {
                return Ok(now + chrono::Duration::from_std(duration)?);
            }
            let when: When = text.parse().map_err(anyhow::Error::msg)?;
            Ok(when.0)
        })
        .transpose()?;
    let author = args
        .author
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "unknown".to_owned());
    let (mute, muted) = store.add_mute(&selector, &args.reason, &author, expires_at, now)?;
    out!("mute {} added: {muted} findings muted", mute.id);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use parapet_core::Severity;

    #[test]
    fn cursors_keep_slashes_in_the_asset() {
        let c = parse_cursor("high/aws-ec2-security-group-no-ssh-from-internet/arn:aws:ec2:eu-west-1:1:security-group/sg-1")
            .expect("cursor");
        assert_eq!(c.severity, Severity::High);
        assert_eq!(c.rule_id, "aws-ec2-security-group-no-ssh-from-internet");
        assert_eq!(c.asset_id, "arn:aws:ec2:eu-west-1:1:security-group/sg-1");
        assert!(parse_cursor("high/rule").is_err());
        assert!(parse_cursor("severe/rule/asset").is_err());
    }
}
