//! A verified delivery ([`Delivery`]: what the headers say, the raw body and
//! the typed [`Event`]) and the checks after the signature that make one:
//! content type, headers, body, typed parse.

use std::fmt;

use bytes::Bytes;

use crate::contract::header;
use crate::error::ReceiveError;
use crate::form;
use crate::headers::{Collected, ContentType, DeliveryId, HeaderSource, Slot};
use crate::observe::{self, Step};
use crate::types::Event;

/// Everything about a delivery but its typed payload: what the headers say
/// and the bytes as received.
#[derive(Clone)]
#[non_exhaustive]
pub struct DeliveryInfo {
    /// The delivery's GUID (`X-ICR-Delivery`).
    pub id: DeliveryId,
    /// The event name (`X-ICR-Event`), also for events this version does
    /// not know.
    pub event_name: String,
    /// The webhook's ID (`X-ICR-Hook-ID`), when present and a number.
    pub hook_id: Option<u64>,
    /// What the webhook belongs to (`X-ICR-Hook-Installation-Target-Type`,
    /// `integration`), when present.
    pub installation_target_type: Option<String>,
    /// The ICR App's ID (`X-ICR-Hook-Installation-Target-ID`), when present
    /// and a number.
    pub installation_target_id: Option<u64>,
    /// How the payload was carried.
    pub content_type: ContentType,
    /// The body exactly as received, the bytes the signature covers.
    pub body: Bytes,
    /// The JSON payload: the body itself for [`ContentType::Json`], the
    /// decoded `payload` field for [`ContentType::Form`].
    pub payload: Bytes,
}

impl fmt::Debug for DeliveryInfo {
    /// Shows the sizes of the body and payload, not their bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Size(usize);
        impl fmt::Debug for Size {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "<{} bytes>", self.0)
            }
        }
        f.debug_struct("DeliveryInfo")
            .field("id", &self.id)
            .field("event_name", &self.event_name)
            .field("hook_id", &self.hook_id)
            .field("installation_target_type", &self.installation_target_type)
            .field("installation_target_id", &self.installation_target_id)
            .field("content_type", &self.content_type)
            .field("body", &Size(self.body.len()))
            .field("payload", &Size(self.payload.len()))
            .finish()
    }
}

/// A verified delivery: its headers, its raw body and its typed payload.
///
/// Made by [`Receiver::receive`](crate::Receiver::receive) once the size and
/// signature are checked, or by [`Delivery::from_verified`] for a body
/// verified some other way.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Delivery {
    /// The GUID, the event name, the hook and installation IDs, the bytes.
    pub info: DeliveryInfo,
    /// The typed payload; [`Event::Unknown`] (or an action enum's `Unknown`)
    /// for what this version does not know.
    pub event: Event,
}

impl Delivery {
    /// Runs the checks that follow the signature on a body whose size and
    /// signature are already checked: content type (415), `X-ICR-Event` and
    /// `X-ICR-Delivery` (400), the form's `payload` field and the JSON
    /// (400), and the typed parse (400).
    ///
    /// Use [`Receiver::receive`](crate::Receiver::receive) unless the
    /// signature is checked elsewhere (a gateway, another library): this
    /// call trusts the body.
    ///
    /// # Errors
    /// [`ReceiveError::UnsupportedContentType`],
    /// [`ReceiveError::MissingHeader`], [`ReceiveError::InvalidHeader`],
    /// [`ReceiveError::MalformedDeliveryId`],
    /// [`ReceiveError::MissingPayloadField`],
    /// [`ReceiveError::RepeatedPayloadField`], [`ReceiveError::MalformedJson`]
    /// or [`ReceiveError::UnexpectedShape`], in that order of checking.
    pub fn from_verified<H: HeaderSource + ?Sized>(
        headers: &H,
        body: impl Into<Bytes>,
    ) -> Result<Self, ReceiveError> {
        Self::from_collected(Collected::from_source(headers), body.into())
    }

    pub(crate) fn from_collected(collected: Collected, body: Bytes) -> Result<Self, ReceiveError> {
        let info = DeliveryInfo::from_collected(collected, body)?;
        let event = observe::step(Step::Parse, || {
            Event::from_slice(&info.event_name, &info.payload)
        })?;
        Ok(Self { info, event })
    }

    /// The delivery's GUID.
    pub fn id(&self) -> &DeliveryId {
        &self.info.id
    }

