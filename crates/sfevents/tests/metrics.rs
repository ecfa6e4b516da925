//! `sfevents run --metrics-addr`: the real binary collects from sfsim and ships to the
//! Elasticsearch receiver while its `/metrics` is scraped, by reqwest and by a real
//! Prometheus (Debian's `prometheus` package; `scripts/test` installs it).

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use receivers::elasticsearch as es;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn org(seed: u64) -> sfsim::SimConfig {
    let mut c = small_config(seed);
    c.freeze_clock = true;
    c.org.records_per_hour = (4, 12);
    c
}

/// `run` collecting two objects and one EventLogFile type, catching up a day 12 windows of
/// 15 minutes per cycle (so the counters move over several cycles), shipping to `h`.
fn run_args(sim: &sfsim::SimHandle, dir: &Path, h: &es::Handle, metrics: &str) -> Vec<String> {
    let mut args = vec!["run".to_string(), "--quiet".into()];
    args.extend(auth_args(sim, dir));
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
        "--elf-every",
        "1",
        "--metrics-addr",
        metrics,
    ] {
        args.push(a.into());
    }
    args.push("--to".into());
    args.push(format!(
        "elasticsearch+{}?name=es",
        h.url().trim_end_matches('/')
    ));
    args
}

fn spawn_run(sim: &sfsim::SimHandle, args: &[String]) -> tokio::process::Child {
    tokio::process::Command::new(BIN)
        .args(args)
        .env("SFEVENTS_NOW", sim.now().to_rfc3339())
        .env_remove("SFEVENTS_METRICS_ADDR")
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// A parsed page: (name, labels) -> value.
type Samples = BTreeMap<(String, BTreeMap<String, String>), f64>;

fn parse(text: &str) -> Samples {
    let mut out = Samples::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (series, value) = line.rsplit_once(' ').unwrap();
        let (name, labels) = match series.split_once('{') {
            Some((n, rest)) => {
                let mut m = BTreeMap::new();
                for kv in rest.trim_end_matches('}').split("\",") {
                    let (k, v) = kv.split_once("=\"").unwrap();
                    m.insert(k.to_string(), v.trim_end_matches('"').to_string());
                }
                (n.to_string(), m)
            }
            None => (series.to_string(), BTreeMap::new()),
        };
        out.insert((name, labels), value.parse().unwrap());
    }
    out
}

fn sum(s: &Samples, name: &str) -> f64 {
    s.iter()
        .filter(|((n, _), _)| n == name)
        .map(|(_, v)| v)
        .sum()
}

fn has(s: &Samples, name: &str) -> bool {
    s.keys().any(|(n, _)| n == name)
}

async fn scrape(base: &str) -> Option<(String, Samples)> {
    let r = reqwest::get(format!("{base}/metrics")).await.ok()?;
    let ct = r.headers().get("content-type")?.to_str().ok()?.to_string();
    let text = r.text().await.ok()?;
    Some((ct, parse(&text)))
}

