//! The history's SQLite table: its schema, the batched insert that also
//! enforces retention, and the reads behind the inspector and `drift`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension as _, Row, params, params_from_iter};

use super::analyze::{Analysis, Failure};
use icr_webhooks::drift::Drift;

use super::{Detail, Filter, Forwarded, Recorded, Retention, Summary};

/// One row to insert: the request, its answer and what the checks found.
pub(super) struct NewRow {
    pub(super) at_ms: i64,
    pub(super) path: String,
    pub(super) guid: Option<String>,
    pub(super) headers: Vec<(String, String)>,
    pub(super) signature: Option<String>,
    pub(super) body: Vec<u8>,
    pub(super) body_complete: bool,
    pub(super) status: u16,
    pub(super) reason: String,
    pub(super) forward: Option<Forwarded>,
    pub(super) analysis: Analysis,
    pub(super) drift: Drift,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS history_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at_ms INTEGER NOT NULL,
    path TEXT NOT NULL,
    guid TEXT,
    event TEXT,
    action TEXT,
    status INTEGER NOT NULL,
    reason TEXT NOT NULL,
    verification TEXT NOT NULL,
    variant TEXT,
    typed TEXT,
    error_code TEXT,
    error_message TEXT,
    error_path TEXT,
    headers TEXT NOT NULL,
    signature TEXT,
    body BLOB NOT NULL,
    body_complete INTEGER NOT NULL,
    forward_url TEXT,
    forward_status INTEGER,
    forward_error TEXT,
    forward_latency_ms INTEGER,
    drift TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS history_deliveries_received ON history_deliveries (received_at_ms);
CREATE INDEX IF NOT EXISTS history_deliveries_guid ON history_deliveries (guid);
";

/// The columns of a [`Summary`], `d` being the row.
const SUMMARY: &str = "d.id, d.received_at_ms, d.guid, d.event, d.action, d.status, d.reason,
    d.verification, d.variant, d.error_code, d.error_path, d.forward_status,
    d.forward_latency_ms, d.drift,
    EXISTS (SELECT 1 FROM history_deliveries p WHERE p.guid = d.guid AND p.id < d.id)";

/// Creates the table when missing, in WAL mode.
pub(super) fn prepare(db: &Connection) -> rusqlite::Result<()> {
    // `journal_mode` answers with a row; the in-memory database stays `memory`.
    db.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
    db.execute_batch("PRAGMA synchronous = NORMAL;")?;
    db.execute_batch(SCHEMA)
}

/// Milliseconds since the Unix epoch.
pub(super) fn millis(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |since| {
        i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
    })
}

/// Inserts `rows` in one transaction, then drops what retention no longer
/// keeps; returns the new rows' summaries.
pub(super) fn insert(
    db: &mut Connection,
    rows: &[NewRow],
    retention: Retention,
    now: SystemTime,
) -> rusqlite::Result<Vec<Summary>> {
    let tx = db.transaction()?;
    let mut ids = Vec::with_capacity(rows.len());
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO history_deliveries (received_at_ms, path, guid, event, action, status,
                 reason, verification, variant, typed, error_code, error_message, error_path,
                 headers, signature, body, body_complete, forward_url, forward_status,
                 forward_error, forward_latency_ms, drift)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                 ?17, ?18, ?19, ?20, ?21, ?22)",
        )?;
        for row in rows {
            let error = row.analysis.error.as_ref();
            let forward = row.forward.as_ref();
            insert.execute(params![
                row.at_ms,
                row.path,
                row.guid,
                row.analysis.event,
                row.analysis.action,
                row.status,
                row.reason,
                row.analysis.verification,
                row.analysis.variant,
                row.analysis.typed,
                error.map(|e| &e.code),
                error.map(|e| &e.message),
                error.and_then(|e| e.path.as_ref()),
                serde_json::to_string(&row.headers).unwrap_or_else(|_| "[]".to_owned()),
                row.signature,
                row.body,
                row.body_complete,
                forward.map(|f| &f.url),
                forward.and_then(|f| f.status),
                forward.and_then(|f| f.error.as_ref()),
                forward.map(|f| f.latency_ms),
                serde_json::to_string(&row.drift).unwrap_or_else(|_| "[]".to_owned()),
            ])?;
            ids.push(tx.last_insert_rowid());
        }
    }
    enforce(&tx, retention, now)?;
    let mut summaries = Vec::with_capacity(ids.len());
    {
        let mut select = tx.prepare_cached(&format!(
            "SELECT {SUMMARY} FROM history_deliveries d WHERE d.id = ?1"
        ))?;
        for id in ids {
            // A row retention dropped at once is not announced.
            if let Some(summary) = select.query_row([id], summary).optional()? {
                summaries.push(summary);
            }
        }
    }
    tx.commit()?;
    Ok(summaries)
}

