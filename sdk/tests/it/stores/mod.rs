//! One behaviour suite for every store (memory, SQLite, PostgreSQL): claims
//! and their fencing tokens, many tasks claiming one GUID, leases that run
//! out and are taken over, the inbox's accept / claim / fail / dead /
//! retry, retention, and a restart; then a model-based property test that
//! runs the same random operations on every backend and requires the same
//! answers.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use icr_webhooks::once::{
    Accepted, Claimed, ClaimedJob, DeliveryKey, DeliveryStore, Lease, ListFilter, Purge, Purged,
    Record, State, Stats, StoreError, StoredDelivery, Token,
};
use icr_webhooks::receive::DeliveryId;
use proptest::prelude::*;

use crate::backends::{self, Opened};
use crate::loopback::runtime;

const LEASE: Duration = Duration::from_secs(60);

fn key(n: u32) -> DeliveryKey {
    let id: DeliveryId = format!("{n:08x}-cc78-41e3-81ab-4c9367dc0958")
        .parse()
        .unwrap();
    DeliveryKey::new(Some(60021), id)
}

fn stored(key: &DeliveryKey, at: SystemTime) -> StoredDelivery {
    StoredDelivery {
        key: key.clone(),
        headers: vec![
            ("X-ICR-Event".to_owned(), "ping".to_owned()),
            ("X-ICR-Delivery".to_owned(), key.id.as_str().to_owned()),
        ],
        body: Bytes::from(format!("{{\"zen\":\"{}\"}}", key.id.as_str())),
        received_at: at,
    }
}

/// Runs `test` on every backend, each with fresh tables.
fn on_every_backend<F, Fut>(name: &str, test: F)
where
    F: Fn(Opened) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    runtime().block_on(async {
        for backend in backends::all() {
            if let Some(opened) = backends::open(backend, name).await {
                eprintln!("{name}: {backend:?}");
                test(opened).await;
            }
        }
    });
}

fn new_lease(begin: Claimed<Lease>) -> Lease {
    match begin {
        Claimed::New(lease) => lease,
        other => panic!("expected a new claim, got {other:?}"),
    }
}

#[test]
fn begin_complete_and_abort_with_fencing_tokens() {
    on_every_backend("claims", |opened| async move {
        let store = &opened.store;
        let now = opened.clock.now();
        let first = new_lease(store.claim(&key(1), LEASE).await.unwrap());
        assert_eq!(first.expires, now + LEASE);
        assert_eq!(
            store.claim(&key(1), LEASE).await.unwrap(),
            Claimed::InProgress {
                expires: Some(now + LEASE),
                settled: None
            }
        );
        // Another key is independent; the same GUID of another hook too.
        let other_hook = DeliveryKey::new(Some(7), key(1).id);
        let second = new_lease(store.claim(&other_hook, LEASE).await.unwrap());
        assert!(second.token > first.token, "tokens grow");
        // Given back: free, claimed again under a larger token.
        store.abort(&key(1), first.token).await.unwrap();
        let third = new_lease(store.claim(&key(1), LEASE).await.unwrap());
        assert!(third.token > second.token);
        // The stale token changes nothing.
        for stale in [
            store.complete(&key(1), first.token).await,
            store.abort(&key(1), first.token).await,
            store.renew(&key(1), first.token, LEASE).await.map(|_| ()),
        ] {
            assert!(matches!(stale, Err(StoreError::Fenced)), "{stale:?}");
        }
        store.complete(&key(1), third.token).await.unwrap();
        assert_eq!(store.claim(&key(1), LEASE).await.unwrap(), Claimed::Done);
        // Settled: even the right token is refused now.
        let again = store.complete(&key(1), third.token).await;
        assert!(matches!(again, Err(StoreError::Fenced)), "{again:?}");
        let abort = store.abort(&key(1), third.token).await;
        assert!(matches!(abort, Err(StoreError::Fenced)), "{abort:?}");
        assert_eq!(store.claim(&key(1), LEASE).await.unwrap(), Claimed::Done);
        let stats = store.stats().await.unwrap();
        assert_eq!((stats.done, stats.active), (1, 1));
    });
}

#[test]
fn many_tasks_claiming_one_guid_get_one_claim() {
    on_every_backend("race", |opened| async move {
        for round in 0..5 {
            let tasks: Vec<_> = (0..32)
                .map(|_| {
                    let store = Arc::clone(&opened.store);
                    tokio::spawn(async move { store.claim(&key(round), LEASE).await.unwrap() })
                })
                .collect();
            let mut new = 0;
            for task in tasks {
                match task.await.unwrap() {
                    Claimed::New(_) => new += 1,
                    Claimed::InProgress {
                        expires: Some(_), ..
                    } => {}
                    other => panic!("unexpected {other:?}"),
                }
            }
            assert_eq!(new, 1, "round {round}");
        }
    });
}

