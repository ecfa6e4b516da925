//! `health` (R13): how the collector is doing, from its own ledger — files, rows and bytes per
//! type per day; gaps (days, or hours of hourly types, with no file where the type usually
//! has one); lateness of files (CreatedDate minus the end of the period they cover);
//! quarantined files; API calls sfevents spent; and each output's backlog.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};

use archive::state::Reader;

use crate::agg::Timing;
use crate::ledger::{Ledger, ScanStats, Window};
use crate::model::{Cell, ChartKind, Kind, Section, Table};
use crate::tables::fig;
use crate::{Ctx, ReportError};

/// The days and (day, hour)s a type has files for, and how many files are hourly.
#[derive(Default)]
struct Coverage {
    days: BTreeSet<String>,
    hours: BTreeSet<(String, u32)>,
    hourly: u64,
}

#[derive(Debug, Default, Clone, Copy)]
struct Volume {
    files: u64,
    rows: u64,
    bytes: u64,
}

impl Volume {
    fn add(&mut self, files: u64, rows: u64, bytes: u64) {
        self.files += files;
        self.rows += rows;
        self.bytes += bytes;
    }
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// What the ledgers say, over every archive.
#[derive(Default)]
struct Survey {
    /// (type, day) -> volume; objects count their NDJSON files.
    per_type_day: BTreeMap<(String, String), Volume>,
    /// Per EventLogFile type: what it has files for.
    hours: BTreeMap<String, Coverage>,
    lateness: BTreeMap<String, Timing>,
    first: Option<String>,
    last: Option<String>,
}

impl Survey {
    /// Reads every archive's ledger for the window.
    fn of(ctx: &Ctx) -> Result<Survey, ReportError> {
        let mut sv = Survey::default();
        for l in ctx.ledgers {
            sv.read_elf(l, &ctx.opts.window)?;
            sv.read_objects(l, &ctx.opts.window)?;
        }
        Ok(sv)
    }

    fn see(&mut self, log_date: &str) {
        if self.first.as_deref().is_none_or(|f| log_date < f) {
            self.first = Some(log_date.to_string());
        }
        if self.last.as_deref().is_none_or(|f| log_date > f) {
            self.last = Some(log_date.to_string());
        }
    }

    /// EventLogFiles: volume, coverage by day and hour, and lateness.
    fn read_elf(&mut self, l: &Ledger, w: &Window) -> Result<(), ReportError> {
        for f in l.ask(Reader::elf_volumes)? {
            let day = f.log_date.get(..10).unwrap_or("").to_string();
            if !w.contains(&day) {
                continue;
            }
            self.see(&f.log_date);
            self.per_type_day
                .entry((f.event_type.clone(), day.clone()))
                .or_default()
                .add(1, f.rows.max(0) as u64, f.bytes.max(0) as u64);
            let hourly = f.interval == "Hourly";
            let entry = self.hours.entry(f.event_type.clone()).or_default();
            entry.days.insert(day.clone());
            if hourly {
                let hour = f
                    .log_date
                    .get(11..13)
                    .and_then(|h| h.parse().ok())
                    .unwrap_or(0);
                entry.hours.insert((day, hour));
                entry.hourly += 1;
            }
            // Lateness: how long after its period ended Salesforce published the file.
            if let (Some(start), Some(made)) =
                (parse_time(&f.log_date), parse_time(&f.created_date))
            {
                let end = start
                    + if hourly {
                        Duration::hours(1)
                    } else {
                        Duration::days(1)
                    };
                let late = (made - end).num_seconds() as f64 / 3600.0;
                self.lateness
                    .entry(f.event_type)
                    .or_default()
                    .add(Some(late));
            }
        }
        Ok(())
    }

    /// Object sources: their NDJSON files' volume per day, from the delivery log.
    fn read_objects(&mut self, l: &Ledger, w: &Window) -> Result<(), ReportError> {
        for o in l.ask(Reader::object_volumes)? {
            if !w.contains(&o.day) {
                continue;
            }
            self.per_type_day.entry((o.source, o.day)).or_default().add(
                o.files as u64,
                o.rows as u64,
                o.bytes as u64,
            );
        }
        Ok(())
    }
}

/// Days (and hours of hourly types) with no file where the type usually has one: a day
/// between the type's first and last day with no file at all, or an hour missing on a day
/// when the type has that hour on most of its days.
fn gaps(l: &Survey) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (
        ty,
        Coverage {
            days,
            hours,
            hourly,
        },
    ) in &l.hours
    {
        let (Some(first), Some(last)) = (days.first(), days.last()) else {
            continue;
        };
        let (Ok(mut d), Ok(end)) = (
            NaiveDate::parse_from_str(first, "%Y-%m-%d"),
            NaiveDate::parse_from_str(last, "%Y-%m-%d"),
        ) else {
            continue;
        };
        while d <= end {
            let day = d.format("%Y-%m-%d").to_string();
            if !days.contains(&day) {
                out.push((ty.clone(), day.clone(), "no file that day".to_string()));
            }
            d += Duration::days(1);
        }
        if *hourly == 0 {
            continue;
        }
        let hourly_days: BTreeSet<&String> = hours.iter().map(|(d, _)| d).collect();
        // Hours before the type's first hourly file or after its last are not gaps: the
        // collection had not started, or the hour has not ended (or been published) yet.
        let (Some(lo), Some(hi)) = (hours.first().cloned(), hours.last().cloned()) else {
            continue;
        };
        for h in 0..24u32 {
            let with = hourly_days
                .iter()
                .filter(|d| hours.contains(&((**d).clone(), h)))
                .count();
            // "Usually": the hour is there on more than half the days with hourly files.
            if with * 2 <= hourly_days.len() {
                continue;
            }
            for d in &hourly_days {
                let at = ((*d).clone(), h);
                if at > lo && at < hi && !hours.contains(&at) {
                    out.push((
                        ty.clone(),
                        (*d).clone(),
                        format!("no hourly file for {h:02}:00"),
                    ));
                }
            }
        }
    }
    out.sort();
    out
}

