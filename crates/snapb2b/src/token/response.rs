//! Reading the provider's answer into a [`Token`] or a PROVIDER/PROTOCOL
//! error.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::hint::hint_for;
use super::Token;
use crate::error::{Error, Result, Status};
use crate::provider::{Profile, Text};
use crate::redact;
use crate::secret::{SecretJson, SecretString};
use crate::transport::Response;

/// Token lifetimes outside this range are not believable.
pub(crate) const MAX_EXPIRES_IN_S: u64 = 366 * 24 * 3600;
/// The largest `additionalInfo` object passed on (serialised).
pub(crate) const MAX_ADDITIONAL_INFO_BYTES: usize = 16 * 1024;
/// Used when a provider omits `expiresIn` (SNAP's standard lifetime).
pub const DEFAULT_EXPIRES_IN_S: u64 = 900;

/// Turns an HTTP answer into a token or a PROVIDER/PROTOCOL error.
pub fn read_response(
    profile: &Profile,
    response: &Response,
    requested_at: DateTime<Utc>,
) -> Result<Token> {
    let fields = &profile.response;
    // The tree holds the token; the guard wipes it on every return path.
    let tree = SecretJson::parse(&response.body).unwrap_or_default();
    let parsed: Option<&Map<String, Value>> = tree.as_object();
    // The first of the profile's names that is present (NICEPAY may write
    // `responseCd` for `responseCode`).
    let first = |names: &[Text]| {
        let m = parsed?;
        names.iter().find_map(|n| m.get(n.as_ref()))
    };
    let code = scalar_string(first(&fields.response_code))
        .map(|c| redact::scrub(&c, &[], redact::MAX_RESPONSE_CODE_CHARS));
    let message = scalar_string(first(&fields.response_message))
        .map(|m| redact::scrub(&m, &[], redact::MAX_RESPONSE_MESSAGE_CHARS));

    if !response.is_success() {
        return Err(provider_error(
            profile,
            response,
            code,
            message,
            requested_at,
        ));
    }
    let protocol = |message: String| {
        let mut e = Error::protocol(message);
        e.http_status = Some(response.status);
        e
    };
    let Some(root) = parsed else {
        return Err(protocol(format!(
            "{} answered HTTP {} but the body is not a JSON object ({} bytes)",
            profile.name,
            response.status,
            response.body.len()
        )));
    };
    if let Some(c) = &code {
        if !profile.is_success_code(c) {
            return Err(provider_error(
                profile,
                response,
                code,
                message,
                requested_at,
            ));
        }
    }
    let data = match fields.data.as_deref() {
        None => root,
        Some(name) => match root.get(name) {
            Some(Value::Object(d)) => d,
            _ => {
                return Err(protocol(format!(
                    "{} answered success but without the `{name}` object holding the token",
                    profile.name
                )))
            }
        },
    };
    let qualified = |name: &str| match &fields.data {
        Some(d) => format!("{d}.{name}"),
        None => name.to_string(),
    };
    let token_field = qualified(&fields.access_token);
    let access_token = match data.get(fields.access_token.as_ref()) {
        Some(Value::String(t)) if !t.is_empty() => t,
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return Err(protocol(format!(
                "{} answered success but the response lacks `{token_field}`",
                profile.name
            )))
        }
        Some(_) => {
            return Err(protocol(format!(
                "`{token_field}` in {}'s response is not a string",
                profile.name
            )))
        }
    };
    // Kept as sent ("Bearer", "bearer", "Mac"): it is what the provider
    // expects back in `Authorization`.
    let token_type =
        scalar_string(data.get(fields.token_type.as_ref())).unwrap_or_else(|| "Bearer".to_string());
    let type_field = qualified(&fields.token_type);
    for (field, value) in [
        (&token_field, access_token.as_str()),
        (&type_field, &token_type),
    ] {
        if !is_b64token(value) {
            // Named, never echoed: the value may be the token.
            return Err(protocol(format!(
                "`{field}` in {}'s response is not an RFC 6750 token (letters, digits, `-._~+/`, trailing `=`)",
                profile.name
            )));
        }
    }
    let expires_in = match data.get(fields.expires_in.as_ref()) {
        None | Some(Value::Null) => DEFAULT_EXPIRES_IN_S,
        Some(v) => parse_expires_in(v).ok_or_else(|| {
            protocol(format!(
                "`{}` in {}'s response is not a number of seconds between 1 and {MAX_EXPIRES_IN_S}",
                fields.expires_in, profile.name
            ))
        })?,
    };
    // Beside the token fields, else at the top level (where SNAP puts it
    // whatever wraps the token). An object or nothing: DOKU's `""` is nothing.
    let additional_info = match data
        .get(fields.additional_info.as_ref())
        .or_else(|| root.get(fields.additional_info.as_ref()))
    {
        Some(v @ Value::Object(_)) => {
            if v.to_string().len() > MAX_ADDITIONAL_INFO_BYTES {
                return Err(protocol(format!(
                    "`{}` in {}'s response is larger than {MAX_ADDITIONAL_INFO_BYTES} bytes",
                    qualified(&fields.additional_info),
                    profile.name
                )));
            }
            Some(v.clone())
        }
        _ => None,
    };
    Ok(Token {
        provider: profile.name.clone(),
        access_token: SecretString::from(access_token.as_str()),
        token_type,
        expires_in,
        expires_at: requested_at.timestamp() + expires_in as i64,
        response_code: code,
        response_message: message,
        additional_info,
    })
}

