//! The Salesforce REST client: every API request goes through [`SfClient::send`], which adds
//! the session, renews it on 401, retries 5xx/429/connection faults with jittered exponential
//! backoff, stops at once on REQUEST_LIMIT_EXCEEDED, and counts API calls.
//!
//! Token requests are the one exception: [`TokenManager`] sends them itself, on the client
//! [`build_http_client`] made for this one (its documentation says why).

pub mod download;
pub mod query;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use backon::BackoffBuilder;
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use thiserror::Error;

use crate::auth::{AuthError, Session, TokenManager};

#[derive(Debug, Error)]
pub enum ApiError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The org's daily API allowance is spent: stop, keep the cursor, resume tomorrow.
    #[error("Salesforce's API request limit is reached ({0}); collection resumes on a later run")]
    LimitExceeded(String),
    /// Salesforce answered with an error that retrying will not fix.
    #[error("HTTP {status} {code}: {message}")]
    Status {
        status: u16,
        code: String,
        message: String,
    },
    /// Retries ran out on faults that may pass (5xx, 429, cut connections).
    #[error("{0}")]
    Transient(String),
    #[error("{0}")]
    Protocol(String),
    /// The org's usage passed the budget set by api_budget_percent: stop for the day.
    #[error("{0}")]
    Budget(String),
    /// The archive or state.db failed while a query was being consumed.
    #[error("{0}")]
    Local(String),
}

/// API call counters. A cycle counts its own calls in a child whose every call and usage
/// reading also reaches the org's counters, so concurrent cycles are not counted twice.
#[derive(Debug, Default)]
pub struct ApiStats {
    /// Requests that reached Salesforce's REST API (each counts against DailyApiRequests).
    pub calls: AtomicU64,
    /// The last `Sforce-Limit-Info: api-usage=USED/MAX` seen.
    pub usage: Mutex<Option<(u64, u64)>>,
    parent: Option<Arc<ApiStats>>,
}

impl ApiStats {
    pub fn child_of(parent: Arc<ApiStats>) -> ApiStats {
        ApiStats {
            parent: Some(parent),
            ..Default::default()
        }
    }
    fn count_call(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if let Some(p) = &self.parent {
            p.count_call();
        }
    }
    /// Why no more should be spent today, if the last usage seen is past `percent` of the
    /// org's DailyApiRequests. 100% is no budget of our own: Salesforce's limit decides.
    pub fn over_budget(&self, percent: u8) -> Option<String> {
        if percent >= 100 {
            return None;
        }
        let (used, max) = self.usage()?;
        (max > 0 && used * 100 >= max * u64::from(percent)).then(|| {
            format!(
                "the org has used {used} of its daily API request limit of {max}, past the budget of {percent}% (api_budget_percent); collection resumes when usage falls"
            )
        })
    }

    fn set_usage(&self, u: (u64, u64)) {
        if let Ok(mut g) = self.usage.lock() {
            *g = Some(u);
        }
        if let Some(p) = &self.parent {
            p.set_usage(u);
        }
    }
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }
    pub fn usage(&self) -> Option<(u64, u64)> {
        self.usage.lock().map(|u| *u).unwrap_or(None)
    }
}

/// Retry timing.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub min_delay: Duration,
    pub max_delay: Duration,
}

impl RetryPolicy {
    pub fn new(max_attempts: u32) -> Self {
        RetryPolicy {
            max_attempts,
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(30),
        }
    }
    /// Jittered exponential delays, one per retry.
    pub fn delays(&self) -> impl Iterator<Item = Duration> {
        backon::ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_factor(2.0)
            .with_jitter()
            .without_max_times()
            .build()
    }
}

pub struct SfClient {
    pub http: reqwest::Client,
    pub tokens: Arc<TokenManager>,
    pub api_version: String,
    pub retry: RetryPolicy,
    pub stats: Arc<ApiStats>,
    /// `api_budget_percent`: no request is sent once the org's usage is past it. `None` for
    /// the calls that must go through anyway (login, the /limits re-check).
    pub budget: Option<u8>,
}

