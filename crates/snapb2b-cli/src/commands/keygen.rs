//! `snapb2b keygen`: a new RSA private key for a provider's portal.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use snapb2b::keys::PrivateKey;
use snapb2b::{Error, Status};

use super::Command;
use crate::args::{Input, Parsed, Spec};
use crate::cli::{io_reason, note, CliError, CliResult, Stdin};

pub const COMMAND: Command = Command {
    name: "keygen",
    summary: "write a new RSA private key (PKCS#8 PEM, mode 0600)",
    usage: "\
usage: snapb2b keygen --out FILE [--bits 2048|3072|4096] [--force]

Generates an RSA private key and writes it to FILE as unencrypted PKCS#8 PEM
(-----BEGIN PRIVATE KEY-----), readable by its owner only (mode 0600). The
file is created new: an existing FILE is refused unless --force, and a
symbolic link is never followed. Give the provider the public half:

  snapb2b pubkey --key FILE

options:
  --out FILE      where to write the key (created 0600)
  --bits N        key size: 2048 (default), 3072 or 4096
  --force         replace an existing FILE (atomically, by rename)
  -h, --help      this text
",
    spec: Spec {
        values: &["--out", "--bits"],
        flags: &["--force"],
        max_positional: 0,
    },
    run,
};

fn run(args: &Parsed, _stdin: &Stdin) -> CliResult<i32> {
    let bits = match args.number("--bits")? {
        None => 2048,
        Some(b @ (2048 | 3072 | 4096)) => b as u32,
        Some(_) => return Err(CliError::usage("--bits must be 2048, 3072 or 4096")),
    };
    let out = match args.required_input("--out")? {
        Input::File(path) => path,
        Input::Stdin => {
            return Err(CliError::usage(
                "--out needs a file: a private key is not printed to the terminal",
            ))
        }
    };
    let key = PrivateKey::generate(bits)?;
    let pem = key.to_pkcs8_pem()?;
    write_private(out, pem.expose().as_bytes(), args.flag("--force"))?;
    note(&format!(
        "wrote a {bits}-bit RSA private key to {} (mode 0600)",
        snapb2b::redact::path(out)
    ));
    Ok(0)
}

fn io_error(path: &Path, what: &str, e: &std::io::Error) -> CliError {
    CliError::Lib(Error::new(
        Status::B2B_INVALID_ARGUMENT,
        format!(
            "cannot {what} {}: {}",
            snapb2b::redact::path(path),
            io_reason(e)
        ),
    ))
}

/// A new file, 0600 from the start (never a wider mode, not even
/// briefly), not through a symbolic link. With `force` the key goes to a
/// new temporary file beside `path` that is then renamed over it: a
/// reader sees the old file or the whole new one, and a link at `path` is
/// replaced, not followed.
fn write_private(path: &Path, bytes: &[u8], force: bool) -> CliResult<()> {
    let target: PathBuf = if force {
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(format!(".tmp-{}", std::process::id()));
        path.with_file_name(name)
    } else {
        path.to_path_buf()
    };
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&target)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists && !force {
                CliError::Lib(Error::new(
                    Status::B2B_INVALID_ARGUMENT,
                    format!(
                        "{} exists: not overwritten (use --force to replace it)",
                        snapb2b::redact::path(path)
                    ),
                ))
            } else {
                io_error(path, "create", &e)
            }
        })?;
    let written = file.write_all(bytes).and_then(|()| file.sync_all());
    drop(file);
    let done = written.and_then(|()| {
        if force {
            std::fs::rename(&target, path)
        } else {
            Ok(())
        }
    });
    done.map_err(|e| {
        let _ = std::fs::remove_file(&target);
        io_error(path, "write", &e)
    })
}
