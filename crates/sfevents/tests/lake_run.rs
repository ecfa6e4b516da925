//! `run` holds a lake's small backlog back so it lands as fewer, larger files: until a full
//! batch's worth is committed, or `flush_minutes` (here `flush_seconds`) has passed; what it
//! holds stays in the archive across a stop and ships later.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{auth_args, files_under, BIN};

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

/// Every `id` in the lake's Parquet files, with how many times it is there.
fn lake_ids(dir: &Path) -> std::collections::BTreeMap<String, u32> {
    use arrow_array::cast::AsArray;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let mut out = std::collections::BTreeMap::new();
    let files: Vec<_> = files_under(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
        .collect();
    for f in files {
        let file = std::fs::File::open(&f).unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()))
            .build()
            .unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            let ids = batch.column_by_name("id").expect("an id column");
            for id in ids.as_string::<i32>().iter().flatten() {
                *out.entry(id.to_string()).or_default() += 1;
            }
        }
    }
    out
}

/// `sfevents ship` to a lake, SIGKILLed at random points mid-upload again and again, each
/// time with other batch limits (so each redo is cut otherwise than the upload it redoes),
/// then run to its end: every archived event is in the lake exactly once.
#[tokio::test]
async fn ship_killed_at_random_points_leaves_every_row_once() {
    let sim = common::start(common::small_config(42)).await;
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("archive");
    let lake = tmp.path().join("lake");
    std::fs::create_dir_all(&lake).unwrap();
    let o = common::collect(&sim, &archive, &["--no-ship"]).await;
    common::assert_exit(&o, 0);
    let want: std::collections::BTreeSet<String> = common::ndjson_lines(&archive)
        .into_iter()
        .map(|(_, v)| v["id"].as_str().unwrap().to_string())
        .collect();
    let ship = |archive: &Path, batch: u64| {
        let to = format!(
            "file://{}?name=lake&max_batch_events={batch}",
            lake.display()
        );
        let mut c = tokio::process::Command::new(BIN);
        c.args(["ship", "--quiet", "--output-dir"])
            .arg(archive)
            .args(["--to", to.as_str()])
            .env_remove("SFEVENTS_CONFIG")
            .kill_on_drop(true);
        c
    };
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64
        | 1;
    eprintln!("seed {seed}");
    // Kills that left the lake partly shipped: the test only means something with some.
    let mut midway = 0;
    for _ in 0..8 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let child = ship(&archive, 7 + seed % 60).spawn().unwrap();
        tokio::time::sleep(Duration::from_millis(20 + seed % 150)).await;
        common::signal(&child, "KILL");
        let _ = child.wait_with_output().await;
        let (done, all) = delivered(&archive);
        if done > 0 && done < all {
            midway += 1;
        }
    }
    let o = ship(&archive, 45).output().await.unwrap();
    common::assert_exit(&o, 0);
    let got = lake_ids(&lake);
    let twice: Vec<_> = got.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "{} ids twice, e.g. {:?}",
        twice.len(),
        twice.first()
    );
    let ids: std::collections::BTreeSet<String> = got.into_keys().collect();
    assert_eq!(ids.len(), want.len());
    assert_eq!(ids, want);
    assert!(midway > 0, "no kill landed mid-ship");
}

/// The backlog `run` holds back is one of the output's own batches: with a small
/// `max_batch_bytes`, a backlog past it ships at once though `flush_minutes` has not passed.
#[tokio::test]
async fn a_backlog_of_a_configured_batch_ships_without_waiting() {
    let sim = common::start(common::small_config(43)).await;
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("archive");
    let lake = tmp.path().join("lake");
    std::fs::create_dir_all(&lake).unwrap();
    let o = common::collect(&sim, &archive, &["--event-type", "Login", "--no-ship"]).await;
    common::assert_exit(&o, 0);
    let to = format!(
        "file://{}?name=lake&flush_minutes=1&max_batch_bytes=2048",
        lake.display()
    );
    let child = run_cmd(&sim, &archive, &to).spawn().unwrap();
    let end = std::time::Instant::now() + Duration::from_secs(20);
    while delivered(&archive).0 < delivered(&archive).1 && std::time::Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    common::signal(&child, "TERM");
    let _ = child.wait_with_output().await;
    let (d, all) = delivered(&archive);
    assert!(all > 0);
    assert_eq!(d, all, "held back although past a configured batch");
}

/// The Arrow type of `column` in each Parquet file under `dir` that has it.
fn column_types(dir: &Path, column: &str) -> Vec<arrow_schema::DataType> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let files: Vec<_> = files_under(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
        .collect();
    files
        .iter()
        .filter_map(|f| {
            let r = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(f).unwrap());
            let schema = r.unwrap().schema().clone();
            schema
                .field_with_name(column)
                .ok()
                .map(|f| f.data_type().clone())
        })
        .collect()
}

