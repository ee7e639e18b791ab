//! The fixture commands run as processes: `record` captures what `send`
//! sends byte for byte, `sample --save` writes fixtures, `send --replay`
//! delivers each fixture with its GUID (or a new one) and a valid
//! signature, and `send --duplicate-rate` sends the expected duplicates,
//! counted apart.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use bytes::Bytes;
use icr_webhooks::Receiver;
use icr_webhooks::contract::header;
use icr_webhooks_harness::fixture::Fixture;

use crate::fixtures::temp_dir;

const BIN: &str = env!("CARGO_BIN_EXE_icr-webhooks");
const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema/examples");
const SECRET: &str = "s3cr3t";

fn run(args: &[&str]) -> Output {
    let output = Command::new(BIN).args(args).output().unwrap();
    assert!(
        output.status.code().is_some(),
        "{args:?} did not exit by itself"
    );
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[track_caller]
fn check_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        stdout(output),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A `record` process, killed when dropped.
struct Recording {
    child: Option<Child>,
    url: String,
}

impl Recording {
    fn start(dir: &std::path::Path) -> Self {
        let mut child = Command::new(BIN)
            .args([
                "record",
                "--addr",
                "127.0.0.1:0",
                "--secret",
                SECRET,
                "--dir",
            ])
            .arg(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut banner = String::new();
        BufReader::new(child.stderr.take().unwrap())
            .read_line(&mut banner)
            .unwrap();
        let url = banner
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {banner:?}"))
            .to_owned();
        Self {
            child: Some(child),
            url,
        }
    }

    /// Stops it and returns its JSON lines.
    fn stop(mut self) -> Vec<serde_json::Value> {
        let mut child = self.child.take().unwrap();
        child.kill().unwrap();
        let output = child.wait_with_output().unwrap();
        String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn record_captures_what_send_sends_byte_for_byte() {
    let dir = temp_dir("record");
    let recording = Recording::start(&dir);
    let file = format!("{EXAMPLES}/credit_transfer.completed.json");
    let sent = run(&[
        "send",
        "--url",
        &recording.url,
        "--secret",
        SECRET,
        "--event",
        "credit_transfer",
        "--payload",
        &file,
        "--count",
        "2",
    ]);
    check_exit(&sent, 0);
    let refused = run(&[
        "send",
        "--url",
        &recording.url,
        "--secret",
        "wrong",
        "--event",
        "ping",
    ]);
    check_exit(&refused, 1);
    let lines = recording.stop();
    assert_eq!(lines.len(), 2, "{lines:?}");
    let fixtures = Fixture::load_dir(&dir).unwrap();
    assert_eq!(fixtures.len(), 2);
    let body = std::fs::read(&file).unwrap();
    for (path, fixture) in &fixtures {
        assert_eq!(fixture.body, body);
        let names: Vec<&str> = fixture.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "X-ICR-Event",
                "X-ICR-Delivery",
                "X-ICR-Hook-ID",
                "X-ICR-Hook-Installation-Target-Type",
                "X-ICR-Hook-Installation-Target-ID",
                "User-Agent",
                "Content-Type",
            ]
        );
        assert_eq!(fixture.header(header::HOOK_ID), Some("60021"));
        let line = lines
            .iter()
            .find(|l| l["file"] == path.display().to_string())
            .unwrap();
        assert_eq!(line["delivery"], fixture.delivery_id().unwrap());
        assert_eq!(line["event"], "credit_transfer.completed");
        assert_eq!(line["status"], 200);
        assert!(
            path.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("credit_transfer.completed-")
        );
    }
    // Payloads on disk: only on a loopback address.
    let refused = run(&[
        "record",
        "--addr",
        "0.0.0.0:0",
        "--secret",
        SECRET,
        "--dir",
        dir.to_str().unwrap(),
    ]);
    check_exit(&refused, 2);
    assert_eq!(
        String::from_utf8_lossy(&refused.stderr),
        "icr-webhooks: record keeps payloads on disk: --addr must be a loopback address (127.0.0.1, ::1), not 0.0.0.0:0\n"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// What a loopback receiver saw: when, the headers, the body.
type Seen = Arc<Mutex<Vec<(Instant, HeaderMap, Bytes)>>>;

/// A loopback receiver that answers 200 after `delay` and keeps every
/// request; it stops with the runtime.
fn sink(delay: Duration) -> (tokio::runtime::Runtime, String, Seen) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let seen: Seen = Arc::default();
    let kept = Arc::clone(&seen);
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let kept = Arc::clone(&kept);
            async move {
                kept.lock().unwrap().push((Instant::now(), headers, body));
                tokio::time::sleep(delay).await;
                "ok"
            }
        }),
    );
    runtime.spawn(async move { axum::serve(listener, app).await });
    (runtime, url, seen)
}

