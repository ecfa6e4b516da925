//! Notifiers end to end through `sfevents collect` with live rules: every alert the rules
//! archive reaches a signed webhook exactly once (counted at the receiver, which records every
//! request, refused ones included), with a signature Python's `hmac` accepts and the alert id
//! as the delivery id; a receiver that refuses for a while loses nothing; `min_level`, `rules`
//! and `suppress_minutes` hold back exactly the alerts they should, while every alert still
//! reaches the other outputs; `alerts test` sends one marked test alert.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::live_rules::{collect_live, live_config, RULES};
use common::notify::{archived_alerts, Got, Hook};
use common::*;
use serde_json::Value;
use sfsim::SimConfig;

const SECRET: &str = "a-webhook-secret-of-some-length-0123";

fn config(seed: u64) -> SimConfig {
    let mut c = small_config(seed);
    c.freeze_clock = true;
    c.org.days = 2;
    c.org.rows_per_hour = (2, 8);
    c
}

/// A webhook receiver on loopback (tests/common/notify.rs): its URL and what it got.
async fn hook(refuse: usize) -> (String, Arc<Hook>) {
    let h = Hook::start(refuse, std::time::Duration::ZERO).await;
    (h.url.clone(), h)
}

fn walk(d: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else if p.extension().is_some_and(|x| x == "ndjson") {
            out.push(p);
        }
    }
    out
}

/// Checks the signatures with Python's own HMAC (not the code under test): the bodies whose
/// `sha256=` header `hmac.compare_digest` refuses.
fn bad_signatures(got: &[Got]) -> usize {
    let items: Vec<Value> = got
        .iter()
        .map(|g| serde_json::json!({"sig": g.signature, "body": String::from_utf8_lossy(&g.body)}))
        .collect();
    let script = "import hmac,hashlib,json,sys\nitems=json.load(sys.stdin)\nkey=sys.argv[1].encode()\nbad=0\nfor i in items:\n    want='sha256='+hmac.new(key,i['body'].encode(),hashlib.sha256).hexdigest()\n    bad+=0 if hmac.compare_digest(want,i['sig']) else 1\nprint(bad)\n";
    let mut child = std::process::Command::new("python3")
        .args(["-c", script, SECRET])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&items).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

fn add_outputs(cfg: &Path, tables: &str) {
    let mut text = std::fs::read_to_string(cfg).unwrap();
    text.push_str(tables);
    std::fs::write(cfg, text).unwrap();
}

async fn collect(sim: &sfsim::SimHandle, cfg: &Path) -> std::process::Output {
    std::env::set_var("SFEVENTS_TEST_HOOK_SECRET", SECRET);
    collect_live(sim, cfg).await
}

