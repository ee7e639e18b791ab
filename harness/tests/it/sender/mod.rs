//! What the sender puts on the wire, checked with wiremock, and how it
//! treats 2xx, 4xx, 5xx, a slow answer and a dropped connection.

use std::time::Duration;

use bytes::Bytes;
use icr_webhooks::Receiver;
use icr_webhooks::receive::{ContentType, Secret};
use icr_webhooks_harness::sender::{Fault, MAX_BODY, Outgoing, Sender, SenderConfig, USER_AGENT};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const SECRET: &str = "whsec_wire_test";
const PING: &[u8] = include_bytes!("../../../../schema/examples/ping.json");

async fn server_answering(status: u16) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(status))
        .mount(&server)
        .await;
    server
}

fn sender(url: String) -> Sender {
    Sender::new(SenderConfig::new(url, Some(Secret::new(SECRET)))).unwrap()
}

fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers.get(name).and_then(|v| v.to_str().ok())
}

async fn only_request(server: &MockServer) -> Request {
    let mut requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    requests.remove(0)
}

#[tokio::test]
async fn every_header_and_the_signature_are_on_the_wire() {
    let server = server_answering(200).await;
    let delivery = Outgoing::new("ping", PING.to_vec());
    let attempt = sender(format!("{}/hook", server.uri()))
        .send(&delivery)
        .await;
    assert_eq!(attempt.status, Some(200));
    assert!(attempt.delivered());
    let request = only_request(&server).await;
    assert_eq!(header(&request, "x-icr-event"), Some("ping"));
    assert_eq!(
        header(&request, "x-icr-delivery"),
        Some(delivery.id.as_str())
    );
    assert_eq!(header(&request, "x-icr-hook-id"), Some("60021"));
    assert_eq!(
        header(&request, "x-icr-hook-installation-target-type"),
        Some("integration")
    );
    assert_eq!(
        header(&request, "x-icr-hook-installation-target-id"),
        Some("1187")
    );
    assert_eq!(header(&request, "user-agent"), Some(USER_AGENT));
    assert!(USER_AGENT.starts_with("ICR-Hookshot/"));
    assert_eq!(header(&request, "content-type"), Some("application/json"));
    let expected = Secret::new(SECRET).sign(PING).to_string();
    assert_eq!(
        header(&request, "x-icr-signature-256"),
        Some(expected.as_str())
    );
    assert_eq!(request.body, PING);
    // The GUID is lowercase and hyphenated; the SDK accepts the whole delivery.
    assert_eq!(delivery.id, delivery.id.to_lowercase());
    let receiver = Receiver::new(SECRET).unwrap();
    let received = receiver
        .receive(&request.headers, Bytes::from(request.body.clone()))
        .unwrap();
    assert_eq!(received.event.name(), "ping");
}

#[tokio::test]
async fn form_bodies_are_signed_over_the_form_bytes() {
    let server = server_answering(204).await;
    let delivery = Outgoing::new("ping", PING.to_vec()).with_content_type(ContentType::Form);
    let attempt = sender(format!("{}/hook", server.uri()))
        .send(&delivery)
        .await;
    assert_eq!(attempt.status, Some(204));
    let request = only_request(&server).await;
    assert_eq!(
        header(&request, "content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        request.body,
        icr_webhooks::receive::form_body(PING).into_bytes()
    );
    let expected = Secret::new(SECRET).sign(&request.body).to_string();
    assert_eq!(
        header(&request, "x-icr-signature-256"),
        Some(expected.as_str())
    );
}

#[tokio::test]
async fn statuses_are_recorded_as_answered() {
    for (status, delivered) in [
        (200, true),
        (202, true),
        (400, false),
        (401, false),
        (500, false),
        (503, false),
    ] {
        let server = server_answering(status).await;
        let attempt = sender(format!("{}/hook", server.uri()))
            .send(&Outgoing::new("ping", PING.to_vec()))
            .await;
        assert_eq!(attempt.status, Some(status));
        assert_eq!(attempt.failure, None);
        assert_eq!(attempt.delivered(), delivered, "{status}");
    }
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(308).insert_header("location", "/elsewhere"))
        .mount(&server)
        .await;
    let attempt = sender(format!("{}/hook", server.uri()))
        .send(&Outgoing::new("ping", PING.to_vec()))
        .await;
    assert_eq!(attempt.status, Some(308));
    assert!(!attempt.delivered());
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_answer_slower_than_the_timeout_is_a_failure() {
    // ICR waits 10 s; the timeout is the sender's setting, shortened here.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let mut config = SenderConfig::new(format!("{}/hook", server.uri()), Some(Secret::new(SECRET)));
    config.timeout = Duration::from_millis(300);
    let attempt = Sender::new(config)
        .unwrap()
        .send(&Outgoing::new("ping", PING.to_vec()))
        .await;
    assert_eq!(attempt.status, None);
    assert_eq!(attempt.failure.as_deref(), Some("timed out"));
    assert!(!attempt.delivered());
}

#[tokio::test]
async fn a_dropped_connection_is_a_failure() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            drop(socket);
        }
    });
    let attempt = sender(format!("http://{addr}/hook"))
        .send(&Outgoing::new("ping", PING.to_vec()))
        .await;
    assert_eq!(attempt.status, None);
    assert_eq!(
        attempt.failure.as_deref(),
        Some("connection closed before the answer")
    );
    assert!(!attempt.delivered());
}

