//! A profile a user supplies in the config (`"profile": {...}`): each key
//! overrides the same field of the base profile (the `provider` preset, or
//! [`SNAP`](super::SNAP) without one). Every key is known, every value
//! bounded and checked here, once, when the config is parsed: the request
//! builder trusts what it reads.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::{Credentials, CustomerTokenEndpoint, HintKind, HintRule, Profile, Text, Texts};
use crate::error::{Error, Result};
use crate::redact;
use crate::timestamp::TimestampStyle;

const PROFILE_KEYS: &[&str] = &[
    "name",
    "token_path",
    "sandbox_url",
    "production_url",
    "timestamp_style",
    "timestamp_header",
    "signature_header",
    "client_key_header",
    "headers",
    "body",
    "response",
    "success_codes",
    "invalid_token_codes",
    "hints",
    "customer_token",
];
const CUSTOMER_TOKEN_KEYS: &[&str] = &["path", "b2b_authorization"];
const BODY_KEYS: &[&str] = &[
    "grant_type_key",
    "additional_info_key",
    "additional_info",
    "credentials",
    "client_id_key",
    "client_secret_key",
];
const RESPONSE_KEYS: &[&str] = &[
    "response_code",
    "response_message",
    "data",
    "access_token",
    "token_type",
    "expires_in",
    "additional_info",
];
const HINT_KEYS: &[&str] = &["code", "words", "hint"];

/// Bounds: a profile is configuration, not data.
const MAX_NAME: usize = 32;
const MAX_HEADER_NAME: usize = 64;
const MAX_HEADER_VALUE: usize = 256;
const MAX_HEADERS: usize = 16;
const MAX_FIELD_NAME: usize = 64;
const MAX_NAMES: usize = 4;
const MAX_PATTERN: usize = 32;
const MAX_PATTERNS: usize = 16;
const MAX_HINTS: usize = 32;
const MAX_WORDS: usize = 4;
const MAX_WORD: usize = 64;
const MAX_ADDITIONAL_INFO_BYTES: usize = 4096;
const MAX_PATH: usize = 2048;

/// Headers the transport sets itself, or that would change what the
/// request means: never from a profile.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-type",
    "accept",
    "content-length",
    "transfer-encoding",
    "connection",
    "expect",
    "authorization",
];

fn bad(what: &str, rule: &str) -> Error {
    Error::invalid_argument(format!("profile key `{what}` {rule}"))
}

fn check_keys(map: &Map<String, Value>, known: &[&str], within: &str) -> Result<()> {
    match map.keys().find(|k| !known.contains(&k.as_str())) {
        None => Ok(()),
        Some(k) => Err(Error::invalid_argument(format!(
            "unknown profile key {}{within}",
            redact::key_name(k)
        ))),
    }
}

fn object<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| bad(what, "must be a JSON object"))
}

fn string<'a>(v: &'a Value, what: &str, max: usize) -> Result<&'a str> {
    match v {
        Value::String(s) if !s.is_empty() && s.len() <= max => Ok(s),
        Value::String(_) => Err(bad(what, &format!("must be 1 to {max} bytes"))),
        _ => Err(bad(what, "must be a string")),
    }
}

/// RFC 9110 `token`: what a header name may be.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn header_name(v: &Value, what: &str) -> Result<Text> {
    let s = string(v, what, MAX_HEADER_NAME)?;
    if !is_token(s) {
        return Err(bad(
            what,
            "must be a header name (letters, digits, `-`, no spaces)",
        ));
    }
    if RESERVED_HEADERS.contains(&s.to_ascii_lowercase().as_str()) {
        return Err(bad(what, "names a header snapb2b sets itself"));
    }
    Ok(Cow::Owned(s.to_string()))
}

/// A JSON member name: printable ASCII, bounded.
fn field_name(v: &Value, what: &str) -> Result<Text> {
    let s = string(v, what, MAX_FIELD_NAME)?;
    if !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad(what, "must be printable ASCII without spaces"));
    }
    Ok(Cow::Owned(s.to_string()))
}

