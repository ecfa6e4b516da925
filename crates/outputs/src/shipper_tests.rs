//! The shipper against a destination kept in memory that refuses on demand: positions,
//! retries, dead letters and batches in flight, independent of any real destination (the
//! Elasticsearch output's own tests run against the receiver).

use std::collections::HashMap;
use std::sync::Mutex;

use futures_util::future::BoxFuture;

use super::*;
use archive::state::{LogFile, PageCommit, Position};

/// Keeps what it is sent, by id; refuses as told.
#[derive(Default)]
struct Memory {
    got: Mutex<HashMap<String, u32>>,
    /// Ids answered `Dead` every time.
    poison: Vec<String>,
    /// The next n sends fail whole (transient).
    fail_sends: Mutex<u32>,
    /// The next n sends are throttled with this Retry-After.
    throttle: Mutex<(u32, Duration)>,
    /// The next n events are answered `Retry`.
    retry_items: Mutex<u32>,
    /// Every send fails for good.
    fatal: bool,
    sends: Mutex<u32>,
}

impl Sink for Memory {
    fn send<'a>(&'a self, events: &'a [Event]) -> BoxFuture<'a, Result<Vec<Verdict>, SinkError>> {
        Box::pin(async move {
            *self.sends.lock().unwrap() += 1;
            if self.fatal {
                return Err(SinkError::Fatal("credentials refused".into()));
            }
            {
                let mut t = self.throttle.lock().unwrap();
                if t.0 > 0 {
                    t.0 -= 1;
                    return Err(SinkError::Throttled {
                        message: "429, Retry-After".into(),
                        after: t.1,
                    });
                }
            }
            {
                let mut f = self.fail_sends.lock().unwrap();
                if *f > 0 {
                    *f -= 1;
                    return Err(SinkError::Transient("503".into()));
                }
            }
            let mut out = Vec::new();
            for e in events {
                if self.poison.contains(&e.id) {
                    out.push(Verdict::Dead("mapping error".into()));
                    continue;
                }
                {
                    let mut r = self.retry_items.lock().unwrap();
                    if *r > 0 {
                        *r -= 1;
                        out.push(Verdict::Retry("429".into()));
                        continue;
                    }
                }
                let mut got = self.got.lock().unwrap();
                let n = got.entry(e.id.clone()).or_insert(0);
                *n += 1;
                out.push(if *n > 1 {
                    Verdict::Duplicate
                } else {
                    Verdict::Delivered
                });
            }
            Ok(out)
        })
    }
}

