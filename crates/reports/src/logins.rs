//! `logins` (R3, R4, R5): success rate and failures over time, failures by status, top
//! failing users and IPs, logins by country, by login type and application, TLS protocol and
//! browser — from whichever of Login (EventLogFile), LoginEvent and LoginHistory the archive
//! holds for the period, in that order of preference, saying which.

use crate::agg::{parts, top, Distinct, Merge, Tally, SEP};
use crate::ledger::{Acc, ScanStats};
use crate::model::{ChartKind, Kind, Section, Table};
use crate::row::Row;
use crate::tables::{counts, fig, fig_pct, or_none};
use crate::{drew_on, empty_section, Ctx, ReportError};

/// Positions of the normalized fields, the same for every source.
const USER: usize = 0;
const STATUS: usize = 1;
const IP: usize = 2;
const TYPE: usize = 3;
const APP: usize = 4;
const TLS: usize = 5;
const BROWSER: usize = 6;
const COUNTRY: usize = 7;
const PLATFORM: usize = 8;
const USER_FALLBACK: usize = 9;
const IP_FALLBACK: usize = 10;

/// A login source: its fields in the normalized order (`-` where it has none) and the
/// status value that means success.
struct Source {
    label: &'static str,
    elf: bool,
    name: &'static str,
    fields: [&'static str; 11],
    success: &'static str,
}

const SOURCES: &[Source] = &[
    Source {
        label: "Login (EventLogFile)",
        elf: true,
        name: "Login",
        fields: [
            "USER_NAME",
            "LOGIN_STATUS",
            "SOURCE_IP",
            "LOGIN_TYPE",
            "LOGIN_SUB_TYPE",
            "TLS_PROTOCOL",
            "BROWSER_TYPE",
            "-",
            "-",
            "USER_ID",
            "CLIENT_IP",
        ],
        success: "LOGIN_NO_ERROR",
    },
    Source {
        label: "LoginEvent",
        elf: false,
        name: "LoginEvent",
        fields: [
            "Username",
            "Status",
            "SourceIp",
            "LoginType",
            "Application",
            "TlsProtocol",
            "Browser",
            "CountryIso",
            "Platform",
            "UserId",
            "-",
        ],
        success: "Success",
    },
    Source {
        label: "LoginHistory",
        elf: false,
        name: "LoginHistory",
        fields: [
            "UserId",
            "Status",
            "SourceIp",
            "LoginType",
            "Application",
            "TlsProtocol",
            "Browser",
            "CountryIso",
            "Platform",
            "-",
            "-",
        ],
        success: "Success",
    },
];

#[derive(Debug, Default, Clone, Copy)]
struct Outcome {
    attempts: u64,
    failures: u64,
}

impl Merge for Outcome {
    fn merge(&mut self, o: Self) {
        self.attempts += o.attempts;
        self.failures += o.failures;
    }
}

#[derive(Default)]
struct CountryStats {
    outcome: Outcome,
    users: Distinct,
}

impl Merge for CountryStats {
    fn merge(&mut self, o: Self) {
        self.outcome.merge(o.outcome);
        self.users.merge(o.users);
    }
}

#[derive(Default)]
struct Logins {
    success: &'static str,
    total: Outcome,
    per_day: Tally<Outcome>,
    failures_by_status: Tally<u64>,
    per_user: Tally<Outcome>,
    per_ip: Tally<Outcome>,
    per_country: Tally<CountryStats>,
    per_type: Tally<Outcome>,
    per_tls: Tally<u64>,
    per_browser: Tally<u64>,
    per_platform: Tally<u64>,
    users: Distinct,
    buf: String,
}

fn either<'r>(r: &'r Row, a: usize, b: usize) -> &'r str {
    let v = r.get(a);
    if v.is_empty() {
        r.get(b)
    } else {
        v
    }
}

impl Acc for Logins {
    fn add(&mut self, r: &Row) {
        let status = r.get(STATUS);
        let failed = status != self.success;
        let o = Outcome {
            attempts: 1,
            failures: u64::from(failed),
        };
        let user = or_none(either(r, USER, USER_FALLBACK));
        let ip = or_none(either(r, IP, IP_FALLBACK));
        self.total.merge(o);
        self.per_day.at(r.day()).merge(o);
        if failed {
            *self.failures_by_status.at(or_none(status)) += 1;
        }
        self.per_user.at(user).merge(o);
        self.per_ip.at(ip).merge(o);
        self.users.add(user);
        let country = r.get(COUNTRY);
        if !country.is_empty() {
            let c = self.per_country.at(country);
            c.outcome.merge(o);
            c.users.add(user);
        }
        self.buf.clear();
        self.buf.push_str(or_none(r.get(TYPE)));
        self.buf.push(SEP);
        self.buf.push_str(or_none(r.get(APP)));
        self.per_type.at(&self.buf).merge(o);
        *self.per_tls.at(or_none(r.get(TLS))) += 1;
        *self.per_browser.at(or_none(r.get(BROWSER))) += 1;
        let platform = r.get(PLATFORM);
        if !platform.is_empty() {
            *self.per_platform.at(platform) += 1;
        }
    }

