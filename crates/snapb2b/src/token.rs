//! The B2B access-token request: building it from a config and a profile,
//! and reading the provider's answer into one normalised [`Token`].

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::config::{Config, ConfigKind};
use crate::error::{Error, Result, Status};
use crate::keys::PrivateKey;
use crate::provider::{Profile, RequestBody};
use crate::secret::{SecretBuf, SecretBytes, SecretJson, SecretString};
use crate::sign;
use crate::transport::{Limits, Response, Transport};

/// Token lifetimes outside this range are not believable.
const MAX_EXPIRES_IN_S: u64 = 366 * 24 * 3600;
/// Used when a provider omits `expiresIn` (SNAP's standard lifetime).
pub const DEFAULT_EXPIRES_IN_S: u64 = 900;

/// A token as every provider's answer is normalised to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub provider: &'static str,
    pub access_token: SecretString,
    pub token_type: String,
    pub expires_in: u64,
    /// Unix seconds: the request's start plus `expires_in`, so clock time
    /// spent on the round trip counts against the token, not in its favour.
    pub expires_at: i64,
    pub response_code: Option<String>,
    pub response_message: Option<String>,
}

/// The result JSON as `b2b_get_token`, `b2b_client_token` and `snapb2b
/// token` hand it out: these fields, in this order.
#[derive(Serialize)]
struct ResultJson<'a> {
    provider: &'a str,
    access_token: &'a str,
    token_type: &'a str,
    expires_in: u64,
    expires_at: i64,
    response_code: Option<&'a str>,
    response_message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cached: Option<bool>,
}

impl Token {
    /// The result JSON (with `cached` when given), serialised straight into
    /// a buffer that wipes every allocation it outgrows and, when dropped,
    /// its last one: the only form in which the token leaves as JSON.
    pub fn to_json_secret(&self, cached: Option<bool>) -> SecretBytes {
        let view = ResultJson {
            provider: self.provider,
            access_token: self.access_token.expose(),
            token_type: &self.token_type,
            expires_in: self.expires_in,
            expires_at: self.expires_at,
            response_code: self.response_code.as_deref(),
            response_message: self.response_message.as_deref(),
            cached,
        };
        // Room for a token sent without escapes, as providers send them;
        // escapes only make the buffer grow, which still leaves no copy.
        let mut out = SecretBuf::with_capacity(256 + view.access_token.len());
        serde_json::to_writer(&mut out, &view)
            .expect("strings and integers always serialise, and SecretBuf never fails a write");
        SecretBytes::from(out)
    }

    /// Seconds of validity left at `now` (negative once expired).
    pub fn remaining_s(&self, now: i64) -> i64 {
        self.expires_at - now
    }
}

/// A ready-to-send token request.
pub struct TokenRequest {
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    /// Holds Klikoo's client secret.
    pub body: SecretBuf,
    /// The timestamp that was both signed and sent.
    pub timestamp: String,
}

/// Builds the request: one timestamp, formatted once, used for the header and
/// the signature alike.
pub fn build_request(
    config: &Config,
    key: &PrivateKey,
    now: DateTime<Utc>,
) -> Result<TokenRequest> {
    let profile = config.profile;
    let timestamp = config.timestamp_style.format(now);
    let signature = sign::b2b_signature(key, &config.client_id, &timestamp)?;
    let mut headers = vec![(profile.timestamp_header, timestamp.clone())];
    if let Some(client_key) = profile.client_key_header {
        headers.push((client_key, config.client_id.clone()));
    }
    headers.push((profile.signature_header, signature));
    let body = SecretJson(match profile.body {
        RequestBody::Snap { additional_info } => {
            let mut body = json!({"grantType": "client_credentials"});
            if additional_info {
                body["additionalInfo"] = json!({});
            }
            body
        }
        RequestBody::SnakeCaseWithCredentials => json!({
            "grant_type": "client_credentials",
            "additional_info": {
                "client_id": config.client_id,
                "client_secret": config.client_secret.as_ref().map(|s| s.expose()).unwrap_or(""),
            }
        }),
    });
    // `serde_json::to_vec` would leave a copy of the secret behind each time
    // its Vec reallocated.
    let body = body
        .to_secret_buf()
        .map_err(|e| Error::new(Status::B2B_INTERNAL, e.to_string()))?;
    Ok(TokenRequest {
        url: config.token_url(),
        headers,
        body,
        timestamp,
    })
}

