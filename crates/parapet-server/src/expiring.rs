//! A map whose entries end a fixed time after they were made and which
//! holds at most a set number of them: browser sessions and logins in
//! progress are kept in one. Entries leave oldest first, so an insertion or
//! a lookup costs the same however many there are, and no request scans
//! the whole map while it holds the lock; when the map is full, its oldest
//! entry makes room.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Entries by key, each ending `lifetime` after it was inserted.
#[derive(Debug)]
pub struct Expiring<V> {
    entries: HashMap<String, (Instant, V)>,
    /// Keys in the order they were inserted; a key taken out early stays
    /// here until its time comes or the queue is compacted.
    order: VecDeque<(Instant, String)>,
    lifetime: Duration,
    capacity: usize,
}

impl<V> Expiring<V> {
    /// An empty map of at most `capacity` entries that last `lifetime`.
    pub fn new(lifetime: Duration, capacity: usize) -> Expiring<V> {
        Expiring {
            entries: HashMap::new(),
            order: VecDeque::new(),
            lifetime,
            capacity: capacity.max(1),
        }
    }

    /// Drops the entries whose time has come, and while the map is fuller
    /// than `room` allows, the oldest.
    fn purge(&mut self, now: Instant, room: usize) {
        while let Some((made, _)) = self.order.front() {
            let expired = now.duration_since(*made) >= self.lifetime;
            if !expired && self.entries.len() + room <= self.capacity {
                break;
            }
            if let Some((made, key)) = self.order.pop_front()
                && self.entries.get(&key).is_some_and(|(m, _)| *m == made)
            {
                self.entries.remove(&key);
            }
        }
        if self.order.len() > 2 * self.capacity {
            let entries = &self.entries;
            self.order
                .retain(|(made, key)| entries.get(key).is_some_and(|(m, _)| m == made));
        }
    }

    /// Inserts `value` under `key`, making room if the map is full.
    pub fn insert(&mut self, key: String, value: V) {
        let now = Instant::now();
        self.purge(now, 1);
        self.order.push_back((now, key.clone()));
        self.entries.insert(key, (now, value));
    }

    /// The live entry under `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.entries
            .get(key)
            .filter(|(made, _)| made.elapsed() < self.lifetime)
            .map(|(_, value)| value)
    }

    /// Takes the live entry under `key` out.
    pub fn take(&mut self, key: &str) -> Option<V> {
        let (made, value) = self.entries.remove(key)?;
        self.purge(Instant::now(), 0);
        (made.elapsed() < self.lifetime).then_some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_map_drops_its_oldest_entry_and_never_grows_past_its_capacity() {
        let mut map = Expiring::new(Duration::from_secs(600), 3);
        for i in 0..10 {
            map.insert(format!("k{i}"), i);
            assert!(
                map.entries.len() <= 3,
                "{} entries after {i}",
                map.entries.len()
            );
        }
        assert_eq!(map.get("k9"), Some(&9));
        assert_eq!(map.get("k6"), None, "the oldest made room");
        assert_eq!(map.take("k8"), Some(8));
        assert_eq!(map.take("k8"), None, "taken once");
    }

    #[test]
    fn entries_end_after_their_lifetime() {
        let mut map = Expiring::new(Duration::from_millis(30), 100);
        map.insert("a".into(), 1);
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(map.get("a"), None);
        map.insert("b".into(), 2);
        assert_eq!(map.entries.len(), 1, "the expired entry was dropped");
        assert_eq!(map.take("a"), None);
    }

    #[test]
    fn keys_taken_early_do_not_pile_up_in_the_queue() {
        let mut map = Expiring::new(Duration::from_secs(600), 4);
        for i in 0..1000 {
            map.insert(format!("k{i}"), i);
            map.take(&format!("k{i}"));
        }
        assert!(map.entries.is_empty());
        assert!(map.order.len() <= 8, "{}", map.order.len());
    }
}
