//! The merchant's side of SNAP: answering a provider's B2B token request
//! and checking each inbound notification (token, signature, freshness,
//! replay). Framework-agnostic: the caller hands over method, path, headers
//! and body, and gets back the exact HTTP answer to send.
//!
//! A rejection of what the sender did wrong is a [`Verdict`] with
//! `accepted: false` and the SNAP answer to send; errors are only for the
//! caller's own mistakes and internal failures.

pub mod jwt;
pub mod replay;

use std::path::PathBuf;
use std::sync::Mutex;

use chrono::Utc;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{Error, Result, Status};
use crate::keys::PublicKey;
use crate::redact;
use crate::secret::{SecretBuf, SecretBytes, SecretJson, SecretString};
use crate::service;

/// `token_secret` must carry at least this many bytes (HS256's key size).
pub const MIN_TOKEN_SECRET_BYTES: usize = 32;
pub const DEFAULT_TOKEN_TTL_S: u64 = 900;
/// SNAP's service code of the B2B access token.
const TOKEN_SERVICE_CODE: &str = "73";
/// Used in response codes when a check names no service code.
const DEFAULT_SERVICE_CODE: &str = "00";

/// How a partner signs its notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationSignature {
    /// SHA256withRSA with the partner's key over
    /// `METHOD:path:hex(sha256(minify(body))):timestamp`.
    Rsa,
    /// HMAC-SHA512 with the partner's client secret, the token included.
    Hmac,
}

/// A provider that calls the merchant back.
pub struct Partner {
    pub client_id: String,
    pub public_key: PublicKey,
    pub client_secret: Option<SecretString>,
    pub signature: NotificationSignature,
}

/// The merchant's endpoint: `b2b_server_new`.
pub struct Server {
    partners: Vec<Partner>,
    token_ttl_s: u64,
    token_secret: SecretBytes,
    max_skew_s: i64,
    replay: Mutex<replay::ReplayMemory>,
    /// Shared by every process on the host, when configured.
    replay_file: Option<replay::ReplayFile>,
    /// Shared by every host of the fleet (`replay_url`), when configured.
    replay_store: Option<replay::ReplayStore>,
    /// `replay_on_store_failure: "accept"`: with the store down, this
    /// process's memory answers (default: refused with 503, retried by the
    /// provider; a duplicate credit is not undone).
    accept_without_store: bool,
}

/// An inbound request as the caller received it.
pub struct Inbound {
    pub method: String,
    pub path: String,
    /// Names as received; looked up case-insensitively.
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub service_code: Option<String>,
}

impl Inbound {
    /// `{"method", "path", "headers": {...}, "body": "<raw text>", "service_code"}`.
    pub fn parse(request_json: &str) -> Result<Inbound> {
        let tree = json_object(
            request_json,
            "request_json",
            &["method", "path", "headers", "body", "service_code"],
        )?;
        let Value::Object(map) = &*tree else {
            unreachable!("json_object returns objects")
        };
        let text = |key: &str| -> Result<Option<String>> {
            match map.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(Error::invalid_argument(format!(
                    "request_json key `{key}` must be a string"
                ))),
            }
        };
        let mut headers = Vec::new();
        match map.get("headers") {
            None | Some(Value::Null) => {}
            Some(Value::Object(h)) => {
                for (name, value) in h {
                    let Value::String(value) = value else {
                        return Err(Error::invalid_argument(format!(
                            "header {} must have a string value",
                            redact::key_name(name)
                        )));
                    };
                    headers.push((name.clone(), value.clone()));
                }
            }
            Some(_) => {
                return Err(Error::invalid_argument(
                    "request_json `headers` must be an object of name: value strings",
                ))
            }
        }
        let service_code = text("service_code")?;
        if let Some(code) = &service_code {
            if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::invalid_argument(
                    "request_json `service_code` must be two digits, e.g. \"25\"",
                ));
            }
        }
        Ok(Inbound {
            method: text("method")?.unwrap_or_default(),
            path: text("path")?.unwrap_or_default(),
            headers,
            body: text("body")?.unwrap_or_default(),
            service_code,
        })
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The answer to send, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub accepted: bool,
    pub http_status: u16,
    pub headers: Map<String, Value>,
    /// The exact JSON to send, or null (an accepted notification: the
    /// merchant writes its own success answer).
    pub body: Option<String>,
    pub client_id: Option<String>,
    pub external_id: Option<String>,
    /// One line, no secret.
    pub reason: String,
}

