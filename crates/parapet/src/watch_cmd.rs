//! `parapet watch`: the daemon's settings from its options and the
//! configuration file's `watch` section, the cloud watched (AWS with its SQS
//! queue, or Azure with its Storage queue), the API beside it when asked,
//! and the signals that stop it.

use crate::cli::{Cloud, GlobalArgs, LogFormat, WatchArgs};
use crate::config::ConfigFile;
use anyhow::{Context, Result};
use parapet_aws::{AwsOptions, AwsProvider};
use parapet_azure::{AzureProvider, StorageQueue};
use parapet_core::Secret;
use parapet_gcp::{GcpProvider, PubSubQueue};
use parapet_pipeline::Pipeline;
use parapet_provider::{Provider, Queue};
use parapet_store::{Policy, Store, StoreError};
use parapet_watch::{Daemon, Log, Settings};
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// The queue the events arrive on.
struct QueueSettings {
    url: String,
    region: Option<String>,
    dead_letter: Option<String>,
}

/// The daemon's settings: its options, else the configuration file's
/// `watch` section, else the defaults.
fn settings(args: &WatchArgs, config: &ConfigFile) -> Result<(Settings, Option<QueueSettings>)> {
    let file = &config.watch;
    let secret = match (
        &args.event_secret_file,
        std::env::var("PARAPET_EVENT_SECRET"),
    ) {
        (Some(path), _) => Some(Secret::File(path.clone()).read()?),
        (None, Ok(value)) if !value.is_empty() => Some(value),
        _ => file.event_secret.as_ref().map(Secret::read).transpose()?,
    };
    let queue = args
        .queue_url
        .clone()
        .or_else(|| file.queue_url.clone())
        .map(|url| QueueSettings {
            url,
            region: args
                .queue_region
                .clone()
                .or_else(|| file.queue_region.clone()),
            dead_letter: args
                .dead_letter_queue_url
                .clone()
                .or_else(|| file.dead_letter_queue_url.clone()),
        });
    let settings = Settings {
        delay: args.delay.or(file.delay).unwrap_or_default(),
        wait: args.wait.or(file.wait_seconds).unwrap_or(1),
        log: Log(match args.log_format.or(file.log_format) {
            Some(LogFormat::Json) => parapet_watch::LogFormat::Json,
            Some(LogFormat::Human) | None => parapet_watch::LogFormat::Human,
        }),
        listen: args.listen.clone().or_else(|| file.listen.clone()),
        serving: None,
        resync: args.resync.or(file.resync),
        event_secret: secret,
    };
    anyhow::ensure!(
        queue.is_some() || settings.event_secret.is_some(),
        "no event source: give a queue (--queue-url, PARAPET_QUEUE_URL or watch.queue_url), \
         or an address and a secret for the /events endpoint"
    );
    anyhow::ensure!(
        settings.event_secret.is_none() || settings.listen.is_some(),
        "the /events endpoint has a secret but no address: give --listen"
    );
    anyhow::ensure!(
        (0..=20).contains(&settings.wait),
        "the receive wait is {} s; give 0 to 20 (SQS's limit)",
        settings.wait
    );
    Ok((settings, queue))
}

