//! The NDJSON HTTP receiver (Sumo Logic HTTP source, generic webhook) through HTTP (reqwest).

use std::io::Write;
use std::time::{Duration, Instant};

use receivers::http::{self, Config, Faults, Handle};
use serde_json::json;

const SUMO_PATH: &str = "/receiver/v1/http/ZaVnC4dhaV3uTKlva1BpwJZpSk9rBXgKxyz";

async fn start(config: Config) -> Handle {
    http::start(config).await.expect("receiver starts")
}

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

fn compress(data: &[u8], deflate: bool) -> Vec<u8> {
    if deflate {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(data).unwrap();
        z.finish().unwrap()
    } else {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(data).unwrap();
        gz.finish().unwrap()
    }
}

#[tokio::test]
async fn lines_are_stored_with_the_request_headers() {
    let r = start(Config::default()).await;
    let body = "{\"id\":1,\"msg\":\"a\"}\n{\"id\":2,\"msg\":\"b\"}\r\n\n{\"id\":3}";
    let resp = client()
        .post(format!("{}{SUMO_PATH}?x=1", r.url()))
        .header("x-sumo-category", "salesforce/login")
        .header("X-Sumo-Name", "sfevents")
        .header("x-sumo-host", "org-00D")
        .header("x-sumo-fields", "org=acme,env=prod")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "");
    let lines = r.lines();
    assert_eq!(lines.len(), 3, "empty lines are not logs");
    assert_eq!(lines[1].line, r#"{"id":2,"msg":"b"}"#, "CRLF stripped");
    assert_eq!(
        lines[2].json(),
        Some(json!({"id": 3})),
        "a last line without LF"
    );
    let l = &lines[0];
    assert_eq!(l.path, SUMO_PATH);
    assert_eq!(l.query.as_deref(), Some("x=1"));
    assert_eq!(l.header("X-Sumo-Category"), Some("salesforce/login"));
    assert_eq!(l.header("x-sumo-name"), Some("sfevents"));
    assert_eq!(l.header("x-sumo-host"), Some("org-00D"));
    assert_eq!(l.header("x-sumo-fields"), Some("org=acme,env=prod"));
    assert!(lines.iter().all(|l| l.request == 1));
    let s = r.stats();
    assert_eq!((s.requests, s.lines), (1, 3));
}

