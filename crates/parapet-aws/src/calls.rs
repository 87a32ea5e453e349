//! The API calls a collection makes, counted by the IAM action that names
//! each (`s3:GetBucketPolicy`), as [`crate::error::Named`] names them: what a
//! scan reports of its calls, and what the test of the printed policy holds
//! the collectors' declared calls to.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;

tokio::task_local! {
    /// The calls of the collection running in this task.
    static CALLS: RefCell<BTreeMap<String, u64>>;
}

/// Counts one call of `action` in the collection running in this task (a
/// call made outside one, such as the watch queue's, is not counted).
pub(crate) fn record(action: &str) {
    let _ = CALLS.try_with(|calls| {
        let mut calls = calls.borrow_mut();
        match calls.get_mut(action) {
            Some(count) => *count += 1,
            None => {
                calls.insert(action.to_owned(), 1);
            }
        }
    });
}

/// Runs `work`, counting the calls made in it by action. Collectors run
/// in this task (joined, never spawned), so every call is counted.
pub(crate) async fn counted<F: Future>(work: F) -> (F::Output, BTreeMap<String, u64>) {
    CALLS
        .scope(RefCell::new(BTreeMap::new()), async {
            let out = work.await;
            (out, CALLS.with(|calls| calls.take()))
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_counted_by_action_within_the_collection_only() {
        record("s3:ListAllMyBuckets");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        let ((), calls) = runtime.block_on(counted(async {
            record("s3:GetBucketPolicy");
            futures::future::join(async { record("s3:GetBucketPolicy") }, async {
                record("iam:ListUsers")
            })
            .await;
        }));
        assert_eq!(
            calls,
            BTreeMap::from([
                ("iam:ListUsers".to_owned(), 1),
                ("s3:GetBucketPolicy".to_owned(), 2)
            ])
        );
    }
}
