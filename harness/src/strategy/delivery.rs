//! Full deliveries: a schema-valid payload as the sender's [`Outgoing`]
//! (a fresh GUID, the event, the compact JSON bytes that get signed, json or
//! form), so that [`SenderConfig::build`](crate::sender::SenderConfig::build)
//! signs it with the SDK's signer exactly as the sender does.

use bytes::Bytes;
use icr_webhooks::receive::ContentType;
use proptest::prelude::*;
use serde_json::Value;

use super::values::{self, Gen};
use crate::sender::Outgoing;

/// Deliveries of the payloads drawn from `payloads`.
pub(crate) fn deliveries(payloads: Gen<(String, Option<String>, Value)>) -> Gen<Outgoing> {
    let content_type = values::weighted(vec![
        (3, Just(ContentType::Json).sboxed()),
        (1, Just(ContentType::Form).sboxed()),
    ]);
    (payloads, any::<u128>(), content_type)
        .prop_map(|((event, action, payload), guid, content_type)| {
            let id = uuid::Builder::from_random_bytes(guid.to_le_bytes())
                .into_uuid()
                .hyphenated()
                .to_string();
            Outgoing {
                id,
                event,
                action,
                // Serialized once: these bytes are what gets signed.
                payload: Bytes::from(payload.to_string()),
                content_type,
                fault: None,
                recorded: None,
                duplicate: None,
            }
        })
        .sboxed()
}
