//! The `/__receiver/…` endpoints every receiver with [`Faults`] serves, outside anything the
//! product serves. They need no credentials and meet no faults.
//!
//! - `GET /__receiver/faults`, `POST /__receiver/faults` (a [`Faults`] JSON; replaces them)
//! - `GET /__receiver/stats`: the receiver's counters
//! - `GET /__receiver/attempts`: every delivery attempt by event id ([`super::attempts`])
//! - `POST /__receiver/reset`: forgets what was stored, the counters, the attempts and the
//!   faults

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::attempts::Attempts;
use super::body::{decode, encoding_of};
use super::faults::Faults;

/// What the shared admin endpoints need from a receiver's state.
pub trait AdminState: Send + Sync + 'static {
    fn faults(&self) -> Faults;
    fn set_faults(&self, faults: Faults);
    fn stats_json(&self) -> Value;
    fn attempts(&self) -> Attempts;
    fn reset(&self);
}

pub fn router<S: AdminState>() -> Router<Arc<S>> {
    Router::new()
        .route(
            "/__receiver/faults",
            get(get_faults::<S>).post(set_faults::<S>),
        )
        .route("/__receiver/stats", get(stats::<S>))
        .route("/__receiver/attempts", get(attempts::<S>))
        .route("/__receiver/reset", post(reset::<S>))
}

async fn get_faults<S: AdminState>(State(s): State<Arc<S>>) -> Response {
    Json(s.faults()).into_response()
}

async fn set_faults<S: AdminState>(
    State(s): State<Arc<S>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match json_body::<Faults>(&headers, &body) {
        Ok(f) => {
            s.set_faults(f.clone());
            Json(f).into_response()
        }
        Err(e) => bad_request(format!("invalid faults: {e}")),
    }
}

async fn stats<S: AdminState>(State(s): State<Arc<S>>) -> Response {
    Json(s.stats_json()).into_response()
}

async fn attempts<S: AdminState>(State(s): State<Arc<S>>) -> Response {
    Json(s.attempts().to_json()).into_response()
}

async fn reset<S: AdminState>(State(s): State<Arc<S>>) -> Response {
    s.reset();
    Json(json!({ "reset": true })).into_response()
}

/// A JSON admin body, gzip or not.
pub fn json_body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<T, String> {
    let decoded = decode(body, &encoding_of(headers), 16 << 20).map_err(|e| format!("{e:?}"))?;
    serde_json::from_slice(decoded.as_deref().unwrap_or(body)).map_err(|e| e.to_string())
}

pub fn bad_request(error: String) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": error }))).into_response()
}
