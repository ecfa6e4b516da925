//! `health` (R13): how the collector is doing, from its own ledger — files, rows and bytes per
//! type per day; gaps (days, or hours of hourly types, with no file where the type usually
//! has one); lateness of files (CreatedDate minus the end of the period they cover);
//! quarantined files; API calls sfevents spent; and each output's backlog.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::agg::Timing;
use crate::archive::{Archive, ScanStats};
use crate::model::{ChartKind, Kind, Section, Table};
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

/// What the ledger says, over every archive.
#[derive(Default)]
struct Ledger {
    /// (type, day) -> volume; objects count their NDJSON files.
    per_type_day: BTreeMap<(String, String), Volume>,
    /// Per EventLogFile type: what it has files for.
    hours: BTreeMap<String, Coverage>,
    lateness: BTreeMap<String, Timing>,
    first: Option<String>,
    last: Option<String>,
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn read_files(a: &Archive, ctx: &Ctx, l: &mut Ledger) -> Result<(), ReportError> {
    let rows = a.rows(
        "SELECT event_type, log_date, interval, created_date, rows, bytes FROM files WHERE org = ?1",
        [&a.org],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
            ))
        },
    )?;
    for (ty, log_date, interval, created, n, bytes) in rows {
        let day = log_date.get(..10).unwrap_or("").to_string();
        if !ctx.opts.window.contains(&day) {
            continue;
        }
        if l.first.as_deref().is_none_or(|f| log_date.as_str() < f) {
            l.first = Some(log_date.clone());
        }
        if l.last.as_deref().is_none_or(|f| log_date.as_str() > f) {
            l.last = Some(log_date.clone());
        }
        l.per_type_day
            .entry((ty.clone(), day.clone()))
            .or_default()
            .add(1, n.max(0) as u64, bytes.max(0) as u64);
        let hourly = interval == "Hourly";
        let entry = l.hours.entry(ty.clone()).or_default();
        entry.days.insert(day.clone());
        if hourly {
            let hour = log_date
                .get(11..13)
                .and_then(|h| h.parse().ok())
                .unwrap_or(0);
            entry.hours.insert((day.clone(), hour));
            entry.hourly += 1;
        }
        // Lateness: how long after its period ended Salesforce published the file.
        if let (Some(start), Some(made)) = (parse_time(&log_date), parse_time(&created)) {
            let end = start
                + if hourly {
                    Duration::hours(1)
                } else {
                    Duration::days(1)
                };
            let late = (made - end).num_seconds() as f64 / 3600.0;
            l.lateness.entry(ty).or_default().add(Some(late));
        }
    }
    let rows = a.rows(
        "SELECT source, substr(coalesce(oldest_event, committed_at), 1, 10), count(*), sum(rows), sum(bytes) \
             FROM delivery_log WHERE org = ?1 AND source <> 'EventLogFile' GROUP BY 1, 2",
        [&a.org],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
            ))
        },
    )?;
    for (source, day, files, n, bytes) in rows {
        if !ctx.opts.window.contains(&day) {
            continue;
        }
        l.per_type_day
            .entry((source, day))
            .or_default()
            .add(files as u64, n as u64, bytes as u64);
    }
    Ok(())
}