impl Verdict {
    fn refuse(status: u16, code: String, message: &str, reason: impl Into<String>) -> Verdict {
        let body = serde_json::json!({"responseCode": code, "responseMessage": message});
        Verdict {
            accepted: false,
            http_status: status,
            headers: json_headers(),
            body: Some(body.to_string()),
            client_id: None,
            external_id: None,
            reason: reason.into(),
        }
    }

    fn with_client(mut self, client_id: Option<&str>) -> Verdict {
        self.client_id = client_id.map(printable);
        self
    }

    /// The verdict JSON, in a wiping buffer (an accepted token answer
    /// carries the token).
    pub fn to_json_secret(&self) -> SecretBytes {
        let mut out = SecretBuf::with_capacity(512);
        serde_json::to_writer(&mut out, self)
            .expect("strings and integers always serialise, and SecretBuf never fails a write");
        SecretBytes::from(out)
    }
}

/// The SNAP refusals both endpoints give, written once.
impl Verdict {
    fn missing(ss: &str, name: &str) -> Verdict {
        Verdict::refuse(
            400,
            code(400, ss, "02"),
            &format!("Invalid Mandatory Field {name}"),
            format!("{name} header is missing"),
        )
    }

    fn bad_timestamp(ss: &str) -> Verdict {
        Verdict::refuse(
            400,
            code(400, ss, "01"),
            "Invalid Field Format X-TIMESTAMP",
            "X-TIMESTAMP is not ISO-8601 with an offset",
        )
    }

    fn stale(ss: &str, why: String) -> Verdict {
        Verdict::refuse(
            401,
            code(401, ss, "00"),
            "Unauthorized. Stale Timestamp",
            why,
        )
    }
}

fn json_headers() -> Map<String, Value> {
    let mut h = Map::new();
    h.insert("Content-Type".into(), "application/json".into());
    h
}

/// Header values the sender chose, as they may appear in a verdict:
/// printable ASCII, bounded.
fn printable(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .take(64)
        .collect()
}

/// `text` as a JSON object (`what` names it in messages) with only `known`
/// keys, each at most once; wiped when dropped (it may hold secrets).
fn json_object(text: &str, what: &str, known: &[&str]) -> Result<SecretJson> {
    let tree = SecretJson(serde_json::from_str(text).map_err(|e| {
        Error::invalid_argument(format!(
            "{what} is not JSON: {}",
            redact::value(&e.to_string())
        ))
    })?);
    let Value::Object(map) = &*tree else {
        return Err(Error::invalid_argument(format!(
            "{what} must be a JSON object"
        )));
    };
    if let Some(key) = map.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(Error::invalid_argument(format!(
            "unknown {what} key {}",
            redact::key_name(key)
        )));
    }
    if let Some(key) = crate::config::first_duplicate_key(text) {
        return Err(Error::invalid_argument(format!(
            "{what} key {} appears more than once",
            redact::key_name(&key)
        )));
    }
    Ok(tree)
}

fn code(status: u16, service: &str, case: &str) -> String {
    format!("{status}{service}{case}")
}

