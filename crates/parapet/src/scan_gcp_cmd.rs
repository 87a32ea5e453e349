//! `parapet scan gcp`: the Google Cloud provider's options from the
//! command line, the environment and the configuration file.

use crate::cli::{GcpArgs, GlobalArgs, ScanGcpArgs};
use crate::output::Style;
use crate::scan_aws_cmd::collect_and_report;
use crate::scan_cmd::Scan;
use anyhow::{Result, bail};
use parapet_gcp::{Credentials, Endpoints, GcpOptions, GcpProvider, GcpScope};
use parapet_pipeline::Request;
use parapet_store::Policy;
use std::process::ExitCode;

/// Runs `parapet scan gcp`.
pub fn run(
    global: &GlobalArgs,
    config: &crate::config::ConfigFile,
    policy: &Policy,
    args: &ScanGcpArgs,
    style: Style,
) -> Result<ExitCode> {
    let provider = GcpProvider::new(options(&args.gcp, config)?);
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

/// The Google Cloud provider's options: the scope the command line gives,
/// else the configuration file's, the credential and the endpoint.
pub fn options(args: &GcpArgs, config: &crate::config::ConfigFile) -> Result<GcpOptions> {
    let file = &config.gcp;
    let scope = match (&args.organization, &args.folder, args.projects.as_slice()) {
        (Some(organization), _, _) => GcpScope::Organization(organization.clone()),
        (None, Some(folder), _) => GcpScope::Folder(folder.clone()),
        (None, None, [_, ..]) => GcpScope::Projects(args.projects.clone()),
        (None, None, []) => match (&file.organization, &file.folder, &file.projects) {
            (Some(organization), None, None) => GcpScope::Organization(organization.clone()),
            (None, Some(folder), None) => GcpScope::Folder(folder.clone()),
            (None, None, Some(projects)) if !projects.is_empty() => {
                GcpScope::Projects(projects.clone())
            }
            (None, None, _) => bail!(
                "name what to collect: --organization NUMBER, --folder NUMBER or --projects ID,... \
                 (or organization, folder or projects in the configuration file's gcp section)"
            ),
            _ => bail!(
                "the configuration file's gcp section names more than one of organization, folder \
                 and projects; name one"
            ),
        },
    };
    Ok(GcpOptions {
        scope,
        credentials: Credentials {
            file: args.credentials_file.clone(),
            impersonate: args
                .impersonate_service_account
                .clone()
                .or_else(|| file.impersonate_service_account.clone()),
        },
        endpoints: Endpoints::new(
            args.inventory_endpoint.as_deref(),
            args.pubsub_endpoint.as_deref(),
        )?,
    })
}
