//! The JSON configuration shared by `b2b_get_token` and `b2b_client_new`.
//!
//! Parsed by hand from a `serde_json::Value` rather than derived, so that
//! every message names the offending key and echoes a value or an unknown
//! key name only as `redact` allows (a misplaced private key must not end up
//! in a log).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::keys::{read_key_file, PrivateKey, ONE_SHOT_KEYS};
use crate::provider::{self, Profile};
use crate::redact;
use crate::secret::{SecretJson, SecretString};
use crate::shared_store::StoreSettings;
use crate::timestamp::TimestampStyle;
use crate::trust::TrustAnchors;

pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;
pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 5_000;
pub const DEFAULT_REFRESH_MARGIN_S: u64 = 60;
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// More retries than this cannot fit in any sensible `timeout_ms`; a larger
/// number is a mistake to report, not to clamp silently.
pub const MAX_RETRIES: u32 = 10;
/// Upper bound for any configured timeout: a payment call that waits longer
/// than this is a configuration mistake.
pub(crate) const MAX_TIMEOUT_MS: u64 = 300_000;

/// The lines of inline key text worth withholding: base64 lines long
/// enough not to match ordinary words.
fn inline_key_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|l| l.len() >= 16 && !l.starts_with("-----"))
}

/// A request's own `"timeout_ms"` (service call, customer token): 1 to
/// [`MAX_TIMEOUT_MS`]; `None` when absent or null.
pub fn request_timeout(v: Option<&serde_json::Value>) -> Result<Option<Duration>> {
    match v {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .filter(|ms| (1..=MAX_TIMEOUT_MS).contains(ms))
            .map(|ms| Some(Duration::from_millis(ms)))
            .ok_or_else(|| {
                Error::invalid_argument(format!(
                    "request_json `timeout_ms` must be 1 to {MAX_TIMEOUT_MS}"
                ))
            }),
    }
}

/// Keys accepted by every config.
const TOKEN_KEYS: &[&str] = &[
    "provider",
    "profile",
    "base_url",
    "environment",
    "token_path",
    "client_id",
    "private_key",
    "private_key_file",
    "private_key_passphrase",
    "client_secret",
    "timeout_ms",
    "connect_timeout_ms",
    "ca_file",
    "allow_http",
    "timestamp_style",
];

/// Keys only a long-lived client understands (its token cache and the
/// service calls made with it).
const CLIENT_KEYS: &[&str] = &[
    "refresh_margin_s",
    "cache_file",
    "cache_url",
    "cache_key_prefix",
    "cache_password_file",
    "max_retries",
    "partner_id",
    "channel_id",
    "service_signature",
    "external_id_length",
    "max_response_bytes",
];

/// Longest value of each kind of string key, in bytes: anything larger is a
/// mistake to report by name, not text to carry into a header, a path or
/// a message.
const MAX_SECRET_BYTES: usize = 64 * 1024;
const MAX_PATH_BYTES: usize = 2048;
const MAX_ID_BYTES: usize = 256;
const SECRET_KEYS: &[&str] = &["private_key", "private_key_passphrase", "client_secret"];
const PATH_KEYS: &[&str] = &[
    "base_url",
    "token_path",
    "private_key_file",
    "ca_file",
    "cache_file",
    "cache_url",
    "cache_password_file",
];

fn max_bytes(key: &str) -> usize {
    if SECRET_KEYS.contains(&key) {
        MAX_SECRET_BYTES
    } else if PATH_KEYS.contains(&key) {
        MAX_PATH_BYTES
    } else {
        MAX_ID_BYTES
    }
}

/// The most a service-call answer may be, whatever `max_response_bytes` says.
pub const MAX_RESPONSE_BYTES_CAP: usize = 64 * 1024 * 1024;

/// Where the private key comes from.
#[derive(Clone)]
pub enum KeySource {
    Inline(SecretString),
    File(PathBuf),
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Inline(_) => f.write_str("Inline(***)"),
            // A "path" can be key text pasted into the wrong setting.
            KeySource::File(p) => write!(f, "File({})", redact::path(p)),
        }
    }
}

/// Settings of the caching client (`b2b_client_new`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSettings {
    pub refresh_margin_s: u64,
    pub cache_file: Option<PathBuf>,
    /// The fleet's token store (`cache_url`).
    pub cache_url: Option<StoreSettings>,
    pub max_retries: u32,
    pub service: ServiceSettings,
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings {
            refresh_margin_s: DEFAULT_REFRESH_MARGIN_S,
            cache_file: None,
            cache_url: None,
            max_retries: DEFAULT_MAX_RETRIES,
            service: ServiceSettings::default(),
        }
    }
}

