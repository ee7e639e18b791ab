//! What each call does on the connection, inside the batch's transaction:
//! claims, renewals, completions, accepts, failures, retries and purges
//! (the reads are in `read`).

use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

use super::call::{Answer, Op};
use super::read::{get, list, stats};
use super::schema::{next_token, next_tokens, token_column, token_of};
use super::sql;
use crate::headers::DeliveryId;
use crate::once::sql::{headers_json, hook_column, key_of, millis, state_of, stored_of};
use crate::once::{
    Accepted, Claimed, ClaimedJob, DeliveryKey, Lease, Purge, Purged, State, StoreError,
    StoredDelivery, Token, duration_millis, from_millis, to_millis_ceil,
};

/// Runs one call; the flag says whether its writes are kept.
pub(super) fn apply(db: &Connection, op: Op, now: i64) -> Result<(Answer, bool), StoreError> {
    let answer = match op {
        Op::Claim(key, lease) => Answer::Claim(begin(db, &key, lease, now)?),
        Op::Renew(key, token, lease) => {
            let until = now.saturating_add(duration_millis(lease));
            fenced(
                db,
                &key,
                token,
                "UPDATE icr_deliveries SET due = ?4, updated_at = ?3
                 WHERE hook_id = ?1 AND guid = ?2 AND state = 'active' AND token = ?5",
                now,
                Some(until),
            )?;
            Answer::Expires(from_millis(until))
        }
        Op::Complete(key, token) => {
            complete(db, &key, token, now)?;
            Answer::Unit
        }
        Op::Abort(key, token) => {
            fenced(
                db,
                &key,
                token,
                "UPDATE icr_deliveries
                 SET state = CASE WHEN headers IS NULL THEN 'free' ELSE 'pending' END,
                     due = CASE WHEN headers IS NULL THEN 0 ELSE ?3 END,
                     attempts = max(attempts - 1, 0), updated_at = ?3
                 WHERE hook_id = ?1 AND guid = ?2 AND state = 'active' AND token = ?5",
                now,
                None,
            )?;
            Answer::Unit
        }
        Op::Accept(delivery) => Answer::Accepted(accept(db, &delivery, now)?),
        Op::ClaimJobs(max, lease) => Answer::Jobs(claim_jobs(db, max, lease, now)?),
        Op::Fail(key, token, retry_at, reason) => {
            let sql_text = match retry_at {
                Some(_) => {
                    "UPDATE icr_deliveries
                     SET state = CASE WHEN headers IS NULL THEN 'free' ELSE 'pending' END,
                         due = CASE WHEN headers IS NULL THEN 0 ELSE ?4 END,
                         last_error = ?6, updated_at = ?3
                     WHERE hook_id = ?1 AND guid = ?2 AND state = 'active' AND token = ?5"
                }
                None => {
                    "UPDATE icr_deliveries
                     SET state = CASE WHEN headers IS NULL THEN 'free' ELSE 'dead' END,
                         due = 0, last_error = ?6, updated_at = ?3
                     WHERE hook_id = ?1 AND guid = ?2 AND state = 'active' AND token = ?5"
                }
            };
            let changed = db
                .execute(
                    sql_text,
                    params![
                        hook_column(&key)?,
                        key.id.as_str(),
                        now,
                        retry_at.map(to_millis_ceil).unwrap_or(0),
                        token_column(token),
                        reason
                    ],
                )
                .map_err(sql)?;
            if changed == 0 {
                return Err(StoreError::Fenced);
            }
            Answer::Unit
        }
        Op::Stats => Answer::Stats(stats(db)?),
        Op::List(filter, limit) => Answer::Records(list(db, filter, limit)?),
        Op::Get(id) => Answer::Found(get(db, &id)?),
        Op::Retry(id) => {
            let changed = db
                .execute(
                    "UPDATE icr_deliveries SET state = 'pending', attempts = 0, due = ?1, updated_at = ?1
                     WHERE state = 'dead' AND (?2 IS NULL OR guid = ?2)",
                    params![now, id.as_ref().map(DeliveryId::as_str)],
                )
                .map_err(sql)?;
            Answer::Count(changed as u64)
        }
        Op::Purge(purge) => Answer::Purged(purge_rows(db, &purge, now)?),
        Op::User(work) => {
            let (keep, deliver) = work(db);
            return Ok((Answer::User(deliver), keep));
        }
    };
    Ok((answer, true))
}

