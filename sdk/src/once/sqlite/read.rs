//! The reads of the SQLite store: its statistics, its rows as records,
//! and the rows of one delivery with their stored bodies.

use rusqlite::Connection;

use super::sql;
use crate::headers::DeliveryId;
use crate::once::sql::{RowColumns, filter_condition, state_of, stored_of};
use crate::once::{ListFilter, Record, State, Stats, StoreError, StoredDelivery};

pub(super) fn stats(db: &Connection) -> Result<Stats, StoreError> {
    let mut stats = Stats::default();
    let mut statement = db
        .prepare_cached(
            "SELECT state, count(*), sum(CASE WHEN attempts > 0 THEN 1 ELSE 0 END)
             FROM icr_deliveries GROUP BY state",
        )
        .map_err(sql)?;
    let rows = statement
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
            ))
        })
        .map_err(sql)?;
    for row in rows {
        let (state, count, failed) = row.map_err(sql)?;
        let count = u64::try_from(count).unwrap_or(0);
        match state_of(&state)? {
            State::Free => stats.free = count,
            State::Pending => {
                stats.pending = count;
                stats.failed = u64::try_from(failed).unwrap_or(0);
            }
            State::Active => stats.active = count,
            State::Done => stats.done = count,
            State::Dead => stats.dead = count,
        }
    }
    Ok(stats)
}

const RECORD_COLUMNS: &str =
    "d.hook_id, d.guid, state, due, attempts, updated_at, received_at, last_error, body_len";

fn columns(row: &rusqlite::Row<'_>) -> rusqlite::Result<RowColumns> {
    Ok(RowColumns {
        hook_id: row.get(0)?,
        guid: row.get(1)?,
        state: row.get(2)?,
        due: row.get(3)?,
        attempts: row.get(4)?,
        updated_at: row.get(5)?,
        received_at: row.get(6)?,
        last_error: row.get(7)?,
        body_len: row.get(8)?,
    })
}

pub(super) fn list(
    db: &Connection,
    filter: ListFilter,
    limit: usize,
) -> Result<Vec<Record>, StoreError> {
    let statement = format!(
        "SELECT {RECORD_COLUMNS} FROM icr_deliveries AS d WHERE {} ORDER BY updated_at, hook_id, guid LIMIT ?1",
        filter_condition(filter)
    );
    let mut statement = db.prepare(&statement).map_err(sql)?;
    let rows = statement
        .query_map([i64::try_from(limit).unwrap_or(i64::MAX)], columns)
        .map_err(sql)?;
    rows.map(|row| row.map_err(sql)?.record()).collect()
}

pub(super) fn get(
    db: &Connection,
    id: &DeliveryId,
) -> Result<Vec<(Record, Option<StoredDelivery>)>, StoreError> {
    let statement = format!(
        "SELECT {RECORD_COLUMNS}, headers, b.body FROM icr_deliveries AS d
         LEFT JOIN icr_bodies AS b ON b.guid = d.guid AND b.hook_id = d.hook_id
         WHERE d.guid = ?1 ORDER BY d.hook_id"
    );
    let mut statement = db.prepare(&statement).map_err(sql)?;
    let rows = statement
        .query_map([id.as_str()], |row| {
            Ok((
                columns(row)?,
                row.get::<_, Option<String>>(9)?,
                row.get::<_, Option<Vec<u8>>>(10)?,
            ))
        })
        .map_err(sql)?;
    let mut found = Vec::new();
    for row in rows {
        let (columns, headers, body) = row.map_err(sql)?;
        let received_at = columns.received_at;
        let record = columns.record()?;
        let stored = match (headers, body, received_at) {
            (Some(headers), Some(body), Some(received_at)) => {
                Some(stored_of(record.key.clone(), &headers, body, received_at)?)
            }
            _ => None,
        };
        found.push((record, stored));
    }
    Ok(found)
}
