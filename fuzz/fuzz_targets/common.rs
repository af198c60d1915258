//! Helpers shared by the fuzz targets (each target includes this file with
//! `mod common;`, so not every helper is used by every target).
#![allow(dead_code)]

/// Splits `data` at the first NUL byte: `(before, Some(after))`, or
/// `(data, None)` when there is none.
pub fn split_nul(data: &[u8]) -> (&[u8], Option<&[u8]>) {
    match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    }
}

/// Splits `data` into at most `n` NUL-separated fields.
pub fn fields(data: &[u8], n: usize) -> Vec<&[u8]> {
    data.splitn(n, |b| *b == 0).collect()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Whether `value` is distinctive enough that finding it inside a message
/// can only mean the message echoed it: at least 8 characters, one of them
/// neither printable ASCII nor a space (library messages are ASCII apart
/// from what they quote).
pub fn distinctive(value: &str) -> bool {
    value.chars().count() >= 8 && value.chars().any(|c| !(c.is_ascii_graphic() || c == ' '))
}

/// The library's rule: no message, hint or echoed provider text carries a
/// secret. Panics (a finding) when `secret` is distinctive and appears in
/// any text of `err`.
pub fn assert_not_echoed(err: &snapb2b::Error, what: &str, secret: &str) {
    if !distinctive(secret) {
        return;
    }
    let texts = [
        Some(err.message.as_str()),
        err.hint.as_deref(),
        err.response_message.as_deref(),
        err.response_code.as_deref(),
    ];
    for t in texts.into_iter().flatten() {
        assert!(
            !t.contains(secret),
            "the error echoes the {what}: {:?}",
            err.message
        );
    }
}

/// `b2b_last_error` is documented as one line: the error's text (message and
/// hint) must hold no line break or other control character.
pub fn assert_one_line(err: &snapb2b::Error) {
    let shown = err.to_string();
    assert!(
        !shown.chars().any(|c| c.is_control()),
        "the error is not one line: {shown:?}"
    );
}
