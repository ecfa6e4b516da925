//! What the object sources keep: the ids already delivered (`seen`), the journal of files being
//! written (`pending_files`), and the commit of one page of records.

use rusqlite::params;

use super::{bump_stats, committed, delivery, now, put_cursor, Cursor, LogFile, StateError, Store};

/// One page of object records, committed together.
pub struct PageCommit<'a> {
    pub source: &'a str,
    /// (de-duplication key, event time) of every new record.
    pub seen: &'a [(String, String)],
    /// Files written, for the object ledger and the delivery log.
    pub files: &'a [LogFile],
    /// The cursor to move, if this page moves it.
    pub cursor: Option<(&'a str, &'a Cursor)>,
    /// The newest event time in the page.
    pub newest: Option<&'a str>,
}

impl Store {
    /// Which of `ids` were already delivered for this source.
    pub fn seen_among(
        &self,
        org: &str,
        source: &str,
        ids: &[&str],
    ) -> Result<std::collections::HashSet<String>, StateError> {
        self.with(|c| {
            let mut st = c.prepare_cached(
                "SELECT 1 FROM seen WHERE org = ?1 AND source = ?2 AND event_id = ?3",
            )?;
            let mut out = std::collections::HashSet::new();
            for id in ids {
                if st.exists(params![org, source, id])? {
                    out.insert(id.to_string());
                }
            }
            Ok(out)
        })
    }

    /// Records files about to be written, so a crash before their commit can be undone.
    pub fn add_pending(&self, paths: &[String]) -> Result<(), StateError> {
        self.with(|c| {
            let tx = c.transaction()?;
            for p in paths {
                tx.execute(
                    "INSERT OR IGNORE INTO pending_files (path) VALUES (?1)",
                    [p],
                )?;
            }
            tx.commit()
        })
    }

    /// Files written by a run that died before committing them: the caller deletes them,
    /// then calls [`Store::clear_pending`].
    pub fn pending(&self) -> Result<Vec<String>, StateError> {
        self.with(|c| {
            let mut st = c.prepare("SELECT path FROM pending_files")?;
            let rows = st
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
    }

    pub fn clear_pending(&self, paths: &[String]) -> Result<(), StateError> {
        self.with(|c| {
            let tx = c.transaction()?;
            for p in paths {
                tx.execute("DELETE FROM pending_files WHERE path = ?1", [p])?;
            }
            tx.commit()
        })
    }

    /// Commits one page: its event ids, its files (no longer pending), the cursor and the
    /// source's statistics, in one transaction.
    pub fn commit_page(
        &self,
        org: &str,
        run_id: i64,
        p: &PageCommit<'_>,
    ) -> Result<(), StateError> {
        self.with(|c| {
            let tx = c.transaction()?;
            {
                let mut ins = tx.prepare_cached(
                    "INSERT OR IGNORE INTO seen (org, source, event_id, event_time) VALUES (?1, ?2, ?3, ?4)",
                )?;
                for (id, t) in p.seen {
                    ins.execute(params![org, p.source, id, t])?;
                }
            }
            let t = now();
            for f in p.files {
                tx.execute(
                    "INSERT INTO object_files (org, source, path, rows, run_id, written_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT(org, path) DO UPDATE SET rows = excluded.rows, run_id = excluded.run_id, written_at = excluded.written_at",
                    params![org, p.source, f.path, f.rows as i64, run_id, t],
                )?;
                tx.execute("DELETE FROM pending_files WHERE path = ?1", [&f.path])?;
                delivery::append(&tx, org, f)?;
            }
            if let Some((key, cur)) = p.cursor {
                put_cursor(&tx, org, p.source, key, cur)?;
            }
            bump_stats(&tx, org, p.source, p.newest, p.seen.len() as u64)?;
            tx.commit()
        })?;
        if !p.files.is_empty() {
            committed();
        }
        Ok(())
    }

    /// Forgets delivered event ids older than `before`: the look-back never reaches them.
    pub fn purge_seen(&self, org: &str, source: &str, before: &str) -> Result<usize, StateError> {
        self.with(|c| {
            c.execute(
                "DELETE FROM seen WHERE org = ?1 AND source = ?2 AND event_time < ?3",
                params![org, source, before],
            )
        })
    }
}
