//! `snapb2b headers`: the headers of one SNAP service call
//! (`Client::headers`), for callers that send the request themselves.

use snapb2b::client::Client;
use snapb2b::secret::SecretString;
use snapb2b::service_call::ServiceRequest;

use super::call::{data, method_and_path};
use super::token::read_config;
use super::Command;
use crate::args::{Parsed, Spec};
use crate::cli::{note, print_line, CliResult, Stdin};

pub const COMMAND: Command = Command {
    name: "headers",
    summary: "print the headers of a service call, to send it yourself (contains the token)",
    usage: "\
usage: snapb2b headers --config FILE.json|- METHOD PATH [--data JSON|@FILE|-]

Prints the headers of one SNAP service call as `Name: value` lines, in the
order to send them: Content-Type, Authorization (the token, fresh through the
caching client), X-TIMESTAMP, X-SIGNATURE, X-PARTNER-ID, X-EXTERNAL-ID (new)
and CHANNEL-ID. The config and METHOD, PATH and --data are as for
`snapb2b call`. Send the body minified (`snapb2b minify`): that is what is
signed. Send it within the provider's timestamp window (SNAP allows about 5
minutes), once: the X-EXTERNAL-ID may be used once a day.

The output contains the access token (and a signature): a warning saying so
goes to stderr. Do not log it.

options:
  --config FILE|-     the client config JSON; `-` reads it from stdin
  --data JSON|@FILE|- the JSON body, inline, from FILE or from stdin
  -h, --help          this text
",
    spec: Spec {
        values: &["--config", "--data"],
        flags: &[],
        max_positional: 2,
    },
    run,
};

fn run(args: &Parsed, stdin: &Stdin) -> CliResult<i32> {
    let config = read_config(args, stdin)?;
    let (method, path) = method_and_path(args)?;
    let body = data(args, stdin)?;
    let request = ServiceRequest::new(method, path, body.as_ref().map(|b| b.expose()))?;
    let client = Client::new(config.expose())?;
    let lines: Vec<SecretString> = client
        .headers(&request)?
        .into_iter()
        .map(|(name, value)| {
            // The value may be the token: wiped as it is dropped.
            let value = SecretString::new(value);
            SecretString::new(format!("{name}: {}", value.expose()))
        })
        .collect();
    let text = SecretString::new(
        lines
            .iter()
            .map(SecretString::expose)
            .collect::<Vec<_>>()
            .join("\n"),
    );
    note("warning: the printed headers contain the access token: do not log or share them");
    print_line(text.expose())?;
    Ok(0)
}
