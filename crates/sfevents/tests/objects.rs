//! Real-Time Event Monitoring objects, SetupAuditTrail and LoginHistory against sfsim, with
//! the simulator's clock frozen and `SFEVENTS_NOW` set to it, so every expectation is exact.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use chrono::{DateTime, Utc};
use common::*;
use sfsim::{Faults, SimConfig, SimHandle};
use soql::{Record, Value};

const SETTLE: i64 = 60;

fn obj_config(seed: u64) -> SimConfig {
    let mut c = small_config(seed);
    c.freeze_clock = true;
    c.org.days = 1;
    c.org.records_per_hour = (4, 12);
    c.org.rows_per_hour = (0, 1);
    c
}

fn time_of(r: &Record, field: &str) -> DateTime<Utc> {
    match r.get(field) {
        Some(Value::DateTime(t)) => *t,
        other => panic!("{field} is not a dateTime: {other:?}"),
    }
}

fn key_of(r: &Record, field: &str) -> String {
    r.get(field)
        .and_then(Value::as_str)
        .expect("key")
        .to_string()
}

/// `sfevents collect --object ...` as of the simulator's now.
async fn collect_objects(sim: &SimHandle, dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["collect".to_string(), "--quiet".into()];
    all.extend(auth_args(sim, dir));
    all.extend(args.iter().map(|s| s.to_string()));
    tokio::process::Command::new(BIN)
        .args(&all)
        .env("SFEVENTS_NOW", sim.now().to_rfc3339())
        .output()
        .await
        .unwrap()
}

/// Visible events of an RTEM object with EventDate in (from, now - settle], one per
/// EventIdentifier.
fn expected_events(sim: &SimHandle, object: &str, from: DateTime<Utc>) -> Vec<Record> {
    let to = sim.now() - chrono::Duration::seconds(SETTLE);
    let mut seen = HashSet::new();
    sim.visible_records(object)
        .into_iter()
        .filter(|r| {
            let t = time_of(r, "EventDate");
            t > from && t <= to
        })
        .filter(|r| seen.insert(key_of(r, "EventIdentifier")))
        .collect()
}

/// The archive's events of `source`, by key; panics on a key seen twice.
fn archived(dir: &Path, source: &str) -> HashMap<String, serde_json::Value> {
    let mut m = HashMap::new();
    for (_, v) in ndjson_lines(dir) {
        if v["source"] != source {
            continue;
        }
        // The id is the object's scope and the record's key (EventIdentifier, Id, ...).
        let scope = archive::normalize::ids::object_prefix(v["org_id"].as_str().unwrap(), source);
        let id = v["id"].as_str().unwrap();
        let key = id
            .strip_prefix(&scope)
            .unwrap_or_else(|| panic!("{source} event id {id} is not under {scope}"))
            .to_string();
        assert!(
            m.insert(key.clone(), v).is_none(),
            "{source} event {key} archived twice"
        );
    }
    m
}