/// One name or a list of alternatives, the first present wins.
fn field_names(v: &Value, what: &str) -> Result<Texts> {
    let items = match v {
        Value::Array(a) if !a.is_empty() && a.len() <= MAX_NAMES => a.as_slice(),
        Value::Array(_) => {
            return Err(bad(what, &format!("must list 1 to {MAX_NAMES} names")));
        }
        one => std::slice::from_ref(one),
    };
    Ok(Cow::Owned(
        items
            .iter()
            .map(|i| field_name(i, what))
            .collect::<Result<_>>()?,
    ))
}

/// `401??01`, `200*`: digits, letters, `?` for a digit, `*` for any rest.
fn pattern(v: &Value, what: &str) -> Result<Text> {
    let s = string(v, what, MAX_PATTERN)?;
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"?*".contains(&b))
    {
        return Err(bad(
            what,
            "holds code patterns: letters, digits, `?` (one digit) and `*` (any rest)",
        ));
    }
    Ok(Cow::Owned(s.to_string()))
}

fn patterns(v: &Value, what: &str) -> Result<Texts> {
    match v {
        Value::Array(a) if a.len() <= MAX_PATTERNS => Ok(Cow::Owned(
            a.iter().map(|p| pattern(p, what)).collect::<Result<_>>()?,
        )),
        _ => Err(bad(
            what,
            &format!("must be a list of at most {MAX_PATTERNS} code patterns"),
        )),
    }
}

/// A path on the provider's host.
pub(crate) fn check_path(path: &str, what: &str) -> Result<()> {
    if path.len() > MAX_PATH
        || !path.starts_with('/')
        || !path.chars().all(|ch| ch.is_ascii_graphic())
        || path.contains(['?', '#'])
    {
        return Err(Error::invalid_argument(format!(
            "{what} must be a path starting with `/`, without spaces, query or fragment"
        )));
    }
    Ok(())
}

/// `null` for "none", else a value checked by `f`.
fn optional<T>(v: &Value, f: impl FnOnce(&Value) -> Result<T>) -> Result<Option<T>> {
    match v {
        Value::Null => Ok(None),
        other => f(other).map(Some),
    }
}

