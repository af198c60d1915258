//! `snapb2b sign`: the headers of a B2B access-token request.

use super::{header_safe, timestamp_or_now, Command};
use crate::args::{Parsed, Spec};
use crate::cli::{print_line, private_key, CliResult, Stdin};

pub const COMMAND: Command = Command {
    name: "sign",
    summary: "print the X-TIMESTAMP, X-CLIENT-KEY and X-SIGNATURE headers of a token request",
    usage: "\
usage: snapb2b sign (--key FILE|- | --key-env VAR) --client-id ID
                    [--timestamp TS | --style wib|utc|utc_ms|wib_ms]
                    [--passphrase-env VAR | --passphrase-file FILE|-]

Signs `client_id|timestamp` with SHA256withRSA (SNAP's B2B token signature)
and prints the request headers, one `Name: value` line each:

  X-TIMESTAMP: 2024-12-31T10:11:40+07:00
  X-CLIENT-KEY: <client id>
  X-SIGNATURE: <base64 signature>

The timestamp is generated once (in --style, default wib) unless given; the
printed timestamp is exactly the one signed.

options:
  --key FILE|-            RSA private key file (PEM PKCS#8/PKCS#1, encrypted,
                          bare base64 DER); `-` reads it from stdin
  --key-env VAR           read the key from environment variable VAR
  --client-id ID          your client id (X-CLIENT-KEY)
  --timestamp TS          sign this timestamp (ISO-8601 with an offset)
  --style S               wib (+07:00, default), utc (Z), utc_ms, wib_ms
  --passphrase-env VAR    passphrase of an encrypted key, from VAR
  --passphrase-file FILE  passphrase of an encrypted key, from FILE (`-`: stdin)
  -h, --help              this text
",
    spec: Spec {
        values: &[
            "--key",
            "--key-env",
            "--client-id",
            "--timestamp",
            "--style",
            "--passphrase-env",
            "--passphrase-file",
        ],
        flags: &[],
        max_positional: 0,
    },
    run,
};

fn run(args: &Parsed, stdin: &Stdin) -> CliResult<i32> {
    let client_id = args.required("--client-id")?;
    header_safe("--client-id", client_id)?;
    let timestamp = timestamp_or_now(args)?;
    let key = private_key(args, stdin)?;
    let signature = snapb2b::sign::b2b_signature(&key, client_id, &timestamp)?;
    print_line(&format!(
        "X-TIMESTAMP: {timestamp}\nX-CLIENT-KEY: {client_id}\nX-SIGNATURE: {signature}"
    ))?;
    Ok(0)
}