impl Server {
    pub fn new(config_json: &str) -> Result<Server> {
        let tree = json_object(
            config_json,
            "server config",
            &[
                "partners",
                "token_ttl_s",
                "token_secret",
                "token_secret_file",
                "max_skew_s",
                "replay_file",
                "replay_url",
                "replay_key_prefix",
                "replay_password_file",
                "replay_on_store_failure",
                "replay_timeout_ms",
                "ca_file",
            ],
        )?;
        let Value::Object(map) = &*tree else {
            unreachable!("json_object returns objects")
        };
        let replay_file = match map.get("replay_file") {
            None | Some(Value::Null) => None,
            Some(Value::String(p)) if !p.is_empty() && p.len() <= 4096 && !p.contains('\0') => {
                let path = PathBuf::from(p);
                // A missing directory is a typo that would silently turn
                // sharing off: refuse it here, as for `cache_file`.
                let dir = path
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .unwrap_or(std::path::Path::new("."));
                if !dir.is_dir() {
                    return Err(Error::invalid_argument(format!(
                        "server config key `replay_file`: directory of {} does not exist",
                        redact::path(&path)
                    )));
                }
                Some(replay::ReplayFile::new(path))
            }
            Some(_) => {
                return Err(Error::invalid_argument(
                    "server config key `replay_file` must be a path",
                ))
            }
        };
        let partners = match map.get("partners") {
            Some(Value::Array(list)) if !list.is_empty() => list
                .iter()
                .enumerate()
                .map(|(i, p)| partner(i, p))
                .collect::<Result<Vec<_>>>()?,
            _ => {
                return Err(Error::invalid_argument(
                    "server config needs `partners`: a non-empty array",
                ))
            }
        };
        for (i, p) in partners.iter().enumerate() {
            if partners[..i].iter().any(|q| q.client_id == p.client_id) {
                return Err(Error::invalid_argument(format!(
                    "server config `partners` names client_id {} twice",
                    redact::value(&p.client_id)
                )));
            }
        }
        let uint = |key: &str, default: u64, max: u64| -> Result<u64> {
            match map.get(key) {
                None => Ok(default),
                Some(v) => v.as_u64().filter(|n| (1..=max).contains(n)).ok_or_else(|| {
                    Error::invalid_argument(format!("server config key `{key}` must be 1 to {max}"))
                }),
            }
        };
        let token_ttl_s = uint("token_ttl_s", DEFAULT_TOKEN_TTL_S, 86_400)?;
        let max_skew_s = uint(
            "max_skew_s",
            service::DEFAULT_MAX_SKEW_S as u64,
            service::MAX_MAX_SKEW_S as u64,
        )? as i64;
        let token_secret = token_secret(map)?;
        let (replay_store, accept_without_store) = replay_store(map)?;
        if replay_store.is_some() && replay_file.is_some() {
            return Err(Error::invalid_argument(
                "server config has both `replay_file` and `replay_url`: keep one (replay_url is shared by every host)",
            ));
        }
        Ok(Server {
            partners,
            token_ttl_s,
            token_secret,
            max_skew_s,
            replay: Mutex::new(replay::ReplayMemory::default()),
            replay_file,
            replay_store,
            accept_without_store,
        })
    }

    fn partner(&self, client_id: &str) -> Option<&Partner> {
        self.partners.iter().find(|p| p.client_id == client_id)
    }

    /// Answers a provider's `POST .../access-token/b2b`.
    pub fn token(&self, req: &Inbound) -> Result<Verdict> {
        self.token_at(req, Utc::now().timestamp())
    }

