//! PEM text: undoing the ways key text gets mangled in configuration, and
//! taking the armour apart into a label and a base64 body decoded to DER.

use base64::Engine;

use crate::error::{Error, Result};
use crate::redact;
use crate::secret::{SecretBuf, SecretBytes, SecretString};

/// Undoes the ways keys get mangled on their way through configuration:
/// quotes, literal `\n`, CRLF. One pass into one buffer sized up front (the
/// result is never longer), so no intermediate copy of the key is left
/// unwiped.
pub(super) fn normalize(text: &str) -> SecretString {
    let mut s = text.trim();
    for quote in ['"', '\''] {
        if s.len() >= 2 && s.starts_with(quote) && s.ends_with(quote) {
            s = s[1..s.len() - 1].trim();
        }
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        let skip = ["\\r\\n", "\\n", "\r\n", "\r"]
            .iter()
            .find(|break_| rest.starts_with(*break_))
            .map(|break_| break_.len());
        match skip {
            Some(n) => {
                out.push('\n');
                rest = &rest[n..];
            }
            None => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    SecretString::new(out)
}

/// `base64("-----BEGIN")`'s first 14 characters. Base64 DER always starts
/// with `M` (a DER key is a SEQUENCE, byte 0x30), so text starting with
/// this is a whole PEM base64-encoded (as portals and `.env` files carry
/// keys), never DER.
const BASE64_PEM_PREFIX: &str = "LS0tLS1CRUdJTi";

/// A base64-encoded PEM decoded back to PEM text (normalised), or `None`
/// when `text` is not one. The decoded text lives only in wiping buffers.
pub(super) fn unwrap_base64_pem(text: &str) -> Result<Option<SecretString>> {
    if !text.trim_start().starts_with(BASE64_PEM_PREFIX) {
        return Ok(None);
    }
    let what = "key (base64-encoded PEM)";
    let bytes = decode_base64(text, what)?;
    let pem = std::str::from_utf8(&bytes)
        .map_err(|_| Error::key(format!("{what}: the decoded text is not UTF-8")))?;
    if pem.contains("LS0tLS1CRUdJTi") {
        // Encoded twice: one layer is what portals produce, two is a mistake.
        return Err(Error::key(format!("{what}: encoded more than once")));
    }
    Ok(Some(normalize(pem)))
}

pub(super) struct PemBlock<'a> {
    pub(super) label: &'a str,
    /// Text between the BEGIN and END lines, as given.
    pub(super) body: &'a str,
}

pub(super) const PRIVATE_LABELS: &[&str] =
    &["PRIVATE KEY", "RSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY"];
pub(super) const PUBLIC_LABELS: &[&str] = &["PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE"];

/// One `-----BEGIN X-----` ... `-----END X-----` block, found with or without
/// newlines around the armour.
fn next_pem_block(text: &str) -> Result<Option<(PemBlock<'_>, &str)>> {
    let Some(begin) = text.find("-----BEGIN ") else {
        return Ok(None);
    };
    let after_begin = &text[begin + "-----BEGIN ".len()..];
    let label_end = after_begin
        .find("-----")
        .ok_or_else(|| Error::key("PEM BEGIN line is not closed by -----"))?;
    let label = after_begin[..label_end].trim();
    let rest = &after_begin[label_end + 5..];
    let end = rest.find("-----END ").ok_or_else(|| {
        Error::key(format!(
            "PEM block {} has no END line (is the key truncated?)",
            redact::value(label)
        ))
    })?;
    let after_end = &rest[end + "-----END ".len()..];
    let remaining = after_end.find("-----").map_or("", |i| &after_end[i + 5..]);
    Ok(Some((
        PemBlock {
            label,
            body: &rest[..end],
        },
        remaining,
    )))
}

/// The first block labelled one of `wanted` (files exported from PKCS#12
/// put the certificate before the key), else the first block.
pub(super) fn pem_block<'a>(text: &'a str, wanted: &[&str]) -> Result<PemBlock<'a>> {
    let mut rest = text;
    let mut first = None;
    while let Some((block, remaining)) = next_pem_block(rest)? {
        if wanted.contains(&block.label) {
            return Ok(block);
        }
        first.get_or_insert(block);
        rest = remaining;
    }
    first.ok_or_else(|| Error::key("no PEM BEGIN line found"))
}

pub(super) fn decode_base64(body: &str, what: &str) -> Result<SecretBytes> {
    // Both copies go into wiping buffers sized up front (the compact text is
    // never longer than the body, the DER never longer than the estimate),
    // so no reallocation leaves key material in freed memory, and a body
    // that fails to decode half-way is wiped too.
    let mut compact = SecretBuf::with_capacity(body.len());
    for c in body.chars().filter(|c| !c.is_whitespace()) {
        compact.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
    }
    if compact.is_empty() {
        return Err(Error::key(format!("{what}: the key body is empty")));
    }
    let mut der = SecretBytes::zeroed(base64::decoded_len_estimate(compact.len()));
    let len = base64::engine::general_purpose::STANDARD
        .decode_slice(&compact[..], &mut der)
        .map_err(|_| Error::key(format!("{what}: the key body is not valid base64")))?;
    der.truncate(len);
    Ok(der)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_undoes_every_mangling_in_one_pass() {
        let n = |s: &str| normalize(s).expose().to_string();
        assert_eq!(n("  'a\\nb\\r\\nc\r\nd\re'  "), "a\nb\nc\nd\ne");
        assert_eq!(n("\"é\\n\""), "é\n");
        assert_eq!(n("ab\\"), "ab\\");
    }

    #[test]
    fn base64_pem_is_told_from_base64_der() {
        use base64::engine::general_purpose::STANDARD;
        let pem = "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n";
        let wrapped = STANDARD.encode(pem);
        assert!(wrapped.starts_with(BASE64_PEM_PREFIX));
        assert_eq!(
            unwrap_base64_pem(&wrapped).unwrap().unwrap().expose(),
            pem.trim_end()
        );
        // With line breaks and quotes as an .env file has them.
        let folded = format!("\"{}\n{}\"", &wrapped[..20], &wrapped[20..]);
        let unquoted = normalize(&folded);
        assert_eq!(
            unwrap_base64_pem(unquoted.expose())
                .unwrap()
                .unwrap()
                .expose(),
            pem.trim_end()
        );
        // DER (starting 0x30) is never taken for PEM.
        assert!(unwrap_base64_pem("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC")
            .unwrap()
            .is_none());
        assert!(unwrap_base64_pem(&STANDARD.encode(&wrapped)).is_ok_and(|o| o.is_none()));
        let twice = STANDARD.encode(STANDARD.encode(pem));
        assert!(
            twice.starts_with("TFMw"),
            "twice-encoded is not recognised: {twice}"
        );
        assert!(unwrap_base64_pem(&format!("{BASE64_PEM_PREFIX}!!")).is_err());
    }
}
