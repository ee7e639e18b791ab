//! The rows of a [`MemoryStore`](super::MemoryStore): each key's state,
//! the order of their changes (for the window and the capacity), the index
//! of due inbox rows, and how keys and rows become the store's types.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::time::Duration;

use bytes::Bytes;

use crate::headers::DeliveryId;
use crate::once::{
    DeliveryKey, Lease, Record, State, StoredDelivery, Token, duration_millis, from_millis,
};

/// A key as numbers: the webhook and the GUID's 128 bits.
pub(super) type Key = (u64, u128);

#[derive(Default)]
pub(super) struct Rows {
    pub(super) rows: HashMap<Key, Row>,
    /// `(key, stamp)` by time of change, oldest first. An item whose stamp
    /// is not its row's current one is stale and skipped.
    pub(super) order: VecDeque<(Key, u64)>,
    /// Inbox rows that are pending or active, by when they are due (retry
    /// time or lease end).
    pub(super) due: BTreeSet<(i64, Key)>,
    pub(super) next_stamp: u64,
    pub(super) next_token: u64,
}

#[derive(Debug, Clone)]
pub(super) struct Row {
    pub(super) state: State,
    pub(super) token: u64,
    /// Retry time (pending) or lease end (active), in ms.
    pub(super) due: i64,
    pub(super) attempts: u32,
    pub(super) updated: i64,
    pub(super) stamp: u64,
    pub(super) last_error: Option<String>,
    /// What the inbox keeps of the delivery; `None` for a row claimed
    /// before answering.
    pub(super) stored: Option<Kept>,
}

#[derive(Debug, Clone)]
pub(super) struct Kept {
    pub(super) headers: Vec<(String, String)>,
    /// `None` once retention dropped it.
    pub(super) body: Option<Bytes>,
    pub(super) received_at: i64,
}

impl Row {
    pub(super) fn is_inbox(&self) -> bool {
        self.stored.is_some()
    }

    /// Whether the capacity and the window may forget the row at `now`:
    /// it is not the only copy of an accepted delivery, nor a claim whose
    /// lease still holds (forgetting it would let a duplicate run
    /// alongside).
    fn evictable(&self, now: i64) -> bool {
        match self.state {
            State::Done => true,
            State::Free => !self.is_inbox(),
            State::Active => !self.is_inbox() && self.due <= now,
            State::Pending | State::Dead => false,
        }
    }

    /// A claim given back, not counted as an attempt: free, or for an inbox
    /// row pending again at once.
    pub(super) fn give_back(&mut self, now: i64) {
        self.attempts = self.attempts.saturating_sub(1);
        if self.is_inbox() {
            self.state = State::Pending;
            self.due = now;
        } else {
            self.state = State::Free;
            self.due = 0;
        }
    }

    fn in_due_index(&self) -> bool {
        self.is_inbox() && matches!(self.state, State::Pending | State::Active)
    }
}

impl Rows {
    /// Claims `row` under a new token for `lease` from `now`.
    pub(super) fn claim(&mut self, row: &mut Row, now: i64, lease: Duration) -> Lease {
        self.next_token += 1;
        row.token = self.next_token;
        row.state = State::Active;
        row.attempts = row.attempts.saturating_add(1);
        row.due = now.saturating_add(duration_millis(lease));
        Lease {
            token: Token(row.token),
            expires: from_millis(row.due),
        }
    }

    /// Writes `row` as changed now, the newest in the order, and keeps the
    /// due index in step.
    pub(super) fn put(&mut self, key: Key, mut row: Row, now: i64) {
        if let Some(old) = self.rows.get(&key) {
            if old.in_due_index() {
                self.due.remove(&(old.due, key));
            }
        }
        let stamp = self.next_stamp;
        self.next_stamp = self.next_stamp.wrapping_add(1);
        row.stamp = stamp;
        row.updated = now;
        if row.in_due_index() {
            self.due.insert((row.due, key));
        }
        self.rows.insert(key, row);
        self.order.push_back((key, stamp));
        self.compact();
    }

