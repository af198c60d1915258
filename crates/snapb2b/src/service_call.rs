//! SNAP service calls after the token: the request a caller describes, the
//! headers it is sent with, and the answer handed back.
//!
//! Rules that live here and nowhere else:
//! - the body that is hashed is the body that is sent: the caller's JSON
//!   text minified (key order, number spelling and escapes kept), never
//!   re-serialised;
//! - the signed EndpointUrl is the whole path as sent after the host
//!   (`base_url`'s path + the call's path and query);
//! - the timestamp is read once per attempt and the same string is signed
//!   and sent.
//!
//! Sending, invalid-token recovery and the no-re-send rule are in
//! [`crate::client::Client::request`].

use std::time::Duration;

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::config::{Config, ServiceSignature};
use crate::error::{Error, Result};
use crate::keys::PrivateKey;
use crate::minify::minify_json;
use crate::provider::Text;
use crate::redact;
use crate::secret::{SecretBuf, SecretBytes, SecretString};
use crate::service::SentBodySigner;
use crate::token::Token;

/// Headers the library writes itself; a caller's extra header may not
/// replace one of them.
pub const MANAGED_HEADERS: [&str; 8] = [
    "Content-Type",
    "Authorization",
    "Authorization-Customer",
    "X-TIMESTAMP",
    "X-SIGNATURE",
    "X-PARTNER-ID",
    "X-EXTERNAL-ID",
    "CHANNEL-ID",
];

/// Longest accepted request path (with its query).
const MAX_PATH_LEN: usize = 2048;
/// Most extra headers one call may carry.
const MAX_EXTRA_HEADERS: usize = 32;

/// One service call as the caller describes it.
#[derive(Debug, Clone)]
pub struct ServiceRequest {
    /// Upper-case verb.
    pub method: String,
    /// The relative URL as it will be sent, query included.
    pub path: String,
    /// The minified JSON body; empty for none.
    pub body: String,
    pub extra_headers: Vec<(String, String)>,
    pub external_id: Option<String>,
    /// This call's budget instead of the config's `timeout_ms`.
    pub timeout: Option<Duration>,
    /// A customer (B2B2C) token, sent as `Authorization-Customer: Bearer ...`.
    pub customer_token: Option<SecretString>,
}

/// `request_json` of `b2b_client_request`: the body as its own raw text (so
/// its spelling survives), the other members as values. Read by a visitor
/// of its own: `#[serde(flatten)]` would buffer the whole document once more
/// on every call.
struct Raw<'a> {
    body: Option<&'a RawValue>,
    rest: Map<String, Value>,
}

impl<'de> serde::Deserialize<'de> for Raw<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Fields;
        impl<'de> serde::de::Visitor<'de> for Fields {
            type Value = Raw<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> std::result::Result<Raw<'de>, M::Error> {
                let mut raw = Raw {
                    body: None,
                    rest: Map::new(),
                };
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    if key == "body" {
                        raw.body = Some(map.next_value()?);
                    } else {
                        let value = map.next_value::<Value>()?;
                        raw.rest.insert(key.into_owned(), value);
                    }
                }
                Ok(raw)
            }
        }
        d.deserialize_map(Fields)
    }
}

impl ServiceRequest {
    /// A request from its parts (`b2b_client_headers`): the body, when
    /// given, must be JSON text; it is minified here.
    pub fn new(method: &str, path: &str, body: Option<&str>) -> Result<ServiceRequest> {
        Ok(ServiceRequest {
            method: check_method(method)?,
            path: check_path(path)?.to_string(),
            body: minify_body(body)?,
            extra_headers: Vec::new(),
            external_id: None,
            timeout: None,
            customer_token: None,
        })
    }

