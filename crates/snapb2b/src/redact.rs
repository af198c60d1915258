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
