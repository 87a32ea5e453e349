//! The command line: every command and flag, with the help text users read.

use clap::{Args, Parser, Subcommand, ValueEnum};
use parapet_core::Severity;
use std::path::PathBuf;

mod gcp;
mod vuln;
mod watch;
mod worker;
pub use gcp::*;
pub use vuln::*;
pub use watch::*;
pub use worker::*;

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
    /// The database: a SQLite file [default: parapet/parapet.db in the
    /// platform's data folder, ~/.local/share on Linux], or a PostgreSQL URL
    /// (postgres://USER@HOST:PORT/DATABASE, `?sslmode=require` for TLS) whose
    /// password comes from PGPASSWORD or the file PARAPET_DB_PASSWORD_FILE
    /// names, never from the URL.
    #[arg(long, value_name = "PATH|URL", global = true, env = "PARAPET_DB")]
    pub db: Option<PathBuf>,
    /// Parapet's configuration file (TOML when named `*.toml`, YAML
    /// otherwise): database, rule folders, AWS accounts and regions, tag
    /// policy, mutes and the daemon's settings; `examples/parapet.toml`
    /// explains each. Options and environment variables override it.
    #[arg(long, value_name = "PATH", global = true, env = "PARAPET_CONFIG")]
    pub config: Option<PathBuf>,
}

/// Parapet's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List, show, check and test rules.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Evaluate rules over assets and record the results.
    #[command(subcommand)]
    Scan(ScanCommand),
    /// Inventory history: versions, differences, an asset as it was.
    #[command(subcommand)]
    Assets(AssetsCommand),
    /// Findings: list, show, mute and unmute.
    #[command(subcommand)]
    Findings(FindingsCommand),
    /// The event timeline, newest first.
    Events(EventsArgs),
    /// The resource types collectors read, with their configuration fields.
    #[command(subcommand)]
    Resources(ResourcesCommand),
    /// Reports from the latest results in the database: compliance with a
    /// framework, or every result in any report format.
    #[command(subcommand)]
    Report(ReportCommand),
    /// What the internet reaches: every exposed asset with its protocols and
    /// ports, or one asset's exposures with the path that explains each.
    Exposure(ExposureArgs),
    /// The network topology of the current estate as JSON, Graphviz DOT or
    /// SVG, exposed assets marked and an exposure's path drawn.
    Graph(GraphArgs),
    /// Continuous mode: keep the inventory current from CloudTrail events
    /// read from an SQS queue, describing again only what each changed.
    Watch(Box<WatchArgs>),
    /// Incidents: findings grouped, with an owner and a lifecycle.
    #[command(subcommand)]
    Incidents(IncidentsCommand),
    /// Notifications: the outbox, sending what is due, a test message.
    #[command(subcommand)]
    Notify(NotifyCommand),
    /// Vulnerabilities: the packages of container images, disk images,
    /// folders, lockfiles and SBOMs matched against OSV advisories.
    #[command(subcommand)]
    Vuln(VulnCommand),
    /// The HTTP API and the web UI over the database: the overview,
    /// inventory, findings, compliance, timeline, incidents and topology in
    /// a browser, the same data as JSON under /api/v1. On a loopback address
    /// no token is needed unless --auth is given; on any other address every
    /// request needs one (`parapet tokens create`).
    Serve(ServeArgs),
    /// Do units of work from the job queue of a shared (PostgreSQL)
    /// database: plans, collections of one account, region and service,
    /// and each account's recording. Run any number, on any machines.
    Worker(WorkerArgs),
    /// The job queue: counts by kind and status, or the jobs of one run.
    Jobs(JobsArgs),
    /// API tokens for the HTTP API and the web UI: create, list, revoke.
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// The least-privilege IAM policy the collector needs, to create the
    /// audit role before the first scan.
    #[command(subcommand)]
    Permissions(PermissionsCommand),
    /// A shell completion script on standard output (`parapet completions
    /// bash > ~/.local/share/bash-completion/completions/parapet`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// The manual page, in roff, on standard output (`parapet man | man
    /// -l -`), or a page per command written into a folder.
    Man {
        /// Write parapet.1 and a page per command (parapet-scan-aws.1, ...)
        /// into this folder.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Remove history older than a retention period: superseded asset
    /// versions, assets deleted long ago, events, sent notifications,
    /// resolved incidents, finished scans and jobs. What is current stays:
    /// every asset's current version (and the one current at the cutoff),
    /// open findings and incidents, pending notifications, active mutes.
    Prune {
        /// Remove what is older than this (`400d`, `26weeks`) [default: the
        /// configuration's `retention`].
        #[arg(long, value_parser = humantime::parse_duration)]
        older_than: Option<std::time::Duration>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Recent scan runs with their scope, status and counts.
    Scans {
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

/// `parapet permissions ...`
#[derive(Debug, Subcommand)]
pub enum PermissionsCommand {
    /// The IAM policy (JSON) for the role `parapet scan aws` uses: every
    /// call the collectors make, on every resource, read-only but for
    /// iam:GenerateCredentialReport.
    Aws(PermissionsAwsArgs),
}

/// `parapet permissions aws`
#[derive(Debug, Args)]
pub struct PermissionsAwsArgs {
    /// Also list the organisation's member accounts
    /// (`--organization-role`; in the management account).
    #[arg(long)]
    pub organization: bool,
    /// Also read and delete the events of this SQS queue (`parapet watch
    /// --queue-url`), by its ARN.
    #[arg(long, value_name = "ARN")]
    pub queue_arn: Option<String>,
    /// Also send what cannot be read to this dead-letter queue, by its ARN.
    #[arg(long, value_name = "ARN")]
    pub dead_letter_queue_arn: Option<String>,
}

/// `parapet serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to serve on.
    #[arg(
        long,
        env = "PARAPET_SERVE",
        value_name = "ADDRESS",
        default_value = "127.0.0.1:8080"
    )]
    pub listen: String,
    /// How the server is reached.
    #[command(flatten)]
    pub options: ServeOptions,
}

