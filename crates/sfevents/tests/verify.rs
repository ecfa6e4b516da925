//! `sfevents verify` end to end: the real binary against sfsim (clock frozen, `SFEVENTS_NOW`
//! set to it), first on a complete archive, then with one kind of damage at a time; each must
//! come out as a row naming the check and its verdict, with exit 1.

mod common;

use std::path::Path;
use std::process::Output;

use common::*;
use serde_json::Value;
use sfsim::{SimConfig, SimHandle};

/// Two days of a small org: Login and API files (hourly), SetupAuditTrail, LoginEvent.
fn org(seed: u64) -> SimConfig {
    let mut c = small_config(seed);
    c.freeze_clock = true;
    c.org.days = 2;
    c.org.rows_per_hour = (0, 2);
    c.org.records_per_hour = (1, 3);
    c
}

const SOURCES: &[&str] = &[
    "--event-type",
    "Login",
    "--event-type",
    "API",
    "--object",
    "SetupAuditTrail",
    "--object",
    "LoginEvent",
];

/// `sfevents <cmd> <auth flags> <extra>` as of the simulator's now.
async fn sfevents(sim: &SimHandle, dir: &Path, cmd: &[&str], extra: &[&str]) -> Output {
    let mut args: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
    args.extend(auth_args(sim, dir));
    args.extend(extra.iter().map(|s| s.to_string()));
    let mut c = tokio::process::Command::new(BIN);
    c.args(&args);
    for (k, _) in std::env::vars() {
        if k.starts_with("SFEVENTS_") || k == "SSL_CERT_FILE" {
            c.env_remove(k);
        }
    }
    c.env("SFEVENTS_NOW", sim.now().to_rfc3339());
    c.output().await.expect("sfevents runs")
}

/// A sim and an archive collected from it with [`SOURCES`].
async fn collected(seed: u64) -> (SimHandle, tempfile::TempDir) {
    let sim = start(org(seed)).await;
    let dir = tempfile::tempdir().unwrap();
    let out = sfevents(
        &sim,
        dir.path(),
        &["collect", "--quiet", "--no-ship"],
        SOURCES,
    )
    .await;
    assert_exit(&out, 0);
    (sim, dir)
}

async fn verify(sim: &SimHandle, dir: &Path, extra: &[&str]) -> Output {
    let mut all = SOURCES.to_vec();
    all.extend_from_slice(extra);
    sfevents(sim, dir, &["verify"], &all).await
}

/// `verify --format json`, parsed: (exit code, the one object).
async fn verify_json(sim: &SimHandle, dir: &Path, extra: &[&str]) -> (i32, Value, Output) {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(extra);
    let out = verify(sim, dir, &all).await;
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON object: {e}\n{}", describe(&out)));
    (out.status.code().unwrap_or(-1), v, out)
}

