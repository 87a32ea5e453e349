//! `parapet exposure` and `parapet graph`: what the internet reaches of the
//! current estate in the database, the path that explains each exposure,
//! and the topology drawn.

use crate::cli::{ExposureArgs, Format, GlobalArgs, GraphArgs, GraphFormat};
use crate::output::{Style, print_json};
use anyhow::{Context, Result, bail};
use comfy_table::Cell;
use parapet_graph::{Exposure, Topology, exposures};
use std::process::ExitCode;

/// Runs `parapet exposure`.
pub fn run(global: &GlobalArgs, args: &ExposureArgs, style: Style) -> Result<ExitCode> {
    let store = crate::db::open(global)?;
    let assets = store.current_assets(args.account.as_deref())?;
    let topology = Topology::build(&assets);
    let mut found = exposures(&topology);
    let mut public = parapet_graph::public_by_policy(&assets);
    if let Some(wanted) = &args.asset {
        let ids = named(&assets, wanted);
        if ids.is_empty() {
            bail!("no asset `{wanted}` in {}", store.database());
        }
        found.retain(|e| ids.contains(&e.asset_id.as_str()));
        public.retain(|p| ids.contains(&p.asset_id.as_str()));
    }
    match args.format {
        Format::Json => print_json(&serde_json::json!({
            "network": found,
            "public_by_policy": public,
        }))?,
        Format::Table => match &args.asset {
            Some(asset) => explain(&found, &public, asset)?,
            None => {
                list(&found, &assets, style)?;
                list_public(&public, style)?;
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}

/// One line per grant that opens a resource to everyone.
fn list_public(public: &[parapet_graph::PublicAccess], style: Style) -> Result<()> {
    out!("{} grants open resources to everyone.", public.len());
    if public.is_empty() {
        return Ok(());
    }
    let mut table = style.table(&["asset", "type", "grant", "statement"]);
    for p in public {
        table.add_row(vec![
            Cell::new(format!("{}\n{}", p.name, p.asset_id)),
            Cell::new(&p.resource_type),
            Cell::new(p.grant),
            Cell::new(p.statement.to_string()),
        ]);
    }
    out!("{table}");
    Ok(())
}

/// The ids of the assets `wanted` names: an id, the end of one (an instance
/// id), or a name.
fn named<'a>(assets: &'a [parapet_core::Asset], wanted: &str) -> Vec<&'a str> {
    assets
        .iter()
        .filter(|a| {
            a.id == wanted
                || a.id.ends_with(&format!("/{wanted}"))
                || a.id.ends_with(&format!(":{wanted}"))
                || a.name == wanted
        })
        .map(|a| a.id.as_str())
        .collect()
}

/// Runs `parapet graph`.
pub fn run_graph(global: &GlobalArgs, args: &GraphArgs) -> Result<ExitCode> {
    let store = crate::db::open(global)?;
    let assets = store.current_assets(args.account.as_deref())?;
    let topology = Topology::build(&assets);
    let found = exposures(&topology);
    let filter = parapet_graph::Filter {
        account: args.account.clone(),
        region: args.region.clone(),
        vpc: args.vpc.clone(),
    };
    let graph = parapet_graph::graph(&topology, &assets, &found, &filter);
    let path = match &args.path {
        Some(wanted) => {
            let ids = named(&assets, wanted);
            if ids.is_empty() {
                bail!("no asset `{wanted}` in {}", store.database());
            }
            let exposure = found.iter().find(|e| ids.contains(&e.asset_id.as_str()));
            if exposure.is_none() {
                bail!("`{wanted}` is not reachable from the internet: no path to draw");
            }
            exposure
        }
        None => None,
    };
    let text = match args.format {
        GraphFormat::Json => {
            let shown: Vec<&parapet_graph::Exposure> = found
                .iter()
                .filter(|e| graph.nodes.iter().any(|n| n.id == e.asset_id))
                .collect();
            serde_json::to_string_pretty(&serde_json::json!({
                "nodes": graph.nodes,
                "edges": graph.edges,
                "exposures": shown,
            }))?
        }
        GraphFormat::Dot => parapet_graph::to_dot(&graph, path),
        GraphFormat::Svg => svg(&parapet_graph::to_dot(&graph, path))?,
    };
    match &args.output {
        Some(file) => std::fs::write(file, text)
            .with_context(|| format!("cannot write {}", file.display()))?,
        None => out!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// DOT drawn as SVG: by Graphviz's `dot` when it is on the path, else by
/// Parapet's own layout.
fn svg(dot: &str) -> Result<String> {
    use std::io::Write as _;
    let graphviz = std::process::Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn();
    if let Ok(mut child) = graphviz {
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(dot.as_bytes())?;
        }
        let output = child.wait_with_output()?;
        if output.status.success() {
            return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
        }
    }
    parapet_graph::to_svg(dot).map_err(|e| anyhow::anyhow!("cannot draw the graph: {e}"))
}

/// One line per exposed asset: its ports, sources and what is in front.
fn list(found: &[Exposure], assets: &[parapet_core::Asset], style: Style) -> Result<()> {
    let mut by_asset: std::collections::BTreeMap<&str, Vec<&Exposure>> = Default::default();
    for e in found {
        by_asset.entry(&e.asset_id).or_default().push(e);
    }
    let mut table = style.table(&["asset", "type", "ports", "from", "via"]);
    for (id, exposures) in &by_asset {
        let name = assets
            .iter()
            .find(|a| a.id == *id)
            .map_or(*id, |a| a.name.as_str());
        let ports = join(
            exposures
                .iter()
                .map(|e| format!("{} ({})", e.ports(), e.family)),
        );
        let sources = join(exposures.iter().map(|e| e.source.clone()));
        let via = join(exposures.iter().filter_map(|e| e.via.clone()));
        table.add_row(vec![
            Cell::new(format!("{name}\n{id}")),
            Cell::new(&exposures[0].resource_type),
            Cell::new(ports),
            Cell::new(sources),
            Cell::new(via),
        ]);
    }
    out!("{} assets reachable from the internet.", by_asset.len());
    if !by_asset.is_empty() {
        out!("{table}");
    }
    Ok(())
}

/// Each exposure of one asset with its path.
fn explain(found: &[Exposure], public: &[parapet_graph::PublicAccess], asset: &str) -> Result<()> {
    if found.is_empty() && public.is_empty() {
        out!("{asset} is not reachable from the internet.");
        return Ok(());
    }
    for p in public {
        out!("everyone, by its {}: {}", p.grant, p.statement);
    }
    for e in found {
        out!(
            "{} {} from {}{}",
            e.ports(),
            e.family,
            e.source,
            e.via
                .as_deref()
                .map_or(String::new(), |v| format!(" through {v}"))
        );
        out!("  {}", e.path_text());
    }
    Ok(())
}

/// Distinct values, in order, comma-separated.
fn join(values: impl Iterator<Item = String>) -> String {
    let mut seen: Vec<String> = Vec::new();
    for v in values {
        if !seen.contains(&v) {
            seen.push(v);
        }
    }
    seen.join(", ")
}