/// Files, rows and bytes over the window: in all, per day and per type or object.
#[derive(Default)]
struct Totals {
    all: Volume,
    per_day: BTreeMap<String, Volume>,
    per_type: BTreeMap<String, Volume>,
}

impl Totals {
    fn of(sv: &Survey) -> Totals {
        let mut t = Totals::default();
        for ((ty, day), v) in &sv.per_type_day {
            t.all.add(v.files, v.rows, v.bytes);
            t.per_day
                .entry(day.clone())
                .or_default()
                .add(v.files, v.rows, v.bytes);
            t.per_type
                .entry(ty.clone())
                .or_default()
                .add(v.files, v.rows, v.bytes);
        }
        t
    }
}

pub fn build(ctx: &Ctx) -> Result<(Section, ScanStats), ReportError> {
    let sv = Survey::of(ctx)?;
    let totals = Totals::of(&sv);
    let gaps = gaps(&sv);
    let mut s = Section {
        sources: vec![format!(
            "the archives' ledgers (state.db): {} files of {} types or objects",
            totals.all.files,
            totals.per_type.len()
        )],
        figures: vec![
            fig("files archived", totals.all.files),
            fig("rows archived", totals.all.rows),
            // Bytes in full are in the tables; the headline is read at a glance.
            fig(
                "MB archived",
                (totals.all.bytes as f64 / 1e5).round() / 10.0,
            ),
            fig("gaps", gaps.len() as u64),
        ],
        ..Section::new("health", "Collector health")
    };
    volume_tables(&mut s, &totals, &sv);
    let g = gaps_table(&gaps);
    if g.rows.is_empty() {
        s.notes.push(
            "No gaps: every type has a file for every day (and usual hour) of its span.".into(),
        );
    } else {
        s.tables.push(g);
    }
    let late = lateness_table(&sv);
    if !late.rows.is_empty() {
        s.tables.push(late);
    }
    collector_tables(ctx, &mut s)?;
    let stats = ScanStats {
        files: totals.all.files,
        rows: totals.all.rows,
        missing: 0,
        first: sv.first,
        last: sv.last,
    };
    Ok((s, stats))
}

/// Archived per day, per type (the busiest first), and per type per day.
fn volume_tables(s: &mut Section, totals: &Totals, sv: &Survey) {
    s.tables.push(volume_table(
        "health_per_day",
        "Archived per day",
        ("day", Kind::Time),
        ChartKind::Columns,
        totals.per_day.iter().collect(),
    ));
    let mut ranked: Vec<(&String, &Volume)> = totals.per_type.iter().collect();
    ranked.sort_by(|a, b| b.1.rows.cmp(&a.1.rows).then_with(|| a.0.cmp(b.0)));
    s.tables.push(volume_table(
        "health_per_type",
        "Archived per type or object",
        ("type", Kind::Text),
        ChartKind::Bars,
        ranked,
    ));
    let mut detail = Table::new(
        "health_per_type_day",
        "Files, rows and bytes per type per day",
        &[
            ("type", Kind::Text),
            ("day", Kind::Time),
            ("files", Kind::Int),
            ("rows", Kind::Int),
            ("bytes", Kind::Int),
        ],
    );
    for ((t, d), v) in &sv.per_type_day {
        detail.push(vec![
            t.clone().into(),
            d.clone().into(),
            v.files.into(),
            v.rows.into(),
            v.bytes.into(),
        ]);
    }
    s.tables.push(detail);
}

fn gaps_table(gaps: &[(String, String, String)]) -> Table {
    let mut g = Table::new(
        "health_gaps",
        "Gaps: no file where the type usually has one",
        &[
            ("type", Kind::Text),
            ("day", Kind::Time),
            ("gap", Kind::Text),
        ],
    );
    for (t, d, what) in gaps {
        g.push(vec![
            t.clone().into(),
            d.clone().into(),
            what.clone().into(),
        ]);
    }
    g
}

