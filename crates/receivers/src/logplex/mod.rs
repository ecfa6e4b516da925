//! A Heroku Logplex HTTPS drain receiver for tests: what sfevents' Logplex output talks to, as
//! heroku/logplex's `doc/README.http_drains.md` describes the requests and Vector's
//! `heroku_logs` source reads them.
//!
//! `POST` to any path with `Content-Type: application/logplex-1`, `Logplex-Msg-Count`,
//! `Logplex-Frame-Id` and optionally `Logplex-Drain-Token`, with optional basic auth. The body
//! is validated strictly ([`frames`]): a body this receiver accepts is read the same way by an
//! octet-counting and a line-based drain. Requests are deduplicated by `Logplex-Frame-Id` (on by
//! default: a repeat answers 200 and stores nothing), which is how a drain spots a retried
//! request. Faults ([`Faults`]) are set at run time; messages are kept in memory, readable
//! through the [`Handle`] or `GET /__receiver/messages`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), receivers::common::Error> {
//! use receivers::logplex::{self, Config};
//! let drain = logplex::start(Config::default()).await?;
//! // ... point the sender at drain.url(), then:
//! for m in drain.messages() {
//!     println!("{} {} {}", m.frame_id, m.app_name, m.msg);
//! }
//! # Ok(()) }
//! ```
//!
//! Every attempt of each event is counted by its id, before the frame-id dedup (the message's
//! `id`, or `salesforce.event_id` in ECS documents; [`crate::common::attempts`]), readable
//! with [`Handle::attempts`]: a sender that resends whole frames passes the dedup, not these.
//!
//! Admin endpoints (no auth, no faults): `GET|POST /__receiver/faults`, `GET /__receiver/stats`,
//! `GET /__receiver/attempts`, `POST /__receiver/reset`, `GET /__receiver/messages`.

pub mod frames;
mod ingest;

use std::collections::HashSet;
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

/// How to run the receiver.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: String,
    /// 0 picks a free port.
    pub port: u16,
    /// Serve HTTPS with a generated CA (Heroku's HTTPS drains need a trusted certificate).
    pub tls: bool,
    /// Require basic auth with this (user, password).
    pub basic: Option<(String, String)>,
    /// A repeated `Logplex-Frame-Id` answers 200 and stores nothing.
    pub dedup_frame_ids: bool,
    /// Bodies larger than this answer 413. Logplex's batches are small; this only bounds memory.
    pub max_content_length: u64,
    /// Faults in force at start.
    pub faults: Faults,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: "127.0.0.1".into(),
            port: 0,
            tls: false,
            basic: None,
            dedup_frame_ids: true,
            max_content_length: 10 << 20,
            faults: Faults::default(),
        }
    }
}

/// A stored message, with the request it came in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredMessage {
    /// `<PRI>`: facility × 8 + severity.
    pub pri: u8,
    pub timestamp: String,
    pub hostname: String,
    pub app_name: String,
    pub procid: String,
    pub msgid: String,
    pub msg: String,
    pub frame_id: String,
    pub drain_token: Option<String>,
    /// The request it came in, numbered from 1 in arrival order.
    pub request: u64,
    pub path: String,
}

impl StoredMessage {
    fn new(
        m: frames::Message,
        frame_id: &str,
        drain_token: Option<&str>,
        request: u64,
        path: &str,
    ) -> Self {
        StoredMessage {
            pri: m.pri,
            timestamp: m.timestamp,
            hostname: m.hostname,
            app_name: m.app_name,
            procid: m.procid,
            msgid: m.msgid,
            msg: m.msg,
            frame_id: frame_id.to_string(),
            drain_token: drain_token.map(str::to_string),
            request,
            path: path.to_string(),
        }
    }

    pub fn facility(&self) -> u8 {
        self.pri / 8
    }

    pub fn severity(&self) -> u8 {
        self.pri % 8
    }
}

/// Counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Drain requests, whatever their answer.
    pub requests: u64,
    /// Messages stored.
    pub messages: u64,
    /// Requests answered 200 without storing because their frame id was already stored.
    pub duplicate_frames: u64,
    /// Requests refused with 400 or 415 (malformed frames, headers, counts).
    pub rejected: u64,
    pub auth_failures: u64,
    pub requests_413: u64,
    #[serde(flatten)]
    pub faults: FaultCounts,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub faults: Faults,
    pub messages: Vec<StoredMessage>,
    pub frame_ids: HashSet<String>,
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
        name: "logplex",
    };
    let router = Router::new()
        .route("/__receiver/messages", get(admin_messages))
        .merge(admin::router::<Shared>())
        .fallback(ingest::drain)
        .with_state(shared.clone());
    let server = Server::start(listen, router, shared.kills.clone()).await?;
    Ok(Handle { server, shared })
}

async fn admin_messages(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
) -> Response {
    Json(json!({ "messages": shared.lock().messages })).into_response()
}

impl Handle {
    crate::common::server_methods!();

    /// Every stored message, in arrival order.
    pub fn messages(&self) -> Vec<StoredMessage> {
        self.shared.lock().messages.clone()
    }
    /// Counters: requests, messages, duplicate frames, refusals, faults that struck.
    pub fn stats(&self) -> Stats {
        self.shared.lock().stats.clone()
    }
    /// Every attempt of each event, by id, repeated frames included.
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
    /// Forgets messages, seen frame ids, counters, attempts and faults.
    pub fn reset(&self) {
        AdminState::reset(&*self.shared);
    }
}