/// Today's dead-letter file of the in-memory output.
fn dead_letters(d: &tempfile::TempDir) -> String {
    let dl = std::fs::read_dir(d.path().join("dead-letter/mem"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    std::fs::read_to_string(dl.path()).unwrap()
}

/// An archive with `files` NDJSON files of `rows` events each, committed as object pages.
fn archive(files: usize, rows: usize) -> (tempfile::TempDir, Arc<Store>, Vec<String>) {
    let d = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&d.path().join("state.db")).unwrap());
    let mut ids = Vec::new();
    for f in 0..files {
        let path = format!("events/login_event/2024-01-01/f{f}.ndjson");
        let full = d.path().join(&path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        let mut text = String::new();
        for r in 0..rows {
            let id = format!("e{f}-{r}");
            text.push_str(&format!(
                "{{\"@timestamp\":\"2024-01-01T00:00:{:02}.000Z\",\"id\":\"{id}\",\"source\":\"LoginEvent\",\"fields\":{{}}}}\n",
                r % 60
            ));
            ids.push(id);
        }
        std::fs::write(&full, &text).unwrap();
        let lf = LogFile {
            source: "LoginEvent".into(),
            dataset: "login_event".into(),
            path,
            rows: rows as u64,
            bytes: text.len() as u64,
            oldest: Some("2024-01-01T00:00:00.000Z".into()),
            newest: Some("2024-01-01T00:00:59.000Z".into()),
        };
        store
            .commit_page(
                "org",
                1,
                &PageCommit {
                    source: "LoginEvent",
                    seen: &[],
                    files: std::slice::from_ref(&lf),
                    cursor: None,
                    newest: None,
                },
            )
            .unwrap();
    }
    (d, store, ids)
}

fn shipper(d: &tempfile::TempDir, store: &Arc<Store>, sink: Arc<Memory>, max: usize) -> Shipper {
    Shipper::new(
        "mem",
        sink,
        store.clone(),
        d.path().to_path_buf(),
        "org",
        BatchLimits {
            max_events: max,
            max_bytes: 1 << 20,
            in_flight: 3,
        },
        RetryLimit {
            attempts: Some(4),
            base: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        },
        Arc::new(AtomicBool::new(false)),
    )
}

fn position(store: &Store) -> Position {
    store.position("org", "mem", Start::Beginning).unwrap()
}

#[tokio::test]
async fn every_event_once_with_retries_and_dead_letters() {
    let (d, store, ids) = archive(5, 7);
    let sink = Arc::new(Memory {
        poison: vec!["e2-3".into()],
        fail_sends: Mutex::new(2),
        retry_items: Mutex::new(5),
        ..Memory::default()
    });
    let r = shipper(&d, &store, sink.clone(), 4)
        .ship(Start::Beginning)
        .await;
    assert_eq!(r.error, None);
    assert_eq!((r.delivered, r.dead, r.remaining), (34, 1, 0));
    assert!(r.retried >= 5, "{r:?}");
    let got = sink.got.lock().unwrap().clone();
    for id in &ids {
        if id == "e2-3" {
            assert!(!got.contains_key(id));
        } else {
            assert_eq!(got.get(id), Some(&1), "{id}");
        }
    }
    let p = position(&store);
    assert_eq!((p.delivered, p.dead), (34, 1));
    assert_eq!(store.backlog("org", &p).unwrap().events, 0);
    // The poison event is in today's dead-letter file with the destination's reason.
    let text = dead_letters(&d);
    assert!(
        text.contains("\"e2-3\"") && text.contains("mapping error"),
        "{text}"
    );

    // A second pass has nothing to send.
    let sends = *sink.sends.lock().unwrap();
    let r = shipper(&d, &store, sink.clone(), 4)
        .ship(Start::Beginning)
        .await;
    assert_eq!((r.delivered, r.error), (0, None));
    assert_eq!(*sink.sends.lock().unwrap(), sends);
}

#[tokio::test]
async fn a_destination_that_stays_down_keeps_the_position_and_reports() {
    let (d, store, _) = archive(2, 3);
    let sink = Arc::new(Memory {
        fail_sends: Mutex::new(1000),
        ..Memory::default()
    });
    let r = shipper(&d, &store, sink, 2).ship(Start::Beginning).await;
    let e = r.error.clone().unwrap();
    assert!(e.message.contains("503"), "{r:?}");
    assert_eq!(e.kind, ErrorKind::Unavailable);
    assert_eq!((r.delivered, r.remaining), (0, 6));
    let p = position(&store);
    assert_eq!((p.seq, p.row), (0, 0));
    assert!(p.last_error.unwrap().contains("503"));

    // Back up: everything arrives, once.
    let sink = Arc::new(Memory::default());
    let r = shipper(&d, &store, sink.clone(), 2)
        .ship(Start::Beginning)
        .await;
    assert_eq!((r.delivered, r.remaining, r.error), (6, 0, None));
    assert_eq!(sink.got.lock().unwrap().len(), 6);
}

#[tokio::test]
async fn fatal_errors_stop_at_once_and_new_outputs_can_start_now() {
    let (d, store, _) = archive(1, 3);
    let sink = Arc::new(Memory {
        fatal: true,
        ..Memory::default()
    });
    let r = shipper(&d, &store, sink.clone(), 10)
        .ship(Start::Beginning)
        .await;
    let e = r.error.unwrap();
    assert!(e.message.contains("credentials"));
    assert_eq!(e.kind, ErrorKind::Refused);
    assert_eq!(*sink.sends.lock().unwrap(), 1, "no retry of a fatal error");

    let (d, store, _) = archive(2, 3);
    let sink = Arc::new(Memory::default());
    let s = Shipper::new(
        "late",
        sink.clone(),
        store.clone(),
        d.path().to_path_buf(),
        "org",
        BatchLimits::default(),
        RetryLimit::bounded(2),
        Arc::new(AtomicBool::new(false)),
    );
    let r = s.ship(Start::Now).await;
    assert_eq!((r.delivered, r.remaining), (0, 0));
}

#[tokio::test]
async fn a_pass_resumes_mid_file_and_replay_leaves_the_position() {
    let (d, store, ids) = archive(1, 10);
    // Half of the file was delivered before a crash.
    store.position("org", "mem", Start::Beginning).unwrap();
    let first = store.log_from("org", 0, 1).unwrap()[0].seq;
    store
        .advance(
            "org",
            "mem",
            &archive::state::Advance {
                seq: first,
                row: 5,
                delivered: 5,
                ..Default::default()
            },
        )
        .unwrap();
    let sink = Arc::new(Memory::default());
    let r = shipper(&d, &store, sink.clone(), 3)
        .ship(Start::Beginning)
        .await;
    assert_eq!(r.delivered, 5);
    let got = sink.got.lock().unwrap().clone();
    assert!(ids[5..].iter().all(|i| got.contains_key(i)));
    assert!(ids[..5].iter().all(|i| !got.contains_key(i)));

    let before = position(&store);
    let entries = store.log_select("org", None, None, &[]).unwrap();
    let r = shipper(&d, &store, sink.clone(), 3).replay(entries).await;
    assert_eq!((r.delivered, r.duplicates), (10, 5));
    assert_eq!(position(&store), before);
}

#[tokio::test]
async fn empty_files_move_the_position_too() {
    let (d, store, _) = archive(0, 0);
    let path = "events/login/2024-01-01/empty.ndjson".to_string();
    std::fs::create_dir_all(d.path().join("events/login/2024-01-01")).unwrap();
    std::fs::write(d.path().join(&path), "").unwrap();
    let f = LogFile {
        source: "EventLogFile".into(),
        dataset: "login".into(),
        path,
        rows: 0,
        bytes: 0,
        oldest: None,
        newest: None,
    };
    store
        .commit_page(
            "org",
            1,
            &PageCommit {
                source: "EventLogFile",
                seen: &[],
                files: std::slice::from_ref(&f),
                cursor: None,
                newest: None,
            },
        )
        .unwrap();
    let sink = Arc::new(Memory::default());
    let r = shipper(&d, &store, sink.clone(), 5)
        .ship(Start::Beginning)
        .await;
    assert_eq!((r.delivered, r.error), (0, None));
    let seq = store.log_from("org", 0, 1).unwrap()[0].seq;
    assert!(
        position(&store).seq > seq,
        "the position passed the empty file"
    );
    assert_eq!(*sink.sends.lock().unwrap(), 0);
}

#[tokio::test]
async fn a_retry_after_is_waited_out() {
    let (d, store, _) = archive(1, 3);
    let sink = Arc::new(Memory {
        throttle: Mutex::new((1, Duration::from_millis(300))),
        ..Memory::default()
    });
    let started = std::time::Instant::now();
    // The shipper's own backoff here is at most 5 ms: only the Retry-After makes it wait.
    let r = shipper(&d, &store, sink.clone(), 10)
        .ship(Start::Beginning)
        .await;
    assert_eq!((r.delivered, r.error), (3, None));
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
}

/// Commits one file of `dataset` holding `lines` as a page.
fn commit_lines(d: &tempfile::TempDir, store: &Store, dataset: &str, name: &str, lines: &[String]) {
    let path = format!("events/{dataset}/2024-01-01/{name}.ndjson");
    let full = d.path().join(&path);
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&full, &text).unwrap();
    let lf = LogFile {
        source: dataset.into(),
        dataset: dataset.into(),
        path,
        rows: lines.len() as u64,
        bytes: text.len() as u64,
        oldest: None,
        newest: None,
    };
    let page = PageCommit {
        source: dataset,
        seen: &[],
        files: std::slice::from_ref(&lf),
        cursor: None,
        newest: None,
    };
    store.commit_page("org", 1, &page).unwrap();
}