/// The archive holds exactly `expected` for `source`, with Salesforce's values.
fn check_objects(dir: &Path, source: &str, key: &str, expected: &[Record]) {
    let got = archived(dir, source);
    let want: HashSet<String> = expected.iter().map(|r| key_of(r, key)).collect();
    let missing: Vec<_> = want.iter().filter(|k| !got.contains_key(*k)).collect();
    let extra: Vec<_> = got.keys().filter(|k| !want.contains(*k)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{source}: missing {missing:?}, unexpected {extra:?}"
    );
    for r in expected {
        let v = &got[&key_of(r, key)];
        let fields = v["fields"].as_object().expect("fields");
        for (name, value) in &r.fields {
            if let Value::Record(rel) = value {
                let user = rel.get("Username").and_then(Value::as_str);
                assert_eq!(
                    fields[name]["Username"].as_str(),
                    user,
                    "{source} {name}.Username"
                );
                continue;
            }
            assert_eq!(
                fields.get(name),
                Some(&value.to_json("64.0")),
                "{source} field {name}"
            );
        }
        assert!(v["@timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
    }
    check_delivery_log(dir);
}

fn state_cursor(dir: &Path, source: &str) -> Option<String> {
    let c = rusqlite::Connection::open(dir.join("state.db")).unwrap();
    c.query_row(
        "SELECT position FROM cursors WHERE source = ?1",
        [source],
        |r| r.get(0),
    )
    .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_objects_page_and_dedupe_across_runs_and_look_backs() {
    let mut cfg = obj_config(31);
    cfg.page_size_cap = Some(20);
    cfg.org.duplicate_event_identifiers = true;
    let sim = start(cfg).await;
    let dir = tempfile::tempdir().unwrap();
    let from = sim.now() - chrono::Duration::days(2);
    let args = [
        "--object",
        "LoginEvent",
        "--object",
        "LogoutEvent",
        "--backfill-days",
        "2",
        "--window-minutes",
        "1440",
    ];
    let o = collect_objects(&sim, dir.path(), &args).await;
    assert_exit(&o, 0);
    for obj in ["LoginEvent", "LogoutEvent"] {
        let exp = expected_events(&sim, obj, from);
        assert!(
            exp.len() > 60,
            "{obj}: {} events is too few to page",
            exp.len()
        );
        check_objects(dir.path(), obj, "EventIdentifier", &exp);
    }
    // The generator stored some events twice; they were archived once.
    let all = sim.visible_records("LoginEvent");
    let unique: HashSet<String> = all.iter().map(|r| key_of(r, "EventIdentifier")).collect();
    assert!(
        unique.len() < all.len(),
        "no duplicate EventIdentifier was served"
    );
    assert!(
        ndjson_lines(dir.path())
            .iter()
            .all(|(_, v)| v["source"] != "EventLogFile"),
        "--object alone collects no EventLogFile"
    );

    // Later: the look-back re-reads the last 15 minutes; nothing is archived twice.
    sim.advance_clock(Duration::from_secs(2 * 3600));
    let o = collect_objects(&sim, dir.path(), &args).await;
    assert_exit(&o, 0);
    for obj in ["LoginEvent", "LogoutEvent"] {
        check_objects(
            dir.path(),
            obj,
            "EventIdentifier",
            &expected_events(&sim, obj, from),
        );
    }
    let st = run(&[
        "status".into(),
        "--output-dir".into(),
        dir.path().display().to_string(),
    ])
    .await;
    let text = String::from_utf8_lossy(&st.stdout);
    assert!(
        text.contains("LoginEvent") && text.contains("lag"),
        "{text}"
    );
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_on_page_2_keeps_page_1_and_the_window_is_retried() {
    let mut cfg = obj_config(32);
    cfg.page_size_cap = Some(20);
    cfg.faults = Faults {
        fail_query_more: true,
        ..Default::default()
    };
    let sim = start(cfg).await;
    let dir = tempfile::tempdir().unwrap();
    let from = sim.now() - chrono::Duration::days(1);
    let args = [
        "--object",
        "ApiEvent",
        "--backfill-days",
        "1",
        "--window-minutes",
        "1440",
        "--max-attempts",
        "2",
    ];
    let o = collect_objects(&sim, dir.path(), &args).await;
    assert_exit(&o, 1);
    assert_eq!(archived(dir.path(), "ApiEvent").len(), 20, "page 1 is kept");
    assert_eq!(
        state_cursor(dir.path(), "ApiEvent"),
        None,
        "the cursor did not pass the failed window"
    );

    sim.set_faults(Faults::default());
    let o = collect_objects(&sim, dir.path(), &args).await;
    assert_exit(&o, 0);
    check_objects(
        dir.path(),
        "ApiEvent",
        "EventIdentifier",
        &expected_events(&sim, "ApiEvent", from),
    );
    assert!(state_cursor(dir.path(), "ApiEvent").is_some());
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_and_sparse_windows() {
    let mut cfg = obj_config(33);
    cfg.org.records_per_hour = (0, 1);
    let sim = start(cfg).await;
    let dir = tempfile::tempdir().unwrap();
    let from = sim.now() - chrono::Duration::days(1);
    let o = collect_objects(
        &sim,
        dir.path(),
        &[
            "--object",
            "ReportEvent",
            "--backfill-days",
            "1",
            "--window-minutes",
            "20",
        ],
    )
    .await;
    assert_exit(&o, 0);
    let exp = expected_events(&sim, "ReportEvent", from);
    assert!(!exp.is_empty() && exp.len() < 40, "sparse: {}", exp.len());
    check_objects(dir.path(), "ReportEvent", "EventIdentifier", &exp);
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_12_window_catch_up_is_capped_at_n_windows_per_run() {
    let sim = start(obj_config(34)).await;
    let dir = tempfile::tempdir().unwrap();
    let now = sim.now();
    let from = now - chrono::Duration::days(1);
    // One day in 2-hour windows (held at 2 hours: sparse windows would grow), 5 a run. Each later run's first window also re-reads the
    // 15 minutes before the cursor (widened to hold them, so no query is added): every run
    // moves the cursor 10 hours.
    let args = [
        "--object",
        "UriEvent",
        "--backfill-days",
        "1",
        "--window-minutes",
        "120",
        "--max-window-minutes",
        "120",
        "--max-windows-per-run",
        "5",
    ];
    let limit = now - chrono::Duration::seconds(SETTLE);
    let mut reached = from;
    for run_no in 1..=4 {
        let o = collect_objects(&sim, dir.path(), &args).await;
        assert_exit(&o, 0);
        reached = (reached + chrono::Duration::hours(10)).min(limit);
        let exp: Vec<Record> = expected_events(&sim, "UriEvent", from)
            .into_iter()
            .filter(|r| time_of(r, "EventDate") <= reached)
            .collect();
        check_objects(dir.path(), "UriEvent", "EventIdentifier", &exp);
        let cur = state_cursor(dir.path(), "UriEvent").expect("cursor");
        let cur = chrono::DateTime::parse_from_rfc3339(&cur)
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(cur, reached, "run {run_no}");
    }
    assert_eq!(reached, limit, "caught up after 4 runs");
    // Delivered ids older than the look-back (and an hour's margin) are forgotten.
    let c = rusqlite::Connection::open(dir.path().join("state.db")).unwrap();
    let horizon = archive::normalize::iso(&(reached - chrono::Duration::minutes(75)));
    let (kept, stale): (i64, i64) = c
        .query_row(
            "SELECT COUNT(*), SUM(event_time < ?1) FROM seen WHERE source = 'UriEvent'",
            [&horizon],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(kept > 0, "recent ids are kept");
    assert_eq!(stale, 0, "ids past the look-back are pruned");
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_stored_inside_the_settle_delay_are_collected_by_a_later_run() {
    let sim = start(obj_config(35)).await;
    let anchor = sim.now();
    // A LoginEvent of the next hours that Salesforce stores late.
    let late = sim
        .org
        .object_records("LoginEvent")
        .iter()
        .find(|o| {
            let t = time_of(&o.record, "EventDate");
            t > anchor + chrono::Duration::minutes(20)
                && o.visible_at - t >= chrono::Duration::seconds(90)
        })
        .expect("a late LoginEvent")
        .clone();
    let id = key_of(&late.record, "EventIdentifier");
    let dir = tempfile::tempdir().unwrap();
    let from = anchor - chrono::Duration::days(1);
    let args = ["--object", "LoginEvent", "--backfill-days", "1"];
    assert_exit(&collect_objects(&sim, dir.path(), &args).await, 0);

    // Just before it is stored: its EventDate is older than the settle delay, yet invisible.
    let before = late.visible_at - chrono::Duration::seconds(1) - sim.now();
    sim.advance_clock(before.to_std().unwrap());
    assert!(time_of(&late.record, "EventDate") <= sim.now() - chrono::Duration::seconds(SETTLE));
    assert_exit(&collect_objects(&sim, dir.path(), &args).await, 0);
    assert!(!archived(dir.path(), "LoginEvent").contains_key(&id));
    check_objects(
        dir.path(),
        "LoginEvent",
        "EventIdentifier",
        &expected_events(&sim, "LoginEvent", from),
    );

    // Stored now: the next run's look-back finds it.
    sim.advance_clock(Duration::from_secs(120));
    assert_exit(&collect_objects(&sim, dir.path(), &args).await, 0);
    assert!(
        archived(dir.path(), "LoginEvent").contains_key(&id),
        "the late event was not collected"
    );
    check_objects(
        dir.path(),
        "LoginEvent",
        "EventIdentifier",
        &expected_events(&sim, "LoginEvent", from),
    );
    sim.shutdown();
}

/// SetupAuditTrail as a query returns it: CreatedDate in [from, now], by (CreatedDate, Id).
fn expected_audit(sim: &SimHandle, from: DateTime<Utc>) -> Vec<Record> {
    let mut v: Vec<Record> = sim
        .visible_records("SetupAuditTrail")
        .into_iter()
        .filter(|r| time_of(r, "CreatedDate") >= from)
        .collect();
    v.sort_by(|a, b| {
        (time_of(a, "CreatedDate"), key_of(a, "Id"))
            .cmp(&(time_of(b, "CreatedDate"), key_of(b, "Id")))
    });
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_audit_trail_rows_sharing_a_created_date_are_neither_skipped_nor_repeated() {
    let mut cfg = obj_config(36);
    cfg.org.records_per_hour = (6, 12);
    let probe = start(cfg.clone()).await;
    let from = probe.now() - chrono::Duration::days(1);
    let rows = expected_audit(&probe, from);
    // A page boundary inside a group of rows with one CreatedDate.
    let split = (1..rows.len())
        .find(|&i| {
            i >= 3 && time_of(&rows[i], "CreatedDate") == time_of(&rows[i - 1], "CreatedDate")
        })
        .expect("rows sharing a CreatedDate");
    probe.shutdown();
    cfg.page_size_cap = Some(split);
    cfg.faults = Faults {
        fail_query_more: true,
        ..Default::default()
    };
    let sim = start(cfg).await;
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--object",
        "SetupAuditTrail",
        "--backfill-days",
        "1",
        "--max-attempts",
        "2",
    ];
    let o = collect_objects(&sim, dir.path(), &args).await;
    assert_exit(&o, 1);
    check_objects(dir.path(), "SetupAuditTrail", "Id", &rows[..split]);

    sim.set_faults(Faults::default());
    assert_exit(&collect_objects(&sim, dir.path(), &args).await, 0);
    check_objects(dir.path(), "SetupAuditTrail", "Id", &rows);

    sim.advance_clock(Duration::from_secs(3 * 3600));
    assert_exit(&collect_objects(&sim, dir.path(), &args).await, 0);
    let later = expected_audit(&sim, from);
    assert!(later.len() > rows.len());
    check_objects(dir.path(), "SetupAuditTrail", "Id", &later);
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_history_follows_login_time() {
    let sim = start(obj_config(37)).await;
    let dir = tempfile::tempdir().unwrap();
    let from = sim.now() - chrono::Duration::days(1);
    assert_exit(
        &collect_objects(
            &sim,
            dir.path(),
            &["--object", "LoginHistory", "--backfill-days", "1"],
        )
        .await,
        0,
    );
    let exp: Vec<Record> = sim
        .visible_records("LoginHistory")
        .into_iter()
        .filter(|r| time_of(r, "LoginTime") >= from)
        .collect();
    assert!(!exp.is_empty());
    check_objects(dir.path(), "LoginHistory", "Id", &exp);
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_budget_stops_collection_for_the_day() {
    let mut cfg = obj_config(38);
    cfg.daily_api_limit = 60;
    let sim = start(cfg).await;
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--object",
        "LoginEvent",
        "--backfill-days",
        "1",
        "--window-minutes",
        "10",
        "--max-window-minutes",
        "10",
        "--api-budget-percent",
        "50",
    ];
    let o = collect_objects(&sim, dir.path(), &args).await;
    assert_exit(&o, 1);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("budget"),
        "{}",
        describe(&o)
    );
    assert!(
        sim.api_calls() <= 31,
        "spent {} calls past a budget of 30",
        sim.api_calls()
    );
    // A new day, a bigger allowance: the next run resumes.
    sim.reset_api_calls();
    sim.set_daily_api_limit(100_000);
    let o = collect_objects(&sim, dir.path(), &args).await;
    assert_exit(&o, 0);
    let from = sim.now() - chrono::Duration::days(1);
    check_objects(
        dir.path(),
        "LoginEvent",
        "EventIdentifier",
        &expected_events(&sim, "LoginEvent", from),
    );
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_run_then_a_restart_loses_and_repeats_nothing() {
    let mut cfg = obj_config(39);
    cfg.faults = Faults {
        delay_ms: Some(8),
        ..Default::default()
    };
    let sim = start(cfg).await;
    let dir = tempfile::tempdir().unwrap();
    let from = sim.now() - chrono::Duration::days(1);
    let mut args = vec!["run".to_string(), "--quiet".into()];
    args.extend(auth_args(&sim, dir.path()));
    for a in [
        "--object",
        "LoginEvent",
        "--object",
        "SetupAuditTrail",
        "--event-type",
        "Login",
        "--backfill-days",
        "1",
        "--window-minutes",
        "15",
        "--object-every",
        "1",
    ] {
        args.push(a.into());
    }
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    for _ in 0..5 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let mut child = tokio::process::Command::new(BIN)
            .args(&args)
            .env("SFEVENTS_NOW", sim.now().to_rfc3339())
            .spawn()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200 + state % 1200)).await;
        assert!(
            child.try_wait().unwrap().is_none(),
            "run mode exited by itself"
        );
        child.start_kill().unwrap(); // SIGKILL
        child.wait().await.unwrap();
        sim.advance_clock(Duration::from_secs(600));
    }
    // SIGTERM: a clean stop, exit 0.
    let child = tokio::process::Command::new(BIN)
        .args(&args)
        .env("SFEVENTS_NOW", sim.now().to_rfc3339())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    signal(&child, "TERM");
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("stopped within 30 s")
        .unwrap();
    assert_exit(&out, 0);

    // Everything up to now, exactly once.
    let mut collect_args = vec![
        "--object",
        "LoginEvent",
        "--object",
        "SetupAuditTrail",
        "--event-type",
        "Login",
        "--backfill-days",
        "1",
        "--window-minutes",
        "15",
    ];
    collect_args.extend(["--max-windows-per-run", "1000"]);
    assert_exit(&collect_objects(&sim, dir.path(), &collect_args).await, 0);
    check_objects(
        dir.path(),
        "LoginEvent",
        "EventIdentifier",
        &expected_events(&sim, "LoginEvent", from),
    );
    check_objects(
        dir.path(),
        "SetupAuditTrail",
        "Id",
        &expected_audit(&sim, from),
    );
    let ids: Vec<String> = ndjson_lines(dir.path())
        .iter()
        .map(|(_, v)| v["id"].as_str().unwrap().to_string())
        .collect();
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "an event id appears twice");
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_shrink_when_a_query_times_out_or_holds_too_many_rows() {
    let mut cfg = obj_config(40);
    cfg.faults = Faults {
        query_timeout_over_rows: Some(40),
        ..Default::default()
    };
    let sim = start(cfg).await;
    let from = sim.now() - chrono::Duration::days(1);
    let dir = tempfile::tempdir().unwrap();
    let o = collect_objects(
        &sim,
        dir.path(),
        &[
            "--object",
            "LoginEvent",
            "--backfill-days",
            "1",
            "--window-minutes",
            "1440",
        ],
    )
    .await;
    assert_exit(&o, 0);
    check_objects(
        dir.path(),
        "LoginEvent",
        "EventIdentifier",
        &expected_events(&sim, "LoginEvent", from),
    );
    assert!(log_text(dir.path()).contains("query timed out; halving the window"));

    // Without the timeouts, the same day in one window holds too many rows.
    sim.set_faults(Faults::default());
    let dir = tempfile::tempdir().unwrap();
    let o = collect_objects(
        &sim,
        dir.path(),
        &[
            "--object",
            "LogoutEvent",
            "--backfill-days",
            "1",
            "--window-minutes",
            "1440",
            "--max-rows-per-window",
            "30",
        ],
    )
    .await;
    assert_exit(&o, 0);
    check_objects(
        dir.path(),
        "LogoutEvent",
        "EventIdentifier",
        &expected_events(&sim, "LogoutEvent", from),
    );
    let log = log_text(dir.path());
    assert!(log.contains("more than 30; shrinking the window"), "{log}");
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_from_a_config_file() {
    let sim = start(obj_config(41)).await;
    let from = sim.now() - chrono::Duration::days(1);
    let dir = tempfile::tempdir().unwrap();
    let c = &sim.credentials;
    let cfg = dir.path().join("sfevents.toml");
    std::fs::write(
        &cfg,
        format!(
            "output_dir = \"archive\"\n[[org]]\nname = \"prod\"\ninstance_url = \"{}\"\n[org.auth]\nclient_id = \"{}\"\nusername = \"{}\"\nkey_file = \"{}\"\n[org.event_log_file]\nenabled = false\n[[org.object]]\nname = \"ListViewEvent\"\nbackfill_days = 1\nwindow_minutes = 240\n[[org.object]]\nname = \"SetupAuditTrail\"\nbackfill_days = 1\nfields = [\"Id\", \"Action\", \"Section\", \"Display\", \"CreatedDate\", \"CreatedBy.Username\"]\n",
            sim.url,
            c.client_id,
            c.username,
            c.private_key_file.display()
        ),
    )
    .unwrap();
    let o = tokio::process::Command::new(BIN)
        .args(["collect", "--config", &cfg.display().to_string()])
        .env("SFEVENTS_NOW", sim.now().to_rfc3339())
        .output()
        .await
        .unwrap();
    assert_exit(&o, 0);
    let archive = dir.path().join("archive");
    check_objects(
        &archive,
        "ListViewEvent",
        "EventIdentifier",
        &expected_events(&sim, "ListViewEvent", from),
    );
    let audit = archived(&archive, "SetupAuditTrail");
    assert_eq!(audit.len(), expected_audit(&sim, from).len());
    for v in audit.values() {
        let f = v["fields"].as_object().unwrap();
        assert_eq!(f.len(), 6, "only the configured fields: {f:?}");
        assert!(f["CreatedBy"]["Username"].is_string());
    }
    assert!(ndjson_lines(&archive)
        .iter()
        .all(|(_, v)| v["source"] != "EventLogFile"));
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_sobject_follows_system_modstamp_and_keeps_each_version() {
    // EventLogFile's own records, read as a plain SObject: it has SystemModstamp.
    let sim = start(obj_config(42)).await;
    let dir = tempfile::tempdir().unwrap();
    let o = collect_objects(
        &sim,
        dir.path(),
        &["--object", "EventLogFile", "--backfill-days", "3"],
    )
    .await;
    assert_exit(&o, 0);
    let got = archived(dir.path(), "EventLogFile");
    let want: HashSet<String> = sim
        .visible_files()
        .iter()
        .map(|f| format!("{}@{}", f.id, soql::format_datetime(&f.created_date)))
        .collect();
    let got_ids: HashSet<String> = got.keys().cloned().collect();
    assert_eq!(got_ids, want, "one event per (Id, SystemModstamp)");
    assert!(state_cursor(dir.path(), "EventLogFile").is_some());
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_schedules_count_each_api_call_once() {
    let mut cfg = obj_config(43);
    cfg.faults = Faults {
        delay_ms: Some(20),
        ..Default::default()
    };
    let sim = start(cfg).await;
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["run".to_string(), "--quiet".into()];
    args.extend(auth_args(&sim, dir.path()));
    for a in [
        "--object",
        "LoginEvent",
        "--event-type",
        "Login",
        "--backfill-days",
        "1",
        "--window-minutes",
        "30",
        "--object-every",
        "1",
        "--elf-every",
        "1",
    ] {
        args.push(a.into());
    }
    let child = tokio::process::Command::new(BIN)
        .args(&args)
        .env("SFEVENTS_NOW", sim.now().to_rfc3339())
        .spawn()
        .unwrap();
    // Until at least three cycles have finished (however slow the machine).
    let db = dir.path().join("state.db");
    let finished = |db: &Path| -> i64 {
        rusqlite::Connection::open(db)
            .and_then(|c| {
                c.query_row(
                    "SELECT COUNT(*) FROM runs WHERE finished_at IS NOT NULL",
                    [],
                    |r| r.get(0),
                )
            })
            .unwrap_or(0)
    };
    for _ in 0..300 {
        if db.is_file() && finished(&db) >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    signal(&child, "TERM");
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("stopped")
        .unwrap();
    assert_exit(&out, 0);
    let c = rusqlite::Connection::open(dir.path().join("state.db")).unwrap();
    let (cycles, counted): (i64, i64) = c
        .query_row("SELECT COUNT(*), SUM(api_calls) FROM runs", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert!(cycles >= 3, "only {cycles} cycles ran");
    // One call to /limits at start is outside every cycle.
    assert_eq!(
        counted as u64 + 1,
        sim.api_calls(),
        "cycles counted {counted} calls, sfsim {}",
        sim.api_calls()
    );
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_collect_reuses_the_described_fields() {
    let sim = start(obj_config(44)).await;
    let dir = tempfile::tempdir().unwrap();
    let args = ["--object", "SetupAuditTrail", "--backfill-days", "1"];
    assert_exit(&collect_objects(&sim, dir.path(), &args).await, 0);
    let before = sim.api_calls();
    assert_exit(&collect_objects(&sim, dir.path(), &args).await, 0);
    assert_eq!(sim.api_calls() - before, 1, "one query, no describe");
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_hourly_cycle_costs_one_query_even_when_it_comes_late() {
    let sim = start(obj_config(45)).await;
    let dir = tempfile::tempdir().unwrap();
    let args = ["--object", "LoginEvent", "--backfill-days", "1"];
    assert_exit(&collect_objects(&sim, dir.path(), &args).await, 0);
    // An hour and half a minute later: the look-back and the half minute fit in one window.
    sim.advance_clock(Duration::from_secs(3630));
    let before = sim.api_calls();
    assert_exit(&collect_objects(&sim, dir.path(), &args).await, 0);
    assert_eq!(sim.api_calls() - before, 1, "one window query");
    let from = sim.now() - chrono::Duration::days(1) - chrono::Duration::seconds(3630);
    check_objects(
        dir.path(),
        "LoginEvent",
        "EventIdentifier",
        &expected_events(&sim, "LoginEvent", from),
    );
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_exits_2_on_bad_credentials_keeps_trying_when_unreachable_and_a_second_signal_stops_at_once(
) {
    let mut cfg = obj_config(46);
    cfg.faults = Faults {
        delay_ms: Some(50),
        ..Default::default()
    };
    let sim = start(cfg).await;
    let dir = tempfile::tempdir().unwrap();
    let base = |dir: &Path| {
        let mut a = vec!["run".to_string(), "--quiet".into()];
        a.extend(auth_args(&sim, dir));
        a.extend([
            "--object".into(),
            "LoginEvent".into(),
            "--backfill-days".into(),
            "1".into(),
            "--window-minutes".into(),
            "10".into(),
        ]);
        a
    };

    // A refused login is a configuration error.
    let mut args = base(dir.path());
    let cid = args.iter().position(|a| a == "--client-id").unwrap() + 1;
    args[cid] = "3MVG9wrong".into();
    let o = tokio::time::timeout(Duration::from_secs(30), run(&args))
        .await
        .expect("exits");
    assert_exit(&o, 2);

    // An org that cannot be reached: run keeps trying until told to stop.
    let mut args = base(dir.path());
    let url = args.iter().position(|a| a == "--instance-url").unwrap() + 1;
    args[url] = "http://127.0.0.1:9".into();
    let child = tokio::process::Command::new(BIN)
        .args(&args)
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    signal(&child, "TERM");
    let out = tokio::time::timeout(Duration::from_secs(10), child.wait_with_output())
        .await
        .expect("stopped")
        .unwrap();
    assert_exit(&out, 0);

    // Two signals during a cycle: the second exits at once (130), without waiting for the
    // slow requests still due; the next run redoes what was in flight. Each request takes a
    // second, so the first cycle (login, limits, describe, queries) is surely still running
    // when the signals come at 1.5 s, however fast the machine.
    sim.set_faults(Faults {
        delay_ms: Some(1000),
        ..Default::default()
    });
    let child = tokio::process::Command::new(BIN)
        .args(base(dir.path()))
        .env("SFEVENTS_NOW", sim.now().to_rfc3339())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    signal(&child, "TERM");
    signal(&child, "INT");
    let out = tokio::time::timeout(Duration::from_secs(5), child.wait_with_output())
        .await
        .expect("stopped at once")
        .unwrap();
    assert_exit(&out, 130);
    sim.set_faults(Faults::default());
    let from = sim.now() - chrono::Duration::days(1);
    assert_exit(
        &collect_objects(
            &sim,
            dir.path(),
            &[
                "--object",
                "LoginEvent",
                "--backfill-days",
                "1",
                "--window-minutes",
                "10",
            ],
        )
        .await,
        0,
    );
    check_objects(
        dir.path(),
        "LoginEvent",
        "EventIdentifier",
        &expected_events(&sim, "LoginEvent", from),
    );
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_180_day_backfill_of_a_sparse_object_costs_a_handful_of_queries() {
    // The seed's first run: two days holding about 60 LoginEvents, the default 180-day
    // backfill and 60-minute first window. Fixed windows cost 4,320 queries; growing ones
    // cost one per doubling.
    let mut cfg = obj_config(43);
    cfg.org.days = 2;
    cfg.org.records_per_hour = (0, 2);
    let sim = start(cfg).await;
    let dir = tempfile::tempdir().unwrap();
    let from = sim.now() - chrono::Duration::days(180);
    let o = collect_objects(
        &sim,
        dir.path(),
        &["--object", "LoginEvent", "--object", "LogoutEvent"],
    )
    .await;
    assert_exit(&o, 0);
    for object in ["LoginEvent", "LogoutEvent"] {
        let exp = expected_events(&sim, object, from);
        assert!(
            (20..200).contains(&exp.len()),
            "{object}: sparse, {} events",
            exp.len()
        );
        check_objects(dir.path(), object, "EventIdentifier", &exp);
        let queries = sim.query_requests(object);
        assert!(queries <= 20, "{object}: {queries} queries for 180 days");
    }
    // The next run is a steady-state cycle: one query.
    let before = sim.query_requests("LoginEvent");
    sim.advance_clock(Duration::from_secs(3600));
    let o = collect_objects(&sim, dir.path(), &["--object", "LoginEvent"]).await;
    assert_exit(&o, 0);
    assert_eq!(sim.query_requests("LoginEvent") - before, 1);
    check_objects(
        dir.path(),
        "LoginEvent",
        "EventIdentifier",
        &expected_events(&sim, "LoginEvent", from),
    );
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dense_stretch_after_a_sparse_one_still_splits_into_windows_that_fit() {
    // 179 empty days, then a day dense for the bound: windows grow over the empty days, the
    // one that reaches the dense day holds too many rows and shrinks to fit, and every event
    // arrives once. Pages of 10 rows and a bound of 200 stand for Salesforce's 2,000 and the
    // default 50,000 (20 and 25 pages a window).
    let mut cfg = obj_config(44);
    cfg.org.records_per_hour = (30, 40);
    cfg.page_size_cap = Some(10);
    let sim = start(cfg).await;
    let dir = tempfile::tempdir().unwrap();
    let from = sim.now() - chrono::Duration::days(180);
    let o = collect_objects(
        &sim,
        dir.path(),
        &["--object", "ApiEvent", "--max-rows-per-window", "200"],
    )
    .await;
    assert_exit(&o, 0);
    let exp = expected_events(&sim, "ApiEvent", from);
    check_objects(dir.path(), "ApiEvent", "EventIdentifier", &exp);
    let log = log_text(dir.path());
    assert!(
        log.contains("more than 200; shrinking the window"),
        "the dense window split: {log}"
    );
    // About one query per page, plus the growth over the empty days (about 13) and, per
    // window of about 150 rows, a partial last page and now and then a refused first page.
    let pages = exp.len().div_ceil(10) as u64;
    let windows = exp.len().div_ceil(150) as u64;
    let queries = sim.query_requests("ApiEvent");
    assert!(
        queries <= pages + 2 * windows + 15,
        "{queries} queries for {} events ({pages} pages)",
        exp.len()
    );
    sim.shutdown();
}
