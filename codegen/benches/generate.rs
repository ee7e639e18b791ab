//! How long regenerating every type takes: bundle, model, typify, emit and
//! format, from the schema files in memory to the output texts (the target
//! is under 2 s). `cargo bench -p icr-webhooks-codegen`
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

fn generate(c: &mut Criterion) {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema");
    let files = icr_webhooks_codegen::bundle::read_dir(&schema).unwrap();
    let mut group = c.benchmark_group("codegen");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("generate_all", |b| {
        b.iter(|| icr_webhooks_codegen::generate_from_files(&files).unwrap());
    });
    group.bench_function("read_and_generate_all", |b| {
        b.iter(|| icr_webhooks_codegen::generate(&schema).unwrap());
    });
    group.finish();
}

criterion_group!(benches, generate);
criterion_main!(benches);
