//! Every framework over a real loopback socket (axum, actix-web, hyper
//! behind the tower layer, from one definition in `server`): good
//! deliveries reach the handler as their exact type (owned, or borrowed
//! through the `DeliveryInfo` extractor, see `delivery_info`), bad ones get
//! their status before it, and a 100 MiB chunked body is refused with the
//! server's memory bounded. The helpers here send raw HTTP/1.1.

use std::net::SocketAddr;

use icr_webhooks::Event;
use icr_webhooks::Receiver;
use icr_webhooks::contract::header;
use icr_webhooks::types::CreditTransferEvent;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::server::{Framework, start_plain};
use crate::support::{Wire, example, receiver};

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The request line and headers of a POST to `/webhook`.
pub(crate) fn head(addr: SocketAddr, headers: &[(String, Vec<u8>)], framing: &str) -> Vec<u8> {
    let mut head =
        format!("POST /webhook HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{framing}\r\n")
            .into_bytes();
    for (name, value) in headers {
        head.extend_from_slice(name.as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value);
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    head
}

/// The status and body of a raw HTTP/1.1 response with a `Content-Length`
/// (or none).
fn parse_response(response: &[u8]) -> (u16, String) {
    let text = String::from_utf8_lossy(response);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// Reads one response: up to the end of its body by its `Content-Length`
/// (a server that drains a refused body keeps the connection open), or to
/// the end of the stream.
pub(crate) async fn read_response(mut stream: impl AsyncReadExt + Unpin) -> (u16, String) {
    let mut response = Vec::new();
    let mut buffer = [0_u8; 4096];
    loop {
        if let Some(end) = complete_response(&response) {
            response.truncate(end);
            break;
        }
        // The server may close with a reset once it has answered; what it
        // sent before is read all the same.
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(read) => response.extend_from_slice(&buffer[..read]),
        }
    }
    parse_response(&response)
}

/// The length of a complete response with a `Content-Length`, once it is
/// all in `bytes`.
fn complete_response(bytes: &[u8]) -> Option<usize> {
    let text = String::from_utf8_lossy(bytes);
    let (head, _) = text.split_once("\r\n\r\n")?;
    let length: usize = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse().ok())?
    })?;
    let end = head.len() + 4 + length;
    (bytes.len() >= end).then_some(end)
}

/// Sends `wire` with a `Content-Length` and reads the answer.
pub(crate) async fn send(addr: SocketAddr, wire: &Wire) -> (u16, String) {
    let framing = format!("Content-Length: {}\r\n", wire.body.len());
    send_raw(
        addr,
        &head(addr, &wire.headers, framing.trim_end()),
        &wire.body,
    )
    .await
}

pub(crate) async fn send_raw(addr: SocketAddr, head: &[u8], body: &[u8]) -> (u16, String) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (read, mut write) = stream.into_split();
    let (head, body) = (head.to_vec(), body.to_vec());
    let writer = tokio::spawn(async move {
        // A refused request may be cut off before it is all sent.
        let _ = write.write_all(&head).await;
        let _ = write.write_all(&body).await;
        write
    });
    let answer = read_response(read).await;
    drop(writer.await.unwrap());
    answer
}

