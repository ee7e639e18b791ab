//! The inbox end to end, *accept, then process*, on every store (memory,
//! SQLite, PostgreSQL when there is a server): accepted once and processed
//! once, retries with backoff, dead after the last attempt and retried by
//! hand, a restart, a store outage answered 503 behind the `Enqueued`
//! extractors (axum, actix-web) and the tower layer's inbox mode, a graceful shutdown, a handler that completes in its own
//! SQLite transaction; and the edges under them: a retry is not claimed
//! before its time, a completion the store refused once does not run the
//! handler again, a SQLite transaction that cannot begin says why.
//!
//! The stores here read the system clock, as the inbox does for its retry
//! times (the stores of `backends` stand still on a test clock, which would
//! make every retry due at once); the restart and the retry time use those,
//! for `Opened::reopen` and to place a failure inside a millisecond.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant, SystemTime};

use icr_webhooks::contract::header;
use icr_webhooks::once::{
    AcceptError, Accepted, Claimed, ClaimedJob, DeliveryKey, DeliveryStore, Inbox, Job, Lease,
    ListFilter, MemoryStore, Purge, Purged, Record, RetryPolicy, State, Stats, StoreError,
    StoreFuture, StoredDelivery, Token,
};
use icr_webhooks::receive::DeliveryId;
use icr_webhooks::{BoxError, ReceiveError};
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::backends::{self, Backend, TempDir};
use crate::loopback::runtime;
use crate::support::{Wire, receiver};

/// How long a test waits for the workers before it fails.
const WAIT: Duration = Duration::from_secs(10);

/// The webhook of the test deliveries (`X-ICR-Hook-ID` of `Wire`).
const HOOK: u64 = 60021;

/// The GUID of test delivery `n`.
fn guid(n: u32) -> String {
    format!("{n:08x}-cc78-11e3-81ab-4c9367dc0958")
}

fn id(n: u32) -> DeliveryId {
    guid(n).parse().unwrap()
}

fn key(n: u32) -> DeliveryKey {
    DeliveryKey::new(Some(HOOK), id(n))
}

/// The ping delivery with the GUID `n`, signed.
fn ping(n: u32) -> Wire {
    Wire::ping().with(header::DELIVERY, guid(n))
}

/// A retry policy that retries quickly.
fn quick_retries(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        attempts,
        first_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        factor: 2.0,
    }
}

/// A store on the system clock, and what it needs to stay open.
struct Live {
    store: Arc<dyn DeliveryStore>,
    /// The SQLite directory, removed when dropped.
    _dir: Option<TempDir>,
}

/// Opens `backend` on the system clock with fresh tables; `None` (said
/// loudly) when this build or machine cannot run it.
async fn open_live(backend: Backend, name: &str) -> Option<Live> {
    match backend {
        Backend::Memory => Some(Live {
            store: Arc::new(MemoryStore::new()),
            _dir: None,
        }),
        Backend::Sqlite => sqlite_live(name).await,
        Backend::Postgres => postgres_live(name).await,
    }
}

#[cfg(feature = "sqlite")]
async fn sqlite_live(name: &str) -> Option<Live> {
    let dir = TempDir::new(name);
    let store = icr_webhooks::once::sqlite::SqliteStore::open(dir.path().join("store.sqlite"))
        .await
        .unwrap();
    Some(Live {
        store: Arc::new(store),
        _dir: Some(dir),
    })
}

#[cfg(not(feature = "sqlite"))]
async fn sqlite_live(_: &str) -> Option<Live> {
    None
}

#[cfg(feature = "postgres")]
async fn postgres_live(name: &str) -> Option<Live> {
    let url = backends::fresh_schema(name).await?;
    let store = icr_webhooks::once::postgres::PostgresStore::builder(&url)
        .pool_size(8)
        .connect()
        .await
        .unwrap();
    Some(Live {
        store: Arc::new(store),
        _dir: None,
    })
}

#[cfg(not(feature = "postgres"))]
async fn postgres_live(_: &str) -> Option<Live> {
    eprintln!("NOT RUN: the PostgreSQL inbox tests (the postgres feature is off)");
    None
}

/// Runs `test` on every backend this build and machine can run, each with
/// fresh tables, on the system clock.
fn on_every_backend<F, Fut>(name: &str, test: F)
where
    F: Fn(Live) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    runtime().block_on(async {
        for backend in backends::all() {
            if let Some(live) = open_live(backend, name).await {
                eprintln!("{name}: {backend:?}");
                test(live).await;
            }
        }
    });
}

/// An inbox over `store` that looks for due retries every 5 ms.
fn inbox(store: &Arc<dyn DeliveryStore>, retry: RetryPolicy) -> Inbox {
    Inbox::builder_arc(receiver(), Arc::clone(store))
        .retry(retry)
        .poll_interval(Duration::from_millis(5))
        .build()
}

