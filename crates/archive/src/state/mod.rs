//! `state.db`: cursors, the ledger of delivered files, quarantined files and run history, in
//! SQLite (WAL, synchronous=FULL). A unit of work is committed by one transaction that writes
//! its ledger row, moves its cursor and appends its files to the delivery log (`delivery`)
//! together.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};
use thiserror::Error;

mod archived;
mod declared;
mod delivery;
mod notify;
mod objects;
mod reader;
mod rules;

/// Bumped after every unit commits; `run`'s shippers wait on it (`commits()`), so they wake as
/// units commit rather than polling.
static COMMITS: std::sync::LazyLock<tokio::sync::watch::Sender<u64>> =
    std::sync::LazyLock::new(|| tokio::sync::watch::channel(0).0);

/// A receiver that sees every commit made after it was taken.
pub fn commits() -> tokio::sync::watch::Receiver<u64> {
    COMMITS.subscribe()
}

fn committed() {
    COMMITS.send_modify(|n| *n = n.wrapping_add(1));
}

pub use archived::ArchivedTotals;
pub use declared::ElfFields;
pub use delivery::{Advance, Backlog, LogEntry, LogFile, Position, Start};
pub use notify::MARK_HORIZON;
pub use objects::PageCommit;
pub use reader::{LedgerFile, LedgerNdjson, LoggedNdjson, Reader};
pub use rules::{RuleCommit, RulePosition, RULES_CONSUMER};

#[derive(Debug, Error)]
pub enum StateError {
    #[error("state database {path}: {source}. If the file is damaged, move it away and run again (files already archived are kept)")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("state database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("state database lock poisoned")]
    Poisoned,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cursors (
    org TEXT NOT NULL, source TEXT NOT NULL, key TEXT NOT NULL,
    position TEXT NOT NULL, last_id TEXT NOT NULL, extra TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (org, source, key));
CREATE TABLE IF NOT EXISTS files (
    org TEXT NOT NULL, file_id TEXT NOT NULL, event_type TEXT NOT NULL,
    log_date TEXT NOT NULL, interval TEXT NOT NULL, sequence INTEGER NOT NULL,
    created_date TEXT NOT NULL, rows INTEGER NOT NULL, bytes INTEGER NOT NULL,
    sha256 TEXT NOT NULL, csv_path TEXT NOT NULL, ndjson_path TEXT NOT NULL,
    delivered_at TEXT NOT NULL, run_id INTEGER,
    PRIMARY KEY (org, file_id));
CREATE TABLE IF NOT EXISTS quarantine (
    org TEXT NOT NULL, file_id TEXT NOT NULL, event_type TEXT NOT NULL,
    attempts INTEGER NOT NULL, last_error TEXT NOT NULL,
    first_failed_at TEXT NOT NULL, last_failed_at TEXT NOT NULL,
    PRIMARY KEY (org, file_id));
CREATE TABLE IF NOT EXISTS seen (
    org TEXT NOT NULL, source TEXT NOT NULL, event_id TEXT NOT NULL, event_time TEXT NOT NULL,
    PRIMARY KEY (org, source, event_id));
CREATE INDEX IF NOT EXISTS seen_time ON seen (org, source, event_time);
CREATE TABLE IF NOT EXISTS pending_files (path TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS object_files (
    org TEXT NOT NULL, source TEXT NOT NULL, path TEXT NOT NULL, rows INTEGER NOT NULL,
    run_id INTEGER, written_at TEXT NOT NULL, PRIMARY KEY (org, path));
CREATE TABLE IF NOT EXISTS source_stats (
    org TEXT NOT NULL, source TEXT NOT NULL, newest_event TEXT, events INTEGER NOT NULL DEFAULT 0,
    last_success TEXT, PRIMARY KEY (org, source));
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, org TEXT NOT NULL,
    started_at TEXT NOT NULL, finished_at TEXT, status TEXT NOT NULL,
    files INTEGER NOT NULL DEFAULT 0, rows INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0, api_calls INTEGER NOT NULL DEFAULT 0,
    api_usage TEXT, message TEXT);
";

/// A position in a source: `(CreatedDate, Id)` for EventLogFile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub position: String,
    pub last_id: String,
    /// Source-specific: the chosen interval of an EventLogFile type.
    pub extra: Option<String>,
}

