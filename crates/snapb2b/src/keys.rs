//! Reading RSA private keys in every form merchants keep them in.
//!
//! Accepted: PEM PKCS#8 (`PRIVATE KEY`), PEM PKCS#1 (`RSA PRIVATE KEY`),
//! encrypted PKCS#8 (`ENCRYPTED PRIVATE KEY`) and legacy encrypted PKCS#1 with
//! a passphrase, and bare base64 DER of either, tolerating CRLF line ends,
//! surrounding whitespace or quotes, literal `\n` sequences from `.env` files
//! and PEM whose newlines were stripped. The PEM armour is taken apart here
//! rather than by OpenSSL so that all of those variants reduce to DER.

use std::sync::{Arc, Mutex};

use base64::Engine;
use openssl::pkey::{Id, PKey, Private, Public};
use openssl::rsa::Rsa;
use openssl::x509::X509;

use crate::error::{openssl_reason, Error, Result};
use crate::redact;
use crate::secret::{SecretBuf, SecretBytes, SecretString};

/// SNAP requires RSA keys of at least this many bits.
pub const MIN_RSA_BITS: u32 = 2048;

/// A parsed, validated RSA private key (at least 2048 bits).
pub struct PrivateKey {
    pkey: PKey<Private>,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey(RSA {} bits)", self.bits())
    }
}

impl PrivateKey {
    /// Parses `text` in any accepted form. `passphrase` is used only for
    /// encrypted keys.
    pub fn parse(text: &str, passphrase: Option<&str>) -> Result<PrivateKey> {
        // OpenSSL takes the passphrase as a C string (found by fuzzing: the
        // openssl crate would panic on an interior NUL).
        if passphrase.is_some_and(|p| p.contains('\0')) {
            return Err(Error::key(
                "private_key_passphrase contains a NUL character",
            ));
        }
        let normalized = normalize(text);
        let pkey = if normalized.expose().contains("-----BEGIN") {
            parse_pem(normalized.expose(), passphrase)?
        } else {
            parse_bare_base64(normalized.expose(), passphrase)?
        };
        PrivateKey::validated(pkey)
    }

    /// Reads and parses a key file.
    pub fn from_file(path: &std::path::Path, passphrase: Option<&str>) -> Result<PrivateKey> {
        PrivateKey::parse(read_key_file(path)?.expose(), passphrase)
    }

    fn validated(pkey: PKey<Private>) -> Result<PrivateKey> {
        if pkey.id() != Id::RSA {
            return Err(Error::key(format!(
                "the key is {}, not RSA: SNAP signatures need an RSA key",
                key_kind(pkey.id())
            )));
        }
        let bits = pkey.bits();
        if bits < MIN_RSA_BITS {
            return Err(Error::key(format!(
                "RSA {bits}-bit key: SNAP requires at least {MIN_RSA_BITS} bits"
            )));
        }
        Ok(PrivateKey { pkey })
    }

    pub fn bits(&self) -> u32 {
        self.pkey.bits()
    }

    pub fn pkey(&self) -> &PKey<Private> {
        &self.pkey
    }
}

/// Key files are a few KiB; a larger one is not a key (and is not read
/// whole into memory).
const MAX_KEY_FILE_BYTES: usize = 1 << 20;

/// Reads a key file as text, wiping the raw bytes afterwards.
pub fn read_key_file(path: &std::path::Path) -> Result<SecretString> {
    // Read into a wiping buffer: a Vec growing as it reads would leave
    // copies of the key in freed memory.
    let mut bytes = SecretBuf::new();
    std::fs::File::open(path)
        .and_then(|mut file| bytes.read_from(&mut file, MAX_KEY_FILE_BYTES))
        .map_err(|e| {
            let why = match e.kind() {
                std::io::ErrorKind::InvalidData => {
                    format!("larger than {MAX_KEY_FILE_BYTES} bytes, not a key file")
                }
                kind => kind.to_string(),
            };
            let err = Error::key(format!(
                "cannot read private_key_file {}: {why}",
                redact::path(path)
            ));
            if redact::path_is_shown(path) {
                err
            } else {
                err.with_hint("put inline key text in `private_key`, not `private_key_file`")
            }
        })?;
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        Error::key(format!(
            "private_key_file {} is not text (a DER file? convert it with `openssl pkey -inform DER`)",
            redact::path(path)
        ))
    })?;
    Ok(SecretString::from(text))
}

fn key_kind(id: Id) -> &'static str {
    match id {
        Id::EC => "an EC key",
        Id::DSA => "a DSA key",
        Id::ED25519 => "an Ed25519 key",
        Id::ED448 => "an Ed448 key",
        Id::DH => "a DH key",
        _ => "not an RSA key",
    }
}

