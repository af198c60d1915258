//! `snapb2b curl`: the token request as a ready `curl` command, built by the
//! library's own request builder (same headers, body and timestamp handling
//! as `snapb2b token`).

use std::time::Duration;

use snapb2b::config::{Config, ConfigKind};
use snapb2b::secret::SecretString;
use snapb2b::{Error, Status};

use super::token::read_config;
use super::Command;
use crate::args::{Parsed, Spec};
use crate::cli::{note, print_line, CliError, CliResult, Stdin};

pub const COMMAND: Command = Command {
    name: "curl",
    summary: "print a ready curl command for the token request (contains credentials)",
    usage: "\
usage: snapb2b curl --config FILE.json|-

Prints a `curl` command that sends the token request the config describes:
its URL, the provider's headers with a freshly signed X-SIGNATURE, the JSON
body, --cacert when the config sets ca_file (curl then trusts only that
bundle, where the library trusts it on top of the system roots), and
--connect-timeout / --max-time from connect_timeout_ms / timeout_ms. Every value is single-quoted
for POSIX shells. Run it within the provider's timestamp window (SNAP allows
about 5 minutes).

The command contains credentials (the signature, and for Klikoo the client
secret in the body): a warning saying so goes to stderr. Do not log it.

options:
  --config FILE|-   the config JSON (as for `snapb2b token`); `-` reads stdin
  -h, --help        this text
",
    spec: Spec {
        values: &["--config"],
        flags: &[],
        max_positional: 0,
    },
    run,
};

/// `s` single-quoted for POSIX shells: `'` becomes `'\''`.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Seconds for curl's timeout options (`2.5`, `10`).
fn seconds(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{}", ms / 1000)
    } else {
        format!("{}.{:03}", ms / 1000, ms % 1000)
            .trim_end_matches('0')
            .to_string()
    }
}

fn run(args: &Parsed, stdin: &Stdin) -> CliResult<i32> {
    let text = read_config(args, stdin)?;
    // Client configs too (their cache settings simply do not apply here).
    let config = Config::parse(text.expose(), ConfigKind::Client)?;
    let key = config.load_key()?;
    let request = snapb2b::token::build_request(&config, &key, chrono::Utc::now())?;
    let body = std::str::from_utf8(&request.body).map_err(|_| {
        CliError::Lib(Error::new(
            Status::B2B_INTERNAL,
            "request body is not UTF-8",
        ))
    })?;

    let mut lines = vec![format!(
        "curl --silent --show-error {}",
        sh_quote(&request.url)
    )];
    // What the library's transport adds to every request.
    lines.push(format!("-A {}", sh_quote(snapb2b::transport::USER_AGENT)));
    lines.push(format!("-H {}", sh_quote("Content-Type: application/json")));
    lines.push(format!("-H {}", sh_quote("Accept: application/json")));
    for (name, value) in &request.headers {
        lines.push(format!("-H {}", sh_quote(&format!("{name}: {value}"))));
    }
    lines.push(format!("--data-raw {}", sh_quote(body)));
    if let Some(ca) = &config.ca_file {
        let ca = ca.path().to_str().ok_or_else(|| {
            CliError::Lib(Error::invalid_argument(
                "config key `ca_file` is not UTF-8: curl's command line cannot carry it",
            ))
        })?;
        lines.push(format!("--cacert {}", sh_quote(ca)));
    }
    lines.push(format!(
        "--connect-timeout {} --max-time {}",
        seconds(config.connect_timeout),
        seconds(config.timeout)
    ));
    let command = SecretString::new(lines.join(" \\\n  "));
    // The parts hold the body (Klikoo: the client secret): wiped as dropped.
    lines.into_iter().for_each(|l| drop(SecretString::new(l)));

    note(&format!(
        "warning: the printed command contains credentials ({}): do not log or share it",
        if config.client_secret.is_some() {
            "the client secret and a signature"
        } else {
            "a signature, valid for a few minutes"
        }
    ));
    print_line(command.expose())?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_seconds() {
        assert_eq!(sh_quote("a b"), "'a b'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
        assert_eq!(sh_quote(""), "''");
        assert_eq!(seconds(Duration::from_millis(10_000)), "10");
        assert_eq!(seconds(Duration::from_millis(2_500)), "2.5");
        assert_eq!(seconds(Duration::from_millis(1)), "0.001");
    }
}