#[tokio::test(flavor = "multi_thread")]
async fn every_alert_reaches_the_webhook_once_signed_even_after_refusals() {
    let sim = start(config(81)).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("archive");
    let cfg = live_config(&sim, tmp.path(), "sim", &dir, RULES);
    // The receiver refuses its first 3 requests: the shipper retries, nothing is lost.
    let (url, h) = hook(3).await;
    add_outputs(
        &cfg,
        &format!(
            "[[output]]\nname = \"hook\"\ntype = \"webhook\"\nurl = \"{url}\"\nsecret_env = \"SFEVENTS_TEST_HOOK_SECRET\"\nmax_per_second = 1000\nstart = \"beginning\"\n"
        ),
    );
    assert_exit(&collect(&sim, &cfg).await, 0);
    let alerts = archived_alerts(&dir);
    assert!(
        alerts.len() >= 5,
        "the test rules raise alerts: {}",
        alerts.len()
    );
    let got = h.got.lock().unwrap().clone();
    let refused: Vec<&Got> = got.iter().filter(|g| g.refused).collect();
    let taken: Vec<&Got> = got.iter().filter(|g| !g.refused).collect();
    assert_eq!(refused.len(), 3);
    // Counted at the receiver, which does not deduplicate: each alert once, none other.
    assert_eq!(taken.len(), alerts.len(), "one request per alert");
    let ids: BTreeSet<&str> = taken.iter().map(|g| g.delivery.as_str()).collect();
    assert_eq!(
        ids,
        alerts.keys().map(String::as_str).collect::<BTreeSet<_>>()
    );
    for g in &taken {
        let body: Value = serde_json::from_slice(&g.body).unwrap();
        assert_eq!(body, alerts[&g.delivery], "the body is the alert document");
    }
    assert_eq!(bad_signatures(&got), 0, "every signature checks out");
    let tampered = Got {
        body: b"{\"id\":\"forged\"}".to_vec(),
        ..taken[0].clone()
    };
    assert_eq!(bad_signatures(&[tampered]), 1, "the check can fail");

    // A second collect finds nothing new: nothing is sent again.
    assert_exit(&collect(&sim, &cfg).await, 0);
    assert_eq!(h.got.lock().unwrap().len(), got.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn routing_and_suppression_hold_back_exactly_what_they_should() {
    let sim = start(config(82)).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("archive");
    let cfg = live_config(&sim, tmp.path(), "sim", &dir, RULES);
    let (all_url, all) = hook(0).await;
    let (high_url, high) = hook(0).await;
    let (quiet_url, quiet) = hook(0).await;
    // A notifier left at its default start takes only alerts that come after it.
    let (later_url, later) = hook(0).await;
    add_outputs(
        &cfg,
        &format!(
            "[[output]]\nname = \"all\"\ntype = \"webhook\"\nurl = \"{all_url}\"\nsecret_env = \"SFEVENTS_TEST_HOOK_SECRET\"\nmax_per_second = 1000\nstart = \"beginning\"\n\
             [[output]]\nname = \"high\"\ntype = \"webhook\"\nurl = \"{high_url}\"\nsecret_env = \"SFEVENTS_TEST_HOOK_SECRET\"\nmax_per_second = 1000\nstart = \"beginning\"\nmin_level = \"high\"\n\
             [[output]]\nname = \"quiet\"\ntype = \"webhook\"\nurl = \"{quiet_url}\"\nsecret_env = \"SFEVENTS_TEST_HOOK_SECRET\"\nmax_per_second = 1000\nstart = \"beginning\"\nrules = \"test_failed_*\"\nsuppress_minutes = 1440\n\
             [[output]]\nname = \"later\"\ntype = \"webhook\"\nurl = \"{later_url}\"\nsecret_env = \"SFEVENTS_TEST_HOOK_SECRET\"\n"
        ),
    );
    assert_exit(&collect(&sim, &cfg).await, 0);
    let alerts = archived_alerts(&dir);
    let level = |a: &Value| a["rule"]["level"].as_str().unwrap().to_string();
    let name = |a: &Value| a["rule"]["name"].as_str().unwrap().to_string();
    assert_eq!(all.got.lock().unwrap().len(), alerts.len());
    assert_eq!(
        later.got.lock().unwrap().len(),
        0,
        "start = now by default for a notifier"
    );
    let want_high = alerts.values().filter(|a| level(a) == "high").count();
    assert!(want_high > 0 && want_high < alerts.len());
    assert_eq!(
        high.got.lock().unwrap().len(),
        want_high,
        "min_level = high"
    );
    // test_failed_login alerts have no group: one key, so one notification a day, by the
    // alerts' own times (in log order: the first of each day-long window since the last).
    let mut failed: Vec<i64> = alerts
        .values()
        .filter(|a| name(a) == "test_failed_login")
        .map(|a| {
            chrono::DateTime::parse_from_rfc3339(a["@timestamp"].as_str().unwrap())
                .unwrap()
                .timestamp()
        })
        .collect();
    assert!(failed.len() > 2, "{}", failed.len());
    let in_order = archived_in_log_order(&dir, "test_failed_login");
    let mut last: Option<i64> = None;
    let mut want_quiet = 0;
    for t in &in_order {
        if last.is_none_or(|l| (t - l).abs() >= 86_400) {
            want_quiet += 1;
            last = Some(*t);
        }
    }
    failed.sort();
    assert_eq!(quiet.got.lock().unwrap().len(), want_quiet);
    let suppressed = failed.len() - want_quiet;
    let skipped = alerts.len() - failed.len();
    // status counts what was held back.
    let out = run_ok(&["status", "--output-dir", dir.to_str().unwrap()]);
    assert!(
        out.contains(&format!(
            "alerts not notified: {suppressed} suppressed (suppress_minutes), {skipped} skipped (min_level, rules)"
        )),
        "{out}"
    );
}

/// The times of a rule's alerts in the order the delivery log holds them: alert files are
/// named by the log range they cover (`alerts-<from>-<to>`), lines in file order.
fn archived_in_log_order(dir: &Path, rule: &str) -> Vec<i64> {
    let mut files = walk(&dir.join("events").join("alert"));
    files.sort_by_key(|p| range_start(p));
    let mut times = Vec::new();
    for f in files {
        for line in std::fs::read_to_string(&f).unwrap().lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            if v["fields"]["rule"]["name"] == rule {
                let t = v["fields"]["@timestamp"].as_str().unwrap();
                times.push(chrono::DateTime::parse_from_rfc3339(t).unwrap().timestamp());
            }
        }
    }
    times
}

/// `alerts-<from>-<to>.ndjson` -> from.
fn range_start(p: &Path) -> i64 {
    let name = p.file_stem().unwrap().to_string_lossy().to_string();
    name.split('-')
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn run_ok(args: &[&str]) -> String {
    let out = std::process::Command::new(BIN).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_test_sends_one_marked_test_alert() {
    let (url, h) = hook(0).await;
    std::env::set_var("SFEVENTS_TEST_HOOK_SECRET", SECRET);
    let to =
        format!("webhook+{url}?secret_env=SFEVENTS_TEST_HOOK_SECRET&min_level=critical&name=hook");
    let out = tokio::process::Command::new(BIN)
        .args(["alerts", "test", "--output", "hook", "--to", &to])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = h.got.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let body: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(body["test"], true);
    assert_eq!(body["rule"]["name"], "sfevents_test_alert");
    assert_eq!(got[0].delivery, body["id"].as_str().unwrap());
    assert_eq!(bad_signatures(&got), 0);
    let out = tokio::process::Command::new(BIN)
        .args(["alerts", "test", "--output", "nope", "--to", &to])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the outputs are hook"));
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_checks_a_notifier_without_notifying() {
    let sim = start(small_config(83)).await;
    let tmp = tempfile::tempdir().unwrap();
    let (url, h) = hook(0).await;
    let mut args = vec!["doctor".to_string()];
    args.extend(auth_args(&sim, &tmp.path().join("archive")));
    args.extend(["--event-type".into(), "Login".into()]);
    args.push("--to".into());
    args.push(format!(
        "webhook+{url}?secret_env=NOTIFY_TEST_DOCTOR_SECRET&name=hook"
    ));
    let out = tokio::process::Command::new(BIN)
        .args(&args)
        .env("NOTIFY_TEST_DOCTOR_SECRET", SECRET)
        .env("SFEVENTS_NOW", sim.now().to_rfc3339())
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let line = text
        .lines()
        .find(|l| l.contains("reachable over TLS"))
        .unwrap_or_else(|| panic!("no notifier check in:\n{text}"));
    assert!(line.contains("nothing was sent"), "{line}");
    assert!(!line.contains(SECRET));
    assert_eq!(h.got.lock().unwrap().len(), 0, "doctor notified nobody");
    // A notifier nobody answers for is a problem with its fix.
    drop(h);
    let mut bad = args.clone();
    let last = bad.len() - 1;
    bad[last] =
        "webhook+http://127.0.0.1:9/hook?secret_env=NOTIFY_TEST_DOCTOR_SECRET&name=hook".into();
    let out = tokio::process::Command::new(BIN)
        .args(&bad)
        .env("NOTIFY_TEST_DOCTOR_SECRET", SECRET)
        .env("SFEVENTS_NOW", sim.now().to_rfc3339())
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{text}");
    let line = text
        .lines()
        .find(|l| l.contains("reachable over TLS"))
        .unwrap();
    assert!(
        line.contains("cannot reach") && line.contains("Fix:"),
        "{line}"
    );
}
