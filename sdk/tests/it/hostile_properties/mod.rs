//! Property tests over hostile input, bounded in size and count so that
//! they run in the normal test run: arbitrary header sets and bodies
//! through every public entry point never panic and always give the exact
//! typed error the contract's order of checks calls for (computed here
//! step by step from the contract, independently of the receiver), and the
//! delivery store behaves as a simple model of it does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use icr_webhooks::once::{Clock, DeliveryKey, StoreError, Token};

use icr_webhooks::contract::header;
use icr_webhooks::once::{Claimed, DeliveryStore, MemoryStore};
use icr_webhooks::receive::{ContentType, DeliveryId, Secret, Signature};
use icr_webhooks::{Delivery, Event, ReceiveError, Receiver};
use proptest::prelude::*;

const SECRET: &str = "whsec_Q7mN4rT8p3Xv2kLs9dE1";
const LIMIT: u64 = 4096;

/// Header names: the delivery's own in any case, near misses, anything.
fn name() -> impl Strategy<Value = String> {
    let known = prop::sample::select(vec![
        header::EVENT,
        header::DELIVERY,
        header::SIGNATURE_256,
        header::CONTENT_TYPE,
        header::HOOK_ID,
    ]);
    prop_oneof![
        2 => (known, any::<u64>()).prop_map(|(name, seed)| {
            name.chars()
                .enumerate()
                .map(|(at, c)| if seed >> (at % 64) & 1 == 1 { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
                .collect()
        }),
        1 => prop::sample::select(vec!["X-ICR-Event ", "X_ICR_Event", "X-ICR-Delivery-ID", "Content-Type2", ""]).prop_map(str::to_owned),
        3 => "[ -~]{0,24}",
    ]
}

/// Header values: valid ones, near misses, control characters, any bytes.
fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "ping", "credit_transfer", "inventory", "carbon_offset", "PING", " ping\t", "",
            " \t", "ping\0", "\x1b[0m", "application/json", "Application/JSON; charset=utf-8",
            "application/x-www-form-urlencoded", "application/json, text/plain", "text/plain",
            "72d3162e-cc78-11e3-81ab-4c9367dc0958", "72D3162E-CC78-11E3-81AB-4C9367DC0958",
            " 72d3162e-cc78-11e3-81ab-4c9367dc0958 ", "{72d3162e-cc78-11e3-81ab-4c9367dc0958}",
            "sha256=", "SHA256=00", "60021", "18446744073709551616",
        ])
        .prop_map(|value| value.as_bytes().to_vec()),
        1 => "(sha256|SHA256|sha1)=[0-9a-fA-F]{62,66}".prop_map(String::into_bytes),
        1 => proptest::collection::vec(any::<u8>(), 0..48),
    ]
}

/// Hostile bodies: bytes, JSON of wrong shapes and values, deep nesting,
/// odd forms, a byte-order mark.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        2 => proptest::collection::vec(any::<u8>(), 0..300),
        2 => r#"\{("action"|"zen"|"hook"|"hook_id"|"x"): ?("completed"|"created"|1|-0|1e400|18446744073709551616|null|"\\ud800"|\[\]|\{\})(, "[a-z_]{1,8}": [0-9]{1,3}){0,3}\}"#
            .prop_map(String::into_bytes),
        1 => (1..2000_usize).prop_map(|depth| format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes()),
        1 => (1..400_usize).prop_map(|depth| format!(r#"{{"x":{}1{}}}"#, r#"{"a":"#.repeat(depth), "}".repeat(depth)).into_bytes()),
        1 => "(payload|%70ayload|PAYLOAD|x)=[a-zA-Z0-9%+{}\":,]{0,64}(&(payload|y)=[a-z%0-9]{0,8}){0,2}".prop_map(String::into_bytes),
        1 => Just(b"\xef\xbb\xbf{}".to_vec()),
    ]
}

