//! `archive_compression = "zstd"` end to end: the same org collected into a plain archive and
//! a compressed one. What any zstd decoder reads from the compressed files is the plain NDJSON
//! byte for byte, at a fraction of its size; `verify` passes; reports read the same; and
//! `ship`, killed at random points and run again, stores every event exactly once (a resumed
//! ship starts inside a compressed file, from its frame index).

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use receivers::elasticsearch::{self, Config};

fn org() -> sfsim::SimConfig {
    let mut c = small_config(2107);
    c.freeze_clock = true;
    c.org.hourly = false;
    c.org.late_files = false;
    // Daily files of about 6,000 rows: more than one frame of 4,096.
    c.org.rows_per_hour = (230, 270);
    c
}

/// `sfevents <what>` against the simulator, for the two event types.
async fn against(sim: &sfsim::SimHandle, dir: &Path, what: &[&str], extra: &[&str]) {
    let mut args: Vec<String> = what.iter().map(|s| s.to_string()).collect();
    args.extend(auth_args(sim, dir));
    for a in ["--event-type", "ApiTotalUsage", "--event-type", "URI"]
        .iter()
        .chain(extra)
    {
        args.push(a.to_string());
    }
    let o = tokio::process::Command::new(BIN)
        .args(&args)
        .env("SFEVENTS_NOW", sim.now().to_rfc3339())
        .output()
        .await
        .unwrap();
    assert_exit(&o, 0);
}

async fn collect(sim: &sfsim::SimHandle, dir: &Path, extra: &[&str]) {
    against(sim, dir, &["collect", "--quiet", "--no-ship"], extra).await;
}

/// Event files by file name without its extension.
fn event_files(dir: &Path) -> HashMap<String, PathBuf> {
    files_under(&dir.join("events"))
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name.split('.').next().unwrap().to_string(), p)
        })
        .collect()
}

fn run_sync(args: &[&str]) -> std::process::Output {
    std::process::Command::new(BIN).args(args).output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compressed_archive_holds_the_same_lines_and_ships_each_once_across_kills() {
    let sim = start(org()).await;
    let plain = tempfile::tempdir().unwrap();
    let packed = tempfile::tempdir().unwrap();
    collect(&sim, plain.path(), &["--archive-compression", "none"]).await;
    // The default is zstd.
    collect(&sim, packed.path(), &[]).await;

    let (a, b) = (event_files(plain.path()), event_files(packed.path()));
    assert_eq!(a.len(), b.len(), "the same files");
    assert!(a.len() >= 2, "{a:?}");
    let (mut plain_bytes, mut packed_bytes, mut rows) = (0u64, 0u64, 0usize);
    for (stem, p) in &a {
        let q = &b[stem];
        assert!(
            q.to_string_lossy().ends_with(".ndjson.zst"),
            "{}",
            q.display()
        );
        let want = std::fs::read(p).unwrap();
        // Read with the zstd library alone, not sfevents' reader.
        let got = zstd::stream::decode_all(std::fs::File::open(q).unwrap()).unwrap();
        assert!(
            got == want,
            "{stem}: the decompressed file is the plain NDJSON"
        );
        plain_bytes += want.len() as u64;
        packed_bytes += std::fs::metadata(q).unwrap().len();
        rows = rows.max(want.iter().filter(|b| **b == b'\n').count());
    }
    assert!(rows > 4096, "a file spans frames: {rows} rows");
    assert!(
        packed_bytes * 5 < plain_bytes,
        "{packed_bytes} compressed bytes for {plain_bytes} of NDJSON"
    );

    let dir = packed.path().display().to_string();
    // Every row Salesforce has is in the compressed archive (verify exits 0 when nothing is
    // missing), read through the same reader as the plain one.
    against(&sim, packed.path(), &["verify"], &[]).await;
    // Reports (which read the NDJSON where no raw CSV is kept) and the rules' backtest
    // (which always reads the NDJSON) see the same events in both archives.
    let strip = |out: Vec<u8>, d: &Path| {
        let text = String::from_utf8(out).unwrap();
        let text = text.replace(&d.display().to_string(), "DIR");
        let mut v: serde_json::Value =
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        if let Some(r) = v.get_mut("report").and_then(|r| r.as_object_mut()) {
            r.remove("generated_at");
        }
        v
    };
    for cmd in [
        &["report", "api-usage", "--format", "json"][..],
        &["detect", "--format", "json"],
    ] {
        let r = |d: &Path| {
            let mut args = cmd.to_vec();
            let dir = d.display().to_string();
            args.extend(["--output-dir", &dir]);
            let o = run_sync(&args);
            assert!(o.status.code().is_some_and(|c| c <= 1), "{cmd:?}: {o:?}");
            strip(o.stdout, d)
        };
        let (x, y) = (r(plain.path()), r(packed.path()));
        assert_eq!(x, y, "{cmd:?}");
    }
    let alerts = run_sync(&["detect", "--format", "json", "--output-dir", &dir]);
    assert!(
        String::from_utf8_lossy(&alerts.stdout).contains("events"),
        "{alerts:?}"
    );

    let es = elasticsearch::start(Config::default()).await.unwrap();
    let to = format!(
        "elasticsearch+{}?mode=raw&max_batch_events=500&in_flight=1",
        es.url()
    );
    let total: usize = a
        .values()
        .map(|p| std::fs::read_to_string(p).unwrap().lines().count())
        .sum();
    let mut kills = 0;
    for delay in [300u64, 700, 1100, 1500] {
        let mut child = tokio::process::Command::new(BIN)
            .args(["ship", "--output-dir", &dir, "--to", &to])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(delay)).await;
        if child.try_wait().unwrap().is_none() {
            child.start_kill().unwrap();
            kills += 1;
        }
        child.wait().await.unwrap();
    }
    let o = run_sync(&["ship", "--output-dir", &dir, "--to", &to]);
    assert_exit(&o, 0);
    let s = es.stats();
    assert_eq!(
        s.created as usize, total,
        "every archived event stored: {s:?}"
    );
    assert!(kills >= 1, "at least one ship was killed mid-way");
    // At the sender: what was sent again is at most the batch in flight at each kill.
    assert!(s.conflicts <= kills * 500, "{s:?}");
}

