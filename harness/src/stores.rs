//! The stores `listen` and `inbox` run on (`--store memory|sqlite:PATH|
//! postgres://…`), and the audit table `listen_effects`: one row per
//! processing, written in the transaction that completes the delivery, with
//! no unique constraint, so that any SQL client can count what ran twice.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use icr_webhooks::once::postgres::{Effect, PostgresStore};
use icr_webhooks::once::sqlite::SqliteStore;
use icr_webhooks::once::{DeliveryKey, DeliveryStore, MemoryStore, StoreError, Token};

/// Which store, as `--store` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreSpec {
    /// `memory`: in this process only; a restart forgets it.
    Memory,
    /// `sqlite:PATH`: a SQLite file (created when missing).
    Sqlite(PathBuf),
    /// `postgres://…` or `postgresql://…`: a PostgreSQL database.
    Postgres(String),
}

impl FromStr for StoreSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        if text == "memory" {
            Ok(Self::Memory)
        } else if let Some(path) = text.strip_prefix("sqlite:") {
            if path.is_empty() {
                Err("`sqlite:` needs a file path, as in `sqlite:icr-webhooks.sqlite`".to_owned())
            } else {
                Ok(Self::Sqlite(PathBuf::from(path)))
            }
        } else if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Ok(Self::Postgres(text.to_owned()))
        } else {
            Err(format!(
                "`{text}` is not a store: use `memory`, `sqlite:PATH` or `postgres://USER@HOST/DB`"
            ))
        }
    }
}

impl fmt::Display for StoreSpec {
    /// The spec as given, without a PostgreSQL password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Memory => f.write_str("memory"),
            Self::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            Self::Postgres(url) => f.write_str(&hide_password(url)),
        }
    }
}

/// `postgres://user:secret@host/db` as `postgres://user:***@host/db`.
fn hide_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// An open store and its audit table.
#[derive(Clone)]
pub enum ListenStore {
    /// In memory, effects counted in memory.
    Memory(Arc<MemoryStore>, Arc<Mutex<HashMap<String, u64>>>),
    /// A SQLite file.
    Sqlite(SqliteStore),
    /// A PostgreSQL database.
    Postgres(PostgresStore),
}

impl fmt::Debug for ListenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Memory(..) => "ListenStore::Memory",
            Self::Sqlite(_) => "ListenStore::Sqlite",
            Self::Postgres(_) => "ListenStore::Postgres",
        })
    }
}

/// What the audit table says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Effects {
    /// Rows: processings recorded.
    pub total: u64,
    /// Deliveries recorded.
    pub deliveries: u64,
    /// Deliveries recorded more than once: must be 0.
    pub repeated: u64,
}

fn sql_error(error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::backend(error)
}

impl ListenStore {
    /// Opens the store `spec` names and creates its audit table.
    ///
    /// # Errors
    /// When the store cannot be opened or the table created.
    pub async fn open(spec: &StoreSpec) -> Result<Self, StoreError> {
        let store = match spec {
            StoreSpec::Memory => Self::Memory(Arc::new(MemoryStore::new()), Arc::default()),
            StoreSpec::Sqlite(path) => Self::Sqlite(SqliteStore::open(path).await?),
            StoreSpec::Postgres(url) => Self::Postgres(PostgresStore::connect(url).await?),
        };
        store.create_effects_table().await?;
        Ok(store)
    }

    /// The store, to share.
    pub fn store(&self) -> Arc<dyn DeliveryStore> {
        match self {
            Self::Memory(store, _) => Arc::clone(store) as Arc<dyn DeliveryStore>,
            Self::Sqlite(store) => Arc::new(store.clone()),
            Self::Postgres(store) => Arc::new(store.clone()),
        }
    }

    /// How many transactions the SQLite store committed, when it is one.
    pub fn commits(&self) -> Option<u64> {
        match self {
            Self::Sqlite(store) => Some(store.commits()),
            _ => None,
        }
    }

