//! The tables of the SQLite store: their creation and migration to
//! [`SCHEMA_VERSION`], and the fencing tokens kept in `icr_meta`.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use super::sql;
use crate::once::sql::SCHEMA_VERSION;
use crate::once::{StoreError, Token};

/// Creates the tables, or migrates them to [`SCHEMA_VERSION`].
pub(super) fn migrate(db: &mut Connection) -> Result<(), StoreError> {
    let tx = db
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS icr_meta (
             name TEXT PRIMARY KEY,
             value INTEGER NOT NULL
         );",
    )
    .map_err(sql)?;
    let found: Option<i64> = tx
        .query_row(
            "SELECT value FROM icr_meta WHERE name = 'schema_version'",
            [],
            |row| row.get(0),
        )
        .optional()
        .map_err(sql)?;
    match found {
        Some(version) if version > SCHEMA_VERSION => {
            return Err(StoreError::SchemaTooNew {
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        Some(version) if version == SCHEMA_VERSION => {}
        // No version yet: the first one. Later versions add their steps
        // here, each from the version before.
        _ => {
            tx.execute_batch(
                "CREATE TABLE IF NOT EXISTS icr_deliveries (
                     hook_id INTEGER NOT NULL,
                     guid TEXT NOT NULL,
                     state TEXT NOT NULL,
                     token INTEGER NOT NULL DEFAULT 0,
                     due INTEGER NOT NULL DEFAULT 0,
                     attempts INTEGER NOT NULL DEFAULT 0,
                     updated_at INTEGER NOT NULL,
                     received_at INTEGER,
                     headers TEXT,
                     body_len INTEGER,
                     last_error TEXT,
                     PRIMARY KEY (guid, hook_id)
                 );
                 CREATE TABLE IF NOT EXISTS icr_bodies (
                     guid TEXT NOT NULL,
                     hook_id INTEGER NOT NULL,
                     body BLOB NOT NULL,
                     PRIMARY KEY (guid, hook_id)
                 );
                 CREATE INDEX IF NOT EXISTS icr_deliveries_due
                     ON icr_deliveries (due)
                     WHERE headers IS NOT NULL AND state IN ('pending', 'active');
                 CREATE INDEX IF NOT EXISTS icr_deliveries_updated
                     ON icr_deliveries (updated_at);
                 INSERT OR IGNORE INTO icr_meta (name, value) VALUES ('next_token', 1);",
            )
            .map_err(sql)?;
            tx.execute(
                "INSERT OR REPLACE INTO icr_meta (name, value) VALUES ('schema_version', ?1)",
                [SCHEMA_VERSION],
            )
            .map_err(sql)?;
        }
    }
    tx.commit().map_err(sql)
}

/// Takes the next fencing token.
pub(super) fn next_token(db: &Connection) -> Result<i64, StoreError> {
    next_tokens(db, 1)
}

/// Takes `count` fencing tokens at once: the first of them.
pub(super) fn next_tokens(db: &Connection, count: i64) -> Result<i64, StoreError> {
    db.prepare_cached(
        "UPDATE icr_meta SET value = value + ?1 WHERE name = 'next_token' RETURNING value - ?1",
    )
    .map_err(sql)?
    .query_row([count], |row| row.get(0))
    .map_err(sql)
}

pub(super) fn token_column(token: Token) -> i64 {
    i64::try_from(token.0).unwrap_or(i64::MAX)
}

pub(super) fn token_of(column: i64) -> Token {
    Token(u64::try_from(column).unwrap_or(0))
}
