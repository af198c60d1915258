//! What every subcommand shares: the error type, stdout, and reading inputs
//! (files, stdin, environment variables) without ever echoing a secret.

use std::cell::Cell;
use std::io::Write;

use snapb2b::secret::{SecretBuf, SecretString};
use snapb2b::{Error, Status};

use crate::args::Input;

/// The most read from one file or stdin: far above any key, config, secret
/// or body, and a bound on what a mistaken `--body-file /dev/zero` costs.
pub const MAX_INPUT_BYTES: usize = 1 << 20;

/// Why a subcommand stopped.
#[derive(Debug)]
pub enum CliError {
    /// Bad command line: one line pointing to --help, exit 1.
    Usage(String),
    /// A library failure: printed as `snapb2b: NAME: message`, exit = status.
    Lib(Error),
}

impl CliError {
    pub fn usage(message: impl Into<String>) -> CliError {
        CliError::Usage(message.into())
    }
}

impl From<Error> for CliError {
    fn from(e: Error) -> CliError {
        CliError::Lib(e)
    }
}

pub type CliResult<T> = std::result::Result<T, CliError>;

/// Writes `text` and a newline to stdout. A closed pipe (`| head`) is not an
/// error worth a message; other write failures are.
/// Prints a library result JSON (kept in a wiping buffer) as one line, or
/// returns the error, first printing its JSON with `--error-json`: what
/// `token` and `customer-token` answer.
pub fn print_result(
    args: &crate::args::Parsed,
    result: snapb2b::Result<snapb2b::secret::SecretBytes>,
) -> CliResult<i32> {
    match result {
        Ok(json) => {
            let text = std::str::from_utf8(&json).map_err(|_| {
                CliError::Lib(Error::new(
                    Status::B2B_INTERNAL,
                    "the result JSON is not UTF-8",
                ))
            })?;
            print_line(text)?;
            Ok(0)
        }
        Err(e) => {
            if args.flag("--error-json") {
                print_line(&e.to_json().to_string())?;
            }
            Err(CliError::Lib(e))
        }
    }
}

pub fn print_line(text: &str) -> CliResult<()> {
    let mut out = std::io::stdout().lock();
    let result = out
        .write_all(text.as_bytes())
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::Lib(Error::new(
            Status::B2B_INTERNAL,
            format!("cannot write to stdout: {}", io_reason(&e)),
        ))),
    }
}

/// One line to stderr, prefixed `snapb2b: `.
pub fn note(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "snapb2b: {text}");
}

/// One wording of I/O failures for the library and the CLI.
pub use snapb2b::error::io_reason;

/// Everything `reader` yields, in a buffer that is wiped when it grows or
/// is dropped (inputs may be secrets); over [`MAX_INPUT_BYTES`] is an error.
fn read_bounded(reader: &mut impl std::io::Read) -> Result<SecretBuf, String> {
    let mut buf = SecretBuf::new();
    match buf.read_from(reader, MAX_INPUT_BYTES) {
        Ok(()) => Ok(buf),
        Err(_) if buf.len() > MAX_INPUT_BYTES => Err(format!(
            "larger than {} MiB, more than any input here",
            MAX_INPUT_BYTES >> 20
        )),
        Err(e) => Err(io_reason(&e)),
    }
}

/// Hands out stdin at most once per invocation.
#[derive(Default)]
pub struct Stdin {
    used: Cell<Option<&'static str>>,
}

impl Stdin {
    /// All of stdin, for the input named `what` (an option name).
    pub fn read(&self, what: &'static str) -> CliResult<SecretBuf> {
        if let Some(first) = self.used.get() {
            return Err(CliError::usage(format!(
                "{first} and {what} both read stdin: only one input can come from stdin"
            )));
        }
        self.used.set(Some(what));
        read_bounded(&mut std::io::stdin().lock()).map_err(|why| {
            CliError::Lib(Error::invalid_argument(format!(
                "{what}: cannot read stdin: {why}"
            )))
        })
    }

    /// The input `what` (an option name) from stdin or its file. The path is
    /// not shown: a secret may have been passed where its path belongs.
    pub fn read_input(
        &self,
        what: &'static str,
        input: Input,
        status: Status,
    ) -> CliResult<SecretBuf> {
        match input {
            Input::Stdin => self.read(what),
            Input::File(path) => std::fs::File::open(path)
                .map_err(|e| io_reason(&e))
                .and_then(|mut f| read_bounded(&mut f))
                .map_err(|why| {
                    CliError::Lib(Error::new(
                        status,
                        format!("{what}: cannot read the file (path not shown): {why}"),
                    ))
                }),
        }
    }
}

pub fn utf8(bytes: &[u8], status: Status, what: &str) -> CliResult<SecretString> {
    std::str::from_utf8(bytes)
        .map(SecretString::from)
        .map_err(|_| CliError::Lib(Error::new(status, format!("{what} is not UTF-8 text"))))
}

/// Environment variable names as POSIX shells write them. Checked before
/// use so that a secret passed where its variable's name belongs is never
/// echoed back in "variable ... is not set".
fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The value of environment variable `name`, for option `option`.
pub fn env_secret(option: &str, name: &str, status: Status) -> CliResult<SecretString> {
    if !is_env_name(name) {
        return Err(CliError::usage(format!(
            "{option} needs the NAME of an environment variable (the value given is not a variable name; not shown)"
        )));
    }
    match std::env::var_os(name) {
        None => Err(CliError::Lib(Error::new(
            status,
            format!("{option}: environment variable {name} is not set"),
        ))),
        Some(v) => match v.into_string() {
            Ok(s) => Ok(SecretString::new(s)),
            Err(_) => Err(CliError::Lib(Error::new(
                status,
                format!("{option}: environment variable {name} is not UTF-8"),
            ))),
        },
    }
}

