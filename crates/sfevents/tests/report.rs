//! `sfevents report` over archives collected from sfsim: each report's numbers are checked
//! against what the generator says the org holds, computed here from sfgen's rows and
//! records (not from the report's code); plus formats, periods and usage errors.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;

use chrono::{DateTime, Utc};
use common::*;
use serde_json::{json, Value};
use sfsim::{SimConfig, SimHandle};

fn config(seed: u64) -> SimConfig {
    let mut c = small_config(seed);
    c.freeze_clock = true;
    c.org.days = 2;
    c.org.rows_per_hour = (1, 6);
    c.org.records_per_hour = (2, 6);
    c
}

async fn report(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["report".to_string()];
    all.extend(args.iter().map(|s| s.to_string()));
    all.push("--output-dir".into());
    all.push(dir.display().to_string());
    run(&all).await
}

async fn json(dir: &Path, name: &str, extra: &[&str]) -> Value {
    let mut args = vec![name, "--format", "json", "--top", "100000"];
    args.extend(extra);
    let o = report(dir, &args).await;
    assert_exit(&o, 0);
    serde_json::from_slice(&o.stdout).expect("report JSON")
}

/// A table of the JSON format as `key columns joined by |` -> the named numeric columns.
fn table(v: &Value, id: &str, keys: &[&str], nums: &[&str]) -> BTreeMap<String, Vec<i64>> {
    let rows = v[id]
        .as_array()
        .unwrap_or_else(|| panic!("no table {id} in {v:#}"));
    rows.iter()
        .map(|r| {
            let k: Vec<String> = keys
                .iter()
                .map(|k| r[*k].as_str().unwrap_or("").to_string())
                .collect();
            let n: Vec<i64> = nums
                .iter()
                .map(|c| r[*c].as_i64().unwrap_or_else(|| panic!("{id}.{c} in {r}")))
                .collect();
            (k.join("|"), n)
        })
        .collect()
}

/// The generator's rows of every archived file of a type, as column -> value maps.
fn generated(sim: &SimHandle, event_type: &str) -> Vec<BTreeMap<&'static str, String>> {
    let columns = sfgen::Org::columns(event_type);
    let mut out = Vec::new();
    for f in expected_of(sim, "auto", &[event_type]) {
        for row in sim.org.rows(&f.id) {
            out.push(columns.iter().copied().zip(row).collect());
        }
    }
    assert!(!out.is_empty(), "the org has {event_type} rows");
    out
}

fn add(m: &mut BTreeMap<String, Vec<i64>>, key: &str, vals: &[i64]) {
    let e = m
        .entry(key.to_string())
        .or_insert_with(|| vec![0; vals.len()]);
    for (a, b) in e.iter_mut().zip(vals) {
        *a += b;
    }
}

/// A section's figures of the JSON format, by label.
fn figures(v: &Value, section: &str) -> BTreeMap<String, Value> {
    let sections = v["report"]["sections"].as_array().expect("sections");
    let s = sections
        .iter()
        .find(|s| s["id"] == section)
        .unwrap_or_else(|| panic!("no section {section}"));
    s["figures"]
        .as_array()
        .expect("figures")
        .iter()
        .map(|f| (f["label"].as_str().unwrap().to_string(), f["value"].clone()))
        .collect()
}

/// The tables of a section in the JSON format, by id.
fn table_ids(v: &Value, section: &str) -> Vec<String> {
    let sections = v["report"]["sections"].as_array().expect("sections");
    let s = sections.iter().find(|s| s["id"] == section).unwrap();
    s["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

/// A table of the JSON format, in its order, each row the named columns' values.
fn rows_of(v: &Value, id: &str, cols: &[&str]) -> Vec<Vec<Value>> {
    let rows = v[id]
        .as_array()
        .unwrap_or_else(|| panic!("no table {id} in {v:#}"));
    rows.iter()
        .map(|r| {
            assert_eq!(r.as_object().unwrap().len(), cols.len(), "{id}: {r}");
            cols.iter().map(|c| r[*c].clone()).collect()
        })
        .collect()
}

/// `want` row by row, in order; numbers compared as numbers, to the last bit but one (the
/// JSON text is read back by serde_json's fast float parser).
fn assert_rows(v: &Value, id: &str, cols: &[&str], want: &[Vec<Value>]) {
    let got = rows_of(v, id, cols);
    let same = |a: &Value, b: &Value| match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() <= 1e-12 * y.abs().max(1.0),
        _ => a == b,
    };
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            g.iter().zip(w).all(|(a, b)| same(a, b)),
            "{id} row {i} {cols:?}:\n  report    {g:?}\n  generator {w:?}"
        );
    }
    assert_eq!(got.len(), want.len(), "rows of {id}");
}

