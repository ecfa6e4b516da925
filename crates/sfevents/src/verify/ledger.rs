//! What the archive's `state.db` says it holds, read through a read-only connection: verify
//! never changes the ledger, cursors or the delivery log (the one row it writes, in `runs`,
//! goes through [`archive::state::Store`] once every check is done).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use archive::state::Cursor;

/// One `files` row: a delivered EventLogFile.
#[derive(Debug, Clone)]
pub struct LedgerFile {
    pub file_id: String,
    pub event_type: String,
    pub log_date: String,
    pub bytes: u64,
    pub sha256: String,
    pub csv_path: String,
    pub ndjson_path: String,
    pub delivered_at: String,
}

/// One quarantined file.
#[derive(Debug, Clone)]
pub struct Quarantined {
    pub file_id: String,
    pub event_type: String,
    pub attempts: i64,
    pub last_error: String,
}

/// One NDJSON file the state knows, from the ledgers and the delivery log.
#[derive(Debug, Clone, Default)]
pub struct KnownNdjson {
    /// `EventLogFile` or the object's name.
    pub source: String,
    /// Rows by `files` or `object_files`; `None` when neither ledger lists it.
    pub ledger_rows: Option<u64>,
    /// Rows by the delivery log, if it lists the file.
    pub log_rows: Option<u64>,
    /// Removed by retention (`archive_keep_days`): its absence is expected.
    pub pruned: bool,
}

/// The read-only state of one org in one archive.
pub struct Ledger {
    conn: Connection,
    pub org: String,
}

/// Opens `state.db` read-only; `None` when it does not exist.
pub fn open(db: &Path, org: &str) -> Result<Option<Ledger>, String> {
    if !db.exists() {
        return Ok(None);
    }
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| format!("cannot open {} read-only: {e}", db.display()))?;
    let _ = conn.busy_timeout(std::time::Duration::from_secs(30));
    Ok(Some(Ledger {
        conn,
        org: org.to_string(),
    }))
}

fn sql(e: rusqlite::Error) -> String {
    format!("state database: {e}")
}