#[test]
fn a_lease_that_runs_out_is_taken_over_and_the_late_holder_is_refused() {
    on_every_backend("lease", |opened| async move {
        let store = &opened.store;
        let clock = &opened.clock;
        let old = new_lease(store.claim(&key(1), Duration::from_secs(10)).await.unwrap());
        clock.advance(Duration::from_secs(5));
        // Renewed: 10 s from now.
        let renewed = store
            .renew(&key(1), old.token, Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(renewed, clock.now() + Duration::from_secs(10));
        clock.advance(Duration::from_secs(9));
        assert!(matches!(
            store.claim(&key(1), LEASE).await.unwrap(),
            Claimed::InProgress { .. }
        ));
        // Past the lease but not taken over: still the holder's.
        clock.advance(Duration::from_secs(2));
        store
            .renew(&key(1), old.token, Duration::from_secs(10))
            .await
            .unwrap();
        clock.advance(Duration::from_secs(11));
        let new = new_lease(store.claim(&key(1), LEASE).await.unwrap());
        assert!(new.token > old.token);
        // The paused holder wakes up: refused, nothing applied.
        let late = store.complete(&key(1), old.token).await;
        assert!(matches!(late, Err(StoreError::Fenced)), "{late:?}");
        let late = store.renew(&key(1), old.token, LEASE).await;
        assert!(matches!(late, Err(StoreError::Fenced)), "{late:?}");
        assert!(matches!(
            store.claim(&key(1), LEASE).await.unwrap(),
            Claimed::InProgress { .. }
        ));
        store.complete(&key(1), new.token).await.unwrap();
        assert_eq!(store.claim(&key(1), LEASE).await.unwrap(), Claimed::Done);
        let records = store.list(ListFilter::All, 10).await.unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!((records[0].state, records[0].attempts), (State::Done, 2));
    });
}

#[test]
fn the_inbox_accepts_once_claims_retries_and_keeps_the_dead() {
    on_every_backend("inbox", |opened| async move {
        let store = &opened.store;
        let clock = &opened.clock;
        let arrived = clock.now();
        let delivery = stored(&key(1), arrived);
        assert_eq!(
            store.accept(delivery.clone()).await.unwrap(),
            Accepted::Stored
        );
        assert_eq!(
            store.accept(delivery.clone()).await.unwrap(),
            Accepted::Duplicate
        );
        assert_eq!(
            store.claim(&key(1), LEASE).await.unwrap(),
            Claimed::InProgress {
                expires: None,
                settled: None
            },
            "waiting in the inbox"
        );
        let jobs = store.claim_jobs(10, LEASE).await.unwrap();
        assert_eq!(jobs.len(), 1);
        let job = &jobs[0];
        assert_eq!(job.delivery, delivery, "headers, bytes and time kept");
        assert_eq!((job.attempt, job.lease.expires), (1, arrived + LEASE));
        assert_eq!(store.claim_jobs(10, LEASE).await.unwrap(), []);
        // The worker died: after its lease, the job is claimed again.
        clock.advance(LEASE);
        let jobs = store.claim_jobs(10, LEASE).await.unwrap();
        assert_eq!(jobs.len(), 1);
        let second = jobs[0].lease.token;
        assert_eq!(jobs[0].attempt, 2);
        assert!(second > job.lease.token);
        let late = store.complete(&key(1), job.lease.token).await;
        assert!(matches!(late, Err(StoreError::Fenced)), "{late:?}");
        // Fails: retried in 30 s.
        let retry_at = clock.now() + Duration::from_secs(30);
        store
            .fail(&key(1), second, Some(retry_at), "handler failed")
            .await
            .unwrap();
        let stats = store.stats().await.unwrap();
        assert_eq!((stats.pending, stats.failed), (1, 1));
        let failed = store.list(ListFilter::Failed, 10).await.unwrap();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].due, Some(retry_at));
        assert_eq!(failed[0].last_error.as_deref(), Some("handler failed"));
        clock.advance(Duration::from_secs(29));
        assert_eq!(store.claim_jobs(10, LEASE).await.unwrap(), []);
        clock.advance(Duration::from_secs(1));
        let jobs = store.claim_jobs(10, LEASE).await.unwrap();
        assert_eq!(jobs[0].attempt, 3);
        // The last attempt: dead, kept.
        store
            .fail(&key(1), jobs[0].lease.token, None, "gave up")
            .await
            .unwrap();
        assert_eq!(store.claim_jobs(10, LEASE).await.unwrap(), []);
        assert_eq!(store.stats().await.unwrap().dead, 1);
        let dead = store
            .list(ListFilter::State(State::Dead), 10)
            .await
            .unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(
            (dead[0].attempts, dead[0].body_len),
            (3, Some(delivery.body.len() as u64))
        );
        assert_eq!(
            store.accept(delivery.clone()).await.unwrap(),
            Accepted::Duplicate,
            "a redelivery of a dead one is not stored twice"
        );
        // Retried by hand: pending with its attempts reset.
        assert_eq!(store.retry(Some(&key(1).id)).await.unwrap(), 1);
        assert_eq!(store.retry(None).await.unwrap(), 0);
        let jobs = store.claim_jobs(10, LEASE).await.unwrap();
        assert_eq!(jobs[0].attempt, 1);
        store.complete(&key(1), jobs[0].lease.token).await.unwrap();
        assert_eq!(store.claim(&key(1), LEASE).await.unwrap(), Claimed::Done);
        let found = store.get(&key(1).id).await.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0.state, State::Done);
        assert_eq!(found[0].1.as_ref(), Some(&delivery));
    });
}

