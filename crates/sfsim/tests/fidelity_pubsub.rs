//! Fidelity test: `salesforce-pubsub-api-client` (npm 5.5.2, unchanged) subscribes to sfsim's
//! Pub/Sub API over TLS and must receive exactly the events the storage object holds, with
//! equal field values. The script is `tests/fidelity/pubsub_check.mjs`; its dependencies must
//! be installed first with `npm ci --prefix tests/fidelity`.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value as Json;
use sfsim::{SimConfig, SimHandle};
use soql::Value;

/// The workspace root (`crates/sfsim/../..`).
fn workspace_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// An access token from the REST API's username-password flow, over HTTPS trusting sfsim's CA.
async fn token(sim: &SimHandle) -> String {
    let c = &sim.credentials;
    let ca = std::fs::read(c.ca_file.as_ref().expect("CA file")).expect("CA");
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).expect("CA pem"))
        .build()
        .expect("client");
    let pw = format!("{}{}", c.password, c.security_token);
    let r: Json = http
        .post(format!("{}/services/oauth2/token", sim.url))
        .form(&[
            ("grant_type", "password"),
            ("client_id", c.client_id.as_str()),
            ("client_secret", c.client_secret.as_str()),
            ("username", c.username.as_str()),
            ("password", pw.as_str()),
        ])
        .send()
        .await
        .expect("token call")
        .json()
        .await
        .expect("token json");
    r["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

/// A stored value as the Node client shows a decoded Avro value (dateTimes as epoch ms).
fn as_event_json(v: &Value) -> Json {
    match v {
        Value::DateTime(t) => Json::from(t.timestamp_millis()),
        other => other.to_json("64.0"),
    }
}

fn same(want: &Json, got: &Json) -> bool {
    match (want.as_f64(), got.as_f64()) {
        (Some(a), Some(b)) => a == b,
        _ => want == got,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pubsub_client_receives_the_storage_objects_events() {
    let fidelity = workspace_root().join("tests/fidelity");
    assert!(
        fidelity
            .join("node_modules/salesforce-pubsub-api-client/package.json")
            .is_file(),
        "salesforce-pubsub-api-client is not installed in {}: run `npm ci --prefix tests/fidelity` first",
        fidelity.display()
    );
    let mut config = SimConfig::streaming(21, 4, (2, 12));
    config.tls = true;
    let sim = sfsim::start(config).await.expect("sfsim starts");
    let token = token(&sim).await;
    let rest_before = sim.rest_requests();

    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(fidelity.join("pubsub_check.mjs"))
        .current_dir(&fidelity)
        .env("SFSIM_PUBSUB_ENDPOINT", sim.pubsub_endpoint())
        .env("SFSIM_ACCESS_TOKEN", &token)
        .env("SFSIM_INSTANCE_URL", &sim.url)
        .env("SFSIM_ORG_ID", &sim.org.org_id)
        .env("SFSIM_TOPIC", "/event/LoginEventStream")
        .env_remove("NODE_OPTIONS")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("GRPC_PROXY")
        .env_remove("grpc_proxy")
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("the Pub/Sub check finishes within 2 minutes")
        .expect("running `node` (Node.js 20.18+ must be on PATH)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "Pub/Sub check failed ({}):\nstdout: {stdout}\nstderr: {stderr}",
        out.status
    );
    let result: Json = serde_json::from_str(stdout.trim()).expect("one JSON object");
    let events = result["events"].as_array().expect("events");

    // What LoginEvent holds now, within the stream's 72-hour retention, in storage order.
    let cutoff = sim.now() - chrono::Duration::hours(72);
    let mut want: Vec<soql::Record> = sim
        .visible_records("LoginEvent")
        .into_iter()
        .filter(|r| matches!(r.get("CreatedDate"), Some(Value::DateTime(t)) if *t >= cutoff))
        .collect();
    want.sort_by_key(|r| {
        let created = match r.get("CreatedDate") {
            Some(Value::DateTime(t)) => *t,
            _ => chrono::DateTime::<chrono::Utc>::default(),
        };
        (
            created,
            r.get("EventIdentifier")
                .and_then(Value::as_str)
                .map(str::to_string),
        )
    });
    assert!(want.len() > 150, "{} records", want.len());
    assert_eq!(
        events.len(),
        want.len(),
        "events received vs records stored"
    );
    let mut replay_ids = HashSet::new();
    for (e, rec) in events.iter().zip(&want) {
        assert!(
            replay_ids.insert(e["replayId"].to_string()),
            "repeated replay id"
        );
        let payload = &e["payload"];
        for (name, v) in &rec.fields {
            if name == "Id" {
                continue;
            }
            let (want_v, got) = (as_event_json(v), &payload[name]);
            assert!(
                same(&want_v, got),
                "{name}: stored {want_v}, streamed {got}"
            );
        }
    }
    assert_eq!(
        sim.rest_requests(),
        rest_before,
        "streaming made REST calls"
    );
    let stats = sim.pubsub_stats();
    assert_eq!(stats.subscriptions_opened, 1);
    assert_eq!(stats.events_sent as usize, want.len());
}
