//! Group commit on PostgreSQL: accepts and completions are queued, and the
//! tasks started by the store take what is queued and write it in one
//! statement (with the effects of [`PostgresStore::complete_with`] in one
//! transaction).

use deadpool_postgres::Pool;
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::types::ToSql;

use super::{Batched, Completion, MAX_BATCH, PostgresStore, pg, token_column, token_of};
use crate::once::sql::{headers_json, hook_column, key_of, millis};
use crate::once::{Accepted, Clock, DeliveryKey, StoreError, StoreFuture, StoredDelivery, Token};

/// Takes what is queued (up to [`MAX_BATCH`]) and runs it as one batch.
async fn next_batch<T, R>(queue: &mut mpsc::Receiver<Batched<T, R>>) -> Option<Vec<Batched<T, R>>> {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    if queue.recv_many(&mut batch, MAX_BATCH).await == 0 {
        return None;
    }
    Some(batch)
}

/// Sends every caller of a failed batch the failure.
fn fail_all<T, R>(batch: Vec<Batched<T, R>>, error: &StoreError) {
    let message = error.to_string();
    let source = match error {
        StoreError::Backend { source } => format!("{message}: {source}"),
        _ => message,
    };
    for (_, reply) in batch {
        let _ = reply.send(Err(StoreError::backend(std::io::Error::other(
            source.clone(),
        ))));
    }
}

pub(super) async fn batch_accepts(
    pool: Pool,
    clock: Clock,
    mut queue: mpsc::Receiver<Batched<StoredDelivery, Accepted>>,
) {
    while let Some(batch) = next_batch(&mut queue).await {
        match insert_accepts(&pool, clock.millis(), &batch).await {
            Ok(stored) => {
                let mut stored = stored;
                for (delivery, reply) in batch {
                    // The first of a key in the batch was the one stored.
                    let accepted = if stored.remove(&delivery.key) {
                        Accepted::Stored
                    } else {
                        Accepted::Duplicate
                    };
                    let _ = reply.send(Ok(accepted));
                }
            }
            Err(error) => fail_all(batch, &error),
        }
    }
}

async fn insert_accepts(
    pool: &Pool,
    now: i64,
    batch: &[Batched<StoredDelivery, Accepted>],
) -> Result<std::collections::HashSet<DeliveryKey>, StoreError> {
    let client = pool.get().await.map_err(StoreError::backend)?;
    let mut hooks = Vec::with_capacity(batch.len());
    let mut guids = Vec::with_capacity(batch.len());
    let mut received = Vec::with_capacity(batch.len());
    let mut headers = Vec::with_capacity(batch.len());
    let mut bodies: Vec<&[u8]> = Vec::with_capacity(batch.len());
    for (delivery, _) in batch {
        hooks.push(hook_column(&delivery.key)?);
        guids.push(delivery.key.id.as_str());
        received.push(millis(delivery.received_at));
        headers.push(headers_json(&delivery.headers)?);
        bodies.push(&delivery.body);
    }
    let statement = client
        .prepare_cached(
            "INSERT INTO icr_deliveries
                 (hook_id, guid, state, due, updated_at, received_at, headers, body)
             SELECT h, g, 'pending', $6, $6, r, hd, b
             FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::bytea[])
                 AS t(h, g, r, hd, b)
             ON CONFLICT (guid, hook_id) DO NOTHING
             RETURNING hook_id, guid",
        )
        .await
        .map_err(pg)?;
    let rows = client
        .query(
            &statement,
            &[&hooks, &guids, &received, &headers, &bodies, &now],
        )
        .await
        .map_err(pg)?;
    rows.iter()
        .map(|row| key_of(row.get(0), row.get(1)))
        .collect()
}

pub(super) async fn batch_completes(
    pool: Pool,
    clock: Clock,
    mut queue: mpsc::Receiver<Batched<Completion, ()>>,
) {
    while let Some(batch) = next_batch(&mut queue).await {
        let now = clock.millis();
        let items: Vec<&Completion> = batch.iter().map(|(item, _)| item).collect();
        let done = match update_completes(&pool, now, &items).await {
            Ok(done) => Ok(done),
            // One effect failing fails the whole batch's transaction: each
            // is tried again alone, so that it fails alone.
            Err(_) if items.len() > 1 && items.iter().any(|item| item.effect.is_some()) => {
                let mut done = std::collections::HashSet::new();
                let mut failed = Vec::new();
                for (index, item) in items.iter().enumerate() {
                    match update_completes(&pool, now, &[*item]).await {
                        Ok(one) => done.extend(one),
                        Err(error) => failed.push((index, error)),
                    }
                }
                let mut answers: Vec<Option<Result<(), StoreError>>> =
                    (0..batch.len()).map(|_| None).collect();
                for (index, error) in failed {
                    if let Some(answer) = answers.get_mut(index) {
                        *answer = Some(Err(error));
                    }
                }
                for ((item, reply), answer) in batch.into_iter().zip(answers) {
                    let result = answer.unwrap_or_else(|| {
                        if done.remove(&(item.key.clone(), item.token)) {
                            Ok(())
                        } else {
                            Err(StoreError::Fenced)
                        }
                    });
                    let _ = reply.send(result);
                }
                continue;
            }
            Err(error) => Err(error),
        };
        match done {
            Ok(mut done) => {
                // A completion queued twice holds once: the second is
                // refused, as it would be in a later batch.
                for (item, reply) in batch {
                    let result = if done.remove(&(item.key, item.token)) {
                        Ok(())
                    } else {
                        Err(StoreError::Fenced)
                    };
                    let _ = reply.send(result);
                }
            }
            Err(error) => fail_all(batch, &error),
        }
    }
}

