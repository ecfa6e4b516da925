//! `sfevents setup elasticsearch`: installs the lifecycle policy (when `retention_days` is
//! set) and the index template, idempotently. What is there already and carries the same
//! digest is left alone; what differs is replaced. Data streams that exist keep their
//! mappings until their next rollover, as with any template change.

use reqwest::StatusCode;
use serde_json::Value;

use super::client::{Answer, EsClient};
use super::cluster::{detect, Flavor};
use super::config::EsConfig;
use super::templates::{self, NAME, PATTERN, PRIORITY};
use crate::output::OutputConfig;
use crate::sink::SinkError;

const TEMPLATE_PRIVILEGES: &str = "the manage_index_templates cluster privilege";

/// Installs what the output needs; returns the lines to print.
pub async fn setup(cfg: &OutputConfig, es: &EsConfig) -> Result<Vec<String>, SinkError> {
    let client = EsClient::new(es)?;
    let cluster = detect(&client).await?;
    let Some(flavor) = cluster.flavor else {
        return Err(SinkError::Fatal(format!(
            "{}: GET / was refused, so setup cannot tell Elasticsearch from OpenSearch: run it with credentials that have the monitor and manage_index_templates cluster privileges (and manage_ilm, or ISM's, for retention_days)",
            client.base()
        )));
    };
    let mut lines = vec![format!(
        "output {}: {} at {}",
        cfg.name,
        cluster.describe(),
        client.base()
    )];
    match (es.retention_days, flavor) {
        (Some(days), Flavor::Elasticsearch) => lines.push(ilm(&client, days).await?),
        (Some(days), Flavor::OpenSearch) => lines.push(ism(&client, days).await?),
        (None, _) => lines.push(
            "no retention_days: no lifecycle policy (indices stay until deleted)".to_string(),
        ),
    }
    lines.push(template(&client, flavor, es.retention_days).await?);
    if flavor == Flavor::Elasticsearch {
        lines.extend(integration_note(&client).await);
    }
    Ok(lines)
}

/// "installed", "already there" or "updated", from what was found.
fn verb(found: bool, same: bool) -> &'static str {
    match (found, same) {
        (false, _) => "installed",
        (true, true) => "already there",
        (true, false) => "updated",
    }
}

fn accepted(client: &EsClient, what: &str, a: &Answer, privileges: &str) -> Result<(), SinkError> {
    if a.status.is_success() {
        Ok(())
    } else {
        Err(client.refusal(what, a, privileges))
    }
}

/// What `GET _index_template/sfevents-salesforce` found: `setup` and `doctor` both read the
/// template so.
pub(super) struct TemplateLookup {
    pub path: String,
    pub answer: Answer,
    /// The template installed under [`NAME`], when the answer is a 2xx that lists it.
    pub current: Option<Value>,
}

impl TemplateLookup {
    pub async fn get(client: &EsClient) -> Result<TemplateLookup, SinkError> {
        let path = format!("_index_template/{NAME}");
        let answer = client.get(&path).await?;
        let current = if answer.status.is_success() {
            answer.json().and_then(|v| {
                v["index_templates"]
                    .as_array()?
                    .iter()
                    .find(|t| t["name"] == NAME)
                    .map(|t| t["index_template"].clone())
            })
        } else {
            None
        };
        Ok(TemplateLookup {
            path,
            answer,
            current,
        })
    }

    /// Whether the installed template carries the digest of `wanted`.
    pub fn same_as(&self, wanted: &Value) -> bool {
        self.current.as_ref().and_then(templates::meta_digest) == templates::meta_digest(wanted)
    }
}

async fn template(
    client: &EsClient,
    flavor: Flavor,
    retention_days: Option<u32>,
) -> Result<String, SinkError> {
    let wanted = templates::index_template(flavor, retention_days);
    let found = TemplateLookup::get(client).await?;
    let path = &found.path;
    let a = &found.answer;
    if a.status != StatusCode::NOT_FOUND && !a.status.is_success() {
        return Err(client.refusal(path, a, TEMPLATE_PRIVILEGES));
    }
    let same = found.same_as(&wanted);
    if found.current.is_none() || !same {
        let put = client.put_json(path, &[], &wanted).await?;
        accepted(client, path, &put, TEMPLATE_PRIVILEGES)?;
    }
    Ok(format!(
        "index template {NAME} ({PATTERN}, priority {PRIORITY}): {}",
        verb(found.current.is_some(), same)
    ))
}

async fn ilm(client: &EsClient, days: u32) -> Result<String, SinkError> {
    const PRIVILEGES: &str = "the manage_ilm cluster privilege";
    let path = templates::policy_path(Flavor::Elasticsearch);
    let wanted = templates::ilm_policy(days);
    let a = client.get(&path).await?;
    let current = match a.status {
        StatusCode::NOT_FOUND => None,
        s if s.is_success() => a.json().map(|v| v[NAME]["policy"].clone()),
        _ => return Err(client.refusal(&path, &a, PRIVILEGES)),
    }
    .filter(Value::is_object);
    let same = current.as_ref().and_then(templates::meta_digest)
        == templates::meta_digest(&wanted["policy"]);
    if current.is_none() || !same {
        let put = client.put_json(&path, &[], &wanted).await?;
        accepted(client, &path, &put, PRIVILEGES)?;
    }
    Ok(format!(
        "ILM policy {NAME} (delete {days} days after rollover): {}",
        verb(current.is_some(), same)
    ))
}

async fn ism(client: &EsClient, days: u32) -> Result<String, SinkError> {
    const PRIVILEGES: &str = "ISM's cluster permissions (cluster:admin/opendistro/ism/*)";
    let path = templates::policy_path(Flavor::OpenSearch);
    let wanted = templates::ism_policy(days);
    let a = client.get(&path).await?;
    let found = match a.status {
        StatusCode::NOT_FOUND => None,
        s if s.is_success() => a.json(),
        _ => return Err(client.refusal(&path, &a, PRIVILEGES)),
    };
    let same = found
        .as_ref()
        .and_then(|v| templates::ism_digest(&v["policy"]))
        == templates::ism_digest(&wanted["policy"]);
    if found.is_none() || !same {
        // ISM policies are documents: replacing one names the version replaced.
        let (seq, term) = found
            .as_ref()
            .map(|v| (v["_seq_no"].to_string(), v["_primary_term"].to_string()))
            .unwrap_or_default();
        let query: Vec<(&str, &str)> = if found.is_some() {
            vec![("if_seq_no", &seq), ("if_primary_term", &term)]
        } else {
            Vec::new()
        };
        let put = client.put_json(&path, &query, &wanted).await?;
        accepted(client, &path, &put, PRIVILEGES)?;
    }
    Ok(format!(
        "ISM policy {NAME} (delete {days} days after rollover): {}",
        verb(found.is_some(), same)
    ))
}

/// Says when Elastic's Salesforce integration templates are installed: they win for their
/// data streams (see [`PRIORITY`]). Best effort: a refusal only leaves the note out.
async fn integration_note(client: &EsClient) -> Option<String> {
    let a = client.get("_index_template/logs-salesforce.*").await.ok()?;
    if !a.status.is_success() {
        tracing::debug!(status = %a.status, "cannot list the integration's templates");
        return None;
    }
    let v = a.json()?;
    let names: Vec<&str> = v["index_templates"]
        .as_array()?
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    (!names.is_empty()).then(|| {
        format!(
            "Elastic's Salesforce integration templates are installed ({}): they apply to their data streams instead of {NAME}",
            names.join(", ")
        )
    })
}
