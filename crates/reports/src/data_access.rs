//! `data-access` (R7, R8, R9): report runs and exports, rows extracted through the APIs per
//! user and entity, and file downloads — whichever of these the archive holds.

use crate::grouped::{table, Grouped, Rank, Spec, Stat};
use crate::ledger::{Acc, ScanStats};
use crate::model::Section;
use crate::tables::fig;
use crate::users::Directory;
use crate::{drew_on, empty_section, Ctx, ReportError};

pub fn build(ctx: &Ctx) -> Result<(Section, ScanStats), ReportError> {
    let mut s = Section::new("data-access", "Data access and exports");
    let mut span = ScanStats::default();
    // Report, API and file events name users by id only.
    let users = Directory::load(ctx)?;
    report_runs(ctx, &mut s, &mut span)?;
    report_exports(ctx, &mut s, &mut span)?;
    report_events(ctx, &mut s, &mut span)?;
    api_rows(ctx, &mut s, &mut span)?;
    downloads(ctx, &mut s, &mut span)?;
    for t in &mut s.tables {
        if t.columns.first().is_some_and(|c| c.name == "user id") {
            users.relabel(t, 0, "user");
        }
    }
    if s.tables.is_empty() {
        let e = empty_section(
            "data-access",
            "Data access and exports",
            "Report, ReportExport, ReportEvent, API, RestApi, BulkApiRequest, ApiEvent, ContentTransfer or DocumentAttachmentDownloads",
            vec!["none of the data-access types in the period".into()],
        );
        return Ok((e, span));
    }
    Ok((s, span))
}

/// Report runs: who ran which reports and how many rows they returned.
fn report_runs(ctx: &Ctx, s: &mut Section, span: &mut ScanStats) -> Result<(), ReportError> {
    let n = ctx.opts.top;
    let (g, st) = ctx.elf_with("Report", &["USER_ID", "ROW_COUNT"], &|| Grouped::new(1, 1))?;
    if st.rows == 0 {
        return Ok(());
    }
    s.sources.push(drew_on("Report (EventLogFile)", &st));
    s.figures.push(fig("report runs", g.total));
    let spec = Spec {
        id: "data_access_report_runs_by_user",
        title: "Report runs by user (rows returned)",
        keys: &["user id"],
        count: "runs",
        stats: &[("rows", Stat::Sum(0)), ("max rows", Stat::Max(0))],
        rank: Rank::Sum(0),
        bars: Some(2),
    };
    s.tables.push(table(&spec, g, n));
    let (g, _) = ctx.elf_with("Report", &["REPORT_ID_DERIVED", "ROW_COUNT"], &|| {
        Grouped::new(1, 1)
    })?;
    let spec = Spec {
        id: "data_access_reports",
        title: "Reports returning the most rows",
        keys: &["report id"],
        count: "runs",
        stats: &[("rows", Stat::Sum(0))],
        rank: Rank::Sum(0),
        bars: Some(2),
    };
    s.tables.push(table(&spec, g, n));
    span.merge(&st);
    Ok(())
}

fn report_exports(ctx: &Ctx, s: &mut Section, span: &mut ScanStats) -> Result<(), ReportError> {
    let (g, st) = ctx.elf_with("ReportExport", &["USER_ID", "REPORT_DESCRIPTION"], &|| {
        Grouped::new(2, 0)
    })?;
    if st.rows == 0 {
        return Ok(());
    }
    s.sources.push(drew_on("ReportExport (EventLogFile)", &st));
    s.figures.push(fig("report exports", g.total));
    let spec = Spec {
        id: "data_access_report_exports",
        title: "Report exports by user",
        keys: &["user id", "report"],
        count: "exports",
        stats: &[],
        rank: Rank::Count,
        bars: Some(2),
    };
    s.tables.push(table(&spec, g, ctx.opts.top));
    span.merge(&st);
    Ok(())
}

