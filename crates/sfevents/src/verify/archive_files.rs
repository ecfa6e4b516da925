//! The archive against its own ledger, without Salesforce: every raw CSV's sha256 (bit rot,
//! tampering), every NDJSON file's rows, and files on disk that no ledger lists. Reads only;
//! blocking (run it on a blocking thread).

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use super::ledger::{KnownNdjson, LedgerFile};
use super::report::{OrgVerdicts, Verdict};
use archive::normalize::iso;

pub const RAW: &str = "raw CSV";
pub const NDJSON: &str = "NDJSON rows";
pub const LEDGER: &str = "ledger";

/// What the archive checks need, read from state.db beforehand.
pub struct Inputs {
    pub root: PathBuf,
    pub files: Vec<LedgerFile>,
    pub ndjson: HashMap<String, KnownNdjson>,
    pub csv_paths: HashSet<String>,
    pub pending: HashSet<String>,
    pub csv_keep_days: Option<u32>,
    /// `YYYY-MM-DD`: only NDJSON files of this day and later are counted.
    pub since_day: Option<String>,
    pub now: DateTime<Utc>,
}

pub fn check(r: &mut OrgVerdicts, i: &Inputs) {
    let from = r.rows.len();
    raw_csv(r, i);
    ndjson_rows(r, i);
    strays(r, i);
    // One check's rows together (the row count finds ledger problems too).
    r.rows[from..].sort_by_key(|x| [RAW, NDJSON, LEDGER].iter().position(|c| *c == x.check));
}

fn sha256_of(path: &Path) -> std::io::Result<(String, u64)> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut n = 0u64;
    loop {
        let got = f.read(&mut buf)?;
        if got == 0 {
            break;
        }
        n += got as u64;
        h.update(&buf[..got]);
    }
    Ok((hex::encode(h.finalize()), n))
}

/// Lines in a file (decompressed when it is `.zst`): its newline bytes, plus a last line
/// without one.
fn count_rows(path: &Path) -> std::io::Result<u64> {
    let mut f = archive::lines::open(path)?;
    let mut buf = vec![0u8; 256 * 1024];
    let (mut n, mut last) = (0u64, b'\n');
    loop {
        let got = f.read(&mut buf)?;
        if got == 0 {
            break;
        }
        n += buf[..got].iter().filter(|b| **b == b'\n').count() as u64;
        last = buf[got - 1];
    }
    Ok(n + u64::from(last != b'\n'))
}

fn raw_csv(r: &mut OrgVerdicts, i: &Inputs) {
    // Retention removes a raw CSV delivered before now - csv_keep_days (retention.rs).
    let removable_before = i
        .csv_keep_days
        .map(|d| iso(&(i.now - Duration::days(i64::from(d)))));
    let (mut good, mut pruned, mut bad) = (0usize, 0usize, 0usize);
    for f in &i.files {
        let path = i.root.join(&f.csv_path);
        let what = format!(
            "{} ({} {}, {})",
            f.csv_path,
            f.event_type,
            f.file_id,
            f.log_date.get(..10).unwrap_or(&f.log_date)
        );
        match sha256_of(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if removable_before
                    .as_deref()
                    .is_some_and(|b| f.delivered_at.as_str() < b)
                {
                    pruned += 1;
                } else {
                    bad += 1;
                    r.add(
                        RAW,
                        Verdict::Missing,
                        format!("{what} is not on disk{}. Its events are in {}; the raw file cannot be downloaded again once Salesforce drops it", 
                            match i.csv_keep_days {
                                Some(d) => format!(" and is younger than csv_keep_days ({d})"),
                                None => String::new(),
                            },
                            f.ndjson_path),
                    );
                }
            }
            Err(e) => {
                bad += 1;
                r.add(RAW, Verdict::Error, format!("cannot read {what}: {e}"));
            }
            Ok((sha, bytes)) if sha != f.sha256 || bytes != f.bytes => {
                bad += 1;
                r.add(
                    RAW,
                    Verdict::Corrupt,
                    format!(
                        "{what}: sha256 {sha} ({bytes} bytes) differs from the ledger's {} ({} bytes): changed on disk after download (bit rot or an edit)",
                        f.sha256, f.bytes
                    ),
                );
            }
            Ok(_) => good += 1,
        }
    }
    if pruned > 0 {
        r.add(
            RAW,
            Verdict::Pruned,
            format!(
                "{pruned} raw CSV file(s) removed by retention (csv_keep_days = {}), as configured",
                i.csv_keep_days.unwrap_or(0)
            ),
        );
    }
    if bad == 0 {
        r.add(
            RAW,
            Verdict::Ok,
            format!("{good} raw CSV file(s) on disk, each with the sha256 the ledger recorded at download"),
        );
    }
}

/// `events/<dataset>/<YYYY-MM-DD>/<name>.ndjson`: the day.
pub fn day_of(path: &str) -> Option<&str> {
    path.split('/').nth(2).filter(|d| d.len() == 10)
}

