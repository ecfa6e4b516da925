//! The built-in rules against the Sigma tools of others (the detections issue's acceptance):
//!
//! - every built-in rule passes sigma-cli's `sigma check` (pySigma 1.5.1), validators' issues
//!   included: the pack is standard Sigma, not a dialect;
//! - for the built-in single-event rules pySigma's DuckDB backend converts faithfully, its query
//!   over the archive's NDJSON selects exactly the events `sfevents detect` alerts on.
//!
//! The tools live in the venv `scripts/test` installs ($SFEVENTS_SIGMA_VENV, else
//! ${XDG_CACHE_HOME:-~/.cache}/sfevents/sigma-venv); without them these tests fail. The Python
//! they run is in tests/sigma_tools/.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

/// The versions scripts/test installs.
const SIGMA_CLI: &str = "3.1.0";
const PYSIGMA: &str = "1.5.1";
const DUCKDB_BACKEND: &str = "0.1.4";

/// Built-in rules compared with DuckDB (31 today: every single-event rule of the pack), and how
/// many of them matched events of the generated org (5 today: its plain data has no attack, so
/// the SetupAuditTrail rules and ReportEvent exports); every rule of EXTRA must match too.
const MIN_COMPARED_BUILTIN: usize = 25;
const MIN_BUILTIN_MATCHING: usize = 5;

/// Simple single-event rules of ours, one family (`sigma_tools`): in plain generated data the
/// pack's single-event rules match SetupAuditTrail and ReportEvent records only; these match
/// EventLogFile rows, ApiEvent, LoginEvent and LoginHistory records too, with numbers, re,
/// null, booleans and a dotted relationship field besides.
const EXTRA: &str = r#"title: Test - a failed login (ELF Login)
id: 6d0c2f1e-3b7a-4c55-9e0d-1a2b3c4d5e01
name: sigma_tools.login_failure
status: experimental
logsource:
  product: salesforce
  service: login
detection:
  selection:
    LOGIN_STATUS|startswith: LOGIN_ERROR
  condition: selection
level: low
---
title: Test - a SOQL query on accounts, not a retrieve (ELF API)
id: 6d0c2f1e-3b7a-4c55-9e0d-1a2b3c4d5e02
name: sigma_tools.account_query
status: experimental
logsource:
  product: salesforce
  service: api
detection:
  selection:
    QUERY|contains|all:
      - select
      - from account
  filter_retrieve:
    METHOD_NAME: retrieve
  condition: selection and not filter_retrieve
level: low
---
title: Test - a failed REST read of one record (ELF RestApi)
id: 6d0c2f1e-3b7a-4c55-9e0d-1a2b3c4d5e03
name: sigma_tools.rest_record_failed
status: experimental
logsource:
  product: salesforce
  service: rest_api
detection:
  selection:
    METHOD: GET
    REQUEST_STATUS: Failed
    URI|re: '/sobjects/[A-Za-z]+/[0-9A-Za-z]{15}$'
  condition: selection
level: low
---
title: Test - many rows in a quick API call without SOQL (ApiEvent)
id: 6d0c2f1e-3b7a-4c55-9e0d-1a2b3c4d5e04
name: sigma_tools.quick_rows
status: experimental
logsource:
  product: salesforce
  service: api_event
detection:
  selection:
    RowsProcessed|gte: 1000
    ElapsedTime|lt: 500
  no_soql:
    Query: null
  condition: selection and no_soql
level: low
---
title: Test - a user change by an example.com admin, not delegated (SetupAuditTrail)
id: 6d0c2f1e-3b7a-4c55-9e0d-1a2b3c4d5e05
name: sigma_tools.user_change
status: experimental
logsource:
  product: salesforce
  service: setup_audit_trail
detection:
  selection:
    Section: Manage Users
    CreatedBy.Username|endswith: '.example.com'
  delegated:
    DelegateUser|exists: true
  condition: selection and not delegated
level: low
---
title: Test - a successful browser login from the US or India (LoginEvent)
id: 6d0c2f1e-3b7a-4c55-9e0d-1a2b3c4d5e06
name: sigma_tools.browser_login
status: experimental
logsource:
  product: salesforce
  service: login_event
