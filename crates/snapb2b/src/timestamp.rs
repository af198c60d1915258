//! SNAP timestamps. The header value and the signed string must be the same
//! string, so callers format once and use the result for both.
//!
//! Times are formatted from UTC with a fixed offset, never from the host's
//! local timezone, which is how libraries end up sending `+07:00` with UTC
//! clock digits.

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};

use crate::error::{Error, Result};

/// How a provider wants `X-TIMESTAMP` written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampStyle {
    /// `2024-12-31T10:11:40+07:00` (Western Indonesia Time, SNAP's usual form)
    Wib,
    /// `2024-12-31T03:11:40Z`
    Utc,
    /// `2024-12-31T03:11:40.123Z`
    UtcMs,
    /// `2024-12-31T10:11:40.123+07:00`
    WibMs,
}

const WIB_OFFSET_S: i32 = 7 * 3600;

impl TimestampStyle {
    pub fn parse(name: &str) -> Result<TimestampStyle> {
        match name {
            "wib" => Ok(TimestampStyle::Wib),
            "utc" => Ok(TimestampStyle::Utc),
            "utc_ms" => Ok(TimestampStyle::UtcMs),
            "wib_ms" => Ok(TimestampStyle::WibMs),
            other => Err(Error::invalid_argument(format!(
                "unknown timestamp style {}: expected wib, utc, utc_ms or wib_ms",
                crate::redact::value(other)
            ))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            TimestampStyle::Wib => "wib",
            TimestampStyle::Utc => "utc",
            TimestampStyle::UtcMs => "utc_ms",
            TimestampStyle::WibMs => "wib_ms",
        }
    }

    pub fn format(self, at: DateTime<Utc>) -> String {
        let wib = FixedOffset::east_opt(WIB_OFFSET_S).expect("valid offset");
        match self {
            TimestampStyle::Wib => at
                .with_timezone(&wib)
                .to_rfc3339_opts(SecondsFormat::Secs, false),
            TimestampStyle::WibMs => at
                .with_timezone(&wib)
                .to_rfc3339_opts(SecondsFormat::Millis, false),
            TimestampStyle::Utc => at.to_rfc3339_opts(SecondsFormat::Secs, true),
            TimestampStyle::UtcMs => at.to_rfc3339_opts(SecondsFormat::Millis, true),
        }
    }

    pub fn now(self) -> String {
        self.format(Utc::now())
    }
}

/// Parses an ISO-8601 timestamp with an explicit offset (`Z` or `±HH:MM`),
/// with or without fractional seconds.
pub fn parse(timestamp: &str) -> Option<DateTime<FixedOffset>> {
    let ts = timestamp.trim();
    // SNAP timestamps always carry a date, `T`, a time and an offset.
    if ts.len() < 20 || ts.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    DateTime::parse_from_rfc3339(ts).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn formats_every_style_from_one_instant() {
        let at = Utc.with_ymd_and_hms(2020, 9, 22, 1, 51, 0).unwrap()
            + chrono::Duration::milliseconds(24);
        assert_eq!(TimestampStyle::Wib.format(at), "2020-09-22T08:51:00+07:00");
        assert_eq!(TimestampStyle::Utc.format(at), "2020-09-22T01:51:00Z");
        assert_eq!(TimestampStyle::UtcMs.format(at), "2020-09-22T01:51:00.024Z");
        assert_eq!(
            TimestampStyle::WibMs.format(at),
            "2020-09-22T08:51:00.024+07:00"
        );
    }

    #[test]
    fn parses_snap_forms_and_rejects_others() {
        assert!(parse("2024-12-31T10:11:40+07:00").is_some());
        assert!(parse("2024-03-01T08:27:49.024Z").is_some());
        assert!(parse("2024-12-31 10:11:40+07:00").is_none());
        assert!(parse("2024-12-31T10:11:40").is_none());
        assert!(parse("yesterday").is_none());
        assert_eq!(TimestampStyle::parse("wib").unwrap(), TimestampStyle::Wib);
        assert!(TimestampStyle::parse("local").is_err());
    }
}
