//! `parapet vuln`: scan a target for packages with known vulnerabilities,
//! write its SBOM, and keep the advisory database.

use crate::cli::{
    Format, GlobalArgs, SbomFormat, VulnCommand, VulnDbArgs, VulnDbCommand, VulnFormat,
    VulnScanArgs, VulnTarget,
};
use crate::output::{EXIT_ERROR, EXIT_FAILED, Style, print_json};
use anyhow::{Context, Result};
use comfy_table::Cell;
use parapet_vuln::target::Options;
use parapet_vuln::{AdvisoryDb, Inventory, Target};
use std::process::ExitCode;
use std::time::Instant;

/// Runs `parapet vuln`.
pub fn run(global: &GlobalArgs, command: &VulnCommand, style: Style) -> Result<ExitCode> {
    match command {
        VulnCommand::Scan(args) => scan(global, args, style),
        VulnCommand::Sbom(args) => {
            let inventory = read(&args.target)?;
            match args.format {
                SbomFormat::Cyclonedx => {
                    let report = parapet_vuln::Report {
                        inventory,
                        ..Default::default()
                    };
                    print_json(&parapet_vuln::sbom::cyclonedx_document(&report, false))?;
                    Ok(errors_exit(&report.inventory))
                }
                SbomFormat::Json => {
                    print_json(&inventory)?;
                    Ok(errors_exit(&inventory))
                }
                SbomFormat::Table => {
                    let mut table =
                        style.table(&["ecosystem", "package", "version", "source", "found in"]);
                    for p in &inventory.packages {
                        table.add_row(vec![
                            Cell::new(p.ecosystem.osv_name()),
                            Cell::new(&p.name),
                            Cell::new(&p.version),
                            Cell::new(
                                p.source
                                    .as_ref()
                                    .map_or(String::new(), |s| format!("{} {}", s.name, s.version)),
                            ),
                            Cell::new(&p.location),
                        ]);
                    }
                    out!("{table}");
                    out!(
                        "{} package(s){}.",
                        inventory.packages.len(),
                        os_note(&inventory)
                    );
                    Ok(errors_exit(&inventory))
                }
            }
        }
        VulnCommand::Db(command) => db(command, style),
    }
}

fn os_note(inventory: &Inventory) -> String {
    match &inventory.os {
        Some(os) => format!(
            " on {}",
            os.pretty_name
                .clone()
                .unwrap_or_else(|| format!("{} {}", os.id, os.version_id))
        ),
        None => String::new(),
    }
}

/// Prints what could not be read; exit code 2 when something could not.
fn errors_exit(inventory: &Inventory) -> ExitCode {
    for error in &inventory.errors {
        eprintln!("error: {error}");
    }
    if inventory.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_ERROR)
    }
}

/// Reads the target's inventory, printing the time it took.
fn read(args: &VulnTarget) -> Result<Inventory> {
    let size = |flag: &str, value: &str| {
        value
            .parse::<bytesize::ByteSize>()
            .map(|s| s.as_u64())
            .map_err(|e| anyhow::anyhow!("{flag} {value}: {e}"))
    };
    let options = Options {
        limits: parapet_vuln::tree::Limits {
            max_bytes: size("--max-size", &args.max_size)?,
            max_entries: args.max_entries,
            max_file: size("--max-file-size", &args.max_file_size)?,
            max_manifest: size("--max-manifest-size", &args.max_manifest_size)?,
            max_kept: size("--max-held", &args.max_held)?,
        },
        registry: parapet_vuln::registry::Access {
            username: args.username.clone(),
            password: std::env::var("PARAPET_REGISTRY_PASSWORD").ok(),
            plain_http: args.plain_http,
        },
    };
    let started = Instant::now();
    let target = Target::parse(&args.target)?;
    let inventory = target.inventory(&options)?;
    eprintln!(
        "{}: {} package(s){} in {:.2} s{}",
        inventory.target,
        inventory.packages.len(),
        os_note(&inventory),
        started.elapsed().as_secs_f64(),
        crate::output::peak_memory_note()
    );
    Ok(inventory)
}