#[tokio::test]
async fn redelivery_keeps_guid_and_body_and_signs_with_the_current_secret() {
    let server = server_answering(500).await;
    let mut sender = sender(format!("{}/hook", server.uri()));
    let delivery = Outgoing::new("ping", PING.to_vec());
    assert_eq!(sender.send(&delivery).await.status, Some(500));
    sender.rotate_secret(Some(Secret::new("whsec_rotated")));
    let again = sender.send_attempt(&delivery, 2).await;
    assert_eq!(again.attempt, 2);
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        header(&requests[0], "x-icr-delivery"),
        header(&requests[1], "x-icr-delivery")
    );
    assert_eq!(requests[0].body, requests[1].body);
    let rotated = Secret::new("whsec_rotated").sign(PING).to_string();
    assert_eq!(
        header(&requests[1], "x-icr-signature-256"),
        Some(rotated.as_str())
    );
}

#[tokio::test]
async fn send_all_redelivers_failed_ones_up_to_the_limit() {
    // Five deliveries, each redelivered up to twice, to a server whose first
    // three answers are 500: one attempt more per failure.
    const SENT: usize = 5;
    const FAILED: usize = 3;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(FAILED as u64)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let deliveries: Vec<Outgoing> = (0..SENT)
        .map(|_| Outgoing::new("ping", PING.to_vec()))
        .collect();
    let attempts = sender(format!("{}/hook", server.uri()))
        .send_all(deliveries, 1, 2, |_| {})
        .await;
    let summary = icr_webhooks_harness::sender::Summary::of(&attempts);
    assert_eq!(summary.deliveries, SENT);
    assert_eq!(summary.delivered, SENT);
    assert_eq!(summary.attempts, SENT + FAILED);
    assert_eq!(summary.redeliveries, FAILED);
    assert_eq!(summary.statuses.get(&500), Some(&FAILED));
    assert!(summary.all_delivered());
}

#[track_caller]
fn check_fault(fault: Fault, check: impl Fn(&icr_webhooks_harness::sender::WireRequest)) {
    let config = SenderConfig::new("http://127.0.0.1:9/", Some(Secret::new(SECRET)));
    let wire = config.build(&Outgoing::new("ping", PING.to_vec()).with_fault(fault));
    check(&wire);
}

fn wire_header<'a>(
    wire: &'a icr_webhooks_harness::sender::WireRequest,
    name: &str,
) -> Option<&'a str> {
    wire.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[test]