    /// Parses `request_json`: `{"method", "path", "body", "headers",
    /// "external_id", "timeout_ms", "customer_token"}`. `body` is a JSON value (sent as its own
    /// text, minified) or a string holding JSON text.
    pub fn parse(request_json: &str) -> Result<ServiceRequest> {
        let raw: Raw<'_> = serde_json::from_str(request_json).map_err(|e| {
            Error::invalid_argument(format!(
                "request_json is not a JSON object: {}",
                redact::value(&e.to_string())
            ))
        })?;
        if let Some(key) = crate::config::first_duplicate_key(request_json) {
            return Err(Error::invalid_argument(format!(
                "request_json key {} appears more than once",
                redact::key_name(&key)
            )));
        }
        const KEYS: [&str; 6] = [
            "method",
            "path",
            "headers",
            "external_id",
            "timeout_ms",
            "customer_token",
        ];
        if let Some(key) = raw.rest.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(Error::invalid_argument(format!(
                "unknown request_json key {}",
                redact::key_name(key)
            )));
        }
        let string = |key: &str| -> Result<Option<&str>> {
            match raw.rest.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.as_str())),
                Some(_) => Err(Error::invalid_argument(format!(
                    "request_json key `{key}` must be a string"
                ))),
            }
        };
        let method = string("method")?
            .ok_or_else(|| Error::invalid_argument("request_json needs `method`"))?;
        let path =
            string("path")?.ok_or_else(|| Error::invalid_argument("request_json needs `path`"))?;
        let body_text = match raw.body {
            None => None,
            Some(v) if v.get() == "null" => None,
            // A JSON string is JSON text to send, not a string to send.
            Some(v) if v.get().starts_with('"') => {
                let text: String = serde_json::from_str(v.get()).map_err(|_| {
                    Error::invalid_argument("request_json `body` is not a valid JSON string")
                })?;
                Some(std::borrow::Cow::Owned(text))
            }
            Some(v) => Some(std::borrow::Cow::Borrowed(v.get())),
        };
        let mut request = ServiceRequest::new(method, path, body_text.as_deref())?;
        if let Some(id) = string("external_id")? {
            request.external_id = Some(crate::external_id::check_chosen(id)?.to_string());
        }
        if let Some(token) = string("customer_token")? {
            crate::customer_token::check_customer_token(token)?;
            request.customer_token = Some(SecretString::from(token));
        }
        request.timeout = crate::config::request_timeout(raw.rest.get("timeout_ms"))?;
        match raw.rest.get("headers") {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                if map.len() > MAX_EXTRA_HEADERS {
                    return Err(Error::invalid_argument(format!(
                        "request_json `headers` holds more than {MAX_EXTRA_HEADERS} headers"
                    )));
                }
                for (name, value) in map {
                    let Value::String(value) = value else {
                        return Err(Error::invalid_argument(format!(
                            "header {} must have a string value",
                            redact::key_name(name)
                        )));
                    };
                    request.extra_headers.push(check_extra_header(name, value)?);
                }
            }
            Some(_) => {
                return Err(Error::invalid_argument(
                    "request_json `headers` must be an object of name: value strings",
                ))
            }
        }
        Ok(request)
    }
}

fn check_method(method: &str) -> Result<String> {
    if method.is_empty() || method.len() > 16 || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(Error::invalid_argument(
            "method must be an HTTP method such as POST",
        ));
    }
    Ok(method.to_ascii_uppercase())
}

fn check_path(path: &str) -> Result<&str> {
    let ok = path.starts_with('/')
        && path.len() <= MAX_PATH_LEN
        && path.bytes().all(|b| b.is_ascii_graphic())
        && !path.contains('#');
    if ok {
        Ok(path)
    } else {
        Err(Error::invalid_argument(format!(
            "path must start with `/` and be at most {MAX_PATH_LEN} printable ASCII characters, without spaces or fragment"
        )))
    }
}

/// The body as it will be hashed and sent: minified JSON, or empty.
fn minify_body(body: Option<&str>) -> Result<String> {
    match body {
        Some(b) if !b.trim_matches([' ', '\t', '\n', '\r']).is_empty() => {
            // minify_json's message already names the body.
            minify_json(b)
        }
        _ => Ok(String::new()),
    }
}