async fn accept(inbox: &Inbox, wire: &Wire) -> Result<Accepted, AcceptError> {
    inbox
        .accept(&wire.headers, wire.body.clone())
        .await
        .map(|(_, accepted)| accepted)
}

/// The next item on `channel`, within [`WAIT`].
async fn next<T>(channel: &mut mpsc::UnboundedReceiver<T>, what: &str) -> T {
    tokio::time::timeout(WAIT, channel.recv())
        .await
        .unwrap_or_else(|_| panic!("no {what} within {WAIT:?}"))
        .unwrap_or_else(|| panic!("the channel closed before {what}"))
}

/// Every item still to come on `channel`, once its senders are gone (the
/// workers shut down and dropped their handler).
async fn rest<T>(channel: &mut mpsc::UnboundedReceiver<T>) -> Vec<T> {
    let mut out = Vec::new();
    while let Some(item) = tokio::time::timeout(WAIT, channel.recv())
        .await
        .expect("the handler was not dropped: are the workers still running?")
    {
        out.push(item);
    }
    out
}

/// A store's rows per state, to compare whole.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    free: u64,
    pending: u64,
    failed: u64,
    active: u64,
    done: u64,
    dead: u64,
}

impl Counts {
    fn of(stats: Stats) -> Self {
        Self {
            free: stats.free,
            pending: stats.pending,
            failed: stats.failed,
            active: stats.active,
            done: stats.done,
            dead: stats.dead,
        }
    }
}

async fn counts(store: &dyn DeliveryStore) -> Counts {
    Counts::of(store.stats().await.unwrap())
}

