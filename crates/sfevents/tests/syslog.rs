//! The syslog output against a real rsyslog (`common::rsyslog`): the binary collects from
//! sfsim and ships over TLS (rsyslog's OpenSSL and GnuTLS drivers), TCP and UDP, and each test
//! asserts on what rsyslog parsed: every archived event once, as RFC 5424 with the event's id,
//! org and dataset in the structured data, values intact, oversize handled as configured, and
//! nothing lost when rsyslog or sfevents stops mid-stream.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, SubsecRound, Utc};
use common::rsyslog::{check_repeats, counts, Input, Received, Rsyslog};
use common::*;
use outputs::{self, Event, OrgContext, SinkError, Verdict};
use serde_json::{json, Value};

const SD_ID: &str = "sfevents@32473";

/// A small org with its clock frozen, so what is collected is exact.
fn org(seed: u64) -> sfsim::SimConfig {
    let mut c = small_config(seed);
    c.freeze_clock = true;
    c.org.records_per_hour = (4, 12);
    c
}

/// Objects and EventLogFile together, so several datasets (and notable events) are shipped.
fn sources() -> Vec<String> {
    "--object LoginEvent --object SetupAuditTrail --event-type Login --event-type Logout \
     --event-type ApiTotalUsage --backfill-days 1"
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// `sfevents <command>` with the org's flags, as of the simulator's frozen now.
fn command(
    sim: &sfsim::SimHandle,
    dir: &Path,
    command: &str,
    extra: &[String],
) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.args([command, "--quiet"])
        .args(auth_args(sim, dir))
        .args(sources())
        .args(extra)
        .env("SFEVENTS_NOW", sim.now().to_rfc3339())
        .env_remove("SSL_CERT_FILE")
        // A failing test must not leave sfevents running.
        .kill_on_drop(true);
    cmd
}

async fn collect_only(sim: &sfsim::SimHandle, dir: &Path) {
    let o = command(sim, dir, "collect", &["--no-ship".into()])
        .output()
        .await
        .unwrap();
    assert_exit(&o, 0);
}

async fn ship(dir: &Path, to: &str) -> std::process::Output {
    run(&[
        "ship".into(),
        "--output-dir".into(),
        dir.display().to_string(),
        "--to".into(),
        to.into(),
    ])
    .await
}

/// `--to` for one of rsyslog's inputs.
fn to(r: &Rsyslog, input: Input, query: &str) -> String {
    let ca = r.ca_file().display().to_string();
    match input {
        Input::Tls => format!("syslog+tls://127.0.0.1:{}?ca_file={ca}&{query}", r.tls_port),
        Input::Gtls => format!(
            "syslog+tls://127.0.0.1:{}?ca_file={ca}&{query}",
            r.gtls_port
        ),
        Input::Mtls => {
            let (cert, key) = r.client_files();
            format!(
                "syslog+tls://127.0.0.1:{}?ca_file={ca}&cert_file={}&key_file={}&{query}",
                r.mtls_port,
                cert.display(),
                key.display()
            )
        }
        Input::Tcp => format!("syslog+tcp://127.0.0.1:{}?{query}", r.tcp_port),
        Input::Udp => format!("syslog+udp://127.0.0.1:{}?{query}", r.udp_port),
    }
}

/// Every event of the archive by id, each once.
fn archived(dir: &Path) -> HashMap<String, Value> {
    let mut m = HashMap::new();
    for (_, v) in ndjson_lines(dir) {
        let id = v["id"].as_str().unwrap().to_string();
        assert!(m.insert(id.clone(), v).is_none(), "{id} archived twice");
    }
    m
}

fn dataset(v: &Value) -> String {
    ecs::dataset_for(v["source"].as_str().unwrap(), v["event_type"].as_str())
}

fn notable(v: &Value) -> bool {
    let f = &v["fields"];
    match (v["source"].as_str(), v["event_type"].as_str()) {
        (Some("SetupAuditTrail"), _) => true,
        (_, Some("Login")) => f["LOGIN_STATUS"]
            .as_str()
            .is_some_and(|s| !s.is_empty() && s != "LOGIN_NO_ERROR"),
        (Some("LoginEvent"), _) => f["Status"]
            .as_str()
            .is_some_and(|s| !s.is_empty() && s != "Success"),
        _ => false,
    }
}