fn alert_line(id: &str, level: &str) -> String {
    format!(
        "{{\"@timestamp\":\"2024-01-01T00:00:00.000Z\",\"id\":\"{id}\",\"source\":\"sfevents\",\"event_type\":\"Alert\",\"fields\":{{\"@timestamp\":\"2024-01-01T00:00:00.000Z\",\"id\":\"{id}\",\"rule\":{{\"name\":\"r\",\"level\":\"{level}\"}},\"group\":{{}}}}}}"
    )
}

#[tokio::test]
async fn a_notifier_reads_only_alerts_and_a_digest_waits_out_its_span() {
    let (d, store, _) = archive(2, 3);
    let alerts = [("a1", "high"), ("a2", "low"), ("a3", "critical")];
    let lines: Vec<String> = alerts.iter().map(|(id, l)| alert_line(id, l)).collect();
    commit_lines(&d, &store, "alert", "alerts-1-3", &lines);
    archive_more(&d, &store);
    let routing = |gather_secs| Routing {
        min_level: crate::notify::level_rank("medium").unwrap(),
        rules: Vec::new(),
        suppress_secs: 0,
        gather_secs,
    };
    // A digest of a day: everything was committed just now, so nothing is read yet.
    let sink = Arc::new(Memory::default());
    let r = shipper(&d, &store, sink.clone(), 10)
        .notifying(Some(routing(86_400)))
        .ship(Start::Beginning)
        .await;
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!((r.delivered, r.skipped), (0, 0));
    assert_eq!(*sink.sends.lock().unwrap(), 0);
    // At once: the alerts at or above medium, none of the login events around them; the
    // position passes the whole log.
    let r = shipper(&d, &store, sink.clone(), 10)
        .notifying(Some(routing(0)))
        .ship(Start::Beginning)
        .await;
    let mut got: Vec<String> = sink.got.lock().unwrap().keys().cloned().collect();
    got.sort();
    assert_eq!(got, ["a1", "a3"]);
    assert_eq!((r.delivered, r.skipped, r.suppressed), (2, 1, 0));
    let p = position(&store);
    assert_eq!((p.seq, p.skipped), (store.log_end("org").unwrap(), 1));
}

