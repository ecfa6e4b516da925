//! A Splunk HTTP Event Collector receiver for tests: what sfevents' Splunk output talks to when
//! no Splunk can be installed.
//!
//! It follows HEC's documented behaviour for what a log shipper uses: `POST
//! /services/collector/event` (also `/services/collector` and `/services/collector/event/1.0`,
//! the path Splunk's JavaScript logging library posts to) with `Authorization: Splunk <token>`
//! (or basic auth with the token as password), bodies of JSON envelopes written back to back,
//! optionally gzip, answered with HEC's `{"text", "code"}` bodies and statuses ([`hec`]); per-token
//! allowed and default indexes; indexer acknowledgement per token (a GUID channel, `ackId`s
//! counted per channel, `POST /services/collector/ack`); `GET /services/collector/health`; 413
//! over `max_content_length`. Faults ([`Faults`]) and the acknowledgement timing ([`Acks`]) are
//! set at run time; events are kept in memory, readable through the [`Handle`] or
//! `GET /__receiver/events`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), receivers::common::Error> {
//! use receivers::splunk::{self, Config, Token};
//! let hec = splunk::start(Config::with_tokens(vec![Token::new("t0k3n").with_ack()])).await?;
//! // ... point the sender at hec.url() with `Authorization: Splunk t0k3n`, then:
//! for e in hec.events() {
//!     println!("{} {:?} ack {:?}", e.index, e.event, e.ack_id);
//! }
//! # Ok(()) }
//! ```
//!
//! Every attempt of each event is counted by its id (`fields.event_id`, as sfevents sends it;
//! [`crate::common::attempts`]), whatever the answer, readable with [`Handle::attempts`]: what
//! the indexer keeps says nothing of how often a sender sent it.
//!
//! Admin endpoints (no token, no faults): `GET|POST /__receiver/faults`, `GET /__receiver/stats`,
//! `GET /__receiver/attempts`, `POST /__receiver/reset`, `GET /__receiver/events[?index=]`,
//! `GET|POST /__receiver/acks` (an [`Acks`] JSON), `GET /__receiver/acked`
//! (`[[channel, ackId], ...]` answered true).

mod config;
mod envelope;
pub mod hec;
mod ingest;
mod store;

use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

pub use config::{Acks, Config, Token, DEFAULT_MAX_CONTENT_LENGTH};
pub use envelope::Envelope;
pub use ingest::is_guid;
pub use store::{Stats, StoredEvent};

use crate::common::admin::{self, AdminState};
use crate::common::conn::Kills;
use crate::common::server::{Listen, Server};
pub use crate::common::{Attempt, Attempts, Error, Faults};

/// State shared by the handlers.
pub(crate) struct Shared {
    pub config: Config,
    pub state: Mutex<store::State>,
    pub kills: Kills,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, store::State> {
        crate::common::lock(&self.state)
    }
}

impl AdminState for Shared {
    fn faults(&self) -> Faults {
        self.lock().faults.clone()
    }
    fn set_faults(&self, faults: Faults) {
        self.lock().faults = faults;
    }
    fn stats_json(&self) -> Value {
        serde_json::to_value(&self.lock().stats).unwrap_or_default()
    }
    fn attempts(&self) -> Attempts {
        self.lock().attempts.clone()
    }
    fn reset(&self) {
        self.lock().reset();
    }
}

/// A running receiver. Dropping it stops the server, as [`Handle::shutdown`] does.
pub struct Handle {
    server: Server,
    shared: Arc<Shared>,
}

/// Starts serving on the caller's tokio runtime.
pub async fn start(config: Config) -> Result<Handle, Error> {
    let shared = Arc::new(Shared {
        state: Mutex::new(store::State::new(
            config.faults.clone(),
            config.acks.clone(),
        )),
        config,
        kills: Kills::default(),
    });
    let listen = Listen {
        bind: &shared.config.bind,
        port: shared.config.port,
        tls: shared.config.tls,
        name: "splunk",
    };
    let server = Server::start(listen, router(shared.clone()), shared.kills.clone()).await?;
    Ok(Handle { server, shared })
}

fn router(shared: Arc<Shared>) -> Router {
    let event = post(ingest::event);
    Router::new()
        .route("/services/collector", event.clone())
        .route("/services/collector/event", event.clone())
        .route("/services/collector/event/1.0", event)
        .route("/services/collector/ack", post(ingest::ack))
        .route("/services/collector/health", get(ingest::health))
        .route("/services/collector/health/1.0", get(ingest::health))
        .route("/__receiver/events", get(admin_events))
        .route("/__receiver/acks", get(get_acks).post(set_acks))
        .route("/__receiver/acked", get(acked))
        .merge(admin::router::<Shared>())
        .fallback(ingest::not_found)
        .with_state(shared)
}

async fn admin_events(State(shared): State<Arc<Shared>>, RawQuery(q): RawQuery) -> Response {
    let index = url::form_urlencoded::parse(q.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "index")
        .map(|(_, v)| v.into_owned());
    let st = shared.lock();
    let events: Vec<&StoredEvent> = st
        .events
        .iter()
        .filter(|e| index.as_ref().is_none_or(|i| *i == e.index))
        .collect();
    Json(json!({ "events": events })).into_response()
}

async fn get_acks(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.lock().acks.clone()).into_response()
}

async fn set_acks(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    match admin::json_body::<Acks>(&headers, &body) {
        Ok(a) => {
            shared.lock().acks = a.clone();
            Json(a).into_response()
        }
        Err(e) => admin::bad_request(format!("invalid acks: {e}")),
    }
}

async fn acked(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.lock().acked.clone()).into_response()
}

impl Handle {
    crate::common::server_methods!();

    /// Every stored event, in arrival order.
    pub fn events(&self) -> Vec<StoredEvent> {
        self.shared.lock().events.clone()
    }
    /// Stored events of one index.
    pub fn events_in(&self, index: &str) -> Vec<StoredEvent> {
        self.shared
            .lock()
            .events
            .iter()
            .filter(|e| e.index == index)
            .cloned()
            .collect()
    }
    /// Counters: requests, events, error answers by HEC code, faults that struck.
    pub fn stats(&self) -> Stats {
        self.shared.lock().stats.clone()
    }
    /// Every attempt of each event, by id.
    pub fn attempts(&self) -> Attempts {
        self.shared.lock().attempts.clone()
    }
    /// Replaces the faults in force.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.lock().faults = faults;
    }
    pub fn faults(&self) -> Faults {
        self.shared.lock().faults.clone()
    }
    /// Replaces the acknowledgement timing for `ackId`s issued from now on.
    pub fn set_acks(&self, acks: Acks) {
        self.shared.lock().acks = acks;
    }
    /// (channel, ackId) pairs a client has been told are true, in answer order.
    pub fn ack_ids_acked(&self) -> Vec<(String, u64)> {
        self.shared.lock().acked.clone()
    }
    /// (channel, ackId) pairs handed out, in order.
    pub fn ack_ids_issued(&self) -> Vec<(String, u64)> {
        self.shared.lock().issued.clone()
    }
    /// Forgets events, acknowledgements, counters, attempts, faults and ack timing.
    pub fn reset(&self) {
        self.shared.lock().reset();
    }
}
