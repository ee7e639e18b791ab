//! Shared fixtures: the contract's secret, the example payloads and a
//! delivery builder that signs like ICR.

use std::path::PathBuf;

use icr_webhooks::contract::header;
use icr_webhooks::receive::Secret;
use icr_webhooks::{ReceiveError, Receiver};

/// The secret the contract's examples are signed with.
pub(crate) const SECRET: &str = "whsec_Q7mN4rT8p3Xv2kLs9dE1";
/// A well-formed delivery GUID.
pub(crate) const GUID: &str = "72d3162e-cc78-11e3-81ab-4c9367dc0958";

/// The bytes of `schema/examples/<file>`, exactly.
pub(crate) fn example(file: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../schema/examples")
        .join(file);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// Every example file name, sorted.
pub(crate) fn example_files() -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schema/examples");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".json"))
        .collect();
    files.sort();
    files
}

/// The receiver of the contract's examples.
pub(crate) fn receiver() -> Receiver {
    Receiver::new(SECRET).unwrap()
}

/// A delivery as it goes over the wire: headers and body.
#[derive(Debug, Clone)]
pub(crate) struct Wire {
    pub(crate) headers: Vec<(String, Vec<u8>)>,
    pub(crate) body: Vec<u8>,
}

impl Wire {
    /// A JSON delivery of `body` for `event`, signed with `SECRET`.
    pub(crate) fn json(event: &str, body: Vec<u8>) -> Self {
        Self::signed(event, "application/json", body)
    }

    /// A form delivery of the JSON `payload` for `event`, signed over the
    /// form bytes with `SECRET`.
    pub(crate) fn form(event: &str, payload: &[u8]) -> Self {
        let body = icr_webhooks::receive::form_body(payload).into_bytes();
        Self::signed(event, "application/x-www-form-urlencoded", body)
    }

    fn signed(event: &str, content_type: &str, body: Vec<u8>) -> Self {
        let signature = Secret::new(SECRET).sign(&body).to_string();
        Self {
            headers: vec![
                (header::EVENT.into(), event.into()),
                (header::DELIVERY.into(), GUID.into()),
                (header::HOOK_ID.into(), b"60021".to_vec()),
                (
                    header::INSTALLATION_TARGET_TYPE.into(),
                    b"integration".to_vec(),
                ),
                (header::INSTALLATION_TARGET_ID.into(), b"1234".to_vec()),
                ("User-Agent".into(), b"ICR-Hookshot/1a2b3c".to_vec()),
                (header::SIGNATURE_256.into(), signature.into_bytes()),
                (header::CONTENT_TYPE.into(), content_type.into()),
            ],
            body,
        }
    }

    /// The ping example, as ICR sends it.
    pub(crate) fn ping() -> Self {
        Self::json("ping", example("ping.json"))
    }

    /// The `credit_transfer.completed` example, as ICR sends it.
    pub(crate) fn transfer_completed() -> Self {
        Self::json("credit_transfer", example("credit_transfer.completed.json"))
    }

    /// Without the header `name` (any case).
    pub(crate) fn without(mut self, name: &str) -> Self {
        self.headers
            .retain(|(have, _)| !have.eq_ignore_ascii_case(name));
        self
    }

    /// With the header `name` set to `value`, replacing it if present.
    pub(crate) fn with(self, name: &str, value: impl Into<Vec<u8>>) -> Self {
        let mut wire = self.without(name);
        wire.headers.push((name.into(), value.into()));
        wire
    }

    /// With one more header, even one already present.
    pub(crate) fn also(mut self, name: &str, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// With another body, the signature left as it was.
    pub(crate) fn body(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }

    /// Signed again with `secret`, over the current body.
    pub(crate) fn signed_with(self, secret: &str) -> Self {
        let signature = Secret::new(secret).sign(&self.body).to_string();
        self.with(header::SIGNATURE_256, signature)
    }

    /// The header `name`, as text.
    pub(crate) fn get(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(have, _)| have.eq_ignore_ascii_case(name))
            .map(|(_, value)| String::from_utf8_lossy(value).into_owned())
    }

    /// Every header name in another case.
    pub(crate) fn recased(mut self, case: fn(&str) -> String) -> Self {
        for (name, _) in &mut self.headers {
            *name = case(name);
        }
        self
    }

    /// Receives the delivery with `receiver`, checking on the way that
    /// [`Receiver::receive_unparsed`] and the borrowed parse give the same outcome.
    #[track_caller]
    pub(crate) fn receive(
        &self,
        receiver: &Receiver,
    ) -> Result<icr_webhooks::Delivery, ReceiveError> {
        let delivery = receiver.receive(&self.headers, self.body.clone());
        let borrowed = receiver
            .receive_unparsed(&self.headers, self.body.clone())
            .and_then(|info| info.parse_borrowed().map(icr_webhooks::Event::into_owned));
        assert_eq!(
            borrowed,
            delivery
                .as_ref()
                .map(|d| d.event.clone())
                .map_err(Clone::clone),
            "check + parse_borrowed disagree with receive"
        );
        delivery
    }
}
