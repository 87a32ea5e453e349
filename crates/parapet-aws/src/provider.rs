//! The AWS estate as a provider: collection through the official SDK, the
//! CloudTrail events each type declares, and the refresh plan of a batch of
//! them: only the resources they name, with what depends on them.

use crate::collect::GLOBAL;
use crate::events::{Resolved, key_names};
use crate::options::AwsOptions;
use crate::session::{HOME_REGION, account_of_role};
use crate::types::region::REGION;
use parapet_core::Asset;
use parapet_provider::{
    AccountUnits, Collection, Decoded, Narrowing, Part, Progress, Provider, ProviderError,
    ResourceTypeInfo, Target, Unit, UnitOutput, UnitPlan,
};
use std::collections::BTreeSet;
use std::ops::ControlFlow;

/// An AWS estate: the accounts and regions its options reach.
#[derive(Debug, Clone)]
pub struct AwsProvider {
    options: AwsOptions,
}

impl AwsProvider {
    /// The estate `options` describe.
    pub fn new(options: AwsOptions) -> AwsProvider {
        AwsProvider { options }
    }

    /// Its options.
    pub fn options(&self) -> &AwsOptions {
        &self.options
    }

    /// Its options, narrowed to the part `narrowing` names when given.
    fn narrowed(&self, narrowing: Option<&Narrowing>) -> AwsOptions {
        match narrowing {
            Some(narrowing) => narrowed(&self.options, narrowing),
            None => self.options.clone(),
        }
    }
}

/// `options` narrowed to the part `narrowing` names.
fn narrowed(options: &AwsOptions, narrowing: &Narrowing) -> AwsOptions {
    AwsOptions {
        regions: narrowing
            .regions
            .as_ref()
            .map(|r| r.iter().cloned().collect())
            .or_else(|| options.regions.clone()),
        resource_types: narrowing
            .resource_types()
            .or_else(|| options.resource_types.clone()),
        keys: narrowing.keyed.clone(),
        only_accounts: Some(narrowing.accounts.clone()),
        ..options.clone()
    }
}

impl Provider for AwsProvider {
    fn source(&self) -> String {
        "aws".to_owned()
    }

    fn version(&self) -> String {
        format!("parapet-aws {}", env!("CARGO_PKG_VERSION"))
    }

    fn resource_types(&self) -> Vec<ResourceTypeInfo> {
        crate::catalog()
    }

    fn collect(
        &self,
        narrowing: Option<&Narrowing>,
        progress: &dyn Progress,
    ) -> Result<Collection, ProviderError> {
        let options = self.narrowed(narrowing);
        crate::collect(&options, progress).map_err(ProviderError::start)
    }

    fn collect_parts(
        &self,
        narrowing: Option<&Narrowing>,
        progress: &dyn Progress,
        each: &mut dyn FnMut(Part, bool) -> ControlFlow<()>,
    ) -> Result<Collection, ProviderError> {
        let options = self.narrowed(narrowing);
        let partial = options.partial();
        crate::collect_parts(&options, progress, &mut |part| each(part, partial))
            .map_err(ProviderError::start)
    }

    fn plan_units(&self, narrowing: Option<&Narrowing>) -> Result<UnitPlan, ProviderError> {
        let options = self.narrowed(narrowing);
        crate::units::plan(&options).map_err(ProviderError::start)
    }

    fn collect_unit(&self, unit: &Unit) -> Result<UnitOutput, ProviderError> {
        crate::units::collect_unit(&self.options, unit).map_err(|e| match e {
            crate::AwsError::Unit(why) => ProviderError::NotAUnit(why),
            other => ProviderError::Start(Box::new(other)),
        })
    }

    fn assemble(
        &self,
        account: &AccountUnits,
        outputs: &[(Unit, Result<UnitOutput, String>)],
    ) -> Part {
        crate::units::assemble(account, outputs)
    }

    fn decode(&self, message: &serde_json::Value) -> Result<Decoded, ProviderError> {
        let resolved = crate::events::builtin()
            .resolve(message)
            .map_err(|e| ProviderError::NotAnEvent(e.to_string()))?;
        let mut decoded = Decoded::default();
        for outcome in resolved {
            match outcome {
                Resolved::Targets { event, targets, .. } => {
                    for target in targets {
                        decoded.notes.push(format!(
                            "{event}: {} {} in {} ({:?})",
                            target.resource_type, target.key, target.region, target.action
                        ));
                        // A burst's repeated changes to one resource are
                        // described once.
                        if !decoded.targets.contains(&target) {
                            decoded.targets.push(target);
                        }
                    }
                }
                Resolved::ReadOnly { event } => decoded
                    .notes
                    .push(format!("{event}: read-only, nothing changed")),
                Resolved::Failed { event, error } => decoded
                    .notes
                    .push(format!("{event}: the call failed ({error})")),
                Resolved::Unmapped { event } => decoded
                    .notes
                    .push(format!("{event}: not a change Parapet follows")),
            }
        }
        Ok(decoded)
    }

