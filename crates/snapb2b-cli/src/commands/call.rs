//! `snapb2b call`: one SNAP service call through the caching client
//! (`Client::request`): token, signature, X-EXTERNAL-ID and the no-re-send
//! rule are the library's; this prints the answer and maps it to an exit code.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use serde_json::{Map, Value};
use snapb2b::client::Client;
use snapb2b::secret::{SecretJson, SecretString};
use snapb2b::service_call::{ServiceRequest, ServiceResponse};
use snapb2b::{Error, Status};

use super::token::read_config;
use super::Command;
use crate::args::{Input, Parsed, Spec};
use crate::cli::{print_line, short_secret, utf8, CliError, CliResult, Stdin};

/// Offered by the completions for METHOD (any method the library accepts works).
pub const METHODS: &[&str] = &["POST", "GET", "PUT", "PATCH", "DELETE"];

pub const COMMAND: Command = Command {
    name: "call",
    summary: "send a SNAP service call (token, signature, X-EXTERNAL-ID) and print the answer",
    usage: "\
usage: snapb2b call --config FILE.json|- METHOD PATH [--data JSON|@FILE|-]
                    [-H 'Name: value']... [--external-id ID] [--timeout-ms N]
                    [--customer-token-env VAR | --customer-token-file FILE|-]

Sends one SNAP service call with the caching client (b2b_client_request): a
token through its cache, the headers Content-Type, Authorization, X-TIMESTAMP,
X-SIGNATURE, X-PARTNER-ID, X-EXTERNAL-ID and CHANNEL-ID, then the extra -H
headers. The config is the token config plus channel_id, client_secret (for
HMAC signatures) and optionally partner_id, service_signature,
external_id_length, max_response_bytes. PATH is the relative URL as sent,
query included, e.g. /v1.0/transfer-va/inquiry.

Prints the answer's status lines, a blank line, then the body as received:

  HTTP 200
  responseCode: 2002400
  responseMessage: Successful
  X-EXTERNAL-ID: 48213095...
  token-renewed: no
  attempts: 1

Exit 0 for a success (HTTP 2xx and a responseCode starting with 2, or none),
6 (PROVIDER) for any other answer. A refused token (HTTP 401, invalid token)
is renewed once and the call sent again with the same X-EXTERNAL-ID
(token-renewed: yes, attempts: 2). Without an answer: 4 (TRANSPORT), 5
(TIMEOUT) or 7 (PROTOCOL); the message says whether the call was \"not sent\"
or \"may have been processed\" (then query its status with the X-EXTERNAL-ID
it names before sending it again: it is never re-sent).

options:
  --config FILE|-     the client config JSON; `-` reads it from stdin
  --data JSON         the JSON body, sent minified (what is signed);
  --data @FILE|-      ... or read from FILE, or from stdin (`-` or `@-`)
  -H 'Name: value'    an extra header (repeatable); the headers the library
                      writes (X-SIGNATURE, Authorization, ...) are refused
  --external-id ID    this X-EXTERNAL-ID instead of a new one (providers
                      refuse one already used today: 409)
  --timeout-ms N      this call's time budget instead of the config's timeout_ms
  --customer-token-env VAR, --customer-token-file FILE|-
                      a customer (B2B2C) access token (snapb2b customer-token),
                      sent as Authorization-Customer: Bearer <token>
  -h, --help          this text
",
    spec: Spec {
        values: &[
            "--config",
            "--data",
            "-H",
            "--external-id",
            "--timeout-ms",
            "--customer-token-env",
            "--customer-token-file",
        ],
        flags: &[],
        max_positional: 2,
    },
    run,
};

/// METHOD and PATH, the positionals of `call` and `headers` (checked by the
/// library).
pub fn method_and_path(args: &Parsed) -> CliResult<(&str, &str)> {
    let [method, path] = args.positional() else {
        return Err(CliError::usage(
            "METHOD and PATH are required, e.g. POST /v1.0/transfer-va/inquiry",
        ));
    };
    match (method.to_str(), path.to_str()) {
        (Some(m), Some(p)) => Ok((m, p)),
        _ => Err(CliError::usage(
            "METHOD and PATH must be UTF-8 text (not shown)",
        )),
    }
}

/// The body from `--data JSON`, `--data @FILE` or `--data -` (`@-`), read
/// into wiping buffers (a body may carry account data).
pub fn data(args: &Parsed, stdin: &Stdin) -> CliResult<Option<SecretString>> {
    let Some(raw) = args.os_value("--data") else {
        return Ok(None);
    };
    let input = match raw.as_bytes() {
        b"-" => Some(Input::Stdin),
        [b'@', path @ ..] => Some(Input::from_arg(OsStr::from_bytes(path))),
        _ => None,
    };
    let text = match input {
        Some(input) => utf8(
            &stdin.read_input("--data", input, Status::B2B_INVALID_ARGUMENT)?,
            Status::B2B_INVALID_ARGUMENT,
            "--data",
        )?,
        None => SecretString::from(raw.to_str().ok_or_else(|| {
            CliError::usage("--data needs UTF-8 text, @FILE or - (value not shown)")
        })?),
    };
    Ok(Some(text))
}

