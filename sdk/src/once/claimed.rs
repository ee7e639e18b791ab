//! Where a delivery stands when it is claimed ([`Claimed`], the one answer
//! of the store's and of [`ExactlyOnce`](super::ExactlyOnce)'s `claim`),
//! and the registry of the claims held in this process, which lets a
//! duplicate wait for the copy being processed ([`Settled`]).

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::SystemTime;

use super::types::DeliveryKey;

/// Where a delivery stands when it is claimed: the answer of
/// [`DeliveryStore::claim`](super::DeliveryStore::claim), where the claim
/// `C` is a [`Lease`](super::Lease), and of
/// [`ExactlyOnce::claim`](super::ExactlyOnce::claim), where it is a
/// [`Claim`](super::Claim) that completes itself.
#[derive(Debug, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub enum Claimed<C> {
    /// Not processed, and held by nobody (or its holder's lease ran out):
    /// claimed now. Process it, then complete the claim; a claim given
    /// back (or, for a [`Claim`](super::Claim), dropped) lets a redelivery
    /// process it.
    New(C),
    /// Held by another attempt, or waiting in the inbox for a worker: not
    /// to be acknowledged yet (answer 409), so that ICR redelivers it if
    /// that attempt fails.
    InProgress {
        /// When the other attempt's lease runs out; `None` for a delivery
        /// waiting in the inbox, and for one claimed by another request
        /// through the same `ExactlyOnce`.
        expires: Option<SystemTime>,
        /// For an attempt through the same `ExactlyOnce`: resolves when it
        /// is completed or given back, and claiming again then tells which.
        /// `None` from a store, and for an attempt of another process or of
        /// an inbox worker, whose end nothing here can tell.
        settled: Option<Settled>,
    },
    /// Processed already (or given up as dead by the inbox): acknowledge it
    /// (2xx) without processing it again.
    Done,
}

impl<C> Claimed<C> {
    /// Held by an attempt this process cannot wait for.
    pub(crate) fn elsewhere(expires: Option<SystemTime>) -> Self {
        Self::InProgress {
            expires,
            settled: None,
        }
    }
}

/// The keys being claimed or held through one `ExactlyOnce`, each with the
/// wakers of the requests waiting for it.
#[derive(Default)]
pub(super) struct Local {
    claimed: Mutex<HashMap<DeliveryKey, Vec<Waker>>>,
}

impl Local {
    pub(super) fn lock(&self) -> MutexGuard<'_, HashMap<DeliveryKey, Vec<Waker>>> {
        self.claimed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Forgets the claim of `key` and wakes whoever waits for it.
    pub(super) fn settle(&self, key: &DeliveryKey) {
        let waiting = self.lock().remove(key);
        for waker in waiting.into_iter().flatten() {
            waker.wake();
        }
    }
}

/// Settles a key's local entry unless disarmed: a claim attempt cancelled
/// while it awaited the store leaves nobody waiting forever.
pub(super) struct Pending<'a> {
    pub(super) local: &'a Local,
    pub(super) key: &'a DeliveryKey,
    pub(super) armed: bool,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.local.settle(self.key);
        }
    }
}

/// Resolves when a claim in progress through the same
/// [`ExactlyOnce`](super::ExactlyOnce) is completed or given back; then
/// claim again to see which.
#[must_use = "futures do nothing unless awaited"]
pub struct Settled {
    key: DeliveryKey,
    local: Arc<Local>,
}

impl Settled {
    pub(super) fn new(key: DeliveryKey, local: Arc<Local>) -> Self {
        Self { key, local }
    }
}

impl Future for Settled {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut claimed = self.local.lock();
        match claimed.get_mut(&self.key) {
            None => Poll::Ready(()),
            Some(wakers) => {
                if !wakers.iter().any(|waker| waker.will_wake(cx.waker())) {
                    wakers.push(cx.waker().clone());
                }
                Poll::Pending
            }
        }
    }
}

impl PartialEq for Settled {
    /// The same key, waited for through the same `ExactlyOnce`.
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key && Arc::ptr_eq(&self.local, &other.local)
    }
}

impl Eq for Settled {}

impl fmt::Debug for Settled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settled").field("key", &self.key).finish()
    }
}
