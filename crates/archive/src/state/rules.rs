//! The rules' place in the delivery log: like an output, the rule engine is a consumer with
//! its own position, and it commits that position, its state (correlation windows, new
//! values, baselines) and the alerts it raised in one transaction. The alerts are an archive
//! file of the `alert` dataset appended to the delivery log in that same transaction, so the
//! outputs ship them like any other events, and a crash at any point neither loses nor repeats
//! an alert: before the commit nothing happened; after it, the position is past the events.

use rusqlite::{params, OptionalExtension};

use super::{committed, delivery, now, LogFile, StateError, Store};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS rule_positions (
    org TEXT NOT NULL, consumer TEXT NOT NULL, seq INTEGER NOT NULL,
    state TEXT, events INTEGER NOT NULL DEFAULT 0, alerts INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (org, consumer));
";

/// The live rules' consumer name in `rule_positions` (`sfevents`' `detect/live.rs` moves it,
/// `status` and reports read it).
pub const RULES_CONSUMER: &str = "rules";

/// Where the rule engine stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RulePosition {
    /// The next delivery-log entry to evaluate.
    pub seq: i64,
    /// The engine's state after the entries before `seq` (JSON), if any was committed.
    pub state: Option<String>,
    /// Events evaluated and alerts raised so far.
    pub events: u64,
    pub alerts: u64,
}

/// One pass's outcome, committed whole.
#[derive(Debug, Clone)]
pub struct RuleCommit<'a> {
    /// The next entry to evaluate (one past the last entry read).
    pub next_seq: i64,
    pub state: &'a str,
    pub events: u64,
    pub alerts: u64,
    /// The alerts' archive file, when the pass raised any.
    pub alerts_file: Option<&'a LogFile>,
}

impl Store {
    /// The rule engine's position; `None` the first time.
    pub fn rule_position(
        &self,
        org: &str,
        consumer: &str,
    ) -> Result<Option<RulePosition>, StateError> {
        self.with(|c| {
            c.query_row(
                "SELECT seq, state, events, alerts FROM rule_positions WHERE org = ?1 AND consumer = ?2",
                params![org, consumer],
                |r| {
                    Ok(RulePosition {
                        seq: r.get(0)?,
                        state: r.get(1)?,
                        events: r.get::<_, i64>(2)? as u64,
                        alerts: r.get::<_, i64>(3)? as u64,
                    })
                },
            )
            .optional()
        })
    }

    /// Moves the position, stores the state and appends the alerts' file, in one transaction.
    pub fn commit_rules(
        &self,
        org: &str,
        consumer: &str,
        p: &RuleCommit,
    ) -> Result<(), StateError> {
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute(
                "INSERT INTO rule_positions (org, consumer, seq, state, events, alerts, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT(org, consumer) DO UPDATE SET seq = excluded.seq, state = excluded.state,
                   events = rule_positions.events + excluded.events,
                   alerts = rule_positions.alerts + excluded.alerts, updated_at = excluded.updated_at",
                params![org, consumer, p.next_seq, p.state, p.events as i64, p.alerts as i64, now()],
            )?;
            if let Some(f) = p.alerts_file {
                delivery::append(&tx, org, f)?;
            }
            tx.commit()
        })?;
        if p.alerts_file.is_some() {
            committed();
        }
        Ok(())
    }

    /// The `alert` files committed at or after `since` (RFC 3339): `status` reads them to
    /// count the alerts raised per rule (one file holds several rules' alerts).
    pub fn alert_entries_since(
        &self,
        org: &str,
        since: &str,
    ) -> Result<Vec<delivery::LogEntry>, StateError> {
        self.with(|c| {
            let mut st = c.prepare(&format!(
                "SELECT {} FROM delivery_log WHERE org = ?1 AND dataset = 'alert' AND pruned_at IS NULL
                   AND committed_at >= ?2 ORDER BY seq",
                delivery::ENTRY_COLUMNS
            ))?;
            let rows = st.query_map(params![org, since], delivery::entry)?;
            rows.collect()
        })
    }
}
