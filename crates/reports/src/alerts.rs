//! `alerts`: what the live rules raised (docs/detections.md), read from the archive's `alert`
//! dataset: alerts per rule, per level per day, and the users and addresses they name.
//!
//! Each alert is one event whose `fields` hold the alert; this report reads `@timestamp` (its
//! day is what `--since`/`--until` compare), `rule.name`, `rule.level`, `rule.title`,
//! `summary` and the `group` values below. The user an alert names is its `group`'s
//! `USER_NAME` or `Username`, else its `USER_ID`, `UserId` or `CreatedById` (shown as the user
//! name when the period's Login files or LoginEvent name that id), else the `user …` of its
//! summary; its address is the `group`'s `SOURCE_IP`, `SourceIp` or `CLIENT_IP`, else the
//! summary's `from …`. A one-event rule has no group, so its summary names them.

use std::collections::BTreeSet;

use crate::agg::{parts, Merge, Seen, Tally, SEP};
use crate::ledger::{Acc, ScanStats};
use crate::model::{ChartKind, Kind, Section, Table};
use crate::row::Row;
use crate::tables::{fig, or_none};
use crate::users::Directory;
use crate::{drew_on, Ctx, ReportError};

/// The archive's dataset of alerts.
pub const DATASET: &str = "alert";

const FIELDS: &[&str] = &[
    "rule.name",
    "rule.level",
    "rule.title",
    "summary",
    "group.USER_NAME",
    "group.Username",
    "group.USER_ID",
    "group.UserId",
    "group.CreatedById",
    "group.SOURCE_IP",
    "group.SourceIp",
    "group.CLIENT_IP",
];
const NAME: usize = 0;
const LEVEL: usize = 1;
const TITLE: usize = 2;
const SUMMARY: usize = 3;
const USER_NAMES: std::ops::Range<usize> = 4..6;
const USER_IDS: std::ops::Range<usize> = 6..9;
const ADDRESSES: std::ops::Range<usize> = 9..12;

/// Sigma's levels, the most severe first: the per-day table's columns.
pub const LEVELS: [&str; 5] = ["critical", "high", "medium", "low", "informational"];

/// The user and the address a summary names. A summary is `<title>: user U, from A, via
/// app, ... (<when>)`, each part only when the alert knows it, so the user is the first
/// part and the address the next one.
pub fn summary_names<'s>(summary: &'s str, title: &str) -> (Option<&'s str>, Option<&'s str>) {
    let Some(rest) = summary
        .strip_prefix(title)
        .and_then(|r| r.strip_prefix(": "))
    else {
        return (None, None);
    };
    let body = rest.rfind(" (").map_or(rest, |i| &rest[..i]);
    let mut each = body.split(", ");
    let first = each.next();
    let user = first.and_then(|p| p.strip_prefix("user "));
    let next = if user.is_some() { each.next() } else { first };
    let address = next.and_then(|p| p.strip_prefix("from "));
    let named = |v: Option<&'s str>| v.filter(|v| !v.is_empty());
    (named(user), named(address))
}

/// One rule's alerts: how many, and the first and last alert's time.
#[derive(Default)]
struct RuleStat {
    alerts: u64,
    seen: Seen,
}

impl Merge for RuleStat {
    fn merge(&mut self, o: Self) {
        self.alerts += o.alerts;
        self.seen.merge(o.seen);
    }
}

/// One day's alerts, in all and per level (in [`LEVELS`]' order).
#[derive(Default)]
struct Day {
    alerts: u64,
    levels: [u64; 5],
}

impl Merge for Day {
    fn merge(&mut self, o: Self) {
        self.alerts += o.alerts;
        for (a, b) in self.levels.iter_mut().zip(o.levels) {
            *a += b;
        }
    }
}

/// A user's or an address's alerts, and the rules that raised them.
#[derive(Default)]
struct Named {
    alerts: u64,
    rules: BTreeSet<Box<str>>,
}

impl Merge for Named {
    fn merge(&mut self, o: Self) {
        self.alerts += o.alerts;
        self.rules.extend(o.rules);
    }
}

impl Named {
    fn add(&mut self, rule: &str) {
        self.alerts += 1;
        if !self.rules.contains(rule) {
            self.rules.insert(rule.into());
        }
    }
}