/// A compact ping payload with the given `zen` and `hook_id` (raw JSON).
fn ping_json(zen: &str, hook_id: &str) -> Vec<u8> {
    format!(
        r#"{{"zen":{zen},"hook_id":{hook_id},"hook":{{"id":60021,"type":"App","name":"web","active":true,"events":[],"config":{{"url":"https://example.net/icr","content_type":"json","insecure_ssl":"0"}},"created_at":"2026-11-28T08:59:58Z","updated_at":"2026-11-28T08:59:58Z"}}}}"#
    )
    .into_bytes()
}

/// Payloads that are mostly right: a ping with odd values, and examples.
fn payload() -> impl Strategy<Value = Vec<u8>> {
    let zen = prop::sample::select(vec![
        r#""z""#,
        r#""a\u0000b""#,
        r#""\ud800""#,
        r#""\ud83c\udf32""#,
        "1",
        "null",
        "[[[]]]",
    ]);
    let hook_id = prop::sample::select(vec![
        "60021",
        "0",
        "-0",
        "1e400",
        "18446744073709551615",
        "18446744073709551616",
        "1.0",
        r#""1""#,
    ]);
    let examples = prop::sample::select(vec![
        "ping.json",
        "credit_transfer.completed.json",
        "inventory.created.json",
        "project.updated.json",
    ])
    .prop_map(crate::support::example);
    prop_oneof![
        3 => (zen, hook_id).prop_map(|(zen, hook_id)| ping_json(zen, hook_id)),
        1 => examples,
    ]
}

/// Bodies: payloads as JSON and as forms, and hostile bytes; with the
/// content type that fits them.
fn typed_body() -> impl Strategy<Value = (Vec<u8>, &'static [u8])> {
    const JSON: &[u8] = b"application/json";
    const FORM: &[u8] = b"application/x-www-form-urlencoded";
    prop_oneof![
        4 => payload().prop_map(|json| (json, JSON)),
        3 => payload().prop_map(|json| (icr_webhooks::receive::form_body(&json).into_bytes(), FORM)),
        1 => payload().prop_map(|json| (format!("{0}&{0}", icr_webhooks::receive::form_body(&json)).into_bytes(), FORM)),
        3 => body().prop_map(|body| (body, JSON)),
        1 => body().prop_map(|body| (body, FORM)),
    ]
}

/// Bodies of any kind.
fn any_body() -> impl Strategy<Value = Vec<u8>> {
    typed_body().prop_map(|(body, _)| body)
}

/// Zero, one (mostly) or two values for one of the delivery's headers.
fn slot(
    name: &'static str,
    values: Vec<&'static [u8]>,
) -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    let one = prop::sample::select(values);
    prop_oneof![
        1 => Just(Vec::new()),
        8 => one.clone().prop_map(move |value| vec![(name.to_owned(), value.to_vec())]),
        1 => (one.clone(), one).prop_map(move |(a, b)| {
            vec![(name.to_owned(), a.to_vec()), (name.to_lowercase(), b.to_vec())]
        }),
    ]
}

/// Header names and raw values, in order.
type Headers = Vec<(String, Vec<u8>)>;

