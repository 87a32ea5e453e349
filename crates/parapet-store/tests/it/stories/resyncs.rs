use crate::{Backend, at};
use parapet_store::Policy;
use parapet_store::roles::*;
use std::collections::BTreeSet;
use std::time::Duration;

const SOURCE: &str = "aws";
const HOUR: Duration = Duration::from_secs(3600);

fn accounts(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

pub fn accounts_are_resynced_spread_over_the_interval_and_new_ones_join(backend: &impl Backend) {
    let (_dir, mut store) = backend.open(Policy::default());
    let every = 3 * HOUR;
    store
        .plan_resyncs(SOURCE, &accounts(&["1", "2", "3"]), every, at(0))
        .expect("plan");
    assert_eq!(
        store.claim_resync(SOURCE, HOUR, at(0)).expect("claim"),
        None
    );
    assert_eq!(
        store.claim_resync(SOURCE, HOUR, at(1)).expect("claim"),
        Some(Some("1".into()))
    );
    // Claimed: not taken again while it runs.
    assert_eq!(
        store.claim_resync(SOURCE, HOUR, at(1)).expect("claim"),
        None
    );
    store
        .resynced(SOURCE, Some("1"), every, at(1))
        .expect("done");
    // Another source has its own schedule.
    assert_eq!(
        store.claim_resync("azure", HOUR, at(9)).expect("claim"),
        None
    );
    // Planning again keeps what is planned; a new account joins after
    // the interval.
    store
        .plan_resyncs(SOURCE, &accounts(&["1", "2", "3", "4"]), every, at(1))
        .expect("plan");
    let mut order = Vec::new();
    for hour in 1..=8 {
        while let Some(account) = store.claim_resync(SOURCE, HOUR, at(hour)).expect("claim") {
            let account = account.expect("an account");
            store
                .resynced(SOURCE, Some(&account), every, at(hour))
                .expect("done");
            order.push((hour, account));
        }
    }
    let each = |a: &str| -> Vec<i64> {
        order
            .iter()
            .filter(|(_, b)| b == a)
            .map(|(h, _)| *h)
            .collect()
    };
    assert_eq!(each("1"), [4, 7], "{order:?}");
    assert_eq!(each("2"), [2, 5, 8], "{order:?}");
    assert_eq!(each("3"), [3, 6], "{order:?}");
    assert_eq!(each("4"), [4, 7], "{order:?}");
}

pub fn before_any_account_is_known_one_whole_collection_stands_for_all(backend: &impl Backend) {
    let (_dir, mut store) = backend.open(Policy::default());
    store
        .plan_resyncs(SOURCE, &BTreeSet::new(), HOUR, at(0))
        .expect("plan");
    assert_eq!(
        store.claim_resync(SOURCE, HOUR, at(1)).expect("claim"),
        Some(None)
    );
    store.resynced(SOURCE, None, HOUR, at(1)).expect("done");
    store
        .plan_resyncs(SOURCE, &accounts(&["9"]), HOUR, at(1))
        .expect("plan");
    assert_eq!(
        store.claim_resync(SOURCE, HOUR, at(2)).expect("claim"),
        Some(Some("9".into()))
    );
    assert_eq!(
        store.claim_resync(SOURCE, HOUR, at(2)).expect("claim"),
        None
    );
}

pub fn processes_claiming_at_once_take_each_resync_once(backend: &impl Backend) {
    let (_dir, open) = backend.open_shared(Policy::default());
    let all: BTreeSet<String> = (0..40).map(|n| format!("{n:012}")).collect();
    open()
        .plan_resyncs(SOURCE, &all, HOUR, at(0))
        .expect("plan");
    let processes: Vec<_> = (0..4)
        .map(|_| {
            let open = open.clone();
            let all = all.clone();
            std::thread::spawn(move || {
                let mut store = open();
                // Each plans too, as each daemon does when it starts.
                store.plan_resyncs(SOURCE, &all, HOUR, at(0)).expect("plan");
                let mut mine = Vec::new();
                while let Some(account) = store.claim_resync(SOURCE, HOUR, at(1)).expect("claim") {
                    mine.push(account.expect("an account"));
                }
                mine
            })
        })
        .collect();
    let mut claimed: Vec<String> = processes
        .into_iter()
        .flat_map(|p| p.join().expect("process"))
        .collect();
    claimed.sort();
    assert_eq!(claimed, all.into_iter().collect::<Vec<_>>());
}
