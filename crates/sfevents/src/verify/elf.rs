//! EventLogFile: what Salesforce still lists against the ledger. One listing query (its
//! `nextRecordsUrl` pages of 2,000 files), then for each file: archived (with the same
//! LogFileLength), quarantined, not collected by configuration, taken by the next collect
//! (the planner's rule: CreatedDate at or after the oldest cursor less lookback_hours, type
//! and interval chosen), or lost unless the look-back is widened.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::ledger::Ledger;
use super::report::{OrgReport, Verdict};
use archive::normalize::parse_sf_datetime;
use salesforce::client::{ApiError, SfClient};
use salesforce::config::{IntervalChoice, OrgConfig};
use salesforce::sources::event_log_file::{lower_bound, SOURCE};

pub const CHECK: &str = "EventLogFile";

/// One file as Salesforce lists it.
#[derive(Debug, Clone)]
struct SfFile {
    id: String,
    event_type: String,
    log_date: String,
    hourly: bool,
    sequence: i64,
    length: Option<u64>,
    created_raw: String,
    created: DateTime<Utc>,
}

impl SfFile {
    fn from_record(r: &Map<String, Value>) -> Option<SfFile> {
        let s = |k: &str| r.get(k).and_then(Value::as_str);
        let sequence = r.get("Sequence").and_then(Value::as_f64).unwrap_or(0.0) as i64;
        let hourly = match s("Interval") {
            Some(i) => i.eq_ignore_ascii_case("Hourly"),
            None => sequence > 0,
        };
        let created_raw = s("CreatedDate")?.to_string();
        Some(SfFile {
            id: s("Id")?.to_string(),
            event_type: s("EventType")?.to_string(),
            log_date: s("LogDate")?.to_string(),
            hourly,
            sequence,
            length: r
                .get("LogFileLength")
                .and_then(Value::as_f64)
                .map(|f| f as u64),
            created: parse_sf_datetime(&created_raw)?,
            created_raw,
        })
    }

    fn describe(&self) -> String {
        format!(
            "{} ({} {} {}{})",
            self.id,
            self.event_type,
            self.log_date.get(..10).unwrap_or(&self.log_date),
            if self.hourly { "hourly" } else { "daily" },
            if self.hourly {
                format!(" {}", self.log_date.get(11..13).unwrap_or("?"))
            } else {
                String::new()
            }
        ) + &if self.sequence > 1 {
            format!(", sequence {}", self.sequence)
        } else {
            String::new()
        }
    }
}

