//! `listen --ui` as a process: the live stream, the guard (loopback, token,
//! refusal at start), no signature in any answer, replay, replay as new,
//! copy as curl (parsed here, not run) and forwarding to an app.

use std::process::Command;

use icr_webhooks::Receiver;
use icr_webhooks::receive::Secret;

use super::devloop::{BIN, Dir, Listen, Live, SECRET, act, get, http, ping, rows, send};

#[test]
fn the_live_stream_carries_each_new_deliverys_summary() {
    let dir = Dir::new();
    let listen = Listen::start(&dir, &["--ui"]);
    let mut live = Live::open(&listen.base, None);
    let delivery = ping("live");
    send(&listen.webhook(), SECRET, std::slice::from_ref(&delivery));
    let summary = live.next();
    assert_eq!(summary["guid"], delivery.id.as_str());
    assert_eq!(summary["event"], "ping");
    assert_eq!(summary["status"], 200);
    assert_eq!(summary["reason"], "processed");
    assert_eq!(summary["variant"], "Event::Ping");
    assert_eq!(summary["id"], rows(&listen.base)[0]["id"]);
    drop(live);
    listen.stop();
}

#[test]
fn ui_on_an_address_other_than_loopback_without_a_token_exits_2() {
    let dir = Dir::new();
    let output = Command::new(BIN)
        .args([
            "listen",
            "--secret",
            SECRET,
            "--store",
            "memory",
            "--addr",
            "0.0.0.0:0",
            "--ui",
        ])
        .current_dir(&dir.0)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8(output.stderr).unwrap();
    assert!(
        err.contains("refusing --ui on 0.0.0.0:")
            && err.contains(
                "the inspector shows every payload, so on an address other than loopback it needs --ui-token TOKEN"
            ),
        "{err}"
    );
}

#[test]
fn with_a_token_every_inspector_request_needs_it() {
    const TOKEN: &str = "tok_4f1c9a";
    let dir = Dir::new();
    let listen = Listen::start(&dir, &["--addr", "0.0.0.0:0", "--ui", "--ui-token", TOKEN]);
    let base = listen.base.replace("0.0.0.0", "127.0.0.1");
    let bearer = format!("Bearer {TOKEN}");
    for (path, headers, status) in [
        ("/_icr/", vec![], 401),
        ("/_icr/api/deliveries", vec![], 401),
        (
            "/_icr/api/deliveries",
            vec![("Authorization", "Bearer wrong")],
            401,
        ),
        ("/_icr/api/deliveries?token=tok_4f1c9", vec![], 401),
        ("/_icr/api/stream", vec![], 401),
        ("/_icr/?token=tok_4f1c9a", vec![], 200),
        (
            "/_icr/api/deliveries",
            vec![("Authorization", bearer.as_str())],
            200,
        ),
    ] {
        let answer = http("GET", &format!("{base}{path}"), &headers, b"");
        assert_eq!(
            answer.status,
            status,
            "{path} {headers:?}: {}",
            answer.text()
        );
    }
    let mut live = Live::open(&base, Some(TOKEN));
    send(&format!("{base}/webhook"), SECRET, &[ping("token")]);
    assert_eq!(live.next()["status"], 200);
    drop(live);
    listen.stop();
}

#[test]
fn without_a_token_the_inspector_answers_only_to_its_loopback_host_and_actions_need_their_header() {
    let dir = Dir::new();
    let listen = Listen::start(&dir, &["--ui"]);
    let url = format!("{}/_icr/api/deliveries", listen.base);
    assert_eq!(get(&url).status, 200);
    assert_eq!(
        http("GET", &url, &[("Host", "rebound.example:80")], b"").status,
        401
    );
    let replay = format!("{}/_icr/api/deliveries/1/replay", listen.base);
    assert_eq!(http("POST", &replay, &[], b"").status, 403);
    assert_eq!(act(&replay).status, 404);
    listen.stop();
}