/// A delivery: headers, body, and whether a correct signature is added.
/// Its own headers are there mostly once with mostly good values, so that
/// every check is reached, beside arbitrary others.
fn delivery() -> impl Strategy<Value = (Headers, Vec<u8>, bool)> {
    let event = slot(
        header::EVENT,
        vec![
            b"ping",
            b"ping",
            b"credit_transfer",
            b"inventory",
            b"project",
            b"carbon_offset",
            b" ping\t",
            b"PING",
            b"",
            b"p\xffng",
            b"ping\0",
        ],
    );
    let id = slot(
        header::DELIVERY,
        vec![
            b"72d3162e-cc78-11e3-81ab-4c9367dc0958",
            b"72d3162e-cc78-11e3-81ab-4c9367dc0958",
            b"72D3162E-CC78-11E3-81AB-4C9367DC0958",
            b" 72d3162e-cc78-11e3-81ab-4c9367dc0958\t",
            b"{72d3162e-cc78-11e3-81ab-4c9367dc0958}",
            b"72d3162ecc7811e381ab4c9367dc0958",
            b"",
        ],
    );
    let content_type = slot(
        header::CONTENT_TYPE,
        vec![
            b"application/json",
            b"application/json; charset=utf-8",
            b"application/x-www-form-urlencoded",
            b"APPLICATION/X-WWW-FORM-URLENCODED;charset=UTF-8",
            b"text/plain",
            b"application/json, text/plain",
            b"application/json\0",
            b"",
        ],
    );
    (
        event,
        id,
        content_type,
        proptest::collection::vec((name(), value()), 0..4),
        typed_body(),
        prop_oneof![3 => Just(true), 1 => Just(false)],
        prop_oneof![8 => Just(None), 1 => value().prop_map(Some)],
        prop_oneof![2 => Just(true), 1 => Just(false)],
    )
        .prop_map(
            |(event, id, content_type, others, (body, fits), sign, extra_signature, fit)| {
                let content_type = if fit {
                    vec![(header::CONTENT_TYPE.to_owned(), fits.to_vec())]
                } else {
                    content_type
                };
                let mut headers: Vec<(String, Vec<u8>)> = [event, id, content_type, others]
                    .into_iter()
                    .flatten()
                    .collect();
                if sign {
                    let signature = Secret::new(SECRET).sign(&body).to_string();
                    headers.push((header::SIGNATURE_256.to_owned(), signature.into_bytes()));
                }
                if let Some(value) = extra_signature {
                    headers.push(("x-icr-signature-256".to_owned(), value));
                }
                (headers, body, sign)
            },
        )
}

/// The values of the headers called `name` (any case), in order.
fn values<'a>(headers: &'a [(String, Vec<u8>)], name: &str) -> Vec<&'a [u8]> {
    headers
        .iter()
        .filter(|(have, _)| have.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_slice())
        .collect()
}

/// Without the spaces and tabs around it.
fn trim(value: &[u8]) -> &[u8] {
    let start = value
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t'))
        .unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t'))
        .map_or(start, |at| at + 1);
    &value[start..end.max(start)]
}

/// Contract 3 and 8.2: the signature check, written out.
fn signature_check(headers: &[(String, Vec<u8>)], body: &[u8]) -> Result<(), ReceiveError> {
    let found = values(headers, header::SIGNATURE_256);
    let [value] = found.as_slice() else {
        return Err(if found.is_empty() {
            ReceiveError::MissingHeader {
                header: header::SIGNATURE_256,
            }
        } else {
            ReceiveError::MalformedSignature
        });
    };
    let value = trim(value);
    let well_formed = value.len() == 71
        && value[..7].eq_ignore_ascii_case(b"sha256=")
        && value[7..].iter().all(u8::is_ascii_hexdigit);
    if !well_formed {
        return Err(ReceiveError::MalformedSignature);
    }
    let expected = Secret::new(SECRET).sign(body).to_string();
    if value[7..].eq_ignore_ascii_case(&expected.as_bytes()[7..]) {
        Ok(())
    } else {
        Err(ReceiveError::SignatureMismatch)
    }
}

/// The bytes of one form name or value, decoded (`+` a space, `%XX` a
/// byte, anything else as it is).
fn form_decode(encoded: &[u8]) -> Vec<u8> {
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::new();
    let mut at = 0;
    while at < encoded.len() {
        match encoded[at] {
            b'+' => out.push(b' '),
            b'%' if at + 2 < encoded.len()
                && hex(encoded[at + 1]).is_some()
                && hex(encoded[at + 2]).is_some() =>
            {
                let byte = hex(encoded[at + 1]).unwrap() * 16 + hex(encoded[at + 2]).unwrap();
                out.push(u8::try_from(byte).unwrap());
                at += 2;
            }
            other => out.push(other),
        }
        at += 1;
    }
    out
}

