//! The customer token (SNAP B2B2C, service code 74): an authorization code
//! the customer granted (or a refresh token from an earlier answer)
//! exchanged for an access token that later service calls carry as
//! `Authorization-Customer: Bearer ...`.
//!
//! What is followed, and why:
//! - the path is the profile's `customer_token_path` (SNAP: the B2B path with
//!   `b2b2c` for `b2b`, so a configured `token_path` ending in `/b2b` moves
//!   it along: `/snap/v1.0/access-token/b2b` -> `.../b2b2c`);
//! - the headers and signature are the B2B token's, built by the same code
//!   ([`crate::token::build_request`]): `X-TIMESTAMP`, `X-CLIENT-KEY`,
//!   `X-SIGNATURE` = SHA256withRSA over `client_id|X-TIMESTAMP`; where the
//!   profile says so (`customer_token.b2b_authorization`: SNAP, which treats
//!   it as a service call of the merchant's), the B2B access token is sent
//!   too, as `Authorization`. DOKU's document asks for the signature
//!   headers only;
//! - the body is `{"grantType":"authorization_code","authCode":...}` or
//!   `{"grantType":"refresh_token","refreshToken":...}`, plus the caller's
//!   `additionalInfo`;
//! - an auth code or refresh token is single-use at the provider, so a
//!   request that may have reached it is never sent again: only failures
//!   before anything was sent are retried.

use std::time::{Duration, Instant};

use chrono::Utc;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::config::Config;
use crate::error::{Error, Result, Status};
use crate::keys::PrivateKey;
use crate::redact;
use crate::secret::{SecretBuf, SecretBytes, SecretJson, SecretString};
use crate::token::response::{is_b64token, provider_error};
use crate::transport::{self, Delivery, Limits, Response, Transport};

/// Longest accepted auth code or refresh token (SNAP: `String(2048)`).
pub const MAX_GRANT_CHARS: usize = 2048;
/// Largest `additional_info`, serialised.
pub const MAX_ADDITIONAL_INFO_BYTES: usize = 16 * 1024;

/// What the customer granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// `grantType` `authorization_code`: the code from the consent redirect.
    AuthCode(SecretString),
    /// `grantType` `refresh_token`: from an earlier customer token answer.
    RefreshToken(SecretString),
}

/// One customer token request (`b2b_client_customer_token`'s request_json).
pub struct CustomerTokenRequest {
    pub grant: Grant,
    /// Sent as `additionalInfo` (may hold customer data: wiped on drop).
    pub additional_info: Option<SecretJson>,
    /// This call's budget instead of the config's `timeout_ms`.
    pub timeout: Option<Duration>,
}

