//! `snapb2b man`: the manual page (roff), laid out from the same texts as
//! `--help` (the overview's parts and every command's usage).

use super::{Command, COMMANDS};
use crate::args::{Parsed, Spec};
use crate::cli::{print_line, CliResult, Stdin};
use crate::help::{EXIT_STATUS, SANDBOX, SECRETS, SUMMARY, TOP_OPTIONS};

pub const COMMAND: Command = Command {
    name: "man",
    summary: "print the snapb2b(1) manual page (roff)",
    usage: "\
usage: snapb2b man

Prints the manual page in roff, made from the same texts as --help. Read it
with `snapb2b man | man -l -`; `make install` installs it as snapb2b.1.

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
    print_line(page().trim_end())?;
    Ok(0)
}

/// One line of text for roff: backslashes and hyphens escaped (`\-` keeps
/// options typeable when rendered), a leading `.` or `'` not read as a
/// request, non-ASCII as `\[uXXXX]`.
fn escape(line: &str) -> String {
    let mut out = String::new();
    if line.starts_with(['.', '\'']) {
        out.push_str("\\&");
    }
    for c in line.chars() {
        match c {
            '\\' => out.push_str("\\e"),
            '-' => out.push_str("\\-"),
            c if c.is_ascii() => out.push(c),
            c => out.push_str(&format!("\\[u{:04X}]", c as u32)),
        }
    }
    out
}

/// Text as it is laid out in --help: no filling, no hyphenation.
fn verbatim(text: &str) -> String {
    let mut out = String::from(".nf\n");
    for line in text.trim_end().lines() {
        out.push_str(&escape(line));
        out.push('\n');
    }
    out.push_str(".fi\n");
    out
}

/// Prose, filled by the formatter; blank lines start paragraphs.
fn paragraphs(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                ".PP".to_string()
            } else {
                escape(l)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

pub fn page() -> String {
    let version = env!("CARGO_PKG_VERSION");
    let mut s = format!(
        ".TH SNAPB2B 1 \"\" \"snapb2b {version}\" \"User Commands\"
.nh
.ad l
.SH NAME
snapb2b \\- {}
.SH SYNOPSIS
.B snapb2b
.I command
.RI [ options ]
.SH DESCRIPTION
{}.PP
Each command is described below with its own usage text, as
.B snapb2b
.I command
.B \\-\\-help
prints it.
.SH OPTIONS
",
        escape(SUMMARY.trim_end_matches('.')),
        paragraphs(SECRETS)
    );
    for (names, what) in TOP_OPTIONS {
        s.push_str(&format!(
            ".TP\n.B {}\n{}\n",
            escape(&names.join(", ")),
            escape(what)
        ));
    }
    s.push_str(".SH COMMANDS\n");
    for c in COMMANDS {
        s.push_str(&format!(
            ".SS {}\n{}\n.PP\n{}",
            escape(c.name),
            escape(c.summary),
            verbatim(c.usage)
        ));
    }
    s.push_str(&format!(
        ".SS {SANDBOX}\n{}",
        verbatim(snapb2b_sandbox::USAGE)
    ));
    s.push_str(&format!(".SH EXIT STATUS\n{}", paragraphs(EXIT_STATUS)));
    s
}