#[derive(Deserialize)]
struct RestError {
    #[serde(default)]
    message: String,
    #[serde(default, rename = "errorCode")]
    error_code: String,
}

pub use base::error_chain;

/// Why the HTTP client cannot be built: a CA file that does not serve, or TLS that cannot be
/// set up.
#[derive(Debug, Error)]
pub enum HttpSetupError {
    #[error("cannot read CA file {}: {error}", path.display())]
    ReadCa {
        path: std::path::PathBuf,
        error: std::io::Error,
    },
    #[error("CA file {} holds no PEM certificates: {error}", path.display())]
    BadPem {
        path: std::path::PathBuf,
        error: reqwest::Error,
    },
    #[error("CA file {} holds no PEM certificates", .0.display())]
    NoCertificates(std::path::PathBuf),
    #[error("cannot set up HTTPS: {}", error_chain(.0))]
    Tls(reqwest::Error),
}

/// Builds the HTTP client: rustls, the system roots plus `ca_file` and `SSL_CERT_FILE`,
/// `HTTPS_PROXY` from the environment, gzip. The org's [`SfClient`] and its
/// [`TokenManager`] share it, so API and token requests leave alike.
pub fn build_http_client(ca_file: Option<&Path>) -> Result<reqwest::Client, HttpSetupError> {
    let mut b = reqwest::Client::builder()
        .user_agent(concat!("sfevents/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(20))
        .read_timeout(Duration::from_secs(120))
        .gzip(true);
    let env_ca = std::env::var_os("SSL_CERT_FILE").map(std::path::PathBuf::from);
    for path in ca_file.map(Path::to_path_buf).into_iter().chain(env_ca) {
        let pem = match std::fs::read(&path) {
            Ok(pem) => pem,
            Err(error) => return Err(HttpSetupError::ReadCa { path, error }),
        };
        let certs = match reqwest::Certificate::from_pem_bundle(&pem) {
            Ok(certs) if certs.is_empty() => return Err(HttpSetupError::NoCertificates(path)),
            Ok(certs) => certs,
            Err(error) => return Err(HttpSetupError::BadPem { path, error }),
        };
        for c in certs {
            b = b.add_root_certificate(c);
        }
    }
    b.build().map_err(HttpSetupError::Tls)
}

fn parse_limit_info(h: &str) -> Option<(u64, u64)> {
    let part = h
        .split(';')
        .find_map(|p| p.trim().strip_prefix("api-usage="))?;
    let (used, max) = part.split_once('/')?;
    Some((used.trim().parse().ok()?, max.trim().parse().ok()?))
}

fn is_daily_limit(status: StatusCode, message: &str) -> bool {
    !message.contains("Concurrent")
        && (status == StatusCode::FORBIDDEN || message.contains("TotalRequests"))
}

fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    let v = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?;
    v.trim()
        .parse::<u64>()
        .ok()
        .map(|s| Duration::from_secs(s.min(300)))
}

impl SfClient {
    /// `/services/data/vNN.0`.
    pub fn data_path(&self) -> String {
        format!("/services/data/v{}", self.api_version)
    }

    /// Sends a request to a path on the instance (or a full URL on it) and returns a 2xx
    /// response whose body is not yet read.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<reqwest::Response, ApiError> {
        let mut delays = self.retry.delays();
        let mut attempt = 0u32;
        let mut reauths = 0u32;
        let mut session: Arc<Session> = self.tokens.session().await?;
        loop {
            if let Some(why) = self.budget.and_then(|p| self.stats.over_budget(p)) {
                return Err(ApiError::Budget(why));
            }
            attempt += 1;
            let req = self.request(&session, &method, path, headers)?;
            let wait = match req.send().await {
                Err(e) => {
                    let msg = format!("cannot reach {}: {}", session.instance_url, error_chain(&e));
                    if attempt >= self.retry.max_attempts {
                        return Err(ApiError::Transient(format!(
                            "{msg} (after {attempt} attempts). Check the instance URL, network and proxy"
                        )));
                    }
                    tracing::warn!(attempt, "{msg}; retrying");
                    None
                }
                Ok(resp) => {
                    self.stats.count_call();
                    if let Some(u) = resp
                        .headers()
                        .get("sforce-limit-info")
                        .and_then(|v| v.to_str().ok())
                        .and_then(parse_limit_info)
                    {
                        self.stats.set_usage(u);
                    }
                    if resp.status().is_success() {
                        return Ok(resp);
                    }
                    let refusal = Refusal::read(resp).await;
                    if refusal.status == StatusCode::UNAUTHORIZED && !refusal.is_daily_limit() {
                        reauths += 1;
                        session = self.log_in_again(refusal, reauths, &session).await?;
                        attempt -= 1;
                        continue;
                    }
                    refusal.retry_after(attempt, self.retry.max_attempts)?
                }
            };
            let d = wait.unwrap_or_else(|| delays.next().unwrap_or(self.retry.max_delay));
            tokio::time::sleep(d).await;
        }
    }

    fn request(
        &self,
        session: &Session,
        method: &Method,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<reqwest::RequestBuilder, ApiError> {
        let url = session
            .instance_url
            .join(path)
            .map_err(|e| ApiError::Protocol(format!("bad path {path}: {e}")))?;
        let mut req = self
            .http
            .request(method.clone(), url)
            .bearer_auth(session.access_token.expose());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        Ok(req)
    }

    /// After a 401: a new session, unless logging in again has not helped three times.
    async fn log_in_again(
        &self,
        refusal: Refusal,
        reauths: u32,
        stale: &Arc<Session>,
    ) -> Result<Arc<Session>, ApiError> {
        if reauths > 3 {
            return Err(ApiError::Status {
                status: 401,
                code: refusal.code,
                message: format!(
                    "{} (still refused after logging in again {} times)",
                    refusal.message,
                    reauths - 1
                ),
            });
        }
        tracing::info!("session expired ({}); logging in again", refusal.code);
        Ok(self.tokens.renew(Some(stale)).await?)
    }

    /// `GET` returning parsed JSON.
    pub async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<T, ApiError> {
        let mut delays = self.retry.delays();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let resp = self.send(Method::GET, path, headers).await?;
            match resp.bytes().await {
                Ok(b) => {
                    return serde_json::from_slice(&b).map_err(|e| {
                        ApiError::Protocol(format!(
                            "unexpected answer to GET {}: {e}",
                            strip_query(path)
                        ))
                    })
                }
                Err(e) if attempt < self.retry.max_attempts => {
                    tracing::warn!(attempt, "answer cut short: {}; retrying", error_chain(&e));
                    tokio::time::sleep(delays.next().unwrap_or(self.retry.max_delay)).await;
                }
                Err(e) => {
                    return Err(ApiError::Transient(format!(
                        "answer cut short: {}",
                        error_chain(&e)
                    )))
                }
            }
        }
    }

    /// `/limits`: DailyApiRequests (Max, Remaining). Old orgs send the numbers as strings.
    pub async fn daily_api_requests(&self) -> Result<(u64, u64), ApiError> {
        let v: serde_json::Value = self
            .get_json(&format!("{}/limits", self.data_path()), &[])
            .await?;
        let d = &v["DailyApiRequests"];
        let num = |x: &serde_json::Value| x.as_u64().or_else(|| x.as_str()?.parse().ok());
        match (num(&d["Max"]), num(&d["Remaining"])) {
            (Some(m), Some(r)) => Ok((m, r)),
            _ => Err(ApiError::Protocol("limits: no DailyApiRequests".into())),
        }
    }
}

