//! The reads of the PostgreSQL store: its statistics, its rows as records,
//! and the rows of one delivery with their stored bodies.

use super::{PostgresStore, pg};
use crate::headers::DeliveryId;
use crate::once::sql::{RowColumns, filter_condition, state_of, stored_of};
use crate::once::{ListFilter, Record, State, Stats, StoreError, StoredDelivery};

const RECORD_COLUMNS: &str = "hook_id, guid, state, due, attempts::bigint, updated_at, received_at, last_error, length(body)::bigint";

fn columns(row: &tokio_postgres::Row) -> RowColumns {
    RowColumns {
        hook_id: row.get(0),
        guid: row.get(1),
        state: row.get(2),
        due: row.get(3),
        attempts: row.get(4),
        updated_at: row.get(5),
        received_at: row.get(6),
        last_error: row.get(7),
        body_len: row.get(8),
    }
}

impl PostgresStore {
    pub(super) async fn stats_now(&self) -> Result<Stats, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT state, count(*), count(*) FILTER (WHERE attempts > 0)
                 FROM icr_deliveries GROUP BY state",
                &[],
            )
            .await
            .map_err(pg)?;
        let mut stats = Stats::default();
        for row in rows {
            let (state, count, failed): (String, i64, i64) = (row.get(0), row.get(1), row.get(2));
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

    pub(super) async fn list_now(
        &self,
        filter: ListFilter,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError> {
        let client = self.client().await?;
        let statement = format!(
            "SELECT {RECORD_COLUMNS} FROM icr_deliveries WHERE {} ORDER BY updated_at, hook_id, guid LIMIT $1",
            filter_condition(filter)
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = client.query(&statement, &[&limit]).await.map_err(pg)?;
        rows.iter().map(|row| columns(row).record()).collect()
    }

    pub(super) async fn get_now(
        &self,
        id: &DeliveryId,
    ) -> Result<Vec<(Record, Option<StoredDelivery>)>, StoreError> {
        let client = self.client().await?;
        let statement = format!(
            "SELECT {RECORD_COLUMNS}, headers, body FROM icr_deliveries WHERE guid = $1 ORDER BY hook_id"
        );
        let rows = client
            .query(&statement, &[&id.as_str()])
            .await
            .map_err(pg)?;
        let mut found = Vec::with_capacity(rows.len());
        for row in &rows {
            let columns = columns(row);
            let received_at = columns.received_at;
            let record = columns.record()?;
            let headers: Option<String> = row.get(9);
            let body: Option<Vec<u8>> = row.get(10);
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
}
