//! The HTTP side of the Elasticsearch output: one reqwest client per output (rustls, the system
//! roots plus `ca_file` and `SSL_CERT_FILE`, `HTTPS_PROXY` from the environment, as the
//! Salesforce client), requests with the credentials of `auth`, and how a refused request
//! becomes a [`SinkError`]. Which cluster answers is `cluster`'s, asked through this client.

use bytes::Bytes;
use reqwest::header::CONTENT_TYPE;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_ENCODING};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use url::Url;

use super::auth::{authorization, Scheme};
use super::config::EsConfig;
use crate::http_client;
use crate::sink::SinkError;
use base::secret::{scrub, Secret};

/// The most of an answer read. Bulk answers are trimmed by `filter_path`; anything near this
/// means a proxy or a server that is not what the URL says.
const MAX_ANSWER: usize = 64 << 20;

/// An answer, read whole (bounded by [`MAX_ANSWER`]).
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The error an answer carries: Elasticsearch's `{"error": {type, reason, caused_by}}`, a
    /// string `error` (406, no handler), or the start of whatever else came (a proxy's page).
    pub fn error_text(&self) -> String {
        match self.json() {
            Some(v) if v.get("error").is_some_and(Value::is_object) => describe_error(&v["error"]),
            Some(Value::Object(m)) if m.get("error").is_some_and(Value::is_string) => {
                m["error"].as_str().unwrap_or_default().to_string()
            }
            _ => http_client::excerpt(&self.body),
        }
    }
}

/// `type: reason (caused by type: reason)` of an Elasticsearch error object.
pub fn describe_error(e: &Value) -> String {
    let part = |e: &Value| {
        let kind = e.get("type").and_then(Value::as_str).unwrap_or("error");
        match e.get("reason").and_then(Value::as_str) {
            Some(r) => format!("{kind}: {r}"),
            None => kind.to_string(),
        }
    };
    let mut s = part(e);
    if let Some(c) = e.get("caused_by").filter(|c| c.is_object()) {
        s.push_str(&format!(" (caused by {})", part(c)));
    }
    s
}

pub struct EsClient {
    http: reqwest::Client,
    /// The configured URL, with a trailing `/` so that paths join under a proxy's prefix.
    base: Url,
    auth: Option<HeaderValue>,
    scheme: Scheme,
    /// The secret and its header token, scrubbed from every text that quotes the server.
    secrets: Vec<Secret>,
}

impl EsClient {
    pub fn new(es: &EsConfig) -> Result<EsClient, SinkError> {
        let mut base = es.url.clone();
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let (auth, scheme, secrets) = authorization(es.auth.as_ref())?;
        Ok(EsClient {
            http: http_client::build(es.ca_file.as_ref(), es.tls_verify)?,
            base,
            auth,
            scheme,
            secrets,
        })
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    /// Removes the secrets from a text that quotes the server.
    pub fn scrub(&self, text: &str) -> String {
        let refs: Vec<&Secret> = self.secrets.iter().collect();
        scrub(text, &refs)
    }

    /// Sends a request to `path` (relative to the URL, no leading `/`). `body` is
    /// (bytes, Content-Type, gzipped).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<(Bytes, &str, bool)>,
    ) -> Result<Answer, SinkError> {
        let mut url = self
            .base
            .join(path)
            .map_err(|e| SinkError::Fatal(format!("cannot join {path} to {}: {e}", self.base)))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        // Plain media types: Elasticsearch 8/9 and OpenSearch both read them, whereas the
        // `vnd.elasticsearch+json; compatible-with=N` types of the official clients are refused
        // by OpenSearch and by an Elasticsearch two majors away (receivers' http.rs).
        let mut req = self
            .http
            .request(method, url)
            .header(ACCEPT, "application/json");
        if let Some(a) = &self.auth {
            req = req.header(AUTHORIZATION, a.clone());
        }
        if let Some((bytes, ctype, gzip)) = body {
            req = req.header(CONTENT_TYPE, ctype);
            if gzip {
                req = req.header(CONTENT_ENCODING, "gzip");
            }
            req = req.body(bytes);
        }
        let mut resp = req.send().await.map_err(|e| self.transport(&e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.transport(&e))? {
            if body.len() + chunk.len() > MAX_ANSWER {
                return Err(SinkError::Fatal(format!(
                    "{} answered {path} with more than {} MiB: is it Elasticsearch or OpenSearch, and does a proxy in between drop filter_path?",
                    self.base,
                    MAX_ANSWER >> 20
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    pub async fn get(&self, path: &str) -> Result<Answer, SinkError> {
        self.send(Method::GET, path, &[], None).await
    }

    pub async fn put_json(
        &self,
        path: &str,
        query: &[(&str, &str)],
        body: &Value,
    ) -> Result<Answer, SinkError> {
        let bytes = Bytes::from(body.to_string());
        self.send(
            Method::PUT,
            path,
            query,
            Some((bytes, "application/json", false)),
        )
        .await
    }

    /// A failed connection (see [`http_client::transport`]).
    fn transport(&self, e: &reqwest::Error) -> SinkError {
        http_client::transport(self.base.as_str(), e, |t| self.scrub(t))
    }

    /// A request answered with a failure other than the ones its caller handles. `what` names
    /// the request, `privileges` what the credentials need for it.
    pub fn refusal(&self, what: &str, a: &Answer, privileges: &str) -> SinkError {
        let text = self.scrub(&a.error_text());
        let status = a.status.as_u16();
        match status {
            401 => SinkError::Fatal(format!(
                "{} refused the credentials for {what} (401 {text}): {}",
                self.base,
                self.scheme.hint()
            )),
            403 => SinkError::Fatal(format!(
                "{} accepted the credentials but refused {what} (403 {text}): give {} {privileges}",
                self.base,
                self.scheme.who()
            )),
            404 => SinkError::Fatal(format!(
                "{} has no {what} (404 {text}): check the url, including any path prefix of a proxy",
                self.base
            )),
            // A proxy's timeout, the cluster's indexing pressure and node trouble pass.
            _ => {
                let message = format!("{} answered {what} with {status}: {text}", self.base);
                if let Some(e) = http_client::retryable(a.status, &a.headers, &message) {
                    e
                } else if a.status.is_redirection() {
                    http_client::redirect(self.base.as_str(), what, a.status, &a.headers)
                } else {
                    SinkError::Fatal(format!("{} refused {what} ({status} {text})", self.base))
                }
            }
        }
    }

    pub fn uses_api_key(&self) -> bool {
        matches!(self.scheme, Scheme::ApiKey)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_texts() {
        let a = |body: &str| Answer {
            status: StatusCode::BAD_REQUEST,
            headers: HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        };
        let es = r#"{"error":{"type":"x_exception","reason":"bad","caused_by":{"type":"y","reason":"why"}},"status":400}"#;
        assert_eq!(a(es).error_text(), "x_exception: bad (caused by y: why)");
        assert_eq!(a(r#"{"error":"no handler"}"#).error_text(), "no handler");
        assert_eq!(a("").error_text(), "no body");
        assert_eq!(a("<html>").error_text(), "<html>");
    }
}