impl std::fmt::Debug for CustomerTokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomerTokenRequest")
            .field("grant", &self.grant)
            .field(
                "additional_info",
                &self.additional_info.as_ref().map(|_| "***"),
            )
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl CustomerTokenRequest {
    pub fn auth_code(code: &str) -> Result<CustomerTokenRequest> {
        check_auth_code(code)?;
        Ok(CustomerTokenRequest {
            grant: Grant::AuthCode(SecretString::from(code)),
            additional_info: None,
            timeout: None,
        })
    }

    pub fn refresh_token(token: &str) -> Result<CustomerTokenRequest> {
        check_refresh_token(token)?;
        Ok(CustomerTokenRequest {
            grant: Grant::RefreshToken(SecretString::from(token)),
            additional_info: None,
            timeout: None,
        })
    }

    /// Parses `{"auth_code": ...}` or `{"refresh_token": ...}` (exactly
    /// one), with optional `"additional_info": {...}` and `"timeout_ms"`.
    pub fn parse(request_json: &str) -> Result<CustomerTokenRequest> {
        let tree = SecretJson(serde_json::from_str(request_json).map_err(|e| {
            Error::invalid_argument(format!(
                "request_json is not JSON: {}",
                redact::value(&e.to_string())
            ))
        })?);
        let Value::Object(map) = &*tree else {
            return Err(Error::invalid_argument(
                "request_json must be a JSON object",
            ));
        };
        if let Some(key) = crate::config::first_duplicate_key(request_json) {
            return Err(Error::invalid_argument(format!(
                "request_json key {} appears more than once",
                redact::key_name(&key)
            )));
        }
        const KEYS: [&str; 4] = [
            "auth_code",
            "refresh_token",
            "additional_info",
            "timeout_ms",
        ];
        if let Some(key) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(Error::invalid_argument(format!(
                "unknown request_json key {}: expected auth_code or refresh_token, additional_info, timeout_ms",
                redact::key_name(key)
            )));
        }
        let string = |key: &str| -> Result<Option<&str>> {
            match map.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.as_str())),
                Some(_) => Err(Error::invalid_argument(format!(
                    "request_json `{key}` must be a string"
                ))),
            }
        };
        let mut request = match (string("auth_code")?, string("refresh_token")?) {
            (Some(code), None) => CustomerTokenRequest::auth_code(code)?,
            (None, Some(token)) => CustomerTokenRequest::refresh_token(token)?,
            (Some(_), Some(_)) => {
                return Err(Error::invalid_argument(
                    "request_json has both `auth_code` and `refresh_token`: give exactly one",
                ))
            }
            (None, None) => {
                return Err(Error::invalid_argument(
                    "request_json needs `auth_code` (grant authorization_code) or `refresh_token` (grant refresh_token)",
                ))
            }
        };
        match map.get("additional_info") {
            None | Some(Value::Null) => {}
            Some(Value::Object(info)) => {
                let info = SecretJson(Value::Object(info.clone()));
                let size = info.to_secret_buf().map(|b| b.len()).unwrap_or(usize::MAX);
                if size > MAX_ADDITIONAL_INFO_BYTES {
                    return Err(Error::invalid_argument(format!(
                        "request_json `additional_info` exceeds {MAX_ADDITIONAL_INFO_BYTES} bytes"
                    )));
                }
                request.additional_info = Some(info);
            }
            Some(_) => {
                return Err(Error::invalid_argument(
                    "request_json `additional_info` must be a JSON object",
                ))
            }
        }
        request.timeout = crate::config::request_timeout(map.get("timeout_ms"))?;
        Ok(request)
    }

    /// The body as sent; it holds the code or refresh token.
    fn body(&self) -> Result<SecretBuf> {
        let mut body = match &self.grant {
            Grant::AuthCode(code) => {
                json!({"grantType": "authorization_code", "authCode": code.expose()})
            }
            Grant::RefreshToken(token) => {
                json!({"grantType": "refresh_token", "refreshToken": token.expose()})
            }
        };
        if let Some(info) = &self.additional_info {
            body["additionalInfo"] = info.0.clone();
        }
        SecretJson(body)
            .to_secret_buf()
            .map_err(|e| Error::new(Status::B2B_INTERNAL, e.to_string()))
    }

    fn grant_text(&self) -> &str {
        match &self.grant {
            Grant::AuthCode(s) | Grant::RefreshToken(s) => s.expose(),
        }
    }
}

/// Bounded printable ASCII: it travels in a JSON body, never a header, but
/// a control character or a megabyte is a caller's mistake to name.
fn check_auth_code(code: &str) -> Result<()> {
    if code.is_empty()
        || code.len() > MAX_GRANT_CHARS
        || !code.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(Error::invalid_argument(format!(
            "`auth_code` must be 1 to {MAX_GRANT_CHARS} printable ASCII characters without spaces"
        )));
    }
    Ok(())
}

/// A refresh token is what a provider's answer held, checked as such then.
fn check_refresh_token(token: &str) -> Result<()> {
    if token.len() > MAX_GRANT_CHARS || !is_b64token(token) {
        return Err(Error::invalid_argument(format!(
            "`refresh_token` must be an RFC 6750 token (letters, digits, `-._~+/`, trailing `=`) of at most {MAX_GRANT_CHARS} characters"
        )));
    }
    Ok(())
}

