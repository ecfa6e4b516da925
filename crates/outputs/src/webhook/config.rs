//! The signed webhook's settings: `webhook+https://host/path?secret_env=VAR` (or
//! `secret_file`), plus every notifier's `min_level`, `rules` and `suppress_minutes`.

use std::time::Duration;

use url::Url;

use crate::notify::endpoint::Endpoint;
use crate::notify::Routing;
use crate::settings::{ConfigError, Settings};
use base::secret::Secret;

#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub endpoint: Endpoint,
    pub secret: Secret,
    pub routing: Routing,
    /// The least time between two posts.
    pub interval: Duration,
}

pub const KEYS: &[&str] = &[
    "url_env",
    "url_file",
    "ca_file",
    "tls_verify",
    "secret_env",
    "secret_file",
    "min_level",
    "rules",
    "suppress_minutes",
    "max_per_second",
];

pub fn parse(url: &Url, s: &Settings) -> Result<WebhookConfig, ConfigError> {
    let secret = s.secret("secret", "webhook signing secret")?.ok_or_else(|| {
        ConfigError::invalid(
            "a webhook signs each alert with a shared secret: add secret_env = \"VARIABLE\" or secret_file = \"PATH\"",
        )
    })?;
    if secret.expose().len() < 16 {
        return Err(ConfigError::invalid(
            "the webhook secret is shorter than 16 characters: use a long random one (openssl rand -hex 32)",
        ));
    }
    Ok(WebhookConfig {
        endpoint: Endpoint::parse(url, s, "webhook")?,
        secret,
        routing: Routing::parse(s)?,
        interval: crate::notify::interval(s, 10)?,
    })
}
