//! Signed webhooks: each alert's JSON document POSTed to a URL with
//! `X-Sfevents-Signature: sha256=<hex HMAC-SHA256 of the body under the shared secret>` (the
//! scheme of GitHub's `X-Hub-Signature-256`) and `X-Sfevents-Delivery: <alert id>`, so the
//! receiver can check who sent it and drop a redelivery after a crash by the delivery id.

pub mod config;

use futures_util::future::BoxFuture;
use hmac::{Hmac, Mac};
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use sha2::Sha256;
use url::Url;

use self::config::WebhookConfig;
use crate::http_client::{self, Answer};
use crate::notify::sink::{AlertSink, Deliver};
use crate::notify::{AlertView, Routing};
use crate::output::{BatchLimits, Output, OutputConfig};
use crate::probe::Findings;
use crate::settings::{ConfigError, Settings};
use crate::sink::{Event, OrgContext, Sink, SinkError, Verdict};

/// `type = "webhook"`, `--to webhook+https://...`.
pub struct Webhook;

impl Output for Webhook {
    type Config = WebhookConfig;

    fn names(&self) -> &'static [&'static str] {
        &["webhook"]
    }
    fn keys(&self) -> &'static [&'static str] {
        config::KEYS
    }
    fn batch(&self) -> BatchLimits {
        crate::notify::BATCH
    }
    fn parse(&self, url: &Url, s: &Settings) -> Result<WebhookConfig, ConfigError> {
        config::parse(url, s)
    }
    fn sink(
        &self,
        _: &OutputConfig,
        c: &WebhookConfig,
        _: &OrgContext,
    ) -> Result<Box<dyn Sink>, SinkError> {
        let post = Post {
            client: c.endpoint.target.client()?,
            cfg: c.clone(),
        };
        Ok(Box::new(AlertSink::new(post, c.interval)))
    }
    fn probe<'a>(
        &'a self,
        _: &'a OutputConfig,
        c: &'a WebhookConfig,
        out: &'a mut dyn Findings,
    ) -> BoxFuture<'a, ()> {
        Box::pin(crate::notify::probe::reachable(&c.endpoint, out))
    }
    fn routing<'a>(&self, c: &'a WebhookConfig) -> Option<&'a Routing> {
        Some(&c.routing)
    }
}

/// The signature header's value for `body` under `secret`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

struct Post {
    client: reqwest::Client,
    cfg: WebhookConfig,
}

impl Post {
    async fn post(&self, event: &Event) -> Result<Verdict, SinkError> {
        let doc = event.value().get("fields").unwrap_or(event.value());
        let body = serde_json::to_vec(doc)
            .map_err(|e| SinkError::Fatal(format!("cannot encode an alert: {e}")))?;
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let sig = signature(self.cfg.secret.expose().as_bytes(), &body);
        h.insert("x-sfevents-signature", header(&sig)?);
        h.insert("x-sfevents-delivery", header(&event.id)?);
        let e = &self.cfg.endpoint;
        let a = http_client::post(&self.client, &e.target.url, h, body, |t| e.scrub(t)).await?;
        verdict(&format!("webhook {}", e.shown), &a)
    }
}

fn header(v: &str) -> Result<HeaderValue, SinkError> {
    HeaderValue::from_str(v).map_err(|e| SinkError::Fatal(format!("a header value: {e}")))
}

/// 2xx delivered; 400/413/422 dead-lettered with the answer; 401/403/404 for the user to fix;
/// 408, 429 and 5xx tried again.
pub(crate) fn verdict(dest: &str, a: &Answer) -> Result<Verdict, SinkError> {
    let text = http_client::excerpt(&a.body);
    if a.status.is_success() {
        return Ok(Verdict::Delivered);
    }
    let message = format!("{dest} answered {}: {text}", a.status);
    if let Some(e) = http_client::retryable(a.status, &a.headers, &message) {
        return Err(e);
    }
    match a.status.as_u16() {
        400 | 413 | 422 => Ok(Verdict::Dead(message)),
        401 | 403 => Err(SinkError::Fatal(format!(
            "{message}: the receiver refused the request; check the secret it shares with this output"
        ))),
        404 | 405 | 410 => Err(SinkError::Fatal(format!("{message}: check the url"))),
        300..=399 => Err(http_client::redirect(dest, "the alert", a.status, &a.headers)),
        _ => Err(SinkError::Fatal(message)),
    }
}

impl Deliver for Post {
    fn deliver<'a>(
        &'a self,
        _: &'a AlertView,
        event: &'a Event,
    ) -> BoxFuture<'a, Result<Verdict, SinkError>> {
        Box::pin(self.post(event))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_signature_is_githubs() {
        // GitHub's documented test vector for X-Hub-Signature-256.
        assert_eq!(
            super::signature(b"It's a Secret to Everybody", b"Hello, World!"),
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
    }
}
