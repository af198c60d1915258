//! JSON minification as SNAP signatures expect it: insignificant whitespace
//! outside strings removed, and nothing else changed. Key order, number
//! spelling (`1.0e+2` stays `1.0e+2`), string contents and escapes (`\/`,
//! `\u00e9`) are kept byte for byte, which re-serialising with a JSON library
//! would not do.

use serde::de::IgnoredAny;

use crate::error::{Error, Result};

/// Minifies `body`, which must be one valid JSON value.
pub fn minify_json(body: &str) -> Result<String> {
    // Validate first (serde_json is strict RFC 8259), then strip in one pass.
    serde_json::from_str::<IgnoredAny>(body)
        .map_err(|e| Error::invalid_argument(format!("body is not valid JSON: {e}")))?;
    let mut out = String::with_capacity(body.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in body.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            out.push(c);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_everything_but_whitespace_outside_strings() {
        let cases = [
            ("{ \"a\" : 1 }", "{\"a\":1}"),
            ("[1.0e+2, -0.5E-3 ,\n 10]", "[1.0e+2,-0.5E-3,10]"),
            (
                r#"{"url":"http:\/\/x.y/ z","q":"say \"hi\" "}"#,
                r#"{"url":"http:\/\/x.y/ z","q":"say \"hi\" "}"#,
            ),
            ("{\"b\":2,\t\"a\":1}", "{\"b\":2,\"a\":1}"),
            (
                "{\"s\":\"caf\\u00e9 \u{65e5}\\\\\"}",
                "{\"s\":\"caf\\u00e9 \u{65e5}\\\\\"}",
            ),
            (" \"just a string\" ", "\"just a string\""),
            (
                "{\"e\":\"\\\\\",\"f\" : \" \"}",
                "{\"e\":\"\\\\\",\"f\":\" \"}",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(minify_json(input).unwrap(), want, "{input}");
        }
    }

    #[test]
    fn rejects_what_is_not_json() {
        for bad in [
            "",
            "{",
            "{'a':1}",
            "{\"a\":1,}",
            "[1 2]",
            "nul",
            "{\"a\":1} x",
        ] {
            assert_eq!(
                minify_json(bad).unwrap_err().status,
                crate::Status::B2B_INVALID_ARGUMENT,
                "{bad}"
            );
        }
    }
}