    pub(super) fn remove(&mut self, key: &Key) {
        if let Some(row) = self.rows.remove(key) {
            if row.in_due_index() {
                self.due.remove(&(row.due, *key));
            }
        }
    }

    /// Forgets the evictable rows changed `window` or longer ago (ms).
    pub(super) fn expire(&mut self, now: i64, window: i64) {
        while let Some(&(key, stamp)) = self.order.front() {
            if let Some(row) = self.rows.get(&key) {
                if row.stamp == stamp {
                    if now.saturating_sub(row.updated) < window {
                        break;
                    }
                    if row.evictable(now) {
                        self.remove(&key);
                    }
                }
            }
            self.order.pop_front();
        }
    }

    /// Forgets the evictable rows changed longest ago while there are more
    /// than `capacity`.
    pub(super) fn evict(&mut self, capacity: usize, now: i64) {
        while self.rows.len() > capacity {
            let Some((key, stamp)) = self.order.pop_front() else {
                break;
            };
            if self
                .rows
                .get(&key)
                .is_some_and(|row| row.stamp == stamp && row.evictable(now))
            {
                self.remove(&key);
            }
        }
    }

    /// Drops the stale items of `order` once they outnumber the live rows,
    /// so that it stays within twice the rows (amortized O(1)).
    pub(super) fn compact(&mut self) {
        if self.order.len() > 2 * self.rows.len() + 64 {
            let rows = &self.rows;
            self.order
                .retain(|(key, stamp)| rows.get(key).is_some_and(|row| row.stamp == *stamp));
        }
    }
}

pub(super) fn record(key: Key, row: &Row) -> Record {
    Record {
        key: delivery_key(key),
        state: row.state,
        attempts: row.attempts,
        received_at: row
            .stored
            .as_ref()
            .map(|kept| from_millis(kept.received_at)),
        updated_at: from_millis(row.updated),
        due: matches!(row.state, State::Pending | State::Active).then(|| from_millis(row.due)),
        last_error: row.last_error.clone(),
        body_len: row
            .stored
            .as_ref()
            .and_then(|kept| kept.body.as_ref())
            .map(|body| body.len() as u64),
    }
}

pub(super) fn stored(key: Key, kept: &Kept) -> StoredDelivery {
    StoredDelivery {
        key: delivery_key(key),
        headers: kept.headers.clone(),
        body: kept.body.clone().unwrap_or_default(),
        received_at: from_millis(kept.received_at),
    }
}

pub(super) fn key_of(key: &DeliveryKey) -> Key {
    (key.hook_id, guid_number(&key.id))
}

fn delivery_key(key: Key) -> DeliveryKey {
    DeliveryKey {
        hook_id: key.0,
        id: guid_text(key.1),
    }
}

/// The GUID as a number: its 32 hex digits (a [`DeliveryId`] is always a
/// hyphenated UUID).
pub(super) fn guid_number(id: &DeliveryId) -> u128 {
    id.as_str().bytes().fold(0_u128, |number, byte| {
        let digit = match byte {
            b'0'..=b'9' => byte - b'0',
            b'a'..=b'f' => byte - b'a' + 10,
            b'A'..=b'F' => byte - b'A' + 10,
            _ => return number,
        };
        (number << 4) | u128::from(digit)
    })
}

/// The GUID of a number, hyphenated in lower case.
pub(super) fn guid_text(number: u128) -> DeliveryId {
    let hex = format!("{number:032x}");
    let (a, rest) = hex.split_at(8);
    let (b, rest) = rest.split_at(4);
    let (c, rest) = rest.split_at(4);
    let (d, e) = rest.split_at(4);
    DeliveryId::from_canonical(&format!("{a}-{b}-{c}-{d}-{e}"))
}
