//! Several `listen` processes sharing one store, as replicas do: on one
//! SQLite file and on one PostgreSQL database. Under load with answer-level
//! and processing failures, with one replica killed (SIGKILL) and restarted
//! again and again, every delivery answered 2xx is processed exactly once
//! (one row in `listen_effects`) and none is dead; copies of one delivery
//! sent at once to both replicas make one effect; a replica stopped
//! (SIGSTOP) past its lease has its completion refused; and a PostgreSQL
//! restart under load answers 503 while it is down, never a 2xx without a
//! committed row.
//!
//! Every process is bounded in time and stopped by the test.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use icr_webhooks::once::DeliveryStore as _;
use icr_webhooks::once::Stats;
use icr_webhooks_harness::samples;
use icr_webhooks_harness::sender::{Attempt, Outgoing, Sender, SenderConfig, Summary};
use icr_webhooks_harness::stores::{ListenStore, StoreSpec};

const BIN: &str = env!("CARGO_BIN_EXE_icr-webhooks");
const SECRET: &str = "whsec_replicas_test";

/// Tests that use the PostgreSQL server take turns: one of them restarts it.
static POSTGRES: Mutex<()> = Mutex::new(());

fn postgres_turn() -> MutexGuard<'static, ()> {
    POSTGRES.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A store for a test: a SQLite file in a fresh directory, or a fresh
