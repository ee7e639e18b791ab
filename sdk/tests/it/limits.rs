//! Bodies that would hold a receiver: trickled a byte at a time (given up
//! after the body timeout, answered 408 and the connection closed), 200 of
//! them at once while good deliveries are still answered, and 1 GiB sent
//! without a `Content-Length`, refused with 413 while the process's memory
//! stays within 32 MiB of where it was; each on axum, actix-web and hyper
//! behind the tower layer.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use crate::loopback::{read_response, runtime, send, write_chunked};
#[cfg(target_os = "linux")]
use crate::loopback::{run_alone_in_child, status_kib};
use crate::server::{Framework, Options, drain, start};
use crate::support::Wire;

/// How the body of a trickled request is framed.
#[derive(Clone, Copy)]
enum Framing {
    /// With its `Content-Length`, one byte per write.
    Length,
    /// Chunked, one byte per chunk.
    Chunked,
}

/// The request line and headers of `wire` (no `Connection: close`: it is
/// the server that must close).
fn open_head(addr: SocketAddr, wire: &Wire, framing: Framing) -> Vec<u8> {
    let framing = match framing {
        Framing::Length => format!("Content-Length: {}", wire.body.len()),
        Framing::Chunked => "Transfer-Encoding: chunked".to_owned(),
    };
    let mut head = format!("POST /webhook HTTP/1.1\r\nHost: {addr}\r\n{framing}\r\n").into_bytes();
    for (name, value) in &wire.headers {
        head.extend_from_slice(name.as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value);
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    head
}

/// What a trickling client saw.
struct Trickled {
    status: u16,
    reason: String,
    /// From the first byte of the body to the answer.
    after: Duration,
    /// When the answer came.
    at: Instant,
    /// Whether the server closed the connection after answering.
    closed: bool,
}

/// Sends the head of `wire`, then its body a byte every `every`, and reads
/// the answer; `ready` is told once the first byte is sent.
async fn trickle(
    addr: SocketAddr,
    wire: Wire,
    framing: Framing,
    every: Duration,
    ready: mpsc::UnboundedSender<()>,
) -> Trickled {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let head = open_head(addr, &wire, framing);
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let writer = tokio::spawn(async move {
        write.write_all(&head).await.unwrap();
        let mut started = Some(started_tx);
        for byte in wire.body {
            let piece = match framing {
                Framing::Length => vec![byte],
                Framing::Chunked => [b"1\r\n".as_slice(), &[byte], b"\r\n"].concat(),
            };
            if write.write_all(&piece).await.is_err() {
                return;
            }
            if let Some(started) = started.take() {
                let _ = started.send(Instant::now());
                let _ = ready.send(());
            }
            // The trickle itself: this is what is under test.
            tokio::time::sleep(every).await;
        }
    });
    let first_byte = started_rx.await.unwrap();
    let (status, reason) = read_response(&mut read).await;
    let at = Instant::now();
    let mut rest = [0_u8; 64];
    let closed = matches!(read.read(&mut rest).await, Ok(0) | Err(_));
    writer.abort();
    Trickled {
        status,
        reason,
        after: at - first_byte,
        at,
        closed,
    }
}

/// Sends `head` and `partial`, the start of a body, keeps the connection
/// open, and reads the answer; also tells whether the server closed the
/// connection after it.
pub(crate) async fn stalled(addr: SocketAddr, head: &[u8], partial: &[u8]) -> (u16, String) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    write.write_all(head).await.unwrap();
    write.write_all(partial).await.unwrap();
    let answer = read_response(&mut read).await;
    let mut rest = [0_u8; 16];
    assert!(
        matches!(read.read(&mut rest).await, Ok(0) | Err(_)),
        "the connection was left open"
    );
    drop(write);
    answer
}

#[test]
fn a_trickled_body_is_given_up_after_the_body_timeout() {
    runtime().block_on(async {
        for framework in Framework::ALL {
            trickled_on(framework).await;
        }
    });
}

async fn trickled_on(framework: Framework) {
    {
        let timeout = Duration::from_millis(300);
        let mut server = start(Options {
            body_timeout: Some(timeout),
            ..Options::on(framework)
        })
        .await;
        for framing in [Framing::Length, Framing::Chunked] {
            let (ready, _) = mpsc::unbounded_channel();
            let seen = trickle(
                server.addr,
                Wire::ping(),
                framing,
                Duration::from_millis(10),
                ready,
            )
            .await;
            assert_eq!(
                (seen.status, seen.reason.as_str()),
                (408, "request body not received within 300 ms"),
                "{framework:?}"
            );
            assert!(seen.after >= timeout, "{:?}", seen.after);
            assert!(seen.after < timeout * 10, "{:?}", seen.after);
            assert!(seen.closed, "{framework:?}: the connection was left open");
        }
        // A body that stalls half-way, on a connection kept open.
        let wire = Wire::ping();
        let head = open_head(server.addr, &wire, Framing::Length);
        assert_eq!(
            stalled(server.addr, &head, &wire.body[..wire.body.len() / 2]).await,
            (408, "request body not received within 300 ms".to_owned())
        );
        assert_eq!(drain(&mut server.started), Vec::<String>::new());
        // A good delivery on a fresh connection is still answered.
        assert_eq!(send(server.addr, &Wire::ping()).await.0, 200);
    }
}