/// Rows grouped by a key: how many, and the numbers of each measure.
#[derive(Debug, Default, Clone)]
struct Group {
    n: i64,
    measures: Vec<Vec<f64>>,
}

impl Group {
    fn sum(&self, m: usize) -> f64 {
        self.measures[m].iter().sum()
    }
    /// The average of the rows with a number (0 without any).
    fn avg(&self, m: usize) -> f64 {
        let n = self.measures[m].len();
        if n == 0 {
            0.0
        } else {
            self.sum(m) / n as f64
        }
    }
    /// The largest, 0 when there is none (measures are never negative), whole.
    fn max(&self, m: usize) -> i64 {
        self.measures[m].iter().fold(0.0_f64, |a, b| a.max(*b)) as i64
    }
}

/// `items` grouped by `key`; each measure keeps only the values that are numbers.
fn groups<T>(
    items: &[T],
    key: impl Fn(&T) -> String,
    measures: impl Fn(&T) -> Vec<Option<f64>>,
) -> BTreeMap<String, Group> {
    let mut out: BTreeMap<String, Group> = BTreeMap::new();
    for it in items {
        let ms = measures(it);
        let g = out.entry(key(it)).or_default();
        g.measures.resize(ms.len(), Vec::new());
        g.n += 1;
        for (vals, m) in g.measures.iter_mut().zip(ms) {
            vals.extend(m);
        }
    }
    out
}

/// How a report orders its rows before it keeps the top N: the largest first, then by key.
enum By {
    Count,
    Avg(usize),
    Sum(usize),
}

fn ranked(g: &BTreeMap<String, Group>, by: By) -> Vec<(&String, &Group)> {
    let rank = |g: &Group| match by {
        By::Count => g.n as f64,
        By::Avg(m) => g.avg(m),
        By::Sum(m) => g.sum(m),
    };
    let mut v: Vec<(&String, &Group)> = g.iter().collect();
    v.sort_by(|a, b| rank(b.1).total_cmp(&rank(a.1)).then_with(|| a.0.cmp(b.0)));
    v
}

/// A CSV field as the reports key it: `(none)` when empty.
fn or_none(s: &str) -> String {
    if s.is_empty() { "(none)" } else { s }.to_string()
}

/// Fields of a generated row as numbers, where they are numbers.
fn nums(r: &BTreeMap<&'static str, String>, fields: &[&str]) -> Vec<Option<f64>> {
    fields.iter().map(|f| r[*f].parse().ok()).collect()
}

/// A record's field as a number, when it is one.
fn num(r: &soql::Record, f: &str) -> Option<f64> {
    match r.get(f) {
        Some(soql::Value::Double(d)) => Some(*d),
        Some(soql::Value::Int(i)) => Some(*i as f64),
        Some(soql::Value::String(s)) => s.parse().ok(),
        _ => None,
    }
}

/// Composite keys join their parts with the unit separator, which sorts before any text.
const SEP: char = '\u{1f}';

/// `sfevents collect --object ...` two days back, as of the sim's clock.
async fn collect_objects(sim: &SimHandle, dir: &Path, objects: &[&str]) {
    let mut args = vec!["collect".to_string(), "--quiet".into()];
    args.extend(auth_args(sim, dir));
    for o in objects {
        args.extend(["--object".to_string(), o.to_string()]);
    }
    args.extend(["--backfill-days".to_string(), "2".to_string()]);
    let o = tokio::process::Command::new(BIN)
        .args(&args)
        .env("SFEVENTS_NOW", sim.now().to_rfc3339())
        .output()
        .await
        .expect("sfevents runs");
    assert_exit(&o, 0);
}

/// What that collects of a Real-Time Event Monitoring object: the visible records with
/// EventDate in (now - 2 days, now - 60 s] (the collector leaves the last minute to settle),
/// one per EventIdentifier.
fn collected_events(sim: &SimHandle, object: &str) -> Vec<soql::Record> {
    let (from, to) = (
        sim.now() - chrono::Duration::days(2),
        sim.now() - chrono::Duration::seconds(60),
    );
    let mut seen = HashSet::new();
    let out: Vec<soql::Record> = sim
        .visible_records(object)
        .into_iter()
        .filter(|r| {
            let t = time(r, "EventDate");
            t > from && t <= to
        })
        .filter(|r| seen.insert(text(r, "EventIdentifier")))
        .collect();
    assert!(!out.is_empty(), "the org has {object} records");
    out
}