/// Returns once the store's rows are exactly `expected`, polling every
/// 5 ms; fails after [`WAIT`] with the last counts seen.
async fn until_counts(store: &dyn DeliveryStore, expected: Counts) {
    let mut last = None;
    let reached = tokio::time::timeout(WAIT, async {
        loop {
            // A store that fails a call (the SQLite outage) is asked again.
            if let Ok(stats) = store.stats().await {
                let now = Counts::of(stats);
                if now == expected {
                    return;
                }
                last = Some(now);
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    let Ok(()) = reached else {
        panic!("the store did not reach {expected:?} within {WAIT:?}; last seen {last:?}");
    };
}

/// The store's one row of delivery `n`.
async fn record(store: &dyn DeliveryStore, n: u32) -> Record {
    let mut rows = store.get(&id(n)).await.unwrap();
    assert_eq!(rows.len(), 1, "rows of {}", guid(n));
    rows.remove(0).0
}

/// `(state, attempts)` of delivery `n`.
async fn standing(store: &dyn DeliveryStore, n: u32) -> (State, u32) {
    let record = record(store, n).await;
    (record.state, record.attempts)
}

#[track_caller]
fn assert_refused(result: Result<Accepted, AcceptError>, expected: &ReceiveError) {
    match result {
        Err(AcceptError::Refused(error)) => assert_eq!(&error, expected),
        other => panic!("expected Refused({expected:?}), got {other:?}"),
    }
}

/// Accepted once, a duplicate after, a tampered body refused, and
/// processed exactly once by the workers.
#[test]
fn an_accepted_delivery_is_processed_exactly_once() {
    on_every_backend("inbox_once", |live| async move {
        let store = &live.store;
        let inbox = inbox(store, RetryPolicy::default());
        let wire = ping(1);
        assert_eq!(accept(&inbox, &wire).await.unwrap(), Accepted::Stored);
        assert_eq!(accept(&inbox, &wire).await.unwrap(), Accepted::Duplicate);
        // The signature is checked before the store: a tampered body under
        // the known GUID is refused, not answered as a duplicate.
        let tampered = wire.clone().body(Wire::transfer_completed().body);
        assert_refused(
            accept(&inbox, &tampered).await,
            &ReceiveError::SignatureMismatch,
        );
        // Stored as received, waiting for a worker.
        let rows = store.get(&id(1)).await.unwrap();
        assert_eq!(rows.len(), 1);
        let (row, kept) = &rows[0];
        assert_eq!((row.state, row.attempts), (State::Pending, 0));
        assert_eq!(row.body_len, Some(wire.body.len() as u64));
        let kept = kept.as_ref().expect("the inbox keeps the delivery");
        assert_eq!(kept.key, key(1));
        assert_eq!(kept.body, wire.body);
        assert_eq!(
            counts(store.as_ref()).await,
            Counts {
                pending: 1,
                ..Counts::default()
            }
        );

        let (seen_tx, mut seen) = mpsc::unbounded_channel();
        let workers = inbox.workers(4, move |job: Job| {
            let report = seen_tx.clone();
            async move {
                report
                    .send(job.delivery.info.id.as_str().to_owned())
                    .unwrap();
                Ok::<(), BoxError>(())
            }
        });
        assert_eq!(next(&mut seen, "the processing").await, guid(1));
        until_counts(
            store.as_ref(),
            Counts {
                done: 1,
                ..Counts::default()
            },
        )
        .await;
        // Processed: a redelivery is still a duplicate.
        assert_eq!(accept(&inbox, &wire).await.unwrap(), Accepted::Duplicate);
        workers.shutdown().await;
        assert_eq!(rest(&mut seen).await, Vec::<String>::new());
        assert_eq!(standing(store.as_ref(), 1).await, (State::Done, 1));
    });
}

/// Many copies of one delivery accepted at the same
/// time are stored once.
#[test]
fn copies_accepted_at_once_are_stored_once() {
    on_every_backend("inbox_copies", |live| async move {
        let inbox = inbox(&live.store, RetryPolicy::default());
        let wire = ping(7);
        let copies: Vec<_> = (0..8)
            .map(|_| {
                let inbox = inbox.clone();
                let wire = wire.clone();
                tokio::spawn(async move { accept(&inbox, &wire).await.unwrap() })
            })
            .collect();
        let mut answers = Vec::new();
        for copy in copies {
            answers.push(copy.await.unwrap());
        }
        let stored = answers.iter().filter(|a| **a == Accepted::Stored).count();
        let duplicate = answers
            .iter()
            .filter(|a| **a == Accepted::Duplicate)
            .count();
        assert_eq!((stored, duplicate), (1, 7), "{answers:?}");
        assert_eq!(
            counts(live.store.as_ref()).await,
            Counts {
                pending: 1,
                ..Counts::default()
            }
        );
    });
}

/// A handler that fails the first two times sees attempts 1, 2, 3,
/// each retry no sooner than the policy's delay.
#[test]
fn a_failing_delivery_is_retried_with_backoff() {
    const FIRST: Duration = Duration::from_millis(20);
    on_every_backend("inbox_backoff", |live| async move {
        let store = &live.store;
        let inbox = inbox(
            store,
            RetryPolicy {
                attempts: 5,
                first_delay: FIRST,
                max_delay: Duration::from_secs(1),
                factor: 2.0,
            },
        );
        // Counted by the handler itself, not from `job.attempt`.
        let calls: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
        let (seen_tx, mut seen) = mpsc::unbounded_channel();
        let workers = inbox.workers(2, move |job: Job| {
            let at = Instant::now();
            let report = seen_tx.clone();
            let calls = Arc::clone(&calls);
            async move {
                let id = job.delivery.info.id.as_str().to_owned();
                let call = {
                    let mut calls = calls.lock().unwrap();
                    let call = calls.entry(id).or_insert(0);
                    *call += 1;
                    *call
                };
                report.send((job.attempt, at)).unwrap();
                if call <= 2 {
                    return Err(BoxError::from(format!("call {call} failed")));
                }
                Ok(())
            }
        });
        assert_eq!(accept(&inbox, &ping(2)).await.unwrap(), Accepted::Stored);
        let (one, two, three) = (
            next(&mut seen, "attempt 1").await,
            next(&mut seen, "attempt 2").await,
            next(&mut seen, "attempt 3").await,
        );
        assert_eq!([one.0, two.0, three.0], [1, 2, 3]);
        let (first, second) = (two.1 - one.1, three.1 - two.1);
        assert!(first >= FIRST, "retried after {first:?}, before {FIRST:?}");
        assert!(
            second >= FIRST * 2,
            "retried after {second:?}, before {:?}",
            FIRST * 2
        );
        until_counts(
            store.as_ref(),
            Counts {
                done: 1,
                ..Counts::default()
            },
        )
        .await;
        workers.shutdown().await;
        assert_eq!(rest(&mut seen).await.len(), 0, "no attempt after success");
        assert_eq!(standing(store.as_ref(), 2).await, (State::Done, 3));
    });
}

/// After its last attempt a delivery is dead, with the handler's
/// error; retried by hand, it is processed.
#[test]
fn a_delivery_is_dead_after_the_last_attempt_and_retried_by_hand() {
    const REFUSAL: &str = "the registry refused the transfer";
    on_every_backend("inbox_dead", |live| async move {
        let store = &live.store;
        let inbox = inbox(store, quick_retries(2));
        let failing = Arc::new(AtomicBool::new(true));
        let (seen_tx, mut seen) = mpsc::unbounded_channel();
        let workers = inbox.workers(2, {
            let failing = Arc::clone(&failing);
            move |job: Job| {
                let report = seen_tx.clone();
                let fail = failing.load(Ordering::SeqCst);
                async move {
                    report
                        .send((job.delivery.info.id.as_str().to_owned(), job.attempt))
                        .unwrap();
                    if fail {
                        return Err(BoxError::from(REFUSAL));
                    }
                    Ok(())
                }
            }
        });
        assert_eq!(accept(&inbox, &ping(3)).await.unwrap(), Accepted::Stored);
        until_counts(
            store.as_ref(),
            Counts {
                dead: 1,
                ..Counts::default()
            },
        )
        .await;
        // Both attempts ran before the second failure was written; no third.
        assert_eq!(next(&mut seen, "attempt 1").await, (guid(3), 1));
        assert_eq!(next(&mut seen, "attempt 2").await, (guid(3), 2));
        assert_eq!(
            seen.try_recv(),
            Err(mpsc::error::TryRecvError::Empty),
            "a dead delivery is not attempted again"
        );
        let dead = store
            .list(ListFilter::State(State::Dead), 10)
            .await
            .unwrap();
        assert_eq!(dead.len(), 1, "{dead:?}");
        assert_eq!(
            (&dead[0].key, dead[0].state, dead[0].attempts),
            (&key(3), State::Dead, 2)
        );
        assert_eq!(dead[0].last_error.as_deref(), Some(REFUSAL));
        // A redelivery of a dead delivery is known: not stored again.
        assert_eq!(accept(&inbox, &ping(3)).await.unwrap(), Accepted::Duplicate);

        failing.store(false, Ordering::SeqCst);
        assert_eq!(store.retry(Some(&id(3))).await.unwrap(), 1);
        // Its attempts start again from 1.
        assert_eq!(next(&mut seen, "the retried attempt").await, (guid(3), 1));
        until_counts(
            store.as_ref(),
            Counts {
                done: 1,
                ..Counts::default()
            },
        )
        .await;
        assert_eq!(store.retry(Some(&id(3))).await.unwrap(), 0, "not dead");
        workers.shutdown().await;
        assert_eq!(rest(&mut seen).await, Vec::<(String, u32)>::new());
        assert_eq!(standing(store.as_ref(), 3).await, (State::Done, 1));
    });
}

/// What was accepted before a restart is processed after it, each
/// delivery once.
#[test]
fn accepted_deliveries_survive_a_restart() {
    const DELIVERIES: u32 = 20;
    runtime().block_on(async {
        for backend in [Backend::Sqlite, Backend::Postgres] {
            if backend == Backend::Sqlite && !cfg!(feature = "sqlite") {
                eprintln!("NOT RUN: the SQLite restart test (the sqlite feature is off)");
                continue;
            }
            let Some(mut opened) = backends::open(backend, "inbox_restart").await else {
                continue;
            };
            eprintln!("inbox_restart: {backend:?}");
            // The store's test clock stands still; the inbox reads it too.
            let inbox = Inbox::builder_arc(receiver(), Arc::clone(&opened.store))
                .clock(opened.clock.clock())
                .build();
            for n in 0..DELIVERIES {
                assert_eq!(accept(&inbox, &ping(n)).await.unwrap(), Accepted::Stored);
            }
            assert_eq!(
                counts(opened.store.as_ref()).await,
                Counts {
                    pending: u64::from(DELIVERIES),
                    ..Counts::default()
                }
            );
            // The process ends: nothing is kept but the database.
            drop(inbox);
            let store = opened.reopen().await.expect("a database store");

            let inbox = Inbox::builder_arc(receiver(), Arc::clone(&store))
                .clock(opened.clock.clock())
                .build();
            let (seen_tx, mut seen) = mpsc::unbounded_channel();
            let workers = inbox.workers(4, move |job: Job| {
                let report = seen_tx.clone();
                async move {
                    report
                        .send(job.delivery.info.id.as_str().to_owned())
                        .unwrap();
                    Ok::<(), BoxError>(())
                }
            });
            until_counts(
                store.as_ref(),
                Counts {
                    done: u64::from(DELIVERIES),
                    ..Counts::default()
                },
            )
            .await;
            workers.shutdown().await;
            let mut processed = rest(&mut seen).await;
            processed.sort();
            let expected: Vec<String> = (0..DELIVERIES).map(guid).collect();
            assert_eq!(processed, expected, "each delivery exactly once");
            for n in 0..DELIVERIES {
                assert_eq!(accept(&inbox, &ping(n)).await.unwrap(), Accepted::Duplicate);
            }
        }
    });
}

/// Shutdown waits for the job in flight, which is completed, and
/// claims nothing after it.
#[test]
fn shutdown_waits_for_the_job_in_flight_and_claims_no_more() {
    on_every_backend("inbox_shutdown", |live| async move {
        let store = &live.store;
        let inbox = inbox(store, RetryPolicy::default());
        // Two waiting, one worker: the second would be claimed as soon as
        // the first is done, were the pool still claiming.
        assert_eq!(accept(&inbox, &ping(1)).await.unwrap(), Accepted::Stored);
        assert_eq!(accept(&inbox, &ping(2)).await.unwrap(), Accepted::Stored);
        let gate = Arc::new(Semaphore::new(0));
        let (started_tx, mut started) = mpsc::unbounded_channel();
        let workers = inbox.workers(1, {
            let gate = Arc::clone(&gate);
            move |job: Job| {
                let gate = Arc::clone(&gate);
                let started = started_tx.clone();
                async move {
                    started
                        .send(job.delivery.info.id.as_str().to_owned())
                        .unwrap();
                    gate.acquire().await.unwrap().forget();
                    Ok::<(), BoxError>(())
                }
            }
        });
        let first = next(&mut started, "the first job").await;
        let other = if first == guid(1) { 2 } else { 1 };

        let (called_tx, called) = oneshot::channel();
        let shutting = tokio::spawn(async move {
            let mut shutdown = std::pin::pin!(workers.shutdown());
            // The first poll stops the pool; the job in flight holds it.
            let polled = std::future::poll_fn(|cx| Poll::Ready(shutdown.as_mut().poll(cx))).await;
            called_tx.send(polled).unwrap();
            shutdown.await;
        });
        assert_eq!(
            called.await.unwrap(),
            Poll::Pending,
            "shutdown did not wait"
        );
        assert_eq!(
            counts(store.as_ref()).await,
            Counts {
                pending: 1,
                active: 1,
                ..Counts::default()
            }
        );
        gate.add_permits(1);
        tokio::time::timeout(WAIT, shutting)
            .await
            .expect("shutdown did not return once the job in flight was released")
            .unwrap();
        // The job in flight was completed; the other was never claimed.
        assert_eq!(
            counts(store.as_ref()).await,
            Counts {
                pending: 1,
                done: 1,
                ..Counts::default()
            }
        );
        assert_eq!(rest(&mut started).await, Vec::<String>::new());
        assert_eq!(standing(store.as_ref(), other).await, (State::Pending, 0));
    });
}

/// A retry is not claimed before its time, to the sub-millisecond: a
/// retry due 20 ms after a failure at 0.9 ms into a millisecond is not
/// claimed 19.5 ms after it. Every backend is checked, then the early ones
/// are named.
#[test]
fn a_retry_is_not_claimed_before_its_time() {
    const LEASE: Duration = Duration::from_secs(60);
    let policy = RetryPolicy {
        attempts: 5,
        first_delay: Duration::from_millis(20),
        max_delay: Duration::from_secs(1),
        factor: 2.0,
    };
    let early_on = runtime().block_on(async {
        let mut early_on = Vec::new();
        for backend in backends::all() {
            let Some(opened) = backends::open(backend, "inbox_retry_at").await else {
                continue;
            };
            eprintln!("inbox_retry_at: {backend:?}");
            let store = &opened.store;
            let inbox = Inbox::builder_arc(receiver(), Arc::clone(store))
                .clock(opened.clock.clock())
                .build();
            assert_eq!(accept(&inbox, &ping(4)).await.unwrap(), Accepted::Stored);
            let jobs = store.claim_jobs(1, LEASE).await.unwrap();
            assert_eq!(jobs.len(), 1);
            // The attempt fails 0.9 ms into a millisecond; the worker asks
            // for the retry `first_delay` later, as `Inbox` does.
            opened.clock.advance(Duration::from_micros(900));
            let delay = policy.delay_after(1).unwrap();
            let retry_at = opened.clock.now() + delay;
            store
                .fail(&key(4), jobs[0].lease.token, Some(retry_at), "failed")
                .await
                .unwrap();
            opened.clock.advance(delay - Duration::from_micros(500));
            let early = store.claim_jobs(1, LEASE).await.unwrap();
            match early.as_slice() {
                [] => {
                    opened.clock.advance(Duration::from_millis(2));
                    let due = store.claim_jobs(1, LEASE).await.unwrap();
                    assert_eq!(
                        due.iter().map(|job| job.attempt).collect::<Vec<_>>(),
                        [2],
                        "{backend:?}: due once its time has come"
                    );
                }
                [job] => {
                    assert_eq!(job.attempt, 2);
                    early_on.push(backend);
                }
                more => panic!("{backend:?}: {} jobs of one delivery", more.len()),
            }
        }
        early_on
    });
    assert_eq!(
        early_on,
        [],
        "claimed 0.5 ms before its retry time on these backends"
    );
}

/// A store whose first `failures` completions fail as a database that went
/// away for a moment would; every other call is the inner store's.
struct FailingCompletes {
    inner: Arc<dyn DeliveryStore>,
    failures: AtomicUsize,
}

impl DeliveryStore for FailingCompletes {
    fn claim<'a>(
        &'a self,
        key: &'a DeliveryKey,
        lease: Duration,
    ) -> StoreFuture<'a, Claimed<Lease>> {
        self.inner.claim(key, lease)
    }
    fn renew<'a>(
        &'a self,
        key: &'a DeliveryKey,
        token: Token,
        lease: Duration,
    ) -> StoreFuture<'a, SystemTime> {
        self.inner.renew(key, token, lease)
    }
    fn complete<'a>(&'a self, key: &'a DeliveryKey, token: Token) -> StoreFuture<'a, ()> {
        let fail = self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .is_ok();
        if fail {
            return Box::pin(std::future::ready(Err(StoreError::backend(
                std::io::Error::other("the database went away for a moment"),
            ))));
        }
        self.inner.complete(key, token)
    }
    fn abort<'a>(&'a self, key: &'a DeliveryKey, token: Token) -> StoreFuture<'a, ()> {
        self.inner.abort(key, token)
    }
    fn release(&self, key: &DeliveryKey, token: Token) {
        self.inner.release(key, token);
    }
    fn accept(&self, delivery: StoredDelivery) -> StoreFuture<'_, Accepted> {
        self.inner.accept(delivery)
    }
    fn claim_jobs(&self, max: usize, lease: Duration) -> StoreFuture<'_, Vec<ClaimedJob>> {
        self.inner.claim_jobs(max, lease)
    }
    fn fail<'a>(
        &'a self,
        key: &'a DeliveryKey,
        token: Token,
        retry_at: Option<SystemTime>,
        reason: &'a str,
    ) -> StoreFuture<'a, ()> {
        self.inner.fail(key, token, retry_at, reason)
    }
    fn stats(&self) -> StoreFuture<'_, Stats> {
        self.inner.stats()
    }
    fn list(&self, filter: ListFilter, limit: usize) -> StoreFuture<'_, Vec<Record>> {
        self.inner.list(filter, limit)
    }
    fn get<'a>(
        &'a self,
        id: &'a DeliveryId,
    ) -> StoreFuture<'a, Vec<(Record, Option<StoredDelivery>)>> {
        self.inner.get(id)
    }
    fn retry<'a>(&'a self, id: Option<&'a DeliveryId>) -> StoreFuture<'a, u64> {
        self.inner.retry(id)
    }
    fn purge(&self, purge: Purge) -> StoreFuture<'_, Purged> {
        self.inner.purge(purge)
    }
}