/// `customer_token` of a service call: sent in a header, so a b64token.
pub fn check_customer_token(token: &str) -> Result<()> {
    if token.len() > MAX_GRANT_CHARS || !is_b64token(token) {
        return Err(Error::invalid_argument(format!(
            "`customer_token` must be an RFC 6750 token (letters, digits, `-._~+/`, trailing `=`) of at most {MAX_GRANT_CHARS} characters"
        )));
    }
    Ok(())
}

/// A customer token as the provider answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerToken {
    pub provider: String,
    pub access_token: SecretString,
    pub token_type: String,
    /// Unix seconds, from `accessTokenExpiryTime`; `None` when not sent.
    pub access_token_expires_at: Option<i64>,
    pub refresh_token: Option<SecretString>,
    /// Unix seconds, from `refreshTokenExpiryTime`; `None` when not sent.
    pub refresh_token_expires_at: Option<i64>,
    /// `customerId`, top level or in `additionalInfo`, when sent.
    pub customer_id: Option<String>,
    /// The answer's `additionalInfo` object, or `None`.
    pub additional_info: Option<Value>,
    pub response_code: Option<String>,
    pub response_message: Option<String>,
}

/// The result JSON: these fields, in this order.
#[derive(Serialize)]
struct ResultJson<'a> {
    provider: &'a str,
    access_token: &'a str,
    token_type: &'a str,
    access_token_expires_at: Option<i64>,
    refresh_token: Option<&'a str>,
    refresh_token_expires_at: Option<i64>,
    customer_id: Option<&'a str>,
    additional_info: Option<&'a Value>,
    response_code: Option<&'a str>,
    response_message: Option<&'a str>,
}

impl CustomerToken {
    /// The result JSON, serialised straight into a wiping buffer (it holds
    /// both tokens).
    pub fn to_json_secret(&self) -> SecretBytes {
        let view = ResultJson {
            provider: &self.provider,
            access_token: self.access_token.expose(),
            token_type: &self.token_type,
            access_token_expires_at: self.access_token_expires_at,
            refresh_token: self.refresh_token.as_ref().map(|t| t.expose()),
            refresh_token_expires_at: self.refresh_token_expires_at,
            customer_id: self.customer_id.as_deref(),
            additional_info: self.additional_info.as_ref(),
            response_code: self.response_code.as_deref(),
            response_message: self.response_message.as_deref(),
        };
        let mut out = SecretBuf::with_capacity(
            512 + view.access_token.len() + view.refresh_token.map_or(0, str::len),
        );
        serde_json::to_writer(&mut out, &view).expect(
            "strings, numbers and JSON values always serialise, and SecretBuf never fails a write",
        );
        SecretBytes::from(out)
    }
}

impl Drop for CustomerToken {
    fn drop(&mut self) {
        if let Some(info) = &mut self.additional_info {
            crate::secret::wipe_value(info);
        }
    }
}

/// The endpoint: the profile's B2B2C path, beside a configured B2B path.
pub fn url(config: &Config) -> Result<String> {
    let profile = &config.profile;
    let Some(path) = profile.customer_token.as_ref().map(|c| c.path.as_ref()) else {
        return Err(Error::invalid_argument(format!(
            "provider `{}` documents no customer (B2B2C) token endpoint",
            profile.name
        )));
    };
    // SNAP names the two endpoints alike; a bank's prefix on one is on both.
    let beside = config
        .token_path
        .strip_suffix("/b2b")
        .filter(|_| path.strip_suffix("2c") == Some(profile.token_path.as_ref()))
        .map(|prefix| format!("{prefix}/b2b2c"));
    Ok(format!(
        "{}{}",
        config.base_url,
        beside.as_deref().unwrap_or(path)
    ))
}

/// Whether the profile sends the B2B access token with the request.
pub fn wants_b2b_token(config: &Config) -> bool {
    config
        .profile
        .customer_token
        .as_ref()
        .is_some_and(|c| c.b2b_authorization)
}

