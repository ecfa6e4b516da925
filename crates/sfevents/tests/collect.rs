//! End-to-end: the real `sfevents` binary against sfsim, asserting on the archive.

mod common;

use std::time::Duration;

use common::*;
use sfsim::Faults;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_row_arrives_once_and_a_second_run_downloads_nothing() {
    let sim = start(small_config(7)).await;
    let dir = tempfile::tempdir().unwrap();
    let out = collect(&sim, dir.path(), &[]).await;
    assert_exit(&out, 0);
    let expected = expected_files(&sim, "auto");
    assert!(expected.len() > 50, "a realistic org has many files");
    check_archive(&sim, dir.path(), &expected);
    let types = rows_by_type(dir.path());
    for t in sfgen::DEFAULT_EVENT_TYPES {
        assert!(types.contains_key(*t), "no {t} rows collected");
    }

    let before = sim.api_calls();
    let out = collect(&sim, dir.path(), &[]).await;
    assert_exit(&out, 0);
    let spent = sim.api_calls() - before;
    assert!(spent <= 2, "a run with nothing new spent {spent} API calls");
    check_archive(&sim, dir.path(), &expected);
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daily_interval_and_event_type_selection() {
    let mut cfg = small_config(8);
    cfg.org.days = 2;
    let sim = start(cfg).await;
    let dir = tempfile::tempdir().unwrap();
    let out = collect(
        &sim,
        dir.path(),
        &[
            "--interval",
            "daily",
            "--event-type",
            "ApiTotalUsage",
            "--event-type",
            "Login",
        ],
    )
    .await;
    assert_exit(&out, 0);
    let expected = expected_of(&sim, "daily", &["ApiTotalUsage", "Login"]);
    assert!(!expected.is_empty());
    check_archive(&sim, dir.path(), &expected);
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_hourly_files_are_collected_by_the_next_run() {
    let sim = start(small_config(9)).await;
    let dir = tempfile::tempdir().unwrap();
    assert_exit(&collect(&sim, dir.path(), &[]).await, 0);
    let first = expected_files(&sim, "auto");
    let late: Vec<_> = sim
        .org
        .files
        .iter()
        .filter(|f| f.created_date > sim.now())
        .collect();
    assert!(!late.is_empty(), "the generated org has late files");
    assert!(late.iter().all(|f| f.sequence >= 2));

    sim.advance_clock(Duration::from_secs(3 * 3600));
    let out = collect(&sim, dir.path(), &[]).await;
    assert_exit(&out, 0);
    let second = expected_files(&sim, "auto");
    assert!(second.len() > first.len());
    for f in &late {
        assert!(
            second.iter().any(|s| s.id == f.id),
            "late file {} not expected?",
            f.id
        );
    }
    check_archive(&sim, dir.path(), &second);
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_expiring_mid_pagination_and_mid_download_are_survived() {
    let mut cfg = small_config(10);
    // Salesforce may return fewer rows than asked: 50 a page makes the listing span pages.
    cfg.page_size_cap = Some(50);
    // A token dies every 7 calls: between the pages of the listing and between downloads.
    cfg.faults = Faults {
        session_max_calls: Some(7),
        ..Default::default()
    };
    let sim = start(cfg).await;
    let dir = tempfile::tempdir().unwrap();
    let out = collect(&sim, dir.path(), &[]).await;
    assert_exit(&out, 0);
    check_archive(&sim, dir.path(), &expected_files(&sim, "auto"));
    let expected = expected_files(&sim, "auto");
    // Every download is one call; the listing of all files (both intervals) took several pages.
    let listed = sim.visible_files().len() as u64;
    assert!(listed > 150, "{listed} files is too few to page");
    assert!(
        sim.api_calls() >= expected.len() as u64 + listed.div_ceil(50),
        "the listing did not page"
    );
    let log = log_text(dir.path());
    assert!(
        log.matches("logging in again").count() >= 3,
        "sessions did not expire:\n{log}"
    );
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_downloads_are_retried_and_archived_byte_identical() {
    let mut cfg = small_config(11);
    cfg.org.rows_per_hour = (20, 40);
    cfg.faults = Faults {
        cut_download_after_bytes: Some(700),
        ..Default::default()
    };
    let sim = start(cfg).await;
    let dir = tempfile::tempdir().unwrap();
    let out = collect(
        &sim,
        dir.path(),
        &["--event-type", "URI", "--event-type", "Login"],
    )
    .await;
    assert_exit(&out, 0);
    let expected = expected_of(&sim, "auto", &["URI", "Login"]);
    check_archive(&sim, dir.path(), &expected);
    let log = log_text(dir.path());
    assert!(
        log.matches("download cut short").count() >= expected.len() / 2,
        "downloads were not cut:\n{log}"
    );
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_of_5xx_and_429_are_survived() {
    let mut cfg = small_config(12);
    cfg.faults = Faults {
        error_5xx_every: Some(3),
        error_429_every: Some(5),
        retry_after_secs: Some(0),
        ..Default::default()
    };
    let sim = start(cfg).await;
    let dir = tempfile::tempdir().unwrap();
    let out = collect(
        &sim,
        dir.path(),
        &[
            "--event-type",
            "API",
            "--event-type",
            "RestApi",
            "--event-type",
            "Logout",
            // One call at a time makes the fault pattern exact: every 3rd and every 5th call
            // fail, so at most two calls in a row fail, within the 5 attempts per request.
            "--concurrency",
            "1",
        ],
    )
    .await;
    assert_exit(&out, 0);
    let expected = expected_of(&sim, "auto", &["API", "RestApi", "Logout"]);
    check_archive(&sim, dir.path(), &expected);
    let log = log_text(dir.path());
    assert!(log.contains("503"), "no 5xx was seen:\n{log}");
    assert!(log.contains("429"), "no 429 was seen:\n{log}");
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_limit_exceeded_stops_with_exit_1_and_the_next_run_resumes() {
    let sim = start(small_config(13)).await;
    let dir = tempfile::tempdir().unwrap();
    let expected = expected_files(&sim, "auto");
    sim.set_daily_api_limit(sim.api_calls() + 40);
    let out = collect(&sim, dir.path(), &["--api-budget-percent", "100"]).await;
    assert_exit(&out, 1);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("limit"), "{err}");
    let partial = ndjson_lines(dir.path()).len();
    let total: usize = expected.iter().map(|f| sim.org.rows(&f.id).count()).sum();
    assert!(partial < total, "the limit stopped the run early");

    // A new API day.
    sim.reset_api_calls();
    sim.set_daily_api_limit(1_000_000);
    let out = collect(&sim, dir.path(), &[]).await;
    assert_exit(&out, 0);
    check_archive(&sim, dir.path(), &expected);
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_points_loses_and_repeats_nothing() {
    let mut cfg = small_config(14);
    cfg.org.rows_per_hour = (5, 30);
    cfg.faults = Faults {
        delay_ms: Some(10),
        ..Default::default()
    };
    let sim = start(cfg).await;
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec![
        "collect".to_string(),
        "--quiet".to_string(),
        "--concurrency".into(),
        "3".into(),
    ];
    args.extend(auth_args(&sim, dir.path()));
    // Deterministic "random" kill points, from early (mid-listing) to late.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut kills = 0;
    for round in 0..6 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let after = Duration::from_millis(150 + state % 900);
        let mut child = tokio::process::Command::new(BIN)
            .args(&args)
            .spawn()
            .unwrap();
        tokio::time::sleep(after).await;
        match child.try_wait().unwrap() {
            Some(status) => {
                assert!(status.success(), "round {round}: run ended with {status}");
                break;
            }
            None => {
                child.start_kill().unwrap(); // SIGKILL
                child.wait().await.unwrap();
                kills += 1;
            }
        }
    }
    assert!(kills >= 2, "only {kills} runs were killed mid-way");
    let partial = ndjson_lines(dir.path()).len();
    assert!(
        partial > 0,
        "the killed runs archived nothing: kill points too early"
    );
    let out = collect(&sim, dir.path(), &[]).await;
    assert_exit(&out, 0);
    check_archive(&sim, dir.path(), &expected_files(&sim, "auto"));
    // Nothing half-written is left behind.
    let spool: Vec<_> = std::fs::read_dir(dir.path().join(".spool"))
        .unwrap()
        .collect();
    assert!(spool.is_empty());
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_reports_cursors_runs_and_api_calls() {
    let sim = start(small_config(15)).await;
    let dir = tempfile::tempdir().unwrap();
    assert_exit(
        &collect(&sim, dir.path(), &["--event-type", "Login"]).await,
        0,
    );
    let out = run(&[
        "status".into(),
        "--output-dir".into(),
        dir.path().display().to_string(),
    ])
    .await;
    assert_exit(&out, 0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Login"), "{text}");
    assert!(text.contains("Hourly"), "{text}");
    assert!(text.contains(&sim.org.org_id), "{text}");
    assert!(text.contains("API calls"), "{text}");
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_org_without_the_interval_field_is_collected_by_sequence() {
    let mut cfg = small_config(16);
    cfg.org.days = 2;
    cfg.elf_interval_field = false;
    let sim = start(cfg).await;
    let dir = tempfile::tempdir().unwrap();
    let out = collect(&sim, dir.path(), &["--event-type", "Report"]).await;
    assert_exit(&out, 0);
    let expected = expected_of(&sim, "auto", &["Report"]);
    check_archive(&sim, dir.path(), &expected);
    assert!(log_text(dir.path()).contains("no Interval field"));

    let dir = tempfile::tempdir().unwrap();
    let out = collect(
        &sim,
        dir.path(),
        &["--event-type", "Report", "--interval", "daily"],
    )
    .await;
    assert_exit(&out, 0);
    let expected = expected_of(&sim, "daily", &["Report"]);
    assert!(!expected.is_empty());
    check_archive(&sim, dir.path(), &expected);
    sim.shutdown();
}