    fn merge(&mut self, o: Self) {
        self.total.merge(o.total);
        self.per_day.merge(o.per_day);
        self.failures_by_status.merge(o.failures_by_status);
        self.per_user.merge(o.per_user);
        self.per_ip.merge(o.per_ip);
        self.per_country.merge(o.per_country);
        self.per_type.merge(o.per_type);
        self.per_tls.merge(o.per_tls);
        self.per_browser.merge(o.per_browser);
        self.per_platform.merge(o.per_platform);
        self.users.merge(o.users);
    }
}

fn rate(o: &Outcome) -> f64 {
    if o.attempts == 0 {
        0.0
    } else {
        (o.attempts - o.failures) as f64 * 100.0 / o.attempts as f64
    }
}

fn scan(ctx: &Ctx, s: &Source) -> Result<(Logins, ScanStats), ReportError> {
    let success = s.success;
    let make = || Logins {
        success,
        ..Logins::default()
    };
    if s.elf {
        ctx.elf_with(s.name, &s.fields, &make)
    } else {
        ctx.object_with(s.name, &s.fields, &make)
    }
}

/// The source a report draws on: the first of [`SOURCES`] with rows in the period; `others`
/// are the later ones that also have files then (the same logins seen another way).
struct Chosen {
    src: &'static Source,
    logins: Logins,
    stats: ScanStats,
    others: Vec<&'static str>,
}

fn choose(ctx: &Ctx) -> Result<Option<Chosen>, ReportError> {
    let mut chosen: Option<Chosen> = None;
    for src in SOURCES {
        match &mut chosen {
            // Only count what else exists, so the reader knows the alternatives.
            Some(c) => {
                if files_of(ctx, src)? > 0 {
                    c.others.push(src.label);
                }
            }
            None => {
                let (logins, stats) = scan(ctx, src)?;
                if stats.rows > 0 {
                    chosen = Some(Chosen {
                        src,
                        logins,
                        stats,
                        others: Vec::new(),
                    });
                }
            }
        }
    }
    Ok(chosen)
}

/// How many files of a source the archives list for the period.
fn files_of(ctx: &Ctx, src: &Source) -> Result<u64, ReportError> {
    let w = &ctx.opts.window;
    let mut n = 0;
    for l in ctx.ledgers {
        n += if src.elf {
            l.elf_files(src.name, w)?.len()
        } else {
            l.object_files(src.name, w)?.len()
        } as u64;
    }
    Ok(n)
}

pub fn build(ctx: &Ctx) -> Result<(Section, ScanStats), ReportError> {
    let Some(Chosen {
        src,
        logins: mut l,
        stats,
        others,
    }) = choose(ctx)?
    else {
        let s = empty_section(
            "logins",
            "Logins",
            "Login (EventLogFile), LoginEvent or LoginHistory",
            vec!["Login (EventLogFile), LoginEvent, LoginHistory: none in the period".into()],
        );
        return Ok((s, ScanStats::default()));
    };
    let n = ctx.opts.top;
    let mut s = Section {
        sources: vec![drew_on(src.label, &stats)],
        figures: vec![
            fig("login attempts", l.total.attempts),
            fig("successful", l.total.attempts - l.total.failures),
            fig("failed", l.total.failures),
            fig_pct("success rate", rate(&l.total)),
            fig("users", l.users.len()),
            fig("source IPs", l.per_ip.len() as u64),
        ],
        ..Section::new("logins", "Logins")
    };
    if !others.is_empty() {
        s.notes.push(format!(
            "Drawn from {} only; the archive also holds {} for this period (the same logins seen another way).",
            src.label,
            others.join(" and ")
        ));
    }
    s.tables.push(days_table(std::mem::take(&mut l.per_day)));
    s.tables.push(counts(
        "logins_failures_by_status",
        "Failed logins by status",
        "status",
        "failures",
        std::mem::take(&mut l.failures_by_status),
        n,
    ));
    failing_tables(ctx, &mut s, src, &mut l)?;
    countries(ctx, &mut s, src, std::mem::take(&mut l.per_country))?;
    s.tables
        .push(types_table(src, std::mem::take(&mut l.per_type), n));
    client_tables(&mut s, &mut l, n);
    Ok((s, stats))
}

fn days_table(per_day: Tally<Outcome>) -> Table {
    let mut days = Table::new(
        "logins_per_day",
        "Logins per day",
        &[
            ("day", Kind::Time),
            ("attempts", Kind::Int),
            ("successful", Kind::Int),
            ("failed", Kind::Int),
            ("success rate", Kind::Percent),
        ],
    )
    .chart(ChartKind::Line, 0, &[2, 3]);
    for (d, o) in per_day.by_key() {
        days.push(vec![
            d.into(),
            o.attempts.into(),
            (o.attempts - o.failures).into(),
            o.failures.into(),
            rate(&o).into(),
        ]);
    }
    days
}