detection:
  selection:
    Status: Success
    CountryIso:
      - US
      - IN
    Browser|re: '^(Chrome|Firefox|Safari|Edge) [0-9]+$'
    LoginLatitude|gt: 0
  condition: selection
level: low
---
title: Test - an OAuth login by POST (LoginHistory)
id: 6d0c2f1e-3b7a-4c55-9e0d-1a2b3c4d5e07
name: sigma_tools.oauth_post
status: experimental
logsource:
  product: salesforce
  service: login_history
detection:
  selection:
    OptionsIsPost: true
    LoginSubType|contains: oauth
  condition: selection
level: low
"#;

/// The venv of sigma-cli, pySigma's DuckDB backend and DuckDB; a test fails without it.
fn venv() -> PathBuf {
    let dir = receivers::smtp::test_venv();
    for tool in ["python", "sigma"] {
        assert!(
            dir.join("bin").join(tool).is_file(),
            "{} is missing: the Sigma tools (sigma-cli {SIGMA_CLI}, pysigma-backend-duckdb \
             {DUCKDB_BACKEND}, duckdb) are not installed there. Run scripts/test, which installs \
             them into that venv (or point SFEVENTS_SIGMA_VENV at a venv that has them).",
            dir.join("bin").join(tool).display()
        );
    }
    dir
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("sigma_tools")
        .join(name)
}

async fn python<A: AsRef<OsStr>>(venv: &Path, args: &[A]) -> std::process::Output {
    tokio::process::Command::new(venv.join("bin").join("python"))
        .args(args)
        .output()
        .await
        .expect("the venv's python runs")
}

/// The built-in pack as files, as sfevents compiles it in.
fn write_pack(dir: &Path) -> PathBuf {
    let pack = dir.join("pack");
    std::fs::create_dir_all(&pack).unwrap();
    for (name, yaml) in detections::pack::BUILTIN {
        std::fs::write(pack.join(name), yaml).unwrap();
    }
    pack
}

/// The `name` of every YAML document of `yaml` (documents are separated by `---` lines; one
/// without a top-level `name` counts as "").
fn document_names(yaml: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut doc: Option<String> = None;
    let mut content = false;
    for line in yaml.lines().chain(std::iter::once("---")) {
        if line.trim_end() == "---" {
            if content {
                out.push(doc.take().unwrap_or_default());
            }
            doc = None;
            content = false;
        } else if !line.trim().is_empty() && !line.trim_start().starts_with('#') {
            content = true;
            if let Some(n) = line.strip_prefix("name:") {
                doc = Some(n.trim().trim_matches(['"', '\'']).to_string());
            }
        }
    }
    out
}

fn pack_names() -> Vec<String> {
    detections::pack::BUILTIN
        .iter()
        .flat_map(|(_, yaml)| document_names(yaml))
        .collect()
}

#[tokio::test]
async fn every_built_in_rule_passes_sigma_check() {
    let venv = venv();
    let tmp = tempfile::tempdir().unwrap();
    let pack = write_pack(tmp.path());
    let docs = pack_names();
    assert!(docs.len() > 40, "the pack has its rules: {}", docs.len());
    let sorted: BTreeSet<&String> = docs.iter().collect();
    assert_eq!(
        sorted.len(),
        docs.len(),
        "every document has a name of its own"
    );

    // The `sigma` executable, as a user runs it; -i: validators' issues fail the check. The
    // two validators left out download MITRE data (the test runs offline).
    let args = ["check", "-x", "attacktag", "-x", "d3_fendtag", "-i"];
    let o = tokio::process::Command::new(venv.join("bin").join("sigma"))
        .args(args)
        .arg(&pack)
        .output()
        .await
        .expect("sigma runs");
    assert_exit(&o, 0);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("Found 0 errors, 0 condition errors and 0 issues."),
        "{}",
        describe(&o)
    );

    // The same check through sigma-cli's entry point, naming the rules it checked.
    let names = tmp.path().join("checked.json");
    let wrapper = script("sigma_check.py");
    let mut argv: Vec<&OsStr> = vec![wrapper.as_os_str(), names.as_os_str()];
    argv.extend(args.iter().map(OsStr::new));
    argv.push(pack.as_os_str());
    let o = python(&venv, &argv).await;
    assert_exit(&o, 0);
    let checked: Vec<String> =
        serde_json::from_slice(&std::fs::read(&names).unwrap()).expect("checked names");
    assert_eq!(
        checked.len(),
        docs.len(),
        "sigma check checked {} rules; the pack has {} Sigma documents",
        checked.len(),
        docs.len()
    );
    let checked: BTreeSet<&String> = checked.iter().collect();
    assert_eq!(
        checked, sorted,
        "the rules sigma check checked are the pack's"
    );
    println!(
        "sigma check (sigma-cli {SIGMA_CLI}): {} rules in {} files, 0 errors, 0 issues",
        docs.len(),
        detections::pack::BUILTIN.len()
    );
}