/// `base` with the user's `profile` object applied.
pub fn apply(base: &Profile, profile: &Value) -> Result<Profile> {
    let map = object(profile, "profile")?;
    check_keys(map, PROFILE_KEYS, "")?;
    let mut p = base.clone();
    for (key, v) in map {
        let what = key.as_str();
        match what {
            "name" => {
                let s = string(v, what, MAX_NAME)?;
                if !s
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-".contains(&b))
                {
                    return Err(bad(what, "must be lower-case letters, digits, `_` or `-`"));
                }
                p.name = Cow::Owned(s.to_string());
            }
            "token_path" => {
                let s = string(v, what, MAX_PATH)?;
                check_path(s, "profile key `token_path`")?;
                p.token_path = Cow::Owned(s.to_string());
            }
            "sandbox_url" | "production_url" => {
                let url = optional(v, |v| {
                    let s = string(v, what, MAX_PATH)?;
                    crate::config::check_base_url(s, false)
                        .map(Cow::Owned)
                        .map_err(|_| bad(what, "must be https://host[:port][/prefix]"))
                })?;
                if what == "sandbox_url" {
                    p.sandbox_url = url;
                } else {
                    p.production_url = url;
                }
            }
            "timestamp_style" => p.timestamp_style = TimestampStyle::parse(string(v, what, 16)?)?,
            "timestamp_header" => p.timestamp_header = header_name(v, what)?,
            "signature_header" => p.signature_header = header_name(v, what)?,
            "client_key_header" => p.client_key_header = optional(v, |v| header_name(v, what))?,
            "headers" => {
                let m = object(v, what)?;
                if m.len() > MAX_HEADERS {
                    return Err(bad(what, &format!("holds at most {MAX_HEADERS} headers")));
                }
                let mut headers = Vec::with_capacity(m.len());
                for (name, value) in m {
                    let name = header_name(&Value::String(name.clone()), "headers")?;
                    let value = string(value, "headers", MAX_HEADER_VALUE)?;
                    if !value.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
                        return Err(bad("headers", "values must be printable ASCII"));
                    }
                    headers.push((name, Cow::Owned(value.to_string())));
                }
                p.extra_headers = Cow::Owned(headers);
            }
            "body" => apply_body(&mut p, object(v, what)?)?,
            "response" => apply_response(&mut p, object(v, what)?)?,
            "success_codes" => p.success_codes = patterns(v, what)?,
            "invalid_token_codes" => p.invalid_token_codes = patterns(v, what)?,
            "hints" => p.hints = Cow::Owned(hints(v)?),
            "customer_token" => p.customer_token = optional(v, customer_token)?,
            _ => unreachable!("checked against PROFILE_KEYS"),
        }
    }
    // Every header once: a name given twice would send two values.
    let mut names: Vec<String> = [Some(&p.timestamp_header), Some(&p.signature_header)]
        .into_iter()
        .chain([p.client_key_header.as_ref()])
        .flatten()
        .chain(p.extra_headers.iter().map(|(n, _)| n))
        .map(|n| n.to_ascii_lowercase())
        .collect();
    let count = names.len();
    names.sort();
    names.dedup();
    if names.len() != count {
        return Err(Error::invalid_argument(
            "profile names the same header twice (timestamp, signature, client key and `headers` must differ)",
        ));
    }
    Ok(p)
}

/// `{"path": "/v1.0/access-token/b2b2c", "b2b_authorization": true}`;
/// `b2b_authorization` (send the B2B token as `Authorization`) defaults to
/// false, as the signature headers alone are what most documents ask for.
fn customer_token(v: &Value) -> Result<CustomerTokenEndpoint> {
    let m = object(v, "customer_token")?;
    check_keys(m, CUSTOMER_TOKEN_KEYS, " in `customer_token`")?;
    let path = m
        .get("path")
        .ok_or_else(|| bad("customer_token", "needs `path`"))?;
    let path = string(path, "path", MAX_PATH)?;
    check_path(path, "profile key `customer_token.path`")?;
    let b2b_authorization = match m.get("b2b_authorization") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(bad("b2b_authorization", "must be true or false")),
    };
    Ok(CustomerTokenEndpoint {
        path: Cow::Owned(path.to_string()),
        b2b_authorization,
    })
}

fn apply_body(p: &mut Profile, m: &Map<String, Value>) -> Result<()> {
    check_keys(m, BODY_KEYS, " in `body`")?;
    let b = &mut p.body;
    for (key, v) in m {
        let what = key.as_str();
        match what {
            "grant_type_key" => b.grant_type_key = field_name(v, what)?,
            "additional_info_key" => b.additional_info_key = field_name(v, what)?,
            "client_id_key" => b.client_id_key = field_name(v, what)?,
            "client_secret_key" => b.client_secret_key = field_name(v, what)?,
            "additional_info" => {
                b.additional_info = optional(v, |v| {
                    object(v, what)?;
                    let text = v.to_string();
                    if text.len() > MAX_ADDITIONAL_INFO_BYTES {
                        return Err(bad(
                            what,
                            &format!("must be at most {MAX_ADDITIONAL_INFO_BYTES} bytes"),
                        ));
                    }
                    Ok(Cow::Owned(text))
                })?
            }
            "credentials" => {
                b.credentials = match string(v, what, 32)? {
                    "none" => Credentials::None,
                    "body" => Credentials::Body,
                    "additional_info" => Credentials::AdditionalInfo,
                    _ => return Err(bad(what, "must be none, body or additional_info")),
                }
            }
            _ => unreachable!("checked against BODY_KEYS"),
        }
    }
    Ok(())
}

