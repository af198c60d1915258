//! `snapb2b`: the library on the command line, for operators and for
//! systems that can only shell out. Every subcommand is a thin layer over
//! the Rust API (`snapb2b::sign`, `token`, `client`, `service`, `minify`,
//! `timestamp`, `sandbox`); see `snapb2b --help`.
//!
//! Exit codes are the library's status codes (0 OK, 1 INVALID_ARGUMENT incl.
//! usage errors, 2 KEY, ... 8 SIGNATURE_INVALID, 99 INTERNAL); errors go to
//! stderr as `snapb2b: NAME: message` and never carry a secret.

mod args;
mod cli;
mod commands;

use std::io::Write;

use snapb2b::{Error, Status};

use crate::args::Parse;
use crate::cli::{CliError, Stdin};

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn usage() -> String {
    let mut s = String::from(
        "\
usage: snapb2b <command> [options]     (snapb2b <command> --help for each)

SNAP (Bank Indonesia Open API) B2B signing and access tokens on the command line.

commands:
",
    );
    for c in commands::COMMANDS {
        s.push_str(&format!("  {:<14}{}\n", c.name, c.summary));
    }
    s.push_str(&format!(
        "  {:<14}{}\n",
        "sandbox", "run the local sandbox provider (snapb2b sandbox --help)"
    ));
    s.push_str(
        "
options:
  -h, --help      this text
  -V, --version   print the version

Secrets (private keys, passphrases, client secrets, access tokens) are read
from files, stdin (`-`) or environment variables (--key-env, --passphrase-env,
--secret-env, --access-token-env), never from plain arguments, and are never
echoed in messages.

Exit status: 0 OK, 1 INVALID_ARGUMENT (also usage errors), 2 KEY, 3 CRYPTO,
4 TRANSPORT, 5 TIMEOUT, 6 PROVIDER, 7 PROTOCOL, 8 SIGNATURE_INVALID,
99 INTERNAL. Errors are printed to stderr as `snapb2b: NAME: message`.
",
    );
    s
}

fn print_stdout(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// `snapb2b: NAME: message`, plus the usage text for command-line mistakes;
/// returns the exit code.
fn fail(err: CliError, usage_text: &str) -> i32 {
    let mut stderr = std::io::stderr().lock();
    match err {
        CliError::Usage(message) => {
            let e = Error::invalid_argument(message);
            let _ = writeln!(stderr, "snapb2b: {e}\n\n{usage_text}");
            e.status.code()
        }
        CliError::Lib(e) => {
            let _ = writeln!(stderr, "snapb2b: {e}");
            e.status.code()
        }
    }
}

/// The sandbox's own command line; its exit code 2 (bad arguments) becomes
/// INVALID_ARGUMENT like every other usage error here.
fn sandbox(rest: Vec<String>) -> i32 {
    match snapb2b_sandbox::cli_main(rest) {
        2 => Status::B2B_INVALID_ARGUMENT.code(),
        code => code,
    }
}

fn run(argv: Vec<String>) -> i32 {
    let top = usage();
    let mut argv = argv.into_iter();
    let Some(name) = argv.next() else {
        return fail(CliError::usage("a command is required"), &top);
    };
    let rest: Vec<String> = argv.collect();
    match name.as_str() {
        "-h" | "--help" | "help" => {
            // `snapb2b help sign` is `snapb2b sign --help`.
            match rest.first().map(String::as_str) {
                None => print_stdout(&top),
                Some("sandbox") => return sandbox(vec!["--help".into()]),
                Some(c) => match commands::find(c) {
                    Some(cmd) => print_stdout(cmd.usage),
                    None => {
                        return fail(
                            CliError::usage(format!(
                                "unknown command {}",
                                snapb2b::redact::value(c)
                            )),
                            &top,
                        )
                    }
                },
            }
            return 0;
        }
        "-V" | "--version" | "version" => {
            print_stdout(&format!("snapb2b {VERSION}\n"));
            return 0;
        }
        "sandbox" => return sandbox(rest),
        _ => {}
    }
    let Some(cmd) = commands::find(&name) else {
        return fail(
            CliError::usage(format!("unknown command {}", snapb2b::redact::value(&name))),
            &top,
        );
    };
    let parsed = match args::parse(&cmd.spec, &rest) {
        Ok(Parse::Help) => {
            print_stdout(cmd.usage);
            return 0;
        }
        Ok(Parse::Args(p)) => p,
        Err(e) => return fail(e, cmd.usage),
    };
    let stdin = Stdin::default();
    match (cmd.run)(&parsed, &stdin) {
        Ok(code) => code,
        Err(e) => fail(e, cmd.usage),
    }
}

fn main() {
    // A panic is a bug: report it as INTERNAL (99) without the default
    // message, whose payload could in principle carry data.
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let _ = writeln!(
            std::io::stderr().lock(),
            "snapb2b: INTERNAL: unexpected failure{at} (a bug; please report it)"
        );
    }));
    // Lossy rather than `env::args()`, which panics on non-UTF-8 arguments.
    let argv: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let code = std::panic::catch_unwind(|| run(argv)).unwrap_or(Status::B2B_INTERNAL.code());
    std::process::exit(code);
}