#[test]
fn claims_come_due_in_order_and_no_more_than_asked() {
    on_every_backend("order", |opened| async move {
        let store = &opened.store;
        for n in [3, 1, 2, 5, 4] {
            store
                .accept(stored(&key(n), opened.clock.now()))
                .await
                .unwrap();
            opened.clock.advance(Duration::from_millis(1));
        }
        let keys = |jobs: Vec<ClaimedJob>| {
            let mut keys: Vec<_> = jobs.into_iter().map(|job| job.delivery.key).collect();
            keys.sort();
            keys
        };
        let first = keys(store.claim_jobs(2, LEASE).await.unwrap());
        assert_eq!(first, [key(1), key(3)], "the two accepted first");
        let keys = keys(store.claim_jobs(10, LEASE).await.unwrap());
        assert_eq!(keys, [key(2), key(4), key(5)]);
        assert_eq!(store.claim_jobs(0, LEASE).await.unwrap(), []);
    });
}

#[test]
fn retention_forgets_done_rows_and_bodies_and_keeps_the_dead() {
    on_every_backend("retention", |opened| async move {
        let store = &opened.store;
        let clock = &opened.clock;
        // Done (inbox), dead (inbox), done (processed before answering),
        // pending.
        for n in 1..=3 {
            store.accept(stored(&key(n), clock.now())).await.unwrap();
        }
        let jobs = store.claim_jobs(2, LEASE).await.unwrap();
        store.complete(&key(1), jobs[0].lease.token).await.unwrap();
        store
            .fail(&key(2), jobs[1].lease.token, None, "x")
            .await
            .unwrap();
        let lease = new_lease(store.claim(&key(4), LEASE).await.unwrap());
        store.complete(&key(4), lease.token).await.unwrap();
        clock.advance(Duration::from_secs(3600));
        let purged = store
            .purge(Purge {
                before: clock.now() - Duration::from_secs(7200),
                bodies_before: Some(clock.now() - Duration::from_secs(60)),
                dead: false,
            })
            .await
            .unwrap();
        assert_eq!((purged.rows, purged.bodies), (0, 1), "one body dropped");
        let found = store.get(&key(1).id).await.unwrap();
        assert_eq!((found[0].0.body_len, found[0].1.is_none()), (None, true));
        let purged = store
            .purge(Purge {
                before: clock.now(),
                bodies_before: None,
                dead: false,
            })
            .await
            .unwrap();
        assert_eq!((purged.rows, purged.bodies), (2, 0), "the two done rows");
        let stats = store.stats().await.unwrap();
        assert_eq!((stats.done, stats.dead, stats.pending), (0, 1, 1));
        let purged = store
            .purge(Purge {
                before: clock.now(),
                bodies_before: None,
                dead: true,
            })
            .await
            .unwrap();
        assert_eq!(purged.rows, 1, "the dead row, when asked");
        assert_eq!(store.stats().await.unwrap().pending, 1, "never the pending");
        // Forgotten: a redelivery is new again.
        assert!(matches!(
            store.claim(&key(4), LEASE).await.unwrap(),
            Claimed::New(_)
        ));
    });
}

