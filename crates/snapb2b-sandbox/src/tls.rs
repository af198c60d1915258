//! Keys and certificates: throwaway CAs and the server certificates they issue
//! (the sandbox makes one CA and one certificate per start; test servers may
//! issue several, e.g. expired or for another host), TLS acceptors, the
//! reusable demo merchant key pair, and loading client public keys.

use std::fs;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
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

/// The CA clients trust (`ca.pem`) and a server certificate it signed.
pub struct ServerIdentity {
    pub ca_cert: X509,
    pub cert: X509,
    pub key: PKey<Private>,
}

/// What a server certificate says: its names and validity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertSpec {
    pub common_name: String,
    /// Subject alternative names of type DNS.
    pub dns_names: Vec<String>,
    /// Subject alternative names of type IP address.
    pub ip_addresses: Vec<IpAddr>,
    /// notBefore and notAfter, Unix seconds.
    pub valid_from: i64,
    pub valid_until: i64,
}

impl CertSpec {
    /// The sandbox's own: 127.0.0.1, ::1 and localhost, valid from a day ago
    /// for 30 days.
    pub fn loopback() -> Self {
        let now = chrono::Utc::now().timestamp();
        CertSpec {
            common_name: "localhost".into(),
            dns_names: vec!["localhost".into()],
            ip_addresses: vec![Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into()],
            valid_from: now - VALID_BEFORE_SECS,
            valid_until: now + VALID_AFTER_SECS,
        }
    }
}

impl Default for CertSpec {
    fn default() -> Self {
        Self::loopback()
    }
}

/// A self-signed CA (RSA 2048) that issues server certificates.
pub struct CertificateAuthority {
    pub cert: X509,
    key: PKey<Private>,
}

impl CertificateAuthority {
    /// A fresh CA named `common_name`, valid like [`CertSpec::loopback`].
    pub fn generate(common_name: &str) -> io::Result<Self> {
        Self::build(common_name).map_err(|e| other("generating a CA", e))
    }

    fn build(common_name: &str) -> Result<Self, ErrorStack> {
        let validity = CertSpec::loopback();
        let key = rsa_key()?;
        let ca_name = name(common_name)?;
        let mut ca = X509::builder()?;
        ca.set_version(2)?;
        ca.set_serial_number(&*serial()?)?;
        ca.set_subject_name(&ca_name)?;
        ca.set_issuer_name(&ca_name)?;
        ca.set_pubkey(&key)?;
        ca.set_not_before(&*Asn1Time::from_unix(validity.valid_from)?)?;
        ca.set_not_after(&*Asn1Time::from_unix(validity.valid_until)?)?;
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
        ca.sign(&key, MessageDigest::sha256())?;
        Ok(CertificateAuthority {
            cert: ca.build(),
            key,
        })
    }

    /// A server certificate (ECDSA P-256) for `spec`, signed by this CA.
    pub fn issue(&self, spec: &CertSpec) -> io::Result<ServerIdentity> {
        self.build_leaf(spec)
            .map_err(|e| other("issuing a server certificate", e))
    }

    fn build_leaf(&self, spec: &CertSpec) -> Result<ServerIdentity, ErrorStack> {
        let ca_cert = &self.cert;
        // ECDSA P-256 for the server key: generating it is instant, where each
        // RSA key costs up to a second on a slow machine (the CA already needs
        // one), and every TLS 1.2+ client supports it.
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
        let key = PKey::from_ec_key(EcKey::generate(&group)?)?;
        let mut leaf = X509::builder()?;
        leaf.set_version(2)?;
        leaf.set_serial_number(&*serial()?)?;
        leaf.set_subject_name(&*name(&spec.common_name)?)?;
        leaf.set_issuer_name(ca_cert.subject_name())?;
        leaf.set_pubkey(&key)?;
        leaf.set_not_before(&*Asn1Time::from_unix(spec.valid_from)?)?;
        leaf.set_not_after(&*Asn1Time::from_unix(spec.valid_until)?)?;
        leaf.append_extension(BasicConstraints::new().critical().build()?)?;
        leaf.append_extension(KeyUsage::new().critical().digital_signature().build()?)?;
        leaf.append_extension(ExtendedKeyUsage::new().server_auth().build()?)?;
        let mut san = SubjectAlternativeName::new();
        for ip in &spec.ip_addresses {
            san.ip(&ip.to_string());
        }
        for dns in &spec.dns_names {
            san.dns(dns);
        }
        let san = san.build(&leaf.x509v3_context(Some(ca_cert), None))?;
        leaf.append_extension(san)?;
        let ski = SubjectKeyIdentifier::new().build(&leaf.x509v3_context(Some(ca_cert), None))?;
        leaf.append_extension(ski)?;
        let aki = AuthorityKeyIdentifier::new()
            .keyid(false)
            .build(&leaf.x509v3_context(Some(ca_cert), None))?;
        leaf.append_extension(aki)?;
        leaf.sign(&self.key, MessageDigest::sha256())?;
        Ok(ServerIdentity {
            ca_cert: ca_cert.clone(),
            cert: leaf.build(),
            key,
        })
    }
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

/// A fresh CA and a [`CertSpec::loopback`] server certificate it signed.
pub fn generate_identity() -> io::Result<ServerIdentity> {
    CertificateAuthority::generate("snapb2b sandbox CA")?.issue(&CertSpec::loopback())
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
pub(crate) fn load_or_create_merchant_key(
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
pub(crate) fn public_of(key: &PKey<Private>) -> io::Result<PKey<Public>> {
    key.public_key_to_der()
        .and_then(|der| PKey::public_key_from_der(&der))
        .map_err(|e| other("extracting public key", e))
}

/// A client public key from a file: SPKI `PUBLIC KEY`, PKCS#1 `RSA PUBLIC KEY`,
/// an X.509 certificate (PEM or DER), or a private key (its public half; handy
/// for demo keys).
pub(crate) fn load_public_key(path: &Path) -> io::Result<PKey<Public>> {
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
    fn issued_certificates_follow_their_spec() {
        let ca = CertificateAuthority::generate("test CA").unwrap();
        let spec = CertSpec {
            common_name: "other.example".into(),
            dns_names: vec!["other.example".into()],
            ip_addresses: Vec::new(),
            valid_from: 1_000_000_000,
            valid_until: 1_000_086_400,
        };
        let id = ca.issue(&spec).unwrap();
        assert!(id.cert.verify(&ca.cert.public_key().unwrap()).unwrap());
        let sans = id.cert.subject_alt_names().unwrap();
        assert_eq!(sans.len(), 1);
        assert_eq!(sans.get(0).unwrap().dnsname(), Some("other.example"));
        let at = |t: i64| Asn1Time::from_unix(t).unwrap();
        assert_eq!(
            id.cert.not_before().compare(&at(spec.valid_from)).unwrap(),
            std::cmp::Ordering::Equal
        );
        assert_eq!(
            id.cert.not_after().compare(&at(spec.valid_until)).unwrap(),
            std::cmp::Ordering::Equal
        );
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