/// Every event object the generator serves, three days back, into the archive beside the
/// EventLogFiles (`SFEVENTS_NOW`: the sim's frozen clock).
async fn collect_objects(sim: &sfsim::SimHandle, dir: &Path) {
    let mut args = vec!["collect".to_string(), "--quiet".into()];
    args.extend(auth_args(sim, dir));
    for o in sfgen::OBJECTS {
        args.push("--object".into());
        args.push(o.to_string());
    }
    args.extend(["--backfill-days".to_string(), "3".into()]);
    let o = tokio::process::Command::new(BIN)
        .args(&args)
        .env("SFEVENTS_NOW", sim.now().to_rfc3339())
        .output()
        .await
        .expect("sfevents runs");
    assert_exit(&o, 0);
}

/// `sfevents detect --rule NAME --format ndjson` over the archive: the event ids of each rule's
/// alerts, by Sigma rule id (one name covers a rule's variants).
async fn detect_ids(
    archive: &Path,
    rules: Option<&Path>,
    name: &str,
    into: &mut BTreeMap<String, Vec<String>>,
) {
    let mut args = vec![
        "detect".to_string(),
        "--output-dir".into(),
        archive.display().to_string(),
        "--rule".into(),
        name.into(),
        "--format".into(),
        "ndjson".into(),
    ];
    if let Some(r) = rules {
        args.extend([
            "--no-builtin".into(),
            "--rules".into(),
            r.display().to_string(),
        ]);
    }
    let o = run(&args).await;
    // 1: an alert at or above the default --fail-level.
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "detect --rule {name}: {}",
        describe(&o)
    );
    for line in String::from_utf8_lossy(&o.stdout).lines() {
        let a: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_eq!(a["rule"]["name"], name, "{a}");
        let ids: Vec<String> = a["events"]["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            a["count"], 1,
            "a single-event rule alerts once per event: {a}"
        );
        assert_eq!(a["events"]["total"], 1, "{a}");
        assert_eq!(ids.len(), 1, "{a}");
        into.entry(a["rule"]["id"].as_str().unwrap().to_string())
            .or_default()
            .extend(ids);
    }
}

