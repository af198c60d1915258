//! The sandbox directory: temp dirs, atomic writes, and the JSON files clients and
//! test harnesses read (`config-*.json`, `sandbox.json`).

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Map, Value};

use super::providers::{Dialect, Provider, PROVIDERS};
use super::services::SERVICES;

/// Distinguishes temp names made by one process in the same instant.
static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique_suffix() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut r = [0u8; 6];
    // Randomness only avoids collisions with other processes; the counter suffices
    // within this one, so a failure here is harmless.
    let _ = openssl::rand::rand_bytes(&mut r);
    let hex: String = r.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{n}-{hex}", std::process::id())
}

/// A new, empty directory under the system temp dir.
pub fn create_temp_dir() -> io::Result<PathBuf> {
    let base = std::env::temp_dir();
    for _ in 0..16 {
        let dir = base.join(format!("snapb2b-sandbox-{}", unique_suffix()));
        match fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other("could not create a unique temp dir"))
}

/// Writes via a temp file + rename, so a reader never sees a half-written file.
/// `private` files get mode 0600 from creation (never briefly world-readable).
pub fn write_atomic(path: &Path, data: &[u8], private: bool) -> io::Result<()> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.tmp-{}", unique_suffix()));
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let result = opts.open(&tmp).and_then(|mut f| {
        f.write_all(data)?;
        f.sync_all()
    });
    let result = result.and_then(|()| fs::rename(&tmp, path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(|e| io::Error::new(e.kind(), format!("writing {}: {e}", path.display())))
}

pub fn write_json_atomic(path: &Path, value: &Value) -> io::Result<()> {
    let mut text = serde_json::to_string_pretty(value).map_err(io::Error::other)?;
    text.push('\n');
    write_atomic(path, text.as_bytes(), false)
}

/// Everything the JSON files mention. Paths are written lossily as UTF-8
/// (serialising a non-UTF-8 `Path` would fail).
pub struct Layout<'a> {
    pub base_url: &'a str,
    pub port: u16,
    pub http_base_url: Option<&'a str>,
    pub ca_file: &'a Path,
    pub private_key_file: &'a Path,
    pub public_key_file: &'a Path,
    pub client_id: &'a str,
    pub klikoo_client_id: &'a str,
    pub klikoo_client_secret: &'a str,
    pub rsa_client_id: &'a str,
    pub service_client_secret: &'a str,
    pub service_channel_id: &'a str,
}

/// Every provider's service paths, from the tables.
fn service_paths() -> Value {
    let mut by_provider = Map::new();
    for p in PROVIDERS {
        let paths: Vec<String> = p
            .service_prefixes
            .iter()
            .flat_map(|prefix| SERVICES.iter().map(move |s| format!("{prefix}{}", s.path)))
            .collect();
        by_provider.insert(p.name.into(), json!(paths));
    }
    Value::Object(by_provider)
}

/// A ready client configuration for one provider (`doku`, `nicepay`,
/// `snap`, `klikoo`, `midtrans`, and `bnc` through a user profile).
pub fn client_config(provider: &Provider, l: &Layout<'_>) -> Value {
    let (client_id, secret) = match provider.dialect {
        Dialect::Klikoo => (l.klikoo_client_id, Some(l.klikoo_client_secret)),
        Dialect::Snap => (l.client_id, None),
    };
    let mut c = json!({
        "base_url": format!("{}{}", l.base_url, provider.base_path),
        "client_id": client_id,
        "private_key_file": l.private_key_file.to_string_lossy(),
        "ca_file": l.ca_file.to_string_lossy(),
    });
    if let Some(secret) = secret {
        c["client_secret"] = secret.into();
    }
    match provider.user_profile.map(serde_json::from_str::<Value>) {
        Some(Ok(profile)) => c["profile"] = profile,
        _ => c["provider"] = provider.name.into(),
    }
    c
}

/// `sandbox.json`: where the running sandbox is and what to use with it.
pub fn sandbox_description(l: &Layout<'_>) -> Value {
    json!({
        "base_url": l.base_url,
        "port": l.port,
        "http_base_url": l.http_base_url,
        "pid": std::process::id(),
        "ca_file": l.ca_file.to_string_lossy(),
        "private_key_file": l.private_key_file.to_string_lossy(),
        "public_key_file": l.public_key_file.to_string_lossy(),
        "provider_public_key_file": l.public_key_file.with_file_name("provider-public.pem").to_string_lossy(),
        "client_id": l.client_id,
        "klikoo_client_id": l.klikoo_client_id,
        "klikoo_client_secret": l.klikoo_client_secret,
        "rsa_client_id": l.rsa_client_id,
        "service_client_secret": l.service_client_secret,
        "service_channel_id": l.service_channel_id,
        "service_paths": service_paths(),
        "customer_token_paths": super::customer::paths_by_provider(),
        "auth_code_prefix": super::customer::SANDBOX_AUTH_CODE_PREFIX,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_protects() {
        let dir = create_temp_dir().unwrap();
        let p = dir.join("k.pem");
        write_atomic(&p, b"one", true).unwrap();
        write_atomic(&p, b"two", true).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        // No temp files left behind.
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        fs::remove_dir_all(dir).unwrap();
    }
}
