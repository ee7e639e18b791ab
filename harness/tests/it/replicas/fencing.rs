//! Copies at once to two replicas make one effect, paused holders are
//! fenced, and a PostgreSQL restart under load loses nothing answered 2xx.

use super::*;

#[test]
pub(super) fn copies_at_once_to_two_replicas_make_one_effect_on_postgres() {
    let _turn = postgres_turn();
    if let Some(store) = postgres_store("copies") {
        copies_at_once_make_one_effect(&store, false);
    }
    if let Some(store) = postgres_store("copies_inbox") {
        copies_at_once_make_one_effect(&store, true);
    }
}

/// The replica holding a claim is stopped past its lease; the other takes
/// the delivery over and processes it; the first, continued, is refused.
pub(super) fn a_paused_holder_is_fenced(store: &TestStore) {
    let args = [
        "--inbox",
        "--workers",
        "1",
        "--lease",
        "1",
        "--process-delay",
        "2",
    ];
    let a = Replica::start(0, &store.spec, &args);
    let delivery = deliveries(1).remove(0);
    let answer = runtime().block_on(sender(&[a.url()]).send(&delivery));
    assert_eq!(answer.status, Some(202), "{answer:?}");
    // A's worker holds the claim and sleeps in its processing.
    let opened = runtime().block_on(ListenStore::open(&store.spec)).unwrap();
    let wait_for = |want: &dyn Fn(&Stats) -> bool| {
        runtime().block_on(async {
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let stats = opened.store().stats().await.unwrap();
                if want(&stats) {
                    return;
                }
                assert!(Instant::now() < deadline, "{stats:?}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
    };
    wait_for(&|stats| stats.active == 1);
    a.signal("-STOP");
    let b = Replica::start(0, &store.spec, &args);
    // B takes it over once A's lease ran out, and completes it.
    wait_for(&|stats| stats.done == 1);
    a.signal("-CONT");
    let said_a = a.stop();
    let said_b = b.stop();
    assert!(said_a.contains("processed 0 "), "{said_a}");
    assert!(
        said_a.contains("completions refused (fenced) 1"),
        "{said_a}"
    );
    assert!(said_b.contains("processed 1 "), "{said_b}");
    let counts = effect_counts(&store.spec);
    assert_eq!(counts.get(&delivery.id), Some(&1), "{counts:?}");
    assert_eq!(counts.len(), 1);
}

#[test]
pub(super) fn a_replica_paused_past_its_lease_is_fenced_on_sqlite() {
    a_paused_holder_is_fenced(&sqlite_store("fenced"));
}

#[test]
pub(super) fn a_replica_paused_past_its_lease_is_fenced_on_postgres() {
    let _turn = postgres_turn();
    if let Some(store) = postgres_store("fenced") {
        a_paused_holder_is_fenced(&store);
    }
}

/// The PostgreSQL server itself restarted (`-m immediate`) under load.
#[test]
pub(super) fn a_postgres_restart_under_load_answers_503_and_loses_nothing_answered_2xx() {
    const COUNT: usize = 1500;
    let _turn = postgres_turn();
    let Some(store) = postgres_store("restart") else {
        return;
    };
    let Some(version) = std::fs::read_dir("/etc/postgresql")
        .ok()
        .and_then(|mut dir| dir.next())
        .and_then(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
    else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but no PostgreSQL cluster to restart in /etc/postgresql"
        );
        eprintln!("NOT RUN: the PostgreSQL restart test (no cluster in /etc/postgresql)");
        return;
    };
    let args = [
        "--inbox",
        "--workers",
        "8",
        "--lease",
        "3",
        "--retry-delay",
        "0.1",
    ];
    let a = Replica::start(0, &store.spec, &args);
    let b = Replica::start(0, &store.spec, &args);
    let urls = [a.url(), b.url()];
    let restarting = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let load = Arc::clone(&restarting);
    let sending = std::thread::spawn(move || {
        runtime().block_on(async {
            let sender = sender(&urls);
            let mut pool = deliveries(COUNT).into_iter();
            let mut attempts = Vec::new();
            // Chunks of 100 until the restart is over and COUNT were sent.
            loop {
                let chunk: Vec<Outgoing> = pool.by_ref().take(100).collect();
                if chunk.is_empty() {
                    break;
                }
                attempts.extend(send_until_delivered(&sender, chunk).await);
                if !load.load(std::sync::atomic::Ordering::Relaxed) && pool.len() == 0 {
                    break;
                }
                if pool.len() == 0 {
                    pool = deliveries(100).into_iter();
                }
            }
            attempts
        })
    });
    std::thread::sleep(Duration::from_millis(300));
    let restarted = Command::new("pg_ctlcluster")
        .args([
            "--skip-systemctl-redirect",
            &version,
            "main",
            "restart",
            "-m",
            "immediate",
        ])
        .status()
        .unwrap();
    assert!(restarted.success(), "pg_ctlcluster restart");
    restarting.store(false, std::sync::atomic::Ordering::Relaxed);
    let attempts = sending.join().unwrap();
    let sent = delivered(&attempts).len();
    assert!(sent >= COUNT, "{sent}");
    let unavailable = attempts
        .iter()
        .filter(|attempt| attempt.status == Some(503))
        .count();
    assert!(
        unavailable > 0,
        "503 answered while the database was down: {}",
        Summary::of(&attempts)
    );
    exactly_once(&store.spec, &attempts, sent);
    a.stop();
    b.stop();
}