/// Drops the oldest rows beyond `retention.max` and those older than
/// `retention.max_age`.
fn enforce(db: &Connection, retention: Retention, now: SystemTime) -> rusqlite::Result<()> {
    let keep = i64::try_from(retention.max).unwrap_or(i64::MAX);
    if keep == 0 {
        db.execute("DELETE FROM history_deliveries", [])?;
    } else {
        db.execute(
            "DELETE FROM history_deliveries WHERE id < (
                 SELECT id FROM history_deliveries ORDER BY id DESC LIMIT 1 OFFSET ?1)",
            [keep - 1],
        )?;
    }
    let oldest = millis(now.checked_sub(retention.max_age).unwrap_or(UNIX_EPOCH));
    db.execute(
        "DELETE FROM history_deliveries WHERE received_at_ms < ?1",
        [oldest],
    )?;
    Ok(())
}

fn summary(row: &Row<'_>) -> rusqlite::Result<Summary> {
    let drift: String = row.get(13)?;
    Ok(Summary {
        id: row.get(0)?,
        received_at_ms: row.get(1)?,
        guid: row.get(2)?,
        event: row.get(3)?,
        action: row.get(4)?,
        status: row.get(5)?,
        reason: row.get(6)?,
        verification: row.get(7)?,
        variant: row.get(8)?,
        error_code: row.get(9)?,
        error_path: row.get(10)?,
        forward_status: row.get(11)?,
        forward_latency_ms: row.get(12)?,
        drift: serde_json::from_str::<Drift>(&drift).map_or(0, |found| found.findings().len()),
        repeat: row.get(14)?,
    })
}

/// The newest rows first that `filter` lets through.
pub(super) fn list(db: &Connection, filter: &Filter) -> rusqlite::Result<Vec<Summary>> {
    let mut clauses = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    if let Some(event) = filter.event.as_deref().filter(|e| !e.is_empty()) {
        match event.split_once('.') {
            Some((event, action)) => {
                clauses.push("d.event = ? AND d.action = ?");
                values.push(Value::Text(event.to_owned()));
                values.push(Value::Text(action.to_owned()));
            }
            None => {
                clauses.push("d.event = ?");
                values.push(Value::Text(event.to_owned()));
            }
        }
    }
    if let Some(status) = filter.status.as_deref().filter(|s| !s.is_empty()) {
        match status {
            "ok" | "2xx" => clauses.push("d.status BETWEEN 200 AND 299"),
            "refused" | "failed" => clauses.push("d.status NOT BETWEEN 200 AND 299"),
            "4xx" => clauses.push("d.status BETWEEN 400 AND 499"),
            "5xx" => clauses.push("d.status BETWEEN 500 AND 599"),
            exact => {
                clauses.push("d.status = ?");
                values.push(Value::Integer(exact.parse().unwrap_or(-1)));
            }
        }
    }
    if let Some(guid) = filter.guid.as_deref().filter(|g| !g.is_empty()) {
        clauses.push("instr(d.guid, ?) > 0");
        values.push(Value::Text(guid.to_ascii_lowercase()));
    }
    if let Some(before) = filter.before {
        clauses.push("d.id < ?");
        values.push(Value::Integer(before));
    }
    let mut sql = format!("SELECT {SUMMARY} FROM history_deliveries d");
    if !clauses.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&clauses.join(" AND "));
    }
    sql.push_str(" ORDER BY d.id DESC LIMIT ?");
    values.push(Value::Integer(i64::from(filter.limit)));
    let mut select = db.prepare(&sql)?;
    let rows = select.query_map(params_from_iter(values), summary)?;
    rows.collect()
}