#[derive(Default)]
struct Alerts {
    total: u64,
    severe: u64,
    /// By rule name, level and title (a rule's variants have titles of their own).
    per_rule: Tally<RuleStat>,
    per_day: Tally<Day>,
    /// Users named by name, and by id (turned into names at the end, where known).
    by_name: Tally<Named>,
    by_id: Tally<Named>,
    per_address: Tally<Named>,
    buf: String,
}

fn first_of<'r>(r: &'r Row, fields: std::ops::Range<usize>) -> Option<&'r str> {
    fields.map(|i| r.get(i)).find(|v| !v.is_empty())
}

impl Acc for Alerts {
    fn add(&mut self, r: &Row) {
        let name = or_none(r.get(NAME));
        let level = r.get(LEVEL);
        self.total += 1;
        if matches!(level, "critical" | "high") {
            self.severe += 1;
        }
        self.buf.clear();
        for (i, part) in [name, or_none(level), r.get(TITLE)].iter().enumerate() {
            if i > 0 {
                self.buf.push(SEP);
            }
            self.buf.push_str(part);
        }
        let rule = self.per_rule.at(&self.buf);
        rule.alerts += 1;
        rule.seen.add(r.time);
        let day = self.per_day.at(r.day());
        day.alerts += 1;
        if let Some(l) = LEVELS.iter().position(|l| *l == level) {
            day.levels[l] += 1;
        }
        let (said_user, said_address) = summary_names(r.get(SUMMARY), r.get(TITLE));
        if let Some(u) = first_of(r, USER_NAMES) {
            self.by_name.at(u).add(name);
        } else if let Some(id) = first_of(r, USER_IDS) {
            self.by_id.at(id).add(name);
        } else if let Some(u) = said_user {
            self.by_name.at(u).add(name);
        }
        if let Some(a) = first_of(r, ADDRESSES).or(said_address) {
            self.per_address.at(a).add(name);
        }
    }

    fn merge(&mut self, o: Self) {
        self.total += o.total;
        self.severe += o.severe;
        self.per_rule.merge(o.per_rule);
        self.per_day.merge(o.per_day);
        self.by_name.merge(o.by_name);
        self.by_id.merge(o.by_id);
        self.per_address.merge(o.per_address);
    }
}

pub fn build(ctx: &Ctx) -> Result<(Section, ScanStats), ReportError> {
    let (mut a, stats) = ctx.dataset::<Alerts>(DATASET, FIELDS)?;
    let n = ctx.opts.top;
    let users = users(ctx, &mut a)?;
    let mut s = Section {
        sources: vec![drew_on("alert (the live rules' alerts)", &stats)],
        figures: vec![
            fig("alerts", a.total),
            fig("high or critical", a.severe),
            fig("rules", rule_names(&a.per_rule)),
            fig("users named", users.len() as u64),
            fig("addresses named", a.per_address.len() as u64),
        ],
        ..Section::new("alerts", "Alerts")
    };
    if a.total == 0 {
        s.notes.push(nothing_raised(ctx)?);
    } else {
        s.notes.push(
            "Users are the alerts' group-by values (USER_NAME, Username, else USER_ID, UserId, \
             CreatedById shown as names where the logins name them), else the user the summary \
             names; addresses the group's SOURCE_IP, SourceIp, CLIENT_IP, else the summary's."
                .into(),
        );
    }
    s.tables
        .push(rules_table(std::mem::take(&mut a.per_rule), n));
    s.tables.push(days_table(std::mem::take(&mut a.per_day)));
    s.tables.push(named_table(
        "alerts_top_users",
        "Users named by the most alerts",
        "user",
        users,
        n,
    ));
    s.tables.push(named_table(
        "alerts_top_addresses",
        "Addresses named by the most alerts",
        "address",
        std::mem::take(&mut a.per_address),
        n,
    ));
    Ok((s, stats))
}

/// Distinct rule names among the per-rule keys.
fn rule_names(per_rule: &Tally<RuleStat>) -> u64 {
    let names: BTreeSet<&str> = per_rule.iter().map(|(k, _)| parts(k)[0]).collect();
    names.len() as u64
}

/// Every user, ids turned into names where the period's logins name them.
fn users(ctx: &Ctx, a: &mut Alerts) -> Result<Tally<Named>, ReportError> {
    let mut out = std::mem::take(&mut a.by_name);
    let by_id = std::mem::take(&mut a.by_id);
    if by_id.is_empty() {
        return Ok(out);
    }
    let dir = Directory::load(ctx)?;
    for (id, named) in by_id.by_key() {
        out.at(dir.name(&id).unwrap_or(&id)).merge(named);
    }
    Ok(out)
}

