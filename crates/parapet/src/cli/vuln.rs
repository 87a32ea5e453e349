//! `parapet vuln`: its commands, targets and formats.

use super::Format;
use clap::{Args, Subcommand, ValueEnum};
use parapet_core::Severity;
use std::path::PathBuf;

/// `parapet vuln ...`
#[derive(Debug, Subcommand)]
pub enum VulnCommand {
    /// List a target's packages with known vulnerabilities, each with its
    /// severity and the version that fixes it.
    Scan(VulnScanArgs),
    /// A target's packages as a CycloneDX 1.6 SBOM (or a table, or JSON).
    Sbom(VulnSbomArgs),
    /// The advisory database: import OSV records, download them, count them.
    #[command(subcommand)]
    Db(VulnDbCommand),
}

/// What to scan and how to read it.
#[derive(Debug, Args)]
pub struct VulnTarget {
    /// An OCI image layout folder (`PATH[:TAG]`), an OCI or `docker save`
    /// archive, `docker://HOST/REPOSITORY:TAG` (a registry), a root
    /// filesystem or source folder, a disk image (raw, qcow2, VMDK) with an
    /// ext4 filesystem, a CycloneDX or SPDX JSON SBOM, a lockfile, or a Go
    /// binary. A prefix (`oci:`, `oci-archive:`, `docker-archive:`, `dir:`,
    /// `disk:`, `sbom:`, `lockfile:`, `binary:`) says which when the
    /// content does not.
    pub target: String,
    /// The registry user name (the password comes from
    /// PARAPET_REGISTRY_PASSWORD).
    #[arg(long, env = "PARAPET_REGISTRY_USERNAME")]
    pub username: Option<String>,
    /// Speak HTTP to the registry (always so for localhost and 127.0.0.1).
    #[arg(long)]
    pub plain_http: bool,
    /// The most uncompressed data to read from the target (against
    /// decompression bombs), such as 32GiB.
    #[arg(long, value_name = "SIZE", default_value = "32GiB")]
    pub max_size: String,
    /// The most entries (files, folders, links) read from the target.
    #[arg(long, value_name = "N", default_value_t = 5_000_000)]
    pub max_entries: u64,
    /// The largest package database (dpkg, apk, rpm) or executable read.
    #[arg(long, value_name = "SIZE", default_value = "512MiB")]
    pub max_file_size: String,
    /// The largest package manifest or lockfile read (package.json,
    /// METADATA, Cargo.lock).
    #[arg(long, value_name = "SIZE", default_value = "16MiB")]
    pub max_manifest_size: String,
    /// The most file content held in memory at once, all files together.
    #[arg(long, value_name = "SIZE", default_value = "2GiB")]
    pub max_held: String,
}

/// `parapet vuln scan`
#[derive(Debug, Args)]
pub struct VulnScanArgs {
    /// What to scan.
    #[command(flatten)]
    pub target: VulnTarget,
    /// Output format.
    #[arg(long, value_enum, default_value_t = VulnFormat::Table)]
    pub format: VulnFormat,
    /// Only vulnerabilities this severe or worse.
    #[arg(long, value_name = "SEVERITY")]
    pub min_severity: Option<Severity>,
    /// Only vulnerabilities with a fixed version.
    #[arg(long)]
    pub fixed_only: bool,
    /// Exit with 1 when a vulnerability this severe or worse is found.
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,
    /// Attach the results to this asset of the inventory (its id or ARN,
    /// resource id or name): an AMI (`ami-...`), a snapshot of a volume, a
    /// volume, an instance, an ECR repository. Rules read them as
    /// `vulnerabilities`; an instance also gets its AMI's and its volumes'
    /// snapshots'.
    #[arg(long, value_name = "ID")]
    pub asset: Option<String>,
    /// The advisory database.
    #[command(flatten)]
    pub db: VulnDbArgs,
}

/// `parapet vuln sbom`
#[derive(Debug, Args)]
pub struct VulnSbomArgs {
    /// What to list.
    #[command(flatten)]
    pub target: VulnTarget,
    /// Output format.
    #[arg(long, value_enum, default_value_t = SbomFormat::Cyclonedx)]
    pub format: SbomFormat,
}

/// The advisory database's file.
#[derive(Debug, Args)]
pub struct VulnDbArgs {
    /// The advisory database [default: parapet/advisories.db in the
    /// platform's data folder].
    #[arg(long = "vuln-db", value_name = "PATH", env = "PARAPET_VULN_DB")]
    pub path: Option<PathBuf>,
}

/// `parapet vuln db ...`
#[derive(Debug, Subcommand)]
pub enum VulnDbCommand {
    /// Import OSV records from folders (searched recursively for *.json)
    /// or zip files (such as osv.dev's per-ecosystem all.zip).
    Import {
        /// The folders or zip files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The advisory database.
        #[command(flatten)]
        db: VulnDbArgs,
    },
    /// Download osv.dev's export of each ecosystem and import it.
    Update {
        /// Only these ecosystems (OSV's names: Debian, Alpine, PyPI, Go,
        /// npm, crates.io, Maven, RubyGems, Packagist, Ubuntu, Rocky Linux,
        /// AlmaLinux, Red Hat) [default: all of them].
        #[arg(long = "ecosystem", value_name = "NAME")]
        ecosystems: Vec<String>,
        /// Where the exports are [default: osv.dev's bucket].
        #[arg(
            long,
            default_value = "https://osv-vulnerabilities.storage.googleapis.com"
        )]
        source: String,
        /// The advisory database.
        #[command(flatten)]
        db: VulnDbArgs,
    },
    /// How many advisories the database holds per ecosystem.
    Status {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// The advisory database.
        #[command(flatten)]
        db: VulnDbArgs,
    },
}

/// `parapet vuln scan --format`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VulnFormat {
    /// A table for people.
    Table,
    /// Parapet's JSON: the inventory and every match.
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// CycloneDX 1.6 with vulnerabilities.
    Cyclonedx,
}

/// `parapet vuln sbom --format`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SbomFormat {
    /// CycloneDX 1.6 JSON.
    Cyclonedx,
    /// Parapet's inventory JSON.
    Json,
    /// A table for people.
    Table,
}
