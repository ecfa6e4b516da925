//! The delivery log and the outputs' positions in it.
//!
//! Every unit that commits (an EventLogFile's NDJSON, an object page's NDJSON files) appends
//! its files to `delivery_log` in the same transaction as its ledger row and cursor, so the
//! log holds exactly what the archive holds, in commit order. Each output keeps its own
//! position `(seq, row)`: every row before it has been acknowledged by the destination (or
//! dead-lettered). Collection never waits for an output; an output that is behind simply has
//! a backlog, read from the archive, which is the buffer.

use rusqlite::{params, Connection, OptionalExtension};

use super::{now, StateError, Store};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS delivery_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, org TEXT NOT NULL, source TEXT NOT NULL,
    dataset TEXT NOT NULL, path TEXT NOT NULL, rows INTEGER NOT NULL, bytes INTEGER NOT NULL,
    oldest_event TEXT, newest_event TEXT, committed_at TEXT NOT NULL, pruned_at TEXT);
CREATE INDEX IF NOT EXISTS delivery_log_org ON delivery_log (org, seq);
CREATE TABLE IF NOT EXISTS output_positions (
    org TEXT NOT NULL, output TEXT NOT NULL, seq INTEGER NOT NULL, row INTEGER NOT NULL,
    delivered INTEGER NOT NULL DEFAULT 0, dead INTEGER NOT NULL DEFAULT 0,
    retried INTEGER NOT NULL DEFAULT 0, last_error TEXT, last_error_at TEXT,
    last_success TEXT, updated_at TEXT NOT NULL,
    PRIMARY KEY (org, output));
";

/// Columns added after the first release of `output_positions`: `in_flight` counts the
/// events of batches sent and not yet settled (non-zero at start means the last process
/// stopped mid-batch), `repeats` the events that may therefore have reached the destination
/// twice; a notifier's `suppressed` counts the alerts its `suppress_minutes` held back and
/// `skipped` those its `min_level` or `rules` do not take.
pub(super) const ADDED_COLUMNS: &[(&str, &str)] = &[
    ("in_flight", "INTEGER NOT NULL DEFAULT 0"),
    ("repeats", "INTEGER NOT NULL DEFAULT 0"),
    ("suppressed", "INTEGER NOT NULL DEFAULT 0"),
    ("skipped", "INTEGER NOT NULL DEFAULT 0"),
];

/// Adds the columns of [`ADDED_COLUMNS`] that an older state.db lacks.
pub(super) fn migrate(c: &Connection) -> rusqlite::Result<()> {
    let mut st = c.prepare("SELECT name FROM pragma_table_info('output_positions')")?;
    let have: Vec<String> = st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    for (name, ty) in ADDED_COLUMNS {
        if !have.iter().any(|h| h == name) {
            c.execute_batch(&format!(
                "ALTER TABLE output_positions ADD COLUMN {name} {ty}"
            ))?;
        }
    }
    Ok(())
}

/// One archive file of a committing unit, for the log.
#[derive(Debug, Clone)]
pub struct LogFile {
    pub source: String,
    /// `login`, `api_total_usage`, `login_event`, ...
    pub dataset: String,
    /// Archive-relative path of the NDJSON file.
    pub path: String,
    pub rows: u64,
    pub bytes: u64,
    pub oldest: Option<String>,
    pub newest: Option<String>,
}

/// An entry of the log.
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub seq: i64,
    pub file: LogFile,
    pub committed_at: String,
}

/// Where an output stands: every row before `(seq, row)` is delivered or dead-lettered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Position {
    pub seq: i64,
    pub row: u64,
    pub delivered: u64,
    pub dead: u64,
    pub retried: u64,
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
    pub last_success: Option<String>,
    /// Events sent and not yet settled.
    pub in_flight: u64,
    /// Events that may have reached the destination twice: in flight when a process stopped.
    pub repeats: u64,
    /// A notifier's alerts held back by `suppress_minutes`.
    pub suppressed: u64,
    /// A notifier's alerts below its `min_level` or outside its `rules`.
    pub skipped: u64,
}