/// RFC 6750's `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+"
/// / "/" ) *"="`. What a token and its type must be wherever they come from
/// (a provider, the cache file), as both end up in an `Authorization`
/// header: no space, CR/LF, control or non-ASCII character can ride along.
pub(crate) fn is_b64token(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// `expiresIn` arrives as a number (DOKU, Klikoo) or a string (SNAP, NICEPAY).
fn parse_expires_in(v: &Value) -> Option<u64> {
    let secs = match v {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0 && f.fract() == 0.0)
                .map(|f| f as u64)
        })?,
        Value::String(s) => s.trim().parse::<u64>().ok()?,
        _ => return None,
    };
    (1..=MAX_EXPIRES_IN_S).contains(&secs).then_some(secs)
}

fn scalar_string(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(crate) fn provider_error(
    profile: &Profile,
    response: &Response,
    code: Option<String>,
    message: Option<String>,
    requested_at: DateTime<Utc>,
) -> Error {
    let said = match (&code, &message) {
        (Some(c), Some(m)) => format!(" {} \"{}\"", printable(c), printable(m)),
        (Some(c), None) => format!(" {}", printable(c)),
        (None, Some(m)) => format!(" \"{}\"", printable(m)),
        (None, None) => String::new(),
    };
    let mut err = if (300..400).contains(&response.status) {
        // Redirects are never followed: a token request must not be replayed
        // to wherever a server points.
        let target = response
            .header("Location")
            .map(printable)
            .unwrap_or_default();
        Error::new(
            Status::B2B_PROVIDER,
            format!(
                "{} answered HTTP {} redirect to `{target}`; redirects are not followed",
                profile.name, response.status
            ),
        )
        .with_hint("check base_url and token_path (http vs https, a missing path prefix)")
    } else {
        Error::new(
            Status::B2B_PROVIDER,
            format!(
                "{} refused the token request: HTTP {}{said}",
                profile.name, response.status
            ),
        )
    };
    err.http_status = Some(response.status);
    if err.hint.is_none() {
        err.hint = hint_for(
            profile,
            code.as_deref(),
            message.as_deref(),
            response,
            requested_at,
        );
    }
    err.response_code = code;
    err.response_message = message;
    err
}

/// Provider text quoted in a message.
pub(super) fn printable(s: &str) -> String {
    redact::scrub(s, &[], redact::MAX_QUOTED_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{DOKU, KLIKOO, NICEPAY};
    use crate::token::tests::{resp, t0};

    #[test]
    fn normalises_each_documented_success_shape() {
        let doku = read_response(&DOKU, &resp(200, r#"{"responseCode":"2007300","responseMessage":"Successful","accessToken":"abc","tokenType":"Bearer","expiresIn":900,"additionalInfo":""}"#), t0()).unwrap();
        assert_eq!((doku.expires_in, doku.expires_at), (900, 1_700_000_900));
        assert_eq!(doku.access_token.expose(), "abc");
        let nice = read_response(&NICEPAY, &resp(200, r#"{"responseCode":"2007300","responseMessage":"Successful","accessToken":"xyz","tokenType":"Bearer","expiresIn":"900"}"#), t0()).unwrap();
        assert_eq!(nice.expires_in, 900);
        let kl = read_response(&KLIKOO, &resp(200, r#"{"response_code":"200012000","response_message":"Sukses","data":{"access_token":"jwt","token_type":"Bearer","expires_in":900}}"#), t0()).unwrap();
        assert_eq!(
            (kl.access_token.expose(), kl.response_code.as_deref()),
            ("jwt", Some("200012000"))
        );
    }

    #[test]
    fn the_answer_is_passed_on_whole() {
        // NICEPAY's own spelling of the code fields.
        let e = read_response(
            &NICEPAY,
            &resp(
                401,
                r#"{"responseCd":"4017300","responseMsg":"Unauthorized. Signature"}"#,
            ),
            t0(),
        )
        .unwrap_err();
        assert_eq!(
            (e.response_code.as_deref(), e.response_message.as_deref()),
            (Some("4017300"), Some("Unauthorized. Signature"))
        );
        let ok = read_response(&NICEPAY, &resp(200, r#"{"responseCd":"2007300","responseMsg":"Successful","accessToken":"t","tokenType":"Mac","expiresIn":"900","additionalInfo":{"a":[1,{"b":null}]}}"#), t0()).unwrap();
        assert_eq!(ok.response_code.as_deref(), Some("2007300"));
        // The type as sent, not normalised to "Bearer".
        assert_eq!(ok.token_type, "Mac");
        assert_eq!(
            ok.additional_info,
            Some(serde_json::json!({"a": [1, {"b": null}]}))
        );
        // A NICEPAY failure code under its own name is still a failure.
        let e = read_response(
            &NICEPAY,
            &resp(200, r#"{"responseCd":"4017300","accessToken":"t"}"#),
            t0(),
        )
        .unwrap_err();
        assert_eq!(e.status, Status::B2B_PROVIDER);
        // Beside the token under `data`, or at the top level.
        let kl = read_response(&KLIKOO, &resp(200, r#"{"response_code":"200012000","data":{"access_token":"j","expires_in":9,"additional_info":{"x":1}}}"#), t0()).unwrap();
        assert_eq!(kl.additional_info, Some(serde_json::json!({"x": 1})));
        for (info, expected) in [
            ("\"\"", None),
            ("null", None),
            ("[1]", None),
            ("{}", Some(serde_json::json!({}))),
        ] {
            let body = format!(r#"{{"accessToken":"t","additionalInfo":{info}}}"#);
            assert_eq!(
                read_response(&DOKU, &resp(200, &body), t0())
                    .unwrap()
                    .additional_info,
                expected,
                "{info}"
            );
        }
        // Bounded.
        let big = format!(
            r#"{{"accessToken":"t","additionalInfo":{{"k":"{}"}}}}"#,
            "v".repeat(MAX_ADDITIONAL_INFO_BYTES)
        );
        let e = read_response(&DOKU, &resp(200, &big), t0()).unwrap_err();
        assert_eq!(e.status, Status::B2B_PROTOCOL);
        assert!(e.message.contains("additionalInfo"), "{e}");
    }

    #[test]
    fn classifies_failures() {
        let e = read_response(
            &DOKU,
            &resp(
                401,
                r#"{"responseCode":"4017300","responseMessage":"Unauthorized. Signature"}"#,
            ),
            t0(),
        )
        .unwrap_err();
        assert_eq!(
            (e.status, e.http_status, e.response_code.as_deref()),
            (Status::B2B_PROVIDER, Some(401), Some("4017300"))
        );
        assert!(e.hint.unwrap().contains("public key"));
        let e = read_response(
            &DOKU,
            &resp(
                200,
                r#"{"responseCode":"4017300","responseMessage":"Unauthorized. Signature"}"#,
            ),
            t0(),
        )
        .unwrap_err();
        assert_eq!(e.status, Status::B2B_PROVIDER);
        for body in [
            "<html>",
            r#"{"responseCode":"2007300"}"#,
            r#"{"accessToken":"a","expiresIn":"soon"}"#,
            r#"{"accessToken":"a","expiresIn":-5}"#,
            r#"{"accessToken":12}"#,
            // Zero-width space, CR/LF, space, non-ASCII, `=` inside: never
            // a header value's worth of trust.
            "{\"accessToken\":\"abc\u{200b}def\"}",
            r#"{"accessToken":"abc\r\nX-Injected: 1"}"#,
            r#"{"accessToken":"a b"}"#,
            r#"{"accessToken":"tökén"}"#,
            r#"{"accessToken":"a=b"}"#,
            r#"{"accessToken":"===="}"#,
            r#"{"accessToken":"abc","tokenType":"Bearer\r\nX: 1"}"#,
            r#"{"accessToken":"abc","tokenType":"Bear er"}"#,
        ] {
            assert_eq!(
                read_response(&DOKU, &resp(200, body), t0())
                    .unwrap_err()
                    .status,
                Status::B2B_PROTOCOL,
                "{body}"
            );
        }
        let e = read_response(
            &KLIKOO,
            &resp(200, r#"{"response_code":"200012000","data":null}"#),
            t0(),
        )
        .unwrap_err();
        assert_eq!(e.status, Status::B2B_PROTOCOL);
        let e = read_response(&DOKU, &resp(502, "Bad Gateway"), t0()).unwrap_err();
        assert_eq!((e.status, e.response_code), (Status::B2B_PROVIDER, None));
    }

    #[test]
    fn a_refused_token_is_named_not_echoed_and_b64tokens_pass() {
        let e = read_response(
            &KLIKOO,
            &resp(
                200,
                r#"{"response_code":"200012000","data":{"access_token":"SECRET\u200b"}}"#,
            ),
            t0(),
        )
        .unwrap_err();
        assert_eq!(e.status, Status::B2B_PROTOCOL);
        assert!(e.message.contains("`data.access_token`"), "{}", e.message);
        assert!(!e.message.contains("SECRET"), "{}", e.message);
        let ok = read_response(
            &DOKU,
            &resp(
                200,
                r#"{"accessToken":"eyJ.a-b_c~d+e/f==","tokenType":"bearer"}"#,
            ),
            t0(),
        )
        .unwrap();
        assert_eq!(ok.access_token.expose(), "eyJ.a-b_c~d+e/f==");
    }

    #[test]
    fn a_megabyte_response_message_is_capped_and_printable() {
        let junk = "\\u001b[2J\\r\\nX-Injected: 1".repeat(40_000);
        let body = format!(r#"{{"responseCode":"4017300{junk}","responseMessage":"{junk}"}}"#);
        assert!(body.len() > 1 << 20);
        let e = read_response(&DOKU, &resp(401, &body), t0()).unwrap_err();
        let code = e.response_code.clone().unwrap();
        let message = e.response_message.clone().unwrap();
        assert!(code.starts_with("4017300") && code.chars().count() <= 64);
        assert!(message.chars().count() <= 256);
        for text in [&code, &message, &e.message, &e.to_string()] {
            assert!(!text.chars().any(char::is_control), "{text:?}");
        }
        assert!(e.message.chars().count() <= redact::MAX_MESSAGE_CHARS);
    }

    #[test]
    fn provider_response_code_cannot_break_the_one_line_message() {
        // Regression from fuzzing (token_response target).
        let e = read_response(
            &DOKU,
            &resp(401, r#"{"responseCode":"4017300\nX-Injected: 1","responseMessage":"Unauth\u007forized"}"#),
            t0(),
        )
        .unwrap_err();
        assert!(
            !e.to_string().chars().any(|c| c.is_control()),
            "{:?}",
            e.message
        );
    }
}
