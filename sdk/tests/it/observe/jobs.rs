//! The inbox workers observed: one job span per attempt with its outcome
//! (`done`, `retry` with its delay, `dead`), the retry logged at `WARN`
//! and the dead delivery at `ERROR`, and the attempt, retry and dead
//! counters and the pending and dead gauges exactly.

use std::collections::BTreeMap;
use std::time::Duration;

use icr_webhooks::BoxError;
use icr_webhooks::Receiver;
use icr_webhooks::observe::{JOB_SPAN, TARGET};
use icr_webhooks::once::{Accepted, Inbox, Job, MemoryStore, RetryPolicy};
use tracing::Level;

use super::capture::Captured;
use super::recorder::Metrics;
use super::server::{SECRET, guid, ping, runtime, transfer};

/// A job span's fields (timings left out) and its events' levels and
/// messages.
type JobRecord = (BTreeMap<String, String>, Vec<(Level, String)>);

#[test]
fn each_attempt_has_its_span_and_the_inbox_its_counts() {
    let captured = Captured::default();
    let metrics = Metrics::default();
    let good = transfer(1);
    let failing = ping(2);
    let attempts = captured.during(|| {
        metrics.during(|| {
            runtime().block_on(async {
                let receiver = Receiver::new(SECRET).unwrap();
                let inbox = Inbox::builder(receiver, MemoryStore::new())
                    .retry(RetryPolicy {
                        attempts: 2,
                        first_delay: Duration::from_millis(5),
                        max_delay: Duration::from_millis(5),
                        factor: 1.0,
                    })
                    .poll_interval(Duration::from_millis(5))
                    .build();
                for wire in [&good, &failing] {
                    let (_, accepted) = inbox
                        .accept(&wire.headers, wire.body.clone())
                        .await
                        .unwrap();
                    assert_eq!(accepted, Accepted::Stored);
                }
                let (seen, mut attempts) = tokio::sync::mpsc::unbounded_channel();
                let workers = inbox.workers(2, move |job: Job| {
                    let seen = seen.clone();
                    async move {
                        let id = job.delivery.info.id.to_string();
                        seen.send((id.clone(), job.attempt)).unwrap();
                        if id == guid(2) {
                            return Err::<(), BoxError>("the handler failed".into());
                        }
                        Ok(())
                    }
                });
                let mut seen = Vec::new();
                while seen.len() < 3 {
                    seen.push(attempts.recv().await.unwrap());
                }
                // Every attempt made has settled once the pool is down.
                workers.shutdown().await;
                seen.sort();
                seen
            })
        })
    });
    assert_eq!(attempts, [(guid(1), 1), (guid(2), 1), (guid(2), 2)]);

    let mut jobs: Vec<(String, String, JobRecord)> = captured
        .named(JOB_SPAN)
        .into_iter()
        .map(|span| {
            assert_eq!((span.level, span.target.as_str()), (Level::INFO, TARGET));
            let mut fields = span.fields.clone();
            for timing in ["parse_us", "handler_us", "store_us"] {
                let value = fields
                    .remove(timing)
                    .unwrap_or_else(|| panic!("no {timing}"));
                assert!(value.parse::<u64>().is_ok(), "{timing} = {value}");
            }
            let events = span
                .events
                .iter()
                .map(|event| (event.level, event.fields["message"].clone()))
                .collect();
            (
                fields["delivery_id"].clone(),
                fields["attempt"].clone(),
                (fields, events),
            )
        })
        .collect();
    jobs.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let expect = |id: u32, attempt: &str, extra: &[(&str, &str)]| {
        let mut fields: BTreeMap<String, String> = [
            ("delivery_id", guid(id).as_str()),
            ("hook_id", "60021"),
            ("attempt", attempt),
        ]
        .into_iter()
        .chain(extra.iter().copied())
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        fields.insert(
            "event".into(),
            if id == 1 { "credit_transfer" } else { "ping" }.into(),
        );
        fields
    };
    let bodies: Vec<JobRecord> = jobs.into_iter().map(|(_, _, job)| job).collect();
    assert_eq!(
        bodies,
        [
            (
                expect(1, "1", &[("action", "completed"), ("outcome", "done")]),
                vec![(Level::DEBUG, "inbox job settled".to_owned())]
            ),
            (
                expect(2, "1", &[("outcome", "retry"), ("retry_in_ms", "5")]),
                vec![(Level::WARN, "inbox job failed; retrying".to_owned())]
            ),
            (
                expect(2, "2", &[("outcome", "dead")]),
                vec![(
                    Level::ERROR,
                    "inbox delivery dead: no more attempts".to_owned()
                )]
            ),
        ]
    );
    // The handler's error is kept in the store, never logged.
    assert!(!captured.text().contains("the handler failed"));

    let counters = metrics.counters("icr_webhooks_inbox_");
    assert_eq!(
        counters,
        BTreeMap::from([
            ("icr_webhooks_inbox_attempts_total".to_owned(), 3),
            ("icr_webhooks_inbox_dead_total".to_owned(), 1),
            ("icr_webhooks_inbox_retries_total".to_owned(), 1),
        ])
    );
    assert_eq!(
        metrics.gauges("icr_webhooks_inbox_"),
        BTreeMap::from([
            ("icr_webhooks_inbox_dead".to_owned(), 1.0),
            ("icr_webhooks_inbox_pending".to_owned(), 0.0),
        ])
    );
    let stores = metrics.histogram_counts("icr_webhooks_store_seconds");
    assert_eq!(
        (
            stores["icr_webhooks_store_seconds{op=accept}"],
            stores["icr_webhooks_store_seconds{op=complete}"],
            stores["icr_webhooks_store_seconds{op=fail}"],
        ),
        (2, 1, 2)
    );
}
