//! File modes end to end: the real binary, run under umask 000, collects objects and
//! EventLogFile from sfsim and ships to the Elasticsearch receiver (which refuses some events
//! for good, so dead letters are written), and every file and folder it leaves under the
//! archive is owner-only, or with --archive-group-read group-readable where it is archive data.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::*;
use receivers::elasticsearch::{self as es, Faults, RejectRule};

/// A small org with its clock frozen, with object records.
fn org(seed: u64) -> sfsim::SimConfig {
    let mut c = small_config(seed);
    c.freeze_clock = true;
    c.org.records_per_hour = (4, 12);
    c
}

/// A receiver that refuses every SetupAuditTrail change for good: they become dead letters.
async fn receiver() -> es::Handle {
    es::start(es::Config {
        faults: Faults {
            reject_documents: vec![RejectRule {
                field: "event.dataset".into(),
                value: Some(serde_json::json!("salesforce.setupaudittrail")),
                mapped_as: None,
            }],
            ..Faults::default()
        },
        ..es::Config::default()
    })
    .await
    .expect("the receiver starts")
}

/// `sfevents collect` under umask 000, as of the simulator's frozen now.
async fn collect_umask_000(
    sim: &sfsim::SimHandle,
    h: &es::Handle,
    dir: &Path,
    extra: &[&str],
) -> std::process::Output {
    let mut cmd = tokio::process::Command::new("sh");
    cmd.args([
        "-c",
        "umask 000; exec \"$@\"",
        "sh",
        BIN,
        "collect",
        "--quiet",
    ]);
    cmd.args(auth_args(sim, dir));
    cmd.args([
        "--object",
        "LoginEvent",
        "--object",
        "SetupAuditTrail",
        "--event-type",
        "Login",
        "--event-type",
        "ApiTotalUsage",
        "--backfill-days",
        "1",
        "--to",
    ]);
    cmd.arg(format!(
        "elasticsearch+{}?name=es",
        h.url().trim_end_matches('/')
    ));
    cmd.args(extra);
    for (k, _) in std::env::vars() {
        if k.starts_with("SFEVENTS_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("SFEVENTS_NOW", sim.now().to_rfc3339());
    cmd.output().await.expect("sfevents runs")
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

/// Every file and folder under `root` (itself included): (path relative to root, is a folder).
fn walk(root: &Path) -> Vec<(PathBuf, bool)> {
    let mut out = vec![(PathBuf::new(), true)];
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let is_dir = std::fs::symlink_metadata(&p).unwrap().is_dir();
            if is_dir {
                stack.push(p.clone());
            }
            out.push((p.strip_prefix(root).unwrap().to_path_buf(), is_dir));
        }
    }
    out
}

/// What a path should be: owner-only, except with `group` the root, `output/`, `events/` and
/// everything beneath those two.
fn wanted(rel: &Path, is_dir: bool, group: bool) -> u32 {
    let first = rel.components().next().map(|c| c.as_os_str().to_owned());
    let data = group
        && match first {
            None => true,
            Some(c) => c == "output" || c == "events",
        };
    match (is_dir, data) {
        (true, false) => 0o700,
        (false, false) => 0o600,
        (true, true) => 0o750,
        (false, true) => 0o640,
    }
}

/// Checks every mode under `root`, listing every offender.
fn check_modes(root: &Path, group: bool) {
    let all = walk(root);
    let offenders: Vec<String> = all
        .iter()
        .filter_map(|(rel, is_dir)| {
            let (got, want) = (mode(&root.join(rel)), wanted(rel, *is_dir, group));
            (got != want).then(|| format!("{} is {got:o}, not {want:o}", rel.display()))
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "{} of {} paths have the wrong mode:\n{}",
        offenders.len(),
        all.len(),
        offenders.join("\n")
    );
    // Everything that matters was written, so it was checked.
    let has = |pred: &dyn Fn(&str) -> bool| all.iter().any(|(p, _)| pred(&p.to_string_lossy()));
    for (what, found) in [
        ("state.db", has(&|p| p == "state.db")),
        ("the archive lock", has(&|p| p == ".lock")),
        ("the output lock", has(&|p| p == ".output-es.lock")),
        (
            "a raw CSV",
            has(&|p| p.starts_with("output/") && p.ends_with(".csv")),
        ),
        (
            "an NDJSON",
            has(&|p| p.starts_with("events/") && p.ends_with(".ndjson.zst")),
        ),
        ("an object NDJSON", has(&|p| p.starts_with("events/setup"))),
        ("a log", has(&|p| p.starts_with("logs/sfevents_"))),
        ("a dead letter", has(&|p| p.starts_with("dead-letter/es/"))),
        ("the spool", has(&|p| p == ".spool")),
    ] {
        assert!(found, "no {what} under {}", root.display());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_is_owner_only_under_umask_000_and_old_archives_are_tightened() {
    let sim = start(org(71)).await;
    let h = receiver().await;
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let dir = tmp.path().join("archive");
    let o = collect_umask_000(&sim, &h, &dir, &[]).await;
    // The refused changes make the run partial.
    assert_exit(&o, 1);
    assert!(!h.all_docs().is_empty());
    check_modes(&dir, false);
    assert_eq!(
        mode(tmp.path()),
        0o755,
        "a parent outside the archive is left"
    );

    // An archive an older version left open: the root and state.db are tightened, with a
    // warning, and what is written next is owner-only.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(dir.join("state.db"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = collect_umask_000(&sim, &h, &dir, &["--no-ship"]).await;
    assert_exit(&o, 0);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("was open to other users"), "{err}");
    assert!(err.contains("state.db were readable"), "{err}");
    check_modes(&dir, false);
    // Once only: the next run finds nothing to fix.
    let o = collect_umask_000(&sim, &h, &dir, &["--no-ship"]).await;
    assert_exit(&o, 0);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !err.contains("readable") && !err.contains("open to"),
        "{err}"
    );
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_read_opens_the_archive_data_only() {
    let sim = start(org(72)).await;
    let h = receiver().await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("archive");
    let o = collect_umask_000(&sim, &h, &dir, &["--archive-group-read"]).await;
    assert_exit(&o, 1);
    check_modes(&dir, true);
    assert_eq!(mode(&dir.join("state.db")), 0o600);
    sim.shutdown();
}