/// What an output still has to deliver.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Backlog {
    pub events: u64,
    pub bytes: u64,
    /// The oldest `@timestamp` among the files not yet wholly delivered.
    pub oldest: Option<String>,
}

/// A batch acknowledged: the new position and what it counted.
#[derive(Debug, Clone, Default)]
pub struct Advance {
    pub seq: i64,
    pub row: u64,
    pub delivered: u64,
    pub dead: u64,
    pub retried: u64,
    /// The batch's events, counted in flight when it was sent.
    pub settled: u64,
    /// A notifier's: alerts held back, and not its to send (counted in `delivered` too).
    pub suppressed: u64,
    pub skipped: u64,
    /// A notifier's: the suppression keys it notified in this batch, with the alert's time
    /// (epoch seconds), committed with the position so a restart suppresses as before.
    pub marks: Vec<(String, i64)>,
}

/// Where a new output starts in an archive that already holds events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Everything the archive holds (the default: the archive keeps what Salesforce no longer
    /// does, so a new destination can be backfilled from it).
    Beginning,
    /// Only what is committed from now on.
    Now,
}

pub(super) fn append(c: &Connection, org: &str, f: &LogFile) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO delivery_log (org, source, dataset, path, rows, bytes, oldest_event, newest_event, committed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            org,
            f.source,
            f.dataset,
            f.path,
            f.rows as i64,
            f.bytes as i64,
            f.oldest,
            f.newest,
            now()
        ],
    )
    .map(|_| ())
}

pub(super) fn entry(r: &rusqlite::Row) -> rusqlite::Result<LogEntry> {
    Ok(LogEntry {
        seq: r.get(0)?,
        file: LogFile {
            source: r.get(1)?,
            dataset: r.get(2)?,
            path: r.get(3)?,
            rows: r.get::<_, i64>(4)? as u64,
            bytes: r.get::<_, i64>(5)? as u64,
            oldest: r.get(6)?,
            newest: r.get(7)?,
        },
        committed_at: r.get(8)?,
    })
}

pub(super) const ENTRY_COLUMNS: &str =
    "seq, source, dataset, path, rows, bytes, oldest_event, newest_event, committed_at";

