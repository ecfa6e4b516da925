//! What the per-day comparisons share: the archive's records of an object (time and
//! de-duplication key, read from its NDJSON), and the comparison of Salesforce's records with
//! them, day by day, telling `pending` (the next collect takes it) from `missing`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

use chrono::{DateTime, Utc};

use super::error::VerifyError;
use super::ledger::Inventory;
use super::report::{OrgVerdicts, Verdict};
use archive::normalize::{iso, parse_sf_datetime};

/// A record: its time in the archive's form (`iso`) and its de-duplication key.
pub type Rec = (String, String);

pub(super) const PAGE: u64 = 2000;
/// Ids named per day in a row.
const NAMED: usize = 5;

/// The archive's records of `source` (files not pruned), read on a blocking thread.
pub async fn read_archived(root: PathBuf, paths: Vec<String>) -> Result<Vec<Rec>, VerifyError> {
    #[derive(serde::Deserialize)]
    struct Line {
        #[serde(rename = "@timestamp")]
        timestamp: String,
        id: String,
    }
    fold_lines(root, paths, Vec::new(), |out: &mut Vec<Rec>, l: Line| {
        // `<scope>-<key>`: the scope is 20 hex digits.
        let key = l.id.split_once('-').map_or(l.id.as_str(), |(_, k)| k);
        out.push((l.timestamp, key.to_string()));
    })
    .await
}

/// Folds every line of the NDJSON files `paths` (archive-relative), read as a `T`, into
/// `acc`, on a blocking thread. A missing file is skipped: the archive check reports it.
pub async fn fold_lines<T, A, F>(
    root: PathBuf,
    paths: Vec<String>,
    mut acc: A,
    mut f: F,
) -> Result<A, VerifyError>
where
    T: serde::de::DeserializeOwned,
    A: Send + 'static,
    F: FnMut(&mut A, T) + Send + 'static,
{
    tokio::task::spawn_blocking(move || {
        for p in paths {
            let text = match std::fs::read_to_string(root.join(&p)) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(source) => return Err(VerifyError::Read { path: p, source }),
            };
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let v: T = serde_json::from_str(line).map_err(|source| VerifyError::Record {
                    path: p.clone(),
                    source,
                })?;
                f(&mut acc, v);
            }
        }
        Ok(acc)
    })
    .await?
}

pub(super) fn day_start(t: DateTime<Utc>) -> DateTime<Utc> {
    t.date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc()
}

/// Archived records per day within `[from, to)` (by string: both in the archive's form).
pub(super) fn per_day(recs: &[Rec], from: &str, to: &str) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for (t, _) in recs {
        if t.as_str() >= from && t.as_str() < to {
            *m.entry(t[..10].to_string()).or_default() += 1;
        }
    }
    m
}

fn named(keys: &[&str]) -> String {
    let mut s = keys
        .iter()
        .take(NAMED)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if keys.len() > NAMED {
        s.push_str(&format!(" and {} more", keys.len() - NAMED));
    }
    s
}

/// What the comparison of two sets of records needs to tell missing from pending.
pub struct Compare<'a> {
    pub check: &'a str,
    pub source: &'a str,
    /// Where the next collect reads from: newer records not yet held are pending.
    pub next_lower: DateTime<Utc>,
    /// The source's cursor, for the fix of a record the next collect will not take.
    pub cursor: Option<DateTime<Utc>>,
}

/// What a comparison found in agreement.
#[derive(Default)]
pub struct Tally {
    pub days: usize,
    pub matched: u64,
}

