//! The token endpoints: which paths each provider serves and the shape of its
//! answers (as data), request validation and signature checks, and the fault
//! clients' behaviour.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use chrono::{DateTime, FixedOffset, Offset as _, Utc};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Public};
use openssl::sign::Verifier;
use serde_json::{json, Map, Value};

use super::clients::{Fault, Registry};
use super::http::{http_date, Request, Response};

/// Lifetime of issued tokens.
pub const TOKEN_TTL_SECS: u64 = 900;
/// Largest accepted distance between a request timestamp and the server clock.
pub const MAX_SKEW_MS: i64 = 300_000;
/// Size of the padding field in FAULT-HUGE answers.
const HUGE_PADDING_BYTES: usize = 2 * 1024 * 1024;
const GARBAGE_BODY: &str = "<html>this is not json</html>";

/// Field naming and code scheme of a provider's JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `responseCode` / `responseMessage`, 7-digit SNAP codes.
    Snap,
    /// `response_code` / `response_message`, 9-digit Klikoo codes, `data` wrapper.
    Klikoo,
}

/// One provider's token endpoint.
#[derive(Debug)]
pub struct Provider {
    /// Config name: `doku`, `nicepay`, `snap`, `klikoo`.
    pub name: &'static str,
    pub paths: &'static [&'static str],
    pub dialect: Dialect,
    /// DOKU sends `expiresIn` as a number; the SNAP standard and NICEPAY as a string.
    pub expires_in_number: bool,
    /// DOKU adds `"additionalInfo":""` to the token response.
    pub additional_info_in_response: bool,
    /// DOKU answers with `X-CLIENT-KEY` and `X-TIMESTAMP` response headers.
    pub echo_headers: bool,
}

pub const PROVIDERS: &[Provider] = &[
    Provider {
        name: "doku",
        paths: &["/authorization/v1/access-token/b2b"],
        dialect: Dialect::Snap,
        expires_in_number: true,
        additional_info_in_response: true,
        echo_headers: true,
    },
    Provider {
        name: "nicepay",
        paths: &["/nicepay/v1.0/access-token/b2b"],
        dialect: Dialect::Snap,
        expires_in_number: false,
        additional_info_in_response: false,
        echo_headers: false,
    },
    Provider {
        name: "snap",
        // The standard path and the prefixed forms banks use (BRI, BCA).
        paths: &[
            "/v1.0/access-token/b2b",
            "/snap/v1.0/access-token/b2b",
            "/openapi/v1.0/access-token/b2b",
        ],
        dialect: Dialect::Snap,
        expires_in_number: false,
        additional_info_in_response: false,
        echo_headers: false,
    },
    Provider {
        name: "klikoo",
        paths: &["/v1/open-api/access-token"],
        dialect: Dialect::Klikoo,
        expires_in_number: true,
        additional_info_in_response: false,
        echo_headers: false,
    },
];

pub fn provider_for_path(path: &str) -> Option<&'static Provider> {
    PROVIDERS.iter().find(|p| p.paths.contains(&path))
}

pub fn provider_by_name(name: &str) -> Option<&'static Provider> {
    PROVIDERS.iter().find(|p| p.name == name)
}

