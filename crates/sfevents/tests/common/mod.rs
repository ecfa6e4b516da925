//! Test harness: an in-process sfsim, the real `sfevents` binary run in a temporary folder,
//! and checks of the archive against what the generator says each file holds.

#![allow(dead_code)]

pub mod live_rules;
pub mod notify;
pub mod rsyslog;
pub mod stream;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Output;

use sfsim::{SimConfig, SimHandle};

pub const BIN: &str = env!("CARGO_BIN_EXE_sfevents");

/// A small org: every default type, hourly and daily files, a few rows an hour.
pub fn small_config(seed: u64) -> SimConfig {
    let mut c = SimConfig::default();
    // A fixed clock: which files exist must not depend on when the test runs.
    c.org.anchor =
        chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 3, 10, 12, 30, 0).unwrap();
    c.org.seed = seed;
    c.org.days = 1;
    c.org.rows_per_hour = (0, 4);
    c.org.hourly = true;
    c.org.late_files = true;
    c
}

pub async fn start(cfg: SimConfig) -> SimHandle {
    sfsim::start(cfg).await.expect("sfsim starts")
}

/// The flags for JWT auth against `sim`, plus `--output-dir`.
pub fn auth_args(sim: &SimHandle, dir: &Path) -> Vec<String> {
    let c = &sim.credentials;
    vec![
        "--client-id".into(),
        c.client_id.clone(),
        "--username".into(),
        c.username.clone(),
        "--jwt-key-file".into(),
        c.private_key_file.display().to_string(),
        "--instance-url".into(),
        sim.url.clone(),
        "--output-dir".into(),
        dir.display().to_string(),
    ]
}

/// Runs `sfevents <args>` with a clean environment (no SFEVENTS_* from the caller).
pub async fn run(args: &[String]) -> Output {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("SFEVENTS_") || k == "SSL_CERT_FILE" {
            cmd.env_remove(k);
        }
    }
    cmd.output().await.expect("sfevents runs")
}

/// `sfevents collect --quiet` with JWT flags and `extra`.
pub async fn collect(sim: &SimHandle, dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["collect".to_string(), "--quiet".to_string()];
    args.extend(auth_args(sim, dir));
    args.extend(extra.iter().map(|s| s.to_string()));
    run(&args).await
}

/// Collects every EventLogFile, then SetupAuditTrail two days back, as of the sim's clock
/// (`SFEVENTS_NOW`; with --object, collect takes no EventLogFile): an archive for reports.
pub async fn collect_with_audit(sim: &SimHandle, dir: &Path) {
    for extra in [
        &[][..],
        &["--object", "SetupAuditTrail", "--backfill-days", "2"][..],
    ] {
        let mut args = vec!["collect".to_string(), "--quiet".into()];
        args.extend(auth_args(sim, dir));
        args.extend(extra.iter().map(|s| s.to_string()));
        let o = tokio::process::Command::new(BIN)
            .args(&args)
            .env("SFEVENTS_NOW", sim.now().to_rfc3339())
            .output()
            .await
            .expect("sfevents runs");
        assert_exit(&o, 0);
    }
}

