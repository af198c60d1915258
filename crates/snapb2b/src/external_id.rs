//! `X-EXTERNAL-ID`: the per-day-unique id of one SNAP service call.
//!
//! Providers refuse a repeated id within a day (`409xx00 Conflict`) and many
//! banks accept digits only, so a generated id is decimal digits drawn from
//! the operating system's CSPRNG: 32 digits carry ~106 bits, so a repeat is
//! never the library's doing. It does not start with 0, so systems that
//! store it as a number keep every digit.

use crate::error::{Error, Result};

/// Default length of a generated id.
pub const DEFAULT_LENGTH: usize = 32;
/// SNAP's field is at most 36 characters.
pub const MAX_LENGTH: usize = 36;
/// Below 16 digits (~53 bits) a fleet's ids could start to collide.
pub const MIN_LENGTH: usize = 16;

/// Checks a configured `external_id_length`.
pub fn check_length(length: usize) -> Result<usize> {
    if (MIN_LENGTH..=MAX_LENGTH).contains(&length) {
        Ok(length)
    } else {
        Err(Error::invalid_argument(format!(
            "config key `external_id_length` must be {MIN_LENGTH} to {MAX_LENGTH}"
        )))
    }
}

/// Fills `buf` from the kernel's CSPRNG (getrandom(2)), retrying on EINTR.
fn os_random(buf: &mut [u8]) -> Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        let rest = &mut buf[filled..];
        // SAFETY: `rest` is valid for writes of `rest.len()` bytes.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if n < 0 {
            let err = std::io::Error::last_os_error();
            if err.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(Error::crypto(format!(
                "the operating system's random source failed: {err}"
            )));
        }
        filled += n as usize;
    }
    Ok(())
}

/// A fresh id of `length` decimal digits (checked with [`check_length`]).
pub fn generate(length: usize) -> Result<String> {
    check_length(length)?;
    let mut out = String::with_capacity(length);
    let mut pool = [0u8; 64];
    while out.len() < length {
        os_random(&mut pool)?;
        for &b in &pool {
            // 250 = 25 * 10: bytes at or above it would favour 0..5.
            if b >= 250 {
                continue;
            }
            let digit = b % 10;
            if out.is_empty() && digit == 0 {
                continue;
            }
            out.push(char::from(b'0' + digit));
            if out.len() == length {
                break;
            }
        }
    }
    Ok(out)
}

/// A caller-chosen id is used exactly as given: 1 to 36 printable ASCII
/// characters without spaces (it travels in an HTTP header).
pub fn check_chosen(id: &str) -> Result<&str> {
    let ok = !id.is_empty() && id.len() <= MAX_LENGTH && id.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(id)
    } else {
        Err(Error::invalid_argument(format!(
            "external_id must be 1 to {MAX_LENGTH} printable ASCII characters without spaces"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Status;

    #[test]
    fn generated_ids_are_digits_of_the_asked_length_not_starting_with_zero() {
        for length in [MIN_LENGTH, DEFAULT_LENGTH, MAX_LENGTH] {
            for _ in 0..200 {
                let id = generate(length).unwrap();
                assert_eq!(id.len(), length);
                assert!(id.bytes().all(|b| b.is_ascii_digit()), "{id}");
                assert_ne!(id.as_bytes()[0], b'0', "{id}");
            }
        }
    }

    #[test]
    fn a_million_ids_never_repeat_and_every_digit_is_used_evenly() {
        let mut seen = std::collections::HashSet::with_capacity(1_000_000);
        let mut counts = [0u64; 10];
        for _ in 0..1_000_000 {
            let id = generate(DEFAULT_LENGTH).unwrap();
            for b in id.bytes().skip(1) {
                counts[usize::from(b - b'0')] += 1;
            }
            // 32 digits fit a u128: 16 bytes a entry instead of a String.
            assert!(seen.insert(id.parse::<u128>().unwrap()), "repeat: {id}");
        }
        // 31 million digits after the first: each within 1% of a tenth.
        let total: u64 = counts.iter().sum();
        for (digit, &n) in counts.iter().enumerate() {
            let share = n as f64 / total as f64;
            assert!((share - 0.1).abs() < 0.001, "digit {digit}: {share}");
        }
    }

    #[test]
    fn lengths_outside_16_to_36_are_refused() {
        for bad in [0, 15, 37, 1000] {
            let e = generate(bad).unwrap_err();
            assert_eq!(e.status, Status::B2B_INVALID_ARGUMENT);
            assert!(e.message.contains("16 to 36"), "{}", e.message);
        }
    }

    #[test]
    fn chosen_ids_are_used_as_given_or_refused() {
        assert_eq!(check_chosen("INV-2024/0001").unwrap(), "INV-2024/0001");
        assert_eq!(check_chosen(&"9".repeat(36)).unwrap(), "9".repeat(36));
        for bad in [
            "",
            "has space",
            "tab\there",
            "new\nline",
            "é",
            &"9".repeat(37),
        ] {
            let e = check_chosen(bad).unwrap_err();
            assert_eq!(e.status, Status::B2B_INVALID_ARGUMENT, "{bad:?}");
            assert!(
                !e.message.contains(bad) || bad.is_empty(),
                "echoed: {}",
                e.message
            );
        }
    }
}
