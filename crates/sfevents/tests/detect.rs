//! `sfevents detect`, `rules`, and the live rules of `collect`, over archives collected from
//! sfsim. What the rules should find is computed here from sfgen's rows (the generator), not
//! from the rules' code: a rule that matches every failed login must raise exactly one alert
//! per generated failed login, whether it runs as a backtest or live, however often it runs.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::live_rules::{collect_live, live_config};
use common::*;
use receivers::splunk;
use serde_json::Value;
use sfsim::SimHandle;

const FAILED_LOGIN: &str = "title: A failed login
id: 0b4f7c3e-2a51-4c8e-9d57-6c3f0e1a2b01
name: test_failed_login.elf
status: experimental
logsource:
  product: salesforce
  service: login
detection:
  selection:
    LOGIN_STATUS|startswith: LOGIN_ERROR
  condition: selection
level: low
rsigma.exemplars:
  - name: a failure
    expect: match
    event: {LOGIN_STATUS: LOGIN_ERROR_INVALID_PASSWORD}
  - name: a success
    expect: no-match
    event: {LOGIN_STATUS: LOGIN_NO_ERROR}
";

const TOKEN: &str = "8f14e45f-ceea-467f-a8ad-0123456789ab";

fn config(seed: u64) -> sfsim::SimConfig {
    let mut c = small_config(seed);
    c.freeze_clock = true;
    c.org.days = 2;
    c.org.rows_per_hour = (2, 8);
    c
}

fn rules_dir(dir: &Path, text: &str) -> PathBuf {
    let rules = dir.join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(rules.join("failed_login.yml"), text).unwrap();
    rules
}

/// The generator's failed logins in the collected Login files: their times, in millis.
fn generated_failures(sim: &SimHandle) -> Vec<i64> {
    let columns = sfgen::Org::columns("Login");
    let status = columns.iter().position(|c| *c == "LOGIN_STATUS").unwrap();
    let time = columns
        .iter()
        .position(|c| *c == "TIMESTAMP_DERIVED")
        .unwrap();
    let mut out = Vec::new();
    for f in expected_of(sim, "auto", &["Login"]) {
        for row in sim.org.rows(&f.id) {
            if row[status].starts_with("LOGIN_ERROR") {
                out.push(millis(&row[time]));
            }
        }
    }
    out.sort();
    assert!(out.len() > 5, "the org has failed logins: {}", out.len());
    out
}

fn millis(t: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(t)
        .unwrap_or_else(|e| panic!("{t}: {e}"))
        .timestamp_millis()
}

/// Alerts as a reader sees them: the NDJSON `detect` prints.
fn alerts_of(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

fn times(alerts: &[Value]) -> Vec<i64> {
    let mut t: Vec<i64> = alerts
        .iter()
        .map(|a| millis(a["@timestamp"].as_str().unwrap()))
        .collect();
    t.sort();
    t
}

async fn detect(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args: Vec<String> = vec![
        "detect".into(),
        "--output-dir".into(),
        dir.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    run(&args).await
}

#[tokio::test]
async fn a_backtest_raises_one_alert_per_generated_failure_and_says_so_in_its_exit_code() {
    let sim = start(config(71)).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("archive");
    assert_exit(&collect(&sim, &dir, &[]).await, 0);
    let rules = rules_dir(tmp.path(), FAILED_LOGIN);
    let r = rules.display().to_string();
    let o = detect(&dir, &["--no-builtin", "--rules", &r, "--format", "ndjson"]).await;
    assert_exit(&o, 0);
    let alerts = alerts_of(&o.stdout);
    assert_eq!(
        times(&alerts),
        generated_failures(&sim),
        "one alert per generated failed login"
    );
    let ids: std::collections::HashSet<&str> =
        alerts.iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), alerts.len(), "alert ids are distinct");
    for a in &alerts {
        assert_eq!(a["rule"]["name"], "test_failed_login");
        assert_eq!(a["rule"]["level"], "low");
        assert_eq!(a["count"], 1);
        assert_eq!(a["events"]["ids"].as_array().unwrap().len(), 1);
        assert!(a["summary"].as_str().unwrap().contains("user "), "{a}");
    }
    // The same archive gives the same alerts, ids included.
    let again = detect(&dir, &["--no-builtin", "--rules", &r, "--format", "ndjson"]).await;
    assert_eq!(alerts_of(&again.stdout), alerts);
    // --fail-level: at or above the alerts' level fails, above it does not.
    assert_exit(
        &detect(
            &dir,
            &["--no-builtin", "--rules", &r, "--fail-level", "low"],
        )
        .await,
        1,
    );
    assert_exit(
        &detect(
            &dir,
            &["--no-builtin", "--rules", &r, "--fail-level", "high"],
        )
        .await,
        0,
    );
    let bad = detect(
        &dir,
        &["--no-builtin", "--rules", &r, "--fail-level", "severe"],
    )
    .await;
    assert_exit(&bad, 2);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--fail-level 'severe'"));
    // One day only: the generator's failures of that day.
    let day = alerts_of(&o.stdout)[0]["@timestamp"].as_str().unwrap()[..10].to_string();
    let one = detect(
        &dir,
        &[
            "--no-builtin",
            "--rules",
            &r,
            "--format",
            "ndjson",
            "--since",
            &day,
            "--until",
            &day,
        ],
    )
    .await;
    assert_exit(&one, 0);
    let expected: Vec<i64> = generated_failures(&sim)
        .into_iter()
        .filter(|t| {
            chrono::DateTime::from_timestamp_millis(*t)
                .unwrap()
                .format("%Y-%m-%d")
                .to_string()
                == day
        })
        .collect();
    assert_eq!(times(&alerts_of(&one.stdout)), expected);
}