/// Signs and sends one customer token request over `transport` before
/// `deadline`, and reads the answer. `b2b_authorization` is the B2B token's
/// `Authorization` value, for profiles that ask for it ([`wants_b2b_token`]).
pub fn fetch(
    config: &Config,
    key: &PrivateKey,
    transport: &mut Transport,
    request: &CustomerTokenRequest,
    b2b_authorization: Option<&SecretString>,
    deadline: Instant,
) -> Result<CustomerToken> {
    let url = url(config)?;
    let body = request.body()?;
    // What a provider (or a proxy) might echo back into a message.
    let mut secrets = config.secret_values();
    secrets.push(request.grant_text());
    if let Some(auth) = b2b_authorization {
        // The token alone, as a provider might echo it.
        secrets.extend(auth.expose().rsplit(' ').next());
    }
    let scrub = |e: Error| e.without_secrets(&secrets);
    let mut retry = 0u32;
    // A kept-alive connection the provider had dropped costs nothing: sent
    // again on a new one without counting as a retry (nothing was sent).
    let mut stale_connection_seen = false;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(Error::new(
                Status::B2B_TIMEOUT,
                "customer token request: not sent: no time left of timeout_ms",
            ));
        }
        let started = Utc::now();
        // The B2B token's headers and signature, one timestamp per attempt.
        let mut signed = crate::token::build_request(config, key, started)?;
        if let Some(auth) = b2b_authorization {
            signed
                .headers
                .insert(0, ("Authorization", auth.expose().to_string()));
        }
        let http = transport::Request {
            method: "POST",
            url: &url,
            headers: &signed.headers,
            body: &body,
            max_response_bytes: transport::MAX_RESPONSE_BYTES,
            resend_on_dead_connection: false,
        };
        let limits = Limits {
            timeout: remaining,
            connect_timeout: config.connect_timeout.min(remaining),
            ca_file: config.ca_file.clone(),
        };
        let pause = crate::client::backoff(retry);
        match transport.send(&http, &limits) {
            Ok(response) => return read_response(config, &response, started).map_err(scrub),
            Err(f)
                if f.delivery == Delivery::NotSent
                    && f.reused_connection
                    && !stale_connection_seen =>
            {
                stale_connection_seen = true;
            }
            Err(f)
                if f.delivery == Delivery::NotSent
                    && retry < config.client.max_retries
                    && Instant::now() + pause < deadline =>
            {
                std::thread::sleep(pause);
                retry += 1;
            }
            Err(f) => {
                let mut e = f.error;
                e.message = match f.delivery {
                    Delivery::NotSent => format!("customer token request: not sent: {}", e.message),
                    Delivery::MaybeSent => format!(
                        "customer token request: sent, no answer: the provider may have used the {} up; not sent again ({})",
                        match request.grant {
                            Grant::AuthCode(_) => "auth code",
                            Grant::RefreshToken(_) => "refresh token",
                        },
                        e.message
                    ),
                };
                return Err(scrub(e));
            }
        }
    }
}

