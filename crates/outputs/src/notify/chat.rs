//! What the chat notifiers (Slack, Teams) share: their settings (a webhook URL that is a
//! secret, the routing, a pace) and their sink, which posts one JSON message per alert.

use std::time::Duration;

use futures_util::future::BoxFuture;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use serde_json::Value;
use url::Url;

use super::endpoint::Endpoint;
use super::sink::{AlertSink, Deliver};
use super::{AlertView, Routing};
use crate::http_client::{self, Answer};
use crate::output::{BatchLimits, Output, OutputConfig};
use crate::probe::Findings;
use crate::settings::{ConfigError, Settings};
use crate::sink::{Event, OrgContext, Sink, SinkError, Verdict};

#[derive(Debug, Clone)]
pub struct ChatConfig {
    pub endpoint: Endpoint,
    pub routing: Routing,
    pub interval: Duration,
}

pub const KEYS: &[&str] = &[
    "url_env",
    "url_file",
    "ca_file",
    "tls_verify",
    "min_level",
    "rules",
    "suppress_minutes",
    "max_per_second",
];

impl ChatConfig {
    pub fn parse(
        url: &Url,
        s: &Settings,
        what: &str,
        per_second: usize,
    ) -> Result<Self, ConfigError> {
        Ok(ChatConfig {
            endpoint: Endpoint::parse(url, s, what)?,
            routing: Routing::parse(s)?,
            interval: super::interval(s, per_second)?,
        })
    }
}

/// A chat service: how it renders an alert and reads an answer. [`ChatOutput`] makes it an
/// output, so Slack and Teams differ only in this.
pub trait Chat: Send + Sync + 'static {
    /// `Slack`, `Teams`: in messages.
    const NAME: &'static str;
    /// The names `type =` and `--to kind+` take.
    const NAMES: &'static [&'static str];
    /// Requests per second the service takes (Slack about 1, Teams 4).
    const PER_SECOND: usize;
    fn message(alert: &AlertView) -> Value;
    fn verdict(dest: &str, a: &Answer) -> Result<Verdict, SinkError>;
}

struct Poster<C: Chat> {
    client: reqwest::Client,
    endpoint: Endpoint,
    chat: std::marker::PhantomData<C>,
}

impl<C: Chat> Poster<C> {
    async fn post(&self, alert: &AlertView) -> Result<Verdict, SinkError> {
        let body = serde_json::to_vec(&C::message(alert))
            .map_err(|e| SinkError::Fatal(format!("cannot encode a message: {e}")))?;
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let e = &self.endpoint;
        let a = http_client::post(&self.client, &e.target.url, h, body, |t| e.scrub(t)).await?;
        C::verdict(&format!("{} {}", C::NAME, e.shown), &a).map_err(|err| match err {
            SinkError::Fatal(m) => SinkError::Fatal(e.scrub(&m)),
            other => other,
        })
    }
}

impl<C: Chat> Deliver for Poster<C> {
    fn deliver<'a>(
        &'a self,
        alert: &'a AlertView,
        _: &'a Event,
    ) -> BoxFuture<'a, Result<Verdict, SinkError>> {
        Box::pin(self.post(alert))
    }
}

/// The output of a chat service: its settings, sink, doctor check and routing.
pub struct ChatOutput<C: Chat>(std::marker::PhantomData<fn() -> C>);

impl<C: Chat> ChatOutput<C> {
    pub fn new() -> Self {
        ChatOutput(std::marker::PhantomData)
    }
}

impl<C: Chat> Default for ChatOutput<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C: Chat> Output for ChatOutput<C> {
    type Config = ChatConfig;

    fn names(&self) -> &'static [&'static str] {
        C::NAMES
    }
    fn keys(&self) -> &'static [&'static str] {
        KEYS
    }
    fn batch(&self) -> BatchLimits {
        super::BATCH
    }
    fn parse(&self, url: &Url, s: &Settings) -> Result<ChatConfig, ConfigError> {
        ChatConfig::parse(url, s, C::NAME, C::PER_SECOND)
    }
    fn sink(
        &self,
        _: &OutputConfig,
        c: &ChatConfig,
        _: &OrgContext,
    ) -> Result<Box<dyn Sink>, SinkError> {
        Ok(Box::new(sink::<C>(c)?))
    }
    fn probe<'a>(
        &'a self,
        _: &'a OutputConfig,
        c: &'a ChatConfig,
        out: &'a mut dyn Findings,
    ) -> BoxFuture<'a, ()> {
        Box::pin(super::probe::reachable(&c.endpoint, out))
    }
    fn routing<'a>(&self, c: &'a ChatConfig) -> Option<&'a Routing> {
        Some(&c.routing)
    }
}

/// The sink of a chat notifier.
fn sink<C: Chat>(c: &ChatConfig) -> Result<AlertSink<impl Deliver>, SinkError> {
    let poster = Poster::<C> {
        client: c.endpoint.target.client()?,
        endpoint: c.endpoint.clone(),
        chat: std::marker::PhantomData,
    };
    Ok(AlertSink::new(poster, c.interval))
}