/// Sends the request and reads the answer.
/// `timeout` is this request's budget: `config.timeout` for one request, what
/// is left of it for a retry.
pub fn fetch(
    config: &Config,
    key: &PrivateKey,
    transport: &mut Transport,
    timeout: std::time::Duration,
) -> Result<Token> {
    let started = Utc::now();
    let request = build_request(config, key, started)?;
    let limits = Limits {
        timeout,
        connect_timeout: config.connect_timeout.min(timeout),
        ca_file: config.ca_file.clone(),
    };
    let response = transport.post_json(&request.url, &request.headers, &request.body, &limits)?;
    read_response(config.profile, &response, started)
}

/// One-shot: parse the config, sign, request, normalise.
pub fn get_token(config_json: &str) -> Result<Token> {
    let config = Config::parse(config_json, ConfigKind::OneShot)?;
    let key = config.load_key_cached()?;
    fetch(&config, &key, &mut Transport::new(), config.timeout)
}

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
    let code = parsed.and_then(|m| scalar_string(m.get(fields.response_code)));
    let message = parsed.and_then(|m| scalar_string(m.get(fields.response_message)));

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
        if !c.starts_with(profile.success_code_prefix) {
            return Err(provider_error(
                profile,
                response,
                code,
                message,
                requested_at,
            ));
        }
    }
    let data = match fields.data {
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
    let token_field = match fields.data {
        Some(d) => format!("{d}.{}", fields.access_token),
        None => fields.access_token.to_string(),
    };
    let access_token = match data.get(fields.access_token) {
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
    if access_token
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(protocol(format!(
            "`{token_field}` in {}'s response contains whitespace or control characters",
            profile.name
        )));
    }
    let token_type =
        scalar_string(data.get(fields.token_type)).unwrap_or_else(|| "Bearer".to_string());
    let expires_in = match data.get(fields.expires_in) {
        None | Some(Value::Null) => DEFAULT_EXPIRES_IN_S,
        Some(v) => parse_expires_in(v).ok_or_else(|| {
            protocol(format!(
                "`{}` in {}'s response is not a number of seconds between 1 and {MAX_EXPIRES_IN_S}",
                fields.expires_in, profile.name
            ))
        })?,
    };
    Ok(Token {
        provider: profile.name,
        access_token: SecretString::from(access_token.as_str()),
        token_type,
        expires_in,
        expires_at: requested_at.timestamp() + expires_in as i64,
        response_code: code,
        response_message: message,
    })
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

fn provider_error(
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
        err.hint = hint_for(code.as_deref(), message.as_deref(), response, requested_at);
    }
    err.response_code = code;
    err.response_message = message;
    err
}

