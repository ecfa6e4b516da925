//! The `/__sim/*` admin API (no auth): state, faults, clock, API counter, limits, files.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{ok_json, Shared, Visibility};
use crate::Faults;

pub async fn state(State(s): State<Arc<Shared>>) -> Response {
    let now = s.now();
    let (mut visible, mut future, mut expired) = (0u64, 0u64, 0u64);
    for f in &s.org.files {
        match s.visibility(f, now) {
            Visibility::Visible => visible += 1,
            Visibility::Future => future += 1,
            Visibility::Expired => expired += 1,
        }
    }
    let objects: serde_json::Map<String, Value> = s
        .org
        .objects()
        .iter()
        .map(|o| {
            let total = s.org.object_records(o).len();
            let visible = s.visible_object_records(o, now).count();
            let queries = s.query_requests(o);
            (
                o.to_string(),
                json!({ "total": total, "visible": visible, "query_requests": queries }),
            )
        })
        .collect();
    ok_json(json!({
        "now": soql::format_datetime(&now),
        "api_calls": s.api_calls(),
        "daily_api_limit": s.daily_api_limit(),
        "faults": s.faults(),
        "org_id": s.org.org_id,
        "api_version": s.api_version,
        "retention_days": s.retention_days,
        "files": {
            "total": s.org.files.len(),
            "visible": visible,
            "future": future,
            "expired": expired,
        },
        "objects": objects,
    }))
}

pub async fn files(State(s): State<Arc<Shared>>) -> Response {
    let now = s.now();
    let list: Vec<Value> = s
        .org
        .files
        .iter()
        .map(|f| {
            let vis = s.visibility(f, now);
            json!({
                "id": f.id,
                "event_type": f.event_type,
                "log_date": soql::format_datetime(&f.log_date),
                "interval": f.interval.as_str(),
                "sequence": f.sequence,
                "created_date": soql::format_datetime(&f.created_date),
                "row_count": f.row_count,
                "visible": vis == Visibility::Visible,
                "state": vis.as_str(),
            })
        })
        .collect();
    ok_json(Value::Array(list))
}

pub async fn get_faults(State(s): State<Arc<Shared>>) -> Response {
    ok_json(json!(s.faults()))
}

fn bad(msg: String) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": msg }))).into_response()
}

pub async fn set_faults(State(s): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let faults: Faults = if body.iter().all(u8::is_ascii_whitespace) {
        Faults::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(f) => f,
            Err(e) => return bad(format!("invalid faults: {e}")),
        }
    };
    tracing::info!(?faults, "faults set");
    s.set_faults(faults);
    ok_json(json!(s.faults()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockBody {
    advance_secs: u64,
}

pub async fn clock(State(s): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let b: ClockBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => return bad(format!("invalid clock body: {e}")),
    };
    s.clock.advance(Duration::from_secs(b.advance_secs));
    tracing::info!(advance_secs = b.advance_secs, "clock advanced");
    ok_json(json!({ "now": soql::format_datetime(&s.now()) }))
}

pub async fn reset_api_calls(State(s): State<Arc<Shared>>) -> Response {
    s.reset_api_calls();
    ok_json(json!({ "api_calls": 0 }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsBody {
    daily_api_limit: u64,
}

pub async fn limits(State(s): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let b: LimitsBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => return bad(format!("invalid limits body: {e}")),
    };
    s.set_daily_api_limit(b.daily_api_limit);
    ok_json(json!({ "daily_api_limit": b.daily_api_limit, "api_calls": s.api_calls() }))
}
