//! Keys and certificates: a throwaway CA and server certificate per start, the
//! reusable demo merchant key pair, and loading client public keys.

use std::fs;
use std::io;
use std::path::Path;

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private, Public};
use openssl::rsa::Rsa;
use openssl::ssl::{SslAcceptor, SslMethod};
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
    SubjectKeyIdentifier,
};
use openssl::x509::{X509Name, X509};

use super::files::write_atomic;

const RSA_BITS: u32 = 2048;
const DAY_SECS: i64 = 24 * 3600;
/// Certificates are valid from a day ago (tolerates clock skew) to 30 days ahead.
const VALID_BEFORE_SECS: i64 = DAY_SECS;
const VALID_AFTER_SECS: i64 = 30 * DAY_SECS;

/// The CA clients trust (`ca.pem`) and the server certificate it signed.
pub struct ServerIdentity {
    pub ca_cert: X509,
    pub cert: X509,
    pub key: PKey<Private>,
}

fn other(context: &str, e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("{context}: {e}"))
}

fn rsa_key() -> Result<PKey<Private>, ErrorStack> {
    PKey::from_rsa(Rsa::generate(RSA_BITS)?)
}

fn name(common_name: &str) -> Result<X509Name, ErrorStack> {
    let mut b = X509Name::builder()?;
    b.append_entry_by_text("O", "snapb2b sandbox")?;
    b.append_entry_by_text("CN", common_name)?;
    Ok(b.build())
}

fn serial() -> Result<openssl::asn1::Asn1Integer, ErrorStack> {
    let mut bn = BigNum::new()?;
    bn.rand(127, MsbOption::MAYBE_ZERO, false)?;
    bn.to_asn1_integer()
}

fn validity() -> Result<(Asn1Time, Asn1Time), ErrorStack> {
    let now = chrono::Utc::now().timestamp();
    Ok((
        Asn1Time::from_unix(now - VALID_BEFORE_SECS)?,
        Asn1Time::from_unix(now + VALID_AFTER_SECS)?,
    ))
}

/// A fresh self-signed CA (RSA 2048) and a server certificate (ECDSA P-256) it
/// signed for 127.0.0.1 / ::1 / localhost.
pub fn generate_identity() -> io::Result<ServerIdentity> {
    build_identity().map_err(|e| other("generating sandbox certificates", e))
}

fn build_identity() -> Result<ServerIdentity, ErrorStack> {
    let (not_before, not_after) = validity()?;

    let ca_key = rsa_key()?;
    let ca_name = name("snapb2b sandbox CA")?;
    let mut ca = X509::builder()?;
    ca.set_version(2)?;
    ca.set_serial_number(&*serial()?)?;
    ca.set_subject_name(&ca_name)?;
    ca.set_issuer_name(&ca_name)?;
    ca.set_pubkey(&ca_key)?;
    ca.set_not_before(&not_before)?;
    ca.set_not_after(&not_after)?;
    ca.append_extension(BasicConstraints::new().critical().ca().build()?)?;
    ca.append_extension(
        KeyUsage::new()
            .critical()
            .key_cert_sign()
            .crl_sign()
            .build()?,
    )?;
    let ski = SubjectKeyIdentifier::new().build(&ca.x509v3_context(None, None))?;
    ca.append_extension(ski)?;
    ca.sign(&ca_key, MessageDigest::sha256())?;
    let ca_cert = ca.build();

    // ECDSA P-256 for the server key: generating it is instant, where each RSA
    // key costs up to a second on a slow machine (the CA already needs one),
    // and every TLS 1.2+ client supports it.
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    let key = PKey::from_ec_key(EcKey::generate(&group)?)?;
    let mut leaf = X509::builder()?;
    leaf.set_version(2)?;
    leaf.set_serial_number(&*serial()?)?;
    let leaf_name = name("localhost")?;
    leaf.set_subject_name(&leaf_name)?;
    leaf.set_issuer_name(ca_cert.subject_name())?;
    leaf.set_pubkey(&key)?;
    leaf.set_not_before(&not_before)?;
    leaf.set_not_after(&not_after)?;
    leaf.append_extension(BasicConstraints::new().critical().build()?)?;
    leaf.append_extension(KeyUsage::new().critical().digital_signature().build()?)?;
    leaf.append_extension(ExtendedKeyUsage::new().server_auth().build()?)?;
    let san = SubjectAlternativeName::new()
        .ip("127.0.0.1")
        .dns("localhost")
        .ip("::1")
        .build(&leaf.x509v3_context(Some(&ca_cert), None))?;
    leaf.append_extension(san)?;
    let ski = SubjectKeyIdentifier::new().build(&leaf.x509v3_context(Some(&ca_cert), None))?;
    leaf.append_extension(ski)?;
    let aki = AuthorityKeyIdentifier::new()
        .keyid(false)
        .build(&leaf.x509v3_context(Some(&ca_cert), None))?;
    leaf.append_extension(aki)?;
    leaf.sign(&ca_key, MessageDigest::sha256())?;

    Ok(ServerIdentity {
        ca_cert,
        cert: leaf.build(),
        key,
    })
}

