//! `doctor`'s check of the Splunk HEC output: an empty body to `services/collector/event`.
//! Splunk checks the token first, then answers `400 {"text":"No data","code":5}`: the token
//! is good and nothing is indexed. With `ack = true`, an empty `{"acks":[]}` query to
//! `services/collector/ack` tells whether the token has indexer acknowledgement (code 14 when
//! it has not).

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use serde_json::Value;
use url::Url;

use super::config::SplunkConfig;
use crate::http_client::{self, Answer};
use crate::probe::{redirect, sensitive, transport, Findings, WRITE};
use base::secret::{scrub, Secret};

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

fn code_text(code: Option<i64>) -> String {
    code.map_or("none".to_string(), |c| c.to_string())
}

/// What the probe sends with.
struct Hec<'a> {
    c: &'a SplunkConfig,
    client: reqwest::Client,
    headers: HeaderMap,
    auth: Secret,
}

impl Hec<'_> {
    fn clean(&self, t: &str) -> String {
        scrub(t, &[&self.c.token, &self.auth])
    }
}

pub async fn probe(c: &SplunkConfig, out: &mut dyn Findings) {
    let client = match c.target.client() {
        Ok(c) => c,
        Err(e) => return out.problem(WRITE, e.to_string()),
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
        return out.problem(WRITE, format!("{base} cannot take a HEC path"));
    };
    let auth = Secret::new(format!("Splunk {}", c.token.expose()));
    let Some(auth_value) = sensitive(auth.expose()) else {
        return out.problem(
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
    let hec = Hec {
        c,
        client,
        headers: h,
        auth,
    };
    if token(&hec, out, &event_url).await && c.ack {
        acknowledgement(&hec, out, &ack_url).await;
    }
}

/// The empty request: whether the token is accepted. `false` when it is not (a problem).
async fn token(hec: &Hec<'_>, out: &mut dyn Findings, event_url: &Url) -> bool {
    let clean = |t: &str| hec.clean(t);
    let at = &hec.c.target.url;
    let a = match http_client::post(
        &hec.client,
        event_url,
        hec.headers.clone(),
        Vec::new(),
        clean,
    )
    .await
    {
        Ok(a) => a,
        Err(e) => {
            transport(out, &e.to_string());
            return false;
        }
    };
    let (code, text) = hec_reply(&a);
    let said = clean(&format!(
        "{}, code {}: {text}",
        a.status.as_u16(),
        code_text(code)
    ));
    let problem = match (a.status.as_u16(), code) {
        (200..=299, _) | (_, Some(5)) => {
            out.ok(
                WRITE,
                format!("{at}: token accepted (an empty request, no event written)"),
            );
            return true;
        }
        (_, Some(1)) => format!("{at} says the HEC token is disabled ({said}). Fix: enable it in Splunk, Settings > Data inputs > HTTP Event Collector"),
        (_, Some(2..=4)) | (401 | 403, None) => format!("{at} refused the HEC token ({said}). Fix: put the token shown in Splunk's Settings > Data inputs > HTTP Event Collector in the output's token_file (or the variable token_env names), and check that it is enabled there"),
        (404, _) => format!("{at} has no HTTP Event Collector ({said}). Fix: the url is the HEC address, https://host:8088, and HEC must be enabled (Global Settings > All Tokens: Enabled)"),
        (300..=399, _) => {
            redirect(out, &a);
            return false;
        }
        _ => format!("{at} answered {said}. Fix: see Splunk's \"Troubleshoot HTTP Event Collector\" for the code, or its splunkd.log"),
    };
    out.problem(WRITE, problem);
    false
}

/// Asking about no ack id changes nothing; a token without acknowledgement says code 14.
async fn acknowledgement(hec: &Hec<'_>, out: &mut dyn Findings, ack_url: &Url) {
    let what = "indexer acknowledgement";
    let body = br#"{"acks":[]}"#.to_vec();
    let clean = |t: &str| hec.clean(t);
    match http_client::post(&hec.client, ack_url, hec.headers.clone(), body, clean).await {
        Ok(a) if a.status.is_success() => {
            out.ok(what, "ack = true and the token has it enabled")
        }
        Ok(a) => match hec_reply(&a) {
            (Some(14), _) => out.problem(
                what,
                "ack = true but the token has indexer acknowledgement off. Fix: enable it on the token (Settings > Data inputs > HTTP Event Collector > Edit > Enable indexer acknowledgement), or set ack = false",
            ),
            (code, text) => out.warn(
                what,
                format!(
                    "cannot tell whether the token has it: {} code {}: {text}. Fix: check 'Enable indexer acknowledgement' on the token",
                    a.status.as_u16(),
                    code_text(code)
                ),
            ),
        },
        Err(e) => out.warn(what, format!("cannot ask: {e}")),
    }
}
