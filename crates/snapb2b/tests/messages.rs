//! What an error may say: no configured secret (even when a provider echoes
//! the request), no URL credentials, no control character and no unbounded
//! text, in the message, the Display line or the JSON error. Against the
//! purpose-built servers of `snapb2b_sandbox::faults`.

#[path = "support/fault_server.rs"]
#[allow(unused_imports)] // shared with faults.rs, which uses them all
mod fault_server;

use fault_server::{fixture, Cert, Mode, Server};
use serde_json::{json, Value};
use snapb2b::token::get_token;
use snapb2b::{Error, Status};

const SECRET: &str = "kl1koo-Cl!ent\"Secret/with\\odd-chars";

fn klikoo_config(port: u16) -> Value {
    let f = fixture();
    json!({
        "provider": "klikoo",
        "base_url": format!("https://127.0.0.1:{port}"),
        "client_id": "C",
        "client_secret": SECRET,
        "private_key_file": f.key_file,
        "ca_file": f.ca_file,
        "timeout_ms": 2000,
    })
}

/// Every text an operator or a log may see of `e`.
fn all_text(e: &Error) -> String {
    format!("{e}\n{}", e.to_json())
}

#[test]
fn a_provider_echoing_the_request_body_does_not_put_the_client_secret_in_the_error() {
    let server = Server::start(Mode::Tls(Cert::Good), |s| {
        while let Some(req) = s.read_request() {
            let body = String::from_utf8_lossy(&req.body).into_owned();
            let answer = json!({"response_code": "400012001", "response_message": format!("bad request: {body}")});
            if !s.respond(400, &[], answer.to_string().as_bytes()) {
                return;
            }
        }
    });
    let e = get_token(&klikoo_config(server.port).to_string()).unwrap_err();
    assert_eq!(e.status, Status::B2B_PROVIDER, "{e}");
    let text = all_text(&e);
    assert!(text.contains("bad request"), "the echo is kept: {text}");
    // Neither as sent nor JSON-escaped, nor its distinctive part.
    assert!(!text.contains("kl1koo-Cl!ent"), "{text}");
}

#[test]
fn a_password_with_a_slash_in_base_url_is_never_shown() {
    let mut c = klikoo_config(9);
    c["base_url"] = json!("https://admin:pa/ss@127.0.0.1:9");
    let e = get_token(&c.to_string()).unwrap_err();
    assert_eq!(e.status, Status::B2B_INVALID_ARGUMENT);
    assert!(e.message.contains("credentials"), "{}", e.message);
    assert!(!all_text(&e).contains("pa/ss"), "{}", all_text(&e));
    // Whatever builds a message from such a URL, it leaves hidden.
    let e = Error::new(
        Status::B2B_TRANSPORT,
        "connect failed: https://admin:pa/ss@host:443/v1: refused",
    );
    assert!(!all_text(&e).contains("pa/ss"), "{}", all_text(&e));
    assert!(e.to_string().contains("https://***@host:443/v1"), "{e}");
}

#[test]
fn a_megabyte_of_provider_text_with_escapes_is_capped_and_printable() {
    let junk = "\u{1b}[2J\r\nX-Injected: 1 ".repeat(18_000);
    let server = Server::start(Mode::Tls(Cert::Good), move |s| {
        while let Some(_req) = s.read_request() {
            let answer = json!({"response_code": format!("400{junk}"), "response_message": junk});
            if !s.respond(401, &[], answer.to_string().as_bytes()) {
                return;
            }
        }
    });
    let e = get_token(&klikoo_config(server.port).to_string()).unwrap_err();
    assert_eq!(e.status, Status::B2B_PROVIDER, "{e}");
    let code = e.response_code.clone().unwrap();
    let message = e.response_message.clone().unwrap();
    assert!(code.chars().count() <= 64 && message.chars().count() <= 256);
    let json = e.to_json();
    for text in [
        &code,
        &message,
        &e.message,
        &e.to_string(),
        &json["message"].as_str().unwrap().to_string(),
        &json["response_message"].as_str().unwrap().to_string(),
    ] {
        assert!(!text.chars().any(char::is_control), "{text:?}");
        assert!(text.chars().count() <= 2048 + 64, "{}", text.len());
    }
}

#[test]
fn a_json_error_built_with_raw_text_is_bounded_and_printable() {
    let mut e = Error::new(Status::B2B_INTERNAL, "x\r\n\u{1b}".repeat(100_000));
    e.response_message = Some("\u{7}".repeat(10) + &"m".repeat(5000));
    e.hint = Some("h\n".repeat(5000));
    let json = e.to_json();
    for key in ["message", "response_message", "hint"] {
        let v = json[key].as_str().unwrap();
        assert!(!v.chars().any(char::is_control), "{key}");
        assert!(v.chars().count() <= 2048, "{key}: {}", v.len());
    }
    assert!(json["response_message"].as_str().unwrap().chars().count() <= 256);
    assert!(!e.to_string().contains('\n'));
}
