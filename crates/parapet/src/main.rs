//! The `parapet` binary: argument parsing and wiring of the library crates.
//!
//! # Layout
//!
//! - [`cli`]: the command line, one clap struct per command.
//! - [`output`]: tables, colour and the output formats.
//! - [`resources_cmd`]: `parapet resources list|show`.
//! - [`permissions_cmd`]: `parapet permissions aws`.
//! - [`docs_cmd`]: `parapet completions` and `parapet man`.
//! - [`version`]: what `parapet --version` says.
//! - [`rules_cmd`]: `parapet rules list|show|lint|test`.
//! - [`scan_cmd`]: `parapet scan file`, and the run and report every scan shares.
//! - [`scan_aws_cmd`]: `parapet scan aws`: the AWS provider's options.
//! - [`history_cmd`]: `parapet assets list|history|diff|show`, `parapet prune`, `parapet
//!   events`, `parapet scans`.
//! - [`findings_cmd`]: `parapet findings`.
//! - [`incidents_cmd`]: `parapet incidents`.
//! - [`notify_cmd`]: `parapet notify`, and the notification routes and
//!   channels every recording command uses.
//! - [`watch_cmd`]: `parapet watch`: the daemon's settings.
//! - [`worker_cmd`]: `parapet worker`, `parapet jobs`, and `parapet scan aws
//!   --enqueue`.
//! - [`config`]: the configuration file.
//! - [`db`]: opening the database.

/// mimalloc: evaluation and recording allocate many small values on every
/// core, which glibc's allocator serves about a quarter slower
/// (`cargo bench -p parapet-rules --bench documents`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[macro_use]
mod output;
mod cli;
mod config;
mod db;
mod docs_cmd;
mod exposure_cmd;
mod findings_cmd;
mod history_cmd;
mod incidents_cmd;
mod notify_cmd;
mod permissions_cmd;
mod report_cmd;
mod resources_cmd;
mod rules_cmd;
mod scan_aws_cmd;
mod scan_azure_cmd;
mod scan_cmd;
mod scan_gcp_cmd;
mod serve_cmd;
mod version;
mod vuln_cmd;
mod watch_cmd;
mod worker_cmd;

use clap::{CommandFactory, FromArgMatches};
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut command = cli::Cli::command();
    if version::asked() {
        // Once per process: clap keeps the text for the program's life.
        command = command.version(&*String::leak(version::long()));
    }
    let cli = match cli::Cli::from_arg_matches(&command.get_matches()) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    match run(cli) {
        Ok(code) => code,
        Err(error) if output::is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(output::EXIT_ERROR)
        }
    }
}

fn run(cli: cli::Cli) -> anyhow::Result<ExitCode> {
    let style = output::Style::detect(cli.global.no_color);
    // What is generated from the definitions alone reads no configuration.
    let config = if matches!(
        cli.command,
        cli::Command::Permissions(_) | cli::Command::Completions { .. } | cli::Command::Man { .. }
    ) {
        config::ConfigFile::default()
    } else {
        config::load(&cli.global)?
    };
    let global = config::merged(cli.global, &config);
    if !config.mutes.is_empty()
        && matches!(
            cli.command,
            cli::Command::Scan(_) | cli::Command::Watch(_) | cli::Command::Worker(_)
        )
    {
        config::sync_mutes(&global, &config)?;
    }
    // Commands that change what is notified, or send it.
    let changes = matches!(
        cli.command,
        cli::Command::Scan(_)
            | cli::Command::Incidents(
                cli::IncidentsCommand::Ack { .. } | cli::IncidentsCommand::Resolve { .. }
            )
    );
    let (notifier, router) = if changes
        || matches!(
            cli.command,
            cli::Command::Watch(_)
                | cli::Command::Notify(_)
                | cli::Command::Serve(_)
                | cli::Command::Worker(_)
        ) {
        notify_cmd::setup(&global, &config)?.unzip()
    } else {
        (None, None)
    };
    // How the commands that record route finding changes and group them
    // into incidents.
    let policy = parapet_store::Policy {
        router,
        incidents: config.incidents.map(|i| i.policy()),
    };
    let cli = cli::Cli {
        global,
        command: cli.command,
    };
    let code = match &cli.command {
        cli::Command::Rules(command) => rules_cmd::run(&cli.global, command, style),
        cli::Command::Assets(command) => history_cmd::run_assets(&cli.global, command, style),
        cli::Command::Findings(command) => findings_cmd::run(&cli.global, command, style),
        cli::Command::Resources(command) => resources_cmd::run(command, style),
        cli::Command::Report(command) => report_cmd::run(&cli.global, command, style),
        cli::Command::Events(args) => history_cmd::run_events(&cli.global, args, style),
        cli::Command::Exposure(args) => exposure_cmd::run(&cli.global, args, style),
        cli::Command::Graph(args) => exposure_cmd::run_graph(&cli.global, args),
        cli::Command::Watch(args) => {
            watch_cmd::run(&cli.global, &config, &policy, notifier.as_ref(), args)
        }
        cli::Command::Incidents(command) => {
            incidents_cmd::run(&cli.global, &policy, command, style)
        }
        cli::Command::Notify(command) => {
            notify_cmd::run(&cli.global, notifier.as_ref(), command, style)
        }
        cli::Command::Vuln(command) => vuln_cmd::run(&cli.global, command, style),
        cli::Command::Serve(args) => serve_cmd::run(&cli.global, &policy, args),
        cli::Command::Tokens(command) => serve_cmd::run_tokens(&cli.global, command, style),
        cli::Command::Worker(args) => worker_cmd::run(&cli.global, &config, &policy, args),
        cli::Command::Jobs(args) => worker_cmd::run_jobs(&cli.global, args, style),
        cli::Command::Permissions(command) => permissions_cmd::run(command),
        cli::Command::Completions { shell } => docs_cmd::completions(*shell),
        cli::Command::Man { dir } => docs_cmd::man(dir.as_deref()),
        cli::Command::Prune { older_than, format } => {
            history_cmd::run_prune(&cli.global, *older_than, config.retention, *format, style)
        }
        cli::Command::Scans { limit, format } => {
            history_cmd::run_scans(&cli.global, *limit, *format, style)
        }
        cli::Command::Scan(cli::ScanCommand::File(args)) => {
            scan_cmd::run_file(&cli.global, &config, &policy, args, style)
        }
        cli::Command::Scan(cli::ScanCommand::Aws(args)) => {
            scan_aws_cmd::run(&cli.global, &config, &policy, args, style)
        }
        cli::Command::Scan(cli::ScanCommand::Gcp(args)) => {
            scan_gcp_cmd::run(&cli.global, &config, &policy, args, style)
        }
        cli::Command::Scan(cli::ScanCommand::Azure(args)) => {
            scan_azure_cmd::run(&cli.global, &config, &policy, args, style)
        }
    }?;
    // What a scan or a hand on an incident recorded is sent at once; what
    // fails stays in the outbox for `parapet notify send` (or the daemon)
    // to try again.
    if let (true, Some(notifier)) = (changes, &notifier) {
        let done = notify_cmd::deliver(&cli.global, notifier)?;
        if done.retrying + done.failed > 0 {
            eprintln!(
                "{} notification(s) sent; {} could not be delivered (`parapet notify outbox` shows why).",
                done.delivered,
                done.retrying + done.failed
            );
        }
    }
    Ok(code)
}
