//! What of a user-supplied string may appear in a message.
//!
//! Anything typed into a config or on a command line may be a secret pasted
//! in the wrong place, and messages end up in logs. So a string is echoed
//! only when it cannot be one, control characters never (a newline would let
//! it forge a log line), and otherwise a placeholder says it was withheld.
//! The library and the CLI both use these rules; there is no second copy.

use std::path::Path;

/// Longest value echoed: words like `ovo`, `staging`, `--kye`; a random
/// secret is usually longer.
const MAX_VALUE_LEN: usize = 24;
/// Longest config key name echoed (the real ones are under 25 bytes).
const MAX_KEY_NAME_LEN: usize = 40;
/// Longest path echoed; anything longer is text, not a path.
const MAX_PATH_LEN: usize = 1024;
/// Longest whole message or hint: a log line, not a document.
pub const MAX_MESSAGE_CHARS: usize = 2048;
/// Longest piece of outside text (a provider's words) quoted in a message.
pub const MAX_QUOTED_CHARS: usize = 512;
/// Longest `response_code` kept (SNAP's are 7 digits, Klikoo's 9).
pub const MAX_RESPONSE_CODE_CHARS: usize = 64;
/// Longest `response_message` kept.
pub const MAX_RESPONSE_MESSAGE_CHARS: usize = 256;
/// What stands where a secret or URL credentials were.
const WITHHELD: &str = "***";

/// Outside text (a provider's answer, a URL, an OS or curl message) made
/// fit for a one-line message: each of `secrets` removed wherever it occurs
/// (a provider may echo the request body), URL userinfo hidden, control
/// characters dropped (a newline would forge a log line), at most `max`
/// characters. The one scrubber: every message built from outside text, and
/// every error on its way out, goes through it.
pub fn scrub(text: &str, secrets: &[&str], max: usize) -> String {
    let mut out: String = text.chars().filter(|c| !c.is_control()).collect();
    for secret in secrets {
        // Compared without control characters on both sides, so a secret
        // cannot survive by having one dropped out of its middle.
        let bare: String = secret.chars().filter(|c| !c.is_control()).collect();
        // As sent in a JSON body, too (`"` and `\` arrive escaped).
        let escaped = serde_json::to_string(&bare).unwrap_or_default();
        let escaped = &escaped[1..escaped.len().saturating_sub(1).max(1)];
        for form in [bare.as_str(), escaped] {
            if !form.is_empty() && out.contains(form) {
                out = out.replace(form, WITHHELD);
            }
        }
    }
    out = hide_userinfo(&out);
    if out.chars().count() > max {
        out = out.chars().take(max.saturating_sub(3)).collect();
        out.push_str("...");
    }
    out
}

/// A URL as it may be shown: credentials, whatever characters the password
/// holds (`https://admin:pa/ss@host`), become `***`.
pub fn url(u: &str) -> String {
    hide_userinfo(u)
}

/// Everything between a `://` and the last `@` of the word it starts
/// (words end at whitespace or quotes): a password may hold `/`, `:`, `?`
/// or `#`, so RFC 3986's authority rules would leave part of it showing.
fn hide_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let word_end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>'))
            .unwrap_or(tail.len());
        match tail[..word_end].rfind('@') {
            Some(userinfo_end) => {
                out.push_str(WITHHELD);
                rest = &tail[userinfo_end..];
            }
            None => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

/// A configured or typed value (provider, environment, style, PEM label,
/// option name): shown when short and of one letter case, from
/// `[a-z0-9_-./=]` or `[A-Z0-9_-./= ]`. Mixed case with digits looks like
/// base64, a lower-case phrase with spaces like a passphrase; upper-case
/// words with spaces are PEM labels (`EC PRIVATE KEY`).
pub fn value(s: &str) -> String {
    let punct = |c: char| matches!(c, '_' | '-' | '.' | '/' | '=');
    let lower = s
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || punct(c));
    let upper = s
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || punct(c) || c == ' ');
    quoted_if(
        s,
        s.len() <= MAX_VALUE_LEN && (lower || upper),
        "(value not shown)",
    )
}