/// A non-2xx answer, its body read.
struct Refusal {
    status: StatusCode,
    /// `Retry-After`, capped.
    after: Option<Duration>,
    /// Salesforce's `errorCode` (empty when the body is not Salesforce's error list).
    code: String,
    message: String,
}

impl Refusal {
    async fn read(resp: reqwest::Response) -> Refusal {
        let status = resp.status();
        let after = retry_after(&resp);
        let body = resp.text().await.unwrap_or_default();
        let (code, message) = match serde_json::from_str::<Vec<RestError>>(&body) {
            Ok(v) if !v.is_empty() => (v[0].error_code.clone(), v[0].message.clone()),
            _ => (String::new(), body.chars().take(300).collect()),
        };
        Refusal {
            status,
            after,
            code,
            message,
        }
    }

    /// The same code covers the daily allowance (403, "TotalRequests Limit exceeded.") and
    /// the concurrent-request limit, which passes: only the daily one stops the run.
    fn is_daily_limit(&self) -> bool {
        self.code == "REQUEST_LIMIT_EXCEEDED" && is_daily_limit(self.status, &self.message)
    }

    /// The wait before trying again (`None`: the next backoff delay), or the error to stop
    /// with: the daily limit, a refusal that retrying will not change, or retries spent.
    /// A 401 is the caller's (it logs in again).
    fn retry_after(self, attempt: u32, max_attempts: u32) -> Result<Option<Duration>, ApiError> {
        if self.is_daily_limit() {
            return Err(ApiError::LimitExceeded(self.message));
        }
        let Refusal {
            status,
            after,
            code,
            message,
        } = self;
        let transient = status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
        if !transient {
            return Err(ApiError::Status {
                status: status.as_u16(),
                code,
                message,
            });
        }
        if attempt >= max_attempts {
            return Err(ApiError::Transient(format!(
                "HTTP {status} {code} {message} (after {attempt} attempts)"
            )));
        }
        tracing::warn!(attempt, %status, %code, "Salesforce answered an error; retrying");
        Ok(after)
    }
}