    fn token_at(&self, req: &Inbound, now: i64) -> Result<Verdict> {
        let ss = req.service_code.as_deref().unwrap_or(TOKEN_SERVICE_CODE);
        for name in ["X-CLIENT-KEY", "X-TIMESTAMP", "X-SIGNATURE"] {
            if req.header(name).is_none_or(str::is_empty) {
                return Ok(Verdict::missing(ss, name));
            }
        }
        let client_key = req.header("X-CLIENT-KEY").unwrap_or_default();
        let timestamp = req.header("X-TIMESTAMP").unwrap_or_default();
        let signature = req.header("X-SIGNATURE").unwrap_or_default();
        if crate::timestamp::parse(timestamp).is_none() {
            return Ok(Verdict::bad_timestamp(ss).with_client(Some(client_key)));
        }
        let Some(partner) = self.partner(client_key) else {
            return Ok(Verdict::refuse(
                401,
                code(401, ss, "00"),
                "Unauthorized. Unknown Client",
                "X-CLIENT-KEY is not a configured partner",
            ));
        };
        if let Err(e) = service::check_freshness(timestamp, self.max_skew_s, now) {
            return Ok(Verdict::stale(ss, e.message).with_client(Some(client_key)));
        }
        if let Err(e) =
            service::verify_b2b(&partner.public_key, client_key, timestamp, signature, 0)
        {
            return sender_or_internal(e, || {
                Verdict::refuse(
                    401,
                    code(401, ss, "00"),
                    "Unauthorized. Signature",
                    "X-SIGNATURE does not verify with the partner's public key",
                )
                .with_client(Some(client_key))
            });
        }
        let grant_ok = matches!(
            serde_json::from_str::<Value>(&req.body),
            Ok(Value::Object(ref m)) if m.get("grantType") == Some(&Value::from("client_credentials"))
        );
        if !grant_ok {
            return Ok(Verdict::refuse(
                400,
                code(400, ss, "00"),
                "Bad Request",
                "body is not {\"grantType\":\"client_credentials\"}",
            )
            .with_client(Some(client_key)));
        }
        let mut jti = [0u8; 16];
        openssl::rand::rand_bytes(&mut jti)
            .map_err(|e| Error::crypto(format!("random source failed: {e}")))?;
        let claims = jwt::Claims {
            sub: partner.client_id.clone(),
            iat: now,
            exp: now + self.token_ttl_s as i64,
            jti: jti.iter().map(|b| format!("{b:02x}")).collect(),
        };
        let token = jwt::issue(&self.token_secret, &claims)?;
        let mut body = SecretBuf::with_capacity(256 + token.len());
        serde_json::to_writer(
            &mut body,
            &serde_json::json!({
                "responseCode": code(200, ss, "00"),
                "responseMessage": "Successful",
                "accessToken": token,
                "tokenType": "Bearer",
                "expiresIn": self.token_ttl_s.to_string(),
            }),
        )
        .expect("JSON values serialise");
        let mut headers = json_headers();
        headers.insert("X-CLIENT-KEY".into(), partner.client_id.clone().into());
        headers.insert("X-TIMESTAMP".into(), printable(timestamp).into());
        Ok(Verdict {
            accepted: true,
            http_status: 200,
            headers,
            body: Some(String::from_utf8(body.to_vec()).expect("serde writes UTF-8")),
            client_id: Some(partner.client_id.clone()),
            external_id: None,
            reason: "token issued".into(),
        })
    }

    /// Checks an inbound notification or service call.
    pub fn check(&self, req: &Inbound) -> Result<Verdict> {
        self.check_at(req, Utc::now().timestamp())
    }