/// Provider text in a one-line message: control characters dropped, length
/// bounded.
fn printable(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// The most common field mistakes, recognised from the provider's answer.
fn hint_for(
    code: Option<&str>,
    message: Option<&str>,
    response: &Response,
    requested_at: DateTime<Utc>,
) -> Option<String> {
    let message = message.unwrap_or("").to_ascii_lowercase();
    if response.status == 429 {
        let after = response
            .header("Retry-After")
            .map(printable)
            .filter(|s| !s.is_empty() && s.len() <= 40);
        return Some(match after {
            Some(a) if a.chars().all(|c| c.is_ascii_digit()) => format!(
                "rate limited: the provider asks to wait {a} s (Retry-After); reuse tokens with b2b_client_* instead of fetching per request"
            ),
            Some(a) => format!(
                "rate limited: the provider asks to wait until {a} (Retry-After); reuse tokens with b2b_client_* instead of fetching per request"
            ),
            None => "rate limited: reuse tokens with b2b_client_* instead of fetching one per request".to_string(),
        });
    }
    let code = code.unwrap_or("");
    let unauthorized = code.starts_with("401");
    // 4007301 (SNAP) / 400012001 (Klikoo): invalid field format.
    let bad_timestamp_format =
        code.starts_with("400") && code.ends_with("01") && message.contains("timestamp");
    let specific = if unauthorized && message.contains("unknown client") {
        Some("client_id is not registered with this provider in this environment (sandbox and production ids differ)")
    } else if unauthorized && message.contains("signature") {
        Some("the provider could not verify X-SIGNATURE: check that the public key registered with it matches private_key")
    } else if unauthorized && message.contains("timestamp") {
        Some("the provider rejected the timestamp: check the server clock and timezone")
    } else if bad_timestamp_format {
        Some("the provider could not read the timestamp: check timestamp_style")
    } else {
        None
    };
    // The clock matters only where a refusal could come from it: elsewhere
    // (an unknown client, a 500) an offset would be a false lead.
    let clock_related = bad_timestamp_format
        || (unauthorized && (message.contains("signature") || message.contains("timestamp")));
    let offset = clock_related
        .then(|| provider_clock_offset(response, requested_at))
        .flatten();
    match (specific, offset) {
        (specific, None) => specific.map(str::to_string),
        (None, Some(offset)) => Some(clock_hint(offset)),
        // The likelier cause first: a large offset, else the provider's reason.
        (Some(s), Some(offset)) if offset.abs() >= CLOCK_OFF_S => {
            Some(format!("{}; {s}", clock_hint(offset)))
        }
        (Some(s), Some(offset)) => Some(format!("{s}; {}", clock_hint(offset))),
    }
}

/// An offset from the provider's clock this large is a clock or timezone
/// error, not network delay.
const CLOCK_OFF_S: i64 = 120;
/// Offsets up to this are delay and header rounding; no provider refuses them.
const CLOCK_FINE_S: i64 = 30;

/// What the measured offset (provider minus ours, in seconds) means.
fn clock_hint(offset: i64) -> String {
    let abs = offset.abs();
    let direction = if offset < 0 { "ahead of" } else { "behind" };
    if abs <= CLOCK_FINE_S {
        format!("provider clock offset {offset:+} s: not the cause")
    } else if abs < CLOCK_OFF_S {
        format!("your clock is {abs} s {direction} the provider's (check NTP)")
    } else {
        let hours = abs as f64 / 3600.0;
        let amount = if hours >= 1.0 {
            format!("{:.0} h", hours)
        } else {
            format!("{} min", abs / 60)
        };
        format!("your clock is {amount} {direction} the provider's (check the timezone and NTP)")
    }
}

/// Provider clock minus ours, in seconds, from `X-TIMESTAMP` or `Date`.
fn provider_clock_offset(response: &Response, requested_at: DateTime<Utc>) -> Option<i64> {
    let theirs = response
        .header("X-TIMESTAMP")
        .and_then(crate::timestamp::parse)
        .or_else(|| {
            response
                .header("Date")
                .and_then(|d| DateTime::parse_from_rfc2822(d).ok())
        })?;
    Some(theirs.timestamp() - requested_at.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{DOKU, KLIKOO, NICEPAY};

    fn resp(status: u32, body: &str) -> Response {
        Response {
            status,
            headers: vec![],
            body: body.as_bytes().into(),
        }
    }

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap()
    }

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
    fn rate_limits_name_retry_after() {
        let mut r = resp(
            429,
            r#"{"responseCode":"4297300","responseMessage":"Too Many Requests"}"#,
        );
        r.headers.push(("Retry-After".into(), "7".into()));
        let e = read_response(&DOKU, &r, t0()).unwrap_err();
        assert_eq!((e.status, e.http_status), (Status::B2B_PROVIDER, Some(429)));
        assert!(
            e.hint.as_deref().unwrap().contains("wait 7 s"),
            "{:?}",
            e.hint
        );
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

    #[test]
    fn result_json_keeps_its_field_order_and_escapes_what_it_must() {
        let mut t = read_response(&NICEPAY, &resp(200, r#"{"responseCode":"2007300","responseMessage":"Succ\"ess\\ful\n\u0001","accessToken":"tok-1","tokenType":"Bearer","expiresIn":"900"}"#), t0()).unwrap();
        // read_response refuses control characters in a token; a Token
        // built in Rust may still hold them.
        t.access_token = SecretString::from("a\"b\\c\t\u{1f}");
        assert_eq!(
            std::str::from_utf8(&t.to_json_secret(None)).unwrap(),
            r#"{"provider":"nicepay","access_token":"a\"b\\c\t\u001f","token_type":"Bearer","expires_in":900,"expires_at":1700000900,"response_code":"2007300","response_message":"Succ\"ess\\ful\n\u0001"}"#
        );
        t.response_code = None;
        let bytes = t.to_json_secret(Some(true));
        assert!(bytes.ends_with(
            br#","response_code":null,"response_message":"Succ\"ess\\ful\n\u0001","cached":true}"#
        ));
        let back: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back["access_token"], "a\"b\\c\t\u{1f}");
        assert_eq!(back["response_message"], "Succ\"ess\\ful\n\u{1}");
        assert_eq!(back["cached"], true);
        let b: Value = serde_json::from_slice(&t.to_json_secret(Some(false))).unwrap();
        assert_eq!(b["cached"], false);
    }

    fn hint(
        status: u32,
        code: &str,
        message: &str,
        header: Option<(&str, String)>,
    ) -> Option<String> {
        let mut r = resp(
            status,
            &json!({"responseCode": code, "responseMessage": message}).to_string(),
        );
        r.headers.extend(header.map(|(n, v)| (n.to_string(), v)));
        read_response(&DOKU, &r, t0()).unwrap_err().hint
    }

    /// `X-TIMESTAMP` for the provider's clock at t0 + `offset_s`, in WIB.
    fn their_clock(offset_s: i64) -> Option<(&'static str, String)> {
        let at = t0() + chrono::Duration::seconds(offset_s);
        Some((
            "X-TIMESTAMP",
            crate::timestamp::TimestampStyle::Wib.format(at),
        ))
    }

    const SIGNATURE_HINT: &str = "the provider could not verify X-SIGNATURE: check that the public key registered with it matches private_key";
    const TIMESTAMP_HINT: &str =
        "the provider rejected the timestamp: check the server clock and timezone";

    #[test]
    fn large_clock_offset_leads_a_timestamp_refusal_hint() {
        let mut r = resp(
            401,
            r#"{"responseCode":"4017300","responseMessage":"Unauthorized. Stale Timestamp"}"#,
        );
        r.headers
            .push(("X-TIMESTAMP".into(), "2023-11-14T22:13:20+07:00".into())); // provider is t0 - 7 h
        let e = read_response(&DOKU, &r, t0()).unwrap_err();
        assert_eq!(
            e.hint.as_deref(),
            Some(
                "your clock is 7 h ahead of the provider's (check the timezone and NTP); \
                 the provider rejected the timestamp: check the server clock and timezone"
            )
        );
        // From `Date` too, and in minutes under an hour.
        let date = (t0() + chrono::Duration::minutes(5)).to_rfc2822();
        assert_eq!(
            hint(401, "4017300", "Unauthorized. Signature", Some(("Date", date))).as_deref(),
            Some(format!("your clock is 5 min behind the provider's (check the timezone and NTP); {SIGNATURE_HINT}").as_str())
        );
    }

    #[test]
    fn small_clock_offset_is_stated_after_the_refusals_hint() {
        assert_eq!(
            hint(401, "4017300", "Unauthorized. Signature", their_clock(3)).as_deref(),
            Some(format!("{SIGNATURE_HINT}; provider clock offset +3 s: not the cause").as_str())
        );
        assert_eq!(
            hint(
                401,
                "4017300",
                "Unauthorized. Stale Timestamp",
                their_clock(-75)
            )
            .as_deref(),
            Some(
                format!("{TIMESTAMP_HINT}; your clock is 75 s ahead of the provider's (check NTP)")
                    .as_str()
            )
        );
        // Without a Date or X-TIMESTAMP header nothing is measured.
        assert_eq!(
            hint(401, "4017300", "Unauthorized. Signature", None).as_deref(),
            Some(SIGNATURE_HINT)
        );
    }

    #[test]
    fn invalid_timestamp_format_gets_a_format_and_clock_hint() {
        assert_eq!(
            hint(400, "4007301", "Invalid Field Format X-TIMESTAMP", their_clock(0)).as_deref(),
            Some("the provider could not read the timestamp: check timestamp_style; provider clock offset +0 s: not the cause")
        );
        let e = read_response(
            &KLIKOO,
            &resp(
                400,
                r#"{"response_code":"400012001","response_message":"Invalid Field Format Open-Api-Timestamp"}"#,
            ),
            t0(),
        )
        .unwrap_err();
        assert!(e.hint.unwrap().contains("timestamp_style"));
        // Another field's format says nothing about clocks.
        assert_eq!(
            hint(
                400,
                "4007301",
                "Invalid Field Format grantType",
                their_clock(7 * 3600)
            ),
            None
        );
    }

    #[test]
    fn clock_offset_is_left_out_where_it_cannot_be_the_cause() {
        let far = || their_clock(-7 * 3600);
        assert_eq!(
            hint(401, "4017300", "Unauthorized. Unknown Client", far()).as_deref(),
            Some("client_id is not registered with this provider in this environment (sandbox and production ids differ)")
        );
        assert_eq!(hint(500, "5007300", "General Error", far()), None);
        assert_eq!(hint(401, "4017300", "Unauthorized", far()), None);
        // A 429 keeps its Retry-After hint alone.
        let h = hint(429, "4297300", "Too Many Requests", far()).unwrap();
        assert!(h.starts_with("rate limited") && !h.contains("clock"), "{h}");
    }
}
