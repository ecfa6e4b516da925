//! The HTTP outputs other than Elasticsearch, end to end: the real binary collects from sfsim,
//! then ships to the test receivers of `crates/receivers` (Splunk HEC, a Logplex drain,
//! Sumo Logic's HTTP source), which behave as their vendors document. Each test asserts on
//! what the receiver holds (every archived event, intact) and on what the sender sent, counted
//! by the receivers at their door before any dedup (`Handle::attempts`): in a clean run each
//! event once; under faults, again only what the faults refused or left in doubt, as many as
//! sfevents itself reports (`N retried`, `N events were in flight`).

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use common::*;
use receivers::common::{Attempts, Faults};
use receivers::{http as sumo, logplex, splunk};
use serde_json::Value;

const TOKEN: &str = "00000000-1111-2222-3333-444444444444";

/// A small org with its clock frozen, so what is collected is exact.
fn org(seed: u64) -> sfsim::SimConfig {
    let mut c = small_config(seed);
    c.freeze_clock = true;
    c.org.records_per_hour = (4, 12);
    c
}

/// Collects EventLogFile types and objects into `dir` without shipping.
async fn archive(seed: u64, dir: &Path) {
    let sim = start(org(seed)).await;
    let mut args = vec!["collect".to_string(), "--quiet".into(), "--no-ship".into()];
    args.extend(auth_args(&sim, dir));
    for a in [
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
    ] {
        args.push(a.into());
    }
    let o = tokio::process::Command::new(BIN)
        .args(&args)
        .env("SFEVENTS_NOW", sim.now().to_rfc3339())
        .output()
        .await
        .unwrap();
    assert_exit(&o, 0);
}

/// Every archived event by id.
fn archived(dir: &Path) -> HashMap<String, Value> {
    let mut m = HashMap::new();
    for (_, v) in ndjson_lines(dir) {
        let id = v["id"].as_str().unwrap().to_string();
        assert!(m.insert(id.clone(), v).is_none(), "{id} archived twice");
    }
    assert!(m.len() > 100, "only {} events archived", m.len());
    m
}

