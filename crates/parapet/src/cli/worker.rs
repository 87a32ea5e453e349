//! `parapet worker` and `parapet jobs`: work spread over processes that
//! share one database.

use super::Format;
use clap::Args;

/// `parapet worker`
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// This worker's name in the queue [default: HOST:PID].
    #[arg(long)]
    pub name: Option<String>,
    /// How long a claim holds before another worker may take the job; the
    /// worker renews it every third of that while it works.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    pub lease: std::time::Duration,
    /// How long to wait before asking again when no job is ready.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    pub poll: std::time::Duration,
    /// Jobs done at once, each by a thread with its own connection.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Stop once no job is queued or running, rather than wait for more.
    #[arg(long)]
    pub until_idle: bool,
    /// Serve `/health` and `/metrics` (Prometheus) on this address
    /// (`127.0.0.1:0` picks a free port; the address is printed).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Only these kinds of job (plan, collect, record, unreachable).
    #[arg(long, value_delimiter = ',', value_name = "KIND")]
    pub kinds: Vec<String>,
}

/// `parapet jobs`
#[derive(Debug, Args)]
pub struct JobsArgs {
    /// The jobs of one run (the number `parapet scan aws --enqueue` printed)
    /// rather than the queue's counts.
    #[arg(long, value_name = "RUN")]
    pub run: Option<i64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}
