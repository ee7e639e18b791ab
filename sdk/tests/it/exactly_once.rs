//! Exactly-once processing on a real socket, through the `OnceDelivery`
//! extractors of axum and actix-web and the tower layer's exactly-once mode:
//! the same delivery twice, one after the other or at the same time, is
//! processed once and acknowledged every time; a delivery whose processing
//! failed is processed when redelivered; the store's window and capacity
//! only ever cause a second processing, never a lost delivery.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use icr_webhooks::contract::header;
use icr_webhooks::once::{Claimed, DeliveryStore, ExactlyOnce, MemoryStore};
use icr_webhooks::once::{Clock, DEFAULT_LEASE, DeliveryKey};

use crate::loopback::{runtime, send};
use crate::server::{ALREADY as ALREADY_TEXT, Framework, Options, drain, start};
use crate::support::{GUID, Wire};

const ALREADY: (u16, &str) = (200, ALREADY_TEXT);

fn answer(status: u16, text: &str) -> (u16, String) {
    (status, text.to_owned())
}

/// The ping delivery with the GUID `n`.
fn ping(n: u32) -> Wire {
    Wire::ping().with(
        header::DELIVERY,
        format!("{n:08x}-cc78-11e3-81ab-4c9367dc0958"),
    )
}

#[test]
fn a_repeated_delivery_is_processed_once_and_acknowledged_each_time() {
    runtime().block_on(async {
        for framework in Framework::ALL {
            eprintln!("on {framework:?}");
            let mut server = start(Options::on(framework)).await;
            let wire = Wire::ping();
            assert_eq!(send(server.addr, &wire).await, answer(200, ""));
            assert_eq!(send(server.addr, &wire).await, answer(ALREADY.0, ALREADY.1));
            // The same GUID in upper case is the same delivery.
            let upper = wire.clone().with(header::DELIVERY, GUID.to_uppercase());
            assert_eq!(
                send(server.addr, &upper).await,
                answer(ALREADY.0, ALREADY.1)
            );
            // As a form, signed again: still the same delivery.
            let form = Wire::form("ping", &wire.body);
            assert_eq!(send(server.addr, &form).await, answer(ALREADY.0, ALREADY.1));
            assert_eq!(drain(&mut server.processed), [GUID]);
            assert_eq!(drain(&mut server.started), [GUID]);
        }
    });
}

#[test]
fn a_tampered_body_under_a_known_guid_is_still_refused() {
    runtime().block_on(async {
        for framework in Framework::ALL {
            eprintln!("on {framework:?}");
            let mut server = start(Options::on(framework)).await;
            let wire = Wire::ping();
            assert_eq!(send(server.addr, &wire).await.0, 200);
            let tampered = wire.clone().body(Wire::transfer_completed().body);
            assert_eq!(
                send(server.addr, &tampered).await,
                answer(
                    401,
                    "signature does not match the body with any configured secret"
                )
            );
            assert_eq!(drain(&mut server.processed), [GUID]);
        }
    });
}

#[test]
fn concurrent_copies_are_processed_once_and_all_acknowledged() {
    const COPIES: usize = 8;
    runtime().block_on(async {
        for framework in Framework::ALL {
            eprintln!("on {framework:?}");
            let mut server = start(Options {
                gated: true,
                ..Options::on(framework)
            })
            .await;
            let addr = server.addr;
            let wire = Wire::transfer_completed();
            let first = tokio::spawn({
                let wire = wire.clone();
                async move { send(addr, &wire).await }
            });
            assert_eq!(server.started.recv().await.unwrap(), GUID);
            let copies: Vec<_> = (1..COPIES)
                .map(|_| {
                    let wire = wire.clone();
                    tokio::spawn(async move { send(addr, &wire).await })
                })
                .collect();
            // Every copy has found the delivery in progress and waits.
            server.until_waiting(COPIES - 1).await;
            server.gate.add_permits(1);
            assert_eq!(first.await.unwrap(), answer(200, ""));
            for copy in copies {
                assert_eq!(copy.await.unwrap(), answer(ALREADY.0, ALREADY.1));
            }
            assert_eq!(drain(&mut server.processed), [GUID]);
            assert_eq!(drain(&mut server.started), Vec::<String>::new());
        }
    });
}

#[test]
fn a_failed_processing_is_processed_again_when_redelivered() {
    runtime().block_on(async {
        for framework in Framework::ALL {
            eprintln!("on {framework:?}");
            let mut server = start(Options {
                failures: 1,
                ..Options::on(framework)
            })
            .await;
            let wire = Wire::ping();
            assert_eq!(send(server.addr, &wire).await, answer(500, ""));
            assert_eq!(drain(&mut server.processed), Vec::<String>::new());
            assert_eq!(send(server.addr, &wire).await, answer(200, ""));
            assert_eq!(send(server.addr, &wire).await, answer(ALREADY.0, ALREADY.1));
            assert_eq!(drain(&mut server.processed), [GUID]);
            assert_eq!(drain(&mut server.started), [GUID, GUID]);
        }
    });
}