/// TLS acceptor (Mozilla "intermediate" profile: TLS 1.2 and 1.3) for the identity.
pub fn acceptor(identity: &ServerIdentity) -> io::Result<SslAcceptor> {
    let build = || -> Result<SslAcceptor, ErrorStack> {
        let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls())?;
        b.set_private_key(&identity.key)?;
        b.set_certificate(&identity.cert)?;
        b.check_private_key()?;
        Ok(b.build())
    };
    build().map_err(|e| other("configuring TLS", e))
}

/// Loads `key_path` if it exists (any PEM private key form), otherwise creates an
/// RSA 2048 key there as PKCS#8 PEM with mode 0600. Then (re)writes the SPKI
/// public key to `public_path` so the pair always matches.
pub fn load_or_create_merchant_key(
    key_path: &Path,
    public_path: &Path,
) -> io::Result<PKey<Private>> {
    let key = if key_path.exists() {
        let pem = fs::read(key_path)?;
        PKey::private_key_from_pem(&pem)
            .map_err(|e| other(&format!("reading merchant key {}", key_path.display()), e))?
    } else {
        let key = rsa_key().map_err(|e| other("generating merchant key", e))?;
        let pem = key
            .private_key_to_pem_pkcs8()
            .map_err(|e| other("encoding merchant key", e))?;
        write_atomic(key_path, &pem, true)?;
        key
    };
    let public = key
        .public_key_to_pem()
        .map_err(|e| other("encoding merchant public key", e))?;
    write_atomic(public_path, &public, false)?;
    Ok(key)
}

/// The public half of a private key.
pub fn public_of(key: &PKey<Private>) -> io::Result<PKey<Public>> {
    key.public_key_to_der()
        .and_then(|der| PKey::public_key_from_der(&der))
        .map_err(|e| other("extracting public key", e))
}

/// A client public key from a file: SPKI `PUBLIC KEY`, PKCS#1 `RSA PUBLIC KEY`,
/// an X.509 certificate (PEM or DER), or a private key (its public half; handy
/// for demo keys).
pub fn load_public_key(path: &Path) -> io::Result<PKey<Public>> {
    let data = fs::read(path)
        .map_err(|e| io::Error::new(e.kind(), format!("reading {}: {e}", path.display())))?;
    parse_public_key(&data).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{}: not a public key, RSA public key, certificate or private key",
                path.display()
            ),
        )
    })
}

fn parse_public_key(data: &[u8]) -> Option<PKey<Public>> {
    if let Ok(k) = PKey::public_key_from_pem(data) {
        return Some(k);
    }
    if let Ok(k) = Rsa::public_key_from_pem_pkcs1(data).and_then(PKey::from_rsa) {
        return Some(k);
    }
    if let Ok(k) = X509::from_pem(data).and_then(|c| c.public_key()) {
        return Some(k);
    }
    if let Ok(k) = PKey::public_key_from_der(data) {
        return Some(k);
    }
    if let Ok(k) = X509::from_der(data).and_then(|c| c.public_key()) {
        return Some(k);
    }
    PKey::private_key_from_pem(data)
        .ok()
        .and_then(|k| public_of(&k).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_chains_to_ca_and_covers_loopback() {
        let id = generate_identity().unwrap();
        let ca_key = id.ca_cert.public_key().unwrap();
        assert!(id.cert.verify(&ca_key).unwrap());
        let sans: Vec<String> = id
            .cert
            .subject_alt_names()
            .unwrap()
            .iter()
            .map(|n| {
                n.dnsname()
                    .map(str::to_string)
                    .or_else(|| n.ipaddress().map(|ip| format!("{ip:?}")))
                    .unwrap()
            })
            .collect();
        assert!(sans.contains(&"localhost".to_string()));
        assert!(sans.contains(&format!("{:?}", [127u8, 0, 0, 1].as_slice())));
        acceptor(&id).unwrap();
    }

    #[test]
    fn public_keys_load_from_every_form() {
        let key = rsa_key().unwrap();
        let spki = key.public_key_to_pem().unwrap();
        let pkcs1 = key.rsa().unwrap().public_key_to_pem_pkcs1().unwrap();
        let private = key.private_key_to_pem_pkcs8().unwrap();
        let expected = key.public_key_to_der().unwrap();
        for form in [spki, pkcs1, private] {
            let got = parse_public_key(&form).unwrap();
            assert_eq!(got.public_key_to_der().unwrap(), expected);
        }
        assert!(parse_public_key(b"nonsense").is_none());
    }
}
