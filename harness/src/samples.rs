//! Seeded samples: schema-valid payloads for an `EVENT[.ACTION]` key, the
//! same for the same seed, drawn from the schema strategies as ICR writes
//! them ([`Mode::Realistic`]) or over the full space ([`Mode::Full`]).
//! Behind `icr-webhooks sample`, `send` and `demo`.

use icr_webhooks::contract::EventKey;
use proptest::strategy::{Strategy as _, ValueTree as _};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::Value;

use crate::strategy::{Mode, SchemaStrategies, StrategyError};

/// Every `event.action` of the catalogue (`ping` bare), sorted.
pub fn keys() -> Vec<EventKey> {
    let mut keys: Vec<EventKey> = icr_webhooks::types::CATALOGUE
        .iter()
        .flat_map(icr_webhooks::types::EventSpec::keys)
        .collect();
    keys.sort();
    keys
}

/// Why samples could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SampleError {
    /// The key names no event or action of the schema.
    #[error("unknown event or action `{key}` (see `icr-webhooks events`)")]
    UnknownKey {
        /// The key as given.
        key: String,
    },
    /// The schema strategies could not be built or used.
    #[error("cannot generate from the schema")]
    Strategy(#[from] StrategyError),
    /// proptest could not draw a value.
    #[error("cannot draw a sample: {reason}")]
    Draw {
        /// What proptest reported.
        reason: String,
    },
}

/// `count` payloads for `key` (`event.action`, or `event` for any of its
/// actions) as ICR writes them ([`Mode::Realistic`]), drawn with a
/// generator seeded by `seed`: the same bytes for the same seed.
///
/// # Errors
/// [`SampleError::UnknownKey`] for a key outside the schema, or a strategy
/// failure.
pub fn generate(key: &EventKey, seed: u64, count: usize) -> Result<Vec<Value>, SampleError> {
    generate_in(key, seed, count, Mode::Realistic)
}

/// `count` payloads for `key`, as [`generate`] makes them but drawn in
/// `mode`: [`Mode::Full`] for the whole space the schema allows.
///
/// # Errors
/// As [`generate`].
pub fn generate_in(
    key: &EventKey,
    seed: u64,
    count: usize,
    mode: Mode,
) -> Result<Vec<Value>, SampleError> {
    let strategies = SchemaStrategies::bundled()?;
    let (event, action) = (key.event(), key.action());
    let actions: Vec<Option<&str>> = strategies
        .pairs()
        .into_iter()
        .filter(|(e, a)| *e == event && (action.is_none() || *a == action))
        .map(|(_, a)| a)
        .collect();
    if actions.is_empty() {
        return Err(SampleError::UnknownKey {
            key: key.to_string(),
        });
    }
    let mut runner = runner(seed);
    let mut out = Vec::with_capacity(count);
    for index in 0..count {
        let Some(action) = actions.get(index % actions.len()).copied() else {
            break;
        };
        let strategy = strategies.payload_in(event, action, mode)?;
        let tree = strategy
            .new_tree(&mut runner)
            .map_err(|reason| SampleError::Draw {
                reason: reason.to_string(),
            })?;
        out.push(tree.current());
    }
    Ok(out)
}

/// A test runner whose random numbers depend only on `seed`.
fn runner(seed: u64) -> TestRunner {
    let mut bytes = [0_u8; 32];
    for (slot, byte) in bytes.iter_mut().zip(seed.to_le_bytes().iter().cycle()) {
        *slot = *byte;
    }
    TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    )
}