/// How the API and the web UI are reached, for `serve` and `watch --serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeOptions {
    /// Require an API token or a session even on a loopback address. A
    /// server behind a reverse proxy needs it: without it, a loopback
    /// server refuses every request a proxy forwarded.
    #[arg(long)]
    pub auth: bool,
    /// Mark session cookies `Secure`: the server is reached over HTTPS
    /// through a proxy in front of it.
    #[arg(long)]
    pub secure_cookies: bool,
    /// Let browsers log in through this OpenID Connect provider (its issuer
    /// URL); its client secret comes from PARAPET_OIDC_CLIENT_SECRET.
    #[arg(long, value_name = "URL", requires_all = ["oidc_client_id", "oidc_redirect_url"])]
    pub oidc_issuer: Option<String>,
    /// This server's client id at the provider.
    #[arg(long, value_name = "ID")]
    pub oidc_client_id: Option<String>,
    /// The callback URL registered at the provider
    /// (`https://parapet.example/auth/oidc/callback`).
    #[arg(long, value_name = "URL")]
    pub oidc_redirect_url: Option<String>,
    /// Who may change things (comma-separated): subjects (`sub`), email
    /// addresses the provider verified, `group:NAME` (a group in the
    /// groups claim), or `*` for anyone the provider admits.
    #[arg(long, value_name = "WHO", value_delimiter = ',')]
    pub oidc_read_write: Vec<String>,
    /// Who may read, named the same way. No one else may log in: a
    /// provider that admits a user grants nothing by itself.
    #[arg(long, value_name = "WHO", value_delimiter = ',')]
    pub oidc_read_only: Vec<String>,
    /// The ID token's claim that lists the user's groups.
    #[arg(long, value_name = "CLAIM", default_value = "groups")]
    pub oidc_groups_claim: String,
}

