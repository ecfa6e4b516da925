//! `connected-apps` (R6): every connected app or client seen, with its users, IPs, first and
//! last seen and calls — from ApiTotalUsage, and logins per application from LoginEvent or
//! LoginHistory.

use crate::agg::{Distinct, Merge, Seen, Tally};
use crate::api_usage::{app_of, user_of};
use crate::ledger::{Acc, ScanStats};
use crate::model::{ChartKind, Kind, Section, Table};
use crate::row::Row;
use crate::tables::{fig, or_none};
use crate::{drew_on, empty_section, Ctx, ReportError};

#[derive(Default)]
struct App {
    uses: u64,
    users: Distinct,
    ips: Distinct,
    seen: Seen,
}

impl Merge for App {
    fn merge(&mut self, o: Self) {
        self.uses += o.uses;
        self.users.merge(o.users);
        self.ips.merge(o.ips);
        self.seen.merge(o.seen);
    }
}

/// Fields: app name, app id, user name, user id, client ip.
#[derive(Default)]
struct Apps {
    per: Tally<App>,
}

impl Acc for Apps {
    fn add(&mut self, r: &Row) {
        let a = self.per.at(app_of(r, 0, 1));
        a.uses += 1;
        a.users.add(user_of(r, 2, 3));
        a.ips.add(r.get(4));
        a.seen.add(r.time);
    }
    fn merge(&mut self, o: Self) {
        self.per.merge(o.per);
    }
}

fn apps_table(id: &str, title: &str, uses: &str, apps: Apps, n: usize) -> Table {
    let mut t = Table::new(
        id,
        title,
        &[
            ("app", Kind::Text),
            (uses, Kind::Int),
            ("users", Kind::Int),
            ("ips", Kind::Int),
            ("first seen", Kind::Time),
            ("last seen", Kind::Time),
        ],
    )
    .chart(ChartKind::Bars, 0, &[1]);
    let (kept, omitted) = apps.per.top(n, |a| a.uses);
    for (k, a) in kept {
        t.push(vec![
            or_none(&k).into(),
            a.uses.into(),
            a.users.len().into(),
            a.ips.len().into(),
            a.seen.first.into(),
            a.seen.last.into(),
        ]);
    }
    t.omitted = omitted;
    t
}

pub fn build(ctx: &Ctx) -> Result<(Section, ScanStats), ReportError> {
    let n = ctx.opts.top.max(25);
    let mut s = Section::new("connected-apps", "Connected apps");
    let mut span = ScanStats::default();
    let (api, st) = ctx.elf::<Apps>(
        "ApiTotalUsage",
        &[
            "CONNECTED_APP_NAME",
            "CONNECTED_APP_ID",
            "USER_NAME",
            "USER_ID",
            "CLIENT_IP",
        ],
    )?;
    if st.rows > 0 {
        s.sources.push(drew_on("ApiTotalUsage (EventLogFile)", &st));
        s.figures
            .push(fig("apps calling the API", api.per.len() as u64));
        s.tables.push(apps_table(
            "connected_apps_api",
            "Apps calling the API (ApiTotalUsage)",
            "calls",
            api,
            n,
        ));
        span.merge(&st);
    }
    // Logins per application: LoginEvent names users, LoginHistory only their ids.
    for (source, user) in [("LoginEvent", "Username"), ("LoginHistory", "UserId")] {
        let (logins, st) =
            ctx.object::<Apps>(source, &["Application", "-", user, "UserId", "SourceIp"])?;
        if st.rows == 0 {
            continue;
        }
        s.sources.push(drew_on(source, &st));
        s.figures.push(fig(
            "applications users log in with",
            logins.per.len() as u64,
        ));
        s.tables.push(apps_table(
            "connected_apps_logins",
            &format!("Applications used to log in ({source})"),
            "logins",
            logins,
            n,
        ));
        span.merge(&st);
        break;
    }
    if s.tables.is_empty() {
        let e = empty_section(
            "connected-apps",
            "Connected apps",
            "ApiTotalUsage, LoginEvent or LoginHistory",
            vec!["ApiTotalUsage, LoginEvent, LoginHistory: none in the period".into()],
        );
        return Ok((e, span));
    }
    Ok((s, span))
}
