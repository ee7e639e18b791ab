//! An app that answers before the body is all sent: the connection that
//! is still writing is not handed to the next delivery.

use super::*;

/// An app that answers 413 as soon as it has the headers and then holds the
/// connection without reading the body, as a receiver refusing an oversized
/// body may.
pub(super) async fn app_answering_before_the_body() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0_u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if socket.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let answer = b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 0\r\n\r\n";
                if socket.write_all(answer).await.is_ok() {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                }
            });
        }
    });
    format!("http://{addr}/hook")
}

#[tokio::test]
pub(super) async fn a_connection_still_writing_a_refused_body_is_not_handed_to_the_next_delivery() {
    let url = app_answering_before_the_body().await;
    let mut config = SenderConfig::new(url, Some(Secret::new(SECRET)));
    config.timeout = Duration::from_secs(3);
    let sender = Sender::new(config).unwrap();
    // Far more than loopback's socket buffers hold: the write stalls.
    let big = Outgoing::new("ping", vec![b' '; 32 << 20]);
    let first = sender.send(&big).await;
    assert_eq!((first.status, first.failure), (Some(413), None));
    let second = sender.send(&Outgoing::new("ping", PING.to_vec())).await;
    assert_eq!((second.status, second.failure), (Some(413), None));
}
