//! `snapb2b timestamp`: the current time as SNAP writes it.

use super::{style, Command};
use crate::args::{Parsed, Spec};
use crate::cli::{print_line, CliResult, Stdin};

pub const COMMAND: Command = Command {
    name: "timestamp",
    summary: "print the current time as a SNAP timestamp",
    usage: "\
usage: snapb2b timestamp [--style wib|utc|utc_ms|wib_ms]

Prints the current time formatted from UTC with a fixed offset (never the
host's timezone):

  wib      2024-12-31T10:11:40+07:00   (default)
  utc      2024-12-31T03:11:40Z
  utc_ms   2024-12-31T03:11:40.123Z
  wib_ms   2024-12-31T10:11:40.123+07:00

options:
  --style S    the form (default wib)
  -h, --help   this text
",
    spec: Spec {
        values: &["--style"],
        flags: &[],
        max_positional: 0,
    },
    run,
};

fn run(args: &Parsed, _stdin: &Stdin) -> CliResult<i32> {
    print_line(&style(args)?.now())?;
    Ok(0)
}
