//! DER diagnosis: when a key does not parse, which form it is in (read from
//! its outer ASN.1 shape), so the error can say what is wrong or missing.

use crate::error::{openssl_reason, Error};

/// The outer ASN.1 shape of a DER blob, read from its first fields: enough
/// to say which form a key that did not parse is in.
#[derive(Debug, PartialEq)]
enum DerShape {
    /// SEQUENCE { INTEGER version, SEQUENCE algorithm, ... }
    Pkcs8,
    /// SEQUENCE { SEQUENCE algorithm, OCTET STRING }
    EncryptedPkcs8,
    /// SEQUENCE { INTEGER 0, INTEGER modulus, ... }
    Pkcs1Private,
    /// SEQUENCE { SEQUENCE algorithm, BIT STRING } or SEQUENCE { INTEGER, INTEGER }
    Public,
    /// SEQUENCE { SEQUENCE tbsCertificate, SEQUENCE algorithm, BIT STRING }
    Certificate,
    Unknown,
}

/// (tag, contents) of the DER element at the start of `der`, and what
/// follows it. With `truncated_ok`, contents shorter than declared are
/// returned as they are (a cut-off key still shows its first fields).
fn der_element(der: &[u8], truncated_ok: bool) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = der.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |l, &b| (l << 8) | usize::from(b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return truncated_ok.then_some((tag, rest, &[][..]));
    }
    Some((tag, &rest[..len], &rest[len..]))
}

fn der_shape(der: &[u8]) -> DerShape {
    const SEQUENCE: u8 = 0x30;
    const INTEGER: u8 = 0x02;
    const BIT_STRING: u8 = 0x03;
    const OCTET_STRING: u8 = 0x04;
    let Some((SEQUENCE, body, _)) = der_element(der, true) else {
        return DerShape::Unknown;
    };
    let Some((t1, v1, rest)) = der_element(body, false) else {
        return DerShape::Unknown;
    };
    let Some((t2, _, rest)) = der_element(rest, true) else {
        return DerShape::Unknown;
    };
    let t3 = der_element(rest, true).map(|(t, _, _)| t);
    match (t1, t2, t3) {
        (INTEGER, SEQUENCE, _) => DerShape::Pkcs8,
        (INTEGER, INTEGER, Some(INTEGER)) if v1 == [0] => DerShape::Pkcs1Private,
        (INTEGER, INTEGER, None) => DerShape::Public,
        (SEQUENCE, OCTET_STRING, None) => DerShape::EncryptedPkcs8,
        (SEQUENCE, BIT_STRING, None) => DerShape::Public,
        (SEQUENCE, SEQUENCE, Some(BIT_STRING)) => DerShape::Certificate,
        _ => DerShape::Unknown,
    }
}

/// Why a private key's DER did not parse, by the form it turns out to be in
/// (or every form tried, when it is none of them).
pub(super) fn explain_der(
    der: &[u8],
    what: &str,
    passphrase: Option<&str>,
    err: &openssl::error::ErrorStack,
) -> Error {
    let reason = openssl_reason(err);
    match der_shape(der) {
        DerShape::EncryptedPkcs8 => match passphrase.filter(|p| !p.is_empty()) {
            None => Error::key(format!(
                "{what} is an encrypted PKCS#8 key: private_key_passphrase is required"
            )),
            Some(_) => Error::key(format!(
                "{what} is an encrypted PKCS#8 key that could not be decrypted: wrong private_key_passphrase or damaged key"
            )),
        },
        DerShape::Pkcs8 => Error::key(format!(
            "{what} has the shape of a PKCS#8 private key but does not parse (damaged or truncated?): {reason}"
        )),
        DerShape::Pkcs1Private => Error::key(format!(
            "{what} has the shape of a PKCS#1 RSA private key but does not parse (damaged or truncated?): {reason}"
        )),
        DerShape::Public => Error::key(format!(
            "{what} is a public key: signing needs the merchant's private key"
        )),
        DerShape::Certificate => Error::key(format!(
            "{what} is a certificate: signing needs the merchant's private key"
        )),
        DerShape::Unknown => Error::key(format!(
            "{what}: the decoded bytes are none of the accepted forms: not PKCS#8 (PrivateKeyInfo), not encrypted PKCS#8, not PKCS#1 (RSAPrivateKey) ({reason})"
        )),
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use openssl::pkey::PKey;
    use openssl::rsa::Rsa;

    use super::*;
    use crate::keys::PrivateKey;

    #[test]
    fn der_errors_name_the_form_and_what_is_missing() {
        use openssl::symm::Cipher;
        let rsa = Rsa::generate(2048).unwrap();
        let pkey = PKey::from_rsa(rsa.clone()).unwrap();
        let b64 = |der: Vec<u8>| base64::engine::general_purpose::STANDARD.encode(der);
        let pkcs8 = pkey.private_key_to_pkcs8().unwrap();
        let pkcs1 = rsa.private_key_to_der().unwrap();
        let encrypted = pkey
            .private_key_to_pkcs8_passphrase(Cipher::aes_256_cbc(), b"open sesame")
            .unwrap();
        let spki = pkey.public_key_to_der().unwrap();
        let shape = |der: &[u8]| der_shape(der);
        assert_eq!(shape(&pkcs8), DerShape::Pkcs8);
        assert_eq!(shape(&pkcs1), DerShape::Pkcs1Private);
        assert_eq!(shape(&encrypted), DerShape::EncryptedPkcs8);
        assert_eq!(shape(&spki), DerShape::Public);
        assert_eq!(
            shape(&rsa.public_key_to_der_pkcs1().unwrap()),
            DerShape::Public
        );
        assert_eq!(shape(b"\x30\x03\x02\x01"), DerShape::Unknown);

        // Bare base64 DER of an encrypted key: the passphrase, said plainly.
        let message =
            |text: &str, pass: Option<&str>| PrivateKey::parse(text, pass).unwrap_err().message;
        let m = message(&b64(encrypted.clone()), None);
        assert!(
            m.contains("encrypted PKCS#8") && m.contains("private_key_passphrase is required"),
            "{m}"
        );
        let m = message(&b64(encrypted.clone()), Some("wrong"));
        assert!(m.contains("wrong private_key_passphrase"), "{m}");
        assert!(PrivateKey::parse(&b64(encrypted), Some("open sesame")).is_ok());

        // Damaged keys: the form they have, and that they do not parse.
        let truncated = |der: &[u8]| b64(der[..der.len() / 2].to_vec());
        let m = message(&truncated(&pkcs8), None);
        assert!(m.contains("PKCS#8") && m.contains("does not parse"), "{m}");
        let m = message(&truncated(&pkcs1), None);
        assert!(m.contains("PKCS#1") && m.contains("does not parse"), "{m}");
        let m = message(&b64(spki), None);
        assert!(m.contains("public key"), "{m}");
        let m = message(&b64(b"not DER at all".to_vec()), None);
        assert!(m.contains("not PKCS#8") && m.contains("not PKCS#1"), "{m}");

        // A PKCS#1 body under a PKCS#8 label is still the key.
        let relabelled = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            b64(pkcs1)
        );
        assert_eq!(PrivateKey::parse(&relabelled, None).unwrap().bits(), 2048);
    }
}