fn archived_events(dir: &Path) -> usize {
    ndjson_lines(dir).len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_follow_collection_and_shipping_and_health_is_ok() {
    let sim = start(org(71)).await;
    let h = es::start(es::Config::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{addr}");
    let child = spawn_run(&sim, &run_args(&sim, dir.path(), &h, &addr));

    // Until the output holds everything archived and the archive stopped growing, or 90 s.
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut seen: Vec<f64> = Vec::new();
    let mut stable = 0;
    let last = loop {
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert!(Instant::now() < deadline, "never caught up: {seen:?}");
        let Some((ct, s)) = scrape(&base).await else {
            continue;
        };
        assert_eq!(ct, "text/plain; version=0.0.4; charset=utf-8");
        let collected = sum(&s, "sfevents_events_collected_total");
        if let Some(prev) = seen.last() {
            assert!(
                collected >= *prev,
                "a counter went down: {seen:?}, {collected}"
            );
        }
        if collected > 0.0 && seen.last() != Some(&collected) {
            seen.push(collected);
            stable = 0;
        } else {
            stable += 1;
        }
        let delivered = sum(&s, "sfevents_output_events_delivered_total");
        let backlog = sum(&s, "sfevents_output_backlog_events");
        // Caught up: nothing new for 3 s, everything delivered.
        if collected > 0.0 && stable >= 20 && delivered == collected && backlog == 0.0 {
            break s;
        }
    };
    assert!(
        seen.len() >= 2,
        "events collected should grow over the catch-up cycles: {seen:?}"
    );
    let collected = sum(&last, "sfevents_events_collected_total");
    assert_eq!(collected as usize, archived_events(dir.path()));
    assert_eq!(collected as usize, h.all_docs().len());
    for source in ["EventLogFile", "LoginEvent", "SetupAuditTrail"] {
        let k = |n: &str| {
            (
                n.to_string(),
                BTreeMap::from([
                    ("org".to_string(), "default".to_string()),
                    ("source".to_string(), source.to_string()),
                ]),
            )
        };
        let org_labels: Vec<_> = last
            .keys()
            .filter(|(n, _)| n.starts_with("sfevents_events"))
            .collect();
        assert!(
            last.get(&k("sfevents_events_collected_total"))
                .copied()
                .unwrap_or(0.0)
                > 0.0,
            "{source}: {org_labels:?}"
        );
        assert!(last[&k("sfevents_files_collected_total")] > 0.0);
        assert!(last[&k("sfevents_archived_bytes_total")] > 0.0);
        assert!(last[&k("sfevents_last_success_timestamp_seconds")] > 1.0e9);
        assert!(last.contains_key(&k("sfevents_newest_event_lag_seconds")));
    }
    assert!(sum(&last, "sfevents_api_calls_total") > 0.0);
    assert!(sum(&last, "sfevents_org_daily_api_requests_max") > 0.0);
    assert!(has(&last, "sfevents_org_daily_api_requests_used"));
    assert_eq!(sum(&last, "sfevents_output_events_sent_total"), collected);
    assert_eq!(
        sum(&last, "sfevents_output_events_dead_lettered_total"),
        0.0
    );
    assert!(has(&last, "sfevents_output_events_retried_total"));
    assert_eq!(sum(&last, "sfevents_output_backlog_age_seconds"), 0.0);
    assert_eq!(sum(&last, "sfevents_org_healthy"), 1.0);
    assert!(sum(&last, "process_resident_memory_bytes") > 0.0);
    assert!(last.keys().any(|(n, l)| n == "sfevents_build_info"
        && l.get("version").map(String::as_str) == Some(env!("CARGO_PKG_VERSION"))));

    let r = reqwest::get(format!("{base}/health")).await.unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], "ok", "{body}");
    assert_eq!(body["orgs"]["default"]["status"], "ok", "{body}");

    signal(&child, "TERM");
    let out = child.wait_with_output().await.unwrap();
    assert_exit(&out, 0);
    assert!(
        reqwest::get(format!("{base}/health")).await.is_err(),
        "the server stops with run"
    );
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_metrics_address_is_a_configuration_error() {
    let sim = start(org(72)).await;
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = taken.local_addr().unwrap().to_string();
    for bad in ["localhost", "127.0.0.1", busy.as_str()] {
        let mut args = vec!["run".to_string(), "--quiet".into()];
        args.extend(auth_args(&sim, dir.path()));
        args.extend(["--metrics-addr".into(), bad.to_string()]);
        let o = run(&args).await;
        assert_exit(&o, 2);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("--metrics-addr"), "{bad}: {err}");
    }
    sim.shutdown();
}

/// A Prometheus server, killed when dropped.
struct Prometheus {
    child: std::process::Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prometheus {
    fn start(target: &str) -> Prometheus {
        let found = std::process::Command::new("sh")
            .args(["-c", "command -v prometheus"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        assert!(
            found,
            "prometheus is not installed: run scripts/test (it installs it) or \
             `sudo apt-get install prometheus`"
        );
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: sfevents\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .unwrap();
        let port = free_port();
        let child = std::process::Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("prometheus.log")).unwrap())
            .spawn()
            .expect("prometheus starts");
        Prometheus {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        }
    }

    /// The value of an instant query that returns one series, if it does.
    async fn value(&self, query: &str) -> Option<f64> {
        let r = reqwest::Client::new()
            .get(format!("{}/api/v1/query", self.url))
            .query(&[("query", query)])
            .send()
            .await
            .ok()?;
        let v: serde_json::Value = r.json().await.ok()?;
        let result = v["data"]["result"].as_array()?;
        if result.len() != 1 {
            return None;
        }
        result[0]["value"][1].as_str()?.parse().ok()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_run() {
    let sim = start(org(73)).await;
    let h = es::start(es::Config::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let child = spawn_run(&sim, &run_args(&sim, dir.path(), &h, &addr));
    let prom = Prometheus::start(&addr);

    // Until Prometheus sees everything archived delivered and nothing left, or 120 s.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(
            Instant::now() < deadline,
            "Prometheus never saw the output catch up"
        );
        let archived = archived_events(dir.path()) as f64;
        let collected = prom.value("sum(sfevents_events_collected_total)").await;
        let delivered = prom
            .value(r#"sum(sfevents_output_events_delivered_total{output="es"})"#)
            .await;
        let backlog = prom
            .value(r#"sum(sfevents_output_backlog_events{output="es"})"#)
            .await;
        if archived > 0.0
            && collected == Some(archived)
            && delivered == Some(archived)
            && backlog == Some(0.0)
        {
            break;
        }
    }
    assert_eq!(prom.value(r#"up{job="sfevents"}"#).await, Some(1.0));
    assert!(
        prom.value(r#"sfevents_events_collected_total{source="LoginEvent"}"#)
            .await
            .unwrap_or(0.0)
            > 0.0
    );
    assert_eq!(
        prom.value(r#"sfevents_build_info{job="sfevents"}"#).await,
        Some(1.0)
    );
    drop(prom);
    signal(&child, "TERM");
    let out = child.wait_with_output().await.unwrap();
    assert_exit(&out, 0);
    sim.shutdown();
}
