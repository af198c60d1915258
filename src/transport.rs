//! HTTPS POST over libcurl with the safety rules every call follows:
//! certificate and host verification always on, no redirects, bounded time
//! and response size.
//!
//! A [`Transport`] owns one curl handle; reusing it keeps the connection
//! (HTTP keep-alive, TLS session) between requests.

use std::ffi::c_void;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use curl::easy::{Easy, List};
use foreign_types::ForeignTypeRef;
use openssl::ssl::SslContextRef;
use openssl::x509::store::X509StoreBuilderRef;
use openssl::x509::X509;

use crate::error::{openssl_reason, shown_path, Error, Result, Status};

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

/// A bundle can hold a few hundred certificates; anything far bigger is the
/// wrong file (or a device that never ends), not a CA bundle.
const MAX_CA_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// The certificates of a `ca_file`, parsed once. They are added to the trust
/// store of every TLS connection, next to the system's roots: `ca_file` adds
/// trust (a private CA, the sandbox), it never narrows or replaces it.
#[derive(Clone)]
pub struct TrustAnchors {
    path: PathBuf,
    certs: Arc<[X509]>,
}

impl TrustAnchors {
    /// Reads a PEM bundle; other PEM blocks (a key pasted in by mistake) are
    /// skipped, and a file without any certificate is refused.
    pub fn load(path: PathBuf) -> Result<TrustAnchors> {
        let refuse = |why: String| {
            Error::invalid_argument(format!("config key `ca_file`: {} {why}", shown_path(&path)))
        };
        let mut pem = Vec::new();
        std::fs::File::open(&path)
            .and_then(|f| f.take(MAX_CA_FILE_BYTES + 1).read_to_end(&mut pem))
            .map_err(|e| refuse(format!("cannot be read: {}", e.kind())))?;
        if pem.len() as u64 > MAX_CA_FILE_BYTES {
            return Err(refuse(format!(
                "is over {} MiB: not a CA bundle",
                MAX_CA_FILE_BYTES >> 20
            )));
        }
        let certs = X509::stack_from_pem(&pem).map_err(|e| {
            refuse(format!(
                "holds a certificate OpenSSL cannot parse ({})",
                openssl_reason(&e)
            ))
        });
        // Not secret in itself, but a key saved here by mistake would be.
        crate::secret::wipe_bytes(&mut pem);
        let certs = certs?;
        if certs.is_empty() {
            return Err(refuse(
                "holds no PEM certificate (expected -----BEGIN CERTIFICATE----- blocks)".into(),
            ));
        }
        Ok(TrustAnchors {
            path,
            certs: certs.into(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn len(&self) -> usize {
        self.certs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }

    /// Adds the certificates to the store of a connection's `SSL_CTX`, which
    /// libcurl has already filled with the system roots.
    fn add_to(&self, ssl_ctx: *mut c_void) {
        if ssl_ctx.is_null() {
            return;
        }
        // SAFETY: libcurl (built against the same OpenSSL as the openssl
        // crate) passes the live SSL_CTX of the connection being set up; it
        // outlives this call, and its store belongs to it.
        let store = unsafe {
            let ctx = SslContextRef::from_ptr_mut(ssl_ctx.cast());
            X509StoreBuilderRef::from_ptr_mut(ctx.cert_store().as_ptr())
        };
        for cert in self.certs.iter() {
            // A certificate already present (the store can be reused across
            // connections) is not an error worth failing the handshake for.
            let _ = store.add_cert(cert.clone());
        }
    }

    /// Same file, same parse: a handle configured with it can be kept.
    fn same_as(&self, other: &TrustAnchors) -> bool {
        self.path == other.path && Arc::ptr_eq(&self.certs, &other.certs)
    }
}

impl fmt::Debug for TrustAnchors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustAnchors")
            .field("path", &shown_path(&self.path))
            .field("certificates", &self.certs.len())
            .finish()
    }
}

#[derive(Debug, Clone, Default)]
pub struct Response {
    pub status: u32,
    /// Header names as received; look them up with [`Response::header`].
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
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
    easy: Easy,
    /// Trust settings the handle was last configured with; changing them
    /// must not silently keep a connection verified under the old ones.
    configured_ca: Option<Option<TrustAnchors>>,
}

impl Default for Transport {
    fn default() -> Self {
        Transport::new()
    }
}

impl Transport {
    pub fn new() -> Transport {
        Transport {
            easy: Easy::new(),
            configured_ca: None,
        }
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
        self.configure(url, headers, body, limits)
            .map_err(|e| Error::new(Status::Internal, format!("curl setup failed: {e}")))?;

        let mut response = Response::default();
        let mut too_big = false;
        let mut unsent = body;
        let outcome = {
            let mut transfer = self.easy.transfer();
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
            let connecting = self.easy.num_connects().unwrap_or(0) > 0
                && self.easy.appconnect_time().map_or(true, |t| t.is_zero());
            return Err(map_curl_error(&e, url, limits, connecting));
        }
        response.status = self.easy.response_code().unwrap_or(0);
        Ok(response)
    }

    fn configure(
        &mut self,
        url: &str,
        headers: &[(&str, String)],
        body: &[u8],
        limits: &Limits,
    ) -> std::result::Result<(), curl::Error> {
        let unchanged = match (&self.configured_ca, &limits.ca_file) {
            (Some(Some(was)), Some(now)) => was.same_as(now),
            (Some(None), None) => true,
            _ => false,
        };
        if !unchanged {
            // A new handle rather than a reset: libcurl keeps connections and
            // its cached trust store with the handle, and neither may carry
            // over to requests made under different trust.
            self.easy = Easy::new();
            let easy = &mut self.easy;
            easy.ssl_verify_peer(true)?;
            easy.ssl_verify_host(true)?;
            // TLS 1.2 or newer, whatever the system's OpenSSL defaults are.
            easy.ssl_version(curl::easy::SslVersion::Tlsv12)?;
            if let Some(anchors) = limits.ca_file.clone() {
                easy.ssl_ctx_function(move |ssl_ctx| {
                    anchors.add_to(ssl_ctx);
                    Ok(())
                })?;
            }
            easy.follow_location(false)?;
            easy.useragent(USER_AGENT)?;
            easy.signal(false)?;
            easy.tcp_nodelay(true)?;
            self.configured_ca = Some(limits.ca_file.clone());
        }
        let easy = &mut self.easy;
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
        Ok(())
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
            Status::Timeout,
            format!(
                "no connection to {url} within {} ms (connect_timeout_ms covers the TCP connect and TLS handshake; {detail})",
                limits.connect_timeout.min(limits.timeout).as_millis()
            ),
        );
    }
    if e.is_operation_timedout() {
        return Error::new(
            Status::Timeout,
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
    Error::new(Status::Transport, format!("{what}: {url}: {detail}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed() -> (String, String) {
        use openssl::{asn1::Asn1Time, hash::MessageDigest, pkey::PKey, rsa::Rsa};
        let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let mut name = openssl::x509::X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "t").unwrap();
        let name = name.build();
        let mut b = X509::builder().unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(&name).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        b.set_not_after(&Asn1Time::days_from_now(1).unwrap())
            .unwrap();
        b.sign(&key, MessageDigest::sha256()).unwrap();
        let cert = String::from_utf8(b.build().to_pem().unwrap()).unwrap();
        let key = String::from_utf8(key.private_key_to_pem_pkcs8().unwrap()).unwrap();
        (cert, key)
    }

    fn load(name: &str, contents: &str) -> Result<TrustAnchors> {
        let path = std::env::temp_dir().join(format!("snapb2b-ca-{}-{name}", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        let result = TrustAnchors::load(path.clone());
        std::fs::remove_file(path).unwrap();
        result
    }

    #[test]
    fn bundles_keep_their_certificates_and_skip_other_blocks() {
        let (cert, key) = self_signed();
        let (cert2, _) = self_signed();
        let anchors = load("mixed", &format!("{key}\n{cert}\r\n{cert2}")).unwrap();
        assert_eq!(anchors.len(), 2);
        // Debug names the file and the count, never the contents.
        let shown = format!("{anchors:?}");
        assert!(
            shown.contains("certificates: 2") && !shown.contains("BEGIN"),
            "{shown}"
        );
    }

    #[test]
    fn files_without_usable_certificates_are_config_errors() {
        let (cert, key) = self_signed();
        let broken = cert.replacen("MII", "M!I", 1);
        for (name, text, says) in [
            ("empty", "", "no PEM certificate"),
            ("key", key.as_str(), "no PEM certificate"),
            ("broken", broken.as_str(), "cannot parse"),
        ] {
            let e = load(name, text).unwrap_err();
            assert_eq!(e.status, Status::InvalidArgument, "{name}: {e}");
            assert!(
                e.message.contains("`ca_file`") && e.message.contains(says),
                "{name}: {e}"
            );
            assert!(
                !e.message.contains("PRIVATE") && !e.message.contains(&key[30..60]),
                "{e}"
            );
        }
        let e = TrustAnchors::load("/nonexistent/ca.pem".into()).unwrap_err();
        assert_eq!(e.status, Status::InvalidArgument);
        assert!(e.message.contains("cannot be read"), "{e}");
    }
}
