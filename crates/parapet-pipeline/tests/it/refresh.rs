//! A provider of the test's own: an estate in memory, collected whole or
//! narrowed to the resources keys name, as a cloud's collector would be.

use crate::{bucket, pipeline, store};
use parapet_core::{Asset, Provider as Cloud, Scope};
use parapet_pipeline::Request;
use parapet_provider::{
    Action, Collection, Narrowing, Part, Progress, Provider, ProviderError, Quiet,
    ResourceTypeInfo, Target,
};
use parapet_store::Inventory;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// An estate in memory.
struct Estate(Mutex<Vec<Asset>>);

impl Provider for Estate {
    fn source(&self) -> String {
        "memory".to_owned()
    }

    fn version(&self) -> String {
        "memory 1".to_owned()
    }

    fn resource_types(&self) -> Vec<ResourceTypeInfo> {
        Vec::new()
    }

    fn collect(
        &self,
        narrowing: Option<&Narrowing>,
        _: &dyn Progress,
    ) -> Result<Collection, ProviderError> {
        let all = self.0.lock().expect("the estate").clone();
        let assets: Vec<Asset> = all
            .into_iter()
            .filter(|a| {
                narrowing.is_none_or(|n| {
                    let kind = a.resource_type.as_str();
                    n.whole.as_ref().is_some_and(|w| w.contains(kind))
                        || n.keyed
                            .get(kind)
                            .is_some_and(|keys| keys.iter().any(|k| self.names(k, a)))
                })
            })
            .collect();
        let types = narrowing.and_then(Narrowing::resource_types);
        Ok(Collection {
            parts: vec![Part {
                scope: Scope {
                    provider: Cloud::Aws,
                    accounts: vec!["111111111111".to_owned()],
                    regions: None,
                    resource_types: types,
                    assets: BTreeMap::new(),
                },
                assets,
                errors: Vec::new(),
            }],
            resource_types: vec!["AWS::S3::Bucket".to_owned()],
            partial: false,
            ..Collection::default()
        })
    }

    fn plan(&self, targets: &[Target], _stored: &[Asset]) -> Narrowing {
        let mut narrowing =
            Narrowing::accounts(targets.iter().map(|t| t.account.clone()).collect());
        narrowing.whole = Some(Default::default());
        for t in targets {
            narrowing
                .keyed
                .entry(t.resource_type.clone())
                .or_default()
                .insert(t.key.clone());
        }
        narrowing
    }
}

fn target(name: &str, action: Action) -> Target {
    Target {
        resource_type: "AWS::S3::Bucket".to_owned(),
        account: "111111111111".to_owned(),
        region: "eu-west-1".to_owned(),
        key: name.to_owned(),
        names_resource: true,
        action,
    }
}

#[test]
fn a_refresh_describes_only_what_events_name_and_deletes_only_among_them() {
    let pipeline = pipeline();
    let (_dir, mut store) = store();
    let suspended = json!({"Versioning": {"Status": "Suspended"}});
    let estate = Estate(Mutex::new(vec![
        bucket("a", suspended.clone()),
        bucket("b", suspended.clone()),
        bucket("c", suspended),
    ]));
    pipeline
        .run(&estate, Some(&mut store), Request::Whole, &Quiet)
        .expect("the first collection");
    // b is changed, c deleted; an event names each.
    {
        let mut assets = estate.0.lock().expect("the estate");
        assets.retain(|a| a.name != "c");
        assets[1] = bucket("b", json!({"Versioning": {"Status": "Enabled"}}));
    }
    let changed = pipeline
        .run(
            &estate,
            Some(&mut store),
            Request::Refresh(&[target("b", Action::Change)]),
            &Quiet,
        )
        .expect("a refresh");
    let scan = &changed.recorded[0];
    assert_eq!(scan.counts.assets, 1, "only b is described again");
    assert_eq!(scan.counts.changed, 1);
    assert_eq!(scan.counts.deleted, 0, "a and c are outside its scope");
    assert_eq!(
        scan.scope.assets["AWS::S3::Bucket"],
        ["arn:aws:s3:::b".to_owned()].into()
    );
    let deleted = pipeline
        .run(
            &estate,
            Some(&mut store),
            Request::Refresh(&[target("c", Action::Delete)]),
            &Quiet,
        )
        .expect("a refresh");
    let counts = &deleted.recorded[0].counts;
    assert_eq!((counts.assets, counts.deleted), (0, 1));
    let names: Vec<String> = store
        .current_assets(None)
        .expect("assets")
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, ["a", "b"]);
}