#[test]
fn send_replay_delivers_each_fixture_with_its_guid_and_a_valid_signature() {
    let dir = temp_dir("replay");
    for key in ["ping", "credit_transfer.completed", "project.updated"] {
        let saved = run(&[
            "sample",
            key,
            "--seed",
            "3",
            "--save",
            dir.to_str().unwrap(),
        ]);
        check_exit(&saved, 0);
        assert!(
            stdout(&saved).trim_end().ends_with(".http"),
            "{}",
            stdout(&saved)
        );
    }
    // A body that is not what a serializer writes: CRLF, no final newline.
    let odd = Fixture::parse(
        b"POST / HTTP/1.1\r\nX-ICR-Event: ping_v2\r\nX-ICR-Delivery: 0b6f7c1e-5d8a-4f3b-9a2c-1e2d3c4b5a69\r\n\
          Content-Type: application/json\r\nContent-Length: 14\r\n\r\n{\"zen\":\r\n\"\xc3\xa9\"}",
    )
    .unwrap();
    odd.save(dir.join("zz-odd.http")).unwrap();
    let fixtures = Fixture::load_dir(&dir).unwrap();
    assert_eq!(fixtures.len(), 4);
    let receiver = Receiver::new(SECRET).unwrap();

    let (_runtime, url, seen) = sink(Duration::ZERO);
    let sent = run(&[
        "send",
        "--url",
        &url,
        "--secret",
        SECRET,
        "--replay",
        dir.to_str().unwrap(),
    ]);
    check_exit(&sent, 0);
    let text = stdout(&sent);
    assert!(
        text.contains("deliveries 4  attempts 4  delivered (2xx) 4"),
        "{text}"
    );
    let got: Vec<(HeaderMap, Bytes)> = seen
        .lock()
        .unwrap()
        .drain(..)
        .map(|(_, h, b)| (h, b))
        .collect();
    assert_eq!(got.len(), 4);
    for (path, fixture) in &fixtures {
        let guid = fixture.delivery_id().unwrap();
        let line = format!(
            "{}  {}  {guid}  200",
            path.display(),
            fixture.event_key().unwrap()
        );
        assert!(text.contains(&line), "{line} not in {text}");
        let (headers, body) = got
            .iter()
            .find(|(h, _)| h[header::DELIVERY] == guid)
            .unwrap();
        assert_eq!(body, &fixture.body);
        // Every header of the fixture, as it was, and a signature over the body.
        for (name, value) in &fixture.headers {
            assert_eq!(headers[name.as_str()], value.as_str(), "{name}");
        }
        assert_eq!(Fixture::from_request(headers, body.clone()), *fixture);
        let delivery = receiver.receive(headers, body.clone()).unwrap();
        assert_eq!(delivery.info.id.as_str(), guid);
    }

    let sent = run(&[
        "send",
        "--url",
        &url,
        "--secret",
        SECRET,
        "--replay",
        dir.to_str().unwrap(),
        "--new-guid",
    ]);
    check_exit(&sent, 0);
    let renewed: Vec<(HeaderMap, Bytes)> = seen
        .lock()
        .unwrap()
        .drain(..)
        .map(|(_, h, b)| (h, b))
        .collect();
    assert_eq!(renewed.len(), 4);
    for (_, fixture) in &fixtures {
        let (headers, body) = renewed
            .iter()
            .find(|(h, b)| {
                *b == fixture.body && h[header::EVENT] == fixture.header(header::EVENT).unwrap()
            })
            .unwrap();
        let again = Fixture::from_request(headers, body.clone());
        assert_ne!(again.delivery_id(), fixture.delivery_id());
        // Only the GUID changed.
        let mut same = again.clone();
        for (name, value) in &mut same.headers {
            if name == header::DELIVERY {
                *value = fixture.delivery_id().unwrap().to_owned();
            }
        }
        assert_eq!(same, *fixture);
        receiver.receive(headers, body.clone()).unwrap();
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn duplicate_rate_sends_the_expected_duplicates_counted_apart() {
    // The app takes 300 ms: a duplicate sent at once arrives before the first
    // answer, one sent after the answer at least 300 ms after the first.
    let delay = Duration::from_millis(300);
    let (_runtime, url, seen) = sink(delay);
    let sent = run(&[
        "send",
        "--url",
        &url,
        "--secret",
        SECRET,
        "--all",
        "--count",
        "10",
        "--seed",
        "3",
        "--duplicate-rate",
        "0.5",
    ]);
    check_exit(&sent, 0);
    let text = stdout(&sent);
    assert!(
        text.contains("deliveries 10  attempts 10  delivered (2xx) 10  not delivered 0"),
        "{text}"
    );
    assert!(
        text.contains(
            "duplicates 5 (at once 3, after the answer 2)  statuses {200: 5}  no answer 0"
        ),
        "{text}"
    );
    let mut by_guid: BTreeMap<String, Vec<(Instant, Bytes)>> = BTreeMap::new();
    for (at, headers, body) in seen.lock().unwrap().iter() {
        let guid = headers[header::DELIVERY].to_str().unwrap().to_owned();
        by_guid.entry(guid).or_default().push((*at, body.clone()));
    }
    assert_eq!(by_guid.len(), 10);
    let twice: Vec<&Vec<(Instant, Bytes)>> = by_guid.values().filter(|v| v.len() == 2).collect();
    assert_eq!(twice.len(), 5);
    assert_eq!(by_guid.values().filter(|v| v.len() == 1).count(), 5);
    let mut at_once = 0;
    let mut after = 0;
    for pair in twice {
        assert_eq!(pair[0].1, pair[1].1, "the same body");
        let gap = pair[1].0.duration_since(pair[0].0);
        if gap >= delay {
            after += 1;
        } else {
            at_once += 1;
        }
    }
    assert_eq!((at_once, after), (3, 2));
    // No duplicates asked: none sent.
    let sent = run(&["send", "--url", &url, "--secret", SECRET, "--event", "ping"]);
    check_exit(&sent, 0);
    assert!(!stdout(&sent).contains("duplicates"), "{}", stdout(&sent));
}
