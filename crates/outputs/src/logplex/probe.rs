//! `doctor`'s check of the log drain output: an empty batch (`Logplex-Msg-Count: 0`) with the
//! output's own credentials, which stores nothing.

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE};

use super::config::LogplexConfig;
use crate::probe::{sensitive, EmptyBatch, Findings};
use base::secret::Secret;

pub async fn probe(c: &LogplexConfig, out: &mut dyn Findings) {
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
    let auth = c.basic_auth();
    if let Some(a) = &auth {
        if let Some(v) = sensitive(a.expose()) {
            h.insert(AUTHORIZATION, v);
        }
        secrets.push(a);
    }
    EmptyBatch {
        target: &c.target,
        headers: h,
        body: Vec::new(),
        secrets: &secrets,
        fix: "check the output's username and password_env / password_file (Heroku writes them into the drain URL)",
    }
    .send(out)
    .await;
}
