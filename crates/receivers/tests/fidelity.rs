//! Fidelity test: the official Elasticsearch client (`@elastic/elasticsearch` from npm,
//! unchanged) against the receiver over HTTPS, trusting the receiver's CA through
//! `NODE_EXTRA_CA_CERTS`. The script is `tests/fidelity/elasticsearch_check.mjs`; its
//! dependencies must be installed first with `npm ci --prefix tests/fidelity`.
//!
//! The client must pass its own product check, authenticate with an API key, see 409s on
//! redelivery, get mapping conflicts back per item with Elasticsearch's error (type, reason with
//! its `[line:column]`, `caused_by`), retry per-item 429s and a whole-request 503 by itself, and
//! the receiver must hold exactly what was sent.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rand::distr::{Alphanumeric, SampleString};
use receivers::elasticsearch::{self, ApiKey, Config, Credentials, Handle};
use serde_json::Value;

const STREAM: &str = "logs-salesforce.login-default";
const DOCS: usize = 300;
const RETRIED_ITEMS: u64 = 25;
const KEY_ID: &str = "sfevents-fidelity";

/// The workspace root (`crates/receivers/../..`).
fn workspace_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn fidelity_dir() -> PathBuf {
    let dir = workspace_root().join("tests/fidelity");
    assert!(
        dir.join("elasticsearch_check.mjs").is_file(),
        "missing {}/elasticsearch_check.mjs",
        dir.display()
    );
    assert!(
        dir.join("node_modules/@elastic/elasticsearch/package.json")
            .is_file(),
        "@elastic/elasticsearch is not installed in {}: run `npm ci --prefix tests/fidelity` first",
        dir.display()
    );
    dir
}

async fn receiver(version: &str, key: &str) -> Handle {
    elasticsearch::start(Config {
        tls: true,
        version: version.into(),
        credentials: Credentials {
            api_keys: vec![ApiKey::new(KEY_ID, key)],
            ..Credentials::default()
        },
        ..Config::default()
    })
    .await
    .expect("the receiver starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_client_works_against_the_receiver() {
    let dir = fidelity_dir();
    let key = Alphanumeric.sample_string(&mut rand::rng(), 24);
    // The client is 9.x: it asks for `compatible-with=9`, which a 9.x cluster serves.
    let es = receiver("9.1.0", &key).await;
    assert!(es.url().starts_with("https://"), "{}", es.url());

    let out = run_check(&es, &dir, "9.1.0", &key).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the @elastic/elasticsearch check failed ({}):\nstdout: {stdout}\nstderr: {stderr}",
        out.status
    );
    let summary: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("summary is not JSON ({e}): {stdout}\nstderr: {stderr}"));
    let mut shown = summary.clone();
    shown["second"]["droppedIds"] = Value::String("(elided)".into());
    eprintln!("client summary: {shown}");

    // client.info() passed the product check and read the version.
    assert_eq!(summary["info"]["version"], "9.1.0");
    assert_eq!(summary["info"]["tagline"], "You Know, for Search");

    // The template the client put is stored as sent.
    let t = es
        .index_template("sfevents-salesforce")
        .expect("template stored");
    assert_eq!(
        t["index_patterns"],
        serde_json::json!(["logs-salesforce.*-*"])
    );
    assert_eq!(t["priority"], 200);
    assert_eq!(t["_meta"]["managed_by"], "sfevents-fidelity");
    assert_eq!(
        t["template"]["mappings"]["properties"]["event"]["properties"]["id"]["type"],
        "keyword"
    );

    // First run: everything indexed, the 429 items retried by the helper itself. The helper
    // counts retried lines, two (action and source) per document.
    let first = &summary["first"];
    assert_eq!(first["successful"].as_u64(), Some(DOCS as u64), "{first}");
    assert_eq!(first["failed"], 0, "{first}");
    assert_eq!(first["retry"].as_u64(), Some(2 * RETRIED_ITEMS), "{first}");

    // Second run: every document comes back 409 through onDrop.
    let second = &summary["second"];
    assert_eq!(second["failed"].as_u64(), Some(DOCS as u64), "{second}");
    assert_eq!(second["dropStatus"]["409"].as_u64(), Some(DOCS as u64));
    assert_eq!(
        second["dropErrorTypes"]["version_conflict_engine_exception"].as_u64(),
        Some(DOCS as u64)
    );
    let expected: BTreeSet<String> = (0..DOCS).map(|i| format!("evt-{i}")).collect();
    let dropped: BTreeSet<String> = second["droppedIds"]
        .as_array()
        .expect("droppedIds")
        .iter()
        .filter_map(|v| v.as_str().map(String::from))
        .collect();
    assert_eq!(dropped, expected, "every id conflicts once");

    assert_eq!(summary["indexAction"]["status"], 400);
    assert_eq!(
        summary["indexAction"]["reason"],
        "only write ops with an op_type of create are allowed in data streams"
    );
    check_mapping_conflicts(&summary["mapping"]);
    assert_eq!(summary["after503"]["status"], 201);
    assert_eq!(summary["wrongKey"]["statusCode"], 401);
    assert_eq!(summary["wrongKey"]["type"], "security_exception");

    // The receiver holds exactly what was sent, once each.
    let docs = es.docs(STREAM);
    let ids: BTreeSet<String> = docs.iter().map(|d| d.id.clone()).collect();
    let mut want = expected.clone();
    want.insert("after-503".into());
    want.insert("dynamic-long".into());
    assert_eq!(docs.len(), DOCS + 2);
    assert_eq!(ids, want);
    for d in docs.iter().filter(|d| d.id.starts_with("evt-")) {
        let n: usize = d.id["evt-".len()..].parse().expect("numbered id");
        assert_eq!(d.source["event"]["id"], d.id.as_str());
        assert_eq!(d.source["message"], format!("login {n}"));
        assert_eq!(d.pipeline, None);
        assert_eq!(d.index, STREAM);
    }

    // Redelivery as the receiver saw it: twice each, three times for the 25 retried items; the
    // 503'd request was offered twice (refused, then the transport's retry).
    let thrice = expected
        .iter()
        .filter(|id| es.offers(STREAM, id) == 3)
        .count() as u64;
    assert_eq!(thrice, RETRIED_ITEMS);
    assert!(expected
        .iter()
        .all(|id| (2..=3).contains(&es.offers(STREAM, id))));
    assert_eq!(es.offers(STREAM, "after-503"), 2);

    let s = es.stats();
    assert_eq!(s.created, DOCS as u64 + 2);
    assert_eq!(s.conflicts, DOCS as u64);
    assert_eq!(s.items_429, RETRIED_ITEMS);
    assert_eq!(s.requests_5xx, 1);
    assert_eq!(
        s.rejected, 4,
        "the index action and three mapping conflicts"
    );
    assert_eq!(s.auth_failures, 1, "the wrong key");
    assert_eq!(
        s.compressed_requests, s.bulk_requests,
        "`compression: true` gzips every bulk body"
    );
    assert!(s.bytes_decoded > s.bytes_received);
    es.shutdown();
}