#[test]
fn a_waiting_copy_takes_over_when_the_first_fails() {
    runtime().block_on(async {
        for framework in Framework::ALL {
            eprintln!("on {framework:?}");
            let mut server = start(Options {
                gated: true,
                failures: 1,
                ..Options::on(framework)
            })
            .await;
            let addr = server.addr;
            let wire = Wire::ping();
            let first = tokio::spawn({
                let wire = wire.clone();
                async move { send(addr, &wire).await }
            });
            assert_eq!(server.started.recv().await.unwrap(), GUID);
            let second = tokio::spawn({
                let wire = wire.clone();
                async move { send(addr, &wire).await }
            });
            server.until_waiting(1).await;
            // The first fails; the second, woken, claims the delivery itself.
            server.gate.add_permits(2);
            assert_eq!(first.await.unwrap(), answer(500, ""));
            assert_eq!(second.await.unwrap(), answer(200, ""));
            assert_eq!(drain(&mut server.processed), [GUID]);
            assert_eq!(drain(&mut server.started), [GUID]);
        }
    });
}

#[test]
fn a_copy_still_in_progress_after_the_wait_is_answered_409() {
    runtime().block_on(async {
        for framework in Framework::ALL {
            eprintln!("on {framework:?}");
            let mut server = start(Options {
                gated: true,
                wait: Duration::from_millis(100),
                ..Options::on(framework)
            })
            .await;
            let addr = server.addr;
            let wire = Wire::ping();
            let first = tokio::spawn({
                let wire = wire.clone();
                async move { send(addr, &wire).await }
            });
            assert_eq!(server.started.recv().await.unwrap(), GUID);
            let started = Instant::now();
            assert_eq!(
                send(addr, &wire).await,
                answer(409, "delivery is being processed; redeliver it later")
            );
            assert!(started.elapsed() >= Duration::from_millis(100));
            server.gate.add_permits(1);
            assert_eq!(first.await.unwrap(), answer(200, ""));
            // Redelivered later, as ICR would after the 409: acknowledged.
            assert_eq!(send(addr, &wire).await, answer(ALREADY.0, ALREADY.1));
            assert_eq!(drain(&mut server.processed), [GUID]);
        }
    });
}

#[test]
fn a_claim_held_by_another_process_is_answered_409_without_waiting() {
    runtime().block_on(async {
        for framework in Framework::ALL {
            eprintln!("on {framework:?}");
            let shared = Arc::new(MemoryStore::new());
            let mut server = start(Options {
                framework,
                ..Options::new(Arc::clone(&shared))
            })
            .await;
            let key = DeliveryKey::new(Some(60021), GUID.parse().unwrap());
            // Another process sharing the store has claimed the delivery.
            let Claimed::New(lease) = shared.claim(&key, DEFAULT_LEASE).await.unwrap() else {
                panic!("not new");
            };
            let started = Instant::now();
            assert_eq!(
                send(server.addr, &Wire::ping()).await,
                answer(409, "delivery is being processed; redeliver it later")
            );
            assert!(started.elapsed() < icr_webhooks::once::DEFAULT_DUPLICATE_WAIT);
            shared.complete(&key, lease.token).await.unwrap();
            assert_eq!(
                send(server.addr, &Wire::ping()).await,
                answer(ALREADY.0, ALREADY.1)
            );
            assert_eq!(drain(&mut server.processed), Vec::<String>::new());
        }
    });
}

#[test]
fn past_the_window_or_evicted_a_redelivery_is_processed_again() {
    runtime().block_on(async {
        for framework in Framework::ALL {
            eprintln!("on {framework:?}");
            let now = Arc::new(Mutex::new(SystemTime::now()));
            let clock = Arc::clone(&now);
            let store = MemoryStore::builder()
                .window(Duration::from_secs(3600))
                .capacity(2)
                .clock(Clock::from_fn(move || *clock.lock().unwrap()))
                .build();
            let mut server = start(Options {
                framework,
                ..Options::new(store)
            })
            .await;
            let addr = server.addr;
            assert_eq!(send(addr, &ping(1)).await.0, 200);
            *now.lock().unwrap() += Duration::from_secs(3599);
            assert_eq!(send(addr, &ping(1)).await, answer(ALREADY.0, ALREADY.1));
            *now.lock().unwrap() += Duration::from_secs(1);
            assert_eq!(
                send(addr, &ping(1)).await,
                answer(200, ""),
                "past the window"
            );
            // Capacity 2: a third GUID evicts the oldest, ping(1).
            assert_eq!(send(addr, &ping(2)).await.0, 200);
            assert_eq!(send(addr, &ping(3)).await.0, 200);
            assert_eq!(send(addr, &ping(3)).await, answer(ALREADY.0, ALREADY.1));
            assert_eq!(send(addr, &ping(1)).await, answer(200, ""), "evicted");
            let processed = drain(&mut server.processed);
            let short: Vec<&str> = processed.iter().map(|id| &id[..8]).collect();
            assert_eq!(
                short,
                ["00000001", "00000001", "00000002", "00000003", "00000001"]
            );
        }
    });
}