/// Every column but the signature, of one row.
pub(super) fn detail(db: &Connection, id: i64) -> rusqlite::Result<Option<Detail>> {
    db.query_row(
        &format!(
            "SELECT {SUMMARY}, d.path, d.headers, d.body, d.body_complete, d.typed,
                 d.error_message, d.forward_url, d.forward_error
             FROM history_deliveries d WHERE d.id = ?1"
        ),
        [id],
        |row| {
            let summary = summary(row)?;
            let headers: String = row.get(16)?;
            let drift: String = row.get(13)?;
            let body: Vec<u8> = row.get(17)?;
            let error = match (
                summary.error_code.clone(),
                row.get::<_, Option<String>>(20)?,
            ) {
                (Some(code), Some(message)) => Some(Failure {
                    code,
                    message,
                    path: summary.error_path.clone(),
                }),
                _ => None,
            };
            let forward = row.get::<_, Option<String>>(21)?.map(|url| Forwarded {
                url,
                status: summary.forward_status,
                error: row.get(22).ok().flatten(),
                latency_ms: summary.forward_latency_ms.unwrap_or(0),
            });
            Ok(Detail {
                path: row.get(15)?,
                headers: serde_json::from_str(&headers).unwrap_or_default(),
                body_len: body.len(),
                body_utf8: std::str::from_utf8(&body).is_ok(),
                body: String::from_utf8_lossy(&body).into_owned(),
                body_complete: row.get(18)?,
                typed: row.get(19)?,
                error,
                forward,
                drift_findings: serde_json::from_str::<Drift>(&drift)
                    .map(|found| found.findings().to_vec())
                    .unwrap_or_default(),
                summary,
            })
        },
    )
    .optional()
}

/// What a replay needs: the path, the headers as received (the signature
/// left out) and the exact body.
pub(super) fn replay_source(db: &Connection, id: i64) -> rusqlite::Result<Option<Recorded>> {
    db.query_row(
        "SELECT path, headers, body FROM history_deliveries WHERE id = ?1",
        [id],
        |row| {
            let headers: String = row.get(1)?;
            Ok(Recorded {
                path: row.get(0)?,
                headers: serde_json::from_str(&headers).unwrap_or_default(),
                body: row.get(2)?,
            })
        },
    )
    .optional()
}

/// Each row's event, drift findings and time, oldest first, for the rows
/// with findings.
pub(super) fn drifts(db: &Connection) -> rusqlite::Result<Vec<(String, Drift, SystemTime)>> {
    let mut select = db.prepare(
        "SELECT coalesce(event, ''), drift, received_at_ms FROM history_deliveries
         WHERE drift != '[]' ORDER BY id",
    )?;
    let rows = select.query_map([], |row| {
        let drift: String = row.get(1)?;
        let at: i64 = row.get(2)?;
        Ok((
            row.get(0)?,
            serde_json::from_str(&drift).unwrap_or_default(),
            UNIX_EPOCH + Duration::from_millis(u64::try_from(at).unwrap_or(0)),
        ))
    })?;
    rows.collect()
}

/// How many rows there are.
pub(super) fn count(db: &Connection) -> rusqlite::Result<u64> {
    db.query_row("SELECT count(*) FROM history_deliveries", [], |row| {
        row.get(0)
    })
}