/// The answer as a [`CustomerToken`], or PROVIDER (with the code, message
/// and hint, as for the B2B token) / PROTOCOL.
pub fn read_response(
    config: &Config,
    response: &Response,
    requested_at: chrono::DateTime<Utc>,
) -> Result<CustomerToken> {
    let profile = &config.profile;
    let fields = &profile.response;
    let tree = SecretJson::parse(&response.body).unwrap_or_default();
    let root: Option<&Map<String, Value>> = tree.as_object();
    // The first of the profile's names that is present.
    let text = |names: &[crate::provider::Text], max: usize| {
        let m = root?;
        names
            .iter()
            .find_map(|n| scalar_string(m.get(n.as_ref())))
            .map(|s| redact::scrub(&s, &[], max))
    };
    let code = text(&fields.response_code, redact::MAX_RESPONSE_CODE_CHARS);
    let message = text(&fields.response_message, redact::MAX_RESPONSE_MESSAGE_CHARS);
    let refused = |code, message| {
        let mut e = provider_error(profile, response, code, message, requested_at);
        e.message = e
            .message
            .replacen("the token request", "the customer token request", 1);
        e
    };
    if !response.is_success() {
        return Err(refused(code, message));
    }
    if code.as_deref().is_some_and(|c| !profile.is_success_code(c)) {
        return Err(refused(code, message));
    }
    let protocol = |message: String| {
        let mut e = Error::protocol(message);
        e.http_status = Some(response.status);
        e
    };
    let Some(root) = root else {
        return Err(protocol(format!(
            "{} answered the customer token request with HTTP {} but the body is not a JSON object ({} bytes)",
            profile.name,
            response.status,
            response.body.len()
        )));
    };
    // Named, never echoed: the value may be a token.
    let token = |name: &str| -> Result<Option<SecretString>> {
        match root.get(name) {
            Some(Value::String(t)) if is_b64token(t) => Ok(Some(SecretString::from(t.as_str()))),
            None | Some(Value::Null) => Ok(None),
            Some(_) => Err(protocol(format!(
                "`{name}` in {}'s customer token answer is not an RFC 6750 token (letters, digits, `-._~+/`, trailing `=`)",
                profile.name
            ))),
        }
    };
    let access_token = token("accessToken")?.ok_or_else(|| {
        protocol(format!(
            "{} answered the customer token request with success but without `accessToken`",
            profile.name
        ))
    })?;
    let refresh_token = token("refreshToken")?;
    let token_type = match root.get("tokenType") {
        None | Some(Value::Null) => "Bearer".to_string(),
        Some(Value::String(t)) if is_b64token(t) && t.len() <= 32 => t.clone(),
        Some(_) => {
            return Err(protocol(format!(
                "`tokenType` in {}'s customer token answer is not a token type such as Bearer",
                profile.name
            )))
        }
    };
    let expiry = |name: &str| -> Result<Option<i64>> {
        match root.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => crate::timestamp::parse(s)
                .map(|t| Some(t.timestamp()))
                .ok_or_else(|| {
                    protocol(format!(
                        "`{name}` in {}'s customer token answer is not an ISO-8601 time with offset: {}",
                        profile.name,
                        redact::value(s)
                    ))
                }),
            Some(_) => Err(protocol(format!(
                "`{name}` in {}'s customer token answer is not a string",
                profile.name
            ))),
        }
    };
    let access_token_expires_at = expiry("accessTokenExpiryTime")?;
    let refresh_token_expires_at = expiry("refreshTokenExpiryTime")?;
    let additional_info = match root.get("additionalInfo") {
        Some(Value::Object(m)) => Some(Value::Object(m.clone())),
        _ => None,
    };
    let customer_id = scalar_string(root.get("customerId"))
        .or_else(|| {
            additional_info
                .as_ref()
                .and_then(|i| scalar_string(i.get("customerId")))
        })
        .map(|id| redact::scrub(&id, &[], redact::MAX_QUOTED_CHARS));
    Ok(CustomerToken {
        provider: profile.name.to_string(),
        access_token,
        token_type,
        access_token_expires_at,
        refresh_token,
        refresh_token_expires_at,
        customer_id,
        additional_info,
        response_code: code,
        response_message: message,
    })
}

