//! How to run the receiver: [`Config`] and its parts.

use base64::Engine;
use serde::{Deserialize, Serialize};

use super::Faults;

/// Which product the receiver plays.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavor {
    /// Product header, REST API compatibility, ApiKey auth, ILM, the built-in `logs` template.
    #[default]
    Elasticsearch,
    /// `version.distribution: opensearch`, no product header, basic/bearer auth only, ISM,
    /// no built-in templates.
    OpenSearch,
}

/// Which bytes count against `http.max_content_length`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LimitOn {
    /// The decompressed body, as Elasticsearch does: its Netty pipeline puts the
    /// `HttpContentDecompressor` before the aggregator that enforces the limit (and the
    /// decompressor drops `Content-Length`), so a gzip body is measured after decoding.
    #[default]
    Decoded,
    /// The body as received on the wire (compressed bytes for gzip bodies).
    Received,
}

/// An API key, as `POST /_security/api_key` returns it (`id`, `api_key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: String,
    pub key: String,
}

impl ApiKey {
    pub fn new(id: &str, key: &str) -> Self {
        ApiKey {
            id: id.to_string(),
            key: key.to_string(),
        }
    }

    /// The `encoded` value clients send: `Authorization: ApiKey <base64(id:api_key)>`.
    pub fn encoded(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", self.id, self.key))
    }
}

/// Accepted credentials; when all are empty, no authentication is asked.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub api_keys: Vec<ApiKey>,
    /// Basic users: (user, password).
    pub basic: Vec<(String, String)>,
    pub bearer: Vec<String>,
}

impl Credentials {
    pub fn required(&self) -> bool {
        !(self.api_keys.is_empty() && self.basic.is_empty() && self.bearer.is_empty())
    }
}

/// How to run the receiver.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: String,
    /// 0 picks a free port.
    pub port: u16,
    /// Serve HTTPS with a generated CA ([`Handle::ca_pem`], [`Handle::ca_file`]).
    pub tls: bool,
    pub flavor: Flavor,
    /// `version.number` of `GET /`; its major decides REST API compatibility and error names.
    pub version: String,
    pub cluster_name: String,
    pub node_name: String,
    pub credentials: Credentials,
    /// Install x-pack's `logs` template (`logs-*-*` are data streams). `None`: yes for
    /// Elasticsearch, no for OpenSearch.
    pub builtin_logs_template: Option<bool>,
    /// Data-stream documents need a date in `@timestamp` (Elasticsearch's rule).
    pub require_timestamp: bool,
    pub limit_on: LimitOn,
    /// Gzip answers when the client accepts it. `None`: Elasticsearch's default
    /// (`http.compression` on for HTTP, off for HTTPS).
    pub compress_responses: Option<bool>,
    /// Faults in force at start.
    pub faults: Faults,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: "127.0.0.1".into(),
            port: 0,
            tls: false,
            flavor: Flavor::Elasticsearch,
            version: "8.17.0".into(),
            cluster_name: "receivers".into(),
            node_name: "receivers-es-0".into(),
            credentials: Credentials::default(),
            builtin_logs_template: None,
            require_timestamp: true,
            limit_on: LimitOn::Decoded,
            compress_responses: None,
            faults: Faults::default(),
        }
    }
}

impl Config {
    /// An OpenSearch 2.19 receiver.
    pub fn opensearch() -> Self {
        Config {
            flavor: Flavor::OpenSearch,
            version: "2.19.0".into(),
            cluster_name: "receivers-opensearch".into(),
            node_name: "receivers-os-0".into(),
            ..Config::default()
        }
    }
}
