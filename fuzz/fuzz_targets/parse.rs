//! Typed parsing: arbitrary JSON for an event of the catalogue (or an
//! unknown one) through `Event::from_slice`; what parses serializes and
//! parses back to the same event.
#![no_main]

use icr_webhooks::Event;
use icr_webhooks::types::CATALOGUE;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, json)) = data.split_first() else {
        return;
    };
    let name = CATALOGUE
        .get(usize::from(pick) % (CATALOGUE.len() + 1))
        .map_or("fuzz_unknown_event", |spec| spec.name);
    let Ok(event) = Event::from_slice(name, json) else {
        return;
    };
    assert_eq!(event.name(), name);
    let written = serde_json::to_vec(&event).expect("a parsed event serializes");
    let again = Event::from_slice(name, &written).expect("a serialized event parses");
    assert_eq!(again, event, "{}", String::from_utf8_lossy(&written));
});