/// What the client got for the documents the mappings refused: what a 9.x cluster answers, to
/// the column (the client sends compact JSON, so positions are fixed).
fn check_mapping_conflicts(m: &Value) {
    let object = &m["objectInKeyword"];
    assert_eq!(object["status"], 400, "{m}");
    assert_eq!(object["type"], "document_parsing_exception");
    assert_eq!(
        object["reason"],
        "[1:69] failed to parse field [event.id] of type [keyword] in document with id 'conflict-object'. Preview of field's value: '{nested=x}'"
    );
    assert_eq!(object["causedByType"], "illegal_argument_exception");
    assert_eq!(
        object["causedByReason"],
        "Expected text at 1:56 but found START_OBJECT"
    );
    assert_eq!(m["dynamicLong"], 201, "the rest of the request is indexed");
    let text = &m["textInLong"];
    assert_eq!(
        (text["status"].as_u64(), text["type"].as_str()),
        (Some(400), Some("document_parsing_exception"))
    );
    assert_eq!(
        text["reason"],
        "[1:62] failed to parse field [login.attempts] of type [long] in document with id 'conflict-text'. Preview of field's value: 'many'"
    );
    assert_eq!(
        (
            text["causedByType"].as_str(),
            text["causedByReason"].as_str()
        ),
        (
            Some("illegal_argument_exception"),
            Some("For input string: \"many\"")
        )
    );
    let helper = &m["helper"];
    assert_eq!(helper["status"], 400, "dropped, not retried: {helper}");
    assert_eq!(helper["retry"], 0);
    assert_eq!(helper["causedByReason"], "For input string: \"lots\"");
    assert_eq!(
        m["attemptsType"], "long",
        "the first value's type, through getMapping"
    );
}

/// A 9.x client against an 8.x receiver fails as against a real 8.x cluster.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_client_is_refused_by_an_older_receiver() {
    let dir = fidelity_dir();
    let key = Alphanumeric.sample_string(&mut rand::rng(), 24);
    let es = receiver("8.17.0", &key).await;
    let out = run_check(&es, &dir, "8.17.0", &key).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "a 9.x client must not work with 8.17.0"
    );
    assert!(
        stderr.contains("media_type_header_exception")
            && stderr.contains("Accept version must be either version 8 or 7, but found 9"),
        "expected the REST compatibility refusal, got: {stderr}"
    );
    assert!(es.all_docs().is_empty());
    es.shutdown();
}

/// Runs `node tests/fidelity/elasticsearch_check.mjs` against the receiver, trusting its CA.
async fn run_check(es: &Handle, dir: &Path, version: &str, key: &str) -> std::process::Output {
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(dir.join("elasticsearch_check.mjs"))
        .current_dir(dir)
        .env("ES_URL", es.url())
        .env("ES_API_KEY_ID", KEY_ID)
        .env("ES_API_KEY", key)
        .env("ES_VERSION", version)
        .env("ES_STREAM", STREAM)
        .env("ES_DOCS", DOCS.to_string())
        .env(
            "NODE_EXTRA_CA_CERTS",
            es.ca_file().expect("a CA file when serving TLS"),
        )
        // Nothing in the environment may make Node skip or redirect certificate checks.
        .env_remove("NODE_TLS_REJECT_UNAUTHORIZED")
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