#[tokio::test]
async fn bad_rules_and_unknown_names_exit_2_naming_the_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("archive");
    std::fs::create_dir_all(&dir).unwrap();
    let broken = FAILED_LOGIN.replace("condition: selection", "condition: selection and");
    let rules = rules_dir(
        tmp.path(),
        &format!(
            "{FAILED_LOGIN}---\n{}",
            broken
                .replace("0b4f7c3e", "1b4f7c3e")
                .replace("test_failed_login.elf", "test_other.elf")
        ),
    );
    let o = run(&["rules".into(), "check".into(), rules.display().to_string()]).await;
    assert_exit(&o, 2);
    let err = String::from_utf8_lossy(&o.stderr);
    let line = FAILED_LOGIN.lines().count() + 2;
    assert!(
        err.contains(&format!("failed_login.yml:{line}")),
        "the second document starts at line {line}: {err}"
    );
    let o = run(&[
        "rules".into(),
        "check".into(),
        rules_dir(tmp.path(), FAILED_LOGIN).display().to_string(),
    ])
    .await;
    assert_exit(&o, 0);
    let o = detect(&dir, &["--rule", "no_such_rule"]).await;
    assert_exit(&o, 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("no rule is named 'no_such_rule'"));
}

#[tokio::test]
async fn rules_test_fails_on_a_sample_that_does_not_hold() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = rules_dir(tmp.path(), FAILED_LOGIN);
    let o = run(&["rules".into(), "test".into(), rules.display().to_string()]).await;
    assert_exit(&o, 0);
    assert!(String::from_utf8_lossy(&o.stdout).contains("2 sample(s) held, 0 failure(s)"));
    let wrong = FAILED_LOGIN.replace(
        "event: {LOGIN_STATUS: LOGIN_NO_ERROR}",
        "event: {LOGIN_STATUS: LOGIN_ERROR_LOCKED}",
    );
    let rules = rules_dir(tmp.path(), &wrong);
    let o = run(&["rules".into(), "test".into(), rules.display().to_string()]).await;
    assert_exit(&o, 1);
    assert!(String::from_utf8_lossy(&o.stdout)
        .contains("sample 'a success': expected no-match, got match"));
}

/// Every alert line of the archive's `alert` files.
fn archived_alerts(dir: &Path) -> Vec<Value> {
    ndjson_lines(dir)
        .into_iter()
        .filter(|(p, _)| p.to_string_lossy().contains("/events/alert/"))
        .map(|(_, v)| v)
        .collect()
}

