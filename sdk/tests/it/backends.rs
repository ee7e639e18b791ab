//! The stores under test, each on a clock the test moves: memory, a SQLite
//! file in a fresh directory, and a fresh PostgreSQL schema when
//! `ICR_TEST_POSTGRES_URL` names a server (under `CI` it must).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use icr_webhooks::once::{Clock, DeliveryStore, MemoryStore};

/// A clock that stands still until the test moves it.
#[derive(Clone)]
pub(crate) struct ManualClock(Arc<Mutex<SystemTime>>);

impl ManualClock {
    /// A clock at a whole second, so that times survive milliseconds.
    pub(crate) fn new() -> Self {
        Self(Arc::new(Mutex::new(
            UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        )))
    }

    pub(crate) fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }

    pub(crate) fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }

    pub(crate) fn clock(&self) -> Clock {
        let now = Arc::clone(&self.0);
        Clock::from_fn(move || *now.lock().unwrap())
    }
}

/// A directory of its own under the system's temporary directory, removed
/// when dropped.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(name: &str) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "icr-webhooks-test-{}-{name}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Which store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Memory,
    Sqlite,
    Postgres,
}

/// A store under test with what it needs to be opened again.
pub(crate) struct Opened {
    pub(crate) store: Arc<dyn DeliveryStore>,
    pub(crate) backend: Backend,
    /// The SQLite directory, kept while the store lives.
    pub(crate) dir: Option<TempDir>,
    /// The PostgreSQL URL of the store's schema.
    pub(crate) url: Option<String>,
    pub(crate) clock: ManualClock,
}

impl Opened {
    /// The same store opened again, as a restarted process would: nothing
    /// is kept but what the database holds. `None` for memory.
    pub(crate) async fn reopen(&mut self) -> Option<Arc<dyn DeliveryStore>> {
        match self.backend {
            Backend::Memory => None,
            Backend::Sqlite => {
                let dir = self.dir.as_ref()?;
                let store = sqlite_at(&dir.path().join("store.sqlite"), &self.clock).await;
                self.store = Arc::clone(&store);
                Some(store)
            }
            Backend::Postgres => {
                let store = postgres_at(self.url.as_ref()?, &self.clock).await;
                self.store = Arc::clone(&store);
                Some(store)
            }
        }
    }
}

#[cfg(feature = "sqlite")]
async fn sqlite_at(path: &Path, clock: &ManualClock) -> Arc<dyn DeliveryStore> {
    Arc::new(
        icr_webhooks::once::sqlite::SqliteStore::builder(path)
            .clock(clock.clock())
            .open()
            .await
            .unwrap(),
    )
}

#[cfg(not(feature = "sqlite"))]
async fn sqlite_at(_: &Path, _: &ManualClock) -> Arc<dyn DeliveryStore> {
    unreachable!("the sqlite feature is off")
}

#[cfg(feature = "postgres")]
async fn postgres_at(url: &str, clock: &ManualClock) -> Arc<dyn DeliveryStore> {
    Arc::new(
        icr_webhooks::once::postgres::PostgresStore::builder(url)
            .pool_size(8)
            .clock(clock.clock())
            .connect()
            .await
            .unwrap(),
    )
}

#[cfg(not(feature = "postgres"))]
async fn postgres_at(_: &str, _: &ManualClock) -> Arc<dyn DeliveryStore> {
    unreachable!("the postgres feature is off")
}

/// The PostgreSQL server's URL for tests, or `None` (said loudly) when
/// there is none; under `CI` a missing or silent server fails the test.
pub(crate) fn postgres_url() -> Option<String> {
    match std::env::var("ICR_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but ICR_TEST_POSTGRES_URL is not: the PostgreSQL tests must run in CI"
            );
            eprintln!(
                "NOT RUN: the PostgreSQL store tests (set ICR_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test)"
            );
            None
        }
    }
}

/// A fresh, empty schema on the test server, and the URL that uses it.
#[cfg(feature = "postgres")]
pub(crate) async fn fresh_schema(name: &str) -> Option<String> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let base = postgres_url()?;
    let schema = format!(
        "t_{name}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let (client, connection) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|error| panic!("ICR_TEST_POSTGRES_URL does not answer: {error}"));
    tokio::spawn(connection);
    // Schemas left by earlier runs (of other processes) go first.
    static SWEPT: std::sync::Once = std::sync::Once::new();
    let mut sweep = false;
    SWEPT.call_once(|| sweep = true);
    if sweep {
        let mine = format!("%\\_{}\\_%", std::process::id());
        let old = client
            .query(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\\_%' AND nspname NOT LIKE $1",
                &[&mine],
            )
            .await
            .unwrap();
        for row in old {
            let name: String = row.get(0);
            let _ = client
                .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))
                .await;
        }
    }
    client
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema};"
        ))
        .await
        .unwrap();
    let separator = if base.contains('?') { '&' } else { '?' };
    Some(format!("{base}{separator}options=-csearch_path%3D{schema}"))
}

/// Opens `backend` on a fresh clock and fresh tables; `None` for PostgreSQL
/// without a server.
pub(crate) async fn open(backend: Backend, name: &str) -> Option<Opened> {
    let clock = ManualClock::new();
    match backend {
        Backend::Memory => Some(Opened {
            store: Arc::new(
                MemoryStore::builder()
                    .window(Duration::from_secs(100 * 365 * 24 * 3600))
                    .clock(clock.clock())
                    .build(),
            ),
            backend,
            dir: None,
            url: None,
            clock,
        }),
        Backend::Sqlite => {
            let dir = TempDir::new(name);
            let store = sqlite_at(&dir.path().join("store.sqlite"), &clock).await;
            Some(Opened {
                store,
                backend,
                dir: Some(dir),
                url: None,
                clock,
            })
        }
        Backend::Postgres => {
            #[cfg(feature = "postgres")]
            {
                let url = fresh_schema(name).await?;
                let store = postgres_at(&url, &clock).await;
                Some(Opened {
                    store,
                    backend,
                    dir: None,
                    url: Some(url),
                    clock,
                })
            }
            #[cfg(not(feature = "postgres"))]
            {
                eprintln!("NOT RUN: the PostgreSQL store tests (the postgres feature is off)");
                None
            }
        }
    }
}

/// Every backend this build can test.
pub(crate) fn all() -> Vec<Backend> {
    let mut backends = vec![Backend::Memory];
    if cfg!(feature = "sqlite") {
        backends.push(Backend::Sqlite);
    } else {
        eprintln!("NOT RUN: the SQLite store tests (the sqlite feature is off)");
    }
    backends.push(Backend::Postgres);
    backends
}