    /// The event's action, for events that have one.
    pub fn action(&self) -> Option<&str> {
        self.event.action()
    }

    /// Splits the delivery into what the headers say and the typed payload.
    pub fn into_parts(self) -> (DeliveryInfo, Event) {
        (self.info, self.event)
    }
}

impl DeliveryInfo {
    /// Parses the payload into an [`Event<Text<'_>>`](Event), the same
    /// model whose strings point into [`payload`](Self::payload) instead of
    /// being copied (see [`Text`](crate::types::Text)). The outcome is the one
    /// [`Receiver::receive`](crate::Receiver::receive) gives, with the same
    /// errors, as a borrowed value; `into_owned` turns it into the owned
    /// [`Event`].
    ///
    /// ```
    /// # use icr_webhooks::Receiver;
    /// # use icr_webhooks::receive::Secret;
    /// use icr_webhooks::Event;
    ///
    /// # let receiver = Receiver::new("s")?;
    /// # let body = br#"{"zen":"Measure twice, retire once.","hook_id":60021,"hook":{"id":60021,"type":"App","name":"web","active":true,"events":["credit_transfer"],"config":{"url":"https://example.net/icr","content_type":"json","insecure_ssl":"0"},"created_at":"2026-11-28T08:59:58Z","updated_at":"2026-11-28T08:59:58Z"}}"#.to_vec();
    /// # let signature = Secret::new("s").sign(&body).to_string();
    /// # let headers = [
    /// #     ("X-ICR-Event", "ping"),
    /// #     ("X-ICR-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
    /// #     ("X-ICR-Signature-256", signature.as_str()),
    /// #     ("Content-Type", "application/json"),
    /// # ];
    /// let info = receiver.receive_unparsed(&headers, body)?;
    /// match info.parse_borrowed()? {
    ///     Event::Ping(ping) => assert!(ping.zen.is_borrowed()),
    ///     other => println!("{}: not handled", other.name()),
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`ReceiveError::MalformedJson`] or [`ReceiveError::UnexpectedShape`],
    /// as [`Receiver::receive`](crate::Receiver::receive) gives them.
    pub fn parse_borrowed(&self) -> Result<Event<crate::runtime::Text<'_>>, ReceiveError> {
        let parse = || Event::from_slice_borrowed(&self.event_name, &self.payload);
        Ok(observe::step(Step::Parse, parse)?)
    }

    /// The checks of [`Delivery::from_verified`] before the typed parse.
    pub(crate) fn from_collected(collected: Collected, body: Bytes) -> Result<Self, ReceiveError> {
        let content_type = match collected.content_type {
            Slot::One(Ok(content_type)) => content_type,
            Slot::One(Err(media_type)) => {
                return Err(ReceiveError::UnsupportedContentType { media_type });
            }
            Slot::Absent | Slot::Repeated => {
                return Err(ReceiveError::UnsupportedContentType { media_type: None });
            }
        };
        let event_name = match collected.event {
            Slot::One(Some(name)) => name,
            Slot::Absent => {
                return Err(ReceiveError::MissingHeader {
                    header: header::EVENT,
                });
            }
            Slot::One(None) | Slot::Repeated => {
                return Err(ReceiveError::InvalidHeader {
                    header: header::EVENT,
                });
            }
        };
        let id = match collected.delivery {
            Slot::One(Some(id)) => id,
            Slot::One(None) => return Err(ReceiveError::MalformedDeliveryId),
            Slot::Absent => {
                return Err(ReceiveError::MissingHeader {
                    header: header::DELIVERY,
                });
            }
            Slot::Repeated => {
                return Err(ReceiveError::InvalidHeader {
                    header: header::DELIVERY,
                });
            }
        };
        let payload = match content_type {
            ContentType::Json => body.clone(),
            ContentType::Form => Bytes::from(form::payload_field(&body)?),
        };
        Ok(Self {
            id,
            event_name,
            hook_id: collected.hook_id.into_value(),
            installation_target_type: collected.target_type.into_value(),
            installation_target_id: collected.target_id.into_value(),
            content_type,
            body,
            payload,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        let cases: &[(&str, Result<ContentType, Option<&str>>)] = &[
            ("application/json", Ok(ContentType::Json)),
            ("Application/JSON; charset=utf-8", Ok(ContentType::Json)),
            (" application/json ;charset=UTF-8", Ok(ContentType::Json)),
            (
                "application/json; charset=latin1; x=y",
                Ok(ContentType::Json),
            ),
            ("application/x-www-form-urlencoded", Ok(ContentType::Form)),
            (
                "APPLICATION/X-WWW-FORM-URLENCODED;charset=utf-8",
                Ok(ContentType::Form),
            ),
            ("text/plain", Err(Some("text/plain"))),
            ("Text/Plain; charset=utf-8", Err(Some("text/plain"))),
            ("application/jsonx", Err(Some("application/jsonx"))),
            (
                "multipart/form-data; boundary=x",
                Err(Some("multipart/form-data")),
            ),
            ("", Err(None)),
            (";charset=utf-8", Err(None)),
            ("application /json", Err(None)),
        ];
        for (value, expected) in cases {
            let expected = expected.map_err(|media| media.map(str::to_owned));
            assert_eq!(
                ContentType::from_header(value.as_bytes()),
                expected,
                "{value:?}"
            );
        }
        let long = format!("application/{}", "x".repeat(80));
        assert_eq!(ContentType::from_header(long.as_bytes()), Err(None));
    }

    #[test]
    fn delivery_ids() {
        let good = [
            "9b2e4c1a-0f3d-4e5b-8a7c-6d1e2f3a4b5c",
            "9B2E4C1A-0F3D-4E5B-8A7C-6D1E2F3A4B5C",
            "00000000-0000-0000-0000-000000000000",
        ];
        for text in good {
            let id: DeliveryId = text.parse().unwrap();
            assert_eq!(id.as_str(), text.to_ascii_lowercase());
            assert_eq!(id.to_string(), text.to_ascii_lowercase());
        }
        let bad = [
            "",
            "9b2e4c1a0f3d4e5b8a7c6d1e2f3a4b5c",
            "{9b2e4c1a-0f3d-4e5b-8a7c-6d1e2f3a4b5c}",
            "urn:uuid:9b2e4c1a-0f3d-4e5b-8a7c-6d1e2f3a4b5c",
            "9b2e4c1a-0f3d-4e5b-8a7c-6d1e2f3a4b5",
            "9b2e4c1a-0f3d-4e5b-8a7c-6d1e2f3a4b5cd",
            "9b2e4c1a-0f3d-4e5b-8a7c-6d1e2f3a4b5g",
            "9b2e4c1a-0f3d-4e5b-8a7c_6d1e2f3a4b5c",
            "9b2e4c1a-0f3d-4e5b-8a7c-6d1e2f3a4bé",
        ];
        for text in bad {
            assert_eq!(
                text.parse::<DeliveryId>(),
                Err(crate::headers::DeliveryIdError),
                "{text:?}"
            );
        }
    }

    #[test]
    fn a_delivery_id_is_lowered_into_a_buffer_as_the_parse_lowers_it() {
        use crate::headers::{DELIVERY_ID_LEN, lower_case_id};
        let mut out = [0; DELIVERY_ID_LEN];
        let upper = "9B2E4C1A-0F3D-4E5B-8A7C-6D1E2F3A4B5C";
        assert_eq!(
            lower_case_id(upper, &mut out),
            Some("9b2e4c1a-0f3d-4e5b-8a7c-6d1e2f3a4b5c")
        );
        assert_eq!(
            upper.parse::<DeliveryId>().map(|id| id.as_str().to_owned()),
            Ok("9b2e4c1a-0f3d-4e5b-8a7c-6d1e2f3a4b5c".to_owned())
        );
        // 36 bytes, the last two one character.
        assert_eq!(
            lower_case_id("9b2e4c1a-0f3d-4e5b-8a7c-6d1e2f3a4bé", &mut out),
            None
        );
        assert_eq!(
            lower_case_id("9b2e4c1a-0f3d-4e5b-8a7c-6d1e2f3a4b5", &mut out),
            None
        );
    }

    #[test]
    fn delivery_ids_borrow_as_str() {
        let mut seen = std::collections::HashSet::new();
        seen.insert(
            "9b2e4c1a-0f3d-4e5b-8a7c-6d1e2f3a4b5c"
                .parse::<DeliveryId>()
                .unwrap(),
        );
        assert!(seen.contains("9b2e4c1a-0f3d-4e5b-8a7c-6d1e2f3a4b5c"));
    }
}
