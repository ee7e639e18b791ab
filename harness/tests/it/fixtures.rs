//! Fixtures: the file format round-trips every body byte for byte and says
//! exactly what is wrong with a broken file; a fixture's signed headers are
//! received as their exact variant; and the CLI records, saves and replays
//! them (`record`, `sample --save`, `send --replay`, `send --duplicate-rate`).

use std::path::{Path, PathBuf};

use bytes::Bytes;
use icr_webhooks::contract::EventKey;
use icr_webhooks::receive::Secret;
use icr_webhooks::types::CreditTransferEvent;
use icr_webhooks::{Event, Receiver};
use icr_webhooks_harness::fixture::{Fixture, FixtureError};
use icr_webhooks_harness::sender::{Outgoing, SenderConfig};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema/examples");
const SECRET: &str = "whsec_Q7mN4rT8p3Xv2kLs9dE1";
const GUID: &str = "72d3162e-cc78-11e3-81ab-4c9367dc0958";

/// Every example file with its bytes, sorted by name.
fn examples() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(EXAMPLES)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_str().unwrap().to_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect()
}

fn fixture(event: &str, body: impl Into<Bytes>) -> Fixture {
    let mut outgoing = Outgoing::new(event, body);
    outgoing.id = GUID.to_owned();
    Fixture::from(&SenderConfig::new("http://127.0.0.1:9/", None).build(&outgoing))
}

#[test]
fn every_body_round_trips_byte_for_byte() {
    let mut bodies: Vec<(String, Vec<u8>)> = examples();
    let odd: [&[u8]; 6] = [
        b"{\"a\":1}\r\n",
        b"{\"a\":\r\n1}\n\n",
        b"{\"zen\":\"r\xc3\xa9duction \xe2\x80\x94 \xf0\x9f\x8c\xb2\"}",
        b"",
        b"\n",
        b"POST / HTTP/1.1\nContent-Length: 3\n\nabc",
    ];
    bodies.extend(odd.iter().map(|b| ("odd".to_owned(), b.to_vec())));
    for (name, body) in bodies {
        let event = name.split('.').next().unwrap();
        let original = fixture(event, body.clone());
        let bytes = original.to_bytes();
        let parsed = Fixture::parse(&bytes).unwrap();
        assert_eq!(parsed, original, "{name}");
        assert_eq!(parsed.body, body, "{name}");
        assert_eq!(parsed.to_bytes(), bytes, "{name}");
        // CRLF in the head, and no newline after the body, read the same.
        let crlf = String::from_utf8(bytes[..bytes.len() - body.len() - 1].to_vec())
            .unwrap()
            .replace('\n', "\r\n");
        let mut other = crlf.into_bytes();
        other.extend_from_slice(&body);
        assert_eq!(Fixture::parse(&other).unwrap(), original, "{name}");
    }
}

#[test]
fn the_file_is_the_http_request_without_its_signature() {
    let body = std::fs::read(format!("{EXAMPLES}/ping.json")).unwrap();
    let fixture = fixture("ping", body.clone());
    let text = String::from_utf8(fixture.to_bytes()).unwrap();
    let head = format!(
        "POST / HTTP/1.1\nX-ICR-Event: ping\nX-ICR-Delivery: {GUID}\nX-ICR-Hook-ID: 60021\n\
         X-ICR-Hook-Installation-Target-Type: integration\nX-ICR-Hook-Installation-Target-ID: 1187\n\
         User-Agent: {}\nContent-Type: application/json\nContent-Length: {}\n\n",
        icr_webhooks_harness::sender::USER_AGENT,
        body.len()
    );
    assert_eq!(
        text,
        format!("{head}{}\n", String::from_utf8(body).unwrap())
    );
    assert_eq!(fixture.file_name(), "ping-72d3162e.http");
    assert_eq!(fixture.header("x-icr-hook-id"), Some("60021"));
    assert_eq!(fixture.delivery_id(), Some(GUID));
    assert_eq!(fixture.event_key(), Some(EventKey::new("ping", None)));
}

