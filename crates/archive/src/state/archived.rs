//! What the archive holds per source, from the delivery log: the `/metrics` endpoint's files,
//! events and bytes archived. Pruned entries are counted too, so the totals never go down
//! when retention removes files (Prometheus counters must not decrease).

use super::{StateError, Store};

/// One source's archived totals (`EventLogFile` or an object name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedTotals {
    pub source: String,
    pub files: u64,
    pub events: u64,
    /// NDJSON bytes: what outputs read.
    pub bytes: u64,
}

impl Store {
    pub fn archived_by_source(&self, org: &str) -> Result<Vec<ArchivedTotals>, StateError> {
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT source, COUNT(*), COALESCE(SUM(rows), 0), COALESCE(SUM(bytes), 0)
                 FROM delivery_log WHERE org = ?1 GROUP BY source ORDER BY source",
            )?;
            let rows = st
                .query_map([org], |r| {
                    Ok(ArchivedTotals {
                        source: r.get(0)?,
                        files: r.get::<_, i64>(1)? as u64,
                        events: r.get::<_, i64>(2)? as u64,
                        bytes: r.get::<_, i64>(3)? as u64,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
    }
}
