//! Allocations per delivery, counted with dhat: how many blocks and bytes one
//! `Receiver::receive` call allocates, next to what the typed parse of the
//! same payload allocates by itself. The difference is the receive path's
//! own cost: for a JSON body a few dozen bytes whatever the body's size
//! (the body is never copied); for a form body, one decode buffer (sized by
//! the form body). The last two columns are the same delivery through
//! `Receiver::receive_unparsed` and the borrowed parse.
//!
//! `cargo bench -p icr-webhooks --bench alloc`
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use icr_webhooks::Receiver;
use icr_webhooks::receive::Secret;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const SECRET: &str = "whsec_bench_secret";
const FIXTURES: [(&str, &[u8]); 2] = [
    ("4KiB", include_bytes!("fixtures/credit_transfer_4k.json")),
    ("64KiB", include_bytes!("fixtures/credit_transfer_64k.json")),
];

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let receiver = Receiver::new(SECRET).unwrap();
    let secret = Secret::new(SECRET);
    println!(
        "{:8} {:5} {:>9} {:>8} {:>10} {:>14} {:>14} {:>15} {:>16}",
        "payload",
        "body",
        "body B",
        "blocks",
        "bytes",
        "parse alone B",
        "receive extra B",
        "borrowed blocks",
        "borrowed bytes"
    );
    for (label, json) in FIXTURES {
        for (kind, body, media) in [
            ("json", json.to_vec(), "application/json"),
            (
                "form",
                icr_webhooks::receive::form_body(json).into_bytes(),
                "application/x-www-form-urlencoded",
            ),
        ] {
            let body = bytes::Bytes::from(body);
            let headers = vec![
                ("X-ICR-Event", "credit_transfer".to_owned()),
                (
                    "X-ICR-Delivery",
                    "0f6b6c55-7f3e-4b8e-9a43-2a4f9a7f0c11".to_owned(),
                ),
                ("Content-Type", media.to_owned()),
                ("X-ICR-Signature-256", secret.sign(&body).to_string()),
            ];
            // Warm up once, then count one call of each.
            drop(receiver.receive(&headers, body.clone()).unwrap());
            let before = dhat::HeapStats::get();
            let event = icr_webhooks::Event::from_slice("credit_transfer", json).unwrap();
            let parsed = dhat::HeapStats::get();
            drop(event);
            let parse_bytes = parsed.total_bytes - before.total_bytes;
            let before = dhat::HeapStats::get();
            let delivery = receiver.receive(&headers, body.clone()).unwrap();
            let after = dhat::HeapStats::get();
            drop(delivery);
            let blocks = after.total_blocks - before.total_blocks;
            let bytes = after.total_bytes - before.total_bytes;
            let extra = bytes.saturating_sub(parse_bytes);
            // The same delivery through `check` and the borrowed parse.
            let before = dhat::HeapStats::get();
            let info = receiver.receive_unparsed(&headers, body.clone()).unwrap();
            let event = info.parse_borrowed().unwrap();
            let after = dhat::HeapStats::get();
            drop(event);
            drop(info);
            let borrowed_blocks = after.total_blocks - before.total_blocks;
            let borrowed_bytes = after.total_bytes - before.total_bytes;
            println!(
                "{label:8} {kind:5} {:>9} {blocks:>8} {bytes:>10} {parse_bytes:>14} {extra:>14} {borrowed_blocks:>15} {borrowed_bytes:>16}",
                body.len()
            );
            match kind {
                "json" => assert!(
                    extra < 1024,
                    "receiving a {} byte JSON body allocated {extra} bytes beyond the parse: was the body copied?",
                    body.len()
                ),
                _ => assert!(
                    (extra as usize) < body.len() + 1024,
                    "receiving a form body allocated {extra} bytes beyond the parse: more than one decode buffer"
                ),
            }
        }
    }
}
