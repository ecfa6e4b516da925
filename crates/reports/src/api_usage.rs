//! `api-usage` (R1, R2): who and what spends the org's API allowance, from ApiTotalUsage —
//! per day, user, connected app, client, API family and resource, status code; the share that
//! counts against the limit; calls made with API versions at or below the retirement floor;
//! and, where RestApi files exist, the slowest resources.

use crate::agg::{parts, Merge, Tally, Timing, SEP};
use crate::ledger::{Acc, ScanStats};
use crate::model::{ChartKind, Figure, Kind, Section, Table};
use crate::row::Row;
use crate::tables::{counts, fig, fig_pct, or_none, pct};
use crate::{drew_on, empty_section, Ctx, ReportError};

const FIELDS: &[&str] = &[
    "USER_NAME",
    "USER_ID",
    "CONNECTED_APP_NAME",
    "CONNECTED_APP_ID",
    "CLIENT_NAME",
    "API_FAMILY",
    "API_RESOURCE",
    "API_VERSION",
    "STATUS_CODE",
    "COUNTS_AGAINST_API_LIMIT",
    "CLIENT_IP",
    "ENTITY_NAME",
];
const USER_NAME: usize = 0;
const USER_ID: usize = 1;
const APP_NAME: usize = 2;
const APP_ID: usize = 3;
const CLIENT: usize = 4;
const FAMILY: usize = 5;
const RESOURCE: usize = 6;
const VERSION: usize = 7;
const STATUS: usize = 8;
const COUNTS: usize = 9;
const IP: usize = 10;
const ENTITY: usize = 11;

/// Calls, those counted against the daily limit, and those answered with an error.
#[derive(Debug, Default, Clone, Copy)]
pub struct Calls {
    pub calls: u64,
    pub counted: u64,
    pub errors: u64,
}

impl Merge for Calls {
    fn merge(&mut self, o: Self) {
        self.calls += o.calls;
        self.counted += o.counted;
        self.errors += o.errors;
    }
}

#[derive(Default)]
struct Usage {
    total: Calls,
    per_day: Tally<Calls>,
    per_user: Tally<Calls>,
    per_app: Tally<Calls>,
    per_client: Tally<Calls>,
    per_resource: Tally<Calls>,
    per_status: Tally<u64>,
    per_entity: Tally<u64>,
    per_version: Tally<u64>,
    legacy: Tally<u64>,
    floor: f64,
    buf: String,
    template: String,
}

/// The user a row names: USER_NAME, else USER_ID, else "(unknown)".
pub fn user_of<'r>(r: &'r Row, name: usize, id: usize) -> &'r str {
    let n = r.get(name);
    if !n.is_empty() {
        return n;
    }
    let i = r.get(id);
    if i.is_empty() {
        "(unknown)"
    } else {
        i
    }
}

/// A connected app: its name, else its id; `(none)` for calls made without one.
pub fn app_of<'r>(r: &'r Row, name: usize, id: usize) -> &'r str {
    let n = r.get(name);
    if !n.is_empty() {
        return n;
    }
    let i = r.get(id);
    if i.is_empty() {
        "(none)"
    } else {
        i
    }
}

/// A resource with record ids replaced by `{id}`, so `/v64.0/sobjects/Account/001…` groups
/// as one resource.
pub fn template(resource: &str, out: &mut String) {
    out.clear();
    for (i, seg) in resource.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        let id_like = (seg.len() == 15 || seg.len() == 18)
            && seg.bytes().all(|b| b.is_ascii_alphanumeric())
            && seg.bytes().any(|b| b.is_ascii_digit());
        out.push_str(if id_like { "{id}" } else { seg });
    }
}

impl Acc for Usage {
    fn add(&mut self, r: &Row) {
        let status: u32 = r.get(STATUS).parse().unwrap_or(0);
        let c = Calls {
            calls: 1,
            counted: u64::from(r.get(COUNTS).eq_ignore_ascii_case("true")),
            errors: u64::from(status >= 400),
        };
        self.total.merge(c);
        self.per_day.at(r.day()).merge(c);
        self.per_user.at(user_of(r, USER_NAME, USER_ID)).merge(c);
        let app = app_of(r, APP_NAME, APP_ID);
        self.per_app.at(app).merge(c);
        self.per_client.at(or_none(r.get(CLIENT))).merge(c);
        template(r.get(RESOURCE), &mut self.template);
        self.buf.clear();
        self.buf.push_str(or_none(r.get(FAMILY)));
        self.buf.push(SEP);
        self.buf.push_str(or_none(&self.template));
        self.per_resource.at(&self.buf).merge(c);
        *self.per_status.at(or_none(r.get(STATUS))) += 1;
        for e in r.get(ENTITY).split(',').filter(|e| !e.is_empty()) {
            *self.per_entity.at(e) += 1;
        }
        let version = r.get(VERSION);
        *self.per_version.at(or_none(version)) += 1;
        if version.parse::<f64>().is_ok_and(|v| v <= self.floor) {
            self.buf.clear();
            for (i, part) in [
                version,
                app,
                user_of(r, USER_NAME, USER_ID),
                or_none(r.get(IP)),
            ]
            .iter()
            .enumerate()
            {
                if i > 0 {
                    self.buf.push(SEP);
                }
                self.buf.push_str(part);
            }
            *self.legacy.at(&self.buf) += 1;
        }
    }

