//! The Logplex drain receiver through HTTP, as a client sees it (reqwest).

use std::time::{Duration, Instant};

use receivers::logplex::{self, Config, Faults, Handle};
use reqwest::StatusCode;
use serde_json::Value;

/// Heroku's documented example frame: a 69-byte message counted 70 with its LF.
const HEROKU: &str = "70 <174>1 2012-07-22T00:06:26+00:00 host erlang console - Hi from erlang\n";
const TOKEN: &str = "d.fc6b856b-3332-4546-93de-7d0ee272c3bd";

async fn start(config: Config) -> Handle {
    logplex::start(config).await.expect("receiver starts")
}

/// A frame as Heroku writes it: the count includes the final LF.
fn frame(msg: &str) -> String {
    format!("{} {msg}\n", msg.len() + 1)
}

fn sfevent(i: usize) -> String {
    frame(&format!(
        "<134>1 2026-03-10T14:25:{:02}.000000+00:00 sfevents salesforce login evt-{i} EVENT_TYPE=Login USER_ID=005{i:03}",
        i % 60
    ))
}

struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

async fn drain(url: &str, count: usize, frame_id: &str, body: String) -> Answer {
    try_drain(url, count, frame_id, body)
        .await
        .expect("answered")
}

async fn try_drain(
    url: &str,
    count: usize,
    frame_id: &str,
    body: String,
) -> Result<Answer, reqwest::Error> {
    let resp = reqwest::Client::new()
        .post(format!("{url}/logs"))
        .header("content-type", "application/logplex-1")
        .header("logplex-msg-count", count.to_string())
        .header("logplex-frame-id", frame_id)
        .header("logplex-drain-token", TOKEN)
        .header("user-agent", "Logplex/v123")
        .body(body)
        .send()
        .await?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await?;
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Ok(Answer {
        status,
        headers,
        body,
    })
}

#[tokio::test]
async fn herokus_example_request_is_stored() {
    let d = start(Config::default()).await;
    let a = drain(
        d.url(),
        10,
        "09C557EAFCFB6CF2740EE62F62971098",
        HEROKU.repeat(10),
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body, Value::String(String::new()), "an empty 200");
    let m = d.messages();
    assert_eq!(m.len(), 10);
    assert_eq!(m[0].pri, 174);
    assert_eq!((m[0].facility(), m[0].severity()), (21, 6));
    assert_eq!(m[0].timestamp, "2012-07-22T00:06:26+00:00");
    assert_eq!(
        (
            m[0].hostname.as_str(),
            m[0].app_name.as_str(),
            m[0].procid.as_str(),
            m[0].msgid.as_str()
        ),
        ("host", "erlang", "console", "-")
    );
    assert_eq!(m[0].msg, "Hi from erlang");
    assert_eq!(m[0].frame_id, "09C557EAFCFB6CF2740EE62F62971098");
    assert_eq!(m[0].drain_token.as_deref(), Some(TOKEN));
    assert_eq!((m[9].request, m[9].path.as_str()), (1, "/logs"));

    let body: String = (0..5).map(sfevent).collect();
    assert_eq!(drain(d.url(), 5, "f2", body).await.status, 200);
    let m = d.messages();
    assert_eq!(m[10].msgid, "evt-0");
    assert_eq!(m[14].msg, "EVENT_TYPE=Login USER_ID=005004");
    assert_eq!(d.stats().messages, 15);
}

#[tokio::test]
async fn headers_and_content_type_are_required() {
    let d = start(Config::default()).await;
    let post = |ctype: &str, count: Option<&str>, frame_id: Option<&str>| {
        let mut req = reqwest::Client::new()
            .post(d.url())
            .header("content-type", ctype)
            .body(HEROKU);
        if let Some(c) = count {
            req = req.header("logplex-msg-count", c);
        }
        if let Some(f) = frame_id {
            req = req.header("logplex-frame-id", f);
        }
        req.send()
    };
    let no_count = post("application/logplex-1", None, Some("f"))
        .await
        .unwrap();
    assert_eq!(no_count.status(), 400);
    let body: Value = no_count.json().await.unwrap();
    assert_eq!(body["code"], 400);
    assert_eq!(
        body["message"],
        r#"Invalid request header "Logplex-Msg-Count": "Header does not exist""#
    );
    let nan = post("application/logplex-1", Some("ten"), Some("f"))
        .await
        .unwrap();
    assert_eq!(nan.status(), 400);
    let no_frame = post("application/logplex-1", Some("1"), None)
        .await
        .unwrap();
    assert_eq!(no_frame.status(), 400);
    let json = post("application/json", Some("1"), Some("f"))
        .await
        .unwrap();
    assert_eq!(json.status(), 415);
    // No drain token is fine.
    let ok = post("application/logplex-1", Some("1"), Some("f"))
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(d.messages()[0].drain_token, None);
    let get = reqwest::Client::new().get(d.url()).send().await.unwrap();
    assert_eq!(get.status(), 405);
    assert_eq!(d.stats().rejected, 4);
}

