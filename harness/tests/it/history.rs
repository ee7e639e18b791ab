//! `listen`'s history as a process: it survives a restart with exact rows
//! (statuses, reasons, verification, variants), retention by count drops
//! the oldest, and the default file sits next to the store.

use icr_webhooks_harness::sender::Fault;

use super::devloop::{Dir, Listen, SECRET, ping, rows, send};

/// `(status, reason, verification, variant)` of a row.
fn outcome(row: &serde_json::Value) -> (u64, &str, &str, Option<&str>) {
    (
        row["status"].as_u64().unwrap(),
        row["reason"].as_str().unwrap(),
        row["verification"].as_str().unwrap(),
        row["variant"].as_str(),
    )
}

#[test]
fn the_history_survives_a_restart_with_exact_statuses_and_reasons() {
    let dir = Dir::new();
    let history = format!("sqlite:{}", dir.path("history.sqlite").display());
    let listen = Listen::start(&dir, &["--history", &history]);
    let first = ping("first");
    let sent = vec![
        first.clone(),
        ping("second"),
        first.clone(),
        ping("tampered").with_fault(Fault::BodyChangedAfterSigning),
        ping("unsigned").with_fault(Fault::MissingSignature),
    ];
    let attempts = send(&listen.webhook(), SECRET, &sent);
    let statuses: Vec<Option<u16>> = attempts.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [Some(200), Some(200), Some(200), Some(401), Some(401)]);
    // Stopping writes what is queued.
    listen.stop();

    let listen = Listen::start(&dir, &["--history", &history, "--ui"]);
    let rows = rows(&listen.base);
    assert_eq!(rows.len(), 5);
    let outcomes: Vec<_> = rows.iter().rev().map(outcome).collect();
    assert_eq!(
        outcomes,
        [
            (200, "processed", "verified", Some("Event::Ping")),
            (200, "processed", "verified", Some("Event::Ping")),
            (200, "already_processed", "verified", Some("Event::Ping")),
            (401, "signature_mismatch", "signature_mismatch", None),
            (401, "missing_header", "missing_header", None),
        ]
    );
    let guids: Vec<&str> = rows.iter().rev().map(|row| row["guid"].as_str().unwrap()).collect();
    let expected: Vec<&str> = sent.iter().map(|delivery| delivery.id.as_str()).collect();
    assert_eq!(guids, expected);
    let repeats: Vec<bool> = rows.iter().rev().map(|row| row["repeat"].as_bool().unwrap()).collect();
    assert_eq!(repeats, [false, false, true, false, false]);
    assert!(rows.iter().all(|row| row["event"] == "ping"));
    listen.stop();
}

#[test]
fn retention_by_count_drops_the_oldest() {
    let dir = Dir::new();
    let listen = Listen::start(&dir, &["--history-max", "3"]);
    let sent: Vec<_> = (0..5).map(|n| ping(&format!("n{n}"))).collect();
    let attempts = send(&listen.webhook(), SECRET, &sent);
    assert!(attempts.iter().all(|attempt| attempt.status == Some(200)));
    let err = listen.stop();
    assert!(
        err.contains("(at most 3 requests, none older than 604800 s)"),
        "{err}"
    );
    // The default history: next to the store.
    assert!(dir.path("icr-webhooks-history.sqlite").exists());

    let listen = Listen::start(&dir, &["--ui", "--history-max", "3"]);
    let kept: Vec<String> = rows(&listen.base)
        .iter()
        .map(|row| row["guid"].as_str().unwrap().to_owned())
        .collect();
    let newest: Vec<String> = sent.iter().rev().take(3).map(|d| d.id.clone()).collect();
    assert_eq!(kept, newest);
    listen.stop();
}

#[test]
fn a_memory_history_is_gone_after_a_restart() {
    let dir = Dir::new();
    let listen = Listen::start(&dir, &["--history", "memory", "--ui"]);
    let mut live = super::devloop::Live::open(&listen.base, None);
    send(&listen.webhook(), SECRET, &[ping("kept")]);
    assert_eq!(live.next()["status"], 200);
    assert_eq!(rows(&listen.base).len(), 1);
    drop(live);
    listen.stop();
    let listen = Listen::start(&dir, &["--history", "memory", "--ui"]);
    assert_eq!(rows(&listen.base).len(), 0);
    assert!(!dir.path("icr-webhooks-history.sqlite").exists());
    listen.stop();
}