#[test]
fn no_answer_of_the_page_or_the_api_holds_a_signature() {
    let dir = Dir::new();
    let listen = Listen::start(&dir, &["--ui"]);
    let mut live = Live::open(&listen.base, None);
    let deliveries = vec![ping("sig-a"), ping("sig-b"), ping("sig-a")];
    let config = icr_webhooks_harness::sender::SenderConfig::new(
        listen.webhook(),
        Some(Secret::new(SECRET)),
    );
    let signatures: Vec<String> = deliveries
        .iter()
        .map(|d| {
            let wire = config.build(d);
            wire.headers
                .iter()
                .find(|(n, _)| *n == "X-ICR-Signature-256")
                .unwrap()
                .1
                .clone()
        })
        .collect();
    send(&listen.webhook(), SECRET, &deliveries);
    let mut answers: Vec<String> = live.take(3).iter().map(ToString::to_string).collect();
    drop(live);
    let page = get(&format!("{}/_icr/", listen.base));
    assert_eq!(page.status, 200);
    for (name, value) in [
        ("content-type", "text/html; charset=utf-8"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
    ] {
        assert!(
            page.headers.contains(&(name.to_owned(), value.to_owned())),
            "{name}: {:?}",
            page.headers
        );
    }
    answers.push(page.text());
    answers.push(get(&format!("{}/_icr/api/deliveries", listen.base)).text());
    answers.push(get(&format!("{}/_icr/api/drift", listen.base)).text());
    for row in rows(&listen.base) {
        let detail = get(&format!(
            "{}/_icr/api/deliveries/{}",
            listen.base, row["id"]
        ));
        assert_eq!(detail.status, 200);
        let json = detail.json();
        let signature = json["headers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|pair| pair[0] == "x-icr-signature-256")
            .unwrap();
        assert_eq!(signature[1], "<redacted>");
        answers.push(detail.text());
    }
    for signature in &signatures {
        let hex = signature.trim_start_matches("sha256=");
        for answer in &answers {
            assert!(!answer.contains(hex), "a signature shows in {answer}");
            assert!(
                !answer.contains(&hex[..16]),
                "a signature shows in {answer}"
            );
        }
    }
    listen.stop();
}

/// The detail of row `id`.
fn detail(base: &str, id: &serde_json::Value) -> serde_json::Value {
    let answer = get(&format!("{base}/_icr/api/deliveries/{id}"));
    assert_eq!(answer.status, 200);
    answer.json()
}

/// The headers of a detail, the GUID left out.
fn headers_but_guid(detail: &serde_json::Value) -> Vec<serde_json::Value> {
    detail["headers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|pair| pair[0] != "x-icr-delivery")
        .cloned()
        .collect()
}

#[test]
fn replay_sends_the_same_guid_and_body_and_replay_as_new_only_a_new_guid() {
    let dir = Dir::new();
    let listen = Listen::start(&dir, &["--ui"]);
    let mut live = Live::open(&listen.base, None);
    let delivery = ping("replay me");
    send(&listen.webhook(), SECRET, std::slice::from_ref(&delivery));
    let original = live.next();
    let first = detail(&listen.base, &original["id"]);

    let replayed = act(&format!(
        "{}/_icr/api/deliveries/{}/replay",
        listen.base, original["id"]
    ));
    assert_eq!(replayed.status, 200, "{}", replayed.text());
    let answer = replayed.json();
    assert_eq!(answer["guid"], delivery.id.as_str());
    assert_eq!(answer["status"], 200);
    let again = detail(&listen.base, &live.next()["id"]);
    assert_eq!(again["guid"], delivery.id.as_str());
    assert_eq!(again["body"], first["body"]);
    assert_eq!(
        again["body"],
        std::str::from_utf8(&delivery.payload).unwrap()
    );
    // listen verified it: a repeat of a processed GUID, acknowledged.
    assert_eq!(again["verification"], "verified");
    assert_eq!(again["reason"], "already_processed");
    assert_eq!(again["repeat"], true);
    assert_eq!(again["headers"], first["headers"]);

    let renewed = act(&format!(
        "{}/_icr/api/deliveries/{}/replay-new",
        listen.base, original["id"]
    ));
    assert_eq!(renewed.status, 200, "{}", renewed.text());
    let guid = renewed.json()["guid"].as_str().unwrap().to_owned();
    assert_ne!(guid, delivery.id);
    assert_eq!(
        guid.parse::<uuid::Uuid>().unwrap().hyphenated().to_string(),
        guid
    );
    let fresh = detail(&listen.base, &live.next()["id"]);
    assert_eq!(fresh["guid"], guid.as_str());
    assert_eq!(fresh["body"], first["body"]);
    assert_eq!(headers_but_guid(&fresh), headers_but_guid(&first));
    assert_eq!(
        (fresh["status"].as_u64(), fresh["reason"].as_str()),
        (Some(200), Some("processed"))
    );
    assert_eq!(fresh["repeat"], false);
    drop(live);
    listen.stop();
}

/// What a `curl` command of the inspector sends: its URL, headers and the
/// body its `printf` format prints.
fn parse_curl(command: &str) -> (String, Vec<(String, String)>, Vec<u8>) {
    let words = shell_words(command);
    assert_eq!(&words[..2], ["printf", "--"]);
    let body = printf(words[2].as_bytes());
    assert_eq!(&words[3..7], ["|", "curl", "-sS", "-X"]);
    assert_eq!(words[7], "POST");
    let url = words[8].clone();
    let mut headers = Vec::new();
    let mut at = 9;
    while words[at] == "-H" {
        let (name, value) = words[at + 1].split_once(": ").unwrap();
        headers.push((name.to_owned(), value.to_owned()));
        at += 2;
    }
    assert_eq!(&words[at..], ["--data-binary", "@-"]);
    (url, headers, body)
}

/// The words of a POSIX shell line: single quotes, `\` + newline, `|`.
fn shell_words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = command.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                let text = word.get_or_insert_with(String::new);
                for inner in chars.by_ref() {
                    if inner == '\'' {
                        break;
                    }
                    text.push(inner);
                }
            }
            '\\' if chars.peek() == Some(&'\'') => {
                chars.next();
                word.get_or_insert_with(String::new).push('\'');
            }
            '\\' if chars.peek() == Some(&'\n') => {
                chars.next();
            }
            ' ' | '\n' | '\t' => words.extend(word.take()),
            other => word.get_or_insert_with(String::new).push(other),
        }
    }
    words.extend(word);
    words
}

