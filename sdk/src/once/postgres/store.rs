//! [`DeliveryStore`] for [`PostgresStore`]: accepts and completions through
//! the batching tasks, the other calls one statement each.

use std::time::{Duration, SystemTime};

use super::ops::{ABORT, purge_rows};
use super::{Completion, PostgresStore};
use crate::headers::DeliveryId;
use crate::once::{
    Accepted, Claimed, ClaimedJob, DeliveryKey, DeliveryStore, Lease, ListFilter, Purge, Purged,
    Record, Stats, StoreFuture, StoredDelivery, Token, duration_millis, from_millis,
    to_millis_ceil,
};

impl DeliveryStore for PostgresStore {
    fn claim<'a>(
        &'a self,
        key: &'a DeliveryKey,
        lease: Duration,
    ) -> StoreFuture<'a, Claimed<Lease>> {
        Box::pin(self.begin_now(key, lease))
    }

    fn renew<'a>(
        &'a self,
        key: &'a DeliveryKey,
        token: Token,
        lease: Duration,
    ) -> StoreFuture<'a, SystemTime> {
        Box::pin(async move {
            let until = self.now().saturating_add(duration_millis(lease));
            self.fenced(
                "UPDATE icr_deliveries SET due = $5, updated_at = $4
                 WHERE hook_id = $1 AND guid = $2 AND state = 'active' AND token = $3",
                key,
                token,
                &[&until],
            )
            .await?;
            Ok(from_millis(until))
        })
    }

    fn complete<'a>(&'a self, key: &'a DeliveryKey, token: Token) -> StoreFuture<'a, ()> {
        self.queue(
            &self.inner.completes,
            Completion {
                key: key.clone(),
                token,
                effect: None,
            },
        )
    }

    fn abort<'a>(&'a self, key: &'a DeliveryKey, token: Token) -> StoreFuture<'a, ()> {
        Box::pin(self.fenced(ABORT, key, token, &[]))
    }

    fn release(&self, key: &DeliveryKey, token: Token) {
        let store = self.clone();
        let key = key.clone();
        // Fenced: a claim settled or taken over meanwhile is left alone; if
        // the database cannot be reached, the lease runs out instead.
        self.inner.runtime.spawn(async move {
            let _ = store.fenced(ABORT, &key, token, &[]).await;
        });
    }

    fn accept(&self, delivery: StoredDelivery) -> StoreFuture<'_, Accepted> {
        self.queue(&self.inner.accepts, delivery)
    }

    fn claim_jobs(&self, max: usize, lease: Duration) -> StoreFuture<'_, Vec<ClaimedJob>> {
        Box::pin(self.claim_now(max, lease))
    }

    fn fail<'a>(
        &'a self,
        key: &'a DeliveryKey,
        token: Token,
        retry_at: Option<SystemTime>,
        reason: &'a str,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            match retry_at {
                Some(at) => {
                    self.fenced(
                        "UPDATE icr_deliveries
                         SET state = CASE WHEN headers IS NULL THEN 'free' ELSE 'pending' END,
                             due = CASE WHEN headers IS NULL THEN 0::bigint ELSE $5 END,
                             last_error = $6, updated_at = $4
                         WHERE hook_id = $1 AND guid = $2 AND state = 'active' AND token = $3",
                        key,
                        token,
                        &[&to_millis_ceil(at), &reason],
                    )
                    .await
                }
                None => {
                    self.fenced(
                        "UPDATE icr_deliveries
                         SET state = CASE WHEN headers IS NULL THEN 'free' ELSE 'dead' END,
                             due = 0, last_error = $5, updated_at = $4
                         WHERE hook_id = $1 AND guid = $2 AND state = 'active' AND token = $3",
                        key,
                        token,
                        &[&reason],
                    )
                    .await
                }
            }
        })
    }

    fn stats(&self) -> StoreFuture<'_, Stats> {
        Box::pin(self.stats_now())
    }

    fn list(&self, filter: ListFilter, limit: usize) -> StoreFuture<'_, Vec<Record>> {
        Box::pin(self.list_now(filter, limit))
    }

    fn get<'a>(
        &'a self,
        id: &'a DeliveryId,
    ) -> StoreFuture<'a, Vec<(Record, Option<StoredDelivery>)>> {
        Box::pin(self.get_now(id))
    }

    fn retry<'a>(&'a self, id: Option<&'a DeliveryId>) -> StoreFuture<'a, u64> {
        Box::pin(self.retry_now(id))
    }

    fn purge(&self, purge: Purge) -> StoreFuture<'_, Purged> {
        Box::pin(async move {
            let client = self.client().await?;
            purge_rows(&client, &purge).await
        })
    }
}