    async fn create_effects_table(&self) -> Result<(), StoreError> {
        match self {
            Self::Memory(..) => Ok(()),
            Self::Sqlite(store) => store
                .transaction(|db| {
                    db.execute_batch(
                        "CREATE TABLE IF NOT EXISTS listen_effects (
                             delivery_id TEXT NOT NULL,
                             processed_at TEXT NOT NULL
                         );
                         CREATE INDEX IF NOT EXISTS listen_effects_delivery
                             ON listen_effects (delivery_id);",
                    )
                })
                .await?
                .map_err(sql_error),
            Self::Postgres(store) => {
                let client = store.pool().get().await.map_err(sql_error)?;
                client
                    .batch_execute(
                        "CREATE TABLE IF NOT EXISTS listen_effects (
                             delivery_id text NOT NULL,
                             processed_at timestamptz NOT NULL DEFAULT now()
                         );
                         CREATE INDEX IF NOT EXISTS listen_effects_delivery
                             ON listen_effects (delivery_id);",
                    )
                    .await
                    .map_err(sql_error)
            }
        }
    }

    /// Records one processing of `key` and completes its claim `token`, in
    /// one transaction: both or neither.
    ///
    /// # Errors
    /// [`StoreError::Fenced`] when the claim was taken over (nothing is
    /// recorded); [`StoreError::Backend`] when the database failed.
    pub async fn record_and_complete(
        &self,
        key: &DeliveryKey,
        token: Token,
    ) -> Result<(), StoreError> {
        let guid = key.id.as_str().to_owned();
        match self {
            Self::Memory(store, effects) => {
                store.complete(key, token).await?;
                *effects
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .entry(guid)
                    .or_default() += 1;
                Ok(())
            }
            Self::Sqlite(store) => {
                let key = key.clone();
                store
                    .transaction(move |db| {
                        db.execute(
                            "INSERT INTO listen_effects (delivery_id, processed_at)
                             VALUES (?1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                            [&guid],
                        )
                        .map_err(sql_error)?;
                        icr_webhooks::once::sqlite::complete_in(db, &key, token)
                    })
                    .await?
            }
            Self::Postgres(store) => {
                // Batched with the other completions: one commit for many.
                let effect = Effect::new(
                    "INSERT INTO listen_effects (delivery_id) VALUES ($1)",
                    vec![Box::new(guid)],
                );
                store.complete_with(key, token, effect).await
            }
        }
    }

    /// What the audit table holds.
    ///
    /// # Errors
    /// When the database failed.
    pub async fn effects(&self) -> Result<Effects, StoreError> {
        match self {
            Self::Memory(_, effects) => {
                let effects = effects.lock().unwrap_or_else(PoisonError::into_inner);
                Ok(Effects {
                    total: effects.values().sum(),
                    deliveries: effects.len() as u64,
                    repeated: effects.values().filter(|n| **n > 1).count() as u64,
                })
            }
            Self::Sqlite(store) => store
                .transaction(|db| {
                    db.query_row(EFFECTS, [], |row| {
                        Ok(Effects {
                            total: u64::try_from(row.get::<_, i64>(0)?).unwrap_or(0),
                            deliveries: u64::try_from(row.get::<_, i64>(1)?).unwrap_or(0),
                            repeated: u64::try_from(row.get::<_, i64>(2)?).unwrap_or(0),
                        })
                    })
                })
                .await?
                .map_err(sql_error),
            Self::Postgres(store) => {
                let client = store.pool().get().await.map_err(sql_error)?;
                let row = client.query_one(EFFECTS, &[]).await.map_err(sql_error)?;
                let count = |i: usize| u64::try_from(row.get::<_, i64>(i)).unwrap_or(0);
                Ok(Effects {
                    total: count(0),
                    deliveries: count(1),
                    repeated: count(2),
                })
            }
        }
    }
}

