//! The inbox over time: dead deliveries retried by hand, restarts, shutdown
//! with a job in flight, retries not claimed early, completions the store
//! refuses.

use super::*;

/// After its last attempt a delivery is dead, with the handler's
/// error; retried by hand, it is processed.
#[test]
pub(super) fn a_delivery_is_dead_after_the_last_attempt_and_retried_by_hand() {
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
pub(super) fn accepted_deliveries_survive_a_restart() {
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
pub(super) fn shutdown_waits_for_the_job_in_flight_and_claims_no_more() {
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
pub(super) fn a_retry_is_not_claimed_before_its_time() {
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
pub(super) struct FailingCompletes {
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
pub(super) fn a_completion_refused_by_the_store_does_not_run_the_handler_again() {
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
