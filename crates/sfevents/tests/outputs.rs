//! Outputs end to end: the real binary collects from sfsim and ships to the Elasticsearch
//! receiver (`crates/receivers`, which behaves as Elasticsearch documents), and each test
//! asserts on what the receiver holds and on what sfevents sent: the receiver keeps every
//! attempt of each `_id` with its answer, since what it stores cannot show a resend (a
//! duplicate `create` is answered 409 and never stored).

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use common::*;
use receivers::elasticsearch::{self as es, Attempts, Faults, RejectRule};

async fn receiver(faults: Faults) -> es::Handle {
    es::start(es::Config {
        faults,
        ..es::Config::default()
    })
    .await
    .expect("the receiver starts")
}

/// `--to` for the receiver, named `es` so that positions carry over between URLs.
fn to(h: &es::Handle, extra: &str) -> String {
    format!(
        "elasticsearch+{}?name=es{extra}",
        h.url().trim_end_matches('/')
    )
}

/// Every event id in the archive, each once.
fn archived(dir: &Path) -> HashMap<String, serde_json::Value> {
    let mut m = HashMap::new();
    for (_, v) in ndjson_lines(dir) {
        let id = v["id"].as_str().unwrap().to_string();
        assert!(m.insert(id.clone(), v).is_none(), "{id} archived twice");
    }
    m
}

/// The receiver holds exactly the archive's events, one document each, in the data stream of
/// the event's dataset (`logs-salesforce.<dataset>-default`, whose `data_stream.*` fields the
/// document carries).
fn check_received(h: &es::Handle, dir: &Path) {
    let want = archived(dir);
    let docs = h.all_docs();
    let mut got: HashMap<String, es::Doc> = HashMap::new();
    for d in docs {
        assert!(
            got.insert(d.id.clone(), d.clone()).is_none(),
            "{} held twice",
            d.id
        );
    }
    let missing: Vec<&String> = want.keys().filter(|k| !got.contains_key(*k)).collect();
    let extra: Vec<&String> = got.keys().filter(|k| !want.contains_key(*k)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{} missing (e.g. {:?}), {} unexpected (e.g. {:?})",
        missing.len(),
        missing.first(),
        extra.len(),
        extra.first()
    );
    for (id, ev) in &want {
        let d = &got[id];
        let source = ev["source"].as_str().unwrap();
        let event_type = ev["event_type"].as_str();
        let dataset = format!("salesforce.{}", ecs::dataset_for(source, event_type));
        assert_eq!(
            d.index,
            format!("logs-{dataset}-default"),
            "{id} ({source} {event_type:?})"
        );
        assert_eq!(
            d.source["data_stream"],
            serde_json::json!({"type": "logs", "dataset": dataset, "namespace": "default"}),
            "{id}"
        );
    }
}

/// Each id was attempted until it was stored, once, and sent again only after an answer that
/// asked for it (an item or request 429/5xx): what the receiver refused was resent, nothing
/// else. Returns how many answers asked for a resend.
fn check_resends_follow_refusals(t: &Attempts) -> u64 {
    for (id, a) in &t.events {
        let last = a.answers.last().expect("an attempt");
        assert!(
            a.resent_without_cause() == 0 && !last.retryable() && last.status == 201,
            "{id}: {:?}",
            a.answers
        );
    }
    t.events.values().map(|a| a.retryable()).sum()
}

