//! `listen --metrics-addr`: after the demo's deliveries (every event and
//! action in both content types, and one of each fault), a scrape gives
//! exactly those counts by event and outcome; `--log-format json` writes
//! the SDK's refusals as JSON lines on stderr, and the secret nowhere.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};

use icr_webhooks::receive::{ContentType, Secret};
use icr_webhooks_harness::samples;
use icr_webhooks_harness::sender::{Fault, Outgoing, Sender, SenderConfig};

use crate::listen::Listen;

const SECRET: &str = "whsec_SEKRIT_metrics_9a7c";

/// The demo's deliveries: every event/action as JSON, then as a form,
/// then each fault on one of the JSON ones.
fn demo_deliveries() -> Vec<Outgoing> {
    let mut deliveries = Vec::new();
    for carried in [ContentType::Json, ContentType::Form] {
        for key in samples::keys() {
            deliveries.push(
                Outgoing::sample(&key, 1)
                    .unwrap()
                    .with_content_type(carried),
            );
        }
    }
    for (index, fault) in Fault::ALL.into_iter().enumerate() {
        let base = deliveries[index % deliveries.len()].clone();
        let mut faulty = Outgoing::new(base.event, base.payload).with_fault(fault);
        faulty.action = base.action;
        deliveries.push(faulty);
    }
    deliveries
}

/// The event label and outcome code each delivery is counted under.
fn expected(delivery: &Outgoing) -> (String, &'static str) {
    let event = delivery.event.clone();
    match delivery.fault {
        None | Some(Fault::SlowBody) => (event, "claimed"),
        Some(Fault::WrongSecret | Fault::CorruptedSignature | Fault::BodyChangedAfterSigning) => {
            (event, "signature_mismatch")
        }
        Some(Fault::MissingSignature) => (event, "missing_header"),
        Some(Fault::WrongEventHeader) => {
            let named = if event == "ping" {
                "credit_transfer"
            } else {
                "ping"
            };
            (named.to_owned(), "unexpected_shape")
        }
        Some(Fault::OversizedBody) => (event, "body_too_large"),
        Some(Fault::TruncatedBody) => (event, "malformed_json"),
        Some(Fault::ContentTypeMismatch) => (event, "missing_payload_field"),
        Some(_) => panic!("a fault this test does not know: {delivery:?}"),
    }
}

/// `GET url` over a plain socket: the body.
fn get(url: &str) -> String {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    body.to_owned()
}

/// The samples of `metric` in a Prometheus text scrape, by their labels
/// (`event=…,outcome=…`).
fn samples_of(scrape: &str, metric: &str) -> BTreeMap<String, u64> {
    scrape
        .lines()
        .filter_map(|line| line.strip_prefix(metric))
        .filter_map(|rest| {
            let (labels, value) = rest.rsplit_once(' ')?;
            let labels = labels.trim_start_matches('{').trim_end_matches('}');
            Some((labels.replace('"', ""), value.parse().ok()?))
        })
        .collect()
}

#[test]
fn a_scrape_after_the_demo_deliveries_counts_each_exactly() {
    let listen = Listen::start(&[
        "--secret",
        SECRET,
        "--store",
        "memory",
        "--metrics-addr",
        "127.0.0.1:0",
        "--log-format",
        "json",
    ]);
    let metrics = listen.metrics.clone().expect("no metrics address printed");
    let deliveries = demo_deliveries();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let statuses: Vec<Option<u16>> = runtime.block_on(async {
        let sender = Sender::new(SenderConfig::new(
            listen.url.clone(),
            Some(Secret::new(SECRET)),
        ))
        .unwrap();
        let mut statuses = Vec::new();
        for delivery in &deliveries {
            statuses.push(sender.send(delivery).await.status);
        }
        statuses
    });
    let expected_statuses: Vec<Option<u16>> = deliveries
        .iter()
        .map(|delivery| Some(delivery.expected_status()))
        .collect();
    assert_eq!(statuses, expected_statuses);

    let scrape = get(&metrics);
    let (_, err) = listen.stop();

    let mut want: BTreeMap<String, u64> = BTreeMap::new();
    for delivery in &deliveries {
        let (event, outcome) = expected(delivery);
        *want
            .entry(format!("event={event},outcome={outcome}"))
            .or_default() += 1;
    }
    assert_eq!(deliveries.len(), 79);
    assert_eq!(
        samples_of(&scrape, "icr_webhooks_deliveries_total"),
        want,
        "{scrape}"
    );
    // Every body but the oversized one was read whole.
    assert_eq!(
        samples_of(&scrape, "icr_webhooks_body_bytes_count"),
        BTreeMap::from([(String::new(), 78)]),
        "{scrape}"
    );

    // The refusals were logged as JSON lines with their span; nothing
    // shows the secret or a body.
    let refused: Vec<serde_json::Value> = err
        .lines()
        .filter(|line| line.starts_with('{'))
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let levels: BTreeMap<String, usize> =
        refused.iter().fold(BTreeMap::new(), |mut levels, line| {
            *levels
                .entry(line["level"].as_str().unwrap().to_owned())
                .or_default() += 1;
            levels
        });
    assert_eq!(
        levels,
        BTreeMap::from([("INFO".to_owned(), 4), ("WARN".to_owned(), 4)]),
        "{err}"
    );
    let signature = &refused.iter().find(|line| line["level"] == "WARN").unwrap()["span"];
    assert_eq!(signature["name"], "icr_webhooks.delivery");
    assert_eq!(signature["status"], 401);
    assert!(!err.contains(SECRET) && !err.contains("SEKRIT"), "{err}");
}