/// A handler that succeeded is not run again because the store refused
/// its completion once: the claim still holds, so the completion is
/// written once the store answers again.
#[test]
fn a_completion_refused_by_the_store_does_not_run_the_handler_again() {
    let twice = runtime().block_on(async {
        let mut twice = Vec::new();
        for backend in backends::all() {
            let Some(live) = open_live(backend, "inbox_complete_retry").await else {
                continue;
            };
            eprintln!("inbox_complete_retry: {backend:?}");
            let store: Arc<dyn DeliveryStore> = Arc::new(FailingCompletes {
                inner: Arc::clone(&live.store),
                failures: AtomicUsize::new(1),
            });
            // A short lease, so that a claim left behind is taken over soon.
            let inbox = Inbox::builder_arc(receiver(), Arc::clone(&store))
                .lease(Duration::from_millis(300))
                .poll_interval(Duration::from_millis(5))
                .build();
            let (seen_tx, mut seen) = mpsc::unbounded_channel();
            let workers = inbox.workers(2, move |job: Job| {
                let report = seen_tx.clone();
                async move {
                    report.send(job.attempt).unwrap();
                    Ok::<(), BoxError>(())
                }
            });
            assert_eq!(accept(&inbox, &ping(5)).await.unwrap(), Accepted::Stored);
            until_counts(
                store.as_ref(),
                Counts {
                    done: 1,
                    ..Counts::default()
                },
            )
            .await;
            workers.shutdown().await;
            let attempts = rest(&mut seen).await;
            if attempts != [1] {
                twice.push((backend, attempts));
            }
        }
        twice
    });
    assert_eq!(
        twice,
        [],
        "the handler ran again after its completion was refused once (backend, attempts run)"
    );
}

