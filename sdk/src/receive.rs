//! Receiving a delivery: the [`Receiver`] and what it checks and gives.
//!
//! [`Receiver::receive`] runs every check of the contract, in its order,
//! and the typed parse; the other calls stop earlier or start later, and
//! their names say where:
//!
//! | call | checks | gives |
//! | --- | --- | --- |
//! | [`Receiver::receive`] (and `receive_async`) | size, signature, content type, headers, JSON, typed parse | [`Delivery`] |
//! | [`Receiver::receive_unparsed`] (and `receive_unparsed_async`) | all but the typed parse | [`DeliveryInfo`], to parse borrowed with [`DeliveryInfo::parse_borrowed`] |
//! | [`Receiver::verify_size_and_signature`] | size and signature | `()` |
//! | [`Receiver::verify_signature`] | one `X-ICR-Signature-256` value | `()` |
//! | [`Receiver::check_content_length`] | a `Content-Length`, before reading | `()` |
//! | [`Delivery::from_verified`] | all after the signature, for a body verified elsewhere | [`Delivery`] |
//!
//! Every refusal is a [`ReceiveError`] that knows its status; its message
//! never holds the secret, a signature or the body. [`Secret::sign`] signs
//! as ICR does, with the code that verifies, and [`form_body`] makes the
//! body of a `form` delivery.

pub use crate::delivery::{Delivery, DeliveryInfo};
pub use crate::error::{ConfigError, ReceiveError};
pub use crate::form::form_body;
pub use crate::headers::{ContentType, DeliveryId, DeliveryIdError, HeaderSource};
pub use crate::parse::ParseError;
pub use crate::receiver::{Receiver, ReceiverBuilder};
pub use crate::secret::{Secret, Signature, SignatureError};
