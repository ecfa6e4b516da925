//! The PagerDuty Events API v2 receiver through HTTP, as a client sees it (reqwest): the
//! documented refusals with their exact bodies, incidents deduplicated by `dedup_key`, the rate
//! limit per routing key, faults, and a restart on the same port.

use receivers::pagerduty::{self, Config, Faults, Handle, Status};
use serde_json::{json, Value};

const KEY: &str = "0123456789abcdef0123456789abcdef";
const OTHER_KEY: &str = "fedcba9876543210fedcba9876543210";

async fn start(config: Config) -> Handle {
    pagerduty::start(config).await.expect("receiver starts")
}

fn config() -> Config {
    Config::with_keys(&[KEY, OTHER_KEY])
}

/// Posts `body` to `/v2/enqueue`; the status and the body parsed (Null when not JSON).
async fn enqueue(pd: &Handle, body: impl Into<reqwest::Body>) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}/v2/enqueue", pd.url()))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("answered");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn trigger(key: &str, dedup: Option<&str>) -> Value {
    let mut e = json!({
        "routing_key": key,
        "event_action": "trigger",
        "payload": {"summary": "Login from a new country", "source": "sfevents", "severity": "warning"},
    });
    if let Some(d) = dedup {
        e["dedup_key"] = json!(d);
    }
    e
}

fn invalid(errors: &[&str]) -> Value {
    json!({"status": "invalid event", "message": "Event object is invalid", "errors": errors})
}

#[tokio::test]
async fn documented_refusals_answer_400_with_their_errors() {
    let pd = start(config()).await;
    let short = json!({"routing_key": "abc", "event_action": "trigger"}).to_string();
    assert_eq!(
        enqueue(&pd, short).await,
        (
            400,
            invalid(&["Length of 'routing_key' is incorrect (should be 32 characters)"])
        )
    );
    let unknown = trigger("x".repeat(32).as_str(), None).to_string();
    let (status, body) = enqueue(&pd, unknown).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"],
        json!([format!(
            "Unknown 'routing_key' \"{}\": no service on this receiver has that integration key",
            "x".repeat(32)
        )])
    );
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"routing_key": KEY, "event_action": "page"}),
            "'event_action' is invalid (must be one of: trigger, acknowledge, resolve)",
        ),
        (
            json!({"routing_key": KEY, "event_action": "resolve"}),
            "'dedup_key' is required for acknowledge and resolve events",
        ),
        (
            json!({"routing_key": KEY, "event_action": "acknowledge", "dedup_key": "k".repeat(256)}),
            "Length of 'dedup_key' is incorrect (should be at most 255 characters)",
        ),
        (
            json!({"routing_key": KEY, "event_action": "trigger",
                   "payload": {"summary": "s".repeat(1025), "source": "x", "severity": "info"}}),
            "Length of 'payload.summary' is incorrect (should be at most 1024 characters)",
        ),
        (
            json!({"routing_key": KEY, "event_action": "trigger",
                   "payload": {"summary": "s", "severity": "info"}}),
            "'payload.source' is missing or blank",
        ),
        (
            json!({"routing_key": KEY, "event_action": "trigger",
                   "payload": {"summary": "s", "source": "x", "severity": "high"}}),
            "'payload.severity' is invalid (must be one of: critical, error, warning, info)",
        ),
        (
            json!({"routing_key": KEY, "event_action": "trigger",
                   "payload": {"summary": "s", "source": "x", "severity": "info", "timestamp": "10/03/2026"}}),
            "'payload.timestamp' is not an ISO 8601 date-time",
        ),
        (
            json!({"routing_key": KEY, "event_action": "trigger",
                   "payload": {"summary": "s", "source": "x", "severity": "info", "custom_details": [1]}}),
            "'payload.custom_details' must be an object",
        ),
        (
            json!({"routing_key": KEY, "event_action": "trigger"}),
            "'payload' is missing or not an object",
        ),
    ];
    for (event, error) in &cases {
        assert_eq!(
            enqueue(&pd, event.to_string()).await,
            (400, invalid(&[error])),
            "{event}"
        );
    }
    // Several mistakes are listed together.
    let two = json!({"routing_key": KEY, "event_action": "trigger",
                     "payload": {"source": "x", "severity": "nope"}});
    let (_, body) = enqueue(&pd, two.to_string()).await;
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(2), "{body}");
    let (status, body) = enqueue(&pd, "not json").await;
    assert_eq!((status, &body["status"]), (400, &json!("invalid event")));
    assert!(pd.events().is_empty());
    assert!(pd.incidents().is_empty());
    let requests = 2 + cases.len() as u64 + 2;
    assert_eq!(pd.requests(), requests, "refused requests are counted");
    assert_eq!(pd.stats().invalid, requests);
}

