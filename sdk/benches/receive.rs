//! Criterion benchmarks of the receive path, each next to its floor or peer
//! in the same run: verify vs plain SHA-256 of the same bytes (and vs the
//! `hmac` crate alone), typed parse (owned and borrowed) vs
//! `serde_json::Value`, and the whole
//! receive call. `bench/ratios.py` turns the samples into ratios with min
//! and max.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hmac::{Hmac, Mac};
use icr_webhooks::receive::Secret;
use icr_webhooks::{Event, Receiver};
use sha2::{Digest, Sha256};
use std::hint::black_box;
use std::time::Duration;

const SECRET: &str = "whsec_bench_secret";
const FIXTURE_4K: &[u8] = include_bytes!("fixtures/credit_transfer_4k.json");
const FIXTURE_64K: &[u8] = include_bytes!("fixtures/credit_transfer_64k.json");

fn sizes() -> [(&'static str, usize); 4] {
    [
        ("1KiB", 1 << 10),
        ("16KiB", 16 << 10),
        ("1MiB", 1 << 20),
        ("25MiB", 26_214_400),
    ]
}

fn verify(c: &mut Criterion) {
    let receiver = Receiver::new(SECRET).unwrap();
    let secret = Secret::new(SECRET);
    let keyed = <Hmac<Sha256> as Mac>::new_from_slice(SECRET.as_bytes()).unwrap();
    let mut group = c.benchmark_group("verify");
    for (label, size) in sizes() {
        let body: Vec<u8> = (0..size)
            .map(|i| b"abcdefghijklmnopqrstuvwxyz{}[]:,\" "[i % 34])
            .collect();
        let header = secret.sign(&body).to_string();
        group.throughput(Throughput::Bytes(size as u64));
        if size > (1 << 20) {
            group
                .sample_size(10)
                .measurement_time(Duration::from_secs(8));
        } else {
            group
                .sample_size(50)
                .measurement_time(Duration::from_secs(3));
        }
        group.bench_with_input(BenchmarkId::new("sha256", label), &body, |b, body| {
            b.iter(|| Sha256::digest(black_box(body)));
        });
        // The floor the RustCrypto crates set: a keyed HMAC state cloned,
        // fed the body and finalized, with no header to read.
        group.bench_with_input(BenchmarkId::new("hmac_crate", label), &body, |b, body| {
            b.iter(|| {
                let mut mac = keyed.clone();
                mac.update(black_box(body));
                mac.finalize().into_bytes()
            });
        });
        group.bench_with_input(BenchmarkId::new("hmac_verify", label), &body, |b, body| {
            b.iter(|| {
                receiver
                    .verify_signature(Some(header.as_bytes()), black_box(body))
                    .unwrap()
            });
        });
    }
    group.finish();
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    group
        .sample_size(50)
        .measurement_time(Duration::from_secs(3));
    for (label, body) in [("4KiB", FIXTURE_4K), ("64KiB", FIXTURE_64K)] {
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_with_input(BenchmarkId::new("value", label), body, |b, body| {
            b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(body)).unwrap());
        });
        group.bench_with_input(BenchmarkId::new("typed", label), body, |b, body| {
            b.iter(|| Event::from_slice("credit_transfer", black_box(body)).unwrap());
        });
        group.bench_with_input(BenchmarkId::new("borrowed", label), body, |b, body| {
            b.iter(|| {
                icr_webhooks::Event::from_slice_borrowed("credit_transfer", black_box(body))
                    .unwrap()
            });
        });
    }
    group.finish();
}

fn receive(c: &mut Criterion) {
    let receiver = Receiver::new(SECRET).unwrap();
    let secret = Secret::new(SECRET);
    let mut group = c.benchmark_group("receive");
    group
        .sample_size(50)
        .measurement_time(Duration::from_secs(3));
    for (label, body) in [("4KiB", FIXTURE_4K), ("64KiB", FIXTURE_64K)] {
        let body = bytes::Bytes::from_static(body);
        let headers = vec![
            ("X-ICR-Event", "credit_transfer".to_owned()),
            (
                "X-ICR-Delivery",
                "0f6b6c55-7f3e-4b8e-9a43-2a4f9a7f0c11".to_owned(),
            ),
            ("X-ICR-Hook-ID", "60021".to_owned()),
            (
                "X-ICR-Hook-Installation-Target-Type",
                "integration".to_owned(),
            ),
            ("X-ICR-Hook-Installation-Target-ID", "1187".to_owned()),
            ("Content-Type", "application/json".to_owned()),
            ("X-ICR-Signature-256", secret.sign(&body).to_string()),
        ];
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_with_input(BenchmarkId::new("receive", label), &body, |b, body| {
            b.iter(|| receiver.receive(&headers, black_box(body.clone())).unwrap());
        });
        group.bench_with_input(
            BenchmarkId::new("verify_then_value", label),
            &body,
            |b, body| {
                b.iter(|| {
                    receiver
                        .verify_signature(Some(headers[6].1.as_bytes()), black_box(body))
                        .unwrap();
                    serde_json::from_slice::<serde_json::Value>(body).unwrap()
                });
            },
        );
    }
    group.finish();
}

/// A `credit_transfer.completed` payload of about `size` bytes: the 64 KiB
/// fixture with its credit blocks repeated.
fn large_payload(size: usize) -> Vec<u8> {
    let mut value: serde_json::Value = serde_json::from_slice(FIXTURE_64K).unwrap();
    let blocks = value["transfer"]["blocks"].as_array().unwrap().clone();
    let per_block = FIXTURE_64K.len() / blocks.len();
    let wanted = size / per_block;
    let mut all = Vec::with_capacity(wanted);
    while all.len() < wanted {
        all.extend(blocks.iter().cloned());
    }
    all.truncate(wanted);
    value["transfer"]["blocks"] = serde_json::Value::Array(all);
    let mut body = serde_json::to_vec_pretty(&value).unwrap();
    body.truncate(body.len().min(26_214_400));
    body
}

fn large(c: &mut Criterion) {
    let receiver = Receiver::new(SECRET).unwrap();
    let secret = Secret::new(SECRET);
    let body = bytes::Bytes::from(large_payload(25 << 20));
    let headers = vec![
        ("X-ICR-Event", "credit_transfer".to_owned()),
        (
            "X-ICR-Delivery",
            "0f6b6c55-7f3e-4b8e-9a43-2a4f9a7f0c11".to_owned(),
        ),
        ("Content-Type", "application/json".to_owned()),
        ("X-ICR-Signature-256", secret.sign(&body).to_string()),
    ];
    let mut group = c.benchmark_group("large");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_with_input(BenchmarkId::new("sequential", "25MiB"), &body, |b, body| {
        b.iter(|| {
            receiver.verify_size_and_signature(&headers, body).unwrap();
            icr_webhooks::Delivery::from_verified(&headers, body.clone()).unwrap()
        });
    });
    // `receive_async` runs the MAC and the parse side by side on the
    // blocking pool.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    group.bench_with_input(BenchmarkId::new("parallel", "25MiB"), &body, |b, body| {
        b.iter(|| {
            runtime
                .block_on(receiver.receive_async(&headers, body.clone()))
                .unwrap()
        });
    });
    group.finish();
}

criterion_group!(benches, verify, parse, receive, large);
criterion_main!(benches);