/// An archive an older version wrote (plain NDJSON, the default before zstd) keeps working
/// when newer files arrive compressed: both forms sit side by side, `verify` passes over both,
/// and `ship` sends every event of both exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archive_of_plain_files_takes_compressed_ones_beside_them() {
    let sim = start(org()).await;
    let dir = tempfile::tempdir().unwrap();
    let one = |event_type: &'static str, extra: &'static [&'static str]| {
        let mut args: Vec<String> = ["collect", "--quiet", "--no-ship", "--event-type"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.push(event_type.into());
        args.extend(extra.iter().map(|s| s.to_string()));
        args.extend(auth_args(&sim, dir.path()));
        let o = std::process::Command::new(BIN)
            .args(&args)
            .env("SFEVENTS_NOW", sim.now().to_rfc3339())
            .output()
            .unwrap();
        assert_exit(&o, 0);
    };
    one("ApiTotalUsage", &["--archive-compression", "none"]);
    one("URI", &[]);
    let files = event_files(dir.path());
    let plain = files
        .values()
        .filter(|p| p.to_string_lossy().ends_with(".ndjson"))
        .count();
    let packed = files
        .values()
        .filter(|p| p.to_string_lossy().ends_with(".ndjson.zst"))
        .count();
    assert!(plain >= 1 && packed >= 1, "{files:?}");
    check_delivery_log(dir.path());
    against(&sim, dir.path(), &["verify"], &[]).await;

    let total = ndjson_lines(dir.path()).len();
    let es = elasticsearch::start(Config::default()).await.unwrap();
    let to = format!("elasticsearch+{}?mode=raw", es.url());
    let d = dir.path().display().to_string();
    assert_exit(&run_sync(&["ship", "--output-dir", &d, "--to", &to]), 0);
    let s = es.stats();
    assert_eq!((s.created as usize, s.conflicts), (total, 0), "{s:?}");
}
