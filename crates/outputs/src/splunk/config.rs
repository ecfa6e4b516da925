//! The Splunk HTTP Event Collector output's settings: `--to splunk+https://host:8088`.

use std::time::Duration;

use crate::encode::Format;
use crate::http_client::Target;
use crate::output::BatchLimits;
use crate::settings::{ConfigError, Settings};
use base::secret::Secret;

#[derive(Debug, Clone)]
pub struct SplunkConfig {
    /// The HEC base URL (`https://host:8088`); events go to `services/collector/event` under it.
    pub target: Target,
    pub token: Secret,
    pub format: Format,
    /// Indexer acknowledgement: the position moves only once Splunk says the events are
    /// indexed (the token must have it enabled; Splunk Enterprise only).
    pub ack: bool,
    /// How often to ask about pending acknowledgements.
    pub ack_interval: Duration,
    /// How long to wait for one before sending the batch again.
    pub ack_timeout: Duration,
    /// `index` of every event; `None`: the token's default index.
    pub index: Option<String>,
    /// Overrides the per-dataset sourcetype (`sfdc:logfile`, `sfdc:loginhistory`...).
    pub sourcetype: Option<String>,
    /// Overrides the per-source `source` (`sfdc_event_log://<org>`, `sfdc_object://<Object>`).
    pub source: Option<String>,
    /// `host`; `None`: the org's instance host.
    pub host: Option<String>,
    pub gzip: bool,
}

pub const KEYS: &[&str] = &[
    "ca_file",
    "tls_verify",
    "format",
    "token_env",
    "token_file",
    "ack",
    "ack_interval_ms",
    "ack_timeout_secs",
    "index",
    "sourcetype",
    "source",
    "host",
    "compression",
];

/// Splunk's own guidance is batches of a few hundred KB; HEC's default `max_content_length`
/// is 1 MB on Splunk Cloud and 800 MB on Enterprise.
pub const BATCH: BatchLimits = BatchLimits {
    max_events: 500,
    max_bytes: 768 * 1024,
    in_flight: 2,
};

pub fn parse(url: &url::Url, s: &Settings) -> Result<SplunkConfig, ConfigError> {
    let token = s.secret("token", "HEC token")?.ok_or_else(|| {
        ConfigError::invalid("a Splunk output needs its HEC token: add token_env = \"VARIABLE\" or token_file = \"PATH\" (Settings > Data inputs > HTTP Event Collector in Splunk)")
    })?;
    let text = |k: &str| -> Result<Option<String>, ConfigError> {
        match s.get(k) {
            Some(v) if v.trim().is_empty() => Err(ConfigError::invalid(format!(
                "{k} is empty: remove it or give a value"
            ))),
            v => Ok(v.map(str::to_string)),
        }
    };
    Ok(SplunkConfig {
        target: Target::parse(url, s)?,
        token,
        format: Format::from_settings(s)?,
        ack: s.flag("ack", false)?,
        ack_interval: Duration::from_millis(s.number("ack_interval_ms", 10_000, 10)? as u64),
        ack_timeout: Duration::from_secs(s.number("ack_timeout_secs", 300, 1)? as u64),
        index: text("index")?,
        sourcetype: text("sourcetype")?,
        source: text("source")?,
        host: text("host")?,
        gzip: s.choice("compression", &["none", "gzip"])? == "gzip",
    })
}