#[tokio::test]
async fn malformed_bodies_are_refused_whole() {
    let d = start(Config::default()).await;
    let good = sfevent(1);
    let cases: Vec<(String, usize, &str)> = vec![
        (HEROKU.repeat(3), 2, "Parsed event count does not match message count header: 3 vs 2"),
        (
            format!("{good}{}", HEROKU.replacen("70 ", "69 ", 1)),
            2,
            "frame 1: an LF follows its 69 counted octets; the count must include the LF",
        ),
        (
            format!("{good}{}", HEROKU.replacen("70 ", "68 ", 1)),
            2,
            "frame 1: its 68 octets do not end with an LF",
        ),
        (
            frame("<134>1 2026-03-10T14:25:00Z sfevents salesforce login id first\nsecond"),
            1,
            "contains an LF",
        ),
        (
            frame("<134>1 2026-03-10T14:25:00Z sfevents salesforce login id [meta@32473 id=\"1\"] msg"),
            1,
            "structured data",
        ),
        (frame("<134>1 2026-03-10T14:25:00Z sfevents salesforce"), 1, "space-separated parts"),
        (format!("{good}x"), 2, "frame 1 at byte"),
    ];
    for (i, (body, count, want)) in cases.into_iter().enumerate() {
        let a = drain(d.url(), count, &format!("bad-{i}"), body).await;
        assert_eq!(a.status, 400, "case {i}: {}", a.body);
        let message = a.body["message"].as_str().unwrap_or_default();
        assert!(message.contains(want), "case {i}: {message}");
    }
    assert!(d.messages().is_empty(), "a refused request stores nothing");
    assert_eq!(d.stats().rejected, 7);
    // The frame ids of refused requests are not remembered: a corrected retry is stored.
    assert_eq!(drain(d.url(), 1, "bad-0", sfevent(2)).await.status, 200);
    assert_eq!(d.messages().len(), 1);
}

#[tokio::test]
async fn repeated_frame_ids_are_answered_but_not_stored() {
    let d = start(Config::default()).await;
    let body: String = (0..3).map(sfevent).collect();
    assert_eq!(drain(d.url(), 3, "frame-A", body.clone()).await.status, 200);
    assert_eq!(drain(d.url(), 3, "frame-A", body.clone()).await.status, 200);
    assert_eq!(drain(d.url(), 3, "frame-B", body.clone()).await.status, 200);
    assert_eq!(d.messages().len(), 6);
    assert_eq!(d.stats().duplicate_frames, 1);

    let keep_all = start(Config {
        dedup_frame_ids: false,
        ..Config::default()
    })
    .await;
    drain(keep_all.url(), 3, "frame-A", body.clone()).await;
    drain(keep_all.url(), 3, "frame-A", body).await;
    assert_eq!(keep_all.messages().len(), 6);
    assert_eq!(keep_all.stats().duplicate_frames, 0);
}

