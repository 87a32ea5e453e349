//! The `parapet` binary: argument parsing and wiring of the library crates.
//!
//! # Layout
//!
//! - [`cli`]: the command line, one clap struct per command.
//! - [`output`]: tables, colour and the output formats.
//! - [`rules_cmd`]: `parapet rules list|show|lint|test`.
//! - [`scan_cmd`]: `parapet scan file`.
//! - [`history_cmd`]: `parapet assets`, `parapet events`, `parapet scans`.
//! - [`findings_cmd`]: `parapet findings`.
//! - [`db`]: opening the database.

mod cli;
mod db;
mod findings_cmd;
mod history_cmd;
mod output;
mod rules_cmd;
mod scan_cmd;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let style = output::Style::detect(cli.global.no_color);
    let result = match &cli.command {
        cli::Command::Rules(command) => rules_cmd::run(&cli.global, command, style),
        cli::Command::Assets(command) => history_cmd::run_assets(&cli.global, command, style),
        cli::Command::Findings(command) => findings_cmd::run(&cli.global, command, style),
        cli::Command::Events(args) => history_cmd::run_events(&cli.global, args, style),
        cli::Command::Scans { limit, format } => {
            history_cmd::run_scans(&cli.global, *limit, *format, style)
        }
        cli::Command::Scan(cli::ScanCommand::File(args)) => {
            scan_cmd::run_file(&cli.global, args, style)
        }
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(output::EXIT_ERROR)
        }
    }
}
