//! Streaming against polling, side by side in one run (`bench/stream.sh` builds and runs it).
//!
//! 1. Latency and REST calls. Two identical sfsim orgs whose clocks run in real time from
//!    now (the same seed: the same events at the same moments): `sfevents run --stream
//!    /event/LoginEventStream` against one, `sfevents run --object LoginEvent` (polled every
//!    60 seconds, the default settle delay of 60 seconds) against the other, for `SECONDS`.
//!    An event's latency is the time its archive file was committed (state.db's delivery log)
//!    less the moment sfsim published it. Events published in the last 130 seconds are left
//!    out: a poll cannot have read them yet.
//! 2. CPU per million events. Two frozen orgs holding `CATCHUP_DAYS` of LoginEvent records
//!    (all within the stream's 72 hours): `collect --stream ... --stream-for` and `collect
//!    --object LoginEvent` read them all; CPU is the process's user + system time.
//!
//! The run fails when an archive holds an event twice, or when the two paths archived
//! different numbers of events over the same span.
//!
//!   cargo run --release -p sfevents --example stream_bench -- SECONDS CATCHUP_RECORDS_PER_HOUR [catchup|realtime]

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sfsim::{SimConfig, SimHandle};

const TOPIC: &str = "/event/LoginEventStream";
/// The sfevents binary built beside this example (`target/<profile>/sfevents`).
fn bin() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the example's path");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>/examples")
        .join("sfevents")
}

fn org(seed: u64, days: u32, per_hour: u32, realtime: bool) -> SimConfig {
    let mut c = SimConfig::streaming(seed, days, (per_hour, per_hour));
    c.pubsub.plaintext = true;
    c.pubsub.keepalive = Duration::from_secs(270);
    if realtime {
        c.org.anchor = Utc::now();
        c.freeze_clock = false;
    }
    c
}

fn command(sim: &SimHandle, dir: &Path, args: &[&str]) -> tokio::process::Command {
    let c = &sim.credentials;
    let mut cmd = tokio::process::Command::new(bin());
    cmd.args(args).args([
        "--quiet",
        "--client-id",
        &c.client_id,
        "--username",
        &c.username,
        "--jwt-key-file",
        &c.private_key_file.display().to_string(),
        "--instance-url",
        &sim.url,
        "--pubsub-url",
        &sim.pubsub_url,
        "--output-dir",
        &dir.display().to_string(),
    ]);
    // A frozen org's clock is not this machine's: the collector takes the org's. A real-time
    // org's runs with this machine's clock (a few seconds ahead; see `offset`).
    if sim.now() < Utc::now() - chrono::Duration::hours(1) {
        cmd.env("SFEVENTS_NOW", sim.now().to_rfc3339());
    }
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    cmd
}

/// The archive's LoginEvent files in the delivery log (through the archive crate's store).
fn login_files(dir: &Path) -> Vec<archive::state::LogEntry> {
    let Ok(store) = archive::state::Store::open(&dir.join("state.db")) else {
        return Vec::new();
    };
    let orgs = store.orgs().unwrap_or_default();
    orgs.iter()
        .flat_map(|o| store.log_from(o, 0, usize::MAX >> 1).unwrap_or_default())
        .filter(|e| e.file.source == "LoginEvent")
        .collect()
}

/// Each archived LoginEvent's EventIdentifier and when its file was committed.
fn committed(dir: &Path) -> HashMap<String, DateTime<Utc>> {
    let mut out = HashMap::new();
    for e in login_files(dir) {
        let at = DateTime::parse_from_rfc3339(&e.committed_at)
            .unwrap()
            .with_timezone(&Utc);
        for line in std::fs::read_to_string(dir.join(&e.file.path))
            .unwrap()
            .lines()
        {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let id = v["fields"]["EventIdentifier"].as_str().unwrap().to_string();
            assert!(out.insert(id.clone(), at).is_none(), "{id} archived twice");
        }
    }
    out
}

/// How far this machine's clock is ahead of a real-time org's (the org's clock starts at
/// its anchor when sfsim has generated it, seconds after the anchor was taken).
fn offset(sim: &SimHandle) -> chrono::Duration {
    Utc::now() - sim.now()
}

