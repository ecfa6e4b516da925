//! SetupAuditTrail, LoginHistory and other SObjects (per-day counts), and with `--deep` the
//! Real-Time Event Monitoring objects (per-day EventIdentifier sets), against the archive's
//! NDJSON, bucketed by the day of the source's date field (the archive's `@timestamp`).
//!
//! For an SObject the cheaper of two readings is chosen from the archive's own counts (no call
//! spent deciding): one query of Id and the date field, counted locally (a call per 2,000
//! records), or one `SELECT COUNT()` per day. The first is chosen whenever it costs no more,
//! and it also names the missing records; for a dense object over few days the counts win.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use super::ledger::Ledger;
use super::report::{OrgReport, Verdict};
use crate::client::SfClient;
use crate::config::ObjectConfig;
use crate::normalize::{iso, parse_sf_datetime};
use crate::sources::records::soql_time;

/// A record: its time in the archive's form (`iso`) and its de-duplication key.
pub type Rec = (String, String);

const PAGE: u64 = 2000;
/// Ids named per day in a row.
const NAMED: usize = 5;

/// The archive's records of `source` (files not pruned), read on a blocking thread.
pub async fn read_archived(root: PathBuf, paths: Vec<String>) -> Result<Vec<Rec>, String> {
    tokio::task::spawn_blocking(move || {
        #[derive(serde::Deserialize)]
        struct Line {
            #[serde(rename = "@timestamp")]
            timestamp: String,
            id: String,
        }
        let mut out = Vec::new();
        for p in paths {
            let text = match std::fs::read_to_string(root.join(&p)) {
                Ok(t) => t,
                // Reported by the archive check.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(format!("cannot read {p}: {e}")),
            };
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let l: Line = serde_json::from_str(line)
                    .map_err(|e| format!("{p}: a line is not an archived record: {e}"))?;
                // `<scope>-<key>`: the scope is 20 hex digits.
                let key = l.id.split_once('-').map_or(l.id.as_str(), |(_, k)| k);
                out.push((l.timestamp, key.to_string()));
            }
        }
        Ok(out)
    })
    .await
    .map_err(|e| e.to_string())?
}

fn day_start(t: DateTime<Utc>) -> DateTime<Utc> {
    t.date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc()
}

/// Archived records per day within `[from, to)` (by string: both in the archive's form).
fn per_day(recs: &[Rec], from: &str, to: &str) -> BTreeMap<String, u64> {
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
fn compare(r: &mut OrgReport, c: &Compare, ledger: &Ledger, sf: &[Rec], archived: &[Rec]) -> Tally {
    let mut days: BTreeMap<&str, (HashSet<&str>, HashSet<&str>)> = BTreeMap::new();
    let mut time_of: std::collections::HashMap<&str, &str> = Default::default();
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
                r.add(c.check, Verdict::Error, e);
                return Tally::default();
            }
        };
        let (pending, lost): (Vec<&str>, Vec<&str>) = missing.iter().partition(|k| {
            !seen.contains(**k) && time_of.get(*k).is_some_and(|t| *t > lower.as_str())
        });
        let counts = format!("{day}: Salesforce has {}, the archive {}", s.len(), a.len());
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

