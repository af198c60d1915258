//! Reading RSA private keys in every form merchants keep them in.
//!
//! Accepted: PEM PKCS#8 (`PRIVATE KEY`), PEM PKCS#1 (`RSA PRIVATE KEY`),
//! encrypted PKCS#8 (`ENCRYPTED PRIVATE KEY`) and legacy encrypted PKCS#1 with
//! a passphrase, and bare base64 DER of either, tolerating CRLF line ends,
//! surrounding whitespace or quotes, literal `\n` sequences from `.env` files
//! and PEM whose newlines were stripped, and a whole PEM base64-encoded
//! (as some portals and `.env` files carry keys). The PEM armour is taken apart in
//! `pem` rather than by OpenSSL so that all of those variants reduce to DER;
//! `der` says why DER that did not parse failed; `cache` keeps parsed keys.

use openssl::pkey::{Id, PKey, Private, Public};
use openssl::rsa::Rsa;
use openssl::x509::X509;

use crate::error::{openssl_reason, Error, Result};
use crate::redact;
use crate::secret::{SecretBuf, SecretString};

mod cache;
mod der;
mod pem;

pub use cache::{KeyCache, ONE_SHOT_KEYS};
use der::explain_der;
use pem::{decode_base64, normalize, pem_block, unwrap_base64_pem, PRIVATE_LABELS, PUBLIC_LABELS};

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
        let mut normalized = normalize(text);
        if let Some(pem) = unwrap_base64_pem(normalized.expose())? {
            normalized = pem;
        }
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

    /// A new RSA key of `bits` (2048, 3072 or 4096: what SNAP providers'
    /// portals take).
    pub fn generate(bits: u32) -> Result<PrivateKey> {
        if ![2048, 3072, 4096].contains(&bits) {
            return Err(Error::invalid_argument(
                "RSA key size must be 2048, 3072 or 4096 bits",
            ));
        }
        let rsa = Rsa::generate(bits).map_err(|e| Error::key(openssl_reason(&e)))?;
        let pkey = PKey::from_rsa(rsa).map_err(|e| Error::key(openssl_reason(&e)))?;
        PrivateKey::validated(pkey)
    }

    /// Unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), in a wiping
    /// buffer.
    pub fn to_pkcs8_pem(&self) -> Result<SecretString> {
        let pem = self
            .pkey
            .private_key_to_pem_pkcs8()
            .map_err(|e| Error::key(openssl_reason(&e)))?;
        let pem = crate::secret::SecretBytes::new(pem);
        let text = std::str::from_utf8(&pem)
            .map_err(|_| Error::new(crate::Status::B2B_INTERNAL, "PEM is not text"))?;
        Ok(SecretString::from(text))
    }

    /// The public half as SPKI DER (what `openssl rsa -pubout` writes).
    pub fn public_key_der(&self) -> Result<Vec<u8>> {
        self.pkey
            .public_key_to_der()
            .map_err(|e| Error::key(openssl_reason(&e)))
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
                _ => crate::error::io_reason(&e),
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
        let mut normalized = normalize(text);
        if let Some(pem) = unwrap_base64_pem(normalized.expose())? {
            normalized = pem;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn rsa_pem(bits: u32) -> (String, String) {
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
            err.message
                .contains("missing.pem: No such file or directory"),
            "{}",
            err.message
        );
        std::fs::remove_dir_all(&dir).unwrap();
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
            // The whole PEM base64-encoded, one line or folded, as portals
            // and `.env` files carry it.
            b64(&pkcs8),
            b64(&pkcs1),
            format!("'{}'", fold(&b64(&pkcs8))),
        ];
        for (i, form) in forms.iter().enumerate() {
            let key =
                PrivateKey::parse(form, None).unwrap_or_else(|e| panic!("form {i} rejected: {e}"));
            assert_eq!(key.bits(), 2048);
        }
    }

    fn b64(text: &str) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    fn fold(text: &str) -> String {
        text.as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn base64_pem_works_for_every_kind_of_key() {
        let (pkcs8, _) = rsa_pem(2048);
        let key = PrivateKey::parse(&pkcs8, None).unwrap();
        let spki = String::from_utf8(key.pkey().public_key_to_pem().unwrap()).unwrap();
        assert_eq!(PublicKey::parse(&b64(&spki)).unwrap().pkey.bits(), 2048);
        let encrypted = String::from_utf8(
            key.pkey()
                .private_key_to_pem_pkcs8_passphrase(
                    openssl::symm::Cipher::aes_256_cbc(),
                    b"secret",
                )
                .unwrap(),
        )
        .unwrap();
        assert!(PrivateKey::parse(&b64(&encrypted), Some("secret")).is_ok());
        let e = PrivateKey::parse(&b64(&encrypted), None).unwrap_err();
        assert!(e.message.contains("passphrase"), "{e}");
        // Damaged after the prefix: a key error naming the form, no panic.
        let mut bad = b64(&pkcs8);
        bad.truncate(100);
        bad.push('*');
        let e = PrivateKey::parse(&bad, None).unwrap_err();
        assert_eq!(e.status, crate::Status::B2B_KEY);
        assert!(e.message.contains("base64-encoded PEM"), "{e}");
    }

    #[test]
    fn generated_keys_round_trip() {
        assert!(PrivateKey::generate(1024).is_err());
        let key = PrivateKey::generate(2048).unwrap();
        let again = PrivateKey::parse(key.to_pkcs8_pem().unwrap().expose(), None).unwrap();
        assert_eq!(
            again.public_key_der().unwrap(),
            key.public_key_der().unwrap()
        );
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
}
