//! `snapb2b pubkey`: the public half of a private key, as portals ask for it.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::Command;
use crate::args::{Parsed, Spec};
use crate::cli::{print_line, private_key, CliError, CliResult, Stdin};

pub const COMMAND: Command = Command {
    name: "pubkey",
    summary: "print the public key of a private key (PEM, base64 DER or base64 PEM)",
    usage: "\
usage: snapb2b pubkey (--key FILE|- | --key-env VAR) [--format pem|base64-der|base64-pem]
                      [--passphrase-env VAR | --passphrase-file FILE|-]

Prints the RSA public key (SubjectPublicKeyInfo, as `openssl rsa -pubout`
writes it) of the private key, in the form a provider's portal asks for:

  pem          -----BEGIN PUBLIC KEY----- ... (default)
  base64-der   the DER as one line of base64 (the PEM body without armour)
  base64-pem   the whole PEM text base64-encoded, one line

options:
  --key FILE|-            RSA private key (any form snapb2b reads, including
                          base64-encoded PEM); `-` reads it from stdin
  --key-env VAR           read the key from environment variable VAR
  --format F              pem (default), base64-der, base64-pem
  --passphrase-env VAR    passphrase of an encrypted key, from VAR
  --passphrase-file FILE  passphrase of an encrypted key, from FILE (`-`: stdin)
  -h, --help              this text
",
    spec: Spec {
        values: &[
            "--key",
            "--key-env",
            "--format",
            "--passphrase-env",
            "--passphrase-file",
        ],
        flags: &[],
        max_positional: 0,
    },
    run,
};

fn run(args: &Parsed, stdin: &Stdin) -> CliResult<i32> {
    let format = args.value("--format").unwrap_or("pem");
    if !["pem", "base64-der", "base64-pem"].contains(&format) {
        return Err(CliError::usage(
            "--format must be pem, base64-der or base64-pem",
        ));
    }
    let key = private_key(args, stdin)?;
    let der = key.public_key_der()?;
    let body = STANDARD.encode(&der);
    let pem = {
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect();
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----",
            lines.join("\n")
        )
    };
    print_line(&match format {
        "base64-der" => body,
        "base64-pem" => STANDARD.encode(format!("{pem}\n")),
        _ => pem,
    })?;
    Ok(0)
}
