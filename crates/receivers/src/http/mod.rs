//! A plain HTTP receiver of newline-delimited logs for tests: it plays Sumo Logic's HTTP Logs
//! source (`POST https://<endpoint>/receiver/v1/http/<code>`, one log per line, gzip or
//! deflate, metadata in `X-Sumo-Category`/`X-Sumo-Name`/`X-Sumo-Host`/`X-Sumo-Fields`, at most
//! 1 MB per request uncompressed) or a generic webhook (a required header such as
//! `Authorization: Bearer …`).
//!
//! `POST` any path; each non-empty line is stored with the request's path and headers, so a
//! test can check the metadata a sender attached. A missing or wrong required header answers
//! 401, a decoded body over [`Config::max_body_bytes`] 413, an unknown `Content-Encoding` 415.
//! Faults ([`Faults`]) are set at run time.
//!
//! ```no_run
//! # async fn demo() -> Result<(), receivers::common::Error> {
//! use receivers::http::{self, Config};
//! let sumo = http::start(Config::default()).await?;
//! // ... point the sender at format!("{}/receiver/v1/http/XYZ", sumo.url()), then:
//! for l in sumo.lines() {
//!     println!("{:?} {}", l.header("x-sumo-category"), l.line);
//! }
//! # Ok(()) }
//! ```
//!
//! Every attempt of each event is counted by its id (the line's `id`, or `salesforce.event_id`
//! in ECS documents; [`crate::common::attempts`]), readable with [`Handle::attempts`].
//!
//! Admin endpoints (no auth, no faults): `GET|POST /__receiver/faults`, `GET /__receiver/stats`,
//! `GET /__receiver/attempts`, `POST /__receiver/reset`, `GET /__receiver/lines`.

mod ingest;

use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::common::admin::{self, AdminState};
use crate::common::server::{Listen, Server};
use crate::common::shared::ReceiverState;
pub use crate::common::{Attempt, Attempts, Error, FaultCounts, Faults};

/// Sumo Logic's HTTP source limit: 1 MB of uncompressed data per request.
pub const SUMO_MAX_BODY: u64 = 1 << 20;

/// How to run the receiver.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: String,
    /// 0 picks a free port.
    pub port: u16,
    /// Serve HTTPS with a generated CA (Sumo requires TLS 1.2+).
    pub tls: bool,
    /// Requests must carry this header (name, exact value), else 401.
    pub required_header: Option<(String, String)>,
    /// Decoded bodies larger than this answer 413.
    pub max_body_bytes: u64,
    /// Faults in force at start.
    pub faults: Faults,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: "127.0.0.1".into(),
            port: 0,
            tls: false,
            required_header: None,
            max_body_bytes: SUMO_MAX_BODY,
            faults: Faults::default(),
        }
    }
}

/// A stored line with the request it came in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredLine {
    /// The line without its LF (or CRLF); invalid UTF-8 is replaced.
    pub line: String,
    pub path: String,
    pub query: Option<String>,
    /// Request headers, names lowercased, in the order received.
    pub headers: Vec<(String, String)>,
    /// The request it came in, numbered from 1 in arrival order.
    pub request: u64,
}

impl StoredLine {
    /// A request header's (first) value, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The line parsed as JSON, when it is.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.line).ok()
    }
}

/// Counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// POST requests, whatever their answer.
    pub requests: u64,
    /// Lines stored.
    pub lines: u64,
    pub auth_failures: u64,
    pub requests_413: u64,
    /// Requests refused for their encoding or an unreadable body.
    pub rejected: u64,
    /// Requests with a compressed body.
    pub compressed_requests: u64,
    pub bytes_received: u64,
    pub bytes_decoded: u64,
    #[serde(flatten)]
    pub faults: FaultCounts,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub faults: Faults,
    pub lines: Vec<StoredLine>,
    pub stats: Stats,
    pub attempts: Attempts,
}

impl ReceiverState for State {
    fn faults_mut(&mut self) -> &mut Faults {
        &mut self.faults
    }
    fn stats_json(&self) -> Value {
        serde_json::to_value(&self.stats).unwrap_or_default()
    }
    fn attempts(&self) -> &Attempts {
        &self.attempts
    }
}

pub(crate) type Shared = crate::common::shared::Shared<Config, State>;

/// A running receiver. Dropping it stops the server, as [`Handle::shutdown`] does.
pub struct Handle {
    server: Server,
    shared: Arc<Shared>,
}

/// Starts serving on the caller's tokio runtime.
pub async fn start(config: Config) -> Result<Handle, Error> {
    let faults = config.faults.clone();
    let shared = Arc::new(Shared::new(config, faults));
    let listen = Listen {
        bind: &shared.config.bind,
        port: shared.config.port,
        tls: shared.config.tls,
        name: "http",
    };
    let router = Router::new()
        .route("/__receiver/lines", get(admin_lines))
        .merge(admin::router::<Shared>())
        .fallback(ingest::receive)
        .with_state(shared.clone());
    let server = Server::start(listen, router, shared.kills.clone()).await?;
    Ok(Handle { server, shared })
}

async fn admin_lines(axum::extract::State(shared): axum::extract::State<Arc<Shared>>) -> Response {
    Json(json!({ "lines": shared.lock().lines })).into_response()
}

impl Handle {
    crate::common::server_methods!();

    /// Every stored line, in arrival order.
    pub fn lines(&self) -> Vec<StoredLine> {
        self.shared.lock().lines.clone()
    }
    /// Counters: requests, lines, refusals, faults that struck.
    pub fn stats(&self) -> Stats {
        self.shared.lock().stats.clone()
    }
    /// Every attempt of each event, by id.
    pub fn attempts(&self) -> Attempts {
        AdminState::attempts(&*self.shared)
    }
    /// Replaces the faults in force.
    pub fn set_faults(&self, faults: Faults) {
        AdminState::set_faults(&*self.shared, faults);
    }
    pub fn faults(&self) -> Faults {
        AdminState::faults(&*self.shared)
    }
    /// Forgets lines, counters, attempts and faults.
    pub fn reset(&self) {
        AdminState::reset(&*self.shared);
    }
}