/// Files in the ledger, and how many of them keep their declared column types.
fn declared_in_ledger(archive: &Path) -> (i64, i64) {
    let c = rusqlite::Connection::open(archive.join("state.db")).unwrap();
    c.query_row("SELECT COUNT(*), COUNT(field_types) FROM files", [], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
    .unwrap()
}

/// What sfsim's EventLogFile records declare of their columns reaches the lake: Number as
/// DOUBLE, DateTime as a timestamp, in every file. An org that gives the fields null, or
/// refuses them, is collected all the same, and the lake types its columns from the values.
#[tokio::test]
async fn declared_column_types_reach_the_lake_and_orgs_without_them_still_collect() {
    use arrow_schema::{DataType, TimeUnit};
    use sfsim::ElfFieldSchema;
    let time = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    for schema in [
        ElfFieldSchema::Served,
        ElfFieldSchema::Null,
        ElfFieldSchema::Absent,
    ] {
        let mut cfg = common::small_config(44);
        cfg.elf_field_schema = schema;
        let sim = common::start(cfg).await;
        let tmp = tempfile::tempdir().unwrap();
        let (archive, lake) = (tmp.path().join("archive"), tmp.path().join("lake"));
        let to = format!("file://{}?name=lake", lake.display());
        let o = common::collect(&sim, &archive, &["--event-type", "Login", "--to", &to]).await;
        common::assert_exit(&o, 0);
        let expected = common::expected_of(&sim, "auto", &["Login"]);
        common::check_archive(&sim, &archive, &expected);
        let (files, declared) = declared_in_ledger(&archive);
        assert!(files > 0);
        let run_time = column_types(&lake, "RUN_TIME");
        assert!(!run_time.is_empty());
        if schema == ElfFieldSchema::Served {
            assert_eq!(declared, files, "every file keeps its declared types");
            assert!(
                run_time.iter().all(|t| *t == DataType::Float64),
                "{run_time:?}"
            );
            let derived = column_types(&lake, "TIMESTAMP_DERIVED");
            assert!(derived.iter().all(|t| *t == time), "{derived:?}");
        } else {
            assert_eq!(declared, 0, "{schema:?}");
            assert!(
                run_time.iter().all(|t| *t == DataType::Int64),
                "inferred: {run_time:?}"
            );
        }
        if schema == ElfFieldSchema::Absent {
            let log = common::log_text(&archive);
            assert!(
                log.contains("refuses EventLogFile.LogFileFieldNames"),
                "{log}"
            );
        }
        sim.shutdown();
    }
}

/// An object's field types from the describe call the collector makes are kept in state.db
/// and reach the lake: describe's `double` is DOUBLE and `datetime` a timestamp in every
/// file (that a declared type holds where a file's values say otherwise is `lake.rs`'s test).
#[tokio::test]
async fn described_object_types_reach_the_lake() {
    use arrow_schema::{DataType, TimeUnit};
    let sim = common::start(common::small_config(45)).await;
    let tmp = tempfile::tempdir().unwrap();
    let (archive, lake) = (tmp.path().join("archive"), tmp.path().join("lake"));
    let to = format!("file://{}?name=lake", lake.display());
    let mut args = vec!["collect".to_string(), "--quiet".into()];
    args.extend(common::auth_args(&sim, &archive));
    args.extend(
        [
            "--object",
            "LoginEvent",
            "--backfill-days",
            "1",
            "--to",
            &to,
        ]
        .map(String::from),
    );
    let o = tokio::process::Command::new(BIN)
        .args(&args)
        .env("SFEVENTS_NOW", sim.now().to_rfc3339())
        .env_remove("SFEVENTS_CONFIG")
        .output()
        .await
        .unwrap();
    common::assert_exit(&o, 0);
    // What the describe call said is kept for the lake, by org and object.
    let c = rusqlite::Connection::open(archive.join("state.db")).unwrap();
    let types: String = c
        .query_row(
            "SELECT types FROM object_fields WHERE object = 'LoginEvent'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let types: Vec<(String, String)> = serde_json::from_str(&types).unwrap();
    let of = |f: &str| types.iter().find(|(n, _)| n == f).map(|(_, t)| t.as_str());
    assert_eq!(
        (of("EvaluationTime"), of("EventDate")),
        (Some("double"), Some("datetime"))
    );
    let evaluation = column_types(&lake, "EvaluationTime");
    assert!(!evaluation.is_empty());
    assert!(
        evaluation.iter().all(|t| *t == DataType::Float64),
        "{evaluation:?}"
    );
    let time = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    let dates = column_types(&lake, "EventDate");
    assert!(
        !dates.is_empty() && dates.iter().all(|t| *t == time),
        "{dates:?}"
    );
    sim.shutdown();
}