/// What `printf FORMAT` prints, for the escapes the inspector writes.
fn printf(format: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < format.len() {
        match (format[at], format.get(at + 1)) {
            (b'\\', Some(b'\\')) => (out.push(b'\\'), at += 2).1,
            (b'\\', Some(b'n')) => (out.push(b'\n'), at += 2).1,
            (b'\\', Some(_)) => {
                let octal = std::str::from_utf8(&format[at + 1..at + 4]).unwrap();
                out.push(u8::from_str_radix(octal, 8).unwrap());
                at += 4;
            }
            (b'%', Some(b'%')) => (out.push(b'%'), at += 2).1,
            (b'%', _) => panic!("a bare % in the format"),
            (byte, _) => (out.push(byte), at += 1).1,
        }
    }
    out
}

#[test]
fn copy_as_curl_holds_the_exact_body_and_a_valid_signature() {
    let dir = Dir::new();
    let listen = Listen::start(&dir, &["--ui"]);
    let mut live = Live::open(&listen.base, None);
    // Quotes, a percent sign, backslashes, a newline and a tab, all of which
    // a shell or printf would change if left as they are.
    let marker = ping(r#"it's 100% \\ \"so\" \u00e9 é\t"#).payload;
    let delivery =
        icr_webhooks_harness::sender::Outgoing::new("ping", [&b"{\n\t"[..], &marker[1..]].concat());
    send(&listen.webhook(), SECRET, std::slice::from_ref(&delivery));
    let id = live.next()["id"].clone();
    drop(live);
    let answer = get(&format!("{}/_icr/api/deliveries/{id}/curl", listen.base));
    assert_eq!(answer.status, 200);
    let (url, headers, body) = parse_curl(&answer.text());
    assert_eq!(url, listen.webhook());
    assert_eq!(body, delivery.payload.as_ref());
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(header("x-icr-delivery"), Some(delivery.id.clone()));
    assert_eq!(header("x-icr-event"), Some("ping".to_owned()));
    assert_eq!(header("content-type"), Some("application/json".to_owned()));
    assert_eq!(header("host"), None);
    assert_eq!(header("content-length"), None);
    let signature = header("x-icr-signature-256").unwrap();
    assert_eq!(signature, Secret::new(SECRET).sign(&body).to_string());
    // The SDK accepts what the command sends.
    let received = Receiver::new(SECRET)
        .unwrap()
        .receive(&headers, body)
        .unwrap();
    assert_eq!(received.info.id.as_str(), delivery.id);
    listen.stop();
}

#[test]
fn save_as_fixture_writes_the_delivery_in_the_fixture_format() {
    let dir = Dir::new();
    let listen = Listen::start(&dir, &["--ui", "--fixtures-dir", "saved"]);
    let mut live = Live::open(&listen.base, None);
    let delivery = ping("keep me");
    send(&listen.webhook(), SECRET, std::slice::from_ref(&delivery));
    let id = live.next()["id"].clone();
    drop(live);
    let saved = act(&format!("{}/_icr/api/deliveries/{id}/fixture", listen.base));
    assert_eq!(saved.status, 200, "{}", saved.text());
    let path = std::path::PathBuf::from(saved.json()["path"].as_str().unwrap());
    assert_eq!(
        path,
        std::path::Path::new("saved").join(format!("ping-{}.http", &delivery.id[..8]))
    );
    let fixture = icr_webhooks_harness::fixture::Fixture::load(dir.0.join(&path)).unwrap();
    assert_eq!(fixture.body, delivery.payload);
    assert_eq!(fixture.delivery_id(), Some(delivery.id.as_str()));
    assert_eq!(fixture.header("x-icr-signature-256"), None);
    listen.stop();
}
