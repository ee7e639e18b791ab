//! With logging on, no secret, signature or body shows: the example
//! receiver (`examples/axum_receiver.rs`, compiled in here and run in a
//! child process) is given a recognisable secret and driven through every
//! way a delivery can be refused, plus good and repeated ones; everything
//! it prints is searched for the secret, every signature sent or expected,
//! and a marker carried in every body. The rejections' `Display` (what a
//! log line shows) and `Debug` are searched the same way.

use std::io::{BufRead as _, BufReader, Read as _};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use icr_webhooks::ReceiveError;
use icr_webhooks::axum::{DeliveryRejection, OnceRejection};
use icr_webhooks::contract::header;
use icr_webhooks::receive::Secret;

use crate::loopback::{chunked, head, runtime, send, send_raw};
use crate::support::{Wire, example};

#[allow(dead_code, clippy::all)]
#[path = "../../examples/axum_receiver.rs"]
mod example_receiver;

/// The secret, recognisable anywhere.
const CANARY: &str = "whsec_CANARY_SECRET_5d1f9a";
/// In every body sent.
const MARKER: &str = "BODY_CANARY_77c2e0";

/// `wire`, signed again with the canary secret.
fn canary(wire: Wire) -> Wire {
    wire.signed_with(CANARY)
}

/// The ping example with the marker in it, signed with the canary.
fn ping() -> Wire {
    let body = String::from_utf8(example("ping.json"))
        .unwrap()
        .replace("Measure twice, retire once.", MARKER);
    canary(Wire::json("ping", body.into_bytes()))
}

/// The transfer example with the marker in its memo, signed with the canary.
fn transfer() -> Wire {
    let body = String::from_utf8(example("credit_transfer.completed.json"))
        .unwrap()
        .replace("Q4 offset purchase, PO 7731", MARKER);
    canary(
        Wire::json("credit_transfer", body.into_bytes())
            .with(header::DELIVERY, "9b2e4c1a-0f3d-4e5b-8a7c-6d1e2f3a4b5c"),
    )
}

/// A form delivery (the marker in a field) with `body` as its whole body.
fn form(body: String) -> Wire {
    canary(
        Wire::json("ping", body.into_bytes())
            .with(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
    )
}

/// Every way to be refused, and good and repeated deliveries, with the
/// status each is answered.
fn deliveries() -> Vec<(&'static str, Wire, u16)> {
    let good = ping();
    let signature = good.get(header::SIGNATURE_256).unwrap();
    let mut changed = good.body.clone();
    changed[10] ^= 1;
    vec![
        ("accepted", good.clone(), 202),
        ("accepted, another event", transfer(), 202),
        ("a repeated delivery", good.clone(), 200),
        (
            "no signature",
            good.clone().without(header::SIGNATURE_256),
            401,
        ),
        (
            "a malformed signature",
            good.clone().with(header::SIGNATURE_256, &signature[..40]),
            401,
        ),
        (
            "signed with another secret",
            good.clone().signed_with("whsec_someone_else"),
            401,
        ),
        (
            "the body changed after signing",
            good.clone().body(changed),
            401,
        ),
        (
            "an unsupported content type",
            canary(good.clone().with(header::CONTENT_TYPE, "text/plain")),
            415,
        ),
        ("no event", canary(good.clone().without(header::EVENT)), 400),
        (
            "two events",
            canary(good.clone().also(header::EVENT, "inventory")),
            400,
        ),
        (
            "no delivery GUID",
            canary(good.clone().without(header::DELIVERY)),
            400,
        ),
        (
            "a malformed GUID",
            canary(good.clone().with(header::DELIVERY, MARKER)),
            400,
        ),
        ("a form without payload", form(format!("zen={MARKER}")), 400),
        (
            "a form with two payloads",
            form(format!("payload={MARKER}&payload={MARKER}")),
            400,
        ),
        (
            "malformed JSON",
            canary(Wire::json(
                "ping",
                format!("{{\"zen\": \"{MARKER}\"").into_bytes(),
            )),
            400,
        ),
        (
            "a payload of the wrong shape",
            canary(Wire::json(
                "ping",
                format!("{{\"zen\": \"{MARKER}\", \"hook_id\": true}}").into_bytes(),
            )),
            400,
        ),
        (
            "not an object",
            canary(Wire::json("ping", format!("[\"{MARKER}\"]").into_bytes())),
            400,
        ),
    ]
}

#[test]
fn the_example_receiver_logs_no_secret_signature_or_body() {
    const CHILD: &str = "ICR_WEBHOOKS_EXAMPLE_CHILD";
    if std::env::var_os(CHILD).is_some() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(example_receiver::run()).unwrap();
        return;
    }
    let store = crate::backends::TempDir::new("example");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "redaction_logs::the_example_receiver_logs_no_secret_signature_or_body",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env("ICR_WEBHOOK_SECRET", CANARY)
        .env("ICR_WEBHOOK_ADDR", "127.0.0.1:0")
        .env("ICR_WEBHOOK_BODY_TIMEOUT", "0.3")
        .env("ICR_WEBHOOK_STORE", store.path().join("example.sqlite"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Every line the child prints, as it comes.
    let (lines_tx, lines) = mpsc::channel::<String>();
    let readers: Vec<_> = [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ]
    .into_iter()
    .map(|stream| {
        let lines_tx = lines_tx.clone();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                let _ = lines_tx.send(std::mem::take(&mut line));
            }
            let mut rest = Vec::new();
            let _ = reader.read_to_end(&mut rest);
        })
    })
    .collect();
    drop(lines_tx);
    let mut output = Vec::new();
    let addr: SocketAddr = loop {
        let line = lines
            .recv_timeout(Duration::from_secs(60))
            .expect("the example did not start");
        output.push(line.clone());
        if let Some(url) = line.trim().strip_prefix("listening on http://") {
            break url.parse().unwrap();
        }
    };

    let cases = deliveries();
    let mut sent_signatures = Vec::new();
    runtime().block_on(async {
        for (name, wire, status) in &cases {
            sent_signatures.extend(wire.get(header::SIGNATURE_256));
            sent_signatures.push(Secret::new(CANARY).sign(&wire.body).to_string());
            assert_eq!(send(addr, wire).await.0, *status, "{name}");
        }
        let big = ping();
        // Over the limit by its Content-Length, and while streaming.
        let declared = head(addr, &big.headers, "Content-Length: 26214401");
        assert_eq!(send_raw(addr, &declared, b"").await.0, 413);
        let mut huge = big.body.clone();
        huge.resize(26_214_401, b' ');
        huge.extend_from_slice(MARKER.as_bytes());
        let streamed = head(addr, &big.headers, "Transfer-Encoding: chunked");
        assert_eq!(
            send_raw(addr, &streamed, &chunked(&huge, 1 << 20)).await.0,
            413
        );
        // A body that never arrives in full: 408 after 0.3 s.
        let stalled = head(addr, &big.headers, "Content-Length: 100000");
        let (status, _) = crate::limits::stalled(addr, &stalled, &big.body).await;
        assert_eq!(status, 408);
    });
    // The two accepted deliveries are processed after their answer: wait for
    // their lines before stopping the child.
    let mut processed = 0;
    while processed < 2 {
        let Ok(line) = lines.recv_timeout(Duration::from_secs(60)) else {
            panic!(
                "the example stopped before processing:\n{}",
                output.concat()
            );
        };
        // (The first may follow the test harness's own words on its line.)
        processed += usize::from(line.contains("\"delivery\":\""));
        output.push(line);
    }
    child.kill().unwrap();
    child.wait().unwrap();
    for reader in readers {
        reader.join().unwrap();
    }
    output.extend(lines.try_iter());
    let output = output.concat();

    // One line per request not processed, naming its status and code.
    for expected in [
        "not processed: 200 duplicate: delivery already accepted",
        "not processed: 401 missing_header: missing `X-ICR-Signature-256` header",
        "not processed: 401 malformed_signature",
        "not processed: 401 signature_mismatch",
        "not processed: 415 unsupported_content_type",
        "not processed: 400 missing_header: missing `X-ICR-Event` header",
        "not processed: 400 invalid_header",
        "not processed: 400 missing_header: missing `X-ICR-Delivery` header",
        "not processed: 400 malformed_delivery_id",
        "not processed: 400 missing_payload_field",
        "not processed: 400 repeated_payload_field",
        "not processed: 400 malformed_json",
        "not processed: 400 unexpected_shape",
        "not processed: 413 body_too_large",
        "not processed: 408 body_timeout",
    ] {
        assert!(output.contains(expected), "no {expected:?} in:\n{output}");
    }
    search(&output, &sent_signatures);
}

