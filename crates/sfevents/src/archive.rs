//! The local archive: `output/` (raw CSV, byte-identical to Salesforce's), `events/` (NDJSON),
//! `logs/`, `state.db`, and `.spool/` for downloads in flight. Files appear only whole:
//! everything is written under a temporary name, synced, then renamed into place, so a redone
//! unit replaces its files rather than adding to them.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

pub struct Archive {
    pub root: PathBuf,
}

impl Archive {
    /// Creates the folders if needed.
    pub fn open(root: &Path) -> io::Result<Archive> {
        for d in ["output", "events", "logs", ".spool"] {
            fs::create_dir_all(root.join(d))?;
        }
        Ok(Archive {
            root: root.to_path_buf(),
        })
    }

    /// Takes the archive for this process: a second sfevents on the same archive would
    /// trample the spool and double-deliver.
    pub fn lock(&self) -> Result<File, String> {
        let path = self.root.join(".lock");
        let f =
            File::create(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        match f.try_lock() {
            Ok(()) => Ok(f),
            Err(_) => Err(format!(
                "another sfevents is already collecting into {}: wait for it to finish, or give this one another --output-dir",
                self.root.display()
            )),
        }
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

    /// Moves a finished spool file into place atomically.
    pub fn install(&self, from: &Path, to: &Path) -> io::Result<()> {
        if let Some(dir) = to.parent() {
            fs::create_dir_all(dir)?;
        }
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
    pub fn create(dest: &Path) -> io::Result<AtomicFile> {
        let dir = dest.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir)?;
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dir.join(format!(".{name}.tmp"));
        let out = BufWriter::with_capacity(256 * 1024, File::create(&tmp)?);
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
}