/// Runs `parapet watch` until SIGTERM or SIGINT.
pub fn run(
    global: &GlobalArgs,
    config: &ConfigFile,
    policy: &Policy,
    notifier: Option<&parapet_notify::Notifier>,
    args: &WatchArgs,
) -> Result<ExitCode> {
    let (mut settings, queue) = settings(args, config)?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("cannot listen for signals")?;
    }
    let server = args
        .serve
        .as_deref()
        .map(|listen| {
            crate::serve_cmd::spawn(
                global,
                policy,
                listen,
                &args.serve_options,
                Arc::clone(&stop),
            )
        })
        .transpose()?;
    settings.serving = server.as_ref().map(|s| s.address.to_string());
    let (provider, queue) = match args.cloud.or(config.watch.cloud).unwrap_or(Cloud::Aws) {
        Cloud::Aws => aws(args, config, queue)?,
        Cloud::Azure => azure(args, config, queue)?,
        Cloud::Gcp => gcp(args, config, queue)?,
    };
    let rules = crate::rules_cmd::load_rules(global);
    crate::rules_cmd::report_load_errors(&rules);
    let pipeline = Pipeline::new(rules.rules, &config.tags, &config.identity);
    let database = crate::db::database(global)?;
    let open_store = || -> Result<Box<dyn Store>, StoreError> { database.open_with(policy) };
    Daemon {
        pipeline: &pipeline,
        provider: provider.as_ref(),
        queue,
        open: &open_store,
        notifier,
        settings: &settings,
        stop,
    }
    .run()
    .with_context(|| format!("the daemon over {}", database.name()))?;
    Ok(ExitCode::SUCCESS)
}

/// What a cloud's daemon works with: its provider, and the queue its
/// events arrive on, if one is given.
type Watched = (Box<dyn Provider>, Option<Arc<dyn Queue>>);

/// AWS: the accounts and regions of the configuration file, the SQS queue.
fn aws(args: &WatchArgs, config: &ConfigFile, queue: Option<QueueSettings>) -> Result<Watched> {
    let queue: Option<Arc<dyn Queue>> = match queue {
        Some(q) => Some(Arc::new(
            parapet_aws::queue::Queue::connect(
                &q.url,
                q.region.as_deref(),
                args.profile.as_deref(),
                args.endpoint_url.as_deref(),
            )
            .with_context(|| format!("cannot reach the queue {}", q.url))?
            .with_dead_letter(q.dead_letter),
        )),
        None => None,
    };
    let provider = AwsProvider::new(AwsOptions {
        profile: args.profile.clone(),
        role: None,
        regions: config.aws.regions.clone(),
        resource_types: None,
        endpoint_url: args.endpoint_url.clone(),
        accounts: config.aws.accounts.clone(),
        organization_role: config.aws.organization_role.clone(),
        concurrency: parapet_aws::options::DEFAULT_CONCURRENCY,
        keys: BTreeMap::new(),
        only_accounts: None,
    });
    Ok((Box::new(provider), queue))
}

/// Azure: the subscriptions of the options or the configuration file, the
/// Storage queue, signed in with the same credential.
fn azure(args: &WatchArgs, config: &ConfigFile, queue: Option<QueueSettings>) -> Result<Watched> {
    let options = crate::scan_azure_cmd::options(&args.azure, config)?;
    let queue: Option<Arc<dyn Queue>> = match queue {
        Some(q) => Some(Arc::new(
            StorageQueue::connect(
                &q.url,
                q.dead_letter.as_deref(),
                &options.credentials,
                &options.endpoints,
            )
            .with_context(|| {
                // A SAS token in the URL's query never shows.
                let shown = q.url.split('?').next().unwrap_or_default();
                format!("cannot reach the queue {shown}")
            })?,
        )),
        None => None,
    };
    Ok((Box::new(AzureProvider::new(options)), queue))
}

/// Google Cloud: the scope of the options or the configuration file, the
/// Pub/Sub subscription of its Cloud Asset Inventory feed, signed in with
/// the same credential.
fn gcp(args: &WatchArgs, config: &ConfigFile, queue: Option<QueueSettings>) -> Result<Watched> {
    let options = crate::scan_gcp_cmd::options(&args.gcp, config)?;
    let queue: Option<Arc<dyn Queue>> = match queue {
        Some(q) => Some(Arc::new(
            PubSubQueue::connect(
                &q.url,
                q.dead_letter.as_deref(),
                &options.credentials,
                &options.endpoints,
            )
            .with_context(|| format!("cannot reach the subscription {}", q.url))?,
        )),
        None => None,
    };
    Ok((Box::new(GcpProvider::new(options)), queue))
}
