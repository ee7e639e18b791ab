//! Who may use the inspector: the bearer of `--ui-token` (compared in
//! constant time, as HMACs under a key drawn at start), or without a token
//! a browser that names `listen`'s loopback address in `Host`; and `POST`s
//! only with `X-ICR-Inspector: 1`, which no cross-site form can send.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use icr_webhooks::receive::{Secret, Signature};

use super::api::query;
use crate::listen::client::Url;

/// The header every inspector `POST` carries.
pub(crate) const ACTION_HEADER: &str = "x-icr-inspector";

/// The inspector's guard.
#[derive(Clone)]
pub(super) struct Guard(Arc<Rule>);

enum Rule {
    /// `--ui-token`: its HMAC under a key of this run.
    Token {
        key: Box<Secret>,
        expected: Signature,
    },
    /// Loopback without a token: the `Host` values that name `listen`.
    Loopback { hosts: Vec<String> },
}

impl Guard {
    pub(super) fn new(token: Option<&str>, self_url: &Url) -> Self {
        Self(Arc::new(match token {
            Some(token) => {
                let key = Box::new(Secret::new(uuid::Uuid::new_v4().as_bytes().to_vec()));
                let expected = key.sign(token.as_bytes());
                Rule::Token { key, expected }
            }
            None => {
                let port = self_url.port();
                Rule::Loopback {
                    hosts: ["127.0.0.1", "localhost", "[::1]"]
                        .iter()
                        .map(|host| format!("{host}:{port}"))
                        .chain([self_url.authority().to_owned()])
                        .collect(),
                }
            }
        }))
    }

    fn allows(&self, headers: &HeaderMap, uri: &http::Uri) -> bool {
        match &*self.0 {
            Rule::Token { key, expected } => {
                presented(headers, uri).is_some_and(|token| key.verify(expected, token.as_bytes()))
            }
            Rule::Loopback { hosts } => headers
                .get(header::HOST)
                .and_then(|host| host.to_str().ok())
                .is_some_and(|host| hosts.iter().any(|known| known.eq_ignore_ascii_case(host))),
        }
    }
}

/// The token in `Authorization: Bearer` or else in `?token=`.
fn presented(headers: &HeaderMap, uri: &http::Uri) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(|token| token.trim().to_owned())
        .or_else(|| {
            query(uri)
                .into_iter()
                .find(|(name, _)| name == "token")
                .map(|(_, token)| token)
        })
}

/// The middleware.
pub(super) async fn guard(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    if !guard.allows(request.headers(), request.uri()) {
        let why = match &*guard.0 {
            Rule::Token { .. } => {
                "the inspector needs its token: `Authorization: Bearer TOKEN`, or open /_icr/?token=TOKEN"
            }
            Rule::Loopback { .. } => "the inspector answers only to its loopback address",
        };
        let mut response = (StatusCode::UNAUTHORIZED, why).into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            http::HeaderValue::from_static("Bearer realm=\"icr-webhooks inspector\""),
        );
        return response;
    }
    if request.method() == Method::POST
        && request
            .headers()
            .get(ACTION_HEADER)
            .is_none_or(|value| value.as_bytes() != b"1")
    {
        return (
            StatusCode::FORBIDDEN,
            "inspector actions need the header `X-ICR-Inspector: 1`",
        )
            .into_response();
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    // The page's address may hold the token: it is never sent on, and
    // nothing of the inspector is cached.
    headers.insert(
        header::REFERRER_POLICY,
        http::HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        http::HeaderValue::from_static("nosniff"),
    );
    response
}