impl Ledger {
    pub fn meta(&self, key: &str) -> Result<Option<String>, String> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(sql)
    }

    /// Every delivered EventLogFile with a LogDate on or after `since` (all without).
    pub fn files(&self, since: Option<&str>) -> Result<Vec<LedgerFile>, String> {
        let mut st = self
            .conn
            .prepare(
                "SELECT file_id, event_type, log_date, bytes, sha256, csv_path, ndjson_path, delivered_at
                 FROM files WHERE org = ?1 AND (?2 IS NULL OR log_date >= ?2) ORDER BY created_date, file_id",
            )
            .map_err(sql)?;
        let rows = st
            .query_map(params![self.org, since], |r| {
                Ok(LedgerFile {
                    file_id: r.get(0)?,
                    event_type: r.get(1)?,
                    log_date: r.get(2)?,
                    bytes: r.get::<_, i64>(3)?.max(0) as u64,
                    sha256: r.get(4)?,
                    csv_path: r.get(5)?,
                    ndjson_path: r.get(6)?,
                    delivered_at: r.get(7)?,
                })
            })
            .map_err(sql)?;
        rows.collect::<rusqlite::Result<_>>().map_err(sql)
    }

    /// Every raw CSV path of the ledger (whatever its date), to tell a stray file.
    pub fn csv_paths(&self) -> Result<HashSet<String>, String> {
        let mut st = self
            .conn
            .prepare("SELECT csv_path FROM files WHERE org = ?1")
            .map_err(sql)?;
        let rows = st.query_map([&self.org], |r| r.get(0)).map_err(sql)?;
        rows.collect::<rusqlite::Result<_>>().map_err(sql)
    }

    pub fn quarantined(&self) -> Result<Vec<Quarantined>, String> {
        let mut st = self
            .conn
            .prepare(
                "SELECT file_id, event_type, attempts, last_error FROM quarantine WHERE org = ?1 ORDER BY file_id",
            )
            .map_err(sql)?;
        let rows = st
            .query_map([&self.org], |r| {
                Ok(Quarantined {
                    file_id: r.get(0)?,
                    event_type: r.get(1)?,
                    attempts: r.get(2)?,
                    last_error: r.get(3)?,
                })
            })
            .map_err(sql)?;
        rows.collect::<rusqlite::Result<_>>().map_err(sql)
    }

    /// The cursors of one source, by key.
    pub fn cursors(&self, source: &str) -> Result<HashMap<String, Cursor>, String> {
        let mut st = self
            .conn
            .prepare(
                "SELECT key, position, last_id, extra FROM cursors WHERE org = ?1 AND source = ?2",
            )
            .map_err(sql)?;
        let rows = st
            .query_map(params![self.org, source], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    Cursor {
                        position: r.get(1)?,
                        last_id: r.get(2)?,
                        extra: r.get(3)?,
                    },
                ))
            })
            .map_err(sql)?;
        rows.collect::<rusqlite::Result<_>>().map_err(sql)
    }

    /// Every NDJSON file the state knows, by archive-relative path.
    pub fn ndjson_files(&self) -> Result<HashMap<String, KnownNdjson>, String> {
        let mut out: HashMap<String, KnownNdjson> = HashMap::new();
        let mut st = self
            .conn
            .prepare("SELECT ndjson_path, rows FROM files WHERE org = ?1")
            .map_err(sql)?;
        let rows = st
            .query_map([&self.org], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })
            .map_err(sql)?;
        for row in rows {
            let (path, n) = row.map_err(sql)?;
            let e = out.entry(path).or_default();
            e.source = salesforce::sources::event_log_file::SOURCE.to_string();
            e.ledger_rows = Some(n.max(0) as u64);
        }
        let mut st = self
            .conn
            .prepare("SELECT source, path, rows FROM object_files WHERE org = ?1")
            .map_err(sql)?;
        let rows = st
            .query_map([&self.org], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .map_err(sql)?;
        for row in rows {
            let (source, path, n) = row.map_err(sql)?;
            let e = out.entry(path).or_default();
            e.source = source;
            e.ledger_rows = Some(n.max(0) as u64);
        }
        let mut st = self
            .conn
            .prepare(
                "SELECT source, path, rows, pruned_at IS NOT NULL FROM delivery_log WHERE org = ?1",
            )
            .map_err(sql)?;
        let rows = st
            .query_map([&self.org], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, bool>(3)?,
                ))
            })
            .map_err(sql)?;
        for row in rows {
            let (source, path, n, pruned) = row.map_err(sql)?;
            let e = out.entry(path).or_default();
            if e.source.is_empty() {
                e.source = source;
            }
            e.log_rows = Some(n.max(0) as u64);
            e.pruned |= pruned;
        }
        Ok(out)
    }

    /// Files being written by a collection in progress (or an interrupted one, removed by the
    /// next run): not strays.
    pub fn pending(&self) -> Result<HashSet<String>, String> {
        let mut st = self
            .conn
            .prepare("SELECT path FROM pending_files")
            .map_err(sql)?;
        let rows = st.query_map([], |r| r.get(0)).map_err(sql)?;
        rows.collect::<rusqlite::Result<_>>().map_err(sql)
    }

    /// The archive-relative NDJSON paths of one object source that are not pruned, with
    /// their rows by the ledger.
    pub fn object_files(&self, source: &str) -> Result<Vec<(String, u64)>, String> {
        let mut st = self
            .conn
            .prepare(
                "SELECT o.path, o.rows FROM object_files o WHERE o.org = ?1 AND o.source = ?2
                   AND NOT EXISTS (SELECT 1 FROM delivery_log d WHERE d.org = o.org AND d.path = o.path AND d.pruned_at IS NOT NULL)
                 ORDER BY o.path",
            )
            .map_err(sql)?;
        let rows = st
            .query_map(params![self.org, source], |r| {
                Ok((r.get(0)?, r.get::<_, i64>(1)?.max(0) as u64))
            })
            .map_err(sql)?;
        rows.collect::<rusqlite::Result<_>>().map_err(sql)
    }

    /// The archive-relative NDJSON paths of one object source that are not pruned.
    pub fn object_paths(&self, source: &str) -> Result<Vec<String>, String> {
        Ok(self
            .object_files(source)?
            .into_iter()
            .map(|(p, _)| p)
            .collect())
    }

    /// Which of `keys` the collector holds as delivered for `source` (its de-duplication
    /// set): a record it holds is never taken again.
    pub fn seen_among<'a>(
        &self,
        source: &str,
        keys: impl Iterator<Item = &'a str>,
    ) -> Result<HashSet<String>, String> {
        let mut st = self
            .conn
            .prepare_cached("SELECT 1 FROM seen WHERE org = ?1 AND source = ?2 AND event_id = ?3")
            .map_err(sql)?;
        let mut out = HashSet::new();
        for k in keys {
            if st.exists(params![self.org, source, k]).map_err(sql)? {
                out.insert(k.to_string());
            }
        }
        Ok(out)
    }
}