fn soql_datetime(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The listing: one query, followed page by page.
async fn list(client: &SfClient, since: Option<DateTime<Utc>>) -> Result<Vec<SfFile>, ApiError> {
    let filter = since
        .map(|s| format!(" WHERE LogDate >= {}", soql_datetime(&s)))
        .unwrap_or_default();
    let soql = |fields: &str| {
        format!("SELECT {fields} FROM EventLogFile{filter} ORDER BY CreatedDate ASC, Id ASC")
    };
    let records = match client
        .query_all(&soql(
            "Id, EventType, LogDate, Interval, Sequence, LogFileLength, CreatedDate",
        ))
        .await
    {
        Err(ApiError::Status { code, message, .. })
            if code == "INVALID_FIELD" && message.contains("Interval") =>
        {
            // As the planner does: Sequence tells daily (0) from hourly files.
            client
                .query_all(&soql(
                    "Id, EventType, LogDate, Sequence, LogFileLength, CreatedDate",
                ))
                .await?
        }
        other => other?,
    };
    records
        .iter()
        .map(|r| {
            SfFile::from_record(r).ok_or_else(|| {
                ApiError::Protocol(format!(
                    "EventLogFile record without Id, EventType, LogDate or CreatedDate: {r:?}"
                ))
            })
        })
        .collect()
}

pub async fn check(
    r: &mut OrgReport,
    org: &OrgConfig,
    ledger: &Ledger,
    client: &SfClient,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) {
    let cfg = &org.elf;
    let sf = match list(client, since).await {
        Ok(f) => f,
        Err(e) => {
            return r.add(
                CHECK,
                Verdict::Error,
                format!("cannot list EventLogFile: {e}"),
            )
        }
    };
    let local = |e: String| e;
    let since_iso = since.map(|s| archive::normalize::iso(&s));
    let (archived, quarantined, cursors) = match (
        ledger.files(since_iso.as_deref()).map_err(local),
        ledger.quarantined().map_err(local),
        ledger.cursors(SOURCE).map_err(local),
    ) {
        (Ok(a), Ok(q), Ok(c)) => (a, q, c),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            return r.add(CHECK, Verdict::Error, e);
        }
    };
    let by_id: HashMap<&str, &super::ledger::LedgerFile> =
        archived.iter().map(|f| (f.file_id.as_str(), f)).collect();
    let quarantine: HashMap<&str, &super::ledger::Quarantined> = quarantined
        .iter()
        .map(|q| (q.file_id.as_str(), q))
        .collect();
    let (lower, oldest_cursor) = lower_bound(cfg, &cursors, now);
    let has_hourly: HashSet<&str> = sf
        .iter()
        .filter(|f| f.hourly)
        .map(|f| f.event_type.as_str())
        .collect();
    let chosen = |t: &str| -> bool {
        match cfg.interval {
            IntervalChoice::Daily => false,
            IntervalChoice::Hourly => true,
            IntervalChoice::Auto => match cursors.get(t).and_then(|c| c.extra.as_deref()) {
                Some(x) => x == "Hourly",
                None => has_hourly.contains(t),
            },
        }
    };
    let wanted = |t: &str| cfg.event_types.is_empty() || cfg.event_types.iter().any(|w| w == t);

    // Raw files on disk, to tell a file whose ledger row was removed.
    let on_disk: Vec<String> = org
        .archive_dir
        .join("output")
        .read_dir()
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let before = r.rows.len();
    let mut ok = 0usize;
    let mut pending = 0usize;
    let mut other_interval: BTreeMap<&str, usize> = BTreeMap::new();
    let mut other_type: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &sf {
        if let Some(a) = by_id.get(f.id.as_str()) {
            match f.length {
                Some(len) if len != a.bytes => r.add(
                    CHECK,
                    Verdict::Corrupt,
                    format!(
                        "{}: Salesforce's LogFileLength is {len} bytes, the archived raw file {} bytes: the archived copy is not Salesforce's file. Fix: delete its ledger row and files; the next collect downloads it again",
                        f.describe(),
                        a.bytes
                    ),
                ),
                _ => ok += 1,
            }
            continue;
        }
        if let Some(q) = quarantine.get(f.id.as_str()) {
            r.add(
                CHECK,
                Verdict::Quarantined,
                format!(
                    "{}: quarantined after {} attempt(s): {}. Every collect tries it again while Salesforce keeps it",
                    f.describe(),
                    q.attempts,
                    q.last_error
                ),
            );
            continue;
        }
        if !wanted(&f.event_type) {
            *other_type.entry(&f.event_type).or_default() += 1;
            continue;
        }
        if chosen(&f.event_type) != f.hourly {
            *other_interval.entry(&f.event_type).or_default() += 1;
            continue;
        }
        let on_disk = on_disk.iter().any(|n| n.contains(&f.id));
        let disk_note = if on_disk {
            " (its raw file is on disk, but the ledger has no row for it: the collect downloads it again)"
        } else {
            ""
        };
        if lower.is_none_or(|l| f.created >= l) {
            pending += 1;
            r.add(
                CHECK,
                Verdict::Pending,
                format!(
                    "{}, created {}: not archived yet; the next collect takes it{disk_note}",
                    f.describe(),
                    f.created_raw
                ),
            );
            continue;
        }
        let lower = lower.unwrap_or(now);
        let fix = match oldest_cursor {
            Some(c) => {
                let hours = (c - f.created).num_minutes().div_euclid(60) + 2;
                format!(
                    "the next collect lists from {} (the oldest cursor, {}, less lookback_hours = {}) and does not take it. Fix: set lookback_hours = {hours} under [org.event_log_file] in the config file for one collect (there is no flag); files already in the ledger are skipped",
                    lower.format("%Y-%m-%dT%H:%M:%SZ"),
                    c.format("%Y-%m-%dT%H:%M:%SZ"),
                    cfg.lookback_hours
                )
            }
            None => {
                let days = (now - f.created).num_days() + 1;
                format!(
                    "the next collect lists from {} (backfill_days) and does not take it. Fix: collect once with --backfill-days {days}",
                    lower.format("%Y-%m-%dT%H:%M:%SZ")
                )
            }
        };
        r.add(
            CHECK,
            Verdict::Missing,
            format!(
                "{}, created {}: not archived, and {fix}{disk_note}",
                f.describe(),
                f.created_raw
            ),
        );
    }
    // Quarantined files Salesforce no longer lists are lost (unless --since left them out).
    let listed: HashSet<&str> = sf.iter().map(|f| f.id.as_str()).collect();
    if since.is_none() {
        for q in &quarantined {
            if !listed.contains(q.file_id.as_str()) && !by_id.contains_key(q.file_id.as_str()) {
                r.add(
                    CHECK,
                    Verdict::Missing,
                    format!(
                        "{} ({}): quarantined after {} attempt(s) ({}), and Salesforce no longer has it: its events are lost",
                        q.file_id, q.event_type, q.attempts, q.last_error
                    ),
                );
            }
        }
    }
    let dropped: Vec<&super::ledger::LedgerFile> = archived
        .iter()
        .filter(|a| !listed.contains(a.file_id.as_str()))
        .collect();
    if !dropped.is_empty() {
        let oldest = dropped
            .iter()
            .map(|a| a.log_date.as_str())
            .min()
            .unwrap_or("");
        let newest = dropped
            .iter()
            .map(|a| a.log_date.as_str())
            .max()
            .unwrap_or("");
        r.add(
            CHECK,
            Verdict::Dropped,
            format!(
                "{} archived file(s) that Salesforce no longer lists (LogDate {} to {}): the archive keeps them, which is its point",
                dropped.len(),
                oldest.get(..10).unwrap_or(oldest),
                newest.get(..10).unwrap_or(newest)
            ),
        );
    }
    let mut skipped = Vec::new();
    if !other_interval.is_empty() {
        let n: usize = other_interval.values().sum();
        skipped.push(format!(
            "{n} file(s) of the other interval ({}): each type is collected daily or hourly, never both, and the other interval repeats the same events",
            other_interval.keys().copied().collect::<Vec<_>>().join(", ")
        ));
    }
    if !other_type.is_empty() {
        let n: usize = other_type.values().sum();
        let types: Vec<&str> = other_type.keys().copied().collect();
        skipped.push(format!(
            "{n} file(s) of types not configured ({}); to collect them add --event-type {} (or event_types in the config file)",
            types.join(", "),
            types[0]
        ));
    }
    if !skipped.is_empty() {
        r.add(CHECK, Verdict::Skipped, skipped.join("; "));
    }
    let failed = r.rows[before..].iter().any(|x| x.verdict.fails());
    if !failed {
        r.add(
            CHECK,
            Verdict::Ok,
            format!(
                "Salesforce lists {} file(s){}; all {ok} collected ones are archived with Salesforce's LogFileLength{}",
                sf.len(),
                since
                    .map(|s| format!(" with LogDate since {}", s.format("%Y-%m-%d")))
                    .unwrap_or_default(),
                if pending > 0 {
                    format!(", {pending} more wait for the next collect")
                } else {
                    String::new()
                }
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use archive::state::Cursor;
    use salesforce::config::ElfConfig;

    fn cfg(types: &[&str]) -> ElfConfig {
        ElfConfig {
            enabled: true,
            event_types: types.iter().map(|s| s.to_string()).collect(),
            interval: IntervalChoice::Auto,
            backfill_days: None,
            lookback_hours: 24,
            concurrency: 1,
            every_seconds: 3600,
        }
    }

    fn cur(p: &str) -> Cursor {
        Cursor {
            position: p.into(),
            last_id: String::new(),
            extra: Some("Daily".into()),
        }
    }

    #[test]
    fn the_planners_lower_bound_per_cursor_and_backfill() {
        let now = Utc::now();
        let mut c = HashMap::new();
        assert_eq!(lower_bound(&cfg(&[]), &c, now).0, None);
        c.insert("Login".into(), cur("2026-03-10T00:00:00.000Z"));
        c.insert("URI".into(), cur("2026-03-08T00:00:00.000Z"));
        let (l, o) = lower_bound(&cfg(&[]), &c, now);
        assert_eq!(l, parse_sf_datetime("2026-03-07T00:00:00Z"));
        assert_eq!(o, parse_sf_datetime("2026-03-08T00:00:00Z"));
        assert_eq!(
            lower_bound(&cfg(&["Login"]), &c, now).0,
            parse_sf_datetime("2026-03-09T00:00:00Z")
        );
        // A selected type never collected: the backfill bound (none: everything).
        assert_eq!(lower_bound(&cfg(&["Login", "API"]), &c, now).0, None);
        c.insert("API".into(), cur(""));
        assert_eq!(lower_bound(&cfg(&[]), &c, now).0, None);
    }
}
