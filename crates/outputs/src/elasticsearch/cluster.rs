//! The cluster behind the URL: Elasticsearch or OpenSearch, and which version, from `GET /`.

use reqwest::header::WWW_AUTHENTICATE;
use reqwest::StatusCode;
use serde_json::Value;

use super::client::EsClient;
use crate::sink::SinkError;

/// Which product answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Elasticsearch,
    OpenSearch,
}

/// What `GET /` said.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// `None` when `GET /` was refused for lack of the `monitor` privilege and the answer did
    /// not say which product it came from.
    pub flavor: Option<Flavor>,
    /// `version.number`, when `GET /` could be read.
    pub version: Option<String>,
}

impl Cluster {
    pub fn describe(&self) -> String {
        let product = match self.flavor {
            Some(Flavor::Elasticsearch) => "Elasticsearch",
            Some(Flavor::OpenSearch) => "OpenSearch",
            None => "a cluster",
        };
        match &self.version {
            Some(v) => format!("{product} {v}"),
            None => format!("{product} of unknown version"),
        }
    }
}

/// Asks `GET /` which product and version answer.
pub async fn detect(client: &EsClient) -> Result<Cluster, SinkError> {
    let a = client.get("").await?;
    let api_key = client.uses_api_key();
    let no_api_keys = || {
        SinkError::Fatal(format!(
            "{} is OpenSearch, which has no API keys: use username with password_env/password_file, or a bearer token",
            client.base()
        ))
    };
    if a.status == StatusCode::UNAUTHORIZED {
        // OpenSearch's security plugin does not know the ApiKey scheme and answers a bare
        // 401 whose challenge names it.
        let opensearch = a
            .headers
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .any(|v| v.to_str().unwrap_or_default().contains("OpenSearch"));
        if api_key && opensearch {
            return Err(no_api_keys());
        }
    }
    // Elasticsearch marks every answer, refusals included, with its product header.
    let elastic = a.headers.contains_key("x-elastic-product");
    if a.status == StatusCode::FORBIDDEN {
        // `GET /` needs the `monitor` cluster privilege, which a key made only to write
        // documents lacks; writing works without knowing the version.
        tracing::info!(
            url = %client.base(),
            "GET / was refused (403, no monitor privilege): sending without knowing the cluster's version"
        );
        return Ok(Cluster {
            flavor: elastic.then_some(Flavor::Elasticsearch),
            version: None,
        });
    }
    if !a.status.is_success() {
        return Err(client.refusal("GET /", &a, "the monitor cluster privilege"));
    }
    let v = a.json().unwrap_or(Value::Null);
    let Some(number) = v["version"]["number"].as_str() else {
        return Err(SinkError::Fatal(format!(
            "{} does not answer GET / as Elasticsearch or OpenSearch do (no version.number): check the url",
            client.base()
        )));
    };
    let flavor = if v["version"]["distribution"] == "opensearch" {
        Flavor::OpenSearch
    } else {
        Flavor::Elasticsearch
    };
    let cluster = Cluster {
        flavor: Some(flavor),
        version: Some(number.to_string()),
    };
    if flavor == Flavor::OpenSearch && api_key {
        return Err(no_api_keys());
    }
    // Data streams and x-pack's `logs-*-*` template came with Elasticsearch 7.9.
    let mut parts = number.split('.').map(|p| p.parse::<u64>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if flavor == Flavor::Elasticsearch && (major, minor) < (7, 9) {
        return Err(SinkError::Fatal(format!(
            "{} is Elasticsearch {number}; the output needs 7.9 or later (data streams), best 8 or 9",
            client.base()
        )));
    }
    tracing::debug!(url = %client.base(), cluster = %cluster.describe(), "connected");
    Ok(cluster)
}
