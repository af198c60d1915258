//! `snapb2b service-sign`: X-SIGNATURE of a SNAP service call or notification.

use super::{timestamp_or_now, Command};
use crate::args::{Parsed, Spec};
use crate::cli::{body, hmac_credentials, print_line, private_key, CliError, CliResult, Stdin};

pub const COMMAND: Command = Command {
    name: "service-sign",
    summary: "print the X-SIGNATURE of a service call (HMAC-SHA512 or SHA256withRSA)",
    usage: "\
usage: snapb2b service-sign --method M --path P [--timestamp TS | --style S]
                            [--body-file FILE|- | --body JSON|- | --body-stdin]
                            SIGNER [--headers]
  SIGNER, symmetric (service calls after the token; HMAC-SHA512):
      (--secret-env VAR | --secret-file FILE|-)
      (--access-token-env VAR | --access-token-file FILE|-)
  SIGNER, asymmetric (SHA256withRSA, e.g. notifications):
      (--key FILE|- | --key-env VAR) [--passphrase-env VAR | --passphrase-file FILE|-]

Prints the base64 X-SIGNATURE over SNAP's string to sign:
  symmetric   METHOD:path:access_token:hex(sha256(minify(body))):timestamp
  asymmetric  METHOD:path:hex(sha256(minify(body))):timestamp
No body (or an empty one) hashes the empty string. The body is minified the
way SNAP expects (whitespace outside strings only), so send the same JSON.

options:
  --method M                HTTP method (upper-cased)
  --path P                  the request path as sent, e.g. /v1.0/qr/qr-mpm-generate
  --timestamp TS            sign this X-TIMESTAMP (ISO-8601 with an offset); default:
                            now, in --style (wib, utc, utc_ms, wib_ms; default wib)
  --body-file FILE|-        the JSON body from FILE (`-`: stdin)
  --body JSON|-             the JSON body inline (`-`: stdin); --body-stdin is the same as `--body -`
  --secret-env VAR          the client secret from environment variable VAR
  --secret-file FILE|-      the client secret from FILE (one trailing line end is ignored)
  --access-token-env VAR    the B2B access token from VAR
  --access-token-file FILE  the B2B access token from FILE
  --key FILE|- / --key-env VAR, --passphrase-env VAR / --passphrase-file FILE
                            the RSA private key (as for `snapb2b sign`)
  --headers                 print `X-TIMESTAMP: ...` and `X-SIGNATURE: ...` lines
                            instead of the bare signature
  -h, --help                this text

Secrets are never taken as plain arguments (they would show in `ps`).
",
    spec: Spec {
        values: &[
            "--method",
            "--path",
            "--timestamp",
            "--style",
            "--body-file",
            "--body",
            "--secret-env",
            "--secret-file",
            "--access-token-env",
            "--access-token-file",
            "--key",
            "--key-env",
            "--passphrase-env",
            "--passphrase-file",
        ],
        flags: &["--headers", "--body-stdin"],
        max_positional: 0,
    },
    run,
};

pub const SYMMETRIC_OPTIONS: &[&str] = &[
    "--secret-env",
    "--secret-file",
    "--access-token-env",
    "--access-token-file",
];
pub const ASYMMETRIC_OPTIONS: &[&str] = &[
    "--key",
    "--key-env",
    "--passphrase-env",
    "--passphrase-file",
];

/// Checks `--path` before it is signed: a path on one line.
pub fn check_path(path: &str) -> CliResult<()> {
    if path.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(CliError::Lib(snapb2b::Error::invalid_argument(
            "--path must not contain spaces or control characters",
        )));
    }
    Ok(())
}

fn run(args: &Parsed, stdin: &Stdin) -> CliResult<i32> {
    let symmetric = !args.given(SYMMETRIC_OPTIONS).is_empty();
    let asymmetric = !args.given(ASYMMETRIC_OPTIONS).is_empty();
    if symmetric && asymmetric {
        return Err(CliError::usage(
            "choose one signer: --secret-*/--access-token-* (HMAC) or --key/--key-env (RSA)",
        ));
    }
    if !symmetric && !asymmetric {
        return Err(CliError::usage(
            "a signer is required: --secret-env/--secret-file with --access-token-env/--access-token-file, or --key/--key-env",
        ));
    }
    let method = args.required("--method")?;
    let path = args.required("--path")?;
    check_path(path)?;
    let timestamp = timestamp_or_now(args)?;
    let body = body(args, stdin)?;
    let signature = if symmetric {
        let (secret, token) = hmac_credentials(args, stdin)?;
        snapb2b::service::service_signature(
            secret.expose(),
            method,
            path,
            token.expose(),
            body.as_deref(),
            &timestamp,
        )?
    } else {
        let key = private_key(args, stdin)?;
        snapb2b::service::service_signature_rsa(&key, method, path, body.as_deref(), &timestamp)?
    };
    if args.flag("--headers") {
        print_line(&format!(
            "X-TIMESTAMP: {timestamp}\nX-SIGNATURE: {signature}"
        ))?;
    } else {
        print_line(&signature)?;
    }
    Ok(0)
}