fn each_fault_changes_the_wire_as_named() {
    let good = Secret::new(SECRET).sign(PING).to_string();
    check_fault(Fault::WrongSecret, |w| {
        assert_eq!(w.body, PING);
        assert_ne!(wire_header(w, "x-icr-signature-256"), Some(good.as_str()));
        assert_eq!(
            wire_header(w, "x-icr-signature-256").map(str::len),
            Some(71)
        );
    });
    check_fault(Fault::MissingSignature, |w| {
        assert_eq!(wire_header(w, "x-icr-signature-256"), None)
    });
    check_fault(Fault::CorruptedSignature, |w| {
        let sig = wire_header(w, "x-icr-signature-256").unwrap();
        assert_eq!(sig.len(), good.len());
        assert_eq!(sig[..70], good[..70]);
        assert_ne!(sig, good);
    });
    check_fault(Fault::BodyChangedAfterSigning, |w| {
        assert_eq!(wire_header(w, "x-icr-signature-256"), Some(good.as_str()));
        assert_eq!(w.body.len(), PING.len());
        assert_eq!(w.body.iter().zip(PING).filter(|(a, b)| a != b).count(), 1);
    });
    check_fault(Fault::WrongEventHeader, |w| {
        assert_eq!(wire_header(w, "x-icr-event"), Some("credit_transfer"))
    });
    check_fault(Fault::OversizedBody, |w| {
        assert_eq!(w.body.len(), MAX_BODY + 1);
        serde_json::from_slice::<serde_json::Value>(&w.body).unwrap();
    });
    check_fault(Fault::TruncatedBody, |w| {
        assert_eq!(w.body, PING[..PING.len() / 2]);
        let sig = Secret::new(SECRET).sign(&w.body).to_string();
        assert_eq!(wire_header(w, "x-icr-signature-256"), Some(sig.as_str()));
    });
    check_fault(Fault::ContentTypeMismatch, |w| {
        assert_eq!(
            wire_header(w, "content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(w.body, PING);
    });
    check_fault(Fault::SlowBody, |w| {
        assert!(w.slow);
        assert_eq!(wire_header(w, "x-icr-signature-256"), Some(good.as_str()));
    });
}

/// An app on loopback that answers 200 and records the client port of each
/// request (one port per connection); with `close`, it closes each
/// connection after its answer.
async fn app_recording_ports(close: bool) -> (String, std::sync::Arc<std::sync::Mutex<Vec<u16>>>) {
    use axum::extract::ConnectInfo;
    use std::net::SocketAddr;
    use std::sync::{Arc, Mutex};

    let ports = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&ports);
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |ConnectInfo(peer): ConnectInfo<SocketAddr>| {
            let seen = Arc::clone(&seen);
            async move {
                seen.lock().unwrap().push(peer.port());
                if close {
                    let mut headers = axum::http::HeaderMap::new();
                    headers.insert(
                        axum::http::header::CONNECTION,
                        axum::http::HeaderValue::from_static("close"),
                    );
                    headers
                } else {
                    axum::http::HeaderMap::new()
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    (format!("http://{addr}/hook"), ports)
}

#[tokio::test]
async fn deliveries_in_turn_share_one_keep_alive_connection() {
    const SENT: usize = 20;
    let (url, ports) = app_recording_ports(false).await;
    let sender = sender(url);
    for _ in 0..SENT {
        let attempt = sender.send(&Outgoing::new("ping", PING.to_vec())).await;
        assert_eq!((attempt.status, attempt.failure), (Some(200), None));
    }
    let ports = ports.lock().unwrap().clone();
    assert_eq!(ports.len(), SENT);
    assert!(ports.iter().all(|port| *port == ports[0]), "{ports:?}");
}

#[tokio::test]
async fn a_connection_the_app_closed_is_replaced_without_a_failed_attempt() {
    const SENT: usize = 20;
    let (url, ports) = app_recording_ports(true).await;
    let sender = sender(url);
    for _ in 0..SENT {
        let attempt = sender.send(&Outgoing::new("ping", PING.to_vec())).await;
        assert_eq!((attempt.status, attempt.failure), (Some(200), None));
    }
    let mut ports = ports.lock().unwrap().clone();
    assert_eq!(ports.len(), SENT);
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), SENT, "one connection per delivery");
}

#[tokio::test]
async fn send_all_keeps_at_most_one_connection_per_worker() {
    let (url, ports) = app_recording_ports(false).await;
    const SENT: usize = 200;
    const WORKERS: usize = 8;
    let deliveries: Vec<Outgoing> = (0..SENT)
        .map(|_| Outgoing::new("ping", PING.to_vec()))
        .collect();
    let attempts = sender(url).send_all(deliveries, WORKERS, 0, |_| {}).await;
    assert_eq!(
        attempts.iter().filter(|a| a.status == Some(200)).count(),
        SENT
    );
    let mut ports = ports.lock().unwrap().clone();
    ports.sort_unstable();
    ports.dedup();
    assert!(
        (1..=WORKERS).contains(&ports.len()),
        "{} connections",
        ports.len()
    );
}

#[test]
fn only_http_urls_with_a_host_are_taken() {
    for (url, reason) in [
        (
            "https://app.example/hook",
            "only http:// URLs are supported",
        ),
        ("ftp://app.example/hook", "only http:// URLs are supported"),
        ("not a url", "not a URL"),
        ("http://:8080/hook", "no host"),
        ("/hook", "only http:// URLs are supported"),
    ] {
        let error = Sender::new(SenderConfig::new(url, None)).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("cannot send to `{url}`: {reason}"),
            "{url}"
        );
    }
    for url in [
        "http://127.0.0.1:8080",
        "http://[::1]:8080/hook?x=1",
        "http://localhost/hook",
    ] {
        assert!(Sender::new(SenderConfig::new(url, None)).is_ok(), "{url}");
    }
}

#[tokio::test]
async fn the_request_target_and_host_come_from_the_url_without_user_info() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let port = server.address().port();
    for (url, path, query) in [
        (
            format!("http://user:pw@127.0.0.1:{port}?x=1"),
            "/",
            Some("x=1"),
        ),
        (format!("http://127.0.0.1:{port}"), "/", None),
        (
            format!("http://127.0.0.1:{port}/a/b?c=d&e"),
            "/a/b",
            Some("c=d&e"),
        ),
    ] {
        let attempt = sender(url.clone())
            .send(&Outgoing::new("ping", PING.to_vec()))
            .await;
        assert_eq!(
            (attempt.status, attempt.failure),
            (Some(200), None),
            "{url}"
        );
        let requests = server.received_requests().await.unwrap();
        let request = requests.last().unwrap();
        assert_eq!(request.url.path(), path, "{url}");
        assert_eq!(request.url.query(), query, "{url}");
        let host = format!("127.0.0.1:{port}");
        assert_eq!(header(request, "host"), Some(host.as_str()), "{url}");
        assert_eq!(header(request, "authorization"), None, "{url}");
    }
}

mod refused_bodies;
#[allow(unused_imports)]
use refused_bodies::*;