/// Contract 8, checks 3 to 6, written out: what a delivery whose size and
/// signature passed gives.
fn after_signature(headers: &[(String, Vec<u8>)], body: &[u8]) -> Result<Event, ReceiveError> {
    let content_types = values(headers, header::CONTENT_TYPE);
    let content_type = match content_types.as_slice() {
        [value] => {
            let media = trim(value.split(|b| *b == b';').next().unwrap_or_default());
            if media.eq_ignore_ascii_case(b"application/json") {
                ContentType::Json
            } else if media.eq_ignore_ascii_case(b"application/x-www-form-urlencoded") {
                ContentType::Form
            } else {
                let printable = !media.is_empty()
                    && media.len() <= 64
                    && media.iter().all(u8::is_ascii_graphic);
                return Err(ReceiveError::UnsupportedContentType {
                    media_type: printable
                        .then(|| String::from_utf8_lossy(media).to_ascii_lowercase()),
                });
            }
        }
        _ => return Err(ReceiveError::UnsupportedContentType { media_type: None }),
    };
    // Empty values count as absent.
    let events: Vec<&[u8]> = values(headers, header::EVENT)
        .into_iter()
        .map(trim)
        .filter(|value| !value.is_empty())
        .collect();
    let event = match events.as_slice() {
        [] => {
            return Err(ReceiveError::MissingHeader {
                header: header::EVENT,
            });
        }
        [one] => std::str::from_utf8(one).map_err(|_| ReceiveError::InvalidHeader {
            header: header::EVENT,
        })?,
        _ => {
            return Err(ReceiveError::InvalidHeader {
                header: header::EVENT,
            });
        }
    };
    let ids: Vec<&[u8]> = values(headers, header::DELIVERY)
        .into_iter()
        .map(trim)
        .filter(|value| !value.is_empty())
        .collect();
    match ids.as_slice() {
        [] => {
            return Err(ReceiveError::MissingHeader {
                header: header::DELIVERY,
            });
        }
        [one] => {
            let text = std::str::from_utf8(one).map_err(|_| ReceiveError::MalformedDeliveryId)?;
            text.parse::<DeliveryId>()?;
        }
        _ => {
            return Err(ReceiveError::InvalidHeader {
                header: header::DELIVERY,
            });
        }
    }
    let payload = match content_type {
        ContentType::Form => {
            let mut found = body
                .split(|b| *b == b'&')
                .filter(|pair| !pair.is_empty())
                .filter_map(|pair| {
                    let mut parts = pair.splitn(2, |b| *b == b'=');
                    let name = parts.next().unwrap_or_default();
                    (form_decode(name) == b"payload")
                        .then(|| form_decode(parts.next().unwrap_or_default()))
                });
            let first = found.next().ok_or(ReceiveError::MissingPayloadField)?;
            if found.next().is_some() {
                return Err(ReceiveError::RepeatedPayloadField);
            }
            first
        }
        _ => body.to_vec(),
    };
    Ok(Event::from_slice(event, &payload)?)
}

/// What `receive` must give, from the contract alone.
fn expected(
    headers: &[(String, Vec<u8>)],
    body: &[u8],
    signed: bool,
) -> Result<Event, ReceiveError> {
    if body.len() as u64 > LIMIT {
        return Err(ReceiveError::BodyTooLarge { limit: LIMIT });
    }
    if signed {
        signature_check(headers, body)?;
    }
    after_signature(headers, body)
}

fn receivers() -> (Receiver, Receiver) {
    let signed = Receiver::builder()
        .secret(SECRET)
        .max_body_size(LIMIT)
        .build()
        .unwrap();
    let unsigned = Receiver::builder()
        .accept_unsigned()
        .max_body_size(LIMIT)
        .build()
        .unwrap();
    (signed, unsigned)
}

/// Every error is one of the contract's statuses, with a short message.
#[track_caller]
fn typed(error: &ReceiveError) {
    assert!(
        matches!(error.status().as_u16(), 400 | 401 | 413 | 415),
        "{error:?}"
    );
    assert!(!error.code().is_empty());
    let text = error.to_string();
    assert!(!text.contains(SECRET) && text.len() < 400, "{text}");
}

mod orders;
#[allow(unused_imports)]
use orders::*;
