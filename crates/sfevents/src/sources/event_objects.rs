//! Real-Time Event Monitoring storage objects (LoginEvent, LogoutEvent, ApiEvent, ...): big
//! objects that may only be filtered and ordered on EventDate, newest first.
//!
//! Bounded windows `(start, end]` on EventDate, up to now less a settle delay, each read
//! across all its pages. Every run re-reads a look-back stretch before the cursor, because
//! Salesforce stores some events late; EventIdentifier de-duplicates across window edges,
//! look-backs and re-runs. A window that times out or holds too many rows is halved, and grows
//! back after it succeeds. The cursor (the end of the last whole window) never skips a window
//! that failed.

use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Duration, Utc};

use super::records::{soql_time, ObjectCtx, ObjectReport};
use crate::client::ApiError;
use crate::config::ObjectConfig;
use crate::normalize::{iso, parse_sf_datetime};
use crate::state::Cursor;

const CURSOR_KEY: &str = "EventDate";
/// Windows are not halved below this.
const MIN_WINDOW_SECS: i64 = 60;

fn local(e: impl std::fmt::Display) -> ApiError {
    ApiError::Local(e.to_string())
}

enum WindowEnd {
    Done,
    /// Too big: halve and try again.
    TooLarge(String),
}

pub async fn collect(
    ctx: &ObjectCtx,
    cfg: &ObjectConfig,
    max_windows: Option<u32>,
    now: DateTime<Utc>,
    stop: &AtomicBool,
) -> Result<ObjectReport, ApiError> {
    let source = cfg.name.as_str();
    let mut fields = ctx.fields(source, &cfg.fields).await?;
    for must in ["EventDate", "EventIdentifier"] {
        if !fields.iter().any(|f| f.eq_ignore_ascii_case(must)) {
            fields.push(must.to_string());
        }
    }
    let select = fields.join(", ");
    let limit = now - Duration::seconds(cfg.settle_secs);
    let stored = ctx
        .store
        .cursor(&ctx.org, source, CURSOR_KEY)
        .map_err(local)?
        .and_then(|c| parse_sf_datetime(&c.position));
    let mut progress = stored;
    // The look-back never reaches past the backfill bound.
    let backfill_start = now - Duration::days(i64::from(cfg.backfill_days));
    let mut start = match stored {
        Some(p) => (p - Duration::seconds(cfg.lookback_secs)).max(backfill_start),
        None => backfill_start,
    };
    let mut window = cfg.window_secs;
    // The look-back is read in the run's first window, widened to hold it: an hourly run with
    // 60-minute windows then spends one query, not two.
    let mut first_extra = stored.map_or(0, |p| (p - start).num_seconds().max(0));
    let mut report = ObjectReport::default();
    while start < limit {
        if stop.load(Ordering::SeqCst)
            || max_windows.is_some_and(|m| report.windows >= u64::from(m))
        {
            return Ok(report);
        }
        let mut end = start + Duration::seconds(window + first_extra);
        // Cycles come a little more than `every` apart: a sliver left after this window would
        // cost a query of its own, so the window stretches over it.
        if limit - end < Duration::seconds(window / 4) {
            end = limit;
        }
        let end = end.min(limit);
        let soql = format!(
            "SELECT {select} FROM {source} WHERE EventDate > {} AND EventDate <= {} ORDER BY EventDate DESC",
            soql_time(&start),
            soql_time(&end)
        );
        let can_shrink = window > MIN_WINDOW_SECS;
        let result = run_window(ctx, cfg, &soql, can_shrink, &mut report).await;
        match result {
            Ok(WindowEnd::Done) => {}
            Ok(WindowEnd::TooLarge(why)) => {
                first_extra = 0;
                window = (window / 2).max(MIN_WINDOW_SECS);
                tracing::info!(source, window_secs = window, "{why}; halving the window");
                continue;
            }
            // Its HTTP status is not documented: a 400 comes back as Status, a 5xx (retried
            // first) as Transient.
            Err(ApiError::Status { code: m, .. } | ApiError::Transient(m))
                if m.contains("QUERY_TIMEOUT") && can_shrink =>
            {
                first_extra = 0;
                window = (window / 2).max(MIN_WINDOW_SECS);
                tracing::info!(
                    source,
                    window_secs = window,
                    "query timed out; halving the window"
                );
                continue;
            }
            Err(e) => return Err(e),
        }
        report.windows += 1;
        first_extra = 0;
        // The look-back windows lie behind the cursor: it only ever moves forward.
        if progress.is_none_or(|p| end > p) {
            progress = Some(end);
            let cur = Cursor {
                position: iso(&end),
                last_id: String::new(),
                extra: None,
            };
            ctx.store
                .set_cursor(&ctx.org, source, CURSOR_KEY, &cur)
                .map_err(local)?;
        }
        start = end;
        window = (window * 2).min(cfg.window_secs);
    }
    report.caught_up = true;
    // Ids older than the look-back can never be read again.
    if let Some(p) = progress {
        let horizon = p - Duration::seconds(cfg.lookback_secs) - Duration::hours(1);
        ctx.store
            .purge_seen(&ctx.org, source, &iso(&horizon))
            .map_err(local)?;
    }
    Ok(report)
}

async fn run_window(
    ctx: &ObjectCtx,
    cfg: &ObjectConfig,
    soql: &str,
    can_shrink: bool,
    report: &mut ObjectReport,
) -> Result<WindowEnd, ApiError> {
    let source = cfg.name.as_str();
    let mut too_large = None;
    let r = ctx
        .client
        .query_pages(soql, |records, total| {
            if can_shrink && total > cfg.max_rows_per_window {
                too_large = Some(format!(
                    "a window holds {total} rows, more than {}",
                    cfg.max_rows_per_window
                ));
                return Err(ApiError::Local("window too large".into()));
            }
            // Each page is committed as it comes: a failure on a later page keeps it, and
            // the window is read again (its ids de-duplicate) with the cursor unmoved.
            let new = ctx.write_page(source, &records, &["EventIdentifier"], "EventDate")?;
            ctx.commit(source, &new, None)?;
            report.events += new.seen.len() as u64;
            report.pages += 1;
            Ok(())
        })
        .await;
    match (r, too_large) {
        (_, Some(why)) => Ok(WindowEnd::TooLarge(why)),
        (Ok(_), None) => Ok(WindowEnd::Done),
        (Err(e), None) => Err(e),
    }
}