#[track_caller]
fn check_error(bytes: &[u8], expected: &str, matches: impl Fn(&FixtureError) -> bool) {
    let error = Fixture::parse(bytes).unwrap_err();
    assert!(matches(&error), "{error:?}");
    assert_eq!(error.to_string(), expected);
}

#[test]
fn broken_files_give_their_exact_error() {
    check_error(
        b"POST / HTTP/1.1\nX-ICR-Event: ping\nContent-Length: 2\n",
        "no blank line after the headers (the file ends at line 3)",
        |e| matches!(e, FixtureError::MissingBlankLine { line: 3 }),
    );
    check_error(
        b"POST / HTTP/1.1\nX-ICR-Event: ping\nContent-Length: 2\n{}",
        "no blank line after the headers (the file ends at line 3)",
        |e| matches!(e, FixtureError::MissingBlankLine { line: 3 }),
    );
    check_error(
        b"POST / HTTP/1.1\nContent-Length: two\n\n{}",
        "line 2: `Content-Length` is not one decimal number",
        |e| matches!(e, FixtureError::BadContentLength { line: 2 }),
    );
    check_error(
        b"POST / HTTP/1.1\nContent-Length: +2\n\n{}",
        "line 2: `Content-Length` is not one decimal number",
        |e| matches!(e, FixtureError::BadContentLength { line: 2 }),
    );
    check_error(
        b"POST / HTTP/1.1\nContent-Length: 2\ncontent-length: 2\n\n{}",
        "line 3: `Content-Length` is not one decimal number",
        |e| matches!(e, FixtureError::BadContentLength { line: 3 }),
    );
    check_error(
        b"POST / HTTP/1.1\nX-ICR-Event: ping\n\n{}",
        "no `Content-Length` header",
        |e| matches!(e, FixtureError::MissingContentLength),
    );
    check_error(
        b"POST / HTTP/1.1\nContent-Length: 10\n\n{\"a\":1}\n",
        "the body has 8 bytes, `Content-Length` says 10",
        |e| {
            matches!(
                e,
                FixtureError::TruncatedBody {
                    expected: 10,
                    found: 8
                }
            )
        },
    );
    check_error(
        b"POST / HTTP/1.1\nContent-Length: 2\n\n{}\n\n",
        "2 bytes after the body (only one newline may follow it)",
        |e| matches!(e, FixtureError::TrailingBytes { extra: 2 }),
    );
    check_error(
        b"GET / HTTP/1.1\nContent-Length: 2\n\n{}",
        "line 1: expected `POST <target> HTTP/1.1`",
        |e| matches!(e, FixtureError::RequestLine),
    );
    check_error(
        b"POST / HTTP/1.1\nX-ICR-Event ping\nContent-Length: 2\n\n{}",
        "line 2: expected a header `Name: value`",
        |e| matches!(e, FixtureError::Header { line: 2 }),
    );
}