    fn merge(&mut self, o: Self) {
        self.total.merge(o.total);
        self.per_day.merge(o.per_day);
        self.per_user.merge(o.per_user);
        self.per_app.merge(o.per_app);
        self.per_client.merge(o.per_client);
        self.per_resource.merge(o.per_resource);
        self.per_status.merge(o.per_status);
        self.per_entity.merge(o.per_entity);
        self.per_version.merge(o.per_version);
        self.legacy.merge(o.legacy);
    }
}

/// RestApi rows: run time per resource and method.
#[derive(Default)]
struct Slow {
    per: Tally<Timing>,
    buf: String,
    template: String,
}

impl Acc for Slow {
    fn add(&mut self, r: &Row) {
        template(r.get(0), &mut self.template);
        self.buf.clear();
        self.buf.push_str(or_none(r.get(1)));
        self.buf.push(SEP);
        self.buf.push_str(or_none(&self.template));
        self.per.at(&self.buf).add(r.num(2));
    }
    fn merge(&mut self, o: Self) {
        self.per.merge(o.per);
    }
}

fn calls_table(
    id: &str,
    title: &str,
    key: &str,
    rows: Tally<Calls>,
    total: u64,
    n: usize,
) -> Table {
    let mut t = Table::new(
        id,
        title,
        &[
            (key, Kind::Text),
            ("calls", Kind::Int),
            ("counted against limit", Kind::Int),
            ("errors", Kind::Int),
            ("share of calls", Kind::Percent),
        ],
    )
    .chart(ChartKind::Bars, 0, &[1]);
    let (kept, omitted) = rows.top(n, |c| c.calls);
    for (k, c) in kept {
        t.push(vec![
            k.into(),
            c.calls.into(),
            c.counted.into(),
            c.errors.into(),
            pct(c.calls, total).into(),
        ]);
    }
    t.omitted = omitted;
    t
}

pub fn build(ctx: &Ctx) -> Result<(Section, ScanStats), ReportError> {
    let floor = ctx.opts.api_floor;
    let make = || Usage {
        floor,
        ..Usage::default()
    };
    let (mut u, stats) = ctx.elf_with("ApiTotalUsage", FIELDS, &make)?;
    let sources = vec![drew_on("ApiTotalUsage (EventLogFile)", &stats)];
    if stats.rows == 0 {
        let s = empty_section("api-usage", "API usage", "ApiTotalUsage", sources);
        return Ok((s, stats));
    }
    let n = ctx.opts.top;
    let total = u.total.calls;
    let mut s = Section {
        sources,
        figures: figures(&u, floor),
        ..Section::new("api-usage", "API usage")
    };
    s.tables.push(days_table(std::mem::take(&mut u.per_day)));
    for (id, title, key, tally) in [
        (
            "api_usage_per_user",
            "Calls per user",
            "user",
            &mut u.per_user,
        ),
        (
            "api_usage_per_app",
            "Calls per connected app",
            "connected app",
            &mut u.per_app,
        ),
        (
            "api_usage_per_client",
            "Calls per client (CLIENT_NAME)",
            "client",
            &mut u.per_client,
        ),
    ] {
        let rows = std::mem::take(tally);
        s.tables.push(calls_table(id, title, key, rows, total, n));
    }
    s.tables
        .push(resource_table(std::mem::take(&mut u.per_resource), n));
    for (id, title, key, tally) in [
        (
            "api_usage_per_status",
            "Calls per status code",
            "status code",
            &mut u.per_status,
        ),
        (
            "api_usage_per_entity",
            "Calls per entity",
            "entity",
            &mut u.per_entity,
        ),
        (
            "api_usage_per_version",
            "Calls per API version",
            "api version",
            &mut u.per_version,
        ),
    ] {
        s.tables
            .push(counts(id, title, key, "calls", std::mem::take(tally), n));
    }
    legacy(&mut s, std::mem::take(&mut u.legacy), floor, n);
    slowest(ctx, &mut s)?;
    Ok((s, stats))
}

