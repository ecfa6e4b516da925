//! How to run the Splunk receiver: [`Config`], its [`Token`]s and the [`Acks`] behaviour.

use serde::{Deserialize, Serialize};

use crate::common::Faults;

/// An HEC token, as configured in `inputs.conf` (`[http://<name>]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The token value clients send (`Authorization: Splunk <token>`).
    pub token: String,
    /// `useACK`: requests need a channel and get an `ackId`.
    pub ack: bool,
    /// `indexes`: the indexes events may name; empty allows any.
    pub indexes: Vec<String>,
    /// `index`: where events that name none go (`main` when unset).
    pub default_index: Option<String>,
    /// `disabled`: requests answer 403 `Token disabled` (code 1).
    pub disabled: bool,
}

impl Token {
    /// An enabled token without acknowledgement, any index allowed.
    pub fn new(token: &str) -> Self {
        Token {
            token: token.to_string(),
            ack: false,
            indexes: Vec::new(),
            default_index: None,
            disabled: false,
        }
    }

    /// The same token with indexer acknowledgement on.
    pub fn with_ack(mut self) -> Self {
        self.ack = true;
        self
    }

    /// The same token allowed only these indexes.
    pub fn with_indexes(mut self, indexes: &[&str]) -> Self {
        self.indexes = indexes.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn with_default_index(mut self, index: &str) -> Self {
        self.default_index = Some(index.to_string());
        self
    }

    pub fn disabled(mut self) -> Self {
        self.disabled = true;
        self
    }

    /// The index an event goes to.
    pub fn index_for(&self, asked: Option<&str>) -> String {
        asked
            .or(self.default_index.as_deref())
            .unwrap_or("main")
            .to_string()
    }
}

/// When an `ackId` turns true. Settable at run time ([`super::Handle::set_acks`],
/// `POST /__receiver/acks`), so a test can hold acknowledgements back and see a sender wait.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Acks {
    /// Milliseconds after the request was answered before its `ackId` is true (0: at once).
    pub delay_ms: u64,
    /// Acknowledgements issued while this is set never turn true (an indexer that lost the
    /// data); queries answer false for them forever.
    pub withheld: bool,
}

/// Splunk's default `max_content_length` (`limits.conf [http_input]`, 800 MB since 6.5).
pub const DEFAULT_MAX_CONTENT_LENGTH: u64 = 838_860_800;

/// How to run the receiver.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: String,
    /// 0 picks a free port.
    pub port: u16,
    /// Serve HTTPS with a generated CA ([`super::Handle::ca_file`]); HEC serves HTTPS by
    /// default.
    pub tls: bool,
    /// Accepted tokens. With none, every request answers 403 `Invalid token`.
    pub tokens: Vec<Token>,
    /// Bodies larger than this (as received, before gzip is undone) answer 413.
    pub max_content_length: u64,
    pub acks: Acks,
    /// Faults in force at start.
    pub faults: Faults,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: "127.0.0.1".into(),
            port: 0,
            tls: false,
            tokens: Vec::new(),
            max_content_length: DEFAULT_MAX_CONTENT_LENGTH,
            acks: Acks::default(),
            faults: Faults::default(),
        }
    }
}

impl Config {
    /// A receiver accepting these tokens, everything else default.
    pub fn with_tokens(tokens: Vec<Token>) -> Self {
        Config {
            tokens,
            ..Config::default()
        }
    }
}
