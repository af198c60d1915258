//! Hints for the operator, drawn from a provider's refusal: the common field
//! mistakes, rate limits, and how far the provider's clock is from ours.

use chrono::{DateTime, Utc};

use super::response::printable;
use crate::provider::{code_matches, HintKind, Profile};
use crate::transport::Response;

/// The most common field mistakes, recognised from the provider's answer
/// by the profile's own codes and words, then the common ones.
pub(super) fn hint_for(
    profile: &Profile,
    code: Option<&str>,
    message: Option<&str>,
    response: &Response,
    requested_at: DateTime<Utc>,
) -> Option<String> {
    let message = message.unwrap_or("").to_lowercase();
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
    let kind = profile
        .hint_rules()
        .find(|r| {
            r.code.as_deref().is_none_or(|p| code_matches(p, code))
                && r.words.iter().all(|w| message.contains(w.as_ref()))
        })
        .map(|r| r.kind);
    let specific = kind.map(|k| text(k, profile));
    // The clock matters only where a refusal could come from it: elsewhere
    // (an unknown client, a 500) an offset would be a false lead.
    let clock_related = matches!(
        kind,
        Some(HintKind::Signature | HintKind::Timestamp | HintKind::TimestampFormat)
    );
    let offset = clock_related
        .then(|| provider_clock_offset(profile, response, requested_at))
        .flatten();
    match (specific, offset) {
        (specific, None) => specific,
        (None, Some(offset)) => Some(clock_hint(offset)),
        // The likelier cause first: a large offset, else the provider's reason.
        (Some(s), Some(offset)) if offset.abs() >= CLOCK_OFF_S => {
            Some(format!("{}; {s}", clock_hint(offset)))
        }
        (Some(s), Some(offset)) => Some(format!("{s}; {}", clock_hint(offset))),
    }
}

/// What each kind of refusal asks the operator to check.
fn text(kind: HintKind, profile: &Profile) -> String {
    match kind {
        HintKind::UnknownClient => "client_id is not registered with this provider in this environment (sandbox and production ids differ)".into(),
        HintKind::Signature => format!(
            "the provider could not verify {}: check that the public key registered with it matches private_key",
            profile.signature_header
        ),
        HintKind::Timestamp => {
            "the provider rejected the timestamp: check the server clock and timezone".into()
        }
        HintKind::TimestampFormat => {
            "the provider could not read the timestamp: check timestamp_style".into()
        }
        HintKind::Credentials => "the provider refused the credentials: check client_id and client_secret for this environment (sandbox and production differ)".into(),
        HintKind::ClientIdFormat => "client_id is not in the form the provider issues (e.g. a UUID): copy it again from the provider's portal".into(),
        HintKind::GrantType => "the provider refused the grant type: check the profile's body.grant_type_key (grantType or grant_type)".into(),
        HintKind::IpNotAllowed => "the provider does not accept requests from this IP address: ask it to whitelist your server's outgoing IP".into(),
        HintKind::InvalidToken => "the provider refused the access token: fetch a new one (b2b_client_* renews it once by itself)".into(),
        HintKind::ExpiredToken => "the access token has expired: fetch a new one (b2b_client_* renews it once by itself)".into(),
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

/// Provider clock minus ours, in seconds, from its timestamp header
/// (`X-TIMESTAMP`, or the profile's) or `Date`.
fn provider_clock_offset(
    profile: &Profile,
    response: &Response,
    requested_at: DateTime<Utc>,
) -> Option<i64> {
    let theirs = response
        .header(&profile.timestamp_header)
        .or_else(|| response.header("X-TIMESTAMP"))
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
    use serde_json::json;

    use crate::provider::{DOKU, KLIKOO};
    use crate::token::read_response;
    use crate::token::tests::{resp, t0};
    use crate::Status;

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
            )
            .as_deref(),
            Some("the provider refused the grant type: check the profile's body.grant_type_key (grantType or grant_type)")
        );
    }

    /// Klikoo's documented token-endpoint codes, each with its hint; the
    /// code alone is enough (the message may be anything).
    #[test]
    fn klikoo_codes_point_to_their_mistakes() {
        for (status, code, needle) in [
            (400, "400016505", "rejected the timestamp"),
            (400, "400016508", "could not verify Open-Api-Signature"),
            (400, "400016568", "client_id is not in the form"),
            (400, "400016569", "grant type"),
            (401, "401016570", "client_id and client_secret"),
            (403, "403016571", "whitelist"),
            (401, "401246500", "refused the access token"),
            (401, "401246535", "has expired"),
        ] {
            let r = resp(
                status,
                &json!({"response_code": code, "response_message": "x"}).to_string(),
            );
            let h = read_response(&KLIKOO, &r, t0())
                .unwrap_err()
                .hint
                .unwrap_or_default();
            assert!(h.contains(needle), "{code}: {h}");
        }
        // Words alone, in Indonesian, for a provider with no code table.
        for (message, needle) in [
            ("Signature tidak sesuai", "could not verify X-SIGNATURE"),
            ("Waktu tidak sesuai", "rejected the timestamp"),
            ("Kredensial tidak sesuai", "client_secret"),
            ("IP tidak ada di dalam whitelist", "whitelist"),
        ] {
            let status = if message.starts_with("IP") { 403 } else { 400 };
            let h = hint(status, &format!("{status}7300"), message, None).unwrap_or_default();
            assert!(h.contains(needle), "{message}: {h}");
        }
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