/// `parapet tokens ...`
#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Creates a token and prints it, once: only its hash is kept.
    Create {
        /// What it is for (`ci`, `alice's laptop`).
        #[arg(long)]
        name: String,
        /// What it may do: read everything, or also mute findings and take
        /// and resolve incidents.
        #[arg(long, value_enum, default_value_t = TokenScopeArg::ReadOnly)]
        scope: TokenScopeArg,
        /// When it stops working, from now (`90d`, `12h`); never by default.
        #[arg(long, value_parser = humantime::parse_duration)]
        expires_in: Option<std::time::Duration>,
    },
    /// Every token, revoked ones too, without their secrets.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Revokes a token: it stops working at once, sessions made with it too.
    Revoke {
        /// The token's number (`parapet tokens list`).
        id: i64,
    },
}

/// A token's scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokenScopeArg {
    /// Read everything.
    ReadOnly,
    /// Read everything, mute and unmute findings, take and resolve incidents.
    ReadWrite,
}

/// `parapet incidents ...`
#[derive(Debug, Subcommand)]
pub enum IncidentsCommand {
    /// Incidents, newest first.
    List {
        /// Only this status.
        #[arg(long, value_enum)]
        status: Option<IncidentStatusArg>,
        /// How many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// One incident: its findings and its timeline.
    Show {
        /// The incident's number.
        id: i64,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Take an incident: it is acknowledged, with an owner (and its
    /// PagerDuty alert acknowledged, its Jira issue commented on).
    Ack {
        /// The incident's number.
        id: i64,
        /// Who has it [default: the user running the command].
        #[arg(long)]
        owner: Option<String>,
    },
    /// Resolve an incident by hand, with its PagerDuty alert and Jira issue
    /// (a finding of it that fails again reopens it).
    Resolve {
        /// The incident's number.
        id: i64,
    },
}

/// An incident status, on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IncidentStatusArg {
    /// Needs someone.
    Open,
    /// Someone has it.
    Acknowledged,
    /// Over.
    Resolved,
}

/// `parapet notify ...`
#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// The outbox: every notification with its channel, attempts and
    /// status, newest first.
    Outbox {
        /// Only this status.
        #[arg(long, value_enum)]
        status: Option<OutboxStatusArg>,
        /// How many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Sends the notifications that are due now (`parapet watch` does this
    /// continuously).
    Send,
    /// Sends a test message to a channel of the configuration.
    Test {
        /// The channel's name.
        channel: String,
    },
}

/// An outbox status, on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutboxStatusArg {
    /// Not delivered yet.
    Pending,
    /// Accepted by the channel.
    Delivered,
    /// Every attempt failed.
    Failed,
}

/// A point in time: RFC 3339 (`2026-11-29T10:00:00Z`), a date (`2026-11-29`,
/// midnight UTC), or an age (`90m`, `24h`, `7d`) meaning that long ago.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct When(pub chrono::DateTime<chrono::Utc>);

impl std::str::FromStr for When {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        use chrono::{DateTime, NaiveDate, Utc};
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Ok(When(t.with_timezone(&Utc)));
        }
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return Ok(When(d.and_time(chrono::NaiveTime::MIN).and_utc()));
        }
        humantime::parse_duration(s)
            .ok()
            .and_then(|d| chrono::Duration::from_std(d).ok())
            .map(|d| When(Utc::now() - d))
            .ok_or_else(|| {
                format!(
                    "`{s}` is not a time: give RFC 3339, YYYY-MM-DD, or an age such as 24h or 7d"
                )
            })
    }
}

