//! A Slack incoming webhook receiver for tests: what an alert sender posts to instead of a
//! channel.
//!
//! `POST /services/<T>/<B>/<secret>` with a JSON message (`Content-Type: application/json`, as
//! Slack's clients send it; the type is recorded, not enforced). The webhooks served are
//! configured ([`Webhook`]); any other path answers 404 `no_service`. Answers are Slack's
//! plain-string bodies: 200 `ok`; 400 `invalid_payload` (not JSON, or nothing to show: no
//! `text`, `blocks` or `attachments`); 400 `invalid_blocks` (Block Kit limits, [`blocks`]);
//! 403 `action_prohibited`, 404 `channel_not_found`, 410 `channel_is_archived` when a webhook
//! is configured to refuse so ([`Refusal`]); 429 `rate_limited` with `Retry-After` beyond the
//! webhook's rate (default a burst of 3, then one a second: Slack's "about one message per
//! second, short bursts allowed"); 500 `rollup_error` as an injected fault.
//!
//! ```no_run
//! # async fn demo() -> Result<(), receivers::common::Error> {
//! use receivers::slack::{self, Config, Webhook};
//! let path = "/services/T000/B000/XXXX";
//! let hook = slack::start(Config::with_webhooks(vec![Webhook::new(path)])).await?;
//! // ... point the sender at format!("{}{path}", hook.url()), then:
//! for m in hook.messages_for(path) {
//!     println!("{}", m.message["text"]);
//! }
//! # Ok(()) }
//! ```
//!
//! Faults ([`Faults`]): `requests_503` answers Slack's documented server error, 500
//! `rollup_error`; `requests_429` answers 429 `rate_limited` (with `retry_after_secs`, else 1);
//! `close_connection`, `close_after_store` and `delay_ms` as in every receiver.
//!
//! Admin endpoints (no faults): `GET|POST /__receiver/faults`, `GET /__receiver/stats`,
//! `POST /__receiver/reset`, `GET /__receiver/messages` (`/__receiver/attempts` stays empty).

pub mod blocks;
mod ingest;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State as AxumState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::common::admin::{self, AdminState};
use crate::common::attempts::Attempts;
use crate::common::ratelimit::Limiter;
use crate::common::server::{Listen, Server};
use crate::common::shared::ReceiverState;
pub use crate::common::{Error, FaultCounts, Faults, Rate};

/// A webhook that exists but refuses, as Slack answers for a channel gone wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// 403 `action_prohibited`: an admin restricted posting.
    ActionProhibited,
    /// 404 `channel_not_found`.
    ChannelNotFound,
    /// 410 `channel_is_archived`.
    ChannelIsArchived,
}

impl Refusal {
    pub fn status(self) -> StatusCode {
        match self {
            Refusal::ActionProhibited => StatusCode::FORBIDDEN,
            Refusal::ChannelNotFound => StatusCode::NOT_FOUND,
            Refusal::ChannelIsArchived => StatusCode::GONE,
        }
    }
    pub fn body(self) -> &'static str {
        match self {
            Refusal::ActionProhibited => "action_prohibited",
            Refusal::ChannelNotFound => "channel_not_found",
            Refusal::ChannelIsArchived => "channel_is_archived",
        }
    }
}

/// A webhook served: its path, and whether it refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// `/services/<T>/<B>/<secret>`.
    pub path: String,
    pub refusal: Option<Refusal>,
}

impl Webhook {
    pub fn new(path: &str) -> Self {
        Webhook {
            path: path.to_string(),
            refusal: None,
        }
    }
    /// The same webhook answering every message with `refusal`.
    pub fn refusing(mut self, refusal: Refusal) -> Self {
        self.refusal = Some(refusal);
        self
    }
}

/// Slack's pace: a burst of 3, then one message a second.
pub const DEFAULT_RATE: Rate = Rate {
    burst: 3,
    refill_every_ms: 1000,
};

/// How to run the receiver.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: String,
    /// 0 picks a free port.
    pub port: u16,
    /// Serve HTTPS with a generated CA.
    pub tls: bool,
    pub webhooks: Vec<Webhook>,
    /// Each webhook's rate; `None` lifts the limit.
    pub rate: Option<Rate>,
    /// Bodies larger than this answer 413 `request_too_large` (a guard of this receiver).
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
            webhooks: Vec::new(),
            rate: Some(DEFAULT_RATE),
            max_body_bytes: 1 << 20,
            faults: Faults::default(),
        }
    }
}

impl Config {
    pub fn with_webhooks(webhooks: Vec<Webhook>) -> Self {
        Config {
            webhooks,
            ..Config::default()
        }
    }
}

/// An accepted message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredMessage {
    /// The webhook's path.
    pub webhook: String,
    /// The JSON body as received.
    pub message: Value,
    pub content_type: Option<String>,
    /// The request it came in, numbered from 1 in arrival order (refused ones included).
    pub request: u64,
}

/// Counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Every request, any path, whatever its answer.
    pub requests: u64,
    /// Requests per path.
    pub requests_by_path: BTreeMap<String, u64>,
    /// Messages answered `ok`.
    pub accepted: u64,
    /// Error answers by body (`invalid_blocks`, `no_service`, ...), rate limits aside.
    pub errors: BTreeMap<String, u64>,
    /// Requests refused by the rate limit.
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
    /// Never filled: messages carry no archive event id.
    pub attempts: Attempts,
}

impl State {
    /// Counts a request to `path`; its number.
    pub fn count_request(&mut self, path: &str) -> u64 {
        self.stats.requests += 1;
        *self
            .stats
            .requests_by_path
            .entry(path.to_string())
            .or_default() += 1;
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
        name: "slack",
    };
    let router = Router::new()
        .route("/services/{*hook}", post(ingest::post))
        .route("/__receiver/messages", get(admin_messages))
        .merge(admin::router::<Shared>())
        .fallback(ingest::not_found)
        .with_state(shared.clone());
    let server = Server::start(listen, router, shared.kills.clone()).await?;
    Ok(Handle { server, shared })
}

async fn admin_messages(AxumState(shared): AxumState<Arc<Shared>>) -> Response {
    Json(json!({ "messages": shared.lock().messages })).into_response()
}

impl Handle {
    crate::common::server_methods!();

    /// A webhook's full URL.
    pub fn webhook_url(&self, path: &str) -> String {
        format!("{}{path}", self.url())
    }
    /// Every accepted message, in arrival order.
    pub fn messages(&self) -> Vec<StoredMessage> {
        self.shared.lock().messages.clone()
    }
    /// The accepted messages of one webhook, in arrival order.
    pub fn messages_for(&self, path: &str) -> Vec<StoredMessage> {
        let st = self.shared.lock();
        st.messages
            .iter()
            .filter(|m| m.webhook == path)
            .cloned()
            .collect()
    }
    /// Every request received, refused ones and faults included.
    pub fn requests(&self) -> u64 {
        self.shared.lock().stats.requests
    }
    /// The requests to one path.
    pub fn requests_to(&self, path: &str) -> u64 {
        let st = self.shared.lock();
        st.stats.requests_by_path.get(path).copied().unwrap_or(0)
    }
    /// Counters: requests, accepted messages, errors by body, faults that struck.
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
