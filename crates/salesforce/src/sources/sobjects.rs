//! SetupAuditTrail, LoginHistory and any SObject: read oldest first by `(date field, Id)`,
//! from the cursor less a look-back, de-duplicated by Id. Each page is committed with the
//! cursor at its last record, so rows sharing one timestamp are neither skipped nor repeated.

use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Duration, Utc};

use super::records::{soql_time, ObjectCtx, ObjectReport};
use crate::client::ApiError;
use crate::config::ObjectConfig;
use archive::normalize::{iso, parse_sf_datetime};
use archive::state::Cursor;

fn local(e: impl std::fmt::Display) -> ApiError {
    ApiError::Local(e.to_string())
}

/// The date field the cursor follows.
pub fn cursor_field(cfg: &ObjectConfig, fields: &[String]) -> String {
    if let Some(f) = &cfg.cursor_field {
        return f.clone();
    }
    let has = |n: &str| fields.iter().any(|f| f.eq_ignore_ascii_case(n));
    if cfg.name.eq_ignore_ascii_case("LoginHistory") {
        "LoginTime".into()
    } else if cfg.name.eq_ignore_ascii_case("SetupAuditTrail") || !has("SystemModstamp") {
        "CreatedDate".into()
    } else {
        "SystemModstamp".into()
    }
}

/// What a run selects and how it names records.
struct Query {
    /// The cursor's date field.
    cursor_field: String,
    fields: Vec<String>,
    /// The de-duplication key: Id, or Id and the cursor field for records that change.
    key_fields: Vec<String>,
}

async fn query(ctx: &ObjectCtx, cfg: &ObjectConfig) -> Result<Query, ApiError> {
    let source = cfg.name.as_str();
    let mut fields = ctx.fields(source, &cfg.fields).await?;
    let cf = cursor_field(cfg, &fields);
    for must in ["Id", cf.as_str()] {
        if !fields.iter().any(|f| f.eq_ignore_ascii_case(must)) {
            fields.push(must.to_string());
        }
    }
    // Who made a Setup change is what people look for first.
    if cfg.fields.is_none() && source.eq_ignore_ascii_case("SetupAuditTrail") {
        fields.push("CreatedBy.Username".into());
    }
    // CreatedDate and LoginTime never change: Id names the event. A record followed by its
    // modification stamp is a new event at every change.
    let versioned = ["SystemModstamp", "LastModifiedDate"]
        .iter()
        .any(|f| f.eq_ignore_ascii_case(&cf));
    let key_fields = if versioned {
        vec!["Id".to_string(), cf.clone()]
    } else {
        vec!["Id".to_string()]
    };
    Ok(Query {
        cursor_field: cf,
        fields,
        key_fields,
    })
}

/// Why the page callback stopped the query: `stop` was set.
const STOPPING: &str = "stopping";

pub async fn collect(
    ctx: &ObjectCtx,
    cfg: &ObjectConfig,
    now: DateTime<Utc>,
    stop: &AtomicBool,
) -> Result<ObjectReport, ApiError> {
    let source = cfg.name.as_str();
    let q = query(ctx, cfg).await?;
    let cf = q.cursor_field.as_str();
    let key_fields: Vec<&str> = q.key_fields.iter().map(String::as_str).collect();
    // The cursor is stored under the name of the field it follows.
    let stored = ctx.store.cursor(&ctx.org, source, cf).map_err(local)?;
    let lower = match stored.as_ref().and_then(|c| parse_sf_datetime(&c.position)) {
        // The look-back never reaches past the backfill bound.
        Some(p) => (p - Duration::seconds(cfg.lookback_secs))
            .max(now - Duration::days(i64::from(cfg.backfill_days))),
        None => now - Duration::days(i64::from(cfg.backfill_days)),
    };
    let soql = format!(
        "SELECT {} FROM {source} WHERE {cf} >= {} ORDER BY {cf} ASC, Id ASC",
        q.fields.join(", "),
        soql_time(&lower)
    );
    let mut cursor = stored.and_then(|c| Some((parse_sf_datetime(&c.position)?, c.last_id)));
    let mut report = ObjectReport::default();
    let r = ctx
        .client
        .query_pages(&soql, |records, _| {
            if stop.load(Ordering::SeqCst) {
                return Err(ApiError::Local(STOPPING.into()));
            }
            let _page = ctx.page_lock();
            let new = ctx.write_page(source, &records, &key_fields, cf)?;
            let moved = page_end(&records, cf).filter(|l| cursor.as_ref().is_none_or(|c| l > c));
            let cur = moved.as_ref().map(|(t, id)| Cursor {
                position: iso(t),
                last_id: id.clone(),
                extra: None,
            });
            ctx.commit(source, &new, cur.as_ref().map(|c| (cf, c)))?;
            if moved.is_some() {
                cursor = moved;
            }
            report.events += new.seen.len() as u64;
            report.pages += 1;
            Ok(())
        })
        .await;
    match r {
        Ok(_) => {}
        Err(ApiError::Local(m)) if m == STOPPING => return Ok(report),
        Err(e) => return Err(e),
    }
    report.windows = 1;
    report.caught_up = true;
    if let Some((p, _)) = &cursor {
        let horizon = *p - Duration::seconds(cfg.lookback_secs) - Duration::hours(1);
        ctx.store
            .purge_seen(&ctx.org, source, &iso(&horizon))
            .map_err(local)?;
    }
    Ok(report)
}

/// The page's last record, in query order: where the next run may start.
fn page_end(
    records: &[serde_json::Map<String, serde_json::Value>],
    cf: &str,
) -> Option<(DateTime<Utc>, String)> {
    records.iter().rev().find_map(|r| {
        let t = parse_sf_datetime(r.get(cf)?.as_str()?)?;
        let id = r.get("Id")?.as_str()?.to_string();
        Some((t, id))
    })
}