/// Why a token request is refused (or a fault's error), independent of dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Body is not a JSON object.
    BadRequest,
    InvalidFormat(&'static str),
    Mandatory(&'static str),
    /// `Unauthorized. {reason}`.
    Unauthorized(&'static str),
    MethodNotAllowed,
    TooManyRequests,
    Internal,
    Unavailable,
}

impl Failure {
    pub fn status(&self) -> u16 {
        match self {
            Failure::BadRequest | Failure::InvalidFormat(_) | Failure::Mandatory(_) => 400,
            Failure::Unauthorized(_) => 401,
            Failure::MethodNotAllowed => 405,
            Failure::TooManyRequests => 429,
            Failure::Internal => 500,
            Failure::Unavailable => 503,
        }
    }

    /// SNAP: HTTP status + service code 73 + case. Klikoo: HTTP status + 012 + case.
    pub fn code(&self, dialect: Dialect) -> &'static str {
        match (dialect, self) {
            (Dialect::Snap, Failure::BadRequest) => "4007300",
            (Dialect::Snap, Failure::InvalidFormat(_)) => "4007301",
            (Dialect::Snap, Failure::Mandatory(_)) => "4007302",
            (Dialect::Snap, Failure::Unauthorized(_)) => "4017300",
            (Dialect::Snap, Failure::MethodNotAllowed) => "4057300",
            (Dialect::Snap, Failure::TooManyRequests) => "4297300",
            (Dialect::Snap, Failure::Internal) => "5007301",
            (Dialect::Snap, Failure::Unavailable) => "5037300",
            (Dialect::Klikoo, Failure::BadRequest) => "400012000",
            (Dialect::Klikoo, Failure::InvalidFormat(_)) => "400012001",
            (Dialect::Klikoo, Failure::Mandatory(_)) => "400012002",
            (Dialect::Klikoo, Failure::Unauthorized(_)) => "401012000",
            (Dialect::Klikoo, Failure::MethodNotAllowed) => "405012000",
            (Dialect::Klikoo, Failure::TooManyRequests) => "429012000",
            (Dialect::Klikoo, Failure::Internal) => "500012001",
            (Dialect::Klikoo, Failure::Unavailable) => "503012000",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Failure::BadRequest => "Bad Request".into(),
            Failure::InvalidFormat(f) => format!("Invalid Field Format {f}"),
            Failure::Mandatory(f) => format!("Invalid Mandatory Field {f}"),
            Failure::Unauthorized(r) => format!("Unauthorized. {r}"),
            Failure::MethodNotAllowed => "Method Not Allowed".into(),
            Failure::TooManyRequests => "Too Many Requests".into(),
            Failure::Internal => "Internal Server Error".into(),
            Failure::Unavailable => "Service Unavailable".into(),
        }
    }
}

impl Provider {
    fn envelope(&self, code: &str, message: &str) -> Map<String, Value> {
        let mut m = Map::new();
        let (code_key, message_key) = match self.dialect {
            Dialect::Snap => ("responseCode", "responseMessage"),
            Dialect::Klikoo => ("response_code", "response_message"),
        };
        m.insert(code_key.into(), code.into());
        m.insert(message_key.into(), message.into());
        m
    }

    pub fn success_code(&self) -> &'static str {
        match self.dialect {
            Dialect::Snap => "2007300",
            Dialect::Klikoo => "200012000",
        }
    }

    pub fn error_body(&self, failure: &Failure) -> Value {
        Value::Object(self.envelope(failure.code(self.dialect), &failure.message()))
    }

    /// The success answer; without a token for FAULT-NOTOKEN.
    pub fn success_body(&self, token: Option<&str>) -> Map<String, Value> {
        match self.dialect {
            Dialect::Snap => {
                let mut m = self.envelope(self.success_code(), "Successful");
                if let Some(t) = token {
                    m.insert("accessToken".into(), t.into());
                }
                m.insert("tokenType".into(), "Bearer".into());
                let expires = if self.expires_in_number {
                    json!(TOKEN_TTL_SECS)
                } else {
                    json!(TOKEN_TTL_SECS.to_string())
                };
                m.insert("expiresIn".into(), expires);
                if self.additional_info_in_response {
                    m.insert("additionalInfo".into(), "".into());
                }
                m
            }
            Dialect::Klikoo => {
                let mut data = Map::new();
                if let Some(t) = token {
                    data.insert("access_token".into(), t.into());
                }
                data.insert("token_type".into(), "Bearer".into());
                data.insert("expires_in".into(), json!(TOKEN_TTL_SECS));
                let mut m = self.envelope(self.success_code(), "Sukses");
                m.insert("data".into(), Value::Object(data));
                m
            }
        }
    }
}

/// What the connection should do with a handled request.
#[derive(Debug)]
pub enum Action {
    Respond(Response),
    /// Answer after a delay (FAULT-SLOW); the connection abandons it if the
    /// peer goes away first.
    RespondAfter(Duration, Response),
    /// Close without answering (FAULT-DROP).
    Drop,
}

/// A handled token request plus what to log and count about it.
#[derive(Debug)]
pub struct Handled {
    pub action: Action,
    pub client_id: Option<String>,
    pub response_code: Option<String>,
    /// The response carries a token (counted as issued once fully written).
    pub issues_token: bool,
}

impl Handled {
    fn response_mut(&mut self) -> Option<&mut Response> {
        match &mut self.action {
            Action::Respond(r) | Action::RespondAfter(_, r) => Some(r),
            Action::Drop => None,
        }
    }

    fn has_header(&mut self, name: &str) -> bool {
        self.response_mut()
            .is_some_and(|r| r.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)))
    }

    fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        if let Some(r) = self.response_mut() {
            r.headers.push((name.to_string(), value.into()));
        }
        self
    }
}

/// Token endpoint behaviour shared by all connections.
pub struct Endpoints {
    registry: Registry,
    slow: Duration,
    /// Requests seen from FAULT-FLAKY (reset with the stats).
    flaky_requests: AtomicU64,
}

