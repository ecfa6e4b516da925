//! The `report` command's queries (see `reader`): which files hold a dataset, and the ledger's
//! own numbers that `health` reports (volumes, quarantine, runs, output backlogs), as typed
//! rows. Values come as stored (counts as `i64`): what they mean for a period is the reports'
//! business, not the database's.

use rusqlite::{Params, Row};

use super::Reader;
use crate::state::StateError;

/// One EventLogFile in the `files` ledger, where its data lies.
#[derive(Debug, Clone)]
pub struct ElfListing {
    /// Archive-relative paths; empty when the file has none.
    pub csv_path: String,
    pub ndjson_path: String,
    pub rows: i64,
    /// The LogDate's day (YYYY-MM-DD).
    pub day: String,
}

/// One NDJSON file of an object source in the delivery log, with the events it spans.
#[derive(Debug, Clone)]
pub struct ObjectListing {
    /// Archive-relative path.
    pub path: String,
    pub rows: i64,
    /// `@timestamp` of its oldest and newest event; empty when unknown.
    pub oldest: String,
    pub newest: String,
}

/// What the live rules of an org have done so far, summed over their positions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RuleTotals {
    /// Events evaluated and alerts raised.
    pub events: i64,
    pub alerts: i64,
}

/// One EventLogFile's volume and timing, for `health`.
#[derive(Debug, Clone)]
pub struct ElfVolume {
    pub event_type: String,
    pub log_date: String,
    /// `Daily` or `Hourly`.
    pub interval: String,
    pub created_date: String,
    pub rows: i64,
    pub bytes: i64,
}

/// An object source's files, rows and bytes on one day (its oldest event's, else the day the
/// files were committed).
#[derive(Debug, Clone)]
pub struct ObjectVolume {
    pub source: String,
    pub day: String,
    pub files: i64,
    pub rows: i64,
    pub bytes: i64,
}

/// One quarantined file, with when it last failed.
#[derive(Debug, Clone)]
pub struct QuarantineEntry {
    pub file_id: String,
    pub event_type: String,
    pub attempts: i64,
    pub last_error: String,
    pub last_failed_at: String,
}

/// The collector's runs started on one day, and what they spent and brought.
#[derive(Debug, Clone)]
pub struct RunDay {
    pub day: String,
    pub runs: i64,
    pub api_calls: i64,
    pub files: i64,
    pub rows: i64,
}

/// Where an output stands: its counters, the events still to send (not pruned by retention),
/// and since when the oldest of them waits.
#[derive(Debug, Clone)]
pub struct OutputBacklog {
    pub output: String,
    pub delivered: i64,
    pub dead: i64,
    pub retried: i64,
    pub backlog: i64,
    pub waiting_since: Option<String>,
}

/// A row read by column position, in the order its query selects.
trait FromRow: Sized {
    fn from_row(r: &Row) -> rusqlite::Result<Self>;
}

impl FromRow for ElfListing {
    fn from_row(r: &Row) -> rusqlite::Result<Self> {
        Ok(ElfListing {
            csv_path: r.get(0)?,
            ndjson_path: r.get(1)?,
            rows: r.get(2)?,
            day: r.get(3)?,
        })
    }
}

impl FromRow for ObjectListing {
    fn from_row(r: &Row) -> rusqlite::Result<Self> {
        Ok(ObjectListing {
            path: r.get(0)?,
            rows: r.get(1)?,
            oldest: r.get(2)?,
            newest: r.get(3)?,
        })
    }
}

impl FromRow for ElfVolume {
    fn from_row(r: &Row) -> rusqlite::Result<Self> {
        Ok(ElfVolume {
            event_type: r.get(0)?,
            log_date: r.get(1)?,
            interval: r.get(2)?,
            created_date: r.get(3)?,
            rows: r.get(4)?,
            bytes: r.get(5)?,
        })
    }
}

