//! The counters and histograms after known counts per outcome, exactly;
//! and 10,000 deliveries of random unknown event names add one label
//! value, `unknown`, and no other.

use std::collections::{BTreeMap, BTreeSet};

use icr_webhooks::contract::header;

use super::recorder::Metrics;
use super::server::{LIMIT, SECRET, ping, runtime, serve, transfer, unknown};
use super::spans::post;
use crate::support::Wire;

fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

#[test]
fn counters_and_histograms_count_each_outcome_exactly() {
    let mut sends: Vec<(&str, Wire)> = Vec::new();
    for n in 1..=3 {
        sends.push(("/once", ping(n)));
    }
    sends.push(("/once", ping(1)));
    sends.push(("/once", ping(2)));
    for n in 10..14 {
        sends.push(("/once", ping(n).signed_with("whsec_wrong")));
    }
    let large = vec![b' '; usize::try_from(LIMIT).unwrap() + 1];
    sends.push(("/once", ping(15).body(large)));
    for n in 16..18 {
        sends.push(("/once", ping(n).with(header::CONTENT_TYPE, "text/plain")));
    }
    sends.push(("/once", ping(18).body(b"{".to_vec()).signed_with(SECRET)));
    sends.push(("/once", unknown(20, "carbon_teleport")));
    sends.push(("/once", unknown(21, "x_y")));
    sends.push(("/down", ping(22)));
    sends.push(("/inbox", ping(30)));
    sends.push(("/inbox", ping(31)));
    sends.push(("/inbox", ping(30)));
    sends.push(("/plain", transfer(40)));

    let metrics = Metrics::default();
    let statuses = metrics.during(|| {
        runtime().block_on(async {
            let addr = serve().await;
            let mut statuses = Vec::new();
            for (path, wire) in &sends {
                statuses.push(post(addr, path, wire).await);
            }
            statuses
        })
    });
    assert_eq!(
        statuses,
        [
            200, 200, 200, 200, 200, 401, 401, 401, 401, 413, 415, 415, 400, 200, 200, 503, 202,
            202, 200, 204
        ]
    );
    let deliveries = "icr_webhooks_deliveries_total";
    assert_eq!(
        metrics.counters(deliveries),
        counts(&[
            (
                "icr_webhooks_deliveries_total{event=credit_transfer,outcome=verified}",
                1
            ),
            (
                "icr_webhooks_deliveries_total{event=ping,outcome=accepted}",
                2
            ),
            (
                "icr_webhooks_deliveries_total{event=ping,outcome=body_too_large}",
                1
            ),
            (
                "icr_webhooks_deliveries_total{event=ping,outcome=claimed}",
                3
            ),
            (
                "icr_webhooks_deliveries_total{event=ping,outcome=duplicate}",
                3
            ),
            (
                "icr_webhooks_deliveries_total{event=ping,outcome=malformed_json}",
                1
            ),
            (
                "icr_webhooks_deliveries_total{event=ping,outcome=signature_mismatch}",
                4
            ),
            (
                "icr_webhooks_deliveries_total{event=ping,outcome=store_unavailable}",
                1
            ),
            (
                "icr_webhooks_deliveries_total{event=ping,outcome=unsupported_content_type}",
                2
            ),
            (
                "icr_webhooks_deliveries_total{event=unknown,outcome=claimed}",
                2
            ),
        ])
    );
    // 19 bodies read whole (all but the one too large), each with its
    // signature checked; 13 parsed (not the 401s nor the 415s); the store
    // asked 8 claims (3 new, 2 repeated, 2 unknown, 1 down), 5 completions
    // and 3 accepts.
    let histograms: BTreeMap<String, usize> = metrics
        .histogram_counts("icr_webhooks_")
        .into_iter()
        .collect();
    let expected: BTreeMap<String, usize> = [
        ("icr_webhooks_body_bytes", 19),
        ("icr_webhooks_parse_seconds", 13),
        ("icr_webhooks_store_seconds{op=accept}", 3),
        ("icr_webhooks_store_seconds{op=claim}", 8),
        ("icr_webhooks_store_seconds{op=complete}", 5),
        ("icr_webhooks_verify_seconds", 19),
    ]
    .into_iter()
    .map(|(name, count)| (name.to_owned(), count))
    .collect();
    assert_eq!(histograms, expected);
    let sizes = &metrics.histograms("icr_webhooks_body_bytes")["icr_webhooks_body_bytes"];
    #[allow(clippy::cast_precision_loss)]
    let ping_len = ping(1).body.len() as f64;
    assert_eq!(sizes[0], ping_len);
}

#[test]
fn ten_thousand_unknown_event_names_add_one_label_value() {
    // A small generator: 10,000 distinct names, none in the catalogue.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let names: BTreeSet<String> = (0..10_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            format!("evt_{state:016x}")
        })
        .collect();
    assert_eq!(names.len(), 10_000);
    let wires: Vec<Wire> = names
        .iter()
        .enumerate()
        .map(|(n, name)| unknown(u32::try_from(n).unwrap(), name))
        .collect();

    let metrics = Metrics::default();
    let statuses = metrics.during(|| {
        runtime().block_on(async {
            let addr = serve().await;
            let mut statuses = BTreeMap::<u16, usize>::new();
            // 64 at a time.
            for batch in wires.chunks(64) {
                let mut sending = tokio::task::JoinSet::new();
                for wire in batch {
                    let wire = wire.clone();
                    sending.spawn(async move { post(addr, "/plain", &wire).await });
                }
                while let Some(status) = sending.join_next().await {
                    *statuses.entry(status.unwrap()).or_default() += 1;
                }
            }
            statuses
        })
    });
    assert_eq!(statuses, BTreeMap::from([(204, 10_000)]));
    assert_eq!(
        metrics.counters("icr_webhooks_deliveries_total"),
        counts(&[(
            "icr_webhooks_deliveries_total{event=unknown,outcome=verified}",
            10_000
        )])
    );
    // No metric at all has a label value from a name sent.
    let mut every: Vec<String> = metrics.counters("").into_keys().collect();
    every.extend(metrics.histogram_counts("").into_keys());
    every.extend(metrics.gauges("").into_keys());
    assert_eq!(
        every,
        [
            "icr_webhooks_deliveries_total{event=unknown,outcome=verified}",
            "icr_webhooks_body_bytes",
            "icr_webhooks_parse_seconds",
            "icr_webhooks_verify_seconds",
        ]
    );
}