/// Completes the batch in one statement (in one transaction with the
/// effects of the completed ones, when there are any); gives the
/// completions that held.
async fn update_completes(
    pool: &Pool,
    now: i64,
    batch: &[&Completion],
) -> Result<std::collections::HashSet<(DeliveryKey, Token)>, StoreError> {
    let mut client = pool.get().await.map_err(StoreError::backend)?;
    let mut hooks = Vec::with_capacity(batch.len());
    let mut guids = Vec::with_capacity(batch.len());
    let mut tokens = Vec::with_capacity(batch.len());
    for item in batch {
        hooks.push(hook_column(&item.key)?);
        guids.push(item.key.id.as_str());
        tokens.push(token_column(item.token));
    }
    const COMPLETE: &str = "UPDATE icr_deliveries AS d SET state = 'done', due = 0, updated_at = $4
         FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS c(h, g, t)
         WHERE d.hook_id = c.h AND d.guid = c.g AND d.token = c.t AND d.state = 'active'
         RETURNING d.hook_id, d.guid, d.token";
    let completed = |rows: Vec<tokio_postgres::Row>| {
        rows.iter()
            .map(|row| Ok((key_of(row.get(0), row.get(1))?, token_of(row.get(2)))))
            .collect::<Result<std::collections::HashSet<_>, StoreError>>()
    };
    if batch.iter().all(|item| item.effect.is_none()) {
        let statement = client.prepare_cached(COMPLETE).await.map_err(pg)?;
        let rows = client
            .query(&statement, &[&hooks, &guids, &tokens, &now])
            .await
            .map_err(pg)?;
        return completed(rows);
    }
    let tx = client.transaction().await.map_err(pg)?;
    let statement = tx.prepare_cached(COMPLETE).await.map_err(pg)?;
    let rows = tx
        .query(&statement, &[&hooks, &guids, &tokens, &now])
        .await
        .map_err(pg)?;
    let done = completed(rows)?;
    // The effects of the completions that held, sent together (pipelined);
    // a completion queued twice runs its effect once.
    let mut effects = Vec::new();
    let mut ran = std::collections::HashSet::new();
    for item in batch {
        let pair = (item.key.clone(), item.token);
        if let (Some(effect), true) = (&item.effect, done.contains(&pair) && ran.insert(pair)) {
            let statement = tx.prepare_cached(&effect.statement).await.map_err(pg)?;
            effects.push((statement, effect));
        }
    }
    let tx_ref = &tx;
    let runs: Vec<_> = effects
        .iter()
        .map(|(statement, effect)| {
            let params: Vec<&(dyn ToSql + Sync)> = effect
                .params
                .iter()
                .map(|param| param.as_ref() as &(dyn ToSql + Sync))
                .collect();
            Box::pin(async move { tx_ref.execute(statement, &params).await })
        })
        .collect();
    for result in join_all(runs).await {
        result.map_err(pg)?;
    }
    tx.commit().await.map_err(pg)?;
    Ok(done)
}

/// Polls every future until all are ready; their outputs in order.
async fn join_all<F: std::future::Future + Unpin>(mut futures: Vec<F>) -> Vec<F::Output> {
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match std::pin::Pin::new(future).poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

impl PostgresStore {
    pub(super) fn queue<T: Send + 'static, R: Send + 'static>(
        &self,
        queue: &mpsc::Sender<Batched<T, R>>,
        item: T,
    ) -> StoreFuture<'static, R> {
        let (reply, answer) = oneshot::channel();
        let queue = queue.clone();
        Box::pin(async move {
            queue
                .send((item, reply))
                .await
                .map_err(|_| StoreError::Closed)?;
            answer.await.map_err(|_| StoreError::Closed)?
        })
    }
}
