//! [`DeliveryStore`] for [`MemoryStore`]: each call as a change to the
//! rows, behind the store's one mutex.

use std::future::ready;
use std::time::{Duration, SystemTime};

use super::MemoryStore;
use super::rows::{Kept, Key, Row, guid_number, key_of, record, stored};
use crate::headers::DeliveryId;
use crate::once::{
    Accepted, Claimed, ClaimedJob, DeliveryKey, DeliveryStore, Lease, ListFilter, Purge, Purged,
    Record, State, Stats, StoreError, StoreFuture, StoredDelivery, Token, duration_millis,
    from_millis, to_millis, to_millis_ceil,
};

fn done<'a, T: Send + 'a>(result: Result<T, StoreError>) -> StoreFuture<'a, T> {
    Box::pin(ready(result))
}

impl DeliveryStore for MemoryStore {
    fn claim<'a>(
        &'a self,
        key: &'a DeliveryKey,
        lease: Duration,
    ) -> StoreFuture<'a, Claimed<Lease>> {
        let begin = self.with(|rows, now| {
            let key = key_of(key);
            let existing = rows.rows.get(&key).cloned();
            let mut row = match existing {
                None => Row {
                    state: State::Free,
                    token: 0,
                    due: 0,
                    attempts: 0,
                    updated: now,
                    stamp: 0,
                    last_error: None,
                    stored: None,
                },
                Some(row) => match row.state {
                    State::Done | State::Dead => return Claimed::Done,
                    State::Pending => return Claimed::elsewhere(None),
                    State::Active if row.is_inbox() || row.due > now => {
                        return Claimed::elsewhere(Some(from_millis(row.due)));
                    }
                    State::Active | State::Free => row,
                },
            };
            let lease = rows.claim(&mut row, now, lease);
            rows.put(key, row, now);
            Claimed::New(lease)
        });
        done(Ok(begin))
    }

    fn renew<'a>(
        &'a self,
        key: &'a DeliveryKey,
        token: Token,
        lease: Duration,
    ) -> StoreFuture<'a, SystemTime> {
        let mut expires = 0;
        let result = self.fenced(key, token, |row, now| {
            row.due = now.saturating_add(duration_millis(lease));
            expires = row.due;
        });
        done(result.map(|()| from_millis(expires)))
    }

    fn complete<'a>(&'a self, key: &'a DeliveryKey, token: Token) -> StoreFuture<'a, ()> {
        done(self.fenced(key, token, |row, _| {
            row.state = State::Done;
            row.due = 0;
        }))
    }

    fn abort<'a>(&'a self, key: &'a DeliveryKey, token: Token) -> StoreFuture<'a, ()> {
        done(self.fenced(key, token, Row::give_back))
    }

    fn release(&self, key: &DeliveryKey, token: Token) {
        // Fenced: a claim settled or taken over meanwhile is left alone.
        let _ = self.fenced(key, token, Row::give_back);
    }

    fn accept(&self, delivery: StoredDelivery) -> StoreFuture<'_, Accepted> {
        let accepted = self.with(|rows, now| {
            let key = key_of(&delivery.key);
            if rows.rows.contains_key(&key) {
                return Accepted::Duplicate;
            }
            let row = Row {
                state: State::Pending,
                token: 0,
                due: now,
                attempts: 0,
                updated: now,
                stamp: 0,
                last_error: None,
                stored: Some(Kept {
                    headers: delivery.headers,
                    body: Some(delivery.body),
                    received_at: to_millis(delivery.received_at),
                }),
            };
            rows.put(key, row, now);
            Accepted::Stored
        });
        done(Ok(accepted))
    }

    fn claim_jobs(&self, max: usize, lease: Duration) -> StoreFuture<'_, Vec<ClaimedJob>> {
        let jobs = self.with(|rows, now| {
            let due: Vec<Key> = rows
                .due
                .iter()
                .take_while(|(due, _)| *due <= now)
                .take(max)
                .map(|(_, key)| *key)
                .collect();
            let mut jobs = Vec::with_capacity(due.len());
            for key in due {
                let Some(mut row) = rows.rows.get(&key).cloned() else {
                    continue;
                };
                let lease = rows.claim(&mut row, now, lease);
                let attempt = row.attempts;
                let delivery = row.stored.as_ref().map(|kept| stored(key, kept));
                rows.put(key, row, now);
                if let Some(delivery) = delivery {
                    jobs.push(ClaimedJob {
                        delivery,
                        lease,
                        attempt,
                    });
                }
            }
            jobs
        });
        done(Ok(jobs))
    }

    fn fail<'a>(
        &'a self,
        key: &'a DeliveryKey,
        token: Token,
        retry_at: Option<SystemTime>,
        reason: &'a str,
    ) -> StoreFuture<'a, ()> {
        done(self.fenced(key, token, |row, _| {
            row.last_error = Some(reason.to_owned());
            match (row.is_inbox(), retry_at) {
                (true, Some(at)) => {
                    row.state = State::Pending;
                    row.due = to_millis_ceil(at);
                }
                (true, None) => {
                    row.state = State::Dead;
                    row.due = 0;
                }
                (false, _) => {
                    row.state = State::Free;
                    row.due = 0;
                }
            }
        }))
    }

    fn stats(&self) -> StoreFuture<'_, Stats> {
        let stats = self.with(|rows, _| {
            let mut stats = Stats::default();
            for row in rows.rows.values() {
                let count = match row.state {
                    State::Free => &mut stats.free,
                    State::Pending => &mut stats.pending,
                    State::Active => &mut stats.active,
                    State::Done => &mut stats.done,
                    State::Dead => &mut stats.dead,
                };
                *count += 1;
                if row.state == State::Pending && row.attempts > 0 {
                    stats.failed += 1;
                }
            }
            stats
        });
        done(Ok(stats))
    }

    fn list(&self, filter: ListFilter, limit: usize) -> StoreFuture<'_, Vec<Record>> {
        let records = self.with(|rows, _| {
            let mut picked: Vec<(&Key, &Row)> = rows
                .rows
                .iter()
                .filter(|(_, row)| match filter {
                    ListFilter::All => true,
                    ListFilter::State(state) => row.state == state,
                    ListFilter::Failed => row.state == State::Pending && row.attempts > 0,
                })
                .collect();
            picked.sort_by_key(|(key, row)| (row.updated, **key));
            picked
                .into_iter()
                .take(limit)
                .map(|(key, row)| record(*key, row))
                .collect()
        });
        done(Ok(records))
    }

    fn get<'a>(
        &'a self,
        id: &'a DeliveryId,
    ) -> StoreFuture<'a, Vec<(Record, Option<StoredDelivery>)>> {
        let found = self.with(|rows, _| {
            let guid = guid_number(id);
            let mut found: Vec<(Key, &Row)> = rows
                .rows
                .iter()
                .filter(|(key, _)| key.1 == guid)
                .map(|(key, row)| (*key, row))
                .collect();
            found.sort_by_key(|(key, _)| *key);
            found
                .into_iter()
                .map(|(key, row)| {
                    let delivery = row
                        .stored
                        .as_ref()
                        .filter(|kept| kept.body.is_some())
                        .map(|kept| stored(key, kept));
                    (record(key, row), delivery)
                })
                .collect()
        });
        done(Ok(found))
    }

    fn retry<'a>(&'a self, id: Option<&'a DeliveryId>) -> StoreFuture<'a, u64> {
        let count = self.with(|rows, now| {
            let guid = id.map(guid_number);
            let dead: Vec<Key> = rows
                .rows
                .iter()
                .filter(|(key, row)| row.state == State::Dead && guid.is_none_or(|g| key.1 == g))
                .map(|(key, _)| *key)
                .collect();
            for key in &dead {
                if let Some(mut row) = rows.rows.get(key).cloned() {
                    row.state = State::Pending;
                    row.attempts = 0;
                    row.due = now;
                    rows.put(*key, row, now);
                }
            }
            dead.len() as u64
        });
        done(Ok(count))
    }

    fn purge(&self, purge: Purge) -> StoreFuture<'_, Purged> {
        let purged = self.with(|rows, _| {
            let before = to_millis(purge.before);
            let bodies_before = purge.bodies_before.map(to_millis);
            let mut purged = Purged::default();
            let mut gone = Vec::new();
            for (key, row) in &mut rows.rows {
                let old = row.updated < before;
                let deletable = match row.state {
                    State::Done | State::Free => true,
                    State::Dead => purge.dead,
                    State::Pending | State::Active => false,
                };
                if old && deletable {
                    gone.push(*key);
                    continue;
                }
                if let (State::Done, Some(bodies_before), Some(kept)) =
                    (row.state, bodies_before, row.stored.as_mut())
                {
                    if row.updated < bodies_before && kept.body.take().is_some() {
                        purged.bodies += 1;
                    }
                }
            }
            for key in gone {
                rows.remove(&key);
                purged.rows += 1;
            }
            rows.compact();
            purged
        });
        done(Ok(purged))
    }
}
