//! The `doctor` command's queries (see `reader`): an output's position and backlog, and the
//! recent daily volume, read without changing anything.

use rusqlite::OptionalExtension;

use super::Reader;
use crate::state::StateError;

/// Where an output stands in an org's delivery log, for `doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputStanding {
    /// The log entries up to this one are delivered (0: the output has no position yet).
    pub seq: i64,
    /// Events the output dead-lettered.
    pub dead: i64,
}

impl Reader {
    /// The output's position and dead-letter count; `None` before its first pass.
    pub fn output_standing(
        &self,
        org: &str,
        output: &str,
    ) -> Result<Option<OutputStanding>, StateError> {
        Ok(self
            .conn
            .query_row(
                "SELECT seq, dead FROM output_positions WHERE org = ?1 AND output = ?2",
                [org, output],
                |row| {
                    Ok(OutputStanding {
                        seq: row.get(0)?,
                        dead: row.get(1)?,
                    })
                },
            )
            .optional()?)
    }

    /// When the oldest entry after `seq` that is still kept was committed (RFC 3339), if any.
    pub fn oldest_after(&self, org: &str, seq: i64) -> Result<Option<String>, StateError> {
        Ok(self.conn.query_row(
            "SELECT MIN(committed_at) FROM delivery_log WHERE org = ?1 AND seq > ?2 AND pruned_at IS NULL",
            rusqlite::params![org, seq],
            |row| row.get(0),
        )?)
    }

    /// The bytes committed to the delivery log since `day` (`YYYY-MM-DD`), every org.
    pub fn bytes_since(&self, day: &str) -> Result<i64, StateError> {
        Ok(self.conn.query_row(
            "SELECT COALESCE(SUM(bytes), 0) FROM delivery_log WHERE committed_at >= ?1",
            [day],
            |row| row.get(0),
        )?)
    }
}

#[cfg(test)]
mod tests {
    use crate::state::{LogFile, PageCommit, Reader, Store};

    #[test]
    fn standing_backlog_and_volume() {
        let d = tempfile::tempdir().unwrap();
        let db = d.path().join("state.db");
        let store = Store::open(&db).unwrap();
        let lf = LogFile {
            source: "LoginEvent".into(),
            dataset: "login_event".into(),
            path: "events/login_event/2024-01-01/f.ndjson".into(),
            rows: 2,
            bytes: 700,
            oldest: None,
            newest: None,
        };
        let page = PageCommit {
            source: "LoginEvent",
            seen: &[],
            files: std::slice::from_ref(&lf),
            cursor: None,
            newest: None,
        };
        store.commit_page("org", 1, &page).unwrap();
        let r = Reader::open(&db).unwrap();
        assert_eq!(r.output_standing("org", "es").unwrap(), None);
        let oldest = r.oldest_after("org", 0).unwrap().expect("an entry waits");
        assert!(oldest.starts_with("20"), "{oldest}");
        assert_eq!(r.oldest_after("org", 1).unwrap(), None);
        assert_eq!(r.bytes_since("2000-01-01").unwrap(), 700);
        assert_eq!(r.bytes_since("9999-01-01").unwrap(), 0);
    }
}
