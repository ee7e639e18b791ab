//! `icr-webhooks listen` as a process under load with faults: with
//! `--fail-rate`, a fraction of first attempts is answered 500 before
//! processing; `send --redeliver-failed` redelivers them; every delivery is
//! processed exactly once (each GUID printed once), none is lost, and both
//! sides' summaries say so. With `--verbose`, driven through every fault
//! with a recognisable secret, nothing it prints shows the secret, a
//! signature or a body.

use std::collections::HashSet;
use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use icr_webhooks::receive::{ContentType, Secret};
use icr_webhooks_harness::sender::{Fault, Outgoing, Sender, SenderConfig};

const BIN: &str = env!("CARGO_BIN_EXE_icr-webhooks");

/// A running `listen` and everything it prints, line by line.
pub(crate) struct Listen {
    child: Child,
    pub(crate) url: String,
    /// Where it serves its metrics, with `--metrics-addr`.
    pub(crate) metrics: Option<String>,
    lines: mpsc::Receiver<(bool, String)>,
    readers: Vec<std::thread::JoinHandle<()>>,
    /// Its SQLite file, removed with it.
    store: std::path::PathBuf,
}

impl Drop for Listen {
    fn drop(&mut self) {
        let _ = self.child.kill();
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.store.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Listen {
    /// Starts `listen` with `args` on a free loopback port, on a SQLite
    /// store of its own unless `args` name one.
    pub(crate) fn start(args: &[&str]) -> Self {
        let store = std::env::temp_dir().join(format!(
            "icr-listen-test-{}.sqlite",
            uuid::Uuid::new_v4().simple()
        ));
        let mut command = Command::new(BIN);
        command.args(["listen", "--addr", "127.0.0.1:0"]).args(args);
        if !args.contains(&"--store") {
            command
                .arg("--store")
                .arg(format!("sqlite:{}", store.display()));
        }
        // Not a history file shared by every test in the temporary folder.
        if !args.contains(&"--history") {
            command.args(["--history", "memory"]);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = mpsc::channel();
        let readers = [
            (
                true,
                Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            ),
            (false, Box::new(child.stderr.take().unwrap())),
        ]
        .into_iter()
        .map(|(is_stdout, stream)| {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 0 {
                    let _ = tx.send((is_stdout, std::mem::take(&mut line)));
                }
                let mut rest = Vec::new();
                let _ = reader.read_to_end(&mut rest);
            })
        })
        .collect();
        let mut listen = Self {
            child,
            url: String::new(),
            metrics: None,
            lines,
            readers,
            store,
        };
        let (_, mut banner) = listen
            .lines
            .recv_timeout(Duration::from_secs(60))
            .expect("listen did not start");
        // With `--metrics-addr`, where the metrics are comes first.
        if let Some(url) = banner.strip_prefix("metrics on ") {
            listen.metrics = Some(url.trim().to_owned());
            banner = listen
                .lines
                .recv_timeout(Duration::from_secs(60))
                .unwrap()
                .1;
        }
        listen.url = banner
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {banner:?}"))
            .to_owned();
        listen.url.push_str("webhook");
        listen
    }

    /// Stops it as Ctrl-C does, and returns what it printed on stdout and on
    /// stderr.
    pub(crate) fn stop(mut self) -> (String, String) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        assert!(exit.success(), "listen exited with {exit}");
        for reader in std::mem::take(&mut self.readers) {
            reader.join().unwrap();
        }
        let (mut out, mut err) = (String::new(), String::new());
        for (is_stdout, line) in self.lines.try_iter() {
            if is_stdout { &mut out } else { &mut err }.push_str(&line);
        }
        (out, err)
    }
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

/// The GUIDs `listen` printed, one per line.
fn printed_guids(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            value["delivery"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// The number after `label` in `text`.
fn count(text: &str, label: &str) -> usize {
    let at = text
        .find(label)
        .unwrap_or_else(|| panic!("no {label:?} in {text}"));
    text[at + label.len()..]
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn a_load_with_faults_processes_every_delivery_exactly_once() {
    const COUNT: usize = 3000;
    let listen = Listen::start(&["--secret", "s3cr3t", "--fail-rate", "0.1", "--seed", "7"]);
    let sent = run(&[
        "send",
        "--url",
        &listen.url,
        "--secret",
        "s3cr3t",
        "--all",
        "--count",
        &COUNT.to_string(),
        "--concurrency",
        "64",
        "--redeliver-failed",
        "5",
    ]);
    let (out, err) = listen.stop();
    let summary = String::from_utf8(sent.stdout).unwrap();
    assert_eq!(sent.status.code(), Some(0), "{summary}");

    // Every GUID printed once: processed exactly once, none lost.
    let guids = printed_guids(&out);
    let unique: HashSet<&String> = guids.iter().collect();
    assert_eq!(guids.len(), COUNT, "{err}");
    assert_eq!(unique.len(), COUNT);

    // The sender: all delivered, each failure redelivered once and then
    // answered 200 (only first attempts fail).
    let failed = count(&summary, "500:");
    assert!(
        (COUNT / 20..COUNT / 5).contains(&failed),
        "{failed} of {COUNT} first attempts failed:\n{summary}"
    );
    assert!(
        summary.contains(&format!(
            "deliveries {COUNT}  attempts {}  delivered (2xx) {COUNT}  not delivered 0",
            COUNT + failed
        )),
        "{summary}"
    );
    assert!(
        summary.contains(&format!(
            "statuses {{200: {COUNT}, 500: {failed}}}  no answer 0  redeliveries {failed}"
        )),
        "{summary}"
    );
    // The receiver says the same.
    assert!(
        err.contains(&format!(
            "processed {COUNT}  duplicates acknowledged 0  in progress (409) 0  injected failures (500) {failed}  refused 0"
        )),
        "{err}"
    );
    assert!(err.contains("failing 0.1 of first attempts with 500 before processing (--seed 7)"));
}

#[test]
fn a_repeated_delivery_is_printed_once_and_a_failed_one_when_redelivered() {
    let listen = Listen::start(&["--secret", "s3cr3t", "--fail-rate", "1"]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let delivery = Outgoing::new(
        "ping",
        icr_webhooks_harness::samples::generate(&"ping".parse().unwrap(), 1, 1)
            .unwrap()
            .into_iter()
            .map(|payload| serde_json::to_vec(&payload).unwrap())
            .next()
            .unwrap(),
    );
    let statuses: Vec<Option<u16>> = runtime.block_on(async {
        let sender = Sender::new(SenderConfig::new(
            listen.url.clone(),
            Some(Secret::new("s3cr3t")),
        ))
        .unwrap();
        let mut statuses = Vec::new();
        for attempt in 1..=3 {
            statuses.push(sender.send_attempt(&delivery, attempt).await.status);
        }
        statuses
    });
    // Fail rate 1: every first attempt fails; its redelivery is processed,
    // and a third copy acknowledged without processing.
    assert_eq!(statuses, [Some(500), Some(200), Some(200)]);
    let (out, err) = listen.stop();
    assert_eq!(printed_guids(&out), vec![delivery.id]);
    assert!(
        err.contains("processed 1  duplicates acknowledged 1  in progress (409) 0  injected failures (500) 1  refused 0"),
        "{err}"
    );
}

#[test]
fn listen_refuses_a_fail_rate_outside_0_to_1() {
    for rate in ["1.5", "-0.1", "x", "NaN"] {
        let output = run(&["listen", "--secret", "s", &format!("--fail-rate={rate}")]);
        assert_eq!(output.status.code(), Some(2), "{rate}");
        let err = String::from_utf8(output.stderr).unwrap();
        assert!(err.contains("is not a fraction from 0 to 1"), "{err}");
    }
    let output = run(&["listen", "--secret", "s", "--body-timeout", "0"]);
    assert_eq!(output.status.code(), Some(2));
}

/// The secret, recognisable anywhere.
const CANARY: &str = "whsec_CANARY_LISTEN_8b3e1f";
/// In every body sent.
const MARKER: &str = "BODY_CANARY_LISTEN_a41c";

#[test]
fn verbose_listen_prints_no_secret_signature_or_body() {
    let listen = Listen::start(&[
        "--secret",
        CANARY,
        "--verbose",
        "--fail-rate",
        "1",
        "--body-timeout",
        "0.3",
    ]);
    let payload = format!(
        r#"{{"zen":"{MARKER}","hook_id":1,"hook":{{"id":1,"type":"App","name":"web","active":true,"events":[],"config":{{"url":"https://example.net/icr","content_type":"json","insecure_ssl":"0"}},"created_at":"2026-11-28T08:59:58Z","updated_at":"2026-11-28T08:59:58Z"}}}}"#
    );
    let config = SenderConfig::new(listen.url.clone(), Some(Secret::new(CANARY)));
    let mut deliveries = Vec::new();
    for carried in [ContentType::Json, ContentType::Form] {
        for _ in 0..4 {
            deliveries.push(Outgoing::new("ping", payload.clone()).with_content_type(carried));
        }
        // A 25 MiB body is slow to sign in a debug build: sent once below,
        // by its `Content-Length`.
        for fault in Fault::ALL
            .into_iter()
            .filter(|f| *f != Fault::OversizedBody)
        {
            deliveries.push(
                Outgoing::new("ping", payload.clone())
                    .with_content_type(carried)
                    .with_fault(fault),
            );
        }
    }
    // Every signature on the wire, and every one a correct sender would send.
    let mut signatures = Vec::new();
    for delivery in &deliveries {
        let wire = config.build(delivery);
        signatures.extend(
            wire.headers
                .iter()
                .filter(|(name, _)| *name == "X-ICR-Signature-256")
                .map(|(_, value)| value.clone()),
        );
        signatures.push(Secret::new(CANARY).sign(&wire.body).to_string());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let sender = Sender::new(config.clone()).unwrap();
        // Redelivered failures, then everything once more: duplicates.
        sender.send_all(deliveries.clone(), 4, 1, |_| {}).await;
        for delivery in &deliveries {
            sender.send_attempt(delivery, 9).await;
        }
        // A body over the limit by its length (413), and one that never
        // arrives in full (408).
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let address = listen
            .url
            .trim_start_matches("http://")
            .trim_end_matches("/webhook");
        for (length, status) in [(26_214_401, "413"), (100_000, "408")] {
            let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
            let mut head = format!(
                "POST /webhook HTTP/1.1\r\nHost: {address}\r\nContent-Length: {length}\r\n"
            );
            for (name, value) in &config.build(&deliveries[0]).headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            stream.write_all(head.as_bytes()).await.unwrap();
            stream.write_all(payload.as_bytes()).await.unwrap();
            let mut answer = vec![0; 12];
            stream.read_exact(&mut answer).await.unwrap();
            assert_eq!(
                String::from_utf8_lossy(&answer),
                format!("HTTP/1.1 {status}")
            );
        }
    });
    let (out, err) = listen.stop();
    let everything = format!("{out}{err}");
    for expected in [
        "not processed: 500 injected_failure",
        "not processed: 200 already_processed",
        "not processed: 401 signature_mismatch",
        "not processed: 401 missing_header",
        "not processed: 413 body_too_large",
        "not processed: 400 unexpected_shape",
        "not processed: 400 malformed_json",
        "not processed: 400 missing_payload_field",
        "not processed: 408 body_timeout",
    ] {
        assert!(
            everything.contains(expected),
            "no {expected:?} in:\n{everything}"
        );
    }
    assert!(
        !everything.contains(CANARY),
        "the secret shows:\n{everything}"
    );
    assert!(
        !everything.contains("CANARY_LISTEN"),
        "the secret shows:\n{everything}"
    );
    assert!(!everything.contains(MARKER), "a body shows:\n{everything}");
    for signature in &signatures {
        let hex = signature.trim_start_matches("sha256=");
        assert!(
            !everything.contains(&hex[..16]),
            "a signature shows:\n{everything}"
        );
    }
}
