//! Whom TLS trusts: the system's root certificates plus a config's
//! `ca_file`, which adds to them and never replaces them.
//!
//! libcurl on its own parses the system bundle (~150 certificates, about
//! 40 ms) for every new connection: most of the cost of a one-shot
//! `b2b_get_token`. Here the bundle is parsed once per process (again after
//! a day, so updates are picked up) and the parsed certificates are added to
//! each connection's store, next to the `ca_file` ones. The system bundle is
//! the one libcurl would have used (openssl-probe, so `SSL_CERT_FILE` and
//! `SSL_CERT_DIR` are honoured); the hashed certificate directory is left to
//! libcurl, which reads it lazily. When no bundle can be read, libcurl keeps
//! loading whatever it finds itself.

use std::ffi::{c_char, c_void};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use curl::easy::Easy;
use foreign_types::ForeignTypeRef;
use openssl::ssl::SslContextRef;
use openssl::x509::store::X509StoreBuilderRef;
use openssl::x509::X509;

use crate::error::{openssl_reason, Error, Result};
use crate::redact;

/// How long the parsed system bundle is reused (libcurl's own CA cache
/// default is the same day).
const SYSTEM_ROOTS_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

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
            Error::invalid_argument(format!(
                "config key `ca_file`: {} {why}",
                redact::path(&path)
            ))
        };
        let mut pem = Vec::new();
        std::fs::File::open(&path)
            .and_then(|f| f.take(MAX_CA_FILE_BYTES + 1).read_to_end(&mut pem))
            .map_err(|e| refuse(format!("cannot be read: {}", crate::error::io_reason(&e))))?;
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

    /// Same file, same parse: a handle configured with it can be kept.
    pub fn same_as(&self, other: &TrustAnchors) -> bool {
        self.path == other.path && Arc::ptr_eq(&self.certs, &other.certs)
    }
}

impl fmt::Debug for TrustAnchors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustAnchors")
            .field("path", &redact::path(&self.path))
            .field("certificates", &self.certs.len())
            .finish()
    }
}

struct SystemRoots {
    read_at: Instant,
    /// `None` when there is no readable bundle: libcurl then loads trust
    /// itself, as it would without us.
    certs: Option<Arc<[X509]>>,
}

static SYSTEM_ROOTS: Mutex<Option<SystemRoots>> = Mutex::new(None);

/// The system bundle, parsed; read again once it is a day old.
fn system_roots() -> Option<Arc<[X509]>> {
    let mut slot = SYSTEM_ROOTS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(roots) = slot.as_ref() {
        if roots.read_at.elapsed() < SYSTEM_ROOTS_MAX_AGE {
            return roots.certs.clone();
        }
    }
    let previous = slot.as_ref().and_then(|roots| roots.certs.clone());
    let certs = read_system_bundle()
        // Handles set up earlier told libcurl not to load the bundle itself:
        // a bundle unreadable at refresh time keeps the roots already read.
        .or(previous);
    *slot = Some(SystemRoots {
        read_at: Instant::now(),
        certs: certs.clone(),
    });
    certs
}

fn read_system_bundle() -> Option<Arc<[X509]>> {
    let pem = std::fs::read(openssl_probe::probe().cert_file?).ok()?;
    let certs = X509::stack_from_pem(&pem).ok()?;
    (!certs.is_empty()).then(|| Arc::from(certs))
}

/// Sets up a fresh handle's trust: the system roots (parsed once, see the
/// module comment) and `anchors`, added to every connection's store.
pub fn configure(
    easy: &mut Easy,
    anchors: Option<&TrustAnchors>,
) -> std::result::Result<(), curl::Error> {
    if system_roots().is_some() {
        // The curl crate pointed CAINFO at the system bundle; unset it so
        // libcurl does not parse it again per connection (the callback below
        // adds the same certificates, already parsed).
        // SAFETY: `easy.raw()` is a live handle owned by `easy`; CAINFO takes
        // a string pointer, and NULL is its documented "none" value.
        let rc = unsafe {
            curl_sys::curl_easy_setopt(
                easy.raw(),
                curl_sys::CURLOPT_CAINFO,
                std::ptr::null::<c_char>(),
            )
        };
        if rc != curl_sys::CURLE_OK {
            return Err(curl::Error::new(rc));
        }
    }
    let anchors = anchors.cloned();
    easy.ssl_ctx_function(move |ssl_ctx| {
        let system = system_roots();
        let certs = system.iter().flat_map(|c| c.iter());
        let certs = certs.chain(anchors.iter().flat_map(|a| a.certs.iter()));
        add_to_store(ssl_ctx, certs);
        Ok(())
    })
}

/// A TLS connector for connections made without libcurl (a `rediss://`
/// store): the same trust as the provider connection (the system roots and
/// `anchors`), peer and host name verified, TLS 1.2 at least.
pub fn ssl_connector(anchors: Option<&TrustAnchors>) -> Result<openssl::ssl::SslConnector> {
    use openssl::ssl::{SslConnector, SslMethod, SslVersion};
    let fail = |e: openssl::error::ErrorStack| {
        Error::crypto(format!("cannot set up TLS: {}", openssl_reason(&e)))
    };
    let mut builder = SslConnector::builder(SslMethod::tls_client()).map_err(fail)?;
    builder
        .set_min_proto_version(Some(SslVersion::TLS1_2))
        .map_err(fail)?;
    let system = system_roots();
    let certs = system.iter().flat_map(|c| c.iter());
    for cert in certs.chain(anchors.iter().flat_map(|a| a.certs.iter())) {
        // A duplicate is not worth failing over.
        let _ = builder.cert_store_mut().add_cert(cert.clone());
    }
    Ok(builder.build())
}

/// Adds `certs` to the trust store of a connection's `SSL_CTX`.
fn add_to_store<'a>(ssl_ctx: *mut c_void, certs: impl Iterator<Item = &'a X509>) {
    if ssl_ctx.is_null() {
        return;
    }
    // SAFETY: libcurl (built against the same OpenSSL as the openssl crate)
    // passes the live SSL_CTX of the connection being set up; it outlives this
    // call and owns its store, which it has created by now (libcurl sets up
    // trust before calling the SSL_CTX callback).
    let store = unsafe {
        let ctx = SslContextRef::from_ptr_mut(ssl_ctx.cast());
        X509StoreBuilderRef::from_ptr_mut(ctx.cert_store().as_ptr())
    };
    for cert in certs {
        // A certificate already present (libcurl may share one store between
        // a handle's connections) is not worth failing the handshake for.
        let _ = store.add_cert(cert.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Status;

    /// (a CA certificate, a private key), both PEM.
    fn self_signed() -> (String, String) {
        let identity = snapb2b_sandbox::generate_identity().unwrap();
        let pem = |b: Vec<u8>| String::from_utf8(b).unwrap();
        (
            pem(identity.ca_cert.to_pem().unwrap()),
            pem(identity.key.private_key_to_pem_pkcs8().unwrap()),
        )
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
            assert_eq!(e.status, Status::B2B_INVALID_ARGUMENT, "{name}: {e}");
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
        assert_eq!(e.status, Status::B2B_INVALID_ARGUMENT);
        assert!(e.message.contains("cannot be read"), "{e}");
    }
}