fn open_db(args: &VulnDbArgs) -> Result<AdvisoryDb> {
    let path = args
        .path
        .clone()
        .unwrap_or_else(parapet_vuln::db::default_path);
    Ok(AdvisoryDb::open(&path)?)
}

fn scan(global: &GlobalArgs, args: &VulnScanArgs, style: Style) -> Result<ExitCode> {
    let db = open_db(&args.db)?;
    if db.counts()?.is_empty() {
        anyhow::bail!(
            "the advisory database is empty: `parapet vuln db import PATH` or `parapet vuln db update` first"
        );
    }
    let inventory = read(&args.target)?;
    let started = Instant::now();
    let mut report = parapet_vuln::scan(&db, inventory)?;
    eprintln!(
        "matched against the advisories in {:.3} s",
        started.elapsed().as_secs_f64()
    );
    if let Some(asset) = &args.asset {
        let id = attach(global, asset, &report)?;
        eprintln!("attached to {id}");
    }
    report.matches.retain(|m| {
        let severe = match args.min_severity {
            Some(min) => m.rating.as_ref().is_some_and(|r| r.severity >= min),
            None => true,
        };
        severe && (!args.fixed_only || m.fixed.is_some())
    });
    match args.format {
        VulnFormat::Json => print_json(&report)?,
        VulnFormat::Sarif => print_json(&parapet_vuln::sarif::document(&report))?,
        VulnFormat::Cyclonedx => {
            print_json(&parapet_vuln::sbom::cyclonedx_document(&report, true))?
        }
        VulnFormat::Table => {
            let mut table = style.table(&[
                "severity", "package", "version", "fixed in", "advisory", "aliases", "summary",
            ]);
            for m in &report.matches {
                table.add_row(vec![
                    match &m.rating {
                        Some(r) => style.severity(r.severity),
                        None => Cell::new("unknown"),
                    },
                    Cell::new(&m.package.name),
                    Cell::new(&m.package.version),
                    Cell::new(m.fixed.as_deref().unwrap_or("no fix")),
                    Cell::new(&m.advisory),
                    Cell::new(m.aliases.join("\n")),
                    Cell::new(m.summary.as_deref().unwrap_or("")),
                ]);
            }
            out!("{table}");
            let affected: std::collections::BTreeSet<&str> = report
                .matches
                .iter()
                .map(|m| m.package.name.as_str())
                .collect();
            out!(
                "{} vulnerabilit{} in {} of {} package(s){}.",
                report.matches.len(),
                if report.matches.len() == 1 {
                    "y"
                } else {
                    "ies"
                },
                affected.len(),
                report.inventory.packages.len(),
                os_note(&report.inventory)
            );
        }
    }
    for undecided in &report.undecided {
        eprintln!(
            "undecided: {} {} and {}: {}",
            undecided.package.name, undecided.package.version, undecided.advisory, undecided.reason
        );
    }
    let errors = errors_exit(&report.inventory);
    if errors != ExitCode::SUCCESS {
        return Ok(errors);
    }
    let failed = args.fail_on.is_some_and(|threshold| {
        report
            .matches
            .iter()
            .any(|m| m.rating.as_ref().is_some_and(|r| r.severity >= threshold))
    });
    Ok(if failed {
        ExitCode::from(EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
    })
}

/// osv.dev's export of each ecosystem Parapet matches.
const EXPORTS: [&str; 13] = [
    "Debian",
    "Ubuntu",
    "Alpine",
    "Rocky Linux",
    "AlmaLinux",
    "Red Hat",
    "Go",
    "PyPI",
    "npm",
    "crates.io",
    "Maven",
    "RubyGems",
    "Packagist",
];

fn db(command: &VulnDbCommand, style: Style) -> Result<ExitCode> {
    match command {
        VulnDbCommand::Import { paths, db } => {
            let mut database = open_db(db)?;
            let mut failed = false;
            for path in paths {
                let started = Instant::now();
                let report = database
                    .import(path)
                    .with_context(|| format!("importing {}", path.display()))?;
                for error in &report.errors {
                    eprintln!("error: {error}");
                }
                failed |= !report.errors.is_empty();
                out!(
                    "{}: {} imported, {} unchanged, {} of other ecosystems, {} unreadable, in {:.2} s.",
                    path.display(),
                    report.imported,
                    report.unchanged,
                    report.skipped,
                    report.errors.len(),
                    started.elapsed().as_secs_f64()
                );
            }
            Ok(if failed {
                ExitCode::from(EXIT_ERROR)
            } else {
                ExitCode::SUCCESS
            })
        }
        VulnDbCommand::Update {
            ecosystems,
            source,
            db,
        } => {
            let mut database = open_db(db)?;
            let chosen: Vec<&str> = if ecosystems.is_empty() {
                EXPORTS.to_vec()
            } else {
                for e in ecosystems {
                    if !EXPORTS.contains(&e.as_str()) {
                        anyhow::bail!(
                            "`{e}` is not an ecosystem Parapet matches ({})",
                            EXPORTS.join(", ")
                        );
                    }
                }
                ecosystems.iter().map(String::as_str).collect()
            };
            let scratch = tempfile::tempdir().context("a scratch folder")?;
            for ecosystem in chosen {
                let url = format!(
                    "{}/{}/all.zip",
                    source.trim_end_matches('/'),
                    ecosystem.replace(' ', "%20")
                );
                let path = scratch.path().join("all.zip");
                download(&url, &path)?;
                let report = database.import(&path)?;
                out!(
                    "{ecosystem}: {} imported, {} unchanged, {} unreadable.",
                    report.imported,
                    report.unchanged,
                    report.errors.len()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        VulnDbCommand::Status { format, db } => {
            let counts = open_db(db)?.counts()?;
            match format {
                Format::Json => print_json(&counts)?,
                Format::Table => {
                    let mut table = style.table(&["ecosystem", "advisories"]);
                    for (ecosystem, n) in &counts {
                        table.add_row(vec![Cell::new(ecosystem), Cell::new(n)]);
                    }
                    out!("{table}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Downloads `url` to `path` (at most 4 GiB).
fn download(url: &str, path: &std::path::Path) -> Result<()> {
    let mut response = ureq::get(url)
        .call()
        .with_context(|| format!("downloading {url}"))?;
    let mut file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    std::io::copy(
        &mut response
            .body_mut()
            .with_config()
            .limit(4 * 1024 * 1024 * 1024)
            .reader(),
        &mut file,
    )
    .with_context(|| format!("downloading {url}"))?;
    Ok(())
}

/// Attaches `report`'s matches to the asset of the inventory that `wanted`
/// names (its id, resource id or name); returns its id.
fn attach(global: &GlobalArgs, wanted: &str, report: &parapet_vuln::Report) -> Result<String> {
    let mut store = crate::db::open(global)?;
    let assets = store.current_assets(None)?;
    let found: Vec<&parapet_core::Asset> = assets
        .iter()
        .filter(|a| {
            a.id == wanted || a.name == wanted || a.id.rsplit(['/', ':']).next() == Some(wanted)
        })
        .collect();
    let asset = match found.as_slice() {
        [one] => *one,
        [] => anyhow::bail!("--asset {wanted}: no asset of the inventory has that id or name"),
        many => anyhow::bail!(
            "--asset {wanted}: {} assets have that name; give an id ({})",
            many.len(),
            many.iter()
                .map(|a| a.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let scan = parapet_core::VulnerabilityScan {
        target: report.inventory.target.clone(),
        scanned_at: chrono::Utc::now(),
        packages: report.inventory.packages.len(),
        vulnerabilities: report
            .matches
            .iter()
            .map(|m| parapet_core::Vulnerability {
                advisory: m.advisory.clone(),
                aliases: m.aliases.clone(),
                package: m.package.name.clone(),
                version: m.package.version.clone(),
                ecosystem: m.package.ecosystem.osv_name().to_owned(),
                severity: m.rating.as_ref().map(|r| r.severity),
                score: m.rating.as_ref().and_then(|r| r.score),
                fixed: m.fixed.clone(),
            })
            .collect(),
    };
    store.attach_vulnerabilities(&asset.id, &scan)?;
    Ok(asset.id.clone())
}
