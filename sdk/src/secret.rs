//! Webhook secrets and `X-ICR-Signature-256` signatures: the one HMAC-SHA256
//! code path that both signs (the sender's side) and verifies (the
//! receiver's side), so the two can never disagree.

use std::fmt;
use std::sync::OnceLock;

use hmac::digest::KeyInit;
use hmac::digest::generic_array::GenericArray;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

type HmacSha256 = Hmac<Sha256>;

/// The HMAC-SHA256 block size: keys are zero-padded (or hashed) to it.
const BLOCK: usize = 64;
/// The length of an HMAC-SHA256 tag.
const TAG: usize = 32;
/// The prefix of an `X-ICR-Signature-256` value.
const PREFIX: &[u8] = b"sha256=";

/// A webhook secret, ready to sign and verify.
///
/// The secret's bytes are turned into a keyed HMAC-SHA256 state once, when
/// the `Secret` is made, and then wiped; each signature or check clones that
/// state instead of keying again. The keyed state is key material too (it
/// lets anyone who holds it forge signatures), so it is overwritten when the
/// `Secret` is dropped. The per-delivery copy lives for the length of one
/// MAC and is not overwritten: doing so costs two SHA-256 blocks, a tenth of
/// the time of verifying a 1 KiB body.
///
/// `Debug` prints `Secret(<redacted>)` and there is no `Display`: a secret
/// cannot end up in a log by accident.
///
/// ```
/// use icr_webhooks::receive::Secret;
///
/// let secret = Secret::new("It's a Secret to Everybody");
/// let signature = secret.sign(b"Hello, World!");
/// assert_eq!(
///     signature.to_string(),
///     "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
/// );
/// assert!(secret.verify(&signature, b"Hello, World!"));
/// assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
/// ```
#[derive(Clone)]
pub struct Secret {
    mac: Keyed,
    empty: bool,
}

