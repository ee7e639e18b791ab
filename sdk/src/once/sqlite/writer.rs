//! The connection's thread of a [`SqliteStore`](super::SqliteStore): it
//! opens the file, takes the queued calls in batches, runs each batch in
//! one transaction (each call in a savepoint of its own), answers once it
//! is committed, and purges by retention.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Instant;

use rusqlite::{Connection, TransactionBehavior};

use super::call::{Answer, Call};
use super::ops::{apply, purge_rows};
use super::schema::migrate;
use super::{SqliteStoreBuilder, sql};
use crate::once::{Clock, Purge, Retention, StoreError};

/// How many queued calls one transaction takes at most.
const MAX_BATCH: usize = 512;

/// The connection's thread.
pub(super) struct Writer {
    db: Connection,
    clock: Clock,
    retention: Retention,
    last_purge: Instant,
    commits: Arc<std::sync::atomic::AtomicU64>,
}

impl Writer {
    pub(super) fn open(
        config: &SqliteStoreBuilder,
        commits: Arc<std::sync::atomic::AtomicU64>,
    ) -> Result<Self, StoreError> {
        let mut db = Connection::open(&config.path).map_err(StoreError::backend)?;
        db.busy_timeout(config.busy_timeout)
            .map_err(StoreError::backend)?;
        // Pages of 8 KiB hold a 4 KiB body whole (only a new file takes it).
        db.pragma_update(None, "page_size", 8192)
            .map_err(StoreError::backend)?;
        db.pragma_update(None, "journal_mode", "WAL")
            .map_err(StoreError::backend)?;
        db.pragma_update(None, "synchronous", "FULL")
            .map_err(StoreError::backend)?;
        // The one connection's thread is the store's bottleneck under load:
        // a larger WAL between checkpoints (40 MiB) writes a hot page back
        // once for many commits.
        db.pragma_update(None, "wal_autocheckpoint", 5000)
            .map_err(StoreError::backend)?;
        migrate(&mut db)?;
        Ok(Self {
            db,
            clock: config.clock.clone(),
            retention: config.retention,
            last_purge: Instant::now(),
            commits,
        })
    }

    pub(super) fn run(mut self, queue: &mpsc::Receiver<Call>) {
        loop {
            let first = match queue.recv_timeout(self.retention.interval) {
                Ok(call) => call,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    self.purge_by_retention();
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match queue.try_recv() {
                    Ok(call) => batch.push(call),
                    Err(_) => break,
                }
            }
            self.run_batch(batch);
            if self.last_purge.elapsed() >= self.retention.interval {
                self.purge_by_retention();
            }
        }
    }

    fn purge_by_retention(&mut self) {
        self.last_purge = Instant::now();
        let purge = Purge::by_retention(&self.retention, self.clock.now());
        let now = self.clock.millis();
        let committed = self
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .is_ok_and(|tx| purge_rows(&tx, &purge, now).is_ok() && tx.commit().is_ok());
        if committed {
            self.count_commit();
        }
    }

    fn count_commit(&self) {
        self.commits
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Runs the calls in one transaction, each in a savepoint, and answers
    /// them once it is committed.
    fn run_batch(&mut self, batch: Vec<Call>) {
        let mut answers = Vec::with_capacity(batch.len());
        let tx = match self
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)
        {
            Ok(tx) => tx,
            Err(error) => {
                let message = error.to_string();
                for call in batch {
                    call.reply.send(Err(failed(&message)));
                }
                return;
            }
        };
        let now = self.clock.millis();
        for call in batch {
            let Call { op, reply } = call;
            if !op.needs_savepoint() {
                // One statement: SQLite undoes a failed statement by itself.
                answers.push((reply, apply(&tx, op, now).map(|(answer, _)| answer)));
                continue;
            }
            let result = in_savepoint(&tx, |db| apply(db, op, now));
            answers.push((reply, result));
        }
        match tx.commit() {
            Ok(()) => {
                self.count_commit();
                for (reply, result) in answers {
                    match result {
                        Ok(Answer::User(deliver)) => deliver(Ok(())),
                        other => reply.send(other),
                    }
                }
            }
            Err(error) => {
                let message = error.to_string();
                for (reply, result) in answers {
                    match result {
                        Ok(Answer::User(deliver)) => deliver(Err(failed(&message))),
                        _ => reply.send(Err(failed(&message))),
                    }
                }
            }
        }
    }
}

/// Runs `work` in a savepoint of the batch's transaction, kept when it
/// says so and undone otherwise. The savepoint statements are prepared once
/// (rusqlite's `Savepoint` parses them for every call).
fn in_savepoint(
    db: &Connection,
    work: impl FnOnce(&Connection) -> Result<(Answer, bool), StoreError>,
) -> Result<Answer, StoreError> {
    let run = |statement: &str| -> Result<(), StoreError> {
        db.prepare_cached(statement)
            .map_err(sql)?
            .execute([])
            .map(|_| ())
            .map_err(sql)
    };
    run("SAVEPOINT icr_call")?;
    let result = work(db);
    if !matches!(result, Ok((_, true))) {
        run("ROLLBACK TO icr_call")?;
    }
    run("RELEASE icr_call")?;
    result.map(|(answer, _)| answer)
}

/// A failure shared by every call of a batch.
fn failed(message: &str) -> StoreError {
    StoreError::backend(std::io::Error::other(format!(
        "sqlite transaction failed: {message}"
    )))
}