fn check_extra_header(name: &str, value: &str) -> Result<(String, String)> {
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || name.len() > 64 || !name.bytes().all(token) {
        return Err(Error::invalid_argument(format!(
            "header name {} is not a valid HTTP header name",
            redact::key_name(name)
        )));
    }
    if let Some(managed) = MANAGED_HEADERS
        .iter()
        .find(|m| m.eq_ignore_ascii_case(name))
    {
        return Err(Error::invalid_argument(format!(
            "header `{managed}` is written by the library; it cannot be given in `headers`"
        )));
    }
    if value.len() > 4096
        || !value
            .bytes()
            .all(|b| b == b' ' || b == b'\t' || b.is_ascii_graphic())
    {
        return Err(Error::invalid_argument(format!(
            "header `{name}` must have a value of at most 4096 printable ASCII characters"
        )));
    }
    Ok((name.to_string(), value.to_string()))
}

/// The path component of `base_url` (`""` for a bare host).
fn base_path(base_url: &str) -> &str {
    let after_scheme = base_url
        .split_once("://")
        .map_or(base_url, |(_, rest)| rest);
    after_scheme.find('/').map_or("", |at| &after_scheme[at..])
}

/// What service calls need beyond a token-only client, checked before a
/// token is fetched for them.
pub fn check_settings(config: &Config) -> Result<()> {
    if config.client.service.channel_id.is_none() {
        return Err(Error::invalid_argument(
            "service calls need config key `channel_id` (CHANNEL-ID)",
        ));
    }
    if config.client.service.signature == ServiceSignature::Hmac && config.client_secret.is_none() {
        return Err(Error::invalid_argument(
            "service calls signed with hmac need config key `client_secret`",
        ));
    }
    Ok(())
}

/// What one attempt of a call is sent with.
pub struct Envelope {
    pub url: String,
    /// In the documented order: the library's headers, then the caller's.
    pub headers: Vec<(String, String)>,
}

/// The headers of one attempt: `timestamp` was read once by the caller and
/// is both signed and sent.
pub fn envelope(
    config: &Config,
    key: &PrivateKey,
    token: &Token,
    request: &ServiceRequest,
    external_id: &str,
    timestamp: &str,
) -> Result<Envelope> {
    let service = &config.client.service;
    let channel_id = service.channel_id.as_deref().ok_or_else(|| {
        Error::invalid_argument("service calls need config key `channel_id` (CHANNEL-ID)")
    })?;
    let endpoint = format!("{}{}", base_path(&config.base_url), request.path);
    let token_text = token.access_token.expose();
    let signer = match service.signature {
        ServiceSignature::Hmac => {
            let secret = config.client_secret.as_ref().ok_or_else(|| {
                Error::invalid_argument(
                    "service calls signed with hmac need config key `client_secret`",
                )
            })?;
            SentBodySigner::Hmac {
                client_secret: secret.expose(),
                access_token: token_text,
            }
        }
        ServiceSignature::Rsa => SentBodySigner::Rsa(key),
    };
    // What is hashed is the body as sent.
    let signature = signer.sign(&request.method, &endpoint, &request.body, timestamp)?;
    let partner_id = service.partner_id.as_deref().unwrap_or(&config.client_id);
    let mut headers = vec![
        ("Content-Type".to_string(), "application/json".to_string()),
        (
            "Authorization".to_string(),
            format!("{} {}", token.token_type, token_text),
        ),
        ("X-TIMESTAMP".to_string(), timestamp.to_string()),
        ("X-SIGNATURE".to_string(), signature),
        ("X-PARTNER-ID".to_string(), partner_id.to_string()),
        ("X-EXTERNAL-ID".to_string(), external_id.to_string()),
        ("CHANNEL-ID".to_string(), channel_id.to_string()),
    ];
    if let Some(customer) = &request.customer_token {
        // SNAP B2B2C: the customer's token beside the merchant's.
        headers.insert(
            2,
            (
                "Authorization-Customer".to_string(),
                format!("Bearer {}", customer.expose()),
            ),
        );
    }
    headers.extend(request.extra_headers.iter().cloned());
    Ok(Envelope {
        url: format!("{}{}", config.base_url, request.path),
        headers,
    })
}