/// How service calls (`b2b_client_request`) are signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceSignature {
    /// HMAC-SHA512 with `client_secret`, over a string with the access token.
    Hmac,
    /// SHA256withRSA with the private key, over a string without it.
    Rsa,
}

/// What service calls need beyond the token. Checked by `b2b_client_new`
/// when set; a missing `channel_id` or `client_secret` is reported by the
/// first service call, so a token-only client needs neither.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSettings {
    /// `X-PARTNER-ID`; the client id when not set.
    pub partner_id: Option<String>,
    /// `CHANNEL-ID`.
    pub channel_id: Option<String>,
    pub signature: ServiceSignature,
    pub external_id_length: usize,
    pub max_response_bytes: usize,
}

impl Default for ServiceSettings {
    fn default() -> Self {
        ServiceSettings {
            partner_id: None,
            channel_id: None,
            signature: ServiceSignature::Hmac,
            external_id_length: crate::external_id::DEFAULT_LENGTH,
            max_response_bytes: crate::transport::MAX_RESPONSE_BYTES,
        }
    }
}

/// A value that travels in an HTTP header: printable ASCII, bounded.
fn header_value(key: &str, value: &str) -> Result<String> {
    if value.is_empty() || value.len() > 256 || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::invalid_argument(format!(
            "config key `{key}` must be 1 to 256 printable ASCII characters without spaces"
        )));
    }
    Ok(value.to_string())
}

/// Which set of keys a config may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigKind {
    /// `b2b_get_token`: one request, no cache settings.
    OneShot,
    /// `b2b_client_new`: also `refresh_margin_s`, `cache_file`, `max_retries`.
    Client,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Resolved once here (preset, then the user's `profile` keys); shared
    /// by the clones a client makes.
    pub profile: Arc<Profile>,
    /// Without a trailing slash.
    pub base_url: String,
    pub token_path: String,
    pub client_id: String,
    pub key: KeySource,
    pub passphrase: Option<SecretString>,
    pub client_secret: Option<SecretString>,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub ca_file: Option<TrustAnchors>,
    pub allow_http: bool,
    pub timestamp_style: TimestampStyle,
    pub client: ClientSettings,
}

impl Config {
    pub fn parse(json: &str, kind: ConfigKind) -> Result<Config> {
        let value: Value = serde_json::from_str(json)
            .map_err(|e| Error::invalid_argument(format!("config is not valid JSON: {e}")))?;
        // The tree holds copies of the secrets: from here on it is wiped on
        // every return path, errors included.
        let tree = SecretJson(value);
        let Value::Object(map) = &*tree else {
            return Err(Error::invalid_argument("config must be a JSON object"));
        };
        // serde_json keeps the last of duplicate keys; a config saying
        // "provider" twice is a mistake to surface, not to resolve silently.
        if let Some(key) = first_duplicate_key(json) {
            return Err(Error::invalid_argument(format!(
                "config key {} appears more than once",
                redact::key_name(&key)
            )));
        }
        Config::from_map(map, kind)
    }

    pub fn from_map(map: &Map<String, Value>, kind: ConfigKind) -> Result<Config> {
        // A refusal may quote a value (a path, a URL) that happens to hold a
        // secret given beside it: the secrets leave no message, whatever
        // quotes them.
        Config::read_map(map, kind).map_err(|e| {
            let text = |key: &str| map.get(key).and_then(Value::as_str);
            let mut secrets: Vec<&str> = ["client_secret", "private_key_passphrase"]
                .into_iter()
                .filter_map(text)
                .collect();
            if let Some(key) = text("private_key") {
                secrets.extend(inline_key_lines(key));
            }
            // A secret of a few characters would turn every word holding
            // them into `***`: too short to be found by chance is long
            // enough to withhold.
            secrets.retain(|s| s.chars().count() >= 8);
            e.without_secrets(&secrets)
        })
    }