fn report_events(ctx: &Ctx, s: &mut Section, span: &mut ScanStats) -> Result<(), ReportError> {
    let (g, st) = ctx.object_with(
        "ReportEvent",
        &["Username", "ReportId", "RowsProcessed"],
        &|| Grouped::new(2, 1),
    )?;
    if st.rows == 0 {
        return Ok(());
    }
    s.sources.push(drew_on("ReportEvent", &st));
    let spec = Spec {
        id: "data_access_report_events",
        title: "Reports viewed or exported (ReportEvent), by rows processed",
        keys: &["user", "report id"],
        count: "events",
        stats: &[("rows processed", Stat::Sum(0))],
        rank: Rank::Sum(0),
        bars: Some(3),
    };
    s.tables.push(table(&spec, g, ctx.opts.top));
    span.merge(&st);
    Ok(())
}

/// Rows extracted through the APIs, per user and entity, over every API type the archive
/// holds.
fn api_rows(ctx: &Ctx, s: &mut Section, span: &mut ScanStats) -> Result<(), ReportError> {
    let mut api_rows = Grouped::new(2, 1);
    let mut api_sources = Vec::new();
    for ty in ["API", "RestApi", "BulkApiRequest"] {
        let (g, st) = ctx.elf_with(ty, &["USER_ID", "ENTITY_NAME", "ROWS_PROCESSED"], &|| {
            Grouped::new(2, 1)
        })?;
        if st.rows > 0 {
            api_sources.push(drew_on(&format!("{ty} (EventLogFile)"), &st));
            api_rows.merge(g);
            span.merge(&st);
        }
    }
    let (g, st) = ctx.object_with(
        "ApiEvent",
        &["Username", "QueriedEntities", "RowsProcessed"],
        &|| Grouped::new(2, 1),
    )?;
    if st.rows > 0 {
        api_sources.push(drew_on("ApiEvent", &st));
        api_rows.merge(g);
        span.merge(&st);
    }
    if api_sources.is_empty() {
        return Ok(());
    }
    s.sources.extend(api_sources);
    let total_rows: f64 = api_rows
        .per
        .iter()
        .map(|(_, m)| m.m.first().map_or(0.0, |t| t.sum))
        .sum();
    s.figures
        .push(fig("rows through the APIs", total_rows as i64));
    let spec = Spec {
        id: "data_access_api_rows",
        title: "Rows extracted through the APIs, by user and entity",
        keys: &["user id", "entity"],
        count: "calls",
        stats: &[
            ("rows", Stat::Sum(0)),
            ("max rows in one call", Stat::Max(0)),
        ],
        rank: Rank::Sum(0),
        bars: Some(3),
    };
    s.tables.push(table(&spec, api_rows, ctx.opts.top));
    Ok(())
}

/// File downloads, one table per download type.
fn downloads(ctx: &Ctx, s: &mut Section, span: &mut ScanStats) -> Result<(), ReportError> {
    for (ty, fields) in [
        (
            "ContentTransfer",
            ["USER_ID", "TRANSACTION_TYPE", "SIZE_BYTES"],
        ),
        ("DocumentAttachmentDownloads", ["USER_ID", "FILE_NAME", "-"]),
    ] {
        let (g, st) = ctx.elf_with(ty, &fields, &|| Grouped::new(2, 1))?;
        if st.rows == 0 {
            continue;
        }
        s.sources
            .push(drew_on(&format!("{ty} (EventLogFile)"), &st));
        let id = format!("data_access_{}", ty.to_ascii_lowercase());
        let title = format!("File downloads ({ty})");
        let spec = Spec {
            id: &id,
            title: &title,
            keys: &[
                "user id",
                if ty == "ContentTransfer" {
                    "transaction"
                } else {
                    "file"
                },
            ],
            count: "downloads",
            stats: &[],
            rank: Rank::Count,
            bars: Some(2),
        };
        s.tables.push(table(&spec, g, ctx.opts.top));
        span.merge(&st);
    }
    Ok(())
}