/// `parapet assets ...`
#[derive(Debug, Subcommand)]
pub enum AssetsCommand {
    /// The inventory: the assets that exist now (deleted ones too with
    /// --include-deleted), in id order, filtered as the API's listing is.
    /// `--format jsonl` writes the interchange format, which `parapet scan
    /// file` reads back.
    List(AssetsListArgs),
    /// Every version of an asset, oldest first.
    History {
        /// The asset's id (an ARN on AWS).
        id: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// The fields that changed between two versions (default: the last two).
    Diff {
        /// The asset's id.
        id: String,
        /// The older version.
        #[arg(long)]
        from: Option<i64>,
        /// The newer version.
        #[arg(long)]
        to: Option<i64>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// An asset as it is, or as it was at a time.
    Show {
        /// The asset's id.
        id: String,
        /// The time: RFC 3339, YYYY-MM-DD, or an age such as 7d.
        #[arg(long, value_name = "TIME")]
        at: Option<When>,
    },
}

/// `parapet assets list`
#[derive(Debug, Args)]
pub struct AssetsListArgs {
    /// Only this provider (`aws`).
    #[arg(long)]
    pub provider: Option<String>,
    /// Only this account.
    #[arg(long)]
    pub account: Option<String>,
    /// Only this region (`global` for IAM and other global services).
    #[arg(long)]
    pub region: Option<String>,
    /// Only this resource type (`AWS::S3::Bucket`).
    #[arg(long = "type", value_name = "TYPE")]
    pub resource_type: Option<String>,
    /// Only assets with this tag: KEY, or KEY=VALUE for that value.
    #[arg(long, value_name = "KEY[=VALUE]")]
    pub tag: Option<String>,
    /// Only assets whose id or name contains this text, in any case.
    #[arg(long, short = 'q')]
    pub text: Option<String>,
    /// Deleted assets too, as last seen.
    #[arg(long)]
    pub include_deleted: bool,
    /// At most this many [default: all].
    #[arg(long)]
    pub limit: Option<usize>,
    /// Output format: a table, a JSON array of summaries, or JSON Lines of
    /// whole assets in the interchange format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

/// How to print a listing of whole records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// A table for people.
    Table,
    /// One JSON array.
    Json,
    /// One JSON document per line, each whole.
    Jsonl,
}

/// `parapet findings ...`
#[derive(Debug, Subcommand)]
pub enum FindingsCommand {
    /// Findings, most severe first; open and reopened by default.
    List(FindingsListArgs),
    /// One finding in full, with its latest evaluation and evidence.
    Show {
        /// The rule's id.
        rule: String,
        /// The asset's id.
        asset: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Mute the findings a selector covers (give at least one of --rule,
    /// --asset, --account, --region, --tag). Muted findings are still
    /// evaluated and kept, and hidden from listings until the mute ends.
    Mute(MuteArgs),
    /// Lift a mute.
    Unmute {
        /// The mute's number (see `parapet findings mutes`).
        id: i64,
    },
    /// The mutes in force (all with --all).
    Mutes {
        /// Include mutes that were lifted or expired.
        #[arg(long)]
        all: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

/// Lifecycle statuses to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFilter {
    /// Failing, never resolved.
    Open,
    /// Failing again after a resolution.
    Reopened,
    /// Passing after failing.
    Resolved,
}

/// `parapet findings list`
#[derive(Debug, Args)]
pub struct FindingsListArgs {
    /// Lifecycle statuses [default: open and reopened].
    #[arg(long, value_enum, value_delimiter = ',')]
    pub status: Vec<StatusFilter>,
    /// Only this severity or worse.
    #[arg(long, value_name = "SEVERITY")]
    pub severity: Option<Severity>,
    /// Which rule, asset and account.
    #[command(flatten)]
    pub subject: Subject,
    /// Show muted findings too.
    #[arg(long)]
    pub include_muted: bool,
    /// How many.
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    /// How many to skip.
    #[arg(long, default_value_t = 0)]
    pub offset: usize,
    /// Continue after this finding, as SEVERITY/RULE/ASSET (the table ends
    /// with the cursor of the next page).
    #[arg(long, value_name = "CURSOR")]
    pub after: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// The rule, asset and account a command is limited to.
#[derive(Debug, Args)]
pub struct Subject {
    /// Only this rule.
    #[arg(long)]
    pub rule: Option<String>,
    /// Only this asset id.
    #[arg(long)]
    pub asset: Option<String>,
    /// Only assets in this account.
    #[arg(long)]
    pub account: Option<String>,
}

/// `parapet findings mute`
#[derive(Debug, Args)]
pub struct MuteArgs {
    /// Which rule, asset (a pattern with `*` here) and account.
    #[command(flatten)]
    pub subject: Subject,
    /// Only findings of assets in this region.
    #[arg(long)]
    pub region: Option<String>,
    /// Only findings of assets with this tag, as KEY=VALUE.
    #[arg(long, value_name = "KEY=VALUE")]
    pub tag: Option<String>,
    /// Why the risk is accepted.
    #[arg(long)]
    pub reason: String,
    /// Who accepts it [default: $USER].
    #[arg(long)]
    pub author: Option<String>,
    /// When the mute ends by itself: a time, or a duration from now such as 30d.
    #[arg(long, value_name = "TIME|DURATION")]
    pub expires: Option<String>,
}

/// `parapet events`
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Which rule, asset and account.
    #[command(flatten)]
    pub subject: Subject,
    /// Only these kinds (asset_created, asset_changed, asset_deleted,
    /// finding_opened, finding_resolved, finding_reopened, finding_muted,
    /// finding_unmuted, incident_acknowledged, incident_resolved).
    #[arg(long, value_delimiter = ',')]
    pub kind: Vec<String>,
    /// Only events at or after this time (RFC 3339, YYYY-MM-DD, or an age such as 24h).
    #[arg(long, value_name = "TIME")]
    pub since: Option<When>,
    /// Only events before this time.
    #[arg(long, value_name = "TIME")]
    pub until: Option<When>,
    /// How many.
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    /// Only events older than this event id, for paging.
    #[arg(long, value_name = "ID")]
    pub before: Option<i64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `parapet resources ...`
#[derive(Debug, Subcommand)]
pub enum ResourcesCommand {
    /// List every resource type collected, with its service.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Show one type's configuration fields, where each comes from, and an
    /// example (the page under docs/resources/).
    Show {
        /// The type, such as AWS::S3::Bucket or Microsoft.Storage/storageAccounts.
        #[arg(value_name = "TYPE")]
        resource_type: String,
    },
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
        /// Only rules with this tag (internet-exposed, encryption, logging,
        /// identity, secrets, resilience, threat-detection, patching,
        /// hardening, hygiene).
        #[arg(long)]
        tag: Option<String>,
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

/// `parapet report ...`
#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Each control of a framework with pass, fail, manual or unknown, and
    /// the share of controls passing, per account.
    Compliance {
        /// The framework (`parapet report frameworks` lists them).
        #[arg(long)]
        framework: String,
        /// Only this account.
        #[arg(long)]
        account: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// The frameworks rules map to, with their control counts.
    Frameworks {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Every latest result of the assets that exist now, in any format.
    Results {
        /// Only this account.
        #[arg(long)]
        account: Option<String>,
        /// Format of the standard output.
        #[arg(long, default_value = "table", value_parser = ReportFormat::parse, long_help = formats_help())]
        format: ReportFormat,
        /// Also write the results to a file (see `parapet scan file --help`).
        #[arg(long, value_name = "[FORMAT=]PATH")]
        output: Vec<OutputSpec>,
        /// Exit with 1 when any rule of this severity or worse fails.
        #[arg(long, value_name = "SEVERITY")]
        fail_on: Option<Severity>,
        /// In the table output, also list the unknown and error results.
        #[arg(long)]
        show_undecided: bool,
    },
}

/// `parapet scan ...`
#[derive(Debug, Subcommand)]
pub enum ScanCommand {
    /// Evaluate every rule over the assets of a JSON Lines file (see
    /// docs/assets.md), print a summary by severity and status, then the
    /// failing results.
    File(ScanFileArgs),
    /// Collect an AWS estate with the official SDK (credentials from the
    /// standard chain: environment, shared profiles, SSO, web identity,
    /// container and instance roles), store it, evaluate every rule and
    /// report: a summary of what was collected, by severity and status, then
    /// the failing results.
    Aws(ScanAwsArgs),
    /// Collect Azure subscriptions through Azure Resource Manager (signed
    /// in as the environment says: a service principal's secret,
    /// certificate (AZURE_CLIENT_CERTIFICATE_PATH) or federated token, the
    /// machine's managed identity, or the Azure CLI),
    /// store, evaluate every rule and report, as `scan aws` does: 33
    /// resource types (`parapet resources list` names them) and the Azure
    /// rules (CIS Microsoft Azure Foundations).
    Azure(ScanAzureArgs),
    /// Collect a Google Cloud organisation, folder or projects from Cloud
    /// Asset Inventory (signed in with Application Default Credentials: a
    /// service account key or workload identity federation file named by
    /// GOOGLE_APPLICATION_CREDENTIALS, gcloud's user credentials, or the
    /// metadata server), store, evaluate every rule and report, as `scan
    /// aws` does: 37 resource types and the Google Cloud rules (CIS Google
    /// Cloud Platform Foundation).
    Gcp(ScanGcpArgs),
}

/// The formats results can be written in: tables for people, or one of
/// the report formats (`parapet_report::format::FORMATS`).
#[derive(Clone, Copy)]
pub enum ReportFormat {
    /// A summary by severity and status, then failing results grouped by rule.
    Table,
    /// A report format.
    Report(&'static dyn parapet_report::format::Formatter),
}

impl ReportFormat {
    /// Its name.
    pub fn name(&self) -> &'static str {
        match self {
            ReportFormat::Table => "table",
            ReportFormat::Report(format) => format.name(),
        }
    }

    /// The format of this name.
    pub fn parse(name: &str) -> Result<ReportFormat, String> {
        if name.eq_ignore_ascii_case("table") {
            return Ok(ReportFormat::Table);
        }
        parapet_report::format::by_name(name)
            .map(ReportFormat::Report)
            .ok_or_else(|| format!("`{name}` is not a format ({})", format_names()))
    }

    /// The format a file name's extension implies (`.txt`: the tables).
    pub fn from_file_name(name: &str) -> Option<ReportFormat> {
        if name.to_ascii_lowercase().ends_with(".txt") {
            return Some(ReportFormat::Table);
        }
        parapet_report::format::by_file_name(name).map(ReportFormat::Report)
    }
}

impl std::fmt::Debug for ReportFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl PartialEq for ReportFormat {
    fn eq(&self, other: &ReportFormat) -> bool {
        self.name() == other.name()
    }
}

impl Eq for ReportFormat {}

/// Every format's name, comma-separated.
fn format_names() -> String {
    std::iter::once("table")
        .chain(parapet_report::format::FORMATS.iter().map(|f| f.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What `--help` says of the formats: each, what it is and its file
/// extensions.
fn formats_help() -> String {
    let mut help = String::from(
        "Format of the standard output:\n  table: a summary by severity and status, then the failing results grouped by rule (.txt)",
    );
    for format in parapet_report::format::FORMATS {
        help.push_str(&format!(
            "\n  {}: {} ({})",
            format.name(),
            format.description(),
            format.extensions().join(", ")
        ));
    }
    help
}

/// A file to write results to, as `FORMAT=PATH` or a path whose extension
/// names the format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputSpec {
    /// The format.
    pub format: ReportFormat,
    /// The file.
    pub path: PathBuf,
}

impl std::str::FromStr for OutputSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some((name, path)) = s.split_once('=') {
            let format = ReportFormat::parse(name)?;
            return Ok(OutputSpec {
                format,
                path: PathBuf::from(path),
            });
        }
        ReportFormat::from_file_name(s)
            .map(|format| OutputSpec {
                format,
                path: PathBuf::from(s),
            })
            .ok_or_else(|| {
                format!("cannot tell the format of `{s}` from its extension: give it as FORMAT={s}")
            })
    }
}

/// How results are reported, for every kind of scan.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Format of the standard output.
    #[arg(long, default_value = "table", value_parser = ReportFormat::parse, long_help = formats_help())]
    pub format: ReportFormat,
    /// Also write the results to a file, as FORMAT=PATH or PATH with an
    /// extension that names the format (.json, .jsonl, .csv, .sarif,
    /// .ocsf.jsonl, .xml for JUnit, .html); may be given several times.
    #[arg(long, value_name = "[FORMAT=]PATH")]
    pub output: Vec<OutputSpec>,
    /// Exit with 1 when any rule of this severity or worse fails.
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,
    /// In the table output, also list the unknown and error results.
    #[arg(long)]
    pub show_undecided: bool,
    /// Only evaluate: do not record assets, findings and events in the database.
    #[arg(long)]
    pub no_store: bool,
    /// Evaluate every rule of every asset again. By default a recorded scan
    /// keeps each result whose inputs (the asset's content, the rule, the
    /// facts it reads) did not change since the last scan.
    #[arg(long)]
    pub full: bool,
}

/// `parapet scan aws`
#[derive(Debug, Args)]
pub struct ScanAwsArgs {
    /// Use this named profile of the shared AWS configuration files.
    #[arg(long, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// Assume this role before collecting.
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
    /// The external id the role's trust policy requires.
    #[arg(long, requires = "role_arn")]
    pub external_id: Option<String>,
    /// The session name of the assumed role [default: parapet].
    #[arg(long, requires = "role_arn")]
    pub session_name: Option<String>,
    /// Collect only these regions [default: every region enabled for the account].
    #[arg(long, value_delimiter = ',', value_name = "REGION")]
    pub regions: Vec<String>,
    /// Collect only these resource types (`parapet resources list` names them).
    #[arg(long, value_delimiter = ',', value_name = "TYPE")]
    pub resource_types: Vec<String>,
    /// Describe again only what a CloudTrail event changed (an EventBridge
    /// "AWS API Call via CloudTrail" event, a record, or a log file's
    /// records; `-` for standard input), with what depends on it, and
    /// evaluate: the step continuous mode takes for each event.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["regions", "resource_types"])]
    pub event: Option<std::path::PathBuf>,
    /// Send every call to this endpoint, for emulators such as moto (the
    /// standard AWS_ENDPOINT_URL variable works too).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Also collect every member account of the organisation, assuming this
    /// role name in each (such as OrganizationAccountAccessRole).
    #[arg(long, value_name = "ROLE_NAME")]
    pub organization_role: Option<String>,
    /// How many API calls may be in flight at once.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Queue the collection for workers (`parapet worker`) instead of
    /// collecting here: one unit per account, region and service, and one
    /// recording per account. Prints the run's number.
    #[arg(long, conflicts_with = "event")]
    pub enqueue: bool,
    /// With --enqueue, wait until every job of the run is done or failed,
    /// then print what the run recorded.
    #[arg(long, requires = "enqueue")]
    pub wait: bool,
    /// How results are reported.
    #[command(flatten)]
    pub report: ReportArgs,
}

/// `parapet scan azure`
#[derive(Debug, Args)]
pub struct ScanAzureArgs {
    /// Where Azure is and what of it to collect.
    #[command(flatten)]
    pub azure: AzureArgs,
    /// How results are reported.
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Where Azure is and what of it to collect, for `scan azure` and
/// `watch --cloud azure`.
#[derive(Debug, Args)]
pub struct AzureArgs {
    /// Collect only these subscriptions [default: the configuration file's
    /// azure section, else every enabled subscription the identity can
    /// read].
    #[arg(long, value_delimiter = ',', value_name = "SUBSCRIPTION")]
    pub subscriptions: Vec<String>,
    /// Collect every subscription under this management group, at any
    /// depth (its id, such as the tenant root group's, the tenant id).
    #[arg(long, value_name = "GROUP", conflicts_with = "subscriptions")]
    pub management_group: Option<String>,
    /// Sign in to each of these tenants in turn and collect their
    /// subscriptions (a multitenant application's secret or certificate, or
    /// the Azure CLI's user) [default: the configuration file's, else the
    /// credential's own tenant].
    #[arg(long, value_delimiter = ',', value_name = "TENANT")]
    pub tenants: Vec<String>,
    /// Azure Resource Manager's endpoint, for a sovereign cloud or a test
    /// server.
    #[arg(
        long,
        value_name = "URL",
        env = "PARAPET_AZURE_RESOURCE_MANAGER",
        default_value = "https://management.azure.com"
    )]
    pub resource_manager: String,
    /// Microsoft Entra ID's sign-in endpoint.
    #[arg(
        long,
        value_name = "URL",
        env = "AZURE_AUTHORITY_HOST",
        default_value = "https://login.microsoftonline.com"
    )]
    pub authority: String,
    /// Trust the certificates of this PEM file besides the public roots (a
    /// proxy that inspects TLS).
    #[arg(long, value_name = "FILE", env = "PARAPET_AZURE_CA_FILE")]
    pub ca_file: Option<PathBuf>,
}

/// `parapet scan file`
#[derive(Debug, Args)]
pub struct ScanFileArgs {
    /// The assets file, one asset per line; `-` reads standard input.
    #[arg(value_name = "ASSETS.jsonl")]
    pub assets: PathBuf,
    /// How results are reported.
    #[command(flatten)]
    pub report: ReportArgs,
    /// Also count this account as collected, so that its assets missing from
    /// the file are marked deleted (the accounts in the file always count).
    #[arg(long = "account", value_name = "ACCOUNT")]
    pub accounts: Vec<String>,
}

/// `parapet exposure`.
#[derive(Debug, Args)]
pub struct ExposureArgs {
    /// One asset (its id, an instance id, or a name): show each exposure with
    /// its path, hop by hop.
    pub asset: Option<String>,
    /// Only this account.
    #[arg(long)]
    pub account: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// The formats `parapet graph` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// Nodes, edges and exposures, for machines.
    Json,
    /// Graphviz DOT, VPCs and subnets as clusters.
    Dot,
    /// A drawing: Graphviz's `dot` when it is installed, else Parapet's own
    /// layout (without cluster frames).
    Svg,
}

/// `parapet graph`.
#[derive(Debug, Args)]
pub struct GraphArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
    /// Only this account.
    #[arg(long)]
    pub account: Option<String>,
    /// Only this region.
    #[arg(long)]
    pub region: Option<String>,
    /// Only this VPC (`vpc-...`).
    #[arg(long)]
    pub vpc: Option<String>,
    /// Draw how the internet reaches this asset (its id, an instance id, or a
    /// name), in bold.
    #[arg(long, value_name = "ASSET")]
    pub path: Option<String>,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<std::path::PathBuf>,
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
    fn outputs_name_their_format_or_take_it_from_the_extension() {
        let spec: OutputSpec = "sarif=out.txt".parse().expect("explicit");
        assert_eq!(spec.format.name(), "sarif");
        let spec: OutputSpec = "report.ocsf.jsonl".parse().expect("by extension");
        assert_eq!(spec.format.name(), "ocsf");
        let spec: OutputSpec = "r.JSONL".parse().expect("case-insensitive");
        assert_eq!(spec.format.name(), "jsonl");
        let spec: OutputSpec = "r.txt".parse().expect("the tables");
        assert_eq!(spec.format, ReportFormat::Table);
        assert!("results".parse::<OutputSpec>().is_err());
        let refused = "yaml=r.yaml"
            .parse::<OutputSpec>()
            .expect_err("no such format");
        assert!(
            refused.contains("table, json, jsonl, csv, sarif, ocsf, junit, html"),
            "the formats come from the registry: {refused}"
        );
    }

    #[test]
    fn fail_on_takes_a_severity() {
        let cli = Cli::try_parse_from(["parapet", "scan", "file", "a.jsonl", "--fail-on", "high"])
            .expect("parses");
        let Command::Scan(ScanCommand::File(args)) = cli.command else {
            panic!("expected scan file")
        };
        assert_eq!(args.report.fail_on, Some(Severity::High));
        assert!(
            Cli::try_parse_from(["parapet", "scan", "file", "a.jsonl", "--fail-on", "severe"])
                .is_err()
        );
    }
}