    fn read_map(map: &Map<String, Value>, kind: ConfigKind) -> Result<Config> {
        for key in map.keys() {
            let known = TOKEN_KEYS.contains(&key.as_str())
                || (kind == ConfigKind::Client && CLIENT_KEYS.contains(&key.as_str()));
            if !known {
                let only_client = CLIENT_KEYS.contains(&key.as_str());
                return Err(Error::invalid_argument(if only_client {
                    format!("config key `{key}` is only for b2b_client_new (the caching client)")
                } else {
                    format!("unknown config key {}", redact::key_name(key))
                }));
            }
        }
        let c = Fields(map);

        let profile = resolve_profile(map, &c)?;

        let allow_http = c.bool("allow_http")?.unwrap_or(false);
        // base_url wins over environment; environment is still checked for
        // typos, but needs a preset only when it is what picks the URL.
        let environment = c.str("environment")?;
        if let Some(env) = environment {
            check_environment(env)?;
        }
        let base_url = match (c.str("base_url")?, environment) {
            (Some(url), _) => url.to_string(),
            (None, Some(env)) => preset_url(&profile, env)?.to_string(),
            (None, None) => {
                return Err(Error::invalid_argument(format!(
                    "config needs `base_url`{}",
                    if profile.sandbox_url.is_some() {
                        " or `environment` (sandbox | production)"
                    } else {
                        ""
                    }
                )))
            }
        };
        let base_url = check_base_url(&base_url, allow_http)?;

        let token_path = match c.str("token_path")? {
            Some(path) => path.to_string(),
            None => profile.token_path.to_string(),
        };
        crate::provider::user::check_path(&token_path, "config key `token_path`")?;

        let client_id = c.required_str("client_id")?.to_string();
        // It travels in an HTTP header, where only printable ASCII is safe.
        if !client_id
            .chars()
            .all(|ch| ch.is_ascii_graphic() || ch == ' ')
        {
            return Err(Error::invalid_argument(
                "config key `client_id` must be printable ASCII",
            ));
        }

        let key = match (c.str("private_key")?, c.str("private_key_file")?) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid_argument(
                    "config has both `private_key` and `private_key_file`: keep one",
                ))
            }
            (Some(text), None) => KeySource::Inline(SecretString::from(text)),
            (None, Some(path)) => KeySource::File(PathBuf::from(path)),
            (None, None) => {
                return Err(Error::invalid_argument(
                    "config needs `private_key` or `private_key_file`",
                ))
            }
        };

        let client_secret = c.str("client_secret")?.map(SecretString::from);
        if profile.requires_client_secret() && client_secret.is_none() {
            return Err(Error::invalid_argument(format!(
                "provider {} needs `client_secret`",
                profile.name
            )));
        }

        let timeout_ms = c.millis("timeout_ms")?.unwrap_or(DEFAULT_TIMEOUT_MS);
        let connect_ms = c
            .millis("connect_timeout_ms")?
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT_MS)
            .min(timeout_ms);

        let timestamp_style = match c.str("timestamp_style")? {
            Some(name) => TimestampStyle::parse(name)?,
            None => profile.timestamp_style,
        };

        let ca_file = c
            .str("ca_file")?
            .map(|p| TrustAnchors::load(PathBuf::from(p)))
            .transpose()?;

        let mut client = ClientSettings::default();
        if kind == ConfigKind::Client {
            if let Some(m) = c.uint("refresh_margin_s")? {
                client.refresh_margin_s = m;
            }
            if let Some(r) = c.uint("max_retries")? {
                client.max_retries = u32::try_from(r)
                    .ok()
                    .filter(|r| *r <= MAX_RETRIES)
                    .ok_or_else(|| {
                        Error::invalid_argument(format!(
                            "config key `max_retries` must be at most {MAX_RETRIES}"
                        ))
                    })?;
            }
            let service = &mut client.service;
            service.partner_id = c
                .str("partner_id")?
                .map(|v| header_value("partner_id", v))
                .transpose()?;
            service.channel_id = c
                .str("channel_id")?
                .map(|v| header_value("channel_id", v))
                .transpose()?;
            service.signature = match c.str("service_signature")? {
                None | Some("hmac") => ServiceSignature::Hmac,
                Some("rsa") => ServiceSignature::Rsa,
                Some(other) => {
                    return Err(Error::invalid_argument(format!(
                        "config key `service_signature` must be hmac or rsa, not {}",
                        redact::value(other)
                    )))
                }
            };
            if let Some(n) = c.uint("external_id_length")? {
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                service.external_id_length = crate::external_id::check_length(n)?;
            }
            if let Some(n) = c.uint("max_response_bytes")? {
                service.max_response_bytes = usize::try_from(n)
                    .ok()
                    .filter(|n| (1024..=MAX_RESPONSE_BYTES_CAP).contains(n))
                    .ok_or_else(|| {
                        Error::invalid_argument(format!(
                            "config key `max_response_bytes` must be 1024 to {MAX_RESPONSE_BYTES_CAP}"
                        ))
                    })?;
            }
            client.cache_file = c
                .str("cache_file")?
                .map(PathBuf::from)
                .map(check_cache_file)
                .transpose()?;
            let password_file = c.str("cache_password_file")?;
            let prefix = c.str("cache_key_prefix")?;
            client.cache_url = match c.str("cache_url")? {
                Some(url) => Some(StoreSettings::parse(
                    ["cache_url", "cache_password_file", "cache_key_prefix"],
                    url,
                    password_file.map(std::path::Path::new),
                    prefix,
                    ca_file.clone(),
                )?),
                None if password_file.is_some() || prefix.is_some() => {
                    return Err(Error::invalid_argument(
                        "config keys `cache_password_file` and `cache_key_prefix` need `cache_url`",
                    ))
                }
                None => None,
            };
        }

        Ok(Config {
            profile,
            base_url,
            token_path,
            client_id,
            key,
            passphrase: c.str("private_key_passphrase")?.map(SecretString::from),
            client_secret,
            timeout: Duration::from_millis(timeout_ms),
            connect_timeout: Duration::from_millis(connect_ms),
            ca_file,
            allow_http,
            timestamp_style,
            client,
        })
    }

    /// The configured secret values (client secret, passphrase, the lines
    /// of inline key text): what [`Error::without_secrets`] removes from
    /// errors carrying outside text, which may echo what was sent.
    pub fn secret_values(&self) -> Vec<&str> {
        let mut out: Vec<&str> = [&self.client_secret, &self.passphrase]
            .into_iter()
            .flatten()
            .map(|s| s.expose())
            .collect();
        if let KeySource::Inline(text) = &self.key {
            out.extend(inline_key_lines(text.expose()));
        }
        out
    }

    /// The full token endpoint URL.
    pub fn token_url(&self) -> String {
        format!("{}{}", self.base_url, self.token_path)
    }

    /// The configured key through the one-shot parsed-key cache (a key file
    /// is re-read each time, so a replaced file takes effect at once).
    pub fn load_key_cached(&self) -> Result<std::sync::Arc<PrivateKey>> {
        let pass = self.passphrase.as_ref().map(|p| p.expose());
        match &self.key {
            KeySource::Inline(text) => ONE_SHOT_KEYS.get(text.expose(), pass),
            KeySource::File(path) => ONE_SHOT_KEYS.get(read_key_file(path)?.expose(), pass),
        }
    }

    /// Reads and parses the configured private key.
    pub fn load_key(&self) -> Result<PrivateKey> {
        let pass = self.passphrase.as_ref().map(|p| p.expose());
        match &self.key {
            KeySource::Inline(text) => PrivateKey::parse(text.expose(), pass),
            KeySource::File(path) => PrivateKey::from_file(path, pass),
        }
    }
}