impl Secret {
    /// Prepares a secret from its UTF-8 text (or any bytes): the HMAC key is
    /// exactly these bytes, as ICR uses them. The bytes handed over are
    /// wiped once the key is prepared.
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        let mut bytes = secret.into();
        let secret = Self {
            mac: Keyed::new(&bytes),
            empty: bytes.is_empty(),
        };
        bytes.zeroize();
        secret
    }

    /// Whether the secret is the empty string (which ICR treats as no
    /// secret at all, and a [`Receiver`](crate::Receiver) refuses).
    pub fn is_empty(&self) -> bool {
        self.empty
    }

    /// Signs `body` as ICR does: HMAC-SHA256 over the bytes exactly as given.
    ///
    /// The sender's side of [`verify`](Self::verify); its
    /// [`Display`](Signature#impl-Display-for-Signature) is the
    /// `X-ICR-Signature-256` header value.
    pub fn sign(&self, body: &[u8]) -> Signature {
        let mut mac = self.mac.0.clone();
        mac.update(body);
        Signature(mac.finalize().into_bytes().into())
    }

    /// Whether `signature` is this secret's signature of `body`, compared in
    /// constant time.
    pub fn verify(&self, signature: &Signature, body: &[u8]) -> bool {
        let mut mac = self.mac.0.clone();
        mac.update(body);
        let tag: [u8; TAG] = mac.finalize().into_bytes().into();
        // Compared in constant time as four 64-bit words rather than 32
        // bytes: the same guarantee, an eighth of the steps.
        bool::from(words(&tag).ct_eq(&words(&signature.0)))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl From<&str> for Secret {
    fn from(secret: &str) -> Self {
        Self::new(secret)
    }
}

impl From<String> for Secret {
    fn from(secret: String) -> Self {
        Self::new(secret)
    }
}

impl From<Vec<u8>> for Secret {
    fn from(secret: Vec<u8>) -> Self {
        Self::new(secret)
    }
}

/// A keyed HMAC-SHA256 state that is overwritten when dropped.
///
/// `hmac` and `sha2` do not implement `Zeroize`, and `unsafe` is forbidden
/// here, so the state is replaced in place with the state of an all-zero key
/// and the write is kept alive with [`std::hint::black_box`]. That is a best
/// effort: copies the compiler made while moving the value are out of reach.
#[derive(Clone)]
struct Keyed(HmacSha256);

impl Keyed {
    /// Keys HMAC-SHA256 with `key`, as RFC 2104 does: a key longer than the
    /// block is hashed first, a shorter one is zero-padded.
    fn new(key: &[u8]) -> Self {
        let mut block = [0_u8; BLOCK];
        if key.len() > BLOCK {
            let mut digest = Sha256::digest(key);
            for (slot, byte) in block.iter_mut().zip(digest.iter()) {
                *slot = *byte;
            }
            digest.as_mut_slice().zeroize();
        } else {
            for (slot, byte) in block.iter_mut().zip(key) {
                *slot = *byte;
            }
        }
        let mac = <HmacSha256 as KeyInit>::new(GenericArray::from_slice(&block));
        block.zeroize();
        Self(mac)
    }
}

impl Drop for Keyed {
    fn drop(&mut self) {
        static BLANK: OnceLock<HmacSha256> = OnceLock::new();
        let blank = BLANK.get_or_init(|| <HmacSha256 as KeyInit>::new(&GenericArray::default()));
        self.0 = blank.clone();
        std::hint::black_box(&mut self.0);
    }
}

/// An HMAC-SHA256 signature: the value of `X-ICR-Signature-256`.
///
/// `Display` writes the header value, `sha256=` and 64 lowercase hex digits;
/// [`Signature::from_header`] reads one.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature([u8; TAG]);

/// An `X-ICR-Signature-256` value that is not `sha256=` and 64 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the signature header is not `sha256=` and 64 hex digits")]
pub struct SignatureError;

impl Signature {
    /// The 32 bytes of the HMAC.
    pub fn as_bytes(&self) -> &[u8; TAG] {
        &self.0
    }

    /// Makes a signature from the 32 bytes of an HMAC.
    pub fn from_bytes(bytes: [u8; TAG]) -> Self {
        Self(bytes)
    }

    /// Reads an `X-ICR-Signature-256` value: `sha256=` (in any case) and 64
    /// hex digits (in either case), with surrounding spaces and tabs ignored.
    ///
    /// # Errors
    /// [`SignatureError`] for anything else (a receiver answers it with
    /// [`ReceiveError::MalformedSignature`](crate::ReceiveError::MalformedSignature)).
    pub fn from_header(value: &[u8]) -> Result<Self, SignatureError> {
        let value = trim_ows(value);
        let Some((prefix, digits)) = value.split_at_checked(PREFIX.len()) else {
            return Err(SignatureError);
        };
        if !prefix.eq_ignore_ascii_case(PREFIX) || digits.len() != TAG * 2 {
            return Err(SignatureError);
        }
        // const-hex decodes both cases, with SIMD where the CPU has it. It
        // would also strip a `0x`, but the length is checked first, so
        // `sha256=0x` and 62 digits is refused.
        const_hex::decode_to_array(digits)
            .map(Self)
            .map_err(|_| SignatureError)
    }
}

/// A tag as four native-endian words, for the constant-time comparison.
fn words(tag: &[u8; TAG]) -> [u64; TAG / 8] {
    let mut words = [0_u64; TAG / 8];
    for (word, bytes) in words.iter_mut().zip(tag.chunks_exact(8)) {
        let mut chunk = [0_u8; 8];
        chunk.copy_from_slice(bytes);
        *word = u64::from_ne_bytes(chunk);
    }
    words
}

/// Trims the spaces and tabs HTTP calls optional whitespace.
pub(crate) fn trim_ows(value: &[u8]) -> &[u8] {
    let start = value
        .iter()
        .position(|byte| !matches!(byte, b' ' | b'\t'))
        .unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|byte| !matches!(byte, b' ' | b'\t'))
        .map_or(start, |last| last + 1);
    value.get(start..end).unwrap_or_default()
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sha256=")?;
        f.write_str(const_hex::Buffer::<TAG>::new().format(&self.0))
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTOR: &str = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    #[test]
    fn contract_test_vector() {
        let secret = Secret::new("It's a Secret to Everybody");
        let signature = secret.sign(b"Hello, World!");
        assert_eq!(signature.to_string(), VECTOR);
        assert_eq!(
            Signature::from_header(VECTOR.as_bytes()).unwrap(),
            signature
        );
        assert!(secret.verify(&signature, b"Hello, World!"));
        assert!(!secret.verify(&signature, b"Hello, World?"));
    }

    #[test]
    fn keys_of_every_length_match_the_reference_hmac() {
        for len in [0, 1, 31, 32, 63, 64, 65, 100, 1000] {
            let key: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let body = b"the body";
            let mut reference = <HmacSha256 as KeyInit>::new_from_slice(&key).unwrap();
            reference.update(body);
            let expected: [u8; TAG] = reference.finalize().into_bytes().into();
            assert_eq!(
                Secret::new(key).sign(body).as_bytes(),
                &expected,
                "key of {len} bytes"
            );
        }
    }

    #[test]
    fn header_forms() {
        let lower = Signature::from_header(VECTOR.as_bytes()).unwrap();
        let upper = VECTOR.to_uppercase();
        assert_eq!(Signature::from_header(upper.as_bytes()).unwrap(), lower);
        let padded = format!(" \t{VECTOR}\t ");
        assert_eq!(Signature::from_header(padded.as_bytes()).unwrap(), lower);
        for bad in [
            "",
            "sha256=",
            "sha1=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1",
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e177",
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1g",
            "sha256= 757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1",
            "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
            "sha256=0x57107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
            "sha256=0x757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        ] {
            assert!(
                matches!(Signature::from_header(bad.as_bytes()), Err(SignatureError)),
                "{bad:?}"
            );
        }
        let non_ascii = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043eé";
        assert!(matches!(
            Signature::from_header(non_ascii.as_bytes()),
            Err(SignatureError)
        ));
    }

    #[test]
    fn every_byte_at_every_digit_is_decoded_or_refused() {
        let expected = Signature::from_header(VECTOR.as_bytes()).unwrap();
        for at in PREFIX.len()..VECTOR.len() {
            for byte in 0..=u8::MAX {
                let mut header = VECTOR.as_bytes().to_vec();
                let original = header[at];
                header[at] = byte;
                let got = Signature::from_header(&header);
                if byte == original || byte.to_ascii_lowercase() == original {
                    assert_eq!(got, Ok(expected), "byte {byte:#04x} at {at}");
                } else if byte.is_ascii_hexdigit() {
                    let changed = got.unwrap();
                    assert_ne!(changed, expected, "byte {byte:#04x} at {at}");
                    assert_eq!(
                        changed.to_string().as_bytes()[at],
                        byte.to_ascii_lowercase()
                    );
                } else {
                    assert_eq!(got, Err(SignatureError), "byte {byte:#04x} at {at}");
                }
            }
        }
    }

    #[test]
    fn a_tag_differing_in_any_one_bit_does_not_verify() {
        let secret = Secret::new("It's a Secret to Everybody");
        let body = b"Hello, World!";
        let good = secret.sign(body);
        assert!(secret.verify(&good, body));
        for at in 0..TAG {
            for bit in 0..8 {
                let mut bytes = *good.as_bytes();
                bytes[at] ^= 1 << bit;
                assert!(
                    !secret.verify(&Signature(bytes), body),
                    "byte {at} bit {bit}"
                );
            }
        }
    }

    #[test]
    fn trims_only_spaces_and_tabs() {
        assert_eq!(trim_ows(b" \t a b\t "), b"a b");
        assert_eq!(trim_ows(b"   "), b"");
        assert_eq!(trim_ows(b""), b"");
        assert_eq!(trim_ows(b"\na\r"), b"\na\r");
    }

    #[test]
    fn secret_is_redacted() {
        let secret = Secret::new("whsec_Q7mN4rT8p3Xv2kLs9dE1");
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
        assert_eq!(format!("{secret:#?}"), "Secret(<redacted>)");
        assert!(!secret.is_empty());
        assert!(Secret::new("").is_empty());
    }

    #[test]
    fn clones_sign_alike_and_drop_cleanly() {
        let secret = Secret::new("rotate me");
        let copy = secret.clone();
        drop(secret);
        assert_eq!(copy.sign(b"x"), Secret::new("rotate me").sign(b"x"));
    }
}
