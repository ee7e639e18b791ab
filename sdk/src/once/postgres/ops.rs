//! The changes the PostgreSQL store makes one statement at a time: claims
//! (by `begin` and by the workers, `FOR UPDATE SKIP LOCKED`), fenced
//! changes, retries, and purges by retention (the reads are in `read`).

use std::time::Duration;

use deadpool_postgres::Pool;
use tokio_postgres::types::ToSql;

use super::{PostgresStore, pg, token_column, token_of};
use crate::headers::DeliveryId;
use crate::once::sql::{hook_column, key_of, millis, state_of, stored_of};
use crate::once::{
    Claimed, ClaimedJob, Clock, DeliveryKey, Lease, Purge, Purged, Retention, State, StoreError,
    Token, duration_millis, from_millis,
};

pub(super) async fn purge_by_retention(pool: Pool, clock: Clock, retention: Retention) {
    let mut ticks = tokio::time::interval(retention.interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let purge = Purge::by_retention(&retention, clock.now());
        // A failure (the database is down) is tried again at the next tick.
        if let Ok(client) = pool.get().await {
            let _ = purge_rows(&client, &purge).await;
        }
    }
}

pub(super) async fn purge_rows(
    client: &deadpool_postgres::Object,
    purge: &Purge,
) -> Result<Purged, StoreError> {
    let rows = client
        .execute(
            "DELETE FROM icr_deliveries
             WHERE updated_at < $1 AND (state IN ('done', 'free') OR ($2 AND state = 'dead'))",
            &[&millis(purge.before), &purge.dead],
        )
        .await
        .map_err(pg)?;
    let bodies = match purge.bodies_before {
        Some(before) => client
            .execute(
                "UPDATE icr_deliveries SET body = NULL
                 WHERE state = 'done' AND body IS NOT NULL AND updated_at < $1",
                &[&millis(before)],
            )
            .await
            .map_err(pg)?,
        None => 0,
    };
    Ok(Purged { rows, bodies })
}

impl PostgresStore {
    pub(super) async fn begin_now(
        &self,
        key: &DeliveryKey,
        lease: Duration,
    ) -> Result<Claimed<Lease>, StoreError> {
        let client = self.client().await?;
        let hook = hook_column(key)?;
        let claim = client
            .prepare_cached(
                "INSERT INTO icr_deliveries AS d (hook_id, guid, state, token, due, attempts, updated_at)
                 VALUES ($1, $2, 'active', nextval('icr_delivery_token'), $3, 1, $4)
                 ON CONFLICT (guid, hook_id) DO UPDATE
                 SET state = 'active', token = EXCLUDED.token, due = EXCLUDED.due,
                     attempts = d.attempts + 1, updated_at = EXCLUDED.updated_at
                 WHERE d.state = 'free'
                    OR (d.state = 'active' AND d.headers IS NULL AND d.due <= EXCLUDED.updated_at)
                 RETURNING token, due",
            )
            .await
            .map_err(pg)?;
        let look = client
            .prepare_cached(
                "SELECT state, due, headers IS NOT NULL FROM icr_deliveries
                 WHERE hook_id = $1 AND guid = $2",
            )
            .await
            .map_err(pg)?;
        // The row may change between the two statements (given back, say):
        // then try again.
        for _ in 0..8 {
            let now = self.now();
            let until = now.saturating_add(duration_millis(lease));
            if let Some(row) = client
                .query_opt(&claim, &[&hook, &key.id.as_str(), &until, &now])
                .await
                .map_err(pg)?
            {
                return Ok(Claimed::New(Lease {
                    token: token_of(row.get(0)),
                    expires: from_millis(row.get(1)),
                }));
            }
            let Some(row) = client
                .query_opt(&look, &[&hook, &key.id.as_str()])
                .await
                .map_err(pg)?
            else {
                continue;
            };
            let (state, due, inbox): (String, i64, bool) = (row.get(0), row.get(1), row.get(2));
            match state_of(&state)? {
                State::Done | State::Dead => return Ok(Claimed::Done),
                State::Pending => return Ok(Claimed::elsewhere(None)),
                State::Active if inbox || due > now => {
                    return Ok(Claimed::elsewhere(Some(from_millis(due))));
                }
                State::Active | State::Free => {}
            }
        }
        Err(StoreError::backend(std::io::Error::other(
            "the delivery's row kept changing while it was claimed",
        )))
    }