/// The preset named by `provider` (the SNAP standard without one), with
/// the user's `profile` keys applied; at least one of the two is needed.
fn resolve_profile(map: &Map<String, Value>, c: &Fields) -> Result<Arc<Profile>> {
    let base = match c.str("provider")? {
        Some(name) => provider::by_name(name).ok_or_else(|| {
            Error::invalid_argument(format!(
                "unknown provider {}: expected one of {}, or a `profile`",
                redact::value(name),
                provider::names()
            ))
        })?,
        None if c.get("profile").is_some() => &provider::SNAP,
        None => {
            return Err(Error::invalid_argument(
                "config is missing required key `provider` (or a `profile`)",
            ))
        }
    };
    Ok(Arc::new(
        match map.get("profile").filter(|v| !v.is_null()) {
            // The user's own: owned strings, built once here.
            Some(user) => provider::user::apply(base, user)?,
            // A preset's fields borrow 'static strings: this copy allocates nothing.
            None => base.clone(),
        },
    ))
}

fn check_environment(environment: &str) -> Result<()> {
    match environment {
        "sandbox" | "production" => Ok(()),
        other => Err(Error::invalid_argument(format!(
            "unknown environment {}: expected sandbox or production",
            redact::value(other)
        ))),
    }
}

fn preset_url<'p>(profile: &'p Profile, environment: &str) -> Result<&'p str> {
    let url = match environment {
        "sandbox" => profile.sandbox_url.as_deref(),
        _ => profile.production_url.as_deref(),
    };
    url.ok_or_else(|| {
        Error::invalid_argument(format!(
            "provider {} has no preset {environment} URL: set `base_url`",
            profile.name
        ))
    })
}

