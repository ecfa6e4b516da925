//! `run` holds a lake's small backlog back so it lands as fewer, larger files: until a full
//! batch's worth is committed, or `flush_minutes` (here `flush_seconds`) has passed; what it
//! holds stays in the archive across a stop and ships later.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{auth_args, BIN};

fn parquet_files(dir: &Path) -> usize {
    fn walk(d: &Path, n: &mut usize) {
        for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, n);
            } else if p.extension().is_some_and(|x| x == "parquet") {
                *n += 1;
            }
        }
    }
    let mut n = 0;
    walk(dir, &mut n);
    n
}

/// Events the output has delivered, and the archive's events, from state.db.
fn delivered(archive: &Path) -> (i64, i64) {
    let c = rusqlite::Connection::open(archive.join("state.db")).unwrap();
    let d = c
        .query_row(
            "SELECT COALESCE(SUM(delivered), 0) FROM output_positions WHERE output = 'lake'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let all = c
        .query_row("SELECT COALESCE(SUM(rows), 0) FROM delivery_log", [], |r| {
            r.get(0)
        })
        .unwrap();
    (d, all)
}

fn run_cmd(sim: &sfsim::SimHandle, archive: &Path, to: &str) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(BIN);
    c.arg("run").arg("--quiet").args(auth_args(sim, archive));
    c.args(["--to", to, "--event-type", "Login"]);
    c.env("SFEVENTS_NOW", sim.now().to_rfc3339())
        .env_remove("SFEVENTS_CONFIG")
        .kill_on_drop(true);
    c
}

#[tokio::test]
async fn run_holds_a_small_backlog_until_flush_time_and_loses_nothing_on_stop() {
    let sim = common::start(common::small_config(41)).await;
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("archive");
    let lake = tmp.path().join("lake");
    std::fs::create_dir_all(&lake).unwrap();
    let o = common::collect(&sim, &archive, &["--event-type", "Login", "--no-ship"]).await;
    common::assert_exit(&o, 0);

    // flush_minutes = 1: a stop within it leaves the lake empty and the events in the archive.
    let to = format!("file://{}?name=lake&flush_minutes=1", lake.display());
    let child = run_cmd(&sim, &archive, &to).spawn().unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        parquet_files(&lake),
        0,
        "a small backlog was shipped at once"
    );
    common::signal(&child, "TERM");
    let o = child.wait_with_output().await.unwrap();
    common::assert_exit(&o, 0);
    assert_eq!(delivered(&archive).0, 0);

    // flush_seconds = 3: held at first, shipped whole once the time has passed.
    let to = format!("file://{}?name=lake&flush_seconds=3", lake.display());
    let child = run_cmd(&sim, &archive, &to).spawn().unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(parquet_files(&lake), 0, "shipped before flush time");
    let end = std::time::Instant::now() + Duration::from_secs(20);
    while delivered(&archive).0 == 0 && std::time::Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    common::signal(&child, "TERM");
    let _ = child.wait_with_output().await;
    let (d, all) = delivered(&archive);
    assert!(all > 0);
    assert_eq!(d, all, "every archived event in the lake");
    assert!(parquet_files(&lake) > 0);
}