/// One delivered EventLogFile.
#[derive(Debug, Clone)]
pub struct FileEntry {
    pub file_id: String,
    pub event_type: String,
    pub log_date: String,
    pub interval: String,
    pub sequence: i64,
    pub created_date: String,
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
    pub csv_path: String,
    pub ndjson_path: String,
    /// The NDJSON file's size, and its oldest and newest `@timestamp`, for the delivery log.
    pub ndjson_bytes: u64,
    pub oldest: Option<String>,
    /// Its `LogFileFieldNames` and `LogFileFieldTypes`, when Salesforce gave them.
    pub fields: Option<ElfFields>,
}

#[derive(Debug, Clone)]
pub struct Quarantined {
    pub file_id: String,
    pub event_type: String,
    pub attempts: i64,
    pub last_error: String,
}

#[derive(Debug, Clone)]
pub struct RunRow {
    pub id: i64,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: String,
    pub files: i64,
    pub rows: i64,
    pub bytes: i64,
    pub api_calls: i64,
    pub api_usage: Option<String>,
    pub message: Option<String>,
}

/// What was delivered of one event type.
#[derive(Debug, Clone)]
pub struct TypeTotals {
    pub event_type: String,
    pub files: i64,
    pub rows: i64,
    pub bytes: i64,
    pub newest_log_date: String,
}

/// Per-source statistics for `status`.
#[derive(Debug, Clone)]
pub struct SourceStats {
    pub source: String,
    pub newest_event: Option<String>,
    pub events: i64,
    pub last_success: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RunTotals {
    pub files: u64,
    pub rows: u64,
    pub bytes: u64,
    pub api_calls: u64,
    pub api_usage: Option<String>,
}

pub struct Store {
    conn: Mutex<Connection>,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Store {
    pub fn open(path: &Path) -> Result<Store, StateError> {
        let open_err = |source| StateError::Open {
            path: path.display().to_string(),
            source,
        };
        // Before SQLite creates anything: state.db and its -wal and -shm owner-only.
        match base::fsmode::private_sqlite(path) {
            Ok(t) if !t.is_empty() => tracing::warn!(
                "{} were readable by other users; they are now 0600",
                t.iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Ok(_) => {}
            // SQLite says why it cannot open the file, if it cannot.
            Err(e) => tracing::warn!("cannot make {} owner-only: {e}", path.display()),
        }
        let conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(open_err)?;
        conn.execute_batch(SCHEMA).map_err(open_err)?;
        conn.execute_batch(delivery::SCHEMA).map_err(open_err)?;
        conn.execute_batch(rules::SCHEMA).map_err(open_err)?;
        conn.execute_batch(notify::SCHEMA).map_err(open_err)?;
        conn.execute_batch(declared::SCHEMA).map_err(open_err)?;
        delivery::migrate(&conn).map_err(open_err)?;
        declared::migrate(&conn).map_err(open_err)?;
        conn.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '1')",
            [],
        )
        .map_err(open_err)?;
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StateError> {
        let mut c = self.conn.lock().map_err(|_| StateError::Poisoned)?;
        Ok(f(&mut c)?)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StateError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
            .map(|_| ())
        })
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>, StateError> {
        self.with(|c| {
            c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .optional()
        })
    }

