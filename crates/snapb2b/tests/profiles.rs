//! Provider profiles against the in-process sandbox: every preset's round
//! trip, a user-supplied profile for a bank snapb2b has no preset for, the
//! answer passed on whole (`additional_info`, `token_type`), and Klikoo's
//! documented codes, each provoked for real and given its hint.

use std::sync::Arc;

use serde_json::{json, Value};
use snapb2b::client::Client;
use snapb2b::config::{Config, ConfigKind};
use snapb2b::service_call::ServiceRequest;
use snapb2b::token::get_token;
use snapb2b::{Error, Status};
use snapb2b_sandbox::{
    Sandbox, SandboxOptions, KLIKOO_CLIENT_SECRET, SERVICE_CHANNEL_ID, SERVICE_CLIENT_SECRET,
};

fn sandbox() -> Sandbox {
    Sandbox::start(SandboxOptions::default()).expect("sandbox starts")
}

/// The sandbox's config for `provider` with `extra` keys set (`null` removes).
fn config(sb: &Sandbox, provider: &str, extra: Value) -> Value {
    let mut c = sb.config_json(provider);
    for (k, v) in extra.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c
}

fn refused(c: &Value) -> Error {
    let e = get_token(&c.to_string()).unwrap_err();
    eprintln!("{e}");
    e
}

/// Bank Neo Commerce is not a preset. Its "Direct Debit - Get Access Token"
/// page (developers.bankneo.co.id/api-docs/article/direct-debit-get-access-token)
/// documents `POST /open/bi/1.0.0/get/token` with `X-SIGNATURE` =
/// SHA256withRSA(`client_id|X-TIMESTAMP`), `X-TIMESTAMP` as
/// `2022-09-28T13:00:00+07:00`, `X-CLIENT-KEY`, and a body of
/// `grant_type` = `client_credentials`: written here as a profile.
fn bnc_profile() -> Value {
    json!({
        "name": "bnc",
        "token_path": "/open/bi/1.0.0/get/token",
        "timestamp_style": "wib",
        "body": {"grant_type_key": "grant_type"}
    })
}

#[test]
fn every_preset_and_the_user_profile_round_trip() {
    let sb = sandbox();
    for provider in snapb2b_sandbox::PROVIDER_NAMES {
        let t = get_token(&sb.config_json(provider).to_string()).unwrap();
        assert_eq!(t.provider, provider);
        assert_eq!((t.expires_in, t.token_type.as_str()), (900, "Bearer"));
    }
}

#[test]
fn midtrans_sends_grant_type_and_reads_a_string_expires_in() {
    let sb = sandbox();
    let c = config(&sb, "midtrans", json!({}));
    assert_eq!(c["provider"], "midtrans");
    let t = get_token(&c.to_string()).unwrap();
    assert_eq!(
        (t.expires_in, t.response_code.as_deref()),
        (900, Some("2007300"))
    );
    // The same route refuses SNAP's camelCase `grantType`, as Midtrans does.
    let camel = config(
        &sb,
        "midtrans",
        json!({"profile": {"body": {"grant_type_key": "grantType"}}}),
    );
    let e = refused(&camel);
    assert_eq!((e.status, e.http_status), (Status::B2B_PROVIDER, Some(400)));
    assert_eq!(e.response_code.as_deref(), Some("4007302"));
    assert!(e.message.contains("grant_type"), "{e}");
}