#[tokio::test]
async fn live_rules_in_collect_archive_each_alert_once_in_the_delivery_log() {
    let sim = start(config(72)).await;
    let tmp = tempfile::tempdir().unwrap();
    let cfg = live_config(
        &sim,
        tmp.path(),
        "sim",
        &tmp.path().join("archive"),
        FAILED_LOGIN,
    );
    let rules = tmp.path().join("rules");
    let collect = || collect_live(&sim, &cfg);
    assert_exit(&collect().await, 0);
    let dir = tmp.path().join("archive");
    let lines = archived_alerts(&dir);
    let alerts: Vec<Value> = lines.iter().map(|l| l["fields"].clone()).collect();
    assert_eq!(
        times(&alerts),
        generated_failures(&sim),
        "one archived alert per generated failure"
    );
    for l in &lines {
        assert_eq!(l["event_type"], "Alert");
        assert_eq!(l["id"], l["fields"]["id"]);
    }
    // The alert files are in the delivery log, exactly as the archive holds them.
    check_delivery_log(&dir);
    // A second collect finds nothing new and raises nothing again.
    assert_exit(&collect().await, 0);
    assert_eq!(archived_alerts(&dir).len(), lines.len(), "no alert twice");
    check_delivery_log(&dir);
    // The backtest over the same archive agrees, ids included.
    let r = rules.display().to_string();
    let o = detect(&dir, &["--no-builtin", "--rules", &r, "--format", "ndjson"]).await;
    let mut backtest: Vec<String> = alerts_of(&o.stdout)
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    let mut live: Vec<String> = alerts
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    backtest.sort();
    live.sort();
    assert_eq!(backtest, live);
    // status: where the rules stand, and what they raised today.
    let st = run(&[
        "status".into(),
        "--output-dir".into(),
        dir.display().to_string(),
    ])
    .await;
    assert_exit(&st, 0);
    let text = String::from_utf8_lossy(&st.stdout);
    assert!(
        text.contains(&format!("{} alerts raised; caught up", alerts.len())),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("test_failed_login")
                && l.trim_end().ends_with(&format!(" {}", alerts.len()))),
        "{text}"
    );
    // The alerts ship with the events: Splunk gets each once, with sfevents' own sourcetype.
    let hec = splunk::start(splunk::Config::with_tokens(vec![splunk::Token::new(TOKEN)]))
        .await
        .unwrap();
    let o = tokio::process::Command::new(BIN)
        .args(["ship", "--quiet", "--output-dir"])
        .arg(&dir)
        .args([
            "--to",
            &format!("splunk+{}?name=hec&token_env=SFEVENTS_HEC_TOKEN", hec.url()),
        ])
        .env("SFEVENTS_HEC_TOKEN", TOKEN)
        .output()
        .await
        .unwrap();
    assert_exit(&o, 0);
    let shipped: Vec<String> = hec
        .events()
        .into_iter()
        .filter(|e| e.sourcetype.as_deref() == Some("sfevents:alert"))
        .map(|e| e.event["id"].as_str().unwrap_or_default().to_string())
        .collect();
    let mut unique = shipped.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(shipped.len(), alerts.len(), "each alert shipped once");
    assert_eq!(unique, live);
    let per_rule: BTreeMap<String, usize> = alerts.iter().fold(BTreeMap::new(), |mut m, a| {
        *m.entry(a["rule"]["name"].as_str().unwrap().to_string())
            .or_default() += 1;
        m
    });
    assert_eq!(per_rule.len(), 1, "{per_rule:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_run_with_rules_on_raises_every_alert_exactly_once() {
    let mut c = config(73);
    c.faults = sfsim::Faults {
        delay_ms: Some(15),
        ..Default::default()
    };
    let sim = start(c).await;
    let tmp = tempfile::tempdir().unwrap();
    let cfg = live_config(
        &sim,
        tmp.path(),
        "sim",
        &tmp.path().join("archive"),
        FAILED_LOGIN,
    );
    let now = sim.now().to_rfc3339();
    // A crash between an alert file and its commit, at a known place: the redo writes the
    // same file, and the log lists it once.
    let o = tokio::process::Command::new(BIN)
        .args(["collect", "--quiet", "--config"])
        .arg(&cfg)
        .env("SFEVENTS_NOW", &now)
        .env("SFEVENTS_TEST_ABORT_BEFORE_RULES_COMMIT", "1")
        .output()
        .await
        .unwrap();
    assert_eq!(o.status.code(), None, "aborted: {}", describe(&o));
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..6 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let mut child = tokio::process::Command::new(BIN)
            .args(["run", "--quiet", "--config"])
            .arg(&cfg)
            .env("SFEVENTS_NOW", &now)
            .spawn()
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(300 + state % 1500)).await;
        assert!(child.try_wait().unwrap().is_none(), "run exited by itself");
        child.start_kill().unwrap(); // SIGKILL
        child.wait().await.unwrap();
    }
    // Whatever is left: a collect takes the rest and evaluates it.
    let o = tokio::process::Command::new(BIN)
        .args(["collect", "--quiet", "--config"])
        .arg(&cfg)
        .env("SFEVENTS_NOW", &now)
        .output()
        .await
        .unwrap();
    assert_exit(&o, 0);
    let dir = tmp.path().join("archive");
    let alerts: Vec<Value> = archived_alerts(&dir)
        .into_iter()
        .map(|l| l["fields"].clone())
        .collect();
    let ids: std::collections::HashSet<&str> =
        alerts.iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), alerts.len(), "an alert archived twice");
    assert_eq!(
        times(&alerts),
        generated_failures(&sim),
        "every generated failure alerted, once"
    );
    check_delivery_log(&dir);
}
