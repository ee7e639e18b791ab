//! Typed parsing: arbitrary JSON for an event of the catalogue (or an
//! unknown one) through `Event::from_slice`; the borrowed parse gives the
//! same outcome, what parses serializes and parses back to the same event,
//! and what parses holds `null` in none of its optional, non-nullable
//! properties (the harness's schema walk is the oracle).
#![no_main]

use std::sync::LazyLock;

use icr_webhooks::Event;
use icr_webhooks::types::CATALOGUE;
use icr_webhooks_harness::strategy::SchemaStrategies;
use libfuzzer_sys::fuzz_target;

static STRATEGIES: LazyLock<SchemaStrategies> =
    LazyLock::new(|| SchemaStrategies::bundled().expect("the bundled schema compiles"));

fuzz_target!(|data: &[u8]| {
    let Some((&pick, json)) = data.split_first() else {
        return;
    };
    let name = CATALOGUE
        .get(usize::from(pick) % (CATALOGUE.len() + 1))
        .map_or("fuzz_unknown_event", |spec| spec.name);
    let owned = Event::from_slice(name, json);
    let borrowed = Event::from_slice_borrowed(name, json).map(Event::into_owned);
    assert_eq!(borrowed, owned, "the borrowed parse differs");
    let Ok(event) = owned else {
        return;
    };
    assert_eq!(event.name(), name);
    if event.is_known() {
        let value: serde_json::Value = serde_json::from_slice(json).expect("what parses is JSON");
        let fields = STRATEGIES
            .optional_fields(name, event.action(), &value)
            .expect("a known event and action");
        for field in fields {
            assert!(
                value.pointer(&field.pointer).is_some_and(|v| !v.is_null()),
                "null accepted at {}",
                field.path
            );
        }
    }
    let written = serde_json::to_vec(&event).expect("a parsed event serializes");
    let again = Event::from_slice(name, &written).expect("a serialized event parses");
    assert_eq!(again, event, "{}", String::from_utf8_lossy(&written));
});