/// A change that the claim `token` must still hold; `Fenced` otherwise.
/// Parameters: 1 hook, 2 GUID, 3 now, 4 `extra`, 5 token (a statement
/// may leave 4 out: SQLite counts parameters by their highest number).
fn fenced(
    db: &Connection,
    key: &DeliveryKey,
    token: Token,
    statement: &str,
    now: i64,
    extra: Option<i64>,
) -> Result<(), StoreError> {
    let changed = db
        .prepare_cached(statement)
        .map_err(sql)?
        .execute(params![
            hook_column(key)?,
            key.id.as_str(),
            now,
            extra.unwrap_or(0),
            token_column(token)
        ])
        .map_err(sql)?;
    if changed == 0 {
        return Err(StoreError::Fenced);
    }
    Ok(())
}

pub(super) fn complete(
    db: &Connection,
    key: &DeliveryKey,
    token: Token,
    now: i64,
) -> Result<(), StoreError> {
    fenced(
        db,
        key,
        token,
        "UPDATE icr_deliveries SET state = 'done', due = 0, updated_at = ?3
         WHERE hook_id = ?1 AND guid = ?2 AND state = 'active' AND token = ?5",
        now,
        None,
    )
}

fn begin(
    db: &Connection,
    key: &DeliveryKey,
    lease: Duration,
    now: i64,
) -> Result<Claimed<Lease>, StoreError> {
    let hook = hook_column(key)?;
    let found: Option<(String, i64, bool)> = db
        .prepare_cached(
            "SELECT state, due, headers IS NOT NULL FROM icr_deliveries
             WHERE hook_id = ?1 AND guid = ?2",
        )
        .map_err(sql)?
        .query_row(params![hook, key.id.as_str()], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .optional()
        .map_err(sql)?;
    if let Some((state, due, inbox)) = &found {
        match state_of(state)? {
            State::Done | State::Dead => return Ok(Claimed::Done),
            State::Pending => return Ok(Claimed::elsewhere(None)),
            State::Active if *inbox || *due > now => {
                return Ok(Claimed::elsewhere(Some(from_millis(*due))));
            }
            State::Active | State::Free => {}
        }
    }
    let token = next_token(db)?;
    let until = now.saturating_add(duration_millis(lease));
    db.prepare_cached(
        "INSERT INTO icr_deliveries (hook_id, guid, state, token, due, attempts, updated_at)
         VALUES (?1, ?2, 'active', ?3, ?4, 1, ?5)
         ON CONFLICT (guid, hook_id) DO UPDATE
         SET state = 'active', token = ?3, due = ?4, attempts = attempts + 1, updated_at = ?5",
    )
    .map_err(sql)?
    .execute(params![hook, key.id.as_str(), token, until, now])
    .map_err(sql)?;
    Ok(Claimed::New(Lease {
        token: token_of(token),
        expires: from_millis(until),
    }))
}

fn accept(db: &Connection, delivery: &StoredDelivery, now: i64) -> Result<Accepted, StoreError> {
    let hook = hook_column(&delivery.key)?;
    let changed = db
        .prepare_cached(
            "INSERT INTO icr_deliveries
                 (hook_id, guid, state, due, updated_at, received_at, headers, body_len)
             VALUES (?1, ?2, 'pending', ?3, ?3, ?4, ?5, ?6)
             ON CONFLICT (guid, hook_id) DO NOTHING",
        )
        .map_err(sql)?
        .execute(params![
            hook,
            delivery.key.id.as_str(),
            now,
            millis(delivery.received_at),
            headers_json(&delivery.headers)?,
            i64::try_from(delivery.body.len()).unwrap_or(i64::MAX)
        ])
        .map_err(sql)?;
    if changed == 0 {
        return Ok(Accepted::Duplicate);
    }
    // The body in a table of its own: the row's many small updates (claims,
    // completions) then never rewrite it.
    db.prepare_cached("INSERT INTO icr_bodies (guid, hook_id, body) VALUES (?1, ?2, ?3)")
        .map_err(sql)?
        .execute(params![delivery.key.id.as_str(), hook, &delivery.body[..]])
        .map_err(sql)?;
    Ok(Accepted::Stored)
}

fn claim_jobs(
    db: &Connection,
    max: usize,
    lease: Duration,
    now: i64,
) -> Result<Vec<ClaimedJob>, StoreError> {
    let limit = i64::try_from(max).unwrap_or(i64::MAX);
    let due: Vec<(i64, String)> = db
        .prepare_cached(
            "SELECT hook_id, guid FROM icr_deliveries
             WHERE headers IS NOT NULL AND state IN ('pending', 'active') AND due <= ?1
             ORDER BY due, hook_id, guid LIMIT ?2",
        )
        .map_err(sql)?
        .query_map(params![now, limit], |row| Ok((row.get(0)?, row.get(1)?)))
        .map_err(sql)?
        .collect::<Result<_, _>>()
        .map_err(sql)?;
    let until = now.saturating_add(duration_millis(lease));
    let mut jobs = Vec::with_capacity(due.len());
    if due.is_empty() {
        return Ok(jobs);
    }
    let first = next_tokens(db, i64::try_from(due.len()).unwrap_or(i64::MAX))?;
    for (token, (hook, guid)) in (first..).zip(due) {
        let (attempts, received_at, headers): (i64, i64, String) = db
            .prepare_cached(
                "UPDATE icr_deliveries
                 SET state = 'active', token = ?3, due = ?4, attempts = attempts + 1, updated_at = ?5
                 WHERE hook_id = ?1 AND guid = ?2
                 RETURNING attempts, received_at, headers",
            )
            .map_err(sql)?
            .query_row(params![hook, guid, token, until, now], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .map_err(sql)?;
        let body: Vec<u8> = db
            .prepare_cached("SELECT body FROM icr_bodies WHERE guid = ?1 AND hook_id = ?2")
            .map_err(sql)?
            .query_row(params![guid, hook], |row| row.get(0))
            .map_err(sql)?;
        jobs.push(ClaimedJob {
            delivery: stored_of(key_of(hook, &guid)?, &headers, body, received_at)?,
            lease: Lease {
                token: token_of(token),
                expires: from_millis(until),
            },
            attempt: u32::try_from(attempts).unwrap_or(u32::MAX),
        });
    }
    Ok(jobs)
}

pub(super) fn purge_rows(db: &Connection, purge: &Purge, now: i64) -> Result<Purged, StoreError> {
    let _ = now;
    const GONE: &str = "updated_at < ?1 AND (state IN ('done', 'free') OR (?2 AND state = 'dead'))";
    let gone = params![millis(purge.before), purge.dead];
    db.execute(
        &format!(
            "DELETE FROM icr_bodies WHERE (guid, hook_id) IN
                 (SELECT guid, hook_id FROM icr_deliveries WHERE {GONE})"
        ),
        gone,
    )
    .map_err(sql)?;
    let rows = db
        .execute(&format!("DELETE FROM icr_deliveries WHERE {GONE}"), gone)
        .map_err(sql)?;
    let bodies = match purge.bodies_before {
        Some(before) => {
            const OLD: &str = "state = 'done' AND body_len IS NOT NULL AND updated_at < ?1";
            db.execute(
                &format!(
                    "DELETE FROM icr_bodies WHERE (guid, hook_id) IN
                         (SELECT guid, hook_id FROM icr_deliveries WHERE {OLD})"
                ),
                [millis(before)],
            )
            .map_err(sql)?;
            db.execute(
                &format!("UPDATE icr_deliveries SET body_len = NULL WHERE {OLD}"),
                [millis(before)],
            )
            .map_err(sql)?
        }
        None => 0,
    };
    Ok(Purged {
        rows: rows as u64,
        bodies: bodies as u64,
    })
}