impl FromRow for ObjectVolume {
    fn from_row(r: &Row) -> rusqlite::Result<Self> {
        Ok(ObjectVolume {
            source: r.get(0)?,
            day: r.get(1)?,
            files: r.get(2)?,
            rows: r.get(3)?,
            bytes: r.get(4)?,
        })
    }
}

impl FromRow for QuarantineEntry {
    fn from_row(r: &Row) -> rusqlite::Result<Self> {
        Ok(QuarantineEntry {
            file_id: r.get(0)?,
            event_type: r.get(1)?,
            attempts: r.get(2)?,
            last_error: r.get(3)?,
            last_failed_at: r.get(4)?,
        })
    }
}

impl FromRow for RunDay {
    fn from_row(r: &Row) -> rusqlite::Result<Self> {
        Ok(RunDay {
            day: r.get(0)?,
            runs: r.get(1)?,
            api_calls: r.get(2)?,
            files: r.get(3)?,
            rows: r.get(4)?,
        })
    }
}

impl FromRow for OutputBacklog {
    fn from_row(r: &Row) -> rusqlite::Result<Self> {
        Ok(OutputBacklog {
            output: r.get(0)?,
            delivered: r.get(1)?,
            dead: r.get(2)?,
            retried: r.get(3)?,
            backlog: r.get(4)?,
            waiting_since: r.get(5)?,
        })
    }
}