#[test]
fn the_default_body_timeout_is_icr_s_wait() {
    assert_eq!(
        icr_webhooks::axum::DEFAULT_BODY_TIMEOUT,
        Duration::from_secs(10)
    );
    assert_eq!(
        icr_webhooks::axum::BodyTimeout::default(),
        icr_webhooks::axum::BodyTimeout(Duration::from_secs(10))
    );
}

/// How many connections trickle at once, and how many good deliveries are
/// sent meanwhile.
const TRICKLES: usize = 200;
const GOOD: u32 = 20;

#[test]
fn two_hundred_trickling_connections_do_not_stop_good_deliveries() {
    runtime().block_on(async {
        for framework in Framework::ALL {
            trickling_on(framework).await;
        }
    });
}

async fn trickling_on(framework: Framework) {
    {
        let timeout = Duration::from_secs(3);
        let mut server = start(Options {
            body_timeout: Some(timeout),
            ..Options::on(framework)
        })
        .await;
        let addr = server.addr;
        let (ready, mut all_ready) = mpsc::unbounded_channel();
        let trickles: Vec<_> = (0..TRICKLES)
            .map(|n| {
                let wire = Wire::ping().with(
                    icr_webhooks::contract::header::DELIVERY,
                    format!("{n:08x}-aaaa-4000-8000-000000000000"),
                );
                let framing = if n % 2 == 0 {
                    Framing::Length
                } else {
                    Framing::Chunked
                };
                tokio::spawn(trickle(
                    addr,
                    wire,
                    framing,
                    Duration::from_millis(50),
                    ready.clone(),
                ))
            })
            .collect();
        for _ in 0..TRICKLES {
            all_ready.recv().await.unwrap();
        }
        // Every trickle is in; good deliveries, some at once, all answered.
        let good: Vec<_> = (0..GOOD)
            .map(|n| {
                let wire = Wire::transfer_completed().with(
                    icr_webhooks::contract::header::DELIVERY,
                    format!("{n:08x}-bbbb-4000-8000-000000000000"),
                );
                tokio::spawn(async move { send(addr, &wire).await })
            })
            .collect();
        for answer in good {
            assert_eq!(answer.await.unwrap(), (200, String::new()), "{framework:?}");
        }
        let good_done = Instant::now();
        assert_eq!(drain(&mut server.processed).len(), GOOD as usize);
        for trickle in trickles {
            let seen = trickle.await.unwrap();
            assert_eq!(
                (seen.status, seen.reason.as_str()),
                (408, "request body not received within 3000 ms"),
                "{framework:?}"
            );
            assert!(
                seen.at > good_done,
                "{framework:?}: a trickle was given up before the good deliveries were answered"
            );
            assert!(seen.closed);
        }
        assert_eq!(drain(&mut server.processed), Vec::<String>::new());
    }
}

/// The test below, run alone in a child process (this test binary, asked
/// for that one test) so that no other test's memory is counted. Linux
/// only: memory is read from `/proc/self/status`.
#[cfg(target_os = "linux")]
#[test]
fn a_1_gib_body_without_content_length_is_refused_with_bounded_memory() {
    const CHILD: &str = "ICR_WEBHOOKS_GIB_CHILD";
    if let Ok(framework) = std::env::var(CHILD) {
        refuse_1_gib_and_measure(Framework::from_name(&framework));
        return;
    }
    // One child per framework, each measured alone.
    for framework in Framework::ALL {
        run_alone_in_child(
            "limits::a_1_gib_body_without_content_length_is_refused_with_bounded_memory",
            CHILD,
            framework.name(),
        );
    }
}

#[cfg(target_os = "linux")]
fn refuse_1_gib_and_measure(framework: Framework) {
    const TOTAL: u64 = 1024 * 1024 * 1024;
    const PIECE: usize = 256 * 1024;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut server = start(Options::on(framework)).await;
        let addr = server.addr;
        // One delivery first, so that what the first connection sets up
        // once is not counted.
        assert_eq!(send(addr, &Wire::ping()).await.0, 200);
        assert_eq!(drain(&mut server.processed).len(), 1);
        assert_eq!(drain(&mut server.started).len(), 1);
        // Reset the peak so that VmHWM tells the peak from here on.
        let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        let before_rss = status_kib("VmRSS");
        let before_peak = status_kib("VmHWM");
        let started = Instant::now();

        let wire = Wire::transfer_completed();
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut read, write) = stream.into_split();
        let head = open_head(addr, &wire, Framing::Chunked);
        // the same 256 KiB, over and over, 1 GiB in all.
        let writer = tokio::spawn(write_chunked(write, head, PIECE, TOTAL));
        let (status, reason) = read_response(&mut read).await;
        let answered = started.elapsed();
        let sent = writer.await.unwrap();

        let after_peak = status_kib("VmHWM");
        let growth_kib = if reset {
            after_peak.saturating_sub(before_rss)
        } else {
            after_peak.saturating_sub(before_peak)
        };
        println!(
            "memory grew by {growth_kib} KiB ({framework:?}); 413 after {answered:?}; {sent} bytes sent in {:?}; peak reset: {reset}",
            started.elapsed()
        );
        assert_eq!(
            (status, reason.as_str()),
            (413, "body larger than the limit of 26214400 bytes"),
            "{framework:?}"
        );
        assert!(
            growth_kib < 32 * 1024,
            "{framework:?}: memory grew by {growth_kib} KiB while refusing a 1 GiB body (peak reset: {reset})"
        );
        assert_eq!(drain(&mut server.started), Vec::<String>::new());
    });
}