/// A path without its query string, for messages (SOQL can be long).
pub fn strip_query(p: &str) -> &str {
    p.split('?').next().unwrap_or(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_info() {
        assert_eq!(parse_limit_info("api-usage=18/5000"), Some((18, 5000)));
        assert_eq!(
            parse_limit_info("api-usage=135/5000; per-app-api-usage=17/250(appName=x)"),
            Some((135, 5000))
        );
        assert_eq!(parse_limit_info("garbage"), None);
    }

    #[test]
    fn only_the_daily_allowance_stops_a_run() {
        assert!(is_daily_limit(
            StatusCode::FORBIDDEN,
            "TotalRequests Limit exceeded."
        ));
        assert!(!is_daily_limit(
            StatusCode::FORBIDDEN,
            "ConcurrentPerOrgLongTxn Limit exceeded."
        ));
        assert!(!is_daily_limit(
            StatusCode::TOO_MANY_REQUESTS,
            "ConcurrentPerOrgLongTxn Limit exceeded."
        ));
    }

    #[test]
    fn the_budget_is_a_share_of_daily_requests() {
        let stats = ApiStats::default();
        assert_eq!(stats.over_budget(50), None, "no usage seen yet");
        stats.set_usage((29, 60));
        assert_eq!(stats.over_budget(50), None);
        stats.set_usage((30, 60));
        assert!(stats
            .over_budget(50)
            .is_some_and(|m| m.contains("30 of its daily API request limit of 60")));
        stats.set_usage((60, 60));
        assert_eq!(
            stats.over_budget(100),
            None,
            "100% leaves it to Salesforce's own limit"
        );
        // A cycle's child sees what its calls report, and so does the org's total.
        let org = Arc::new(ApiStats::default());
        let cycle = ApiStats::child_of(org.clone());
        cycle.count_call();
        cycle.set_usage((9, 10));
        assert_eq!((cycle.calls(), org.calls()), (1, 1));
        assert!(org.over_budget(80).is_some());
    }

    #[test]
    fn delays_grow_and_are_bounded() {
        let p = RetryPolicy::new(5);
        let d: Vec<_> = p.delays().take(12).collect();
        assert_eq!(d.len(), 12);
        assert!(d.iter().all(|x| *x <= Duration::from_secs(60)));
    }
}