#[test]
fn a_user_profile_for_a_bank_without_a_preset_gets_a_token() {
    let sb = sandbox();
    let c = config(
        &sb,
        "bnc",
        json!({"provider": null, "profile": bnc_profile()}),
    );
    assert!(c.get("provider").is_none());
    let t = get_token(&c.to_string()).unwrap();
    assert_eq!(t.provider, "bnc");
    assert_eq!(
        (t.expires_in, t.response_code.as_deref()),
        (900, Some("2007300"))
    );
    // Without the profile's body shape the bank refuses the SNAP default.
    let mut plain = bnc_profile();
    plain.as_object_mut().unwrap().remove("body");
    let e = refused(&config(
        &sb,
        "bnc",
        json!({"provider": null, "profile": plain}),
    ));
    assert_eq!(e.response_code.as_deref(), Some("4007302"), "{e}");
    // A caching client with it makes service calls under the bank's prefix.
    let mut cc = config(
        &sb,
        "bnc",
        json!({"provider": null, "profile": bnc_profile()}),
    );
    cc["client_secret"] = json!(SERVICE_CLIENT_SECRET);
    cc["channel_id"] = json!(SERVICE_CHANNEL_ID);
    let client = Client::with_clock(
        Config::from_map(cc.as_object().unwrap(), ConfigKind::Client).unwrap(),
        Arc::new(snapb2b::client::SystemClock),
    )
    .unwrap();
    let r = client
        .request(
            &ServiceRequest::new(
                "POST",
                "/open/bi/private/v1.0/balance-inquiry",
                Some(r#"{"partnerReferenceNo":"1","accountNo":"1234567890"}"#),
            )
            .unwrap(),
        )
        .unwrap();
    assert_eq!(r.response_code.as_deref(), Some("2001100"), "{}", r.body);
}

#[test]
fn a_profile_spelled_like_klikoo_is_klikoo() {
    let sb = sandbox();
    let profile = json!({
        "name": "klikoo-by-hand",
        "token_path": "/v1/open-api/access-token",
        "timestamp_header": "Open-Api-Timestamp",
        "signature_header": "Open-Api-Signature",
        "client_key_header": null,
        "body": {"grant_type_key": "grant_type", "additional_info_key": "additional_info",
                 "credentials": "additional_info", "client_id_key": "client_id",
                 "client_secret_key": "client_secret"},
        "response": {"response_code": "response_code", "response_message": "response_message",
                     "data": "data", "access_token": "access_token", "token_type": "token_type",
                     "expires_in": "expires_in"},
        "success_codes": ["2*"]
    });
    let c = config(&sb, "klikoo", json!({"provider": null, "profile": profile}));
    let t = get_token(&c.to_string()).unwrap();
    assert_eq!(
        (t.provider.as_ref(), t.response_code.as_deref()),
        ("klikoo-by-hand", Some("200012000"))
    );
    // Its client secret is required like the preset's.
    let e = Config::parse(
        &config(
            &sb,
            "klikoo",
            json!({"provider": null, "profile": c["profile"], "client_secret": null}),
        )
        .to_string(),
        ConfigKind::OneShot,
    )
    .unwrap_err();
    assert!(e.message.contains("client_secret"), "{e}");
}

#[test]
fn unknown_profile_keys_are_refused_by_name() {
    let sb = sandbox();
    for (profile, needle) in [
        (
            json!({"tokenPath": "/x"}),
            "unknown profile key `tokenPath`",
        ),
        (
            json!({"body": {"grant": "x"}}),
            "unknown profile key `grant` in `body`",
        ),
        (json!({"token_path": "x"}), "`token_path`"),
        (json!({"signature_header": "X SIG"}), "header name"),
    ] {
        let c = config(&sb, "snap", json!({ "profile": profile }));
        let e = Config::parse(&c.to_string(), ConfigKind::OneShot).unwrap_err();
        assert_eq!(e.status, Status::B2B_INVALID_ARGUMENT);
        assert!(e.message.contains(needle), "{}", e.message);
    }
}

#[test]
fn additional_info_and_token_type_are_passed_on() {
    let sb = sandbox();
    // The sandbox's generic bank answers an additionalInfo object.
    let t = get_token(&sb.config_json("snap").to_string()).unwrap();
    assert_eq!(
        t.additional_info,
        Some(json!({"bankCode": "SANDBOX", "channel": "b2b"}))
    );
    let v: Value = serde_json::from_slice(&t.to_json_secret(None)).unwrap();
    assert_eq!(v["additional_info"]["bankCode"], "SANDBOX");
    // DOKU's `"additionalInfo": ""` is no object: null.
    let t = get_token(&sb.config_json("doku").to_string()).unwrap();
    assert_eq!(t.additional_info, None);
    let v: Value = serde_json::from_slice(&t.to_json_secret(None)).unwrap();
    assert_eq!(v["additional_info"], Value::Null);
}

// ------------------------------------------------- Klikoo's vocabulary

fn klikoo(sb: &Sandbox, extra: Value) -> Value {
    config(sb, "klikoo", extra)
}

/// A refusal with Klikoo's code (service code `01`), message and our hint.
fn klikoo_refusal(c: &Value, http: u32, code: &str, message: &str, hint: &str) -> Error {
    let e = refused(c);
    assert_eq!(e.status, Status::B2B_PROVIDER, "{e}");
    assert_eq!(e.http_status, Some(http), "{e}");
    assert_eq!(e.response_code.as_deref(), Some(code), "{e}");
    assert_eq!(e.response_message.as_deref(), Some(message), "{e}");
    let h = e.hint.clone().unwrap_or_default();
    assert!(h.contains(hint), "{code}: hint {h:?}");
    e
}

#[test]
fn klikoo_signature_tidak_sesuai() {
    let sb = sandbox();
    let other = openssl::rsa::Rsa::generate(2048).unwrap();
    let pem = String::from_utf8(
        openssl::pkey::PKey::from_rsa(other)
            .unwrap()
            .private_key_to_pem_pkcs8()
            .unwrap(),
    )
    .unwrap();
    let c = klikoo(&sb, json!({"private_key_file": null, "private_key": pem}));
    klikoo_refusal(
        &c,
        400,
        "400016508",
        "Signature tidak sesuai",
        "could not verify Open-Api-Signature",
    );
}

#[test]
fn klikoo_waktu_tidak_sesuai_with_the_clock_offset() {
    let sb = sandbox();
    let c = klikoo(&sb, json!({"client_id": "FAULT-CLOCK"}));
    let e = klikoo_refusal(
        &c,
        400,
        "400016505",
        "Waktu tidak sesuai",
        "rejected the timestamp",
    );
    // The sandbox's clock runs 7 h ahead: named first.
    assert!(e.hint.unwrap().starts_with("your clock is 7 h behind"));
}

#[test]
fn klikoo_field_tidak_boleh_kosong() {
    // A profile that puts the secret under the wrong name: the field Klikoo
    // wants is missing.
    let sb = sandbox();
    let c = klikoo(
        &sb,
        json!({"profile": {"body": {"client_secret_key": "secret"}}}),
    );
    let e = refused(&c);
    assert_eq!(
        (
            e.http_status,
            e.response_code.as_deref(),
            e.response_message.as_deref()
        ),
        (
            Some(400),
            Some("400016512"),
            Some("Field tidak boleh kosong")
        )
    );
}

#[test]
fn klikoo_uuid_tidak_sesuai() {
    let sb = sandbox();
    let c = klikoo(&sb, json!({"client_id": "merchant-01"}));
    klikoo_refusal(
        &c,
        400,
        "400016568",
        "UUID tidak sesuai",
        "client_id is not in the form",
    );
}

#[test]
fn klikoo_grant_type_tidak_sesuai() {
    let sb = sandbox();
    let c = klikoo(&sb, json!({"client_id": "FAULT-GRANT"}));
    klikoo_refusal(
        &c,
        400,
        "400016569",
        "Grant type tidak sesuai",
        "grant type",
    );
}

#[test]
fn klikoo_kredensial_tidak_sesuai() {
    let sb = sandbox();
    for extra in [
        json!({"client_id": "3f9c8962-4c4b-4bb6-b3c1-000000000000"}),
        json!({"client_secret": "0".repeat(KLIKOO_CLIENT_SECRET.len())}),
    ] {
        let c = klikoo(&sb, extra);
        let e = klikoo_refusal(
            &c,
            401,
            "401016570",
            "Kredensial tidak sesuai",
            "client_secret",
        );
        assert!(!e.to_string().contains(&"0".repeat(32)));
    }
}

#[test]
fn klikoo_ip_tidak_ada_di_dalam_whitelist() {
    let sb = sandbox();
    let c = klikoo(&sb, json!({"client_id": "FAULT-IP"}));
    klikoo_refusal(
        &c,
        403,
        "403016571",
        "IP tidak ada di dalam whitelist",
        "whitelist",
    );
}

#[test]
fn klikoo_server_side_codes() {
    let sb = sandbox();
    let e = refused(&klikoo(&sb, json!({"client_id": "FAULT-500"})));
    assert_eq!(
        (
            e.http_status,
            e.response_code.as_deref(),
            e.response_message.as_deref()
        ),
        (Some(500), Some("500019999"), Some("Harap hubungi admin"))
    );
    let e = refused(&klikoo(&sb, json!({"client_id": "FAULT-FLAKY"})));
    assert_eq!(
        (
            e.http_status,
            e.response_code.as_deref(),
            e.response_message.as_deref()
        ),
        (
            Some(503),
            Some("503019991"),
            Some("Supplier sedang gangguan")
        )
    );
}

fn klikoo_client(sb: &Sandbox, client_id: &str) -> Client {
    let mut c = klikoo(sb, json!({"client_id": client_id}));
    c["channel_id"] = json!(SERVICE_CHANNEL_ID);
    Client::with_clock(
        Config::from_map(c.as_object().unwrap(), ConfigKind::Client).unwrap(),
        Arc::new(snapb2b::client::SystemClock),
    )
    .unwrap()
}

const VA: &str = r#"{"partnerServiceId":"  088899","customerNo":"1","virtualAccountNo":"  0888991","inquiryRequestId":"a"}"#;

#[test]
fn klikoo_token_tidak_sesuai_renews_the_token_once() {
    let sb = sandbox();
    let c = klikoo_client(&sb, snapb2b_sandbox::KLIKOO_CLIENT_ID);
    let call = ServiceRequest::new("POST", "/v1/open-api/transfer-va/inquiry", Some(VA)).unwrap();
    c.token().unwrap();
    sb.revoke_tokens();
    let r = c.request(&call).unwrap();
    // The revoked token drew 401xx6500; the client renewed it and succeeded.
    assert_eq!(r.response_code.as_deref(), Some("200242000"), "{}", r.body);
    assert_eq!((r.attempts, r.token_renewed), (2, true));
    assert_eq!(sb.stats()["service_401"], 1);
}

#[test]
fn klikoo_token_kadaluarsa_renews_the_token_once() {
    let sb = sandbox();
    let c = klikoo_client(&sb, "FAULT-SVC-EXPIRED");
    let call = ServiceRequest::new("POST", "/v1/open-api/transfer-va/inquiry", Some(VA)).unwrap();
    let r = c.request(&call).unwrap();
    assert_eq!(r.http_status, 401);
    assert_eq!(r.response_code.as_deref(), Some("401246535"), "{}", r.body);
    assert_eq!(r.response_message.as_deref(), Some("Token kadaluarsa"));
    // Recognised as the token refused: renewed and sent once more, no more.
    assert_eq!((r.attempts, r.token_renewed), (2, true));
}

#[test]
fn a_cached_token_keeps_its_additional_info_and_provider_name() {
    let sb = sandbox();
    let dir = std::env::temp_dir().join(format!("snapb2b-profiles-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cache = dir.join("token.json");
    let make = || {
        let mut c = config(&sb, "snap", json!({}));
        c["cache_file"] = json!(cache.to_string_lossy());
        c["profile"] = json!({"name": "my-bank"});
        Client::new(&c.to_string()).unwrap()
    };
    let (first, _) = make().token().unwrap();
    // A second client (as another process would) reads it from the file.
    let (second, source) = make().token().unwrap();
    assert_eq!(source, snapb2b::client::Source::Cached);
    assert_eq!(second.access_token.expose(), first.access_token.expose());
    assert_eq!(second.provider, "my-bank");
    assert_eq!(second.additional_info, first.additional_info);
    assert!(second.additional_info.is_some());
    let _ = std::fs::remove_dir_all(&dir);
}
