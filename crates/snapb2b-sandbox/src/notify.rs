//! The sandbox as a provider calling the merchant back, on loopback: first
//! a B2B token request to the merchant (`X-CLIENT-KEY|X-TIMESTAMP` signed
//! with the provider key), then a signed payment notification carrying that
//! token, so a merchant's endpoint can be tried end to end.
//!
//! The signature is computed here directly with OpenSSL, independently of
//! the library's service-signature code: SHA256withRSA with the sandbox's
//! provider key over `POST:path:lowercase(hex(SHA-256(minified body))):X-TIMESTAMP`.
//! The body is sent pretty-printed while its minified form is what is
//! signed, so the receiver's minification is exercised too.

use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
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

/// The provider's client id at the merchant, unless `--client-id` says otherwise.
pub const DEFAULT_CLIENT_ID: &str = "SANDBOX-PROVIDER";
pub const DEFAULT_CHANNEL_ID: &str = "95221";
/// The merchant's B2B token path, appended to the notification URL's origin.
pub const TOKEN_PATH: &str = "/v1.0/access-token/b2b";
/// Upper bound of `--wait-s`: the wait stays bounded.
pub const MAX_WAIT_S: u64 = 900;

/// Whether and how the notification carries an access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenMode {
    /// Ask the merchant's token endpoint first, then use the token.
    Fetch,
    /// No token request, no `Authorization` header.
    Skip,
    /// Ask for a token, wait this long (past the merchant's `token_ttl_s`),
    /// then use it.
    Expired(Duration),
}

/// One `notify` run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Holds `provider-key.pem`.
    pub dir: PathBuf,
    /// The notification URL (loopback only).
    pub url: String,
    /// Default: the origin of `url` + [`TOKEN_PATH`] (loopback only too).
    pub token_url: Option<String>,
    pub client_id: String,
    pub channel_id: String,
    pub body: Value,
    pub tamper: Tamper,
    pub token: TokenMode,
    /// Send the notification a second time with the same `X-EXTERNAL-ID`
    /// (freshly signed).
    pub replay: bool,
    pub ca_file: Option<PathBuf>,
}

impl Options {
    pub fn new(dir: impl Into<PathBuf>, url: impl Into<String>) -> Options {
        Options {
            dir: dir.into(),
            url: url.into(),
            token_url: None,
            client_id: DEFAULT_CLIENT_ID.into(),
            channel_id: DEFAULT_CHANNEL_ID.into(),
            body: sample_payment(),
            tamper: Tamper::None,
            token: TokenMode::Fetch,
            replay: false,
            ca_file: None,
        }
    }
}

/// One HTTP exchange with the merchant. Holds no token: the token answer's
/// `accessToken` never leaves [`run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// `token request`, `notification #1`, ...
    pub label: String,
    pub status: u32,
    /// The answer's `responseCode`, if it had one.
    pub response_code: Option<String>,
    pub response_message: Option<String>,
}

impl Exchange {
    fn from_answer(label: String, status: u32, body: &[u8]) -> Exchange {
        let json: Option<Value> = serde_json::from_slice(body).ok();
        let field = |k: &str| {
            json.as_ref()
                .and_then(|j| j.get(k))
                .and_then(Value::as_str)
                .map(|s| s.chars().filter(|c| !c.is_control()).take(120).collect())
        };
        Exchange {
            label,
            status,
            response_code: field("responseCode"),
            response_message: field("responseMessage"),
        }
    }

    /// The output line: `notification #1: HTTP 409 responseCode 4092500 (Conflict)`.
    pub fn line(&self) -> String {
        let mut line = format!("{}: HTTP {}", self.label, self.status);
        match &self.response_code {
            Some(c) => line.push_str(&format!(" responseCode {c}")),
            None => line.push_str(" (no responseCode)"),
        }
        if let Some(m) = &self.response_message {
            line.push_str(&format!(" ({m})"));
        }
        line
    }
}

