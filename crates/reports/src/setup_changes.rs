//! `setup-changes` (R10, R11): SetupAuditTrail by day, section, action and admin; user
//! lifecycle and permission changes, newest first; and changes made by an admin logged in as
//! another user (DelegateUser), with LoginAsEvent sessions when the archive has them.

use crate::agg::{parts, Tally, SEP};
use crate::ledger::{Acc, ScanStats};
use crate::model::{ChartKind, Kind, Section, Table};
use crate::row::Row;
use crate::tables::{counts, fig, or_none};
use crate::{drew_on, empty_section, Ctx, ReportError};

const FIELDS: &[&str] = &[
    "Action",
    "Section",
    "Display",
    "CreatedBy.Username",
    "DelegateUser",
    "CreatedById",
];
const ACTION: usize = 0;
const SECTION: usize = 1;
const DISPLAY: usize = 2;
const BY: usize = 3;
const DELEGATE: usize = 4;
const BY_ID: usize = 5;

/// User lifecycle, profile and permission changes: what an access review looks at.
pub fn is_user_change(action: &str, section: &str) -> bool {
    let a = action.to_ascii_lowercase();
    section == "Manage Users"
        || [
            "user", "password", "permset", "profile", "role", "freeze", "frozen",
        ]
        .iter()
        .any(|w| a.contains(w))
}

/// One change kept for the lifecycle table.
#[derive(Debug, Clone)]
struct Change {
    time: String,
    admin: String,
    action: String,
    display: String,
}

#[derive(Default)]
struct Audit {
    total: u64,
    per_day: Tally<u64>,
    per_section: Tally<u64>,
    per_action: Tally<u64>,
    per_admin: Tally<u64>,
    delegated: Tally<u64>,
    user_changes: u64,
    /// The newest user changes, bounded: trimmed back to `KEEP` whenever it doubles.
    recent: Vec<Change>,
    buf: String,
}

const KEEP: usize = 200;

fn admin<'r>(r: &'r Row) -> &'r str {
    let by = r.get(BY);
    if by.is_empty() {
        or_none(r.get(BY_ID))
    } else {
        by
    }
}

impl Audit {
    fn trim(&mut self) {
        self.recent
            .sort_by(|a, b| b.time.cmp(&a.time).then_with(|| a.display.cmp(&b.display)));
        self.recent.truncate(KEEP);
    }
}

impl Acc for Audit {
    fn add(&mut self, r: &Row) {
        self.total += 1;
        *self.per_day.at(r.day()) += 1;
        let section = or_none(r.get(SECTION));
        let action = or_none(r.get(ACTION));
        *self.per_section.at(section) += 1;
        self.buf.clear();
        self.buf.push_str(action);
        self.buf.push(SEP);
        self.buf.push_str(section);
        *self.per_action.at(&self.buf) += 1;
        let by = admin(r);
        *self.per_admin.at(by) += 1;
        let delegate = r.get(DELEGATE);
        if !delegate.is_empty() {
            self.buf.clear();
            self.buf.push_str(delegate);
            self.buf.push(SEP);
            self.buf.push_str(by);
            *self.delegated.at(&self.buf) += 1;
        }
        if is_user_change(action, section) {
            self.user_changes += 1;
            self.recent.push(Change {
                time: r.time.to_string(),
                admin: by.to_string(),
                action: action.to_string(),
                display: r.get(DISPLAY).to_string(),
            });
            if self.recent.len() >= 2 * KEEP {
                self.trim();
            }
        }
    }

    fn merge(&mut self, o: Self) {
        use crate::agg::Merge;
        self.total += o.total;
        self.per_day.merge(o.per_day);
        self.per_section.merge(o.per_section);
        self.per_action.merge(o.per_action);
        self.per_admin.merge(o.per_admin);
        self.delegated.merge(o.delegated);
        self.user_changes += o.user_changes;
        self.recent.extend(o.recent);
        self.trim();
    }
}

/// LoginAsEvent: which admin logged in as whom.
#[derive(Default)]
struct LoginAs {
    pairs: Tally<u64>,
    buf: String,
}

impl Acc for LoginAs {
    fn add(&mut self, r: &Row) {
        self.buf.clear();
        self.buf.push_str(or_none(r.get(0)));
        self.buf.push(SEP);
        self.buf.push_str(or_none(r.get(1)));
        *self.pairs.at(&self.buf) += 1;
    }
    fn merge(&mut self, o: Self) {
        use crate::agg::Merge;
        self.pairs.merge(o.pairs);
    }
}

