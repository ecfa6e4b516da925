//! The local archive: `output/` (raw CSV, byte-identical to Salesforce's), `events/` (NDJSON),
//! `logs/`, `state.db`, and `.spool/` for downloads in flight. Files appear only whole:
//! everything is written under a temporary name, synced, then renamed into place, so a redone
//! unit replaces its files rather than adding to them. Everything is owner-only, or with
//! `archive_group_read` the raw CSV and NDJSON are group-readable ([`fsmode`]).

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use base::fsmode::{self, Access};

/// Why [`Archive::lock`] could not take the archive.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("cannot create {}: {source}", path.display())]
    Create { path: PathBuf, source: io::Error },
    #[error("another sfevents is already collecting into {}: wait for it to finish, or give this one another --output-dir", .0.display())]
    Held(PathBuf),
}

pub struct Archive {
    pub root: PathBuf,
    /// Who may read the raw CSV and NDJSON (see [`fsmode`]).
    pub access: Access,
    /// `archive_compression = "zstd"`: EventLogFile NDJSON is written compressed
    /// ([`crate::lines`]). Files already written keep their form; readers take both.
    pub compress_events: bool,
}

impl Archive {
    /// Opens an owner-only archive (see [`Archive::open_with`]).
    pub fn open(root: &Path) -> io::Result<Archive> {
        Archive::open_with(root, Access::Owner)
    }

    /// Creates the folders if needed, owner-only (or group-readable data with
    /// [`Access::Group`]). The root and its fixed folders get their mode on every open: a
    /// root readable by others is tightened with a warning, which protects everything an
    /// older version wrote beneath it without walking the tree.
    pub fn open_with(root: &Path, access: Access) -> io::Result<Archive> {
        fsmode::create_dir_all(root, access.data_dir())?;
        match fsmode::set_mode(root, access.data_dir()) {
            Ok(Some(old)) if old & 0o777 & !access.data_dir() != 0 => tracing::warn!(
                "the archive {} was open to other users (mode {old:o}); it is now {:o}. Files written before keep their modes but only its owner can reach them",
                root.display(),
                access.data_dir()
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!("{e}"),
        }
        let folders = [
            ("output", access.data_dir()),
            ("events", access.data_dir()),
            ("logs", fsmode::PRIVATE_DIR),
            (".spool", fsmode::PRIVATE_DIR),
        ];
        for (d, mode) in folders {
            let dir = root.join(d);
            fsmode::create_dir_all(&dir, mode)?;
            if let Err(e) = fsmode::set_mode(&dir, mode) {
                tracing::warn!("{e}");
            }
        }
        Ok(Archive {
            root: root.to_path_buf(),
            access,
            compress_events: false,
        })
    }

    /// Takes the archive for this process: a second sfevents on the same archive would
    /// trample the spool and double-deliver.
    pub fn lock(&self) -> Result<File, LockError> {
        let path = self.root.join(".lock");
        let f = fsmode::create_file(&path, fsmode::PRIVATE_FILE)
            .map_err(|source| LockError::Create { path, source })?;
        match f.try_lock() {
            Ok(()) => Ok(f),
            Err(_) => Err(LockError::Held(self.root.clone())),
        }
    }

    /// A raw CSV or NDJSON file of this archive, written atomically with the archive's mode.
    pub fn create_file(&self, dest: &Path) -> io::Result<AtomicFile> {
        AtomicFile::create_with(dest, self.access)
    }

    pub fn state_path(&self) -> PathBuf {
        self.root.join("state.db")
    }

    pub fn spool_path(&self, file_id: &str) -> PathBuf {
        self.root.join(".spool").join(format!("{file_id}.csv.part"))
    }

    /// Removes leftovers of an interrupted run.
    pub fn clean_spool(&self) -> io::Result<()> {
        for e in fs::read_dir(self.root.join(".spool"))? {
            let e = e?;
            if e.file_type()?.is_file() {
                fs::remove_file(e.path())?;
            }
        }
        Ok(())
    }

    /// `output/<EventType>_<YYYYMMDD>[_<HH>]_<Id>.csv`.
    pub fn csv_path(
        &self,
        event_type: &str,
        log_date: &DateTime<Utc>,
        hourly: bool,
        id: &str,
    ) -> PathBuf {
        let when = if hourly {
            log_date.format("%Y%m%d_%H")
        } else {
            log_date.format("%Y%m%d")
        };
        self.root
            .join("output")
            .join(format!("{event_type}_{when}_{id}.csv"))
    }

    /// `events/<dataset>/<YYYY-MM-DD>/<name>.ndjson`.
    pub fn events_path(&self, dataset: &str, day: &DateTime<Utc>, name: &str) -> PathBuf {
        self.root
            .join("events")
            .join(dataset)
            .join(day.format("%Y-%m-%d").to_string())
            .join(format!("{name}.ndjson"))
    }

    /// Where an EventLogFile's NDJSON goes: [`Archive::events_path`], with `.zst` when the
    /// archive compresses event files.
    pub fn elf_events_path(&self, dataset: &str, day: &DateTime<Utc>, name: &str) -> PathBuf {
        let mut p = self.events_path(dataset, day, name).into_os_string();
        if self.compress_events {
            p.push(crate::lines::ZSTD_SUFFIX);
        }
        PathBuf::from(p)
    }

    /// Moves a finished spool file (0600) into place atomically, with the archive's mode.
    pub fn install(&self, from: &Path, to: &Path) -> io::Result<()> {
        if let Some(dir) = to.parent() {
            fsmode::create_dir_all(dir, self.access.data_dir())?;
        }
        fsmode::set_mode(from, self.access.data_file())?;
        fs::rename(from, to)?;
        sync_dir(to.parent())
    }
}

fn sync_dir(dir: Option<&Path>) -> io::Result<()> {
    if let Some(d) = dir {
        // Makes the rename itself durable.
        File::open(d)?.sync_all()?;
    }
    Ok(())
}

/// Writes a file under a temporary name and renames it into place on [`AtomicFile::finish`].
/// Dropped unfinished, it removes the temporary file.
pub struct AtomicFile {
    tmp: PathBuf,
    dest: PathBuf,
    out: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// An owner-only file (folders it creates 0700, the file 0600).
    pub fn create(dest: &Path) -> io::Result<AtomicFile> {
        AtomicFile::create_with(dest, Access::Owner)
    }