#[test]
fn a_restart_keeps_done_done_and_gives_back_claims_after_their_lease() {
    on_every_backend("restart", |mut opened| async move {
        let store = Arc::clone(&opened.store);
        let done = new_lease(store.claim(&key(1), LEASE).await.unwrap());
        store.complete(&key(1), done.token).await.unwrap();
        let held = new_lease(store.claim(&key(2), LEASE).await.unwrap());
        store
            .accept(stored(&key(3), opened.clock.now()))
            .await
            .unwrap();
        store
            .accept(stored(&key(4), opened.clock.now()))
            .await
            .unwrap();
        let job = store.claim_jobs(1, LEASE).await.unwrap();
        assert_eq!(job[0].delivery.key, key(3));
        drop(store);
        let Some(store) = opened.reopen().await else {
            return; // memory: a restart forgets everything
        };
        assert_eq!(store.claim(&key(1), LEASE).await.unwrap(), Claimed::Done);
        assert!(matches!(
            store.claim(&key(2), LEASE).await.unwrap(),
            Claimed::InProgress { .. }
        ));
        let pending = store.claim_jobs(10, LEASE).await.unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].delivery.key, key(4));
        opened.clock.advance(LEASE);
        let after = new_lease(store.claim(&key(2), LEASE).await.unwrap());
        assert!(
            after.token > held.token,
            "tokens keep growing across a restart"
        );
        let taken = store.claim_jobs(10, LEASE).await.unwrap();
        let mut keys: Vec<_> = taken.iter().map(|job| job.delivery.key.clone()).collect();
        keys.sort();
        assert_eq!(keys, [key(3), key(4)], "both claims came back");
    });
}

// The model-based test: the same operations on every backend.

/// One operation, over 4 keys; tokens are named by which claim of the key
/// they came from (the latest, or an older one).
#[derive(Debug, Clone)]
enum Op {
    Claim(u32, u8),
    Complete(u32, u8),
    Abort(u32, u8),
    Renew(u32, u8),
    Accept(u32),
    ClaimJobs(u8),
    Fail(u32, u8, Option<u8>),
    Retry(Option<u32>),
    Advance(u8),
    Purge(u8, bool),
    Stats,
    List(u8),
    Get(u32),
}

fn op() -> impl Strategy<Value = Op> {
    let k = 0..4_u32;
    prop_oneof![
        4 => (k.clone(), 1..30_u8).prop_map(|(k, s)| Op::Claim(k, s)),
        3 => (k.clone(), 0..3_u8).prop_map(|(k, t)| Op::Complete(k, t)),
        2 => (k.clone(), 0..3_u8).prop_map(|(k, t)| Op::Abort(k, t)),
        1 => (k.clone(), 0..3_u8).prop_map(|(k, t)| Op::Renew(k, t)),
        3 => k.clone().prop_map(Op::Accept),
        3 => (1..4_u8).prop_map(Op::ClaimJobs),
        2 => (k.clone(), 0..3_u8, proptest::option::of(0..20_u8)).prop_map(|(k, t, r)| Op::Fail(k, t, r)),
        1 => proptest::option::of(k.clone()).prop_map(Op::Retry),
        3 => (0..40_u8).prop_map(Op::Advance),
        1 => (0..60_u8, any::<bool>()).prop_map(|(s, d)| Op::Purge(s, d)),
        1 => Just(Op::Stats),
        1 => (0..4_u8).prop_map(Op::List),
        1 => k.prop_map(Op::Get),
    ]
}

/// An answer with each token replaced by which claim of its key it was.
#[derive(Debug, PartialEq)]
enum Answer {
    Claim(String),
    Unit,
    Expires(SystemTime),
    Accepted(Accepted),
    Jobs(Vec<(DeliveryKey, usize, SystemTime, u32, StoredDelivery)>),
    Stats(Stats),
    Records(Vec<Record>),
    Found(Vec<(Record, Option<StoredDelivery>)>),
    Count(u64),
    Purged(Purged),
    Fenced,
}

/// The tokens each key was claimed under, in order.
#[derive(Default)]
struct Tokens(HashMap<DeliveryKey, Vec<Token>>);

impl Tokens {
    fn record(&mut self, key: &DeliveryKey, token: Token) -> usize {
        let list = self.0.entry(key.clone()).or_default();
        list.push(token);
        list.len()
    }

    /// `pick` 0: the latest; 1: the one before; 2: a token never given.
    fn pick(&self, key: &DeliveryKey, pick: u8) -> Token {
        let list = self.0.get(key).map(Vec::as_slice).unwrap_or_default();
        match (pick, list) {
            (0, [.., last]) => *last,
            (1, [.., before, _]) => *before,
            _ => Token(u64::MAX - 1),
        }
    }
}

mod model;
#[allow(unused_imports)]
use model::*;