/// Why there is no alert: the live rules are off, or raised none in the period.
fn nothing_raised(ctx: &Ctx) -> Result<String, ReportError> {
    let mut ran = None;
    for l in ctx.ledgers {
        if let Some(t) = l.ask(|r, org| r.rule_totals(org))? {
            let (e, a) = ran.unwrap_or((0, 0));
            ran = Some((e + t.events, a + t.alerts));
        }
    }
    let g = |n: i64| crate::model::grouped(n);
    Ok(match ran {
        None => "No alert: the live rules are off in this archive (`[detections] enabled = true` \
                 turns them on; `sfevents detect` runs rules over the archive without them)."
            .to_string(),
        Some((events, 0)) => format!(
            "No alert: the live rules are on and raised nothing ({} events evaluated).",
            g(events)
        ),
        Some((events, alerts)) => format!(
            "No alert in this period: the live rules raised nothing in it ({} alerts in all, \
             over {} events evaluated).",
            g(alerts),
            g(events)
        ),
    })
}

fn rules_table(per_rule: Tally<RuleStat>, n: usize) -> Table {
    let mut t = Table::new(
        "alerts_per_rule",
        "Alerts per rule",
        &[
            ("rule", Kind::Text),
            ("level", Kind::Text),
            ("title", Kind::Text),
            ("alerts", Kind::Int),
            ("first alert", Kind::Time),
            ("last alert", Kind::Time),
        ],
    )
    .chart(ChartKind::Bars, 0, &[3]);
    let (kept, omitted) = per_rule.top(n, |r| r.alerts);
    for (k, r) in kept {
        let p = parts(&k);
        t.push(vec![
            p[0].into(),
            p[1].into(),
            p[2].into(),
            r.alerts.into(),
            r.seen.first.into(),
            r.seen.last.into(),
        ]);
    }
    t.omitted = omitted;
    t
}

fn days_table(per_day: Tally<Day>) -> Table {
    let mut columns = vec![("day", Kind::Time), ("alerts", Kind::Int)];
    columns.extend(LEVELS.iter().map(|l| (*l, Kind::Int)));
    let mut t = Table::new("alerts_per_day", "Alerts per day, by level", &columns).chart(
        ChartKind::Columns,
        0,
        &[2, 3, 4, 5, 6],
    );
    for (d, day) in per_day.by_key() {
        let mut row = vec![d.into(), day.alerts.into()];
        row.extend(day.levels.iter().map(|c| (*c).into()));
        t.push(row);
    }
    t
}

/// A top-N table of users or addresses: alerts, and the rules that raised them.
fn named_table(id: &str, title: &str, key: &str, per: Tally<Named>, n: usize) -> Table {
    let mut t = Table::new(
        id,
        title,
        &[
            (key, Kind::Text),
            ("alerts", Kind::Int),
            ("rules", Kind::Text),
        ],
    )
    .chart(ChartKind::Bars, 0, &[1]);
    let (kept, omitted) = per.top(n, |v| v.alerts);
    for (k, v) in kept {
        let rules: Vec<&str> = v.rules.iter().map(|r| &**r).collect();
        t.push(vec![k.into(), v.alerts.into(), rules.join(", ").into()]);
    }
    t.omitted = omitted;
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_names_its_user_and_address() {
        let t = "Salesforce brute force (ELF Login)";
        let s = format!("{t}: user jane@acme.example.com, from 203.0.113.50, via Sync (10 events, 2026-11-30T08:01:12.000Z to 2026-11-30T08:14:03.120Z)");
        assert_eq!(
            summary_names(&s, t),
            (Some("jane@acme.example.com"), Some("203.0.113.50"))
        );
        let s = format!("{t}: from 203.0.113.50 (at 2026-11-30T08:14:03.120Z)");
        assert_eq!(summary_names(&s, t), (None, Some("203.0.113.50")));
        let s = format!("{t}: user 005xx0000012345 (at 2026-11-30T08:14:03.120Z)");
        assert_eq!(summary_names(&s, t), (Some("005xx0000012345"), None));
        let s = format!("{t}: via Sync, from x (at 2026-11-30T08:14:03.120Z)");
        assert_eq!(summary_names(&s, t), (None, None), "only the first parts");
        assert_eq!(
            summary_names(&format!("{t} (at 2026-11-30T08:14:03.120Z)"), t),
            (None, None)
        );
        assert_eq!(
            summary_names("Another title: user x (at y)", t),
            (None, None)
        );
    }
}
