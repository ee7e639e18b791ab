//! The inspector's actions on a recorded delivery: replay it (same GUID and
//! body bytes, re-signed with the current secret) or replay it as new (a
//! fresh GUID), copy it as a `curl` command, save it as a fixture.
//!
//! Replays go to `listen` itself, at the path the delivery came to: they
//! are checked, answered and recorded like any delivery (a replay of a
//! processed GUID shows as a repeat acknowledged without processing), and
//! with `--forward-to` forwarded to the app, whose answer is recorded too.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use bytes::Bytes;
use icr_webhooks::contract::header as icr;

use super::Inspector;
use super::api::{error, failed, json};
use crate::fixture::Fixture;
use crate::history::Recorded;
use crate::listen::client::{self, Url, is_hop_by_hop};

/// `POST /_icr/api/deliveries/ID/replay`.
pub(super) async fn replay(State(inspector): State<Inspector>, Path(id): Path<i64>) -> Response {
    send(&inspector, id, false).await
}

/// `POST /_icr/api/deliveries/ID/replay-new`.
pub(super) async fn replay_new(
    State(inspector): State<Inspector>,
    Path(id): Path<i64>,
) -> Response {
    send(&inspector, id, true).await
}

/// A recorded delivery ready to send again: where, its headers signed
/// afresh, its exact body.
struct Resend {
    url: Url,
    headers: HeaderMap,
    body: Bytes,
}

/// The delivery `id` as it would be sent again, to `listen` itself or (for
/// `curl`) to the app; `fresh` gives it a new GUID.
async fn resend(
    inspector: &Inspector,
    id: i64,
    fresh: bool,
    to_app: bool,
) -> Result<Resend, Response> {
    let Recorded {
        path,
        headers: recorded,
        body,
    } = match inspector.history.replay_source(id).await {
        Ok(Some(source)) => source,
        Ok(None) => {
            return Err(error(
                StatusCode::NOT_FOUND,
                "no such delivery in the history",
            ));
        }
        Err(failure) => return Err(failed(&failure)),
    };
    let mut headers = client::header_map(&recorded);
    headers.remove(icr::SIGNATURE_256);
    if fresh {
        let guid = uuid::Uuid::new_v4().hyphenated().to_string();
        if let Ok(value) = HeaderValue::from_str(&guid) {
            headers.insert(icr::DELIVERY, value);
        }
    }
    let forward = inspector.forward.as_ref().filter(|_| to_app);
    let secret = forward
        .and_then(|forward| forward.secret.as_ref())
        .unwrap_or(&inspector.secret);
    if let Ok(value) = HeaderValue::from_str(&secret.sign(&body).to_string()) {
        headers.insert(icr::SIGNATURE_256, value);
    }
    let url = match forward {
        Some(forward) => forward.url.clone(),
        None => inspector.self_url.with_path(&path),
    };
    Ok(Resend {
        url,
        headers,
        body: Bytes::from(body),
    })
}

async fn send(inspector: &Inspector, id: i64, fresh: bool) -> Response {
    let resend = match resend(inspector, id, fresh, false).await {
        Ok(resend) => resend,
        Err(response) => return response,
    };
    let guid = resend
        .headers
        .get(icr::DELIVERY)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    match client::post(
        &resend.url,
        &resend.headers,
        resend.body,
        icr_webhooks::contract::RESPONSE_TIMEOUT,
    )
    .await
    {
        Ok(answer) => json(
            StatusCode::OK,
            &serde_json::json!({
                "guid": guid,
                "url": resend.url.to_string(),
                "status": answer.status.as_u16(),
                "latency_ms": u64::try_from(answer.latency.as_millis()).unwrap_or(u64::MAX),
            }),
        ),
        Err(failure) => error(StatusCode::BAD_GATEWAY, &failure),
    }
}

/// `GET /_icr/api/deliveries/ID/curl`: a command that sends the delivery
/// to the app behind `--forward-to` (else to `listen`), signed afresh.
pub(super) async fn curl(State(inspector): State<Inspector>, Path(id): Path<i64>) -> Response {
    match resend(&inspector, id, false, true).await {
        Ok(resend) => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            curl_command(&resend.url, &resend.headers, &resend.body),
        )
            .into_response(),
        Err(response) => response,
    }
}

/// `printf -- 'BODY' | curl … --data-binary @-`: the body as a `printf`
/// format (exact bytes, any POSIX shell), each header as `-H`.
pub(crate) fn curl_command(url: &Url, headers: &HeaderMap, body: &[u8]) -> String {
    let mut command = format!(
        "printf -- '{}' |\n  curl -sS -X POST {}",
        printf_format(body),
        quote(&url.to_string())
    );
    for (name, value) in headers {
        if is_hop_by_hop(name.as_str()) {
            continue;
        }
        let value = String::from_utf8_lossy(value.as_bytes());
        command.push_str(&format!(
            " \\\n    -H {}",
            quote(&format!("{name}: {value}"))
        ));
    }
    command.push_str(" \\\n    --data-binary @-\n");
    command
}

/// `text` in single quotes for a POSIX shell.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// `body` as the inside of a single-quoted `printf` format that prints it
/// exactly: `\`, `%` and `'` escaped, newlines as `\n`, other control
/// characters and bytes that are not UTF-8 as octal `\ooo`.
fn printf_format(body: &[u8]) -> String {
    let mut out = String::with_capacity(body.len() + body.len() / 8);
    for chunk in body.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str(r"\\"),
                '%' => out.push_str("%%"),
                '\'' => out.push_str(r"'\''"),
                '\n' => out.push_str(r"\n"),
                c if c.is_ascii_control() => out.push_str(&format!("\\{:03o}", u32::from(c))),
                c => out.push(c),
            }
        }
        for byte in chunk.invalid() {
            out.push_str(&format!("\\{byte:03o}"));
        }
    }
    out
}

/// `POST /_icr/api/deliveries/ID/fixture`: writes the delivery in the
/// fixture format (headers without the signature, exact body) into
/// `--fixtures-dir`, created when missing.
pub(super) async fn fixture(State(inspector): State<Inspector>, Path(id): Path<i64>) -> Response {
    let Recorded {
        headers: recorded,
        body,
        ..
    } = match inspector.history.replay_source(id).await {
        Ok(Some(source)) => source,
        Ok(None) => return error(StatusCode::NOT_FOUND, "no such delivery in the history"),
        Err(failure) => return failed(&failure),
    };
    let fixture = Fixture::from_request(&client::header_map(&recorded), Bytes::from(body));
    let path = inspector.fixtures_dir.join(fixture.file_name());
    let dir = inspector.fixtures_dir.clone();
    let written = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir)
                .map_err(|cause| format!("cannot create {}: {cause}", dir.display()))?;
            fixture
                .save(&path)
                .map_err(|cause| match std::error::Error::source(&cause) {
                    Some(source) => format!("{cause}: {source}"),
                    None => cause.to_string(),
                })
        })
        .await
    };
    match written {
        Ok(Ok(())) => json(
            StatusCode::OK,
            &serde_json::json!({ "path": path.display().to_string() }),
        ),
        Ok(Err(why)) => error(StatusCode::INTERNAL_SERVER_ERROR, &why),
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "the fixture task failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printf_formats_escape_what_printf_and_the_shell_would_change() {
        for (body, format) in [
            (&b"{\"a\":1}"[..], r#"{"a":1}"#),
            (b"50% it's a\\b\n", r"50%% it'\''s a\\b\n"),
            (b"\t\x00\xff", r"\011\000\377"),
            ("é".as_bytes(), "é"),
        ] {
            assert_eq!(printf_format(body), format);
        }
    }
}
