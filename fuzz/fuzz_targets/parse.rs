//! Typed parsing: arbitrary JSON for an event of the catalogue (or an
//! unknown one) through `Event::from_slice`; the borrowed parse gives the
//! same outcome, and what parses serializes and parses back to the same
//! event.
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
    let owned = Event::from_slice(name, json);
    let borrowed = icr_webhooks::Event::from_slice_borrowed(name, json)
        .map(icr_webhooks::Event::into_owned);
    assert_eq!(borrowed, owned, "the borrowed parse differs");
    let Ok(event) = owned else {
        return;
    };
    assert_eq!(event.name(), name);
    let written = serde_json::to_vec(&event).expect("a parsed event serializes");
    let again = Event::from_slice(name, &written).expect("a serialized event parses");
    assert_eq!(again, event, "{}", String::from_utf8_lossy(&written));
});
