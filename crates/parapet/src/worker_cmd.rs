//! `parapet worker`, `parapet jobs`, and a collection queued for workers
//! (`parapet scan aws --enqueue`): the providers jobs name, the shared
//! database, the signals that stop a worker after the job in hand.

use crate::cli::{Format, GlobalArgs, JobsArgs, ScanAwsArgs, WorkerArgs};
use crate::output::Style;
use anyhow::{Context, Result};
use comfy_table::Cell;
use parapet_aws::{AwsOptions, AwsProvider};
use parapet_pipeline::Pipeline;
use parapet_provider::Provider;
use parapet_store::{JobRecord, JobStatus, Policy};
use parapet_worker::{Counters, OpenStore, ProviderSpec, Settings, Worker};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The provider a job names.
fn provider(spec: &ProviderSpec) -> Result<Box<dyn Provider>, String> {
    match spec.provider.as_str() {
        "aws" => {
            let options: AwsOptions = serde_json::from_value(spec.options.clone())
                .map_err(|e| format!("the job's AWS options are not valid: {e}"))?;
            Ok(Box::new(AwsProvider::new(options)))
        }
        other => Err(format!("no provider `{other}` in this Parapet")),
    }
}

/// This machine's name, for workers' names.
fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".to_owned())
}

/// Runs `parapet worker`.
pub fn run(
    global: &GlobalArgs,
    config: &crate::config::ConfigFile,
    policy: &Policy,
    args: &WorkerArgs,
) -> Result<ExitCode> {
    let rules = crate::rules_cmd::load_rules(global);
    crate::rules_cmd::report_load_errors(&rules);
    let pipeline = Pipeline::new(rules.rules, &config.tags, &config.identity);
    let database = crate::db::database(global)?;
    let policy = policy.clone();
    let open: Arc<OpenStore> = Arc::new(move || database.open_with(&policy));
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("cannot listen for signals")?;
    }
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| format!("{}:{}", host(), std::process::id()));
    let counters = Arc::new(Counters::default());
    let endpoint = match &args.listen {
        Some(address) => {
            let endpoint = parapet_worker::endpoint::serve(
                address,
                name.clone(),
                Arc::clone(&counters),
                Arc::clone(&open),
                Arc::clone(&stop),
            )
            .with_context(|| format!("cannot listen on {address}"))?;
            eprintln!(
                "worker {name}: /health and /metrics on http://{}",
                endpoint.address
            );
            Some(endpoint)
        }
        None => None,
    };
    let threads = args.threads.max(1);
    let results: Vec<Result<(), parapet_worker::WorkerError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let worker = Worker {
                    pipeline: &pipeline,
                    providers: &provider,
                    open: &*open,
                    settings: Settings {
                        name: if threads == 1 {
                            name.clone()
                        } else {
                            format!("{name}/{i}")
                        },
                        lease: args.lease.max(Duration::from_secs(3)),
                        poll: args.poll,
                        until_idle: args.until_idle,
                        kinds: args.kinds.clone(),
                    },
                    stop: &stop,
                    counters: &counters,
                };
                scope.spawn(move || worker.run())
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Ok(())))
            .collect()
    });
    stop.store(true, Ordering::Relaxed);
    drop(endpoint);
    eprintln!(
        "worker {name}: {} job(s) claimed, {} done, {} attempt(s) failed, {} lease(s) lost, {} taken over from a worker that stopped answering",
        counters.claimed.load(Ordering::Relaxed),
        counters.done.load(Ordering::Relaxed),
        counters.failed.load(Ordering::Relaxed),
        counters.lease_losses.load(Ordering::Relaxed),
        counters.reclaimed.load(Ordering::Relaxed),
    );
    for result in results {
        result.context("the worker stopped")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Queues `parapet scan aws` for workers; with `--wait`, waits for its
/// jobs and prints what the run recorded.
pub fn enqueue_aws(
    global: &GlobalArgs,
    options: AwsOptions,
    args: &ScanAwsArgs,
    style: Style,
) -> Result<ExitCode> {
    let mut store = crate::db::open(global)?;
    let spec = ProviderSpec {
        provider: "aws".into(),
        options: serde_json::to_value(&options).context("the AWS options")?,
    };
    let run = parapet_worker::enqueue_collection(store.as_mut(), &spec, None, chrono::Utc::now())?;
    out!("Queued run {run}: `parapet worker` processes collect and record it.");
    if !args.wait {
        return Ok(ExitCode::SUCCESS);
    }
    let jobs = loop {
        let jobs = store.run_jobs(run)?;
        if jobs
            .iter()
            .all(|j| matches!(j.status, JobStatus::Done | JobStatus::Failed))
        {
            break jobs;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    print_jobs(&jobs, Format::Table, style)?;
    Ok(if jobs.iter().any(|j| j.status == JobStatus::Failed) {
        ExitCode::from(crate::output::EXIT_ERROR)
    } else {
        ExitCode::SUCCESS
    })
}

/// Runs `parapet jobs`.
pub fn run_jobs(global: &GlobalArgs, args: &JobsArgs, style: Style) -> Result<ExitCode> {
    let store = crate::db::open(global)?;
    match args.run {
        Some(run) => print_jobs(&store.run_jobs(run)?, args.format, style)?,
        None => {
            let counts = store.queue_counts()?;
            if args.format == Format::Json {
                out!("{}", serde_json::to_string_pretty(&counts.counts)?);
            } else {
                let mut table = style.table(&["kind", "status", "jobs"]);
                for (kind, status, n) in &counts.counts {
                    table.add_row(vec![
                        Cell::new(kind),
                        Cell::new(status.as_str()),
                        Cell::new(n),
                    ]);
                }
                out!("{table}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_jobs(jobs: &[JobRecord], format: Format, style: Style) -> Result<()> {
    if format == Format::Json {
        out!("{}", serde_json::to_string_pretty(jobs)?);
        return Ok(());
    }
    let mut table = style.table(&[
        "job",
        "kind",
        "group",
        "status",
        "attempts",
        "worker",
        "result or error",
    ]);
    for job in jobs {
        let said = match (&job.result, &job.error) {
            (Some(result), _) if job.kind != "collect" => result.to_string(),
            (Some(result), _) => format!(
                "{} assets, {} errors",
                result["assets"].as_array().map_or(0, Vec::len),
                result["errors"].as_array().map_or(0, Vec::len)
            ),
            (None, Some(error)) => error.clone(),
            (None, None) => String::new(),
        };
        table.add_row(vec![
            Cell::new(job.id),
            Cell::new(&job.kind),
            Cell::new(&job.group),
            Cell::new(job.status.as_str()),
            Cell::new(job.attempts),
            Cell::new(job.worker.as_deref().unwrap_or("")),
            Cell::new(said),
        ]);
    }
    out!("{table}");
    Ok(())
}