    /// A file readable as `access` says; the temporary file has the final mode already.
    pub fn create_with(dest: &Path, access: Access) -> io::Result<AtomicFile> {
        let dir = dest.parent().unwrap_or(Path::new("."));
        fsmode::create_dir_all(dir, access.data_dir())?;
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dir.join(format!(".{name}.tmp"));
        let file = fsmode::create_file(&tmp, access.data_file())?;
        let out = BufWriter::with_capacity(256 * 1024, file);
        Ok(AtomicFile {
            tmp,
            dest: dest.to_path_buf(),
            out: Some(out),
        })
    }

    pub fn writer(&mut self) -> &mut BufWriter<File> {
        // Invariant: `out` is Some until `finish` consumes self.
        self.out.as_mut().expect("AtomicFile used after finish")
    }

    pub fn finish(mut self) -> io::Result<PathBuf> {
        if let Some(mut out) = self.out.take() {
            out.flush()?;
            out.get_ref().sync_all()?;
        }
        fs::rename(&self.tmp, &self.dest)?;
        sync_dir(self.dest.parent())?;
        Ok(self.dest.clone())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.out.is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn layout_and_atomic_writes() {
        let d = tempfile::tempdir().unwrap();
        let a = Archive::open(d.path()).unwrap();
        let t = Utc.with_ymd_and_hms(2024, 3, 7, 11, 0, 0).unwrap();
        assert!(a
            .csv_path("URI", &t, true, "0AT1")
            .ends_with("output/URI_20240307_11_0AT1.csv"));
        assert!(a
            .csv_path("URI", &t, false, "0AT1")
            .ends_with("output/URI_20240307_0AT1.csv"));
        let p = a.events_path("uri", &t, "0AT1");
        assert!(p.ends_with("events/uri/2024-03-07/0AT1.ndjson"));
        {
            let mut f = AtomicFile::create(&p).unwrap();
            f.writer().write_all(b"partial").unwrap();
            // dropped unfinished: nothing appears
        }
        assert!(!p.exists());
        assert_eq!(fs::read_dir(p.parent().unwrap()).unwrap().count(), 0);
        let mut f = AtomicFile::create(&p).unwrap();
        f.writer().write_all(b"{}\n").unwrap();
        f.finish().unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"{}\n");
    }

    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn modes_owner_only_or_group_readable_data() {
        use std::os::unix::fs::PermissionsExt;
        let t = Utc.with_ymd_and_hms(2024, 3, 7, 11, 0, 0).unwrap();
        for (access, dir, file) in [(Access::Owner, 0o700, 0o600), (Access::Group, 0o750, 0o640)] {
            let d = tempfile::tempdir().unwrap();
            let root = d.path().join("archive");
            let a = Archive::open_with(&root, access).unwrap();
            assert_eq!(mode(&root), dir);
            for (sub, want) in [
                ("output", dir),
                ("events", dir),
                ("logs", 0o700),
                (".spool", 0o700),
            ] {
                assert_eq!(mode(&root.join(sub)), want, "{sub} as {access:?}");
            }
            let p = a.events_path("uri", &t, "0AT1");
            let mut f = a.create_file(&p).unwrap();
            f.writer().write_all(b"{}\n").unwrap();
            f.finish().unwrap();
            assert_eq!(mode(&p), file);
            assert_eq!(mode(p.parent().unwrap()), dir);
            assert_eq!(mode(&root.join("events/uri")), dir);
            let spool = a.spool_path("0AT1");
            base::fsmode::create_file(&spool, base::fsmode::PRIVATE_FILE).unwrap();
            let csv = a.csv_path("URI", &t, true, "0AT1");
            a.install(&spool, &csv).unwrap();
            assert_eq!(mode(&csv), file);
            a.lock().unwrap();
            assert_eq!(mode(&root.join(".lock")), 0o600);
            // A root left open by an older version is tightened on the next open.
            fs::set_permissions(&root, fs::Permissions::from_mode(0o755)).unwrap();
            fs::set_permissions(root.join("logs"), fs::Permissions::from_mode(0o755)).unwrap();
            Archive::open_with(&root, access).unwrap();
            assert_eq!(mode(&root), dir);
            assert_eq!(mode(&root.join("logs")), 0o700);
        }
    }
}
