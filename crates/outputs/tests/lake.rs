//! The lake output end to end: an archive with a delivery log (two orgs, EventLogFile rows and
//! object records over two days) shipped by the real shipper into a real S3 API (moto in
//! server mode, on a free loopback port) or a `file://` lake, then read back by the engines
//! users query lakes with.
//!
//! DuckDB reads the S3 lake straight from the S3 API (`read_parquet('s3://...',
//! hive_partitioning = true)`), through its httpfs extension loaded from PyPI's
//! duckdb-extension-httpfs wheel (it cannot download extensions here), and the `file://` lake
//! directly; chDB (ClickHouse in-process) reads the S3 lake through its `s3()` table function.
//! `format = ocsf` documents are validated with pydantic-ocsf's OCSF 1.1 models. moto, boto3,
//! DuckDB 1.5.5 with httpfs, chDB and pydantic-ocsf live in the venv `scripts/test` installs
//! ($SFEVENTS_LAKE_VENV, else ~/.cache/sfevents/lake-venv); `tests/lake/lake.py` runs them.

#[path = "lake/support.rs"]
mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use outputs::probe::Level;
use outputs::shipper::RetryLimit;
use outputs::Shipper;
use serde_json::json;
use serde_json::Value;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_lake_holds_every_row_once_by_org_dataset_and_day() {
    let moto = Moto::start();
    let a = Archive::standard();
    // Several batches, so several uploads per partition.
    let to = moto.url("team/sf", "&name=lake&max_batch_events=700");
    assert_eq!(delivered(&a.ship(&to).await), a.rows());

    let objects = moto.list();
    let key = regex_like_key();
    for k in objects.keys() {
        assert!(key(k), "{k} is not in the documented layout");
    }
    assert!(objects.len() >= 8, "{objects:?}");
    // DuckDB over the S3 API: the counts per org, dataset and day are the archive's.
    assert_eq!(moto.counts("team/sf", ""), a.written);
    let root = moto.root("team/sf");
    let q = format!(
        "SELECT count(*), count(DISTINCT id) FROM read_parquet('{root}/**/*.parquet', union_by_name = true)"
    );
    let total = a.rows() as i64;
    assert_eq!(
        moto.duckdb(&[&q]).unwrap(),
        vec![vec![json!(total), json!(total)]]
    );
    // Within each file, rows are in time order.
    let q = format!(
        "SELECT count(*) FROM (SELECT timestamp < lag(timestamp) OVER (PARTITION BY filename ORDER BY file_row_number) AS back FROM read_parquet('{root}/**/*.parquet', union_by_name = true, filename = true, file_row_number = true)) WHERE back"
    );
    assert_eq!(
        moto.duckdb(&[&q]).unwrap(),
        vec![vec![json!(0)]],
        "rows out of time order"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_queries_on_one_day_read_only_that_day() {
    let moto = Moto::start();
    let a = Archive::standard();
    delivered(&a.ship(&moto.url("sf", "&name=lake")).await);
    // An object no engine can read, in the second day's partition of each org: a query on
    // 2026-12-01 succeeds only if DuckDB prunes those partitions by their keys, never
    // fetching them. (Without `union_by_name`, which opens every file to union their columns
    // before any is pruned.)
    for (org_id, dataset) in [(ORG_A, "api_total_usage"), (ORG_B, "login_event")] {
        let dir = format!("org_id={org_id}/dataset={dataset}/event_date=2026-12-02");
        moto.put(
            &format!("sf/sfevents/v1/{dir}/part-zz-000.parquet"),
            b"not parquet",
        );
    }
    let root = moto.root("sf");
    let q = |filter: &str| {
        format!(
            "SELECT org_id, dataset, count(*) FROM read_parquet('{root}/**/*.parquet', hive_partitioning = true) {filter} GROUP BY ALL ORDER BY ALL"
        )
    };
    let day1: Vec<Vec<Value>> = a
        .written
        .iter()
        .filter(|(k, _)| k.2 == "2026-12-01")
        .map(|(k, n)| vec![json!(k.0), json!(k.1), json!(n)])
        .collect();
    assert_eq!(day1.len(), 2, "{:?}", a.written);
    let got = moto.duckdb(&[&q("WHERE event_date = DATE '2026-12-01'")]);
    assert_eq!(got.unwrap(), day1);
    // One org's one day: the other org's partitions are pruned too.
    let got = moto.duckdb(&[&q(&format!(
        "WHERE org_id = '{ORG_A}' AND event_date = DATE '2026-12-01'"
    ))]);
    assert_eq!(got.unwrap(), day1[..1].to_vec());
    // Without the filter the unreadable objects are read, and refused.
    let all = moto.duckdb(&[&q("")]).unwrap_err();
    assert!(all.contains("part-zz-000.parquet"), "{all}");
}

/// chDB's `s3()` over the lake under `prefix` of `moto`, with Hive partitioning: its count per
/// (org_id, dataset, event_date), and the count of distinct ids.
fn chdb_counts(moto: &Moto, prefix: &str) -> (Counts, u64) {
    let url = format!("{}/lake/{prefix}/sfevents/v1/**/*.parquet", moto.endpoint());
    let from = format!("s3('{url}', 'testing', 'testing', 'Parquet')");
    let settings = "SETTINGS use_hive_partitioning = 1";
    let q = format!(
        "SELECT org_id, dataset, toString(event_date), count() FROM {from} GROUP BY ALL ORDER BY ALL {settings}"
    );
    let counts = chdb(&q)
        .unwrap()
        .into_iter()
        .map(|r| {
            let s = |i: usize| r[i].as_str().unwrap().to_string();
            ((s(0), s(1), s(2)), r[3].as_u64().unwrap())
        })
        .collect();
    let q = format!("SELECT uniqExact(id) FROM {from} {settings}");
    let distinct = chdb(&q).unwrap()[0][0].as_u64().unwrap();
    (counts, distinct)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chdb_reads_the_s3_lake_through_s3_with_hive_partitions() {
    let moto = Moto::start();
    let a = Archive::standard();
    let to = moto.url("ch", "&name=lake&max_batch_events=700");
    assert_eq!(delivered(&a.ship(&to).await), a.rows());
    // ClickHouse's engine reads the same objects through the S3 API, its partition columns
    // from the keys: the archive's rows per org, dataset and day, each once.
    let (counts, distinct) = chdb_counts(&moto, "ch");
    assert_eq!(counts, a.written);
    assert_eq!(counts.values().sum::<u64>(), a.rows());
    assert_eq!(distinct, a.rows(), "a row twice");
    // Its typed columns: RUN_TIME is a number it sums.
    let url = format!(
        "{}/lake/ch/sfevents/v1/org_id={ORG_A}/dataset=api_total_usage/*/*.parquet",
        moto.endpoint()
    );
    let q = format!(
        "SELECT toTypeName(RUN_TIME), sum(RUN_TIME) FROM s3('{url}', 'testing', 'testing', 'Parquet') GROUP BY 1"
    );
    let expect_sum: u64 = [1500u64, 900]
        .iter()
        .map(|n| (0..*n).map(|i| i % 300).sum::<u64>())
        .sum();
    assert_eq!(
        chdb(&q).unwrap(),
        vec![vec![json!("Nullable(Int64)"), json!(expect_sum)]]
    );

    // It prunes by the partition columns too: with an unreadable object in each org's second
    // day, a query on the first day never opens them, and one on every day does.
    for (org_id, dataset) in [(ORG_A, "api_total_usage"), (ORG_B, "login_event")] {
        let dir = format!("org_id={org_id}/dataset={dataset}/event_date=2026-12-02");
        moto.put(
            &format!("ch/sfevents/v1/{dir}/part-zz-000.parquet"),
            b"not parquet",
        );
    }
    let url = format!("{}/lake/ch/sfevents/v1/**/*.parquet", moto.endpoint());
    let q = |filter: &str| {
        format!(
            "SELECT count() FROM s3('{url}', 'testing', 'testing', 'Parquet') {filter} SETTINGS use_hive_partitioning = 1"
        )
    };
    let day1: u64 = a
        .written
        .iter()
        .filter(|(k, _)| k.2 == "2026-12-01")
        .map(|(_, n)| n)
        .sum();
    assert_eq!(
        chdb(&q("WHERE event_date = '2026-12-01'")).unwrap(),
        vec![vec![json!(day1)]]
    );
    let all = chdb(&q("")).unwrap_err();
    assert!(all.contains("part-zz-000.parquet"), "{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_on_one_day_read_only_that_day() {
    let lake = tempfile::tempdir().unwrap();
    let a = Archive::standard();
    let to = format!("file://{}?name=lake", lake.path().display());
    delivered(&a.ship(&to).await);
    let root = lake.path().join("sfevents/v1");
    // A file no engine can read, in the other day's partition: a query on 2026-12-01 succeeds
    // only if the partition of 2026-12-02 is pruned by its path, never opened.
    let other = root.join(format!(
        "org_id={ORG_A}/dataset=api_total_usage/event_date=2026-12-02"
    ));
    std::fs::write(other.join("part-zz-000.parquet"), b"not parquet").unwrap();
    let q = |filter: &str| {
        format!(
            "SELECT count(*) FROM read_parquet('{}/*/dataset=api_total_usage/*/*.parquet', hive_partitioning = true) {filter}",
            root.display()
        )
    };
    let day1 = a.written[&(ORG_A.into(), "api_total_usage".into(), "2026-12-01".into())];
    let got = duckdb(&[&q(&format!(
        "WHERE org_id = '{ORG_A}' AND event_date = DATE '2026-12-01'"
    ))]);
    assert_eq!(got.unwrap(), vec![vec![json!(day1)]]);
    let all = duckdb(&[&q("")]).unwrap_err();
    assert!(all.contains("part-zz-000.parquet"), "{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn columns_are_typed_and_a_new_column_is_read_by_name() {
    let lake = tempfile::tempdir().unwrap();
    let mut a = Archive::standard();
    let to = format!("file://{}?name=lake", lake.path().display());
    delivered(&a.ship(&to).await);
    let glob = |ds: &str| {
        format!(
            "{}/sfevents/v1/*/dataset={ds}/*/*.parquet",
            lake.path().display()
        )
    };
    let types = |ds: &str| -> BTreeMap<String, String> {
        let q = format!("DESCRIBE SELECT * FROM read_parquet('{}')", glob(ds));
        duckdb(&[&q])
            .unwrap()
            .into_iter()
            .map(|r| (r[0].as_str().unwrap().into(), r[1].as_str().unwrap().into()))
            .collect()
    };
    let elf = types("api_total_usage");
    let tz = "TIMESTAMP WITH TIME ZONE";
    for (col, ty) in [
        ("id", "VARCHAR"),
        ("timestamp", tz),
        ("org_id", "VARCHAR"),
        ("source", "VARCHAR"),
        ("file_id", "VARCHAR"),
        ("log_date", tz),
        ("row", "BIGINT"),
        ("RUN_TIME", "BIGINT"),
        ("DB_TOTAL_TIME", "DOUBLE"),
        ("TIMESTAMP_DERIVED", tz),
        ("sf_TIMESTAMP", tz),
        ("USER_ID", "VARCHAR"),
        ("CLIENT_IP", "VARCHAR"),
    ] {
        assert_eq!(elf.get(col).map(String::as_str), Some(ty), "{col}: {elf:?}");
    }
    let obj = types("login_event");
    assert_eq!(obj["LoginLatency"], "BIGINT", "{obj:?}");
    assert_eq!(obj["EventDate"], tz, "{obj:?}");
    assert_eq!(obj["sf_Id"], "VARCHAR", "{obj:?}");
    assert!(
        !obj.contains_key("file_id"),
        "no EventLogFile provenance: {obj:?}"
    );
    // Empty values are nulls, not zeros.
    let q = format!(
        "SELECT count(*) - count(DB_TOTAL_TIME), sum(RUN_TIME) FROM read_parquet('{}')",
        glob("api_total_usage")
    );
    let expect_sum: u64 = [1500u64, 900]
        .iter()
        .map(|n| (0..*n).map(|i| i % 300).sum::<u64>())
        .sum();
    assert_eq!(
        duckdb(&[&q]).unwrap(),
        vec![vec![json!(480), json!(expect_sum)]]
    );

    // A later file of the same dataset and day, with a column the first files lack.
    a.add("a", elf_rows(ORG_A, "2026-12-02", 250, "0ATnew", true));
    assert_eq!(delivered(&a.ship(&to).await), 250);
    let q = |opts: &str| {
        format!(
            "SELECT count(*), count(NEW_COLUMN) FROM read_parquet('{}', hive_partitioning = true{opts}) WHERE event_date = DATE '2026-12-02'",
            glob("api_total_usage")
        )
    };
    assert_eq!(
        duckdb(&[&q(", union_by_name = true")]).unwrap(),
        vec![vec![json!(900 + 250), json!(250)]]
    );
    let e = duckdb(&[&q("")]).unwrap_err();
    assert!(e.contains("NEW_COLUMN"), "without union_by_name: {e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redone_upload_overwrites_the_same_objects() {
    let moto = Moto::start();
    let mut a = Archive::standard();
    delivered(&a.ship(&moto.url("sf", "&name=first")).await);
    let before = moto.list();

    // What a crash between the upload and the position's commit leaves: the same batches
    // sent again from the same positions (a second output has its own, at the beginning).
    delivered(&a.ship(&moto.url("sf", "&name=again")).await);
    let after = moto.list();
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>(),
        "the same keys"
    );
    assert_eq!(
        moto.counts("sf", ", union_by_name = true"),
        a.written,
        "no row twice"
    );

    // A redo that finds the log grown: its batch starts where the first did and holds more.
    // The partitions it adds rows to hold a longer span, under new names; the objects the
    // first upload left there are removed, the others rewritten in place.
    a.add("a", elf_rows(ORG_A, "2026-12-02", 120, "0ATlate", false));
    a.add("a", elf_rows(ORG_A, "2026-12-03", 80, "0ATlater", false));
    delivered(&a.ship(&moto.url("sf", "&name=third")).await);
    let grown = moto.list();
    let new: Vec<&String> = grown.keys().filter(|k| !before.contains_key(*k)).collect();
    let gone: Vec<&String> = before.keys().filter(|k| !grown.contains_key(*k)).collect();
    let day = |k: &&String, d: &str| {
        k.contains(&format!("{ORG_A}/dataset=api_total_usage/event_date={d}"))
    };
    assert_eq!(new.len(), 2, "{new:?}");
    assert!(new.iter().any(|k| day(k, "2026-12-02")) && new.iter().any(|k| day(k, "2026-12-03")));
    assert_eq!(gone.len(), 1, "{gone:?}");
    assert!(day(&gone[0], "2026-12-02"), "{gone:?}");
    assert_eq!(
        moto.counts("sf", ", union_by_name = true"),
        a.written,
        "no row twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_file_goes_up_in_parts() {
    let moto = Moto::start();
    let mut a = Archive::new();
    // Values zstd cannot shrink much: about 24 MB of Parquet in one partition.
    let mut lines = elf_rows(ORG_A, "2026-12-01", 60_000, "0ATbig", false);
    let mut x: u64 = 0x9e3779b97f4a7c15;
    for l in &mut lines {
        let mut noise = String::with_capacity(768);
        for _ in 0..48 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            noise.push_str(&format!("{x:016x}"));
        }
        l["fields"]["NOISE"] = json!(noise);
    }
    a.add("a", lines);
    // One batch: the whole file in one upload.
    let to = moto.url("big", "&name=lake&max_batch_bytes=268435456");
    assert_eq!(delivered(&a.ship(&to).await), 60_000);
    let objects = moto.list();
    assert_eq!(objects.len(), 1, "{objects:?}");
    let (size, etag) = objects.values().next().unwrap();
    assert!(*size > 16 << 20, "{size} bytes");
    // S3 names a multipart object's ETag `<md5 of the parts' md5s>-<parts>`.
    assert!(
        etag.trim_matches('"').contains('-'),
        "not a multipart upload: {etag}"
    );
    assert_eq!(moto.counts("big", ""), a.written);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_lists_and_writes_under_the_prefix() {
    let moto = Moto::start();
    let cfg = outputs::config::from_url(&moto.url("sf", "")).unwrap();
    let mut found = Found::default();
    cfg.probe(&mut found).await;
    assert_eq!(found.0.len(), 2, "{:?}", found.0);
    assert!(found.0.iter().all(|f| f.0 == Level::Ok), "{:?}", found.0);
    let left = moto.list();
    assert!(left.is_empty(), "the probe object is removed: {left:?}");

    let missing = moto
        .url("sf", "")
        .replace("s3://lake/", "s3://no-such-bucket/");
    let cfg = outputs::config::from_url(&missing).unwrap();
    let mut found = Found::default();
    cfg.probe(&mut found).await;
    assert!(
        found
            .0
            .iter()
            .any(|f| f.0 == Level::Problem && f.2.contains("no-such-bucket")),
        "{:?}",
        found.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_upload_keeps_the_position() {
    let moto = Moto::start();
    let a = Archive::standard();
    // The same output (its name, so its position) first pointed at a bucket that is not there.
    let wrong = moto
        .url("sf", "&name=lake")
        .replace("s3://lake/", "s3://no-such-bucket/");
    for r in a.ship(&wrong).await {
        let e = r.error.as_ref().expect("the upload is refused");
        assert!(e.message.contains("no-such-bucket"), "{e:?}");
        assert_eq!(r.delivered, 0, "{r:?}");
        assert!(r.remaining > 0, "the position has not moved: {r:?}");
    }
    assert_eq!(
        delivered(&a.ship(&moto.url("sf", "&name=lake")).await),
        a.rows()
    );
    assert_eq!(moto.counts("sf", ""), a.written);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_cut_off_at_random_points_leave_every_row_once() {
    let moto = Moto::start();
    let a = Archive::standard();
    let cfg =
        outputs::config::from_url(&moto.url("cut", "&name=lake&max_batch_events=100")).unwrap();
    // Each pass is dropped at a random point (while encoding, mid-upload, between the upload
    // and the position's commit), as a killed process would stop; the next pass goes on from
    // the committed position. Seeded, so a failure can be reproduced.
    let mut x: u64 = 0x2545f4914f6cdd1d;
    let (mut cut, mut done) = (0, [false, false]);
    for round in 0..400u64 {
        for (i, org) in ["a", "b"].into_iter().enumerate() {
            if done[i] {
                continue;
            }
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Longer and longer, so that a slow machine still finishes a batch now and then.
            let after = std::time::Duration::from_millis(1 + x % (20 + 5 * round));
            match tokio::time::timeout(after, a.ship_org(&cfg, org)).await {
                Ok(r) if r.error.is_none() && r.remaining == 0 => done[i] = true,
                Ok(r) => panic!("{r:?}"),
                Err(_) => cut += 1,
            }
        }
        if done == [true, true] {
            break;
        }
    }
    assert_eq!(done, [true, true], "the passes never finished");
    assert!(
        cut >= 5,
        "only {cut} passes were cut off: not a test of anything"
    );
    assert_eq!(moto.counts("cut", ""), a.written);
    let q = format!(
        "SELECT count(*) - count(DISTINCT id) FROM read_parquet('{}/**/*.parquet', union_by_name = true)",
        moto.root("cut")
    );
    assert_eq!(
        moto.duckdb(&[&q]).unwrap(),
        vec![vec![json!(0)]],
        "a row twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_with_the_same_batches_rewrites_the_same_objects() {
    let lake = tempfile::tempdir().unwrap();
    let a = Archive::standard();
    let to = format!(
        "file://{}?name=lake&max_batch_events=500",
        lake.path().display()
    );
    delivered(&a.ship(&to).await);
    let files = |root: &Path| -> Vec<(String, std::time::SystemTime)> {
        let mut out = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let e = e.unwrap();
                if e.file_type().unwrap().is_dir() {
                    stack.push(e.path());
                } else {
                    let rel = e.path().strip_prefix(root).unwrap().display().to_string();
                    out.push((rel, e.metadata().unwrap().modified().unwrap()));
                }
            }
        }
        out.sort();
        out
    };
    let before = files(lake.path());
    std::thread::sleep(std::time::Duration::from_millis(20));

    // `sfevents replay` of everything: the shipper reads the same entries in the same batches.
    let cfg = outputs::config::from_url(&to).unwrap();
    for org in ["a", "b"] {
        let entries = a.store.log_select(org, None, None, &[]).unwrap();
        let r = Shipper::new(
            &cfg.name,
            Arc::from(outputs::sink(&cfg, &a.ctx(org)).unwrap()),
            a.store.clone(),
            a.dir.path().to_path_buf(),
            org,
            cfg.batch.clone(),
            RetryLimit::bounded(2),
            Arc::new(AtomicBool::new(false)),
        )
        .replay(entries)
        .await;
        assert!(r.error.is_none() && r.delivered > 0, "{r:?}");
    }
    let after = files(lake.path());
    let names = |v: &[(String, std::time::SystemTime)]| -> Vec<String> {
        v.iter().map(|(n, _)| n.clone()).collect()
    };
    assert_eq!(names(&after), names(&before), "the same objects");
    assert!(
        after.iter().zip(&before).all(|(a, b)| a.1 > b.1),
        "every object was written again"
    );
    let root = lake.path().join("sfevents/v1");
    assert_eq!(lake_counts(&root, ", union_by_name = true"), a.written);
}

/// Runs `lake.py ocsf` over the files of `glob`: (documents valid, errors).
fn validate_ocsf(glob: &str) -> (u64, Vec<Value>) {
    let out = std::process::Command::new(python())
        .arg(helper())
        .args(["ocsf", glob])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        v["valid"].as_u64().unwrap(),
        v["errors"].as_array().unwrap().clone(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ocsf_documents_validate_in_security_lake_layout() {
    let lake = tempfile::tempdir().unwrap();
    let mut a = Archive::new();
    let expect = ocsf_sources(&mut a);
    let to = format!(
        "file://{}?name=sl&format=ocsf&region=eu-west-1",
        lake.path().display()
    );
    assert_eq!(
        delivered(&a.ship(&to).await),
        a.rows(),
        "every event passes"
    );

    // ext/<source>/region=<region>/accountId=<org id>/eventDay=<YYYYMMDD>/part-....parquet
    let q = format!(
        "SELECT regexp_extract(filename, '/ext/([^/]+)/', 1), region, CAST(accountId AS VARCHAR), CAST(eventDay AS VARCHAR), count(*) FROM read_parquet('{}/ext/*/*/*/*/*.parquet', hive_partitioning = true, union_by_name = true, filename = true) GROUP BY ALL ORDER BY ALL",
        lake.path().display()
    );
    let mut got = Counts::new();
    for r in duckdb(&[&q]).unwrap() {
        let s = |i: usize| r[i].as_str().unwrap().to_string();
        assert_eq!(s(1), "eu-west-1");
        *got.entry((s(0), s(2), s(3))).or_default() += r[4].as_u64().unwrap();
    }
    assert_eq!(got, expect);

    let glob = format!("{}/ext/*/*/*/*/*.parquet", lake.path().display());
    let (valid, errors) = validate_ocsf(&glob);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(valid, expect.values().sum::<u64>());

    // A failed login: Failure, with Salesforce's reason.
    let q = format!(
        "SELECT status_id, status, status_detail, user.name, auth_protocol_id FROM read_parquet('{}/ext/salesforce-authentication/*/*/*/*.parquet', union_by_name = true) WHERE status_id = 2 ORDER BY ALL",
        lake.path().display()
    );
    let failed = duckdb(&[&q]).unwrap();
    assert_eq!(failed.len(), 3 + 2, "{failed:?}");
    assert_eq!(
        failed[0],
        vec![
            json!(2),
            json!("Failure"),
            json!("Failed: Invalid Password"),
            json!("b@example.com"),
            json!(6)
        ]
    );
    assert_eq!(failed[2][2], "LOGIN_ERROR_INVALID_PASSWORD");
}

/// A sink that stores like the lake's, then, at its `crash_at`th batch, fails as a process
/// killed between the upload and the position's commit would: what it stored stays, the
/// position does not move.
struct CrashAfterUpload {
    lake: Box<dyn outputs::Sink>,
    batches: std::sync::atomic::AtomicUsize,
    crash_at: usize,
}

impl outputs::Sink for CrashAfterUpload {
    fn send<'a>(
        &'a self,
        events: &'a [outputs::Event],
    ) -> futures_util::future::BoxFuture<'a, Result<Vec<outputs::Verdict>, outputs::SinkError>>
    {
        Box::pin(async move {
            let v = self.lake.send(events).await?;
            let n = 1 + self
                .batches
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if n == self.crash_at {
                return Err(outputs::SinkError::Fatal("killed after the upload".into()));
            }
            Ok(v)
        })
    }
}

/// Events in the lake under `root` that are there more than once.
fn repeats(root: &Path) -> Value {
    let q = format!(
        "SELECT count(*) - count(DISTINCT id) FROM read_parquet('{}/**/*.parquet', union_by_name = true)",
        root.display()
    );
    duckdb(&[&q]).unwrap()[0][0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redo_cut_otherwise_than_the_killed_upload_stores_every_row_once() {
    // The killed pass and the redo read the same part of the log in batches of other sizes
    // (the limits changed between them, as the log growing changes a batch's end).
    // Killed after the upload of a batch (org a's, then org b's).
    for (killed, redo, crash_at) in [(700, 250, [3, 2]), (250, 700, [6, 3]), (333, 100, [5, 2])] {
        let lake = tempfile::tempdir().unwrap();
        let a = Archive::standard();
        let url = |n: usize| {
            format!(
                "file://{}?name=lake&max_batch_events={n}",
                lake.path().display()
            )
        };
        for (org, crash_at) in ["a", "b"].into_iter().zip(crash_at) {
            let cfg = outputs::config::from_url(&url(killed)).unwrap();
            let crashing = CrashAfterUpload {
                lake: outputs::sink(&cfg, &a.ctx(org)).unwrap(),
                batches: Default::default(),
                crash_at,
            };
            let r = a.ship_with(&cfg, org, Arc::new(crashing)).await;
            assert!(r.error.is_some() && r.remaining > 0, "{r:?}");
            let cfg = outputs::config::from_url(&url(redo)).unwrap();
            let r = a.ship_org(&cfg, org).await;
            assert!(r.error.is_none() && r.remaining == 0, "{r:?}");
        }
        let root = lake.path().join("sfevents/v1");
        assert_eq!(
            repeats(&root),
            json!(0),
            "a row twice ({killed} then {redo})"
        );
        assert_eq!(lake_counts(&root, ", union_by_name = true"), a.written);
    }
}

/// DuckDB's type of each column of the files `glob` matches (read by name).
fn column_types(glob: &str) -> BTreeMap<String, String> {
    let q = format!("DESCRIBE SELECT * FROM read_parquet('{glob}', union_by_name = true)");
    duckdb(&[&q])
        .unwrap()
        .into_iter()
        .map(|r| (r[0].as_str().unwrap().into(), r[1].as_str().unwrap().into()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_types_hold_in_every_file_and_undeclared_ones_are_inferred() {
    let lake = tempfile::tempdir().unwrap();
    let mut a = Archive::new();
    let declared = archive::state::ElfFields {
        names: "TIMESTAMP,TIMESTAMP_DERIVED,USER_ID,API_FAMILY,RUN_TIME,DB_TOTAL_TIME,CLIENT_IP"
            .into(),
        types: "String,DateTime,Id,String,Number,Number,IP".into(),
    };
    // Day 1: numbers, one of them unreadable. Day 2: RUN_TIME and TIMESTAMP_DERIVED empty in
    // the whole file. Day 3: a file the org declared nothing of.
    let mut day1 = elf_rows(ORG_A, "2026-12-01", 1500, "0ATd1", false);
    day1[7]["fields"]["RUN_TIME"] = json!("n/a");
    a.add_elf("a", day1, Some(declared.clone()));
    let mut day2 = elf_rows(ORG_A, "2026-12-02", 900, "0ATd2", false);
    for l in &mut day2 {
        l["fields"]["RUN_TIME"] = json!("");
        l["fields"]["TIMESTAMP_DERIVED"] = json!("");
    }
    a.add_elf("a", day2, Some(declared));
    a.add_elf("a", elf_rows(ORG_A, "2026-12-03", 50, "0ATd3", false), None);
    let mut logins = login_rows(ORG_B, "2026-12-01", 40);
    for l in &mut logins {
        l["fields"]["Score"] = json!(null);
    }
    a.add("b", logins);
    let types = [
        ("LoginLatency", "int"),
        ("EventDate", "datetime"),
        ("Score", "double"),
    ];
    a.describe("b", "LoginEvent", &types);
    let to = format!("file://{}?name=lake", lake.path().display());
    assert_eq!(delivered(&a.ship(&to).await), a.rows(), "no row lost");

    let root = lake.path().join("sfevents/v1");
    let day = |d: &str| {
        format!(
            "{}/*/dataset=api_total_usage/event_date={d}/*.parquet",
            root.display()
        )
    };
    let tz = "TIMESTAMP WITH TIME ZONE";
    let d2 = column_types(&day("2026-12-02"));
    assert_eq!(
        d2["RUN_TIME"], "DOUBLE",
        "empty in the whole file, still a number: {d2:?}"
    );
    assert_eq!(
        d2["TIMESTAMP_DERIVED"], tz,
        "empty in the whole file, still a time"
    );
    assert_eq!(d2["DB_TOTAL_TIME"], "DOUBLE");
    assert_eq!(d2["sf_TIMESTAMP"], "VARCHAR", "declared String");
    let d1 = column_types(&day("2026-12-01"));
    assert_eq!(
        (d1["RUN_TIME"].as_str(), d1["TIMESTAMP_DERIVED"].as_str()),
        ("DOUBLE", tz)
    );
    // Over both declared days, one type per column (not VARCHAR from the empty day).
    let both = column_types(&day("2026-12-0[12]"));
    assert_eq!(
        (
            both["RUN_TIME"].as_str(),
            both["TIMESTAMP_DERIVED"].as_str()
        ),
        ("DOUBLE", tz)
    );
    // Nothing declared: typed from the values, as before.
    let d3 = column_types(&day("2026-12-03"));
    assert_eq!(
        (d3["RUN_TIME"].as_str(), d3["sf_TIMESTAMP"].as_str()),
        ("BIGINT", tz)
    );
    // The unreadable value is null in a row that is kept.
    let q = format!(
        "SELECT count(*), count(RUN_TIME), sum(RUN_TIME) FROM read_parquet('{}')",
        day("2026-12-01")
    );
    let sum: u64 = (0..1500u64).filter(|i| *i != 7).map(|i| i % 300).sum();
    assert_eq!(
        duckdb(&[&q]).unwrap(),
        vec![vec![json!(1500), json!(1499), json!(sum as f64)]]
    );
    // Objects: describe's types, an all-null column included.
    let obj = column_types(&format!(
        "{}/*/dataset=login_event/*/*.parquet",
        root.display()
    ));
    assert_eq!(obj["Score"], "DOUBLE", "{obj:?}");
    assert_eq!(
        (obj["LoginLatency"].as_str(), obj["EventDate"].as_str()),
        ("BIGINT", tz)
    );
    assert_eq!(
        obj["SessionLevel"], "VARCHAR",
        "undeclared and all null: text"
    );
}
