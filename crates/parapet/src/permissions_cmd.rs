//! `parapet permissions aws`: the IAM policy the collector needs.

use crate::cli::{PermissionsAwsArgs, PermissionsCommand};
use crate::output::print_json;
use anyhow::Result;
use parapet_aws::permissions::{PolicyOptions, policy};
use std::process::ExitCode;

/// Prints the policy.
pub fn run(command: &PermissionsCommand) -> Result<ExitCode> {
    let PermissionsCommand::Aws(PermissionsAwsArgs {
        organization,
        queue_arn,
        dead_letter_queue_arn,
    }) = command;
    print_json(&policy(&PolicyOptions {
        organization: *organization,
        queue_arn: queue_arn.clone(),
        dead_letter_queue_arn: dead_letter_queue_arn.clone(),
    }))?;
    Ok(ExitCode::SUCCESS)
}