/// The cache file itself may be missing, corrupt or unwritable later (that
/// only costs a request), but a directory that does not exist is a typo that
/// would silently disable sharing: refuse it up front.
fn check_cache_file(path: PathBuf) -> Result<PathBuf> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if dir.is_dir() {
        Ok(path)
    } else {
        Err(Error::invalid_argument(format!(
            "config key `cache_file`: directory {} does not exist",
            redact::path(&dir)
        )))
    }
}

pub(crate) fn check_base_url(url: &str, allow_http: bool) -> Result<String> {
    let url = url.trim_end_matches('/');
    let rest = if let Some(rest) = url.strip_prefix("https://") {
        rest
    } else if let Some(rest) = url.strip_prefix("http://") {
        if !allow_http {
            return Err(Error::invalid_argument(
                "base_url is plain http://: refused unless `allow_http` is true (never in production)",
            ));
        }
        rest
    } else {
        return Err(Error::invalid_argument("base_url must start with https://"));
    };
    // Anywhere, not just in RFC 3986's authority: `https://admin:pa/ss@host`
    // is a password holding `/`, and a base URL's path never needs an `@`.
    if rest.contains('@') {
        return Err(Error::invalid_argument(
            "base_url must not carry credentials (user:password@)",
        ));
    }
    if rest.split('/').next().unwrap_or("").is_empty()
        || rest.chars().any(|c| c.is_whitespace() || c.is_control())
        || rest.contains(['?', '#'])
    {
        return Err(Error::invalid_argument(
            "base_url must be scheme://host[:port][/prefix] without spaces, query or fragment",
        ));
    }
    Ok(url.to_string())
}

/// The first top-level key that appears twice in a JSON object (the input is
/// already known to be a valid object).
pub(crate) fn first_duplicate_key(json: &str) -> Option<String> {
    use serde::de::{Deserializer, MapAccess, Visitor};
    struct Keys;
    impl<'de> Visitor<'de> for Keys {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(
            self,
            mut map: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            let mut seen = std::collections::HashSet::new();
            let mut duplicate = None;
            while let Some(key) = map.next_key::<String>()? {
                map.next_value::<serde::de::IgnoredAny>()?;
                if duplicate.is_none() && !seen.insert(key.clone()) {
                    duplicate = Some(key);
                }
            }
            Ok(duplicate)
        }
    }
    serde_json::Deserializer::from_str(json)
        .deserialize_map(Keys)
        .ok()
        .flatten()
}

/// Typed access to config fields with messages that name the key only.
struct Fields<'a>(&'a Map<String, Value>);

