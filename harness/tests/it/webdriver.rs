//! A small blocking WebDriver client for the browser tests: Debian's
//! `chromedriver` started on a free loopback port, one headless Chromium
//! session, and the few commands the tests use (navigate, find, click,
//! type, wait on the DOM, screenshot), over plain HTTP and JSON.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

use super::devloop::Dir;

/// Where Debian puts the browser and its driver.
pub(crate) const CHROMIUM: &str = "/usr/bin/chromium";
pub(crate) const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How long any wait on the page may take.
const WAIT: Duration = Duration::from_secs(20);

/// The key of an element reference in WebDriver's JSON.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The keys `Enter` and `Escape` as WebDriver writes them.
pub(crate) const ENTER: &str = "\u{e007}";
pub(crate) const ESCAPE: &str = "\u{e00c}";

/// Whether the browser tests can run here: both programs present. When they
/// are not, `None` with what is missing.
pub(crate) fn missing() -> Option<String> {
    let absent: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|path| !Path::new(path).exists())
        .collect();
    (!absent.is_empty()).then(|| absent.join(" and "))
}

/// A headless Chromium driven by its own `chromedriver`; both stop with it
/// (the session is deleted, which quits the browser, then the driver is
/// killed by its PID).
pub(crate) struct Browser {
    driver: Child,
    base: String,
    session: String,
    /// The browser's PID, as the driver tells it.
    chromium: Option<u64>,
    _profile: Dir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let deleted = call(
            &self.base,
            "DELETE",
            &format!("/session/{}", self.session),
            None,
        );
        if let (Err(_), Some(pid)) = (deleted, self.chromium) {
            // The driver could not quit it: stopped by its PID.
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// An element of the page.
#[derive(Debug, Clone)]
pub(crate) struct Element(String);

impl Browser {
    /// Starts `chromedriver --port=0` and a session of a headless Chromium
    /// with a window of `width`×`height` and a profile of its own.
    pub(crate) fn start(width: u32, height: u32) -> Self {
        let mut driver = Command::new(CHROMEDRIVER)
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let stdout = driver.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("started successfully on port ").nth(1) {
                    let _ = tx.send(rest.trim_end_matches('.').to_owned());
                }
            }
        });
        let port = match rx.recv_timeout(WAIT) {
            Ok(port) => port,
            Err(_) => {
                let _ = driver.kill();
                let _ = driver.wait();
                panic!("chromedriver did not say its port within {WAIT:?}");
            }
        };
        let base = format!("http://127.0.0.1:{port}");
        let profile = Dir::new();
        let capabilities = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": CHROMIUM,
                    "args": [
                        "--headless=new",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-background-networking",
                        "--disable-dev-shm-usage",
                        "--no-first-run",
                        "--hide-scrollbars",
                        format!("--window-size={width},{height}"),
                        format!("--user-data-dir={}", profile.0.display()),
                    ],
                },
            }},
        });
        let (session, chromium) = match call(&base, "POST", "/session", Some(&capabilities)) {
            Ok(answer) => (
                answer["sessionId"].as_str().unwrap().to_owned(),
                answer["capabilities"]["goog:processID"].as_u64(),
            ),
            Err(failure) => {
                let _ = driver.kill();
                let _ = driver.wait();
                panic!("no browser session: {failure}");
            }
        };
        let browser = Self {
            driver,
            base,
            session,
            chromium,
            _profile: profile,
        };
        let millis = u64::try_from(WAIT.as_millis()).unwrap();
        browser.post(
            "/timeouts",
            &json!({ "script": millis, "pageLoad": millis }),
        );
        // The window holds a (virtual) browser frame: grown by it, so that
        // the page itself is `width`×`height`.
        let frame = browser.run(
            "return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight];",
        );
        let grow = |at: usize| u32::try_from(frame[at].as_u64().unwrap()).unwrap();
        browser.post(
            "/window/rect",
            &json!({ "width": width + grow(0), "height": height + grow(1) }),
        );
        browser
    }

    /// A command of the session; its `value`.
    fn command(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let path = format!("/session/{}{path}", self.session);
        match call(&self.base, method, &path, body) {
            Ok(answer) => answer,
            Err(failure) => panic!("{method} {path}: {failure}"),
        }
    }

    fn post(&self, path: &str, body: &Value) -> Value {
        self.command("POST", path, Some(body))
    }

    fn get(&self, path: &str) -> Value {
        self.command("GET", path, None)
    }

    /// Loads `url` and waits for it.
    pub(crate) fn open(&self, url: &str) {
        self.post("/url", &json!({ "url": url }));
    }

    /// The elements matching a CSS selector, now.
    pub(crate) fn find_all(&self, css: &str) -> Vec<Element> {
        let found = self.post(
            "/elements",
            &json!({ "using": "css selector", "value": css }),
        );
        found
            .as_array()
            .unwrap()
            .iter()
            .map(|element| match element[ELEMENT].as_str() {
                Some(id) => Element(id.to_owned()),
                None => panic!("not an element: {element}"),
            })
            .collect()
    }

    /// The one element matching a CSS selector, waited for.
    pub(crate) fn find(&self, css: &str) -> Element {
        let selector = serde_json::to_string(css).unwrap();
        self.wait_for(&format!("document.querySelector({selector})"));
        let mut found = self.find_all(css);
        assert_eq!(found.len(), 1, "{css}");
        found.remove(0)
    }

    /// Runs `script` (a function body) in the page; what it returns.
    pub(crate) fn run(&self, script: &str) -> Value {
        self.post("/execute/sync", &json!({ "script": script, "args": [] }))
    }

    /// Waits until the JS expression `condition` is truthy, and returns its
    /// value: checked now and on every change of the page (a
    /// `MutationObserver`, so no polling), given up after [`WAIT`].
    pub(crate) fn wait_for(&self, condition: &str) -> Value {
        let script = format!(
            "const done = arguments[arguments.length - 1];
             const check = () => {{ try {{ return ({condition}); }} catch (_) {{ return null; }} }};
             const now = check();
             if (now) return done(now);
             const observer = new MutationObserver(() => {{
               const value = check();
               if (value) {{ observer.disconnect(); done(value); }}
             }});
             observer.observe(document, {{ subtree: true, childList: true, attributes: true, characterData: true }});"
        );
        let path = format!("/session/{}/execute/async", self.session);
        let body = json!({ "script": script, "args": [] });
        match call(&self.base, "POST", &path, Some(&body)) {
            Ok(value) => value,
            Err(failure) => {
                let state = self.run("return document.body.innerText;");
                panic!(
                    "waited {WAIT:?} for `{condition}`: {failure}\nthe page reads:\n{}",
                    state.as_str().unwrap_or_default()
                );
            }
        }
    }

    /// Clicks `element`.
    pub(crate) fn click(&self, element: &Element) {
        self.post(&format!("/element/{}/click", element.0), &json!({}));
    }

    /// Focuses `element` and types `keys` into it.
    pub(crate) fn type_keys(&self, element: &Element, keys: &str) {
        self.post(
            &format!("/element/{}/value", element.0),
            &json!({ "text": keys }),
        );
    }

    /// The rendered text of `element`.
    pub(crate) fn text(&self, element: &Element) -> String {
        let text = self.get(&format!("/element/{}/text", element.0));
        text.as_str().unwrap().to_owned()
    }

    /// The viewport as a PNG, written to `path`; its width and height.
    pub(crate) fn screenshot(&self, path: &Path) -> (u32, u32) {
        let encoded = self.get("/screenshot");
        let png = base64(encoded.as_str().unwrap());
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, &png).unwrap();
        let be = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
        (be(16), be(20))
    }
}

