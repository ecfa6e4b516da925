//! The ledger, cursors and quarantine committed together.
use super::*;

fn entry(id: &str) -> FileEntry {
    FileEntry {
        file_id: id.into(),
        event_type: "Login".into(),
        log_date: "2024-01-01T00:00:00.000Z".into(),
        interval: "Daily".into(),
        sequence: 0,
        created_date: "2024-01-02T02:00:00.000Z".into(),
        rows: 3,
        bytes: 100,
        sha256: "ab".into(),
        csv_path: "x.csv".into(),
        ndjson_path: "x.ndjson".into(),
        ndjson_bytes: 300,
        oldest: None,
    }
}

#[test]
fn commit_moves_ledger_cursor_and_quarantine_together() {
    let d = tempfile::tempdir().unwrap();
    let s = Store::open(&d.path().join("state.db")).unwrap();
    let run = s.begin_run("o").unwrap();
    s.quarantine("o", "F1", "Login", "boom").unwrap();
    s.quarantine("o", "F1", "Login", "boom again").unwrap();
    assert_eq!(s.quarantined("o").unwrap()[0].attempts, 2);
    let cur = Cursor {
        position: "2024-01-02T02:00:00.000Z".into(),
        last_id: "F1".into(),
        extra: Some("Daily".into()),
    };
    s.commit_file(
        "o",
        run,
        &entry("F1"),
        Some("2024-01-01T05:00:00.000Z"),
        Some(("EventLogFile", "Login", &cur)),
    )
    .unwrap();
    assert!(s.quarantined("o").unwrap().is_empty());
    let stats = s.source_stats("o").unwrap();
    assert_eq!(
        stats[0].newest_event.as_deref(),
        Some("2024-01-01T05:00:00.000Z")
    );
    assert_eq!(stats[0].events, 3);
    assert_eq!(s.cursor("o", "EventLogFile", "Login").unwrap(), Some(cur));
    assert!(s.delivered_ids("o").unwrap().contains("F1"));
    // Committing the same file again (a redone unit) replaces, never duplicates.
    s.commit_file("o", run, &entry("F1"), None, None).unwrap();
    assert_eq!(s.totals_by_type("o").unwrap()[0].files, 1);
    s.finish_run(run, "ok", &RunTotals::default(), None)
        .unwrap();
    drop(s);
    let s = Store::open(&d.path().join("state.db")).unwrap();
    assert_eq!(s.runs("o", 5).unwrap()[0].status, "ok");
    assert_eq!(s.orgs().unwrap(), vec!["o".to_string()]);
}

#[test]
fn commits_wake_the_shippers() {
    let d = tempfile::tempdir().unwrap();
    let s = Store::open(&d.path().join("state.db")).unwrap();
    let run = s.begin_run("o").unwrap();
    let mut rx = commits();
    rx.mark_unchanged();
    s.commit_file("o", run, &entry("F9"), None, None).unwrap();
    assert!(
        rx.has_changed().unwrap(),
        "a committed file wakes the shippers"
    );
}