fn apply_response(p: &mut Profile, m: &Map<String, Value>) -> Result<()> {
    check_keys(m, RESPONSE_KEYS, " in `response`")?;
    let r = &mut p.response;
    for (key, v) in m {
        let what = key.as_str();
        match what {
            "response_code" => r.response_code = field_names(v, what)?,
            "response_message" => r.response_message = field_names(v, what)?,
            "data" => r.data = optional(v, |v| field_name(v, what))?,
            "access_token" => r.access_token = field_name(v, what)?,
            "token_type" => r.token_type = field_name(v, what)?,
            "expires_in" => r.expires_in = field_name(v, what)?,
            "additional_info" => r.additional_info = field_name(v, what)?,
            _ => unreachable!("checked against RESPONSE_KEYS"),
        }
    }
    Ok(())
}

fn hints(v: &Value) -> Result<Vec<HintRule>> {
    let Value::Array(items) = v else {
        return Err(bad("hints", "must be a list"));
    };
    if items.len() > MAX_HINTS {
        return Err(bad("hints", &format!("holds at most {MAX_HINTS} rules")));
    }
    items
        .iter()
        .map(|item| {
            let m = object(item, "hints")?;
            check_keys(m, HINT_KEYS, " in `hints`")?;
            let kind_name = string(
                m.get("hint")
                    .ok_or_else(|| bad("hints", "rules need `hint`"))?,
                "hint",
                32,
            )?;
            let kind = HintKind::NAMES
                .iter()
                .find(|(n, _)| *n == kind_name)
                .map(|(_, k)| *k)
                .ok_or_else(|| {
                    bad(
                        "hint",
                        &format!(
                            "must be one of {}",
                            HintKind::NAMES
                                .iter()
                                .map(|(n, _)| *n)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                })?;
            let code = m
                .get("code")
                .map(|c| optional(c, |c| pattern(c, "code")))
                .transpose()?
                .flatten();
            let words: Vec<Text> = match m.get("words") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(w)) if w.len() <= MAX_WORDS => w
                    .iter()
                    .map(|w| {
                        let s = string(w, "words", MAX_WORD)?;
                        if s.chars().any(char::is_control) {
                            return Err(bad("words", "must be printable"));
                        }
                        Ok(Cow::Owned(s.to_lowercase()))
                    })
                    .collect::<Result<_>>()?,
                Some(_) => {
                    return Err(bad(
                        "words",
                        &format!("must be a list of at most {MAX_WORDS} words"),
                    ))
                }
            };
            if code.is_none() && words.is_empty() {
                return Err(bad("hints", "rules need `code` or `words`"));
            }
            Ok(HintRule {
                code,
                words: Cow::Owned(words),
                kind,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::provider::{KLIKOO, SNAP};
    use crate::Status;

    fn refused(profile: Value, needle: &str) {
        let e = apply(&SNAP, &profile).unwrap_err();
        assert_eq!(e.status, Status::B2B_INVALID_ARGUMENT, "{profile}");
        assert!(e.message.contains(needle), "{profile}: {}", e.message);
        assert!(!e.message.contains("SECRETVALUE"), "{}", e.message);
        assert!(e.message.len() < 300);
    }

    #[test]
    fn a_profile_spelled_like_a_preset_is_that_preset() {
        let klikoo = json!({
            "name": "klikoo",
            "token_path": "/v1/open-api/access-token",
            "timestamp_header": "Open-Api-Timestamp",
            "signature_header": "Open-Api-Signature",
            "client_key_header": null,
            "body": {"grant_type_key": "grant_type", "additional_info_key": "additional_info",
                     "credentials": "additional_info", "client_id_key": "client_id",
                     "client_secret_key": "client_secret"},
            "response": {"response_code": "response_code", "response_message": ["response_message"],
                         "data": "data", "access_token": "access_token", "token_type": "token_type",
                         "expires_in": "expires_in", "additional_info": "additional_info"},
            "success_codes": ["2*"],
            "invalid_token_codes": ["401??6500", "401??6535"],
            "hints": [
                {"code": "400??6505", "hint": "timestamp"},
                {"code": "400??6508", "hint": "signature"},
                {"code": "400??6568", "hint": "client_id_format"},
                {"code": "400??6569", "hint": "grant_type"},
                {"code": "401??6500", "hint": "invalid_token"},
                {"code": "401??6535", "hint": "expired_token"},
                {"code": "401??6570", "hint": "credentials"},
                {"code": "403??6571", "hint": "ip_not_allowed"}
            ],
            "customer_token": null
        });
        assert_eq!(apply(&SNAP, &klikoo).unwrap(), KLIKOO);
        // An empty profile changes nothing.
        assert_eq!(apply(&KLIKOO, &json!({})).unwrap(), KLIKOO);
    }

    #[test]
    fn unknown_keys_are_refused_by_name_when_shown_safely() {
        refused(
            json!({"token_pth": "/x"}),
            "unknown profile key `token_pth`",
        );
        refused(json!({"body": {"grantType": "x"}}), "`grantType` in `body`");
        refused(json!({"response": {"accessToken": "x"}}), "in `response`");
        refused(
            json!({"hints": [{"code": "1", "hint": "signature", "x": 1}]}),
            "`x` in `hints`",
        );
        refused(
            json!({"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg": 1}),
            "unknown profile key (key name not shown)",
        );
        refused(json!({"a\nb": 1}), "(key name not shown)");
    }

    #[test]
    fn values_are_checked_and_bounded() {
        refused(json!([]), "JSON object");
        refused(json!({"token_path": "v1/token"}), "`token_path`");
        refused(json!({"token_path": "/a?b=1"}), "`token_path`");
        refused(json!({"token_path": "/a b"}), "`token_path`");
        refused(json!({"signature_header": "X SIGNATURE"}), "header name");
        refused(json!({"signature_header": "X-SIG\r\nX: 1"}), "header name");
        refused(json!({"timestamp_header": "Host"}), "sets itself");
        refused(
            json!({"headers": {"Content-Type": "text/plain"}}),
            "sets itself",
        );
        refused(json!({"headers": {"X-A": "a\nb"}}), "printable");
        refused(json!({"headers": {"X-A": 1}}), "string");
        refused(
            json!({"headers": {"X-SIGNATURE": "x"}}),
            "same header twice",
        );
        refused(
            json!({"client_key_header": "x-timestamp"}),
            "same header twice",
        );
        refused(json!({"name": "Bank BNC"}), "lower-case");
        refused(json!({"name": "x".repeat(33)}), "1 to 32 bytes");
        refused(json!({"timestamp_style": "local"}), "timestamp style");
        refused(
            json!({"body": {"credentials": "header"}}),
            "none, body or additional_info",
        );
        refused(json!({"body": {"additional_info": [1]}}), "JSON object");
        refused(
            json!({"body": {"additional_info": {"k": "v".repeat(5000)}}}),
            "at most 4096 bytes",
        );
        refused(json!({"response": {"access_token": ""}}), "1 to 64 bytes");
        refused(json!({"response": {"response_code": []}}), "1 to 4 names");
        refused(json!({"success_codes": "200"}), "list");
        refused(json!({"success_codes": ["20 0"]}), "code patterns");
        refused(json!({"invalid_token_codes": vec!["1"; 17]}), "at most 16");
        refused(
            json!({"hints": [{"hint": "signature"}]}),
            "`code` or `words`",
        );
        refused(
            json!({"hints": [{"code": "4*", "hint": "sig"}]}),
            "must be one of",
        );
        refused(json!({"sandbox_url": "http://bank.example"}), "https://");
        refused(
            json!({"sandbox_url": "https://SECRETVALUE@bank.example"}),
            "https://",
        );
        refused(json!({"token_path": "/".repeat(2049)}), "1 to 2048 bytes");
    }

    /// The README's worked examples: each preset's equals the preset, the
    /// bank's applies.
    #[test]
    fn the_readmes_examples_are_what_they_say() {
        let readme = include_str!("../../../../README.md");
        let start = readme
            .find("One worked example per preset")
            .expect("README section");
        let block = &readme[start..];
        let block = &block[block.find("```json").unwrap() + 7..];
        let block = &block[..block.find("```").unwrap()];
        let mut seen = Vec::new();
        for example in block.split("\n\n").filter(|e| !e.trim().is_empty()) {
            let v: Value =
                serde_json::from_str(example).unwrap_or_else(|e| panic!("{e}: {example}"));
            let preset = crate::provider::by_name(v["provider"].as_str().unwrap()).unwrap();
            assert_eq!(&apply(preset, &v["profile"]).unwrap(), preset, "{example}");
            seen.push(preset.name.to_string());
        }
        let all: Vec<String> = crate::provider::ALL
            .iter()
            .map(|p| p.name.to_string())
            .collect();
        seen.sort();
        let mut all = all;
        all.sort();
        assert_eq!(seen, all, "one example per preset");
        let bank = &readme[readme.find("And a bank that is not built in").unwrap()..];
        let bank = &bank[bank.find("```json").unwrap() + 7..];
        let v: Value = serde_json::from_str(&bank[..bank.find("```").unwrap()]).unwrap();
        let p = apply(&SNAP, &v["profile"]).unwrap();
        assert_eq!(
            (p.name.as_ref(), p.body.grant_type_key.as_ref()),
            ("bnc", "grant_type")
        );
    }

    #[test]
    fn overrides_apply_field_by_field() {
        let p = apply(
            &SNAP,
            &json!({"name": "bnc", "body": {"grant_type_key": "grant_type", "additional_info": {}},
                    "headers": {"X-Channel": "web app"},
                    "response": {"expires_in": "expires"},
                    "hints": [{"words": ["Tidak Terdaftar"], "hint": "unknown_client"}]}),
        )
        .unwrap();
        assert_eq!(p.name, "bnc");
        assert_eq!(p.body.grant_type_key, "grant_type");
        assert_eq!(p.body.additional_info.as_deref(), Some("{}"));
        assert_eq!(p.body.additional_info_key, "additionalInfo");
        assert_eq!(p.response.expires_in, "expires");
        assert_eq!(p.response.access_token, "accessToken");
        assert_eq!(p.extra_headers[0].1, "web app");
        assert_eq!(p.hints[0].words[0], "tidak terdaftar");
        assert_eq!(p.token_path, SNAP.token_path);
    }

    #[test]
    fn the_customer_token_endpoint_is_set_or_removed() {
        let p = apply(&SNAP, &json!({"customer_token": {"path": "/bi/b2b2c"}})).unwrap();
        let c = p.customer_token.unwrap();
        assert_eq!((c.path.as_ref(), c.b2b_authorization), ("/bi/b2b2c", false));
        let p = apply(
            &KLIKOO,
            &json!({"customer_token": {"path": "/x", "b2b_authorization": true}}),
        )
        .unwrap();
        assert!(p.customer_token.unwrap().b2b_authorization);
        assert!(apply(&SNAP, &json!({"customer_token": null}))
            .unwrap()
            .customer_token
            .is_none());
        assert!(SNAP.customer_token.as_ref().unwrap().b2b_authorization);
        refused(json!({"customer_token": {}}), "needs `path`");
        refused(
            json!({"customer_token": {"path": "b2b2c"}}),
            "customer_token.path",
        );
        refused(
            json!({"customer_token": {"path": "/x", "b2b_authorization": "yes"}}),
            "`b2b_authorization`",
        );
        refused(
            json!({"customer_token": {"path": "/x", "pth": 1}}),
            "in `customer_token`",
        );
    }
}