#[tokio::test]
async fn basic_auth_when_configured() {
    let d = start(Config {
        basic: Some(("heroku".into(), "s3cret".into())),
        ..Config::default()
    })
    .await;
    let req = || {
        reqwest::Client::new()
            .post(format!("{}/drain", d.url()))
            .header("content-type", "application/logplex-1")
            .header("logplex-msg-count", "1")
            .header("logplex-frame-id", "f1")
            .body(HEROKU)
    };
    let none = req().send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert!(none.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    let wrong = req()
        .basic_auth("heroku", Some("nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(d.messages().is_empty());
    let right = req()
        .basic_auth("heroku", Some("s3cret"))
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
    assert_eq!(d.messages().len(), 1);
    assert_eq!(d.stats().auth_failures, 2);
}

#[tokio::test]
async fn faults_and_redelivery_with_the_same_frame_id() {
    let d = start(Config {
        faults: Faults {
            requests_503: 1,
            requests_429: 1,
            retry_after_secs: Some(2),
            ..Faults::default()
        },
        ..Config::default()
    })
    .await;
    let body: String = (0..4).map(sfevent).collect();
    assert_eq!(drain(d.url(), 4, "F1", body.clone()).await.status, 503);
    let limited = drain(d.url(), 4, "F1", body.clone()).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.headers["retry-after"], "2");
    assert!(d.messages().is_empty());
    assert_eq!(drain(d.url(), 4, "F1", body.clone()).await.status, 200);
    assert_eq!(d.messages().len(), 4, "the retry after refusals is stored");

    // Stored, then the connection cut: the sender retries with the same frame id and the
    // receiver spots the duplicate.
    d.set_faults(Faults {
        close_after_store: 1,
        ..Faults::default()
    });
    assert!(try_drain(d.url(), 4, "F2", body.clone()).await.is_err());
    assert_eq!(d.messages().len(), 8);
    assert_eq!(drain(d.url(), 4, "F2", body.clone()).await.status, 200);
    assert_eq!(d.messages().len(), 8);
    assert_eq!(d.stats().duplicate_frames, 1);

    d.set_faults(Faults {
        close_connection: 1,
        delay_ms: Some(250),
        ..Faults::default()
    });
    assert!(try_drain(d.url(), 4, "F3", body.clone()).await.is_err());
    assert_eq!(d.messages().len(), 8, "cut before storing");
    let started = Instant::now();
    assert_eq!(drain(d.url(), 4, "F3", body).await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(250));
    assert_eq!(d.messages().len(), 12);
    let s = d.stats();
    assert_eq!(
        (
            s.faults.requests_503,
            s.faults.requests_429,
            s.faults.connections_closed
        ),
        (1, 1, 2)
    );
}

#[tokio::test]
async fn stop_and_restart_keep_the_port_and_the_frame_ids() {
    let d = start(Config::default()).await;
    let url = d.url().to_string();
    assert_eq!(drain(&url, 1, "A", sfevent(0)).await.status, 200);
    d.stop().await;
    assert!(try_drain(&url, 1, "B", sfevent(1)).await.is_err());
    d.restart().await.unwrap();
    assert_eq!(drain(&url, 1, "B", sfevent(1)).await.status, 200);
    assert_eq!(drain(&url, 1, "A", sfevent(0)).await.status, 200);
    assert_eq!(d.messages().len(), 2);
    assert_eq!(d.stats().duplicate_frames, 1);
}

#[tokio::test]
async fn tls_with_the_generated_ca() {
    let d = start(Config {
        tls: true,
        ..Config::default()
    })
    .await;
    let ca = reqwest::Certificate::from_pem(d.ca_pem().unwrap().as_bytes()).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .unwrap();
    let a = client
        .post(d.url())
        .header("content-type", "application/logplex-1")
        .header("logplex-msg-count", "1")
        .header("logplex-frame-id", "tls")
        .body(HEROKU)
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 200);
    assert_eq!(d.messages().len(), 1);
}

/// A frame whose message is one of sfevents' events, as JSON with this id.
fn json_event(id: &str) -> String {
    frame(&format!(
        "<190>1 2026-03-10T14:25:00.000000Z acme.my.salesforce.com sfevents - login {}",
        serde_json::json!({"id": id, "source": "LoginEvent"})
    ))
}

#[tokio::test]
async fn attempts_are_counted_before_the_frame_id_dedup() {
    let d = start(Config {
        faults: Faults {
            requests_503: 1,
            ..Faults::default()
        },
        ..Config::default()
    })
    .await;
    let body = format!("{}{}", json_event("e1"), json_event("e2"));
    assert_eq!(drain(d.url(), 2, "F", body.clone()).await.status, 503);
    assert_eq!(drain(d.url(), 2, "F", body.clone()).await.status, 200);
    assert_eq!(drain(d.url(), 2, "F", body.clone()).await.status, 200);
    assert_eq!(d.messages().len(), 2, "the repeated frame is dropped");
    assert_eq!(d.stats().duplicate_frames, 1);
    // A wrong count is refused whole; an ECS document carries salesforce.event_id.
    assert_eq!(drain(d.url(), 3, "G", body).await.status, 400);
    let ecs = frame(&format!(
        "<190>1 2026-03-10T14:25:00Z h sfevents - login {}",
        serde_json::json!({"salesforce": {"event_id": "e3"}})
    ));
    d.set_faults(Faults {
        close_after_store: 1,
        ..Faults::default()
    });
    assert!(try_drain(d.url(), 2, "H", format!("{ecs}{}", sfevent(1)))
        .await
        .is_err());

    let a = d.attempts();
    let e1 = a.events["e1"];
    assert_eq!((e1.attempts, e1.accepted, e1.refused), (4, 2, 2));
    assert_eq!(a.events["e2"], e1);
    let e3 = a.events["e3"];
    assert_eq!((e3.attempts, e3.unanswered()), (1, 1));
    assert_eq!(a.without_id, 1, "a message that is not JSON");
    assert_eq!(a.extra(), 6);
    assert_eq!(a.repeated().count(), 2);
}
