//! Real-Time Event Monitoring storage objects (LoginEvent, LogoutEvent, ApiEvent, ...): big
//! objects that may only be filtered and ordered on EventDate, newest first.
//!
//! Bounded windows `(start, end]` on EventDate, up to now less a settle delay, each read
//! across all its pages. Every run re-reads a look-back stretch before the cursor, because
//! Salesforce stores some events late; EventIdentifier de-duplicates across window edges,
//! look-backs and re-runs. The cursor (the end of the last whole window) never skips a window
//! that failed.
//!
//! Windows fit the data: a window that comes back sparse doubles the next one, with no bound
//! but the range left, so a 180-day backfill of a quiet object costs about a dozen queries
//! rather than one per hour. A window that holds too many rows shrinks to what its totalSize
//! says fits, and one that times out is halved.

use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Duration, Utc};

use super::records::{soql_time, ObjectCtx, ObjectReport};
use crate::client::ApiError;
use crate::config::ObjectConfig;
use archive::normalize::{iso, parse_sf_datetime};
use archive::state::Cursor;

const CURSOR_KEY: &str = "EventDate";
/// Windows are not halved below this.
const MIN_WINDOW_SECS: i64 = 60;

fn local(e: impl std::fmt::Display) -> ApiError {
    ApiError::Local(e.to_string())
}

enum WindowEnd {
    /// Read whole; the query's totalSize.
    Done(u64),
    /// Too big: the query's totalSize. Shrink and try again.
    TooLarge(u64),
}

/// Windows never grow past this: more than the 180 days Salesforce keeps these objects.
const MAX_WINDOW_SECS: i64 = 400 * 86_400;

/// What a window aims to hold, as a share of `max_rows`: near the bound, so a dense object
/// costs about one query per 2,000-row page, with room for the density to vary.
fn target_rows(max_rows: u64) -> f64 {
    max_rows as f64 * 0.75
}

/// The next window after one of `window` seconds held `rows`: scaled towards the target at the
/// same density, by at most double (the density ahead is unknown) and never smaller.
fn grown(window: i64, rows: u64, max_rows: u64, bound: Option<i64>) -> i64 {
    let factor = (target_rows(max_rows) / rows.max(1) as f64).clamp(1.0, 2.0);
    let bound = bound.unwrap_or(MAX_WINDOW_SECS).min(MAX_WINDOW_SECS);
    ((window as f64 * factor) as i64).min(bound)
}

/// A window of `window` seconds held `total` rows, more than `max_rows`: the size that holds
/// the target at the same density, and at most half the window.
fn shrunk(window: i64, total: u64, max_rows: u64) -> i64 {
    let fit = (window as f64 * target_rows(max_rows) / total.max(1) as f64) as i64;
    fit.min(window / 2).max(MIN_WINDOW_SECS)
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
        let rows = match result {
            Ok(WindowEnd::Done(rows)) => rows,
            Ok(WindowEnd::TooLarge(total)) => {
                // The window actually asked for, look-back and sliver included.
                let asked = (end - start).num_seconds();
                first_extra = 0;
                window = shrunk(asked, total, cfg.max_rows_per_window);
                tracing::info!(
                    source,
                    window_secs = window,
                    "a window holds {total} rows, more than {}; shrinking the window",
                    cfg.max_rows_per_window
                );
                continue;
            }
            // Its HTTP status is not documented: a 400 comes back as Status, a 5xx (retried
            // first) as Transient.
            Err(ApiError::Status { code: m, .. } | ApiError::Transient(m))
                if m.contains("QUERY_TIMEOUT") && can_shrink =>
            {
                first_extra = 0;
                window = ((end - start).num_seconds() / 2).max(MIN_WINDOW_SECS);
                tracing::info!(
                    source,
                    window_secs = window,
                    "query timed out; halving the window"
                );
                continue;
            }
            Err(e) => return Err(e),
        };
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
        // Sparse windows grow without bound but the range left (`end.min(limit)` above).
        window = grown(
            (end - start).num_seconds().max(window),
            rows,
            cfg.max_rows_per_window,
            cfg.max_window_secs,
        );
        start = end;
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
                too_large = Some(total);
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
        (_, Some(total)) => Ok(WindowEnd::TooLarge(total)),
        (Ok(total), None) => Ok(WindowEnd::Done(total)),
        (Err(e), None) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_windows_double_and_dense_ones_hold_near_the_bound() {
        // Empty and sparse windows double.
        assert_eq!(grown(3600, 0, 50_000, None), 7200);
        assert_eq!(grown(3600, 100, 50_000, None), 7200);
        // A window at 30,000 rows grows towards 37,500, not past it.
        assert_eq!(grown(3600, 30_000, 50_000, None), 4500);
        // Past the target it keeps its size.
        assert_eq!(grown(3600, 45_000, 50_000, None), 3600);
        // Bounded by the configured maximum and by MAX_WINDOW_SECS.
        assert_eq!(grown(3600, 0, 50_000, Some(5000)), 5000);
        assert_eq!(grown(MAX_WINDOW_SECS, 0, 50_000, None), MAX_WINDOW_SECS);
    }

    #[test]
    fn too_large_windows_shrink_to_fit_at_the_same_density() {
        // 200,000 rows in 100 days: 37,500 rows is 18.75 days.
        assert_eq!(shrunk(100 * 86_400, 200_000, 50_000), 1_620_000);
        // Just over the bound: at most half.
        assert_eq!(shrunk(3600, 50_001, 50_000), 1800);
        // Never below the minimum.
        assert_eq!(shrunk(120, 1_000_000, 50_000), MIN_WINDOW_SECS);
    }
}
