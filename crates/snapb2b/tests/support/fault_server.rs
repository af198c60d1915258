//! The fault tests' files: the CA of `snapb2b_sandbox::faults` (whose
//! misbehaving servers the tests drive) and a client key, written once per
//! process under cargo's target tmp dir and removed at exit.

#![allow(dead_code)] // shared helpers: not every test file uses every one

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use openssl::pkey::{PKey, Public};
use openssl::rsa::Rsa;

pub use snapb2b_sandbox::faults::{closed_port, Cert, Mode, Request, Server, Session};

/// The files every test shares.
pub struct Fixture {
    pub dir: PathBuf,
    /// PEM of the test CA: the `ca_file` of every config.
    pub ca_file: PathBuf,
    /// The client's RSA-2048 private key (PKCS#8 PEM): `private_key_file`.
    pub key_file: PathBuf,
    /// Its public half, to verify the requests' X-SIGNATURE.
    pub public_key: PKey<Public>,
}

pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| build_fixture().unwrap_or_else(|e| panic!("test fixture: {e}")))
}

fn fixture_dir_name(pid: u32) -> String {
    format!("faults-{pid}")
}

extern "C" fn remove_fixture_dir() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(fixture_dir_name(std::process::id()));
    let _ = fs::remove_dir_all(dir);
}

fn build_fixture() -> Result<Fixture, Box<dyn std::error::Error>> {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let ours = fixture_dir_name(std::process::id());
    // Leftovers of runs that were killed before their exit handler ran
    // (never those of a run still going on: `cargo test` may run twice at
    // once in one tree).
    if let Ok(entries) = fs::read_dir(base) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let pid = name
                .strip_prefix("faults-")
                .and_then(|p| p.parse::<i32>().ok());
            if let Some(pid) = pid {
                // SAFETY: signal 0 only checks that the process exists.
                let gone = unsafe { libc::kill(pid, 0) } != 0
                    && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
                if gone {
                    let _ = fs::remove_dir_all(e.path());
                }
            }
        }
    }
    let dir = base.join(ours);
    fs::create_dir_all(&dir)?;
    // SAFETY: registers a plain extern "C" fn with no captured state.
    unsafe {
        libc::atexit(remove_fixture_dir);
    }

    let ca_file = dir.join("ca.pem");
    fs::write(&ca_file, snapb2b_sandbox::faults::pki().ca_pem())?;

    let client_key = PKey::from_rsa(Rsa::generate(2048)?)?;
    let key_file = dir.join("client-key.pem");
    fs::write(&key_file, client_key.private_key_to_pem_pkcs8()?)?;
    let public_key = PKey::public_key_from_der(&client_key.public_key_to_der()?)?;

    Ok(Fixture {
        dir,
        ca_file,
        key_file,
        public_key,
    })
}
