//! `sfevents report alerts` over archives whose live rules raised alerts while `collect` ran
//! (a rule file of the test's own, see `common/live_rules.rs`). What the report should
//! say is counted here from the archive's files themselves: the alert files for rules, days
//! and levels; for the users and addresses, the alert's group values, else the event the
//! alert matched (looked up by id in the archive), with user ids named by the archive's
//! Login rows. Nothing here reads the report's code or the alerts' summaries.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use common::live_rules::{collect_live, live_config, RULES, SILENT};
use common::*;
use serde_json::{json, Value};
use sfsim::SimConfig;

fn config(seed: u64) -> SimConfig {
    let mut c = small_config(seed);
    c.freeze_clock = true;
    c.org.days = 2;
    c.org.rows_per_hour = (2, 8);
    c
}

async fn report(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["report".to_string()];
    all.extend(args.iter().map(|s| s.to_string()));
    all.push("--output-dir".into());
    all.push(dir.display().to_string());
    run(&all).await
}

async fn json_of(dir: &Path, name: &str, extra: &[&str]) -> Value {
    let mut args = vec![name, "--format", "json", "--top", "100000"];
    args.extend(extra);
    let o = report(dir, &args).await;
    assert_exit(&o, 0);
    serde_json::from_slice(&o.stdout).expect("report JSON")
}

/// The archive as the test reads it: every alert (the `fields` of each line of the `alert`
/// files), every other event by id, and user ids (their first 15 characters) to names.
struct Archive {
    alerts: Vec<Value>,
    events: HashMap<String, Value>,
    names: HashMap<String, String>,
}

fn read_archive(dir: &Path) -> Archive {
    let mut a = Archive {
        alerts: Vec::new(),
        events: HashMap::new(),
        names: HashMap::new(),
    };
    for (path, line) in ndjson_lines(dir) {
        if path.to_string_lossy().contains("/events/alert/") {
            assert_eq!(line["event_type"], "Alert");
            assert_eq!(line["@timestamp"], line["fields"]["@timestamp"]);
            a.alerts.push(line["fields"].clone());
            continue;
        }
        let f = &line["fields"];
        for (id, name) in [("USER_ID", "USER_NAME"), ("UserId", "Username")] {
            let (id, name) = (text(&f[id]), text(&f[name]));
            if id.len() >= 15 && !name.is_empty() {
                a.names.entry(id[..15].to_string()).or_insert(name);
            }
        }
        a.events.insert(text(&line["id"]), f.clone());
    }
    a
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// The first of `keys` an object holds as non-empty text.
fn first(v: &Value, keys: &[&str]) -> Option<String> {
    keys.iter().map(|k| text(&v[*k])).find(|s| !s.is_empty())
}

/// The event an alert fired on: the last of its listed events.
fn fired_on<'a>(a: &'a Archive, alert: &Value) -> &'a Value {
    let ids = alert["events"]["ids"].as_array().expect("events.ids");
    let id = text(ids.last().expect("an event"));
    a.events
        .get(&id)
        .unwrap_or_else(|| panic!("event {id} of {alert}"))
}

/// The user an alert names: its group's name, else its group's id (named by the Login rows
/// when they name it), else the event it fired on, by name, else by id.
fn user_of(a: &Archive, alert: &Value) -> Option<String> {
    let g = &alert["group"];
    if let Some(name) = first(g, &["USER_NAME", "Username"]) {
        return Some(name);
    }
    if let Some(id) = first(g, &["USER_ID", "UserId", "CreatedById"]) {
        return Some(
            a.names
                .get(id.get(..15).unwrap_or(&id))
                .cloned()
                .unwrap_or(id),
        );
    }
    first(
        fired_on(a, alert),
        &["USER_NAME", "Username", "USER_ID", "UserId"],
    )
}

/// The address an alert names: its group's, else the event it fired on.
fn address_of(a: &Archive, alert: &Value) -> Option<String> {
    let keys = ["SOURCE_IP", "SourceIp", "CLIENT_IP"];
    first(&alert["group"], &keys).or_else(|| first(fired_on(a, alert), &keys))
}

const LEVELS: [&str; 5] = ["critical", "high", "medium", "low", "informational"];