/// `target/`, found from the binary under test (`target/debug/icr-webhooks`).
pub(crate) fn target_dir() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_icr-webhooks"));
    bin.parent().unwrap().parent().unwrap().to_path_buf()
}

/// One WebDriver request over a fresh loopback connection; the answer's
/// `value`, or what went wrong (a WebDriver error's `error` and `message`).
fn call(base: &str, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
    let authority = base.strip_prefix("http://").unwrap();
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut stream = TcpStream::connect(authority).map_err(|e| e.to_string())?;
    // Past any wait of the page: the driver answers a timed-out script itself.
    stream
        .set_read_timeout(Some(WAIT + Duration::from_secs(20)))
        .map_err(|e| e.to_string())?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\
         Content-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body.as_bytes()))
        .map_err(|e| e.to_string())?;
    // chromedriver may keep the connection open: read the head, then
    // `Content-Length` bytes.
    let mut reader = BufReader::new(stream);
    let mut status = String::new();
    reader.read_line(&mut status).map_err(|e| e.to_string())?;
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).map_err(|e| e.to_string())?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().map_err(|_| "a bad Content-Length")?;
            }
        }
    }
    let mut raw = vec![0; length];
    reader.read_exact(&mut raw).map_err(|e| e.to_string())?;
    let ok = status.split_whitespace().nth(1) == Some("200");
    let answer: Value = serde_json::from_slice(&raw).map_err(|e| e.to_string())?;
    let value = answer["value"].clone();
    if ok {
        Ok(value)
    } else {
        Err(format!("{}: {}", value["error"], value["message"]))
    }
}

/// Standard base64, padding and all, as WebDriver sends a screenshot.
fn base64(text: &str) -> Vec<u8> {
    let sextet = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        other => panic!("not base64: {other}"),
    };
    let digits: Vec<u8> = text
        .bytes()
        .filter(|c| !matches!(c, b'=' | b'\n' | b'\r'))
        .map(sextet)
        .collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let bits = chunk
            .iter()
            .enumerate()
            .fold(0u32, |bits, (at, &d)| bits | u32::from(d) << (18 - 6 * at));
        let bytes = bits.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}

#[test]
fn base64_decodes_as_the_standard_says() {
    for (text, bytes) in [
        ("", &b""[..]),
        ("Zg==", b"f"),
        ("Zm8=", b"fo"),
        ("Zm9v", b"foo"),
        ("Zm9vYg==", b"foob"),
        ("+/+/", b"\xfb\xff\xbf"),
    ] {
        assert_eq!(base64(text), bytes, "{text}");
    }
}
