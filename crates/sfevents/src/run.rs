//! `sfevents run`: the long-running mode. Each source runs on its own interval (say
//! LoginEvent every minute, SetupAuditTrail every five, EventLogFile hourly), object sources
//! read at most `max_windows_per_run` windows per cycle, and the org's API budget is watched.
//! Pub/Sub streams run beside them for as long as the process does.
//!
//! SIGTERM or SIGINT stops cleanly: no new unit starts, the unit in flight finishes (its commit
//! is atomic, so abandoning it would lose nothing either), and the process exits 0. A second
//! signal exits at once; the next start redoes at most the unit that was in flight.

use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::collect::{Due, Options, OrgRuntime};
use salesforce::config::OrgConfig;

/// How long to wait before checking again once the org's API budget is spent.
const BUDGET_RECHECK: Duration = Duration::from_secs(15 * 60);
/// How long to wait before trying again when the org cannot be reached at start.
const OPEN_RETRY: Duration = Duration::from_secs(60);

/// Runs every org until `stop` turns true. Returns the exit code.
pub async fn run(orgs: Vec<OrgConfig>, opts: Options, stop: watch::Receiver<bool>) -> u8 {
    let mut tasks = tokio::task::JoinSet::new();
    for cfg in orgs {
        let stop = stop.clone();
        let opts = Options {
            progress: opts.progress,
            stream_for: None,
        };
        tasks.spawn(async move { run_org(cfg, opts, stop).await });
    }
    let mut code = base::exit::OK;
    while let Some(r) = tasks.join_next().await {
        code = code.max(r.unwrap_or(base::exit::PARTIAL));
    }
    code
}

/// Waits `d`, or less if a stop is asked. True if stopping.
async fn pause(d: Duration, stop: &mut watch::Receiver<bool>) -> bool {
    if *stop.borrow() {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep(d) => {}
        _ = stop.changed() => {}
    }
    *stop.borrow()
}

async fn run_org(cfg: OrgConfig, opts: Options, mut stop: watch::Receiver<bool>) -> u8 {
    let live = crate::metrics::live();
    live.org_starting(&cfg.name, &cfg.archive_dir);
    let rt = loop {
        match OrgRuntime::open(&cfg).await {
            Ok(rt) => break rt,
            Err(r) if r.config_error => {
                eprintln!(
                    "error: org '{}': {}",
                    cfg.name,
                    r.stopped.unwrap_or_default()
                );
                return base::exit::CONFIG;
            }
            Err(r) => {
                live.org_cannot_start(&cfg.name, r.stopped.as_deref().unwrap_or_default());
                tracing::warn!(org = %cfg.name, "cannot start: {}; trying again in {}s", r.stopped.unwrap_or_default(), OPEN_RETRY.as_secs());
                if pause(OPEN_RETRY, &mut stop).await {
                    return base::exit::OK;
                }
            }
        }
    };
    live.org_opened(&cfg.name, rt.client().stats.clone());
    // A row per cycle: keep a month of history.
    let month_ago = (chrono::Utc::now() - chrono::Duration::days(30))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    if let Err(e) = rt.store().prune_runs(&cfg.name, &month_ago) {
        tracing::warn!(org = %cfg.name, "cannot prune run history: {e}");
    }
    // The budget holds from the first cycle: one call to /limits says where the org stands.
    match rt.client().daily_api_requests().await {
        Ok((max, remaining)) => tracing::info!(org = %cfg.name, max, remaining, "DailyApiRequests"),
        Err(e) => tracing::warn!(org = %cfg.name, "cannot read /limits: {e}"),
    }
    tracing::info!(org = %cfg.name, "running; stop with SIGTERM or Ctrl-C");
    // EventLogFile and the objects keep separate schedules: a long download of a big file
    // must not hold back LoginEvent's one-minute freshness.
    // Streams run beside both: a stream's events reach the archive seconds after they happen.
    let all_objects: Vec<usize> = (0..cfg.objects.len()).collect();
    let (a, b, streams) = tokio::join!(
        schedule(&rt, &opts, stop.clone(), cfg.elf.enabled, Vec::new()),
        schedule(&rt, &opts, stop.clone(), false, all_objects),
        rt.stream(stop.clone()),
    );
    let mut code = a.max(b);
    for (topic, why) in &streams.failed {
        eprintln!("error: org '{}': stream {topic}: {why}", cfg.name);
        code = code.max(base::exit::CONFIG);
    }
    code
}