/// An SObject (SetupAuditTrail, LoginHistory, ...): Salesforce's records per day against the
/// archive's.
pub async fn sobject(
    r: &mut OrgReport,
    cfg: &ObjectConfig,
    ledger: &Ledger,
    client: &SfClient,
    root: PathBuf,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) {
    let check = cfg.name.as_str();
    let cursors = match ledger.cursors(check) {
        Ok(c) => c,
        Err(e) => return r.add(check, Verdict::Error, e),
    };
    // The cursor's key is the date field the collector follows.
    let cf = match cursors.keys().next() {
        Some(k) => k.clone(),
        None => match date_field(cfg, ledger, client).await {
            Ok(f) => f,
            Err(e) => return r.add(check, Verdict::Error, e),
        },
    };
    let cursor = cursors
        .get(&cf)
        .and_then(|c| parse_sf_datetime(&c.position));
    let versioned = ["SystemModstamp", "LastModifiedDate"]
        .iter()
        .any(|f| f.eq_ignore_ascii_case(&cf));
    let backfill = now - Duration::days(i64::from(cfg.backfill_days));
    let next_lower = cursor
        .map(|p| (p - Duration::seconds(cfg.lookback_secs)).max(backfill))
        .unwrap_or(backfill);
    let paths = match ledger.object_paths(check) {
        Ok(p) => p,
        Err(e) => return r.add(check, Verdict::Error, e),
    };
    let archived = match read_archived(root, paths).await {
        Ok(a) => a,
        Err(e) => return r.add(check, Verdict::Error, e),
    };
    let (from, to) = (since.map(|s| iso(&s)).unwrap_or_default(), iso(&now));
    let mine: Vec<Rec> = archived
        .into_iter()
        .filter(|(t, _)| t.as_str() >= from.as_str() && t.as_str() < to.as_str())
        .collect();
    let estimate = mine.len() as u64;
    // COUNT() per day needs a first day: --since, or as far back as Salesforce keeps.
    let first = since.unwrap_or(backfill);
    let ndays = (now - day_start(first)).num_days().max(0) as u64 + 1;
    let by_ids = estimate.div_ceil(PAGE).max(1);
    let c = Compare {
        check,
        source: check,
        next_lower,
        cursor,
    };
    let read = Reader {
        client,
        object: check,
        cf: &cf,
        versioned,
    };
    if by_ids > ndays {
        return counts(r, &c, &read, ledger, first, now, &mine, ndays, by_ids).await;
    }
    let sf = match read.records(since, now).await {
        Ok(sf) => sf,
        Err(e) => return r.add(check, Verdict::Error, format!("cannot query {check}: {e}")),
    };
    let before = r.rows.len();
    let t = compare(r, &c, ledger, &sf, &mine);
    if !r.rows[before..].iter().any(|x| x.verdict.fails()) {
        r.add(
            check,
            Verdict::Ok,
            format!(
                "{} day(s), {} record(s) in both: every record Salesforce returns is archived (by {cf}; one query of Id and {cf} counted here, {by_ids} call(s), fewer than {ndays} COUNT() queries)",
                t.days, t.matched
            ),
        );
    }
}

/// Reads an SObject's keys and times.
struct Reader<'a> {
    client: &'a SfClient,
    object: &'a str,
    cf: &'a str,
    versioned: bool,
}