#[test]
fn load_and_load_dir_name_the_file() {
    let dir = temp_dir("load");
    let good = fixture(
        "ping",
        std::fs::read(format!("{EXAMPLES}/ping.json")).unwrap(),
    );
    good.save(dir.join("b.http")).unwrap();
    good.with_new_guid().save(dir.join("a.http")).unwrap();
    std::fs::write(dir.join("notes.txt"), "not a fixture").unwrap();
    let loaded = Fixture::load_dir(&dir).unwrap();
    let names: Vec<&str> = loaded
        .iter()
        .map(|(p, _)| p.file_name().unwrap().to_str().unwrap())
        .collect();
    assert_eq!(names, ["a.http", "b.http"]);
    assert_eq!(loaded[1].1, good);
    std::fs::write(dir.join("c.http"), b"POST / HTTP/1.1\n").unwrap();
    let error = Fixture::load_dir(&dir).unwrap_err();
    match &error {
        FixtureError::File { path, source } => {
            assert_eq!(path, &dir.join("c.http"));
            assert!(matches!(
                **source,
                FixtureError::MissingBlankLine { line: 1 }
            ));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        Fixture::load(dir.join("missing.http")),
        Err(FixtureError::Io { path, .. }) if path == dir.join("missing.http")
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn signed_headers_are_received_as_the_exact_variant() {
    let receiver = Receiver::new(SECRET).unwrap();
    let secret = Secret::new(SECRET);
    for (name, body) in examples() {
        let key: EventKey = name.trim_end_matches(".json").parse().unwrap();
        for form in [false, true] {
            let mut outgoing = Outgoing::new(key.event(), body.clone());
            if form {
                outgoing = outgoing.with_content_type(icr_webhooks::receive::ContentType::Form);
            }
            let config = SenderConfig::new("http://127.0.0.1:9/", None);
            let fixture =
                Fixture::parse(&Fixture::from(&config.build(&outgoing)).to_bytes()).unwrap();
            assert_eq!(fixture.event_key(), Some(key.clone()), "{name}");
            let delivery = receiver
                .receive(&fixture.signed_headers(&secret), fixture.body.clone())
                .unwrap();
            assert_eq!(delivery.info.id.as_str(), outgoing.id);
            assert_eq!(delivery.event.name(), key.event());
            assert_eq!(delivery.event.action(), key.action(), "{name}");
            assert!(delivery.event.is_known(), "{name}");
            assert_eq!(
                delivery.event,
                Event::from_slice(key.event(), &body).unwrap()
            );
        }
    }
    let body = std::fs::read(format!("{EXAMPLES}/credit_transfer.completed.json")).unwrap();
    let fixture = fixture("credit_transfer", body);
    let delivery = receiver
        .receive(&fixture.signed_headers(&secret), fixture.body.clone())
        .unwrap();
    assert!(matches!(
        delivery.event,
        Event::CreditTransfer(CreditTransferEvent::Completed(_))
    ));
    let wrong = Secret::new("another");
    assert_eq!(
        receiver
            .receive(&fixture.signed_headers(&wrong), fixture.body.clone())
            .unwrap_err(),
        icr_webhooks::ReceiveError::SignatureMismatch
    );
}

#[test]
fn from_request_keeps_icr_headers_and_drops_the_rest() {
    let mut headers = http::HeaderMap::new();
    for (name, value) in [
        ("host", "127.0.0.1:3000"),
        ("content-length", "2"),
        ("connection", "keep-alive"),
        ("content-type", "application/json"),
        ("x-icr-signature-256", "sha256=00"),
        ("x-icr-delivery", GUID),
        ("x-icr-event", "ping"),
        ("x-icr-future-thing", "1"),
        ("user-agent", "ICR-Hookshot/abc"),
    ] {
        headers.append(name, value.parse().unwrap());
    }
    let fixture = Fixture::from_request(&headers, Bytes::from_static(b"{}"));
    let expected: Vec<(String, String)> = [
        ("X-ICR-Event", "ping"),
        ("X-ICR-Delivery", GUID),
        ("User-Agent", "ICR-Hookshot/abc"),
        ("Content-Type", "application/json"),
        ("X-ICR-Future-Thing", "1"),
    ]
    .iter()
    .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
    .collect();
    assert_eq!(fixture.headers, expected);
    let renewed = fixture.with_new_guid();
    assert_ne!(renewed.delivery_id(), Some(GUID));
    assert_eq!(renewed.delivery_id().unwrap().len(), 36);
    let mut same = renewed.clone();
    same.headers[1].1 = GUID.to_owned();
    assert_eq!(same, fixture);
}

/// A fresh folder under the target directory.
pub(crate) fn temp_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("fixtures-{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
