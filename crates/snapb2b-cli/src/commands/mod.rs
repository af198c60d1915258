//! The subcommands. Each module holds one: its usage text, the options it
//! accepts and a thin `run` over the library.

pub mod call;
pub mod completions;
pub mod curl;
pub mod customer_token;
pub mod external_id;
pub mod headers;
pub mod keygen;
pub mod man;
pub mod minify;
pub mod pubkey;
pub mod service_sign;
pub mod sign;
pub mod timestamp;
pub mod token;
pub mod verify;

use snapb2b::timestamp::TimestampStyle;
use snapb2b::Error;

use crate::args::{Parsed, Spec};
use crate::cli::{CliError, CliResult, Stdin};

pub struct Command {
    pub name: &'static str,
    pub summary: &'static str,
    pub usage: &'static str,
    pub spec: Spec,
    /// Returns the exit code (0, or 8 for a signature that does not verify).
    pub run: fn(&Parsed, &Stdin) -> CliResult<i32>,
}

pub const COMMANDS: &[Command] = &[
    sign::COMMAND,
    token::COMMAND,
    customer_token::COMMAND,
    verify::COMMAND,
    service_sign::COMMAND,
    minify::COMMAND,
    timestamp::COMMAND,
    curl::COMMAND,
    call::COMMAND,
    headers::COMMAND,
    external_id::COMMAND,
    keygen::COMMAND,
    pubkey::COMMAND,
    completions::COMMAND,
    man::COMMAND,
];

pub fn find(name: &str) -> Option<&'static Command> {
    COMMANDS.iter().find(|c| c.name == name)
}

/// `--style` (default wib).
pub fn style(args: &Parsed) -> CliResult<TimestampStyle> {
    Ok(TimestampStyle::parse(
        args.value("--style").unwrap_or("wib"),
    )?)
}

/// A timestamp as given on the command line: SNAP's ISO-8601 form, exactly
/// (it is signed byte for byte, so surrounding spaces are refused rather than
/// trimmed).
pub fn check_timestamp(ts: &str) -> CliResult<()> {
    if ts.trim() != ts || snapb2b::timestamp::parse(ts).is_none() {
        return Err(CliError::Lib(Error::invalid_argument(
            "--timestamp is not ISO-8601 with a T and an offset (e.g. 2024-12-31T10:11:40+07:00 or 2024-12-31T03:11:40.123Z)",
        )));
    }
    Ok(())
}

/// `--timestamp TS` as given, or a fresh one in `--style`, formatted once.
pub fn timestamp_or_now(args: &Parsed) -> CliResult<String> {
    match args.value("--timestamp") {
        Some(ts) => {
            if args.value("--style").is_some() {
                return Err(CliError::usage(
                    "--style formats a generated timestamp: it cannot be combined with --timestamp",
                ));
            }
            check_timestamp(ts)?;
            Ok(ts.to_string())
        }
        None => Ok(style(args)?.now()),
    }
}

/// A value that goes into an HTTP header line: printable ASCII.
pub fn header_safe(option: &str, value: &str) -> CliResult<()> {
    if value.is_empty() {
        return Err(CliError::Lib(Error::invalid_argument(format!(
            "{option} is empty"
        ))));
    }
    if !value.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
        return Err(CliError::Lib(Error::invalid_argument(format!(
            "{option} must be printable ASCII (it travels in an HTTP header)"
        ))));
    }
    Ok(())
}
