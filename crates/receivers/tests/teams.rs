//! The Teams Workflows webhook receiver through HTTP (reqwest): the path and `sig`, the
//! flow's refusals, 28 KB, 4 requests a second, 202 with an empty body, and a restart.

use receivers::teams::{self, Config, Faults, Handle, Workflow};
use serde_json::{json, Value};

const PATH: &str = "/workflows/0f1e2d3c4b5a69788796a5b4c3d2e1f0/triggers/manual/paths/invoke";
const SIG: &str = "aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5zA7bC9d";

fn flow() -> Workflow {
    Workflow::new(PATH, SIG)
}

async fn start(config: Config) -> Handle {
    teams::start(config).await.expect("receiver starts")
}

fn unlimited() -> Config {
    Config {
        rate: None,
        ..Config::with_workflows(vec![flow()])
    }
}

fn card(text: &str) -> Value {
    json!({"type": "AdaptiveCard", "version": "1.4",
           "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
           "body": [{"type": "TextBlock", "text": text, "wrap": true}]})
}

fn message(content: Value) -> Value {
    json!({"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": null, "content": content}
    ]})
}

/// Posts to `url`; status, `Retry-After`, body text.
async fn post_to(url: &str, body: impl Into<reqwest::Body>) -> (u16, Option<String>, String) {
    let resp = reqwest::Client::new()
        .post(url)
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

async fn post(t: &Handle, body: &Value) -> (u16, Option<String>, String) {
    post_to(&t.workflow_url(&flow()), body.to_string()).await
}

fn error(code: &str, message: &str) -> String {
    json!({"error": {"code": code, "message": message}}).to_string()
}

#[tokio::test]
async fn a_card_message_is_accepted_with_an_empty_202() {
    let t = start(unlimited()).await;
    let m = message(card("Login from a new country"));
    assert_eq!(post(&t, &m).await, (202, None, String::new()));
    assert_eq!(t.cards(), vec![card("Login from a new country")]);
    assert_eq!(t.messages()[0].message, m);
    assert_eq!(t.messages()[0].path, PATH);
    assert_eq!(t.requests(), 1);
}

#[tokio::test]
async fn the_flows_refusals() {
    let t = start(unlimited()).await;
    let m = message(card("x"));
    let foreach =
        "The execution of template action 'Send_each_adaptive_card' failed: the result of \
        the evaluation of 'foreach' expression '@triggerOutputs()?['body']?['attachments']' is of \
        type 'Null'. The result must be a valid array.";
    assert_eq!(
        post(&t, &json!({"text": "legacy connector body"})).await,
        (400, None, error("ExpressionEvaluationFailed", foreach))
    );
    assert_eq!(
        post(
            &t,
            &message(json!({"type": "MessageCard", "version": "1.0"}))
        )
        .await,
        (
            400,
            None,
            error("BadRequest", "Property 'type' must be 'AdaptiveCard'")
        )
    );
    let mut wrong_type = m.clone();
    wrong_type["attachments"][0]["contentType"] = json!("application/json");
    assert_eq!(post(&t, &wrong_type).await.0, 400);
    let (status, _, body) = post_to(&t.workflow_url(&flow()), "{").await;
    assert_eq!(status, 400);
    assert!(body.contains("InvalidRequestContent"), "{body}");

    let unauthorized = error(
        "DirectApiInvalidAuthorizationSignature",
        "The provided shared access signature ('sig') is missing or not valid.",
    );
    let wrong_sig = Workflow::new(PATH, "not-the-sig");
    assert_eq!(
        post_to(&t.workflow_url(&wrong_sig), m.to_string()).await,
        (401, None, unauthorized.clone())
    );
    let no_sig = format!("{}{PATH}?api-version=1", t.url());
    assert_eq!(post_to(&no_sig, m.to_string()).await.0, 401);
    let elsewhere = Workflow::new("/workflows/other/triggers/manual/paths/invoke", SIG);
    assert_eq!(
        post_to(&t.workflow_url(&elsewhere), m.to_string()).await,
        (
            404,
            None,
            error("WorkflowNotFound", "No workflow has this URL.")
        )
    );
    assert!(t.messages().is_empty());
    assert_eq!(t.requests(), 7);
}

#[tokio::test]
async fn a_message_over_28_kb_answers_413() {
    let t = start(unlimited()).await;
    let fill = |n: usize| {
        let base = message(card("")).to_string().len();
        message(card(&"a".repeat(n - base)))
    };
    let at_limit = fill(28 * 1024);
    assert_eq!(at_limit.to_string().len(), 28 * 1024);
    assert_eq!(post(&t, &at_limit).await.0, 202);
    let (status, _, _) = post(&t, &fill(28 * 1024 + 1)).await;
    assert_eq!(status, 413);
    assert_eq!((t.requests(), t.messages().len()), (2, 1));
}

#[tokio::test]
async fn more_than_four_a_second_answers_429_with_retry_after() {
    let t = start(Config::with_workflows(vec![flow()])).await;
    let m = message(card("x"));
    for i in 0..4 {
        assert_eq!(post(&t, &m).await.0, 202, "request {i}");
    }
    let (status, retry, _) = post(&t, &m).await;
    assert_eq!((status, retry.as_deref()), (429, Some("1")));
    assert_eq!((t.requests(), t.messages().len()), (5, 4));
    assert_eq!(t.stats().rate_limited, 1);
}

#[tokio::test]
async fn faults_and_a_restart_on_the_same_port() {
    let t = start(Config {
        tls: true,
        ..unlimited()
    })
    .await;
    let ca = reqwest::Certificate::from_pem(t.ca_pem().unwrap().as_bytes()).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .unwrap();
    let m = message(card("x")).to_string();
    let send = || client.post(t.workflow_url(&flow())).body(m.clone()).send();
    t.set_faults(Faults {
        requests_503: 1,
        close_connection: 1,
        ..Faults::default()
    });
    assert_eq!(send().await.unwrap().status(), 503);
    assert!(send().await.is_err(), "dropped");
    assert_eq!(send().await.unwrap().status(), 202);
    t.stop().await;
    assert!(send().await.is_err(), "stopped");
    t.restart().await.unwrap();
    assert_eq!(send().await.unwrap().status(), 202);
    assert_eq!((t.requests(), t.cards().len()), (4, 2));
}