/// rsyslog parsed `r` as the RFC 5424 message of `event`: version 1, local0 with info (or
/// notice for a notable event), the event's time to the microsecond, the instance host, the
/// dataset as MSGID, the id, org and dataset in the structured data, and MSG the event.
fn check_message(r: &Received, event: &Value, host: &str, app: &str) {
    let id = event["id"].as_str().unwrap();
    assert_eq!(r.version, "1", "{r:?}");
    let severity = if notable(event) { 5 } else { 6 };
    assert_eq!(r.pri, 16 * 8 + severity, "{id}: {r:?}");
    let want = DateTime::parse_from_rfc3339(event["@timestamp"].as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
        .trunc_subsecs(6);
    let got = DateTime::parse_from_rfc3339(&r.timestamp)
        .unwrap()
        .with_timezone(&Utc);
    assert_eq!(got, want, "{id}: {}", r.timestamp);
    assert_eq!(
        (r.hostname.as_str(), r.app_name.as_str(), r.procid.as_str()),
        (host, app, "-")
    );
    let ds = dataset(event);
    assert_eq!(r.msgid, ds);
    let sd = r.sd();
    assert_eq!(sd.len(), 1, "{sd:?}");
    assert_eq!(sd[0].0, SD_ID);
    let params: Vec<(&str, &str)> = sd[0]
        .1
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let org = event["org_id"].as_str().unwrap();
    assert_eq!(params, [("id", id), ("org", org), ("dataset", ds.as_str())]);
    let msg: Value = serde_json::from_str(&r.msg)
        .unwrap_or_else(|e| panic!("{id}: MSG is not JSON ({e}): {}", r.msg));
    assert_eq!(&msg, event, "{id}");
}

/// The host of the simulator's instance URL: the HOSTNAME of every message.
fn instance_host(sim: &sfsim::SimHandle) -> String {
    url::Url::parse(&sim.url)
        .unwrap()
        .host_str()
        .unwrap()
        .to_string()
}

/// Every archived event arrived exactly once and as itself.
fn check_once(got: &[Received], want: &HashMap<String, Value>, host: &str) {
    let n = counts(got);
    let missing = want.keys().filter(|k| !n.contains_key(*k)).count();
    let twice: Vec<_> = n.iter().filter(|(_, c)| **c > 1).collect();
    let extra = n.keys().filter(|k| !want.contains_key(*k)).count();
    assert!(
        missing == 0 && twice.is_empty() && extra == 0,
        "{missing} missing, {} repeated (e.g. {:?}), {extra} unexpected",
        twice.len(),
        twice.first()
    );
    for r in got {
        check_message(r, &want[&r.event_id()], host, "sfevents");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_archived_event_arrives_once_over_tls_gtls_and_tcp_as_rfc5424() {
    let sim = start(org(71)).await;
    let r = Rsyslog::start();
    let dir = tempfile::tempdir().unwrap();
    collect_only(&sim, dir.path()).await;
    let want = archived(dir.path());
    assert!(want.len() > 100, "{} events", want.len());
    assert!(want.values().any(notable) && !want.values().all(notable));
    let host = instance_host(&sim);
    for (input, name) in [
        (Input::Tls, "tls"),
        (Input::Gtls, "gtls"),
        (Input::Tcp, "tcp"),
    ] {
        let url = to(&r, input, &format!("name={name}&max_batch_events=100"));
        assert_exit(&ship(dir.path(), &url).await, 0);
        // Delivered means acknowledged by rsyslog's TCP; writing the file follows.
        let got = r.wait_for(input, want.len()).await;
        check_once(&got, &want, &host);
        // Nothing left: a second ship sends nothing.
        assert_exit(&ship(dir.path(), &url).await, 0);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(r.received(input).len(), want.len(), "{name}");
    }
    // Each session ended with close_notify: GnuTLS logs a session cut without it as an error.
    let log = r.output();
    assert!(!log.contains("unexpected GnuTLS error"), "{log}");
    sim.shutdown();
}

/// Events with what syslog framing, structured data and JSON must carry through: newlines,
/// quotes, `]`, backslashes, control characters and non-ASCII text, in MSG and in the SD params.
fn hostile_events() -> Vec<Event> {
    let text =
        "line1\nline2\r\n\t\"quoted\" [bracket] ]] back\\slash \\\" é 日本語 😀 \u{1}\u{7f} end";
    let mut out = Vec::new();
    for (i, id) in [
        "plain-1",
        "q\"uote-2",
        "br]acket-3",
        "back\\slash-4",
        "all\"]\\-5",
        "ünï-6",
    ]
    .iter()
    .enumerate()
    {
        let v = json!({
            "@timestamp": format!("2026-03-10T11:{i:02}:00.123456789Z"),
            "id": id, "org_id": "00D\"]\\x", "source": "EventLogFile", "event_type": "Login",
            "fields": {
                "LOGIN_STATUS": if i % 2 == 0 { "LOGIN_NO_ERROR" } else { "LOGIN_ERROR_INVALID_PASSWORD" },
                "USER_NAME": text, "URI": format!("/x?{text}"), "Empty": "", "Nested": {"k": text}
            }
        });
        out.push(Event::with_id(id.to_string(), v));
    }
    out
}

fn sink_for(url: &str, instance_url: &str) -> Result<Box<dyn outputs::Sink>, SinkError> {
    let cfg = outputs::config::from_url(url).unwrap();
    outputs::sink(
        &cfg,
        &OrgContext {
            org: "acme".into(),
            instance_url: instance_url.into(),
            state: None,
        },
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_values_survive_every_transport_intact() {
    let r = Rsyslog::start();
    let events = hostile_events();
    std::env::set_var("SFEVENTS_TEST_SYSLOG_TOKEN", "tok@41123");
    for input in [Input::Tls, Input::Gtls, Input::Tcp, Input::Udp] {
        // TLS carries a token; over plain transports the token is refused off loopback only.
        let url = to(&r, input, "token_env=SFEVENTS_TEST_SYSLOG_TOKEN");
        let sink = sink_for(&url, "https://acme.my.salesforce.com").unwrap();
        let verdicts = sink.send(&events).await.unwrap();
        assert!(
            verdicts.iter().all(|v| *v == Verdict::Delivered),
            "{input:?}: {verdicts:?}"
        );
        let got = r.wait_for(input, events.len()).await;
        assert_eq!(got.len(), events.len(), "{input:?}");
        for (rec, e) in got.iter().zip(&events) {
            let sd = rec.sd();
            assert_eq!(
                sd[0],
                ("tok@41123".to_string(), vec![]),
                "{input:?}: the token comes first"
            );
            assert_eq!(sd[1].0, SD_ID);
            assert_eq!(
                rec.param(SD_ID, "id").as_deref(),
                Some(e.id.as_str()),
                "{input:?}"
            );
            assert_eq!(rec.param(SD_ID, "org").as_deref(), Some("00D\"]\\x"));
            let msg: Value = serde_json::from_str(&rec.msg)
                .unwrap_or_else(|err| panic!("{input:?} {}: {err}: {}", e.id, rec.msg));
            assert_eq!(&msg, e.value(), "{input:?}");
            assert_eq!(rec.hostname, "acme.my.salesforce.com");
            assert!(rec.timestamp.ends_with(".123456Z"), "{}", rec.timestamp);
            let failed = e.value()["fields"]["LOGIN_STATUS"] != "LOGIN_NO_ERROR";
            assert_eq!(rec.pri, if failed { 133 } else { 134 }, "{}", e.id);
        }
    }
    // Truncated at a character boundary: what arrives is whole UTF-8, MSG cut, the original
    // length in the element.
    let big = Event::with_id(
        "big-1".into(),
        json!({"id": "big-1", "org_id": "00Dx", "source": "LoginEvent",
            "fields": {"Text": "é日😀\n\"]".repeat(300)}}),
    );
    let full = serde_json::to_string(big.value()).unwrap();
    let before = r.received(Input::Tcp).len();
    for max in [1000, 1001, 1002, 1003] {
        let sink = sink_for(&to(&r, Input::Tcp, &format!("max_message_bytes={max}")), "").unwrap();
        assert_eq!(
            sink.send(std::slice::from_ref(&big)).await.unwrap(),
            [Verdict::Delivered]
        );
    }
    let got = r.wait_for(Input::Tcp, before + 4).await;
    for rec in &got[before..] {
        assert_eq!(rec.param(SD_ID, "truncated"), Some(full.len().to_string()));
        assert!(full.starts_with(&rec.msg) && rec.msg.len() < full.len() && rec.msg.len() > 500);
        assert_eq!(rec.hostname, "-", "no instance: NILVALUE");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_trust_and_client_certificates_and_refusals_that_say_the_fix() {
    let r = Rsyslog::start();
    let events = &hostile_events()[..1];
    let url = format!("syslog+tls://127.0.0.1:{}", r.tls_port);
    let sink = sink_for(&url, "").unwrap();
    match sink.send(events).await {
        Err(SinkError::Fatal(m)) => {
            assert!(m.contains("not trusted") && m.contains("ca_file"), "{m}")
        }
        other => panic!("{other:?}"),
    }
    // tls_verify = false accepts it (a test receiver).
    let sink = sink_for(&format!("{url}?tls_verify=false"), "").unwrap();
    assert_eq!(sink.send(events).await.unwrap(), [Verdict::Delivered]);
    assert_eq!(r.wait_for(Input::Tls, 1).await[0].event_id(), events[0].id);
    // A receiver that wants a client certificate takes the one of cert_file and key_file.
    let sink = sink_for(&to(&r, Input::Mtls, ""), "").unwrap();
    assert_eq!(sink.send(events).await.unwrap(), [Verdict::Delivered]);
    assert_eq!(r.wait_for(Input::Mtls, 1).await[0].event_id(), events[0].id);
    // Without one, it refuses the session (after the handshake, with TLS 1.3): fatal, with
    // the fix.
    let url = format!(
        "syslog+tls://127.0.0.1:{}?ca_file={}",
        r.mtls_port,
        r.ca_file().display()
    );
    match sink_for(&url, "").unwrap().send(events).await {
        Err(SinkError::Fatal(m)) => assert!(m.contains("cert_file"), "{m}"),
        other => panic!("{other:?}"),
    }
    // Nothing listening: a transient error that says so.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let sink = sink_for(&format!("syslog+tcp://127.0.0.1:{port}"), "").unwrap();
    match sink.send(events).await {
        Err(SinkError::Transient(m)) => assert!(m.contains("connection refused"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_messages_are_truncated_or_dead_lettered_as_configured() {
    let sim = start(org(72)).await;
    let r = Rsyslog::start();
    let dir = tempfile::tempdir().unwrap();
    collect_only(&sim, dir.path()).await;
    let want = archived(dir.path());
    // A limit that about half the events exceed.
    let mut sizes: Vec<usize> = want
        .values()
        .map(|v| serde_json::to_string(v).unwrap().len())
        .collect();
    sizes.sort();
    let max = (sizes[sizes.len() / 2] + 250).max(480);
    // The two outputs differ only in APP-NAME (of the same length) and oversize.
    let cut = to(
        &r,
        Input::Tcp,
        &format!("name=cut&app_name=cut&max_message_bytes={max}"),
    );
    assert_exit(&ship(dir.path(), &cut).await, 0);
    let dl = to(
        &r,
        Input::Tcp,
        &format!("name=dlq&app_name=dlq&max_message_bytes={max}&oversize=dead_letter"),
    );
    let o = ship(dir.path(), &dl).await;
    assert_exit(&o, 1);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("dead-letter"),
        "{}",
        describe(&o)
    );

    let dead_ids: HashMap<String, String> = std::fs::read_dir(dir.path().join("dead-letter/dlq"))
        .unwrap()
        .flat_map(|f| {
            let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
            text.lines()
                .map(|l| {
                    let v: Value = serde_json::from_str(l).unwrap();
                    assert_eq!(v["event"], want[v["id"].as_str().unwrap()]);
                    (
                        v["id"].as_str().unwrap().to_string(),
                        v["error"].as_str().unwrap().to_string(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let host = instance_host(&sim);
    let deadline = Instant::now() + Duration::from_secs(30);
    let got = loop {
        let got = r.received(Input::Tcp);
        if got.len() >= 2 * want.len() - dead_ids.len() || Instant::now() > deadline {
            break got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let (cut_got, dl_got): (Vec<Received>, Vec<Received>) =
        got.into_iter().partition(|r| r.app_name == "cut");
    let mut truncated = Vec::new();
    for rec in &cut_got {
        let event = &want[&rec.event_id()];
        let full = serde_json::to_string(event).unwrap();
        let wire = rec.wire();
        assert!(wire.len() <= max, "{} bytes over {max}: {wire}", wire.len());
        match rec.param(SD_ID, "truncated") {
            Some(n) => {
                assert_eq!(n, full.len().to_string());
                assert!(full.starts_with(&rec.msg) && rec.msg.len() < full.len());
                truncated.push(rec.event_id());
            }
            None => check_message(rec, event, &host, "cut"),
        }
    }
    assert_eq!(
        counts(&cut_got).len(),
        want.len(),
        "every event once, cut or whole"
    );
    assert_eq!(cut_got.len(), want.len());
    assert!(
        !truncated.is_empty() && truncated.len() < want.len(),
        "{} truncated of {}",
        truncated.len(),
        want.len()
    );
    // dead_letter: exactly the events the other output cut are dead letters, with the reason;
    // the rest arrived whole.
    let mut dead: Vec<&String> = dead_ids.keys().collect();
    dead.sort();
    truncated.sort();
    assert_eq!(dead, truncated.iter().collect::<Vec<_>>());
    assert!(
        dead_ids.values().all(|e| e.contains("max_message_bytes")),
        "{dead_ids:?}"
    );
    assert_eq!(dl_got.len(), want.len() - dead_ids.len());
    for rec in &dl_got {
        assert!(!dead_ids.contains_key(&rec.event_id()));
        check_message(rec, &want[&rec.event_id()], &host, "dlq");
    }
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsyslog_down_at_the_start_then_a_later_ship_delivers_everything() {
    let sim = start(org(73)).await;
    // Started once so that its ports are known, then stopped: down from the start.
    let mut r = Rsyslog::start();
    r.stop();
    let dir = tempfile::tempdir().unwrap();
    let url = to(&r, Input::Tls, "name=tls");
    let o = command(&sim, dir.path(), "collect", &["--to".into(), url.clone()])
        .output()
        .await
        .unwrap();
    assert_exit(&o, 1);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("output 'tls'") && err.contains("connection refused"),
        "{err}"
    );
    let want = archived(dir.path());
    assert!(want.len() > 100);
    r.run();
    assert_exit(&ship(dir.path(), &url).await, 0);
    let got = r.wait_for(Input::Tls, want.len()).await;
    check_once(&got, &want, &instance_host(&sim));
    sim.shutdown();
}

/// A bigger org: shipping it takes many batches, so a stop lands mid-stream.
fn big_org(seed: u64) -> sfsim::SimConfig {
    let mut c = org(seed);
    c.org.rows_per_hour = (20, 60);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsyslog_stopped_and_restarted_mid_stream_while_run_ships_loses_nothing() {
    let sim = start(big_org(74)).await;
    let mut r = Rsyslog::start();
    let dir = tempfile::tempdir().unwrap();
    collect_only(&sim, dir.path()).await;
    let want = archived(dir.path());
    assert!(want.len() > 1000, "{} events", want.len());
    let batch = 20;
    let url = to(
        &r,
        Input::Tls,
        &format!("name=tls&max_batch_events={batch}"),
    );
    let child = command(&sim, dir.path(), "run", &["--to".into(), url])
        .spawn()
        .unwrap();
    // Stop rsyslog once a few batches are in: mid-stream.
    r.wait_for(Input::Tls, 3 * batch).await;
    r.stop();
    let at_stop = counts(&r.received(Input::Tls)).len();
    eprintln!("rsyslog stopped with {at_stop} of {} events", want.len());
    assert!(
        at_stop < want.len(),
        "the stop came after the end of the stream"
    );
    // Down long enough for the shipper to fail and back off, then back on the same port.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    r.run();
    let got = r
        .wait_for_all(Input::Tls, &want, Duration::from_secs(30))
        .await;
    signal(&child, "TERM");
    assert_exit(&child.wait_with_output().await.unwrap(), 0);
    check_repeats(&got, &want, batch);
    // The outage was seen, and said what it was.
    let log = log_text(dir.path());
    assert!(
        log.contains("retrying") && log.contains("syslog receiver"),
        "{log}"
    );
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_of_sfevents_while_shipping_loses_nothing_and_repeats_at_most_one_batch() {
    let sim = start(big_org(75)).await;
    let r = Rsyslog::start();
    let dir = tempfile::tempdir().unwrap();
    collect_only(&sim, dir.path()).await;
    let want = archived(dir.path());
    assert!(want.len() > 1000, "{} events", want.len());
    let batch = 20;
    let url = to(
        &r,
        Input::Tcp,
        &format!("name=tcp&max_batch_events={batch}"),
    );
    let mut child = tokio::process::Command::new(BIN)
        .args([
            "ship",
            "--quiet",
            "--output-dir",
            &dir.path().display().to_string(),
            "--to",
            &url,
        ])
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    r.wait_for(Input::Tcp, 3 * batch).await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "ship ended before the kill: make the archive bigger"
    );
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let at_kill = counts(&r.received(Input::Tcp)).len();
    eprintln!(
        "sfevents killed with {at_kill} of {} events at rsyslog",
        want.len()
    );
    assert!(
        at_kill < want.len(),
        "the kill came after the end of the stream"
    );
    assert_exit(&ship(dir.path(), &url).await, 0);
    let got = r
        .wait_for_all(Input::Tcp, &want, Duration::from_secs(30))
        .await;
    // Everything is acknowledged before `ship` ends; let rsyslog write out what it read.
    tokio::time::sleep(Duration::from_millis(300)).await;
    check_repeats(&r.received(Input::Tcp), &want, batch);
    assert!(got.len() >= want.len());
    sim.shutdown();
}
