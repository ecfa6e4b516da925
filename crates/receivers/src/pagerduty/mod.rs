//! A PagerDuty Events API v2 receiver for tests: what an alert sender talks to when it must
//! not page anyone.
//!
//! `POST /v2/enqueue` takes alert events (`trigger`, `acknowledge`, `resolve`), validated as
//! PagerDuty documents them ([`event`]): a JSON object; `routing_key` of exactly 32 characters
//! (400 `{"status":"invalid event","message":"Event object is invalid","errors":["Length of
//! 'routing_key' is incorrect (should be 32 characters)"]}`); `event_action`; `dedup_key` of at
//! most 255 characters, required to acknowledge or resolve; for a trigger, `payload.summary`
//! (at most 1024 characters), `payload.source`, `payload.severity` (`critical`, `error`,
//! `warning`, `info`), and when present an ISO 8601 `payload.timestamp`, string `component`,
//! `group`, `class`, and an object `custom_details`. Success is 202
//! `{"status":"success","message":"Event processed","dedup_key":"…"}`, with a generated key
//! when a trigger sent none. `POST /v2/change/enqueue` takes change events (a payload with a
//! summary) and answers 202 too; they are recorded and open no incident.
//!
//! **Routing keys**: the receiver serves only the keys in [`Config::routing_keys`]. A key of the
//! right length that is not among them answers 400 with an `errors` entry naming it. The real
//! service's answer to a well-formed key with no integration behind it is not documented; a
//! test receiver that took it would hide a sender configured with the wrong key, so it refuses.
//!
//! Incidents are kept per (routing key, dedup key) ([`Incident`]): a trigger for an open
//! incident is deduplicated into it, `resolve` closes it. Each routing key may send
//! [`Config::events_per_minute`] events a minute (default 120, the figure PagerDuty staff give
//! per integration key; all at once is allowed), beyond which requests answer 429. Faults
//! ([`Faults`]: 503, 429, a dropped connection, for the next N requests) are set at run time.
//!
//! ```no_run
//! # async fn demo() -> Result<(), receivers::common::Error> {
//! use receivers::pagerduty::{self, Config};
//! let key = "0123456789abcdef0123456789abcdef";
//! let pd = pagerduty::start(Config { tls: true, ..Config::with_keys(&[key]) }).await?;
//! // ... point the sender at pd.url() (pdjs: `server: "127.0.0.1:PORT"`), then:
//! assert_eq!(pd.requests(), pd.events().len() as u64);
//! for i in pd.incidents() {
//!     println!("{} triggered {} times, {:?}", i.dedup_key, i.triggers, i.status);
//! }
//! # Ok(()) }
//! ```
//!
//! Admin endpoints (no key, no faults): `GET|POST /__receiver/faults`, `GET /__receiver/stats`,
//! `POST /__receiver/reset`, `GET /__receiver/events`, `GET /__receiver/incidents`
//! (`/__receiver/attempts` stays empty: alerts carry no archive event id).

pub mod event;
mod ingest;
mod store;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State as AxumState;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

pub use event::Action;
pub use store::{Incident, Stats, Status, StoredEvent};

use crate::common::admin::{self, AdminState};
use crate::common::server::{Listen, Server};
pub use crate::common::{Error, FaultCounts, Faults};

/// PagerDuty's rate per integration key, as its staff state it.
pub const DEFAULT_EVENTS_PER_MINUTE: u32 = 120;
/// Bodies larger than this answer 413 (a guard of this receiver; PagerDuty's own limit on an
/// event's size is not in the reference).
pub const DEFAULT_MAX_BODY: u64 = 512 << 10;

/// How to run the receiver.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: String,
    /// 0 picks a free port.
    pub port: u16,
    /// Serve HTTPS with a generated CA; PagerDuty's clients (pdjs) only speak HTTPS.
    pub tls: bool,
    /// The integration keys served; with none, every event answers 400.
    pub routing_keys: Vec<String>,
    /// Events a routing key may send per minute; 0 lifts the limit.
    pub events_per_minute: u32,
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
            routing_keys: Vec::new(),
            events_per_minute: DEFAULT_EVENTS_PER_MINUTE,
            max_body_bytes: DEFAULT_MAX_BODY,
            faults: Faults::default(),
        }
    }
}

impl Config {
    /// A receiver serving these routing keys, everything else default.
    pub fn with_keys(keys: &[&str]) -> Self {
        Config {
            routing_keys: keys.iter().map(|k| k.to_string()).collect(),
            ..Config::default()
        }
    }
}

pub(crate) type Shared = crate::common::shared::Shared<Config, store::State>;

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
        name: "pagerduty",
    };
    let router = Router::new()
        .route("/v2/enqueue", post(ingest::enqueue))
        .route(ingest::CHANGE_PATH, post(ingest::enqueue))
        .route("/__receiver/events", get(admin_events))
        .route("/__receiver/incidents", get(admin_incidents))
        .merge(admin::router::<Shared>())
        .with_state(shared.clone());
    let server = Server::start(listen, router, shared.kills.clone()).await?;
    Ok(Handle { server, shared })
}

async fn admin_events(AxumState(shared): AxumState<Arc<Shared>>) -> Response {
    Json(json!({ "events": shared.lock().events })).into_response()
}

async fn admin_incidents(AxumState(shared): AxumState<Arc<Shared>>) -> Response {
    Json(json!({ "incidents": shared.lock().incidents })).into_response()
}

impl Handle {
    crate::common::server_methods!();

    /// Every accepted event, in arrival order.
    pub fn events(&self) -> Vec<StoredEvent> {
        self.shared.lock().events.clone()
    }
    /// Incidents in the order first triggered, one per (routing key, dedup key).
    pub fn incidents(&self) -> Vec<Incident> {
        self.shared.lock().incidents.clone()
    }
    /// Triggers received per dedup key (deduplicated ones included).
    pub fn trigger_counts(&self) -> BTreeMap<String, u64> {
        self.shared.lock().trigger_counts()
    }
    /// Incidents opened in all (a key resolved and triggered again opens another).
    pub fn incidents_opened(&self) -> u64 {
        self.shared.lock().stats.incidents_opened
    }
    /// Requests to the event endpoints, refused ones and faults included.
    pub fn requests(&self) -> u64 {
        self.shared.lock().stats.requests
    }
    /// Counters: requests, accepted events, refusals, faults that struck.
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
    /// Forgets events, incidents, counters, rate buckets and faults.
    pub fn reset(&self) {
        AdminState::reset(&*self.shared);
    }
}