impl Store {
    /// Up to `limit` log entries from `from_seq` on, in order.
    pub fn log_from(
        &self,
        org: &str,
        from_seq: i64,
        limit: usize,
    ) -> Result<Vec<LogEntry>, StateError> {
        self.with(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {ENTRY_COLUMNS} FROM delivery_log WHERE org = ?1 AND seq >= ?2 AND pruned_at IS NULL ORDER BY seq LIMIT ?3"
            ))?;
            let rows = st.query_map(params![org, from_seq, limit as i64], entry)?;
            rows.collect()
        })
    }

    /// The entries whose events may fall in `[since, until)` and whose dataset is one of
    /// `datasets` (all when empty), in order: what `replay` sends again.
    pub fn log_select(
        &self,
        org: &str,
        since: Option<&str>,
        until: Option<&str>,
        datasets: &[String],
    ) -> Result<Vec<LogEntry>, StateError> {
        let all = self.with(|c| {
            let mut st = c.prepare(&format!(
                "SELECT {ENTRY_COLUMNS} FROM delivery_log WHERE org = ?1 AND pruned_at IS NULL
                   AND (?2 IS NULL OR newest_event IS NULL OR newest_event >= ?2)
                   AND (?3 IS NULL OR oldest_event IS NULL OR oldest_event < ?3)
                 ORDER BY seq"
            ))?;
            let rows = st.query_map(params![org, since, until], entry)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })?;
        Ok(all
            .into_iter()
            .filter(|e| datasets.is_empty() || datasets.contains(&e.file.dataset))
            .collect())
    }

    /// The first entry committed after `cutoff` (RFC 3339 UTC, as `committed_at` is
    /// written), else the next sequence number: a digest notifier reads the log up to there,
    /// so each of its passes gathers what was committed until `cutoff`.
    pub fn log_end_before(&self, org: &str, cutoff: &str) -> Result<i64, StateError> {
        let first_after: Option<i64> = self.with(|c| {
            c.query_row(
                "SELECT MIN(seq) FROM delivery_log WHERE org = ?1 AND committed_at > ?2",
                params![org, cutoff],
                |r| r.get(0),
            )
        })?;
        match first_after {
            Some(seq) => Ok(seq),
            None => self.log_end(org),
        }
    }

    /// The sequence number the next entry will get.
    pub fn log_end(&self, org: &str) -> Result<i64, StateError> {
        self.with(|c| {
            c.query_row(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM delivery_log WHERE org = ?1",
                [org],
                |r| r.get(0),
            )
        })
    }

    /// An output's position, created at `start` the first time the output is seen.
    pub fn position(&self, org: &str, output: &str, start: Start) -> Result<Position, StateError> {
        if let Some(p) = self.position_if_known(org, output)? {
            return Ok(p);
        }
        let seq = match start {
            Start::Beginning => 0,
            Start::Now => self.log_end(org)?,
        };
        self.with(|c| {
            c.execute(
                "INSERT OR IGNORE INTO output_positions (org, output, seq, row, updated_at) VALUES (?1, ?2, ?3, 0, ?4)",
                params![org, output, seq, now()],
            )
        })?;
        Ok(self.position_if_known(org, output)?.unwrap_or(Position {
            seq,
            ..Position::default()
        }))
    }

    /// An output's position, if it has one.
    pub fn position_if_known(
        &self,
        org: &str,
        output: &str,
    ) -> Result<Option<Position>, StateError> {
        self.with(|c| {
            c.query_row(
                "SELECT seq, row, delivered, dead, retried, last_error, last_error_at, last_success,
                        in_flight, repeats, suppressed, skipped
                 FROM output_positions WHERE org = ?1 AND output = ?2",
                params![org, output],
                |r| {
                    Ok(Position {
                        seq: r.get(0)?,
                        row: r.get::<_, i64>(1)? as u64,
                        delivered: r.get::<_, i64>(2)? as u64,
                        dead: r.get::<_, i64>(3)? as u64,
                        retried: r.get::<_, i64>(4)? as u64,
                        last_error: r.get(5)?,
                        last_error_at: r.get(6)?,
                        last_success: r.get(7)?,
                        in_flight: r.get::<_, i64>(8)? as u64,
                        repeats: r.get::<_, i64>(9)? as u64,
                        suppressed: r.get::<_, i64>(10)? as u64,
                        skipped: r.get::<_, i64>(11)? as u64,
                    })
                },
            )
            .optional()
        })
    }

    /// Every output known to this archive, by name.
    pub fn outputs(&self, org: &str) -> Result<Vec<(String, Position)>, StateError> {
        let names: Vec<String> = self.with(|c| {
            let mut st =
                c.prepare("SELECT output FROM output_positions WHERE org = ?1 ORDER BY output")?;
            let rows = st.query_map([org], |r| r.get(0))?;
            rows.collect()
        })?;
        let mut out = Vec::new();
        for n in names {
            if let Some(p) = self.position_if_known(org, &n)? {
                out.push((n, p));
            }
        }
        Ok(out)
    }

    /// Moves an output's position after the destination acknowledged a batch. The caller
    /// has already written the batch's dead letters.
    pub fn advance(&self, org: &str, output: &str, a: &Advance) -> Result<(), StateError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            tx.execute(
                "UPDATE output_positions SET seq = ?3, row = ?4, delivered = delivered + ?5,
                   dead = dead + ?6, retried = retried + ?7, last_success = ?8, updated_at = ?8,
                   in_flight = MAX(in_flight - ?9, 0), suppressed = suppressed + ?10,
                   skipped = skipped + ?11
                 WHERE org = ?1 AND output = ?2",
                params![
                    org,
                    output,
                    a.seq,
                    a.row as i64,
                    a.delivered as i64,
                    a.dead as i64,
                    a.retried as i64,
                    now(),
                    a.settled as i64,
                    a.suppressed as i64,
                    a.skipped as i64
                ],
            )?;
            super::notify::mark(&tx, org, output, &a.marks)?;
            tx.commit()
        })
    }

    /// Records why an output could not deliver (the position stays). `settled`: events no
    /// longer in flight (the pass gave them up; they are sent again next time).
    pub fn output_error(
        &self,
        org: &str,
        output: &str,
        error: &str,
        retried: u64,
        settled: u64,
    ) -> Result<(), StateError> {
        self.with(|c| {
            c.execute(
                "UPDATE output_positions SET last_error = ?3, last_error_at = ?4,
                   retried = retried + ?5, updated_at = ?4, in_flight = MAX(in_flight - ?6, 0)
                 WHERE org = ?1 AND output = ?2",
                params![org, output, error, now(), retried as i64, settled as i64],
            )
            .map(|_| ())
        })
    }

    /// Counts `events` in flight for an output, before they are sent: if the process stops
    /// before they settle, the next pass knows they may be repeated.
    pub fn sending(&self, org: &str, output: &str, events: u64) -> Result<(), StateError> {
        self.with(|c| {
            c.execute(
                "UPDATE output_positions SET in_flight = in_flight + ?3 WHERE org = ?1 AND output = ?2",
                params![org, output, events as i64],
            )
            .map(|_| ())
        })
    }

    /// At the start of a pass: events left in flight by a process that stopped mid-batch
    /// become possible repeats. Returns how many.
    pub fn settle_interrupted(&self, org: &str, output: &str) -> Result<u64, StateError> {
        self.with(|c| {
            let tx = c.transaction()?;
            let n: i64 = tx
                .query_row(
                    "SELECT in_flight FROM output_positions WHERE org = ?1 AND output = ?2",
                    params![org, output],
                    |r| r.get(0),
                )
                .optional()?
                .unwrap_or(0);
            if n > 0 {
                tx.execute(
                    "UPDATE output_positions SET repeats = repeats + in_flight, in_flight = 0
                     WHERE org = ?1 AND output = ?2",
                    params![org, output],
                )?;
            }
            tx.commit()?;
            Ok(n as u64)
        })
    }

    /// What an output at `p` has left to deliver.
    pub fn backlog(&self, org: &str, p: &Position) -> Result<Backlog, StateError> {
        self.with(|c| {
            c.query_row(
                "SELECT COALESCE(SUM(CASE WHEN seq = ?2 THEN MAX(rows - ?3, 0) ELSE rows END), 0),
                        COALESCE(SUM(CASE WHEN seq = ?2 THEN bytes * MAX(rows - ?3, 0) / MAX(rows, 1) ELSE bytes END), 0),
                        MIN(oldest_event)
                 FROM delivery_log WHERE org = ?1 AND seq >= ?2 AND pruned_at IS NULL",
                params![org, p.seq, p.row as i64],
                |r| {
                    Ok(Backlog {
                        events: r.get::<_, i64>(0)? as u64,
                        bytes: r.get::<_, i64>(1)? as u64,
                        oldest: r.get(2)?,
                    })
                },
            )
        })
    }

    /// Files committed before `before` that every output known to this archive has delivered
    /// (all of them, when no output is known), not yet pruned: what retention may remove.
    pub fn prunable(&self, org: &str, before: &str) -> Result<Vec<LogEntry>, StateError> {
        let lowest = self.delivered_everywhere_before(org)?.unwrap_or(i64::MAX);
        self.with(|c| {
            let mut st = c.prepare(&format!(
                "SELECT {ENTRY_COLUMNS} FROM delivery_log WHERE org = ?1 AND pruned_at IS NULL
                   AND committed_at < ?2 AND seq < ?3 ORDER BY seq"
            ))?;
            let rows = st.query_map(params![org, before, lowest], entry)?;
            rows.collect()
        })
    }

    /// Records that a file was removed by retention: outputs skip it from now on.
    pub fn mark_pruned(&self, seq: i64) -> Result<(), StateError> {
        self.with(|c| {
            c.execute(
                "UPDATE delivery_log SET pruned_at = ?2 WHERE seq = ?1",
                params![seq, now()],
            )
            .map(|_| ())
        })
    }

    /// The lowest position of all outputs known to this archive: files before it have been
    /// delivered everywhere. `None` when no output is known.
    pub fn delivered_everywhere_before(&self, org: &str) -> Result<Option<i64>, StateError> {
        self.with(|c| {
            c.query_row(
                "SELECT MIN(seq) FROM output_positions WHERE org = ?1",
                [org],
                |r| r.get(0),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, rows: u64, oldest: &str) -> LogFile {
        LogFile {
            source: "LoginEvent".into(),
            dataset: "login_event".into(),
            path: path.into(),
            rows,
            bytes: rows * 100,
            oldest: Some(oldest.into()),
            newest: Some(oldest.into()),
        }
    }

    #[test]
    fn positions_backlog_and_start() {
        let d = tempfile::tempdir().unwrap();
        let s = Store::open(&d.path().join("state.db")).unwrap();
        s.with(|c| {
            append(c, "o", &file("a.ndjson", 10, "2024-01-01T00:00:00.000Z"))?;
            append(c, "o", &file("b.ndjson", 5, "2024-01-02T00:00:00.000Z"))
        })
        .unwrap();
        let p = s.position("o", "es", Start::Beginning).unwrap();
        assert_eq!((p.seq, p.row), (0, 0));
        let b = s.backlog("o", &p).unwrap();
        assert_eq!((b.events, b.bytes), (15, 1500));
        assert_eq!(b.oldest.as_deref(), Some("2024-01-01T00:00:00.000Z"));
        let late = s.position("o", "late", Start::Now).unwrap();
        assert_eq!(s.backlog("o", &late).unwrap().events, 0);

        // Half of the first file, then the rest of everything.
        let first = s.log_from("o", 0, 10).unwrap();
        assert_eq!(first.len(), 2);
        s.advance(
            "o",
            "es",
            &Advance {
                seq: first[0].seq,
                row: 4,
                delivered: 3,
                dead: 1,
                ..Advance::default()
            },
        )
        .unwrap();
        let p = s.position("o", "es", Start::Beginning).unwrap();
        assert_eq!((p.row, p.delivered, p.dead), (4, 3, 1));
        assert_eq!(s.backlog("o", &p).unwrap().events, 11);
        // A batch of 6 in flight, given up: it settles without repeats.
        s.sending("o", "es", 6).unwrap();
        assert_eq!(s.position("o", "es", Start::Now).unwrap().in_flight, 6);
        s.output_error("o", "es", "boom", 2, 6).unwrap();
        let p = s.position("o", "es", Start::Now).unwrap();
        assert_eq!(p.last_error.as_deref(), Some("boom"));
        assert_eq!((p.retried, p.in_flight), (2, 0));
        assert_eq!(s.settle_interrupted("o", "es").unwrap(), 0);
        // A batch in flight when the process stopped: possible repeats at the next start.
        s.sending("o", "es", 5).unwrap();
        drop(s);
        let s = Store::open(&d.path().join("state.db")).unwrap();
        assert_eq!(s.settle_interrupted("o", "es").unwrap(), 5);
        let p = s.position("o", "es", Start::Now).unwrap();
        assert_eq!((p.in_flight, p.repeats), (0, 5));
        assert_eq!(s.settle_interrupted("o", "es").unwrap(), 0);
        s.advance(
            "o",
            "es",
            &Advance {
                seq: first[1].seq + 1,
                row: 0,
                delivered: 11,
                settled: 11,
                ..Advance::default()
            },
        )
        .unwrap();
        let p = s.position("o", "es", Start::Beginning).unwrap();
        assert_eq!(s.backlog("o", &p).unwrap(), Backlog::default());
        assert_eq!(s.outputs("o").unwrap().len(), 2);
        assert_eq!(
            s.log_select("o", Some("2024-01-02T00:00:00.000Z"), None, &[])
                .unwrap()
                .len(),
            1
        );
    }
}