impl ListenStore {
    /// How many times each delivery was recorded in `listen_effects`, by
    /// GUID.
    ///
    /// # Errors
    /// When the database failed.
    pub async fn effect_counts(&self) -> Result<HashMap<String, u64>, StoreError> {
        const COUNTS: &str =
            "SELECT delivery_id, CAST(count(*) AS BIGINT) FROM listen_effects GROUP BY delivery_id";
        let pairs: Vec<(String, i64)> = match self {
            Self::Memory(_, effects) => {
                return Ok(effects
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone());
            }
            Self::Sqlite(store) => store
                .transaction(|db| {
                    let mut statement = db.prepare(COUNTS)?;
                    let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
                    rows.collect::<Result<Vec<_>, _>>()
                })
                .await?
                .map_err(sql_error)?,
            Self::Postgres(store) => {
                let client = store.pool().get().await.map_err(sql_error)?;
                client
                    .query(COUNTS, &[])
                    .await
                    .map_err(sql_error)?
                    .iter()
                    .map(|row| (row.get(0), row.get(1)))
                    .collect()
            }
        };
        Ok(pairs
            .into_iter()
            .map(|(guid, n)| (guid, u64::try_from(n).unwrap_or(0)))
            .collect())
    }
}

/// Rows, deliveries, and deliveries recorded more than once.
const EFFECTS: &str = "SELECT CAST(coalesce(sum(n), 0) AS BIGINT), CAST(count(*) AS BIGINT),
        CAST(coalesce(sum(CASE WHEN n > 1 THEN 1 ELSE 0 END), 0) AS BIGINT)
     FROM (SELECT count(*) AS n FROM listen_effects GROUP BY delivery_id) AS per_delivery";

/// Reads `3d`, `12h`, `30m`, `45s` or a number of seconds.
///
/// # Errors
/// Anything else, with what is expected.
pub fn parse_age(text: &str) -> Result<Duration, String> {
    let (number, unit) = match text.char_indices().last() {
        Some((at, unit)) if unit.is_ascii_alphabetic() => (&text[..at], unit),
        _ => (text, 's'),
    };
    let seconds = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => 0,
    };
    match number.parse::<u64>() {
        Ok(n) if seconds > 0 => Ok(Duration::from_secs(n.saturating_mul(seconds))),
        _ => Err(format!(
            "`{text}` is not an age: a number with s, m, h or d (`3d`, `12h`)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_specs_parse_and_hide_passwords() {
        assert_eq!("memory".parse(), Ok(StoreSpec::Memory));
        assert_eq!(
            "sqlite:/tmp/a.sqlite".parse(),
            Ok(StoreSpec::Sqlite(PathBuf::from("/tmp/a.sqlite")))
        );
        let pg: StoreSpec = "postgres://app:hunter2@db:5432/icr".parse().unwrap();
        assert_eq!(pg.to_string(), "postgres://app:***@db:5432/icr");
        let no_password: StoreSpec = "postgresql://app@db/icr".parse().unwrap();
        assert_eq!(no_password.to_string(), "postgresql://app@db/icr");
        assert_eq!(
            "sqlite:".parse::<StoreSpec>(),
            Err("`sqlite:` needs a file path, as in `sqlite:icr-webhooks.sqlite`".to_owned())
        );
        assert_eq!(
            "redis://x".parse::<StoreSpec>(),
            Err("`redis://x` is not a store: use `memory`, `sqlite:PATH` or `postgres://USER@HOST/DB`".to_owned())
        );
    }

    #[test]
    fn ages_parse_with_units() {
        assert_eq!(parse_age("3d"), Ok(Duration::from_secs(259_200)));
        assert_eq!(parse_age("12h"), Ok(Duration::from_secs(43_200)));
        assert_eq!(parse_age("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_age("45"), Ok(Duration::from_secs(45)));
        assert_eq!(
            parse_age("3w"),
            Err("`3w` is not an age: a number with s, m, h or d (`3d`, `12h`)".to_owned())
        );
    }
}