/// Runs the given sources of one org, each on its interval, until a stop is asked.
async fn schedule(
    rt: &OrgRuntime,
    opts: &Options,
    mut stop: watch::Receiver<bool>,
    elf: bool,
    objects: Vec<usize>,
) -> u8 {
    let cfg = &rt.cfg;
    if !elf && objects.is_empty() {
        return base::exit::OK;
    }
    let start = Instant::now();
    let mut next_elf = start;
    let mut next_obj = vec![start; objects.len()];
    let stop_flag = std::sync::atomic::AtomicBool::new(false);
    loop {
        if *stop.borrow() {
            return base::exit::OK;
        }
        let now = Instant::now();
        let due = Due {
            elf: elf && next_elf <= now,
            objects: objects
                .iter()
                .zip(&next_obj)
                .filter(|(_, t)| **t <= now)
                .map(|(i, _)| *i)
                .collect(),
            capped: true,
        };
        if due.elf || !due.objects.is_empty() {
            if let Some(why) = rt.over_budget() {
                if wait_for_budget(rt, &why, &mut stop).await {
                    return base::exit::OK;
                }
                continue;
            }
            cycle(rt, &due, opts, &stop, &stop_flag).await;
            let after = Instant::now();
            if due.elf {
                next_elf = after + Duration::from_secs(cfg.elf.every_seconds);
            }
            for (slot, i) in next_obj.iter_mut().zip(&objects) {
                if due.objects.contains(i) {
                    *slot = after + Duration::from_secs(cfg.objects[*i].every_seconds);
                }
            }
        }
        let wake = next_obj
            .iter()
            .copied()
            .chain(elf.then_some(next_elf))
            .min()
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        if pause(wake.saturating_duration_since(Instant::now()), &mut stop).await {
            return base::exit::OK;
        }
    }
}

/// The org is past its API budget: waits, then refreshes the usage with one call to
/// /limits (its answer carries Sforce-Limit-Info). True when a stop was asked meanwhile.
async fn wait_for_budget(rt: &OrgRuntime, why: &str, stop: &mut watch::Receiver<bool>) -> bool {
    let cfg = &rt.cfg;
    tracing::warn!(org = %cfg.name, "{why}; checking again in {} minutes", BUDGET_RECHECK.as_secs() / 60);
    if pause(BUDGET_RECHECK, stop).await {
        return true;
    }
    if let Err(e) = rt.client().daily_api_requests().await {
        tracing::warn!(org = %cfg.name, "cannot read /limits: {e}");
    }
    false
}

/// Runs one cycle of the due sources, logs how it went and records it for `/metrics`.
async fn cycle(
    rt: &OrgRuntime,
    due: &Due,
    opts: &Options,
    stop: &watch::Receiver<bool>,
    stop_flag: &std::sync::atomic::AtomicBool,
) {
    let cfg = &rt.cfg;
    // The cycle sees the stop request through this flag.
    let watcher = {
        let mut stop = stop.clone();
        async move {
            while !*stop.borrow() {
                if stop.changed().await.is_err() {
                    return;
                }
            }
            stop_flag.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    };
    let report = tokio::select! {
        r = rt.cycle(due, opts, stop_flag) => r,
        _ = async { watcher.await; std::future::pending::<()>().await } => unreachable!(),
    };
    let events: u64 = report.objects.values().map(|o| o.events).sum();
    tracing::info!(
        org = %cfg.name,
        files = report.files,
        rows = report.rows,
        events,
        api_calls = report.api_calls,
        usage = ?report.api_usage,
        "cycle done"
    );
    if let Some(why) = &report.stopped {
        tracing::warn!(org = %cfg.name, "cycle stopped: {why}");
    }
    for (what, e) in &report.failed {
        tracing::error!(org = %cfg.name, "{what}: {e}");
    }
    let names: Vec<String> = cfg.objects.iter().map(|o| o.name.clone()).collect();
    crate::metrics::live().cycle_done(&cfg.name, &report, &names, rt.over_budget().is_some());
}
