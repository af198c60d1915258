//! The top-level help text, in parts that `snapb2b man` also lays out.

use crate::commands;

pub const SUMMARY: &str =
    "SNAP (Bank Indonesia Open API) B2B signing and access tokens on the command line.";

/// `snapb2b sandbox` runs the sandbox crate's own command line.
pub const SANDBOX: &str = "sandbox";
pub const SANDBOX_SUMMARY: &str = "run the local sandbox provider (snapb2b sandbox --help)";

/// Top-level options: (spellings, description).
pub const TOP_OPTIONS: &[(&[&str], &str)] = &[
    (&["-h", "--help"], "this text"),
    (&["-V", "--version"], "print the version"),
];

/// Words taken in place of a command (`snapb2b help sign`, `snapb2b version`).
pub const HELP_WORD: &str = "help";
pub const VERSION_WORD: &str = "version";

pub const SECRETS: &str = "\
Secrets (private keys, passphrases, client secrets, access, refresh and
customer tokens) are read from files, stdin (`-`) or environment variables
(--key-env, --passphrase-env, --secret-env, --access-token-env,
--refresh-token-env, --customer-token-env), never from plain arguments, and
are never echoed in messages.";

pub const EXIT_STATUS: &str = "\
Exit status: 0 OK, 1 INVALID_ARGUMENT (also usage errors), 2 KEY, 3 CRYPTO,
4 TRANSPORT, 5 TIMEOUT, 6 PROVIDER, 7 PROTOCOL, 8 SIGNATURE_INVALID,
99 INTERNAL. Errors are printed to stderr as `snapb2b: NAME: message`.";

/// `snapb2b --help`.
pub fn overview() -> String {
    let mut s = format!(
        "usage: snapb2b <command> [options]     (snapb2b <command> --help for each)\n\n{SUMMARY}\n\ncommands:\n"
    );
    for c in commands::COMMANDS {
        s.push_str(&format!("  {:<16}{}\n", c.name, c.summary));
    }
    s.push_str(&format!("  {SANDBOX:<16}{SANDBOX_SUMMARY}\n\noptions:\n"));
    for (names, what) in TOP_OPTIONS {
        s.push_str(&format!("  {:<14}  {what}\n", names.join(", ")));
    }
    s.push_str(&format!("\n{SECRETS}\n\n{EXIT_STATUS}\n"));
    s
}
