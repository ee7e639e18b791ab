//! The contract's own data: the test vector of section 3 and the examples of
//! section 7 with their listed signatures, as JSON and form-encoded.

use icr_webhooks::contract::header;
use icr_webhooks::receive::{ContentType, Secret};
use icr_webhooks::types::CreditTransferEvent;
use icr_webhooks::{Event, ReceiveError, Receiver};

use crate::support::{GUID, SECRET, Wire, example, example_files, receiver};

const TRANSFER_SIGNATURE: &str =
    "sha256=6896b0dfa4a6a54664f6af2ed8627fe4e244b073ca31f2ccc48b77cb99056d21";
const PING_SIGNATURE: &str =
    "sha256=979bca6f1b11006d77cd4c9f7e3439fb1fa9ab198e5b9ea03b7d5e2596993534";

#[test]
fn test_vector() {
    let secret = Secret::new("It's a Secret to Everybody");
    let body = b"Hello, World!";
    let expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    assert_eq!(body.len(), 13);
    assert_eq!(secret.sign(body).to_string(), expected);
    let receiver = Receiver::new("It's a Secret to Everybody").unwrap();
    assert_eq!(
        receiver.verify_signature(Some(expected.as_bytes()), body),
        Ok(())
    );
    assert_eq!(
        receiver.verify_signature(Some(expected.as_bytes()), b"Hello, World!\n"),
        Err(ReceiveError::SignatureMismatch)
    );
}

#[test]
fn examples_have_the_listed_signatures() {
    let secret = Secret::new(SECRET);
    let transfer = example("credit_transfer.completed.json");
    let ping = example("ping.json");
    assert_eq!(
        transfer.last(),
        Some(&b'\n'),
        "the signature covers the final newline"
    );
    assert_eq!(secret.sign(&transfer).to_string(), TRANSFER_SIGNATURE);
    assert_eq!(secret.sign(&ping).to_string(), PING_SIGNATURE);
}

#[test]
fn transfer_example_with_its_listed_signature() {
    let wire = Wire::transfer_completed().with(header::SIGNATURE_256, TRANSFER_SIGNATURE);
    let delivery = wire.receive(&receiver()).unwrap();
    let Event::CreditTransfer(CreditTransferEvent::Completed(completed)) = &delivery.event else {
        panic!("not credit_transfer.completed: {:?}", delivery.event);
    };
    assert_eq!(completed.transfer.id.get(), 88213);
    assert_eq!(delivery.info.id.as_str(), GUID);
    assert_eq!(delivery.info.event_name, "credit_transfer");
    assert_eq!(delivery.info.hook_id, Some(60021));
    assert_eq!(
        delivery.info.installation_target_type.as_deref(),
        Some("integration")
    );
    assert_eq!(delivery.info.installation_target_id, Some(1234));
    assert_eq!(delivery.info.content_type, ContentType::Json);
    assert_eq!(delivery.info.body, wire.body);
    assert_eq!(delivery.info.payload, wire.body);
    assert_eq!(delivery.action(), Some("completed"));
}

#[test]
fn ping_example_with_its_listed_signature() {
    let wire = Wire::ping().with(header::SIGNATURE_256, PING_SIGNATURE);
    let delivery = wire.receive(&receiver()).unwrap();
    let Event::Ping(ping) = &delivery.event else {
        panic!("not ping: {:?}", delivery.event);
    };
    assert_eq!(ping.zen, "Measure twice, retire once.");
    assert_eq!(ping.hook_id.get(), 60021);
    assert_eq!(delivery.action(), None);
}

#[test]
fn examples_form_encoded_and_signed_over_the_form_bytes() {
    for (file, event) in [
        ("credit_transfer.completed.json", "credit_transfer"),
        ("ping.json", "ping"),
    ] {
        let json = example(file);
        let wire = Wire::form(event, &json);
        assert!(wire.body.starts_with(b"payload=%7B"), "{file}");
        let delivery = wire.receive(&receiver()).unwrap();
        assert_eq!(delivery.info.content_type, ContentType::Form, "{file}");
        assert_eq!(delivery.info.body, wire.body, "{file}: the raw form bytes");
        assert_eq!(delivery.info.payload, json, "{file}: the decoded payload");
        let from_json = Wire::json(event, json).receive(&receiver()).unwrap();
        assert_eq!(delivery.event, from_json.event, "{file}");

        // The signature of the JSON does not cover the form body.
        let json_signature = Secret::new(SECRET).sign(&delivery.info.payload).to_string();
        let wrong = wire.with(header::SIGNATURE_256, json_signature);
        assert_eq!(
            wrong.receive(&receiver()).unwrap_err(),
            ReceiveError::SignatureMismatch
        );
    }
}

#[test]
fn every_example_arrives_as_its_known_type() {
    let files = example_files();
    let mut keys: Vec<String> = icr_webhooks::types::CATALOGUE
        .iter()
        .flat_map(|spec| spec.keys())
        .map(|key| format!("{key}.json"))
        .collect();
    keys.sort();
    assert_eq!(files, keys, "one example per event/action pair");
    for file in files {
        let stem = file.trim_end_matches(".json");
        let (event, action) = match stem.split_once('.') {
            Some((event, action)) => (event, Some(action)),
            None => (stem, None),
        };
        let json = example(&file);
        for wire in [Wire::json(event, json.clone()), Wire::form(event, &json)] {
            let delivery = wire
                .receive(&receiver())
                .unwrap_or_else(|error| panic!("{file}: {error}"));
            assert!(delivery.event.is_known(), "{file}");
            assert_eq!(delivery.event.name(), event, "{file}");
            assert_eq!(delivery.event.action(), action, "{file}");
        }
    }
}