pub fn describe(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

pub fn assert_exit(o: &Output, code: i32) {
    assert_eq!(o.status.code(), Some(code), "{}", describe(o));
}

/// The files a collector should have taken now: visible ones, hourly for types the org
/// publishes hourly (interval auto), else daily.
pub fn expected_files(sim: &SimHandle, interval: &str) -> Vec<sfgen::LogFileMeta> {
    let visible: Vec<sfgen::LogFileMeta> = sim.visible_files().into_iter().cloned().collect();
    let hourly_types: HashSet<String> = visible
        .iter()
        .filter(|f| f.interval == sfgen::Interval::Hourly)
        .map(|f| f.event_type.clone())
        .collect();
    visible
        .into_iter()
        .filter(|f| {
            let want_hourly = match interval {
                "hourly" => true,
                "daily" => false,
                _ => hourly_types.contains(&f.event_type),
            };
            (f.interval == sfgen::Interval::Hourly) == want_hourly
        })
        .collect()
}

/// [`expected_files`] of the given event types only.
pub fn expected_of(sim: &SimHandle, interval: &str, types: &[&str]) -> Vec<sfgen::LogFileMeta> {
    expected_files(sim, interval)
        .into_iter()
        .filter(|f| types.contains(&f.event_type.as_str()))
        .collect()
}

/// Every file under `dir`, recursively (no order).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Every NDJSON line in the archive: (file name, parsed line).
pub fn ndjson_lines(dir: &Path) -> Vec<(PathBuf, serde_json::Value)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.join("events")];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if is_events_file(&p) {
                let text = read_events_file(&p);
                for line in text.lines() {
                    let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| {
                        panic!("bad NDJSON line in {}: {e}: {line}", p.display())
                    });
                    out.push((p.clone(), v));
                }
            }
        }
    }
    out
}

/// An event file of the archive: `.ndjson`, or `.ndjson.zst` (the default form), not a
/// temporary one.
pub fn is_events_file(p: &Path) -> bool {
    let name = p.file_name().unwrap().to_string_lossy();
    (name.ends_with(".ndjson") || name.ends_with(".ndjson.zst")) && !name.starts_with('.')
}

/// An event file's lines as text, decompressed with the zstd library (not sfevents' reader)
/// when it is a `.ndjson.zst`.
pub fn read_events_file(p: &Path) -> String {
    String::from_utf8(readable_bytes(p)).unwrap()
}

/// A file's bytes as a reader of them sees them: a `.zst` decompressed (with the zstd
/// library). Secret scans use it: a compressed file would hide a secret from a byte search.
pub fn readable_bytes(p: &Path) -> Vec<u8> {
    let bytes = std::fs::read(p).unwrap();
    if p.to_string_lossy().ends_with(".zst") {
        zstd::stream::decode_all(&bytes[..])
            .unwrap_or_else(|e| panic!("{} is not zstd: {e}", p.display()))
    } else {
        bytes
    }
}

/// The archive's name for a raw EventLogFile CSV: `Type_YYYYMMDD[_HH]_Id.csv`.
pub fn csv_name(f: &sfgen::LogFileMeta) -> String {
    let when = if f.interval == sfgen::Interval::Hourly {
        f.log_date.format("%Y%m%d_%H").to_string()
    } else {
        f.log_date.format("%Y%m%d").to_string()
    };
    format!("{}_{}_{}.csv", f.event_type, when, f.id)
}

