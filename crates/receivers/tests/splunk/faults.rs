//! Faults: busy (503 code 9), 429, closed connections, delay, stop and restart, admin surface.

use std::time::{Duration, Instant};

use receivers::splunk::{Config, Faults};
use serde_json::json;

use super::*;

const BODY: &str = r#"{"event":"e1"}{"event":"e2"}"#;

async fn ingest(url: &str) -> Result<Answer, reqwest::Error> {
    let resp = client()
        .post(format!("{url}/services/collector/event"))
        .header("authorization", format!("Splunk {TOKEN}"))
        .body(BODY)
        .send()
        .await?;
    Ok(answer(resp).await)
}

#[tokio::test]
async fn busy_and_429_answers_store_nothing() {
    let hec = start(Config {
        faults: Faults {
            requests_503: 2,
            requests_429: 1,
            retry_after_secs: Some(9),
            ..Faults::default()
        },
        ..config()
    })
    .await;
    for _ in 0..2 {
        let a = ingest(hec.url()).await.unwrap();
        assert_hec(&a, 503, 9, "Server is busy", None);
    }
    let limited = ingest(hec.url()).await.unwrap();
    assert_eq!(limited.status, 429);
    assert_eq!(limited.headers["retry-after"], "9");
    assert!(hec.events().is_empty());
    let ok = ingest(hec.url()).await.unwrap();
    assert_eq!(ok.status, 200);
    assert_eq!(hec.events().len(), 2);
    let s = hec.stats();
    assert_eq!(
        (s.faults.requests_503, s.faults.requests_429, s.requests),
        (2, 1, 4)
    );
    assert_eq!(
        hec.faults(),
        Faults {
            retry_after_secs: Some(9),
            ..Faults::default()
        }
    );
}

#[tokio::test]
async fn closed_connections_give_no_answer() {
    let hec = start(config()).await;
    hec.set_faults(Faults {
        close_connection: 1,
        close_after_store: 1,
        ..Faults::default()
    });
    let first = ingest(hec.url()).await;
    assert!(
        first.is_err(),
        "closed before the answer: {:?}",
        first.map(|a| a.text)
    );
    assert!(hec.events().is_empty(), "nothing stored before the cut");
    let second = ingest(hec.url()).await;
    assert!(second.is_err(), "closed after storing");
    assert_eq!(
        hec.events().len(),
        2,
        "stored although the client got no answer"
    );
    assert_eq!(ingest(hec.url()).await.unwrap().status, 200);
    assert_eq!(hec.events().len(), 4, "HEC does not deduplicate");
    assert_eq!(hec.stats().faults.connections_closed, 2);
}

#[tokio::test]
async fn answers_can_be_delayed() {
    let hec = start(config()).await;
    hec.set_faults(Faults {
        delay_ms: Some(300),
        ..Faults::default()
    });
    let started = Instant::now();
    let a = ingest(hec.url()).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(a.status, 200);
    // A client that gives up early still had its events indexed.
    hec.set_faults(Faults {
        delay_ms: Some(2000),
        ..Faults::default()
    });
    let impatient = client()
        .post(format!("{}/services/collector/event", hec.url()))
        .header("authorization", format!("Splunk {TOKEN}"))
        .timeout(Duration::from_millis(300))
        .body(BODY)
        .send()
        .await;
    assert!(impatient.is_err());
    assert_eq!(hec.events().len(), 4);
}

#[tokio::test]
async fn stop_and_restart_on_the_same_port() {
    let hec = start(Config {
        tls: true,
        ..config()
    })
    .await;
    let ca = reqwest::Certificate::from_pem(hec.ca_pem().unwrap().as_bytes()).unwrap();
    let url = hec.url().to_string();
    let send = || {
        let c = reqwest::Client::builder()
            .add_root_certificate(ca.clone())
            .build()
            .unwrap();
        let url = url.clone();
        async move {
            c.post(format!("{url}/services/collector/event"))
                .header("authorization", format!("Splunk {TOKEN}"))
                .body(BODY)
                .send()
                .await
        }
    };
    assert_eq!(send().await.unwrap().status(), 200);
    hec.stop().await;
    assert!(!hec.is_running());
    let down = send().await;
    assert!(
        down.unwrap_err().is_connect(),
        "connection refused while stopped"
    );
    hec.restart().await.expect("restarts");
    assert_eq!(hec.url(), url);
    assert_eq!(
        send().await.unwrap().status(),
        200,
        "same certificate, same port"
    );
    assert_eq!(hec.events().len(), 4, "what was stored survives");
}

#[tokio::test]
async fn a_fixed_port_is_used_and_freed() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let hec = start(Config { port, ..config() }).await;
    assert_eq!(hec.url(), format!("http://127.0.0.1:{port}"));
    assert_eq!(ingest(hec.url()).await.unwrap().status, 200);
    hec.shutdown();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let again = start(Config { port, ..config() }).await;
    assert_eq!(ingest(again.url()).await.unwrap().status, 200);
    assert_eq!(again.events().len(), 2, "a new receiver starts empty");
}

#[tokio::test]
async fn the_admin_surface() {
    let hec = start(config()).await;
    let url = hec.url();
    let set = client()
        .post(format!("{url}/__receiver/faults"))
        .json(&json!({"requests_503": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    let bad = client()
        .post(format!("{url}/__receiver/faults"))
        .json(&json!({"no_such_fault": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(ingest(url).await.unwrap().status, 503);
    assert_eq!(ingest(url).await.unwrap().status, 200);
    let events: serde_json::Value = client()
        .get(format!("{url}/__receiver/events?index=main"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(events["events"].as_array().unwrap().len(), 2);
    assert_eq!(events["events"][0]["event"], "e1");
    let stats: serde_json::Value = client()
        .get(format!("{url}/__receiver/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["requests_503"], 1);
    assert_eq!(stats["events"], 2);
    let reset = client()
        .post(format!("{url}/__receiver/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 200);
    assert!(hec.events().is_empty());
    assert_eq!(hec.stats().requests, 0);
}
