//! What verify found, per org: one row per check (and one per problem), printed as a table
//! or as one JSON object.

use std::fmt::Write as _;

use serde::Serialize;

/// How a check came out. Only `Missing`, `Corrupt`, `Quarantined`, `NotInLedger` and `Error`
/// make verify fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Salesforce and the archive agree.
    Ok,
    /// Not in the archive yet, and the next `collect` takes it.
    Pending,
    /// The archive keeps what Salesforce has dropped: what it is for.
    Dropped,
    /// Removed on purpose by retention (`archive_keep_days`, `csv_keep_days`).
    Pruned,
    /// Not checked (not configured to be collected, or `--deep` not given).
    Skipped,
    /// Salesforce has it, the archive does not, and the next `collect` will not take it; or
    /// a file the ledger lists is not on disk.
    Missing,
    /// On disk but not as the ledger says (sha256, rows, length).
    Corrupt,
    /// The collector failed on it; it is retried on every run.
    Quarantined,
    /// An archive file that no ledger lists.
    NotInLedger,
    /// A check could not run.
    Error,
}

impl Verdict {
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Pending => "pending",
            Verdict::Dropped => "dropped",
            Verdict::Pruned => "pruned",
            Verdict::Skipped => "skipped",
            Verdict::Missing => "missing",
            Verdict::Corrupt => "corrupt",
            Verdict::Quarantined => "quarantined",
            Verdict::NotInLedger => "not-in-ledger",
            Verdict::Error => "error",
        }
    }

    pub fn fails(self) -> bool {
        matches!(
            self,
            Verdict::Missing
                | Verdict::Corrupt
                | Verdict::Quarantined
                | Verdict::NotInLedger
                | Verdict::Error
        )
    }
}

/// One line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub check: String,
    pub verdict: Verdict,
    pub details: String,
}

/// Rows of one check beyond this are summed up in the table (JSON lists them all).
const TABLE_ROWS_PER_CHECK: usize = 25;

/// Everything verify found for one org: a verdict row per check, and one per problem.
#[derive(Debug, Default, Serialize)]
pub struct OrgVerdicts {
    pub org: String,
    pub org_id: Option<String>,
    pub archive: String,
    pub rows: Vec<Row>,
    pub api_calls: u64,
    /// A configuration or usage error: verify exits 2.
    #[serde(skip)]
    pub config_error: bool,
}

impl OrgVerdicts {
    pub fn add(&mut self, check: &str, verdict: Verdict, details: impl Into<String>) {
        self.rows.push(Row {
            check: check.to_string(),
            verdict,
            details: details.into(),
        });
    }

    pub fn ok(&self) -> bool {
        !self.rows.iter().any(|r| r.verdict.fails())
    }

    pub fn count(&self, v: Verdict) -> usize {
        self.rows.iter().filter(|r| r.verdict == v).count()
    }

    /// `3 missing, 1 corrupt` (failing verdicts only), or `nothing missing or corrupt`.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = [
            Verdict::Missing,
            Verdict::Corrupt,
            Verdict::Quarantined,
            Verdict::NotInLedger,
            Verdict::Error,
        ]
        .iter()
        .filter_map(|v| {
            let n = self.count(*v);
            (n > 0).then(|| format!("{n} {}", v.word()))
        })
        .collect();
        if parts.is_empty() {
            "nothing missing or corrupt".into()
        } else {
            parts.join(", ")
        }
    }

    /// The org's table.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "org '{}' ({}), archive {}",
            self.org,
            self.org_id.as_deref().unwrap_or("?"),
            self.archive
        );
        let width = self
            .rows
            .iter()
            .map(|r| r.check.chars().count())
            .max()
            .unwrap_or(5)
            .max(5);
        let _ = writeln!(s, "  {:<width$}  {:<13}  details", "check", "result");
        let mut shown: Vec<(&str, usize, usize)> = Vec::new(); // (check, shown, hidden)
        for r in &self.rows {
            let i = match shown.iter().position(|(c, _, _)| *c == r.check) {
                Some(i) => i,
                None => {
                    shown.push((&r.check, 0, 0));
                    shown.len() - 1
                }
            };
            if shown[i].1 >= TABLE_ROWS_PER_CHECK {
                shown[i].2 += 1;
                continue;
            }
            shown[i].1 += 1;
            let _ = writeln!(
                s,
                "  {:<width$}  {:<13}  {}",
                r.check,
                r.verdict.word(),
                r.details
            );
        }
        for (check, _, hidden) in shown {
            if hidden > 0 {
                let _ = writeln!(
                    s,
                    "  {check:<width$}  {:<13}  ... and {hidden} more (--format json lists them all)",
                    ""
                );
            }
        }
        let _ = writeln!(
            s,
            "  {}; {} Salesforce API call(s) spent",
            self.summary(),
            self.api_calls
        );
        s
    }
}

/// The whole run as one JSON object.
pub fn json(orgs: &[OrgVerdicts]) -> serde_json::Value {
    let calls: u64 = orgs.iter().map(|o| o.api_calls).sum();
    let orgs_json: Vec<serde_json::Value> = orgs
        .iter()
        .map(|o| {
            let mut v = serde_json::to_value(o).unwrap_or_default();
            v["ok"] = serde_json::Value::Bool(o.ok());
            v["summary"] = serde_json::Value::String(o.summary());
            v
        })
        .collect();
    serde_json::json!({
        "ok": orgs.iter().all(OrgVerdicts::ok),
        "api_calls": calls,
        "orgs": orgs_json,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_losses_and_damage_fail() {
        let mut r = OrgVerdicts::default();
        r.add("EventLogFile", Verdict::Pending, "x");
        r.add("EventLogFile", Verdict::Dropped, "x");
        r.add("raw CSV", Verdict::Pruned, "x");
        assert!(r.ok());
        r.add("raw CSV", Verdict::Corrupt, "x");
        assert!(!r.ok());
        assert_eq!(r.summary(), "1 corrupt");
        let j = json(&[r]);
        assert_eq!(j["orgs"][0]["rows"][3]["verdict"], "corrupt");
        assert_eq!(j["ok"], false);
    }
}