/// What `report alerts` must say over the alerts of days `since..=until`, as rows of the JSON
/// format, in order.
#[derive(Debug, Default)]
struct Expected {
    per_rule: Vec<Vec<Value>>,
    per_day: Vec<Vec<Value>>,
    users: Vec<Vec<Value>>,
    addresses: Vec<Vec<Value>>,
    figures: Vec<(String, Value)>,
}

fn expected(a: &Archive, since: &str, until: &str) -> Expected {
    let alerts: Vec<&Value> = a
        .alerts
        .iter()
        .filter(|x| {
            let day = &x["@timestamp"].as_str().unwrap()[..10];
            day >= since && day <= until
        })
        .collect();
    let mut rules: BTreeMap<(String, String, String), (i64, String, String)> = BTreeMap::new();
    let mut days: BTreeMap<String, [i64; 6]> = BTreeMap::new();
    let mut users: BTreeMap<String, (i64, BTreeSet<String>)> = BTreeMap::new();
    let mut addresses: BTreeMap<String, (i64, BTreeSet<String>)> = BTreeMap::new();
    let mut severe = 0;
    for x in &alerts {
        let r = &x["rule"];
        let (name, level) = (text(&r["name"]), text(&r["level"]));
        let t = text(&x["@timestamp"]);
        let e = rules
            .entry((name.clone(), level.clone(), text(&r["title"])))
            .or_insert((0, t.clone(), t.clone()));
        e.0 += 1;
        e.1 = e.1.clone().min(t.clone());
        e.2 = e.2.clone().max(t.clone());
        let d = days.entry(t[..10].to_string()).or_default();
        d[0] += 1;
        d[1 + LEVELS.iter().position(|l| *l == level).expect("a level")] += 1;
        severe += i64::from(level == "critical" || level == "high");
        for (who, per) in [
            (user_of(a, x), &mut users),
            (address_of(a, x), &mut addresses),
        ] {
            if let Some(who) = who {
                let e = per.entry(who).or_default();
                e.0 += 1;
                e.1.insert(name.clone());
            }
        }
    }
    let mut per_rule: Vec<_> = rules.into_iter().collect();
    per_rule.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then_with(|| a.0.cmp(&b.0)));
    let named = |m: &BTreeMap<String, (i64, BTreeSet<String>)>| -> Vec<Vec<Value>> {
        let mut v: Vec<_> = m.iter().collect();
        v.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then_with(|| a.0.cmp(b.0)));
        v.into_iter()
            .map(|(k, (n, rules))| {
                let rules: Vec<&str> = rules.iter().map(String::as_str).collect();
                vec![json!(k), json!(n), json!(rules.join(", "))]
            })
            .collect()
    };
    let names: BTreeSet<&String> = per_rule.iter().map(|((n, _, _), _)| n).collect();
    Expected {
        figures: vec![
            ("alerts".into(), json!(alerts.len())),
            ("high or critical".into(), json!(severe)),
            ("rules".into(), json!(names.len())),
            ("users named".into(), json!(users.len())),
            ("addresses named".into(), json!(addresses.len())),
        ],
        per_rule: per_rule
            .iter()
            .map(|((n, l, t), (c, f, last))| {
                vec![
                    json!(n),
                    json!(l),
                    json!(t),
                    json!(c),
                    json!(f),
                    json!(last),
                ]
            })
            .collect(),
        per_day: days
            .iter()
            .map(|(d, c)| {
                std::iter::once(json!(d))
                    .chain(c.iter().map(|n| json!(n)))
                    .collect()
            })
            .collect(),
        users: named(&users),
        addresses: named(&addresses),
    }
}

const RULE_COLUMNS: [&str; 6] = [
    "rule",
    "level",
    "title",
    "alerts",
    "first alert",
    "last alert",
];
const DAY_COLUMNS: [&str; 7] = [
    "day",
    "alerts",
    "critical",
    "high",
    "medium",
    "low",
    "informational",
];

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

