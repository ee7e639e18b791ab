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
        assert_eq!(record(&store, 2).await.last_error.as_deref(), Some(REFUSAL));

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
            let mut rows = db
                .prepare("SELECT delivery, attempt FROM credits_seen ORDER BY delivery, attempt")?;
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