/// `ship` to `to`, running in the background (its output piped, for `wait_with_output`).
fn spawn_ship(dir: &Path, to: &str) -> tokio::process::Child {
    tokio::process::Command::new(BIN)
        .args([
            "ship",
            "--output-dir",
            &dir.display().to_string(),
            "--to",
            to,
        ])
        .env("SFEVENTS_HEC_TOKEN", TOKEN)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// A count `ship` reports on its output's line (`N retried`, `N events were in flight`), summed
/// over its lines; 0 when it says nothing of it.
fn reported(o: &std::process::Output, what: &str) -> u64 {
    let stdout = String::from_utf8_lossy(&o.stdout);
    let mut total = 0;
    for line in stdout.lines().filter(|l| l.starts_with("output '")) {
        for (at, _) in line.match_indices(what) {
            let digits = line[..at].rsplit(' ').next().unwrap_or_default();
            total += digits
                .parse::<u64>()
                .unwrap_or_else(|_| panic!("no count before {what:?}: {line}"));
        }
    }
    total
}

async fn ship(dir: &Path, to: &str, extra: &[&str]) -> std::process::Output {
    let mut all = vec![
        "ship".to_string(),
        "--output-dir".into(),
        dir.display().to_string(),
        "--to".into(),
        to.into(),
    ];
    all.extend(extra.iter().map(|s| s.to_string()));
    tokio::process::Command::new(BIN)
        .args(&all)
        .env("SFEVENTS_HEC_TOKEN", TOKEN)
        .output()
        .await
        .unwrap()
}

fn status_text(dir: &Path) -> String {
    let o = std::process::Command::new(BIN)
        .args(["status", "--output-dir", &dir.display().to_string()])
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Ids received, with how many times each came. Panics on an id the archive lacks or on a
/// missing one; returns the number of repeats.
fn check_ids(want: &HashMap<String, Value>, got: impl IntoIterator<Item = String>) -> usize {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for id in got {
        assert!(
            want.contains_key(&id),
            "received {id}, which is not archived"
        );
        *seen.entry(id).or_default() += 1;
    }
    let missing: Vec<_> = want.keys().filter(|k| !seen.contains_key(*k)).collect();
    assert!(
        missing.is_empty(),
        "{} never arrived, e.g. {:?}",
        missing.len(),
        missing.first()
    );
    seen.values().map(|n| n - 1).sum()
}

/// What the receiver counted at its door, summed over the archived events.
#[derive(Debug, Default)]
struct Tally {
    /// Attempts beyond each event's first: what the sender sent again.
    extra: u64,
    /// Attempts the receiver did not store: error answers, connections cut before storing.
    refused: u64,
    /// Attempts stored but never answered: cut after storing, stopped or killed mid-request.
    unanswered: u64,
    /// Events taken and answered more than once: sent again after the sender was told.
    accepted_again: usize,
    /// Events never taken with an answer.
    never_accepted: usize,
    /// The most attempts of one event.
    most: u64,
}

impl Tally {
    /// Every event was taken, and answered, exactly once: each attempt beyond it was refused or
    /// left without an answer.
    fn accepted_once(&self, what: &str) {
        assert!(
            self.accepted_again == 0 && self.never_accepted == 0,
            "{what}: {} events sent again after they were taken, {} never taken: {self:?}",
            self.accepted_again,
            self.never_accepted
        );
        assert_eq!(
            self.extra,
            self.refused + self.unanswered,
            "{what}: {self:?}"
        );
    }
}

/// The receiver's attempts against the archive: every archived event sent, nothing else, each
/// with its id.
fn tally(want: &HashMap<String, Value>, a: &Attempts) -> Tally {
    assert_eq!(a.without_id, 0, "every event sent carries its id");
    if let Some(id) = a.events.keys().find(|id| !want.contains_key(*id)) {
        panic!("{id} was sent but is not archived");
    }
    let never: Vec<&String> = want.keys().filter(|k| !a.events.contains_key(*k)).collect();
    assert!(
        never.is_empty(),
        "{} archived events were never sent, e.g. {:?}",
        never.len(),
        never.first()
    );
    let mut t = Tally::default();
    for x in a.events.values() {
        t.extra += x.attempts - 1;
        t.refused += x.refused;
        t.unanswered += x.unanswered();
        t.accepted_again += usize::from(x.accepted > 1);
        t.never_accepted += usize::from(x.accepted == 0);
        t.most = t.most.max(x.attempts);
    }
    t
}

/// A clean run: every event sent exactly once, not only stored once.
fn assert_sent_once(what: &str, want: &HashMap<String, Value>, a: &Attempts) {
    let t = tally(want, a);
    let again: Vec<_> = a.repeated().take(3).collect();
    assert_eq!(
        t.extra,
        0,
        "{what}: {} events sent more than once, e.g. {again:?}",
        a.repeated().count()
    );
    t.accepted_once(what);
}

fn hec(tokens: Vec<splunk::Token>) -> splunk::Config {
    splunk::Config {
        tls: true,
        ..splunk::Config::with_tokens(tokens)
    }
}

fn hec_to(h: &splunk::Handle, extra: &str) -> String {
    format!(
        "splunk+{}?name=hec&token_env=SFEVENTS_HEC_TOKEN&ca_file={}&ack_interval_ms=50{extra}",
        h.url(),
        h.ca_file().unwrap().display()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn splunk_gets_every_event_once_with_the_add_on_sourcetypes() {
    let dir = tempfile::tempdir().unwrap();
    archive(81, dir.path()).await;
    let want = archived(dir.path());
    let h = splunk::start(hec(vec![
        splunk::Token::new(TOKEN).with_indexes(&["salesforce"])
    ]))
    .await
    .unwrap();
    // Busy, throttled and cut connections on the way: retried, nothing lost.
    h.set_faults(Faults {
        requests_503: 2,
        requests_429: 1,
        close_connection: 1,
        ..Faults::default()
    });
    let o = ship(
        dir.path(),
        &hec_to(&h, "&index=salesforce&max_batch_events=100"),
        &[],
    )
    .await;
    assert_exit(&o, 0);
    let events = h.events();
    let repeats = check_ids(
        &want,
        events
            .iter()
            .map(|e| e.fields["event_id"].as_str().unwrap().to_string()),
    );
    assert_eq!(repeats, 0, "no batch was in doubt");
    // At the sender: sent again exactly what the 4 refused requests carried (a batch each),
    // and no more than sfevents says it retried (which also counts a send that failed before
    // the receiver read it).
    let s = h.stats().faults;
    assert_eq!(
        (s.requests_503, s.requests_429, s.connections_closed),
        (2, 1, 1)
    );
    let t = tally(&want, &h.attempts());
    t.accepted_once("splunk");
    assert_eq!(t.unanswered, 0, "{t:?}");
    assert!(t.refused > 0 && t.refused <= 4 * 100, "{t:?}");
    assert!(
        t.extra <= reported(&o, " retried"),
        "{t:?}\n{}",
        describe(&o)
    );
    for e in &events {
        let id = e.fields["event_id"].as_str().unwrap();
        let a = &want[id];
        assert_eq!(
            e.event, a["fields"],
            "{id}: the event is the Salesforce record"
        );
        assert_eq!(e.index, "salesforce");
        let source = a["source"].as_str().unwrap();
        let st = if source == "EventLogFile" {
            "sfdc:logfile".to_string()
        } else {
            format!("sfdc:{}", source.to_lowercase())
        };
        assert_eq!(e.sourcetype.as_deref(), Some(st.as_str()), "{id}");
        assert_eq!(e.fields["org_id"], a["org_id"]);
        let t = chrono::DateTime::parse_from_rfc3339(a["@timestamp"].as_str().unwrap()).unwrap();
        let got = e.time.expect("time");
        assert!(
            (got - t.timestamp_millis() as f64 / 1000.0).abs() < 0.0005,
            "{id}: time {got} for {t}"
        );
        assert_eq!(
            e.host.as_deref().map(|h| h.ends_with("salesforce.com")
                || h.contains("127.0.0.1")
                || h.contains("localhost")),
            Some(true),
            "{:?}",
            e.host
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn splunk_with_ack_moves_the_position_only_once_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    archive(82, dir.path()).await;
    let want = archived(dir.path());
    let h = splunk::start(hec(vec![splunk::Token::new(TOKEN).with_ack()]))
        .await
        .unwrap();
    // Splunk never acknowledges: the position must not move, and the events are sent again.
    h.set_acks(splunk::Acks {
        withheld: true,
        ..splunk::Acks::default()
    });
    let to = hec_to(&h, "&ack=true&ack_timeout_secs=1&max_batch_events=1000");
    let o = ship(dir.path(), &to, &[]).await;
    assert_exit(&o, 1);
    let text = describe(&o);
    assert!(text.contains("did not acknowledge"), "{text}");
    let status = status_text(dir.path());
    assert!(
        status.contains("hec") && status.contains(" 0:0 "),
        "{status}"
    );
    assert!(!h.events().is_empty(), "the events went, unacknowledged");

    // Acknowledgements come (late): everything is delivered and the position moves.
    h.set_acks(splunk::Acks {
        delay_ms: 300,
        ..splunk::Acks::default()
    });
    let o = ship(dir.path(), &to, &[]).await;
    assert_exit(&o, 0);
    let events = h.events();
    assert!(events
        .iter()
        .all(|e| e.channel.is_some() && e.ack_id.is_some()));
    check_ids(
        &want,
        events
            .iter()
            .map(|e| e.fields["event_id"].as_str().unwrap().to_string()),
    );
    assert!(!h.ack_ids_acked().is_empty());
    let status = status_text(dir.path());
    assert!(!status.contains(" 0:0 "), "{status}");

    // At the sender: every event was acknowledged once, and each other attempt was one Splunk
    // never acknowledged (every attempt was stored: no faults).
    let acked: HashSet<(String, u64)> = h.ack_ids_acked().into_iter().collect();
    let mut copies: HashMap<String, (u64, u64)> = HashMap::new();
    for e in &events {
        let key = (e.channel.clone().unwrap(), e.ack_id.unwrap());
        let c = copies
            .entry(e.fields["event_id"].as_str().unwrap().to_string())
            .or_default();
        if acked.contains(&key) {
            c.0 += 1;
        } else {
            c.1 += 1;
        }
    }
    let a = h.attempts();
    let t = tally(&want, &a);
    assert_eq!((t.refused, t.unanswered), (0, 0), "{t:?}");
    assert!(t.extra > 0, "the unacknowledged batch was sent again");
    for (id, x) in &a.events {
        let (yes, no) = copies[id];
        assert_eq!(yes, 1, "{id}: acknowledged once");
        assert_eq!(
            x.attempts,
            1 + no,
            "{id}: sent again only while unacknowledged"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn splunk_configuration_errors_name_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    archive(83, dir.path()).await;
    let h = splunk::start(hec(vec![splunk::Token::new(TOKEN).with_indexes(&["main"])]))
        .await
        .unwrap();
    // An index the token may not write to.
    let o = ship(dir.path(), &hec_to(&h, "&index=secret"), &[]).await;
    assert_exit(&o, 1);
    assert!(describe(&o).contains("allowed indexes"), "{}", describe(&o));
    assert!(h.events().is_empty(), "an index refused stores nothing");
    // ack = true on a token without it: Splunk takes the events and answers without an
    // ackId, so the output stops (the position stays, the events will be sent again).
    let o = ship(dir.path(), &hec_to(&h, "&ack=true"), &[]).await;
    assert_exit(&o, 1);
    assert!(
        describe(&o).contains("indexer acknowledgement"),
        "{}",
        describe(&o)
    );
    // A wrong token, never printed.
    let o = tokio::process::Command::new(BIN)
        .args([
            "ship",
            "--output-dir",
            &dir.path().display().to_string(),
            "--to",
            &hec_to(&h, ""),
        ])
        .env("SFEVENTS_HEC_TOKEN", "wrong-token-4711")
        .output()
        .await
        .unwrap();
    assert_exit(&o, 1);
    let text = describe(&o);
    assert!(
        text.contains("token") && !text.contains("wrong-token-4711"),
        "{text}"
    );
    // No token at all: a configuration error, exit 2.
    let o = tokio::process::Command::new(BIN)
        .args([
            "ship",
            "--output-dir",
            &dir.path().display().to_string(),
            "--to",
            &format!("splunk+{}", h.url()),
        ])
        .output()
        .await
        .unwrap();
    assert_exit(&o, 2);
    assert!(describe(&o).contains("token_env"), "{}", describe(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logplex_drain_gets_single_line_frames_and_drops_resent_frames() {
    let dir = tempfile::tempdir().unwrap();
    archive(84, dir.path()).await;
    let want = archived(dir.path());
    let h = logplex::start(logplex::Config {
        tls: true,
        dedup_frame_ids: true,
        basic: Some(("sfevents".into(), "drain-secret".into())),
        ..logplex::Config::default()
    })
    .await
    .unwrap();
    // Stored, then the connection cut: sfevents cannot know, sends the batch again with the
    // same Logplex-Frame-Id, and the drain drops the repeat.
    h.set_faults(Faults {
        close_after_store: 2,
        requests_503: 1,
        ..Faults::default()
    });
    let pw = dir.path().join("drain.pw");
    std::fs::write(&pw, "drain-secret\n").unwrap();
    let to = format!(
        "logplex+{}/logs?username=sfevents&password_file={}&ca_file={}&drain_token=d.0c8b2a4e&max_batch_events=150",
        h.url(),
        pw.display(),
        h.ca_file().unwrap().display()
    );
    let o = ship(dir.path(), &to, &[]).await;
    assert_exit(&o, 0);
    let msgs = h.messages();
    let mut ids = Vec::new();
    for m in &msgs {
        let v: Value = serde_json::from_str(&m.msg).expect("MSG is one line of JSON");
        let id = v["id"].as_str().unwrap().to_string();
        assert_eq!(v, want[&id], "{id} intact");
        let a = &want[&id];
        let ds = ecs::dataset_for(a["source"].as_str().unwrap(), a["event_type"].as_str());
        assert_eq!(m.msgid, ds);
        assert_eq!(m.app_name, "sfevents");
        assert_eq!(m.drain_token.as_deref(), Some("d.0c8b2a4e"));
        assert_eq!(m.facility(), 23);
        ids.push(id);
    }
    assert_eq!(check_ids(&want, ids), 0, "repeated frames were dropped");
    assert!(h.stats().duplicate_frames >= 2, "{:?}", h.stats());
    // At the sender, before the dedup: sent again exactly what the 3 requests cut or refused
    // carried (a batch each), and no more than sfevents says it retried.
    let s = h.stats().faults;
    assert_eq!((s.requests_503, s.connections_closed), (1, 2));
    let t = tally(&want, &h.attempts());
    t.accepted_once("logplex");
    assert!(t.refused > 0 && t.refused <= 150, "{t:?}");
    assert!(t.unanswered > 0 && t.unanswered <= 2 * 150, "{t:?}");
    assert!(
        t.extra <= reported(&o, " retried"),
        "{t:?}\n{}",
        describe(&o)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_posts_ndjson_in_bodies_that_fit_with_the_configured_headers() {
    let dir = tempfile::tempdir().unwrap();
    archive(85, dir.path()).await;
    let want = archived(dir.path());
    let h = sumo::start(sumo::Config {
        tls: true,
        required_header: Some(("X-Api-Key".into(), "k-123".into())),
        // Smaller than sfevents' bodies, so some requests are refused (413) and split.
        max_body_bytes: 48 * 1024,
        ..sumo::Config::default()
    })
    .await
    .unwrap();
    h.set_faults(Faults {
        requests_503: 1,
        close_connection: 1,
        ..Faults::default()
    });
    let to = format!(
        "{}/receiver/v1/http/abc?ca_file={}&header.X-Sumo-Category=salesforce%2Fprod&header_env.X-Api-Key=SFEVENTS_TEST_API_KEY&compression=gzip&max_body_bytes=65536",
        h.url(),
        h.ca_file().unwrap().display()
    );
    let o = tokio::process::Command::new(BIN)
        .args([
            "ship",
            "--output-dir",
            &dir.path().display().to_string(),
            "--to",
            &to,
        ])
        .env("SFEVENTS_TEST_API_KEY", "k-123")
        .output()
        .await
        .unwrap();
    assert_exit(&o, 0);
    let lines = h.lines();
    let mut ids = Vec::new();
    for l in &lines {
        let v = l.json().expect("each line is JSON");
        let id = v["id"].as_str().unwrap().to_string();
        assert_eq!(v, want[&id]);
        assert_eq!(l.header("x-sumo-category"), Some("salesforce/prod"));
        ids.push(id);
    }
    assert_eq!(check_ids(&want, ids), 0);
    let stats = h.stats();
    assert!(
        stats.requests_413 > 0 && stats.compressed_requests > 0,
        "{stats:?}"
    );
    // At the sender: sent again only what the two faults refused (a body refused for its size
    // is not read, so not counted: its halves are its first attempt); `retried` counts those
    // and the events of the batch not yet sent.
    let t = tally(&want, &h.attempts());
    t.accepted_once("http");
    assert_eq!(t.unanswered, 0, "{t:?}");
    assert!(t.refused > 0, "{t:?}");
    assert!(
        t.extra <= reported(&o, " retried"),
        "{t:?}\n{}",
        describe(&o)
    );

    // Without the key: refused for good, said so, exit 1, nothing moves.
    let dir2 = tempfile::tempdir().unwrap();
    archive(86, dir2.path()).await;
    let to = format!("{}/x?ca_file={}", h.url(), h.ca_file().unwrap().display());
    let o = ship(dir2.path(), &to, &[]).await;
    assert_exit(&o, 1);
    assert!(
        describe(&o).contains("refused the credentials"),
        "{}",
        describe(&o)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_sends_again_only_the_requests_refused_mid_batch() {
    let dir = tempfile::tempdir().unwrap();
    archive(90, dir.path()).await;
    let want = archived(dir.path());
    // The first request is stored and answered late; the one after it, of the same batch,
    // is refused: what the first took must not be sent again.
    let h = sumo::start(sumo::Config {
        faults: Faults {
            delay_ms: Some(500),
            ..Faults::default()
        },
        ..sumo::Config::default()
    })
    .await
    .unwrap();
    let to = format!(
        "{}/in?max_body_bytes=8192&max_batch_events=1000&in_flight=1&name=mid",
        h.url()
    );
    let child = spawn_ship(dir.path(), &to);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while h.lines().is_empty() {
        assert!(std::time::Instant::now() < deadline, "nothing arrived");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    h.set_faults(Faults {
        requests_503: 1,
        ..Faults::default()
    });
    let o = child.wait_with_output().await.unwrap();
    assert_exit(&o, 0);
    let lines = h.lines();
    let first: Vec<String> = lines
        .iter()
        .filter(|l| l.request == 1)
        .map(|l| l.json().unwrap()["id"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !first.is_empty() && first.len() < want.len() / 2,
        "the batch took several requests: {} events in the first",
        first.len()
    );
    assert_eq!(h.stats().faults.requests_503, 1);
    let a = h.attempts();
    for id in &first {
        assert_eq!(a.events[id].attempts, 1, "{id} was taken, then sent again");
    }
    let t = tally(&want, &a);
    t.accepted_once("http");
    assert_eq!(t.unanswered, 0, "{t:?}");
    // One request refused: at most the events that fit in one 8192-byte body.
    let mut lens: Vec<usize> = want.values().map(|v| v.to_string().len() + 1).collect();
    lens.sort_unstable();
    let fit = lens
        .iter()
        .scan(0, |total, l| {
            *total += l;
            Some(*total)
        })
        .take_while(|total| *total <= 8192)
        .count();
    assert!(
        t.refused > 0 && t.refused <= fit as u64,
        "one request refused, at most {fit} events: {t:?}"
    );
    assert!(
        t.extra <= reported(&o, " retried"),
        "{t:?}\n{}",
        describe(&o)
    );
    assert_eq!(
        check_ids(
            &want,
            lines
                .iter()
                .map(|l| l.json().unwrap()["id"].as_str().unwrap().to_string())
        ),
        0
    );
}

/// One of the three receivers, for the fault tests every output goes through.
enum Dest {
    Http(sumo::Handle),
    Logplex(logplex::Handle),
    Splunk(splunk::Handle),
}

impl Dest {
    async fn start(kind: &str) -> Dest {
        match kind {
            "http" => Dest::Http(sumo::start(sumo::Config::default()).await.unwrap()),
            // The drain drops repeated frame ids, as real ones do: what it stores hides a
            // resend, what it counted at the door (`attempts`) does not.
            "logplex" => Dest::Logplex(logplex::start(logplex::Config::default()).await.unwrap()),
            _ => Dest::Splunk(
                splunk::start(splunk::Config::with_tokens(vec![splunk::Token::new(TOKEN)]))
                    .await
                    .unwrap(),
            ),
        }
    }

    /// `--to` with `extra` settings.
    fn to(&self, extra: &str) -> String {
        match self {
            Dest::Http(h) => format!("{}/in?{extra}", h.url()),
            Dest::Logplex(h) => format!("logplex+{}/drain?{extra}", h.url()),
            Dest::Splunk(h) => format!("splunk+{}?token_env=SFEVENTS_HEC_TOKEN&{extra}", h.url()),
        }
    }

    /// The event ids received, a copy each.
    fn ids(&self) -> Vec<String> {
        let of = |v: Value| v["id"].as_str().unwrap().to_string();
        match self {
            Dest::Http(h) => h.lines().iter().map(|l| of(l.json().unwrap())).collect(),
            Dest::Logplex(h) => h
                .messages()
                .iter()
                .map(|m| of(serde_json::from_str(&m.msg).unwrap()))
                .collect(),
            Dest::Splunk(h) => h
                .events()
                .iter()
                .map(|e| e.fields["event_id"].as_str().unwrap().to_string())
                .collect(),
        }
    }

    fn attempts(&self) -> Attempts {
        match self {
            Dest::Http(h) => h.attempts(),
            Dest::Logplex(h) => h.attempts(),
            Dest::Splunk(h) => h.attempts(),
        }
    }

    fn set_faults(&self, f: Faults) {
        match self {
            Dest::Http(h) => h.set_faults(f),
            Dest::Logplex(h) => h.set_faults(f),
            Dest::Splunk(h) => h.set_faults(f),
        }
    }

    async fn stop(&self) {
        match self {
            Dest::Http(h) => h.stop().await,
            Dest::Logplex(h) => h.stop().await,
            Dest::Splunk(h) => h.stop().await,
        }
    }

    async fn restart(&self) {
        match self {
            Dest::Http(h) => h.restart().await,
            Dest::Logplex(h) => h.restart().await,
            Dest::Splunk(h) => h.restart().await,
        }
        .unwrap()
    }
}

const KINDS: [&str; 3] = ["http", "logplex", "splunk"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_output_survives_a_destination_down_at_start_then_restarted_mid_stream() {
    let dir = tempfile::tempdir().unwrap();
    archive(87, dir.path()).await;
    let want = archived(dir.path());
    for kind in KINDS {
        let d = Dest::start(kind).await;
        let to = d.to(&format!("max_batch_events=50&in_flight=1&name={kind}"));
        // Down at start: the pass fails, nothing moves.
        d.stop().await;
        let o = ship(dir.path(), &to, &[]).await;
        assert_exit(&o, 1);
        assert!(
            describe(&o).contains("cannot reach"),
            "{kind}: {}",
            describe(&o)
        );

        // Back, but slow; stopped and restarted while `ship` delivers.
        d.restart().await;
        d.set_faults(Faults {
            delay_ms: Some(30),
            ..Faults::default()
        });
        let child = spawn_ship(dir.path(), &to);
        while d.ids().len() < 200 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        d.stop().await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        d.restart().await;
        let o = child.wait_with_output().await.unwrap();
        let mut retried = reported(&o, " retried");
        // A pass may end on the outage (its retries are bounded); the next one finishes.
        if !o.status.success() {
            let o = ship(dir.path(), &to, &[]).await;
            assert_exit(&o, 0);
            retried += reported(&o, " retried");
        }
        let repeats = check_ids(&want, d.ids());
        assert!(
            repeats <= 50,
            "{kind}: {repeats} repeats, more than one batch"
        );
        // At the sender: only the batch cut by the stop was sent again, once, and counted.
        let t = tally(&want, &d.attempts());
        assert_eq!(t.never_accepted, 0, "{kind}: {t:?}");
        assert!(t.most <= 2, "{kind}: an event sent {} times", t.most);
        assert!(
            t.extra <= 50,
            "{kind}: {} events sent again, more than the one batch in flight: {t:?}",
            t.extra
        );
        assert!(
            t.extra <= retried,
            "{kind}: {} events sent again, {retried} reported retried: {t:?}",
            t.extra
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_output_after_a_sigkill_repeats_at_most_the_batches_in_flight_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    archive(88, dir.path()).await;
    let want = archived(dir.path());
    for kind in KINDS {
        let d = Dest::start(kind).await;
        d.set_faults(Faults {
            delay_ms: Some(200),
            ..Faults::default()
        });
        let to = d.to(&format!("max_batch_events=40&in_flight=2&name={kind}"));
        let child = spawn_ship(dir.path(), &to);
        // Some batches stored and answered, the next ones stored and not yet answered.
        while d.ids().len() < 200 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        signal(&child, "KILL");
        tokio::time::sleep(Duration::from_millis(300)).await;
        d.set_faults(Faults::default());
        let o = ship(dir.path(), &to, &[]).await;
        assert_exit(&o, 0);
        let text = describe(&o);
        assert!(
            text.contains("were in flight when the last run stopped"),
            "{kind}: {text}"
        );
        let in_flight = reported(&o, " events were in flight");
        let repeats = check_ids(&want, d.ids());
        assert!(
            repeats <= 80,
            "{kind}: {repeats} repeats, more than the batches in flight"
        );
        let status = status_text(dir.path());
        let row = status
            .lines()
            .find(|l| l.trim_start().starts_with(kind))
            .expect(&status);
        let said: u64 = row.split_whitespace().nth(4).unwrap().parse().unwrap();
        assert_eq!(said, in_flight, "{kind}: status and ship agree: {row}");
        assert!(said >= repeats as u64 && said <= 80, "{kind}: {row}");
        // At the sender: nothing refused, and sent again at most the events sfevents reports
        // in flight when it was killed, once each.
        let t = tally(&want, &d.attempts());
        assert_eq!((t.refused, t.never_accepted), (0, 0), "{kind}: {t:?}");
        assert!(t.most <= 2, "{kind}: an event sent {} times", t.most);
        assert!(
            t.extra <= in_flight,
            "{kind}: {} events sent again, {in_flight} reported in flight: {t:?}",
            t.extra
        );
        assert_eq!(reported(&o, " retried"), 0, "{kind}: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_output_urls_and_missing_secrets_are_usage_errors_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("syslog+ftp://logs.example", "syslog+tls://"),
        ("syslog+tls://logs.example?facility=local9", "local7"),
        (
            "syslog+tcp://logs.example?ca_file=/etc/hosts",
            "syslog+tls:// only",
        ),
        (
            "syslog+tls://logs.example?token_env=SFEVENTS_TEST_UNSET_TOKEN",
            "SFEVENTS_TEST_UNSET_TOKEN",
        ),
        ("splunk+https://splunk.example:8088", "token_env"),
        (
            "splunk+http://splunk.example:8088?token_env=HOME",
            "plain http://",
        ),
        ("logplex+https://drain.example?username=u", "password_env"),
        (
            "logplex+https://u:secret-pw@drain.example",
            "not written into URLs",
        ),
        (
            "https://intake.example?header.Content-Type=x",
            "set by sfevents",
        ),
        ("https://intake.example?bogus=1", "unknown setting 'bogus'"),
        ("kafka+https://k.example", "not known"),
    ];
    for (to, want) in cases {
        let o = tokio::process::Command::new(BIN)
            .args([
                "ship",
                "--output-dir",
                &dir.path().display().to_string(),
                "--to",
                to,
            ])
            .env_remove("SFEVENTS_TEST_UNSET_TOKEN")
            .output()
            .await
            .unwrap();
        assert_exit(&o, 2);
        let text = describe(&o);
        assert!(text.contains(want), "{to}: {text}");
        assert!(!text.contains("secret-pw"), "{to}: {text}");
        assert!(
            text.lines().count() < 10,
            "{to}: short, not a backtrace: {text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn format_ecs_sends_the_ecs_documents_to_http_and_splunk() {
    let dir = tempfile::tempdir().unwrap();
    archive(89, dir.path()).await;
    let want = archived(dir.path());
    let web = sumo::start(sumo::Config::default()).await.unwrap();
    let o = ship(dir.path(), &format!("{}/in?format=ecs", web.url()), &[]).await;
    assert_exit(&o, 0);
    let hec = splunk::start(splunk::Config::with_tokens(vec![splunk::Token::new(TOKEN)]))
        .await
        .unwrap();
    let to = format!(
        "splunk+{}?token_env=SFEVENTS_HEC_TOKEN&format=ecs",
        hec.url()
    );
    let o = ship(dir.path(), &to, &[]).await;
    assert_exit(&o, 0);
    let docs: Vec<Value> = web.lines().iter().map(|l| l.json().unwrap()).collect();
    let from_hec: Vec<Value> = hec.events().into_iter().map(|e| e.event).collect();
    for (what, docs) in [("http", docs), ("splunk", from_hec)] {
        let ids = docs.iter().map(|d| {
            let id = d["salesforce"]["event_id"].as_str().unwrap().to_string();
            let a = &want[&id];
            let ds = ecs::dataset_for(a["source"].as_str().unwrap(), a["event_type"].as_str());
            assert_eq!(
                d["event"]["dataset"],
                format!("salesforce.{ds}"),
                "{what} {id}"
            );
            assert!(
                d["@timestamp"].is_string() && d.get("fields").is_none(),
                "{what}: {d}"
            );
            id
        });
        assert_eq!(check_ids(&want, ids.collect::<Vec<_>>()), 0, "{what}");
    }
    // A clean run sends each event once, not only stores it once.
    assert_sent_once("http", &want, &web.attempts());
    assert_sent_once("splunk", &want, &hec.attempts());
}