/// One more file of login events after the alerts.
fn archive_more(d: &tempfile::TempDir, store: &Store) {
    let line = "{\"@timestamp\":\"2024-01-01T00:00:00.000Z\",\"id\":\"late\",\"source\":\"LoginEvent\",\"fields\":{}}";
    commit_lines(d, store, "login_event", "late", &[line.to_string()]);
}

/// Lines that are not archive events are dead-lettered with why, never sent: one of them in a
/// `_bulk` or HEC body would fail the whole request. The events around them go once each.
#[tokio::test]
async fn broken_lines_are_dead_lettered_and_the_rest_sent_once() {
    let d = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&d.path().join("state.db")).unwrap());
    let good = |id: &str| {
        format!("{{\"@timestamp\":\"2024-01-01T00:00:00.000Z\",\"id\":\"{id}\",\"fields\":{{\"A\":\"x\\ty\"}}}}")
    };
    let full = good("g1");
    let broken = [
        full[..full.len() - 1].to_string(),                 // cut short
        full.replace("x\\ty", "x\ty"),                      // a raw tab in a string
        full.replace("x\\ty", "x\\qy"),                     // an escape JSON has not
        full.replace("\"fields\"", "\"fields\"  :,"),       // a stray comma
        format!("{full} {{}}"),                             // two values
        "{\"@timestamp\":\"t\",\"fields\":{}}".to_string(), // no id
        "{\"id\":7,\"fields\":{}}".to_string(),             // an id that is not a string
        "[\"id\",\"g9\"]".to_string(),                      // not an object
    ];
    let mut lines = vec![good("g1"), good("g\\u0032")];
    lines.extend(broken.iter().cloned());
    lines.push(good("g3"));
    commit_lines(&d, &store, "login_event", "f0", &lines);
    let sink = Arc::new(Memory::default());
    let r = shipper(&d, &store, sink.clone(), 4)
        .ship(Start::Beginning)
        .await;
    assert_eq!(
        (r.delivered, r.dead, r.error),
        (3, broken.len() as u64, None)
    );
    let got = sink.got.lock().unwrap().clone();
    let want: HashMap<String, u32> = [("g1", 1), ("g2", 1), ("g3", 1)]
        .map(|(k, v)| (k.to_string(), v))
        .into();
    assert_eq!(got, want, "the escaped id is read as serde reads it");
    let text = dead_letters(&d);
    assert_eq!(
        text.matches("the archived line is not JSON").count(),
        7,
        "{text}"
    );
    assert_eq!(
        text.matches("the archived event has no id").count(),
        1,
        "{text}"
    );
}
