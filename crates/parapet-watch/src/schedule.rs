//! When each account is collected whole again: what change events missed,
//! deletions among them.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// When each account is next collected whole: the accounts spread evenly
/// over the interval, so that they do not all run at once. Before any
/// account is known, one whole collection (`None`) stands for them all.
#[derive(Debug)]
pub struct Schedule {
    every: Duration,
    due: BTreeMap<Option<String>, Instant>,
}

impl Schedule {
    /// `accounts` spread over `every` from `now`; with none, one whole
    /// collection after `every`.
    pub fn new(every: Duration, accounts: BTreeSet<String>, now: Instant) -> Schedule {
        let mut schedule = Schedule {
            every,
            due: BTreeMap::new(),
        };
        if accounts.is_empty() {
            schedule.due.insert(None, now + every);
        } else {
            schedule.learn(accounts, now);
        }
        schedule
    }

    /// The first collection due at `now`.
    pub fn due(&self, now: Instant) -> Option<Option<String>> {
        self.due
            .iter()
            .filter(|(_, at)| **at <= now)
            .min_by_key(|(_, at)| **at)
            .map(|(account, _)| account.clone())
    }

    /// `account` was collected: next time in one interval.
    pub fn ran(&mut self, account: Option<String>, now: Instant) {
        self.due.insert(account, now + self.every);
    }

    /// Adds accounts seen since, spread over the interval after those
    /// already scheduled; once accounts are known, they replace the
    /// whole collection.
    pub fn learn(&mut self, accounts: BTreeSet<String>, now: Instant) {
        if accounts.is_empty() {
            return;
        }
        self.due.remove(&None);
        let new: Vec<String> = accounts
            .into_iter()
            .filter(|a| !self.due.contains_key(&Some(a.clone())))
            .collect();
        let count = new.len() as u32;
        for (i, account) in (1..).zip(new) {
            self.due
                .insert(Some(account), now + self.every * i / count.max(1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_are_resynced_spread_over_the_interval() {
        let start = Instant::now();
        let every = Duration::from_secs(300);
        let accounts: BTreeSet<String> = ["1", "2", "3"].map(String::from).into();
        let mut schedule = Schedule::new(every, accounts.clone(), start);
        assert_eq!(schedule.due(start), None);
        assert_eq!(
            schedule.due(start + Duration::from_secs(100)),
            Some(Some("1".into()))
        );
        schedule.ran(Some("1".into()), start + Duration::from_secs(100));
        assert_eq!(schedule.due(start + Duration::from_secs(150)), None);
        assert_eq!(
            schedule.due(start + Duration::from_secs(200)),
            Some(Some("2".into()))
        );
        // Each account once per interval.
        let at: Vec<Instant> = schedule.due.values().copied().collect();
        assert_eq!(
            at,
            [
                start + Duration::from_secs(400),
                start + Duration::from_secs(200),
                start + Duration::from_secs(300)
            ]
        );
        // A new account joins without moving the others.
        schedule.learn(
            ["1", "2", "3", "4"].map(String::from).into(),
            start + Duration::from_secs(100),
        );
        assert_eq!(
            schedule.due[&Some("4".into())],
            start + Duration::from_secs(400)
        );
        assert_eq!(
            schedule.due[&Some("2".into())],
            start + Duration::from_secs(200)
        );
    }

    #[test]
    fn before_any_account_is_known_one_whole_collection_stands_for_all() {
        let start = Instant::now();
        let every = Duration::from_secs(60);
        let mut schedule = Schedule::new(every, BTreeSet::new(), start);
        assert_eq!(schedule.due(start + every), Some(None));
        schedule.ran(None, start + every);
        schedule.learn(["9".to_owned()].into(), start + every);
        assert_eq!(
            schedule.due.keys().collect::<Vec<_>>(),
            [&Some("9".to_owned())]
        );
    }
}