    fn check_at(&self, req: &Inbound, now: i64) -> Result<Verdict> {
        let ss = req.service_code.as_deref().unwrap_or(DEFAULT_SERVICE_CODE);
        let invalid_token =
            |reason: &str| Verdict::refuse(401, code(401, ss, "01"), "Invalid Token (B2B)", reason);
        let Some(token) = req.header("Authorization").and_then(|a| {
            a.strip_prefix("Bearer ")
                .or_else(|| a.strip_prefix("bearer "))
        }) else {
            return Ok(invalid_token("no Authorization: Bearer token"));
        };
        let claims = match jwt::verify(&self.token_secret, token.trim(), now)? {
            Ok(c) => c,
            Err(refusal) => return Ok(invalid_token(refusal.reason())),
        };
        let Some(partner) = self.partner(&claims.sub) else {
            return Ok(invalid_token(
                "the access token's partner is no longer configured",
            ));
        };
        let client = Some(partner.client_id.as_str());
        for name in ["X-TIMESTAMP", "X-SIGNATURE", "X-EXTERNAL-ID"] {
            if req.header(name).is_none_or(str::is_empty) {
                return Ok(Verdict::missing(ss, name).with_client(client));
            }
        }
        let timestamp = req.header("X-TIMESTAMP").unwrap_or_default();
        let signature = req.header("X-SIGNATURE").unwrap_or_default();
        let external_id = req.header("X-EXTERNAL-ID").unwrap_or_default();
        if crate::timestamp::parse(timestamp).is_none() {
            return Ok(Verdict::bad_timestamp(ss).with_client(client));
        }
        if let Err(e) = service::check_freshness(timestamp, self.max_skew_s, now) {
            return Ok(Verdict::stale(ss, e.message).with_client(client));
        }
        let verified = match partner.signature {
            NotificationSignature::Rsa => service::verify_service_signature_rsa(
                &partner.public_key,
                &req.method,
                &req.path,
                Some(&req.body),
                timestamp,
                signature,
                0,
            ),
            NotificationSignature::Hmac => service::verify_service_signature(
                partner
                    .client_secret
                    .as_ref()
                    .map(|s| s.expose())
                    .unwrap_or_default(),
                &req.method,
                &req.path,
                token.trim(),
                Some(&req.body),
                timestamp,
                signature,
                0,
            ),
        };
        if let Err(e) = verified {
            return sender_or_internal(e, || {
                Verdict::refuse(
                    401,
                    code(401, ss, "00"),
                    "Unauthorized. Signature",
                    "X-SIGNATURE does not verify (tampered body, wrong key, or other method, path or timestamp)",
                )
                .with_client(client)
            });
        }
        for name in ["X-PARTNER-ID", "X-CLIENT-KEY"] {
            if let Some(v) = req.header(name) {
                if v != partner.client_id {
                    return Ok(Verdict::refuse(
                        401,
                        code(401, ss, "00"),
                        "Unauthorized. Unknown Partner",
                        format!("{name} is not the partner the access token was issued to"),
                    )
                    .with_client(client));
                }
            }
        }
        if !matches!(
            serde_json::from_str::<Value>(&req.body),
            Ok(Value::Object(_))
        ) {
            return Ok(Verdict::refuse(
                400,
                code(400, ss, "00"),
                "Bad Request",
                "body is not a JSON object",
            )
            .with_client(client));
        }
        if external_id.len() > crate::external_id::MAX_LENGTH {
            return Ok(Verdict::refuse(
                400,
                code(400, ss, "01"),
                "Invalid Field Format X-EXTERNAL-ID",
                "X-EXTERNAL-ID is longer than 36 characters",
            )
            .with_client(client));
        }
        // Last, so that only a request that passed every other check can use
        // an id up: a forged or tampered one cannot burn a real one.
        let (fresh, note) = match self.use_external_id(&partner.client_id, external_id, now) {
            Ok(used) => used,
            Err(why) => {
                let mut v = Verdict::refuse(
                    503,
                    code(503, ss, "00"),
                    "Service Unavailable",
                    format!("{why}: not accepted now (replay_on_store_failure is reject); the provider retries it"),
                )
                .with_client(client);
                v.external_id = Some(printable(external_id));
                return Ok(v);
            }
        };
        let mut verdict = if fresh {
            Verdict {
                accepted: true,
                http_status: 200,
                headers: json_headers(),
                body: None,
                client_id: None,
                external_id: None,
                reason: match note {
                    Some(n) => format!("accepted ({n})"),
                    None => "accepted".into(),
                },
            }
        } else {
            Verdict::refuse(
                409,
                code(409, ss, "00"),
                "Conflict",
                "X-EXTERNAL-ID was already used by this partner today: a replay",
            )
        };
        verdict.client_id = client.map(str::to_string);
        verdict.external_id = Some(printable(external_id));
        Ok(verdict)
    }
}

