//! The router: exact action first, then the whole event, then the fallback,
//! else skipped; handlers get their own payload type.

use std::sync::{Arc, Mutex};

use icr_webhooks::receive::DeliveryInfo;
use icr_webhooks::router::{Outcome, Router};
use icr_webhooks::types::{
    CreditTransferCompleted, CreditTransferEvent, InventoryEvent, PingEvent,
};
use icr_webhooks::{Delivery, Event};

use crate::support::{Wire, example, receiver};

type Log = Arc<Mutex<Vec<String>>>;

fn delivery(file: &str) -> Delivery {
    let stem = file.trim_end_matches(".json");
    let event = stem.split('.').next().unwrap();
    Wire::json(event, example(file))
        .receive(&receiver())
        .unwrap()
}

fn unknown_action() -> Delivery {
    Wire::json(
        "credit_transfer",
        br#"{"action": "split", "transfer": {}}"#.to_vec(),
    )
    .receive(&receiver())
    .unwrap()
}

fn unknown_event() -> Delivery {
    Wire::json("carbon_offset", br#"{"action": "made"}"#.to_vec())
        .receive(&receiver())
        .unwrap()
}

fn router(log: &Log, with_fallback: bool) -> Router {
    let (a, b, c) = (log.clone(), log.clone(), log.clone());
    let router = Router::new()
        .on(
            move |info: DeliveryInfo, completed: CreditTransferCompleted| {
                let log = a.clone();
                async move {
                    log.lock()
                        .unwrap()
                        .push(format!("completed {} {}", completed.transfer.id, info.id));
                    Ok(())
                }
            },
        )
        .on(move |_, transfer: CreditTransferEvent| {
            let log = b.clone();
            async move {
                log.lock()
                    .unwrap()
                    .push(format!("transfer {}", transfer.action()));
                Ok(())
            }
        })
        .on(move |_, ping: PingEvent| {
            let log = c.clone();
            async move {
                log.lock().unwrap().push(format!("ping {}", ping.zen));
                Ok(())
            }
        });
    if with_fallback {
        let log = log.clone();
        router.fallback(move |info: DeliveryInfo, event: Event| {
            let log = log.clone();
            async move {
                log.lock().unwrap().push(format!(
                    "fallback {} {:?}",
                    info.event_name,
                    event.action()
                ));
                Ok(())
            }
        })
    } else {
        router
    }
}

#[track_caller]
fn check(router: &Router, log: &Log, delivery: Delivery, outcome: Outcome, entry: Option<&str>) {
    log.lock().unwrap().clear();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let got = runtime.block_on(router.dispatch(delivery)).unwrap();
    assert_eq!(got, outcome);
    let log = log.lock().unwrap();
    assert_eq!(
        log.iter().map(String::as_str).collect::<Vec<_>>(),
        entry.into_iter().collect::<Vec<_>>()
    );
}

#[test]
fn dispatches_by_event_and_action() {
    let log = Log::default();
    let router = router(&log, false);
    let guid = crate::support::GUID;
    let completed = format!("completed 88213 {guid}");
    let cases = [
        (
            "credit_transfer.completed.json",
            Outcome::Handled,
            Some(completed.as_str()),
        ),
        (
            "credit_transfer.created.json",
            Outcome::Handled,
            Some("transfer created"),
        ),
        (
            "credit_transfer.reversed.json",
            Outcome::Handled,
            Some("transfer reversed"),
        ),
        (
            "ping.json",
            Outcome::Handled,
            Some("ping Measure twice, retire once."),
        ),
        ("inventory.renamed.json", Outcome::Skipped, None),
        ("project.updated.json", Outcome::Skipped, None),
    ];
    for (file, outcome, entry) in cases {
        check(&router, &log, delivery(file), outcome, entry);
    }
    check(
        &router,
        &log,
        unknown_action(),
        Outcome::Handled,
        Some("transfer split"),
    );
    check(&router, &log, unknown_event(), Outcome::Skipped, None);
}

#[test]
fn fallback_takes_the_rest() {
    let log = Log::default();
    let router = router(&log, true);
    check(
        &router,
        &log,
        delivery("inventory.renamed.json"),
        Outcome::Handled,
        Some("fallback inventory Some(\"renamed\")"),
    );
    check(
        &router,
        &log,
        unknown_event(),
        Outcome::Handled,
        Some("fallback carbon_offset Some(\"made\")"),
    );
    check(
        &router,
        &log,
        delivery("ping.json"),
        Outcome::Handled,
        Some("ping Measure twice, retire once."),
    );
}

#[test]
fn handles_reports_registered_pairs() {
    let log = Log::default();
    let router = router(&log, true);
    assert!(router.handles("credit_transfer", Some("completed")));
    assert!(router.handles("credit_transfer", Some("anything")));
    assert!(router.handles("ping", None));
    assert!(!router.handles("inventory", Some("created")));
    assert!(!router.handles("carbon_offset", None));
    let debug = format!("{router:?}");
    assert_eq!(
        debug,
        r#"Router { routes: ["credit_transfer", "credit_transfer.completed", "ping"], fallback: true }"#
    );
}

#[test]
fn handler_errors_come_back() {
    let router =
        Router::new().on(|_, _: InventoryEvent| async move { Err("database down".into()) });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let error = runtime
        .block_on(router.dispatch(delivery("inventory.created.json")))
        .unwrap_err();
    assert_eq!(error.to_string(), "database down");
    let skipped = runtime
        .block_on(router.dispatch(delivery("ping.json")))
        .unwrap();
    assert_eq!(skipped, Outcome::Skipped);
}

#[test]
fn dispatch_future_can_be_spawned() {
    let log = Log::default();
    let router = Arc::new(router(&log, false));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let future = router.dispatch(delivery("ping.json"));
    drop(router);
    let outcome = runtime
        .block_on(async move { tokio::spawn(future).await.unwrap() })
        .unwrap();
    assert_eq!(outcome, Outcome::Handled);
}
