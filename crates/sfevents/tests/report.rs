//! `sfevents report` over archives collected from sfsim: each report's numbers are checked
//! against what the generator says the org holds, computed here from sfgen's rows and
//! records (not from the report's code); plus formats, periods and usage errors.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use common::*;
use serde_json::Value;
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
    let mut want = BTreeMap::new();
    let expected = expected_files(&sim, "auto");
    for f in &expected {
        let key = format!("{}|{}", f.event_type, f.log_date.format("%Y-%m-%d"));
        add(&mut want, &key, &[1, f.row_count as i64]);
    }
    let v = json(dir.path(), "health", &[]).await;
    let got: BTreeMap<String, Vec<i64>> = table(
        &v,
        "health_per_type_day",
        &["type", "day"],
        &["files", "rows"],
    )
    .into_iter()
    .filter(|(k, _)| !k.starts_with("SetupAuditTrail|"))
    .collect();
    assert_eq!(got, want);
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
