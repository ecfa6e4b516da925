use std::time::{SystemTime, UNIX_EPOCH};

use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};
use sfsim::{OrgSpec, SimConfig, SimHandle};

pub fn config() -> SimConfig {
    SimConfig {
        org: OrgSpec {
            seed: 7,
            days: 2,
            anchor: chrono::Utc::now(),
            event_types: vec!["Login".into(), "API".into(), "URI".into()],
            hourly: true,
            rows_per_hour: (1, 5),
            late_files: true,
            big_file_bytes: None,
            records_per_hour: (2, 12),
            duplicate_event_identifiers: false,
        },
        ..SimConfig::default()
    }
}

pub async fn start() -> SimHandle {
    start_with(config()).await
}

pub async fn start_with(config: SimConfig) -> SimHandle {
    sfsim::start(config).await.expect("sfsim starts")
}

pub fn client() -> Client {
    Client::builder().no_gzip().build().expect("client")
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// A JWT assertion signed with the generated connected-app key.
pub fn assertion(sim: &SimHandle, claims: Value) -> String {
    let pem = std::fs::read(&sim.credentials.private_key_file).expect("server.key");
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(&pem).expect("rsa key");
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &claims,
        &key,
    )
    .expect("signed")
}

pub fn good_claims(sim: &SimHandle) -> Value {
    json!({
        "iss": sim.credentials.client_id,
        "sub": sim.credentials.username,
        "aud": "https://login.salesforce.com",
        "exp": unix_now() + 180,
    })
}

pub async fn post_token(sim: &SimHandle, form: &[(&str, &str)]) -> Response {
    client()
        .post(format!("{}/services/oauth2/token", sim.url))
        .form(form)
        .send()
        .await
        .expect("token call")
}

/// Logs in with the JWT bearer flow and returns the access token.
pub async fn token(sim: &SimHandle) -> String {
    let a = assertion(sim, good_claims(sim));
    let r = post_token(
        sim,
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", &a),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.expect("json");
    v["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

/// Checks an OAuth error answer.
pub async fn assert_oauth_error(r: Response, error: &str, description: &str) {
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"], error, "{v}");
    assert_eq!(v["error_description"], description, "{v}");
}

pub async fn get(sim: &SimHandle, token: &str, path: &str) -> Response {
    client()
        .get(format!("{}{}", sim.url, path))
        .bearer_auth(token)
        .send()
        .await
        .expect("get")
}

pub async fn query(sim: &SimHandle, token: &str, soql: &str) -> Response {
    client()
        .get(format!("{}/services/data/v64.0/query", sim.url))
        .query(&[("q", soql)])
        .bearer_auth(token)
        .send()
        .await
        .expect("query")
}

/// Checks a REST error answer (an array of {message, errorCode}).
pub async fn assert_api_error(r: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(r.status(), status);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v[0]["errorCode"], code, "{v}");
    assert!(v[0]["message"].is_string(), "{v}");
    v
}

/// The `used` part of `Sforce-Limit-Info: api-usage=used/max`.
pub fn api_usage(r: &Response) -> (u64, u64) {
    let v = r
        .headers()
        .get("sforce-limit-info")
        .and_then(|v| v.to_str().ok())
        .expect("Sforce-Limit-Info");
    let rest = v.strip_prefix("api-usage=").expect("api-usage");
    let (a, b) = rest.split_once('/').expect("used/max");
    (a.parse().expect("used"), b.parse().expect("max"))
}