#[cfg(feature = "sqlite")]
mod sqlite {
    //! The cases only the SQLite store can play: an outage of the real
    //! database, and a handler's own writes in the store's transaction.

    use std::sync::Arc;
    use std::time::Duration;

    use icr_webhooks::BoxError;
    use icr_webhooks::axum::InboxRejection;
    use icr_webhooks::once::sqlite::{SqliteStore, complete_in};
    use icr_webhooks::once::{AcceptError, Accepted, DeliveryStore, Job, State, StoreError, Token};
    use tokio::sync::mpsc;

    use super::{Counts, WAIT, guid, id, inbox, ping, quick_retries, record, rest, until_counts};
    use crate::backends::TempDir;
    use crate::loopback::{runtime, send};
    use crate::server::{Framework, start_inbox};

    /// A SQLite store on the system clock that gives up on a locked
    /// database after `busy`.
    async fn open(dir: &TempDir, busy: Duration) -> SqliteStore {
        SqliteStore::builder(dir.path().join("store.sqlite"))
            .busy_timeout(busy)
            .open()
            .await
            .unwrap()
    }

    /// Another process holding the database's write lock (`BEGIN
    /// IMMEDIATE`) until it is dropped or released.
    struct WriteLock(rusqlite::Connection);

    impl WriteLock {
        fn take(store: &SqliteStore) -> Self {
            let db = rusqlite::Connection::open(store.path()).unwrap();
            db.busy_timeout(WAIT).unwrap();
            db.execute_batch("BEGIN IMMEDIATE").unwrap();
            Self(db)
        }

