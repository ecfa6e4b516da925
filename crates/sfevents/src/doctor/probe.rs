//! "Accepting a write" without writing an event: each HTTP output gets the request it would
//! send, with its URL, TLS settings and credentials, but nothing in it.
//!
//! - Splunk HEC: an empty body to `services/collector/event`. Splunk checks the token first,
//!   then answers `400 {"text":"No data","code":5}`: the token is good and nothing is indexed.
//!   With `ack = true`, an empty `{"acks":[]}` query to `services/collector/ack` tells whether
//!   the token has indexer acknowledgement (code 14 when it has not).
//! - Log drains and plain HTTP: an empty batch (for a drain, `Logplex-Msg-Count: 0`).
//! - Elasticsearch: the templates `sfevents setup elasticsearch` installs (and, in `agent`
//!   mode, those of Elastic's Salesforce integration) are read, not written.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_ENCODING};
use reqwest::header::{CONTENT_TYPE, LOCATION};
use reqwest::StatusCode;
use serde_json::Value;

use super::Report;
use base::secret::{scrub, Secret};
use outputs::config::{EsConfig, EsMode};
use outputs::elasticsearch::client::EsClient;
use outputs::elasticsearch::cluster::Flavor;
use outputs::elasticsearch::templates::{self, NAME};
use outputs::http::config::HttpConfig;
use outputs::http_client::{self, Answer};
use outputs::logplex::config::LogplexConfig;
use outputs::splunk::config::SplunkConfig;

const WRITE: &str = "accepts a write";

/// A header value marked sensitive (never printed by reqwest's Debug).
fn sensitive(v: &str) -> Option<HeaderValue> {
    let mut h = HeaderValue::from_str(v).ok()?;
    h.set_sensitive(true);
    Some(h)
}

/// `text` and `code` of a HEC answer (or the start of the body when it is not HEC's JSON).
fn hec_reply(a: &Answer) -> (Option<i64>, String) {
    match serde_json::from_slice::<Value>(&a.body) {
        Ok(v) => (
            v["code"].as_i64(),
            v["text"].as_str().unwrap_or_default().to_string(),
        ),
        Err(_) => (None, http_client::excerpt(&a.body)),
    }
}

pub async fn splunk(r: &mut Report, scope: &str, c: &SplunkConfig) {
    let client = match c.target.client() {
        Ok(c) => c,
        Err(e) => return r.problem(scope, WRITE, e.to_string()),
    };
    let mut base = c.target.url.clone();
    if !base.path().ends_with('/') {
        let p = format!("{}/", base.path());
        base.set_path(&p);
    }
    let (Ok(event_url), Ok(ack_url)) = (
        base.join("services/collector/event"),
        base.join("services/collector/ack"),
    ) else {
        return r.problem(scope, WRITE, format!("{base} cannot take a HEC path"));
    };
    let auth = Secret::new(format!("Splunk {}", c.token.expose()));
    let Some(auth_value) = sensitive(auth.expose()) else {
        return r.problem(
            scope,
            WRITE,
            "the HEC token is not a valid header value. Fix: check that the token file or variable holds only the token",
        );
    };
    let channel = uuid::Uuid::new_v4().to_string();
    let mut h = HeaderMap::new();
    h.insert(AUTHORIZATION, auth_value);
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(&channel) {
        h.insert("X-Splunk-Request-Channel", v);
    }
    let clean = |t: &str| scrub(t, &[&c.token, &auth]);
    let at = &c.target.url;
    let a = match http_client::post(&client, &event_url, h.clone(), Vec::new(), clean).await {
        Ok(a) => a,
        Err(e) => return transport(r, scope, &e.to_string()),
    };
    let (code, text) = hec_reply(&a);
    let said = clean(&format!(
        "{}, code {}: {text}",
        a.status.as_u16(),
        code.map_or("none".to_string(), |c| c.to_string())
    ));
    match (a.status.as_u16(), code) {
        (200..=299, _) | (_, Some(5)) => r.ok(
            scope,
            WRITE,
            format!("{at}: token accepted (an empty request, no event written)"),
        ),
        (_, Some(1)) => {
            return r.problem(
                scope,
                WRITE,
                format!("{at} says the HEC token is disabled ({said}). Fix: enable it in Splunk, Settings > Data inputs > HTTP Event Collector"),
            )
        }
        (_, Some(2..=4)) | (401 | 403, None) => {
            return r.problem(
                scope,
                WRITE,
                format!("{at} refused the HEC token ({said}). Fix: put the token shown in Splunk's Settings > Data inputs > HTTP Event Collector in the output's token_file (or the variable token_env names), and check that it is enabled there"),
            )
        }
        (404, _) => {
            return r.problem(
                scope,
                WRITE,
                format!("{at} has no HTTP Event Collector ({said}). Fix: the url is the HEC address, https://host:8088, and HEC must be enabled (Global Settings > All Tokens: Enabled)"),
            )
        }
        (300..=399, _) => return redirect(r, scope, &a),
        _ => {
            return r.problem(
                scope,
                WRITE,
                format!("{at} answered {said}. Fix: see Splunk's \"Troubleshoot HTTP Event Collector\" for the code, or its splunkd.log"),
            )
        }
    }
    if !c.ack {
        return;
    }
    // Asking about no ack id changes nothing; a token without acknowledgement says code 14.
    let what = "indexer acknowledgement";
    match http_client::post(&client, &ack_url, h, br#"{"acks":[]}"#.to_vec(), clean).await {
        Ok(a) if a.status.is_success() => {
            r.ok(scope, what, "ack = true and the token has it enabled")
        }
        Ok(a) => match hec_reply(&a) {
            (Some(14), _) => r.problem(
                scope,
                what,
                "ack = true but the token has indexer acknowledgement off. Fix: enable it on the token (Settings > Data inputs > HTTP Event Collector > Edit > Enable indexer acknowledgement), or set ack = false",
            ),
            (code, text) => r.warn(
                scope,
                what,
                format!(
                    "cannot tell whether the token has it: {} code {}: {text}. Fix: check 'Enable indexer acknowledgement' on the token",
                    a.status.as_u16(),
                    code.map_or("none".to_string(), |c| c.to_string())
                ),
            ),
        },
        Err(e) => r.warn(scope, what, format!("cannot ask: {e}")),
    }
}

