//! HTTPS POST over libcurl with the safety rules every call follows:
//! certificate and host verification always on, no redirects, bounded time
//! and response size.
//!
//! A [`Transport`] owns one curl handle; reusing it keeps the connection
//! (HTTP keep-alive, TLS session) between requests.

use std::time::Duration;

use curl::easy::{Easy, List};

use crate::error::{Error, Result, Status};
use crate::secret::SecretBuf;
use crate::trust::{self, TrustAnchors};

/// Responses larger than this are abandoned: a token answer is a few hundred
/// bytes, so anything this big is a misbehaving or hostile server.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

pub const USER_AGENT: &str = concat!("snapb2b/", env!("CARGO_PKG_VERSION"));

/// Per-request limits and trust.
#[derive(Debug, Clone)]
pub struct Limits {
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Certificates trusted on top of the system store.
    pub ca_file: Option<TrustAnchors>,
}

#[derive(Debug, Clone, Default)]
pub struct Response {
    pub status: u32,
    /// Header names as received; look them up with [`Response::header`].
    pub headers: Vec<(String, String)>,
    /// Holds the access token: wiped when dropped and as it grows.
    pub body: SecretBuf,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

pub struct Transport {
    /// Created by the first request; replaced when the trust changes.
    handle: Option<Handle>,
}

/// A curl handle and the trust it was set up with: a connection verified
/// under one `ca_file` must not be reused under another.
struct Handle {
    easy: Easy,
    trust: Option<TrustAnchors>,
}

impl Handle {
    fn new(trust: Option<TrustAnchors>) -> std::result::Result<Handle, curl::Error> {
        let mut easy = Easy::new();
        easy.ssl_verify_peer(true)?;
        easy.ssl_verify_host(true)?;
        // TLS 1.2 or newer, whatever the system's OpenSSL defaults are.
        easy.ssl_version(curl::easy::SslVersion::Tlsv12)?;
        trust::configure(&mut easy, trust.as_ref())?;
        easy.follow_location(false)?;
        easy.useragent(USER_AGENT)?;
        easy.signal(false)?;
        easy.tcp_nodelay(true)?;
        Ok(Handle { easy, trust })
    }

    fn trusts_the_same(&self, trust: Option<&TrustAnchors>) -> bool {
        match (&self.trust, trust) {
            (Some(was), Some(now)) => was.same_as(now),
            (None, None) => true,
            _ => false,
        }
    }
}

impl Default for Transport {
    fn default() -> Self {
        Transport::new()
    }
}

impl Transport {
    pub fn new() -> Transport {
        Transport { handle: None }
    }

    /// POSTs `body` as JSON to `url` and returns whatever HTTP answer came
    /// back (any status). Transport-level failures map to TRANSPORT, TIMEOUT
    /// or PROTOCOL (oversized answer).
    pub fn post_json(
        &mut self,
        url: &str,
        headers: &[(&str, String)],
        body: &[u8],
        limits: &Limits,
    ) -> Result<Response> {
        let easy = self
            .configure(url, headers, body, limits)
            .map_err(|e| Error::new(Status::B2B_INTERNAL, format!("curl setup failed: {e}")))?;

        let mut response = Response::default();
        let mut too_big = false;
        let mut unsent = body;
        let outcome = {
            let mut transfer = easy.transfer();
            transfer
                .read_function(|buf| {
                    let n = buf.len().min(unsent.len());
                    buf[..n].copy_from_slice(&unsent[..n]);
                    unsent = &unsent[n..];
                    Ok(n)
                })
                .and_then(|_| {
                    transfer.write_function(|data| {
                        if response.body.len() + data.len() > MAX_RESPONSE_BYTES {
                            too_big = true;
                            return Ok(0); // makes curl abort the transfer
                        }
                        response.body.extend_from_slice(data);
                        Ok(data.len())
                    })
                })
                .and_then(|_| {
                    transfer.header_function(|line| {
                        collect_header(&mut response.headers, line);
                        true
                    })
                })
                .and_then(|_| transfer.perform())
        };
        // A declared Content-Length over the limit is refused by curl at once
        // (max_filesize); a chunked or undeclared one by the write callback.
        if too_big || outcome.as_ref().is_err_and(|e| e.is_filesize_exceeded()) {
            return Err(Error::protocol(format!(
                "response from {url} exceeds the {} KiB limit; abandoned",
                MAX_RESPONSE_BYTES / 1024
            )));
        }
        if let Err(e) = outcome {
            // Still connecting when time ran out: say which limit fired.
            let connecting = easy.num_connects().unwrap_or(0) > 0
                && easy.appconnect_time().map_or(true, |t| t.is_zero());
            return Err(map_curl_error(&e, url, limits, connecting));
        }
        response.status = easy.response_code().unwrap_or(0);
        Ok(response)
    }

