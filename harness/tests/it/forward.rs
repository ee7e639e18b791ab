//! `listen --forward-to` as a process, in front of a wiremock app: the app
//! sees the bytes and headers ICR sent (re-signed with `--forward-secret`,
//! or with ICR's own signature), ICR is answered with the app's status,
//! and the history holds the app's answer and latency.

use icr_webhooks::receive::Secret;
use icr_webhooks_harness::sender::{Fault, SenderConfig};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::devloop::{Dir, Listen, Live, SECRET, get, ping, runtime, send};

const APP_SECRET: &str = "whsec_app_side_77c2";

#[test]
fn forwarding_is_byte_exact_and_answers_with_the_apps_status() {
    let runtime = runtime();
    let app = runtime.block_on(async {
        let app = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/hook"))
            .and(header("x-icr-event", "ping"))
            .respond_with(ResponseTemplate::new(202))
            .mount(&app)
            .await;
        app
    });
    let dir = Dir::new();
    let target = format!("{}/hook", app.uri());
    let listen = Listen::start(
        &dir,
        &[
            "--ui",
            "--forward-to",
            &target,
            "--forward-secret",
            APP_SECRET,
        ],
    );
    let mut live = Live::open(&listen.base, None);
    let delivery = ping("forward me");
    let refused = ping("tampered").with_fault(Fault::BodyChangedAfterSigning);
    let attempts = send(&listen.webhook(), SECRET, &[delivery.clone(), refused]);
    let statuses: Vec<Option<u16>> = attempts.iter().map(|a| a.status).collect();
    // The app's 202; a delivery that fails the checks is not forwarded.
    assert_eq!(statuses, [Some(202), Some(401)]);

    let received = runtime.block_on(app.received_requests()).unwrap();
    assert_eq!(received.len(), 1);
    let request = &received[0];
    assert_eq!(request.body, delivery.payload.as_ref());
    let wire = SenderConfig::new(listen.webhook(), Some(Secret::new(SECRET))).build(&delivery);
    for (name, value) in &wire.headers {
        let seen = request.headers.get(*name).unwrap().to_str().unwrap();
        if *name == "X-ICR-Signature-256" {
            assert_eq!(
                seen,
                Secret::new(APP_SECRET).sign(&request.body).to_string()
            );
        } else {
            assert_eq!(seen, value, "{name}");
        }
    }

    let rows = live.take(2);
    assert_eq!(
        (
            rows[0]["status"].as_u64(),
            rows[0]["reason"].as_str(),
            rows[0]["forward_status"].as_u64()
        ),
        (Some(202), Some("forwarded"), Some(202))
    );
    assert_eq!(
        (
            rows[1]["status"].as_u64(),
            rows[1]["reason"].as_str(),
            rows[1]["forward_status"].as_u64()
        ),
        (Some(401), Some("signature_mismatch"), None)
    );
    let detail = get(&format!(
        "{}/_icr/api/deliveries/{}",
        listen.base, rows[0]["id"]
    ))
    .json();
    assert_eq!(detail["forward"]["url"], target.as_str());
    assert_eq!(detail["forward"]["status"], 202);
    assert!(detail["forward"]["latency_ms"].as_u64().unwrap() < 10_000);
    drop(live);
    listen.stop();
}

#[test]
fn without_a_forward_secret_the_signature_icr_sent_goes_along_and_an_app_that_is_down_is_502() {
    let runtime = runtime();
    let app = runtime.block_on(async {
        let app = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(500))
            .mount(&app)
            .await;
        app
    });
    let dir = Dir::new();
    let listen = Listen::start(&dir, &["--forward-to", &app.uri()]);
    let delivery = ping("as sent");
    let attempts = send(&listen.webhook(), SECRET, std::slice::from_ref(&delivery));
    assert_eq!(attempts[0].status, Some(500));
    let received = runtime.block_on(app.received_requests()).unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0]
            .headers
            .get("x-icr-signature-256")
            .unwrap()
            .to_str()
            .unwrap(),
        Secret::new(SECRET).sign(&delivery.payload).to_string()
    );
    listen.stop();

    // Nothing listens there any more.
    let closed = format!(
        "http://{}/hook",
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
    );
    let listen = Listen::start(&dir, &["--forward-to", &closed]);
    let attempts = send(&listen.webhook(), SECRET, &[ping("nobody home")]);
    assert_eq!(attempts[0].status, Some(502));
    let err = listen.stop();
    assert!(
        err.contains("forwarded 0  not answered by the app (502) 1"),
        "{err}"
    );
}
