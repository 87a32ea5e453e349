//! The identity policy: the principals an organisation means to hold
//! administrator rights, which rules about who can do everything leave out.
//! It comes from Parapet's configuration (the `identity` section) and
//! reaches rules as the `administrators` variable, a list of ARN patterns
//! that `arnLike` matches.

use serde::{Deserialize, Serialize};

/// The principals named as administrators.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityPolicy {
    /// ARN patterns, with `*` and `?` as IAM's `ArnLike` reads them
    /// (`arn:aws:iam::*:role/OrganizationAccountAccessRole`).
    #[serde(default)]
    pub administrators: Vec<String>,
}