/// The SetupAuditTrail records `collect_with_audit` takes: made in the last two days.
fn audit_trail(sim: &SimHandle) -> Vec<soql::Record> {
    let from = sim.now() - chrono::Duration::days(2);
    sim.visible_records("SetupAuditTrail")
        .into_iter()
        .filter(|r| created(r) >= from)
        .collect()
}

fn time(r: &soql::Record, f: &str) -> DateTime<Utc> {
    match r.get(f) {
        Some(soql::Value::DateTime(t)) => *t,
        other => panic!("{f} {other:?}"),
    }
}

/// An instant of the JSON format.
fn instant(v: &Value) -> DateTime<Utc> {
    let s = v.as_str().unwrap_or_else(|| panic!("not an instant: {v}"));
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .with_timezone(&Utc)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_usage_equals_the_generated_api_total_usage() {
    let sim = start(config(91)).await;
    let dir = tempfile::tempdir().unwrap();
    collect_with_audit(&sim, dir.path()).await;
    let rows = generated(&sim, "ApiTotalUsage");

    let mut per_user = BTreeMap::new();
    let mut per_day = BTreeMap::new();
    let mut legacy = 0;
    for r in &rows {
        let user = if r["USER_NAME"].is_empty() {
            &r["USER_ID"]
        } else {
            &r["USER_NAME"]
        };
        let counted = i64::from(r["COUNTS_AGAINST_API_LIMIT"] == "true");
        let error = i64::from(r["STATUS_CODE"].parse::<u32>().unwrap_or(0) >= 400);
        add(&mut per_user, user, &[1, counted, error]);
        add(
            &mut per_day,
            &r["TIMESTAMP_DERIVED"][..10],
            &[1, counted, error],
        );
        if r["API_VERSION"].parse::<f64>().is_ok_and(|v| v <= 30.0) {
            legacy += 1;
        }
    }
    assert!(legacy > 0, "the generator makes some legacy-version calls");

    let v = json(dir.path(), "api-usage", &[]).await;
    let cols = ["calls", "counted against limit", "errors"];
    assert_eq!(table(&v, "api_usage_per_user", &["user"], &cols), per_user);
    assert_eq!(table(&v, "api_usage_per_day", &["day"], &cols), per_day);
    let legacy_keys = ["api version", "connected app", "user", "client ip"];
    let legacy_rows = table(&v, "api_usage_legacy_versions", &legacy_keys, &["calls"]);
    assert_eq!(legacy_rows.values().map(|c| c[0]).sum::<i64>(), legacy);
    assert!(legacy_rows
        .keys()
        .all(|k| k.split('|').next().unwrap().parse::<f64>().unwrap() <= 30.0));

    // A higher floor finds more, a period of one day only that day's calls.
    let v = json(dir.path(), "api-usage", &["--api-floor", "58.0"]).await;
    let more: i64 = table(&v, "api_usage_legacy_versions", &legacy_keys, &["calls"])
        .values()
        .map(|c| c[0])
        .sum();
    assert!(more > legacy);
    let day = per_day.keys().nth(1).unwrap().clone();
    let v = json(dir.path(), "api-usage", &["--since", &day, "--until", &day]).await;
    let got = table(&v, "api_usage_per_day", &["day"], &cols);
    assert_eq!(got.keys().collect::<Vec<_>>(), vec![&day]);
    assert_eq!(got[&day], per_day[&day]);
    assert_eq!(v["report"]["period"]["since"], day.as_str());
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_equal_the_generated_login_files() {
    let sim = start(config(92)).await;
    let dir = tempfile::tempdir().unwrap();
    collect_with_audit(&sim, dir.path()).await;
    let rows = generated(&sim, "Login");
    let mut per_day = BTreeMap::new();
    let mut by_status = BTreeMap::new();
    let mut failing_users = BTreeMap::new();
    for r in &rows {
        let failed = r["LOGIN_STATUS"] != "LOGIN_NO_ERROR";
        add(
            &mut per_day,
            &r["TIMESTAMP_DERIVED"][..10],
            &[1, i64::from(!failed), i64::from(failed)],
        );
        if failed {
            add(&mut by_status, &r["LOGIN_STATUS"], &[1]);
            add(&mut failing_users, &r["USER_NAME"], &[1]);
        }
    }
    let v = json(dir.path(), "logins", &[]).await;
    assert_eq!(
        table(
            &v,
            "logins_per_day",
            &["day"],
            &["attempts", "successful", "failed"]
        ),
        per_day
    );
    assert_eq!(
        table(&v, "logins_failures_by_status", &["status"], &["failures"]),
        by_status
    );
    assert_eq!(
        table(&v, "logins_failing_users", &["user"], &["failed"]),
        failing_users
    );
    let sources = v["report"]["sections"][0]["sources"].to_string();
    assert!(sources.contains("Login (EventLogFile)"), "{sources}");
    sim.shutdown();
}

fn created(r: &soql::Record) -> DateTime<Utc> {
    match r.get("CreatedDate") {
        Some(soql::Value::DateTime(t)) => *t,
        other => panic!("CreatedDate {other:?}"),
    }
}

fn text(r: &soql::Record, f: &str) -> String {
    r.get(f)
        .and_then(soql::Value::as_str)
        .unwrap_or("")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_changes_equal_the_generated_audit_trail() {
    let sim = start(config(93)).await;
    let dir = tempfile::tempdir().unwrap();
    collect_with_audit(&sim, dir.path()).await;
    let from = sim.now() - chrono::Duration::days(2);
    let records: Vec<soql::Record> = sim
        .visible_records("SetupAuditTrail")
        .into_iter()
        .filter(|r| created(r) >= from)
        .collect();
    assert!(records.len() > 10);
    let mut per_day = BTreeMap::new();
    let mut by_section = BTreeMap::new();
    let mut by_admin = BTreeMap::new();
    let mut delegated = 0;
    for r in &records {
        add(
            &mut per_day,
            &created(r).format("%Y-%m-%d").to_string(),
            &[1],
        );
        add(&mut by_section, &text(r, "Section"), &[1]);
        let admin = match r.get("CreatedBy") {
            Some(soql::Value::Record(u)) => text(u, "Username"),
            other => panic!("CreatedBy {other:?}"),
        };
        add(&mut by_admin, &admin, &[1]);
        delegated += i64::from(!text(r, "DelegateUser").is_empty());
    }
    let v = json(dir.path(), "setup-changes", &[]).await;
    assert_eq!(
        table(&v, "setup_changes_per_day", &["day"], &["changes"]),
        per_day
    );
    assert_eq!(
        table(&v, "setup_changes_by_section", &["section"], &["changes"]),
        by_section
    );
    assert_eq!(
        table(&v, "setup_changes_by_admin", &["admin"], &["changes"]),
        by_admin
    );
    let got: i64 = table(
        &v,
        "setup_changes_login_as",
        &["admin", "logged in as"],
        &["changes"],
    )
    .values()
    .map(|c| c[0])
    .sum();
    assert_eq!(got, delegated);
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_counts_files_and_rows_per_type_per_day_and_finds_a_gap() {
    let sim = start(config(94)).await;
    let dir = tempfile::tempdir().unwrap();
    collect_with_audit(&sim, dir.path()).await;
    // EventLogFiles: each file, its rows and its CSV's bytes, on the day it covers.
    let mut want = BTreeMap::new();
    let expected = expected_files(&sim, "auto");
    for f in &expected {
        let key = format!("{}|{}", f.event_type, f.log_date.format("%Y-%m-%d"));
        let bytes = sim.org.length(&f.id) as i64;
        add(&mut want, &key, &[1, f.row_count as i64, bytes]);
    }
    // SetupAuditTrail: its records of the two days collected, on the day each was made.
    let mut audit = BTreeMap::new();
    for r in audit_trail(&sim) {
        let key = format!("SetupAuditTrail|{}", created(&r).format("%Y-%m-%d"));
        add(&mut audit, &key, &[1]);
    }
    assert!(audit.len() >= 2, "{audit:?}");
    let v = json(dir.path(), "health", &[]).await;
    let cols = ["files", "rows", "bytes"];
    let (got_audit, got): (BTreeMap<_, _>, BTreeMap<_, _>) =
        table(&v, "health_per_type_day", &["type", "day"], &cols)
            .into_iter()
            .partition(|(k, _)| k.starts_with("SetupAuditTrail|"));
    assert_eq!(got, want);
    // Its NDJSON files are the collector's to cut (one or more a day): their rows are exact.
    assert_eq!(
        got_audit.keys().collect::<Vec<_>>(),
        audit.keys().collect::<Vec<_>>()
    );
    for (k, n) in &got_audit {
        let rows = audit[k][0];
        assert_eq!(n[1], rows, "{k}: rows");
        assert!(n[0] >= 1 && n[0] <= rows && n[2] > 0, "{k}: {n:?}");
    }

    // Per type and in all: the same sums.
    let mut per_type = BTreeMap::new();
    for (k, n) in got.iter().chain(&got_audit) {
        add(&mut per_type, k.split('|').next().unwrap(), n);
    }
    assert_eq!(table(&v, "health_per_type", &["type"], &cols), per_type);
    let total = |i: usize| per_type.values().map(|n| n[i]).sum::<i64>();
    let elf_rows: i64 = expected.iter().map(|f| f.row_count as i64).sum();
    let audit_rows: i64 = audit.values().map(|n| n[0]).sum();
    assert_eq!(total(1), elf_rows + audit_rows);
    let figures = figures(&v, "health");
    assert_eq!(figures["files archived"], json!(total(0)));
    assert_eq!(figures["rows archived"], json!(elf_rows + audit_rows));
    assert_eq!(figures["gaps"], json!(0));
    assert!(
        v.get("health_gaps").is_none(),
        "no gap in a complete archive: {}",
        v["health_gaps"]
    );

    // Remove one type's files of one whole day from the ledger: that day is a gap.
    let f = expected.iter().find(|f| f.event_type == "Login").unwrap();
    let day = f.log_date.format("%Y-%m-%d").to_string();
    let days: std::collections::BTreeSet<String> = expected
        .iter()
        .filter(|x| x.event_type == "Login")
        .map(|x| x.log_date.format("%Y-%m-%d").to_string())
        .collect();
    assert!(days.len() >= 3, "{days:?}");
    let middle = days.iter().nth(1).cloned().unwrap_or(day);
    {
        let db = rusqlite::Connection::open(dir.path().join("state.db")).unwrap();
        db.execute(
            "DELETE FROM files WHERE event_type = 'Login' AND substr(log_date, 1, 10) = ?1",
            [&middle],
        )
        .unwrap();
        let v = json(dir.path(), "health", &[]).await;
        let gaps = table(&v, "health_gaps", &["type", "day"], &[]);
        assert!(gaps.contains_key(&format!("Login|{middle}")), "{gaps:?}");
    }
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn formats_periods_without_data_and_usage_errors() {
    let sim = start(config(95)).await;
    let dir = tempfile::tempdir().unwrap();
    collect_with_audit(&sim, dir.path()).await;

    // The terminal table: figures and aligned tables.
    let o = report(dir.path(), &["api-usage"]).await;
    assert_exit(&o, 0);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("== API usage ==") && text.contains("Calls per user"),
        "{text}"
    );

    // A period with no data says so instead of printing empty tables.
    let o = report(dir.path(), &["logins", "--since", "2031-01-01"]).await;
    assert_exit(&o, 0);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("No data for this period"), "{text}");

    // CSV: one file per table, the same numbers as JSON.
    let out = dir.path().join("csv");
    let o = report(
        dir.path(),
        &[
            "api-usage",
            "--format",
            "csv",
            "--top",
            "100000",
            "--out",
            out.to_str().unwrap(),
        ],
    )
    .await;
    assert_exit(&o, 0);
    let v = json(dir.path(), "api-usage", &[]).await;
    let per_user = std::fs::read_to_string(out.join("api_usage_per_user.csv")).unwrap();
    let mut lines = per_user.lines();
    assert_eq!(
        lines.next(),
        Some("user,calls,counted against limit,errors,share of calls")
    );
    let n = v["api_usage_per_user"].as_array().unwrap().len();
    assert_eq!(lines.count(), n);
    let first = &v["api_usage_per_user"][0];
    assert!(per_user.contains(&format!(
        "{},{}",
        first["user"].as_str().unwrap(),
        first["calls"]
    )));

    // `all` covers every report that has data.
    let v = json(dir.path(), "all", &[]).await;
    let ids: Vec<&str> = v["report"]["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    for want in ["api-usage", "logins", "setup-changes", "health"] {
        assert!(ids.contains(&want), "{ids:?}");
    }

    for (args, needle) in [
        (vec!["nonsense"], "there is no report 'nonsense'"),
        (vec!["logins", "--since", "yesterday"], "is not a date"),
        (
            vec!["logins", "--since", "2026-03-10", "--until", "2026-03-01"],
            "is after --until",
        ),
        (vec!["api-usage", "--format", "csv"], "--out DIR"),
    ] {
        let o = report(dir.path(), &args).await;
        assert_exit(&o, 2);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let empty = tempfile::tempdir().unwrap();
    let o = report(empty.path(), &["logins"]).await;
    assert_exit(&o, 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("run `sfevents collect` first"));

    // A damaged archive file stops the report with exit 1, naming the file and the audit.
    let audit = std::fs::read_dir(dir.path().join("events/setup_audit_trail"))
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .map(|f| f.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "ndjson"))
        .expect("a SetupAuditTrail file");
    let mut text = std::fs::read_to_string(&audit).unwrap();
    text.insert_str(text.len() / 2, "\n{\"broken\n");
    std::fs::write(&audit, text).unwrap();
    let o = report(dir.path(), &["setup-changes"]).await;
    assert_exit(&o, 1);
    let err = String::from_utf8_lossy(&o.stderr);
    let name = audit.file_name().unwrap().to_string_lossy();
    assert!(
        err.contains(name.as_ref()) && err.contains("sfevents verify"),
        "{err}"
    );
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apex_equals_the_generated_executions_and_page_views() {
    let mut cfg = config(96);
    cfg.org.event_types = sfgen::DEFAULT_EVENT_TYPES
        .iter()
        .chain(&["VisualforceRequest"])
        .map(|t| t.to_string())
        .collect();
    let sim = start(cfg).await;
    let dir = tempfile::tempdir().unwrap();
    collect_with_audit(&sim, dir.path()).await;
    let v = json(dir.path(), "apex", &[]).await;

    // ApexExecution by entry point: the most executed first, then the slowest on average.
    let exec = generated(&sim, "ApexExecution");
    let entry = groups(
        &exec,
        |r| or_none(&r["ENTRY_POINT"]),
        |r| nums(r, &["RUN_TIME", "CPU_TIME", "NUMBER_SOQL_QUERIES"]),
    );
    assert!(entry.len() > 1, "{entry:?}");
    let want: Vec<Vec<Value>> = ranked(&entry, By::Count)
        .into_iter()
        .map(|(k, g)| {
            let (avg, max) = (|m| json!(g.avg(m)), |m| json!(g.max(m)));
            vec![json!(k), json!(g.n), avg(0), max(0), avg(1), max(1), avg(2)]
        })
        .collect();
    let cols = [
        "entry point",
        "executions",
        "avg run time ms",
        "max run time ms",
        "avg cpu time ms",
        "max cpu time ms",
        "avg soql queries",
    ];
    assert_rows(&v, "apex_entry_points", &cols, &want);
    let want: Vec<Vec<Value>> = ranked(&entry, By::Avg(0))
        .into_iter()
        .map(|(k, g)| vec![json!(k), json!(g.n), json!(g.avg(0)), json!(g.avg(1))])
        .collect();
    let cols = [
        "entry point",
        "executions",
        "avg run time ms",
        "avg cpu time ms",
    ];
    assert_rows(&v, "apex_slowest_entry_points", &cols, &want);

    // Visualforce and Lightning pages, the slowest on average first.
    let vf = groups(
        &generated(&sim, "VisualforceRequest"),
        |r| or_none(&r["PAGE_NAME"]),
        |r| nums(r, &["RUN_TIME", "CPU_TIME", "VIEW_STATE_SIZE"]),
    );
    let want: Vec<Vec<Value>> = ranked(&vf, By::Avg(0))
        .into_iter()
        .map(|(k, g)| {
            let avg = |m| json!(g.avg(m));
            vec![json!(k), json!(g.n), avg(0), avg(1), avg(2)]
        })
        .collect();
    let cols = [
        "page",
        "requests",
        "avg run time ms",
        "avg cpu time ms",
        "avg view state bytes",
    ];
    assert_rows(&v, "apex_visualforce_pages", &cols, &want);
    let lightning = groups(
        &generated(&sim, "LightningPageView"),
        |r| or_none(&r["PAGE_CONTEXT"]),
        |r| nums(r, &["EFFECTIVE_PAGE_TIME"]),
    );
    let want: Vec<Vec<Value>> = ranked(&lightning, By::Avg(0))
        .into_iter()
        .map(|(k, g)| vec![json!(k), json!(g.n), json!(g.avg(0)), json!(g.max(0))])
        .collect();
    let cols = [
        "page context",
        "page views",
        "avg page time ms",
        "max page time ms",
    ];
    assert_rows(&v, "apex_lightning_pages", &cols, &want);

    // The generator makes no ApexTrigger files: no trigger table, no trigger figure.
    assert_eq!(
        table_ids(&v, "apex"),
        [
            "apex_entry_points",
            "apex_slowest_entry_points",
            "apex_visualforce_pages",
            "apex_lightning_pages"
        ]
    );
    let figures = figures(&v, "apex");
    assert_eq!(
        figures,
        BTreeMap::from([
            ("Apex executions".to_string(), json!(exec.len())),
            ("entry points".to_string(), json!(entry.len())),
        ])
    );
    sim.shutdown();
}

/// One app as the connected-apps report counts it.
#[derive(Debug, Default)]
struct App {
    uses: i64,
    users: BTreeSet<String>,
    ips: BTreeSet<String>,
    times: BTreeSet<DateTime<Utc>>,
}

impl App {
    fn add(&mut self, user: &str, ip: &str, at: DateTime<Utc>) {
        self.uses += 1;
        self.users.insert(user.to_string());
        if !ip.is_empty() {
            self.ips.insert(ip.to_string());
        }
        self.times.insert(at);
    }
}

/// A connected-apps table's rows: the most used first, then by name; first and last seen read
/// as instants.
fn apps_rows(apps: &BTreeMap<String, App>) -> Vec<Vec<Value>> {
    let mut v: Vec<(&String, &App)> = apps.iter().collect();
    v.sort_by(|a, b| b.1.uses.cmp(&a.1.uses).then_with(|| a.0.cmp(b.0)));
    v.into_iter()
        .map(|(k, a)| {
            let at = |t: Option<&DateTime<Utc>>| json!(t.unwrap().to_rfc3339());
            vec![
                json!(k),
                json!(a.uses),
                json!(a.users.len()),
                json!(a.ips.len()),
                at(a.times.first()),
                at(a.times.last()),
            ]
        })
        .collect()
}

/// The JSON's first and last seen as the same RFC 3339 text as [`apps_rows`].
fn as_instants(mut rows: Vec<Vec<Value>>) -> Vec<Vec<Value>> {
    for r in &mut rows {
        for c in [4, 5] {
            r[c] = json!(instant(&r[c]).to_rfc3339());
        }
    }
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connected_apps_equal_the_generated_api_usage_and_login_events() {
    let sim = start(config(97)).await;
    let dir = tempfile::tempdir().unwrap();
    collect_with_audit(&sim, dir.path()).await;
    collect_objects(&sim, dir.path(), &["LoginEvent"]).await;
    let v = json(dir.path(), "connected-apps", &[]).await;

    // ApiTotalUsage: an app by name, else by id; its users by name, else by id.
    let mut api: BTreeMap<String, App> = BTreeMap::new();
    for r in generated(&sim, "ApiTotalUsage") {
        let first = |a: &str, b: &str, none: &str| {
            [&r[a], &r[b]]
                .into_iter()
                .find(|s| !s.is_empty())
                .map_or(none.to_string(), |s| s.to_string())
        };
        let app = first("CONNECTED_APP_NAME", "CONNECTED_APP_ID", "(none)");
        let user = first("USER_NAME", "USER_ID", "(unknown)");
        let at = DateTime::parse_from_rfc3339(&r["TIMESTAMP_DERIVED"]).unwrap();
        api.entry(app)
            .or_default()
            .add(&user, &r["CLIENT_IP"], at.with_timezone(&Utc));
    }
    assert!(api.len() > 2, "{api:?}");
    let cols = ["app", "calls", "users", "ips", "first seen", "last seen"];
    assert_eq!(
        as_instants(rows_of(&v, "connected_apps_api", &cols)),
        apps_rows(&api)
    );

    // LoginEvent: logins per application.
    let mut logins: BTreeMap<String, App> = BTreeMap::new();
    for r in collected_events(&sim, "LoginEvent") {
        let user = [text(&r, "Username"), text(&r, "UserId")]
            .into_iter()
            .find(|s| !s.is_empty())
            .unwrap_or_else(|| "(unknown)".to_string());
        logins
            .entry(or_none(&text(&r, "Application")))
            .or_default()
            .add(&user, &text(&r, "SourceIp"), time(&r, "EventDate"));
    }
    assert!(logins.len() > 1, "{logins:?}");
    let cols = ["app", "logins", "users", "ips", "first seen", "last seen"];
    assert_eq!(
        as_instants(rows_of(&v, "connected_apps_logins", &cols)),
        apps_rows(&logins)
    );
    assert_eq!(
        figures(&v, "connected-apps"),
        BTreeMap::from([
            ("apps calling the API".to_string(), json!(api.len())),
            (
                "applications users log in with".to_string(),
                json!(logins.len())
            ),
        ])
    );
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_access_equals_the_generated_reports_and_api_rows() {
    let sim = start(config(98)).await;
    let dir = tempfile::tempdir().unwrap();
    collect_with_audit(&sim, dir.path()).await;
    collect_objects(&sim, dir.path(), &["LoginEvent", "ApiEvent", "ReportEvent"]).await;
    let v = json(dir.path(), "data-access", &[]).await;

    // User ids are shown as the names the Login files and LoginEvents give them.
    let mut names: HashMap<String, String> = HashMap::new();
    let mut learn = |id: &str, name: &str| {
        if id.len() >= 15 && !name.is_empty() {
            names
                .entry(id[..15].to_string())
                .or_insert(name.to_string());
        }
    };
    for r in generated(&sim, "Login") {
        learn(&r["USER_ID"], &r["USER_NAME"]);
    }
    let login_events = collected_events(&sim, "LoginEvent");
    for r in &login_events {
        learn(&text(r, "UserId"), &text(r, "Username"));
    }
    let user = |id: &str| {
        let name = id.get(..15).and_then(|k| names.get(k));
        json!(name.map_or(id, String::as_str))
    };

    // Report runs: by user and by report, the most rows first.
    let reports = generated(&sim, "Report");
    let by_user = groups(
        &reports,
        |r| or_none(&r["USER_ID"]),
        |r| nums(r, &["ROW_COUNT"]),
    );
    let want: Vec<Vec<Value>> = ranked(&by_user, By::Sum(0))
        .into_iter()
        .map(|(k, g)| vec![user(k), json!(g.n), json!(g.sum(0)), json!(g.max(0))])
        .collect();
    assert!(want.iter().any(|r| r[0].as_str().unwrap().contains('@')));
    let cols = ["user", "runs", "rows", "max rows"];
    assert_rows(&v, "data_access_report_runs_by_user", &cols, &want);
    let by_report = groups(
        &reports,
        |r| or_none(&r["REPORT_ID_DERIVED"]),
        |r| nums(r, &["ROW_COUNT"]),
    );
    let want: Vec<Vec<Value>> = ranked(&by_report, By::Sum(0))
        .into_iter()
        .map(|(k, g)| vec![json!(k), json!(g.n), json!(g.sum(0))])
        .collect();
    assert_rows(
        &v,
        "data_access_reports",
        &["report id", "runs", "rows"],
        &want,
    );

    // ReportEvent: by user and report, the most rows processed first.
    let events = groups(
        &collected_events(&sim, "ReportEvent"),
        |r| {
            let (u, id) = (text(r, "Username"), text(r, "ReportId"));
            format!("{}{SEP}{}", or_none(&u), or_none(&id))
        },
        |r| vec![num(r, "RowsProcessed")],
    );
    let want: Vec<Vec<Value>> = ranked(&events, By::Sum(0))
        .into_iter()
        .map(|(k, g)| {
            let (u, id) = k.split_once(SEP).unwrap();
            vec![json!(u), json!(id), json!(g.n), json!(g.sum(0))]
        })
        .collect();
    let cols = ["user", "report id", "events", "rows processed"];
    assert_rows(&v, "data_access_report_events", &cols, &want);

    // Rows through the APIs: API and RestApi files and ApiEvents, by user and entity.
    let mut calls: Vec<(String, Option<f64>)> = Vec::new();
    for ty in ["API", "RestApi"] {
        for r in generated(&sim, ty) {
            let key = format!(
                "{}{SEP}{}",
                or_none(&r["USER_ID"]),
                or_none(&r["ENTITY_NAME"])
            );
            calls.push((key, r["ROWS_PROCESSED"].parse().ok()));
        }
    }
    for r in collected_events(&sim, "ApiEvent") {
        let (u, e) = (text(&r, "Username"), text(&r, "QueriedEntities"));
        let key = format!("{}{SEP}{}", or_none(&u), or_none(&e));
        calls.push((key, num(&r, "RowsProcessed")));
    }
    let api = groups(&calls, |c| c.0.clone(), |c| vec![c.1]);
    let want: Vec<Vec<Value>> = ranked(&api, By::Sum(0))
        .into_iter()
        .map(|(k, g)| {
            let (u, e) = k.split_once(SEP).unwrap();
            vec![
                user(u),
                json!(e),
                json!(g.n),
                json!(g.sum(0)),
                json!(g.max(0)),
            ]
        })
        .collect();
    let cols = ["user", "entity", "calls", "rows", "max rows in one call"];
    assert_rows(&v, "data_access_api_rows", &cols, &want);
    let api_rows: f64 = api.values().map(|g| g.sum(0)).sum();

    assert_eq!(
        table_ids(&v, "data-access"),
        [
            "data_access_report_runs_by_user",
            "data_access_reports",
            "data_access_report_events",
            "data_access_api_rows"
        ]
    );
    assert_eq!(
        figures(&v, "data-access"),
        BTreeMap::from([
            ("report runs".to_string(), json!(reports.len())),
            ("rows through the APIs".to_string(), json!(api_rows as i64)),
        ])
    );
    sim.shutdown();
}
