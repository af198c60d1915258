//! `snapb2b customer-token`: a customer (SNAP B2B2C) token for an auth code
//! or a refresh token (`Client::customer_token`).

use serde_json::{Map, Value};
use snapb2b::client::Client;
use snapb2b::customer_token::CustomerTokenRequest;
use snapb2b::secret::SecretJson;
use snapb2b::{Error, Status};

use super::token::read_config;
use super::Command;
use crate::args::{Parsed, Spec};
use crate::cli::{print_result, short_secret, utf8, CliError, CliResult, Stdin};

pub const COMMAND: Command = Command {
    name: "customer-token",
    summary: "exchange a customer's auth code or a refresh token for a B2B2C token",
    usage: "\
usage: snapb2b customer-token --config FILE.json|-
           (--auth-code CODE | --auth-code-file FILE|-
            | --refresh-token-env VAR | --refresh-token-file FILE|-)
           [--timeout-ms N] [--error-json]

Asks the provider of the config (DOKU, or a SNAP bank: POST
<prefix>/v1.0/access-token/b2b2c) for a customer (B2B2C, service 74) token:
grant authorization_code for the code the customer's consent redirect carried,
or refresh_token for the refresh token of an earlier answer (each is usable
once). Signed as the B2B token is (X-TIMESTAMP, X-CLIENT-KEY, X-SIGNATURE).
Prints the result JSON on one line:

  {\"provider\":\"snap\",\"access_token\":\"...\",\"token_type\":\"Bearer\",
   \"access_token_expires_at\":1795320000,\"refresh_token\":\"...\",
   \"refresh_token_expires_at\":1797912000,\"customer_id\":\"...\",
   \"additional_info\":{...},\"response_code\":\"2007400\",...}

Send the access token with service calls as `snapb2b call ...
--customer-token-file FILE` (Authorization-Customer: Bearer ...). The exit
code is the status code (6 PROVIDER for a refused code or refresh token); a
request that may have reached the provider is never sent again.

options:
  --config FILE|-             the client config JSON; `-` reads it from stdin
  --auth-code CODE            the customer's authorization code (single use)
  --auth-code-file FILE|-     ... read from FILE, or stdin
  --refresh-token-env VAR     the refresh token from environment variable VAR
  --refresh-token-file FILE|- the refresh token from FILE, or stdin
  --timeout-ms N              this request's time budget instead of timeout_ms
  --error-json                on failure, also print the error JSON on stdout
  -h, --help                  this text
",
    spec: Spec {
        values: &[
            "--config",
            "--auth-code",
            "--auth-code-file",
            "--refresh-token-env",
            "--refresh-token-file",
            "--timeout-ms",
        ],
        flags: &["--error-json"],
        max_positional: 0,
    },
    run,
};

const GRANTS: &[&str] = &[
    "--auth-code",
    "--auth-code-file",
    "--refresh-token-env",
    "--refresh-token-file",
];

/// The request as `b2b_client_customer_token` takes it, parsed by the
/// library (its checks, its messages), built in a wiping value.
fn request(args: &Parsed, stdin: &Stdin) -> CliResult<CustomerTokenRequest> {
    let grant = args.exactly_one(GRANTS)?;
    let (key, value) = match grant {
        "--auth-code" => (
            "auth_code",
            snapb2b::secret::SecretString::from(args.required("--auth-code")?),
        ),
        "--auth-code-file" => {
            let input = args.required_input(grant)?;
            let bytes =
                stdin.read_input("--auth-code-file", input, Status::B2B_INVALID_ARGUMENT)?;
            (
                "auth_code",
                crate::cli::trim_line_end(utf8(&bytes, Status::B2B_INVALID_ARGUMENT, grant)?),
            )
        }
        _ => (
            "refresh_token",
            short_secret(
                args,
                "--refresh-token-env",
                "--refresh-token-file",
                stdin,
                true,
            )?
            .ok_or_else(|| CliError::usage("a refresh token is required"))?,
        ),
    };
    let mut json = SecretJson(Value::Object(Map::new()));
    let fields = json.as_object_mut().expect("an object");
    fields.insert(key.into(), value.expose().into());
    if let Some(ms) = args.number("--timeout-ms")? {
        fields.insert("timeout_ms".into(), ms.into());
    }
    let text = json
        .to_secret_buf()
        .map_err(|_| CliError::Lib(Error::new(Status::B2B_INTERNAL, "cannot build the request")))?;
    let text = utf8(&text, Status::B2B_INTERNAL, "the request")?;
    Ok(CustomerTokenRequest::parse(text.expose())?)
}

fn run(args: &Parsed, stdin: &Stdin) -> CliResult<i32> {
    let config = read_config(args, stdin)?;
    let request = request(args, stdin)?;
    let result = Client::new(config.expose())
        .and_then(|c| c.customer_token(&request))
        .map(|token| token.to_json_secret());
    print_result(args, result)
}
