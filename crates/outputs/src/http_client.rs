//! What the HTTP outputs share (Elasticsearch, Splunk HEC, log drains, plain HTTP): one reqwest
//! client per output with the same TLS rules as the Salesforce client, and the same reading of
//! a refused request or a failed connection.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use crate::settings::{ConfigError, Settings};
use crate::sink::SinkError;
use base::error_chain;

/// A whole request, body and answer (Beats' default `timeout`).
pub const TIMEOUT: Duration = Duration::from_secs(90);

/// rustls with the system roots plus `ca_file` and `SSL_CERT_FILE` (as `client::http_client`
/// does for Salesforce), `HTTPS_PROXY` from the environment (reqwest's default), gzip answers,
/// no redirects (a redirected POST would lose its body or change method; better to say so).
pub fn build(ca_file: Option<&PathBuf>, verify: bool) -> Result<reqwest::Client, SinkError> {
    let mut b = reqwest::Client::builder()
        .user_agent(concat!("sfevents/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(20))
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .gzip(true);
    let env_ca = std::env::var_os("SSL_CERT_FILE").map(PathBuf::from);
    for path in ca_file.cloned().into_iter().chain(env_ca) {
        let pem = std::fs::read(&path).map_err(|e| {
            SinkError::Fatal(format!("cannot read CA file {}: {e}", path.display()))
        })?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .ok()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| {
                SinkError::Fatal(format!(
                    "CA file {} holds no PEM certificates",
                    path.display()
                ))
            })?;
        for c in certs {
            b = b.add_root_certificate(c);
        }
    }
    if !verify {
        tracing::warn!("tls_verify = false: the output accepts any certificate");
        b = b.tls_danger_accept_invalid_certs(true);
    }
    b.build()
        .map_err(|e| SinkError::Fatal(format!("cannot set up HTTPS: {}", error_chain(&e))))
}

/// A failed connection to `base`. Certificate problems are fatal: retrying cannot make an
/// untrusted certificate trusted, and backing off forever would hide a setting to fix.
/// `scrub` removes secrets from the text.
pub fn transport(base: &str, e: &reqwest::Error, scrub: impl Fn(&str) -> String) -> SinkError {
    let chain = scrub(&error_chain(e));
    if chain.contains("certificate") {
        return SinkError::Fatal(format!(
            "the TLS certificate of {base} is not trusted: {chain}. Give its CA with ca_file (or SSL_CERT_FILE), or tls_verify = false for a test server"
        ));
    }
    if e.is_timeout() {
        return SinkError::Transient(format!(
            "{base} did not answer within {} s: {chain}",
            TIMEOUT.as_secs()
        ));
    }
    SinkError::Transient(format!(
        "cannot reach {base}: {chain}. Check the url, the network and HTTPS_PROXY"
    ))
}

/// The answers that pass: a proxy's timeout (408), throttling (429) and server trouble (5xx)
/// except 501 (not implemented), as Vector's HTTP retry logic has it. `message` describes the
/// refusal; a `Retry-After` in seconds makes the error [`SinkError::Throttled`].
pub fn retryable(status: StatusCode, headers: &HeaderMap, message: &str) -> Option<SinkError> {
    let code = status.as_u16();
    if !matches!(code, 408 | 429 | 500 | 502..=599) {
        return None;
    }
    // Retry-After in seconds (the form proxies and cloud intakes send); an HTTP date is rare
    // here and falls back to the shipper's backoff.
    let after = headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let message = match after {
        Some(s) => format!("{message} (Retry-After {s} s)"),
        None => message.to_string(),
    };
    Some(match after {
        // Bounded, so a wrong header cannot park a shipper for hours.
        Some(s) => SinkError::Throttled {
            message,
            after: Duration::from_secs(s.min(300)),
        },
        None => SinkError::Transient(message),
    })
}

/// The start of an answer's body, for messages (a proxy's page, a JSON error).
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        "no body".to_string()
    } else {
        text.chars().take(300).collect()
    }
}

