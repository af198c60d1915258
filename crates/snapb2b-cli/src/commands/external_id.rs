//! `snapb2b external-id`: a fresh X-EXTERNAL-ID (`external_id::generate`).

use snapb2b::external_id::{generate, DEFAULT_LENGTH};

use super::Command;
use crate::args::{Parsed, Spec};
use crate::cli::{print_line, CliResult, Stdin};

pub const COMMAND: Command = Command {
    name: "external-id",
    summary: "print a fresh X-EXTERNAL-ID (32 digits from the OS's CSPRNG)",
    usage: "\
usage: snapb2b external-id

Prints a new X-EXTERNAL-ID as the library makes one for each service call:
32 decimal digits (which every bank accepts) from the operating system's
random source, not starting with 0. Providers refuse an id used the same
day; pass it to `snapb2b call --external-id` to know it before sending.

options:
  -h, --help   this text
",
    spec: Spec {
        values: &[],
        flags: &[],
        max_positional: 0,
    },
    run,
};

fn run(_args: &Parsed, _stdin: &Stdin) -> CliResult<i32> {
    print_line(&generate(DEFAULT_LENGTH)?)?;
    Ok(0)
}
