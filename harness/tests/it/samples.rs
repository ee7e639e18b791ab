//! Samples as ICR writes them: every sample of every event and action, over
//! several seeds, from `samples::generate` and `Outgoing::sample`, is valid
//! under its schema, has its timestamps in UTC with `Z` and whole seconds,
//! in order and within the documented window, and holds no control
//! character, U+FFFD or escape; the same seed gives the same bytes; and
//! `sample --edge` still reaches the full space.

use std::process::Command;

use icr_webhooks::contract::EventKey;
use icr_webhooks_harness::samples;
use icr_webhooks_harness::sender::Outgoing;
use icr_webhooks_harness::strategy::{Mode, REALISTIC_NOW, REALISTIC_SINCE};
use serde_json::Value;

use crate::strategy::event_validators;

const BIN: &str = env!("CARGO_BIN_EXE_icr-webhooks");
const SEEDS: std::ops::Range<u64> = 0..4;
const PER_SEED: usize = 3;

/// Whether `text` is `YYYY-MM-DDTHH:MM:SSZ`.
fn is_icr_timestamp(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 20
        && bytes.iter().enumerate().all(|(i, &b)| match i {
            4 | 7 => b == b'-',
            10 => b == b'T',
            13 | 16 => b == b':',
            19 => b == b'Z',
            _ => b.is_ascii_digit(),
        })
}

/// Where a timestamp field must come in its object.
fn rank(field: &str) -> u8 {
    match field {
        "created_at" | "issued_at" | "requested_at" | "start" => 0,
        "updated_at" => 1,
        _ => 2,
    }
}

/// Checks every object and string of a realistic payload; `at` names it.
#[track_caller]
fn check_realistic(value: &Value, at: &str) {
    match value {
        Value::String(text) => {
            assert!(
                !text.chars().any(|c| c.is_control() || c == '\u{fffd}'),
                "{at}: {text:?}"
            );
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                check_realistic(item, &format!("{at}/{index}"));
            }
        }
        Value::Object(map) => {
            let timestamps: Vec<(&str, &str)> = map
                .iter()
                .filter(|(key, _)| key.ends_with("_at"))
                .filter_map(|(key, value)| Some((key.as_str(), value.as_str()?)))
                .collect();
            for (key, stamp) in &timestamps {
                assert!(is_icr_timestamp(stamp), "{at}/{key}: {stamp}");
                assert!(
                    (REALISTIC_SINCE..=REALISTIC_NOW).contains(stamp),
                    "{at}/{key}: {stamp}"
                );
            }
            let days: Vec<(&str, &str)> = ["start", "end"]
                .into_iter()
                .filter_map(|key| Some((key, map.get(key)?.as_str()?)))
                .collect();
            for list in [&timestamps, &days] {
                for (a, first) in list.iter() {
                    for (b, second) in list.iter() {
                        if rank(a) < rank(b) {
                            assert!(first <= second, "{at}: {a} {first} after {b} {second}");
                        }
                    }
                }
            }
            for (key, item) in map {
                check_realistic(item, &format!("{at}/{key}"));
            }
        }
        _ => {}
    }
}

#[test]
fn every_sample_is_valid_and_written_as_icr_writes_it() {
    let validators = event_validators();
    let mut checked = 0;
    for key in samples::keys() {
        let validator = &validators[key.event()];
        for seed in SEEDS {
            let mut payloads = samples::generate(&key, seed, PER_SEED).unwrap();
            let outgoing = Outgoing::sample(&key, seed).unwrap();
            payloads.push(serde_json::from_slice(&outgoing.payload).unwrap());
            for payload in payloads {
                let at = format!("{key} seed {seed}");
                if let Some(error) = validator.validate(&payload).err() {
                    panic!("{at}: {error} at {}", error.instance_path().as_str());
                }
                assert_eq!(
                    payload.get("action").and_then(Value::as_str),
                    key.action(),
                    "{at}"
                );
                check_realistic(&payload, &at);
                let json = serde_json::to_string(&payload).unwrap();
                assert!(!json.contains("\\u"), "{at}: {json}");
                checked += 1;
            }
        }
    }
    let per_key = SEEDS.count() * (PER_SEED + 1);
    assert_eq!(checked, samples::keys().len() * per_key);
}

#[test]
fn the_same_seed_gives_the_same_bytes() {
    for key in ["ping", "credit_transfer.completed", "project.updated"] {
        let key: EventKey = key.parse().unwrap();
        let bytes = |seed| serde_json::to_vec(&samples::generate(&key, seed, 3).unwrap()).unwrap();
        assert_eq!(bytes(11), bytes(11), "{key}");
        assert_ne!(bytes(11), bytes(12), "{key}");
        let sent = |seed| Outgoing::sample(&key, seed).unwrap().payload;
        assert_eq!(sent(11), sent(11), "{key}");
        let full = |seed| samples::generate_in(&key, seed, 3, Mode::Full).unwrap();
        assert_eq!(full(11), full(11), "{key}");
        assert_ne!(full(11), samples::generate(&key, 11, 3).unwrap(), "{key}");
    }
}

/// Whether `text` is a timestamp ICR would not write: with a fraction, an
/// offset other than `Z`, or lower-case `t` or `z`.
fn is_edge_timestamp(text: &str) -> bool {
    let Some(time) = text.get(10..) else {
        return false;
    };
    text.get(..4)
        .is_some_and(|y| y.bytes().all(|b| b.is_ascii_digit()))
        && (time.starts_with('T') || time.starts_with('t'))
        && !is_icr_timestamp(text)
}

fn edge_timestamps(value: &Value, found: &mut usize) {
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                if key.ends_with("_at") && item.as_str().is_some_and(is_edge_timestamp) {
                    *found += 1;
                }
                edge_timestamps(item, found);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| edge_timestamps(item, found)),
        _ => {}
    }
}

#[test]
fn sample_edge_draws_from_the_full_space_and_stays_valid() {
    let validators = event_validators();
    let mut edges = 0;
    let mut lines = 0;
    for seed in 0..3 {
        let output = Command::new(BIN)
            .args(["sample", "credit_transfer", "--edge", "--count", "5"])
            .args(["--seed", &seed.to_string()])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0));
        for line in String::from_utf8(output.stdout).unwrap().lines() {
            let payload: Value = serde_json::from_str(line).unwrap();
            assert!(validators["credit_transfer"].is_valid(&payload), "{line}");
            edge_timestamps(&payload, &mut edges);
            lines += 1;
        }
    }
    assert_eq!(lines, 15);
    assert!(
        edges >= 1,
        "no timestamp with a fraction or an offset in 15 payloads"
    );
    // Without --edge, none.
    let output = Command::new(BIN)
        .args(["sample", "credit_transfer", "--count", "5"])
        .output()
        .unwrap();
    let mut realistic = 0;
    for line in String::from_utf8(output.stdout).unwrap().lines() {
        edge_timestamps(&serde_json::from_str(line).unwrap(), &mut realistic);
    }
    assert_eq!(realistic, 0);
}
