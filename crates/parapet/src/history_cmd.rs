//! `parapet assets list|history|diff|show`, `parapet events`, `parapet scans` and `parapet prune`.

use crate::cli::{AssetsCommand, AssetsListArgs, EventsArgs, Format, GlobalArgs, ListFormat};
use crate::output::{Style, print_json, time};
use anyhow::{Context, Result, bail};
use comfy_table::Cell;
use parapet_core::EventKind;
use parapet_core::diff::diff;
use parapet_store::{AssetQuery, AssetSummary, EventQuery};
use std::process::ExitCode;

/// Runs a `parapet assets` command.
pub fn run_assets(global: &GlobalArgs, command: &AssetsCommand, style: Style) -> Result<ExitCode> {
    let store = crate::db::open(global)?;
    match command {
        AssetsCommand::List(args) => list_assets(store.as_ref(), args, style)?,
        AssetsCommand::History { id, format } => {
            let history = store.asset_history(id)?;
            if history.is_empty() {
                bail!("no asset `{id}` in {}", store.database());
            }
            match format {
                Format::Json => print_json(&history)?,
                Format::Table => {
                    let mut table =
                        style.table(&["version", "observed", "content hash", "deleted"]);
                    for v in &history {
                        table.add_row(vec![
                            Cell::new(v.version),
                            Cell::new(time(v.observed_at)),
                            Cell::new(&v.content_hash.to_string()[..16]),
                            Cell::new(v.deleted_at.map(time).unwrap_or_default()),
                        ]);
                    }
                    out!("{table}");
                }
            }
        }
        AssetsCommand::Diff {
            id,
            from,
            to,
            format,
        } => {
            let history = store.asset_history(id)?;
            if history.is_empty() {
                bail!("no asset `{id}` in {}", store.database());
            }
            let newest = history.len() as i64;
            let to = to.unwrap_or(newest);
            let from = from.unwrap_or(to - 1);
            let pick = |v: i64| {
                history.iter().find(|h| h.version == v).ok_or_else(|| {
                    anyhow::anyhow!("asset `{id}` has no version {v} (versions 1 to {newest})")
                })
            };
            if from < 1 {
                bail!("asset `{id}` has only one version: nothing to compare");
            }
            let (old, new) = (pick(from)?, pick(to)?);
            let changes = diff(&old.asset.content_document(), &new.asset.content_document());
            match format {
                Format::Json => print_json(&changes)?,
                Format::Table => {
                    out!(
                        "{id}: version {from} ({}) to version {to} ({})",
                        time(old.observed_at),
                        time(new.observed_at)
                    );
                    let mut table = style.table(&["change", "path", "before", "after"]);
                    for c in &changes {
                        let show = |v: &Option<serde_json::Value>| {
                            v.as_ref().map(|v| v.to_string()).unwrap_or_default()
                        };
                        table.add_row(vec![
                            Cell::new(c.kind.as_str()),
                            Cell::new(&c.path),
                            Cell::new(show(&c.old)),
                            Cell::new(show(&c.new)),
                        ]);
                    }
                    out!("{table}");
                    out!("{} fields changed", changes.len());
                }
            }
        }
        AssetsCommand::Show { id, at } => {
            let Some(version) = store.asset_at(id, at.map(|w| w.0))? else {
                match at {
                    Some(at) => bail!("asset `{id}` did not exist at {}", time(at.0)),
                    None => bail!("no asset `{id}` in {}", store.database()),
                }
            };
            print_json(&version)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// How many assets a page of `parapet assets list` reads at a time.
const PAGE: usize = 500;

/// `parapet assets list`: pages through the inventory in id order, so that
/// a listing of any size is written as it is read.
fn list_assets(
    store: &dyn parapet_store::Store,
    args: &AssetsListArgs,
    style: Style,
) -> Result<()> {
    let tag = args.tag.as_deref().map(AssetQuery::tag_filter);
    let mut query = AssetQuery {
        provider: args.provider.clone(),
        account: args.account.clone(),
        region: args.region.clone(),
        resource_type: args.resource_type.clone(),
        tag,
        text: args.text.clone(),
        include_deleted: args.include_deleted,
        after: None,
        limit: PAGE,
    };
    let mut left = args.limit.unwrap_or(usize::MAX);
    let mut listed: Vec<AssetSummary> = Vec::new();
    let mut out = std::io::stdout().lock();
    while left > 0 {
        query.limit = PAGE.min(left);
        let page = store.assets(&query)?;
        let Some(last) = page.last() else { break };
        query.after = Some(last.id.clone());
        left -= page.len();
        let full = page.len() == query.limit;
        if args.format == ListFormat::Jsonl {
            for summary in &page {
                // Listed assets have a version: a race with a deletion of
                // history is the only way not to find it.
                if let Some(version) = store.asset_at(&summary.id, None)? {
                    parapet_core::jsonl::write_assets(&mut out, [&version.asset])?;
                }
            }
        } else {
            listed.extend(page);
        }
        if !full {
            break;
        }
    }
    drop(out);
    match args.format {
        ListFormat::Jsonl => {}
        ListFormat::Json => print_json(&listed)?,
        ListFormat::Table => {
            let mut header = vec!["id", "type", "account", "region", "name", "open findings"];
            if args.include_deleted {
                header.push("deleted");
            }
            let mut table = style.table(&header);
            for a in &listed {
                let mut row = vec![
                    Cell::new(&a.id),
                    Cell::new(&a.resource_type),
                    Cell::new(&a.account),
                    Cell::new(&a.region),
                    Cell::new(&a.name),
                    Cell::new(a.open_findings),
                ];
                if args.include_deleted {
                    row.push(Cell::new(a.deleted_at.map(time).unwrap_or_default()));
                }
                table.add_row(row);
            }
            out!("{table}");
            out!("{} asset(s).", listed.len());
        }
    }
    Ok(())
}

/// Runs `parapet events`.
pub fn run_events(global: &GlobalArgs, args: &EventsArgs, style: Style) -> Result<ExitCode> {
    let store = crate::db::open(global)?;
    let kinds = args
        .kind
        .iter()
        .map(|k| {
            parapet_core::parse_name::<EventKind>(k).ok_or_else(|| {
                anyhow::anyhow!("`{k}` is not an event kind (see `parapet events --help`)")
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let events = store.events(&EventQuery {
        asset_id: args.subject.asset.clone(),
        account: args.subject.account.clone(),
        rule_id: args.subject.rule.clone(),
        kinds,
        since: args.since.map(|w| w.0),
        until: args.until.map(|w| w.0),
        before_id: args.before,
        after_id: None,
        limit: args.limit,
    })?;
    match args.format {
        Format::Json => print_json(&events)?,
        Format::Table => {
            let mut table = style.table(&["id", "at", "kind", "asset", "rule", "detail"]);
            for e in &events {
                table.add_row(vec![
                    Cell::new(e.id),
                    Cell::new(time(e.event.at)),
                    Cell::new(e.event.kind.as_str()),
                    Cell::new(&e.event.asset_id),
                    Cell::new(e.event.rule_id.clone().unwrap_or_default()),
                    Cell::new(e.event.detail.to_string()),
                ]);
            }
            out!("{table}");
            out!("{} events", events.len());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `parapet scans`.
pub fn run_scans(
    global: &GlobalArgs,
    limit: usize,
    format: Format,
    style: Style,
) -> Result<ExitCode> {
    let store = crate::db::open(global)?;
    let scans = store.scans(limit)?;
    match format {
        Format::Json => print_json(&scans)?,
        Format::Table => {
            let mut table = style.table(&[
                "id",
                "started",
                "status",
                "source",
                "accounts",
                "assets",
                "created",
                "changed",
                "deleted",
                "worked out",
                "kept",
                "opened",
                "resolved",
                "errors",
            ]);
            for s in &scans {
                table.add_row(vec![
                    Cell::new(s.id),
                    Cell::new(time(s.started_at)),
                    Cell::new(s.status.as_str()),
                    Cell::new(&s.source),
                    Cell::new(s.scope.accounts.join(", ")),
                    Cell::new(s.counts.assets),
                    Cell::new(s.counts.created),
                    Cell::new(s.counts.changed),
                    Cell::new(s.counts.deleted),
                    Cell::new(s.counts.evaluations),
                    Cell::new(s.counts.kept),
                    Cell::new(s.counts.opened + s.counts.reopened),
                    Cell::new(s.counts.resolved),
                    Cell::new(s.errors.len()),
                ]);
            }
            out!("{table}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `parapet prune`.
pub fn run_prune(
    global: &GlobalArgs,
    older_than: Option<std::time::Duration>,
    retention: Option<std::time::Duration>,
    format: Format,
    style: Style,
) -> Result<ExitCode> {
    let Some(age) = older_than.or(retention) else {
        anyhow::bail!(
            "say how old is too old: --older-than 400d, or `retention` in the configuration"
        );
    };
    let before = chrono::Utc::now()
        - chrono::Duration::from_std(age).context("the retention period is too long")?;
    let mut store = crate::db::open(global)?;
    let started = std::time::Instant::now();
    let pruned = store.prune(before)?;
    if format == Format::Json {
        out!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "before": before,
                "rows": pruned.rows,
                "seconds": started.elapsed().as_secs_f64(),
            }))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = style.table(&["table", "rows removed"]);
    for (name, rows) in &pruned.rows {
        table.add_row(vec![Cell::new(name), Cell::new(rows)]);
    }
    out!(
        "Removed {} rows of history older than {} in {:.1} s.",
        pruned.total(),
        before.format("%Y-%m-%d %H:%M UTC"),
        started.elapsed().as_secs_f64()
    );
    out!("{table}");
    Ok(ExitCode::SUCCESS)
}
