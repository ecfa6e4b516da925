//! The `verify` command's queries (see `reader`): what one org's ledgers, quarantine, cursors,
//! delivery log and de-duplication set hold, as typed rows. Verify compares them with the
//! disk and with Salesforce; it never writes through here.

use std::collections::{HashMap, HashSet};

use rusqlite::params;

use super::Reader;
use crate::state::{Cursor, Quarantined, StateError};

/// One `files` row: a delivered EventLogFile, as verify checks it.
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

/// One NDJSON file a ledger lists (`files` for EventLogFile, `object_files` for objects).
#[derive(Debug, Clone)]
pub struct LedgerNdjson {
    /// The object's name; `None` for an EventLogFile (the `files` ledger names no source).
    pub source: Option<String>,
    /// Archive-relative path.
    pub path: String,
    pub rows: u64,
}

/// One NDJSON file of the delivery log.
#[derive(Debug, Clone)]
pub struct LoggedNdjson {
    pub source: String,
    /// Archive-relative path.
    pub path: String,
    pub rows: u64,
    /// Removed by retention (`archive_keep_days`).
    pub pruned: bool,
}

/// Row counts are never negative; a damaged value reads as 0 rather than wrapping.
fn count(n: i64) -> u64 {
    n.max(0) as u64
}

impl Reader {
    /// Every delivered EventLogFile of `org` with a LogDate on or after `since` (all without),
    /// in the order they were created.
    pub fn ledger_files(
        &self,
        org: &str,
        since: Option<&str>,
    ) -> Result<Vec<LedgerFile>, StateError> {
        let mut st = self.conn.prepare(
            "SELECT file_id, event_type, log_date, bytes, sha256, csv_path, ndjson_path, delivered_at
             FROM files WHERE org = ?1 AND (?2 IS NULL OR log_date >= ?2) ORDER BY created_date, file_id",
        )?;
        let rows = st.query_map(params![org, since], |r| {
            Ok(LedgerFile {
                file_id: r.get(0)?,
                event_type: r.get(1)?,
                log_date: r.get(2)?,
                bytes: count(r.get(3)?),
                sha256: r.get(4)?,
                csv_path: r.get(5)?,
                ndjson_path: r.get(6)?,
                delivered_at: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every raw CSV path the `files` ledger lists for `org`, whatever its date.
    pub fn ledger_csv_paths(&self, org: &str) -> Result<HashSet<String>, StateError> {
        let mut st = self
            .conn
            .prepare("SELECT csv_path FROM files WHERE org = ?1")?;
        let rows = st.query_map([org], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every NDJSON file the ledgers list for `org`: the EventLogFile ones (`files`) first,
    /// then the objects' (`object_files`).
    pub fn ledger_ndjson(&self, org: &str) -> Result<Vec<LedgerNdjson>, StateError> {
        let mut st = self
            .conn
            .prepare("SELECT ndjson_path, rows FROM files WHERE org = ?1")?;
        let mut out = st
            .query_map([org], |r| {
                Ok(LedgerNdjson {
                    source: None,
                    path: r.get(0)?,
                    rows: count(r.get(1)?),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut st = self
            .conn
            .prepare("SELECT source, path, rows FROM object_files WHERE org = ?1")?;
        let objects = st.query_map([org], |r| {
            Ok(LedgerNdjson {
                source: Some(r.get(0)?),
                path: r.get(1)?,
                rows: count(r.get(2)?),
            })
        })?;
        for row in objects {
            out.push(row?);
        }
        Ok(out)
    }

    /// Every NDJSON file the delivery log lists for `org`, pruned ones included.
    pub fn logged_ndjson(&self, org: &str) -> Result<Vec<LoggedNdjson>, StateError> {
        let mut st = self.conn.prepare(
            "SELECT source, path, rows, pruned_at IS NOT NULL FROM delivery_log WHERE org = ?1",
        )?;
        let rows = st.query_map([org], |r| {
            Ok(LoggedNdjson {
                source: r.get(0)?,
                path: r.get(1)?,
                rows: count(r.get(2)?),
                pruned: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The quarantined EventLogFiles of `org`, by file id.
    pub fn quarantined_files(&self, org: &str) -> Result<Vec<Quarantined>, StateError> {
        let mut st = self.conn.prepare(
            "SELECT file_id, event_type, attempts, last_error FROM quarantine WHERE org = ?1 ORDER BY file_id",
        )?;
        let rows = st.query_map([org], |r| {
            Ok(Quarantined {
                file_id: r.get(0)?,
                event_type: r.get(1)?,
                attempts: r.get(2)?,
                last_error: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The cursors of one source of `org`, by key.
    pub fn source_cursors(
        &self,
        org: &str,
        source: &str,
    ) -> Result<HashMap<String, Cursor>, StateError> {
        let mut st = self.conn.prepare(
            "SELECT key, position, last_id, extra FROM cursors WHERE org = ?1 AND source = ?2",
        )?;
        let rows = st.query_map(params![org, source], |r| {
            Ok((
                r.get::<_, String>(0)?,
                Cursor {
                    position: r.get(1)?,
                    last_id: r.get(2)?,
                    extra: r.get(3)?,
                },
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Files being written by a collection in progress (or an interrupted one, removed by the
    /// next run), of every org: `pending_files` has no org column.
    pub fn pending_paths(&self) -> Result<HashSet<String>, StateError> {
        let mut st = self.conn.prepare("SELECT path FROM pending_files")?;
        let rows = st.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The archive-relative NDJSON paths of one object source of `org` that retention has not
    /// pruned, with their rows by the ledger, by path.
    pub fn unpruned_object_files(
        &self,
        org: &str,
        source: &str,
    ) -> Result<Vec<(String, u64)>, StateError> {
        let mut st = self.conn.prepare(
            "SELECT o.path, o.rows FROM object_files o WHERE o.org = ?1 AND o.source = ?2
               AND NOT EXISTS (SELECT 1 FROM delivery_log d WHERE d.org = o.org AND d.path = o.path AND d.pruned_at IS NOT NULL)
             ORDER BY o.path",
        )?;
        let rows = st.query_map(params![org, source], |r| Ok((r.get(0)?, count(r.get(1)?))))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Which of `keys` the collector holds as delivered for `source` of `org` (its
    /// de-duplication set). Verify asks this for every day with a difference, so the statement
    /// is cached on the connection rather than prepared on each call.
    pub fn seen_among<'a>(
        &self,
        org: &str,
        source: &str,
        keys: impl Iterator<Item = &'a str>,
    ) -> Result<HashSet<String>, StateError> {
        let mut st = self.conn.prepare_cached(
            "SELECT 1 FROM seen WHERE org = ?1 AND source = ?2 AND event_id = ?3",
        )?;
        let mut out = HashSet::new();
        for k in keys {
            if st.exists(params![org, source, k])? {
                out.insert(k.to_string());
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{FileEntry, Store};

    fn entry(id: &str, log_date: &str) -> FileEntry {
        FileEntry {
            file_id: id.into(),
            event_type: "Login".into(),
            log_date: log_date.into(),
            interval: "Daily".into(),
            sequence: 0,
            created_date: "2024-01-02T02:00:00.000Z".into(),
            rows: 3,
            bytes: 100,
            sha256: "ab".into(),
            csv_path: format!("output/{id}.csv"),
            ndjson_path: format!("events/login/2024-01-01/{id}.ndjson"),
            ndjson_bytes: 300,
            oldest: None,
            fields: None,
        }
    }

    #[test]
    fn verify_reads_what_the_collector_committed() {
        let d = tempfile::tempdir().unwrap();
        let db = d.path().join("state.db");
        let s = Store::open(&db).unwrap();
        let run = s.begin_run("o").unwrap();
        let cur = Cursor {
            position: "2024-01-02T02:00:00.000Z".into(),
            last_id: "F1".into(),
            extra: Some("Daily".into()),
        };
        let elf = Some(("EventLogFile", "Login", &cur));
        s.commit_file(
            "o",
            run,
            &entry("F1", "2024-01-01T00:00:00.000Z"),
            None,
            elf,
        )
        .unwrap();
        s.commit_file(
            "o",
            run,
            &entry("F2", "2024-01-03T00:00:00.000Z"),
            None,
            None,
        )
        .unwrap();
        s.quarantine("o", "F3", "Login", "boom").unwrap();
        s.add_pending(&["events/x.ndjson".into()]).unwrap();

        let r = Reader::open(&db).unwrap();
        let all = r.ledger_files("o", None).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!((all[0].bytes, all[0].sha256.as_str()), (100, "ab"));
        let since = r.ledger_files("o", Some("2024-01-02")).unwrap();
        assert_eq!(since.len(), 1);
        assert_eq!(since[0].file_id, "F2");
        assert!(r.ledger_csv_paths("o").unwrap().contains("output/F1.csv"));
        let nd = r.ledger_ndjson("o").unwrap();
        assert_eq!(nd.len(), 2);
        assert!(nd.iter().all(|f| f.source.is_none() && f.rows == 3));
        let logged = r.logged_ndjson("o").unwrap();
        assert_eq!(logged.len(), 2, "{logged:?}");
        assert!(logged.iter().all(|f| f.rows == 3 && !f.pruned));
        assert_eq!(r.quarantined_files("o").unwrap()[0].file_id, "F3");
        assert_eq!(
            r.source_cursors("o", "EventLogFile").unwrap().get("Login"),
            Some(&cur)
        );
        assert!(r.pending_paths().unwrap().contains("events/x.ndjson"));
        assert!(r
            .unpruned_object_files("o", "LoginEvent")
            .unwrap()
            .is_empty());
        let none = ["a", "b"];
        assert!(r
            .seen_among("o", "LoginEvent", none.into_iter())
            .unwrap()
            .is_empty());
        // Another org's rows are not this one's.
        assert!(r.ledger_files("p", None).unwrap().is_empty());
    }
}