/// `2024-12-31T10:11:40+07:00`: the server's own timestamp (WIB, like the providers).
pub fn wib_timestamp(t: DateTime<Utc>) -> String {
    let wib = FixedOffset::east_opt(7 * 3600).unwrap_or_else(|| Utc.fix());
    t.with_timezone(&wib)
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// ISO-8601 with offset (`Z` or `±hh:mm`), optional fraction, `T` separator.
pub fn parse_timestamp(s: &str) -> Option<DateTime<FixedOffset>> {
    if s.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    DateTime::parse_from_rfc3339(s).ok()
}

/// `...:SS.mmm` then the offset: exactly three fraction digits after the
/// seconds (positions fixed by the `YYYY-MM-DDTHH:MM:SS` prefix).
fn has_millis(s: &str) -> bool {
    let b = s.as_bytes();
    b.get(19) == Some(&b'.')
        && b.get(20..23)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
        && matches!(b.get(23), Some(b'Z' | b'+' | b'-'))
}

fn signature_valid(key: &PKey<Public>, message: &[u8], signature_b64: &str) -> bool {
    let Ok(signature) = STANDARD.decode(signature_b64) else {
        return false;
    };
    Verifier::new(MessageDigest::sha256(), key)
        .and_then(|mut v| v.verify_oneshot(&signature, message))
        .unwrap_or(false)
}

/// Constant-time for equal lengths; lengths are not secret.
fn secret_matches(expected: &str, given: &str) -> bool {
    expected.len() == given.len() && openssl::memcmp::eq(expected.as_bytes(), given.as_bytes())
}

fn new_token() -> Option<String> {
    let mut bytes = [0u8; 48];
    openssl::rand::rand_bytes(&mut bytes).ok()?;
    Some(URL_SAFE_NO_PAD.encode(bytes))
}

fn required_header<'a>(req: &'a Request, name: &'static str) -> Result<&'a str, Failure> {
    req.header(name)
        .filter(|v| !v.is_empty())
        .ok_or(Failure::Mandatory(name))
}

fn json_object(body: &[u8]) -> Result<Map<String, Value>, Failure> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(Failure::BadRequest),
    }
}

fn check_grant_type(body: &Map<String, Value>, field: &'static str) -> Result<(), Failure> {
    match body.get(field) {
        None | Some(Value::Null) => Err(Failure::Mandatory(field)),
        Some(Value::String(s)) if s == "client_credentials" => Ok(()),
        Some(_) => Err(Failure::InvalidFormat(field)),
    }
}

fn required_string<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    label: &'static str,
) -> Result<&'a str, Failure> {
    match obj.get(key) {
        None | Some(Value::Null) => Err(Failure::Mandatory(label)),
        Some(Value::String(s)) if s.is_empty() => Err(Failure::Mandatory(label)),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(Failure::InvalidFormat(label)),
    }
}

/// A header value that is safe and sensible to echo back.
fn echoable(v: &str) -> bool {
    !v.is_empty() && v.len() <= 256 && v.chars().all(|c| (' '..='~').contains(&c))
}

impl Endpoints {
    pub fn new(registry: Registry, slow: Duration) -> Self {
        Endpoints {
            registry,
            slow,
            flaky_requests: AtomicU64::new(0),
        }
    }

    pub fn reset_counters(&self) {
        self.flaky_requests.store(0, Ordering::SeqCst);
    }

    /// Handles a request to one of `provider`'s token paths.
    pub fn handle(&self, provider: &Provider, req: &Request, now: DateTime<Utc>) -> Handled {
        let mut client_id = None;
        let handled = if req.method != "POST" {
            self.failure(provider, Failure::MethodNotAllowed)
                .with_header("Allow", "POST")
        } else {
            let checked = match provider.dialect {
                Dialect::Snap => self.check_snap(req, now, &mut client_id),
                Dialect::Klikoo => self.check_klikoo(req, now, &mut client_id),
            };
            match checked {
                Ok(id) => self.grant(provider, &id, now),
                Err(f) => self.failure(provider, f),
            }
        };
        let mut handled = handled;
        if provider.echo_headers {
            if !handled.has_header("X-TIMESTAMP") {
                handled = handled.with_header("X-TIMESTAMP", wib_timestamp(now));
            }
            if let Some(id) = client_id.as_deref().filter(|id| echoable(id)) {
                handled = handled.with_header("X-CLIENT-KEY", id);
            }
        }
        handled.client_id = client_id;
        handled
    }

