//! `apex` (R12): Apex entry points by count, run and CPU time and SOQL queries; triggers by
//! name, type and entity; the slowest Visualforce and Lightning pages.

use crate::grouped::{table, Grouped, Rank, Spec, Stat};
use crate::ledger::ScanStats;
use crate::model::Section;
use crate::tables::fig;
use crate::{drew_on, empty_section, Ctx, ReportError};

pub fn build(ctx: &Ctx) -> Result<(Section, ScanStats), ReportError> {
    let mut s = Section::new("apex", "Apex and page performance");
    let mut span = ScanStats::default();
    entry_points(ctx, &mut s, &mut span)?;
    triggers(ctx, &mut s, &mut span)?;
    pages(ctx, &mut s, &mut span, &VISUALFORCE)?;
    pages(ctx, &mut s, &mut span, &LIGHTNING)?;
    if s.tables.is_empty() {
        let e = empty_section(
            "apex",
            "Apex and page performance",
            "ApexExecution, ApexTrigger, VisualforceRequest or LightningPageView",
            vec!["ApexExecution, ApexTrigger, VisualforceRequest, LightningPageView: none in the period".into()],
        );
        return Ok((e, span));
    }
    Ok((s, span))
}

/// ApexExecution: entry points by executions, then the slowest by average run time.
fn entry_points(ctx: &Ctx, s: &mut Section, span: &mut ScanStats) -> Result<(), ReportError> {
    let n = ctx.opts.top;
    let (g, st) = ctx.elf_with(
        "ApexExecution",
        &["ENTRY_POINT", "RUN_TIME", "CPU_TIME", "NUMBER_SOQL_QUERIES"],
        &|| Grouped::new(1, 3),
    )?;
    if st.rows == 0 {
        return Ok(());
    }
    s.sources.push(drew_on("ApexExecution (EventLogFile)", &st));
    s.figures.push(fig("Apex executions", g.total));
    s.figures.push(fig("entry points", g.per.len() as u64));
    let by_count = Spec {
        id: "apex_entry_points",
        title: "Entry points by executions",
        keys: &["entry point"],
        count: "executions",
        stats: &[
            ("avg run time ms", Stat::Avg(0)),
            ("max run time ms", Stat::Max(0)),
            ("avg cpu time ms", Stat::Avg(1)),
            ("max cpu time ms", Stat::Max(1)),
            ("avg soql queries", Stat::Avg(2)),
        ],
        rank: Rank::Count,
        bars: Some(1),
    };
    s.tables.push(table(&by_count, g, n));
    let (g, _) = ctx.elf_with(
        "ApexExecution",
        &["ENTRY_POINT", "RUN_TIME", "CPU_TIME"],
        &|| Grouped::new(1, 2),
    )?;
    let slow = Spec {
        id: "apex_slowest_entry_points",
        title: "Slowest entry points (average run time)",
        keys: &["entry point"],
        count: "executions",
        stats: &[
            ("avg run time ms", Stat::Avg(0)),
            ("avg cpu time ms", Stat::Avg(1)),
        ],
        rank: Rank::Avg(0),
        bars: Some(2),
    };
    s.tables.push(table(&slow, g, n));
    span.merge(&st);
    Ok(())
}

/// ApexTrigger: triggers by executions.
fn triggers(ctx: &Ctx, s: &mut Section, span: &mut ScanStats) -> Result<(), ReportError> {
    let (g, st) = ctx.elf_with(
        "ApexTrigger",
        &["TRIGGER_NAME", "TRIGGER_TYPE", "ENTITY_NAME", "EXEC_TIME"],
        &|| Grouped::new(3, 1),
    )?;
    if st.rows == 0 {
        return Ok(());
    }
    s.sources.push(drew_on("ApexTrigger (EventLogFile)", &st));
    s.figures.push(fig("trigger executions", g.total));
    let spec = Spec {
        id: "apex_triggers",
        title: "Triggers by executions",
        keys: &["trigger", "type", "entity"],
        count: "executions",
        stats: &[
            ("avg exec time ms", Stat::Avg(0)),
            ("max exec time ms", Stat::Max(0)),
        ],
        rank: Rank::Count,
        bars: Some(3),
    };
    s.tables.push(table(&spec, g, ctx.opts.top));
    span.merge(&st);
    Ok(())
}

/// A page type: its EventLogFile type, the page field then the timings it reads, and its table.
struct Pages {
    event_type: &'static str,
    fields: &'static [&'static str],
    spec: Spec<'static>,
}

const VISUALFORCE: Pages = Pages {
    event_type: "VisualforceRequest",
    fields: &["PAGE_NAME", "RUN_TIME", "CPU_TIME", "VIEW_STATE_SIZE"],
    spec: Spec {
        id: "apex_visualforce_pages",
        title: "Slowest Visualforce pages (average run time)",
        keys: &["page"],
        count: "requests",
        stats: &[
            ("avg run time ms", Stat::Avg(0)),
            ("avg cpu time ms", Stat::Avg(1)),
            ("avg view state bytes", Stat::Avg(2)),
        ],
        rank: Rank::Avg(0),
        bars: Some(2),
    },
};

const LIGHTNING: Pages = Pages {
    event_type: "LightningPageView",
    fields: &["PAGE_CONTEXT", "EFFECTIVE_PAGE_TIME"],
    spec: Spec {
        id: "apex_lightning_pages",
        title: "Slowest Lightning pages (average effective page time)",
        keys: &["page context"],
        count: "page views",
        stats: &[
            ("avg page time ms", Stat::Avg(0)),
            ("max page time ms", Stat::Max(0)),
        ],
        rank: Rank::Avg(0),
        bars: Some(2),
    },
};

/// The slowest pages of one page type, grouped by page.
fn pages(ctx: &Ctx, s: &mut Section, span: &mut ScanStats, p: &Pages) -> Result<(), ReportError> {
    let measures = p.fields.len() - 1;
    let (g, st) = ctx.elf_with(p.event_type, p.fields, &|| Grouped::new(1, measures))?;
    if st.rows == 0 {
        return Ok(());
    }
    s.sources
        .push(drew_on(&format!("{} (EventLogFile)", p.event_type), &st));
    s.tables.push(table(&p.spec, g, ctx.opts.top));
    span.merge(&st);
    Ok(())
}