impl Reader<'_> {
    /// Records with the date field in `[from, to)`: one query, a call per 2,000 records.
    async fn records(
        &self,
        from: Option<DateTime<Utc>>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Rec>, crate::client::ApiError> {
        let (object, cf) = (self.object, self.cf);
        let mut filter = format!("{cf} < {}", soql_time(&to));
        if let Some(s) = from {
            filter = format!("{cf} >= {} AND {filter}", soql_time(&s));
        }
        let soql =
            format!("SELECT Id, {cf} FROM {object} WHERE {filter} ORDER BY {cf} ASC, Id ASC");
        let rows = self.client.query_all(&soql).await?;
        let mut sf: Vec<Rec> = Vec::with_capacity(rows.len());
        for row in &rows {
            let raw = row.get(cf).and_then(Value::as_str);
            let (Some(id), Some(raw), Some(t)) = (
                row.get("Id").and_then(Value::as_str),
                raw,
                raw.and_then(parse_sf_datetime),
            ) else {
                continue;
            };
            // The collector's de-duplication key (`sources::sobjects`).
            let key = if self.versioned {
                format!("{id}@{raw}")
            } else {
                id.to_string()
            };
            sf.push((iso(&t), key));
        }
        Ok(sf)
    }

    /// `SELECT COUNT()` of `[from, to)`: one call.
    async fn count(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<u64, crate::client::ApiError> {
        let (object, cf) = (self.object, self.cf);
        let soql = format!(
            "SELECT COUNT() FROM {object} WHERE {cf} >= {} AND {cf} < {}",
            soql_time(&from),
            soql_time(&to)
        );
        self.client.query_pages(&soql, |_, _| Ok(())).await
    }
}

/// One `SELECT COUNT()` per day from `first` to `now`; the records of the days where
/// Salesforce has more are then listed, to name them and tell pending from missing.
#[allow(clippy::too_many_arguments)]
async fn counts(
    r: &mut OrgReport,
    c: &Compare<'_>,
    read: &Reader<'_>,
    ledger: &Ledger,
    first: DateTime<Utc>,
    now: DateTime<Utc>,
    archived: &[Rec],
    ndays: u64,
    by_ids: u64,
) {
    let check = c.check;
    let local = per_day(archived, &iso(&first), &iso(&now));
    let (mut total, mut dropped) = (0u64, 0u64);
    let mut short: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    let mut start = first;
    while start < now {
        let end = (day_start(start) + Duration::days(1)).min(now);
        let n = match read.count(start, end).await {
            Ok(n) => n,
            Err(e) => return r.add(check, Verdict::Error, format!("cannot count {check}: {e}")),
        };
        let a = local
            .get(&start.format("%Y-%m-%d").to_string())
            .copied()
            .unwrap_or(0);
        total += n.min(a);
        if n < a {
            dropped += a - n;
        } else if n > a {
            short.push((start, end));
        }
        start = end;
    }
    if dropped > 0 {
        r.add(
            check,
            Verdict::Dropped,
            format!("{dropped} archived record(s) that Salesforce no longer counts: the archive keeps them"),
        );
    }
    let before = r.rows.len();
    for (a, b) in short {
        let sf = match read.records(Some(a), b).await {
            Ok(sf) => sf,
            Err(e) => return r.add(check, Verdict::Error, format!("cannot query {check}: {e}")),
        };
        let (from, to) = (iso(&a), iso(&b));
        let mine: Vec<Rec> = archived
            .iter()
            .filter(|(t, _)| t.as_str() >= from.as_str() && t.as_str() < to.as_str())
            .cloned()
            .collect();
        compare(r, c, ledger, &sf, &mine);
    }
    if !r.rows[before..].iter().any(|x| x.verdict.fails()) {
        r.add(
            check,
            Verdict::Ok,
            format!(
                "{ndays} day(s), {total} record(s): Salesforce's COUNT() per day by {} is what the archive holds ({ndays} COUNT() queries, fewer than the {by_ids} pages of a full listing)",
                read.cf
            ),
        );
    }
}

/// The date field the collector follows when it has no cursor yet: as `sources::sobjects`.
async fn date_field(
    cfg: &ObjectConfig,
    ledger: &Ledger,
    client: &SfClient,
) -> Result<String, String> {
    if cfg.cursor_field.is_some()
        || cfg.name.eq_ignore_ascii_case("LoginHistory")
        || cfg.name.eq_ignore_ascii_case("SetupAuditTrail")
    {
        return Ok(crate::sources::sobjects::cursor_field(cfg, &[]));
    }
    // The collector's cached describe, else one describe call.
    let cached = ledger
        .meta(&format!("describe:{}", cfg.name))?
        .and_then(|v| serde_json::from_str::<Value>(&v).ok())
        .and_then(|v| serde_json::from_value::<Vec<String>>(v["fields"].clone()).ok());
    let fields = match cached {
        Some(f) => f,
        None => {
            let d: Value = client
                .get_json(
                    &format!("{}/sobjects/{}/describe", client.data_path(), cfg.name),
                    &[],
                )
                .await
                .map_err(|e| format!("cannot describe {}: {e}", cfg.name))?;
            d["fields"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f["name"].as_str().map(str::to_string))
                .collect()
        }
    };
    Ok(crate::sources::sobjects::cursor_field(cfg, &fields))
}

/// A `--deep` re-read of one Real-Time Event Monitoring object, planned from the ledger's
/// counts before any call is made (and before any archive file is read).
pub struct DeepPlan {
    pub cfg: ObjectConfig,
    /// `(start, end]` windows on EventDate, each with the rows the archive holds in it.
    pub windows: Vec<(DateTime<Utc>, DateTime<Utc>, u64)>,
    pub cursor: Option<DateTime<Utc>>,
    pub next_lower: DateTime<Utc>,
}

impl DeepPlan {
    /// API calls: a page per 2,000 records, at least one per window.
    pub fn cost(&self) -> u64 {
        self.windows.iter().map(|w| w.2.div_ceil(PAGE).max(1)).sum()
    }
}

/// Windows of whole days, as many days in each as stay under `max_rows_per_window` by the
/// archive's counts per day, from `--since` (or as far back as the collector reads) to now
/// less the settle delay.
pub fn plan_deep(
    cfg: &ObjectConfig,
    days: &BTreeMap<String, u64>,
    cursor: Option<DateTime<Utc>>,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> DeepPlan {
    let backfill = now - Duration::days(i64::from(cfg.backfill_days));
    let start = since.unwrap_or(backfill);
    let end = now - Duration::seconds(cfg.settle_secs);
    let mut windows = Vec::new();
    let (mut w_start, mut w_rows) = (start, 0u64);
    let mut at = start;
    while at < end {
        let next = (day_start(at) + Duration::days(1)).min(end);
        let rows = days
            .get(&at.format("%Y-%m-%d").to_string())
            .copied()
            .unwrap_or(0);
        if w_rows > 0 && w_rows + rows > cfg.max_rows_per_window {
            windows.push((w_start, at, w_rows));
            (w_start, w_rows) = (at, 0);
        }
        w_rows += rows;
        at = next;
    }
    if start < end {
        windows.push((w_start, end, w_rows));
    }
    DeepPlan {
        next_lower: cursor
            .map(|p| (p - Duration::seconds(cfg.lookback_secs)).max(backfill))
            .unwrap_or(backfill),
        cfg: cfg.clone(),
        windows,
        cursor,
    }
}

/// Runs a planned `--deep` re-read and compares EventIdentifiers per day.
pub async fn deep(
    r: &mut OrgReport,
    plan: &DeepPlan,
    ledger: &Ledger,
    client: &SfClient,
    root: PathBuf,
) {
    let name = plan.cfg.name.as_str();
    let check = format!("{name} (deep)");
    let archived = match ledger.object_paths(name) {
        Ok(paths) => read_archived(root, paths).await,
        Err(e) => Err(e),
    };
    let archived = match archived {
        Ok(a) => a,
        Err(e) => return r.add(&check, Verdict::Error, e),
    };
    let (Some(first), Some(last)) = (plan.windows.first(), plan.windows.last()) else {
        return r.add(&check, Verdict::Ok, "nothing to compare in this range");
    };
    let (from, to) = (iso(&first.0), iso(&last.1));
    let archived: Vec<Rec> = archived
        .into_iter()
        .filter(|(t, _)| t.as_str() > from.as_str() && t.as_str() <= to.as_str())
        .collect();
    let mut sf: Vec<Rec> = Vec::new();
    for (a, b, _) in &plan.windows {
        let soql = format!(
            "SELECT EventIdentifier, EventDate FROM {name} WHERE EventDate > {} AND EventDate <= {} ORDER BY EventDate DESC",
            soql_time(a),
            soql_time(b)
        );
        let rows = match client.query_all(&soql).await {
            Ok(rows) => rows,
            Err(e) => {
                return r.add(
                    &check,
                    Verdict::Error,
                    format!("cannot re-read {name}: {e}"),
                )
            }
        };
        for row in &rows {
            let t = row
                .get("EventDate")
                .and_then(Value::as_str)
                .and_then(parse_sf_datetime);
            let k = row.get("EventIdentifier").and_then(Value::as_str);
            if let (Some(t), Some(k)) = (t, k) {
                sf.push((iso(&t), k.to_string()));
            }
        }
    }
    let c = Compare {
        check: &check,
        source: name,
        next_lower: plan.next_lower,
        cursor: plan.cursor,
    };
    let before = r.rows.len();
    let t = compare(r, &c, ledger, &sf, &archived);
    if !r.rows[before..].iter().any(|x| x.verdict.fails()) {
        r.add(
            &check,
            Verdict::Ok,
            format!(
                "{} day(s), {} record(s) in both: every EventIdentifier Salesforce returns is archived (by EventDate, re-read in {} window(s))",
                t.days,
                t.matched,
                plan.windows.len()
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_windows_hold_whole_days_under_the_row_bound() {
        let mut cfg = crate::config::object_defaults("LoginEvent").unwrap();
        cfg.max_rows_per_window = 5000;
        cfg.settle_secs = 0;
        let now = parse_sf_datetime("2026-03-10T12:00:00Z").unwrap();
        let days: BTreeMap<String, u64> = [
            ("2026-03-08", 3000),
            ("2026-03-09", 3000),
            ("2026-03-10", 10),
        ]
        .iter()
        .map(|(d, n)| (d.to_string(), *n))
        .collect();
        let since = parse_sf_datetime("2026-03-08T00:00:00Z");
        let p = plan_deep(&cfg, &days, None, since, now);
        assert_eq!(p.windows.len(), 2, "{:?}", p.windows);
        assert_eq!(p.windows[0].2, 3000);
        assert_eq!(p.windows[1].2, 3010);
        assert_eq!(p.cost(), 2 + 2);
        assert_eq!(p.windows[1].1, now);
    }
}
