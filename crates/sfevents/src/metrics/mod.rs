//! `sfevents run --metrics-addr`: Prometheus metrics on `/metrics` and health on `/health`.
//!
//! Most numbers already live in `state.db` (what each source archived, each output's
//! position and counters, its backlog) or in the org's `ApiStats` (calls spent, the usage
//! Salesforce reports), so a scrape reads them there rather than keeping copies that could
//! drift. Only what exists nowhere else is kept here, in `Live`: each org's last cycle
//! (health), its failed units and its cycle outcomes.
//!
//! `Live` is a process-wide registry, like `state::commits()`: `run`'s org loops record into
//! it whether or not a server is started, which costs a lock per cycle.
//!
//! The text format is written by hand (`page.rs`, filled by `text.rs`): it is a few lines of `# HELP`,
//! `# TYPE` and samples, and a client library would add a dependency and still need the
//! numbers copied into it at every scrape.

use std::net::SocketAddr;
use std::path::Path;

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;

mod live;
mod page;
mod streams;
mod text;

use live::StoresRef;
pub use live::{live, Health, Live};

/// `--metrics-addr` (or `metrics_addr`) bound, if given: a bad or busy address is found
/// before collection starts.
pub async fn listener(
    flag: Option<&str>,
    config: Option<&Path>,
) -> anyhow::Result<Option<tokio::net::TcpListener>> {
    let Some(addr) = salesforce::config::resolve_metrics_addr(flag, config)? else {
        return Ok(None);
    };
    bind(addr).await.map(Some)
}

async fn bind(addr: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    use anyhow::Context;
    tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("--metrics-addr {addr}: cannot listen"))
}

/// The Prometheus text format's content type (exposition format 0.0.4).
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Serves `/metrics` and `/health` until `stop` turns true.
pub async fn serve(
    listener: tokio::net::TcpListener,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let stores = StoresRef::default();
    let app = axum::Router::new()
        .route(
            "/metrics",
            axum::routing::get(move || {
                let stores = stores.clone();
                async move { metrics(stores).await }
            }),
        )
        .route("/health", axum::routing::get(health));
    let shutdown = async move {
        while !*stop.borrow() {
            if stop.changed().await.is_err() {
                break;
            }
        }
    };
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        tracing::error!("metrics server: {e}");
    }
}

async fn metrics(stores: StoresRef) -> axum::response::Response {
    // SQLite reads block: off the async threads.
    let text = tokio::task::spawn_blocking(move || text::render(live(), &stores)).await;
    match text {
        Ok(t) => ([(header::CONTENT_TYPE, TEXT_FORMAT)], t).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn health() -> axum::response::Response {
    let (ok, body) = live().health();
    let code = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, axum::Json(body)).into_response()
}
