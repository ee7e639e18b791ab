//! `listen`'s history as a process: it survives a restart with exact rows
//! (statuses, reasons, verification, variants), retention by count drops
//! the oldest, and the default file sits next to the store.

use icr_webhooks_harness::history;
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
    assert_eq!(
        statuses,
        [Some(200), Some(200), Some(200), Some(401), Some(401)]
    );
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
    let guids: Vec<&str> = rows
        .iter()
        .rev()
        .map(|row| row["guid"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = sent.iter().map(|delivery| delivery.id.as_str()).collect();
    assert_eq!(guids, expected);
    let repeats: Vec<bool> = rows
        .iter()
        .rev()
        .map(|row| row["repeat"].as_bool().unwrap())
        .collect();
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

/// A ping with a field and an enum value its types do not know.
fn drifted_ping() -> icr_webhooks_harness::sender::Outgoing {
    icr_webhooks_harness::sender::Outgoing::new(
        "ping",
        r#"{"zen":"drift","hook_id":1,"colour":"teal","hook":{"id":1,"type":"Galaxy","name":"web","active":true,"events":[],"config":{"url":"https://example.net/icr","content_type":"json","insecure_ssl":"0"},"created_at":"2026-11-28T08:59:58Z","updated_at":"2026-11-28T08:59:58Z"}}"#,
    )
}

#[test]
fn drift_findings_are_in_the_history_the_inspector_and_drift_json() {
    let dir = Dir::new();
    let history = format!("sqlite:{}", dir.path("history.sqlite").display());
    let listen = Listen::start(&dir, &["--history", &history, "--ui"]);
    let mut live = super::devloop::Live::open(&listen.base, None);
    send(
        &listen.webhook(),
        SECRET,
        &[drifted_ping(), drifted_ping(), ping("known")],
    );
    let rows = live.take(3);
    drop(live);
    let counts: Vec<u64> = rows
        .iter()
        .map(|row| row["drift"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, [2, 2, 0]);
    let detail = super::devloop::get(&format!(
        "{}/_icr/api/deliveries/{}",
        listen.base, rows[0]["id"]
    ))
    .json();
    assert_eq!(
        detail["drift_findings"],
        serde_json::json!([
            {"kind": "unknown_field", "path": "colour"},
            {"kind": "unknown_enum_value", "path": "hook.type"},
        ])
    );
    assert_eq!(detail["status"], 200);
    let panel = super::devloop::get(&format!("{}/_icr/api/drift", listen.base)).json();
    listen.stop();

    let output = std::process::Command::new(super::devloop::BIN)
        .args(["drift", "--history", &history, "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report, panel);
    let lines: Vec<(&str, &str, &str, u64)> = report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            (
                entry["event"].as_str().unwrap(),
                entry["finding"]["kind"].as_str().unwrap(),
                entry["finding"]["path"].as_str().unwrap(),
                entry["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("ping", "unknown_field", "colour", 2),
            ("ping", "unknown_enum_value", "hook.type", 2),
        ]
    );
    let first = &report["drift"][0];
    assert!(first["first_seen"].as_str().unwrap() <= first["last_seen"].as_str().unwrap());

    let text = std::process::Command::new(super::devloop::BIN)
        .args(["drift", "--history", &history])
        .output()
        .unwrap();
    assert_eq!(text.status.code(), Some(0));
    let text = String::from_utf8(text.stdout).unwrap();
    let table: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().take(4).collect())
        .collect();
    assert_eq!(
        table,
        [
            vec!["count", "event", "kind", "path"],
            vec!["2", "ping", "unknown_field", "colour"],
            vec!["2", "ping", "unknown_enum_value", "hook.type"],
        ]
    );
}

#[test]
fn drift_without_a_history_says_so_and_exits_2() {
    let dir = Dir::new();
    let missing = dir.path("none.sqlite");
    let output = std::process::Command::new(super::devloop::BIN)
        .args(["drift", "--history", missing.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        format!(
            "icr-webhooks: no history at {}: `icr-webhooks listen` writes one (see its --history)\n",
            missing.display()
        )
    );
}

/// `--no-history` keeps nothing (no file beside the store), answers as
/// before, and is refused beside the flags that need a history.
#[test]
fn no_history_keeps_nothing_and_refuses_the_inspector() {
    let dir = Dir::new();
    let listen = Listen::start(&dir, &["--no-history"]);
    let attempts = send(&listen.webhook(), SECRET, &[ping("one"), ping("two")]);
    let statuses: Vec<Option<u16>> = attempts.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [Some(200), Some(200)]);
    let stderr = listen.stop();
    assert!(
        stderr.contains("history off (--no-history): requests are not kept"),
        "{stderr}"
    );
    assert!(!dir.path(history::DEFAULT_FILE).exists());

    let refused = std::process::Command::new(super::devloop::BIN)
        .args(["listen", "--secret", SECRET, "--no-history", "--ui"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("'--no-history' cannot be used with '--ui'"),
        "{message}"
    );
}
