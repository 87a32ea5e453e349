//! What the daemon has done, counted for `/metrics` in Prometheus' text
//! format.

use std::sync::atomic::{AtomicU64, Ordering};

/// What the daemon has done, for `/metrics`.
#[derive(Default)]
pub struct Metrics {
    pub(crate) messages_received: AtomicU64,
    pub(crate) events_processed: AtomicU64,
    pub(crate) events_ignored: AtomicU64,
    pub(crate) messages_set_aside: AtomicU64,
    pub(crate) requests_refused: AtomicU64,
    pub(crate) refreshes: AtomicU64,
    pub(crate) refresh_failures: AtomicU64,
    pub(crate) refresh_milliseconds: AtomicU64,
    pub(crate) findings_opened: AtomicU64,
    pub(crate) findings_resolved: AtomicU64,
    pub(crate) lag_milliseconds: AtomicU64,
    pub(crate) resyncs: AtomicU64,
    pub(crate) notifications_delivered: AtomicU64,
    pub(crate) notification_failures: AtomicU64,
}

impl Metrics {
    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let counters: [(&str, &str, &AtomicU64); 14] = [
            (
                "parapet_watch_messages_received_total",
                "Messages received from the queue and the event endpoint.",
                &self.messages_received,
            ),
            (
                "parapet_watch_events_processed_total",
                "Events that named resources to describe again.",
                &self.events_processed,
            ),
            (
                "parapet_watch_events_ignored_total",
                "Read-only, failed and unmapped events.",
                &self.events_ignored,
            ),
            (
                "parapet_watch_messages_set_aside_total",
                "Messages that were not CloudTrail events.",
                &self.messages_set_aside,
            ),
            (
                "parapet_watch_requests_refused_total",
                "Endpoint requests refused: no valid secret or signature, too large, not a POST.",
                &self.requests_refused,
            ),
            (
                "parapet_watch_refreshes_total",
                "Refreshes committed.",
                &self.refreshes,
            ),
            (
                "parapet_watch_refresh_failures_total",
                "Refreshes that failed (their messages are delivered again).",
                &self.refresh_failures,
            ),
            (
                "parapet_watch_refresh_milliseconds_total",
                "Time spent refreshing.",
                &self.refresh_milliseconds,
            ),
            (
                "parapet_watch_findings_opened_total",
                "Findings opened or reopened.",
                &self.findings_opened,
            ),
            (
                "parapet_watch_findings_resolved_total",
                "Findings resolved.",
                &self.findings_resolved,
            ),
            (
                "parapet_watch_resyncs_total",
                "Whole collections of an account.",
                &self.resyncs,
            ),
            (
                "parapet_watch_notifications_delivered_total",
                "Notifications their channel accepted.",
                &self.notifications_delivered,
            ),
            (
                "parapet_watch_notification_failures_total",
                "Delivery attempts that failed (tried again with backoff, then marked failed).",
                &self.notification_failures,
            ),
            (
                "parapet_watch_lag_milliseconds",
                "From the arrival of the oldest message of the last committed batch to its commit.",
                &self.lag_milliseconds,
            ),
        ];
        let mut out = String::new();
        for (name, help, value) in counters {
            let kind = if name.ends_with("_total") {
                "counter"
            } else {
                "gauge"
            };
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}\n",
                value.load(Ordering::Relaxed)
            ));
        }
        out
    }
}

impl Metrics {
    /// Adds `n` to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_the_lag_gauge_in_the_text_format() {
        let metrics = Metrics::default();
        Metrics::add(&metrics.refreshes, 3);
        metrics.lag_milliseconds.store(250, Ordering::Relaxed);
        let text = metrics.render();
        assert!(text.contains(
            "# TYPE parapet_watch_refreshes_total counter\nparapet_watch_refreshes_total 3\n"
        ));
        assert!(text.contains(
            "# TYPE parapet_watch_lag_milliseconds gauge\nparapet_watch_lag_milliseconds 250\n"
        ));
    }
}