/// Headers as the JSON object `b2b_client_headers` returns, in order. It
/// holds the token: built straight into a wiping buffer.
pub fn headers_json(headers: &[(String, String)]) -> SecretBytes {
    struct Ordered<'a>(&'a [(String, String)]);
    impl Serialize for Ordered<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let mut map = s.serialize_map(Some(self.0.len()))?;
            for (name, value) in self.0 {
                map.serialize_entry(name, value)?;
            }
            map.end()
        }
    }
    let mut out = SecretBuf::with_capacity(1024);
    serde_json::to_writer(&mut out, &Ordered(headers))
        .expect("strings always serialise, and SecretBuf never fails a write");
    SecretBytes::from(out)
}

/// A provider's answer to a service call, whatever its status.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceResponse {
    pub http_status: u32,
    /// Lower-case names; repeated headers joined with ", ".
    pub headers: Map<String, Value>,
    /// The body as received (invalid UTF-8 replaced).
    pub body: String,
    pub response_code: Option<String>,
    pub response_message: Option<String>,
    pub external_id: String,
    pub token_renewed: bool,
    pub attempts: u32,
}

impl ServiceResponse {
    pub fn from_http(
        config: &Config,
        response: &crate::transport::Response,
        external_id: &str,
    ) -> ServiceResponse {
        let mut headers = Map::new();
        for (name, value) in &response.headers {
            let name = name.to_ascii_lowercase();
            match headers.get_mut(&name) {
                Some(Value::String(seen)) => {
                    seen.push_str(", ");
                    seen.push_str(value);
                }
                _ => {
                    headers.insert(name, Value::String(value.clone()));
                }
            }
        }
        let body = String::from_utf8_lossy(&response.body).into_owned();
        let fields = &config.profile.response;
        let (code, message) =
            top_level_fields(&body, &fields.response_code, &fields.response_message);
        let response_code = scalar(code.as_ref(), redact::MAX_RESPONSE_CODE_CHARS);
        let response_message = scalar(message.as_ref(), redact::MAX_RESPONSE_MESSAGE_CHARS);
        ServiceResponse {
            http_status: response.status,
            headers,
            body,
            response_code,
            response_message,
            external_id: external_id.to_string(),
            token_renewed: false,
            attempts: 1,
        }
    }

    /// Whether the provider refused the token itself (renew and re-send).
    pub fn is_invalid_token(&self, config: &Config) -> bool {
        self.http_status == 401
            && self
                .response_code
                .as_deref()
                .is_some_and(|c| config.profile.is_invalid_token_code(c))
    }

    /// The result JSON of `b2b_client_request`, in a wiping buffer (an
    /// answer may carry account data).
    pub fn to_json_secret(&self) -> SecretBytes {
        // Sized for the whole result, so the buffer never grows (each
        // growth copies and wipes the old one).
        let headers: usize = self
            .headers
            .iter()
            .map(|(k, v)| k.len() + v.as_str().map_or(16, str::len) + 8)
            .sum();
        let mut out = SecretBuf::with_capacity(
            512 + headers
                + self.body.len() * 2
                + self.external_id.len()
                + self.response_message.as_deref().map_or(0, str::len) * 2,
        );
        serde_json::to_writer(&mut out, self)
            .expect("strings and integers always serialise, and SecretBuf never fails a write");
        SecretBytes::from(out)
    }
}

/// The values of two top-level members of a JSON object, skipping the rest
/// of the document without building it (an answer's body can be large and
/// is parsed on every call); `None`s when the body is not a JSON object.
/// Each is the first of its names present (NICEPAY may write `responseCd`
/// for `responseCode`).
fn top_level_fields(body: &str, a: &[Text], b: &[Text]) -> (Option<Value>, Option<Value>) {
    use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
    struct Pick<'k>(&'k [Text], &'k [Text]);
    impl<'de> DeserializeSeed<'de> for Pick<'_> {
        type Value = (Option<Value>, Option<Value>);
        fn deserialize<D: Deserializer<'de>>(
            self,
            d: D,
        ) -> std::result::Result<Self::Value, D::Error> {
            d.deserialize_map(self)
        }
    }
    impl<'de> Visitor<'de> for Pick<'_> {
        type Value = (Option<Value>, Option<Value>);
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<M: MapAccess<'de>>(
            self,
            mut map: M,
        ) -> std::result::Result<Self::Value, M::Error> {
            // (rank among the names, value): a better-ranked name replaces.
            let mut first: Option<(usize, Value)> = None;
            let mut second: Option<(usize, Value)> = None;
            let rank = |names: &[Text], key: &str| names.iter().position(|n| n == key);
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                let (slot, r) = match (rank(self.0, &key), rank(self.1, &key)) {
                    (Some(r), _) => (&mut first, r),
                    (None, Some(r)) => (&mut second, r),
                    (None, None) => {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    }
                };
                let value = map.next_value::<Value>()?;
                if slot.as_ref().is_none_or(|(seen, _)| r <= *seen) {
                    *slot = Some((r, value));
                }
            }
            Ok((first.map(|(_, v)| v), second.map(|(_, v)| v)))
        }
    }
    let mut de = serde_json::Deserializer::from_str(body);
    Pick(a, b)
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .unwrap_or_default()
}

