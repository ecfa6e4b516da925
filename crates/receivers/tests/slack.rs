//! The Slack incoming webhook receiver through HTTP (reqwest): Slack's plain-string refusals
//! with their exact statuses, Block Kit limits, the per-webhook rate limit with `Retry-After`,
//! faults, and a restart on the same port.

use std::time::Duration;

use receivers::slack::{self, Config, Faults, Handle, Refusal, Webhook};
use serde_json::{json, Value};

const HOOK: &str = "/services/T0001/B0001/abcdefghijklmnopqrstuvwx";
const OTHER: &str = "/services/T0001/B0002/zyxwvutsrqponmlkjihgfedc";

async fn start(config: Config) -> Handle {
    slack::start(config).await.expect("receiver starts")
}

/// Two webhooks, no rate limit (the refusal tests send more than Slack's pace).
fn unlimited() -> Config {
    Config {
        rate: None,
        ..Config::with_webhooks(vec![Webhook::new(HOOK), Webhook::new(OTHER)])
    }
}

/// Posts `body` as JSON; status, `Retry-After`, body text.
async fn post(
    s: &Handle,
    path: &str,
    body: impl Into<reqwest::Body>,
) -> (u16, Option<String>, String) {
    let resp = reqwest::Client::new()
        .post(s.webhook_url(path))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("answered");
    let status = resp.status().as_u16();
    let retry = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (status, retry, resp.text().await.unwrap())
}

async fn status_body(s: &Handle, path: &str, body: Value) -> (u16, String) {
    let (status, _, text) = post(s, path, body.to_string()).await;
    (status, text)
}

fn section(text: &str) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": text}})
}

fn field(n: usize) -> Value {
    json!({"type": "plain_text", "text": "f".repeat(n)})
}

#[tokio::test]
async fn payload_and_block_refusals_answer_slacks_strings() {
    let s = start(unlimited()).await;
    let bad = (400, "invalid_payload".to_string());
    assert_eq!(
        {
            let (st, _, t) = post(&s, HOOK, "not json").await;
            (st, t)
        },
        bad
    );
    assert_eq!(status_body(&s, HOOK, json!({"username": "x"})).await, bad);
    assert_eq!(status_body(&s, HOOK, json!({"text": ""})).await, bad);
    let blocks = (400, "invalid_blocks".to_string());
    let many: Vec<Value> = (0..51).map(|i| section(&format!("b{i}"))).collect();
    let header =
        |ty: &str, n: usize| json!({"type": "header", "text": {"type": ty, "text": "h".repeat(n)}});
    let cases = vec![
        json!({"text": "x", "blocks": many}),
        json!({"blocks": [section(&"s".repeat(3001))]}),
        json!({"blocks": [{"type": "section", "fields": (0..11).map(|_| field(1)).collect::<Vec<_>>()}]}),
        json!({"blocks": [{"type": "section", "fields": [field(2001)]}]}),
        json!({"blocks": [header("plain_text", 151)]}),
        json!({"blocks": [header("mrkdwn", 10)]}),
        json!({"blocks": [{"type": "video", "title": {"type": "plain_text", "text": "v"}}]}),
    ];
    for c in &cases {
        assert_eq!(status_body(&s, HOOK, c.clone()).await, blocks, "{c}");
    }
    // At the limits, all is well.
    let fine = json!({"text": "fallback", "blocks": [
        header("plain_text", 150),
        section(&"s".repeat(3000)),
        {"type": "section", "fields": (0..10).map(|_| field(2000)).collect::<Vec<_>>()},
        {"type": "divider"},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "ctx"}]},
        {"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Open"}, "url": "https://example.com"}]},
    ]});
    assert_eq!(
        status_body(&s, HOOK, fine.clone()).await,
        (200, "ok".into())
    );
    let msgs = s.messages_for(HOOK);
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].message, fine);
    assert_eq!(msgs[0].content_type.as_deref(), Some("application/json"));
    assert_eq!(s.requests(), 3 + cases.len() as u64 + 1);
    assert_eq!(s.stats().errors["invalid_blocks"], cases.len() as u64);
}