/// `body` in chunked transfer coding, in pieces of `piece` bytes.
pub(crate) fn chunked(body: &[u8], piece: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for part in body.chunks(piece) {
        out.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        out.extend_from_slice(part);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

#[test]
fn good_deliveries_reach_the_handler_typed() {
    runtime().block_on(async {
        for framework in Framework::ALL {
            good_deliveries_on(framework).await;
        }
    });
}

async fn good_deliveries_on(framework: Framework) {
    {
        let (addr, mut seen, _stop) = start_plain(framework, receiver()).await;

        let wire = Wire::transfer_completed();
        assert_eq!(send(addr, &wire).await, (204, String::new()));
        let delivery = seen.try_recv().unwrap();
        let Event::CreditTransfer(CreditTransferEvent::Completed(completed)) = &delivery.event
        else {
            panic!("not credit_transfer.completed: {:?}", delivery.event);
        };
        assert_eq!(completed.transfer.id.get(), 88213);
        assert_eq!(delivery.info.body, wire.body);

        let form = Wire::form("ping", &example("ping.json"));
        assert_eq!(send(addr, &form).await.0, 204);
        assert!(matches!(seen.try_recv().unwrap().event, Event::Ping(_)));

        // Without a Content-Length: in pieces, joined.
        let pieces = head(addr, &wire.headers, "Transfer-Encoding: chunked");
        let answer = send_raw(addr, &pieces, &chunked(&wire.body, 100)).await;
        assert_eq!(answer.0, 204);
        assert_eq!(seen.try_recv().unwrap().info.body, wire.body);

        // A large body with a Content-Length arrives in several reads.
        let mut large = example("ping.json");
        large.resize(3 * 1024 * 1024, b' ');
        let large = Wire::json("ping", large);
        assert_eq!(send(addr, &large).await.0, 204, "{framework:?}");
        assert_eq!(seen.try_recv().unwrap().info.body, large.body);
    }
}

/// Deliveries refused by one of the contract's checks, with the status and
/// text each is answered with.
pub(crate) fn bad_cases() -> Vec<(&'static str, Wire, u16, &'static str)> {
    let ping = example("ping.json");
    let truncated = Wire::json("ping", ping[..ping.len() / 2].to_vec());
    vec![
        (
            "no signature",
            Wire::ping().without(header::SIGNATURE_256),
            401,
            "missing `X-ICR-Signature-256` header",
        ),
        (
            "malformed signature",
            Wire::ping().with(header::SIGNATURE_256, "sha1=00"),
            401,
            "malformed `X-ICR-Signature-256` header: expected `sha256=` and 64 hex digits",
        ),
        (
            "signature mismatch",
            Wire::ping().signed_with("whsec_other"),
            401,
            "signature does not match the body with any configured secret",
        ),
        (
            "wrong content type",
            Wire::ping().with(header::CONTENT_TYPE, "text/plain"),
            415,
            "unsupported content type `text/plain`: expected `application/json` or `application/x-www-form-urlencoded`",
        ),
        (
            "missing event",
            Wire::ping().without(header::EVENT),
            400,
            "missing `X-ICR-Event` header",
        ),
        (
            "malformed GUID",
            Wire::ping().with(header::DELIVERY, "1234"),
            400,
            "malformed `X-ICR-Delivery` header: expected a hyphenated UUID",
        ),
        (
            "form without payload",
            Wire::json("ping", b"zen=1".to_vec())
                .with(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
            400,
            "form body without a `payload` field",
        ),
        ("malformed JSON", truncated, 400, "malformed JSON payload"),
        (
            "wrong shape",
            Wire::json("ping", br#"{"zen": 1}"#.to_vec()),
            400,
            "ping payload does not fit its type at `zen`",
        ),
    ]
}

#[test]
fn bad_deliveries_get_their_status_before_the_handler() {
    runtime().block_on(async {
        for framework in Framework::ALL {
            bad_deliveries_on(framework).await;
        }
    });
}

async fn bad_deliveries_on(framework: Framework) {
    {
        let small = Receiver::builder()
            .secret(crate::support::SECRET)
            .max_body_size(1024)
            .build()
            .unwrap();
        let (addr, mut seen, _stop) = start_plain(framework, receiver()).await;
        let (small_addr, mut small_seen, _small_stop) = start_plain(framework, small).await;
        let ping = example("ping.json");
        for (name, wire, status, reason) in bad_cases() {
            assert_eq!(
                send(addr, &wire).await,
                (status, reason.to_owned()),
                "{framework:?}: {name}"
            );
        }
        assert_eq!(
            seen.try_recv().unwrap_err(),
            tokio::sync::mpsc::error::TryRecvError::Empty,
            "{framework:?}: the handler ran for a bad delivery"
        );

        // Over the limit by its Content-Length: refused before the body is sent.
        let mut big = ping.clone();
        big.resize(2048, b' ');
        let big = Wire::json("ping", big);
        let declared = head(small_addr, &big.headers, "Content-Length: 2048");
        assert_eq!(
            send_raw(small_addr, &declared, b"").await,
            (413, "body larger than the limit of 1024 bytes".to_owned())
        );
        // Over the limit while streaming, without a Content-Length.
        let streamed = head(small_addr, &big.headers, "Transfer-Encoding: chunked");
        assert_eq!(
            send_raw(small_addr, &streamed, &chunked(&big.body, 256))
                .await
                .0,
            413
        );
        // Exactly the limit is accepted, both ways.
        let mut exact = ping.clone();
        exact.resize(1024, b' ');
        let exact = Wire::json("ping", exact);
        assert_eq!(send(small_addr, &exact).await.0, 204);
        let exact_streamed = head(small_addr, &exact.headers, "Transfer-Encoding: chunked");
        assert_eq!(
            send_raw(small_addr, &exact_streamed, &chunked(&exact.body, 256))
                .await
                .0,
            204
        );
        assert_eq!(small_seen.try_recv().unwrap().info.body.len(), 1024);
        assert_eq!(small_seen.try_recv().unwrap().info.body.len(), 1024);
        assert_eq!(
            small_seen.try_recv().unwrap_err(),
            tokio::sync::mpsc::error::TryRecvError::Empty
        );
    }
}

/// A field of `/proc/self/status`, in KiB.
#[cfg(target_os = "linux")]
pub(crate) fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

/// Runs the test `name` of this binary alone in a child process (with
/// `child_env` set, so the test knows it is the child) and checks that it
/// ran and passed: memory is then measured with no other test's counted.
#[cfg(target_os = "linux")]
pub(crate) fn run_alone_in_child(name: &str, child_env: &str, value: &str) {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(child_env, value)
        .output()
        .unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "the measuring child failed:\n{report}"
    );
    assert!(
        report.contains("1 passed"),
        "the measuring child ran no test:\n{report}"
    );
    if let Some(at) = report.find("memory grew") {
        println!("{}", report[at..].lines().next().unwrap_or_default());
    }
}

/// The test below, run alone in a child process (this test binary, asked
/// for that one test) so that no other test's memory is counted. Linux
/// only: memory is read from `/proc/self/status`.
#[cfg(target_os = "linux")]
#[test]
fn a_100_mib_chunked_body_is_refused_with_bounded_memory() {
    const CHILD: &str = "ICR_WEBHOOKS_MEMORY_CHILD";
    if std::env::var_os(CHILD).is_some() {
        refuse_100_mib_and_measure();
        return;
    }
    run_alone_in_child(
        "loopback::a_100_mib_chunked_body_is_refused_with_bounded_memory",
        CHILD,
        "1",
    );
}

#[cfg(target_os = "linux")]
fn refuse_100_mib_and_measure() {
    const TOTAL: u64 = 100 * 1024 * 1024;
    const PIECE: usize = 64 * 1024;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // On axum only: the 1 GiB test of `limits` bounds every framework.
    runtime.block_on(async {
        let (addr, mut seen, _stop) = start_plain(Framework::Axum, receiver()).await;
        // One delivery first, so that what the first connection sets up
        // once is not counted.
        assert_eq!(send(addr, &Wire::ping()).await.0, 204);
        seen.try_recv().unwrap();
        // Reset the peak so that VmHWM tells the peak from here on (Linux
        // 4.0 and later); without it, the peak can only have grown less.
        let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        let before_rss = status_kib("VmRSS");
        let before_peak = status_kib("VmHWM");

        let wire = Wire::ping();
        let stream = TcpStream::connect(addr).await.unwrap();
        let (read, write) = stream.into_split();
        let head = head(addr, &wire.headers, "Transfer-Encoding: chunked");
        // the same 64 KiB of spaces, over and over.
        let writer = tokio::spawn(write_chunked(write, head, PIECE, TOTAL));
        let (status, reason) = read_response(read).await;
        let sent = writer.await.unwrap();

        let after_peak = status_kib("VmHWM");
        let growth_kib = if reset {
            after_peak.saturating_sub(before_rss)
        } else {
            after_peak.saturating_sub(before_peak)
        };
        println!("memory grew by {growth_kib} KiB; {sent} bytes sent; peak reset: {reset}");
        assert_eq!(status, 413, "{reason}");
        assert_eq!(reason, "body larger than the limit of 26214400 bytes");
        // The server drains the refused rest without keeping it (so that a
        // client still writing reads the 413 rather than a reset): all of it
        // may be read, none of it is held.
        assert!(sent <= TOTAL);
        assert!(
            growth_kib < 32 * 1024,
            "memory grew by {growth_kib} KiB while refusing a 100 MiB body (peak reset: {reset})"
        );
        assert_eq!(
            seen.try_recv().unwrap_err(),
            tokio::sync::mpsc::error::TryRecvError::Empty
        );
    });
}

/// Writes `head`, then a chunked body of `total` bytes in chunks of
/// `piece` spaces (one buffer, written over and over), then the last
/// chunk; stops at the first failed write. Gives the body bytes written.
pub(crate) async fn write_chunked(
    mut write: tokio::net::tcp::OwnedWriteHalf,
    head: Vec<u8>,
    piece: usize,
    total: u64,
) -> u64 {
    let chunk = vec![b' '; piece];
    let size_line = format!("{piece:x}\r\n");
    let mut sent: u64 = 0;
    if write.write_all(&head).await.is_err() {
        return sent;
    }
    while sent < total {
        let written = async {
            write.write_all(size_line.as_bytes()).await?;
            write.write_all(&chunk).await?;
            write.write_all(b"\r\n").await
        };
        if written.await.is_err() {
            return sent;
        }
        sent += piece as u64;
    }
    let _ = write.write_all(b"0\r\n\r\n").await;
    sent
}
