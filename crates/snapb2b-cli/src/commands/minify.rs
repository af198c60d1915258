//! `snapb2b minify`: JSON minified as SNAP signatures hash it.

use super::Command;
use crate::args::{Parsed, Spec};
use crate::cli::{print_line, CliError, CliResult, Stdin};

pub const COMMAND: Command = Command {
    name: "minify",
    summary: "print JSON minified as SNAP service signatures hash it",
    usage: "\
usage: snapb2b minify [FILE|-]

Prints the JSON in FILE (or stdin, also with `-`) with the insignificant
whitespace outside strings removed and nothing else changed: key order,
number spelling and string escapes stay byte for byte. Invalid JSON exits 1
(INVALID_ARGUMENT).

options:
  -h, --help   this text
",
    spec: Spec {
        values: &[],
        flags: &[],
        max_positional: 1,
    },
    run,
};

fn run(args: &Parsed, stdin: &Stdin) -> CliResult<i32> {
    let bytes = match args.positional().first().map(String::as_str) {
        None | Some("-") => stdin.read("stdin")?,
        Some(path) => snapb2b::secret::SecretBytes::new(std::fs::read(path).map_err(|e| {
            CliError::Lib(snapb2b::Error::invalid_argument(format!(
                "cannot read {}: {}",
                snapb2b::redact::path(std::path::Path::new(path)),
                e.kind()
            )))
        })?),
    };
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        CliError::Lib(snapb2b::Error::invalid_argument(
            "the input is not UTF-8 text",
        ))
    })?;
    print_line(&snapb2b::minify::minify_json(text)?)?;
    Ok(0)
}
