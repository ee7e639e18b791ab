//! The `icr-webhooks` binary run as a process: each subcommand, its exit
//! codes, and `--help` snapshots (`UPDATE_SNAPSHOTS=1` rewrites them).

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use icr_webhooks_harness::sender::Fault;

const BIN: &str = env!("CARGO_BIN_EXE_icr-webhooks");
const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema/examples");
const CONTRACT_SECRET: &str = "whsec_Q7mN4rT8p3Xv2kLs9dE1";
const TRANSFER_SIG: &str =
    "sha256=6896b0dfa4a6a54664f6af2ed8627fe4e244b073ca31f2ccc48b77cb99056d21";

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(bytes) = stdin {
        input.write_all(bytes).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

/// How many event/action pairs the catalogue has, `ping` one of them.
fn pairs() -> usize {
    icr_webhooks::types::CATALOGUE
        .iter()
        .map(|spec| spec.keys().len())
        .sum()
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

#[test]
fn events_lists_every_key_sorted() {
    let output = run(&["events"], None);
    check_exit(&output, 0);
    let lines: Vec<String> = stdout(&output).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), pairs());
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted);
    assert!(lines.contains(&"ping".to_owned()));
    assert!(lines.contains(&"credit_transfer.completed".to_owned()));
    assert!(lines.contains(&"installation.new_permissions_accepted".to_owned()));
}

#[test]
fn sample_is_schema_valid_and_the_same_for_the_same_seed() {
    let sample = |seed: &str| {
        run(
            &[
                "sample",
                "credit_transfer.completed",
                "--seed",
                seed,
                "--count",
                "3",
            ],
            None,
        )
    };
    let first = sample("7");
    check_exit(&first, 0);
    assert_eq!(first.stdout, sample("7").stdout);
    assert_ne!(first.stdout, sample("8").stdout);
    let lines: Vec<String> = stdout(&first).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 3);
    for line in lines {
        let event = icr_webhooks::Event::from_slice("credit_transfer", line.as_bytes()).unwrap();
        assert_eq!(event.action(), Some("completed"));
        assert!(event.is_known());
    }
    check_exit(&run(&["sample", "no_such_event"], None), 2);
    check_exit(&run(&["sample", "credit_transfer.no_such_action"], None), 2);
}

#[test]
fn sign_prints_the_contract_test_vector() {
    let output = run(
        &["sign", "--secret", "It's a Secret to Everybody"],
        Some(b"Hello, World!"),
    );
    check_exit(&output, 0);
    assert_eq!(
        stdout(&output),
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17\n"
    );
    let file = format!("{EXAMPLES}/credit_transfer.completed.json");
    let output = run(&["sign", "--secret", CONTRACT_SECRET, &file], None);
    assert_eq!(stdout(&output), format!("{TRANSFER_SIG}\n"));
}

#[test]
fn verify_prints_the_typed_result_and_maps_exit_codes() {
    let file = format!("{EXAMPLES}/credit_transfer.completed.json");
    let guid = "8a1f6f2e-3b9c-4d7e-9f10-2c3d4e5f6a7b";
    let args = [
        "verify",
        "--secret",
        "old",
        "--secret",
        CONTRACT_SECRET,
        "--event",
        "credit_transfer",
    ];
    let output = run(
        &[
            &args[..],
            &["--signature", TRANSFER_SIG, "--delivery", guid, &file],
        ]
        .concat(),
        None,
    );
    check_exit(&output, 0);
    let printed: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(printed["event"], "credit_transfer");
    assert_eq!(printed["action"], "completed");
    assert_eq!(printed["delivery"], guid);
    assert_eq!(printed["known"], true);
    let original: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(printed["payload"], original);
    let bad_sig = "sha256=0000000000000000000000000000000000000000000000000000000000000000";
    check_exit(
        &run(
            &[&args[..], &["--signature", bad_sig, &file]].concat(),
            None,
        ),
        1,
    );
    check_exit(&run(&[&args[..], &[file.as_str()]].concat(), None), 1);
    let broken = b"{\"action\":\"completed\"";
    let sig = icr_webhooks::receive::Secret::new(CONTRACT_SECRET)
        .sign(broken)
        .to_string();
    check_exit(
        &run(
            &[&args[..], &["--signature", sig.as_str(), "-"]].concat(),
            Some(broken),
        ),
        3,
    );
    check_exit(&run(&["verify", "--event", "ping"], None), 2);
}

#[test]
fn listen_and_send_talk_to_each_other() {
    let mut listen = Command::new(BIN)
        .args([
            "listen",
            "--addr",
            "127.0.0.1:0",
            "--secret",
            "s3cr3t",
            "--store",
            "memory",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut banner = String::new();
    BufReader::new(listen.stderr.take().unwrap())
        .read_line(&mut banner)
        .unwrap();
    let url = banner
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_owned();
    let sent = run(
        &[
            "send",
            "--url",
            &url,
            "--secret",
            "s3cr3t",
            "--all",
            "--concurrency",
            "4",
        ],
        None,
    );
    check_exit(&sent, 0);
    let n = pairs();
    assert!(
        stdout(&sent).contains(&format!(
            "deliveries {n}  attempts {n}  delivered (2xx) {n}"
        )),
        "{}",
        stdout(&sent)
    );
    let refused = run(
        &[
            "send", "--url", &url, "--secret", "wrong", "--event", "ping",
        ],
        None,
    );
    check_exit(&refused, 1);
    assert!(
        stdout(&refused).contains("statuses {401: 1}"),
        "{}",
        stdout(&refused)
    );
    listen.kill().unwrap();
    let output = listen.wait_with_output().unwrap();
    let lines: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), n);
    for line in &lines {
        let keys: Vec<&String> = line.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["action", "delivery", "event"]);
    }
    check_exit(&run(&["send", "--url", &url, "--secret", "s"], None), 2);
}

#[test]
fn demo_passes() {
    let output = run(&["demo"], None);
    check_exit(&output, 0);
    let text = stdout(&output);
    // Every pair in both content types, and one delivery per fault.
    let rows = 2 * pairs() + Fault::ALL.len();
    assert!(
        text.contains(&format!("{rows}/{rows} as expected")),
        "{text}"
    );
    assert!(!text.contains("FAIL"), "{text}");
}

#[test]
fn help_matches_the_snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/help");
    for command in [
        "", "events", "sample", "sign", "verify", "send", "listen", "record", "inbox", "drift",
        "demo",
    ] {
        let mut args: Vec<&str> = command.split_whitespace().collect();
        args.push("--help");
        let output = run(&args, None);
        check_exit(&output, 0);
        let name = if command.is_empty() {
            "icr-webhooks"
        } else {
            command
        };
        let path = dir.join(format!("{name}.txt"));
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &output.stdout).unwrap();
        }
        assert_eq!(
            stdout(&output),
            std::fs::read_to_string(&path).unwrap_or_default(),
            "`{name} --help` changed; rerun with UPDATE_SNAPSHOTS=1 and review"
        );
    }
}