/// A config key name (unknown or repeated): shown when short and printable
/// ASCII without spaces; a key name can be a pasted key or secret too.
pub fn key_name(s: &str) -> String {
    let printable = s.chars().all(|c| c.is_ascii_graphic());
    quoted_if(
        s,
        s.len() <= MAX_KEY_NAME_LEN && printable && !looks_like_key_text(s),
        "(key name not shown)",
    )
}

/// A configured or typed path: shown (unquoted) unless it looks like key
/// text pasted into a path setting.
pub fn path(p: &Path) -> String {
    if path_is_shown(p) {
        p.to_string_lossy().into_owned()
    } else {
        "(path not shown: it looks like key text, not a path)".to_string()
    }
}

/// Whether [`path`] shows `p`, for callers that add a hint when it does not.
pub fn path_is_shown(p: &Path) -> bool {
    let s = p.to_string_lossy();
    s.len() <= MAX_PATH_LEN && !looks_like_key_text(&s)
}

/// PEM armour or a line break: the marks of key text. Control characters
/// are refused with it, as no shown string may carry one.
fn looks_like_key_text(s: &str) -> bool {
    s.contains("-----") || s.chars().any(char::is_control)
}

fn quoted_if(s: &str, shown: bool, placeholder: &str) -> String {
    if shown && !s.is_empty() && !s.chars().any(char::is_control) {
        format!("`{s}`")
    } else {
        placeholder.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEM: &str =
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----";

    #[test]
    fn values_show_plain_words_only() {
        for shown in [
            "ovo",
            "staging",
            "EC PRIVATE KEY",
            "--kye",
            "utc_ms",
            "a.json",
        ] {
            assert_eq!(value(shown), format!("`{shown}`"));
        }
        for hidden in [
            "",
            "a b",
            "MIIEvQIBADANBg",
            "hunter2\n",
            "x\u{7f}",
            "0123456789abcdef0123456789",
            PEM,
            "é",
        ] {
            assert_eq!(value(hidden), "(value not shown)", "{hidden:?}");
        }
    }

    #[test]
    fn key_names_show_short_printable_names_only() {
        assert_eq!(key_name("timeuot_ms"), "`timeuot_ms`");
        assert_eq!(key_name("privateKey"), "`privateKey`");
        for hidden in ["a\nb", "a b", PEM, "-----BEGIN", &"k".repeat(41), ""] {
            assert_eq!(key_name(hidden), "(key name not shown)", "{hidden:?}");
        }
    }

    #[test]
    fn scrub_removes_secrets_userinfo_and_control_characters_and_caps() {
        let s = scrub(
            "echo {\"client_secret\":\"s3cr\\\"et\"} at https://admin:pa/ss@host/x\r\nX-Injected: 1\u{1b}[31m",
            &["s3cr\"et", ""],
            MAX_MESSAGE_CHARS,
        );
        assert_eq!(
            s,
            "echo {\"client_secret\":\"***\"} at https://***@host/xX-Injected: 1[31m"
        );
        assert_eq!(url("https://u:p@a@h:1/p @x"), "https://***@h:1/p @x");
        assert_eq!(url("http://host/a"), "http://host/a");
        let long = scrub(&"\u{1b}é".repeat(1 << 20), &[], 256);
        assert_eq!(long.chars().count(), 256);
        assert!(!long.chars().any(char::is_control));
    }

    #[test]
    fn paths_show_unless_they_look_like_key_text() {
        assert_eq!(
            path(Path::new("/etc/my app/key.pem")),
            "/etc/my app/key.pem"
        );
        for hidden in [PEM, "/tmp/a\nb", &"/x".repeat(600)] {
            assert!(!path_is_shown(Path::new(hidden)), "{hidden:?}");
            assert!(path(Path::new(hidden)).starts_with("(path not shown"));
        }
    }
}