/// Latencies in milliseconds of the events published in `[from, to)` (the org's time); and
/// how many of them the archive lacks. An event is published when the org's clock passes
/// its time, at `at + offset` on this machine's.
fn latencies(
    sim: &SimHandle,
    dir: &Path,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> (Vec<i64>, usize) {
    let done = committed(dir);
    let shift = offset(sim);
    if std::env::var("STREAM_BENCH_DEBUG").is_ok() {
        for e in login_files(dir).iter().rev().take(40) {
            eprintln!(
                "commit {} {} rows {}",
                e.committed_at, e.file.path, e.file.rows
            );
        }
    }
    let mut lat = Vec::new();
    let mut missing = 0;
    for (id, at) in sim.publish_times(TOPIC) {
        if at < from || at >= to {
            continue;
        }
        match done.get(&id) {
            Some(c) => {
                let ms = (*c - (at + shift)).num_milliseconds();
                if std::env::var("STREAM_BENCH_DEBUG").is_ok() && ms > 2000 {
                    eprintln!("slow: {id} published {at} (+{shift}), committed {c}: {ms} ms");
                }
                lat.push(ms)
            }
            None => missing += 1,
        }
    }
    lat.sort_unstable();
    (lat, missing)
}

fn pct(v: &[i64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let i = ((v.len() - 1) as f64 * p).round() as usize;
    v[i] as f64 / 1000.0
}

/// The process's user + system CPU seconds, read while it runs.
fn cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Runs `cmd` until it exits or `done` says the work is done (then it is killed), returning
/// its CPU seconds, last read while it ran.
async fn timed(mut cmd: tokio::process::Command, done: impl Fn() -> bool) -> f64 {
    let mut child = cmd.spawn().unwrap();
    let pid = child.id().unwrap();
    let mut cpu = 0.0;
    loop {
        if let Some(c) = cpu_secs(pid) {
            cpu = c;
        }
        if done() {
            let _ = child.kill().await;
            return cpu;
        }
        tokio::select! {
            s = child.wait() => { assert!(s.unwrap().success(), "a collect failed"); return cpu; }
            _ = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
    }
}

/// LoginEvent rows the archive's delivery log holds.
fn rows(dir: &Path) -> usize {
    login_files(dir).iter().map(|e| e.file.rows as usize).sum()
}

/// Waits past the start-up: the stream's catch-up of every retained event (its first
/// minute's events would otherwise wait behind it), and the poll's backfill (its first
/// cycles read two days in pages), so what follows is the steady state of each.
async fn warm_up(stream: (&SimHandle, &Path), poll: (&SimHandle, &Path)) {
    let begun = std::time::Instant::now();
    let published = |sim: &SimHandle, lag: i64| {
        let until = sim.now() - chrono::Duration::seconds(lag);
        sim.publish_times(TOPIC)
            .iter()
            .filter(|(_, at)| *at <= until)
            .count()
    };
    loop {
        let streamed = rows(stream.1) >= published(stream.0, 0);
        // The poll reads up to a minute (its settle delay) behind, once a minute.
        let polled = rows(poll.1) >= published(poll.0, 130);
        if streamed && polled && begun.elapsed() >= Duration::from_secs(70) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn realtime(seconds: u64) {
    let (a, b) = (
        sfsim::start(org(7, 1, 1800, true)).await.unwrap(),
        sfsim::start(org(7, 1, 1800, true)).await.unwrap(),
    );
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let start = a.now();
    let mut s = command(&a, da.path(), &["run", "--stream", TOPIC])
        .spawn()
        .unwrap();
    let poll = [
        "run",
        "--object",
        "LoginEvent",
        "--object-every",
        "60",
        "--backfill-days",
        "2",
    ];
    let mut p = command(&b, db.path(), &poll).spawn().unwrap();
    warm_up((&a, da.path()), (&b, db.path())).await;
    let (rest_a, rest_b) = (a.rest_requests(), b.rest_requests());
    let from = a.now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let steady = seconds as f64;
    let (rest_a, rest_b) = (a.rest_requests() - rest_a, b.rest_requests() - rest_b);
    let to = a.now() - chrono::Duration::seconds(130);
    let _ = (s.start_kill(), p.start_kill());
    let _ = (s.wait().await, p.wait().await);
    let (ls, ms) = latencies(&a, da.path(), from, to);
    let (lp, mp) = latencies(&b, db.path(), from, to);
    println!(
        "latency, publish to commit, events published over {:.0} s (steady run of {seconds} s from {start}, after both caught up):",
        (to - from).num_seconds()
    );
    println!("| path | events | missing | median s | p99 s | max s | REST requests | per day |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (name, l, m, rest) in [
        ("stream", &ls, ms, rest_a),
        ("poll every 60 s", &lp, mp, rest_b),
    ] {
        println!(
            "| {name} | {} | {m} | {:.3} | {:.3} | {:.3} | {rest} | {:.0} |",
            l.len(),
            pct(l, 0.5),
            pct(l, 0.99),
            pct(l, 1.0),
            rest as f64 * 86_400.0 / steady
        );
    }
    assert_eq!(
        ls.len() + ms,
        lp.len() + mp,
        "the orgs published different events"
    );
    assert_eq!((ms, mp), (0, 0), "events missing from an archive");
}

async fn catchup(per_hour: u32) {
    let (a, b) = (
        sfsim::start(org(8, 2, per_hour, false)).await.unwrap(),
        sfsim::start(org(8, 2, per_hour, false)).await.unwrap(),
    );
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let events = a.visible_records("LoginEvent").len();
    // `run --stream` until the archive holds every published event.
    let stream = command(&a, da.path(), &["run", "--stream", TOPIC]);
    let sc = timed(stream, || rows(da.path()) >= events).await;
    let n = committed(da.path()).len();
    let poll = command(
        &b,
        db.path(),
        &["collect", "--object", "LoginEvent", "--settle-seconds", "0"],
    );
    let pc = timed(poll, || false).await;
    let np = committed(db.path()).len();
    println!("catch-up of {events} published events ({per_hour} an hour over 2 days):");
    println!("| path | events archived | CPU s | CPU s per million events |");
    println!("|---|---:|---:|---:|");
    println!(
        "| stream (run --stream) | {n} | {sc:.2} | {:.1} |",
        sc * 1e6 / n as f64
    );
    println!(
        "| poll (collect --object) | {np} | {pc:.2} | {:.1} |",
        pc * 1e6 / np as f64
    );
    assert_eq!(n, np, "the two paths archived different numbers of events");
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seconds = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(240);
    let per_hour = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1_000);
    // A third argument runs one phase only: `catchup` or `realtime`.
    let phase = args.get(3).map_or("both", String::as_str);
    if phase != "realtime" {
        catchup(per_hour).await;
    }
    if phase != "catchup" {
        realtime(seconds).await;
    }
}