pub async fn http(r: &mut Report, scope: &str, c: &HttpConfig) {
    let mut h = HeaderMap::new();
    for (n, v) in &c.headers {
        match (HeaderName::from_bytes(n.as_bytes()), sensitive(v.expose())) {
            (Ok(name), Some(value)) => {
                h.append(name, value);
            }
            _ => {
                return r.problem(
                    scope,
                    WRITE,
                    format!("header {n} is not a valid header. Fix: correct its name or value"),
                )
            }
        }
    }
    match HeaderValue::from_str(&c.content_type) {
        Ok(v) => h.insert(CONTENT_TYPE, v),
        Err(_) => return r.problem(scope, WRITE, "content_type is not a valid header value"),
    };
    let mut body = Vec::new();
    if c.gzip {
        h.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        body = http_client::gzip(&[]).unwrap_or_default();
    }
    let secrets: Vec<&Secret> = c.headers.iter().map(|(_, v)| v).collect();
    let fix = "check the output's credential: header.*, header_env.* or header_file.* (the key the service gave you), bearer_token_env / bearer_token_file, or username with password_env / password_file";
    empty_batch(r, scope, &c.target, h, body, &secrets, fix).await;
}

pub async fn logplex(r: &mut Report, scope: &str, c: &LogplexConfig) {
    let mut h = HeaderMap::new();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/logplex-1"),
    );
    h.insert("Logplex-Msg-Count", HeaderValue::from(0));
    // A frame id no batch can have: a batch's is a hash of its event ids.
    let frame = format!("doctor-{}", uuid::Uuid::new_v4().simple());
    if let Ok(v) = HeaderValue::from_str(&frame) {
        h.insert("Logplex-Frame-Id", v);
    }
    if let Some(t) = c
        .drain_token
        .as_deref()
        .and_then(|t| HeaderValue::from_str(t).ok())
    {
        h.insert("Logplex-Drain-Token", t);
    }
    let mut secrets: Vec<&Secret> = c.password.iter().collect();
    let auth;
    if let (Some(u), Some(p)) = (&c.username, &c.password) {
        use base64::Engine;
        let pair = format!("{u}:{}", p.expose());
        auth = Secret::new(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        ));
        if let Some(v) = sensitive(auth.expose()) {
            h.insert(AUTHORIZATION, v);
        }
        secrets.push(&auth);
    }
    let fix = "check the output's username and password_env / password_file (Heroku writes them into the drain URL)";
    empty_batch(r, scope, &c.target, h, Vec::new(), &secrets, fix).await;
}

/// POSTs an empty batch and says what the answer means; `fix` is for a refused credential.
async fn empty_batch(
    r: &mut Report,
    scope: &str,
    target: &http_client::Target,
    h: HeaderMap,
    body: Vec<u8>,
    secrets: &[&Secret],
    fix: &str,
) {
    let client = match target.client() {
        Ok(c) => c,
        Err(e) => return r.problem(scope, WRITE, e.to_string()),
    };
    let clean = |t: &str| scrub(t, secrets);
    let url = &target.url;
    let a = match http_client::post(&client, url, h, body, clean).await {
        Ok(a) => a,
        Err(e) => return transport(r, scope, &e.to_string()),
    };
    let status = a.status;
    let said = clean(&format!("{status}: {}", http_client::excerpt(&a.body)));
    match status.as_u16() {
        200..=299 => r.ok(
            scope,
            WRITE,
            format!("{url} accepts a write (an empty batch, nothing stored)"),
        ),
        401 | 403 => r.problem(
            scope,
            WRITE,
            format!("{url} refused the credential ({said}). Fix: {fix}"),
        ),
        404 => r.problem(
            scope,
            WRITE,
            format!("{url} has nothing at this path ({said}). Fix: give the full URL of the collector (the path included) as the service shows it"),
        ),
        400 | 422 => r.ok(
            scope,
            WRITE,
            format!("{url} is reachable and took the credential, but refuses an empty batch ({said}); events should pass"),
        ),
        300..=399 => redirect(r, scope, &a),
        _ => r.problem(
            scope,
            WRITE,
            format!("{url} answered {said}. Fix: the receiver is failing or refusing; read its logs"),
        ),
    }
}

