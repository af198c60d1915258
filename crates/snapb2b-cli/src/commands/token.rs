//! `snapb2b token`: one access-token request (or the caching client's token).

use snapb2b::client::Source;
use snapb2b::secret::SecretString;
use snapb2b::{Error, Status};

use super::Command;
use crate::args::{Parsed, Spec};
use crate::cli::{print_result, CliError, CliResult, Stdin};

pub const COMMAND: Command = Command {
    name: "token",
    summary: "request an access token as a config describes and print the result JSON",
    usage: "\
usage: snapb2b token --config FILE.json|- [--client] [--error-json]

Requests a B2B access token as the config JSON describes (the same config as
b2b_get_token: provider, base_url or environment, client_id, private_key or
private_key_file, ...) and prints the result JSON on one line:

  {\"provider\":\"doku\",\"access_token\":\"...\",\"token_type\":\"Bearer\",
   \"expires_in\":900,\"expires_at\":1795320000,\"response_code\":\"2007300\",...}

The exit code is the status code: 0 OK, 1 INVALID_ARGUMENT, 2 KEY, 3 CRYPTO,
4 TRANSPORT, 5 TIMEOUT, 6 PROVIDER, 7 PROTOCOL, 99 INTERNAL; the error goes to
stderr as `snapb2b: NAME: message`.

options:
  --config FILE|-   the config JSON file; `-` reads it from stdin
  --client          use the caching client (b2b_client_new): the config may
                    also set refresh_margin_s, max_retries, cache_file and
                    cache_url (redis://, rediss://, unix://: one token for
                    every host), and with either repeated runs reuse the token
                    while it is fresh; the result JSON then has
                    \"cached\": true|false and \"cache\": \"on\" or why not
  --error-json      on failure, also print the error JSON (status, name,
                    message, http_status, response_code, response_message,
                    hint) on stdout
  -h, --help        this text
",
    spec: Spec {
        values: &["--config"],
        flags: &["--client", "--error-json"],
        max_positional: 0,
    },
    run,
};

/// The config JSON from `--config FILE|-`.
pub fn read_config(args: &Parsed, stdin: &Stdin) -> CliResult<SecretString> {
    let input = args.required_input("--config")?;
    let bytes = stdin.read_input("--config", input, Status::B2B_INVALID_ARGUMENT)?;
    std::str::from_utf8(&bytes)
        .map(SecretString::from)
        .map_err(|_| CliError::Lib(Error::invalid_argument("the config is not UTF-8 text")))
}

fn run(args: &Parsed, stdin: &Stdin) -> CliResult<i32> {
    let config = read_config(args, stdin)?;
    let result = if args.flag("--client") {
        snapb2b::client::Client::new(config.expose())
            .and_then(|c| c.token())
            .map(|(t, source)| t.to_json_secret(Some(source == Source::Cached)))
    } else {
        snapb2b::token::get_token(config.expose()).map(|t| t.to_json_secret(None))
    };
    print_result(args, result)
}
