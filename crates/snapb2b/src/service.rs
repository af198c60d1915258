//! Signatures after the token: SNAP service calls and notifications, and
//! verification of what providers send the merchant.
//!
//! String to sign for service calls:
//! - symmetric: `METHOD:path:access_token:hex(sha256(minify(body))):timestamp`,
//!   signed with HMAC-SHA512 under the client secret;
//! - asymmetric: `METHOD:path:hex(sha256(minify(body))):timestamp`, signed
//!   with SHA256withRSA.
//!
//! The body hash is lowercase hex (not base64) of the minified body; no body
//! hashes the empty string.

use base64::Engine;
use chrono::Utc;
use openssl::hash::MessageDigest;
use openssl::sign::Verifier;

use crate::error::{openssl_reason, Error, Result, Status};
use crate::keys::{PrivateKey, PublicKey};
use crate::minify::minify_json;
use crate::secret::SecretBytes;

/// `lowercase(hex(SHA-256(minify(body))))`; `None` or empty hashes "".
pub fn body_digest_hex(body: Option<&str>) -> Result<String> {
    let minified = match body {
        // Only JSON's own whitespace counts as "no body"; anything else must
        // be JSON.
        Some(b) if !b.trim_matches([' ', '\t', '\n', '\r']).is_empty() => minify_json(b)?,
        _ => String::new(),
    };
    Ok(sha256_hex(minified.as_bytes()))
}

/// `lowercase(hex(SHA-256(bytes)))`.
fn sha256_hex(bytes: &[u8]) -> String {
    crate::digest::lower_hex(&crate::digest::sha256(bytes))
}

fn method_upper(method: &str) -> Result<String> {
    if method.is_empty() || !method.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(Error::invalid_argument(
            "method must be an HTTP method such as POST",
        ));
    }
    Ok(method.to_ascii_uppercase())
}

fn non_empty<'a>(value: &'a str, name: &str) -> Result<&'a str> {
    if value.is_empty() {
        Err(Error::invalid_argument(format!("{name} is empty")))
    } else {
        Ok(value)
    }
}

/// `METHOD:path[:access_token]:hex(sha256(minify(body))):timestamp`, the one
/// layout both variants share.
fn string_to_sign(
    method: &str,
    path: &str,
    access_token: Option<&str>,
    body: Option<&str>,
    timestamp: &str,
) -> Result<String> {
    with_digest(
        method,
        path,
        access_token,
        &body_digest_hex(body)?,
        timestamp,
    )
}

/// The string to sign given the body's digest.
fn with_digest(
    method: &str,
    path: &str,
    access_token: Option<&str>,
    digest_hex: &str,
    timestamp: &str,
) -> Result<String> {
    let mut parts = vec![method_upper(method)?, non_empty(path, "path")?.to_string()];
    if let Some(token) = access_token {
        parts.push(non_empty(token, "access_token")?.to_string());
    }
    parts.push(digest_hex.to_string());
    parts.push(non_empty(timestamp, "timestamp")?.to_string());
    Ok(parts.join(":"))
}

/// How an outgoing call is signed, over the body exactly as it is sent
/// (already minified by [`crate::service_call::ServiceRequest`]: minifying
/// it again would cost a parse per call and change nothing).
pub enum SentBodySigner<'a> {
    /// HMAC-SHA512 keyed with the client secret, over the string with the token.
    Hmac {
        client_secret: &'a str,
        access_token: &'a str,
    },
    /// SHA256withRSA with the private key, over the string without it.
    Rsa(&'a PrivateKey),
}

impl SentBodySigner<'_> {
    /// `X-SIGNATURE` of a call whose body is sent as `sent_body` (empty: none).
    pub fn sign(
        &self,
        method: &str,
        path: &str,
        sent_body: &str,
        timestamp: &str,
    ) -> Result<String> {
        let digest = sha256_hex(sent_body.as_bytes());
        match self {
            SentBodySigner::Hmac {
                client_secret,
                access_token,
            } => {
                let data = with_digest(method, path, Some(access_token), &digest, timestamp)?;
                Ok(base64::engine::general_purpose::STANDARD
                    .encode(&*hmac_sha512(client_secret, data.as_bytes())?))
            }
            SentBodySigner::Rsa(key) => {
                let data = with_digest(method, path, None, &digest, timestamp)?;
                crate::sign::rsa_sha256_base64(key, data.as_bytes())
            }
        }
    }
}

/// The symmetric string to sign (with the access token).
pub fn symmetric_string_to_sign(
    method: &str,
    path: &str,
    access_token: &str,
    body: Option<&str>,
    timestamp: &str,
) -> Result<String> {
    string_to_sign(method, path, Some(access_token), body, timestamp)
}

