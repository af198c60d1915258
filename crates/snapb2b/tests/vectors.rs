//! The public SNAP test vectors (copied into tests/vectors/; $SNAPB2B_VECTORS overrides):
//! B2B token signatures and the symmetric service signature, reproduced
//! exactly, plus verification round trips and rejections.

use std::path::PathBuf;

use serde_json::Value;
use snapb2b::keys::{PrivateKey, PublicKey};
use snapb2b::{minify, service, sign, Status};

fn vectors_dir() -> PathBuf {
    std::env::var_os("SNAPB2B_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/vectors"))
        })
}

fn load() -> (Value, PrivateKey, String) {
    let dir = vectors_dir();
    let text = std::fs::read_to_string(dir.join("snap-vectors.json")).unwrap_or_else(|e| {
        panic!(
            "vectors not found in {} ({e}); set SNAPB2B_VECTORS",
            dir.display()
        )
    });
    let v: Value = serde_json::from_str(&text).unwrap();
    let pem = std::fs::read_to_string(dir.join(v["private_key_file"].as_str().unwrap())).unwrap();
    let key = PrivateKey::parse(&pem, None).unwrap();
    let public = String::from_utf8(key.pkey().public_key_to_pem().unwrap()).unwrap();
    (v, key, public)
}

#[test]
fn b2b_token_signatures_match_the_vectors() {
    let (v, key, public) = load();
    let public = PublicKey::parse(&public).unwrap();
    for case in v["asymmetric_b2b_token"].as_array().unwrap() {
        let (client, ts) = (
            case["client_id"].as_str().unwrap(),
            case["timestamp"].as_str().unwrap(),
        );
        assert_eq!(
            sign::b2b_string_to_sign(client, ts),
            case["string_to_sign"].as_str().unwrap()
        );
        let sig = sign::b2b_signature(&key, client, ts).unwrap();
        assert_eq!(sig, case["signature"].as_str().unwrap());
        // The vector verifies (no freshness: it is an old timestamp) ...
        service::verify_b2b(&public, client, ts, &sig, 0).unwrap();
        // ... but not as fresh, nor for another client or timestamp.
        let e = service::verify_b2b(&public, client, ts, &sig, 300).unwrap_err();
        assert_eq!(e.status, Status::B2B_SIGNATURE_INVALID);
        assert!(e.message.contains("stale"), "{}", e.message);
        assert!(service::verify_b2b(&public, "OTHER", ts, &sig, 0).is_err());
        assert!(service::verify_b2b(&public, client, "2024-03-01T08:27:50.024Z", &sig, 0).is_err());
    }
}

#[test]
fn symmetric_service_signature_matches_the_vector() {
    let (v, _, _) = load();
    for case in v["symmetric_service"].as_array().unwrap() {
        let s = |k: &str| case[k].as_str().unwrap();
        assert_eq!(minify::minify_json(s("body")).unwrap(), s("minified_body"));
        let sig = service::service_signature(
            s("client_secret"),
            s("method"),
            s("path"),
            s("access_token"),
            Some(s("body")),
            s("timestamp"),
        )
        .unwrap();
        assert_eq!(sig, s("signature"));
        let verify = |secret: &str, body: &str, ts: &str| {
            service::verify_service_signature(
                secret,
                s("method"),
                s("path"),
                s("access_token"),
                Some(body),
                ts,
                &sig,
                0,
            )
        };
        verify(s("client_secret"), s("body"), s("timestamp")).unwrap();
        verify(s("client_secret"), s("minified_body"), s("timestamp")).unwrap();
        let tampered = s("minified_body").replace("12345678.00", "12345679.00");
        assert_eq!(
            verify(s("client_secret"), &tampered, s("timestamp"))
                .unwrap_err()
                .status,
            Status::B2B_SIGNATURE_INVALID
        );
        assert!(verify("wrong-secret", s("body"), s("timestamp")).is_err());
        assert!(verify(s("client_secret"), s("body"), "2024-03-05T10:37:17.196Z").is_err());
    }
}