impl Server {
    /// The fleet's store or the host's file when configured and usable,
    /// else this process's memory; a note says when the file was started
    /// over or a store not used. `Err` (why) when the fleet's store cannot
    /// answer and `replay_on_store_failure` is `reject`.
    fn use_external_id(
        &self,
        partner: &str,
        external_id: &str,
        now: i64,
    ) -> std::result::Result<(bool, Option<String>), String> {
        let mut note = None;
        if let Some(store) = &self.replay_store {
            match store.use_once(partner, external_id, now) {
                Ok(fresh) => return Ok((fresh, None)),
                Err(why) if self.accept_without_store => {
                    note = Some(format!("{why}; remembered in this process only"))
                }
                Err(why) => return Err(why),
            }
        }
        if let Some(file) = &self.replay_file {
            match file.use_once(partner, external_id, now) {
                Ok(used) => return Ok((used.fresh, used.note)),
                Err(why) => note = Some(format!("{why}; remembered in this process only")),
            }
        }
        let fresh = self
            .replay
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .use_once(partner, external_id, now);
        Ok((fresh, note))
    }
}

/// Default `replay_timeout_ms`: a notification's check waits no longer for
/// the fleet's store.
pub const DEFAULT_REPLAY_TIMEOUT_MS: u64 = 1_000;

/// `replay_url` and its companions; whether to accept when it fails.
fn replay_store(map: &Map<String, Value>) -> Result<(Option<replay::ReplayStore>, bool)> {
    let text = |key: &str| -> Result<Option<&str>> {
        match map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if !s.is_empty() && s.len() <= 2048 && !s.contains('\0') => {
                Ok(Some(s.as_str()))
            }
            Some(_) => Err(Error::invalid_argument(format!(
                "server config key `{key}` must be a non-empty string"
            ))),
        }
    };
    let accept = match text("replay_on_store_failure")? {
        None | Some("reject") => false,
        Some("accept") => true,
        Some(other) => {
            return Err(Error::invalid_argument(format!(
                "server config key `replay_on_store_failure` must be accept or reject, not {}",
                redact::value(other)
            )))
        }
    };
    let timeout_ms = match map.get("replay_timeout_ms") {
        None => DEFAULT_REPLAY_TIMEOUT_MS,
        Some(v) => v
            .as_u64()
            .filter(|n| (1..=crate::config::MAX_TIMEOUT_MS).contains(n))
            .ok_or_else(|| {
                Error::invalid_argument(format!(
                    "server config key `replay_timeout_ms` must be 1 to {}",
                    crate::config::MAX_TIMEOUT_MS
                ))
            })?,
    };
    let ca_file = text("ca_file")?
        .map(|p| crate::trust::TrustAnchors::load(PathBuf::from(p)))
        .transpose()?;
    let password_file = text("replay_password_file")?;
    let prefix = text("replay_key_prefix")?;
    let Some(url) = text("replay_url")? else {
        if password_file.is_some()
            || prefix.is_some()
            || map.contains_key("replay_on_store_failure")
        {
            return Err(Error::invalid_argument(
                "server config keys `replay_password_file`, `replay_key_prefix` and `replay_on_store_failure` need `replay_url`",
            ));
        }
        return Ok((None, accept));
    };
    let settings = crate::shared_store::StoreSettings::parse(
        ["replay_url", "replay_password_file", "replay_key_prefix"],
        url,
        password_file.map(std::path::Path::new),
        prefix,
        ca_file,
    )
    .map_err(|mut e| {
        e.message = e.message.replace("config key", "server config key");
        e
    })?;
    Ok((
        Some(replay::ReplayStore::new(
            settings,
            std::time::Duration::from_millis(timeout_ms),
        )),
        accept,
    ))
}

/// A verification failure is the sender's (a refusal to send) unless
/// OpenSSL itself failed, which is ours.
fn sender_or_internal(e: Error, refusal: impl FnOnce() -> Verdict) -> Result<Verdict> {
    match e.status {
        Status::B2B_SIGNATURE_INVALID | Status::B2B_INVALID_ARGUMENT => Ok(refusal()),
        _ => Err(e),
    }
}