/// The asymmetric string to sign (no access token).
pub fn asymmetric_string_to_sign(
    method: &str,
    path: &str,
    body: Option<&str>,
    timestamp: &str,
) -> Result<String> {
    string_to_sign(method, path, None, body, timestamp)
}

fn check_secret(secret: &str) -> Result<()> {
    if secret.is_empty() {
        return Err(Error::invalid_argument("client_secret is empty"));
    }
    Ok(())
}

/// HMAC-SHA512 (RFC 2104) on OpenSSL's SHA-512 directly. The EVP HMAC
/// path costs OpenSSL 3 an algorithm fetch and key setup on every call,
/// several times the hashing itself on a service call's short string; this
/// is the same function (the public SNAP vectors and the cross-checks with
/// `hmac`, `hash_hmac` and `openssl dgst` hold it to that).
fn hmac_sha512(secret: &str, data: &[u8]) -> Result<SecretBytes> {
    const BLOCK: usize = 128;
    check_secret(secret)?;
    let mut key = SecretBytes::zeroed(BLOCK);
    if secret.len() > BLOCK {
        key[..64].copy_from_slice(&crate::digest::sha512(secret.as_bytes()));
    } else {
        key[..secret.len()].copy_from_slice(secret.as_bytes());
    }
    let mut pad = SecretBytes::zeroed(BLOCK);
    for (p, k) in pad.iter_mut().zip(key.iter()) {
        *p = k ^ 0x36;
    }
    let mut inner = openssl::sha::Sha512::new();
    inner.update(&pad);
    inner.update(data);
    let inner_digest = SecretBytes::new(inner.finish().to_vec());
    for (p, k) in pad.iter_mut().zip(key.iter()) {
        *p = k ^ 0x5c;
    }
    let mut outer = openssl::sha::Sha512::new();
    outer.update(&pad);
    outer.update(&inner_digest);
    Ok(SecretBytes::new(outer.finish().to_vec()))
}

/// `X-SIGNATURE` of a service call (HMAC-SHA512, base64).
pub fn service_signature(
    client_secret: &str,
    method: &str,
    path: &str,
    access_token: &str,
    body: Option<&str>,
    timestamp: &str,
) -> Result<String> {
    let data = symmetric_string_to_sign(method, path, access_token, body, timestamp)?;
    Ok(base64::engine::general_purpose::STANDARD
        .encode(&*hmac_sha512(client_secret, data.as_bytes())?))
}

/// Asymmetric service / notification signature (SHA256withRSA, base64).
pub fn service_signature_rsa(
    key: &PrivateKey,
    method: &str,
    path: &str,
    body: Option<&str>,
    timestamp: &str,
) -> Result<String> {
    let data = asymmetric_string_to_sign(method, path, body, timestamp)?;
    crate::sign::rsa_sha256_base64(key, data.as_bytes())
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(Status::B2B_SIGNATURE_INVALID, message)
}

/// The string an inbound service call or notification was signed over.
/// What the receiver itself supplies (its route's method and path) is checked
/// first, so its mistakes are INVALID_ARGUMENT whatever the request carries;
/// then the sender's timestamp (form and freshness); then the sender's parts
/// (body, access token) that cannot be put into the string make the request
/// unverifiable: SIGNATURE_INVALID, answered like any other bad signature (a
/// body that is not JSON cannot carry a valid SNAP signature).
fn inbound_string_to_sign(
    method: &str,
    path: &str,
    access_token: Option<&str>,
    body: Option<&str>,
    timestamp: &str,
    max_skew_s: i64,
) -> Result<String> {
    method_upper(method)?;
    non_empty(path, "path")?;
    check_freshness(timestamp, max_skew_s, Utc::now().timestamp())?;
    string_to_sign(method, path, access_token, body, timestamp).map_err(|e| {
        if e.status == Status::B2B_INVALID_ARGUMENT {
            invalid(format!("request cannot be verified: {}", e.message))
        } else {
            e
        }
    })
}

/// The freshness window receivers use when they have no reason to choose
/// another (exported to C as `B2B_DEFAULT_MAX_SKEW_S`, used by the CLI and
/// the bindings): 5 minutes.
pub const DEFAULT_MAX_SKEW_S: i64 = 300;

/// The largest `max_skew_s` accepted: the C ABI passes it as an `int`.
pub const MAX_MAX_SKEW_S: i64 = i32::MAX as i64;