fn ndjson_rows(r: &mut OrgVerdicts, i: &Inputs) {
    let mut paths: Vec<(&String, &KnownNdjson)> = i
        .ndjson
        .iter()
        .filter(|(p, _)| match (&i.since_day, day_of(p)) {
            (Some(s), Some(d)) => d >= s.as_str(),
            _ => true,
        })
        .collect();
    paths.sort_by(|a, b| a.0.cmp(b.0));
    let (mut good, mut rows, mut pruned, mut bad) = (0usize, 0u64, 0usize, 0usize);
    for (p, k) in paths {
        let what = format!("{p} ({})", k.source);
        match count_rows(&i.root.join(p)) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && k.pruned => pruned += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                bad += 1;
                r.add(
                    NDJSON,
                    Verdict::Missing,
                    format!(
                        "{what} is not on disk, and retention did not remove it: {} event(s) lost from the archive",
                        k.ledger_rows.or(k.log_rows).unwrap_or(0)
                    ),
                );
            }
            Err(e) => {
                bad += 1;
                r.add(NDJSON, Verdict::Error, format!("cannot read {what}: {e}"));
            }
            Ok(n) => {
                if k.ledger_rows.is_none() {
                    // A ledger finding, not a row count's: the rows are checked below.
                    r.add(
                        LEDGER,
                        Verdict::NotInLedger,
                        format!(
                            "{what}: the delivery log lists it but no ledger does (files for EventLogFile, object_files for objects): its ledger row was removed"
                        ),
                    );
                }
                let wrong: Vec<String> = [
                    ("the ledger", k.ledger_rows),
                    ("the delivery log", k.log_rows),
                ]
                .iter()
                .filter_map(|(who, want)| {
                    want.filter(|w| *w != n).map(|w| format!("{who} says {w}"))
                })
                .collect();
                if wrong.is_empty() {
                    good += 1;
                    rows += n;
                } else {
                    bad += 1;
                    r.add(
                        NDJSON,
                        Verdict::Corrupt,
                        format!("{what} has {n} row(s), {}", wrong.join(" and ")),
                    );
                }
            }
        }
    }
    if pruned > 0 {
        r.add(
            NDJSON,
            Verdict::Pruned,
            format!("{pruned} NDJSON file(s) removed by retention (archive_keep_days) once every output had them, as configured"),
        );
    }
    if bad == 0 {
        r.add(
            NDJSON,
            Verdict::Ok,
            format!("{good} NDJSON file(s), {rows} row(s), as the ledger and the delivery log say"),
        );
    }
}

/// Files under `dir` (recursively) whose name ends with `ext` and is not a temporary name.
fn walk(root: &Path, dir: &str, ext: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.join(dir)];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(p),
                Ok(t) if t.is_file() && name.ends_with(ext) && !name.starts_with('.') => {
                    if let Ok(rel) = p.strip_prefix(root) {
                        out.push(rel.display().to_string());
                    }
                }
                _ => {}
            }
        }
    }
    out.sort();
    out
}

fn strays(r: &mut OrgVerdicts, i: &Inputs) {
    let mut bad = 0usize;
    let mut ndjson = walk(&i.root, "events", ".ndjson");
    ndjson.extend(walk(&i.root, "events", ".ndjson.zst"));
    for p in &ndjson {
        if !i.ndjson.contains_key(p) && !i.pending.contains(p) {
            bad += 1;
            r.add(
                LEDGER,
                Verdict::NotInLedger,
                format!("{p} is on disk but in no ledger nor the delivery log: no output ever ships it. Fix: find where it came from; if it is a copy, remove it"),
            );
        }
    }
    let csv = walk(&i.root, "output", ".csv");
    for p in &csv {
        if !i.csv_paths.contains(p) {
            bad += 1;
            r.add(
                LEDGER,
                Verdict::NotInLedger,
                format!("{p} is on disk but not in the ledger (files): its ledger row was removed, or it is not sfevents'"),
            );
        }
    }
    if bad == 0 && !r.rows.iter().any(|x| x.check == LEDGER) {
        r.add(
            LEDGER,
            Verdict::Ok,
            format!(
                "every file on disk is in the ledger ({} NDJSON, {} raw CSV)",
                ndjson.len(),
                csv.len()
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_count_a_last_line_without_newline() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a");
        std::fs::write(&p, "a\nb\n").unwrap();
        assert_eq!(count_rows(&p).unwrap(), 2);
        std::fs::write(&p, "a\nb").unwrap();
        assert_eq!(count_rows(&p).unwrap(), 2);
        std::fs::write(&p, "").unwrap();
        assert_eq!(count_rows(&p).unwrap(), 0);
        assert_eq!(
            day_of("events/login/2026-03-09/x.ndjson"),
            Some("2026-03-09")
        );
    }
}