/// The headline numbers.
fn figures(u: &Usage, floor: f64) -> Vec<Figure> {
    let total = u.total.calls;
    let legacy_calls: u64 = u.legacy.iter().map(|(_, c)| *c).sum();
    vec![
        fig("API calls", total),
        fig("counted against the daily limit", u.total.counted),
        fig_pct("share counted", pct(u.total.counted, total)),
        fig("answered with an error (4xx/5xx)", u.total.errors),
        fig("users", u.per_user.len() as u64),
        fig("connected apps", u.per_app.len() as u64),
        fig(
            &format!("calls with API version ≤ {floor:.1}"),
            legacy_calls,
        ),
    ]
}

fn days_table(per_day: Tally<Calls>) -> Table {
    let mut days = Table::new(
        "api_usage_per_day",
        "Calls per day",
        &[
            ("day", Kind::Time),
            ("calls", Kind::Int),
            ("counted against limit", Kind::Int),
            ("errors", Kind::Int),
        ],
    )
    .chart(ChartKind::Columns, 0, &[1]);
    for (d, c) in per_day.by_key() {
        days.push(vec![
            d.into(),
            c.calls.into(),
            c.counted.into(),
            c.errors.into(),
        ]);
    }
    days
}

fn resource_table(per_resource: Tally<Calls>, n: usize) -> Table {
    let mut res = Table::new(
        "api_usage_per_resource",
        "Most frequent calls, per API family and resource",
        &[
            ("api family", Kind::Text),
            ("resource", Kind::Text),
            ("calls", Kind::Int),
            ("errors", Kind::Int),
        ],
    );
    let (kept, omitted) = per_resource.top(n, |c| c.calls);
    for (k, c) in kept {
        let p = parts(&k);
        res.push(vec![
            p[0].into(),
            p.get(1).copied().unwrap_or("").into(),
            c.calls.into(),
            c.errors.into(),
        ]);
    }
    res.omitted = omitted;
    res
}

/// Calls made with API versions at or below the floor, or a note that there were none.
fn legacy(s: &mut Section, per: Tally<u64>, floor: f64, n: usize) {
    let mut legacy = Table::new(
        "api_usage_legacy_versions",
        &format!(
            "Calls with API version ≤ {floor:.1} (retired versions fail: REST 410, SOAP 500, Bulk 400)"
        ),
        &[
            ("api version", Kind::Text),
            ("connected app", Kind::Text),
            ("user", Kind::Text),
            ("client ip", Kind::Text),
            ("calls", Kind::Int),
        ],
    );
    let (kept, omitted) = per.top(n.max(50), |c| *c);
    for (k, c) in kept {
        let p = parts(&k);
        legacy.push(vec![
            p[0].into(),
            p[1].into(),
            p[2].into(),
            p[3].into(),
            c.into(),
        ]);
    }
    legacy.omitted = omitted;
    if legacy.rows.is_empty() {
        s.notes.push(format!(
            "No call used an API version at or below {floor:.1}."
        ));
    } else {
        s.tables.push(legacy);
    }
}

/// The slowest REST resources, from RestApi files when the archive holds them.
fn slowest(ctx: &Ctx, s: &mut Section) -> Result<(), ReportError> {
    let (slow, slow_stats) = ctx.elf::<Slow>("RestApi", &["URI", "METHOD", "RUN_TIME"])?;
    if slow_stats.rows == 0 {
        s.notes.push(
            "Run times come from RestApi files, which this archive does not hold for the period: ApiTotalUsage has no timing columns.".into(),
        );
        return Ok(());
    }
    s.sources.push(drew_on(
        "RestApi (EventLogFile), for run times",
        &slow_stats,
    ));
    let mut t = Table::new(
        "api_usage_slowest",
        "Slowest REST resources (average RUN_TIME)",
        &[
            ("method", Kind::Text),
            ("resource", Kind::Text),
            ("calls", Kind::Int),
            ("avg run time ms", Kind::Float),
            ("max run time ms", Kind::Int),
        ],
    )
    .chart(ChartKind::Bars, 1, &[3]);
    let (kept, omitted) = slow.per.top(ctx.opts.top, |t| t.avg());
    for (k, tm) in kept {
        let p = parts(&k);
        t.push(vec![
            p[0].into(),
            p[1].into(),
            tm.n.into(),
            tm.avg().into(),
            (tm.max as i64).into(),
        ]);
    }
    t.omitted = omitted;
    s.tables.push(t);
    Ok(())
}
