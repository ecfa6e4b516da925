//! EventLogFile: what Salesforce still lists against the ledger. One listing query (its
//! `nextRecordsUrl` pages of 2,000 files), then for each file: archived (with the same
//! LogFileLength), quarantined, not collected by configuration, taken by the next collect
//! (the planner's rule: CreatedDate at or after the oldest cursor less lookback_hours, type
//! and interval chosen), or lost unless the look-back is widened.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::error::VerifyError;
use super::ledger::{Inventory, LedgerFile, Quarantined};
use super::report::{OrgVerdicts, Verdict};
use archive::normalize::parse_sf_datetime;
use archive::state::Cursor;
use salesforce::client::{ApiError, SfClient};
use salesforce::config::{ElfConfig, IntervalChoice, OrgConfig};
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

/// EventLogFile as Salesforce lists it against the ledger: a row per listed file that is
/// corrupt, quarantined, pending or missing; then lost quarantined files, the archived files
/// Salesforce dropped, the files the configuration skips, and `ok` when nothing failed.
pub async fn check(
    r: &mut OrgVerdicts,
    org: &OrgConfig,
    ledger: &Inventory,
    client: &SfClient,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) {
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
    let held = match Held::read(ledger, since) {
        Ok(h) => h,
        Err(e) => return r.add(CHECK, Verdict::Error, e.to_string()),
    };
    let j = Judge::new(org, &held, &sf, now);
    let before = r.rows.len();
    let mut tally = Tally::default();
    for f in &sf {
        j.listed(r, f, &mut tally);
    }
    let listed: HashSet<&str> = sf.iter().map(|f| f.id.as_str()).collect();
    // --since narrows the listing, so only a full one tells a quarantined file Salesforce
    // dropped from one it was not asked for.
    if since.is_none() {
        j.lost_quarantined(r, &held.quarantined, &listed);
    }
    dropped(r, &held.archived, &listed);
    tally.skipped(r);
    if !r.rows[before..].iter().any(|x| x.verdict.fails()) {
        r.add(
            CHECK,
            Verdict::Ok,
            format!(
                "Salesforce lists {} file(s){}; all {} collected ones are archived with Salesforce's LogFileLength{}",
                sf.len(),
                since
                    .map(|s| format!(" with LogDate since {}", s.format("%Y-%m-%d")))
                    .unwrap_or_default(),
                tally.ok,
                if tally.pending > 0 {
                    format!(", {} more wait for the next collect", tally.pending)
                } else {
                    String::new()
                }
            ),
        );
    }
}

/// What the ledger holds of EventLogFile.
struct Held {
    /// Delivered files with a LogDate in range.
    archived: Vec<LedgerFile>,
    quarantined: Vec<Quarantined>,
    cursors: HashMap<String, Cursor>,
}

impl Held {
    fn read(ledger: &Inventory, since: Option<DateTime<Utc>>) -> Result<Held, VerifyError> {
        let since_iso = since.map(|s| archive::normalize::iso(&s));
        Ok(Held {
            archived: ledger.files(since_iso.as_deref())?,
            quarantined: ledger.quarantined()?,
            cursors: ledger.cursors(SOURCE)?,
        })
    }
}

/// The listed files that get no row of their own: counted for the `ok` and `skipped` rows.
#[derive(Default)]
struct Tally<'a> {
    /// Archived with Salesforce's LogFileLength.
    ok: usize,
    /// Taken by the next collect.
    pending: usize,
    /// Of the interval the planner does not take for their type, by event type.
    other_interval: BTreeMap<&'a str, usize>,
    /// Of event types not configured, by event type.
    other_type: BTreeMap<&'a str, usize>,
}

impl Tally<'_> {
    /// One `skipped` row for the files the configuration leaves out, if any.
    fn skipped(&self, r: &mut OrgVerdicts) {
        let mut skipped = Vec::new();
        if !self.other_interval.is_empty() {
            let n: usize = self.other_interval.values().sum();
            skipped.push(format!(
                "{n} file(s) of the other interval ({}): each type is collected daily or hourly, never both, and the other interval repeats the same events",
                self.other_interval.keys().copied().collect::<Vec<_>>().join(", ")
            ));
        }
        if !self.other_type.is_empty() {
            let n: usize = self.other_type.values().sum();
            let types: Vec<&str> = self.other_type.keys().copied().collect();
            skipped.push(format!(
                "{n} file(s) of types not configured ({}); to collect them add --event-type {} (or event_types in the config file)",
                types.join(", "),
                types[0]
            ));
        }
        if !skipped.is_empty() {
            r.add(CHECK, Verdict::Skipped, skipped.join("; "));
        }
    }
}

/// Judges each listed file against the ledger and the planner's rule.
struct Judge<'a> {
    cfg: &'a ElfConfig,
    by_id: HashMap<&'a str, &'a LedgerFile>,
    quarantine: HashMap<&'a str, &'a Quarantined>,
    cursors: &'a HashMap<String, Cursor>,
    /// Types Salesforce lists hourly files of: `interval = auto` takes those hourly.
    has_hourly: HashSet<&'a str>,
    /// Where the next collect lists from (`None`: everything), and the oldest cursor.
    lower: Option<DateTime<Utc>>,
    oldest_cursor: Option<DateTime<Utc>>,
    /// Raw file names on disk, to tell a file whose ledger row was removed.
    on_disk: Vec<String>,
    now: DateTime<Utc>,
}

