//! Slack's and Teams' limits hold for any alert: an alert whose title, summary and user name
//! are far longer than Block Kit or an Adaptive Card message allow is still one message each,
//! taken by receivers that refuse what Slack and Teams refuse (`invalid_blocks`, 413 over
//! 28 KB), because the notifiers clip each text to its limit.

use outputs::{Event, OrgContext, Verdict};
use receivers::{slack, teams};
use serde_json::json;

fn huge_alert() -> Event {
    let id = "a".repeat(32);
    let fields = json!({
        "@timestamp": "2026-03-10T12:00:00.000Z", "id": id, "org_id": "00D000000000001AAA",
        "rule": {"name": "salesforce_brute_force", "id": "r", "title": "T".repeat(400),
                 "level": "high", "tags": []},
        "group": {"USER_NAME": "u".repeat(3_000), "SOURCE_IP": "198.51.100.7"},
        "count": 12, "first_seen": "2026-03-10T11:00:00.000Z", "last_seen": "2026-03-10T12:00:00.000Z",
        "events": {"ids": [], "total": 12},
        "summary": "S".repeat(40_000)
    });
    Event::with_id(
        id.clone(),
        json!({"id": id, "event_type": "Alert", "source": "sfevents", "fields": fields}),
    )
}

fn org() -> OrgContext {
    OrgContext {
        org: "test".into(),
        instance_url: "https://acme.my.salesforce.com".into(),
        state: None,
    }
}

async fn send(to: &str) -> Vec<Verdict> {
    let cfg = outputs::config::from_url(to).expect("the output's URL");
    let sink = outputs::sink(&cfg, &org()).expect("a sink");
    sink.send(&[huge_alert()]).await.expect("sent")
}

#[tokio::test]
async fn an_oversized_alert_is_one_message_slack_and_teams_take() {
    let hook = "/services/T0001/B0001/abcdefghijklmnopqrstuvwx";
    let s = slack::start(slack::Config {
        rate: None,
        ..slack::Config::with_webhooks(vec![slack::Webhook::new(hook)])
    })
    .await
    .unwrap();
    std::env::set_var("CHAT_LIMITS_SLACK_URL", s.webhook_url(hook));
    let base = s.webhook_url("/");
    let to = format!(
        "slack+{}?url_env=CHAT_LIMITS_SLACK_URL",
        base.trim_end_matches('/')
    );
    assert_eq!(send(&to).await, [Verdict::Delivered]);
    assert_eq!((s.requests(), s.messages().len()), (1, 1));

    let flow = teams::Workflow::new("/workflows/w1/triggers/manual/paths/invoke", "sig1");
    let t = teams::start(teams::Config {
        rate: None,
        workflows: vec![flow.clone()],
        ..teams::Config::default()
    })
    .await
    .unwrap();
    let url = t.workflow_url(&flow);
    std::env::set_var("CHAT_LIMITS_TEAMS_URL", &url);
    let host = url.split("/workflows").next().unwrap().to_string();
    let to = format!("teams+{host}?url_env=CHAT_LIMITS_TEAMS_URL");
    assert_eq!(send(&to).await, [Verdict::Delivered]);
    assert_eq!((t.requests(), t.cards().len()), (1, 1));
}