fn transport(r: &mut Report, scope: &str, e: &str) {
    r.problem(
        scope,
        WRITE,
        format!(
            "{e}. Fix: check the url, that the service is up, the firewall, and for TLS ca_file"
        ),
    );
}

fn redirect(r: &mut Report, scope: &str, a: &Answer) {
    let to = a
        .headers
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("?");
    r.problem(
        scope,
        WRITE,
        format!(
            "the url redirects ({}) to {to}. Fix: set url to the address it redirects to",
            a.status
        ),
    );
}

/// The templates the output relies on, read only.
pub async fn es_templates(
    r: &mut Report,
    scope: &str,
    es: &EsConfig,
    client: &EsClient,
    flavor: Option<Flavor>,
) {
    let Some(flavor) = flavor else {
        // `GET /` was refused: setup cannot run with these credentials either.
        return;
    };
    let what = "index template";
    let setup = "run `sfevents setup elasticsearch` with the same --to or --config, once, with credentials that have manage_index_templates (`ship` and `collect` do not install it)";
    let path = format!("_index_template/{NAME}");
    match client.get(&path).await {
        Ok(a) if a.status == StatusCode::NOT_FOUND => r.warn(
            scope,
            what,
            format!(
                "{NAME} is not installed: the data streams get the cluster's default mappings{}. Fix: {setup}",
                if flavor == Flavor::OpenSearch { " (on OpenSearch, plain indices instead of data streams)" } else { "" }
            ),
        ),
        Ok(a) if a.status.is_success() => {
            let found = a.json();
            let current = found.as_ref().and_then(|v| {
                v["index_templates"]
                    .as_array()?
                    .iter()
                    .find(|t| t["name"] == NAME)
                    .map(|t| &t["index_template"])
            });
            let wanted = templates::index_template(flavor, es.retention_days);
            match current.map(templates::meta_digest) {
                None => r.warn(scope, what, format!("{NAME} is not installed. Fix: {setup}")),
                Some(d) if d == templates::meta_digest(&wanted) => {
                    r.ok(scope, what, format!("{NAME} is installed"))
                }
                Some(_) => r.warn(
                    scope,
                    what,
                    format!("{NAME} is installed but differs from this version's (another version, or retention_days changed). Fix: run `sfevents setup elasticsearch` again to update it"),
                ),
            }
        }
        Ok(a) if matches!(a.status.as_u16(), 401 | 403) => r.ok(
            scope,
            what,
            format!("these credentials may not read templates ({}), as a shipping-only key should not; if setup was never run: {setup}", a.status),
        ),
        Ok(a) => r.warn(
            scope,
            what,
            format!("cannot read {path}: {} {}", a.status, a.error_text()),
        ),
        Err(e) => r.warn(scope, what, format!("cannot read {path}: {e}")),
    }
    if es.retention_days.is_some() {
        let path = match flavor {
            Flavor::Elasticsearch => format!("_ilm/policy/{NAME}"),
            Flavor::OpenSearch => format!("_plugins/_ism/policies/{NAME}"),
        };
        if let Ok(a) = client.get(&path).await {
            if a.status == StatusCode::NOT_FOUND {
                r.warn(
                    scope,
                    "lifecycle policy",
                    format!("retention_days is set but the policy {NAME} is not installed: nothing is ever deleted. Fix: {setup}"),
                );
            } else if a.status.is_success() {
                r.ok(scope, "lifecycle policy", format!("{NAME} is installed"));
            }
        }
    }
    if es.mode != EsMode::Agent {
        return;
    }
    let what = "agent mode";
    if flavor == Flavor::OpenSearch {
        return r.problem(
            scope,
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
                r.warn(
                    scope,
                    what,
                    "mode = agent relies on Elastic's Salesforce integration (its ingest pipelines and templates), which is not installed: the login, logout, apex, setupaudittrail and aura_request events would be stored unparsed. Fix: in Kibana, Integrations > Salesforce > Settings > Install Salesforce assets, or use mode = ecs",
                );
            } else {
                r.ok(
                    scope,
                    what,
                    format!("Elastic's Salesforce integration is installed ({n} templates)"),
                );
            }
        }
        Ok(a) => r.warn(
            scope,
            what,
            format!(
                "cannot tell whether Elastic's Salesforce integration is installed: {} {}",
                a.status,
                a.error_text()
            ),
        ),
        Err(e) => r.warn(
            scope,
            what,
            format!("cannot read the integration's templates: {e}"),
        ),
    }
}
