//! Which X-EXTERNAL-IDs each partner has used today (Asia/Jakarta's day,
//! as SNAP counts it). In-process memory, bounded.

use std::collections::{HashMap, HashSet};

/// Beyond this many ids in one day the memory starts the day over rather
/// than grow without bound (a flood of forged-but-valid ids is a partner's
/// compromise, not something a merchant process should absorb).
pub const MAX_IDS_PER_DAY: usize = 1_000_000;

#[derive(Default)]
pub struct ReplayMemory {
    day: i64,
    seen: HashMap<String, HashSet<String>>,
    count: usize,
}

/// Days since the epoch in UTC+7.
pub fn jakarta_day(unix_s: i64) -> i64 {
    (unix_s + 7 * 3600).div_euclid(86_400)
}

impl ReplayMemory {
    /// Records `external_id` for `partner` on the day of `now`; false when
    /// it was already used that day.
    pub fn use_once(&mut self, partner: &str, external_id: &str, now: i64) -> bool {
        let day = jakarta_day(now);
        if day != self.day || self.count >= MAX_IDS_PER_DAY {
            // A new day: yesterday's ids may be used again.
            self.seen.clear();
            self.count = 0;
            self.day = day;
        }
        let fresh = self
            .seen
            .entry(partner.to_string())
            .or_default()
            .insert(external_id.to_string());
        if fresh {
            self.count += 1;
        }
        fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_used_once_per_partner_per_jakarta_day() {
        let mut m = ReplayMemory::default();
        // 2024-03-01 16:59:59 UTC = 23:59:59 in Jakarta.
        let late = 1_709_312_399;
        assert!(m.use_once("A", "1", late));
        assert!(!m.use_once("A", "1", late));
        assert!(m.use_once("B", "1", late), "another partner's id space");
        assert!(!m.use_once("A", "1", late - 3600), "earlier the same day");
        assert!(
            m.use_once("A", "1", late + 1),
            "midnight in Jakarta: a new day"
        );
    }
}

/// The same memory shared by every process on the host through one file
/// (PHP-FPM runs a `Server` per request). Each use takes an exclusive
/// `flock`, reads the day's ids, and appends the new one: an append that a
/// crash cuts short leaves a partial last line, which is ignored. A file of
/// another day is started over; one that is not ours or not readable as
/// ours is started over too, and the verdict says so. It never stops a
/// notification: when the file cannot be used at all, the in-process
/// memory answers and the verdict says that too.
pub struct ReplayFile {
    path: std::path::PathBuf,
}

/// The first line of a replay file: the format and the Jakarta day.
const MAGIC: &str = "snapb2b-replay 1";
/// A bigger file is not ours or not sane: started over.
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// How long a use waits for another process's lock (they hold it for
/// microseconds: longer means a stuck holder).
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// What a use of the file found.
pub struct FileUse {
    pub fresh: bool,
    /// Set when the file was started over or could not be used.
    pub note: Option<String>,
}

fn hex(s: &str) -> String {
    crate::digest::lower_hex(s.as_bytes())
}

impl ReplayFile {
    pub fn new(path: std::path::PathBuf) -> ReplayFile {
        ReplayFile { path }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Records `external_id` for `partner` on the day of `now` in the file.
    /// `Err` (with a reason) when the file cannot be used at all.
    pub fn use_once(
        &self,
        partner: &str,
        external_id: &str,
        now: i64,
    ) -> std::result::Result<FileUse, String> {
        use std::io::{Read, Seek, SeekFrom, Write};
        use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
        use std::os::unix::io::AsRawFd;

        let shown = crate::redact::path(&self.path);
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .mode(0o600)
            // A link or a FIFO planted at the path must not be followed or
            // block us.
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(&self.path)
            .map_err(|e| format!("replay_file {shown}: {}", crate::error::io_reason(&e)))?;
        let meta = file
            .metadata()
            .map_err(|e| format!("replay_file {shown}: {}", crate::error::io_reason(&e)))?;
        // SAFETY: geteuid has no preconditions.
        let euid = unsafe { libc::geteuid() };
        if !meta.file_type().is_file()
            || meta.uid() != euid
            || meta.permissions().mode() & 0o022 != 0
        {
            return Err(format!(
                "replay_file {shown} is not a regular file of this user writable only by it"
            ));
        }
        let deadline = std::time::Instant::now() + LOCK_WAIT;
        loop {
            // SAFETY: the descriptor is open for the lifetime of `file`.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                break;
            }
            if std::time::Instant::now() >= deadline {
                return Err(format!(
                    "replay_file {shown} stayed locked by another process"
                ));
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        // The lock is released when `file` is closed, on every path.
        let day = jakarta_day(now);
        let header = format!("{MAGIC} {day}\n");
        let line = format!("{} {}\n", hex(partner), hex(external_id));
        let mut text = String::new();
        let readable = meta.len() <= MAX_FILE_BYTES && file.read_to_string(&mut text).is_ok();
        let mut note = None;
        let mut lines = text.split_inclusive('\n');
        let same_day = readable && lines.next() == Some(header.as_str());
        let well_formed = readable && (text.is_empty() || text.starts_with(MAGIC));
        if !well_formed {
            note = Some(format!(
                "replay_file {shown} was not a replay file (corrupt?): started over"
            ));
        }
        let seen = same_day && lines.any(|l| l == line);
        if seen {
            return Ok(FileUse { fresh: false, note });
        }
        let io =
            |e: std::io::Error| format!("replay_file {shown}: {}", crate::error::io_reason(&e));
        let count = if same_day { text.lines().count() } else { 0 };
        if !same_day || count > MAX_IDS_PER_DAY {
            // Another day, a new file, or not ours: start over.
            file.set_len(0).map_err(io)?;
            file.seek(SeekFrom::Start(0)).map_err(io)?;
            file.write_all(header.as_bytes()).map_err(io)?;
        } else {
            // A partial last line (a crash mid-append) is closed off first.
            file.seek(SeekFrom::End(0)).map_err(io)?;
            if !text.ends_with('\n') {
                file.write_all(b"\n").map_err(io)?;
            }
        }
        file.write_all(line.as_bytes()).map_err(io)?;
        Ok(FileUse { fresh: true, note })
    }
}

#[cfg(test)]
mod file_tests {
    use super::*;

    #[test]
    fn the_file_starts_a_new_day_over_and_survives_a_cut_append() {
        let path = std::env::temp_dir().join(format!("snapb2b-replay-unit-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let f = ReplayFile::new(path.clone());
        let late = 1_709_312_399; // 23:59:59 in Jakarta
        assert!(f.use_once("A", "1", late).unwrap().fresh);
        assert!(!f.use_once("A", "1", late).unwrap().fresh);
        // A crash mid-append leaves half a line: ignored, closed off.
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("41 3");
        std::fs::write(&path, &text).unwrap();
        assert!(f.use_once("A", "2", late).unwrap().fresh);
        assert!(!f.use_once("A", "2", late).unwrap().fresh);
        assert!(!f.use_once("A", "1", late).unwrap().fresh);
        // Midnight in Jakarta: yesterday's ids may be used again.
        assert!(f.use_once("A", "1", late + 1).unwrap().fresh);
        std::fs::remove_file(&path).unwrap();
    }
}

/// The same memory shared by every host of a fleet (`replay_url`): one
/// Redis key per partner, id and Jakarta day, taken with `SET key 1 NX PX
/// <until the day ends>` (exactly one of any number of hosts gets `OK`).
pub struct ReplayStore {
    store: crate::shared_store::Store,
    /// Each use is bounded by this (`replay_timeout_ms`).
    timeout: std::time::Duration,
}

/// Keys outlive their day by this much: a host whose clock is a little
/// behind still finds them.
const KEY_GRACE_S: i64 = 600;

impl ReplayStore {
    pub fn new(
        settings: crate::shared_store::StoreSettings,
        timeout: std::time::Duration,
    ) -> ReplayStore {
        ReplayStore {
            store: crate::shared_store::Store::new(settings),
            timeout,
        }
    }

    /// Records `external_id` for `partner` on the day of `now`; false when
    /// it was already used that day, on any host. `Err` (why, without
    /// secrets) when the store cannot say.
    pub fn use_once(
        &self,
        partner: &str,
        external_id: &str,
        now: i64,
    ) -> std::result::Result<bool, String> {
        let day = jakarta_day(now);
        let day_ends = (day + 1) * 86_400 - 7 * 3600;
        let ttl_ms = (day_ends - now + KEY_GRACE_S).max(1) * 1000;
        let key = self.store.key(&format!(
            "replay:{day}:{}:{}",
            hex(partner),
            hex(external_id)
        ));
        let deadline = std::time::Instant::now() + self.timeout;
        let answer = self.store.with(deadline, |c| {
            c.run(
                redis::cmd("SET")
                    .arg(&key)
                    .arg(1)
                    .arg("NX")
                    .arg("PX")
                    .arg(ttl_ms),
                deadline,
            )
        });
        let shown = &self.store.settings.shown;
        match answer {
            Ok(redis::Value::Okay) => Ok(true),
            Ok(redis::Value::Nil) => Ok(false),
            Ok(_) => Err(format!(
                "replay_url {shown} answered SET NX with something else than OK or nil"
            )),
            Err(p) => Err(format!("replay_url {shown}: {}", p.0)),
        }
    }
}
