use crate::{bucket, pipeline, store};
use parapet_core::{Asset, Provider as Cloud, Scope};
use parapet_pipeline::{PipelineError, Request};
use parapet_provider::{
    Collection, Narrowing, Part, Progress, Provider, ProviderError, Quiet, ResourceTypeInfo,
};
use parapet_store::StoreError;
use serde_json::json;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Accounts collected one after another, each of two buckets; it notes how
/// many parts it handed out before the pipeline was done with the earlier
/// ones.
struct Accounts {
    count: usize,
    /// Parts the pipeline is done with.
    done: AtomicUsize,
    /// The most parts handed out and not yet done with.
    most_held: AtomicUsize,
    /// Parts handed out.
    handed: AtomicUsize,
}

impl Accounts {
    fn new(count: usize) -> Accounts {
        Accounts {
            count,
            done: AtomicUsize::new(0),
            most_held: AtomicUsize::new(0),
            handed: AtomicUsize::new(0),
        }
    }

    fn part(index: usize) -> Part {
        let account = format!("{:012}", 200_000_000_000 + index);
        let assets: Vec<Asset> = ["data", "logs"]
            .iter()
            .map(|name| {
                let mut asset = bucket(
                    &format!("{name}-{index}"),
                    json!({"Name": name, "Versioning": {"Status": "Suspended"}}),
                );
                asset.account.clone_from(&account);
                asset
            })
            .collect();
        Part {
            scope: Scope::whole(Cloud::Aws, vec![account]),
            assets,
            errors: Vec::new(),
        }
    }
}

impl Provider for Accounts {
    fn source(&self) -> String {
        "accounts".to_owned()
    }

    fn version(&self) -> String {
        "accounts 1".to_owned()
    }

    fn resource_types(&self) -> Vec<ResourceTypeInfo> {
        Vec::new()
    }

    fn collect(
        &self,
        _: Option<&Narrowing>,
        _: &dyn Progress,
    ) -> Result<Collection, ProviderError> {
        Ok(Collection {
            parts: (0..self.count).map(Accounts::part).collect(),
            ..Collection::default()
        })
    }

    fn collect_parts(
        &self,
        _: Option<&Narrowing>,
        _: &dyn Progress,
        each: &mut dyn FnMut(Part, bool) -> ControlFlow<()>,
    ) -> Result<Collection, ProviderError> {
        for index in 0..self.count {
            let handed = self.handed.fetch_add(1, Ordering::SeqCst) + 1;
            let held = handed - self.done.load(Ordering::SeqCst);
            self.most_held.fetch_max(held, Ordering::SeqCst);
            if each(Accounts::part(index), false).is_break() {
                break;
            }
        }
        Ok(Collection::default())
    }
}

#[test]
fn a_run_holds_a_few_parts_and_hands_each_on_in_order_once_recorded() {
    let pipeline = pipeline();
    let (_dir, mut store) = store();
    let accounts = Accounts::new(6);
    let mut seen = Vec::new();
    let mut statuses = Vec::new();
    let run = pipeline
        .run_each(
            &accounts,
            Some(&mut store),
            Request::Whole,
            &Quiet,
            &mut |done| {
                accounts.done.fetch_add(1, Ordering::SeqCst);
                seen.push(done.part.scope.accounts.clone());
                statuses.extend(
                    done.evaluations
                        .iter()
                        .map(|e| (e.asset_id.to_string(), e.rule_id.to_string(), e.status)),
                );
                Ok(())
            },
        )
        .expect("a run");
    assert_eq!(
        accounts.most_held.load(Ordering::SeqCst),
        3,
        "two parts worked out while the one before them is recorded"
    );
    let expected: Vec<Vec<String>> = (0..6).map(|i| Accounts::part(i).scope.accounts).collect();
    assert_eq!(seen, expected);
    assert_eq!(run.recorded.len(), 6, "one scan per part");
    assert!(run.collection.parts.is_empty() && run.evaluations.is_empty());
    let (_other_dir, mut other) = crate::store();
    let kept = pipeline
        .run(&Accounts::new(6), Some(&mut other), Request::Whole, &Quiet)
        .expect("a run");
    assert_eq!(kept.collection.parts.len(), 6);
    let all: Vec<_> = kept
        .evaluations
        .iter()
        .map(|e| (e.asset_id.to_string(), e.rule_id.to_string(), e.status))
        .collect();
    assert!(!all.is_empty());
    assert_eq!(statuses, all, "the same results, kept or handed on");
}

#[test]
fn a_part_that_cannot_be_handed_on_stops_the_collection_with_its_error() {
    let pipeline = pipeline();
    let (_dir, mut store) = store();
    let accounts = Accounts::new(6);
    let mut calls = 0;
    let result = pipeline.run_each(
        &accounts,
        Some(&mut store),
        Request::Whole,
        &Quiet,
        &mut |_| {
            calls += 1;
            match calls {
                2 => Err(PipelineError::Store(StoreError::Backend {
                    database: "the second part".to_owned(),
                    source: "refused".into(),
                })),
                _ => Ok(()),
            }
        },
    );
    let error = result.err().expect("the run stops");
    assert!(error.to_string().contains("the second part"), "{error}");
    assert_eq!(calls, 2);
    assert_eq!(
        accounts.handed.load(Ordering::SeqCst),
        4,
        "the two parts after it were being worked out; none was collected after"
    );
}