#[tokio::test]
async fn compressed_bodies_are_decoded() {
    let r = start(Config::default()).await;
    let body: String = (0..100).map(|i| format!("{{\"n\":{i}}}\n")).collect();
    for (enc, deflate) in [("gzip", false), ("deflate", true)] {
        let resp = client()
            .post(format!("{}/x", r.url()))
            .header("content-encoding", enc)
            .body(compress(body.as_bytes(), deflate))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{enc}");
    }
    assert_eq!(r.lines().len(), 200);
    assert_eq!(r.lines()[199].line, r#"{"n":99}"#);
    let s = r.stats();
    assert_eq!(s.compressed_requests, 2);
    assert_eq!(s.bytes_decoded, 2 * body.len() as u64);
    assert!(s.bytes_received < s.bytes_decoded);
    let br = client()
        .post(r.url())
        .header("content-encoding", "br")
        .body("x\n")
        .send()
        .await
        .unwrap();
    assert_eq!(br.status(), 415);
    let corrupt = client()
        .post(r.url())
        .header("content-encoding", "gzip")
        .body("not gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(corrupt.status(), 400);
    assert_eq!(r.lines().len(), 200);
}

#[tokio::test]
async fn a_required_header_is_checked() {
    let r = start(Config {
        required_header: Some(("authorization".into(), "Bearer s3cret".into())),
        ..Config::default()
    })
    .await;
    let post = || client().post(format!("{}/hook", r.url())).body("line\n");
    assert_eq!(post().send().await.unwrap().status(), 401);
    assert_eq!(
        post().bearer_auth("wrong").send().await.unwrap().status(),
        401
    );
    assert!(r.lines().is_empty());
    assert_eq!(
        post().bearer_auth("s3cret").send().await.unwrap().status(),
        200
    );
    assert_eq!(r.lines()[0].header("authorization"), Some("Bearer s3cret"));
    assert_eq!(r.stats().auth_failures, 2);
}

#[tokio::test]
async fn the_limit_is_on_the_decoded_body() {
    let r = start(Config::default()).await;
    let line = format!("{}\n", "x".repeat(1023));
    let exactly = line.repeat(1024);
    assert_eq!(exactly.len() as u64, http::SUMO_MAX_BODY);
    let post = |body: Vec<u8>, gzip: bool| {
        let mut req = client().post(r.url()).body(body);
        if gzip {
            req = req.header("content-encoding", "gzip");
        }
        req.send()
    };
    assert_eq!(
        post(exactly.clone().into_bytes(), false)
            .await
            .unwrap()
            .status(),
        200
    );
    let over = format!("{exactly}y");
    assert_eq!(
        post(over.clone().into_bytes(), false)
            .await
            .unwrap()
            .status(),
        413
    );
    let gz = compress(over.as_bytes(), false);
    assert!(gz.len() < 10_000, "compresses well: {} bytes", gz.len());
    assert_eq!(
        post(gz, true).await.unwrap().status(),
        413,
        "decoded size counts"
    );
    assert_eq!(
        post(compress(exactly.as_bytes(), false), true)
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(r.lines().len(), 2048);
    assert_eq!(r.stats().requests_413, 2);

    let small = start(Config {
        max_body_bytes: 10,
        ..Config::default()
    })
    .await;
    let resp = client()
        .post(small.url())
        .body("0123456789A")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
}

#[tokio::test]
async fn faults_as_configured() {
    let r = start(Config {
        faults: Faults {
            requests_503: 1,
            requests_429: 1,
            retry_after_secs: Some(30),
            ..Faults::default()
        },
        ..Config::default()
    })
    .await;
    let post = || {
        client()
            .post(format!("{}/in", r.url()))
            .body("a\nb\n")
            .send()
    };
    assert_eq!(post().await.unwrap().status(), 503);
    let limited = post().await.unwrap();
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers()["retry-after"], "30");
    assert!(r.lines().is_empty());
    assert_eq!(post().await.unwrap().status(), 200);
    assert_eq!(r.lines().len(), 2);

    // Through the admin endpoint, as a test in another process would.
    let set = client()
        .post(format!("{}/__receiver/faults", r.url()))
        .json(&json!({"close_connection": 1, "close_after_store": 1, "delay_ms": 200}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    assert!(post().await.is_err(), "cut before storing");
    assert_eq!(r.lines().len(), 2);
    assert!(post().await.is_err(), "cut after storing");
    assert_eq!(r.lines().len(), 4);
    let started = Instant::now();
    assert_eq!(post().await.unwrap().status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(r.lines().len(), 6);
    let stats: serde_json::Value = client()
        .get(format!("{}/__receiver/stats", r.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["connections_closed"], 2);
    assert_eq!(stats["requests_503"], 1);
    assert_eq!(stats["lines"], 6);
}

#[tokio::test]
async fn stop_and_restart_on_a_fixed_port() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let r = start(Config {
        port,
        tls: true,
        ..Config::default()
    })
    .await;
    assert_eq!(r.url(), format!("https://localhost:{port}"));
    let ca = reqwest::Certificate::from_pem(r.ca_pem().unwrap().as_bytes()).unwrap();
    let trusting = reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .unwrap();
    let post = |body: &'static str| trusting.post(format!("{}/in", r.url())).body(body).send();
    assert_eq!(post("before\n").await.unwrap().status(), 200);
    r.stop().await;
    assert!(post("while down\n").await.is_err());
    r.restart().await.unwrap();
    r.restart().await.unwrap();
    assert!(r.is_running());
    assert_eq!(post("after\n").await.unwrap().status(), 200);
    let lines: Vec<String> = r.lines().into_iter().map(|l| l.line).collect();
    assert_eq!(lines, vec!["before", "after"]);
    let listed: serde_json::Value = trusting
        .get(format!("{}/__receiver/lines", r.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["lines"][1]["line"], "after");
}

/// Lines of sfevents' archive events with these ids.
fn events(ids: &[&str]) -> String {
    ids.iter()
        .map(|id| format!("{}\n", json!({"id": id, "source": "LoginEvent"})))
        .collect()
}

#[tokio::test]
async fn every_attempt_is_counted_by_event_id_whatever_the_answer() {
    let r = start(Config {
        max_body_bytes: 4096,
        ..Config::default()
    })
    .await;
    let post = |body: String| client().post(format!("{}/in", r.url())).body(body).send();
    r.set_faults(Faults {
        requests_503: 1,
        close_connection: 1,
        close_after_store: 1,
        ..Faults::default()
    });
    assert_eq!(post(events(&["a", "b"])).await.unwrap().status(), 503);
    assert!(
        post(events(&["a", "b"])).await.is_err(),
        "cut before storing"
    );
    assert!(
        post(events(&["a", "b"])).await.is_err(),
        "cut after storing"
    );
    assert_eq!(post(events(&["a", "b"])).await.unwrap().status(), 200);
    // ECS documents carry the id as salesforce.event_id; other lines have none.
    let ecs = format!(
        "{}\nnot json\n{{\"msg\":1}}\n",
        json!({"salesforce": {"event_id": "c"}})
    );
    assert_eq!(post(ecs).await.unwrap().status(), 200);
    // A body over the limit is not read: nothing to count.
    let big = events(&["z"; 200]);
    assert_eq!(post(big).await.unwrap().status(), 413);

    let a = r.attempts();
    let counted = |id: &str| {
        let x = a.events[id];
        (x.attempts, x.accepted, x.refused, x.unanswered())
    };
    assert_eq!(counted("a"), (4, 1, 2, 1));
    assert_eq!(counted("b"), (4, 1, 2, 1));
    assert_eq!(counted("c"), (1, 1, 0, 0));
    assert!(!a.events.contains_key("z"));
    assert_eq!((a.without_id, a.extra()), (2, 6));
    assert_eq!(r.lines().len(), 2 + 2 + 3, "what is stored is unchanged");

    // Through the admin endpoint, as a test in another process reads them.
    let got: serde_json::Value = client()
        .get(format!("{}/__receiver/attempts", r.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["events"]["a"]["attempts"], 4);
    assert_eq!(
        (got["repeated_ids"].clone(), got["extra_attempts"].clone()),
        (json!(2), json!(6))
    );
    assert_eq!(serde_json::from_value::<http::Attempts>(got).unwrap(), a);
    r.reset();
    assert_eq!(r.attempts(), http::Attempts::default());
}

#[tokio::test]
async fn an_attempt_cut_by_a_stop_is_stored_but_unanswered() {
    let r = start(Config::default()).await;
    r.set_faults(Faults {
        delay_ms: Some(5000),
        ..Faults::default()
    });
    let url = format!("{}/in", r.url());
    let pending = tokio::spawn(client().post(url).body(events(&["s"])).send());
    let deadline = Instant::now() + Duration::from_secs(10);
    while r.lines().is_empty() {
        assert!(Instant::now() < deadline, "never stored");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    r.stop().await;
    assert!(pending.await.unwrap().is_err(), "no answer");
    let s = r.attempts().events["s"];
    assert_eq!((s.attempts, s.accepted, s.refused), (1, 0, 0));
    assert_eq!(s.unanswered(), 1);
}