/// A short secret (client secret, access token, passphrase) with the line
/// end a file or `echo` leaves behind removed.
pub fn trim_line_end(s: SecretString) -> SecretString {
    let trimmed = s.expose().trim_end_matches(['\r', '\n']);
    if trimmed.len() == s.expose().len() {
        s
    } else {
        SecretString::from(trimmed)
    }
}

/// A short secret from `--NAME-env VAR` or `--NAME-file FILE` (exactly one
/// required when `required`).
pub fn short_secret(
    args: &crate::args::Parsed,
    env_option: &'static str,
    file_option: &'static str,
    stdin: &Stdin,
    required: bool,
) -> CliResult<Option<SecretString>> {
    let chosen = if required {
        Some(args.exactly_one(&[env_option, file_option])?)
    } else {
        args.at_most_one(&[env_option, file_option])?
    };
    let value = match chosen {
        None => return Ok(None),
        Some(opt) if opt == env_option => env_secret(
            opt,
            args.value(opt).unwrap_or(""),
            Status::B2B_INVALID_ARGUMENT,
        )?,
        Some(opt) => {
            let input = args.required_input(opt)?;
            let bytes = stdin.read_input(file_option, input, Status::B2B_INVALID_ARGUMENT)?;
            utf8(&bytes, Status::B2B_INVALID_ARGUMENT, opt)?
        }
    };
    let value = trim_line_end(value);
    if value.expose().is_empty() {
        return Err(CliError::Lib(Error::invalid_argument(format!(
            "{} is empty",
            chosen.unwrap_or(env_option)
        ))));
    }
    Ok(Some(value))
}

/// The client secret and access token an HMAC service signature is computed
/// with (`--secret-env|--secret-file`, `--access-token-env|--access-token-file`).
pub fn hmac_credentials(
    args: &crate::args::Parsed,
    stdin: &Stdin,
) -> CliResult<(SecretString, SecretString)> {
    let required = |env_option, file_option| {
        short_secret(args, env_option, file_option, stdin, true)?
            .ok_or_else(|| CliError::usage(format!("{env_option} or {file_option} is required")))
    };
    Ok((
        required("--secret-env", "--secret-file")?,
        required("--access-token-env", "--access-token-file")?,
    ))
}

/// A private key from `--key FILE|-` or `--key-env VAR`, with its passphrase
/// from `--passphrase-env` / `--passphrase-file`.
pub fn private_key(
    args: &crate::args::Parsed,
    stdin: &Stdin,
) -> CliResult<snapb2b::keys::PrivateKey> {
    let text = match args.exactly_one(&["--key", "--key-env"])? {
        "--key-env" => env_secret(
            "--key-env",
            args.value("--key-env").unwrap_or(""),
            Status::B2B_KEY,
        )?,
        _ => {
            let input = args.required_input("--key")?;
            if let Input::File(path) = input {
                if looks_like_key_text(path) {
                    return Err(CliError::usage(
                        "--key takes a file path, and this looks like key text (not shown): \
                         pass the key on stdin with `--key -` or in a variable with `--key-env VAR`",
                    ));
                }
            }
            key_text(&stdin.read_input("--key", input, Status::B2B_KEY)?, "--key")?
        }
    };
    let passphrase = short_secret(args, "--passphrase-env", "--passphrase-file", stdin, false)?;
    Ok(snapb2b::keys::PrivateKey::parse(
        text.expose(),
        passphrase.as_ref().map(|p| p.expose()),
    )?)
}

/// Key text where a path belongs (refused before it is used as a path).
fn looks_like_key_text(path: &std::path::Path) -> bool {
    let path = path.as_os_str().as_encoded_bytes();
    path.len() > 1024
        || path.windows(5).any(|w| w == b"-----")
        || path.iter().any(u8::is_ascii_control)
}

/// A key read from a file or stdin, as text.
fn key_text(bytes: &[u8], what: &str) -> CliResult<SecretString> {
    std::str::from_utf8(bytes)
        .map(SecretString::from)
        .map_err(|_| {
            CliError::Lib(Error::key(format!(
            "{what}: the key is not text (a DER file? convert it with `openssl pkey -inform DER`)"
        )))
        })
}

/// A public key from `--public-key FILE|-`.
pub fn public_key(
    args: &crate::args::Parsed,
    stdin: &Stdin,
) -> CliResult<snapb2b::keys::PublicKey> {
    let input = args.required_input("--public-key")?;
    let text = key_text(
        &stdin.read_input("--public-key", input, Status::B2B_KEY)?,
        "--public-key",
    )?;
    Ok(snapb2b::keys::PublicKey::parse(text.expose())?)
}

/// A JSON body from `--body-file F`, `--body -` / `--body-stdin` or inline
/// `--body TEXT`; `None` when no body was given.
pub fn body(args: &crate::args::Parsed, stdin: &Stdin) -> CliResult<Option<String>> {
    let bytes = match args.at_most_one(&["--body", "--body-file", "--body-stdin"])? {
        None => return Ok(None),
        Some("--body-stdin") => stdin.read("--body-stdin")?,
        Some("--body") if args.value("--body") == Some("-") => stdin.read("--body")?,
        Some("--body") => return Ok(args.value("--body").map(str::to_string)),
        Some(_) => {
            let input = args.required_input("--body-file")?;
            stdin.read_input("--body-file", input, Status::B2B_INVALID_ARGUMENT)?
        }
    };
    std::str::from_utf8(&bytes)
        .map(|s| Some(s.to_string()))
        .map_err(|_| CliError::Lib(Error::invalid_argument("the body is not UTF-8 text")))
}
