//! What to collect and with which identity: the command line's and the
//! configuration file's AWS options.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// How to reach an AWS estate and what to read of it (no credential: those
/// come from each process's own environment), as jobs for workers carry
/// them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AwsOptions {
    /// A named profile of the shared configuration files, instead of the
    /// default credential chain's choice.
    pub profile: Option<String>,
    /// A role to assume with the base credentials before collecting.
    pub role: Option<AssumeRole>,
    /// The regions to collect; every region enabled for the account when
    /// `None`.
    pub regions: Option<Vec<String>>,
    /// The resource types to collect (`AWS::S3::Bucket`); every type when
    /// `None`.
    pub resource_types: Option<Vec<String>>,
    /// An endpoint for every service, for emulators (the standard
    /// `AWS_ENDPOINT_URL` variable is read as well). S3 then uses path-style
    /// addresses and S3 Control the plain endpoint.
    pub endpoint_url: Option<String>,
    /// Further accounts, each reached by assuming a role in it.
    pub accounts: Vec<AccountTarget>,
    /// Discover the organisation's member accounts and assume this role
    /// (a role name, such as `OrganizationAccountAccessRole`) in each.
    pub organization_role: Option<String>,
    /// How many API calls may be in flight at once.
    pub concurrency: usize,
    /// For the resource types named, only the resources these keys name
    /// (an id, ARN, name or URL, as CloudTrail events give them); continuous
    /// mode's targeted refresh.
    pub keys: BTreeMap<String, BTreeSet<String>>,
    /// Only these of the accounts the options reach, when given.
    pub only_accounts: Option<BTreeSet<String>>,
}

impl AwsOptions {
    /// Whether a collection with these options covers less than its
    /// accounts whole (some regions or types only).
    pub fn partial(&self) -> bool {
        self.regions.is_some() || self.resource_types.is_some()
    }
}

/// A role to assume.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AssumeRole {
    /// The role's ARN.
    pub role_arn: String,
    /// The external id the role's trust policy requires, if any.
    #[serde(default)]
    pub external_id: Option<String>,
    /// The session name, shown in the account's CloudTrail.
    #[serde(default)]
    pub session_name: Option<String>,
}

/// One more account to collect, as the configuration file lists it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AccountTarget {
    /// A name for messages; the account id when absent.
    #[serde(default)]
    pub name: Option<String>,
    /// The role to assume in the account.
    #[serde(flatten)]
    pub role: AssumeRole,
}

/// The default number of API calls in flight.
pub const DEFAULT_CONCURRENCY: usize = 32;

/// The session name used when none is given.
pub const DEFAULT_SESSION_NAME: &str = "parapet";

/// The `aws` section of Parapet's configuration file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AwsFileConfig {
    /// Regions to collect.
    #[serde(default)]
    pub regions: Option<Vec<String>>,
    /// Accounts to collect besides the one of the base credentials.
    #[serde(default)]
    pub accounts: Vec<AccountTarget>,
    /// Discover an organisation's accounts and assume this role in each.
    #[serde(default)]
    pub organization_role: Option<String>,
}
