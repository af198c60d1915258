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
mod help;

use std::ffi::OsString;
use std::io::Write;

use snapb2b::{Error, Status};

use crate::args::Parse;
use crate::cli::{CliError, Stdin};
use crate::help::{HELP_WORD, SANDBOX, VERSION_WORD};

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn print_stdout(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// `snapb2b: NAME: message` on one line; a command-line mistake names the
/// command and points to its --help. Returns the exit code.
fn fail(err: CliError, command: Option<&str>) -> i32 {
    let e = match err {
        CliError::Usage(message) => Error::invalid_argument(match command {
            Some(c) => format!("{c}: {message} (see snapb2b {c} --help)"),
            None => format!("{message} (see snapb2b --help)"),
        }),
        CliError::Lib(e) => e,
    };
    let _ = writeln!(std::io::stderr().lock(), "snapb2b: {e}");
    e.status.code()
}

/// The sandbox's own command line; its exit code 2 (bad arguments) becomes
/// INVALID_ARGUMENT like every other usage error here.
fn sandbox(rest: Vec<OsString>) -> i32 {
    // Its parser takes text; refused here rather than altered by a lossy
    // conversion (a changed --dir would write somewhere unexpected).
    let Some(rest) = rest
        .into_iter()
        .map(OsString::into_string)
        .collect::<Result<Vec<String>, _>>()
        .ok()
    else {
        return fail(
            CliError::usage("arguments must be UTF-8 text (not shown)"),
            Some(SANDBOX),
        );
    };
    match snapb2b_sandbox::cli_main(rest) {
        2 => Status::B2B_INVALID_ARGUMENT.code(),
        code => code,
    }
}

fn unknown_command(name: &std::ffi::OsStr) -> i32 {
    let shown = name.to_str().map_or_else(
        || "(not UTF-8; not shown)".to_string(),
        snapb2b::redact::value,
    );
    fail(CliError::usage(format!("unknown command {shown}")), None)
}

fn run(argv: Vec<OsString>) -> i32 {
    let mut argv = argv.into_iter();
    let Some(name) = argv.next() else {
        return fail(CliError::usage("a command is required"), None);
    };
    let rest: Vec<OsString> = argv.collect();
    match name.to_str().unwrap_or("") {
        "-h" | "--help" | HELP_WORD => {
            // `snapb2b help sign` is `snapb2b sign --help`.
            match rest.first() {
                None => print_stdout(&help::overview()),
                Some(c) if c == SANDBOX => return sandbox(vec!["--help".into()]),
                Some(c) => match c.to_str().and_then(commands::find) {
                    Some(cmd) => print_stdout(cmd.usage),
                    None => return unknown_command(c),
                },
            }
            return 0;
        }
        "-V" | "--version" | VERSION_WORD => {
            print_stdout(&format!("snapb2b {VERSION}\n"));
            return 0;
        }
        SANDBOX => return sandbox(rest),
        _ => {}
    }
    let Some(cmd) = name.to_str().and_then(commands::find) else {
        return unknown_command(&name);
    };
    let parsed = match args::parse(&cmd.spec, &rest) {
        Ok(Parse::Help) => {
            print_stdout(cmd.usage);
            return 0;
        }
        Ok(Parse::Args(p)) => p,
        Err(e) => return fail(e, Some(cmd.name)),
    };
    let stdin = Stdin::default();
    match (cmd.run)(&parsed, &stdin) {
        Ok(code) => code,
        Err(e) => fail(e, Some(cmd.name)),
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
    // OS strings, not `env::args()` (which panics on non-UTF-8): file paths
    // need not be UTF-8, and the parser checks the rest.
    let argv: Vec<OsString> = std::env::args_os().skip(1).collect();
    let code = std::panic::catch_unwind(|| run(argv)).unwrap_or(Status::B2B_INTERNAL.code());
    std::process::exit(code);
}