#[tokio::test]
async fn unknown_and_refusing_webhooks() {
    let s = start(Config {
        rate: None,
        webhooks: vec![
            Webhook::new(HOOK),
            Webhook::new("/services/T/B/prohibited").refusing(Refusal::ActionProhibited),
            Webhook::new("/services/T/B/gone").refusing(Refusal::ChannelNotFound),
            Webhook::new("/services/T/B/archived").refusing(Refusal::ChannelIsArchived),
        ],
        ..Config::default()
    })
    .await;
    let msg = json!({"text": "hello"});
    let cases = [
        ("/services/T/B/unknown", 404, "no_service"),
        ("/elsewhere", 404, "no_service"),
        ("/services/T/B/prohibited", 403, "action_prohibited"),
        ("/services/T/B/gone", 404, "channel_not_found"),
        ("/services/T/B/archived", 410, "channel_is_archived"),
    ];
    for (path, status, body) in cases {
        assert_eq!(
            status_body(&s, path, msg.clone()).await,
            (status, body.to_string()),
            "{path}"
        );
        assert_eq!(s.requests_to(path), 1);
    }
    assert!(s.messages().is_empty());
    assert_eq!(status_body(&s, HOOK, msg).await, (200, "ok".into()));
    assert_eq!(s.requests(), 6);
}

#[tokio::test]
async fn each_webhook_has_a_burst_then_one_a_second() {
    let s = start(Config::with_webhooks(vec![
        Webhook::new(HOOK),
        Webhook::new(OTHER),
    ]))
    .await;
    let msg = json!({"text": "x"}).to_string();
    for i in 0..3 {
        assert_eq!(post(&s, HOOK, msg.clone()).await.0, 200, "message {i}");
    }
    let (status, retry, body) = post(&s, HOOK, msg.clone()).await;
    assert_eq!(
        (status, retry.as_deref(), body.as_str()),
        (429, Some("1"), "rate_limited")
    );
    assert_eq!(
        post(&s, OTHER, msg.clone()).await.0,
        200,
        "another webhook's own bucket"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        post(&s, HOOK, msg.clone()).await.0,
        200,
        "one more a second later"
    );
    assert_eq!(post(&s, HOOK, msg).await.0, 429);
    assert_eq!(s.messages_for(HOOK).len(), 4);
    assert_eq!((s.requests_to(HOOK), s.stats().rate_limited), (6, 2));
}

#[tokio::test]
async fn faults_answer_rollup_error_and_rate_limited() {
    let s = start(unlimited()).await;
    s.set_faults(Faults {
        requests_503: 1,
        requests_429: 1,
        retry_after_secs: Some(7),
        close_connection: 1,
        ..Faults::default()
    });
    let msg = json!({"text": "x"}).to_string();
    assert_eq!(
        post(&s, HOOK, msg.clone()).await,
        (500, None, "rollup_error".into())
    );
    assert_eq!(
        post(&s, HOOK, msg.clone()).await,
        (429, Some("7".into()), "rate_limited".into())
    );
    let cut = reqwest::Client::new()
        .post(s.webhook_url(HOOK))
        .body(msg.clone())
        .send()
        .await;
    assert!(cut.is_err(), "dropped: {cut:?}");
    assert_eq!(post(&s, HOOK, msg).await.0, 200);
    assert_eq!((s.requests(), s.messages().len()), (4, 1));
}

#[tokio::test]
async fn stop_and_restart_on_the_same_port() {
    let s = start(unlimited()).await;
    let msg = json!({"text": "x"}).to_string();
    assert_eq!(post(&s, HOOK, msg.clone()).await.0, 200);
    let url = s.url().to_string();
    s.stop().await;
    assert!(reqwest::Client::new()
        .post(s.webhook_url(HOOK))
        .body(msg.clone())
        .send()
        .await
        .is_err());
    s.restart().await.unwrap();
    assert_eq!(s.url(), url);
    assert_eq!(post(&s, HOOK, msg).await.0, 200);
    assert_eq!(s.messages().len(), 2);
}