    /// SNAP (DOKU, NICEPAY, banks): `X-*` headers and `grantType`; returns the client id.
    fn check_snap(
        &self,
        req: &Request,
        now: DateTime<Utc>,
        client_out: &mut Option<String>,
    ) -> Result<String, Failure> {
        *client_out = req
            .header("X-CLIENT-KEY")
            .filter(|v| !v.is_empty())
            .map(str::to_string);
        let timestamp = required_header(req, "X-TIMESTAMP")?;
        let client_id = required_header(req, "X-CLIENT-KEY")?;
        let signature = required_header(req, "X-SIGNATURE")?;
        let when = parse_timestamp(timestamp).ok_or(Failure::InvalidFormat("X-TIMESTAMP"))?;
        let millis_required = self
            .registry
            .get(client_id)
            .is_some_and(|c| c.millis_required);
        if millis_required && !has_millis(timestamp) {
            return Err(Failure::InvalidFormat("X-TIMESTAMP"));
        }
        let body = json_object(&req.body)?;
        check_grant_type(&body, "grantType")?;
        self.authenticate(client_id, timestamp, signature, when, now, None)?;
        Ok(client_id.to_string())
    }

    /// Klikoo: `Open-Api-*` headers, snake_case body carrying the client id and secret.
    fn check_klikoo(
        &self,
        req: &Request,
        now: DateTime<Utc>,
        client_out: &mut Option<String>,
    ) -> Result<String, Failure> {
        let timestamp = required_header(req, "Open-Api-Timestamp")?;
        let signature = required_header(req, "Open-Api-Signature")?;
        let when =
            parse_timestamp(timestamp).ok_or(Failure::InvalidFormat("Open-Api-Timestamp"))?;
        let body = json_object(&req.body)?;
        check_grant_type(&body, "grant_type")?;
        let info = match body.get("additional_info") {
            None | Some(Value::Null) => return Err(Failure::Mandatory("additional_info")),
            Some(Value::Object(m)) => m,
            Some(_) => return Err(Failure::InvalidFormat("additional_info")),
        };
        let client_id = required_string(info, "client_id", "additional_info.client_id")?;
        *client_out = Some(client_id.to_string());
        let secret = required_string(info, "client_secret", "additional_info.client_secret")?;
        self.authenticate(client_id, timestamp, signature, when, now, Some(secret))?;
        Ok(client_id.to_string())
    }

    /// Known client, secret (Klikoo), signature over `client_id|timestamp`, then
    /// freshness: the signature first, so a stale verdict is about an authentic
    /// timestamp.
    fn authenticate(
        &self,
        client_id: &str,
        timestamp: &str,
        signature: &str,
        when: DateTime<FixedOffset>,
        now: DateTime<Utc>,
        secret: Option<&str>,
    ) -> Result<(), Failure> {
        let client = self
            .registry
            .get(client_id)
            .ok_or(Failure::Unauthorized("Unknown Client"))?;
        if let Some(secret) = secret {
            if !secret_matches(&client.klikoo_secret, secret) {
                return Err(Failure::Unauthorized("Verify Client Secret Fail"));
            }
        }
        let string_to_sign = format!("{client_id}|{timestamp}");
        if !signature_valid(&client.public_key, string_to_sign.as_bytes(), signature) {
            return Err(Failure::Unauthorized("Signature"));
        }
        if now.signed_duration_since(when).num_milliseconds().abs() > MAX_SKEW_MS {
            return Err(Failure::Unauthorized("Stale Timestamp"));
        }
        Ok(())
    }

    fn failure(&self, provider: &Provider, failure: Failure) -> Handled {
        let response = Response::json(failure.status(), &provider.error_body(&failure));
        Handled {
            action: Action::Respond(response),
            client_id: None,
            response_code: Some(failure.code(provider.dialect).to_string()),
            issues_token: false,
        }
    }

    fn success(&self, provider: &Provider, padding: bool) -> Handled {
        let Some(token) = new_token() else {
            return self.failure(provider, Failure::Internal);
        };
        let mut body = provider.success_body(Some(&token));
        if padding {
            body.insert("padding".into(), "x".repeat(HUGE_PADDING_BYTES).into());
        }
        Handled {
            action: Action::Respond(Response::json(200, &Value::Object(body))),
            client_id: None,
            response_code: Some(provider.success_code().to_string()),
            issues_token: true,
        }
    }

