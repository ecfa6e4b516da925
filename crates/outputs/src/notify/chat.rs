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
use crate::settings::{ConfigError, Settings};
use crate::sink::{Event, SinkError, Verdict};

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

/// A chat service: how it renders an alert and reads an answer.
pub trait Chat: Send + Sync + 'static {
    /// `Slack`, `Teams`: in messages.
    const NAME: &'static str;
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

/// The sink of a chat notifier.
pub fn sink<C: Chat>(c: &ChatConfig) -> Result<AlertSink<impl Deliver>, SinkError> {
    let poster = Poster::<C> {
        client: c.endpoint.target.client()?,
        endpoint: c.endpoint.clone(),
        chat: std::marker::PhantomData,
    };
    Ok(AlertSink::new(poster, c.interval))
}
