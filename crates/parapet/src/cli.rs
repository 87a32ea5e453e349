//! The command line: every command and flag, with the help text users read.

use clap::{Args, Parser, Subcommand, ValueEnum};
use parapet_core::Severity;
use std::path::PathBuf;

/// Continuous cloud compliance: inventory, rules, findings, vulnerabilities
/// and exposure in one binary.
#[derive(Debug, Parser)]
#[command(name = "parapet", version, about, long_about = None, propagate_version = true)]
#[command(
    after_help = "Exit codes: 0 success; 1 a --fail-on threshold was met, or rule tests or lint failed; \
2 an error (bad arguments, unreadable input, rule files or asset lines that did not load)."
)]
pub struct Cli {
    /// Options for every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Also load rules from this folder (searched recursively for *.yaml);
    /// may be given several times.
    #[arg(
        long = "rules",
        value_name = "DIR",
        global = true,
        env = "PARAPET_RULES",
        value_delimiter = ':'
    )]
    pub rules: Vec<PathBuf>,
    /// Do not load the rules built into Parapet.
    #[arg(long, global = true)]
    pub no_builtin_rules: bool,
    /// Never colour the output (colour is used only on a terminal, and never
    /// when NO_COLOR is set).
    #[arg(long, global = true)]
    pub no_color: bool,
}

/// Parapet's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List, show, check and test rules.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Evaluate rules over assets.
    #[command(subcommand)]
    Scan(ScanCommand),
}

/// How to print results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Tables for people.
    Table,
    /// JSON for machines.
    Json,
}

/// `parapet rules ...`
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the loaded rules.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Only rules for this resource type (such as AWS::S3::Bucket).
        #[arg(long, value_name = "TYPE")]
        resource_type: Option<String>,
    },
    /// Show one rule in full: conditions, remediation, mappings, examples.
    Show {
        /// The rule's id.
        id: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Check rule files: report files that do not load (with file, line and
    /// column) and style warnings.
    Lint {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Exit with 1 when there are warnings, too.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Run every rule's examples: compliant ones must pass, non-compliant
    /// ones fail, unknown ones be unknown.
    Test {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

/// `parapet scan ...`
#[derive(Debug, Subcommand)]
pub enum ScanCommand {
    /// Evaluate every rule over the assets of a JSON Lines file (see
    /// docs/assets.md), print a summary by severity and status, then the
    /// failing results.
    File(ScanFileArgs),
}

/// `parapet scan file`
#[derive(Debug, Args)]
pub struct ScanFileArgs {
    /// The assets file, one asset per line; `-` reads standard input.
    #[arg(value_name = "ASSETS.jsonl")]
    pub assets: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Exit with 1 when any rule of this severity or worse fails.
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,
    /// In the table output, also list the unknown and error results.
    #[arg(long)]
    pub show_undecided: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn fail_on_takes_a_severity() {
        let cli = Cli::try_parse_from(["parapet", "scan", "file", "a.jsonl", "--fail-on", "high"])
            .expect("parses");
        let Command::Scan(ScanCommand::File(args)) = cli.command else {
            panic!("expected scan file")
        };
        assert_eq!(args.fail_on, Some(Severity::High));
        assert!(
            Cli::try_parse_from(["parapet", "scan", "file", "a.jsonl", "--fail-on", "severe"])
                .is_err()
        );
    }
}
