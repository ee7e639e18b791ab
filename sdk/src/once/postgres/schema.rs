//! The tables of the PostgreSQL store: their creation and migration to
//! [`SCHEMA_VERSION`], under a transaction-level advisory lock.

use deadpool_postgres::Pool;

use super::pg;
use crate::once::StoreError;
use crate::once::sql::SCHEMA_VERSION;

/// A fixed key for the transaction-level advisory lock the migration runs
/// under (`icr-webhooks` in ASCII, folded).
const MIGRATION_LOCK: i64 = 0x6963_722d_7768_6b73;

pub(super) async fn migrate(pool: &Pool) -> Result<(), StoreError> {
    let mut client = pool.get().await.map_err(StoreError::backend)?;
    let tx = client.transaction().await.map_err(pg)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(pg)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS icr_meta (name text PRIMARY KEY, value bigint NOT NULL)",
    )
    .await
    .map_err(pg)?;
    let found: Option<i64> = tx
        .query_opt(
            "SELECT value FROM icr_meta WHERE name = 'schema_version'",
            &[],
        )
        .await
        .map_err(pg)?
        .map(|row| row.get(0));
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
            tx.batch_execute(
                "CREATE SEQUENCE IF NOT EXISTS icr_delivery_token;
                 CREATE TABLE IF NOT EXISTS icr_deliveries (
                     hook_id bigint NOT NULL,
                     guid text COLLATE \"C\" NOT NULL,
                     state text NOT NULL,
                     token bigint NOT NULL DEFAULT 0,
                     due bigint NOT NULL DEFAULT 0,
                     attempts integer NOT NULL DEFAULT 0,
                     updated_at bigint NOT NULL,
                     received_at bigint,
                     headers text,
                     body bytea,
                     last_error text,
                     PRIMARY KEY (guid, hook_id)
                 );
                 CREATE INDEX IF NOT EXISTS icr_deliveries_due
                     ON icr_deliveries (due)
                     WHERE headers IS NOT NULL AND state IN ('pending', 'active');
                 CREATE INDEX IF NOT EXISTS icr_deliveries_updated
                     ON icr_deliveries (updated_at);
",
            )
            .await
            .map_err(pg)?;
            tx.execute(
                "INSERT INTO icr_meta (name, value) VALUES ('schema_version', $1)
                 ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
                &[&SCHEMA_VERSION],
            )
            .await
            .map_err(pg)?;
        }
    }
    tx.commit().await.map_err(pg)
}
