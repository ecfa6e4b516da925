//! The log drain output's settings: `--to logplex+https://drain.example/path`, the
//! `application/logplex-1` format of Heroku's HTTPS drains.

use crate::encode::Format;
use crate::http_client::Target;
use crate::output::BatchLimits;
use crate::settings::{ConfigError, Settings};
use base::secret::Secret;

#[derive(Debug, Clone)]
pub struct LogplexConfig {
    pub target: Target,
    pub format: Format,
    /// Basic authentication (Heroku writes it into the drain URL; sfevents reads the password
    /// from a file or the environment).
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// `Logplex-Drain-Token` (`d.<uuid>` on Heroku), which receivers use to tell drains apart.
    pub drain_token: Option<String>,
    /// APP-NAME of every message (default `sfevents`).
    pub app_name: String,
    /// HOSTNAME; `None`: the org's instance host.
    pub hostname: Option<String>,
}

pub const KEYS: &[&str] = &[
    "ca_file",
    "tls_verify",
    "format",
    "username",
    "password_env",
    "password_file",
    "drain_token",
    "app_name",
    "hostname",
];

pub const BATCH: BatchLimits = BatchLimits {
    max_events: 500,
    max_bytes: 1024 * 1024,
    in_flight: 2,
};

impl LogplexConfig {
    /// The `Authorization` value of basic authentication, when a username is given.
    pub fn basic_auth(&self) -> Option<Secret> {
        use base64::Engine;
        let (u, p) = (self.username.as_ref()?, self.password.as_ref()?);
        let pair = format!("{u}:{}", p.expose());
        Some(Secret::new(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )))
    }
}

pub fn parse(url: &url::Url, s: &Settings) -> Result<LogplexConfig, ConfigError> {
    let password = s.secret("password", "drain password")?;
    let username = s.get("username").map(str::to_string);
    if password.is_some() && username.is_none() {
        return Err(ConfigError::invalid(
            "password_env/password_file needs a username",
        ));
    }
    if username.is_some() && password.is_none() {
        return Err(ConfigError::invalid(
            "username needs a password: add password_env = \"VARIABLE\" or password_file = \"PATH\"",
        ));
    }
    let field = |k: &str,
                 default: Option<&str>,
                 len: usize|
     -> Result<Option<String>, ConfigError> {
        match s.get(k).or(default) {
            None => Ok(None),
            Some(v) if !v.is_empty() && v.len() <= len && v.bytes().all(|b| (33..=126).contains(&b)) => {
                Ok(Some(v.to_string()))
            }
            Some(v) => Err(ConfigError::invalid(format!(
                "{k} = '{v}' must be 1 to {len} printable ASCII characters without spaces (RFC 5424)"
            ))),
        }
    };
    Ok(LogplexConfig {
        target: Target::parse(url, s)?,
        format: Format::from_settings(s)?,
        username,
        password,
        drain_token: field("drain_token", None, 200)?,
        app_name: field("app_name", Some("sfevents"), 48)?.unwrap_or_default(),
        hostname: field("hostname", None, 255)?,
    })
}
