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
        fields: None,
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

/// `files` and `meta` as the first releases created them, with one delivered file.
fn old_database(path: &std::path::Path) {
    let c = Connection::open(path).unwrap();
    c.execute_batch(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
         CREATE TABLE files (
            org TEXT NOT NULL, file_id TEXT NOT NULL, event_type TEXT NOT NULL,
            log_date TEXT NOT NULL, interval TEXT NOT NULL, sequence INTEGER NOT NULL,
            created_date TEXT NOT NULL, rows INTEGER NOT NULL, bytes INTEGER NOT NULL,
            sha256 TEXT NOT NULL, csv_path TEXT NOT NULL, ndjson_path TEXT NOT NULL,
            delivered_at TEXT NOT NULL, run_id INTEGER,
            PRIMARY KEY (org, file_id));
         INSERT INTO files VALUES ('o', 'OLD', 'Login', '2024-01-01T00:00:00.000Z', 'Daily', 0,
            '2024-01-02T02:00:00.000Z', 3, 100, 'ab', 'x.csv', 'x.ndjson', '2024-01-02T03:00:00Z', 1);",
    )
    .unwrap();
}

#[test]
fn an_old_ledger_gains_the_declared_fields_and_keeps_its_rows() {
    let d = tempfile::tempdir().unwrap();
    let db = d.path().join("state.db");
    old_database(&db);
    // Before any migration, the read-only door answers "nothing declared", not an error.
    let r = Reader::open(&db).unwrap();
    assert_eq!(r.elf_fields("o", "OLD").unwrap(), None);
    assert_eq!(r.object_fields("o", "LoginEvent").unwrap(), None);
    drop(r);

    let s = Store::open(&db).unwrap();
    assert!(
        s.delivered_ids("o").unwrap().contains("OLD"),
        "the old row is kept"
    );
    let declared = ElfFields {
        names: "EVENT_TYPE,RUN_TIME,TIMESTAMP_DERIVED".into(),
        types: "String,Number,DateTime".into(),
    };
    let run = s.begin_run("o").unwrap();
    let new = FileEntry {
        fields: Some(declared.clone()),
        ..entry("NEW")
    };
    s.commit_file("o", run, &new, None, None).unwrap();
    let types = [("LoginLatency".to_string(), "int".to_string())];
    s.set_object_fields("o", "LoginEvent", &types).unwrap();
    drop(s);
    // Opening again migrates nothing twice.
    drop(Store::open(&db).unwrap());

    let r = Reader::open(&db).unwrap();
    assert_eq!(
        r.elf_fields("o", "OLD").unwrap(),
        None,
        "an old file declares nothing"
    );
    assert_eq!(r.elf_fields("o", "NEW").unwrap(), Some(declared));
    assert_eq!(
        r.object_fields("o", "LoginEvent").unwrap(),
        Some(types.to_vec())
    );
    assert_eq!(r.object_fields("other", "LoginEvent").unwrap(), None);
    assert_eq!(r.output_at("o", "lake").unwrap(), None);
}
