//! `parapet scan azure`: the Azure provider's options from the command
//! line, the environment and the configuration file.

use crate::cli::{AzureArgs, GlobalArgs, ScanAzureArgs};
use crate::output::Style;
use crate::scan_aws_cmd::collect_and_report;
use crate::scan_cmd::Scan;
use anyhow::Result;
use parapet_azure::{AzureOptions, AzureProvider, Credentials, Endpoints};
use parapet_pipeline::Request;
use parapet_store::Policy;
use std::process::ExitCode;

/// Runs `parapet scan azure`.
pub fn run(
    global: &GlobalArgs,
    config: &crate::config::ConfigFile,
    policy: &Policy,
    args: &ScanAzureArgs,
    style: Style,
) -> Result<ExitCode> {
    let provider = AzureProvider::new(options(&args.azure, config)?);
    collect_and_report(
        Scan {
            global,
            config,
            policy,
            args: &args.report,
            style,
        },
        &provider,
        Request::Whole,
    )
}

/// The Azure provider's options: the endpoints, the credential the
/// environment describes, and the scope the command line gives, else the
/// configuration file's.
pub fn options(args: &AzureArgs, config: &crate::config::ConfigFile) -> Result<AzureOptions> {
    let mut endpoints = Endpoints::new(&args.resource_manager, &args.authority)?;
    if let Some(file) = &args.ca_file {
        endpoints = endpoints.trust(file)?;
    }
    let named = !args.subscriptions.is_empty();
    let (subscriptions, management_group) = match (named, &args.management_group) {
        (true, _) => (Some(args.subscriptions.clone()), None),
        (false, Some(group)) => (None, Some(group.clone())),
        (false, None) => (
            config.azure.subscriptions.clone(),
            config.azure.management_group.clone(),
        ),
    };
    let tenants = match args.tenants.as_slice() {
        [] => config.azure.tenants.clone().unwrap_or_default(),
        named => named.to_vec(),
    };
    Ok(AzureOptions {
        subscriptions,
        management_group,
        tenants,
        credentials: Credentials::from_env(|name| std::env::var(name).ok()),
        endpoints,
    })
}
