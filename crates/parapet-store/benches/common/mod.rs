//! What the store's benches share: the rule they evaluate, and recording
//! one account's scan as a collection does.

use chrono::{DateTime, Utc};
use parapet_core::{Asset, Evaluation, Provider, Scope, Severity, Status};
use parapet_store::Store;
use std::collections::BTreeMap;
use std::time::Instant;

/// The one rule evaluated: a bucket's versioning.
pub const RULE: &str = "aws-s3-bucket-versioning-enabled";

/// The rule's evaluation of each asset: failing where versioning is not
/// enabled.
pub fn evaluations(assets: &[Asset]) -> Vec<Evaluation> {
    assets
        .iter()
        .map(|a| {
            let failing = a.config["Versioning"]["Status"] != "Enabled";
            Evaluation {
                rule_id: RULE.into(),
                asset_id: a.id.as_str().into(),
                status: if failing { Status::Fail } else { Status::Pass },
                message: if failing {
                    "S3 buckets have versioning enabled".into()
                } else {
                    "".into()
                },
                evidence: if failing {
                    BTreeMap::from([(
                        "config.Versioning.Status".to_owned(),
                        a.config["Versioning"]["Status"].clone(),
                    )])
                    .into()
                } else {
                    Default::default()
                },
            }
        })
        .collect()
}

/// One account, every region and type.
pub fn scope(account: &str) -> Scope {
    Scope::whole(Provider::Aws, vec![account.into()])
}

pub fn scan(
    store: &mut dyn Store,
    assets: &[Asset],
    evaluations: &[Evaluation],
    when: DateTime<Utc>,
) -> f64 {
    let started = Instant::now();
    let account = assets
        .first()
        .map_or("111111111111", |a| a.account.as_str());
    let id = store
        .begin_scan(
            &scope(account),
            "bench",
            &parapet_core::Provenance::new("bench", "bench"),
            when,
        )
        .expect("begin");
    store
        .finish_scan(
            id,
            assets,
            parapet_store::Evaluated::all(evaluations),
            &|_: &str| Severity::Medium,
            &[],
            when,
        )
        .expect("finish");
    started.elapsed().as_secs_f64()
}
