//! `parapet watch`: the daemon's options.

use super::{AzureArgs, GcpArgs, ServeOptions};
use clap::{Args, ValueEnum};

/// How `parapet watch` writes its log (to standard error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One readable line per event.
    Human,
    /// One JSON object per line.
    Json,
}

/// `parapet watch`. Each setting may also come from the configuration
/// file's `watch` section; an option or its environment variable wins.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The cloud watched [default: aws].
    #[arg(long, value_enum)]
    pub cloud: Option<Cloud>,
    /// The queue change events arrive on: for AWS, the SQS queue an
    /// EventBridge rule sends CloudTrail events to; for Azure, the Storage
    /// queue an Event Grid subscription delivers to
    /// (`https://ACCOUNT.queue.core.windows.net/QUEUE`); for Google Cloud,
    /// the Pub/Sub subscription of a Cloud Asset Inventory feed's topic
    /// (`projects/PROJECT/subscriptions/SUBSCRIPTION`).
    #[arg(long, env = "PARAPET_QUEUE_URL", value_name = "URL")]
    pub queue_url: Option<String>,
    /// The queue's region [default: the one its URL names, else the
    /// configured region].
    #[arg(long, value_name = "REGION")]
    pub queue_region: Option<String>,
    /// Where messages that are not change events are set aside, a queue
    /// of the same kind, or for Google Cloud a Pub/Sub topic (else they
    /// are logged and dropped).
    #[arg(long, env = "PARAPET_DEAD_LETTER_QUEUE_URL", value_name = "URL")]
    pub dead_letter_queue_url: Option<String>,
    /// A named profile of the shared AWS configuration files.
    #[arg(long, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// Send every AWS call to this endpoint (an emulator such as moto).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// How long to wait after events arrive before describing what they
    /// changed, for AWS's eventual consistency (`2s`, `500ms`) [default: 0s].
    #[arg(long, value_parser = humantime::parse_duration)]
    pub delay: Option<std::time::Duration>,
    /// How long one receive waits for messages, in seconds [default: 1].
    #[arg(long, value_name = "SECONDS")]
    pub wait: Option<i32>,
    /// Log format [default: human].
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormat>,
    /// Serve `/health`, Prometheus `/metrics` and, with a secret, the
    /// `/events` endpoint on this address (`127.0.0.1:9464`).
    #[arg(long, env = "PARAPET_LISTEN", value_name = "ADDRESS")]
    pub listen: Option<String>,
    /// Collect each account whole this often, the accounts spread over the
    /// interval, which also catches deletions and missed events (`6h`);
    /// never by default.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub resync: Option<std::time::Duration>,
    /// A file holding the secret that senders to `/events` prove they hold
    /// (the variable PARAPET_EVENT_SECRET may hold it instead).
    #[arg(long, value_name = "PATH")]
    pub event_secret_file: Option<std::path::PathBuf>,
    /// Also serve the HTTP API and the web UI on this address, as
    /// `parapet serve` does (`127.0.0.1:8080`).
    #[arg(long, env = "PARAPET_SERVE", value_name = "ADDRESS")]
    pub serve: Option<String>,
    /// How the API and the web UI are reached.
    #[command(flatten)]
    pub serve_options: ServeOptions,
    /// Azure's endpoints and scope, with --cloud azure.
    #[command(flatten, next_help_heading = "Azure (with --cloud azure)")]
    pub azure: AzureArgs,
    /// Google Cloud's scope and endpoints, with --cloud gcp.
    #[command(flatten, next_help_heading = "Google Cloud (with --cloud gcp)")]
    pub gcp: GcpArgs,
}

/// The clouds `parapet watch` follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    /// CloudTrail events through EventBridge.
    Aws,
    /// Event Grid's events of Azure subscriptions.
    Azure,
    /// Cloud Asset Inventory feeds of a Google Cloud organisation, folder
    /// or projects, through Pub/Sub.
    Gcp,
}