fn scalar_string(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigKind;

    fn config(provider: &str, extra: &str) -> Config {
        Config::parse(
            &format!(
                r#"{{"provider":"{provider}","base_url":"https://bank.example","client_id":"c","private_key_file":"/k.pem"{extra}}}"#
            ),
            ConfigKind::Client,
        )
        .unwrap()
    }

    fn resp(status: u32, body: &str) -> Response {
        Response {
            status,
            headers: vec![],
            body: body.as_bytes().into(),
        }
    }

    #[test]
    fn the_path_is_the_profiles_or_beside_a_configured_b2b_path() {
        assert_eq!(
            url(&config("snap", "")).unwrap(),
            "https://bank.example/v1.0/access-token/b2b2c"
        );
        assert_eq!(
            url(&config("doku", "")).unwrap(),
            "https://bank.example/authorization/v1/access-token/b2b2c"
        );
        assert_eq!(
            url(&config(
                "snap",
                r#","token_path":"/snap/v1.0/access-token/b2b""#
            ))
            .unwrap(),
            "https://bank.example/snap/v1.0/access-token/b2b2c"
        );
        // A path that is not SNAP's naming keeps the profile's.
        assert_eq!(
            url(&config("snap", r#","token_path":"/oauth/token""#)).unwrap(),
            "https://bank.example/v1.0/access-token/b2b2c"
        );
        for none in ["nicepay", "klikoo"] {
            let e = url(&config(none, r#","client_secret":"s""#)).unwrap_err();
            assert_eq!(e.status, Status::B2B_INVALID_ARGUMENT);
            assert!(e.message.contains("B2B2C"), "{}", e.message);
        }
    }

    #[test]
    fn requests_parse_to_one_grant_and_bad_ones_are_named() {
        let r = CustomerTokenRequest::parse(
            r#"{"auth_code":"a6975f82-d00a","additional_info":{"x":[1]},"timeout_ms":500}"#,
        )
        .unwrap();
        assert_eq!(r.grant, Grant::AuthCode("a6975f82-d00a".into()));
        assert_eq!(r.timeout, Some(Duration::from_millis(500)));
        assert_eq!(
            std::str::from_utf8(&r.body().unwrap()).unwrap(),
            r#"{"grantType":"authorization_code","authCode":"a6975f82-d00a","additionalInfo":{"x":[1]}}"#
        );
        let r = CustomerTokenRequest::parse(r#"{"refresh_token":"rt-1=="}"#).unwrap();
        assert_eq!(
            std::str::from_utf8(&r.body().unwrap()).unwrap(),
            r#"{"grantType":"refresh_token","refreshToken":"rt-1=="}"#
        );
        let big = "x".repeat(MAX_ADDITIONAL_INFO_BYTES);
        let long = "a".repeat(MAX_GRANT_CHARS + 1);
        let cases = [
            ("[1]".to_string(), "JSON object"),
            ("{".to_string(), "not JSON"),
            ("{}".to_string(), "needs `auth_code`"),
            (r#"{"auth_code":null}"#.to_string(), "needs `auth_code`"),
            (
                r#"{"auth_code":"a","refresh_token":"b"}"#.to_string(),
                "both",
            ),
            (r#"{"auth_code":12}"#.to_string(), "must be a string"),
            (r#"{"refresh_token":["x"]}"#.to_string(), "must be a string"),
            (r#"{"auth_code":""}"#.to_string(), "`auth_code` must be"),
            (r#"{"auth_code":"a b"}"#.to_string(), "`auth_code` must be"),
            (
                format!(r#"{{"auth_code":"{long}"}}"#),
                "`auth_code` must be",
            ),
            (
                r#"{"refresh_token":"a\r\nX: 1"}"#.to_string(),
                "`refresh_token` must be",
            ),
            (
                format!(r#"{{"refresh_token":"{long}"}}"#),
                "`refresh_token` must be",
            ),
            (
                r#"{"auth_code":"a","additional_info":"x"}"#.to_string(),
                "must be a JSON object",
            ),
            (
                format!(r#"{{"auth_code":"a","additional_info":{{"k":"{big}"}}}}"#),
                "exceeds",
            ),
            (
                r#"{"auth_code":"a","timeout_ms":0}"#.to_string(),
                "timeout_ms",
            ),
            (
                r#"{"auth_code":"a","scope":"x"}"#.to_string(),
                "unknown request_json key `scope`",
            ),
            (
                r#"{"auth_code":"a","auth_code":"b"}"#.to_string(),
                "more than once",
            ),
        ];
        for (json, want) in cases {
            let e = CustomerTokenRequest::parse(&json).unwrap_err();
            assert_eq!(e.status, Status::B2B_INVALID_ARGUMENT, "{json}");
            assert!(e.message.contains(want), "{json}: {}", e.message);
            assert!(e.message.chars().count() < 300, "{}", e.message);
        }
        // The values themselves are never echoed.
        let e =
            CustomerTokenRequest::parse(r#"{"refresh_token":"SECRET-RT with space"}"#).unwrap_err();
        assert!(!e.message.contains("SECRET"), "{}", e.message);
    }

    #[test]
    fn an_answer_reads_into_both_tokens_and_their_expiry() {
        let c = config("snap", "");
        let t = read_response(&c, &resp(200, r#"{"responseCode":"2007400","responseMessage":"Successful","accessToken":"at-1","tokenType":"Bearer","accessTokenExpiryTime":"2024-12-31T10:26:40+07:00","refreshToken":"rt-1","refreshTokenExpiryTime":"2025-01-30T03:11:40Z","additionalInfo":{"customerId":"C-9"}}"#), Utc::now()).unwrap();
        assert_eq!(t.access_token.expose(), "at-1");
        assert_eq!(t.refresh_token.as_ref().unwrap().expose(), "rt-1");
        assert_eq!(t.access_token_expires_at, Some(1_735_615_600));
        assert_eq!(t.refresh_token_expires_at, Some(1_738_206_700));
        assert_eq!(t.customer_id.as_deref(), Some("C-9"));
        let json: Value = serde_json::from_slice(&t.to_json_secret()).unwrap();
        assert_eq!(
            json,
            json!({"provider":"snap","access_token":"at-1","token_type":"Bearer",
                "access_token_expires_at":1_735_615_600i64,"refresh_token":"rt-1",
                "refresh_token_expires_at":1_738_206_700i64,"customer_id":"C-9",
                "additional_info":{"customerId":"C-9"},"response_code":"2007400",
                "response_message":"Successful"})
        );
        // Only the access token is required; a top-level customerId counts.
        let t = read_response(
            &c,
            &resp(200, r#"{"accessToken":"a","customerId":7}"#),
            Utc::now(),
        )
        .unwrap();
        assert_eq!(
            (
                t.refresh_token.is_none(),
                t.access_token_expires_at,
                t.customer_id.as_deref(),
                t.token_type.as_str()
            ),
            (true, None, Some("7"), "Bearer")
        );
    }

    #[test]
    fn refusals_and_malformed_answers() {
        let c = config("snap", "");
        let e = read_response(
            &c,
            &resp(
                401,
                r#"{"responseCode":"4017400","responseMessage":"Unauthorized. Signature"}"#,
            ),
            Utc::now(),
        )
        .unwrap_err();
        assert_eq!(
            (e.status, e.http_status, e.response_code.as_deref()),
            (Status::B2B_PROVIDER, Some(401), Some("4017400"))
        );
        assert!(
            e.message.contains("customer token request"),
            "{}",
            e.message
        );
        assert!(e.hint.unwrap().contains("public key"));
        let e = read_response(
            &c,
            &resp(
                200,
                r#"{"responseCode":"4017400","responseMessage":"Unauthorized"}"#,
            ),
            Utc::now(),
        )
        .unwrap_err();
        assert_eq!(e.status, Status::B2B_PROVIDER);
        for body in [
            "<html>",
            r#"{"responseCode":"2007400"}"#,
            r#"{"accessToken":"a b"}"#,
            r#"{"accessToken":"a","refreshToken":"r\r\nX: 1"}"#,
            r#"{"accessToken":"a","refreshToken":5}"#,
            r#"{"accessToken":"a","tokenType":"Bear er"}"#,
            r#"{"accessToken":"a","accessTokenExpiryTime":"tomorrow"}"#,
            r#"{"accessToken":"a","refreshTokenExpiryTime":1735615600}"#,
        ] {
            let e = read_response(&c, &resp(200, body), Utc::now()).unwrap_err();
            assert_eq!(e.status, Status::B2B_PROTOCOL, "{body}");
            assert!(!e.message.contains("r\r\n"), "{}", e.message);
        }
    }
}