    fn plan(&self, targets: &[Target], stored: &[Asset]) -> Narrowing {
        plan(&self.resource_types(), targets, stored)
    }

    fn names(&self, key: &str, asset: &Asset) -> bool {
        key_names(key, &[&asset.id, &asset.name])
    }

    fn configured_accounts(&self) -> BTreeSet<String> {
        self.options
            .accounts
            .iter()
            .filter_map(|t| account_of_role(&t.role.role_arn))
            .map(str::to_owned)
            .collect()
    }
}

/// Only the resources the targets name, with what depends on them
/// ([`parapet_provider::plan::plan`], each region's summary being AWS's),
/// in the targets' regions; global resources (IAM) from the home region.
fn plan(types: &[ResourceTypeInfo], targets: &[Target], stored: &[Asset]) -> Narrowing {
    let mut plan = parapet_provider::plan::plan(types, targets, stored, REGION, |key, a| {
        key_names(key, &[&a.id, &a.name])
    });
    let mut regions: BTreeSet<String> = targets
        .iter()
        .filter(|t| t.region != GLOBAL)
        .map(|t| t.region.clone())
        .collect();
    if regions.is_empty() && !plan.accounts.is_empty() {
        // Only global resources (IAM): their collector runs from one region.
        regions.insert(HOME_REGION.to_owned());
    }
    plan.regions = Some(regions);
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use parapet_provider::Action;
    use std::collections::BTreeMap;

    fn target(resource_type: &str, region: &str, key: &str, action: Action) -> Target {
        Target {
            resource_type: resource_type.to_owned(),
            account: "111111111111".to_owned(),
            region: region.to_owned(),
            key: key.to_owned(),
            names_resource: true,
            action,
        }
    }

    fn stored(resource_type: &str, id: &str, name: &str) -> Asset {
        serde_json::from_value(serde_json::json!({
            "id": id, "provider": "aws", "account": "111111111111", "region": "eu-west-1",
            "resource_type": resource_type, "name": name, "config": {},
            "observed_at": "2026-11-29T10:00:00Z",
        }))
        .expect("an asset")
    }

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|i| (*i).to_owned()).collect()
    }

    fn plan_of(targets: &[Target], known: &[Asset]) -> Narrowing {
        plan(&crate::catalog(), targets, known)
    }

    #[test]
    fn a_change_to_a_known_resource_describes_only_it() {
        let known = [stored("AWS::S3::Bucket", "arn:aws:s3:::data", "data")];
        let plan = plan_of(
            &[target(
                "AWS::S3::Bucket",
                "eu-west-1",
                "data",
                Action::Change,
            )],
            &known,
        );
        assert_eq!(plan.accounts, set(&["111111111111"]));
        assert_eq!(plan.regions, Some(set(&["eu-west-1"])));
        assert_eq!(plan.whole, Some(BTreeSet::new()));
        assert_eq!(
            plan.keyed,
            BTreeMap::from([("AWS::S3::Bucket".to_owned(), set(&["data"]))])
        );
        let options = narrowed(&AwsOptions::default(), &plan);
        assert_eq!(
            options.resource_types,
            Some(vec!["AWS::S3::Bucket".to_owned()])
        );
        assert_eq!(options.only_accounts, Some(set(&["111111111111"])));
    }

    #[test]
    fn a_group_is_described_alone_and_what_sits_behind_it_whole() {
        let known = [stored(
            "AWS::EC2::SecurityGroup",
            "arn:aws:ec2:eu-west-1:111111111111:security-group/sg-1",
            "web",
        )];
        let plan = plan_of(
            &[target(
                "AWS::EC2::SecurityGroup",
                "eu-west-1",
                "sg-1",
                Action::Change,
            )],
            &known,
        );
        assert_eq!(
            plan.keyed.keys().collect::<Vec<_>>(),
            ["AWS::EC2::SecurityGroup"]
        );
        assert_eq!(
            plan.whole.expect("types"),
            set(&[
                "AWS::EC2::Instance",
                "AWS::EC2::NetworkInterface",
                "AWS::ElasticLoadBalancingV2::LoadBalancer",
                "AWS::RDS::DBInstance"
            ])
        );
    }

    #[test]
    fn unknown_names_indirect_keys_and_region_summaries_describe_the_whole_type() {
        // A change to a key the inventory does not know (an alias).
        let plan = plan_of(
            &[target(
                "AWS::KMS::Key",
                "eu-west-1",
                "alias/app",
                Action::Change,
            )],
            &[],
        );
        assert_eq!(plan.whole, Some(set(&["AWS::KMS::Key"])));
        assert!(plan.keyed.is_empty());
        // A new resource is described by its key, though unknown.
        let plan = plan_of(
            &[target(
                "AWS::EC2::Instance",
                "eu-west-1",
                "i-9",
                Action::Create,
            )],
            &[],
        );
        assert_eq!(plan.keyed["AWS::EC2::Instance"], set(&["i-9"]));
        // An association id.
        let mut indirect = target(
            "AWS::EC2::RouteTable",
            "eu-west-1",
            "rtbassoc-1",
            Action::Change,
        );
        indirect.names_resource = false;
        let plan = plan_of(&[indirect], &[]);
        let whole = plan.whole.expect("types");
        assert!(whole.contains("AWS::EC2::RouteTable"));
        assert!(whole.contains("AWS::EC2::Instance"));
        // A detector: its region's summary is rebuilt from all of them and
        // from every other type it reads.
        let known = [stored("AWS::GuardDuty::Detector", "arn:d/abc", "abc")];
        let plan = plan_of(
            &[target(
                "AWS::GuardDuty::Detector",
                "eu-west-1",
                "abc",
                Action::Change,
            )],
            &known,
        );
        let whole = plan.whole.expect("types");
        for read in [
            "AWS::GuardDuty::Detector",
            "AWS::Config::ConfigurationRecorder",
            "AWS::CloudTrail::Trail",
            "AWS::Logs::LogGroup",
            "AWS::CloudWatch::Alarm",
            "AWS::SNS::Topic",
            REGION,
        ] {
            assert!(whole.contains(read), "{read} not in {whole:?}");
        }
        assert!(!whole.contains("AWS::EC2::Instance"), "{whole:?}");
    }

    #[test]
    fn a_known_key_described_whole_elsewhere_is_not_also_keyed() {
        let known = [stored(
            "AWS::EC2::Instance",
            "arn:aws:ec2:eu-west-1:111111111111:instance/i-1",
            "i-1",
        )];
        let plan = plan_of(
            &[
                target("AWS::EC2::Instance", "eu-west-1", "i-1", Action::Change),
                target(
                    "AWS::EC2::SecurityGroup",
                    "eu-west-1",
                    "sg-1",
                    Action::Create,
                ),
            ],
            &known,
        );
        assert!(plan.whole.expect("types").contains("AWS::EC2::Instance"));
        assert!(!plan.keyed.contains_key("AWS::EC2::Instance"));
        assert_eq!(plan.keyed["AWS::EC2::SecurityGroup"], set(&["sg-1"]));
    }

    #[test]
    fn global_changes_are_collected_from_one_region() {
        let known = [stored(
            "AWS::IAM::User",
            "arn:aws:iam::111111111111:user/bob",
            "bob",
        )];
        let plan = plan_of(
            &[target("AWS::IAM::User", "global", "bob", Action::Change)],
            &known,
        );
        assert_eq!(plan.regions, Some(set(&[HOME_REGION])));
        assert_eq!(plan.keyed["AWS::IAM::User"], set(&["bob"]));
    }

    #[test]
    fn decoding_notes_every_event_and_names_each_resource_once() {
        let provider = AwsProvider::new(AwsOptions::default());
        let record = |name: &str, bucket: &str| {
            serde_json::json!({
                "eventSource": "s3.amazonaws.com", "eventName": name, "awsRegion": "eu-west-1",
                "recipientAccountId": "111111111111", "requestParameters": {"bucketName": bucket},
            })
        };
        let message = serde_json::json!({"Records": [
            record("PutBucketPolicy", "data"),
            record("PutBucketAcl", "data"),
            record("GetBucketAcl", "data"),
        ]});
        let decoded = provider.decode(&message).expect("events");
        assert_eq!(decoded.targets.len(), 1);
        assert_eq!(decoded.notes.len(), 3);
        assert!(decoded.notes[2].ends_with("read-only, nothing changed"));
        assert!(matches!(
            provider.decode(&serde_json::json!({"hello": 1})),
            Err(ProviderError::NotAnEvent(_))
        ));
    }
}
