//! `doctor`'s checks of the Elasticsearch output: `GET /` (the cluster check the sink itself
//! makes before its first batch), and the templates `sfevents setup elasticsearch` installs
//! (and, in `agent` mode, those of Elastic's Salesforce integration), read and never written.

use reqwest::StatusCode;

use super::client::EsClient;
use super::cluster::{detect, Flavor};
use super::config::{EsConfig, EsMode};
use super::setup::TemplateLookup;
use super::templates::{self, NAME};
use crate::probe::Findings;

const SETUP: &str = "run `sfevents setup elasticsearch` with the same --to or --config, once, with credentials that have manage_index_templates (`ship` and `collect` do not install it)";

pub async fn probe(es: &EsConfig, out: &mut dyn Findings) {
    let what = "reachable";
    let client = match EsClient::new(es) {
        Ok(c) => c,
        Err(e) => return out.problem(what, e.to_string()),
    };
    let flavor = match detect(&client).await {
        Ok(c) => {
            out.ok(what, format!("{} answers: {}", client.base(), c.describe()));
            c.flavor
        }
        Err(e) => {
            return out.problem(
                what,
                format!("{e}. Fix: start the cluster or correct the output's URL and credentials"),
            )
        }
    };
    // `GET /` refused: setup cannot run with these credentials either.
    let Some(flavor) = flavor else {
        return;
    };
    template(out, es, &client, flavor).await;
    if es.retention_days.is_some() {
        policy(out, &client, flavor).await;
    }
    if es.mode == EsMode::Agent {
        agent_mode(out, &client, flavor).await;
    }
}

/// The index template setup installs, compared with this version's.
async fn template(out: &mut dyn Findings, es: &EsConfig, client: &EsClient, flavor: Flavor) {
    let what = "index template";
    let found = match TemplateLookup::get(client).await {
        Ok(f) => f,
        Err(e) => {
            let path = format!("_index_template/{NAME}");
            return out.warn(what, format!("cannot read {path}: {e}"));
        }
    };
    let a = &found.answer;
    match a.status {
        StatusCode::NOT_FOUND => out.warn(
            what,
            format!(
                "{NAME} is not installed: the data streams get the cluster's default mappings{}. Fix: {SETUP}",
                if flavor == Flavor::OpenSearch { " (on OpenSearch, plain indices instead of data streams)" } else { "" }
            ),
        ),
        s if s.is_success() => {
            let wanted = templates::index_template(flavor, es.retention_days);
            match &found.current {
                None => out.warn(what, format!("{NAME} is not installed. Fix: {SETUP}")),
                Some(_) if found.same_as(&wanted) => {
                    out.ok(what, format!("{NAME} is installed"))
                }
                Some(_) => out.warn(
                    what,
                    format!("{NAME} is installed but differs from this version's (another version, or retention_days changed). Fix: run `sfevents setup elasticsearch` again to update it"),
                ),
            }
        }
        s if matches!(s.as_u16(), 401 | 403) => out.ok(
            what,
            format!("these credentials may not read templates ({s}), as a shipping-only key should not; if setup was never run: {SETUP}"),
        ),
        s => out.warn(
            what,
            format!("cannot read {}: {s} {}", found.path, a.error_text()),
        ),
    }
}

/// The ILM or ISM policy of `retention_days`.
async fn policy(out: &mut dyn Findings, client: &EsClient, flavor: Flavor) {
    let path = templates::policy_path(flavor);
    if let Ok(a) = client.get(&path).await {
        if a.status == StatusCode::NOT_FOUND {
            out.warn(
                "lifecycle policy",
                format!("retention_days is set but the policy {NAME} is not installed: nothing is ever deleted. Fix: {SETUP}"),
            );
        } else if a.status.is_success() {
            out.ok("lifecycle policy", format!("{NAME} is installed"));
        }
    }
}

/// `agent` mode relies on Elastic's Salesforce integration, which OpenSearch does not have.
async fn agent_mode(out: &mut dyn Findings, client: &EsClient, flavor: Flavor) {
    let what = "agent mode";
    if flavor == Flavor::OpenSearch {
        return out.problem(
            what,
            "mode = agent sends events for Elastic's Salesforce integration pipelines, which OpenSearch does not run. Fix: use mode = ecs",
        );
    }
    match client.get("_index_template/logs-salesforce.*").await {
        Ok(a) if a.status.is_success() || a.status == StatusCode::NOT_FOUND => {
            let n = a
                .json()
                .and_then(|v| v["index_templates"].as_array().map(Vec::len))
                .unwrap_or(0);
            if n == 0 {
                out.warn(
                    what,
                    "mode = agent relies on Elastic's Salesforce integration (its ingest pipelines and templates), which is not installed: the login, logout, apex, setupaudittrail and aura_request events would be stored unparsed. Fix: in Kibana, Integrations > Salesforce > Settings > Install Salesforce assets, or use mode = ecs",
                );
            } else {
                out.ok(
                    what,
                    format!("Elastic's Salesforce integration is installed ({n} templates)"),
                );
            }
        }
        Ok(a) => out.warn(
            what,
            format!(
                "cannot tell whether Elastic's Salesforce integration is installed: {} {}",
                a.status,
                a.error_text()
            ),
        ),
        Err(e) => out.warn(
            what,
            format!("cannot read the integration's templates: {e}"),
        ),
    }
}
