//! sfevents' ECS documents against the mappings `sfevents setup elasticsearch` installs, applied
//! by the Elasticsearch receiver as a cluster applies them (template mappings, dynamic mapping,
//! `index.mapping.ignore_malformed`, `constant_keyword`): every dataset the simulated org
//! produces must be accepted as it is, and a document the mapping refuses must end in the dead
//! letters with Elasticsearch's reason.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use common::live_rules;
use common::*;
use receivers::elasticsearch as es;
use serde_json::{json, Value};

/// Every EventLogFile type the generator knows.
const ELF_TYPES: &[&str] = &[
    "Login",
    "Logout",
    "ApiTotalUsage",
    "API",
    "RestApi",
    "URI",
    "ApexExecution",
    "ApexCallout",
    "Report",
    "LightningPageView",
    "AuraRequest",
    "ApexRestApi",
    "VisualforceRequest",
    "Sites",
    "BulkApiRequest",
    "CompositeApi",
    "CompositeApiSubrequest",
    "QueuedExecution",
    "PlatformEncryption",
    "DatabaseSave",
    "CSPViolation",
    "ContentDistribution",
    "Sandbox",
    "HostnameRedirects",
];

/// A day of an org with every EventLogFile type and object, its clock frozen.
fn org(seed: u64, event_types: &[&str]) -> sfsim::SimConfig {
    let mut c = small_config(seed);
    c.freeze_clock = true;
    c.org.event_types = event_types.iter().map(|s| s.to_string()).collect();
    c.org.rows_per_hour = (2, 6);
    c.org.records_per_hour = (4, 12);
    c
}

fn to(h: &es::Handle) -> String {
    format!("elasticsearch+{}?name=es", h.url().trim_end_matches('/'))
}

/// `sfevents collect --no-ship` as of the simulator's (frozen) now.
async fn collect_now(sim: &sfsim::SimHandle, dir: &Path, extra: &[&str]) {
    let mut args = vec!["collect".to_string(), "--quiet".into()];
    args.extend(auth_args(sim, dir));
    args.extend(["--backfill-days", "1", "--no-ship"].map(String::from));
    args.extend(extra.iter().map(|s| s.to_string()));
    let o = tokio::process::Command::new(BIN)
        .args(&args)
        .env("SFEVENTS_NOW", sim.now().to_rfc3339())
        .output()
        .await
        .expect("sfevents runs");
    assert_exit(&o, 0);
}

async fn setup_and_ship(h: &es::Handle, dir: &Path, want_exit: i32) {
    let o = run(&["setup".into(), "elasticsearch".into(), "--to".into(), to(h)]).await;
    assert_exit(&o, 0);
    assert!(h.index_template("sfevents-salesforce").is_some());
    let o = run(&[
        "ship".into(),
        "--output-dir".into(),
        dir.display().to_string(),
        "--to".into(),
        to(h),
    ])
    .await;
    assert_exit(&o, want_exit);
}

/// The archive's events by id.
fn archived(dir: &Path) -> HashMap<String, Value> {
    ndjson_lines(dir)
        .into_iter()
        .map(|(_, v)| (v["id"].as_str().expect("id").to_string(), v))
        .collect()
}

/// `logs-salesforce.<dataset>-default` of an archive event.
fn stream_of(v: &Value) -> String {
    let source = v["source"].as_str().expect("source");
    let dataset = ecs::dataset_for(source, v["event_type"].as_str());
    format!("logs-salesforce.{dataset}-default")
}

