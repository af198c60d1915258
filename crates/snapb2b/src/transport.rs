//! HTTPS POST over libcurl with the safety rules every call follows:
//! certificate and host verification always on, no redirects, bounded time
//! and response size.
//!
//! A [`Transport`] owns one curl handle; reusing it keeps the connection
//! (HTTP keep-alive, TLS session) between requests.

use std::cell::Cell;
use std::io::SeekFrom;
use std::time::Duration;

use curl::easy::{Easy, List, SeekResult};

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
        // One connection per handle (concurrent requests take other handles
        // from the client's pool): a connection replaced after it died is
        // closed, not kept in libcurl's cache where a later request could
        // pick it and fail again.
        easy.max_connects(1)?;
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
    /// or PROTOCOL (oversized answer). For token requests: they move no
    /// money, so a request cut off by a dead keep-alive connection is sent
    /// again on a fresh one.
    pub fn post_json(
        &mut self,
        url: &str,
        headers: &[(&str, String)],
        body: &[u8],
        limits: &Limits,
    ) -> Result<Response> {
        let request = Request {
            method: "POST",
            url,
            headers,
            body,
            max_response_bytes: MAX_RESPONSE_BYTES,
            resend_on_dead_connection: true,
        };
        self.send(&request, limits).map_err(|f| f.error)
    }

    /// Sends one request and returns whatever HTTP answer came back (any
    /// status). A failure says whether the request may have reached the
    /// server ([`Delivery`]).
    pub fn send<N: AsRef<str>>(
        &mut self,
        request: &Request<'_, N>,
        limits: &Limits,
    ) -> std::result::Result<Response, Failure> {
        let url = request.url;
        let easy = self.configure(request, limits).map_err(|e| Failure {
            error: Error::new(Status::B2B_INTERNAL, format!("curl setup failed: {e}")),
            delivery: Delivery::NotSent,
            reused_connection: false,
        })?;

        let body = request.body;
        let limit = request.max_response_bytes;
        let mut response = Response::default();
        let mut too_big = false;
        // Shared by the read and seek callbacks.
        let offset = Cell::new(0usize);
        let outcome = {
            let mut transfer = easy.transfer();
            transfer
                .read_function(|buf| {
                    let unsent = &body[offset.get()..];
                    let n = buf.len().min(unsent.len());
                    buf[..n].copy_from_slice(&unsent[..n]);
                    offset.set(offset.get() + n);
                    Ok(n)
                })
                .and_then(|_| {
                    // libcurl rewinds the body when a reused connection died
                    // under the request and it wants to send it again on a
                    // new one. Only where that cannot move money twice.
                    transfer.seek_function(|whence| match whence {
                        SeekFrom::Start(0) if request.resend_on_dead_connection => {
                            offset.set(0);
                            SeekResult::Ok
                        }
                        _ => SeekResult::CantSeek,
                    })
                })
                .and_then(|_| {
                    transfer.write_function(|data| {
                        if response.body.len() + data.len() > limit {
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
        // Either way the request was sent.
        if too_big || outcome.as_ref().is_err_and(|e| e.is_filesize_exceeded()) {
            return Err(Failure {
                error: Error::protocol(format!(
                    "response from {url} exceeds the {} KiB limit; abandoned",
                    limit / 1024
                )),
                delivery: Delivery::MaybeSent,
                reused_connection: false,
            });
        }
        if let Err(e) = outcome {
            // Still connecting when time ran out: say which limit fired.
            let connecting = easy.num_connects().unwrap_or(0) > 0
                && easy.appconnect_time().map_or(true, |t| t.is_zero());
            return Err(Failure {
                error: map_curl_error(&e, url, limits, connecting),
                delivery: delivery_of(&e, connecting),
                reused_connection: easy.num_connects().unwrap_or(0) == 0,
            });
        }
        response.status = easy.response_code().unwrap_or(0);
        Ok(response)
    }

    /// Readies the handle for one request and returns it.
    fn configure<N: AsRef<str>>(
        &mut self,
        request: &Request<'_, N>,
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
        // libcurl checks an idle connection's health only when it was last
        // checked over a second ago, so one the provider closed or reset
        // just after its answer would be reused and the request written
        // into a dead socket: then a token request needs a re-send and a
        // service call fails as "may have been sent". Looking first costs
        // one poll().
        easy.fresh_connect(kept_connection_is_dead(easy))?;
        easy.url(request.url)?;
        if request.method == "GET" && request.body.is_empty() {
            easy.get(true)?;
        } else {
            easy.post(true)?;
            // Streamed from our buffer by the read callback rather than
            // copied into curl, whose copy of a Klikoo body (with the client
            // secret) would be freed unwiped.
            easy.post_field_size(request.body.len() as u64)?;
        }
        // Set every time: the handle is reused and keeps the last verb.
        easy.custom_request(request.method)?;
        easy.timeout(limits.timeout)?;
        easy.max_filesize(request.max_response_bytes as u64)?;
        easy.connect_timeout(limits.connect_timeout)?;
        let mut list = List::new();
        let has = |name: &str| {
            request
                .headers
                .iter()
                .any(|(n, _)| n.as_ref().eq_ignore_ascii_case(name))
        };
        if !has("Content-Type") {
            list.append("Content-Type: application/json")?;
        }
        list.append("Accept: application/json")?;
        // No `Expect: 100-continue` round trip.
        list.append("Expect:")?;
        let mut line = String::new();
        for (name, value) in request.headers {
            line.clear();
            line.push_str(name.as_ref());
            line.push_str(": ");
            line.push_str(value);
            list.append(&line)?;
        }
        easy.http_headers(list)?;
        Ok(easy)
    }
}

/// `CURLINFO_ACTIVESOCKET` (`CURLINFO_SOCKET + 44`), not in curl-sys.
const CURLINFO_ACTIVESOCKET: curl_sys::CURLINFO = 0x50_0000 + 44;

/// Whether the connection libcurl kept from this handle's last request has
/// been closed or reset by the peer, or has unexpected input (a TLS
/// close_notify): an idle HTTP/1.1 connection must have nothing to read.
fn kept_connection_is_dead(easy: &Easy) -> bool {
    let mut fd: curl_sys::curl_socket_t = -1;
    // SAFETY: a live easy handle and an out pointer of the documented type.
    let rc = unsafe {
        curl_sys::curl_easy_getinfo(
            easy.raw(),
            CURLINFO_ACTIVESOCKET,
            &mut fd as *mut curl_sys::curl_socket_t,
        )
    };
    if rc != curl_sys::CURLE_OK || fd < 0 {
        return false; // no kept connection: libcurl opens a new one anyway
    }
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN | libc::POLLRDHUP,
        revents: 0,
    };
    // SAFETY: one valid pollfd; a zero timeout never blocks.
    let n = unsafe { libc::poll(&mut pfd, 1, 0) };
    n != 0
}

/// One HTTP request.
pub struct Request<'a, N = &'a str> {
    /// Upper-case verb, e.g. `POST`.
    pub method: &'a str,
    pub url: &'a str,
    /// Sent in this order after `Accept` (and `Content-Type:
    /// application/json` unless given here).
    pub headers: &'a [(N, String)],
    pub body: &'a [u8],
    /// Answers longer than this are abandoned (PROTOCOL).
    pub max_response_bytes: usize,
    /// Whether libcurl may send the request again on a fresh connection when
    /// a reused one died under it. True only where a second delivery cannot
    /// move money (token requests).
    pub resend_on_dead_connection: bool,
}

/// Whether a failed request may have reached the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// It failed before a byte of it was sent (DNS, connect, TLS handshake):
    /// sending it again cannot duplicate it.
    NotSent,
    /// It was sent, or may have been: the server may have acted on it.
    MaybeSent,
}

/// A request that got no HTTP answer.
#[derive(Debug, Clone)]
pub struct Failure {
    pub error: Error,
    pub delivery: Delivery,
    /// It went out on a kept-alive connection (none was opened for it).
    pub reused_connection: bool,
}

/// Certain not to have been acted on: a failure of a new connection's
/// set-up, or of writing the request itself (the peer had closed or reset
/// the connection, typically an idle keep-alive one it dropped, so it did
/// not read a complete request). Everything after the request was written
/// (no answer, a timeout while waiting, a connection closed before the
/// answer) may have been acted on.
fn delivery_of(e: &curl::Error, connecting: bool) -> Delivery {
    // libcurl wraps a failed write on a reused connection in "rewinding
    // failed" when it was not allowed to send the request again; the
    // underlying failure is in the extra text.
    let write_failed = e.is_send_error()
        || (e.is_send_fail_rewind()
            && e.extra_description()
                .is_some_and(|x| x.starts_with("Send failure")));
    let setup_failed = e.is_couldnt_resolve_host()
        || e.is_couldnt_resolve_proxy()
        || e.is_couldnt_connect()
        || e.is_ssl_connect_error()
        || e.is_peer_failed_verification()
        || e.is_ssl_cacert()
        || e.is_ssl_cacert_badfile()
        || e.is_ssl_certproblem()
        || (e.is_operation_timedout() && connecting);
    if setup_failed || write_failed {
        Delivery::NotSent
    } else {
        Delivery::MaybeSent
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
