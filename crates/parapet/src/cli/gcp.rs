//! `parapet scan gcp`: what of Google Cloud to collect, and as whom.

use super::ReportArgs;
use clap::Args;
use std::path::PathBuf;

/// `parapet scan gcp`
#[derive(Debug, Args)]
pub struct ScanGcpArgs {
    /// Where Google Cloud is and what of it to collect, for `scan gcp` and
    /// `watch --cloud gcp`.
    #[command(flatten)]
    pub gcp: GcpArgs,
    /// How results are reported.
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Where Google Cloud is and what of it to collect, for `scan gcp` and
/// `watch --cloud gcp`.
#[derive(Debug, Args)]
pub struct GcpArgs {
    /// Collect every project of this organisation (its number), and the
    /// organisation's own resources (its IAM policy, folders, sinks,
    /// essential contacts) [default: the configuration file's gcp
    /// section].
    #[arg(long, value_name = "NUMBER", conflicts_with_all = ["folder", "projects"])]
    pub organization: Option<String>,
    /// Collect every project under this folder (its number), at any depth.
    #[arg(long, value_name = "NUMBER", conflicts_with = "projects")]
    pub folder: Option<String>,
    /// Collect these projects (by id).
    #[arg(long, value_delimiter = ',', value_name = "PROJECT")]
    pub projects: Vec<String>,
    /// Act as this service account (the credential found needs the
    /// Service Account Token Creator role on it).
    #[arg(long, value_name = "EMAIL")]
    pub impersonate_service_account: Option<String>,
    /// Read this credentials file rather than looking as Application
    /// Default Credentials do (a service account key, gcloud's
    /// authorized_user file, a workload identity federation or an
    /// impersonation configuration).
    #[arg(long, value_name = "FILE", env = "PARAPET_GCP_CREDENTIALS_FILE")]
    pub credentials_file: Option<PathBuf>,
    /// Cloud Asset Inventory's endpoint, for a private endpoint or a test
    /// server [default: https://cloudasset.googleapis.com].
    #[arg(long, value_name = "URL", env = "PARAPET_GCP_INVENTORY_ENDPOINT")]
    pub inventory_endpoint: Option<String>,
    /// Pub/Sub's endpoint, for `watch --cloud gcp` [default:
    /// https://pubsub.googleapis.com].
    #[arg(long, value_name = "URL", env = "PARAPET_GCP_PUBSUB_ENDPOINT")]
    pub pubsub_endpoint: Option<String>,
}