/// The alerts section of a JSON report.
fn section(v: &Value) -> &Value {
    v["report"]["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .find(|s| s["id"] == "alerts")
        .unwrap_or_else(|| panic!("no alerts section in {:#}", v["report"]))
}

fn figures(v: &Value) -> Vec<(String, Value)> {
    section(v)["figures"]
        .as_array()
        .expect("figures")
        .iter()
        .map(|f| (text(&f["label"]), f["value"].clone()))
        .collect()
}

/// The report's JSON says exactly `want`, table by table and figure by figure.
fn check(v: &Value, want: &Expected) {
    type Want<'a> = (&'a str, &'a [&'a str], &'a Vec<Vec<Value>>);
    let pairs: [Want; 4] = [
        ("alerts_per_rule", &RULE_COLUMNS, &want.per_rule),
        ("alerts_per_day", &DAY_COLUMNS, &want.per_day),
        (
            "alerts_top_users",
            &["user", "alerts", "rules"],
            &want.users,
        ),
        (
            "alerts_top_addresses",
            &["address", "alerts", "rules"],
            &want.addresses,
        ),
    ];
    for (id, cols, rows) in pairs {
        assert_eq!(&rows_of(v, id, cols), rows, "{id}");
    }
    assert_eq!(figures(v), want.figures);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_equal_the_archives_alert_files() {
    let sim = start(config(73)).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("archive");
    let cfg = live_config(&sim, tmp.path(), "sim", &dir, RULES);
    assert_exit(&collect_live(&sim, &cfg).await, 0);
    let archive = read_archive(&dir);
    let all = expected(&archive, "0000", "9999");
    let per_rule: BTreeMap<String, i64> = all
        .per_rule
        .iter()
        .map(|r| (text(&r[0]), r[3].as_i64().unwrap()))
        .collect();
    assert_eq!(
        per_rule.keys().collect::<Vec<_>>(),
        ["test_failed_login", "test_user_failures"],
        "both rules raised alerts: {per_rule:?}"
    );
    assert!(
        all.per_day.len() >= 2,
        "alerts on several days: {:?}",
        all.per_day
    );
    assert!(all.users.len() >= 2, "{:?}", all.users);

    let v = json_of(&dir, "alerts", &[]).await;
    check(&v, &all);
    assert_eq!(v["report"]["title"], "Alerts");
    // The correlation names users by id; the report shows the names the Login rows give.
    let correlated: Vec<&Value> = archive
        .alerts
        .iter()
        .filter(|a| a["rule"]["name"] == "test_user_failures")
        .collect();
    assert!(correlated
        .iter()
        .all(|a| !text(&a["group"]["USER_ID"]).is_empty()));
    for a in &correlated {
        let name = user_of(&archive, a).unwrap();
        assert!(name.contains('@'), "USER_ID named: {name}");
    }

    // --org: this org's archive, or a usage error.
    assert_eq!(
        json_of(&dir, "alerts", &["--org", "sim"]).await["alerts_per_day"],
        v["alerts_per_day"]
    );
    let o = report(&dir, &["alerts", "--org", "elsewhere"]).await;
    assert_exit(&o, 2);

    // One day: only the alerts whose @timestamp falls on it.
    let day = text(&all.per_day[1][0]);
    let one = json_of(&dir, "alerts", &["--since", &day, "--until", &day]).await;
    let want = expected(&archive, &day, &day);
    assert_eq!(want.per_day.len(), 1);
    check(&one, &want);
    let from = json_of(&dir, "alerts", &["--since", &day]).await;
    check(&from, &expected(&archive, &day, "9999"));

    // --top: the first rows, and how many were left out.
    let o = report(&dir, &["alerts", "--format", "json", "--top", "1"]).await;
    assert_exit(&o, 0);
    let top: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        rows_of(&top, "alerts_top_users", &["user", "alerts", "rules"]),
        all.users[..1]
    );
    let omitted: BTreeMap<String, u64> = section(&top)["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (text(&t["id"]), t["omitted"].as_u64().unwrap()))
        .collect();
    assert_eq!(omitted["alerts_top_users"], all.users.len() as u64 - 1);
    assert_eq!(omitted["alerts_per_rule"], 1);
    assert_eq!(omitted["alerts_per_day"], 0, "days are never cut");

    // `all` holds the same section.
    let every = json_of(&dir, "all", &[]).await;
    check(&every, &all);
    let ids: Vec<&str> = every["report"]["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"logins") && ids.contains(&"alerts"),
        "{ids:?}"
    );
    sim.shutdown();
    formats(&dir, &all).await;
}

/// The terminal table and CSV say what the JSON says.
async fn formats(dir: &Path, all: &Expected) {
    let o = report(dir, &["alerts"]).await;
    assert_exit(&o, 0);
    let out = String::from_utf8_lossy(&o.stdout);
    for want in [
        "== Alerts ==",
        "Alerts per rule",
        "Alerts per day, by level",
        "Users named by the most alerts",
    ] {
        assert!(out.contains(want), "{want}: {out}");
    }
    let alerts = all.figures[0].1.as_i64().unwrap();
    assert!(out.contains(&format!("alerts: {alerts} · ")), "{out}");
    // Each day a line: the day, then its numbers in the columns' order.
    for row in &all.per_day {
        let want: Vec<String> = row
            .iter()
            .map(|c| c.to_string().trim_matches('"').to_string())
            .collect();
        assert!(
            out.lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>() == want),
            "{want:?}: {out}"
        );
    }
    let csv_dir = dir.join("csv");
    let o = report(
        dir,
        &[
            "alerts",
            "--format",
            "csv",
            "--top",
            "100000",
            "--out",
            csv_dir.to_str().unwrap(),
        ],
    )
    .await;
    assert_exit(&o, 0);
    let read = |id: &str| -> Vec<Vec<String>> {
        let mut r = csv::Reader::from_path(csv_dir.join(format!("{id}.csv"))).unwrap();
        let mut rows = vec![r.headers().unwrap().iter().map(String::from).collect()];
        rows.extend(
            r.records()
                .map(|x| x.unwrap().iter().map(String::from).collect()),
        );
        rows
    };
    let as_text = |head: &[&str], rows: &[Vec<Value>]| -> Vec<Vec<String>> {
        let mut out = vec![head.iter().map(|s| s.to_string()).collect()];
        out.extend(rows.iter().map(|r| {
            r.iter()
                .map(|c| c.as_str().map_or(c.to_string(), String::from))
                .collect()
        }));
        out
    };
    assert_eq!(
        read("alerts_per_rule"),
        as_text(&RULE_COLUMNS, &all.per_rule)
    );
    assert_eq!(read("alerts_per_day"), as_text(&DAY_COLUMNS, &all.per_day));
    assert_eq!(
        read("alerts_top_users"),
        as_text(&["user", "alerts", "rules"], &all.users)
    );
    assert_eq!(
        read("alerts_top_addresses"),
        as_text(&["address", "alerts", "rules"], &all.addresses)
    );
}