/// The rows of the first org: (check, verdict, details).
fn rows(v: &Value) -> Vec<(String, String, String)> {
    v["orgs"][0]["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["check"].as_str().unwrap().to_string(),
                r["verdict"].as_str().unwrap().to_string(),
                r["details"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The details of the first row with this check and verdict whose details hold `word`.
fn row_with(v: &Value, check: &str, verdict: &str, word: &str) -> String {
    rows(v)
        .into_iter()
        .find(|(c, vd, d)| c == check && vd == verdict && d.contains(word))
        .map(|r| r.2)
        .unwrap_or_else(|| {
            panic!(
                "no row {check} / {verdict} with {word:?}:\n{}",
                serde_json::to_string_pretty(&v["orgs"][0]["rows"]).unwrap()
            )
        })
}

fn db(dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join("state.db")).unwrap()
}

/// A ledger row of an EventLogFile: (file id, csv path, ndjson path), oldest or newest.
fn ledger_file(dir: &Path, event_type: &str, newest: bool) -> (String, String, String) {
    let order = if newest { "DESC" } else { "ASC" };
    db(dir)
        .query_row(
            &format!("SELECT file_id, csv_path, ndjson_path FROM files WHERE event_type = ?1 AND rows > 0 ORDER BY created_date {order}, file_id {order} LIMIT 1"),
            [event_type],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
}

/// Rewrites an archive file without its first line; returns the line.
fn drop_first_line(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let (first, rest) = text.split_once('\n').unwrap();
    std::fs::write(path, rest).unwrap();
    first.to_string()
}

/// An object NDJSON file of `source` holding at least one record, by the ledger.
fn object_file(dir: &Path, source: &str) -> std::path::PathBuf {
    let p: String = db(dir)
        .query_row(
            "SELECT path FROM object_files WHERE source = ?1 AND rows > 0 ORDER BY path LIMIT 1",
            [source],
            |r| r.get(0),
        )
        .unwrap();
    dir.join(p)
}

/// What must not change: the ledger, the cursors, the delivery log, the archive's files.
fn snapshot(dir: &Path) -> String {
    let c = db(dir);
    let mut s = String::new();
    for q in [
        "SELECT file_id || rows || sha256 FROM files ORDER BY 1",
        "SELECT source || key || position || last_id || COALESCE(extra, '') FROM cursors ORDER BY 1",
        "SELECT path || rows || COALESCE(pruned_at, '') FROM delivery_log ORDER BY 1",
        "SELECT path || rows FROM object_files ORDER BY 1",
    ] {
        let mut st = c.prepare(q).unwrap();
        for r in st.query_map([], |r| r.get::<_, String>(0)).unwrap() {
            s.push_str(&r.unwrap());
            s.push('\n');
        }
    }
    for (p, v) in ndjson_lines(dir) {
        s.push_str(&format!("{} {}\n", p.display(), v["id"]));
    }
    s
}

#[tokio::test]
async fn a_complete_archive_matches_and_the_run_is_recorded() {
    let (sim, dir) = collected(21).await;
    let before = snapshot(dir.path());
    let calls_before = sim.api_calls();
    let out = verify(&sim, dir.path(), &[]).await;
    assert_exit(&out, 0);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    for (check, verdict) in [
        ("raw CSV", "ok"),
        ("NDJSON rows", "ok"),
        ("ledger", "ok"),
        ("EventLogFile", "ok"),
        ("SetupAuditTrail", "ok"),
        ("LoginEvent", "skipped"),
    ] {
        assert!(
            text.lines().any(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                let n = check.split_whitespace().count();
                w.len() > n && w[..n].join(" ") == check && w[n] == verdict
            }),
            "no '{check} {verdict}' row\n{}",
            describe(&out)
        );
    }
    assert!(
        text.contains("nothing missing or corrupt"),
        "{}",
        describe(&out)
    );
    // The calls it spent: printed, and recorded in the run history as a verify run.
    let spent = sim.api_calls() - calls_before;
    assert!(spent > 0);
    assert!(
        text.contains(&format!("{spent} Salesforce API call(s) spent")),
        "sfsim counted {spent}\n{}",
        describe(&out)
    );
    let (status, calls, message): (String, i64, String) = db(dir.path())
        .query_row(
            "SELECT status, api_calls, message FROM runs ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((status.as_str(), calls as u64), ("verify", spent));
    assert!(message.starts_with("verify: nothing missing"), "{message}");
    // Read-only on the archive.
    assert_eq!(
        snapshot(dir.path()),
        before,
        "verify changed the archive or its ledger"
    );
    let st = run(&[
        "status".into(),
        "--output-dir".into(),
        dir.path().display().to_string(),
    ])
    .await;
    assert_exit(&st, 0);
    assert!(
        String::from_utf8_lossy(&st.stdout).contains("verify"),
        "{}",
        describe(&st)
    );
}

#[tokio::test]
async fn a_deleted_raw_file_is_missing() {
    let (sim, dir) = collected(22).await;
    let (id, csv, _) = ledger_file(dir.path(), "Login", false);
    std::fs::remove_file(dir.path().join(&csv)).unwrap();
    let (code, v, out) = verify_json(&sim, dir.path(), &[]).await;
    assert_eq!(code, 1, "{}", describe(&out));
    let d = row_with(&v, "raw CSV", "missing", &csv);
    assert!(d.contains(&id) && d.contains("not on disk"), "{d}");
    assert_eq!(v["ok"], false);
}

#[tokio::test]
async fn a_corrupted_raw_file_is_corrupt() {
    let (sim, dir) = collected(23).await;
    let (_, csv, _) = ledger_file(dir.path(), "API", true);
    let path = dir.path().join(&csv);
    let mut bytes = std::fs::read(&path).unwrap();
    let i = bytes.len() / 2;
    bytes[i] ^= 0x01;
    std::fs::write(&path, bytes).unwrap();
    let (code, v, out) = verify_json(&sim, dir.path(), &[]).await;
    assert_eq!(code, 1, "{}", describe(&out));
    let d = row_with(&v, "raw CSV", "corrupt", &csv);
    assert!(d.contains("sha256"), "{d}");
    // Only that: the rest matches.
    let bad: Vec<_> = rows(&v)
        .into_iter()
        .filter(|r| !matches!(r.1.as_str(), "ok" | "skipped" | "pending" | "dropped"))
        .collect();
    assert_eq!(bad.len(), 1, "{bad:?}");
}

#[tokio::test]
async fn a_file_missing_from_the_ledger_is_reported() {
    let (sim, dir) = collected(24).await;
    let (id, csv, ndjson) = ledger_file(dir.path(), "Login", true);
    db(dir.path())
        .execute("DELETE FROM files WHERE file_id = ?1", [&id])
        .unwrap();
    // And a stray NDJSON file no ledger knows.
    let stray = Path::new(&ndjson).with_file_name("copied.ndjson");
    std::fs::copy(dir.path().join(&ndjson), dir.path().join(&stray)).unwrap();
    let (code, v, out) = verify_json(&sim, dir.path(), &[]).await;
    assert_eq!(code, 1, "{}", describe(&out));
    row_with(&v, "ledger", "not-in-ledger", &csv);
    row_with(&v, "ledger", "not-in-ledger", &ndjson);
    row_with(&v, "ledger", "not-in-ledger", &stray.display().to_string());
    // Salesforce still has it, and the next collect takes it again.
    let d = row_with(&v, "EventLogFile", "pending", &id);
    assert!(
        d.contains("the next collect takes it") && d.contains("on disk"),
        "{d}"
    );
}

#[tokio::test]
async fn a_setup_audit_trail_record_removed_from_the_archive_is_missing() {
    let (sim, dir) = collected(25).await;
    let path = object_file(dir.path(), "SetupAuditTrail");
    let line: Value = serde_json::from_str(&drop_first_line(&path)).unwrap();
    let id = line["fields"]["Id"].as_str().unwrap().to_string();
    let (code, v, out) = verify_json(&sim, dir.path(), &[]).await;
    assert_eq!(code, 1, "{}", describe(&out));
    let rel = path.strip_prefix(dir.path()).unwrap().display().to_string();
    row_with(&v, "NDJSON rows", "corrupt", &rel);
    let d = row_with(&v, "SetupAuditTrail", "missing", &id);
    let day = &line["@timestamp"].as_str().unwrap()[..10];
    assert!(d.starts_with(day), "{d}");
}

#[tokio::test]
async fn files_salesforce_has_and_the_archive_lacks_say_whether_the_next_collect_takes_them() {
    let (sim, dir) = collected(26).await;
    // An old Login file (more than lookback_hours before the cursor) and the newest one.
    for newest in [false, true] {
        let (id, csv, ndjson) = ledger_file(dir.path(), "Login", newest);
        db(dir.path())
            .execute("DELETE FROM files WHERE file_id = ?1", [&id])
            .unwrap();
        db(dir.path())
            .execute("DELETE FROM delivery_log WHERE path = ?1", [&ndjson])
            .unwrap();
        std::fs::remove_file(dir.path().join(csv)).unwrap();
        std::fs::remove_file(dir.path().join(ndjson)).unwrap();
    }
    let (code, v, out) = verify_json(&sim, dir.path(), &[]).await;
    assert_eq!(code, 1, "{}", describe(&out));
    let missing = row_with(&v, "EventLogFile", "missing", "Login");
    assert!(
        missing.contains("lookback_hours") && missing.contains("does not take it"),
        "{missing}"
    );
    let pending = row_with(&v, "EventLogFile", "pending", "Login");
    assert!(pending.contains("the next collect takes it"), "{pending}");
    // A type the archive never collected: all of its files wait for the next collect, and
    // verify itself does not fail on them.
    let out = sfevents(
        &sim,
        dir.path(),
        &["verify", "--format", "json"],
        &["--event-type", "Logout"],
    )
    .await;
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_exit(&out, 0);
    row_with(&v, "EventLogFile", "pending", "Logout");
}

#[tokio::test]
async fn quarantined_and_dropped_files_are_told_apart() {
    let mut c = org(32);
    c.retention_days = 2;
    let sim = start(c).await;
    let dir = tempfile::tempdir().unwrap();
    let out = sfevents(
        &sim,
        dir.path(),
        &["collect", "--quiet", "--no-ship"],
        SOURCES,
    )
    .await;
    assert_exit(&out, 0);
    // A file the collector gave up on: quarantined, tried again by every collect.
    let (id, csv, ndjson) = ledger_file(dir.path(), "API", true);
    let c = db(dir.path());
    c.execute("DELETE FROM files WHERE file_id = ?1", [&id])
        .unwrap();
    c.execute("DELETE FROM delivery_log WHERE path = ?1", [&ndjson])
        .unwrap();
    c.execute(
        "INSERT INTO quarantine (org, file_id, event_type, attempts, last_error, first_failed_at, last_failed_at)
         VALUES ('default', ?1, 'API', 5, 'file is not valid CSV', '2026-03-10T00:00:00Z', '2026-03-10T00:00:00Z')",
        [&id],
    )
    .unwrap();
    std::fs::remove_file(dir.path().join(csv)).unwrap();
    std::fs::remove_file(dir.path().join(ndjson)).unwrap();
    let (code, v, out) = verify_json(&sim, dir.path(), &[]).await;
    assert_eq!(code, 1, "{}", describe(&out));
    let d = row_with(&v, "EventLogFile", "quarantined", &id);
    assert!(
        d.contains("5 attempt(s)") && d.contains("not valid CSV"),
        "{d}"
    );
    c.execute("DELETE FROM quarantine", []).unwrap();
    // A day later Salesforce has dropped the oldest files: the archive keeps them, and that
    // is no failure.
    sim.advance_clock(std::time::Duration::from_secs(86_400));
    let (code, v, out) = verify_json(&sim, dir.path(), &[]).await;
    row_with(&v, "EventLogFile", "dropped", "the archive keeps them");
    // The file taken out above is pending again: the next collect takes it.
    assert_eq!(code, 0, "{}", describe(&out));
    row_with(&v, "EventLogFile", "pending", &id);
}

#[tokio::test]
async fn a_dense_sobject_is_counted_per_day_and_a_removed_record_still_named() {
    let mut c = small_config(31);
    c.freeze_clock = true;
    c.org.days = 1;
    c.org.records_per_hour = (0, 0);
    // 150 changes an hour: over two days, more pages of Ids than days to count.
    c.org_options.audit_per_hour = Some((150, 150));
    let sim = start(c).await;
    let dir = tempfile::tempdir().unwrap();
    let only = ["--object", "SetupAuditTrail", "--since", "2026-03-09"];
    let out = sfevents(
        &sim,
        dir.path(),
        &["collect", "--quiet", "--no-ship"],
        &only[..2],
    )
    .await;
    assert_exit(&out, 0);
    let out = sfevents(&sim, dir.path(), &["verify", "--format", "json"], &only).await;
    assert_exit(&out, 0);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = row_with(&v, "SetupAuditTrail", "ok", "COUNT() per day");
    assert!(d.starts_with("2 day(s)"), "{d}");
    let path = object_file(dir.path(), "SetupAuditTrail");
    let line: Value = serde_json::from_str(&drop_first_line(&path)).unwrap();
    let id = line["fields"]["Id"].as_str().unwrap().to_string();
    let out = sfevents(&sim, dir.path(), &["verify", "--format", "json"], &only).await;
    assert_exit(&out, 1);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    row_with(&v, "SetupAuditTrail", "missing", &id);
}

#[tokio::test]
async fn deep_rereads_login_event_and_finds_a_removed_record() {
    let (sim, dir) = collected(27).await;
    let out = verify(&sim, dir.path(), &["--deep"]).await;
    assert_exit(&out, 0);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--deep re-reads LoginEvent in about") && err.contains("API call(s)"),
        "{}",
        describe(&out)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("LoginEvent (deep)") && l.contains(" ok ")),
        "{}",
        describe(&out)
    );
    let path = object_file(dir.path(), "LoginEvent");
    let line: Value = serde_json::from_str(&drop_first_line(&path)).unwrap();
    let key = line["fields"]["EventIdentifier"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, v, out) = verify_json(&sim, dir.path(), &["--deep"]).await;
    assert_eq!(code, 1, "{}", describe(&out));
    row_with(&v, "LoginEvent (deep)", "missing", &key);
}

#[tokio::test]
async fn deep_stops_before_passing_the_api_budget() {
    let (sim, dir) = collected(28).await;
    // The org has already spent most of a small allowance.
    sim.set_daily_api_limit(sim.api_calls() + 5);
    let out = sfevents(
        &sim,
        dir.path(),
        &["verify", "--format", "json"],
        &[
            "--object",
            "LoginEvent",
            "--deep",
            "--api-budget-percent",
            "90",
        ],
    )
    .await;
    assert_exit(&out, 1);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = row_with(&v, "deep", "error", "api_budget_percent");
    assert!(d.contains("not started"), "{d}");
}

#[tokio::test]
async fn json_and_table_give_the_same_verdicts() {
    let (sim, dir) = collected(29).await;
    let (_, csv, _) = ledger_file(dir.path(), "Login", false);
    std::fs::remove_file(dir.path().join(csv)).unwrap();
    let table = verify(&sim, dir.path(), &[]).await;
    let (code, v, _) = verify_json(&sim, dir.path(), &[]).await;
    assert_eq!(Some(code), table.status.code());
    let text = String::from_utf8_lossy(&table.stdout).into_owned();
    for (check, verdict, details) in rows(&v) {
        assert!(
            text.lines().any(|l| l.contains(&check)
                && l.contains(&format!(" {verdict} "))
                && l.contains(&details)),
            "the table lacks {check} {verdict} {details}\n{text}"
        );
    }
    assert_eq!(v["orgs"][0]["ok"], false);
    assert!(v["api_calls"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn usage_errors_exit_2() {
    let sim = start(org(30)).await;
    let dir = tempfile::tempdir().unwrap();
    // No archive yet: nothing to verify.
    let out = verify(&sim, &dir.path().join("none"), &[]).await;
    assert_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("sfevents collect"));
    assert!(
        !dir.path().join("none").exists(),
        "verify created an archive"
    );
    let out = verify(&sim, dir.path(), &["--since", "yesterday"]).await;
    assert_exit(&out, 2);
    let out = verify(&sim, dir.path(), &["--format", "xml"]).await;
    assert_exit(&out, 2);
}
