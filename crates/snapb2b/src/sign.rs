//! SHA256withRSA signatures (RSASSA-PKCS1-v1_5 over SHA-256), base64-encoded,
//! as SNAP's `X-SIGNATURE` for the B2B token request.

use base64::Engine;
use openssl::hash::MessageDigest;
use openssl::sign::Signer;

use crate::error::{openssl_reason, Error, Result};
use crate::keys::PrivateKey;

/// The exact bytes SNAP signs for a B2B token request.
pub fn b2b_string_to_sign(client_id: &str, timestamp: &str) -> String {
    format!("{client_id}|{timestamp}")
}

/// Raw RSASSA-PKCS1-v1_5 SHA-256 signature of `data`.
pub fn rsa_sha256(key: &PrivateKey, data: &[u8]) -> Result<Vec<u8>> {
    let crypto = |e: openssl::error::ErrorStack| {
        Error::crypto(format!("RSA signing failed: {}", openssl_reason(&e)))
    };
    let mut signer = Signer::new(MessageDigest::sha256(), key.pkey()).map_err(crypto)?;
    signer.update(data).map_err(crypto)?;
    signer.sign_to_vec().map_err(crypto)
}

/// base64 (standard alphabet, padded) of [`rsa_sha256`].
pub fn rsa_sha256_base64(key: &PrivateKey, data: &[u8]) -> Result<String> {
    Ok(base64::engine::general_purpose::STANDARD.encode(rsa_sha256(key, data)?))
}

/// `X-SIGNATURE` for a B2B token request.
pub fn b2b_signature(key: &PrivateKey, client_id: &str, timestamp: &str) -> Result<String> {
    rsa_sha256_base64(key, b2b_string_to_sign(client_id, timestamp).as_bytes())
}

/// One-shot signing from key text, through the process-wide parsed-key cache.
pub fn b2b_signature_from_text(
    private_key: &str,
    client_id: &str,
    timestamp: &str,
) -> Result<String> {
    if client_id.is_empty() {
        return Err(Error::invalid_argument("client_id is empty"));
    }
    if timestamp.is_empty() {
        return Err(Error::invalid_argument("timestamp is empty"));
    }
    let key = crate::keys::ONE_SHOT_KEYS.get(private_key, None)?;
    b2b_signature(&key, client_id, timestamp)
}
