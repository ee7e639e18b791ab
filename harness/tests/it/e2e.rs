//! Sender to SDK over loopback: every event/action in both content types,
//! redelivery, and each fault kind with its expected status.

use icr_webhooks::Receiver;
use icr_webhooks::receive::{ContentType, Secret};
use icr_webhooks_harness::listen::{self, Accepted};
use icr_webhooks_harness::samples;
use icr_webhooks_harness::sender::{Fault, Outgoing, Sender, SenderConfig};
use tokio::sync::mpsc;

const SECRET: &str = "whsec_e2e";

async fn start() -> (String, mpsc::UnboundedReceiver<Accepted>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    let app = listen::app(Receiver::new(SECRET).unwrap(), tx);
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/webhook"), rx)
}

fn sample(key: &str, seed: u64) -> Outgoing {
    Outgoing::sample(&key.parse().unwrap(), seed).unwrap()
}

#[tokio::test]
async fn every_event_action_in_both_content_types_is_accepted_as_typed() {
    let (url, mut accepted) = start().await;
    let sender = Sender::new(SenderConfig::new(url, Some(Secret::new(SECRET)))).unwrap();
    let mut sent = Vec::new();
    for carried in [ContentType::Json, ContentType::Form] {
        for key in samples::keys() {
            sent.push(
                Outgoing::sample(&key, 3)
                    .unwrap()
                    .with_content_type(carried),
            );
        }
    }
    let pairs: usize = icr_webhooks::types::CATALOGUE
        .iter()
        .map(|spec| spec.keys().len())
        .sum();
    assert_eq!(sent.len(), 2 * pairs);
    let attempts = sender.send_all(sent.clone(), 8, 0, |_| {}).await;
    assert!(
        attempts.iter().all(|a| a.status == Some(200)),
        "{attempts:?}"
    );
    let mut seen = std::collections::HashMap::new();
    while let Ok(a) = accepted.try_recv() {
        seen.insert(a.delivery.clone(), a);
    }
    for delivery in &sent {
        let typed = seen.get(&delivery.id).unwrap();
        assert_eq!(typed.key(), delivery.key());
        assert!(typed.known, "{}", delivery.key());
    }
}

#[tokio::test]
async fn a_redelivery_is_acknowledged_and_reported_once() {
    let (url, mut accepted) = start().await;
    let mut sender = Sender::new(SenderConfig::new(url, Some(Secret::new(SECRET)))).unwrap();
    let delivery = sample("credit_transfer.completed", 9);
    assert_eq!(sender.send(&delivery).await.status, Some(200));
    assert_eq!(sender.send_attempt(&delivery, 2).await.status, Some(200));
    // Signed with a secret the receiver does not have: the known GUID does not
    // get it past the signature check.
    sender.rotate_secret(Some(Secret::new("whsec_not_configured")));
    assert_eq!(sender.send_attempt(&delivery, 3).await.status, Some(401));
    let first = accepted.try_recv().unwrap();
    assert_eq!(first.delivery, delivery.id);
    assert_eq!(
        accepted.try_recv().unwrap_err(),
        mpsc::error::TryRecvError::Empty
    );
}

#[tokio::test]
async fn each_fault_gets_its_expected_status() {
    let (url, mut accepted) = start().await;
    let sender = Sender::new(SenderConfig::new(url, Some(Secret::new(SECRET)))).unwrap();
    for fault in Fault::ALL {
        for carried in [ContentType::Json, ContentType::Form] {
            let delivery = sample("credit_retirement.completed", 5)
                .with_content_type(carried)
                .with_fault(fault);
            let attempt = sender.send(&delivery).await;
            assert_eq!(
                attempt.status,
                Some(fault.expected_status()),
                "{fault:?} {carried:?}"
            );
            let reported = accepted.try_recv().ok();
            if fault == Fault::SlowBody {
                assert_eq!(reported.map(|a| a.delivery), Some(delivery.id.clone()));
            } else {
                assert_eq!(reported, None, "{fault:?}");
            }
        }
    }
}
