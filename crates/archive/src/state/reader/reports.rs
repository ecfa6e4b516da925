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