/// Checks the archive holds exactly `expected`: every row once with the generator's values,
/// raw CSV byte-identical, no other event and no id twice.
pub fn check_archive(sim: &SimHandle, dir: &Path, expected: &[sfgen::LogFileMeta]) {
    let org = &sim.org;
    let lines = ndjson_lines(dir);
    let mut by_file: HashMap<String, Vec<&serde_json::Value>> = HashMap::new();
    let mut ids = HashSet::new();
    for (_, v) in &lines {
        let id = v["id"].as_str().expect("event id").to_string();
        assert!(ids.insert(id.clone()), "event id {id} appears twice");
        // Object records (archived beside EventLogFile rows) are checked elsewhere.
        let Some(file_id) = v["file_id"].as_str() else {
            continue;
        };
        by_file.entry(file_id.to_string()).or_default().push(v);
    }
    let expected_ids: HashSet<&str> = expected.iter().map(|f| f.id.as_str()).collect();
    for k in by_file.keys() {
        assert!(
            expected_ids.contains(k.as_str()),
            "events from unexpected file {k}"
        );
    }
    let mut total = 0;
    for f in expected {
        let columns = sfgen::Org::columns(&f.event_type);
        let rows: Vec<Vec<String>> = org.rows(&f.id).collect();
        let got = by_file.get(&f.id).cloned().unwrap_or_default();
        assert_eq!(
            got.len(),
            rows.len(),
            "file {} ({} {:?} seq {}) has {} events, generator says {}",
            f.id,
            f.event_type,
            f.interval,
            f.sequence,
            got.len(),
            rows.len()
        );
        let mut got = got;
        got.sort_by_key(|v| v["row"].as_u64());
        for (i, (v, row)) in got.iter().zip(&rows).enumerate() {
            assert_eq!(v["row"].as_u64(), Some(i as u64 + 1));
            assert_eq!(v["event_type"], f.event_type.as_str());
            assert_eq!(v["org_id"], org.org_id.as_str());
            assert_eq!(v["sequence"].as_i64(), Some(f.sequence as i64));
            let fields = v["fields"].as_object().expect("fields");
            assert_eq!(fields.len(), columns.len());
            for (c, val) in columns.iter().zip(row) {
                assert_eq!(
                    fields[*c].as_str(),
                    Some(val.as_str()),
                    "file {} row {} column {c}",
                    f.id,
                    i + 1
                );
            }
            assert!(v["@timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
        }
        total += rows.len();
        let csv = dir.join("output").join(csv_name(f));
        let bytes = std::fs::read(&csv).unwrap_or_else(|e| panic!("{}: {e}", csv.display()));
        let want: Vec<u8> = org.body(&f.id, 1 << 16).flatten().collect();
        assert!(
            bytes == want,
            "{} is not byte-identical to Salesforce's file",
            csv.display()
        );
    }
    let elf_lines = lines
        .iter()
        .filter(|(_, v)| v["file_id"].is_string())
        .count();
    assert_eq!(elf_lines, total);
    let csvs = std::fs::read_dir(dir.join("output")).unwrap().count();
    assert_eq!(
        csvs,
        expected.len(),
        "output/ holds other files than expected"
    );
    check_delivery_log(dir);
}

/// Rows per event type in the archive.
pub fn rows_by_type(dir: &Path) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for (_, v) in ndjson_lines(dir) {
        // EventLogFile rows by event type, object records by object.
        let kind = v["event_type"].as_str().or(v["source"].as_str()).unwrap();
        *m.entry(kind.to_string()).or_default() += 1;
    }
    m
}

/// The archive's log files, concatenated.
pub fn log_text(dir: &Path) -> String {
    let mut s = String::new();
    if let Ok(rd) = std::fs::read_dir(dir.join("logs")) {
        for e in rd.flatten() {
            s.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
        }
    }
    s
}

/// Sends `signal` (TERM, INT, ...) to a running child.
pub fn signal(child: &tokio::process::Child, signal: &str) {
    let pid = child.id().expect("the child is running").to_string();
    let ok = std::process::Command::new("kill")
        .args([format!("-{signal}"), pid])
        .status()
        .expect("kill runs")
        .success();
    assert!(ok, "kill -{signal} failed");
}

/// The delivery log lists every NDJSON file of the archive once, with its rows and bytes, and
/// nothing else: what an output reads is exactly what the archive holds.
pub fn check_delivery_log(dir: &Path) {
    let c = rusqlite::Connection::open(dir.join("state.db")).unwrap();
    let mut st = c
        .prepare("SELECT path, rows, bytes FROM delivery_log ORDER BY seq")
        .unwrap();
    let logged: Vec<(String, i64, i64)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut by_path: HashMap<String, (i64, i64)> = HashMap::new();
    for (p, rows, bytes) in &logged {
        assert!(
            by_path.insert(p.clone(), (*rows, *bytes)).is_none(),
            "{p} is in the delivery log twice"
        );
    }
    let mut files: HashMap<String, (i64, i64)> = HashMap::new();
    let mut stack = vec![dir.join("events")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if is_events_file(&p) {
                // A compressed file is logged with its lines' bytes, as the shipper reads them.
                let text = read_events_file(&p).into_bytes();
                let rows = text.iter().filter(|b| **b == b'\n').count() as i64;
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                files.insert(rel, (rows, text.len() as i64));
            }
        }
    }
    assert_eq!(
        by_path, files,
        "delivery log against the archive's NDJSON files"
    );
}