/// The object records archived are the generator's: LoginEvent by EventIdentifier (EventDate in
/// the day before now, less the settle delay) and SetupAuditTrail by Id.
fn check_generated_objects(sim: &sfsim::SimHandle, dir: &Path) {
    let now = sim.now();
    let key =
        |r: &soql::Record, f: &str| r.get(f).and_then(soql::Value::as_str).unwrap().to_string();
    let time = |r: &soql::Record, f: &str| match r.get(f) {
        Some(soql::Value::DateTime(t)) => *t,
        other => panic!("{f}: {other:?}"),
    };
    let from = now - chrono::Duration::days(1);
    let want_login: HashSet<String> = sim
        .visible_records("LoginEvent")
        .iter()
        .filter(|r| {
            time(r, "EventDate") > from
                && time(r, "EventDate") <= now - chrono::Duration::seconds(60)
        })
        .map(|r| key(r, "EventIdentifier"))
        .collect();
    let want_audit: HashSet<String> = sim
        .visible_records("SetupAuditTrail")
        .iter()
        .filter(|r| time(r, "CreatedDate") >= from)
        .map(|r| key(r, "Id"))
        .collect();
    let mut got_login = HashSet::new();
    let mut got_audit = HashSet::new();
    for v in archived(dir).into_values() {
        match v["source"].as_str() {
            Some("LoginEvent") => {
                got_login.insert(v["fields"]["EventIdentifier"].as_str().unwrap().to_string())
            }
            Some("SetupAuditTrail") => {
                got_audit.insert(v["fields"]["Id"].as_str().unwrap().to_string())
            }
            _ => false,
        };
    }
    assert!(!want_login.is_empty() && !want_audit.is_empty());
    assert_eq!(got_login, want_login, "LoginEvent");
    assert_eq!(got_audit, want_audit, "SetupAuditTrail");
}

/// Objects and EventLogFile together, so every kind of dataset is shipped.
fn collect_args(h: &es::Handle, extra: &str) -> Vec<String> {
    vec![
        "--object".into(),
        "LoginEvent".into(),
        "--object".into(),
        "SetupAuditTrail".into(),
        "--event-type".into(),
        "Login".into(),
        "--event-type".into(),
        "ApiTotalUsage".into(),
        "--event-type".into(),
        "Logout".into(),
        "--backfill-days".into(),
        "1".into(),
        "--to".into(),
        to(h, extra),
    ]
}

/// `sfevents collect` as of the simulator's (frozen) now.
async fn collect_to(sim: &sfsim::SimHandle, dir: &Path, args: &[String]) -> std::process::Output {
    let mut all = vec!["collect".to_string(), "--quiet".into()];
    all.extend(auth_args(sim, dir));
    all.extend(args.iter().cloned());
    tokio::process::Command::new(BIN)
        .args(&all)
        .env("SFEVENTS_NOW", sim.now().to_rfc3339())
        .output()
        .await
        .unwrap()
}

/// A small org with its clock frozen, so what is collected is exact.
fn org(seed: u64) -> sfsim::SimConfig {
    let mut c = small_config(seed);
    c.freeze_clock = true;
    c.org.records_per_hour = (4, 12);
    c
}

async fn ship(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut all = vec![
        "ship".to_string(),
        "--output-dir".into(),
        dir.display().to_string(),
    ];
    all.extend(extra.iter().map(|s| s.to_string()));
    run(&all).await
}