/// Compares per day, one row per day with a difference (and one for what only the archive
/// holds); the caller adds the summary.
pub(super) fn compare(
    r: &mut OrgVerdicts,
    c: &Compare,
    ledger: &Inventory,
    sf: &[Rec],
    archived: &[Rec],
) -> Tally {
    let mut days: BTreeMap<&str, (HashSet<&str>, HashSet<&str>)> = BTreeMap::new();
    let mut time_of: HashMap<&str, &str> = HashMap::new();
    for (t, k) in sf {
        days.entry(&t[..10]).or_default().0.insert(k);
        time_of.insert(k, t);
    }
    for (t, k) in archived {
        days.entry(&t[..10]).or_default().1.insert(k);
    }
    let lower = iso(&c.next_lower);
    let (mut matched, mut dropped, mut dropped_days) = (0u64, 0u64, 0u64);
    for (day, (s, a)) in &days {
        let mut missing: Vec<&str> = s.difference(a).copied().collect();
        missing.sort();
        let extra = a.difference(s).count() as u64;
        matched += s.intersection(a).count() as u64;
        if extra > 0 {
            dropped += extra;
            dropped_days += 1;
        }
        if missing.is_empty() {
            continue;
        }
        let seen = match ledger.seen_among(c.source, missing.iter().copied()) {
            Ok(s) => s,
            Err(e) => {
                r.add(c.check, Verdict::Error, e.to_string());
                return Tally::default();
            }
        };
        let counts = format!("{day}: Salesforce has {}, the archive {}", s.len(), a.len());
        missing_on_day(r, c, &counts, &missing, &seen, &time_of, &lower);
    }
    if dropped > 0 {
        r.add(
            c.check,
            Verdict::Dropped,
            format!("{dropped} archived record(s) on {dropped_days} day(s) that Salesforce no longer returns: the archive keeps them"),
        );
    }
    Tally {
        days: days.len(),
        matched,
    }
}

/// The rows of one day's records Salesforce has and the archive does not: pending when the
/// next collect reads back to them and has not taken them; else missing, either held by the
/// collector (the archive's files were changed) or older than where it reads from.
fn missing_on_day(
    r: &mut OrgVerdicts,
    c: &Compare,
    counts: &str,
    missing: &[&str],
    seen: &HashSet<String>,
    time_of: &HashMap<&str, &str>,
    lower: &str,
) {
    let (pending, lost): (Vec<&str>, Vec<&str>) = missing
        .iter()
        .partition(|k| !seen.contains(**k) && time_of.get(*k).is_some_and(|t| *t > lower));
    if !pending.is_empty() {
        r.add(
            c.check,
            Verdict::Pending,
            format!(
                "{counts}: {} record(s) not collected yet ({}); the next collect takes them (it reads from {lower})",
                pending.len(),
                named(&pending)
            ),
        );
    }
    let (held, older): (Vec<&str>, Vec<&str>) = lost.iter().partition(|k| seen.contains(**k));
    if !held.is_empty() {
        r.add(
            c.check,
            Verdict::Missing,
            format!(
                "{counts}: {} record(s) missing from the archive ({}): the collector recorded them as archived, so the archive's files were changed after they were written; no collect takes them again",
                held.len(),
                named(&held)
            ),
        );
    }
    if !older.is_empty() {
        let oldest = older
            .iter()
            .filter_map(|k| time_of.get(k).and_then(|t| parse_sf_datetime(t)))
            .min()
            .unwrap_or(c.next_lower);
        r.add(
            c.check,
            Verdict::Missing,
            format!(
                "{counts}: {} record(s) missing from the archive ({}): the next collect reads from {lower} and will not take them. Fix: {}",
                older.len(),
                named(&older),
                widen(c.cursor, oldest)
            ),
        );
    }
}

/// `--lookback-minutes` reaching back to `t` from the cursor.
fn widen(cursor: Option<DateTime<Utc>>, t: DateTime<Utc>) -> String {
    match cursor {
        Some(c) => format!(
            "collect once with --lookback-minutes {} to read back to it (records of that stretch the collector has forgotten are archived again, under the same event ids)",
            (c - t).num_minutes() + 1
        ),
        None => "collect once with a larger --backfill-days".into(),
    }
}
