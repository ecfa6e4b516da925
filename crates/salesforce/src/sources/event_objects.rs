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

pub(crate) const CURSOR_KEY: &str = "EventDate";
/// Ids of events older than this can come from no stream (Pub/Sub retention is 72 hours):
/// a streamed object keeps its ids this long (see `sources::streaming`).
pub const STREAMABLE_DAYS: i64 = 4;
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
    let select = select_list(ctx, cfg).await?;
    let limit = now - Duration::seconds(cfg.settle_secs);
    let stored = ctx
        .store
        .cursor(&ctx.org, source, CURSOR_KEY)
        .map_err(local)?
        .and_then(|c| parse_sf_datetime(&c.position));
    let mut walk = Walk::new(cfg, stored, now);
    let mut report = ObjectReport::default();
    while walk.start < limit {
        if stop.load(Ordering::SeqCst)
            || max_windows.is_some_and(|m| report.windows >= u64::from(m))
        {
            return Ok(report);
        }
        let end = walk.end(limit);
        let soql = format!(
            "SELECT {select} FROM {source} WHERE EventDate > {} AND EventDate <= {} ORDER BY EventDate DESC",
            soql_time(&walk.start),
            soql_time(&end)
        );
        let can_shrink = walk.window > MIN_WINDOW_SECS;
        let rows = match run_window(ctx, cfg, &soql, can_shrink, &mut report).await {
            Ok(WindowEnd::Done(rows)) => rows,
            Ok(WindowEnd::TooLarge(total)) => {
                walk.too_large(end, total, cfg.max_rows_per_window);
                tracing::info!(
                    source,
                    window_secs = walk.window,
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
                walk.timed_out(end);
                tracing::info!(
                    source,
                    window_secs = walk.window,
                    "query timed out; halving the window"
                );
                continue;
            }
            Err(e) => return Err(e),
        };
        report.windows += 1;
        if let Some(cursor) = walk.read(end, rows, cfg) {
            let cur = Cursor {
                position: iso(&cursor),
                last_id: String::new(),
                extra: None,
            };
            ctx.store
                .set_cursor(&ctx.org, source, CURSOR_KEY, &cur)
                .map_err(local)?;
        }
    }
    report.caught_up = true;
    if let Some(p) = walk.progress {
        purge_seen(ctx, cfg, p, now)?;
    }
    Ok(report)
}

/// Forgets ids older than the look-back (from `progress`): they can never be read again,
/// unless a stream of the object delivers them, which may start again from its earliest
/// retained event.
fn purge_seen(
    ctx: &ObjectCtx,
    cfg: &ObjectConfig,
    progress: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let mut horizon = progress - Duration::seconds(cfg.lookback_secs) - Duration::hours(1);
    if cfg.streamed {
        horizon = horizon.min(now - Duration::days(STREAMABLE_DAYS));
    }
    ctx.store
        .purge_seen(&ctx.org, &cfg.name, &iso(&horizon))
        .map_err(local)?;
    Ok(())
}

/// The fields to select: the configured or described ones, with the two the walk needs.
async fn select_list(ctx: &ObjectCtx, cfg: &ObjectConfig) -> Result<String, ApiError> {
    let mut fields = ctx.fields(&cfg.name, &cfg.fields).await?;
    for must in ["EventDate", "EventIdentifier"] {
        if !fields.iter().any(|f| f.eq_ignore_ascii_case(must)) {
            fields.push(must.to_string());
        }
    }
    Ok(fields.join(", "))
}

/// Where one run's walk over EventDate stands.
struct Walk {
    /// The next window starts after this.
    start: DateTime<Utc>,
    /// The next window's size in seconds.
    window: i64,
    /// Seconds the next window is widened by to hold the look-back (the first window only).
    first_extra: i64,
    /// The cursor: the end of the last window read whole, never behind the stored one.
    progress: Option<DateTime<Utc>>,
}

impl Walk {
    fn new(cfg: &ObjectConfig, stored: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Walk {
        // The look-back never reaches past the backfill bound.
        let backfill_start = now - Duration::days(i64::from(cfg.backfill_days));
        let start = match stored {
            Some(p) => (p - Duration::seconds(cfg.lookback_secs)).max(backfill_start),
            None => backfill_start,
        };
        Walk {
            start,
            window: cfg.window_secs,
            // The look-back is read in the run's first window, widened to hold it: an hourly
            // run with 60-minute windows then spends one query, not two.
            first_extra: stored.map_or(0, |p| (p - start).num_seconds().max(0)),
            progress: stored,
        }
    }

    /// The end of the next window.
    fn end(&self, limit: DateTime<Utc>) -> DateTime<Utc> {
        let end = self.start + Duration::seconds(self.window + self.first_extra);
        // Cycles come a little more than `every` apart: a sliver left after this window would
        // cost a query of its own, so the window stretches over it.
        if limit - end < Duration::seconds(self.window / 4) {
            return limit;
        }
        end.min(limit)
    }

    /// The window up to `end` held `total` rows, more than `max_rows`: the next try is
    /// smaller, sized on the window actually asked for (look-back and sliver included).
    fn too_large(&mut self, end: DateTime<Utc>, total: u64, max_rows: u64) {
        let asked = (end - self.start).num_seconds();
        self.first_extra = 0;
        self.window = shrunk(asked, total, max_rows);
    }

    /// The window up to `end` timed out: the next try is half of it.
    fn timed_out(&mut self, end: DateTime<Utc>) {
        self.first_extra = 0;
        self.window = ((end - self.start).num_seconds() / 2).max(MIN_WINDOW_SECS);
    }

    /// The window up to `end` was read whole and held `rows`: the next one starts there.
    /// Returns the cursor to store when it moved; the look-back windows lie behind it, and it
    /// only ever moves forward.
    fn read(&mut self, end: DateTime<Utc>, rows: u64, cfg: &ObjectConfig) -> Option<DateTime<Utc>> {
        self.first_extra = 0;
        let moved = self.progress.is_none_or(|p| end > p);
        if moved {
            self.progress = Some(end);
        }
        // Sparse windows grow without bound but the range left (`end` stops at the limit).
        self.window = grown(
            (end - self.start).num_seconds().max(self.window),
            rows,
            cfg.max_rows_per_window,
            cfg.max_window_secs,
        );
        self.start = end;
        moved.then_some(end)
    }
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
            let _page = ctx.page_lock();
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