        fn release(self) {
            self.0.execute_batch("ROLLBACK").unwrap();
        }
    }

    /// While the database refuses writes every delivery is answered
    /// 503; each one ever answered 2xx is processed exactly once.
    ///
    /// `PRAGMA query_only = ON` through `SqliteStore::transaction` does
    /// take effect, but it cannot be turned off again through the store:
    /// every batch opens with `BEGIN IMMEDIATE`, which a query-only
    /// connection refuses, reads included. The outage here is another
    /// connection holding the write lock, as another process or a long
    /// migration would.
    #[test]
    fn an_outage_answers_503_and_loses_nothing_answered_2xx() {
        const REFUSED: (u16, &str) = (503, "the delivery could not be stored");
        const ACCEPTED: (u16, &str) = (202, "accepted");
        const KNOWN: (u16, &str) = (200, "already accepted");
        let answer = |(status, text): (u16, &str)| (status, text.to_owned());
        // The message is the rejection's own.
        assert_eq!(
            InboxRejection::Accept(AcceptError::Store(StoreError::Closed)).to_string(),
            REFUSED.1
        );
        runtime().block_on(async {
            for framework in Framework::ALL {
                eprintln!("on {framework:?}");
                let dir = TempDir::new("inbox_outage");
                let store = open(&dir, Duration::from_millis(100)).await;
                let shared: Arc<dyn DeliveryStore> = Arc::new(store.clone());
                let inbox = inbox(&shared, quick_retries(3));
                let (seen_tx, mut seen) = mpsc::unbounded_channel();
                let workers = inbox.workers(2, move |job: Job| {
                    let report = seen_tx.clone();
                    async move {
                        report
                            .send(job.delivery.info.id.as_str().to_owned())
                            .unwrap();
                        Ok::<(), BoxError>(())
                    }
                });
                let (addr, _stop) = start_inbox(framework, inbox).await;
                let mut answered_2xx = Vec::new();

                assert_eq!(send(addr, &ping(1)).await, answer(ACCEPTED));
                answered_2xx.push(guid(1));
                // Settled before the outage: a completion refused by the outage
                // is another case (`a_completion_refused_by_the_store_...`).
                until_counts(
                    &store,
                    Counts {
                        done: 1,
                        ..Counts::default()
                    },
                )
                .await;

                let lock = WriteLock::take(&store);
                let refused = store.stats().await;
                assert!(
                    matches!(refused, Err(StoreError::Backend { .. })),
                    "the store still works: {refused:?}"
                );
                // ping(6) is sent only now and never again: never stored.
                for n in [2, 3, 1, 6] {
                    assert_eq!(send(addr, &ping(n)).await, answer(REFUSED), "ping({n})");
                }
                lock.release();

                for n in [2, 3] {
                    assert_eq!(send(addr, &ping(n)).await, answer(ACCEPTED), "ping({n})");
                    answered_2xx.push(guid(n));
                }
                assert_eq!(send(addr, &ping(1)).await, answer(KNOWN));
                for n in [4, 5] {
                    assert_eq!(send(addr, &ping(n)).await, answer(ACCEPTED), "ping({n})");
                    answered_2xx.push(guid(n));
                }
                until_counts(
                    &store,
                    Counts {
                        done: 5,
                        ..Counts::default()
                    },
                )
                .await;
                workers.shutdown().await;
                let mut processed = rest(&mut seen).await;
                processed.sort();
                answered_2xx.sort();
                assert_eq!(processed, answered_2xx, "each answered 2xx, exactly once");
                assert_eq!(store.get(&id(6)).await.unwrap(), Vec::new());
            }
        });
    }

