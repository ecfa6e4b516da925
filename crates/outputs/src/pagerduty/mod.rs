//! PagerDuty Events API v2: one `trigger` per alert, its `dedup_key` the alert id, so a resend
//! after a crash or a lost answer opens no second incident. 202 is taken; 400 is dead-lettered
//! with PagerDuty's message and errors; 429 and 5xx are tried again.

pub mod config;

use futures_util::future::BoxFuture;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use serde_json::{json, Value};
use url::Url;

use self::config::PagerDutyConfig;
use crate::http_client::{self, Answer};
use crate::notify::sink::{AlertSink, Deliver};
use crate::notify::text::{clip, severity, title};
use crate::notify::{AlertView, Routing};
use crate::output::{BatchLimits, Output, OutputConfig};
use crate::probe::Findings;
use crate::settings::{ConfigError, Settings};
use crate::sink::{Event, OrgContext, Sink, SinkError, Verdict};

/// PagerDuty's limit on `payload.summary`.
const SUMMARY_MAX: usize = 1024;

/// `type = "pagerduty"`, `--to pagerduty+https://events.pagerduty.com/v2/enqueue?...`.
pub struct PagerDuty;

impl Output for PagerDuty {
    type Config = PagerDutyConfig;

    fn names(&self) -> &'static [&'static str] {
        &["pagerduty"]
    }
    fn keys(&self) -> &'static [&'static str] {
        config::KEYS
    }
    fn batch(&self) -> BatchLimits {
        crate::notify::BATCH
    }
    fn parse(&self, url: &Url, s: &Settings) -> Result<PagerDutyConfig, ConfigError> {
        config::parse(url, s)
    }
    fn sink(
        &self,
        _: &OutputConfig,
        c: &PagerDutyConfig,
        org: &OrgContext,
    ) -> Result<Box<dyn Sink>, SinkError> {
        let source = Url::parse(&org.instance_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_else(|| org.org.clone());
        let enqueue = Enqueue {
            client: c.endpoint.target.client()?,
            cfg: c.clone(),
            source,
        };
        Ok(Box::new(AlertSink::new(enqueue, c.interval)))
    }
    fn probe<'a>(
        &'a self,
        _: &'a OutputConfig,
        c: &'a PagerDutyConfig,
        out: &'a mut dyn Findings,
    ) -> BoxFuture<'a, ()> {
        Box::pin(crate::notify::probe::reachable(&c.endpoint, out))
    }
    fn routing<'a>(&self, c: &'a PagerDutyConfig) -> Option<&'a Routing> {
        Some(&c.routing)
    }
}

struct Enqueue {
    client: reqwest::Client,
    cfg: PagerDutyConfig,
    /// The org's instance host: the incident's `source`.
    source: String,
}

/// The event PagerDuty is sent for `alert`.
pub fn trigger(routing_key: &str, source: &str, alert: &AlertView) -> Value {
    let (tactic, technique) = (attack(alert, false), attack(alert, true));
    let summary = if alert.summary.is_empty() {
        title(alert)
    } else {
        format!("{}: {}", title(alert), alert.summary)
    };
    json!({
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": alert.id,
        "client": "sfevents",
        "payload": {
            "summary": clip(&summary, SUMMARY_MAX),
            "source": source,
            "severity": severity(&alert.rule.level),
            "timestamp": alert.timestamp,
            "component": alert.rule.name,
            "group": tactic.unwrap_or("salesforce"),
            "class": technique.unwrap_or(&alert.rule.level),
            "custom_details": {
                "rule": {"name": alert.rule.name, "id": alert.rule.id, "title": alert.rule.title,
                         "level": alert.rule.level, "tags": alert.rule.tags},
                "org_id": alert.org_id,
                "group": alert.group,
                "detail": alert.detail,
                "count": alert.count,
                "first_seen": alert.first_seen,
                "last_seen": alert.last_seen,
                "event_ids": alert.events.ids,
                "events_total": alert.events.total,
                "summary": alert.summary,
                "test": alert.test,
            }
        }
    })
}

/// The rule's first ATT&CK tactic (`credential-access`) or technique (`t1110.001`) tag.
fn attack(alert: &AlertView, technique: bool) -> Option<&str> {
    alert.rule.tags.iter().find_map(|t| {
        let rest = t.strip_prefix("attack.")?;
        // Techniques, groups and software are a letter and digits (t1110, g0016, s0002).
        let mut c = rest.chars();
        let coded = matches!(c.next(), Some('t' | 'g' | 's'))
            && c.next().is_some_and(|d| d.is_ascii_digit());
        let is_technique = coded && rest.starts_with('t');
        match technique {
            true => is_technique.then_some(rest),
            false => (!coded).then_some(rest),
        }
    })
}

impl Enqueue {
    async fn send(&self, alert: &AlertView) -> Result<Verdict, SinkError> {
        let body = trigger(self.cfg.routing_key.expose(), &self.source, alert);
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let key = &self.cfg.routing_key;
        let e = &self.cfg.endpoint;
        let scrub = |t: &str| base::secret::scrub(&e.scrub(t), &[key]);
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let a = http_client::post(&self.client, &e.target.url, h, bytes, scrub).await?;
        verdict(&format!("PagerDuty {}", e.shown), &a, scrub)
    }
}

/// 202 taken; 400 dead with PagerDuty's errors; 429 and 5xx again; the rest for the user.
fn verdict(dest: &str, a: &Answer, scrub: impl Fn(&str) -> String) -> Result<Verdict, SinkError> {
    let text = scrub(&http_client::excerpt(&a.body));
    if a.status.is_success() {
        return Ok(Verdict::Delivered);
    }
    let message = format!("{dest} answered {}: {text}", a.status);
    if let Some(e) = http_client::retryable(a.status, &a.headers, &message) {
        return Err(e);
    }
    match a.status.as_u16() {
        400 => {
            let errors = serde_json::from_slice::<Value>(&a.body)
                .ok()
                .and_then(|v| v.get("errors").cloned())
                .map(|e| scrub(&e.to_string()))
                .unwrap_or_default();
            // A wrong routing key fails every alert alike: that is for the user to fix.
            if errors.contains("routing_key") {
                return Err(SinkError::Fatal(format!(
                    "{message}. Fix: routing_key_env / routing_key_file must hold the 32-character integration key of an Events API v2 integration"
                )));
            }
            Ok(Verdict::Dead(message))
        }
        404 | 405 => Err(SinkError::Fatal(format!(
            "{message}: check the url (https://events.pagerduty.com/v2/enqueue)"
        ))),
        _ => Err(SinkError::Fatal(message)),
    }
}

impl Deliver for Enqueue {
    fn deliver<'a>(
        &'a self,
        alert: &'a AlertView,
        _: &'a Event,
    ) -> BoxFuture<'a, Result<Verdict, SinkError>> {
        Box::pin(self.send(alert))
    }
}
