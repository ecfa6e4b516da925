//! What reports read: one org's archive through its ledger ([`Ledger`]: which files hold a
//! dataset over a period, from state.db opened read-only through [`archive::state::Reader`]),
//! and a parallel streaming scan of their rows ([`scan`]).
//!
//! EventLogFile rows are read from the raw CSV when the archive still keeps it (smaller and
//! faster to parse than the NDJSON, and byte for byte what Salesforce served), else from the
//! NDJSON; object records from the NDJSON. Memory stays bounded: each worker holds one row at
//! a time plus its own accumulator, whose size depends on how many distinct keys a report
//! groups by, not on how many rows there are.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use archive::state::{Reader, StateError};

use crate::row::{self, Fields, Row};
use crate::ReportError;

/// The days a report covers, both ends included (YYYY-MM-DD), either open.
#[derive(Debug, Clone, Default)]
pub struct Window {
    pub since: Option<String>,
    pub until: Option<String>,
}

impl Window {
    /// Whether an event time (RFC 3339, UTC) falls in the window: its day is compared, so
    /// both `...Z` and `...+0000` forms work.
    pub fn contains(&self, time: &str) -> bool {
        let day = time.get(..10).unwrap_or(time);
        self.since.as_deref().is_none_or(|s| day >= s)
            && self.until.as_deref().is_none_or(|u| day <= u)
    }
}

/// One archive (one org's folder with its state.db), read through its ledger.
pub struct Ledger {
    pub org: String,
    pub org_id: Option<String>,
    pub root: PathBuf,
    reader: Reader,
}

/// A file to scan: the raw CSV if kept, and the NDJSON.
#[derive(Debug, Clone)]
pub struct FileRef {
    pub csv: Option<PathBuf>,
    pub ndjson: Option<PathBuf>,
    pub rows: u64,
}

/// What one dataset's scan read, for the report's "drew on" lines and its period.
#[derive(Debug, Clone, Default)]
pub struct ScanStats {
    pub files: u64,
    /// Rows in the window.
    pub rows: u64,
    /// Files the ledger lists whose data is no longer on disk (retention removed it).
    pub missing: u64,
    pub first: Option<String>,
    pub last: Option<String>,
}

impl ScanStats {
    fn see(&mut self, time: &str) {
        if self.first.as_deref().is_none_or(|f| time < f) {
            self.first = Some(time.to_string());
        }
        if self.last.as_deref().is_none_or(|l| time > l) {
            self.last = Some(time.to_string());
        }
    }

    pub fn merge(&mut self, o: &ScanStats) {
        self.files += o.files;
        self.rows += o.rows;
        self.missing += o.missing;
        if let Some(f) = &o.first {
            self.see(f);
        }
        if let Some(l) = &o.last {
            self.see(l);
        }
    }
}

/// What a report accumulates from rows; one per worker thread (made by the scan's `make`),
/// merged at the end.
pub trait Acc: Send {
    fn add(&mut self, row: &Row);
    fn merge(&mut self, other: Self);
}

impl Ledger {
    /// Opens `root/state.db` read-only: reports never create, migrate or lock an archive, so
    /// they run beside a `sfevents run`.
    pub fn open(root: &Path) -> Result<Ledger, ReportError> {
        let db = root.join("state.db");
        let reader = Reader::open(&db).map_err(|e| ReportError::State(db, e))?;
        // The names are labels only: a ledger that cannot tell them is still read (its
        // queries then say what is wrong), named after its folder.
        let meta = |key: &str| reader.meta(key).ok().flatten();
        let org_id = meta("org_id");
        let org = reader
            .last_run_org()
            .ok()
            .flatten()
            .or_else(|| meta("org"))
            .unwrap_or_else(|| {
                root.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            });
        Ok(Ledger {
            org,
            org_id,
            root: root.to_path_buf(),
            reader,
        })
    }

    /// Asks this archive's state.db one of the reports' questions (a [`Reader`] query) about
    /// its org; a failure names the state.db.
    pub fn ask<T>(
        &self,
        query: impl FnOnce(&Reader, &str) -> Result<T, StateError>,
    ) -> Result<T, ReportError> {
        query(&self.reader, &self.org)
            .map_err(|e| ReportError::State(self.reader.path().to_path_buf(), e))
    }

    fn path(&self, rel: &str) -> Option<PathBuf> {
        if rel.is_empty() {
            return None;
        }
        let p = self.root.join(rel);
        p.is_file().then_some(p)
    }

