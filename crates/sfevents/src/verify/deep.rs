//! `--deep`: the Real-Time Event Monitoring objects (LoginEvent, ApiEvent, ...), their
//! EventIdentifiers re-read from Salesforce in windows of whole days and compared per day
//! with the archive's. The windows and their cost are planned from the ledger's rows per day
//! before any call is made.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use super::ledger::Inventory;
use super::records::{compare, day_start, read_archived, Compare, Rec, PAGE};
use super::report::{OrgVerdicts, Verdict};
use archive::normalize::{iso, parse_sf_datetime};
use salesforce::client::SfClient;
use salesforce::config::ObjectConfig;
use salesforce::sources::records::soql_time;

/// A `--deep` re-read of one Real-Time Event Monitoring object, planned from the ledger's
/// counts before any call is made (and before any archive file is read).
pub struct DeepPlan {
    pub cfg: ObjectConfig,
    /// `(start, end]` windows on EventDate, each with the rows the archive holds in it.
    pub windows: Vec<(DateTime<Utc>, DateTime<Utc>, u64)>,
    pub cursor: Option<DateTime<Utc>>,
    pub next_lower: DateTime<Utc>,
}

impl DeepPlan {
    /// API calls: a page per 2,000 records, at least one per window.
    pub fn cost(&self) -> u64 {
        self.windows.iter().map(|w| w.2.div_ceil(PAGE).max(1)).sum()
    }
}

/// Windows of whole days, as many days in each as stay under `max_rows_per_window` by the
/// archive's counts per day, from `--since` (or as far back as the collector reads) to now
/// less the settle delay.
pub fn plan_deep(
    cfg: &ObjectConfig,
    days: &BTreeMap<String, u64>,
    cursor: Option<DateTime<Utc>>,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> DeepPlan {
    let backfill = now - Duration::days(i64::from(cfg.backfill_days));
    let start = since.unwrap_or(backfill);
    let end = now - Duration::seconds(cfg.settle_secs);
    let mut windows = Vec::new();
    let (mut w_start, mut w_rows) = (start, 0u64);
    let mut at = start;
    while at < end {
        let next = (day_start(at) + Duration::days(1)).min(end);
        let rows = days
            .get(&at.format("%Y-%m-%d").to_string())
            .copied()
            .unwrap_or(0);
        if w_rows > 0 && w_rows + rows > cfg.max_rows_per_window {
            windows.push((w_start, at, w_rows));
            (w_start, w_rows) = (at, 0);
        }
        w_rows += rows;
        at = next;
    }
    if start < end {
        windows.push((w_start, end, w_rows));
    }
    DeepPlan {
        next_lower: cursor
            .map(|p| (p - Duration::seconds(cfg.lookback_secs)).max(backfill))
            .unwrap_or(backfill),
        cfg: cfg.clone(),
        windows,
        cursor,
    }
}

/// Runs a planned `--deep` re-read and compares EventIdentifiers per day.
pub async fn deep(
    r: &mut OrgVerdicts,
    plan: &DeepPlan,
    ledger: &Inventory,
    client: &SfClient,
    root: PathBuf,
) {
    let name = plan.cfg.name.as_str();
    let check = format!("{name} (deep)");
    let archived = match ledger.object_paths(name) {
        Ok(paths) => read_archived(root, paths).await,
        Err(e) => Err(e),
    };
    let archived = match archived {
        Ok(a) => a,
        Err(e) => return r.add(&check, Verdict::Error, e.to_string()),
    };
    let (Some(first), Some(last)) = (plan.windows.first(), plan.windows.last()) else {
        return r.add(&check, Verdict::Ok, "nothing to compare in this range");
    };
    let (from, to) = (iso(&first.0), iso(&last.1));
    let archived: Vec<Rec> = archived
        .into_iter()
        .filter(|(t, _)| t.as_str() > from.as_str() && t.as_str() <= to.as_str())
        .collect();
    let mut sf: Vec<Rec> = Vec::new();
    for (a, b, _) in &plan.windows {
        let soql = format!(
            "SELECT EventIdentifier, EventDate FROM {name} WHERE EventDate > {} AND EventDate <= {} ORDER BY EventDate DESC",
            soql_time(a),
            soql_time(b)
        );
        let rows = match client.query_all(&soql).await {
            Ok(rows) => rows,
            Err(e) => {
                return r.add(
                    &check,
                    Verdict::Error,
                    format!("cannot re-read {name}: {e}"),
                )
            }
        };
        for row in &rows {
            let t = row
                .get("EventDate")
                .and_then(Value::as_str)
                .and_then(parse_sf_datetime);
            let k = row.get("EventIdentifier").and_then(Value::as_str);
            if let (Some(t), Some(k)) = (t, k) {
                sf.push((iso(&t), k.to_string()));
            }
        }
    }
    let c = Compare {
        check: &check,
        source: name,
        next_lower: plan.next_lower,
        cursor: plan.cursor,
    };
    let before = r.rows.len();
    let t = compare(r, &c, ledger, &sf, &archived);
    if !r.rows[before..].iter().any(|x| x.verdict.fails()) {
        r.add(
            &check,
            Verdict::Ok,
            format!(
                "{} day(s), {} record(s) in both: every EventIdentifier Salesforce returns is archived (by EventDate, re-read in {} window(s))",
                t.days,
                t.matched,
                plan.windows.len()
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_windows_hold_whole_days_under_the_row_bound() {
        let mut cfg = salesforce::config::object_defaults("LoginEvent").unwrap();
        cfg.max_rows_per_window = 5000;
        cfg.settle_secs = 0;
        let now = parse_sf_datetime("2026-03-10T12:00:00Z").unwrap();
        let days: BTreeMap<String, u64> = [
            ("2026-03-08", 3000),
            ("2026-03-09", 3000),
            ("2026-03-10", 10),
        ]
        .iter()
        .map(|(d, n)| (d.to_string(), *n))
        .collect();
        let since = parse_sf_datetime("2026-03-08T00:00:00Z");
        let p = plan_deep(&cfg, &days, None, since, now);
        assert_eq!(p.windows.len(), 2, "{:?}", p.windows);
        assert_eq!(p.windows[0].2, 3000);
        assert_eq!(p.windows[1].2, 3010);
        assert_eq!(p.cost(), 2 + 2);
        assert_eq!(p.windows[1].1, now);
    }
}
