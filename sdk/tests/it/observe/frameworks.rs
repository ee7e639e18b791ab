//! One delivery span per request on each framework (axum, actix-web, hyper
//! with the tower layer), with the same fields: a verified delivery, a bad
//! signature, exactly once and the inbox. actix-web serves on threads of
//! its own, so this test records with a process-wide subscriber and keeps
//! only the spans of the GUIDs it sent.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use icr_webhooks::Receiver;
use icr_webhooks::observe::DELIVERY_SPAN;
use icr_webhooks::once::{Inbox, MemoryStore};

use super::capture::Captured;
use super::server::{SECRET, guid, ping};
use super::spans::post;
use crate::loopback::runtime;
use crate::server::{Framework, Options, start, start_inbox, start_plain};

/// The process-wide recording subscriber, installed once.
fn global() -> &'static Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED.get_or_init(|| {
        let captured = Captured::default();
        captured.install_global();
        captured
    })
}

#[test]
fn every_framework_opens_one_span_per_delivery_with_the_same_fields() {
    let captured = global();
    let receiver = || Receiver::new(SECRET).unwrap();
    let mut sent = Vec::new();
    for (index, framework) in Framework::ALL.into_iter().enumerate() {
        let base = 5000 + 10 * u32::try_from(index).unwrap();
        let statuses = runtime().block_on(async {
            let (plain, _seen, _stop_plain) = start_plain(framework, receiver()).await;
            let once = start(Options {
                receiver: receiver(),
                ..Options::on(framework)
            })
            .await;
            let inbox = Inbox::builder(receiver(), MemoryStore::new()).build();
            let (inbox, _stop_inbox) = start_inbox(framework, inbox).await;
            [
                post(plain, "/webhook", &ping(base + 1)).await,
                post(
                    plain,
                    "/webhook",
                    &ping(base + 2).signed_with("whsec_wrong"),
                )
                .await,
                post(once.addr, "/webhook", &ping(base + 3)).await,
                post(inbox, "/webhook", &ping(base + 4)).await,
            ]
        });
        assert_eq!(statuses, [204, 401, 200, 202], "{}", framework.name());
        sent.push((framework, base));
    }

    let spans = captured.named(DELIVERY_SPAN);
    for (framework, base) in sent {
        let ours: Vec<BTreeMap<String, String>> = (1..=4)
            .map(|n| {
                let id = guid(base + n);
                let mut matching: Vec<_> = spans
                    .iter()
                    .filter(|span| span.fields.get("delivery_id") == Some(&id))
                    .collect();
                assert_eq!(matching.len(), 1, "{}: spans of {id}", framework.name());
                let mut fields = matching.remove(0).fields.clone();
                for timing in ["verify_us", "body_bytes"] {
                    assert!(
                        fields.remove(timing).is_some(),
                        "{}: no {timing}",
                        framework.name()
                    );
                }
                fields.remove("parse_us");
                fields.remove("store_us");
                fields.remove("delivery_id");
                fields
            })
            .collect();
        let expect = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            [("event", "ping"), ("hook_id", "60021")]
                .iter()
                .chain(pairs)
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        assert_eq!(
            ours,
            [
                expect(&[("outcome", "verified")]),
                expect(&[("outcome", "signature_mismatch"), ("status", "401")]),
                expect(&[("outcome", "claimed")]),
                expect(&[("outcome", "accepted"), ("status", "202")]),
            ],
            "{}",
            framework.name()
        );
    }
}
