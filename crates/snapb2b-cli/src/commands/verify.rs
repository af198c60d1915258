//! `snapb2b verify`: checks a signature someone sent (B2B token request,
//! asymmetric service/notification, or symmetric service call).

use snapb2b::{Error, Status};

use super::service_sign::check_path;
use super::Command;
use crate::args::{Parsed, Spec};
use crate::cli::{body, hmac_credentials, print_line, public_key, CliError, CliResult, Stdin};

pub const COMMAND: Command = Command {
    name: "verify",
    summary: "verify a token-request, service or notification signature (valid / invalid)",
    usage: "\
usage: snapb2b verify --public-key FILE|- --client-id ID --timestamp TS --signature SIG
                      [--max-skew-s N]
       snapb2b verify --service --public-key FILE|- --method M --path P --timestamp TS
                      --signature SIG [BODY] [--max-skew-s N]
       snapb2b verify --hmac (--secret-env VAR | --secret-file FILE|-)
                      (--access-token-env VAR | --access-token-file FILE|-)
                      --method M --path P --timestamp TS --signature SIG [BODY] [--max-skew-s N]
  BODY: --body-file FILE|- | --body JSON|- | --body-stdin (none: the empty body)

Prints `valid` (exit 0) or `invalid: <reason>` (exit 8, SIGNATURE_INVALID).
Other failures (unreadable key, malformed body) go to stderr with their status.

  default     a B2B token-request signature: SHA256withRSA over `client_id|timestamp`
  --service   an asymmetric service / notification signature (SHA256withRSA over
              METHOD:path:hex(sha256(minify(body))):timestamp)
  --hmac      a symmetric service signature (HMAC-SHA512 with the client secret over
              METHOD:path:access_token:hex(sha256(minify(body))):timestamp)

options:
  --public-key FILE|-       the signer's RSA public key (SPKI, PKCS#1 or certificate PEM,
                            or bare base64 DER); `-` reads stdin
  --client-id ID            the client id that was signed (default mode)
  --timestamp TS            the X-TIMESTAMP that came with the signature
  --signature SIG           the base64 X-SIGNATURE
  --max-skew-s N            refuse timestamps more than N s from now (default 300; 0: no check)
  --method M, --path P      the service call's method and path (--service, --hmac)
  --secret-env VAR | --secret-file FILE, --access-token-env VAR | --access-token-file FILE
                            the client secret and access token (--hmac)
  -h, --help                this text
",
    spec: Spec {
        values: &[
            "--public-key",
            "--client-id",
            "--timestamp",
            "--signature",
            "--max-skew-s",
            "--method",
            "--path",
            "--body-file",
            "--body",
            "--secret-env",
            "--secret-file",
            "--access-token-env",
            "--access-token-file",
        ],
        flags: &["--service", "--hmac", "--body-stdin"],
        max_positional: 0,
    },
    run,
};

const DEFAULT_MAX_SKEW_S: u64 = 300;
const BODY: &[&str] = &["--body-file", "--body", "--body-stdin"];
const HMAC: &[&str] = &[
    "--secret-env",
    "--secret-file",
    "--access-token-env",
    "--access-token-file",
];
const SERVICE: &[&str] = &["--method", "--path"];

fn refuse(mode: &str, args: &Parsed, groups: &[&[&str]]) -> CliResult<()> {
    for group in groups {
        if let Some(opt) = args.given(group).first() {
            return Err(CliError::usage(format!("{opt} does not apply to {mode}")));
        }
    }
    Ok(())
}

fn run(args: &Parsed, stdin: &Stdin) -> CliResult<i32> {
    if args.flag("--service") && args.flag("--hmac") {
        return Err(CliError::usage("--service and --hmac cannot be combined"));
    }
    let timestamp = args.required("--timestamp")?;
    let signature = args.required("--signature")?;
    let max_skew = args.number("--max-skew-s")?.unwrap_or(DEFAULT_MAX_SKEW_S);
    let max_skew =
        i64::try_from(max_skew).map_err(|_| CliError::usage("--max-skew-s is too large"))?;

    let outcome = if args.flag("--hmac") {
        refuse("--hmac", args, &[&["--public-key", "--client-id"]])?;
        let method = args.required("--method")?;
        let path = args.required("--path")?;
        check_path(path)?;
        let (secret, token) = hmac_credentials(args, stdin)?;
        let body = body(args, stdin)?;
        snapb2b::service::verify_service_signature(
            secret.expose(),
            method,
            path,
            token.expose(),
            body.as_deref(),
            timestamp,
            signature,
            max_skew,
        )
    } else if args.flag("--service") {
        refuse("--service", args, &[&["--client-id"], HMAC])?;
        let method = args.required("--method")?;
        let path = args.required("--path")?;
        check_path(path)?;
        let key = public_key(args, stdin)?;
        let body = body(args, stdin)?;
        snapb2b::service::verify_service_signature_rsa(
            &key,
            method,
            path,
            body.as_deref(),
            timestamp,
            signature,
            max_skew,
        )
    } else {
        refuse(
            "a token-request signature (add --service or --hmac for service calls)",
            args,
            &[SERVICE, BODY, HMAC],
        )?;
        let client_id = args.required("--client-id")?;
        if client_id.is_empty() {
            return Err(CliError::Lib(Error::invalid_argument(
                "--client-id is empty",
            )));
        }
        let key = public_key(args, stdin)?;
        snapb2b::service::verify_b2b(&key, client_id, timestamp, signature, max_skew)
    };
    match outcome {
        Ok(()) => {
            print_line("valid")?;
            Ok(0)
        }
        Err(e) if e.status == Status::B2B_SIGNATURE_INVALID => {
            print_line(&format!("invalid: {}", e.message))?;
            Ok(Status::B2B_SIGNATURE_INVALID.code())
        }
        Err(e) => Err(CliError::Lib(e)),
    }
}