pub fn build(ctx: &Ctx) -> Result<(Section, ScanStats), ReportError> {
    let (mut a, stats) = ctx.object::<Audit>("SetupAuditTrail", FIELDS)?;
    let sources = vec![drew_on("SetupAuditTrail", &stats)];
    if stats.rows == 0 {
        let s = empty_section("setup-changes", "Setup changes", "SetupAuditTrail", sources);
        return Ok((s, stats));
    }
    let n = ctx.opts.top;
    let mut s = Section {
        sources,
        figures: vec![
            fig("setup changes", a.total),
            fig("admins", a.per_admin.len() as u64),
            fig("user and permission changes", a.user_changes),
            fig(
                "made while logged in as another user",
                a.delegated.iter().map(|(_, c)| *c).sum::<u64>(),
            ),
        ],
        ..Section::new("setup-changes", "Setup changes")
    };
    s.tables.push(days_table(std::mem::take(&mut a.per_day)));
    s.tables.push(counts(
        "setup_changes_by_section",
        "Changes by section",
        "section",
        "changes",
        std::mem::take(&mut a.per_section),
        n,
    ));
    s.tables.push(
        pairs(
            "setup_changes_by_action",
            "Changes by action",
            ["action", "section", "changes"],
            std::mem::take(&mut a.per_action),
            n,
        )
        .chart(ChartKind::Bars, 0, &[2]),
    );
    s.tables.push(counts(
        "setup_changes_by_admin",
        "Changes by admin",
        "admin",
        "changes",
        std::mem::take(&mut a.per_admin),
        n,
    ));
    let users = user_changes_table(&mut a, n);
    if !users.rows.is_empty() {
        s.tables.push(users);
    }
    delegated(&mut s, std::mem::take(&mut a.delegated), n);
    login_as(ctx, &mut s)?;
    Ok((s, stats))
}

fn days_table(per_day: Tally<u64>) -> Table {
    let mut days = Table::new(
        "setup_changes_per_day",
        "Setup changes per day",
        &[("day", Kind::Time), ("changes", Kind::Int)],
    )
    .chart(ChartKind::Columns, 0, &[1]);
    for (d, c) in per_day.by_key() {
        days.push(vec![d.into(), c.into()]);
    }
    days
}

/// A top-N table of counts by a two-part key: the parts' columns, then the count's.
fn pairs(id: &str, title: &str, columns: [&str; 3], per: Tally<u64>, n: usize) -> Table {
    let mut t = Table::new(
        id,
        title,
        &[
            (columns[0], Kind::Text),
            (columns[1], Kind::Text),
            (columns[2], Kind::Int),
        ],
    );
    let (kept, omitted) = per.top(n, |c| *c);
    for (k, c) in kept {
        let p = parts(&k);
        t.push(vec![p[0].into(), p[1].into(), c.into()]);
    }
    t.omitted = omitted;
    t
}

/// The newest user lifecycle and permission changes.
fn user_changes_table(a: &mut Audit, n: usize) -> Table {
    a.trim();
    let mut users = Table::new(
        "setup_changes_user_changes",
        "User lifecycle and permission changes, newest first",
        &[
            ("time", Kind::Time),
            ("admin", Kind::Text),
            ("action", Kind::Text),
            ("what changed", Kind::Text),
        ],
    );
    let shown = a.recent.len().min(n.max(50));
    for c in a.recent.iter().take(shown) {
        users.push(vec![
            c.time.clone().into(),
            c.admin.clone().into(),
            c.action.clone().into(),
            c.display.clone().into(),
        ]);
    }
    users.omitted = a.user_changes - shown as u64;
    users
}

/// Changes made through Login-As, or a note that there were none.
fn delegated(s: &mut Section, per: Tally<u64>, n: usize) {
    let t = pairs(
        "setup_changes_login_as",
        "Changes made by an admin logged in as another user (DelegateUser)",
        ["admin", "logged in as", "changes"],
        per,
        n,
    );
    if t.rows.is_empty() {
        s.notes.push(
            "No change was made through Login-As (DelegateUser is empty on every row).".into(),
        );
    } else {
        s.tables.push(t);
    }
}

/// Login-As sessions, when the archive holds LoginAsEvent.
fn login_as(ctx: &Ctx, s: &mut Section) -> Result<(), ReportError> {
    let (la, la_stats) =
        ctx.object::<LoginAs>("LoginAsEvent", &["DelegatedUsername", "Username"])?;
    if la_stats.rows > 0 {
        s.sources.push(drew_on("LoginAsEvent", &la_stats));
        s.tables.push(pairs(
            "setup_changes_login_as_sessions",
            "Login-As sessions (LoginAsEvent)",
            ["admin", "logged in as", "sessions"],
            la.pairs,
            ctx.opts.top,
        ));
    }
    Ok(())
}
