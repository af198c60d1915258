//! The sandbox as a provider calling the merchant back: a signed payment
//! notification sent to a merchant endpoint on loopback, so a merchant's
//! verification can be tried end to end.
//!
//! The signature is computed here directly with OpenSSL, independently of
//! the library's service-signature code: SHA256withRSA with the sandbox's
//! provider key over `POST:path:lowercase(hex(SHA-256(minified body))):X-TIMESTAMP`.
//! The body is sent pretty-printed while its minified form is what is
//! signed, so the receiver's minification is exercised too.

use std::io;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use base64::Engine;
use chrono::{FixedOffset, Utc};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::sign::Signer;
use serde_json::{json, Value};

/// How to spoil a notification, to see the receiver reject it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tamper {
    None,
    /// The amount changed after signing.
    Body,
    /// `X-TIMESTAMP` one second later than the signed one.
    Timestamp,
    /// One signature byte flipped.
    Signature,
    /// Correctly signed, ten minutes old: a replay.
    Stale,
}

impl Tamper {
    pub fn parse(s: &str) -> Option<Tamper> {
        Some(match s {
            "none" => Tamper::None,
            "body" => Tamper::Body,
            "timestamp" => Tamper::Timestamp,
            "signature" => Tamper::Signature,
            "stale" => Tamper::Stale,
            _ => return None,
        })
    }
}

/// A SNAP virtual-account payment notification (`/v1.0/transfer-va/payment`).
pub fn sample_payment() -> Value {
    let mut id = [0u8; 8];
    let _ = openssl::rand::rand_bytes(&mut id);
    let ref_no: String = id.iter().map(|b| format!("{:02}", b % 100)).collect();
    json!({
        "partnerServiceId": "   12345",
        "customerNo": "00000000000001",
        "virtualAccountNo": "   1234500000000000001",
        "virtualAccountName": "Toko Demo Sejahtera",
        "trxId": format!("TRX{ref_no}"),
        "paymentRequestId": format!("PR{ref_no}"),
        "paidAmount": {"value": "150000.00", "currency": "IDR"},
        "trxDateTime": Utc::now().with_timezone(&wib()).format("%Y-%m-%dT%H:%M:%S+07:00").to_string(),
        "additionalInfo": {"note": "Pembayaran \"VA\" café / toko"}
    })
}

fn wib() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("valid offset")
}

/// What the merchant endpoint answered.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u32,
    pub body: String,
}

/// Only loopback targets: the sandbox must never call out.
fn check_loopback(url: &str) -> io::Result<(String, String)> {
    let invalid = |m: &str| io::Error::new(io::ErrorKind::InvalidInput, m.to_string());
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| invalid("notification URL must be http:// or https://"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let host = if let Some(h) = authority.strip_prefix('[') {
        h.split(']').next().unwrap_or("")
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        return Err(invalid("notification URL must point at a loopback address"));
    }
    Ok((authority.to_string(), path.to_string()))
}

fn rsa_sign(key: &PKey<Private>, data: &[u8]) -> io::Result<Vec<u8>> {
    let mut signer = Signer::new(MessageDigest::sha256(), key).map_err(io::Error::other)?;
    signer.update(data).map_err(io::Error::other)?;
    signer.sign_to_vec().map_err(io::Error::other)
}

/// Signs `body` with the provider key in `dir` and POSTs it to `url`.
pub fn send(
    dir: &Path,
    url: &str,
    body: &Value,
    tamper: Tamper,
    ca_file: Option<&Path>,
) -> io::Result<Answer> {
    let (_, path) = check_loopback(url)?;
    let key_pem = std::fs::read(dir.join("provider-key.pem"))?;
    let key = PKey::private_key_from_pem(&key_pem).map_err(io::Error::other)?;

    let minified = serde_json::to_string(body).map_err(io::Error::other)?;
    let mut sent_body = serde_json::to_string_pretty(body).map_err(io::Error::other)?;
    let mut at = Utc::now();
    if tamper == Tamper::Stale {
        at -= chrono::Duration::minutes(10);
    }
    let timestamp = at
        .with_timezone(&wib())
        .format("%Y-%m-%dT%H:%M:%S+07:00")
        .to_string();
    let digest: String = openssl::sha::sha256(minified.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let string_to_sign = format!("POST:{path}:{digest}:{timestamp}");
    let mut signature = rsa_sign(&key, string_to_sign.as_bytes())?;

    let mut sent_timestamp = timestamp.clone();
    match tamper {
        Tamper::Body => sent_body = sent_body.replace("150000.00", "1500000.00"),
        Tamper::Timestamp => {
            sent_timestamp = (at + chrono::Duration::seconds(1))
                .with_timezone(&wib())
                .format("%Y-%m-%dT%H:%M:%S+07:00")
                .to_string()
        }
        Tamper::Signature => signature[10] ^= 0x01,
        Tamper::None | Tamper::Stale => {}
    }
    let signature = base64::engine::general_purpose::STANDARD.encode(signature);

    let mut easy = curl::easy::Easy::new();
    let mut headers = curl::easy::List::new();
    let mut ext = [0u8; 6];
    let _ = openssl::rand::rand_bytes(&mut ext);
    let external_id: String = ext.iter().map(|b| format!("{:03}", b)).collect();
    for h in [
        "Content-Type: application/json".to_string(),
        format!("X-TIMESTAMP: {sent_timestamp}"),
        format!("X-SIGNATURE: {signature}"),
        "X-PARTNER-ID: SANDBOX-PROVIDER".to_string(),
        format!("X-EXTERNAL-ID: {external_id}"),
        "CHANNEL-ID: 95221".to_string(),
        "Expect:".to_string(),
    ] {
        headers.append(&h).map_err(io::Error::other)?;
    }
    let configure = |easy: &mut curl::easy::Easy| -> Result<(), curl::Error> {
        easy.url(url)?;
        easy.post(true)?;
        easy.post_fields_copy(sent_body.as_bytes())?;
        easy.http_headers(headers)?;
        easy.timeout(Duration::from_secs(10))?;
        if let Some(ca) = ca_file {
            easy.cainfo(ca)?;
        }
        Ok(())
    };
    configure(&mut easy).map_err(io::Error::other)?;
    let mut answer = Vec::new();
    {
        let mut transfer = easy.transfer();
        transfer
            .write_function(|d| {
                if answer.len() < 64 * 1024 {
                    answer.extend_from_slice(d);
                }
                Ok(d.len())
            })
            .map_err(io::Error::other)?;
        transfer.perform().map_err(io::Error::other)?;
    }
    Ok(Answer {
        status: easy.response_code().map_err(io::Error::other)?,
        body: String::from_utf8_lossy(&answer).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_targets() {
        assert!(check_loopback("http://127.0.0.1:8080/v1.0/transfer-va/payment").is_ok());
        assert!(check_loopback("http://localhost/x").is_ok());
        assert!(check_loopback("http://[::1]:9/x").is_ok());
        assert_eq!(
            check_loopback("http://127.0.0.1:1/a?b=1").unwrap().1,
            "/a?b=1"
        );
        for bad in [
            "http://10.0.0.1/x",
            "https://example.com/x",
            "ftp://127.0.0.1/x",
            "127.0.0.1/x",
        ] {
            assert!(check_loopback(bad).is_err(), "{bad}");
        }
    }
}