/// A redirect: the url to configure instead.
pub fn redirect(base: &str, what: &str, status: StatusCode, headers: &HeaderMap) -> SinkError {
    SinkError::Fatal(format!(
        "{base} redirects {what} ({status}) to {}: set url to the address it redirects to",
        headers
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("?")
    ))
}

/// Where an HTTP output sends, and which certificates it trusts.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: url::Url,
    pub ca_file: Option<PathBuf>,
    pub tls_verify: bool,
}

impl Target {
    /// The settings every HTTP output reads with [`Target::parse`].
    pub const KEYS: &'static [&'static str] = &["ca_file", "tls_verify"];

    pub fn parse(url: &url::Url, s: &Settings) -> Result<Target, ConfigError> {
        if url.scheme() != "https" && url.scheme() != "http" {
            return Err(ConfigError::invalid(format!(
                "url {url} must start with https://"
            )));
        }
        base::http::check_http(url, "output URL")
            .map_err(|e| ConfigError::PlainHttp(e.to_string()))?;
        Ok(Target {
            url: url.clone(),
            ca_file: s.existing_file("ca_file", "a PEM file of CA certificates")?,
            tls_verify: s.flag("tls_verify", true)?,
        })
    }

    pub fn client(&self) -> Result<reqwest::Client, SinkError> {
        build(self.ca_file.as_ref(), self.tls_verify)
    }
}

/// An answer, its body read up to [`MAX_ANSWER`] (the rest is dropped: these outputs only
/// quote answers).
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

const MAX_ANSWER: usize = 1 << 20;

/// Gzips a request body at level 1 (Beats' default: most of the gain on NDJSON for little CPU;
/// levels 3 and 6 cost 2 and 4 times as much for 3 and 5 points less, BENCHMARKS.md).
pub fn gzip(body: &[u8]) -> Result<Vec<u8>, SinkError> {
    use std::io::Write;
    let mut z = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::fast(),
    );
    z.write_all(body)
        .and_then(|_| z.finish())
        .map_err(|e| SinkError::Fatal(format!("cannot gzip a request body: {e}")))
}

/// POSTs `body` to `url` and reads the answer. `scrub` removes secrets from error texts.
pub async fn post(
    client: &reqwest::Client,
    url: &url::Url,
    headers: HeaderMap,
    body: Vec<u8>,
    scrub: impl Fn(&str) -> String,
) -> Result<Answer, SinkError> {
    let base = format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default());
    let resp = client
        .post(url.clone())
        .headers(headers)
        .body(body)
        .send()
        .await
        .map_err(|e| transport(&base, &e, &scrub))?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let mut body = Vec::new();
    let mut resp = resp;
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| transport(&base, &e, &scrub))?
    {
        let room = MAX_ANSWER.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// What a plain HTTP answer means for a request of `n` events: 2xx delivered; 413 and 400
/// split the request; 408, 429 and 5xx pass; credentials refused, no such endpoint and
/// anything else are for the user to fix.
pub fn part(dest: &str, n: usize, a: &Answer) -> Result<crate::parts::Part, SinkError> {
    use crate::parts::Part;
    let status = a.status;
    let text = excerpt(&a.body);
    if status.is_success() {
        return Ok(Part::Done(vec![crate::sink::Verdict::Delivered; n]));
    }
    let message = format!("{dest} answered {status}: {text}");
    if let Some(e) = retryable(status, &a.headers, &message) {
        return Err(e);
    }
    match status.as_u16() {
        413 => Ok(Part::Split(format!(
            "{dest} refuses the event as too large (413) even alone: {text}"
        ))),
        400 | 422 => Ok(Part::Split(format!("{dest} refused the event ({status}): {text}"))),
        401 | 403 => Err(SinkError::Fatal(format!(
            "{dest} refused the credentials ({status} {text}): check the token, header or password the output sends"
        ))),
        404 | 405 => Err(SinkError::Fatal(format!(
            "{dest} has no such endpoint ({status} {text}): check the url"
        ))),
        300..=399 => Err(redirect(dest, "the request", status, &a.headers)),
        _ => Err(SinkError::Fatal(message)),
    }
}