    /// A change that the claim `token` must still hold; `Fenced` otherwise.
    /// Parameters: $1 hook, $2 GUID, $3 token, $4 now, then `extra`.
    pub(super) async fn fenced(
        &self,
        statement: &str,
        key: &DeliveryKey,
        token: Token,
        extra: &[&(dyn ToSql + Sync)],
    ) -> Result<(), StoreError> {
        let client = self.client().await?;
        let statement = client.prepare_cached(statement).await.map_err(pg)?;
        let hook = hook_column(key)?;
        let guid = key.id.as_str();
        let token = token_column(token);
        let now = self.now();
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&hook, &guid, &token, &now];
        params.extend_from_slice(extra);
        let changed = client.execute(&statement, &params).await.map_err(pg)?;
        if changed == 0 {
            return Err(StoreError::Fenced);
        }
        Ok(())
    }

    pub(super) async fn claim_now(
        &self,
        max: usize,
        lease: Duration,
    ) -> Result<Vec<ClaimedJob>, StoreError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let client = self.client().await?;
        let now = self.now();
        let until = now.saturating_add(duration_millis(lease));
        let statement = client
            .prepare_cached(
                "WITH picked AS (
                     SELECT hook_id, guid FROM icr_deliveries
                     WHERE headers IS NOT NULL AND state IN ('pending', 'active') AND due <= $1
                     ORDER BY due, hook_id, guid LIMIT $2
                     FOR UPDATE SKIP LOCKED
                 )
                 UPDATE icr_deliveries AS d
                 SET state = 'active', token = nextval('icr_delivery_token'), due = $3,
                     attempts = d.attempts + 1, updated_at = $1
                 FROM picked WHERE d.hook_id = picked.hook_id AND d.guid = picked.guid
                 RETURNING d.hook_id, d.guid, d.token, d.attempts::bigint, d.received_at, d.headers, d.body",
            )
            .await
            .map_err(pg)?;
        let limit = i64::try_from(max).unwrap_or(i64::MAX);
        let rows = client
            .query(&statement, &[&now, &limit, &until])
            .await
            .map_err(pg)?;
        let mut jobs = rows
            .iter()
            .map(|row| {
                let key = key_of(row.get(0), row.get(1))?;
                let headers: String = row.get(5);
                Ok(ClaimedJob {
                    delivery: stored_of(key, &headers, row.get(6), row.get(4))?,
                    lease: Lease {
                        token: token_of(row.get(2)),
                        expires: from_millis(until),
                    },
                    attempt: u32::try_from(row.get::<_, i64>(3)).unwrap_or(u32::MAX),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        jobs.sort_by(|a, b| a.delivery.key.cmp(&b.delivery.key));
        Ok(jobs)
    }

    pub(super) async fn retry_now(&self, id: Option<&DeliveryId>) -> Result<u64, StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE icr_deliveries SET state = 'pending', attempts = 0, due = $1, updated_at = $1
                 WHERE state = 'dead' AND ($2::text IS NULL OR guid = $2)",
                &[&self.now(), &id.map(DeliveryId::as_str)],
            )
            .await
            .map_err(pg)
    }
}

pub(super) const ABORT: &str = "UPDATE icr_deliveries
     SET state = CASE WHEN headers IS NULL THEN 'free' ELSE 'pending' END,
         due = CASE WHEN headers IS NULL THEN 0::bigint ELSE $4 END,
         attempts = greatest(attempts - 1, 0), updated_at = $4
     WHERE hook_id = $1 AND guid = $2 AND state = 'active' AND token = $3";