fn lateness_table(sv: &Survey) -> Table {
    let mut late = Table::new(
        "health_lateness",
        "Lateness of EventLogFiles (CreatedDate minus the end of the period covered)",
        &[
            ("type", Kind::Text),
            ("files", Kind::Int),
            ("avg hours late", Kind::Float),
            ("max hours late", Kind::Float),
        ],
    )
    .chart(ChartKind::Bars, 0, &[2]);
    for (t, tm) in &sv.lateness {
        late.push(vec![
            t.clone().into(),
            tm.n.into(),
            tm.avg().into(),
            tm.max.into(),
        ]);
    }
    late
}

/// What the collector itself keeps: quarantined files, its runs and API calls, the outputs.
fn collector_tables(ctx: &Ctx, s: &mut Section) -> Result<(), ReportError> {
    let quarantine = quarantine(ctx)?;
    s.figures
        .push(fig("quarantined files", quarantine.rows.len() as u64));
    if quarantine.rows.is_empty() {
        s.notes.push("No file is quarantined.".into());
    } else {
        s.tables.push(quarantine);
    }
    let runs = runs(ctx)?;
    let calls: i64 = runs.rows.iter().filter_map(|r| r[2].as_f64()).sum::<f64>() as i64;
    s.figures.push(fig("API calls spent by sfevents", calls));
    s.tables.push(runs);
    let outputs = outputs(ctx)?;
    if !outputs.rows.is_empty() {
        s.tables.push(outputs);
    }
    Ok(())
}

/// Files, rows and bytes by one key, charted by rows.
fn volume_table(
    id: &str,
    title: &str,
    key: (&str, Kind),
    chart: ChartKind,
    rows: Vec<(&String, &Volume)>,
) -> Table {
    let mut t = Table::new(
        id,
        title,
        &[
            key,
            ("files", Kind::Int),
            ("rows", Kind::Int),
            ("bytes", Kind::Int),
        ],
    )
    .chart(chart, 0, &[2]);
    for (k, v) in rows {
        t.push(vec![
            k.clone().into(),
            v.files.into(),
            v.rows.into(),
            v.bytes.into(),
        ]);
    }
    t
}

fn quarantine(ctx: &Ctx) -> Result<Table, ReportError> {
    let mut t = Table::new(
        "health_quarantine",
        "Quarantined files (failed; retried on each collect)",
        &[
            ("org", Kind::Text),
            ("file id", Kind::Text),
            ("type", Kind::Text),
            ("attempts", Kind::Int),
            ("last error", Kind::Text),
            ("last failed", Kind::Time),
        ],
    );
    for l in ctx.ledgers {
        for q in l.ask(Reader::quarantine_entries)? {
            t.push(vec![
                l.org.clone().into(),
                q.file_id.into(),
                q.event_type.into(),
                q.attempts.into(),
                q.last_error.into(),
                q.last_failed_at.into(),
            ]);
        }
    }
    Ok(t)
}

fn runs(ctx: &Ctx) -> Result<Table, ReportError> {
    let mut per_day: BTreeMap<String, (i64, i64, i64, i64)> = BTreeMap::new();
    for l in ctx.ledgers {
        for r in l.ask(Reader::runs_per_day)? {
            if !ctx.opts.window.contains(&r.day) {
                continue;
            }
            let e = per_day.entry(r.day).or_default();
            e.0 += r.runs;
            e.1 += r.api_calls;
            e.2 += r.files;
            e.3 += r.rows;
        }
    }
    let mut t = Table::new(
        "health_runs",
        "Runs and API calls spent by sfevents, per day",
        &[
            ("day", Kind::Time),
            ("runs", Kind::Int),
            ("api calls", Kind::Int),
            ("files", Kind::Int),
            ("rows", Kind::Int),
        ],
    )
    .chart(ChartKind::Columns, 0, &[2]);
    for (d, (n, calls, files, rows)) in per_day {
        t.push(vec![
            d.into(),
            n.into(),
            calls.into(),
            files.into(),
            rows.into(),
        ]);
    }
    Ok(t)
}

fn outputs(ctx: &Ctx) -> Result<Table, ReportError> {
    let mut t = Table::new(
        "health_outputs",
        "Outputs: delivered, refused and waiting",
        &[
            ("org", Kind::Text),
            ("output", Kind::Text),
            ("delivered", Kind::Int),
            ("dead-lettered", Kind::Int),
            ("retried", Kind::Int),
            ("backlog events", Kind::Int),
            ("waiting since", Kind::Time),
        ],
    );
    for l in ctx.ledgers {
        for o in l.ask(Reader::output_backlogs)? {
            t.push(vec![
                l.org.clone().into(),
                o.output.into(),
                o.delivered.into(),
                o.dead.into(),
                o.retried.into(),
                o.backlog.max(0).into(),
                o.waiting_since.map(Into::into).unwrap_or(Cell::Empty),
            ]);
        }
    }
    Ok(t)
}