/// schema on the test server (`None`, said loudly, without one).
struct TestStore {
    spec: StoreSpec,
    _dir: Option<TempDir>,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn sqlite_store(name: &str) -> TestStore {
    let dir = std::env::temp_dir().join(format!(
        "icr-replicas-{}-{name}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    TestStore {
        spec: StoreSpec::Sqlite(dir.join("shared.sqlite")),
        _dir: Some(TempDir(dir)),
    }
}

fn postgres_store(name: &str) -> Option<TestStore> {
    let Some(base) = std::env::var("ICR_TEST_POSTGRES_URL")
        .ok()
        .filter(|url| !url.is_empty())
    else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but ICR_TEST_POSTGRES_URL is not: the PostgreSQL tests must run in CI"
        );
        eprintln!(
            "NOT RUN: {name} on PostgreSQL (set ICR_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test)"
        );
        return None;
    };
    let schema = format!("r_{name}_{}", uuid::Uuid::new_v4().simple());
    runtime().block_on(async {
        let (client, connection) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|error| panic!("ICR_TEST_POSTGRES_URL does not answer: {error}"));
        tokio::spawn(connection);
        client
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .await
            .unwrap();
    });
    let separator = if base.contains('?') { '&' } else { '?' };
    Some(TestStore {
        spec: StoreSpec::Postgres(format!("{base}{separator}options=-csearch_path%3D{schema}")),
        _dir: None,
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A `listen` process on a port of its own, started again on the same
/// port after a kill.
struct Replica {
    child: Child,
    port: u16,
    args: Vec<String>,
    /// Everything it printed on stderr, kept for the report.
    stderr: Arc<Mutex<String>>,
}

impl Replica {
    fn start(port: u16, store: &StoreSpec, args: &[&str]) -> Self {
        let mut args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
        args.extend(["--store".to_owned(), store_arg(store)]);
        let stderr = Arc::new(Mutex::new(String::new()));
        let (child, port) = spawn(port, &args, &stderr);
        Self {
            child,
            port,
            args,
            stderr,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/webhook", self.port)
    }

    /// SIGKILL: nothing runs on the way out.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn restart(&mut self) {
        let (child, _) = spawn(self.port, &self.args, &self.stderr);
        self.child = child;
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill {signal}");
    }

    /// SIGTERM, then waits (at most 30 s) for a clean exit; gives back what
    /// it printed on stderr.
    fn stop(mut self) -> String {
        self.signal("-TERM");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "listen exited with {status}");
                break;
            }
            if Instant::now() > deadline {
                self.kill();
                panic!("listen did not stop within 30 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // The reader thread has seen the end of the pipe by now, or will.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let text = self.stderr.lock().unwrap().clone();
            if text.contains("processed ") || Instant::now() > deadline {
                return text;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn store_arg(store: &StoreSpec) -> String {
    match store {
        StoreSpec::Memory => "memory".to_owned(),
        StoreSpec::Sqlite(path) => format!("sqlite:{}", path.display()),
        StoreSpec::Postgres(url) => url.clone(),
    }
}

/// Starts `listen` on `port` (0: any) and waits for its banner; a port
/// just freed by a kill may take a few tries.
fn spawn(port: u16, args: &[String], stderr: &Arc<Mutex<String>>) -> (Child, u16) {
    for _ in 0..50 {
        let mut child = Command::new(BIN)
            .args(["listen", "--addr", &format!("127.0.0.1:{port}")])
            .args(["--secret", SECRET])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut reader = BufReader::new(child.stderr.take().unwrap());
        let mut banner = String::new();
        reader.read_line(&mut banner).unwrap();
        let Some(url) = banner
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
        else {
            // Could not bind (the port is not free yet): try again.
            let _ = child.wait();
            std::thread::sleep(Duration::from_millis(100));
            continue;
        };
        let bound: u16 = url
            .trim_start_matches("http://127.0.0.1:")
            .trim_end_matches('/')
            .parse()
            .unwrap();
        stderr.lock().unwrap().push_str(&banner);
        let sink = Arc::clone(stderr);
        std::thread::spawn(move || {
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                sink.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
        return (child, bound);
    }
    panic!("listen did not start on port {port}");
}

/// `count` deliveries of every event and action, in turn.
fn deliveries(count: usize) -> Vec<Outgoing> {
    let keys = samples::keys();
    let pool: Vec<Outgoing> = keys
        .iter()
        .map(|key| Outgoing::sample(key, 3).unwrap())
        .collect();
    (0..count).map(|n| pool[n % pool.len()].fresh()).collect()
}

fn sender(urls: &[String]) -> Sender {
    let mut config = SenderConfig::new(
        urls[0].clone(),
        Some(icr_webhooks::receive::Secret::new(SECRET)),
    );
    config.more_urls = urls[1..].to_vec();
    config.timeout = Duration::from_secs(10);
    Sender::new(config).unwrap()
}

/// Sends every delivery, and redelivers those not answered 2xx after a
/// pause of 100 ms, as an app owner would, until each is answered 2xx (at
/// most 90 s).
async fn send_until_delivered(sender: &Sender, deliveries: Vec<Outgoing>) -> Vec<Attempt> {
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut all = Vec::new();
    let mut round: Vec<(Outgoing, u32)> = deliveries.into_iter().map(|d| (d, 1)).collect();
    while !round.is_empty() {
        assert!(
            Instant::now() < deadline,
            "{} deliveries never answered 2xx",
            round.len()
        );
        let mut tasks = tokio::task::JoinSet::new();
        let queue = Arc::new(Mutex::new(std::mem::take(&mut round)));
        for _ in 0..64 {
            let (sender, queue) = (sender.clone(), Arc::clone(&queue));
            tasks.spawn(async move {
                let mut done = Vec::new();
                loop {
                    let next = queue.lock().unwrap().pop();
                    let Some((delivery, attempt)) = next else {
                        return done;
                    };
                    let outcome = sender.send_attempt(&delivery, attempt).await;
                    done.push((delivery, attempt, outcome));
                }
            });
        }
        while let Some(done) = tasks.join_next().await {
            for (delivery, attempt, outcome) in done.unwrap() {
                if !outcome.delivered() {
                    round.push((delivery, attempt + 1));
                }
                all.push(outcome);
            }
        }
        if !round.is_empty() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    all
}

/// Waits (at most 60 s) until the store holds nothing pending or active.
fn drained(store: &StoreSpec) -> Stats {
    runtime().block_on(async {
        let opened = ListenStore::open(store).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let stats = opened.store().stats().await.unwrap();
            if stats.pending == 0 && stats.active == 0 {
                return stats;
            }
            assert!(Instant::now() < deadline, "not drained: {stats:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
}

fn effect_counts(store: &StoreSpec) -> HashMap<String, u64> {
    runtime().block_on(async {
        let opened = ListenStore::open(store).await.unwrap();
        opened.effect_counts().await.unwrap()
    })
}

/// The GUIDs answered 2xx at least once.
fn delivered(attempts: &[Attempt]) -> HashSet<String> {
    attempts
        .iter()
        .filter(|attempt| attempt.delivered())
        .map(|attempt| attempt.id.clone())
        .collect()
}

/// Every delivery answered 2xx has exactly one effect, and nothing else has
/// any.
#[track_caller]
fn exactly_once(store: &StoreSpec, attempts: &[Attempt], expected: usize) {
    let stats = drained(store);
    assert_eq!(stats.dead, 0, "{stats:?}");
    let counts = effect_counts(store);
    let delivered = delivered(attempts);
    assert_eq!(delivered.len(), expected, "every delivery answered 2xx");
    let repeated: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert_eq!(repeated, Vec::<(&String, &u64)>::new(), "processed twice");
    let missing: Vec<_> = delivered
        .iter()
        .filter(|guid| !counts.contains_key(*guid))
        .collect();
    assert_eq!(
        missing,
        Vec::<&String>::new(),
        "answered 2xx, never processed"
    );
    assert_eq!(counts.len(), expected);
}

/// Two inbox replicas under load with failures, one killed and restarted
/// every 1.5 s while the deliveries go out.
fn two_replicas_survive_kills(store: &TestStore) {
    const COUNT: usize = 2000;
    let args = [
        "--inbox",
        "--workers",
        "16",
        "--lease",
        "2",
        "--retry-delay",
        "0.05",
        "--fail-rate",
        "0.1",
        "--seed",
        "11",
    ];
    let a = Replica::start(0, &store.spec, &args);
    let mut b = Replica::start(0, &store.spec, &args);
    let urls = [a.url(), b.url()];
    let sending = std::thread::spawn(move || {
        runtime().block_on(async {
            let sender = sender(&urls);
            send_until_delivered(&sender, deliveries(COUNT)).await
        })
    });
    let mut kills = 0;
    while !sending.is_finished() {
        std::thread::sleep(Duration::from_millis(1500));
        if sending.is_finished() {
            break;
        }
        b.kill();
        kills += 1;
        std::thread::sleep(Duration::from_millis(200));
        b.restart();
    }
    let attempts = sending.join().unwrap();
    exactly_once(&store.spec, &attempts, COUNT);
    assert!(kills >= 1, "the load outlasted at least one kill");
    let statuses: HashSet<Option<u16>> = attempts.iter().map(|a| a.status).collect();
    assert!(
        statuses.contains(&Some(500)),
        "failures were injected: {statuses:?}"
    );
    a.stop();
    b.stop();
}

#[test]
fn two_replicas_on_one_sqlite_file_process_every_delivery_once_through_kills() {
    two_replicas_survive_kills(&sqlite_store("kills"));
}

#[test]
fn two_replicas_on_one_postgres_database_process_every_delivery_once_through_kills() {
    let _turn = postgres_turn();
    if let Some(store) = postgres_store("kills") {
        two_replicas_survive_kills(&store);
    }
}

/// Three copies of each delivery at once to each of two replicas: one
/// effect; a copy answered 409 (the first still in progress) is sent again
/// until answered 2xx, as ICR's redelivery would.
fn copies_at_once_make_one_effect(store: &TestStore, inbox: bool) {
    const GUIDS: usize = 40;
    let mut args = vec!["--lease", "5", "--process-delay", "0.05"];
    if inbox {
        args.push("--inbox");
    }
    let a = Replica::start(0, &store.spec, &args);
    let b = Replica::start(0, &store.spec, &args);
    let (to_a, to_b) = (sender(&[a.url()]), sender(&[b.url()]));
    let attempts: Vec<Attempt> = runtime().block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for delivery in deliveries(GUIDS) {
            for copy in 0..6 {
                let sender = if copy % 2 == 0 {
                    to_a.clone()
                } else {
                    to_b.clone()
                };
                let delivery = delivery.clone();
                tasks.spawn(async move {
                    let mut tried = Vec::new();
                    for attempt in 1..=50 {
                        let outcome = sender.send_attempt(&delivery, attempt).await;
                        let done = outcome.delivered();
                        tried.push(outcome);
                        if done {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    tried
                });
            }
        }
        let mut all = Vec::new();
        while let Some(tried) = tasks.join_next().await {
            let tried = tried.unwrap();
            assert!(tried.last().unwrap().delivered(), "{tried:?}");
            for outcome in &tried {
                assert!(
                    matches!(outcome.status, Some(200 | 202 | 409)),
                    "only 2xx or 409: {outcome:?}"
                );
            }
            all.extend(tried);
        }
        all
    });
    exactly_once(&store.spec, &attempts, GUIDS);
    a.stop();
    b.stop();
}

#[test]
fn copies_at_once_to_two_replicas_make_one_effect_on_sqlite() {
    let store = sqlite_store("copies");
    copies_at_once_make_one_effect(&store, false);
    let store = sqlite_store("copies-inbox");
    copies_at_once_make_one_effect(&store, true);
}

mod fencing;
#[allow(unused_imports)]
use fencing::*;
