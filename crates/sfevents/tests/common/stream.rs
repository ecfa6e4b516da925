//! Streaming tests' harness: an sfsim org whose Real-Time Event Monitoring objects are also
//! Pub/Sub topics, `sfevents` runs against both, and what the archive holds of an object,
//! read back from the NDJSON as a reader sees it.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;

use sfsim::{SimConfig, SimHandle};

pub const LOGIN_TOPIC: &str = "/event/LoginEventStream";

/// A streaming org: `days` of records to a fixed instant, the clock frozen (tests publish by
/// advancing it), keepalives every second, Pub/Sub over h2c on loopback.
pub fn config(seed: u64, days: u32) -> SimConfig {
    let mut c = SimConfig::streaming(seed, days, (2, 8));
    c.pubsub.plaintext = true;
    c
}

/// `sfevents <cmd>` with JWT flags, `--pubsub-url`, `extra`, and the collector's clock at
/// the simulator's.
pub fn command(sim: &SimHandle, dir: &Path, cmd: &str, extra: &[&str]) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(super::BIN);
    c.arg(cmd).arg("--quiet");
    c.args(super::auth_args(sim, dir));
    c.args(["--pubsub-url", sim.pubsub_url.as_str()]);
    c.args(extra);
    for (k, _) in std::env::vars() {
        if k.starts_with("SFEVENTS_") {
            c.env_remove(k);
        }
    }
    c.env("SFEVENTS_NOW", sim.now().to_rfc3339());
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    c.kill_on_drop(true);
    c
}

/// Runs `command` to its end.
pub async fn run(sim: &SimHandle, dir: &Path, cmd: &str, extra: &[&str]) -> std::process::Output {
    command(sim, dir, cmd, extra)
        .output()
        .await
        .expect("sfevents runs")
}

/// What the archive holds of `source`: EventIdentifier → (times archived, `via`).
pub fn archived(dir: &Path, source: &str) -> BTreeMap<String, (u32, Vec<String>)> {
    let mut out: BTreeMap<String, (u32, Vec<String>)> = BTreeMap::new();
    for (_, v) in super::ndjson_lines(dir) {
        if v["source"] != source {
            continue;
        }
        let id = v["fields"]["EventIdentifier"]
            .as_str()
            .expect("an EventIdentifier")
            .to_string();
        let e = out.entry(id).or_default();
        e.0 += 1;
        e.1.push(v["via"].as_str().unwrap_or("rest").to_string());
    }
    out
}

/// The EventIdentifiers of `object`'s records visible now, created at or after `from`.
pub fn stored(sim: &SimHandle, object: &str, from: chrono::DateTime<chrono::Utc>) -> Vec<String> {
    let mut v: Vec<String> = sim
        .visible_records(object)
        .iter()
        .filter(|r| matches!(r.get("CreatedDate"), Some(soql::Value::DateTime(t)) if *t >= from))
        .map(|r| {
            r.get("EventIdentifier")
                .and_then(soql::Value::as_str)
                .expect("an EventIdentifier")
                .to_string()
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Fails with the ids archived more than once, if any.
pub fn assert_once(archived: &BTreeMap<String, (u32, Vec<String>)>) {
    let twice: Vec<_> = archived.iter().filter(|(_, (n, _))| *n > 1).collect();
    assert!(twice.is_empty(), "archived more than once: {twice:?}");
}

/// A config file streaming LoginEventStream with a watchdog of `watchdog` seconds (the
/// simulator's keepalives come every second); the flags give the rest.
pub fn config_file(dir: &Path, watchdog: u64) -> std::path::PathBuf {
    let path = dir.join("sfevents.toml");
    let text = format!(
        "[[org]]\nname = \"default\"\n\n[[org.stream]]\ntopic = \"{LOGIN_TOPIC}\"\nwatchdog_seconds = {watchdog}\nflush_millis = 100\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// Waits until the archive holds `want` events of `source` (or `secs` pass); returns what it
/// holds.
pub async fn wait_for(
    dir: &Path,
    source: &str,
    want: usize,
    secs: u64,
) -> BTreeMap<String, (u32, Vec<String>)> {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let got = archived(dir, source);
        if got.len() >= want || std::time::Instant::now() > end {
            return got;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
