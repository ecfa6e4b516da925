//! PagerDuty's settings: `pagerduty+https://events.pagerduty.com/v2/enqueue?routing_key_env=VAR`
//! (or `routing_key_file`), plus every notifier's `min_level`, `rules` and `suppress_minutes`.

use std::time::Duration;

use url::Url;

use crate::notify::endpoint::Endpoint;
use crate::notify::Routing;
use crate::settings::{ConfigError, Settings};
use base::secret::Secret;

#[derive(Debug, Clone)]
pub struct PagerDutyConfig {
    pub endpoint: Endpoint,
    pub routing_key: Secret,
    pub routing: Routing,
    pub interval: Duration,
}

pub const KEYS: &[&str] = &[
    "ca_file",
    "tls_verify",
    "routing_key_env",
    "routing_key_file",
    "min_level",
    "rules",
    "suppress_minutes",
    "max_per_second",
];

pub fn parse(url: &Url, s: &Settings) -> Result<PagerDutyConfig, ConfigError> {
    let routing_key = s
        .secret("routing_key", "PagerDuty routing key")?
        .ok_or_else(|| {
            ConfigError::invalid(
                "PagerDuty needs the integration's routing key: add routing_key_env = \"VARIABLE\" or routing_key_file = \"PATH\"",
            )
        })?;
    if routing_key.expose().trim().len() != 32 {
        return Err(ConfigError::invalid(format!(
            "the PagerDuty routing key is {} characters long, not 32: copy the Integration Key of an Events API v2 integration",
            routing_key.expose().trim().len()
        )));
    }
    let mut url = url.clone();
    if url.path().is_empty() || url.path() == "/" {
        url.set_path("/v2/enqueue");
    }
    Ok(PagerDutyConfig {
        endpoint: Endpoint::parse(&url, s, "PagerDuty")?,
        routing_key: Secret::new(routing_key.expose().trim()),
        routing: Routing::parse(s)?,
        // PagerDuty throttles about 120 events a minute per integration key.
        interval: crate::notify::interval(s, 2)?,
    })
}