    /// Readies the handle for one request and returns it.
    fn configure(
        &mut self,
        url: &str,
        headers: &[(&str, String)],
        body: &[u8],
        limits: &Limits,
    ) -> std::result::Result<&mut Easy, curl::Error> {
        let trust = limits.ca_file.as_ref();
        let handle = match self.handle.take() {
            Some(h) if h.trusts_the_same(trust) => h,
            // A new handle rather than a reset: libcurl keeps connections and
            // its cached trust store with the handle.
            _ => Handle::new(trust.cloned())?,
        };
        let easy = &mut self.handle.insert(handle).easy;
        easy.url(url)?;
        easy.post(true)?;
        // Streamed from our buffer by the read callback rather than copied
        // into curl, whose copy of a Klikoo body (with the client secret)
        // would be freed unwiped.
        easy.post_field_size(body.len() as u64)?;
        easy.timeout(limits.timeout)?;
        easy.max_filesize(MAX_RESPONSE_BYTES as u64)?;
        easy.connect_timeout(limits.connect_timeout)?;
        let mut list = List::new();
        list.append("Content-Type: application/json")?;
        list.append("Accept: application/json")?;
        // No `Expect: 100-continue` round trip.
        list.append("Expect:")?;
        for (name, value) in headers {
            list.append(&format!("{name}: {value}"))?;
        }
        easy.http_headers(list)?;
        Ok(easy)
    }
}

fn collect_header(headers: &mut Vec<(String, String)>, line: &[u8]) {
    let Ok(line) = std::str::from_utf8(line) else {
        return;
    };
    let line = line.trim_end();
    if line.starts_with("HTTP/") {
        // A new status line (after a 100 Continue, say) starts a new set.
        headers.clear();
    } else if let Some((name, value)) = line.split_once(':') {
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
}

fn map_curl_error(e: &curl::Error, url: &str, limits: &Limits, connecting: bool) -> Error {
    let extra = e.extra_description().unwrap_or("");
    let detail = if extra.is_empty() {
        e.description().to_string()
    } else {
        format!("{}: {extra}", e.description())
    };
    if e.is_operation_timedout() && connecting {
        return Error::new(
            Status::B2B_TIMEOUT,
            format!(
                "no connection to {url} within {} ms (connect_timeout_ms covers the TCP connect and TLS handshake; {detail})",
                limits.connect_timeout.min(limits.timeout).as_millis()
            ),
        );
    }
    if e.is_operation_timedout() {
        return Error::new(
            Status::B2B_TIMEOUT,
            format!(
                "no complete answer from {url} within {} ms ({detail})",
                limits.timeout.as_millis()
            ),
        );
    }
    let what = if e.is_couldnt_resolve_host() {
        "cannot resolve host"
    } else if e.is_couldnt_connect() {
        "cannot connect"
    } else if e.is_peer_failed_verification() && extra.contains("does not match") {
        "TLS certificate is not valid for this host name"
    } else if e.is_peer_failed_verification() && extra.contains("expired") {
        "TLS certificate has expired"
    } else if e.is_peer_failed_verification() || e.is_ssl_cacert() || e.is_ssl_cacert_badfile() {
        "TLS certificate not trusted"
    } else if e.is_ssl_connect_error() || e.is_ssl_certproblem() {
        "TLS handshake failed"
    } else if e.is_got_nothing() || e.is_recv_error() || e.is_send_error() || e.is_partial_file() {
        "connection dropped"
    } else {
        "request failed"
    };
    Error::new(Status::B2B_TRANSPORT, format!("{what}: {url}: {detail}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_body() {
        let r = Response {
            status: 200,
            headers: vec![("Date".into(), "x".into())],
            body: br#"{"accessToken":"tok-secret"}"#.as_slice().into(),
        };
        let shown = format!("{r:?}");
        assert!(!shown.contains("tok-secret"), "{shown}");
        assert!(shown.contains("28 bytes"), "{shown}");
    }
}