async fn data_stream_template(h: &es::Handle, name: &str) -> String {
    let v: Value = reqwest::get(format!("{}/_data_stream/{name}", h.url()))
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON");
    v["data_streams"][0]["template"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dataset_the_org_produces_is_accepted_under_the_installed_template() {
    let sim = start(org(71, ELF_TYPES)).await;
    let dir = tempfile::tempdir().unwrap();
    collect_now(&sim, dir.path(), &[]).await;
    let objects: Vec<&str> = sfgen::OBJECTS
        .iter()
        .flat_map(|o| ["--object", *o])
        .collect();
    collect_now(&sim, dir.path(), &objects).await;
    let events = archived(dir.path());
    let kinds: BTreeSet<&str> = events
        .values()
        .filter_map(|v| v["event_type"].as_str().or(v["source"].as_str()))
        .collect();
    let want: BTreeSet<&str> = ELF_TYPES.iter().chain(sfgen::OBJECTS).copied().collect();
    assert_eq!(
        kinds, want,
        "every EventLogFile type and object is in the archive"
    );

    let h = es::start(es::Config::default()).await.expect("receiver");
    setup_and_ship(&h, dir.path(), 0).await;

    let st = h.stats();
    assert_eq!((st.rejected, st.conflicts), (0, 0), "{st:?}");
    assert_eq!(st.created as usize, events.len(), "{st:?}");
    assert!(!dir.path().join("dead-letter").exists());
    let docs = h.all_docs();
    assert_eq!(docs.len(), events.len());
    let mut streams = BTreeSet::new();
    let mut ignored = BTreeSet::new();
    for d in &docs {
        let ev = &events[&d.id];
        assert_eq!(d.index, stream_of(ev), "{}", d.id);
        ignored.extend(d.ignored.iter().cloned());
        streams.insert(d.index.clone());
    }
    // Accepted is not always indexed: a value the field's type cannot take is kept in _source
    // and left out of the index (`index.mapping.ignore_malformed`). Known case: the generic
    // mapping turns LightningPageView's OS_VERSION `17` into a number, so the stream's field
    // becomes a long and `10.15.7` is ignored. Any other field showing up here is a new one.
    let known: BTreeSet<String> = ["salesforce.lightning_page_view.os_version".to_string()].into();
    assert!(
        ignored.is_subset(&known),
        "ignored as malformed: {ignored:?}"
    );
    let held: BTreeSet<String> = h.data_streams().into_iter().collect();
    assert_eq!(held, streams);
    for s in &streams {
        assert_eq!(
            data_stream_template(&h, s).await,
            "sfevents-salesforce",
            "{s}"
        );
        let m = h.mapping(s).expect("mapped");
        let dataset = s.trim_start_matches("logs-").trim_end_matches("-default");
        assert_eq!(
            m["properties"]["data_stream"]["properties"]["dataset"],
            json!({ "type": "constant_keyword", "value": dataset }),
            "{s}"
        );
        assert_eq!(m["properties"]["@timestamp"]["type"], "date", "{s}");
    }
    // The template's types, and its dynamic rule for Salesforce's strings.
    let login = h.mapping("logs-salesforce.login-default").expect("login");
    assert_eq!(
        login["properties"]["source"]["properties"]["ip"]["type"],
        "ip"
    );
    let usage = h
        .mapping("logs-salesforce.api_total_usage-default")
        .expect("api_total_usage");
    assert_eq!(
        usage["properties"]["salesforce"]["properties"]["api_total_usage"]["properties"]
            ["api_resource"],
        json!({ "type": "keyword", "ignore_above": 1024 })
    );
    sim.shutdown();
}

/// Appends `lines` to the archive file `path` and counts them in its delivery-log entry.
fn append_to_archive(dir: &Path, path: &Path, lines: &[Value]) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    for l in lines {
        writeln!(f, "{l}").unwrap();
    }
    drop(f);
    let rel = path.strip_prefix(dir).unwrap().display().to_string();
    let bytes = std::fs::metadata(path).unwrap().len() as i64;
    let c = rusqlite::Connection::open(dir.join("state.db")).unwrap();
    let changed = c
        .execute(
            "UPDATE delivery_log SET rows = rows + ?1, bytes = ?2 WHERE path = ?3",
            rusqlite::params![lines.len() as i64, bytes, rel],
        )
        .unwrap();
    assert_eq!(changed, 1, "{rel} in the delivery log");
    check_delivery_log(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_the_mapping_refuses_is_dead_lettered_with_elasticsearchs_reason() {
    let sim = start(org(72, &["ApiTotalUsage"])).await;
    let dir = tempfile::tempdir().unwrap();
    // Plain NDJSON: the crafted rows are appended to a file as text.
    collect_now(&sim, dir.path(), &["--archive-compression", "none"]).await;
    let (path, row) = ndjson_lines(dir.path())
        .into_iter()
        .max_by(|a, b| a.0.cmp(&b.0))
        .expect("an ApiTotalUsage row");
    // API_RESOURCE is text in every row (a keyword under the template); STATUS_CODE a number
    // (a long). One crafted row carries an object where the keyword is, another text where the
    // long is.
    let mut object = row.clone();
    object["id"] = json!(format!("{}-object", row["id"].as_str().unwrap()));
    object["fields"]["API_RESOURCE"] = json!({ "path": "/services/data" });
    let mut text = row.clone();
    text["id"] = json!(format!("{}-text", row["id"].as_str().unwrap()));
    text["fields"]["STATUS_CODE"] = json!("two hundred");
    append_to_archive(dir.path(), &path, &[object.clone(), text.clone()]);
    let events = archived(dir.path());

    let h = es::start(es::Config::default()).await.expect("receiver");
    setup_and_ship(&h, dir.path(), 1).await;

    // The object is refused for good: one attempt, a 400, nothing stored.
    let object_id = object["id"].as_str().unwrap();
    let a = h.attempt(object_id);
    let statuses: Vec<u16> = a.answers.iter().map(|x| x.status).collect();
    assert_eq!(statuses, [400], "refused once, never resent");
    assert_eq!(h.stats().rejected, 1);
    assert_eq!(h.all_docs().len(), events.len() - 1);

    // Its dead letter carries Elasticsearch's error, to the column of the document sent.
    let doc = ecs::Normalizer::new(ecs::Options {
        instance_url: sim.url.clone(),
        ..ecs::Options::default()
    })
    .expect("normalizer")
    .ecs(&object)
    .expect("a document")
    .body
    .to_string();
    let start = doc
        .find(r#"{"path":"/services/data"}"#)
        .expect("the object")
        + 1;
    let end = start + r#"{"path":"/services/data"}"#.len() - 1;
    let want = format!(
        "400 document_parsing_exception: [1:{end}] failed to parse field [salesforce.api_total_usage.api_resource] of type [keyword] in document with id '{object_id}'. Preview of field's value: '{{path=/services/data}}' (caused by illegal_argument_exception: Expected text at 1:{start} but found START_OBJECT)"
    );
    let dl = std::fs::read_dir(dir.path().join("dead-letter/es"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let text_dl = std::fs::read_to_string(dl.path()).unwrap();
    let lines: Vec<Value> = text_dl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{text_dl}");
    assert_eq!(lines[0]["id"], object_id);
    assert_eq!(lines[0]["error"], want.as_str());
    assert_eq!(lines[0]["event"], object);

    // Text where a long is mapped is kept: the template ignores malformed values.
    let text_id = text["id"].as_str().unwrap();
    let kept = h
        .all_docs()
        .into_iter()
        .find(|d| d.id == text_id)
        .expect("stored");
    assert_eq!(kept.ignored, ["salesforce.api_total_usage.status_code"]);
    assert_eq!(
        kept.source["salesforce"]["api_total_usage"]["status_code"],
        "two hundred"
    );
    sim.shutdown();
}

/// A rule on failed ELF logins, for alerts to ship.
const FAILED_LOGIN: &str = "title: A failed login
id: 2c4f7c3e-2a51-4c8e-9d57-6c3f0e1a2b02
name: test_failed_login.elf
logsource: {product: salesforce, service: login}
detection:
  selection:
    LOGIN_STATUS|startswith: LOGIN_ERROR
  condition: selection
level: high
tags: [attack.credential-access, attack.t1110.001]
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_are_accepted_as_ecs_alerts_under_the_installed_template() {
    let sim = start(org(72, &["Login"])).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("archive");
    let cfg = live_rules::live_config(&sim, tmp.path(), "sim", &dir, FAILED_LOGIN);
    assert_exit(&live_rules::collect_live(&sim, &cfg).await, 0);
    let events = archived(&dir);
    let alerts: Vec<&Value> = events
        .values()
        .filter(|v| v["event_type"] == "Alert")
        .collect();
    assert!(alerts.len() > 3, "{} alerts", alerts.len());

    let h = es::start(es::Config::default()).await.expect("receiver");
    setup_and_ship(&h, &dir, 0).await;
    let st = h.stats();
    assert_eq!(
        (st.rejected, st.conflicts, st.created as usize),
        (0, 0, events.len()),
        "{st:?}"
    );
    let docs: Vec<_> = h
        .all_docs()
        .into_iter()
        .filter(|d| d.index == "logs-salesforce.alert-default")
        .collect();
    assert_eq!(
        docs.len(),
        alerts.len(),
        "every alert in the alert data stream"
    );
    for d in &docs {
        assert!(d.ignored.is_empty(), "{:?}", d.ignored);
        let b = &d.source;
        assert_eq!(b["event"]["kind"], "alert");
        assert_eq!(b["event"]["severity"], 73);
        assert_eq!(b["rule"]["name"], "test_failed_login");
        assert_eq!(b["threat"]["technique"]["id"], json!(["T1110"]));
        assert_eq!(
            b["threat"]["technique"]["subtechnique"]["id"],
            json!(["T1110.001"])
        );
        assert_eq!(b["salesforce"]["alert"]["count"], 1);
        assert_eq!(b["message"], events[&d.id]["fields"]["summary"]);
    }
    let m = h.mapping("logs-salesforce.alert-default").expect("mapped");
    assert_eq!(
        m["properties"]["data_stream"]["properties"]["dataset"]["value"],
        "salesforce.alert"
    );
    sim.shutdown();
}