    pub fn begin_run(&self, org: &str) -> Result<i64, StateError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO runs (org, started_at, status) VALUES (?1, ?2, 'running')",
                params![org, now()],
            )?;
            Ok(c.last_insert_rowid())
        })
    }

    pub fn finish_run(
        &self,
        run_id: i64,
        status: &str,
        t: &RunTotals,
        message: Option<&str>,
    ) -> Result<(), StateError> {
        self.with(|c| {
            c.execute(
                "UPDATE runs SET finished_at = ?2, status = ?3, files = ?4, rows = ?5, bytes = ?6, api_calls = ?7, api_usage = ?8, message = ?9 WHERE id = ?1",
                params![run_id, now(), status, t.files as i64, t.rows as i64, t.bytes as i64, t.api_calls as i64, t.api_usage, message],
            )
            .map(|_| ())
        })
    }

    pub fn cursor(&self, org: &str, source: &str, key: &str) -> Result<Option<Cursor>, StateError> {
        self.with(|c| {
            c.query_row(
                "SELECT position, last_id, extra FROM cursors WHERE org = ?1 AND source = ?2 AND key = ?3",
                params![org, source, key],
                |r| {
                    Ok(Cursor {
                        position: r.get(0)?,
                        last_id: r.get(1)?,
                        extra: r.get(2)?,
                    })
                },
            )
            .optional()
        })
    }

    pub fn set_cursor(
        &self,
        org: &str,
        source: &str,
        key: &str,
        cur: &Cursor,
    ) -> Result<(), StateError> {
        self.with(|c| put_cursor(c, org, source, key, cur))
    }

    /// The ids of every delivered file of the org.
    pub fn delivered_ids(
        &self,
        org: &str,
    ) -> Result<std::collections::HashSet<String>, StateError> {
        self.with(|c| {
            let mut st = c.prepare("SELECT file_id FROM files WHERE org = ?1")?;
            let ids = st
                .query_map([org], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(ids)
        })
    }

    /// Commits a delivered file: its ledger row, its release from quarantine, the source's
    /// statistics (`newest` is its newest event time) and (if given) the cursor it lets
    /// advance, in one transaction.
    pub fn commit_file(
        &self,
        org: &str,
        run_id: i64,
        f: &FileEntry,
        newest: Option<&str>,
        cursor: Option<(&str, &str, &Cursor)>,
    ) -> Result<(), StateError> {
        self.with(|c| {
            let tx = c.transaction()?;
            let (names, types) = f.fields.as_ref().map(|d| (&d.names, &d.types)).unzip();
            tx.execute(
                "INSERT INTO files (org, file_id, event_type, log_date, interval, sequence, created_date, rows, bytes, sha256, csv_path, ndjson_path, delivered_at, run_id, field_names, field_types)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
                 ON CONFLICT(org, file_id) DO UPDATE SET rows = excluded.rows, bytes = excluded.bytes, sha256 = excluded.sha256,
                   csv_path = excluded.csv_path, ndjson_path = excluded.ndjson_path, delivered_at = excluded.delivered_at, run_id = excluded.run_id,
                   field_names = excluded.field_names, field_types = excluded.field_types",
                params![org, f.file_id, f.event_type, f.log_date, f.interval, f.sequence, f.created_date, f.rows as i64, f.bytes as i64, f.sha256, f.csv_path, f.ndjson_path, now(), run_id, names, types],
            )?;
            tx.execute(
                "DELETE FROM quarantine WHERE org = ?1 AND file_id = ?2",
                params![org, f.file_id],
            )?;
            if let Some((source, key, cur)) = cursor {
                put_cursor(&tx, org, source, key, cur)?;
            }
            bump_stats(&tx, org, "EventLogFile", newest, f.rows)?;
            delivery::append(
                &tx,
                org,
                &LogFile {
                    source: "EventLogFile".into(),
                    dataset: crate::normalize::dataset(&f.event_type),
                    path: f.ndjson_path.clone(),
                    rows: f.rows,
                    bytes: f.ndjson_bytes,
                    oldest: f.oldest.clone(),
                    newest: newest.map(str::to_string),
                },
            )?;
            tx.commit()
        })?;
        committed();
        Ok(())
    }

    /// Raw CSV files of EventLogFiles archived before `before` (archive-relative paths).
    pub fn csv_files_before(&self, org: &str, before: &str) -> Result<Vec<String>, StateError> {
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT csv_path FROM files WHERE org = ?1 AND delivered_at < ?2 ORDER BY delivered_at",
            )?;
            let rows = st.query_map(params![org, before], |r| r.get(0))?;
            rows.collect()
        })
    }

    pub fn quarantine(
        &self,
        org: &str,
        file_id: &str,
        event_type: &str,
        error: &str,
    ) -> Result<(), StateError> {
        self.with(|c| {
            let t = now();
            c.execute(
                "INSERT INTO quarantine (org, file_id, event_type, attempts, last_error, first_failed_at, last_failed_at)
                 VALUES (?1, ?2, ?3, 1, ?4, ?5, ?5)
                 ON CONFLICT(org, file_id) DO UPDATE SET attempts = attempts + 1, last_error = excluded.last_error, last_failed_at = excluded.last_failed_at",
                params![org, file_id, event_type, error, t],
            )
            .map(|_| ())
        })
    }

    pub fn quarantined(&self, org: &str) -> Result<Vec<Quarantined>, StateError> {
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT file_id, event_type, attempts, last_error FROM quarantine WHERE org = ?1 ORDER BY file_id",
            )?;
            let rows = st
                .query_map([org], |r| {
                    Ok(Quarantined {
                        file_id: r.get(0)?,
                        event_type: r.get(1)?,
                        attempts: r.get(2)?,
                        last_error: r.get(3)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
    }

    /// Every org with state in this file.
    pub fn orgs(&self) -> Result<Vec<String>, StateError> {
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT org FROM runs UNION SELECT org FROM files UNION SELECT org FROM cursors ORDER BY 1",
            )?;
            let rows = st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
    }

    pub fn cursors(&self, org: &str) -> Result<Vec<(String, String, Cursor)>, StateError> {
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT source, key, position, last_id, extra FROM cursors WHERE org = ?1 ORDER BY source, key",
            )?;
            let rows = st
                .query_map([org], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        Cursor {
                            position: r.get(2)?,
                            last_id: r.get(3)?,
                            extra: r.get(4)?,
                        },
                    ))
                })?
                .collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
    }

    /// Per event type: files, rows, bytes delivered, newest LogDate.
    /// Every EventLogFile in the ledger: the CSV bytes Salesforce served, and where its raw
    /// CSV and NDJSON were written (`status` weighs what the archive keeps against it).
    pub fn ledger_sizes(&self, org: &str) -> Result<Vec<(u64, String, String)>, StateError> {
        self.with(|c| {
            let mut st =
                c.prepare("SELECT bytes, csv_path, ndjson_path FROM files WHERE org = ?1")?;
            let rows = st.query_map([org], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get(1)?, r.get(2)?))
            })?;
            rows.collect()
        })
    }

    pub fn totals_by_type(&self, org: &str) -> Result<Vec<TypeTotals>, StateError> {
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT event_type, COUNT(*), SUM(rows), SUM(bytes), MAX(log_date) FROM files WHERE org = ?1 GROUP BY event_type ORDER BY event_type",
            )?;
            let rows = st
                .query_map([org], |r| {
                    Ok(TypeTotals {
                        event_type: r.get(0)?,
                        files: r.get(1)?,
                        rows: r.get(2)?,
                        bytes: r.get(3)?,
                        newest_log_date: r.get(4)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
    }

    pub fn runs(&self, org: &str, limit: usize) -> Result<Vec<RunRow>, StateError> {
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT id, started_at, finished_at, status, files, rows, bytes, api_calls, api_usage, message FROM runs WHERE org = ?1 ORDER BY id DESC LIMIT ?2",
            )?;
            let rows = st
                .query_map(params![org, limit as i64], |r| {
                    Ok(RunRow {
                        id: r.get(0)?,
                        started_at: r.get(1)?,
                        finished_at: r.get(2)?,
                        status: r.get(3)?,
                        files: r.get(4)?,
                        rows: r.get(5)?,
                        bytes: r.get(6)?,
                        api_calls: r.get(7)?,
                        api_usage: r.get(8)?,
                        message: r.get(9)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
    }

    /// API calls spent by all runs of the org since `since` (RFC 3339).
    pub fn api_calls_since(&self, org: &str, since: &str) -> Result<i64, StateError> {
        self.with(|c| {
            c.query_row(
                "SELECT COALESCE(SUM(api_calls), 0) FROM runs WHERE org = ?1 AND started_at >= ?2",
                params![org, since],
                |r| r.get(0),
            )
        })
    }
}

impl Store {
    pub fn source_stats(&self, org: &str) -> Result<Vec<SourceStats>, StateError> {
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT source, newest_event, events, last_success FROM source_stats WHERE org = ?1 ORDER BY source",
            )?;
            let rows = st
                .query_map([org], |r| {
                    Ok(SourceStats {
                        source: r.get(0)?,
                        newest_event: r.get(1)?,
                        events: r.get(2)?,
                        last_success: r.get(3)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
    }

    /// Drops run history older than `before` (the long-running mode records a run per cycle).
    pub fn prune_runs(&self, org: &str, before: &str) -> Result<usize, StateError> {
        self.with(|c| {
            c.execute(
                "DELETE FROM runs WHERE org = ?1 AND started_at < ?2 AND status != 'running'",
                params![org, before],
            )
        })
    }
}

/// Moves a source's newest event time forward and adds to its event count.
fn bump_stats(
    c: &Connection,
    org: &str,
    source: &str,
    newest: Option<&str>,
    events: u64,
) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO source_stats (org, source, newest_event, events, last_success) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(org, source) DO UPDATE SET
           newest_event = CASE WHEN excluded.newest_event IS NOT NULL AND (source_stats.newest_event IS NULL OR excluded.newest_event > source_stats.newest_event) THEN excluded.newest_event ELSE source_stats.newest_event END,
           events = source_stats.events + excluded.events, last_success = excluded.last_success",
        params![org, source, newest, events as i64, now()],
    )
    .map(|_| ())
}

fn put_cursor(
    c: &Connection,
    org: &str,
    source: &str,
    key: &str,
    cur: &Cursor,
) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO cursors (org, source, key, position, last_id, extra, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT(org, source, key) DO UPDATE SET position = excluded.position, last_id = excluded.last_id, extra = excluded.extra, updated_at = excluded.updated_at",
        params![org, source, key, cur.position, cur.last_id, cur.extra, now()],
    )
    .map(|_| ())
}

#[cfg(test)]
mod tests;
