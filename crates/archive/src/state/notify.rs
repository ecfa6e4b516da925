//! A notifier's suppression marks: for each rule and group values it notified, the time of
//! the alert it sent. They are written in the transaction that moves its position
//! (`Store::advance`), so after a crash or restart an alert is held back exactly as it would
//! have been without one.

use std::collections::HashMap;

use rusqlite::{params, Transaction};

use super::{StateError, Store};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS notify_marks (
    org TEXT NOT NULL, output TEXT NOT NULL, key TEXT NOT NULL, at INTEGER NOT NULL,
    PRIMARY KEY (org, output, key));
";

/// Records `marks` (newer times win) and forgets marks a day older than the newest of them:
/// no window is that long, and the table stays small.
pub(super) fn mark(
    tx: &Transaction<'_>,
    org: &str,
    output: &str,
    marks: &[(String, i64)],
) -> rusqlite::Result<()> {
    for (key, at) in marks {
        tx.execute(
            "INSERT INTO notify_marks (org, output, key, at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (org, output, key) DO UPDATE SET at = MAX(at, excluded.at)",
            params![org, output, key, at],
        )?;
    }
    if let Some(newest) = marks.iter().map(|(_, at)| *at).max() {
        tx.execute(
            "DELETE FROM notify_marks WHERE org = ?1 AND output = ?2 AND at < ?3",
            params![org, output, newest - MARK_HORIZON],
        )?;
    }
    Ok(())
}

/// The longest `suppress_minutes` a notifier may take, in seconds: one day.
pub const MARK_HORIZON: i64 = 86_400;

impl Store {
    /// A notifier's marks: suppression key -> the time of the last alert it notified.
    pub fn notify_marks(
        &self,
        org: &str,
        output: &str,
    ) -> Result<HashMap<String, i64>, StateError> {
        self.with(|c| {
            let mut st =
                c.prepare("SELECT key, at FROM notify_marks WHERE org = ?1 AND output = ?2")?;
            let rows = st.query_map(params![org, output], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })
    }
}
