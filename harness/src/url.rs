//! [`HttpUrl`], an `http://` URL to post to, parsed once for the mock
//! sender and for `listen`'s forwarding and replay: where to connect, the
//! `Host` header and the request target.

use http::{HeaderValue, Uri};

/// An `http://` URL with a host: where to connect (an IPv6 address without
/// its brackets), the `Host` header (host and port only, so that user info
/// in the URL never goes on the wire) and the request target (path and
/// query, `/` when empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    host: String,
    port: u16,
    authority: HeaderValue,
    path: Uri,
    text: String,
}

/// Why a text is not an [`HttpUrl`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{url}` is not an http:// URL to send to: {reason}")]
pub struct UrlError {
    /// The URL as given.
    pub url: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl std::str::FromStr for HttpUrl {
    type Err = UrlError;

    fn from_str(text: &str) -> Result<Self, UrlError> {
        let bad = |reason| UrlError {
            url: text.to_owned(),
            reason,
        };
        let uri: Uri = text.parse().map_err(|_| bad("not a URL"))?;
        if uri.scheme_str() != Some("http") {
            return Err(bad("only http:// URLs are supported"));
        }
        let authority = uri.authority().ok_or_else(|| bad("no host"))?;
        // `host()` keeps an IPv6 address's brackets: the `Host` header wants
        // them, the socket address does not.
        let bracketed = authority.host();
        let host = bracketed
            .strip_prefix('[')
            .and_then(|host| host.strip_suffix(']'))
            .unwrap_or(bracketed);
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let host_header = match authority.port() {
            Some(port) => format!("{bracketed}:{port}"),
            None => bracketed.to_owned(),
        };
        let path = match (uri.path(), uri.query()) {
            ("", None) => "/".to_owned(),
            ("", Some(query)) => format!("/?{query}"),
            (path, None) => path.to_owned(),
            (path, Some(query)) => format!("{path}?{query}"),
        };
        Ok(Self {
            host: host.to_owned(),
            port: authority.port_u16().unwrap_or(80),
            authority: HeaderValue::from_str(&host_header).map_err(|_| bad("not a URL"))?,
            path: path.parse().map_err(|_| bad("not a URL"))?,
            text: text.to_owned(),
        })
    }
}

impl std::fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl HttpUrl {
    /// The host to connect to (an IPv6 address without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port (80 when the URL names none).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `host:port` as in the `Host` header.
    pub fn authority(&self) -> &str {
        self.authority.to_str().unwrap_or_default()
    }

    /// The `Host` header's value.
    pub fn host_header(&self) -> &HeaderValue {
        &self.authority
    }

    /// The request target: path and query.
    pub fn target(&self) -> &Uri {
        &self.path
    }

    /// The same host with another path.
    #[must_use]
    pub fn with_path(&self, path: &str) -> Self {
        let mut url = self.clone();
        if let Ok(path) = path.parse() {
            url.path = path;
        }
        url.text = format!("http://{}{}", self.authority(), url.path);
        url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_split_once() {
        let url: HttpUrl = "http://[::1]:8080/hook?x=1".parse().unwrap();
        assert_eq!(
            (
                url.host(),
                url.port(),
                url.authority(),
                url.target().to_string()
            ),
            ("::1", 8080, "[::1]:8080", "/hook?x=1".to_owned())
        );
        let bare: HttpUrl = "http://example.net".parse().unwrap();
        assert_eq!(
            (bare.port(), bare.target().to_string()),
            (80, "/".to_owned())
        );
        assert_eq!(
            "https://example.net/".parse::<HttpUrl>(),
            Err(UrlError {
                url: "https://example.net/".to_owned(),
                reason: "only http:// URLs are supported"
            })
        );
        assert_eq!(
            bare.with_path("/_icr/").to_string(),
            "http://example.net/_icr/"
        );
    }
}