/// `-H 'Name: value'` as (name, value), the value's surrounding blanks
/// dropped as HTTP does. Names and values are checked by the library; a
/// repeated name is refused here, where the library cannot see it.
fn extra_headers(args: &Parsed) -> CliResult<Vec<(&str, &str)>> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for h in args.values("-H") {
        let Some((name, value)) = h.split_once(':') else {
            return Err(CliError::usage(
                "-H needs `Name: value` (the value given has no colon; not shown)",
            ));
        };
        if out.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
            return Err(CliError::usage(format!(
                "-H {} is given more than once",
                snapb2b::redact::key_name(name)
            )));
        }
        out.push((name, value.trim_matches([' ', '\t'])));
    }
    Ok(out)
}

/// The request as `b2b_client_request` takes it, parsed by the library (one
/// set of checks for every binding). Built in a wiping value: it holds the
/// body and header values.
fn request(args: &Parsed, stdin: &Stdin) -> CliResult<ServiceRequest> {
    let (method, path) = method_and_path(args)?;
    let mut json = SecretJson(Value::Object(Map::new()));
    let fields = json.as_object_mut().expect("an object");
    fields.insert("method".into(), method.into());
    fields.insert("path".into(), path.into());
    if let Some(body) = data(args, stdin)? {
        // A JSON string holding the JSON text: sent as that text, minified.
        fields.insert("body".into(), body.expose().into());
    }
    let headers = extra_headers(args)?;
    if !headers.is_empty() {
        let headers = headers
            .into_iter()
            .map(|(n, v)| (n.to_string(), Value::from(v)))
            .collect();
        fields.insert("headers".into(), Value::Object(headers));
    }
    if let Some(id) = args.value("--external-id") {
        fields.insert("external_id".into(), id.into());
    }
    if let Some(ms) = args.number("--timeout-ms")? {
        fields.insert("timeout_ms".into(), ms.into());
    }
    if let Some(token) = short_secret(
        args,
        "--customer-token-env",
        "--customer-token-file",
        stdin,
        false,
    )? {
        fields.insert("customer_token".into(), token.expose().into());
    }
    let text = json
        .to_secret_buf()
        .map_err(|_| CliError::Lib(Error::new(Status::B2B_INTERNAL, "cannot build the request")))?;
    let text = utf8(&text, Status::B2B_INTERNAL, "the request")?;
    Ok(ServiceRequest::parse(text.expose())?)
}

/// The status lines, a blank line and the body, as one wiping string.
fn answer_text(answer: &ServiceResponse) -> SecretString {
    let mut lines = vec![format!("HTTP {}", answer.http_status)];
    if let Some(code) = &answer.response_code {
        lines.push(format!("responseCode: {code}"));
    }
    if let Some(message) = &answer.response_message {
        lines.push(format!("responseMessage: {message}"));
    }
    lines.push(format!("X-EXTERNAL-ID: {}", answer.external_id));
    lines.push(format!(
        "token-renewed: {}",
        if answer.token_renewed { "yes" } else { "no" }
    ));
    lines.push(format!("attempts: {}", answer.attempts));
    lines.push(String::new());
    let mut text = lines.join("\n");
    text.push('\n');
    text.push_str(&answer.body);
    SecretString::new(text)
}

/// SNAP's success: HTTP 2xx and a responseCode of class 2 (or none).
fn is_success(answer: &ServiceResponse) -> bool {
    (200..300).contains(&answer.http_status)
        && answer
            .response_code
            .as_deref()
            .is_none_or(|c| c.starts_with('2'))
}

fn run(args: &Parsed, stdin: &Stdin) -> CliResult<i32> {
    let config = read_config(args, stdin)?;
    let request = request(args, stdin)?;
    let client = Client::new(config.expose())?;
    // The library's token failure does not say that the call was not sent:
    // the token is taken first (request() then finds it cached) to say so.
    if let Err(mut e) = client.token() {
        e.message = format!(
            "{} {}: not sent: no token: {}",
            request.method, request.path, e.message
        );
        return Err(CliError::Lib(e));
    }
    let answer = client.request(&request)?;
    print_line(answer_text(&answer).expose())?;
    if is_success(&answer) {
        return Ok(0);
    }
    let code = answer
        .response_code
        .as_deref()
        .map(|c| format!(", responseCode {c}"))
        .unwrap_or_default();
    Err(CliError::Lib(Error::new(
        Status::B2B_PROVIDER,
        format!(
            "{} {}: not a success: HTTP {}{code} (the answer is on stdout)",
            request.method, request.path, answer.http_status
        ),
    )))
}