fn status_text(dir: &Path) -> String {
    let o = std::process::Command::new(BIN)
        .args(["status", "--output-dir", &dir.display().to_string()])
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_once_across_data_streams_through_faults() {
    let sim = start(org(61)).await;
    // Item and request refusals, a burst of 503s and a body limit that forces splits.
    let h = receiver(Faults {
        items_429: 7,
        items_5xx: 5,
        requests_429: 2,
        requests_5xx: 2,
        max_content_length: Some(40_000),
        ..Faults::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let o = collect_to(&sim, dir.path(), &collect_args(&h, "&max_batch_events=200")).await;
    assert_exit(&o, 0);
    // The archive is what the generator says the org holds, and the receiver the archive.
    // --backfill-days 1: files created in the last day.
    let since = sim.now() - chrono::Duration::days(1);
    let files: Vec<_> = expected_of(&sim, "auto", &["Login", "ApiTotalUsage", "Logout"])
        .into_iter()
        .filter(|f| f.created_date >= since)
        .collect();
    assert!(!files.is_empty());
    check_archive(&sim, dir.path(), &files);
    check_generated_objects(&sim, dir.path());
    check_received(&h, dir.path());
    let st = h.stats();
    assert_eq!((st.items_429, st.items_5xx), (7, 5), "{st:?}");
    assert_eq!((st.requests_429, st.requests_5xx), (2, 2), "{st:?}");
    assert!(st.compressed_requests > 0, "gzip on the wire: {st:?}");
    // Only what the faults refused was sent again: the 12 items refused one by one, and the
    // documents of the 4 requests refused whole, once each.
    let t = h.attempts();
    let refused_whole = t
        .events
        .values()
        .flat_map(|a| &a.answers)
        .filter(|a| a.request)
        .count() as u64;
    assert!(refused_whole > 0);
    let resends = check_resends_follow_refusals(&t);
    assert_eq!(resends, 7 + 5 + refused_whole);
    assert_eq!(t.extra(), resends, "one resend per refusal");
    assert_eq!(t.events.len(), archived(dir.path()).len());
    assert!(st.requests_413 > 0, "{st:?}");
    let status = status_text(dir.path());
    assert!(status.contains("es "), "{status}");
    // Nothing left: a second ship sends nothing.
    let before = h.stats().bulk_requests;
    let o = ship(dir.path(), &["--to", &to(&h, "")]).await;
    assert_exit(&o, 0);
    assert_eq!(h.stats().bulk_requests, before);
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_output_down_during_collect_gets_everything_from_a_later_ship() {
    let sim = start(org(62)).await;
    let dir = tempfile::tempdir().unwrap();
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let down = format!("elasticsearch+http://127.0.0.1:{port}?name=es");
    let mut args = collect_args_without_output();
    args.extend(["--to".into(), down]);
    let o = collect_to(&sim, dir.path(), &args).await;
    assert_exit(&o, 1);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("output 'es'"), "{err}");
    // Collection itself completed: the run is recorded as ok and the archive holds events.
    let c = rusqlite::Connection::open(dir.path().join("state.db")).unwrap();
    let status: String = c
        .query_row(
            "SELECT status FROM runs ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(status, "ok");
    assert!(archived(dir.path()).len() > 50);
    let status = status_text(dir.path());
    assert!(status.contains("es "), "{status}");

    let h = receiver(Faults::default()).await;
    let o = ship(dir.path(), &["--to", &to(&h, "")]).await;
    assert_exit(&o, 0);
    check_received(&h, dir.path());
    assert_eq!(h.attempts().extra(), 0, "each event sent once");
    sim.shutdown();
}

fn collect_args_without_output() -> Vec<String> {
    [
        "--object",
        "LoginEvent",
        "--object",
        "SetupAuditTrail",
        "--event-type",
        "Login",
        "--event-type",
        "ApiTotalUsage",
        "--event-type",
        "Logout",
        "--backfill-days",
        "1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_document_is_dead_lettered_and_the_rest_arrives() {
    let sim = start(org(63)).await;
    let dir = tempfile::tempdir().unwrap();
    let mut args = collect_args_without_output();
    args.push("--no-ship".into());
    assert_exit(&collect_to(&sim, dir.path(), &args).await, 0);
    // One SetupAuditTrail change is refused for good (as a mapping conflict would).
    let victim = archived(dir.path())
        .into_values()
        .find(|v| v["source"] == "SetupAuditTrail")
        .expect("a setup change");
    let victim_id = victim["id"].as_str().unwrap().to_string();
    let h = receiver(Faults {
        reject_documents: vec![RejectRule {
            field: "salesforce.event_id".into(),
            value: Some(serde_json::Value::String(victim_id.clone())),
            mapped_as: None,
        }],
        ..Faults::default()
    })
    .await;
    let o = ship(dir.path(), &["--to", &to(&h, "")]).await;
    assert_exit(&o, 1);
    let got: HashSet<String> = h.all_docs().into_iter().map(|d| d.id).collect();
    let want: HashSet<String> = archived(dir.path()).into_keys().collect();
    assert!(!got.contains(&victim_id));
    assert_eq!(got.len(), want.len() - 1);
    let statuses: Vec<u16> = h
        .attempt(&victim_id)
        .answers
        .iter()
        .map(|a| a.status)
        .collect();
    assert_eq!(statuses, [400], "refused for good: sent once");
    assert_eq!(h.attempts().extra(), 0, "and nothing else sent twice");
    let dl = std::fs::read_dir(dir.path().join("dead-letter/es"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let text = std::fs::read_to_string(dl.path()).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    let line: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(line["id"], victim_id.as_str());
    assert!(
        line["error"].as_str().unwrap().contains("parsing"),
        "{line}"
    );
    assert_eq!(line["event"], victim);
    let status = status_text(dir.path());
    assert!(status.contains("dead letters:"), "{status}");
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_of_one_day_repeats_nothing_and_agent_mode_carries_the_record() {
    let sim = start(org(64)).await;
    let dir = tempfile::tempdir().unwrap();
    let h = receiver(Faults::default()).await;
    assert_exit(
        &collect_to(&sim, dir.path(), &collect_args(&h, "&mode=agent")).await,
        0,
    );
    check_received(&h, dir.path());
    // Agent mode: the record as Filebeat sends it, for Elastic's own pipeline.
    let events = archived(dir.path());
    let mut checked = 0;
    for d in h.all_docs() {
        let ev = &events[&d.id];
        if d.index.starts_with("logs-salesforce.login-") {
            let msg: serde_json::Value =
                serde_json::from_str(d.source["message"].as_str().expect("message")).unwrap();
            for (k, v) in ev["fields"].as_object().unwrap() {
                match v {
                    serde_json::Value::Null | serde_json::Value::Object(_) => {}
                    // Go prints 0.0 as 0, as Filebeat does.
                    serde_json::Value::Number(n) => {
                        assert_eq!(msg[k].as_f64(), n.as_f64(), "{}: {k}", d.id)
                    }
                    _ => assert_eq!(msg.get(k), Some(v), "{}: {k}", d.id),
                }
            }
            assert_eq!(
                d.pipeline, None,
                "agent mode leaves Elastic's pipeline to run"
            );
            checked += 1;
        }
    }
    assert!(checked > 0);

    assert_eq!(h.attempts().extra(), 0, "each event sent once");

    // Replay one day: the archive files holding events of that day or later are sent again,
    // each of their events once, and nothing else.
    let day = events
        .values()
        .map(|v| v["@timestamp"].as_str().unwrap()[..10].to_string())
        .max()
        .unwrap();
    let replayed = ids_in_files_reaching(dir.path(), &format!("{day}T00:00:00.000Z"));
    assert!(
        !replayed.is_empty() && replayed.len() < events.len(),
        "{} of {}: a day, not everything",
        replayed.len(),
        events.len()
    );
    let before = h.attempts();
    let o = run(&[
        "replay".into(),
        "--output-dir".into(),
        dir.path().display().to_string(),
        "--to".into(),
        to(&h, "&mode=agent"),
        "--output".into(),
        "es".into(),
        "--since".into(),
        day.clone(),
    ])
    .await;
    assert_exit(&o, 0);
    let after = h.attempts();
    assert_eq!(after.extra() - before.extra(), replayed.len() as u64);
    for id in events.keys() {
        let (was, now) = (&before.events[id], &after.events[id]);
        let sent = now.attempts() - was.attempts();
        assert_eq!(
            sent,
            u64::from(replayed.contains(id)),
            "{id}: {:?}",
            now.answers
        );
        if sent == 1 {
            assert_eq!(now.answers.last().map(|a| a.status), Some(409), "{id}");
        }
    }
    check_received(&h, dir.path());
    sim.shutdown();
}

/// The ids of the archive's NDJSON files whose newest event is at or after `since`: what
/// `replay --since` selects (whole files, as the delivery log lists them).
fn ids_in_files_reaching(dir: &Path, since: &str) -> HashSet<String> {
    let mut files: HashMap<std::path::PathBuf, (String, Vec<String>)> = HashMap::new();
    for (path, v) in ndjson_lines(dir) {
        let e = files.entry(path).or_default();
        let t = v["@timestamp"].as_str().unwrap().to_string();
        if t > e.0 {
            e.0 = t;
        }
        e.1.push(v["id"].as_str().unwrap().to_string());
    }
    files
        .into_values()
        .filter(|(newest, _)| newest.as_str() >= since)
        .flat_map(|(_, ids)| ids)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_while_shipping_loses_nothing_and_repeats_at_most_the_batches_in_flight() {
    let mut cfg = org(65);
    cfg.org.rows_per_hour = (20, 60);
    let sim = start(cfg).await;
    let dir = tempfile::tempdir().unwrap();
    let mut args = collect_args_without_output();
    args.push("--no-ship".into());
    assert_exit(&collect_to(&sim, dir.path(), &args).await, 0);
    let total = archived(dir.path()).len() as u64;
    assert!(total > 1000, "{total} events");
    let h = receiver(Faults {
        delay_ms: Some(15),
        ..Faults::default()
    })
    .await;
    let url = to(&h, "&max_batch_events=25&in_flight=2");
    let mut state: u64 = 0xD1B5_4A32_D192_ED03;
    let mut kills = 0u64;
    for round in 0..8 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let after = Duration::from_millis(100 + state % 400);
        let mut child = tokio::process::Command::new(BIN)
            .args([
                "ship",
                "--quiet",
                "--output-dir",
                &dir.path().display().to_string(),
                "--to",
                &url,
            ])
            .spawn()
            .unwrap();
        tokio::time::sleep(after).await;
        match child.try_wait().unwrap() {
            Some(status) => {
                assert!(status.success(), "round {round}: ship ended with {status}");
                break;
            }
            None => {
                child.start_kill().unwrap();
                child.wait().await.unwrap();
                kills += 1;
            }
        }
    }
    assert!(kills > 0, "no kill landed: make the archive bigger");
    assert_exit(&ship(dir.path(), &["--to", &url]).await, 0);
    check_received(&h, dir.path());
    // Each kill can repeat only what was in flight: 2 batches of 25.
    let offers: u64 = h.all_offers().iter().map(|(_, n)| n).sum();
    assert!(
        offers - total <= kills * 2 * 25,
        "{} repeats after {kills} kills",
        offers - total
    );
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_output_settings_are_refused_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "elasticsearch+https://es.example?modee=ecs",
            "unknown setting 'modee'",
        ),
        ("elasticsearch+http://es.example:9200", "plain http://"),
        ("elasticsearch+https://u:secret@es.example", "password_env"),
        ("kafka+https://k.example", "is not known"),
        (
            "elasticsearch+https://es.example?api_key_env=SFEVENTS_NO_SUCH_VAR",
            "SFEVENTS_NO_SUCH_VAR",
        ),
    ];
    std::fs::write(dir.path().join("state.db"), b"").unwrap();
    for (url, want) in cases {
        let o = ship(dir.path(), &["--to", url]).await;
        assert_exit(&o, 2);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(want), "{url}: {err}");
        assert!(!err.contains("secret@"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_keeps_shipping_as_it_collects_and_setup_installs_the_template() {
    let sim = start(org(66)).await;
    let h = receiver(Faults::default()).await;
    let o = run(&[
        "setup".into(),
        "elasticsearch".into(),
        "--to".into(),
        to(&h, "&retention_days=30"),
    ])
    .await;
    assert_exit(&o, 0);
    assert!(h.index_template("sfevents-salesforce").is_some());
    assert!(h.ilm_policy("sfevents-salesforce").is_some());

    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["run".to_string(), "--quiet".into()];
    args.extend(auth_args(&sim, dir.path()));
    args.extend(collect_args(&h, ""));
    args.extend([
        "--object-every".into(),
        "1".into(),
        "--elf-every".into(),
        "1".into(),
    ]);
    let child = tokio::process::Command::new(BIN)
        .args(&args)
        .env("SFEVENTS_NOW", sim.now().to_rfc3339())
        .spawn()
        .unwrap();
    // Until the receiver has held the whole archive for three looks in a row (collections
    // come every second; the clock is frozen, so the archive stops growing), or 60 s.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut settled = 0;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let want = archived(dir.path()).len();
        settled = if want > 0 && h.all_docs().len() == want {
            settled + 1
        } else {
            0
        };
        if settled == 3 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "run did not ship everything"
        );
    }
    signal(&child, "TERM");
    let out = child.wait_with_output().await.unwrap();
    assert_exit(&out, 0);
    check_received(&h, dir.path());
    assert_eq!(h.attempts().extra(), 0, "each event sent once");
    sim.shutdown();
}
