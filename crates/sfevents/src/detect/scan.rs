//! Reads an archive's events for the rules: the delivery log's files in commit order (the
//! order the live rules see them), lines parsed, put back in time order within the
//! `Reorder` bound, events outside the asked days left out.

use std::io::BufRead;
use std::path::Path;

use archive::state::{LogEntry, Reader};
use detections::reorder::{Reorder, DEFAULT_CAPACITY};
use detections::ArchiveEvent;

/// Alerts are events too (the `alert` dataset); rules never read them.
pub const ALERT_DATASET: &str = "alert";

/// What a scan read.
#[derive(Debug, Default, Clone)]
pub struct ScanCounts {
    pub files: u64,
    pub events: u64,
    /// Files the log lists that are gone from disk (retention) or cannot be read.
    pub missing: u64,
    /// Lines that are not archive events.
    pub bad_lines: u64,
}

/// The days a backtest covers: the reports' window (both ends included, either open).
pub use reports::ledger::Window as Days;

/// `until` as the exclusive bound of the log query: the day after.
fn until_exclusive(days: &Days) -> Option<String> {
    let u = chrono::NaiveDate::parse_from_str(days.until.as_deref()?, "%Y-%m-%d").ok()?;
    Some((u + chrono::Days::new(1)).format("%Y-%m-%d").to_string())
}

/// Calls `each` with every event of the archive at `root` in the asked days, in time order
/// within the reorder bound. `reads` says which datasets the rules read; the files of the
/// others are passed over.
pub fn scan(
    root: &Path,
    days: &Days,
    reads: impl Fn(&str) -> bool,
    each: impl FnMut(&ArchiveEvent),
) -> anyhow::Result<ScanCounts> {
    let reader = Reader::open(&root.join("state.db"))?;
    let entries = reader.log_between(days.since.as_deref(), until_exclusive(days).as_deref())?;
    Ok(feed(
        root,
        &entries,
        reads,
        |ev| days.contains(&ev.timestamp),
        each,
    ))
}

/// The events of the log entries' files, live and in `detect` alike: datasets `reads` wants
/// (never the alerts), events `keep` wants, put back in time order within the reorder bound,
/// handed to `each`. A file that cannot be read and a line that is not an event are counted
/// and logged, and the rest goes on.
pub fn feed(
    root: &Path,
    entries: &[LogEntry],
    reads: impl Fn(&str) -> bool,
    keep: impl Fn(&ArchiveEvent) -> bool,
    mut each: impl FnMut(&ArchiveEvent),
) -> ScanCounts {
    let mut counts = ScanCounts::default();
    let mut reorder = Reorder::new(DEFAULT_CAPACITY);
    for entry in entries
        .iter()
        .filter(|e| e.file.dataset != ALERT_DATASET && reads(&e.file.dataset))
    {
        let path = root.join(&entry.file.path);
        let file = match archive::lines::open(&path) {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(file = %path.display(), "the rules cannot read a file the log lists: {e}");
                counts.missing += 1;
                continue;
            }
        };
        counts.files += 1;
        let dataset: std::sync::Arc<str> = std::sync::Arc::from(entry.file.dataset.as_str());
        for line in file.lines() {
            let Ok(line) = line else {
                counts.missing += 1;
                break;
            };
            match ArchiveEvent::parse(line, &dataset) {
                Ok(ev) if keep(&ev) => {
                    counts.events += 1;
                    if let Some(ready) = reorder.push(ev) {
                        each(&ready);
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    counts.bad_lines += 1;
                    tracing::warn!(file = %path.display(), "a line the rules cannot read: {e}");
                }
            }
        }
    }
    reorder.drain().for_each(|ev| each(&ev));
    counts
}
