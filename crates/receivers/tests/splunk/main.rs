//! The Splunk HEC receiver through HTTP, as a client sees it (reqwest).

mod acks;
mod attempts;
mod faults;
mod ingest;

use receivers::splunk::{self, Config, Handle, Token};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::Value;

pub const TOKEN: &str = "11111111-2222-3333-4444-555555555555";
pub const ACK_TOKEN: &str = "ack-token-0000";
pub const CHANNEL: &str = "0b6b4e3c-6f3a-4c7a-9e8b-2c1d0a9f8e7d";
pub const OTHER_CHANNEL: &str = "A1B2C3D4-0000-4000-8000-0123456789AB";

/// A plain token and one with indexer acknowledgement.
pub fn config() -> Config {
    Config::with_tokens(vec![Token::new(TOKEN), Token::new(ACK_TOKEN).with_ack()])
}

pub async fn start(config: Config) -> Handle {
    splunk::start(config).await.expect("receiver starts")
}

pub fn client() -> reqwest::Client {
    reqwest::Client::new()
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body as sent, to compare byte for byte with Splunk's.
    pub text: String,
    pub body: Value,
}

pub async fn answer(resp: reqwest::Response) -> Answer {
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        text,
        body,
    }
}

/// `POST {url}{path}` with `Authorization: Splunk <token>`.
pub async fn post(url: &str, path: &str, token: &str, body: impl Into<reqwest::Body>) -> Answer {
    send(
        client()
            .post(format!("{url}{path}"))
            .header("authorization", format!("Splunk {token}"))
            .body(body),
    )
    .await
}

pub async fn send(req: reqwest::RequestBuilder) -> Answer {
    answer(req.send().await.expect("request answered")).await
}

/// Asserts an HEC error answer: status, code, text, and the bad event's position.
pub fn assert_hec(a: &Answer, status: u16, code: u64, text: &str, event: Option<u64>) {
    assert_eq!(a.status.as_u16(), status, "{}", a.text);
    assert_eq!(a.body["code"].as_u64(), Some(code), "{}", a.text);
    assert_eq!(a.body["text"], text, "{}", a.text);
    assert_eq!(a.body["invalid-event-number"].as_u64(), event, "{}", a.text);
}
