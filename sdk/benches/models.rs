//! What the string type of the public model costs: the real typed parse next
//! to the same `credit_transfer.completed` tree written out by hand with
//! each candidate string type, and next to the tokenizer alone, all on the
//! same bytes in one run. `bench/ratios.py` prints each against
//! `serde_json::Value`.
//!
//! - `string`: `String`, what typify emits.
//! - `compact`: `CompactString`, what the owned model ships (the real
//!   `typed` row should match it; it calibrates the hand-written tree).
//! - `cow`: `Cow<str>` borrowed from the body, as `Text<'a>` in the
//!   borrowed model is (the real `typed_borrowed` row should match it).
//! - `borrowed`: `&str`, zero-copy; an upper bound only, since it refuses
//!   any string with an escape in it.
//! - `ignored`: `serde::de::IgnoredAny`, serde_json's tokenizer with
//!   nothing built: the floor of any model on serde_json.
//!
//! `cargo bench -p icr-webhooks --bench models && python3 bench/ratios.py`
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    dead_code
)]

use chrono::{DateTime, Utc};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use icr_webhooks::Event;
use icr_webhooks::types::{CreditBlockCreditType, InventoryKind, TransferStatus, UserType};
use serde::Deserialize;
use std::borrow::Cow;
use std::hint::black_box;
use std::num::NonZeroU64;
use std::time::Duration;

const FIXTURE_4K: &[u8] = include_bytes!("fixtures/credit_transfer_4k.json");
const FIXTURE_64K: &[u8] = include_bytes!("fixtures/credit_transfer_64k.json");

/// The `credit_transfer.completed` tree with strings of type `$S`, field for
/// field as in `icr_webhooks::types` (the union at `destination` is the
/// `inventory` branch, which both fixtures use).
macro_rules! tree {
    ($model:ident, $($lt:lifetime)?, $S:ty $(, $bound:literal)?) => {
        mod $model {
            use super::*;
            #[derive(Deserialize)] $(#[serde(bound(deserialize = $bound))])?
            pub(crate) struct Payload<$($lt)?> { action: $S, transfer: Transfer<$($lt)?>, inventory: Inventory<$($lt)?>, organization: Organization<$($lt)?>, installation: InstallationRef<$($lt)?>, sender: User<$($lt)?> }
            #[derive(Deserialize)] $(#[serde(bound(deserialize = $bound))])?
            pub(crate) struct InstallationRef<$($lt)?> { id: NonZeroU64, node_id: $S }
            #[derive(Deserialize)] $(#[serde(bound(deserialize = $bound))])?
            pub(crate) struct Inventory<$($lt)?> { archived: bool, #[serde(deserialize_with = "icr_webhooks::__private::rfc3339")] created_at: DateTime<Utc>, credit_balance: u64, full_name: $S, id: NonZeroU64, kind: InventoryKind, name: $S, node_id: $S, owner: Organization<$($lt)?>, #[serde(deserialize_with = "icr_webhooks::__private::rfc3339")] updated_at: DateTime<Utc>, url: $S }
            #[derive(Deserialize)] $(#[serde(bound(deserialize = $bound))])?
            pub(crate) struct Organization<$($lt)?> { country: Option<$S>, id: NonZeroU64, login: $S, name: Option<$S>, node_id: $S, url: $S }
            #[derive(Deserialize)] $(#[serde(bound(deserialize = $bound))])?
            pub(crate) struct User<$($lt)?> { id: NonZeroU64, login: $S, name: Option<$S>, node_id: $S, #[serde(rename = "type")] type_: UserType, url: $S }
            #[derive(Deserialize)] $(#[serde(bound(deserialize = $bound))])?
            pub(crate) struct Transfer<$($lt)?> { blocks: Vec<CreditBlock<$($lt)?>>, #[serde(deserialize_with = "icr_webhooks::__private::rfc3339_opt")] completed_at: Option<DateTime<Utc>>, #[serde(deserialize_with = "icr_webhooks::__private::rfc3339")] created_at: DateTime<Utc>, destination: Destination<$($lt)?>, id: NonZeroU64, initiated_by: User<$($lt)?>, memo: Option<$S>, node_id: $S, quantity: NonZeroU64, source: InventoryRef<$($lt)?>, status: TransferStatus, #[serde(deserialize_with = "icr_webhooks::__private::rfc3339")] updated_at: DateTime<Utc> }
            #[derive(Deserialize)] $(#[serde(bound(deserialize = $bound))])?
            pub(crate) struct Destination<$($lt)?> { kind: $S, inventory: InventoryRef<$($lt)?> }
            #[derive(Deserialize)] $(#[serde(bound(deserialize = $bound))])?
            pub(crate) struct InventoryRef<$($lt)?> { full_name: $S, id: NonZeroU64, name: $S, node_id: $S }
            #[derive(Deserialize)] $(#[serde(bound(deserialize = $bound))])?
            pub(crate) struct CreditBlock<$($lt)?> { corresponding_adjustment: bool, credit_type: CreditBlockCreditType, labels: Vec<$S>, project: ProjectRef<$($lt)?>, quantity: NonZeroU64, serial_end: $S, serial_start: $S, vintage: u16 }
            #[derive(Deserialize)] $(#[serde(bound(deserialize = $bound))])?
            pub(crate) struct ProjectRef<$($lt)?> { country: $S, id: NonZeroU64, name: $S, registry_reference: $S }
        }
    };
}

tree!(string, , String);
tree!(compact, , icr_webhooks::types::CompactString);
tree!(cow, 'a, Text<'a>, "'de: 'a");
tree!(borrowed, 'a, &'a str);

/// A `Cow<str>` that borrows from the body whenever the string has no
/// escape (serde's `Cow` impl always copies unless the field is marked
/// `#[serde(borrow)]`, which a type parameter cannot carry).
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

fn models(c: &mut Criterion) {
    let mut group = c.benchmark_group("models");
    group
        .sample_size(50)
        .measurement_time(Duration::from_secs(3));
    for (label, body) in [("4KiB", FIXTURE_4K), ("64KiB", FIXTURE_64K)] {
        // Each hand-written tree must read the fixture, or its row means
        // nothing.
        let text = std::str::from_utf8(body).unwrap();
        serde_json::from_str::<string::Payload>(text).unwrap();
        serde_json::from_str::<borrowed::Payload<'_>>(text).unwrap();
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_with_input(BenchmarkId::new("value", label), body, |b, body| {
            b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(body)).unwrap());
        });
        group.bench_with_input(BenchmarkId::new("typed", label), body, |b, body| {
            b.iter(|| Event::from_slice("credit_transfer", black_box(body)).unwrap());
        });
        group.bench_with_input(
            BenchmarkId::new("typed_borrowed", label),
            body,
            |b, body| {
                b.iter(|| {
                    icr_webhooks::Event::from_slice_borrowed("credit_transfer", black_box(body))
                        .unwrap()
                });
            },
        );
        macro_rules! model {
            ($name:literal, $ty:ty) => {
                group.bench_with_input(BenchmarkId::new($name, label), body, |b, body| {
                    b.iter(|| {
                        let text = simdutf8::basic::from_utf8(black_box(body)).unwrap();
                        serde_json::from_str::<$ty>(text).unwrap()
                    });
                });
            };
        }
        model!("string", string::Payload);
        model!("compact", compact::Payload);
        model!("cow", cow::Payload<'_>);
        model!("borrowed", borrowed::Payload<'_>);
        model!("ignored", serde::de::IgnoredAny);
    }
    group.finish();
}

criterion_group!(benches, models);
criterion_main!(benches);
