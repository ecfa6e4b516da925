//! `doctor`'s check of the plain HTTP output: an empty batch with the output's own headers
//! and credentials, which stores nothing.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE};

use super::config::HttpConfig;
use crate::http_client;
use crate::probe::{sensitive, EmptyBatch, Findings, WRITE};
use base::secret::Secret;

pub async fn probe(c: &HttpConfig, out: &mut dyn Findings) {
    let mut h = HeaderMap::new();
    for (n, v) in &c.headers {
        match (HeaderName::from_bytes(n.as_bytes()), sensitive(v.expose())) {
            (Ok(name), Some(value)) => {
                h.append(name, value);
            }
            _ => {
                return out.problem(
                    WRITE,
                    format!("header {n} is not a valid header. Fix: correct its name or value"),
                )
            }
        }
    }
    match HeaderValue::from_str(&c.content_type) {
        Ok(v) => h.insert(CONTENT_TYPE, v),
        Err(_) => return out.problem(WRITE, "content_type is not a valid header value"),
    };
    let mut body = Vec::new();
    if c.gzip {
        h.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        body = http_client::gzip(&[]).unwrap_or_default();
    }
    let secrets: Vec<&Secret> = c.headers.iter().map(|(_, v)| v).collect();
    EmptyBatch {
        target: &c.target,
        headers: h,
        body,
        secrets: &secrets,
        fix: "check the output's credential: header.*, header_env.* or header_file.* (the key the service gave you), bearer_token_env / bearer_token_file, or username with password_env / password_file",
    }
    .send(out)
    .await;
}