/// Only loopback targets: the sandbox must never call out. Returns the
/// origin (`http://host:port`) and the path.
fn check_loopback(url: &str) -> io::Result<(String, String)> {
    let invalid = |m: &str| io::Error::new(io::ErrorKind::InvalidInput, m.to_string());
    let (scheme, rest) = url
        .strip_prefix("http://")
        .map(|r| ("http://", r))
        .or_else(|| url.strip_prefix("https://").map(|r| ("https://", r)))
        .ok_or_else(|| invalid("URL must be http:// or https://"))?;
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
        return Err(invalid("URL must point at a loopback address"));
    }
    Ok((format!("{scheme}{authority}"), path.to_string()))
}

fn rsa_sign(key: &PKey<Private>, data: &[u8]) -> io::Result<Vec<u8>> {
    let mut signer = Signer::new(MessageDigest::sha256(), key).map_err(io::Error::other)?;
    signer.update(data).map_err(io::Error::other)?;
    signer.sign_to_vec().map_err(io::Error::other)
}

fn wib_timestamp(at: chrono::DateTime<Utc>) -> String {
    at.with_timezone(&wib())
        .format("%Y-%m-%dT%H:%M:%S+07:00")
        .to_string()
}

/// A POST over libcurl, bounded by a 10 s timeout; the answer is capped at
/// 64 KiB.
fn post(
    url: &str,
    headers: &[String],
    body: &[u8],
    ca_file: Option<&Path>,
) -> io::Result<(u32, Vec<u8>)> {
    let mut easy = curl::easy::Easy::new();
    let mut list = curl::easy::List::new();
    for h in headers.iter().map(String::as_str).chain(["Expect:"]) {
        list.append(h).map_err(io::Error::other)?;
    }
    let configure = |easy: &mut curl::easy::Easy| -> Result<(), curl::Error> {
        easy.url(url)?;
        easy.post(true)?;
        easy.post_fields_copy(body)?;
        easy.http_headers(list)?;
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
    Ok((easy.response_code().map_err(io::Error::other)?, answer))
}

/// The B2B token request: `X-CLIENT-KEY|X-TIMESTAMP` signed with the
/// provider key. Returns the exchange and the token, if one was issued.
fn request_token(
    opts: &Options,
    key: &PKey<Private>,
    token_url: &str,
) -> io::Result<(Exchange, Option<String>)> {
    let timestamp = wib_timestamp(Utc::now());
    let signature = rsa_sign(key, format!("{}|{timestamp}", opts.client_id).as_bytes())?;
    let headers = [
        "Content-Type: application/json".to_string(),
        format!("X-CLIENT-KEY: {}", opts.client_id),
        format!("X-TIMESTAMP: {timestamp}"),
        format!(
            "X-SIGNATURE: {}",
            base64::engine::general_purpose::STANDARD.encode(signature)
        ),
    ];
    let body = br#"{"grantType":"client_credentials"}"#;
    let (status, answer) = post(token_url, &headers, body, opts.ca_file.as_deref())
        .map_err(|e| io::Error::new(e.kind(), format!("token request: {e}")))?;
    let token = serde_json::from_slice::<Value>(&answer)
        .ok()
        .and_then(|j| j.get("accessToken")?.as_str().map(str::to_string))
        .filter(|t| status == 200 && !t.is_empty());
    Ok((
        Exchange::from_answer("token request".into(), status, &answer),
        token,
    ))
}

/// Signs and sends one notification.
fn send_notification(
    opts: &Options,
    key: &PKey<Private>,
    path: &str,
    token: Option<&str>,
    external_id: &str,
    label: String,
) -> io::Result<Exchange> {
    let minified = serde_json::to_string(&opts.body).map_err(io::Error::other)?;
    let mut sent_body = serde_json::to_string_pretty(&opts.body).map_err(io::Error::other)?;
    let mut at = Utc::now();
    if opts.tamper == Tamper::Stale {
        at -= chrono::Duration::minutes(10);
    }
    let timestamp = wib_timestamp(at);
    let digest: String = openssl::sha::sha256(minified.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let string_to_sign = format!("POST:{path}:{digest}:{timestamp}");
    let mut signature = rsa_sign(key, string_to_sign.as_bytes())?;

    let mut sent_timestamp = timestamp.clone();
    match opts.tamper {
        Tamper::Body => {
            let changed = sent_body.replace("150000.00", "1500000.00");
            // A --body-file without the sample amount is still changed.
            sent_body = if changed != sent_body {
                changed
            } else {
                sent_body.replacen('{', "{\"tampered\": true,", 1)
            };
        }
        Tamper::Timestamp => sent_timestamp = wib_timestamp(at + chrono::Duration::seconds(1)),
        Tamper::Signature => signature[10] ^= 0x01,
        Tamper::None | Tamper::Stale => {}
    }
    let signature = base64::engine::general_purpose::STANDARD.encode(signature);
    let mut headers = vec![
        "Content-Type: application/json".to_string(),
        format!("X-TIMESTAMP: {sent_timestamp}"),
        format!("X-SIGNATURE: {signature}"),
        format!("X-PARTNER-ID: {}", opts.client_id),
        format!("X-EXTERNAL-ID: {external_id}"),
        format!("CHANNEL-ID: {}", opts.channel_id),
    ];
    if let Some(t) = token {
        headers.push(format!("Authorization: Bearer {t}"));
    }
    let (status, answer) = post(
        &opts.url,
        &headers,
        sent_body.as_bytes(),
        opts.ca_file.as_deref(),
    )
    .map_err(|e| io::Error::new(e.kind(), format!("{label}: {e}")))?;
    Ok(Exchange::from_answer(label, status, &answer))
}

/// 18 random digits: a fresh `X-EXTERNAL-ID`.
fn external_id() -> String {
    let mut ext = [0u8; 6];
    let _ = openssl::rand::rand_bytes(&mut ext);
    ext.iter().map(|b| format!("{b:03}")).collect()
}

/// Plays the provider calling the merchant: token request (unless
/// [`TokenMode::Skip`]), then the notification (twice with `replay`).
/// Each exchange goes to `report` as soon as it is done; an error means an
/// exchange got no HTTP answer (or bad options), after the ones reported.
pub fn run(opts: &Options, report: &mut dyn FnMut(&Exchange)) -> io::Result<Vec<Exchange>> {
    let (origin, path) = check_loopback(&opts.url)?;
    let token_url = match &opts.token_url {
        Some(u) => u.clone(),
        None => format!("{origin}{TOKEN_PATH}"),
    };
    check_loopback(&token_url)?;
    let key_pem = std::fs::read(opts.dir.join("provider-key.pem"))?;
    let key = PKey::private_key_from_pem(&key_pem).map_err(io::Error::other)?;

    let mut done = Vec::new();
    let mut token = None;
    if opts.token != TokenMode::Skip {
        let (exchange, t) = request_token(opts, &key, &token_url)?;
        report(&exchange);
        done.push(exchange);
        token = t;
    }
    let mut note = String::new();
    if let TokenMode::Expired(wait) = opts.token {
        std::thread::sleep(wait);
        note = format!(" (token {}s old)", wait.as_secs());
    }
    if opts.token != TokenMode::Skip && token.is_none() {
        // Still sent: the merchant's answer to a tokenless notification is
        // worth seeing too.
        note = " (no token: the token request was refused)".into();
    }
    let id = external_id();
    let rounds = if opts.replay { 2 } else { 1 };
    for n in 1..=rounds {
        let mut label = format!("notification #{n}{note}");
        if n > 1 {
            label.push_str(" (same X-EXTERNAL-ID)");
        }
        let exchange = send_notification(opts, &key, &path, token.as_deref(), &id, label)?;
        report(&exchange);
        done.push(exchange);
    }
    Ok(done)
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
            check_loopback("http://127.0.0.1:1/a?b=1").unwrap(),
            ("http://127.0.0.1:1".to_string(), "/a?b=1".to_string())
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