fn partner(i: usize, v: &Value) -> Result<Partner> {
    let Value::Object(p) = v else {
        return Err(Error::invalid_argument(format!(
            "server config `partners[{i}]` must be an object"
        )));
    };
    const KEYS: [&str; 5] = [
        "client_id",
        "public_key",
        "public_key_file",
        "client_secret",
        "notification_signature",
    ];
    if let Some(key) = p.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(Error::invalid_argument(format!(
            "unknown key {} in `partners[{i}]`",
            redact::key_name(key)
        )));
    }
    let text = |key: &str| -> Result<Option<&str>> {
        match p.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(Error::invalid_argument(format!(
                "`partners[{i}].{key}` must be a string"
            ))),
        }
    };
    let client_id = text("client_id")?
        .filter(|c| !c.is_empty() && c.len() <= 256 && c.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            Error::invalid_argument(format!(
                "`partners[{i}].client_id` must be 1 to 256 printable ASCII characters"
            ))
        })?
        .to_string();
    let public_key = match (text("public_key")?, text("public_key_file")?) {
        (Some(k), None) => PublicKey::parse(k),
        (None, Some(path)) => {
            let path = PathBuf::from(path);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                Error::key(format!(
                    "cannot read `partners[{i}].public_key_file` {}: {}",
                    redact::path(&path),
                    crate::error::io_reason(&e)
                ))
            })?;
            PublicKey::parse(&text)
        }
        _ => {
            return Err(Error::invalid_argument(format!(
                "`partners[{i}]` needs exactly one of `public_key` and `public_key_file`"
            )))
        }
    }
    .map_err(|mut e| {
        e.message = format!("`partners[{i}]` public key: {}", e.message);
        e
    })?;
    let client_secret = text("client_secret")?.map(SecretString::from);
    let signature = match text("notification_signature")? {
        None | Some("rsa") => NotificationSignature::Rsa,
        Some("hmac") => NotificationSignature::Hmac,
        Some(other) => {
            return Err(Error::invalid_argument(format!(
                "`partners[{i}].notification_signature` must be rsa or hmac, not {}",
                redact::value(other)
            )))
        }
    };
    if signature == NotificationSignature::Hmac && client_secret.is_none() {
        return Err(Error::invalid_argument(format!(
            "`partners[{i}]` signs with hmac and needs `client_secret`"
        )));
    }
    Ok(Partner {
        client_id,
        public_key,
        client_secret,
        signature,
    })
}

/// `token_secret` (its UTF-8 bytes) or `token_secret_file` (a trailing
/// newline ignored), at least 32 bytes; without either, a random secret:
/// tokens then hold only inside this process.
fn token_secret(map: &Map<String, Value>) -> Result<SecretBytes> {
    let given = match (map.get("token_secret"), map.get("token_secret_file")) {
        (Some(_), Some(_)) => {
            return Err(Error::invalid_argument(
                "server config has both `token_secret` and `token_secret_file`: keep one",
            ))
        }
        (Some(Value::String(s)), None) => Some(SecretBytes::new(s.as_bytes().to_vec())),
        (None, Some(Value::String(path))) => {
            let path = PathBuf::from(path);
            let mut bytes = std::fs::read(&path).map_err(|e| {
                Error::invalid_argument(format!(
                    "cannot read `token_secret_file` {}: {}",
                    redact::path(&path),
                    crate::error::io_reason(&e)
                ))
            })?;
            while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                bytes.pop();
            }
            Some(SecretBytes::new(bytes))
        }
        (None, None) => None,
        _ => {
            return Err(Error::invalid_argument(
                "server config `token_secret` / `token_secret_file` must be a string",
            ))
        }
    };
    match given {
        Some(s) if s.len() >= MIN_TOKEN_SECRET_BYTES => Ok(s),
        Some(_) => Err(Error::invalid_argument(format!(
            "server config `token_secret` must be at least {MIN_TOKEN_SECRET_BYTES} bytes"
        ))),
        None => {
            let mut random = SecretBytes::zeroed(MIN_TOKEN_SECRET_BYTES);
            openssl::rand::rand_bytes(&mut random)
                .map_err(|e| Error::crypto(format!("random source failed: {e}")))?;
            Ok(random)
        }
    }
}
