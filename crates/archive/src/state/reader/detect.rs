//! What `sfevents detect` reads: the delivery log, in commit order, as the live rules see it.

use rusqlite::params;

use super::Reader;
use crate::state::delivery::{entry, ENTRY_COLUMNS};
use crate::state::{LogEntry, StateError};

impl Reader {
    /// The log's entries still on disk whose events may fall in `[since, until)` (RFC 3339 or
    /// day prefixes; either open), in commit order.
    pub fn log_between(
        &self,
        since: Option<&str>,
        until: Option<&str>,
    ) -> Result<Vec<LogEntry>, StateError> {
        let mut st = self.conn.prepare(&format!(
            "SELECT {ENTRY_COLUMNS} FROM delivery_log WHERE pruned_at IS NULL
               AND (?1 IS NULL OR newest_event IS NULL OR newest_event >= ?1)
               AND (?2 IS NULL OR oldest_event IS NULL OR oldest_event < ?2)
             ORDER BY seq"
        ))?;
        let rows = st.query_map(params![since, until], entry)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