    /// The handler's row and the completion commit together in the
    /// store's transaction; a closure that fails after writing leaves no
    /// row.
    #[test]
    fn a_handler_completes_in_its_own_sqlite_transaction() {
        const REFUSAL: &str = "the ledger refused the credit";
        runtime().block_on(async {
            let dir = TempDir::new("inbox_complete_in");
            let store = open(&dir, Duration::from_secs(5)).await;
            store
                .transaction(|db| {
                    db.execute_batch(
                        "CREATE TABLE credits_seen (delivery TEXT NOT NULL, attempt INTEGER NOT NULL)",
                    )
                })
                .await
                .unwrap()
                .unwrap();
            let shared: Arc<dyn DeliveryStore> = Arc::new(store.clone());
            let inbox = inbox(&shared, quick_retries(3));
            let (calls_tx, mut calls) = mpsc::unbounded_channel();
            let workers = inbox.workers(2, {
                let store = store.clone();
                move |job: Job| {
                    let store = store.clone();
                    let calls = calls_tx.clone();
                    async move {
                        let (key, token) = (job.key().clone(), job.token());
                        let delivery = job.delivery.info.id.as_str().to_owned();
                        let attempt = job.attempt;
                        calls.send((delivery.clone(), attempt, token)).unwrap();
                        // The first attempt of ping(2) writes, then fails.
                        let fail = delivery == guid(2) && attempt == 1;
                        store
                            .transaction(move |db| {
                                db.execute(
                                    "INSERT INTO credits_seen (delivery, attempt) VALUES (?1, ?2)",
                                    rusqlite::params![delivery, attempt],
                                )?;
                                if fail {
                                    return Err(BoxError::from(REFUSAL));
                                }
                                complete_in(db, &key, token)?;
                                Ok(())
                            })
                            .await??;
                        Ok::<(), BoxError>(())
                    }
                }
            });
            for n in [1, 2] {
                assert_eq!(
                    super::accept(&inbox, &ping(n)).await.unwrap(),
                    Accepted::Stored
                );
            }
            until_counts(
                &store,
                Counts {
                    done: 2,
                    ..Counts::default()
                },
            )
            .await;
            workers.shutdown().await;

            let mut calls = rest(&mut calls).await;
            calls.sort();
            let attempts: Vec<(String, u32)> = calls
                .iter()
                .map(|(delivery, attempt, _)| (delivery.clone(), *attempt))
                .collect();
            assert_eq!(attempts, [(guid(1), 1), (guid(2), 1), (guid(2), 2)]);
            assert_eq!(
                rows(&store).await,
                [(guid(1), 1), (guid(2), 2)],
                "one row each; the failed attempt's row rolled back"
            );
            for n in [1, 2] {
                let record = record(&store, n).await;
                assert_eq!((record.state, record.attempts), (State::Done, n));
            }
            assert_eq!(
                record(&store, 2).await.last_error.as_deref(),
                Some(REFUSAL)
            );

            // A completion under a spent token is fenced, and the row
            // written with it is rolled back.
            let spent: Token = calls[0].2;
            let fenced = store
                .transaction(move |db| {
                    db.execute(
                        "INSERT INTO credits_seen (delivery, attempt) VALUES (?1, 9)",
                        [guid(1)],
                    )
                    .map_err(StoreError::backend)?;
                    complete_in(db, &super::key(1), spent)
                })
                .await
                .unwrap();
            assert!(
                matches!(fenced, Err(StoreError::Fenced)),
                "expected Fenced, got {fenced:?}"
            );
            assert_eq!(rows(&store).await, [(guid(1), 1), (guid(2), 2)]);
        });
    }