#[test]
fn rsa_service_signatures_round_trip_and_reject_tampering() {
    let (_, key, public) = load();
    let public = PublicKey::parse(&public).unwrap();
    let ts = snapb2b::timestamp::TimestampStyle::Wib.now();
    let body = r#"{"partnerReferenceNo":"2020102900000000000001","amount":{"value":"10000.00","currency":"IDR"}}"#;
    let sig =
        service::service_signature_rsa(&key, "post", "/v1.0/transfer-va/payment", Some(body), &ts)
            .unwrap();
    let check = |b: &str, t: &str| {
        service::verify_service_signature_rsa(
            &public,
            "POST",
            "/v1.0/transfer-va/payment",
            Some(b),
            t,
            &sig,
            300,
        )
    };
    check(body, &ts).unwrap();
    check(&format!(" {body}\n"), &ts).unwrap(); // whitespace outside strings is not signed
    assert!(check(&body.replace("10000.00", "10001.00"), &ts).is_err());
    assert!(check(body, "2020-01-01T00:00:00+07:00").is_err());
    // Another key does not verify it.
    let other = openssl::rsa::Rsa::generate(2048).unwrap();
    let other_pub = String::from_utf8(other.public_key_to_pem().unwrap()).unwrap();
    let other_pub = PublicKey::parse(&other_pub).unwrap();
    let e = service::verify_service_signature_rsa(
        &other_pub,
        "POST",
        "/v1.0/transfer-va/payment",
        Some(body),
        &ts,
        &sig,
        300,
    )
    .unwrap_err();
    assert_eq!(e.status, Status::B2B_SIGNATURE_INVALID);
}

#[test]
fn public_keys_are_read_in_every_form() {
    let (_, key, spki) = load();
    let rsa = key.pkey().rsa().unwrap();
    let pkcs1 = String::from_utf8(rsa.public_key_to_pem_pkcs1().unwrap()).unwrap();
    let mut cert = openssl::x509::X509Builder::new().unwrap();
    cert.set_pubkey(key.pkey()).unwrap();
    cert.set_not_before(&openssl::asn1::Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    cert.set_not_after(&openssl::asn1::Asn1Time::days_from_now(1).unwrap())
        .unwrap();
    cert.sign(key.pkey(), openssl::hash::MessageDigest::sha256())
        .unwrap();
    let cert = String::from_utf8(cert.build().to_pem().unwrap()).unwrap();
    let bare: String = spki.lines().filter(|l| !l.starts_with("-----")).collect();
    for form in [&spki, &pkcs1, &cert, &bare, &spki.replace('\n', "\\n")] {
        PublicKey::parse(form).unwrap_or_else(|e| panic!("{e}: {form}"));
    }
    let private = String::from_utf8(key.pkey().private_key_to_pem_pkcs8().unwrap()).unwrap();
    let e = PublicKey::parse(&private).unwrap_err();
    assert_eq!(e.status, Status::B2B_KEY);
    assert!(!e.message.contains("MII"), "{}", e.message);
}

/// The copy in tests/vectors/ is the public set byte for byte, whenever a
/// published set is named by `SNAPB2B_PUBLISHED_VECTORS` (the Makefile
/// names the one beside the repository when there is one); the tests
/// themselves read only the copy.
#[test]
fn committed_vectors_are_the_published_ones() {
    let ours = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/vectors"));
    let Some(published) = std::env::var_os("SNAPB2B_PUBLISHED_VECTORS").map(PathBuf::from) else {
        eprintln!("SNAPB2B_PUBLISHED_VECTORS not set: comparison skipped");
        return;
    };
    let Ok(entries) = std::fs::read_dir(&published) else {
        panic!(
            "SNAPB2B_PUBLISHED_VECTORS names {}, which cannot be read",
            published.display()
        );
    };
    let mut names: Vec<_> = entries.map(|e| e.unwrap().file_name()).collect();
    names.sort();
    let mut kept: Vec<_> = std::fs::read_dir(&ours)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    kept.sort();
    assert_eq!(
        names,
        kept,
        "tests/vectors/ holds other files than {}",
        published.display()
    );
    for name in names {
        let a = std::fs::read(published.join(&name)).unwrap();
        let b = std::fs::read(ours.join(&name)).unwrap();
        assert!(
            a == b,
            "tests/vectors/{} differs from the published copy",
            name.to_string_lossy()
        );
    }
}