/// Fails when `text` holds the secret, one of `signatures` (as sent, or
/// just their hex digits) or the body marker.
#[track_caller]
fn search(text: &str, signatures: &[String]) {
    assert!(!text.contains(CANARY), "the secret shows in:\n{text}");
    assert!(
        !text.contains("CANARY_SECRET"),
        "the secret shows in:\n{text}"
    );
    assert!(!text.contains(MARKER), "a body shows in:\n{text}");
    for signature in signatures {
        let hex = signature.trim_start_matches("sha256=");
        if hex.len() >= 16 {
            assert!(!text.contains(&hex[..16]), "a signature shows in:\n{text}");
        }
    }
}

/// The rejections themselves, as a log line or `Debug` shows them.
#[test]
fn rejections_show_no_secret_signature_or_body() {
    let receiver = icr_webhooks::Receiver::new(CANARY).unwrap();
    let mut signatures = Vec::new();
    for (name, wire, _) in deliveries() {
        signatures.extend(wire.get(header::SIGNATURE_256));
        signatures.push(Secret::new(CANARY).sign(&wire.body).to_string());
        let Err(error) = wire.receive(&receiver) else {
            continue;
        };
        let shape = matches!(error, ReceiveError::UnexpectedShape { .. });
        let rejections = [
            OnceRejection::Refused(DeliveryRejection::Refused(error.clone())),
            OnceRejection::from(DeliveryRejection::from(error.clone())),
        ];
        for rejection in rejections {
            // A log line: what `Display` shows.
            search(&format!("{rejection} {}", rejection.code()), &signatures);
            let debug = format!("{rejection:?} {rejection:#?}");
            if shape {
                // serde's reason, kept in the error's source, names the
                // kind of value found, never the value itself.
                assert!(
                    debug.contains("invalid type: boolean, expected"),
                    "{name}: {debug}"
                );
            }
            search(&debug, &signatures);
        }
    }
    for rejection in [
        OnceRejection::InProgress,
        OnceRejection::Refused(DeliveryRejection::BodyTimeout {
            after: Duration::from_secs(10),
        }),
    ] {
        search(&format!("{rejection} {rejection:?}"), &signatures);
    }
}
