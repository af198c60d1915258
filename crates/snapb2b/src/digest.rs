//! SHA-256 and SHA-512 on OpenSSL's direct hash functions (SHA256_Init/
//! Update/Final). OpenSSL 3's one-shot `SHA256()`/`SHA512()` (what
//! `openssl::sha::sha256` calls) fetch the algorithm from the provider
//! store on every call: locks and hash lookups that cost several times the
//! hashing of a short text, on paths that run per request.

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut hasher = openssl::sha::Sha256::new();
    hasher.update(bytes);
    hasher.finish()
}

/// SHA-512 of `bytes`.
pub fn sha512(bytes: &[u8]) -> [u8; 64] {
    let mut hasher = openssl::sha::Sha512::new();
    hasher.update(bytes);
    hasher.finish()
}

/// Lowercase hex, without a formatter call per byte.
pub fn lower_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_same_digests_as_openssls_one_shot_functions() {
        for data in [&b""[..], b"abc", &[7u8; 1000][..]] {
            assert_eq!(super::sha256(data), openssl::sha::sha256(data));
            assert_eq!(super::sha512(data), openssl::sha::sha512(data));
        }
    }

    #[test]
    fn lower_hex_is_two_lowercase_digits_per_byte() {
        assert_eq!(super::lower_hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
        assert_eq!(super::lower_hex(&[]), "");
    }
}