/// The users, then the source IPs, with the most failed logins.
fn failing_tables(
    ctx: &Ctx,
    s: &mut Section,
    src: &Source,
    l: &mut Logins,
) -> Result<(), ReportError> {
    let n = ctx.opts.top;
    let mut users = failing(
        "logins_failing_users",
        "Users with the most failed logins",
        "user",
        std::mem::take(&mut l.per_user),
        n,
    );
    if src.name == "LoginHistory" {
        // LoginHistory names users by id only.
        crate::users::Directory::load(ctx)?.relabel(&mut users, 0, "user");
    }
    s.tables.push(users);
    s.tables.push(failing(
        "logins_failing_ips",
        "Source IPs with the most failed logins",
        "source ip",
        std::mem::take(&mut l.per_ip),
        n,
    ));
    Ok(())
}

/// Logins by country: the chosen source's, else the first object source's that has them
/// (Login files have no geolocation; the objects do, for the same logins), else a note.
fn countries(
    ctx: &Ctx,
    s: &mut Section,
    src: &Source,
    mut per_country: Tally<CountryStats>,
) -> Result<(), ReportError> {
    if per_country.is_empty() {
        for geo in SOURCES.iter().filter(|x| !x.elf) {
            let (g, st) = scan(ctx, geo)?;
            if st.rows > 0 && !g.per_country.is_empty() {
                s.sources
                    .push(drew_on(&format!("{}, for countries", geo.label), &st));
                per_country = g.per_country;
                break;
            }
        }
    }
    if per_country.is_empty() {
        s.notes.push(format!(
            "{} has no country: logins by country need LoginEvent or LoginHistory in the archive.",
            src.label
        ));
        return Ok(());
    }
    let mut t = Table::new(
        "logins_by_country",
        "Logins by country",
        &[
            ("country", Kind::Text),
            ("logins", Kind::Int),
            ("failed", Kind::Int),
            ("users", Kind::Int),
        ],
    )
    .chart(ChartKind::Bars, 0, &[1]);
    let (kept, omitted) = per_country.top(ctx.opts.top, |c| c.outcome.attempts);
    for (k, c) in kept {
        t.push(vec![
            k.into(),
            c.outcome.attempts.into(),
            c.outcome.failures.into(),
            c.users.len().into(),
        ]);
    }
    t.omitted = omitted;
    s.tables.push(t);
    Ok(())
}

fn types_table(src: &Source, per_type: Tally<Outcome>, n: usize) -> Table {
    let second = if src.elf {
        "login sub-type"
    } else {
        "application"
    };
    let mut types = Table::new(
        "logins_by_type",
        "Logins by login type and application",
        &[
            ("login type", Kind::Text),
            (second, Kind::Text),
            ("logins", Kind::Int),
            ("failed", Kind::Int),
        ],
    );
    let (kept, omitted) = per_type.top(n, |o| o.attempts);
    for (k, o) in kept {
        let p = parts(&k);
        types.push(vec![
            p[0].into(),
            p[1].into(),
            o.attempts.into(),
            o.failures.into(),
        ]);
    }
    types.omitted = omitted;
    types
}

/// What clients logged in with: TLS protocol, browser and, where the source has it, platform.
fn client_tables(s: &mut Section, l: &mut Logins, n: usize) {
    s.tables.push(counts(
        "logins_tls",
        "Logins by TLS protocol",
        "tls protocol",
        "logins",
        std::mem::take(&mut l.per_tls),
        n,
    ));
    s.tables.push(counts(
        "logins_browsers",
        "Logins by browser or client",
        "browser",
        "logins",
        std::mem::take(&mut l.per_browser),
        n,
    ));
    if !l.per_platform.is_empty() {
        s.tables.push(counts(
            "logins_platforms",
            "Logins by platform",
            "platform",
            "logins",
            std::mem::take(&mut l.per_platform),
            n,
        ));
    }
}

fn failing(id: &str, title: &str, key: &str, per: Tally<Outcome>, n: usize) -> Table {
    let mut t = Table::new(
        id,
        title,
        &[
            (key, Kind::Text),
            ("failed", Kind::Int),
            ("attempts", Kind::Int),
        ],
    )
    .chart(ChartKind::Bars, 0, &[1]);
    let failing: Vec<(String, Outcome)> = per
        .ranked(|o| o.failures)
        .into_iter()
        .filter(|(_, o)| o.failures > 0)
        .collect();
    let (kept, omitted) = top(failing, n);
    for (k, o) in kept {
        t.push(vec![k.into(), o.failures.into(), o.attempts.into()]);
    }
    t.omitted = omitted;
    t
}