/// Undoes the ways keys get mangled on their way through configuration:
/// quotes, literal `\n`, CRLF. One pass into one buffer sized up front (the
/// result is never longer), so no intermediate copy of the key is left
/// unwiped.
fn normalize(text: &str) -> SecretString {
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

struct PemBlock<'a> {
    label: &'a str,
    /// Text between the BEGIN and END lines, as given.
    body: &'a str,
}

const PRIVATE_LABELS: &[&str] = &["PRIVATE KEY", "RSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY"];
const PUBLIC_LABELS: &[&str] = &["PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE"];

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
fn pem_block<'a>(text: &'a str, wanted: &[&str]) -> Result<PemBlock<'a>> {
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

fn decode_base64(body: &str, what: &str) -> Result<SecretBytes> {
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

fn need_passphrase(passphrase: Option<&str>, what: &str) -> Result<()> {
    match passphrase {
        Some(p) if !p.is_empty() => Ok(()),
        _ => Err(Error::key(format!(
            "{what} is encrypted: private_key_passphrase is required"
        ))),
    }
}

fn wrong_passphrase(err: &openssl::error::ErrorStack, what: &str) -> Error {
    Error::key(format!(
        "{what} could not be decrypted: wrong private_key_passphrase or damaged key ({})",
        openssl_reason(err)
    ))
}

fn parse_pem(text: &str, passphrase: Option<&str>) -> Result<PKey<Private>> {
    let block = pem_block(text, PRIVATE_LABELS)?;
    let what = format!("PEM {}", redact::value(block.label));
    match block.label {
        "PRIVATE KEY" => {
            let der = decode_base64(block.body, &what)?;
            match PKey::private_key_from_pkcs8(&der) {
                Ok(key) => Ok(key),
                // A PKCS#1 body under a PKCS#8 label (hand-edited armour) is
                // still the key; anything else is explained by its shape.
                Err(e) => match Rsa::private_key_from_der(&der) {
                    Ok(rsa) => PKey::from_rsa(rsa).map_err(|e| Error::key(openssl_reason(&e))),
                    Err(_) => Err(explain_der(&der, &what, passphrase, &e)),
                },
            }
        }
        "RSA PRIVATE KEY" if block.body.contains("Proc-Type:") => {
            // Legacy encrypted PEM carries its cipher in header lines, so
            // OpenSSL must see the armour itself.
            need_passphrase(passphrase, &what)?;
            let pass = passphrase.unwrap_or_default().as_bytes();
            let rsa = Rsa::private_key_from_pem_passphrase(text.as_bytes(), pass)
                .map_err(|e| wrong_passphrase(&e, &what))?;
            PKey::from_rsa(rsa).map_err(|e| Error::key(openssl_reason(&e)))
        }
        "RSA PRIVATE KEY" => {
            let der = decode_base64(block.body, &what)?;
            let rsa = Rsa::private_key_from_der(&der).map_err(|e| {
                Error::key(format!(
                    "{what}: PEM header found but the body is not a PKCS#1 RSA private key ({})",
                    openssl_reason(&e)
                ))
            })?;
            PKey::from_rsa(rsa).map_err(|e| Error::key(openssl_reason(&e)))
        }
        "ENCRYPTED PRIVATE KEY" => {
            need_passphrase(passphrase, &what)?;
            let der = decode_base64(block.body, &what)?;
            PKey::private_key_from_pkcs8_passphrase(
                &der,
                passphrase.unwrap_or_default().as_bytes(),
            )
            .map_err(|e| wrong_passphrase(&e, &what))
        }
        "PUBLIC KEY" | "RSA PUBLIC KEY" | "CERTIFICATE" => Err(Error::key(format!(
            "{what} is public: signing needs the merchant's private key"
        ))),
        "EC PRIVATE KEY" => Err(Error::key(
            "the key is an EC key, not RSA: SNAP signatures need an RSA key",
        )),
        "OPENSSH PRIVATE KEY" => Err(Error::key(
            "OpenSSH key format is not supported: convert it with `ssh-keygen -p -m PKCS8 -f FILE`",
        )),
        other => Err(Error::key(format!(
            "unsupported PEM block {}: expected PRIVATE KEY, RSA PRIVATE KEY or ENCRYPTED PRIVATE KEY",
            redact::value(other)
        ))),
    }
}

fn parse_bare_base64(text: &str, passphrase: Option<&str>) -> Result<PKey<Private>> {
    let what = "key (no PEM header, read as base64 DER)";
    let der = decode_base64(text, what)?;
    // d2i_AutoPrivateKey recognises both PKCS#8 and PKCS#1.
    let plain_err = match PKey::private_key_from_der(&der) {
        Ok(k) => return Ok(k),
        Err(e) => e,
    };
    if let Ok(rsa) = Rsa::private_key_from_der(&der) {
        return PKey::from_rsa(rsa).map_err(|e| Error::key(openssl_reason(&e)));
    }
    if let Some(pass) = passphrase.filter(|p| !p.is_empty()) {
        if let Ok(k) = PKey::private_key_from_pkcs8_passphrase(&der, pass.as_bytes()) {
            return Ok(k);
        }
    }
    Err(explain_der(&der, what, passphrase, &plain_err))
}

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
fn explain_der(
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

/// A parsed, validated RSA public key (at least 2048 bits), for verifying
/// what providers sign.
pub struct PublicKey {
    pkey: PKey<Public>,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey(RSA {} bits)", self.pkey.bits())
    }
}

impl PublicKey {
    /// Accepts PEM SPKI (`PUBLIC KEY`), PEM PKCS#1 (`RSA PUBLIC KEY`), an
    /// X.509 certificate PEM, or bare base64 DER of any of them, with the same
    /// tolerance for mangled line ends as private keys.
    pub fn parse(text: &str) -> Result<PublicKey> {
        let normalized = normalize(text);
        let normalized = normalized.expose();
        let pkey = if normalized.contains("-----BEGIN") {
            let block = pem_block(normalized, PUBLIC_LABELS)?;
            let what = format!("PEM {}", redact::value(block.label));
            let der = decode_base64(block.body, &what)?;
            let bad = |e: openssl::error::ErrorStack| {
                Error::key(format!(
                    "{what}: the body does not parse ({})",
                    openssl_reason(&e)
                ))
            };
            match block.label {
                "PUBLIC KEY" => PKey::public_key_from_der(&der).map_err(bad)?,
                "RSA PUBLIC KEY" => {
                    PKey::from_rsa(Rsa::public_key_from_der_pkcs1(&der).map_err(bad)?)
                        .map_err(bad)?
                }
                "CERTIFICATE" => X509::from_der(&der)
                    .and_then(|c| c.public_key())
                    .map_err(bad)?,
                "PRIVATE KEY" | "RSA PRIVATE KEY" | "ENCRYPTED PRIVATE KEY" => {
                    return Err(Error::key(format!(
                        "{what} is private: verification needs the provider's public key"
                    )))
                }
                other => {
                    return Err(Error::key(format!(
                    "unsupported PEM block {}: expected PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE",
                    redact::value(other)
                )))
                }
            }
        } else {
            let what = "public key (no PEM header, read as base64 DER)";
            let der = decode_base64(normalized, what)?;
            PKey::public_key_from_der(&der)
                .or_else(|_| Rsa::public_key_from_der_pkcs1(&der).and_then(PKey::from_rsa))
                .or_else(|_| X509::from_der(&der).and_then(|c| c.public_key()))
                .map_err(|_| {
                    Error::key(format!(
                        "{what}: tried SPKI, PKCS#1 and X.509 certificate DER and none matched"
                    ))
                })?
        };
        if pkey.id() != Id::RSA {
            return Err(Error::key(format!(
                "the public key is {}, not RSA",
                key_kind(pkey.id())
            )));
        }
        if pkey.bits() < MIN_RSA_BITS {
            return Err(Error::key(format!(
                "RSA {}-bit public key: SNAP requires at least {MIN_RSA_BITS} bits",
                pkey.bits()
            )));
        }
        Ok(PublicKey { pkey })
    }

    pub fn pkey(&self) -> &PKey<Public> {
        &self.pkey
    }
}

/// Bounded cache of parsed keys for one-shot signing, so a caller passing the
/// same PEM string on every call does not pay for parsing each time (OpenSSL 3
/// takes about as long to parse a key as to sign with it).
pub struct KeyCache {
    entries: Mutex<Vec<([u8; 32], Arc<PrivateKey>)>>,
    capacity: usize,
}

impl KeyCache {
    pub const fn new(capacity: usize) -> KeyCache {
        KeyCache {
            entries: Mutex::new(Vec::new()),
            capacity,
        }
    }

    /// Returns the parsed key for `text`, parsing it on a miss. Failures are
    /// not cached. The cache key is a SHA-256 of the text, so no key text is
    /// kept.
    pub fn get(&self, text: &str, passphrase: Option<&str>) -> Result<Arc<PrivateKey>> {
        let id = Self::fingerprint(text, passphrase);
        if let Some(hit) = self.lookup(id) {
            return Ok(hit);
        }
        let key = Arc::new(PrivateKey::parse(text, passphrase)?);
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if !entries.iter().any(|(k, _)| *k == id) {
            if entries.len() >= self.capacity {
                entries.pop();
            }
            entries.insert(0, (id, key.clone()));
        }
        Ok(key)
    }

    fn lookup(&self, id: [u8; 32]) -> Option<Arc<PrivateKey>> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let pos = entries.iter().position(|(k, _)| *k == id)?;
        if pos > 0 {
            let e = entries.remove(pos);
            entries.insert(0, e);
        }
        Some(entries[0].1.clone())
    }

    fn fingerprint(text: &str, passphrase: Option<&str>) -> [u8; 32] {
        // A digest, so the cache keeps no key text; the full 32 bytes, so two
        // keys can never be confused.
        let mut hasher = openssl::sha::Sha256::new();
        hasher.update(text.as_bytes());
        hasher.update(&[0]);
        hasher.update(passphrase.unwrap_or("").as_bytes());
        hasher.finish()
    }

    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The process-wide cache used by one-shot signing.
pub static ONE_SHOT_KEYS: KeyCache = KeyCache::new(16);

#[cfg(test)]
mod tests {
    use super::*;

    fn rsa_pem(bits: u32) -> (String, String) {
        let rsa = Rsa::generate(bits).unwrap();
        let pkcs1 = String::from_utf8(rsa.private_key_to_pem().unwrap()).unwrap();
        let pkey = PKey::from_rsa(rsa).unwrap();
        let pkcs8 = String::from_utf8(pkey.private_key_to_pem_pkcs8().unwrap()).unwrap();
        (pkcs8, pkcs1)
    }

    fn body_of(pem: &str) -> String {
        pem.lines().filter(|l| !l.starts_with("-----")).collect()
    }

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

    #[test]
    fn key_files_are_read_whole_but_bounded() {
        let dir = std::env::temp_dir().join(format!("snapb2b-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (pem, _) = rsa_pem(2048);
        let path = dir.join("key.pem");
        std::fs::write(&path, &pem).unwrap();
        assert_eq!(read_key_file(&path).unwrap().expose(), pem);
        std::fs::write(&path, vec![b'A'; MAX_KEY_FILE_BYTES + 1]).unwrap();
        let err = read_key_file(&path).unwrap_err();
        assert_eq!(err.status, crate::Status::B2B_KEY);
        assert!(err.message.contains("not a key file"), "{}", err.message);
        let err = read_key_file(&dir.join("missing.pem")).unwrap_err();
        assert!(
            err.message.contains("missing.pem: entity not found"),
            "{}",
            err.message
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn normalize_undoes_every_mangling_in_one_pass() {
        let n = |s: &str| normalize(s).expose().to_string();
        assert_eq!(n("  'a\\nb\\r\\nc\r\nd\re'  "), "a\nb\nc\nd\ne");
        assert_eq!(n("\"é\\n\""), "é\n");
        assert_eq!(n("ab\\"), "ab\\");
    }

    #[test]
    fn accepts_every_documented_form() {
        let (pkcs8, pkcs1) = rsa_pem(2048);
        let forms = vec![
            pkcs8.clone(),
            pkcs1.clone(),
            pkcs8.replace('\n', "\r\n"),
            format!("  \n{pkcs8}\n\n  "),
            pkcs8.replace('\n', "\\n"),
            pkcs8.replace('\n', ""),
            pkcs1.replace('\n', " "),
            format!("\"{}\"", pkcs8.replace('\n', "\\n")),
            body_of(&pkcs8),
            body_of(&pkcs1),
            pkcs8
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<Vec<_>>()
                .join("\n"),
        ];
        for (i, form) in forms.iter().enumerate() {
            let key =
                PrivateKey::parse(form, None).unwrap_or_else(|e| panic!("form {i} rejected: {e}"));
            assert_eq!(key.bits(), 2048);
        }
    }

    #[test]
    fn passphrase_with_nul_is_a_key_error_not_a_panic() {
        // Regression from fuzzing (private_key target).
        for text in [
            "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n-----END RSA PRIVATE KEY-----",
            "MIIB",
            "pAA=",
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----",
        ] {
            let err = PrivateKey::parse(text, Some("pass\0word")).unwrap_err();
            assert_eq!(err.status, crate::Status::B2B_KEY);
        }
    }

    #[test]
    fn finds_the_key_after_a_certificate() {
        let rsa = Rsa::generate(2048).unwrap();
        let pkey = PKey::from_rsa(rsa).unwrap();
        let mut name = openssl::x509::X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "merchant").unwrap();
        let name = name.build();
        let mut cert = openssl::x509::X509Builder::new().unwrap();
        cert.set_version(2).unwrap();
        cert.set_subject_name(&name).unwrap();
        cert.set_issuer_name(&name).unwrap();
        cert.set_not_before(&openssl::asn1::Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        cert.set_not_after(&openssl::asn1::Asn1Time::days_from_now(1).unwrap())
            .unwrap();
        cert.set_pubkey(&pkey).unwrap();
        cert.sign(&pkey, openssl::hash::MessageDigest::sha256())
            .unwrap();
        let cert = String::from_utf8(cert.build().to_pem().unwrap()).unwrap();
        let key = String::from_utf8(pkey.private_key_to_pem_pkcs8().unwrap()).unwrap();
        // As `openssl pkcs12 -nodes` prints it: bag attributes, certificate, key.
        let bundle = format!("Bag Attributes\n    localKeyID: 01\n{cert}Bag Attributes\n{key}");
        assert_eq!(PrivateKey::parse(&bundle, None).unwrap().bits(), 2048);
        assert_eq!(
            PublicKey::parse(&format!("{key}{cert}"))
                .unwrap()
                .pkey()
                .bits(),
            2048
        );
        assert!(PrivateKey::parse(&cert, None)
            .unwrap_err()
            .message
            .contains("public"));
    }

    #[test]
    fn rejects_short_and_non_rsa_keys_with_reasons() {
        let (small, _) = rsa_pem(1024);
        let err = PrivateKey::parse(&small, None).unwrap_err();
        assert!(err.message.contains("1024-bit"), "{}", err.message);

        let ec = openssl::ec::EcKey::generate(
            &openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap(),
        )
        .unwrap();
        let ec_pem = String::from_utf8(
            PKey::from_ec_key(ec)
                .unwrap()
                .private_key_to_pem_pkcs8()
                .unwrap(),
        )
        .unwrap();
        let err = PrivateKey::parse(&ec_pem, None).unwrap_err();
        assert!(err.message.contains("EC"), "{}", err.message);
    }

    #[test]
    fn public_keys_and_garbage_are_key_errors() {
        let rsa = Rsa::generate(2048).unwrap();
        let public =
            String::from_utf8(PKey::from_rsa(rsa).unwrap().public_key_to_pem().unwrap()).unwrap();
        let err = PrivateKey::parse(&public, None).unwrap_err();
        assert_eq!(err.status, crate::Status::B2B_KEY);
        assert!(err.message.contains("public"), "{}", err.message);

        for bad in [
            "",
            "not a key",
            "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----\nMIIB",
        ] {
            let err = PrivateKey::parse(bad, None).unwrap_err();
            assert_eq!(err.status, crate::Status::B2B_KEY, "{bad}");
        }
    }

    #[test]
    fn encrypted_pkcs8_needs_the_right_passphrase() {
        let rsa = Rsa::generate(2048).unwrap();
        let pkey = PKey::from_rsa(rsa).unwrap();
        let enc = pkey
            .private_key_to_pem_pkcs8_passphrase(
                openssl::symm::Cipher::aes_256_cbc(),
                b"s3cret-pass",
            )
            .unwrap();
        let enc = String::from_utf8(enc).unwrap();
        let err = PrivateKey::parse(&enc, None).unwrap_err();
        assert!(err.message.contains("private_key_passphrase is required"));
        let err = PrivateKey::parse(&enc, Some("wrong")).unwrap_err();
        assert!(err.message.contains("wrong private_key_passphrase"));
        assert!(!err.message.contains("s3cret-pass"));
        assert!(PrivateKey::parse(&enc, Some("s3cret-pass")).is_ok());
    }

    #[test]
    fn cache_returns_the_same_parsed_key_and_stays_bounded() {
        let cache = KeyCache::new(2);
        let (a, _) = rsa_pem(2048);
        let (b, _) = rsa_pem(2048);
        let (c, _) = rsa_pem(2048);
        let k1 = cache.get(&a, None).unwrap();
        let k2 = cache.get(&a, None).unwrap();
        assert!(Arc::ptr_eq(&k1, &k2));
        cache.get(&b, None).unwrap();
        cache.get(&c, None).unwrap();
        assert_eq!(cache.len(), 2);
        assert!(cache.get("garbage", None).is_err());
        assert_eq!(cache.len(), 2);
    }
}