#[tokio::test]
async fn accepted_events_answer_202_and_are_kept_in_order() {
    let pd = start(config()).await;
    let mut full = trigger(KEY, Some("login-1"));
    full["payload"]["timestamp"] = json!("2015-07-17T08:42:58.315+0000");
    full["payload"]["component"] = json!("login");
    full["payload"]["group"] = json!("org-00D");
    full["payload"]["class"] = json!("anomaly");
    full["payload"]["custom_details"] = json!({"user": "005x"});
    full["client"] = json!("sfevents");
    assert_eq!(
        enqueue(&pd, full.to_string()).await,
        (
            202,
            json!({"status": "success", "message": "Event processed", "dedup_key": "login-1"})
        )
    );
    let (status, body) = enqueue(&pd, trigger(OTHER_KEY, None).to_string()).await;
    assert_eq!(status, 202);
    let generated = body["dedup_key"]
        .as_str()
        .expect("a generated key")
        .to_string();
    assert_eq!(generated.len(), 32);
    assert!(generated.bytes().all(|b| b.is_ascii_hexdigit()));
    let events = pd.events();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].body, full, "kept as sent");
    assert_eq!(events[0].routing_key, KEY);
    assert!(!events[0].generated_key);
    assert_eq!(events[1].dedup_key.as_deref(), Some(generated.as_str()));
    assert!(events[1].generated_key);
    assert_eq!((events[0].request, events[1].request), (1, 2));
    // A change event answers 202 too and opens no incident.
    let change = json!({"routing_key": KEY, "payload": {"summary": "deployed", "source": "ci"}});
    let resp = reqwest::Client::new()
        .post(format!("{}/v2/change/enqueue", pd.url()))
        .body(change.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    assert_eq!(pd.events()[2].path, "/v2/change/enqueue");
    assert_eq!(pd.incidents().len(), 2);
}

#[tokio::test]
async fn a_trigger_for_an_open_incident_does_not_open_another() {
    let pd = start(config()).await;
    for key in ["a", "a", "b", "a"] {
        assert_eq!(
            enqueue(&pd, trigger(KEY, Some(key)).to_string()).await.0,
            202
        );
    }
    // The same dedup key under another routing key is another service's incident.
    assert_eq!(
        enqueue(&pd, trigger(OTHER_KEY, Some("a")).to_string())
            .await
            .0,
        202
    );
    let ack = json!({"routing_key": KEY, "event_action": "acknowledge", "dedup_key": "b"});
    assert_eq!(enqueue(&pd, ack.to_string()).await.0, 202);
    let resolve = json!({"routing_key": KEY, "event_action": "resolve", "dedup_key": "a"});
    assert_eq!(enqueue(&pd, resolve.to_string()).await.0, 202);
    let incidents = pd.incidents();
    let summary: Vec<(&str, &str, u64, u64, Status)> = incidents
        .iter()
        .map(|i| {
            (
                i.routing_key.as_str(),
                i.dedup_key.as_str(),
                i.triggers,
                i.opened,
                i.status,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (KEY, "a", 3, 1, Status::Resolved),
            (KEY, "b", 1, 1, Status::Acknowledged),
            (OTHER_KEY, "a", 1, 1, Status::Triggered),
        ]
    );
    assert_eq!(pd.incidents_opened(), 3);
    // Resolved, the key opens a new incident.
    assert_eq!(
        enqueue(&pd, trigger(KEY, Some("a")).to_string()).await.0,
        202
    );
    assert_eq!(
        (pd.incidents()[0].triggers, pd.incidents()[0].opened),
        (4, 2)
    );
    assert_eq!(pd.incidents_opened(), 4);
    let counts = pd.trigger_counts();
    assert_eq!((counts["a"], counts["b"]), (5, 1));
    assert_eq!(pd.events().len(), 8);
}

#[tokio::test]
async fn each_routing_key_has_its_rate() {
    let pd = start(Config {
        events_per_minute: 5,
        ..config()
    })
    .await;
    for i in 0..5 {
        let (status, _) = enqueue(&pd, trigger(KEY, Some(&format!("k{i}"))).to_string()).await;
        assert_eq!(status, 202, "event {i}");
    }
    let (status, body) = enqueue(&pd, trigger(KEY, Some("k5")).to_string()).await;
    assert_eq!(status, 429);
    assert_eq!(body["status"], "throttle event");
    assert_eq!(
        enqueue(&pd, trigger(OTHER_KEY, None).to_string()).await.0,
        202
    );
    assert_eq!(pd.events().len(), 6);
    assert_eq!(pd.requests(), 7);
    assert_eq!(pd.stats().rate_limited, 1);
    assert_eq!(Config::default().events_per_minute, 120);
}

#[tokio::test]
async fn faults_strike_the_next_requests_then_stop() {
    let pd = start(config()).await;
    pd.set_faults(Faults {
        requests_503: 1,
        requests_429: 1,
        close_connection: 1,
        ..Faults::default()
    });
    let body = trigger(KEY, Some("f")).to_string();
    assert_eq!(enqueue(&pd, body.clone()).await.0, 503);
    assert_eq!(enqueue(&pd, body.clone()).await.0, 429);
    let cut = reqwest::Client::new()
        .post(format!("{}/v2/enqueue", pd.url()))
        .body(body.clone())
        .send()
        .await;
    assert!(cut.is_err(), "the connection is dropped: {cut:?}");
    assert_eq!(enqueue(&pd, body).await.0, 202);
    assert_eq!(pd.requests(), 4);
    assert_eq!(pd.events().len(), 1);
    let s = pd.stats();
    assert_eq!(
        (
            s.faults.requests_503,
            s.faults.requests_429,
            s.faults.connections_closed
        ),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn stop_and_restart_on_the_same_port_over_https() {
    let pd = start(Config {
        tls: true,
        ..config()
    })
    .await;
    let ca = reqwest::Certificate::from_pem(pd.ca_pem().unwrap().as_bytes()).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .unwrap();
    let post = |dedup: &'static str| {
        client
            .post(format!("{}/v2/enqueue", pd.url()))
            .body(trigger(KEY, Some(dedup)).to_string())
            .send()
    };
    assert_eq!(post("r").await.unwrap().status(), 202);
    pd.stop().await;
    assert!(post("r").await.is_err(), "refused while stopped");
    pd.restart().await.unwrap();
    assert_eq!(post("r").await.unwrap().status(), 202);
    assert_eq!(
        pd.incidents()[0].triggers,
        2,
        "state kept across the restart"
    );
    assert_eq!(pd.incidents().len(), 1);
}