/// The tables are there and empty, and one note says why.
fn check_empty(v: &Value, why: &str) {
    for id in [
        "alerts_per_rule",
        "alerts_per_day",
        "alerts_top_users",
        "alerts_top_addresses",
    ] {
        assert_eq!(v[id], json!([]), "{id}");
    }
    let s = section(v);
    assert!(s["empty"].is_null());
    let notes: Vec<String> = s["notes"].as_array().unwrap().iter().map(text).collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains(why), "{why}: {notes:?}");
    assert_eq!(figures(v)[0], ("alerts".to_string(), json!(0)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_alerts_the_report_says_why_and_is_no_error() {
    let sim = start(config(74)).await;
    // Rules off: an archive collected without them.
    let off = tempfile::tempdir().unwrap();
    assert_exit(&collect(&sim, off.path(), &[]).await, 0);
    let v = json_of(off.path(), "alerts", &[]).await;
    check_empty(&v, "the live rules are off");
    let every = json_of(off.path(), "all", &[]).await;
    check_empty(&every, "the live rules are off");
    let o = report(off.path(), &["alerts"]).await;
    assert_exit(&o, 0);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("note: No alert: the live rules are off") && out.contains("(no rows)"),
        "{out}"
    );

    // Rules on that raise nothing.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("archive");
    let cfg = live_config(&sim, tmp.path(), "sim", &dir, SILENT);
    assert_exit(&collect_live(&sim, &cfg).await, 0);
    check_empty(
        &json_of(&dir, "alerts", &[]).await,
        "the live rules are on and raised nothing",
    );

    // Rules that raised alerts, none of them in the period.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("archive");
    let cfg = live_config(&sim, tmp.path(), "sim", &dir, RULES);
    assert_exit(&collect_live(&sim, &cfg).await, 0);
    let raised = read_archive(&dir).alerts.len();
    assert!(raised > 0);
    let v = json_of(&dir, "alerts", &["--since", "2031-01-01"]).await;
    check_empty(
        &v,
        &format!(
            "No alert in this period: the live rules raised nothing in it ({raised} alerts in all"
        ),
    );
    sim.shutdown();
}