/// Days (and hours of hourly types) with no file where the type usually has one: a day
/// between the type's first and last day with no file at all, or an hour missing on a day
/// when the type has that hour on most of its days.
fn gaps(l: &Ledger) -> Vec<(String, String, String)> {
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

pub fn build(ctx: &Ctx) -> Result<(Section, ScanStats), ReportError> {
    let mut l = Ledger::default();
    for a in ctx.archives {
        read_files(a, ctx, &mut l)?;
    }
    let mut total = Volume::default();
    let mut per_day: BTreeMap<String, Volume> = BTreeMap::new();
    let mut per_type: BTreeMap<String, Volume> = BTreeMap::new();
    for ((ty, day), v) in &l.per_type_day {
        total.add(v.files, v.rows, v.bytes);
        per_day
            .entry(day.clone())
            .or_default()
            .add(v.files, v.rows, v.bytes);
        per_type
            .entry(ty.clone())
            .or_default()
            .add(v.files, v.rows, v.bytes);
    }
    let gaps = gaps(&l);
    let mut s = Section {
        sources: vec![format!(
            "the archives' ledgers (state.db): {} files of {} types or objects",
            total.files,
            per_type.len()
        )],
        figures: vec![
            fig("files archived", total.files),
            fig("rows archived", total.rows),
            // Bytes in full are in the tables; the headline is read at a glance.
            fig("MB archived", (total.bytes as f64 / 1e5).round() / 10.0),
            fig("gaps", gaps.len() as u64),
        ],
        ..Section::new("health", "Collector health")
    };

    s.tables.push(volume_table(
        "health_per_day",
        "Archived per day",
        ("day", Kind::Time),
        ChartKind::Columns,
        per_day.iter().collect(),
    ));
    // Types by rows, the busiest first.
    let mut ranked: Vec<(&String, &Volume)> = per_type.iter().collect();
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
    for ((t, d), v) in &l.per_type_day {
        detail.push(vec![
            t.clone().into(),
            d.clone().into(),
            v.files.into(),
            v.rows.into(),
            v.bytes.into(),
        ]);
    }
    s.tables.push(detail);

    let mut g = Table::new(
        "health_gaps",
        "Gaps: no file where the type usually has one",
        &[
            ("type", Kind::Text),
            ("day", Kind::Time),
            ("gap", Kind::Text),
        ],
    );
    for (t, d, what) in &gaps {
        g.push(vec![
            t.clone().into(),
            d.clone().into(),
            what.clone().into(),
        ]);
    }
    if g.rows.is_empty() {
        s.notes.push(
            "No gaps: every type has a file for every day (and usual hour) of its span.".into(),
        );
    } else {
        s.tables.push(g);
    }

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
    for (t, tm) in &l.lateness {
        late.push(vec![
            t.clone().into(),
            tm.n.into(),
            tm.avg().into(),
            tm.max.into(),
        ]);
    }
    if !late.rows.is_empty() {
        s.tables.push(late);
    }

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
    let stats = ScanStats {
        files: total.files,
        rows: total.rows,
        missing: 0,
        first: l.first,
        last: l.last,
    };
    Ok((s, stats))
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
    for a in ctx.archives {
        let rows = a.rows(
            "SELECT file_id, event_type, attempts, last_error, last_failed_at FROM quarantine \
                 WHERE org = ?1 ORDER BY last_failed_at DESC",
            [&a.org],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            },
        )?;
        for (id, ty, attempts, err, at) in rows {
            t.push(vec![
                a.org.clone().into(),
                id.into(),
                ty.into(),
                attempts.into(),
                err.into(),
                at.into(),
            ]);
        }
    }
    Ok(t)
}

fn runs(ctx: &Ctx) -> Result<Table, ReportError> {
    let mut per_day: BTreeMap<String, (i64, i64, i64, i64)> = BTreeMap::new();
    for a in ctx.archives {
        let rows = a.rows(
            "SELECT substr(started_at, 1, 10), count(*), sum(api_calls), sum(files), sum(rows) \
                 FROM runs WHERE org = ?1 GROUP BY 1",
            [&a.org],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            },
        )?;
        for (day, n, calls, files, rows) in rows {
            if !ctx.opts.window.contains(&day) {
                continue;
            }
            let e = per_day.entry(day).or_default();
            e.0 += n;
            e.1 += calls;
            e.2 += files;
            e.3 += rows;
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
    for a in ctx.archives {
        let rows = a.rows(
            "SELECT p.output, p.delivered, p.dead, p.retried, \
                   (SELECT coalesce(sum(CASE WHEN d.seq = p.seq THEN max(d.rows - p.row, 0) ELSE d.rows END), 0) \
                      FROM delivery_log d WHERE d.org = p.org AND d.seq >= p.seq AND d.pruned_at IS NULL), \
                   (SELECT min(d.committed_at) FROM delivery_log d WHERE d.org = p.org AND d.seq >= p.seq \
                      AND d.pruned_at IS NULL AND NOT (d.seq = p.seq AND d.rows <= p.row)) \
                 FROM output_positions p WHERE p.org = ?1 ORDER BY p.output",
            [&a.org],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            },
        )?;
        for (out, delivered, dead, retried, backlog, since) in rows {
            t.push(vec![
                a.org.clone().into(),
                out.into(),
                delivered.into(),
                dead.into(),
                retried.into(),
                backlog.max(0).into(),
                since.map(Into::into).unwrap_or(crate::model::Cell::Empty),
            ]);
        }
    }
    Ok(t)
}