/// The receiver's own `max_skew_s`: 0 (no freshness check) or a positive
/// number of seconds; anything else is the caller's mistake.
pub fn check_max_skew(max_skew_s: i64) -> Result<i64> {
    if (0..=MAX_MAX_SKEW_S).contains(&max_skew_s) {
        Ok(max_skew_s)
    } else {
        Err(Error::invalid_argument(
            "max_skew_s must be 0 (no check) or a positive number of seconds",
        ))
    }
}

/// Checks an inbound timestamp's form and, when `max_skew_s > 0`, that it is
/// within `max_skew_s` of now (either direction): replays of old captures
/// fail here. A negative `max_skew_s` is INVALID_ARGUMENT.
pub fn check_freshness(timestamp: &str, max_skew_s: i64, now: i64) -> Result<()> {
    check_max_skew(max_skew_s)?;
    let Some(at) = crate::timestamp::parse(timestamp) else {
        return Err(invalid(
            "timestamp is not ISO-8601 with an offset (e.g. 2024-12-31T10:11:40+07:00)",
        ));
    };
    if max_skew_s > 0 {
        let skew = at.timestamp() - now;
        if skew.abs() > max_skew_s {
            return Err(invalid(format!(
                "timestamp is {} s {} now, more than max_skew_s ({max_skew_s} s): stale or replayed",
                skew.abs(),
                if skew < 0 { "before" } else { "after" }
            )));
        }
    }
    Ok(())
}

fn decode_signature(signature: &str) -> Result<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(signature.trim())
        .map_err(|_| invalid("signature is not valid base64"))
}

fn verify_rsa(key: &PublicKey, data: &[u8], signature: &str) -> Result<()> {
    let sig = decode_signature(signature)?;
    let crypto = |e: openssl::error::ErrorStack| {
        Error::crypto(format!(
            "RSA verification failed to run: {}",
            openssl_reason(&e)
        ))
    };
    let mut verifier = Verifier::new(MessageDigest::sha256(), key.pkey()).map_err(crypto)?;
    verifier.update(data).map_err(crypto)?;
    // A malformed signature makes OpenSSL report an error rather than
    // `false`; either way it does not verify.
    match verifier.verify(&sig) {
        Ok(true) => Ok(()),
        _ => Err(invalid(
            "signature does not match (wrong key, or the signed data differs)",
        )),
    }
}

/// Verifies a provider's B2B token-request signature over `client_id|timestamp`.
pub fn verify_b2b(
    key: &PublicKey,
    client_id: &str,
    timestamp: &str,
    signature: &str,
    max_skew_s: i64,
) -> Result<()> {
    check_freshness(timestamp, max_skew_s, Utc::now().timestamp())?;
    verify_rsa(
        key,
        crate::sign::b2b_string_to_sign(client_id, timestamp).as_bytes(),
        signature,
    )
}

/// Verifies an asymmetric service or notification signature.
pub fn verify_service_signature_rsa(
    key: &PublicKey,
    method: &str,
    path: &str,
    body: Option<&str>,
    timestamp: &str,
    signature: &str,
    max_skew_s: i64,
) -> Result<()> {
    let data = inbound_string_to_sign(method, path, None, body, timestamp, max_skew_s)?;
    verify_rsa(key, data.as_bytes(), signature)
}