/// A response code as text, bounded and without control characters (it
/// reaches messages and logs).
fn scalar(v: Option<&Value>, max: usize) -> Option<String> {
    let text = match v? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    Some(redact::scrub(&text, &[], max))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Status;

    #[test]
    fn a_body_given_as_json_is_sent_as_its_own_text_minified() {
        let r = ServiceRequest::parse(
            r#"{"method":"post","path":"/v1.0/transfer-va/inquiry?x=1",
                "body": {"b": 1.0e+2, "a": "x\/y", "u": "\u00e9" }}"#,
        )
        .unwrap();
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/v1.0/transfer-va/inquiry?x=1");
        assert_eq!(r.body, r#"{"b":1.0e+2,"a":"x\/y","u":"\u00e9"}"#);
    }

    #[test]
    fn a_body_given_as_a_string_must_hold_json() {
        let r =
            ServiceRequest::parse(r#"{"method":"POST","path":"/p","body":"{ \"a\" : [1, 2] }"}"#)
                .unwrap();
        assert_eq!(r.body, r#"{"a":[1,2]}"#);
        let e = ServiceRequest::parse(r#"{"method":"POST","path":"/p","body":"not json"}"#)
            .unwrap_err();
        assert_eq!(e.status, Status::B2B_INVALID_ARGUMENT);
        assert!(
            e.message.starts_with("body is not valid JSON"),
            "{}",
            e.message
        );
        for none in [r#""body":null"#, r#""body":"""#, r#""body":"  ""#] {
            let r = ServiceRequest::parse(&format!(r#"{{"method":"GET","path":"/p",{none}}}"#))
                .unwrap();
            assert_eq!(r.body, "", "{none}");
        }
    }

    #[test]
    fn bad_requests_are_refused_by_name_without_echoing_values() {
        let cases = [
            (r#"[1]"#, "not a JSON object"),
            (r#"{"path":"/p"}"#, "needs `method`"),
            (r#"{"method":"POST"}"#, "needs `path`"),
            (r#"{"method":"PO ST","path":"/p"}"#, "HTTP method"),
            (r#"{"method":"POST","path":"p"}"#, "start with `/`"),
            (r#"{"method":"POST","path":"/a b"}"#, "start with `/`"),
            (
                r#"{"method":"POST","path":"/p","bdy":{}}"#,
                "unknown request_json key `bdy`",
            ),
            (
                r#"{"method":"POST","path":"/p","path":"/q"}"#,
                "more than once",
            ),
            (
                r#"{"method":"POST","path":"/p","headers":{"X-SIGNATURE":"x"}}"#,
                "written by the library",
            ),
            (
                r#"{"method":"POST","path":"/p","headers":{"bad name":"x"}}"#,
                "not a valid HTTP header name",
            ),
            (
                r#"{"method":"POST","path":"/p","headers":{"X-A":"line\nbreak"}}"#,
                "printable ASCII",
            ),
            (
                r#"{"method":"POST","path":"/p","headers":{"X-A":1}}"#,
                "string value",
            ),
            (
                r#"{"method":"POST","path":"/p","external_id":"has space"}"#,
                "external_id",
            ),
            (
                r#"{"method":"POST","path":"/p","timeout_ms":0}"#,
                "timeout_ms",
            ),
            (
                r#"{"method":"POST","path":"/p","customer_token":"a b"}"#,
                "`customer_token` must be an RFC 6750 token",
            ),
            (
                r#"{"method":"POST","path":"/p","customer_token":"a\r\nX: 1"}"#,
                "`customer_token` must be an RFC 6750 token",
            ),
            (
                r#"{"method":"POST","path":"/p","customer_token":7}"#,
                "`customer_token` must be a string",
            ),
            (
                r#"{"method":"POST","path":"/p","headers":{"authorization-customer":"Bearer x"}}"#,
                "written by the library",
            ),
        ];
        for (json, want) in cases {
            let e = ServiceRequest::parse(json).unwrap_err();
            assert_eq!(e.status, Status::B2B_INVALID_ARGUMENT, "{json}");
            assert!(e.message.contains(want), "{json}: {}", e.message);
            assert!(!e.message.contains('\n'), "{json}: {}", e.message);
        }
        let pem = "-----BEGIN PRIVATE KEY-----MIIEvQ";
        let e = ServiceRequest::parse(&format!(r#"{{"method":"POST","path":"/p","{pem}":1}}"#))
            .unwrap_err();
        assert!(!e.message.contains("MIIEvQ"), "{}", e.message);
    }

    #[test]
    fn a_customer_token_is_kept_for_its_header() {
        let r = ServiceRequest::parse(
            r#"{"method":"POST","path":"/p","customer_token":"eyJ.a-b_c~d+e/f=="}"#,
        )
        .unwrap();
        assert_eq!(
            r.customer_token.as_ref().map(|t| t.expose()),
            Some("eyJ.a-b_c~d+e/f==")
        );
        let long = "a".repeat(crate::customer_token::MAX_GRANT_CHARS + 1);
        let e = ServiceRequest::parse(&format!(
            r#"{{"method":"POST","path":"/p","customer_token":"{long}"}}"#
        ))
        .unwrap_err();
        assert_eq!(e.status, Status::B2B_INVALID_ARGUMENT);
        assert!(!e.message.contains("aaaa"), "{}", e.message);
        assert!(
            ServiceRequest::parse(r#"{"method":"POST","path":"/p","customer_token":null}"#)
                .unwrap()
                .customer_token
                .is_none()
        );
    }

    #[test]
    fn only_the_top_level_code_and_message_are_read() {
        let pick =
            |b: &str| top_level_fields(b, &["responseCode".into()], &["responseMessage".into()]);
        let (c, m) = pick(
            r#"{"data":{"responseCode":"nested"},"responseCode":"2002400","x":[1,{"a":null}],"responseMessage":"OK"}"#,
        );
        assert_eq!(
            (c, m),
            (Some(Value::from("2002400")), Some(Value::from("OK")))
        );
        let (c, _) = pick(r#"{"response\u0043ode":4012401}"#);
        assert_eq!(c, Some(Value::from(4012401)));
        for not_object in [
            "[1]",
            "\"s\"",
            "{\"responseCode\":\"1\"} trailing",
            "<html>",
            "",
        ] {
            assert_eq!(pick(not_object), (None, None), "{not_object}");
        }
        // NICEPAY's alternates: the first-listed name wins wherever it stands.
        let nicepay = &crate::provider::NICEPAY.response;
        for body in [
            r#"{"responseCd":"x","responseCode":"4012401","responseMsg":"Access Token Invalid"}"#,
            r#"{"responseCode":"4012401","responseCd":"x","responseMsg":"Access Token Invalid"}"#,
        ] {
            let (c, m) = top_level_fields(body, &nicepay.response_code, &nicepay.response_message);
            assert_eq!(
                (c, m),
                (
                    Some(Value::from("4012401")),
                    Some(Value::from("Access Token Invalid"))
                )
            );
        }
    }

    #[test]
    fn the_signed_endpoint_is_the_base_urls_path_plus_the_calls() {
        assert_eq!(base_path("https://bank.example"), "");
        assert_eq!(base_path("https://bank.example:8443/snap"), "/snap");
        assert_eq!(base_path("http://127.0.0.1:9/a/b"), "/a/b");
    }
}