/// Many tasks on several threads race for the same GUIDs: each GUID is
/// claimed by exactly one of them, and every other one sees it in progress
/// or done.
#[test]
fn racing_tasks_claim_each_guid_once() {
    const TASKS: usize = 8;
    const GUIDS: u32 = 2000;
    let once = ExactlyOnce::new(MemoryStore::new());
    let keys: Arc<Vec<DeliveryKey>> = Arc::new(
        (0..GUIDS)
            .map(|n| {
                let id = format!("{n:08x}-0000-4000-8000-000000000000");
                DeliveryKey::new(None, id.parse().unwrap())
            })
            .collect(),
    );
    let claimed: Vec<Vec<u32>> = runtime().block_on(async {
        let handles: Vec<_> = (0..TASKS)
            .map(|_| {
                let once = once.clone();
                let keys = Arc::clone(&keys);
                tokio::spawn(async move {
                    let mut mine = Vec::new();
                    for (n, key) in (0..).zip(keys.iter()) {
                        match once.claim(key).await.unwrap() {
                            Claimed::New(claim) => {
                                mine.push(n);
                                claim.complete().await.unwrap();
                            }
                            Claimed::Done
                            | Claimed::InProgress {
                                settled: Some(_), ..
                            } => {}
                            other => panic!("claimed elsewhere: {other:?}"),
                        }
                    }
                    mine
                })
            })
            .collect();
        let mut all = Vec::new();
        for handle in handles {
            all.push(handle.await.unwrap());
        }
        all
    });
    let mut all: Vec<u32> = claimed.into_iter().flatten().collect();
    all.sort_unstable();
    assert_eq!(all, (0..GUIDS).collect::<Vec<_>>());
}

/// Waiting without axum: `claim_waiting` with a timer that never fires
/// returns once the claim in progress is settled.
#[test]
fn claim_waiting_returns_when_the_claim_in_progress_settles() {
    runtime().block_on(async {
        let once = ExactlyOnce::default();
        let key = DeliveryKey::new(None, GUID.parse().unwrap());
        let Claimed::New(claim) = once.claim(&key).await.unwrap() else {
            panic!("not new")
        };
        let waiting = tokio::spawn({
            let once = once.clone();
            let key = key.clone();
            async move {
                matches!(
                    once.claim_waiting(&key, std::future::pending()).await,
                    Ok(Claimed::Done)
                )
            }
        });
        claim.complete().await.unwrap();
        assert!(waiting.await.unwrap());
        // A timer that has already fired gives up at once.
        let other = DeliveryKey::new(
            None,
            "9b2e4c1a-0f3d-4e5b-8a7c-6d1e2f3a4b5c".parse().unwrap(),
        );
        let Claimed::New(claim) = once.claim(&other).await.unwrap() else {
            panic!("not new")
        };
        assert!(matches!(
            once.claim_waiting(claim.key(), std::future::ready(()))
                .await,
            Ok(Claimed::InProgress {
                expires: None,
                settled: Some(_)
            })
        ));
        drop(claim);
    });
}

/// `WebhookState` is the whole state `Delivery` and `Once` need: a router
/// on it processes a delivery once and acknowledges the repeat.
#[test]
fn webhook_state_serves_the_once_extractor() {
    use axum::{Router, routing::post};
    use icr_webhooks::axum::{OnceDelivery, WebhookState};

    async fn webhook(once: OnceDelivery) -> &'static str {
        match once {
            OnceDelivery::New(_delivery, claim) => {
                claim.complete().await.unwrap();
                "done"
            }
            OnceDelivery::Done(_) => "delivery already processed",
        }
    }

    runtime().block_on(async {
        let receiver = crate::support::receiver();
        let state = WebhookState::new(receiver, ExactlyOnce::new(MemoryStore::new()));
        let router: Router = Router::new()
            .route("/webhook", post(webhook))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move { axum::serve(listener, router).await });
        let wire = Wire::ping();
        assert_eq!(send(addr, &wire).await, answer(200, "done"));
        assert_eq!(send(addr, &wire).await, answer(ALREADY.0, ALREADY.1));
        server.abort();
    });
}