    /// The EventLogFile files of a type whose log date can hold events of the window (a
    /// daily file's LogDate is its day; an hourly file's its hour).
    pub fn elf_files(&self, event_type: &str, w: &Window) -> Result<Vec<FileRef>, ReportError> {
        let listed = self.ask(|r, org| r.elf_listing(org, event_type))?;
        Ok(listed
            .into_iter()
            .filter(|f| w.contains(&f.day))
            .map(|f| FileRef {
                csv: self.path(&f.csv_path),
                ndjson: self.path(&f.ndjson_path),
                rows: f.rows.max(0) as u64,
            })
            .collect())
    }

    /// The NDJSON files of an object source (LoginEvent, SetupAuditTrail, ...) whose events
    /// overlap the window, from the delivery log.
    pub fn object_files(&self, source: &str, w: &Window) -> Result<Vec<FileRef>, ReportError> {
        let listed = self.ask(|r, org| r.object_listing(org, source))?;
        Ok(self.overlapping(
            listed
                .into_iter()
                .map(|f| (f.path, f.rows, f.oldest, f.newest)),
            w,
        ))
    }

    /// The NDJSON files of a dataset (`alert`: the live rules' alerts) whose events overlap
    /// the window, from the delivery log.
    pub fn dataset_files(&self, dataset: &str, w: &Window) -> Result<Vec<FileRef>, ReportError> {
        let listed = self.ask(|r, org| r.dataset_listing(org, dataset))?;
        Ok(self.overlapping(
            listed
                .into_iter()
                .map(|f| (f.path, f.rows, f.oldest, f.newest)),
            w,
        ))
    }

    /// The listed files (path, rows, oldest and newest event) whose events can fall in the
    /// window: a file overlaps unless it ends before the window or starts after it.
    fn overlapping(
        &self,
        listed: impl Iterator<Item = (String, i64, String, String)>,
        w: &Window,
    ) -> Vec<FileRef> {
        fn day(t: &str) -> &str {
            t.get(..10).unwrap_or("")
        }
        listed
            .filter(|(_, _, oldest, newest)| {
                let before = w
                    .since
                    .as_deref()
                    .is_some_and(|s| !newest.is_empty() && day(newest) < s);
                let after = w
                    .until
                    .as_deref()
                    .is_some_and(|u| !oldest.is_empty() && day(oldest) > u);
                !(before || after)
            })
            .map(|(path, rows, _, _)| FileRef {
                csv: None,
                ndjson: self.path(&path),
                rows: rows.max(0) as u64,
            })
            .collect()
    }
}

/// Scans files on all cores into one accumulator. A file that cannot be read stops the scan
/// with an error naming it: a report silently missing a file would be wrong.
pub fn scan<A: Acc>(
    files: &[FileRef],
    fields: &Fields,
    w: &Window,
    make: &(dyn Fn() -> A + Sync),
) -> Result<(A, ScanStats), ReportError> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(files.len().max(1));
    let next = AtomicUsize::new(0);
    let failure: Mutex<Option<ReportError>> = Mutex::new(None);
    let results: Vec<(A, ScanStats)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut acc = make();
                    let mut stats = ScanStats::default();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(f) = files.get(i) else { break };
                        if failure.lock().map(|g| g.is_some()).unwrap_or(true) {
                            break;
                        }
                        if let Err(e) = scan_file(f, fields, w, &mut acc, &mut stats) {
                            if let Ok(mut g) = failure.lock() {
                                g.get_or_insert(e);
                            }
                            break;
                        }
                    }
                    (acc, stats)
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    if let Some(e) = failure.into_inner().ok().flatten() {
        return Err(e);
    }
    let mut acc = make();
    let mut stats = ScanStats::default();
    for (a, s) in results {
        acc.merge(a);
        stats.merge(&s);
    }
    Ok((acc, stats))
}

fn scan_file<A: Acc>(
    f: &FileRef,
    fields: &Fields,
    w: &Window,
    acc: &mut A,
    stats: &mut ScanStats,
) -> Result<(), ReportError> {
    if f.csv.is_none() && f.ndjson.is_none() {
        stats.missing += 1;
        return Ok(());
    }
    stats.files += 1;
    let mut each = |r: &Row| {
        if w.contains(r.time) {
            stats.rows += 1;
            stats.see(r.time);
            acc.add(r);
        }
    };
    match (&f.csv, &f.ndjson) {
        (Some(csv), _) => row::read_csv(csv, fields, &mut each),
        (None, Some(nd)) => row::read_ndjson(nd, fields, &mut each),
        (None, None) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_compare_days() {
        let w = Window {
            since: Some("2026-11-28".into()),
            until: Some("2026-11-29".into()),
        };
        assert!(w.contains("2026-11-28T00:00:00.000Z"));
        assert!(w.contains("2026-11-29T23:59:59.999+0000"));
        assert!(!w.contains("2026-11-27T23:59:59.999Z"));
        assert!(!w.contains("2026-11-30T00:00:00.000Z"));
        assert!(Window::default().contains("1999-01-01T00:00:00Z"));
    }
}
