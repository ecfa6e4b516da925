//! Fidelity test: Splunk's JavaScript logging library (`splunk-logging` 0.11.1 from npm,
//! unchanged) against the Splunk HEC receiver over HTTPS, trusting the receiver's CA through
//! `NODE_EXTRA_CA_CERTS`. The script is `tests/fidelity/splunk_check.mjs`; its dependencies
//! must be installed first with `npm ci --prefix tests/fidelity`.
//!
//! The library posts to `/services/collector/event/1.0` with `Authorization: Splunk <token>`,
//! batches envelopes back to back with `time` as a string of epoch seconds, reads HEC's codes
//! from the answer (code 9 while busy, code 4 for a wrong token) and retries a closed
//! connection by itself; the receiver must hold exactly what was sent, once each, and have been
//! sent each event once, but for the attempts the faults refused.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rand::distr::{Alphanumeric, SampleString};
use receivers::splunk::{self, Config, Handle, Token};
use serde_json::{json, Value};

const EVENTS: usize = 300;
const BATCH: usize = 25;
/// 2026-03-10T14:25:00.123Z, the script's first event time, in epoch seconds.
const BASE_SECS: f64 = 1_773_152_700.123;

fn fidelity_dir() -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fidelity"));
    assert!(
        dir.join("splunk_check.mjs").is_file(),
        "missing {}/splunk_check.mjs",
        dir.display()
    );
    assert!(
        dir.join("node_modules/splunk-logging/package.json")
            .is_file(),
        "splunk-logging is not installed in {}: run `npm ci --prefix tests/fidelity` first",
        dir.display()
    );
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn splunk_logging_works_against_the_receiver() {
    let dir = fidelity_dir();
    let token = Alphanumeric.sample_string(&mut rand::rng(), 32);
    let hec = splunk::start(Config {
        tls: true,
        ..Config::with_tokens(vec![Token::new(&token)])
    })
    .await
    .expect("the receiver starts");
    assert!(hec.url().starts_with("https://"), "{}", hec.url());

    let out = run_check(&hec, &dir, &token, true).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the splunk-logging check failed ({}):\nstdout: {stdout}\nstderr: {stderr}",
        out.status
    );
    let summary: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("summary is not JSON ({e}): {stdout}\nstderr: {stderr}"));
    eprintln!("library summary: {summary}");

    // The library saw every batch succeed, and HEC's codes where the receiver refused.
    let requests = EVENTS.div_ceil(BATCH);
    assert_eq!(
        summary["batched"],
        json!({ "requests": requests, "statuses": { "200": requests } })
    );
    assert_eq!(
        summary["busy"],
        json!({ "status": 503, "code": 9, "message": "Server is busy", "afterStatus": 200, "afterErrors": 0 })
    );
    assert_eq!(
        summary["retried"],
        json!({ "status": 200, "err": null, "errors": 0, "code": 0 })
    );
    assert_eq!(
        summary["wrongToken"],
        json!({ "status": 403, "code": 4, "message": "Invalid token" })
    );

    // The receiver holds exactly what was sent, once each.
    let events = hec.events();
    let ids: Vec<String> = events
        .iter()
        .map(|e| {
            e.event["message"]["id"]
                .as_str()
                .expect("an id")
                .to_string()
        })
        .collect();
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "no event stored twice");
    let mut want: BTreeSet<String> = (0..EVENTS).map(|i| format!("evt-{i}")).collect();
    want.insert("after-busy".into());
    want.insert("retried-1".into());
    assert_eq!(ids.iter().cloned().collect::<BTreeSet<_>>(), want);

    for e in events.iter().filter(|e| {
        e.event["message"]["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("evt-"))
    }) {
        let n = e.event["message"]["n"].as_u64().expect("n") as usize;
        assert_eq!(
            e.event,
            json!({
                "message": {
                    "id": format!("evt-{n}"), "n": n, "event_type": "Login",
                    "user_id": format!("005{n:03}")
                },
                "severity": "info"
            })
        );
        let time = e.time.expect("a time");
        assert!(
            (time - (BASE_SECS + n as f64)).abs() < 1e-6,
            "{time} for {n}"
        );
        assert!(
            e.time_raw.as_ref().is_some_and(Value::is_string),
            "the library sends a string"
        );
        assert_eq!(e.host.as_deref(), Some("sfevents-fidelity"));
        assert_eq!(e.source.as_deref(), Some("salesforce:eventlogfile"));
        assert_eq!(e.sourcetype.as_deref(), Some("sfdc:logfile"));
        assert_eq!(e.index, "salesforce");
        assert_eq!(e.path, "/services/collector/event/1.0");
        assert_eq!(e.token, token);
        assert!(e.fields.is_empty());
    }

    // Batching as configured: 25 envelopes per request.
    let mut per_request = std::collections::BTreeMap::<u64, usize>::new();
    for e in events.iter().filter(|e| {
        e.event["message"]["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("evt-"))
    }) {
        *per_request.entry(e.request).or_default() += 1;
    }
    assert_eq!(per_request.len(), requests);
    assert!(per_request.values().all(|n| *n == BATCH), "{per_request:?}");

    // At the door, not only in the index: every event came once, except the one refused busy
    // (the library gives it up) and the one whose connection was cut, sent again once.
    let attempts = hec.attempts();
    for (id, a) in &attempts.events {
        let want = match id.as_str() {
            "busy-1" => (1, 0, 1),
            "retried-1" => (2, 1, 1),
            _ => (1, 1, 0),
        };
        assert_eq!((a.attempts, a.accepted, a.refused), want, "{id}");
    }
    assert_eq!(
        attempts.events.len(),
        EVENTS + 3,
        "the wrong token's body is not read"
    );
    assert_eq!(attempts.without_id, 0);

    let s = hec.stats();
    // Batches, the refused busy one, the one after, the closed attempt and its retry, and the
    // wrong token.
    assert_eq!(s.requests, requests as u64 + 5);
    assert_eq!(s.events, EVENTS as u64 + 2);
    assert_eq!(s.errors, [(4, 1), (9, 1)].into_iter().collect());
    assert_eq!(s.faults.requests_503, 1);
    assert_eq!(s.faults.connections_closed, 1);
    hec.shutdown();
}

/// The script turns the library's certificate checks on: without the CA it must fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_library_checks_the_certificate() {
    let dir = fidelity_dir();
    let hec = splunk::start(Config {
        tls: true,
        ..Config::with_tokens(vec![Token::new("t")])
    })
    .await
    .expect("the receiver starts");
    let out = run_check(&hec, &dir, "t", false).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "an untrusted receiver must fail the check"
    );
    assert!(
        stderr.contains("certificate"),
        "expected a certificate error, got: {stderr}"
    );
    assert!(hec.events().is_empty());
    assert_eq!(
        hec.stats().requests,
        0,
        "no request got through the handshake"
    );
}

/// Runs `node tests/fidelity/splunk_check.mjs` against the receiver, trusting its CA or not.
async fn run_check(hec: &Handle, dir: &Path, token: &str, trust: bool) -> std::process::Output {
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(dir.join("splunk_check.mjs"))
        .current_dir(dir)
        .env("SPLUNK_URL", hec.url())
        .env("SPLUNK_TOKEN", token)
        .env("SPLUNK_EVENTS", EVENTS.to_string())
        .env("SPLUNK_BATCH", BATCH.to_string())
        .env_remove("NODE_EXTRA_CA_CERTS");
    if trust {
        cmd.env(
            "NODE_EXTRA_CA_CERTS",
            hec.ca_file().expect("a CA file when serving TLS"),
        );
    }
    // Nothing in the environment may make Node skip or redirect certificate checks.
    cmd.env_remove("NODE_TLS_REJECT_UNAUTHORIZED")
        .env_remove("NODE_OPTIONS")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("the check finishes within 2 minutes")
        .expect("running `node` (Node.js 20.18+ must be on PATH)")
}
