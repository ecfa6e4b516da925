//! A Microsoft Teams Workflows webhook receiver for tests: the "When a Teams webhook request is
//! received" trigger of the "Post to a channel when a webhook request is received" template,
//! which replaces the retired Office 365 connectors.
//!
//! `POST` to a configured workflow path (such as
//! `/workflows/<id>/triggers/manual/paths/invoke?api-version=1&sp=…&sv=1.0&sig=…`; hosts and
//! paths vary, so any configured path is served) with the workflow's `sig` query parameter
//! (else 401) and a body of Adaptive Cards:
//! `{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive",
//! "content":{"type":"AdaptiveCard","version":"1.x","body":[…]}}]}`. A body the flow would fail
//! on answers 400 ([`card`]); over 28 KB, 413; more than 4 requests a second to a workflow, 429
//! with `Retry-After`. An accepted message answers 202 Accepted with an empty body.
//!
//! ```no_run
//! # async fn demo() -> Result<(), receivers::common::Error> {
//! use receivers::teams::{self, Config, Workflow};
//! let flow = Workflow::new("/workflows/abc/triggers/manual/paths/invoke", "s3cr3t");
//! let teams = teams::start(Config::with_workflows(vec![flow.clone()])).await?;
//! // ... point the sender at teams.workflow_url(&flow), then:
//! for card in teams.cards() {
//!     println!("{}", card["body"]);
//! }
//! # Ok(()) }
//! ```
//!
//! Faults ([`Faults`]: 503, 429, a dropped connection, ...) are set at run time. Admin
//! endpoints (no `sig`, no faults): `GET|POST /__receiver/faults`, `GET /__receiver/stats`,
//! `POST /__receiver/reset`, `GET /__receiver/messages` (`/__receiver/attempts` stays empty).

pub mod card;
mod ingest;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State as AxumState;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::common::admin::{self, AdminState};
use crate::common::attempts::Attempts;
use crate::common::ratelimit::Limiter;
use crate::common::server::{Listen, Server};
use crate::common::shared::ReceiverState;
pub use crate::common::{Error, FaultCounts, Faults, Rate};

/// The largest message Teams takes: 28 KB.
pub const MAX_MESSAGE_BYTES: u64 = 28 * 1024;

/// Teams throttles a webhook above 4 requests a second.
pub const DEFAULT_RATE: Rate = Rate {
    burst: 4,
    refill_every_ms: 250,
};

/// A workflow's trigger URL: its path and its `sig`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workflow {
    pub path: String,
    pub sig: String,
}

impl Workflow {
    pub fn new(path: &str, sig: &str) -> Self {
        Workflow {
            path: path.to_string(),
            sig: sig.to_string(),
        }
    }

    /// The path with the query a Workflows URL carries.
    pub fn path_and_query(&self) -> String {
        let sig: String = url::form_urlencoded::byte_serialize(self.sig.as_bytes()).collect();
        format!(
            "{}?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={sig}",
            self.path
        )
    }
}

/// How to run the receiver.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: String,
    /// 0 picks a free port.
    pub port: u16,
    /// Serve HTTPS with a generated CA.
    pub tls: bool,
    pub workflows: Vec<Workflow>,
    /// Each workflow's rate; `None` lifts the limit.
    pub rate: Option<Rate>,
    /// Bodies larger than this answer 413.
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
            workflows: Vec::new(),
            rate: Some(DEFAULT_RATE),
            max_body_bytes: MAX_MESSAGE_BYTES,
            faults: Faults::default(),
        }
    }
}

impl Config {
    pub fn with_workflows(workflows: Vec<Workflow>) -> Self {
        Config {
            workflows,
            ..Config::default()
        }
    }
}

/// An accepted message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredMessage {
    /// The workflow's path.
    pub path: String,
    /// The JSON body as received.
    pub message: Value,
    /// Each attachment's card (`content`), in order.
    pub cards: Vec<Value>,
    /// The request it came in, numbered from 1 in arrival order (refused ones included).
    pub request: u64,
}

/// Counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Every request, whatever its answer.
    pub requests: u64,
    /// Messages answered 202.
    pub accepted: u64,
    /// Error answers by code, rate limits aside.
    pub errors: BTreeMap<String, u64>,
    pub rate_limited: u64,
    #[serde(flatten)]
    pub faults: FaultCounts,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub faults: Faults,
    pub messages: Vec<StoredMessage>,
    pub stats: Stats,
    pub limiter: Limiter,
    /// Never filled: cards carry no archive event id.
    pub attempts: Attempts,
}

impl State {
    /// Counts a request; its number.
    pub fn count_request(&mut self) -> u64 {
        self.stats.requests += 1;
        self.stats.requests
    }
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
        name: "teams",
    };
    let router = Router::new()
        .route("/__receiver/messages", get(admin_messages))
        .merge(admin::router::<Shared>())
        .fallback(ingest::post)
        .with_state(shared.clone());
    let server = Server::start(listen, router, shared.kills.clone()).await?;
    Ok(Handle { server, shared })
}

async fn admin_messages(AxumState(shared): AxumState<Arc<Shared>>) -> Response {
    Json(json!({ "messages": shared.lock().messages })).into_response()
}

impl Handle {
    crate::common::server_methods!();

    /// A workflow's full trigger URL, `sig` included.
    pub fn workflow_url(&self, flow: &Workflow) -> String {
        format!("{}{}", self.url(), flow.path_and_query())
    }
    /// Every accepted message, in arrival order.
    pub fn messages(&self) -> Vec<StoredMessage> {
        self.shared.lock().messages.clone()
    }
    /// Every accepted card, in arrival order.
    pub fn cards(&self) -> Vec<Value> {
        let st = self.shared.lock();
        st.messages.iter().flat_map(|m| m.cards.clone()).collect()
    }
    /// Every request received, refused ones and faults included.
    pub fn requests(&self) -> u64 {
        self.shared.lock().stats.requests
    }
    /// Counters: requests, accepted messages, errors by code, faults that struck.
    pub fn stats(&self) -> Stats {
        self.shared.lock().stats.clone()
    }
    /// Replaces the faults in force.
    pub fn set_faults(&self, faults: Faults) {
        AdminState::set_faults(&*self.shared, faults);
    }
    pub fn faults(&self) -> Faults {
        AdminState::faults(&*self.shared)
    }
    /// Forgets messages, counters, rate buckets and faults.
    pub fn reset(&self) {
        AdminState::reset(&*self.shared);
    }
}