    /// The handler's rows, in order.
    async fn rows(store: &SqliteStore) -> Vec<(String, u32)> {
        store
            .transaction(|db| {
                let mut rows = db.prepare(
                    "SELECT delivery, attempt FROM credits_seen ORDER BY delivery, attempt",
                )?;
                rows.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                    .collect::<Result<Vec<_>, _>>()
            })
            .await
            .unwrap()
            .unwrap()
    }

    /// A transaction that cannot begin (the database is locked by another
    /// process) fails with the database's error, as every other call of
    /// the store does; the store is not closed, and works once the lock
    /// is released.
    #[test]
    fn a_transaction_that_cannot_begin_is_a_backend_error_not_closed() {
        runtime().block_on(async {
            let dir = TempDir::new("inbox_tx_busy");
            let store = open(&dir, Duration::from_millis(50)).await;
            let lock = WriteLock::take(&store);
            let stats = store.stats().await;
            assert!(
                matches!(stats, Err(StoreError::Backend { .. })),
                "{stats:?}"
            );
            let result = store.transaction(|_| Ok::<(), ()>(())).await;
            assert!(
                matches!(result, Err(StoreError::Backend { .. })),
                "expected Backend, got {result:?}"
            );
            lock.release();
            assert_eq!(store.transaction(|_| Ok::<u8, ()>(7)).await.unwrap(), Ok(7));
        });
    }
}