impl<'a> Judge<'a> {
    fn new(org: &'a OrgConfig, held: &'a Held, sf: &'a [SfFile], now: DateTime<Utc>) -> Self {
        let (lower, oldest_cursor) = lower_bound(&org.elf, &held.cursors, now);
        Judge {
            cfg: &org.elf,
            by_id: held
                .archived
                .iter()
                .map(|f| (f.file_id.as_str(), f))
                .collect(),
            quarantine: held
                .quarantined
                .iter()
                .map(|q| (q.file_id.as_str(), q))
                .collect(),
            cursors: &held.cursors,
            has_hourly: sf
                .iter()
                .filter(|f| f.hourly)
                .map(|f| f.event_type.as_str())
                .collect(),
            lower,
            oldest_cursor,
            on_disk: org
                .archive_dir
                .join("output")
                .read_dir()
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect(),
            now,
        }
    }

    /// Whether the collector takes type `t` hourly (else daily), as the planner chooses.
    fn chosen(&self, t: &str) -> bool {
        match self.cfg.interval {
            IntervalChoice::Daily => false,
            IntervalChoice::Hourly => true,
            IntervalChoice::Auto => match self.cursors.get(t).and_then(|c| c.extra.as_deref()) {
                Some(x) => x == "Hourly",
                None => self.has_hourly.contains(t),
            },
        }
    }

    fn wanted(&self, t: &str) -> bool {
        self.cfg.event_types.is_empty() || self.cfg.event_types.iter().any(|w| w == t)
    }

    /// One listed file: a row when it is corrupt, quarantined, pending or missing; counted
    /// otherwise.
    fn listed(&self, r: &mut OrgVerdicts, f: &'a SfFile, tally: &mut Tally<'a>) {
        if let Some(a) = self.by_id.get(f.id.as_str()) {
            return match f.length {
                Some(len) if len != a.bytes => r.add(
                    CHECK,
                    Verdict::Corrupt,
                    format!(
                        "{}: Salesforce's LogFileLength is {len} bytes, the archived raw file {} bytes: the archived copy is not Salesforce's file. Fix: delete its ledger row and files; the next collect downloads it again",
                        f.describe(),
                        a.bytes
                    ),
                ),
                _ => tally.ok += 1,
            };
        }
        if let Some(q) = self.quarantine.get(f.id.as_str()) {
            return r.add(
                CHECK,
                Verdict::Quarantined,
                format!(
                    "{}: quarantined after {} attempt(s): {}. Every collect tries it again while Salesforce keeps it",
                    f.describe(),
                    q.attempts,
                    q.last_error
                ),
            );
        }
        if !self.wanted(&f.event_type) {
            *tally.other_type.entry(&f.event_type).or_default() += 1;
        } else if self.chosen(&f.event_type) != f.hourly {
            *tally.other_interval.entry(&f.event_type).or_default() += 1;
        } else {
            self.not_archived(r, f, tally);
        }
    }

    /// A collected type's file the ledger has no row for: pending when the next collect's
    /// listing reaches it, else missing, with the setting that would reach it.
    fn not_archived(&self, r: &mut OrgVerdicts, f: &SfFile, tally: &mut Tally) {
        let disk_note = if self.on_disk.iter().any(|n| n.contains(&f.id)) {
            " (its raw file is on disk, but the ledger has no row for it: the collect downloads it again)"
        } else {
            ""
        };
        if self.lower.is_none_or(|l| f.created >= l) {
            tally.pending += 1;
            return r.add(
                CHECK,
                Verdict::Pending,
                format!(
                    "{}, created {}: not archived yet; the next collect takes it{disk_note}",
                    f.describe(),
                    f.created_raw
                ),
            );
        }
        r.add(
            CHECK,
            Verdict::Missing,
            format!(
                "{}, created {}: not archived, and {}{disk_note}",
                f.describe(),
                f.created_raw,
                self.fix(f)
            ),
        );
    }

    /// Why the next collect does not take `f` (created before its listing starts), and the
    /// one setting that makes it.
    fn fix(&self, f: &SfFile) -> String {
        let lower = self.lower.unwrap_or(self.now);
        match self.oldest_cursor {
            Some(c) => {
                let hours = (c - f.created).num_minutes().div_euclid(60) + 2;
                format!(
                    "the next collect lists from {} (the oldest cursor, {}, less lookback_hours = {}) and does not take it. Fix: set lookback_hours = {hours} under [org.event_log_file] in the config file for one collect (there is no flag); files already in the ledger are skipped",
                    lower.format("%Y-%m-%dT%H:%M:%SZ"),
                    c.format("%Y-%m-%dT%H:%M:%SZ"),
                    self.cfg.lookback_hours
                )
            }
            None => {
                let days = (self.now - f.created).num_days() + 1;
                format!(
                    "the next collect lists from {} (backfill_days) and does not take it. Fix: collect once with --backfill-days {days}",
                    lower.format("%Y-%m-%dT%H:%M:%SZ")
                )
            }
        }
    }

    /// Quarantined files Salesforce no longer lists, and never archived: their events are
    /// lost. In the ledger's order (by file id).
    fn lost_quarantined(
        &self,
        r: &mut OrgVerdicts,
        quarantined: &[Quarantined],
        listed: &HashSet<&str>,
    ) {
        for q in quarantined {
            if !listed.contains(q.file_id.as_str()) && !self.by_id.contains_key(q.file_id.as_str())
            {
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
}

/// One `dropped` row for the archived files Salesforce no longer lists, with their LogDates.
fn dropped(r: &mut OrgVerdicts, archived: &[LedgerFile], listed: &HashSet<&str>) {
    let dropped: Vec<&LedgerFile> = archived
        .iter()
        .filter(|a| !listed.contains(a.file_id.as_str()))
        .collect();
    if dropped.is_empty() {
        return;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