/// Every row of `sql`, typed.
fn all<T: FromRow>(reader: &Reader, sql: &str, params: impl Params) -> Result<Vec<T>, StateError> {
    let mut st = reader.conn.prepare(sql)?;
    let rows = st.query_map(params, T::from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

impl Reader {
    /// The org of the newest run: the name the collector last gave this archive's org.
    pub fn last_run_org(&self) -> Result<Option<String>, StateError> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn
            .query_row("SELECT org FROM runs ORDER BY id DESC LIMIT 1", [], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// The EventLogFiles of one type of `org`, by LogDate then sequence.
    pub fn elf_listing(&self, org: &str, event_type: &str) -> Result<Vec<ElfListing>, StateError> {
        all(
            self,
            "SELECT csv_path, ndjson_path, rows, substr(log_date, 1, 10) FROM files \
                 WHERE org = ?1 AND event_type = ?2 ORDER BY log_date, sequence",
            [org, event_type],
        )
    }

    /// The NDJSON files of one object source of `org`, in delivery-log order.
    pub fn object_listing(
        &self,
        org: &str,
        source: &str,
    ) -> Result<Vec<ObjectListing>, StateError> {
        all(
            self,
            "SELECT path, rows, coalesce(oldest_event, ''), coalesce(newest_event, '') \
                 FROM delivery_log WHERE org = ?1 AND source = ?2 ORDER BY seq",
            [org, source],
        )
    }

    /// The NDJSON files of one dataset of `org` (`alert`, `login_event`, ...), in delivery-log
    /// order.
    pub fn dataset_listing(
        &self,
        org: &str,
        dataset: &str,
    ) -> Result<Vec<ObjectListing>, StateError> {
        all(
            self,
            "SELECT path, rows, coalesce(oldest_event, ''), coalesce(newest_event, '') \
                 FROM delivery_log WHERE org = ?1 AND dataset = ?2 ORDER BY seq",
            [org, dataset],
        )
    }

    /// What the live rules of `org` have evaluated and raised in all; `None` when they never
    /// ran here (no position), or the archive predates them (no `rule_positions` table).
    pub fn rule_totals(&self, org: &str) -> Result<Option<RuleTotals>, StateError> {
        let tables: i64 = self.conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'rule_positions'",
            [],
            |r| r.get(0),
        )?;
        if tables == 0 {
            return Ok(None);
        }
        let (positions, events, alerts): (i64, i64, i64) = self.conn.query_row(
            "SELECT count(*), coalesce(sum(events), 0), coalesce(sum(alerts), 0) \
                 FROM rule_positions WHERE org = ?1",
            [org],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        Ok((positions > 0).then_some(RuleTotals { events, alerts }))
    }

    /// Every EventLogFile of `org`, with its volume and timing.
    pub fn elf_volumes(&self, org: &str) -> Result<Vec<ElfVolume>, StateError> {
        all(
            self,
            "SELECT event_type, log_date, interval, created_date, rows, bytes FROM files WHERE org = ?1",
            [org],
        )
    }

    /// The object sources' files, rows and bytes of `org`, per source and day.
    pub fn object_volumes(&self, org: &str) -> Result<Vec<ObjectVolume>, StateError> {
        all(
            self,
            "SELECT source, substr(coalesce(oldest_event, committed_at), 1, 10), count(*), sum(rows), sum(bytes) \
                 FROM delivery_log WHERE org = ?1 AND source <> 'EventLogFile' GROUP BY 1, 2",
            [org],
        )
    }

    /// The quarantined files of `org`, the most recently failed first.
    pub fn quarantine_entries(&self, org: &str) -> Result<Vec<QuarantineEntry>, StateError> {
        all(
            self,
            "SELECT file_id, event_type, attempts, last_error, last_failed_at FROM quarantine \
                 WHERE org = ?1 ORDER BY last_failed_at DESC",
            [org],
        )
    }

    /// The runs of `org` per day they started on (in no particular order).
    pub fn runs_per_day(&self, org: &str) -> Result<Vec<RunDay>, StateError> {
        all(
            self,
            "SELECT substr(started_at, 1, 10), count(*), sum(api_calls), sum(files), sum(rows) \
                 FROM runs WHERE org = ?1 GROUP BY 1",
            [org],
        )
    }

    /// Each output of `org`, by name: its counters and what it still has to send. A file the
    /// output is part-way through counts only its rows past the output's position.
    pub fn output_backlogs(&self, org: &str) -> Result<Vec<OutputBacklog>, StateError> {
        all(
            self,
            "SELECT p.output, p.delivered, p.dead, p.retried, \
                   (SELECT coalesce(sum(CASE WHEN d.seq = p.seq THEN max(d.rows - p.row, 0) ELSE d.rows END), 0) \
                      FROM delivery_log d WHERE d.org = p.org AND d.seq >= p.seq AND d.pruned_at IS NULL), \
                   (SELECT min(d.committed_at) FROM delivery_log d WHERE d.org = p.org AND d.seq >= p.seq \
                      AND d.pruned_at IS NULL AND NOT (d.seq = p.seq AND d.rows <= p.row)) \
                 FROM output_positions p WHERE p.org = ?1 ORDER BY p.output",
            [org],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{FileEntry, RunTotals, Start, Store};

    fn entry(id: &str, log_date: &str, interval: &str) -> FileEntry {
        FileEntry {
            file_id: id.into(),
            event_type: "Login".into(),
            log_date: log_date.into(),
            interval: interval.into(),
            sequence: 0,
            created_date: "2024-01-02T02:00:00.000Z".into(),
            rows: 3,
            bytes: 100,
            sha256: "ab".into(),
            csv_path: format!("output/{id}.csv"),
            ndjson_path: format!("events/login/{id}.ndjson"),
            ndjson_bytes: 300,
            oldest: Some(log_date.into()),
            fields: None,
        }
    }

    #[test]
    fn reports_read_what_the_collector_committed() {
        let d = tempfile::tempdir().unwrap();
        let db = d.path().join("state.db");
        let s = Store::open(&db).unwrap();
        let run = s.begin_run("o").unwrap();
        s.commit_file(
            "o",
            run,
            &entry("F2", "2024-01-02T05:00:00.000Z", "Hourly"),
            None,
            None,
        )
        .unwrap();
        s.commit_file(
            "o",
            run,
            &entry("F1", "2024-01-01T00:00:00.000Z", "Daily"),
            None,
            None,
        )
        .unwrap();
        s.quarantine("o", "F3", "Login", "boom").unwrap();
        let totals = RunTotals {
            api_calls: 7,
            files: 2,
            rows: 6,
            ..RunTotals::default()
        };
        s.finish_run(run, "ok", &totals, None).unwrap();

        let r = Reader::open(&db).unwrap();
        assert_eq!(r.last_run_org().unwrap().as_deref(), Some("o"));
        let listed = r.elf_listing("o", "Login").unwrap();
        let days: Vec<&str> = listed.iter().map(|f| f.day.as_str()).collect();
        assert_eq!(days, ["2024-01-01", "2024-01-02"], "by LogDate, as days");
        assert_eq!(listed[0].csv_path, "output/F1.csv");
        assert!(r.elf_listing("o", "API").unwrap().is_empty());
        let volumes = r.elf_volumes("o").unwrap();
        assert_eq!(volumes.len(), 2);
        assert!(volumes
            .iter()
            .any(|v| v.interval == "Hourly" && v.bytes == 100));
        // The delivery log lists EventLogFile NDJSON too; object volumes leave them out.
        assert_eq!(r.object_listing("o", "EventLogFile").unwrap().len(), 2);
        assert!(r.object_volumes("o").unwrap().is_empty());
        let q = r.quarantine_entries("o").unwrap();
        assert_eq!((q[0].file_id.as_str(), q[0].attempts), ("F3", 1));
        assert!(!q[0].last_failed_at.is_empty());
        let runs = r.runs_per_day("o").unwrap();
        assert_eq!((runs[0].runs, runs[0].api_calls, runs[0].files), (1, 7, 2));
        assert!(r.output_backlogs("o").unwrap().is_empty());
        // An output from the beginning has every row to send; one from now has none.
        s.position("o", "splunk", Start::Beginning).unwrap();
        s.position("o", "es", Start::Now).unwrap();
        let b = r.output_backlogs("o").unwrap();
        let got: Vec<(&str, i64, bool)> = b
            .iter()
            .map(|o| (o.output.as_str(), o.backlog, o.waiting_since.is_some()))
            .collect();
        assert_eq!(got, [("es", 0, false), ("splunk", 6, true)]);
        assert!(r.elf_listing("other", "Login").unwrap().is_empty());
    }

    #[test]
    fn alert_files_and_the_live_rules_totals() {
        use crate::state::{LogFile, RuleCommit};
        let d = tempfile::tempdir().unwrap();
        let db = d.path().join("state.db");
        let s = Store::open(&db).unwrap();
        let r = Reader::open(&db).unwrap();
        assert_eq!(r.rule_totals("o").unwrap(), None, "rules never ran");
        assert!(r.dataset_listing("o", "alert").unwrap().is_empty());
        let file = LogFile {
            source: "sfevents".into(),
            dataset: "alert".into(),
            path: "events/alert/2024-01-01/alerts-1-2.ndjson".into(),
            rows: 3,
            bytes: 900,
            oldest: Some("2024-01-01T00:00:00.000Z".into()),
            newest: Some("2024-01-01T05:00:00.000Z".into()),
        };
        let pass = |events, alerts, f| RuleCommit {
            next_seq: 1,
            state: "{}",
            events,
            alerts,
            alerts_file: f,
        };
        s.commit_rules("o", "rules", &pass(10, 3, Some(&file)))
            .unwrap();
        s.commit_rules("o", "rules", &pass(5, 0, None)).unwrap();
        let totals = r.rule_totals("o").unwrap();
        assert_eq!(
            totals,
            Some(RuleTotals {
                events: 15,
                alerts: 3
            })
        );
        assert_eq!(r.rule_totals("other").unwrap(), None);
        let listed = r.dataset_listing("o", "alert").unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].path, file.path);
        assert_eq!(
            (listed[0].rows, listed[0].newest.as_str()),
            (3, "2024-01-01T05:00:00.000Z")
        );
        assert!(r.dataset_listing("o", "login").unwrap().is_empty());
    }
}