/// Verifies a symmetric service signature, comparing in constant time.
#[allow(clippy::too_many_arguments)]
pub fn verify_service_signature(
    client_secret: &str,
    method: &str,
    path: &str,
    access_token: &str,
    body: Option<&str>,
    timestamp: &str,
    signature: &str,
    max_skew_s: i64,
) -> Result<()> {
    check_secret(client_secret)?;
    let data = inbound_string_to_sign(
        method,
        path,
        Some(access_token),
        body,
        timestamp,
        max_skew_s,
    )?;
    let expected = hmac_sha512(client_secret, data.as_bytes())?;
    let given = decode_signature(signature)?;
    if given.len() == expected.len() && openssl::memcmp::eq(&given, &expected) {
        Ok(())
    } else {
        Err(invalid(
            "signature does not match (wrong client secret, or the signed data differs)",
        ))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn hmac_sha512_is_openssls_hmac_for_every_key_length() {
        use openssl::pkey::PKey;
        use openssl::sign::Signer;
        for key_len in [1, 31, 64, 127, 128, 129, 300] {
            let secret: String = (0..key_len)
                .map(|i| char::from(b'a' + (i % 26) as u8))
                .collect();
            for data in [
                &b""[..],
                b"POST:/p:tok:e3b0:2024-01-01T00:00:00+07:00",
                &[7u8; 1000],
            ] {
                let key = PKey::hmac(secret.as_bytes()).unwrap();
                let mut evp = Signer::new(openssl::hash::MessageDigest::sha512(), &key).unwrap();
                evp.update(data).unwrap();
                assert_eq!(
                    &*super::hmac_sha512(&secret, data).unwrap(),
                    evp.sign_to_vec().unwrap().as_slice(),
                    "key {key_len} bytes, data {} bytes",
                    data.len()
                );
            }
        }
    }

    use super::*;

    #[test]
    fn empty_body_hashes_the_empty_string() {
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(body_digest_hex(None).unwrap(), empty);
        assert_eq!(body_digest_hex(Some("")).unwrap(), empty);
        assert_eq!(
            body_digest_hex(Some("{}")).unwrap(),
            body_digest_hex(Some(" { } ")).unwrap()
        );
    }

    #[test]
    fn method_is_upper_cased_and_validated() {
        let s = asymmetric_string_to_sign("post", "/v1.0/x?a=1", None, "2024-01-01T00:00:00+07:00")
            .unwrap();
        assert!(s.starts_with("POST:/v1.0/x?a=1:e3b0c442"), "{s}");
        assert!(asymmetric_string_to_sign("PO ST", "/x", None, "t").is_err());
    }

    #[test]
    fn receivers_mistakes_come_before_the_senders() {
        let stale = "2020-01-01T00:00:00+07:00";
        let fresh = crate::timestamp::TimestampStyle::Wib.format(Utc::now());
        let status = |r: Result<()>| r.unwrap_err().status;
        // The receiver's own arguments: INVALID_ARGUMENT even when the
        // request would fail anyway.
        for ts in [stale, fresh.as_str()] {
            assert_eq!(
                status(verify_service_signature(
                    "", "POST", "/p", "t", None, ts, "AAAA", 300
                )),
                Status::B2B_INVALID_ARGUMENT
            );
            assert_eq!(
                status(verify_service_signature(
                    "s", "P0ST", "/p", "t", None, ts, "AAAA", 300
                )),
                Status::B2B_INVALID_ARGUMENT
            );
        }
        // What the sender sent: not verifiable, so SIGNATURE_INVALID.
        for (token, body) in [("t", Some("{\"a\":")), ("", Some("{}"))] {
            let e = verify_service_signature("s", "POST", "/p", token, body, &fresh, "AAAA", 300)
                .unwrap_err();
            assert_eq!(e.status, Status::B2B_SIGNATURE_INVALID, "{e}");
            assert!(e.message.contains("cannot be verified"), "{e}");
        }
    }

    #[test]
    fn freshness() {
        let now = 1_700_000_000;
        assert!(check_freshness("2023-11-14T22:13:20Z", 300, now).is_ok());
        assert!(check_freshness("2023-11-15T05:13:20+07:00", 1, now).is_ok());
        assert_eq!(
            check_freshness("2023-11-14T22:03:20Z", 300, now)
                .unwrap_err()
                .status,
            Status::B2B_SIGNATURE_INVALID
        );
        assert!(check_freshness("2023-11-14T22:03:20Z", 0, now).is_ok());
        assert!(check_freshness("yesterday", 0, now).is_err());
    }
}

#[cfg(test)]
mod sent_body_tests {
    use super::*;

    /// Signing the minified body as sent gives what signing any spelling of
    /// it gives (the public functions minify first), with and without a body.
    #[test]
    fn signing_the_sent_body_equals_signing_any_spelling_of_it() {
        let pretty =
            "{ \"amount\" : { \"value\": \"10000.00\" },\n \"n\": 1.0e+2, \"s\": \"a\\/b\" }";
        let sent = crate::minify::minify_json(pretty).unwrap();
        let ts = "2024-01-01T00:00:00+07:00";
        let hmac = SentBodySigner::Hmac {
            client_secret: "secret-1",
            access_token: "tok",
        };
        for (body, sent) in [(Some(pretty), sent.as_str()), (None, "")] {
            assert_eq!(
                hmac.sign("post", "/v1.0/x?q=1", sent, ts).unwrap(),
                service_signature("secret-1", "POST", "/v1.0/x?q=1", "tok", body, ts).unwrap()
            );
        }
        let key = PrivateKey::generate(2048).unwrap();
        assert_eq!(
            SentBodySigner::Rsa(&key)
                .sign("POST", "/p", &sent, ts)
                .unwrap(),
            service_signature_rsa(&key, "POST", "/p", Some(pretty), ts).unwrap()
        );
        // The same checks of what the caller gives.
        let no_token = SentBodySigner::Hmac {
            client_secret: "s",
            access_token: "",
        };
        assert!(no_token.sign("POST", "/p", "", ts).is_err());
        assert!(hmac.sign("POST", "", "", ts).is_err());
    }
}
