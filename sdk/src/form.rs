//! `form` deliveries: the `payload` field of an
//! `application/x-www-form-urlencoded` body, decoded byte for byte (`+` is a
//! space, `%XX` a byte) as the WHATWG URL standard's form parser does but
//! without its lossy UTF-8 step, so that invalid UTF-8 stays invalid for the
//! JSON parser to refuse; and [`form_body`], the sender's side.

use crate::error::ReceiveError;

/// The name of the form field that holds the JSON payload.
const PAYLOAD: &[u8] = b"payload";

/// Decodes the value of the one `payload` field of a form body.
///
/// # Errors
/// [`ReceiveError::MissingPayloadField`] when there is none,
/// [`ReceiveError::RepeatedPayloadField`] when there are several.
pub(crate) fn payload_field(body: &[u8]) -> Result<Vec<u8>, ReceiveError> {
    let mut found: Option<Vec<u8>> = None;
    for pair in body.split(|byte| *byte == b'&') {
        if pair.is_empty() {
            continue;
        }
        let (name, value) = match pair.iter().position(|byte| *byte == b'=') {
            Some(at) => {
                let (name, rest) = pair.split_at(at);
                (name, rest.get(1..).unwrap_or_default())
            }
            None => (pair, &[][..]),
        };
        if !Decode::new(name).eq(PAYLOAD.iter().copied()) {
            continue;
        }
        if found.is_some() {
            return Err(ReceiveError::RepeatedPayloadField);
        }
        let mut decoded = Vec::with_capacity(value.len());
        decoded.extend(Decode::new(value));
        found = Some(decoded);
    }
    found.ok_or(ReceiveError::MissingPayloadField)
}

/// The bytes of a percent-encoded form name or value, decoded.
struct Decode<'a> {
    rest: &'a [u8],
}

impl<'a> Decode<'a> {
    fn new(encoded: &'a [u8]) -> Self {
        Self { rest: encoded }
    }
}

impl Iterator for Decode<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        let (&first, rest) = self.rest.split_first()?;
        self.rest = rest;
        match first {
            b'+' => Some(b' '),
            b'%' => {
                if let [high, low, tail @ ..] = rest {
                    if let (Some(high), Some(low)) = (hex(*high), hex(*low)) {
                        self.rest = tail;
                        return Some((high << 4) | low);
                    }
                }
                Some(b'%')
            }
            other => Some(other),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.rest.len().div_ceil(3), Some(self.rest.len()))
    }
}

fn hex(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// Makes the body of a `form` delivery, `payload=` and the JSON
/// percent-encoded: the sender's side of form decoding, for tests and
/// senders. Letters, digits and `*-._` stay, a space becomes `+`, every
/// other byte `%XX` (upper case), as an HTML form does.
///
/// ```
/// assert_eq!(icr_webhooks::receive::form_body(b"{\"a\": 1}"), "payload=%7B%22a%22%3A+1%7D");
/// ```
pub fn form_body(json: &[u8]) -> String {
    let mut body = String::with_capacity(8 + json.len() * 3);
    body.push_str("payload=");
    encode_value(json, &mut body);
    body
}

fn encode_value(bytes: &[u8], out: &mut String) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in bytes {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                for nibble in [byte >> 4, byte & 0x0f] {
                    let digit = DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0');
                    out.push(char::from(digit));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(body: &str, expected: Result<&[u8], ReceiveError>) {
        let decoded = payload_field(body.as_bytes());
        assert_eq!(
            decoded.as_deref().map_err(Clone::clone),
            expected,
            "{body:?}"
        );
    }

    #[test]
    fn decodes_the_payload_field() {
        check("payload=%7B%7D", Ok(b"{}"));
        check("payload=a+b%20c", Ok(b"a b c"));
        check("a=1&payload=x&b=2", Ok(b"x"));
        check("&&payload=x&&", Ok(b"x"));
        check("payload=", Ok(b""));
        check("payload", Ok(b""));
        check("payload=a=b", Ok(b"a=b"));
        check("pay%6Coad=x", Ok(b"x"));
        check("payload=%zz%4", Ok(b"%zz%4"));
        check("payload=%", Ok(b"%"));
        check("payload=%ff%FE", Ok(&[0xff, 0xfe]));
        check("payload=%C3%A9", Ok("é".as_bytes()));
    }

    #[test]
    fn refuses_missing_and_repeated_fields() {
        check("", Err(ReceiveError::MissingPayloadField));
        check("payloads=x", Err(ReceiveError::MissingPayloadField));
        check("Payload=x", Err(ReceiveError::MissingPayloadField));
        check("{\"zen\":1}", Err(ReceiveError::MissingPayloadField));
        check(
            "payload=a&payload=b",
            Err(ReceiveError::RepeatedPayloadField),
        );
        check(
            "payload=a&pay%6coad=b",
            Err(ReceiveError::RepeatedPayloadField),
        );
    }

    #[test]
    fn encode_then_decode_round_trips() {
        let all: Vec<u8> = (0..=255).collect();
        let body = form_body(&all);
        assert_eq!(payload_field(body.as_bytes()).unwrap(), all);
        assert_eq!(form_body(b"{\"a\": 1}"), "payload=%7B%22a%22%3A+1%7D");
    }
}