    /// An authenticated request: a token, unless the client is a fault client.
    fn grant(&self, provider: &Provider, client_id: &str, now: DateTime<Utc>) -> Handled {
        let Some(fault) = Fault::for_client(client_id) else {
            return self.success(provider, false);
        };
        let respond = |response: Response, code: Option<&str>| Handled {
            action: Action::Respond(response),
            client_id: None,
            response_code: code.map(str::to_string),
            issues_token: false,
        };
        match fault {
            Fault::Slow => {
                let mut h = self.success(provider, false);
                if let Action::Respond(r) = h.action {
                    h.action = Action::RespondAfter(self.slow, r);
                }
                h
            }
            Fault::Huge => self.success(provider, true),
            Fault::Flaky => {
                let n = self.flaky_requests.fetch_add(1, Ordering::SeqCst) + 1;
                if n % 2 == 1 {
                    self.failure(provider, Failure::Unavailable)
                } else {
                    self.success(provider, false)
                }
            }
            Fault::Garbage => respond(Response::raw(200, GARBAGE_BODY), None),
            Fault::NoToken => respond(
                Response::json(200, &Value::Object(provider.success_body(None))),
                Some(provider.success_code()),
            ),
            Fault::ServerError => self.failure(provider, Failure::Internal),
            Fault::Drop => Handled {
                action: Action::Drop,
                client_id: None,
                response_code: None,
                issues_token: false,
            },
            Fault::ErrorWith200 => {
                let f = Failure::Unauthorized("Signature");
                respond(
                    Response::json(200, &provider.error_body(&f)),
                    Some(f.code(provider.dialect)),
                )
            }
            Fault::TooManyRequests => self
                .failure(provider, Failure::TooManyRequests)
                .with_header("Retry-After", "1"),
            Fault::Clock => {
                // A server whose clock runs 7 hours ahead (e.g. local time sent as UTC).
                let ahead = now + chrono::Duration::hours(7);
                self.failure(provider, Failure::Unauthorized("Stale Timestamp"))
                    .with_header("X-TIMESTAMP", wib_timestamp(ahead))
                    .with_header("Date", http_date(ahead))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millisecond_timestamps_are_recognised() {
        for ms in ["2024-03-01T08:27:49.024Z", "2024-03-01T08:27:49.024+07:00"] {
            assert!(has_millis(ms), "{ms}");
        }
        for not in [
            "2024-03-01T08:27:49Z",
            "2024-03-01T08:27:49+07:00",
            "2024-03-01T08:27:49.02Z",
            "2024-03-01T08:27:49.0245Z",
        ] {
            assert!(!has_millis(not), "{not}");
        }
    }

    #[test]
    fn timestamps_need_t_and_offset() {
        for ok in [
            "2024-12-31T10:11:40+07:00",
            "2022-09-22T01:51:00Z",
            "2024-03-01T08:27:49.024Z",
            "2024-03-01T08:27:49.024+07:00",
        ] {
            assert!(parse_timestamp(ok).is_some(), "{ok}");
        }
        for bad in [
            "2024-12-31 10:11:40+07:00",
            "2024-12-31T10:11:40",
            "2024-12-31T10:11:40+0700",
            "31/12/2024",
            "",
            "2024-12-31T25:11:40Z",
        ] {
            assert!(parse_timestamp(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn codes_follow_the_status() {
        let all = [
            Failure::BadRequest,
            Failure::InvalidFormat("x"),
            Failure::Mandatory("x"),
            Failure::Unauthorized("x"),
            Failure::MethodNotAllowed,
            Failure::TooManyRequests,
            Failure::Internal,
            Failure::Unavailable,
        ];
        for f in all {
            let status = f.status().to_string();
            assert!(f.code(Dialect::Snap).starts_with(&format!("{status}73")));
            assert!(f.code(Dialect::Klikoo).starts_with(&format!("{status}012")));
            assert_eq!(f.code(Dialect::Snap).len(), 7);
            assert_eq!(f.code(Dialect::Klikoo).len(), 9);
        }
    }

    #[test]
    fn success_shapes_per_provider() {
        let doku = provider_by_name("doku").unwrap().success_body(Some("t"));
        assert_eq!(
            Value::Object(doku).to_string(),
            r#"{"responseCode":"2007300","responseMessage":"Successful","accessToken":"t","tokenType":"Bearer","expiresIn":900,"additionalInfo":""}"#
        );
        let nicepay = provider_by_name("nicepay").unwrap().success_body(Some("t"));
        assert_eq!(
            Value::Object(nicepay).to_string(),
            r#"{"responseCode":"2007300","responseMessage":"Successful","accessToken":"t","tokenType":"Bearer","expiresIn":"900"}"#
        );
        let klikoo = provider_by_name("klikoo").unwrap().success_body(Some("t"));
        assert_eq!(
            Value::Object(klikoo).to_string(),
            r#"{"response_code":"200012000","response_message":"Sukses","data":{"access_token":"t","token_type":"Bearer","expires_in":900}}"#
        );
    }

    #[test]
    fn tokens_are_random_and_url_safe() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }
}
