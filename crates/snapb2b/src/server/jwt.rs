//! The access tokens the merchant's token endpoint issues: JWTs (RFC 7519),
//! HS256 with the server's `token_secret`, so other tools can decode them.
//! Written on OpenSSL's HMAC; no second crypto stack.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::secret::SecretBytes;

/// `{"alg":"HS256","typ":"JWT"}`: the only header issued or accepted, so a
/// token cannot choose its own algorithm (`none`, RS256 with our secret).
const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The partner's client id.
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    /// Random: two tokens issued in the same second still differ.
    pub jti: String,
}

fn hs256(secret: &SecretBytes, data: &[u8]) -> Result<Vec<u8>> {
    let crypto = |e: openssl::error::ErrorStack| Error::crypto(format!("HMAC-SHA256 failed: {e}"));
    let key = PKey::hmac(secret).map_err(crypto)?;
    let mut signer = Signer::new(MessageDigest::sha256(), &key).map_err(crypto)?;
    signer.update(data).map_err(crypto)?;
    signer.sign_to_vec().map_err(crypto)
}

/// Issues a token for `claims`.
pub fn issue(secret: &SecretBytes, claims: &Claims) -> Result<String> {
    let payload = serde_json::to_vec(claims).expect("claims serialise");
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(HEADER),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let mac = hs256(secret, signing_input.as_bytes())?;
    Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(mac)))
}

/// Why a token is refused (never echoing the token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Malformed,
    WrongAlgorithm,
    BadSignature,
    Expired,
}

impl Refusal {
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::Malformed => "the access token is not a JWT",
            Refusal::WrongAlgorithm => "the access token is not an HS256 JWT issued here",
            Refusal::BadSignature => "the access token was not issued by this server (signature)",
            Refusal::Expired => "the access token has expired",
        }
    }
}

/// Checks a token's form, algorithm, signature (constant time) and expiry at
/// `now`; returns its claims.
pub fn verify(
    secret: &SecretBytes,
    token: &str,
    now: i64,
) -> Result<std::result::Result<Claims, Refusal>> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Ok(Err(Refusal::Malformed));
    };
    let decode = |s: &str| URL_SAFE_NO_PAD.decode(s).ok();
    let (Some(header), Some(payload), Some(given)) = (decode(h), decode(p), decode(sig)) else {
        return Ok(Err(Refusal::Malformed));
    };
    if header != HEADER.as_bytes() {
        return Ok(Err(Refusal::WrongAlgorithm));
    }
    let expected = hs256(secret, format!("{h}.{p}").as_bytes())?;
    if given.len() != expected.len() || !openssl::memcmp::eq(&given, &expected) {
        return Ok(Err(Refusal::BadSignature));
    }
    let Ok(claims) = serde_json::from_slice::<Claims>(&payload) else {
        return Ok(Err(Refusal::Malformed));
    };
    if claims.exp <= now {
        return Ok(Err(Refusal::Expired));
    }
    Ok(Ok(claims))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretBytes {
        SecretBytes::new(s.as_bytes().to_vec())
    }

    fn claims(exp: i64) -> Claims {
        Claims {
            sub: "DOKU-PROVIDER".into(),
            iat: 1_700_000_000,
            exp,
            jti: "0123456789abcdef".into(),
        }
    }

    #[test]
    fn issued_tokens_verify_and_decode_as_standard_jwts() {
        let k = secret("0123456789abcdef0123456789abcdef");
        let t = issue(&k, &claims(1_700_000_900)).unwrap();
        assert_eq!(
            verify(&k, &t, 1_700_000_000).unwrap(),
            Ok(claims(1_700_000_900))
        );
        // What any JWT tool sees: the standard header, the claims in clear.
        let parts: Vec<&str> = t.split('.').collect();
        assert_eq!(URL_SAFE_NO_PAD.decode(parts[0]).unwrap(), HEADER.as_bytes());
        let payload: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(payload["sub"], "DOKU-PROVIDER");
        // An independent HMAC-SHA256 over header.payload gives the signature.
        let key = PKey::hmac(b"0123456789abcdef0123456789abcdef").unwrap();
        let mut s = Signer::new(MessageDigest::sha256(), &key).unwrap();
        s.update(format!("{}.{}", parts[0], parts[1]).as_bytes())
            .unwrap();
        assert_eq!(URL_SAFE_NO_PAD.encode(s.sign_to_vec().unwrap()), parts[2]);
    }

    #[test]
    fn foreign_expired_tampered_and_malformed_tokens_are_refused() {
        let k = secret("0123456789abcdef0123456789abcdef");
        let other = secret("another-server-secret-0123456789");
        let t = issue(&k, &claims(1_700_000_900)).unwrap();
        let now = 1_700_000_000;
        assert_eq!(verify(&other, &t, now).unwrap(), Err(Refusal::BadSignature));
        assert_eq!(
            verify(&k, &t, 1_700_000_900).unwrap(),
            Err(Refusal::Expired)
        );
        let parts: Vec<&str> = t.split('.').collect();
        let longer = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(1_900_000_000)).unwrap());
        let tampered = format!("{}.{longer}.{}", parts[0], parts[2]);
        assert_eq!(
            verify(&k, &tampered, now).unwrap(),
            Err(Refusal::BadSignature)
        );
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            parts[1]
        );
        assert_eq!(
            verify(&k, &none, now).unwrap(),
            Err(Refusal::WrongAlgorithm)
        );
        for bad in ["", "a.b", "a.b.c.d", "!!.??.**", &t[..t.len() - 1]] {
            assert!(verify(&k, bad, now).unwrap().is_err(), "{bad}");
        }
    }
}