impl<'a> Fields<'a> {
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    fn str(&self, key: &str) -> Result<Option<&'a str>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Err(Error::invalid_argument(format!(
                "config key `{key}` is empty"
            ))),
            Some(Value::String(s)) if s.len() > max_bytes(key) => Err(Error::invalid_argument(
                format!("config key `{key}` is longer than {} bytes", max_bytes(key)),
            )),
            // A C string, a path or a header would end there and mean
            // something else (a `cache_file` would silently be off).
            Some(Value::String(s)) if s.contains('\0') => Err(Error::invalid_argument(format!(
                "config key `{key}` contains a NUL character"
            ))),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(Error::invalid_argument(format!(
                "config key `{key}` must be a string"
            ))),
        }
    }

    fn required_str(&self, key: &str) -> Result<&'a str> {
        self.str(key)?.ok_or_else(|| {
            Error::invalid_argument(format!("config is missing required key `{key}`"))
        })
    }

    fn bool(&self, key: &str) -> Result<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(Error::invalid_argument(format!(
                "config key `{key}` must be true or false"
            ))),
        }
    }

    fn uint(&self, key: &str) -> Result<Option<u64>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v.as_u64().map(Some).ok_or_else(|| {
                Error::invalid_argument(format!(
                    "config key `{key}` must be a non-negative integer"
                ))
            }),
        }
    }

    fn millis(&self, key: &str) -> Result<Option<u64>> {
        match self.uint(key)? {
            Some(ms) if ms == 0 || ms > MAX_TIMEOUT_MS => Err(Error::invalid_argument(format!(
                "config key `{key}` must be between 1 and {MAX_TIMEOUT_MS} milliseconds"
            ))),
            other => Ok(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Status;

    fn parse(json: &str) -> Result<Config> {
        Config::parse(json, ConfigKind::OneShot)
    }

    #[test]
    fn presets_and_defaults() {
        let c = parse(
            r#"{"provider":"doku","environment":"sandbox","client_id":"c","private_key":"k"}"#,
        )
        .unwrap();
        assert_eq!(
            c.token_url(),
            "https://api-sandbox.doku.com/authorization/v1/access-token/b2b"
        );
        assert_eq!(c.timeout, Duration::from_millis(10_000));
        assert_eq!(c.connect_timeout, Duration::from_millis(5_000));
        assert_eq!(c.timestamp_style, TimestampStyle::Utc);
        let c = parse(r#"{"provider":"nicepay","environment":"production","client_id":"c","private_key":"k"}"#).unwrap();
        assert_eq!(
            c.token_url(),
            "https://www.nicepay.co.id/nicepay/v1.0/access-token/b2b"
        );
        let c = parse(r#"{"provider":"snap","base_url":"https://bank.example/","token_path":"/snap/v1.0/access-token/b2b","client_id":"c","private_key_file":"/k.pem","timestamp_style":"utc_ms"}"#).unwrap();
        assert_eq!(
            c.token_url(),
            "https://bank.example/snap/v1.0/access-token/b2b"
        );
        assert_eq!(c.timestamp_style, TimestampStyle::UtcMs);
        // base_url wins over environment, for providers with and without presets.
        let c = parse(r#"{"provider":"snap","base_url":"https://bank.example","environment":"sandbox","client_id":"c","private_key":"k"}"#).unwrap();
        assert_eq!(c.base_url, "https://bank.example");
        let c = parse(r#"{"provider":"doku","base_url":"https://127.0.0.1:9","environment":"production","client_id":"c","private_key":"k"}"#).unwrap();
        assert_eq!(c.base_url, "https://127.0.0.1:9");
    }

    #[test]
    fn mistakes_are_invalid_argument_naming_the_key_but_not_the_value() {
        let cases = [
            (
                r#"{"provider":"doku","environment":"sandbox","client_id":"c","private_key":"k","timeuot_ms":5}"#,
                "timeuot_ms",
            ),
            (
                r#"{"provider":"ovo","base_url":"https://x","client_id":"c","private_key":"k"}"#,
                "ovo",
            ),
            (
                r#"{"provider":"snap","client_id":"c","private_key":"k"}"#,
                "base_url",
            ),
            (
                r#"{"provider":"snap","base_url":"http://127.0.0.1:1","client_id":"c","private_key":"k"}"#,
                "allow_http",
            ),
            (
                r#"{"provider":"klikoo","base_url":"https://x","client_id":"c","private_key":"k"}"#,
                "client_secret",
            ),
            (
                r#"{"provider":"snap","base_url":"https://x","private_key":"k"}"#,
                "client_id",
            ),
            (
                r#"{"provider":"snap","base_url":"https://x","client_id":"c"}"#,
                "private_key",
            ),
            (
                r#"{"provider":"snap","base_url":"https://x","client_id":"c","private_key":"k","timeout_ms":"SECRETVALUE"}"#,
                "timeout_ms",
            ),
            (
                r#"{"provider":"snap","base_url":"https://x","client_id":"c","private_key":"k","cache_file":"/tmp/x"}"#,
                "cache_file",
            ),
            (
                r#"{"provider":"snap","base_url":"https://x","client_id":"c","private_key":"k","timestamp_style":"local"}"#,
                "local",
            ),
            (r#"[1,2]"#, "object"),
            (r#"{"provider":"#, "JSON"),
            (
                r#"{"provider":"doku","provider":"snap","base_url":"https://x","client_id":"c","private_key":"k"}"#,
                "more than once",
            ),
            (
                r#"{"provider":"snap","base_url":"https://x","token_path":"/a\r\nX-Injected: 1","client_id":"c","private_key":"k"}"#,
                "token_path",
            ),
            (
                r#"{"provider":"snap","base_url":"https://x","token_path":"/a b","client_id":"c","private_key":"k"}"#,
                "token_path",
            ),
            (
                r#"{"provider":"snap","base_url":"https://x","environment":"staging","client_id":"c","private_key":"k"}"#,
                "staging",
            ),
        ];
        for (json, needle) in cases {
            let err = parse(json).unwrap_err();
            assert_eq!(err.status, Status::B2B_INVALID_ARGUMENT, "{json}");
            assert!(err.message.contains(needle), "{json}: {}", err.message);
            assert!(!err.message.contains("SECRETVALUE"));
        }
    }

    #[test]
    fn http_only_with_opt_in_and_client_keys_only_for_clients() {
        let c = parse(r#"{"provider":"snap","base_url":"http://127.0.0.1:9","allow_http":true,"client_id":"c","private_key":"k"}"#).unwrap();
        assert!(c.allow_http);
        let c = Config::parse(
            r#"{"provider":"snap","base_url":"https://x","client_id":"c","private_key":"k","cache_file":"/tmp/t","refresh_margin_s":30,"max_retries":0}"#,
            ConfigKind::Client,
        )
        .unwrap();
        assert_eq!(c.client.refresh_margin_s, 30);
        assert_eq!(c.client.max_retries, 0);
        assert_eq!(c.client.cache_file, Some(PathBuf::from("/tmp/t")));
    }
}

#[cfg(test)]
mod key_name_tests {
    use super::*;

    const BASE: &str =
        r#""provider":"snap","base_url":"https://x","client_id":"c","private_key":"k""#;

    fn message(extra_key: &str) -> String {
        let json = format!("{{{BASE},{}:1}}", Value::String(extra_key.to_string()));
        let err = Config::parse(&json, ConfigKind::OneShot).unwrap_err();
        assert_eq!(err.status, crate::Status::B2B_INVALID_ARGUMENT);
        err.message
    }

    #[test]
    fn an_unknown_key_is_named_when_short_and_printable() {
        assert_eq!(message("timeuot_ms"), "unknown config key `timeuot_ms`");
    }

    #[test]
    fn an_unknown_key_cannot_forge_a_log_line() {
        let m = message("x\nsnapb2b: OK: token issued");
        assert_eq!(m, "unknown config key (key name not shown)");
    }

    #[test]
    fn a_pasted_private_key_as_key_name_is_not_shown() {
        let pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----";
        let m = message(pem);
        assert!(!m.contains("MIIEvQ") && !m.contains("BEGIN"), "{m}");
        // Even collapsed onto one line.
        let m = message(&pem.replace('\n', ""));
        assert!(!m.contains("MIIEvQ"), "{m}");
    }

    #[test]
    fn a_5_mb_key_name_gives_a_short_message() {
        let m = message(&"k".repeat(5 << 20));
        assert_eq!(m, "unknown config key (key name not shown)");
    }

    #[test]
    fn a_duplicate_key_is_redacted_alike() {
        let json = format!(r#"{{{BASE},"a\nb":1,"a\nb":2}}"#);
        let err = Config::parse(&json, ConfigKind::OneShot).unwrap_err();
        assert_eq!(
            err.message,
            "config key (key name not shown) appears more than once"
        );
    }

    #[test]
    fn max_retries_above_the_cap_is_refused_naming_it() {
        for (retries, ok) in [(10u64, true), (11, false), (u64::MAX, false)] {
            let json = format!(r#"{{{BASE},"max_retries":{retries}}}"#);
            match Config::parse(&json, ConfigKind::Client) {
                Ok(c) => assert!(ok && c.client.max_retries == 10, "{retries}"),
                Err(e) => {
                    assert!(!ok, "{retries}: {e}");
                    assert_eq!(e.status, crate::Status::B2B_INVALID_ARGUMENT);
                    assert_eq!(e.message, "config key `max_retries` must be at most 10");
                }
            }
        }
    }
}

#[cfg(test)]
mod bound_tests {
    use super::*;

    const BASE: &[(&str, &str)] = &[
        ("provider", "klikoo"),
        ("base_url", "https://x"),
        ("client_id", "c"),
        ("private_key", "k"),
        ("client_secret", "s"),
    ];

    fn with(key: &str, value: &str) -> Result<Config> {
        let mut map: Map<String, Value> = BASE
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from(*v)))
            .collect();
        map.insert(key.into(), Value::from(value));
        Config::from_map(&map, ConfigKind::Client)
    }

    fn refused(key: &str, value: &str, needle: &str) {
        let e = with(key, value).map(|_| ()).unwrap_err();
        assert_eq!(e.status, crate::Status::B2B_INVALID_ARGUMENT, "{key}: {e}");
        assert!(
            e.message.contains(&format!("`{key}`")) && e.message.contains(needle),
            "{key}: {e}"
        );
        assert!(e.message.len() < 200);
    }

    #[test]
    fn oversized_values_are_refused_naming_the_key() {
        let huge = "a".repeat(10 << 20);
        for key in TOKEN_KEYS.iter().chain(CLIENT_KEYS) {
            // `profile` is an object, checked in provider::user.
            if matches!(*key, "allow_http" | "profile")
                || key.ends_with("_ms")
                || key.ends_with("_s")
            {
                continue;
            }
            if ["max_retries", "external_id_length", "max_response_bytes"].contains(key) {
                continue;
            }
            refused(key, &huge, "longer than");
        }
        // At the bound is fine where the value is otherwise free.
        assert!(with("client_id", &"a".repeat(256)).is_ok());
        refused("client_id", &"a".repeat(257), "256 bytes");
        refused(
            "token_path",
            &format!("/{}", "a".repeat(2048)),
            "2048 bytes",
        );
        assert!(with("client_secret", &"s".repeat(64 * 1024)).is_ok());
    }

    #[test]
    fn a_nul_is_refused_naming_the_key() {
        for key in [
            "cache_file",
            "token_path",
            "client_id",
            "private_key_file",
            "ca_file",
            "partner_id",
            "client_secret",
        ] {
            refused(key, "/tmp/a\0b", "NUL");
        }
    }
}

#[cfg(test)]
mod leak_tests {
    use super::*;

    const KEYISH: &str = "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n-----END PRIVATE KEY-----";

    #[test]
    fn values_that_look_like_secrets_are_never_echoed() {
        let cases = [
            format!(r#"{{"provider":"doku","environment":"sandbox","client_id":"c","private_key":"k","ca_file":"{KEYISH}"}}"#),
            format!(r#"{{"provider":"{KEYISH}","client_id":"c","private_key":"k"}}"#),
            format!(r#"{{"provider":"doku","environment":"{KEYISH}","client_id":"c","private_key":"k"}}"#),
            format!(r#"{{"provider":"doku","environment":"sandbox","client_id":"c","private_key":"k","timestamp_style":"{KEYISH}"}}"#),
            r#"{"provider":"snap","base_url":"https://user:hunter2@bank.example","client_id":"c","private_key":"k"}"#.to_string(),
        ];
        for json in &cases {
            let err = Config::parse(json, ConfigKind::OneShot).unwrap_err();
            assert!(
                !err.message.contains("MIIEvQ") && !err.message.contains("hunter2"),
                "{}",
                err.message
            );
        }
        let c = Config::parse(
            &format!(r#"{{"provider":"doku","environment":"sandbox","client_id":"c","private_key_file":"{KEYISH}"}}"#),
            ConfigKind::OneShot,
        )
        .unwrap();
        let err = c.load_key().unwrap_err();
        assert_eq!(err.status, crate::Status::B2B_KEY);
        assert!(!err.message.contains("MIIEvQ"), "{}", err.message);
        assert!(err.message.contains("private_key"), "{}", err.message);
    }

    /// Found by the config fuzzer: a `ca_file` path that held the
    /// passphrase given beside it was quoted whole in the refusal.
    #[test]
    fn a_value_quoted_in_a_refusal_loses_the_secrets_given_beside_it() {
        let json = r#"{"provider":"snap","base_url":"https://127.0.0.1:8443","client_id":"c",
            "private_key_file":"k.pem","private_key_passphrase":"pass-ééé-word",
            "client_secret":"sec-ééé-ret","ca_file":"/nonexistent/pass-ééé-word/sec-ééé-ret.pem"}"#;
        let err = Config::parse(json, ConfigKind::Client).unwrap_err();
        assert!(err.message.contains("ca_file"), "{}", err.message);
        assert!(!err.message.contains("pass-"), "{}", err.message);
        assert!(!err.message.contains("sec-"), "{}", err.message);
        assert!(
            err.message.contains("/nonexistent/***/***.pem"),
            "{}",
            err.message
        );
    }

    #[test]
    fn client_id_must_be_printable_ascii() {
        let err = Config::parse(
            r#"{"provider":"doku","environment":"sandbox","client_id":"é-client","private_key":"k"}"#,
            ConfigKind::OneShot,
        )
        .unwrap_err();
        assert!(err.message.contains("ASCII"));
    }
}
