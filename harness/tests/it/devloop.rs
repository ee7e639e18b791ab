//! What the history and inspector tests share: a `listen` process in a
//! folder of its own (stopped with SIGINT, killed if it hangs), a blocking
//! loopback HTTP client, and deliveries sent the way ICR sends them.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use icr_webhooks::receive::Secret;
use icr_webhooks_harness::sender::{Attempt, Outgoing, Sender, SenderConfig};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_icr-webhooks");
pub(crate) const SECRET: &str = "whsec_devloop_5e1b";

/// A folder removed with its value.
pub(crate) struct Dir(pub(crate) PathBuf);

impl Dir {
    pub(crate) fn new() -> Self {
        let dir =
            std::env::temp_dir().join(format!("icr-devloop-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `listen`.
pub(crate) struct Listen {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub(crate) base: String,
    stderr: Arc<Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Listen {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Listen {
    /// `listen --addr 127.0.0.1:0 --secret SECRET --store sqlite:DIR/store.sqlite ARGS`,
    /// once it has said where its history is.
    pub(crate) fn start(dir: &Dir, args: &[&str]) -> Self {
        let mut command = Command::new(BIN);
        command.args(["listen", "--secret", SECRET]);
        if !args.contains(&"--addr") {
            command.args(["--addr", "127.0.0.1:0"]);
        }
        if !args.contains(&"--store") {
            command
                .arg("--store")
                .arg(format!("sqlite:{}", dir.path("store.sqlite").display()));
        }
        let mut child = command
            .args(args)
            .current_dir(&dir.0)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut reader = BufReader::new(child.stderr.take().unwrap());
        let mut text = String::new();
        let mut base = String::new();
        loop {
            let mut line = String::new();
            assert!(
                reader.read_line(&mut line).unwrap() > 0,
                "listen ended:\n{text}{line}"
            );
            if let Some(url) = line
                .split_whitespace()
                .find(|word| word.starts_with("http://"))
            {
                if base.is_empty() {
                    base = url.trim_end_matches('/').to_owned();
                }
            }
            text.push_str(&line);
            if line.starts_with("history ") {
                break;
            }
        }
        let stderr = Arc::new(Mutex::new(text));
        let sink = Arc::clone(&stderr);
        let reader = std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = reader.read_to_string(&mut rest);
            sink.lock().unwrap().push_str(&rest);
        });
        Self {
            child,
            base,
            stderr,
            reader: Some(reader),
        }
    }

    pub(crate) fn webhook(&self) -> String {
        format!("{}/webhook", self.base)
    }

    /// Stops it as Ctrl-C does (killed after 30 s); what it printed on stderr.
    pub(crate) fn stop(mut self) -> String {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-INT", &pid])
                .status()
                .unwrap()
                .success()
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        let exit = loop {
            if let Some(exit) = self.child.try_wait().unwrap() {
                break exit;
            }
            assert!(Instant::now() < deadline, "listen did not stop");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(exit.success(), "listen exited with {exit}");
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        self.stderr.lock().unwrap().clone()
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.text()))
    }
}

/// One request over a fresh connection (`Connection: close`).
pub(crate) fn http(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    let rest = url.strip_prefix("http://").unwrap();
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut stream = TcpStream::connect(authority).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("host"))
    {
        head.push_str(&format!("Host: {authority}\r\n"));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|line| {
            let (name, value) = line.split_once(':').unwrap();
            (name.to_ascii_lowercase(), value.trim().to_owned())
        })
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v == "chunked")
    {
        body = dechunk(&body);
    }
    Answer {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..end]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[end + 2..end + 2 + size]);
        data = &data[end + 2 + size + 2..];
    }
}

pub(crate) fn get(url: &str) -> Answer {
    http("GET", url, &[], b"")
}

/// An inspector action: `POST` with `X-ICR-Inspector: 1`.
pub(crate) fn act(url: &str) -> Answer {
    http("POST", url, &[("X-ICR-Inspector", "1")], b"")
}

/// The summaries of the inspector's list, newest first.
pub(crate) fn rows(base: &str) -> Vec<serde_json::Value> {
    let answer = get(&format!("{base}/_icr/api/deliveries"));
    assert_eq!(answer.status, 200, "{}", answer.text());
    answer.json()["deliveries"].as_array().unwrap().clone()
}

/// A ping whose body holds `marker`.
pub(crate) fn ping(marker: &str) -> Outgoing {
    Outgoing::new(
        "ping",
        format!(
            r#"{{"zen":"{marker}","hook_id":1,"hook":{{"id":1,"type":"App","name":"web","active":true,"events":[],"config":{{"url":"https://example.net/icr","content_type":"json","insecure_ssl":"0"}},"created_at":"2026-11-28T08:59:58Z","updated_at":"2026-11-28T08:59:58Z"}}}}"#
        ),
    )
}

/// Sends each delivery in turn, signed with `secret`, and returns the attempts.
pub(crate) fn send(url: &str, secret: &str, deliveries: &[Outgoing]) -> Vec<Attempt> {
    runtime().block_on(async {
        let sender = Sender::new(SenderConfig::new(url, Some(Secret::new(secret)))).unwrap();
        let mut attempts = Vec::new();
        for delivery in deliveries {
            attempts.push(sender.send(delivery).await);
        }
        attempts
    })
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The inspector's live stream, read as it comes.
pub(crate) struct Live {
    reader: BufReader<TcpStream>,
}

impl Live {
    /// Opens `/_icr/api/stream` (with `?token=` when given); once its
    /// answer's head is read, every new row is on it.
    pub(crate) fn open(base: &str, token: Option<&str>) -> Self {
        let authority = base.strip_prefix("http://").unwrap();
        let mut stream = TcpStream::connect(authority).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let query = token.map(|t| format!("?token={t}")).unwrap_or_default();
        write!(
            stream,
            "GET /_icr/api/stream{query} HTTP/1.1\r\nHost: {authority}\r\n\r\n"
        )
        .unwrap();
        let mut reader = BufReader::new(stream);
        let mut status = String::new();
        reader.read_line(&mut status).unwrap();
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line.trim().is_empty() {
                break;
            }
        }
        Self { reader }
    }

    /// The next `event: delivery`'s summary.
    pub(crate) fn next(&mut self) -> serde_json::Value {
        let mut event = String::new();
        loop {
            let mut line = String::new();
            assert!(
                self.reader.read_line(&mut line).unwrap() > 0,
                "the stream ended"
            );
            let line = line.trim_end();
            if let Some(name) = line.strip_prefix("event: ") {
                event = name.to_owned();
            } else if let Some(data) = line.strip_prefix("data: ") {
                if event == "delivery" {
                    return serde_json::from_str(data).unwrap();
                }
            }
        }
    }

    /// The next `count` summaries.
    pub(crate) fn take(&mut self, count: usize) -> Vec<serde_json::Value> {
        (0..count).map(|_| self.next()).collect()
    }
}