#[tokio::test]
async fn duckdb_queries_of_the_built_in_rules_find_the_events_detect_alerts_on() {
    let venv = venv();
    let mut c = small_config(83);
    c.freeze_clock = true;
    c.org.days = 3;
    c.org.rows_per_hour = (4, 12);
    c.org.records_per_hour = (4, 10);
    c.org_options.audit_per_hour = Some((2, 6));
    let sim = start(c).await;
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("archive");
    assert_exit(&collect(&sim, &archive, &[]).await, 0);
    collect_objects(&sim, &archive).await;
    let pack = write_pack(tmp.path());
    let extra = tmp.path().join("extra");
    std::fs::create_dir_all(&extra).unwrap();
    std::fs::write(extra.join("sigma_tools.yml"), EXTRA).unwrap();

    // pySigma's side: each rule classified, the eligible ones converted and run.
    let result = tmp.path().join("duckdb.json");
    let oracle = script("duckdb_oracle.py");
    let o = python(
        &venv,
        &[
            oracle.as_os_str(),
            OsStr::new("--archive"),
            archive.as_os_str(),
            OsStr::new("--rules"),
            pack.as_os_str(),
            OsStr::new("--rules"),
            extra.as_os_str(),
            OsStr::new("--out"),
            result.as_os_str(),
        ],
    )
    .await;
    assert_exit(&o, 0);
    let result: Value = serde_json::from_slice(&std::fs::read(&result).unwrap()).unwrap();
    let versions = &result["versions"];
    assert_eq!(versions["sigma-cli"], SIGMA_CLI, "{versions}");
    assert_eq!(versions["pySigma"], PYSIGMA, "{versions}");
    assert_eq!(
        versions["pysigma-backend-duckdb"], DUCKDB_BACKEND,
        "{versions}"
    );
    let rules = result["rules"].as_array().unwrap();
    let extra_names = document_names(EXTRA);
    assert_eq!(
        rules.len(),
        pack_names().len() + extra_names.len(),
        "pySigma read every document"
    );

    // sfevents' side: detect, one run per rule name (its variants share it).
    let compared: Vec<&Value> = rules.iter().filter(|r| r["status"] == "compared").collect();
    let family = |r: &Value| {
        r["name"]
            .as_str()
            .unwrap()
            .split('.')
            .next()
            .unwrap()
            .to_string()
    };
    let is_extra = |r: &Value| extra_names.iter().any(|n| r["name"] == n.as_str());
    let mut detected: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let families: BTreeSet<(String, bool)> =
        compared.iter().map(|r| (family(r), is_extra(r))).collect();
    for (name, extra_rule) in &families {
        let rules_dir = extra_rule.then_some(extra.as_path());
        detect_ids(&archive, rules_dir, name, &mut detected).await;
    }

    let mut report = String::new();
    let mut disagree = Vec::new();
    let (mut builtin_matching, mut compared_builtin, mut extra_matching) = (0, 0, 0);
    for r in rules {
        let name = r["name"].as_str().unwrap();
        let status = r["status"].as_str().unwrap();
        if status != "compared" {
            report += &format!("  {status:<9} {name}: {}\n", r["reason"].as_str().unwrap());
            continue;
        }
        let want: BTreeSet<&str> = r["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let got_ids = detected
            .get(r["id"].as_str().unwrap())
            .cloned()
            .unwrap_or_default();
        let got: BTreeSet<&str> = got_ids.iter().map(String::as_str).collect();
        assert_eq!(
            got.len(),
            got_ids.len(),
            "{name}: detect alerted twice on one event"
        );
        report += &format!("  compared  {name}: {} event(s)\n", want.len());
        if got != want {
            let only_duckdb: Vec<&&str> = want.difference(&got).take(5).collect();
            let only_detect: Vec<&&str> = got.difference(&want).take(5).collect();
            disagree.push(format!(
                "{name}: DuckDB {} event(s), detect {}; only DuckDB: {only_duckdb:?}, only \
                 detect: {only_detect:?}\n    query: {}",
                want.len(),
                got.len(),
                r["query"].as_str().unwrap()
            ));
        }
        if is_extra(r) {
            extra_matching += usize::from(!want.is_empty());
        } else {
            compared_builtin += 1;
            builtin_matching += usize::from(!want.is_empty());
        }
    }
    println!(
        "DuckDB against detect over {} ({}):\n{report}",
        result["datasets"], versions
    );
    assert!(
        disagree.is_empty(),
        "DuckDB and detect disagree:\n{}",
        disagree.join("\n")
    );
    assert!(
        compared_builtin >= MIN_COMPARED_BUILTIN,
        "{compared_builtin} built-in rules compared"
    );
    assert!(
        builtin_matching >= MIN_BUILTIN_MATCHING,
        "{builtin_matching} built-in rules matched events in the generated org"
    );
    assert_eq!(
        extra_matching,
        extra_names.len(),
        "every rule of ours matched events in the generated org"
    );
}
