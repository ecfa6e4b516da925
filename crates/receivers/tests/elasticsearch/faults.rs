//! Faults: whole-request 429/5xx, item 429, refused documents, 413, closed connections.

use std::io::Write;

use receivers::elasticsearch::{Config, Faults, LimitOn, RejectRule};
use serde_json::json;

use super::*;

async fn set_faults(url: &str, faults: serde_json::Value) {
    let resp = client()
        .post(format!("{url}/__receiver/faults"))
        .json(&faults)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        200,
        "{}",
        resp.text().await.unwrap_or_default()
    );
}

#[tokio::test]
async fn item_429_then_success_on_retry() {
    let es = start(Config::default()).await;
    set_faults(es.url(), json!({ "items_429": 2 })).await;
    let a = post_bulk(es.url(), "/_bulk", creates(STREAM, &["1", "2", "3"])).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["errors"], true);
    for i in 0..2 {
        let it = item(&a.body, i);
        assert_eq!(it["status"], 429);
        assert_eq!(it["error"]["type"], "es_rejected_execution_exception");
    }
    assert_eq!(item(&a.body, 2)["status"], 201);
    // The client retries only the refused items, as the bulk helpers do.
    let b = post_bulk(es.url(), "/_bulk", creates(STREAM, &["1", "2"])).await;
    assert_eq!(b.body["errors"], false, "{}", b.body);
    assert_eq!(es.docs(STREAM).len(), 3);
    assert_eq!((es.offers(STREAM, "1"), es.offers(STREAM, "3")), (2, 1));
    let s = es.stats();
    assert_eq!((s.items_429, s.created, s.conflicts), (2, 3, 0));
    assert_eq!(es.faults().items_429, 0, "used up");
}

#[tokio::test]
async fn whole_request_429_and_503_store_nothing() {
    let es = start(Config {
        faults: Faults {
            requests_429: 1,
            retry_after_secs: Some(7),
            requests_5xx: 1,
            ..Faults::default()
        },
        ..Config::default()
    })
    .await;
    let body = creates(STREAM, &["1"]);
    let a = post_bulk(es.url(), "/_bulk", body.clone()).await;
    assert_eq!(a.status, 429);
    assert_eq!(a.headers["retry-after"], "7");
    assert_eq!(a.body["error"]["type"], "es_rejected_execution_exception");
    assert!(a.body["error"]["reason"]
        .as_str()
        .unwrap()
        .starts_with("rejected execution of coordinating operation"));
    let b = post_bulk(es.url(), "/_bulk", body.clone()).await;
    assert_eq!(b.status, 503);
    assert_eq!(b.body["status"], 503);
    assert!(es.docs(STREAM).is_empty());
    let c = post_bulk(es.url(), "/_bulk", body).await;
    assert_eq!(c.body["errors"], false);
    assert_eq!(es.offers(STREAM, "1"), 3, "every attempt is an offer");
    let s = es.stats();
    assert_eq!(
        (s.requests_429, s.requests_5xx, s.items, s.created),
        (1, 1, 1, 1)
    );
}

#[tokio::test]
async fn refused_documents_are_400_items() {
    let es = start(Config::default()).await;
    es.set_faults(Faults {
        reject_documents: vec![RejectRule {
            field: "event.outcome".into(),
            value: Some(json!("poison")),
            mapped_as: None,
        }],
        ..Faults::default()
    });
    let body = ndjson(&[
        json!({ "create": { "_index": STREAM, "_id": "good" } }),
        json!({ "@timestamp": "2026-01-01T00:00:00Z", "event": { "outcome": "success" } }),
        json!({ "create": { "_index": STREAM, "_id": "bad" } }),
        json!({ "@timestamp": "2026-01-01T00:00:00Z", "event": { "outcome": "poison" } }),
    ]);
    let a = post_bulk(es.url(), "/_bulk", body).await;
    let bad = item(&a.body, 1);
    assert_eq!(bad["status"], 400);
    assert_eq!(bad["error"]["type"], "document_parsing_exception");
    let reason = bad["error"]["reason"].as_str().unwrap();
    assert!(reason.contains("failed to parse field [event.outcome] of type [long] in document with id 'bad'. Preview of field's value: 'poison'"), "{reason}");
    assert_eq!(item(&a.body, 0)["status"], 201);
    assert_eq!(es.stats().rejected, 1);

    // OpenSearch names it mapper_parsing_exception.
    let os = start(Config {
        builtin_logs_template: Some(true),
        ..Config::opensearch()
    })
    .await;
    os.set_faults(es.faults());
    let body = ndjson(&[
        json!({ "create": { "_index": STREAM, "_id": "x" } }),
        json!({ "@timestamp": "2026-01-01T00:00:00Z", "event": { "outcome": "poison" } }),
    ]);
    let a = post_bulk(os.url(), "/_bulk", body).await;
    assert_eq!(
        item(&a.body, 0)["error"]["type"],
        "mapper_parsing_exception",
        "{}",
        a.body
    );
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let es = start(Config {
        faults: Faults {
            max_content_length: Some(4096),
            ..Faults::default()
        },
        ..Config::default()
    })
    .await;
    let ids: Vec<String> = (0..100).map(|i| format!("{i:04}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let big = creates(STREAM, &refs);
    assert!(big.len() > 4096);
    let a = post_bulk(es.url(), "/_bulk", big.clone()).await;
    assert_eq!(a.status, 413);
    assert!(es.docs(STREAM).is_empty());

    // Gzip: the decoded size counts, as in Elasticsearch's pipeline.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(big.as_bytes()).unwrap();
    let compressed = gz.finish().unwrap();
    assert!(
        compressed.len() < 4096,
        "{} bytes compressed",
        compressed.len()
    );
    let send = |url: String, body: Vec<u8>| async move {
        let resp = client()
            .post(format!("{url}/_bulk"))
            .header("content-type", "application/x-ndjson")
            .header("content-encoding", "gzip")
            .body(body)
            .send()
            .await
            .unwrap();
        answer(resp).await
    };
    assert_eq!(
        send(es.url().to_string(), compressed.clone()).await.status,
        413
    );
    assert_eq!(es.stats().requests_413, 2);

    let received = start(Config {
        limit_on: LimitOn::Received,
        faults: Faults {
            max_content_length: Some(4096),
            ..Faults::default()
        },
        ..Config::default()
    })
    .await;
    let a = send(received.url().to_string(), compressed).await;
    assert_eq!(a.status, 200, "counted on received bytes");
    assert_eq!(received.docs(STREAM).len(), 100);

    // The limit can be raised at run time.
    es.set_faults(Faults {
        max_content_length: Some(1 << 20),
        ..Faults::default()
    });
    assert_eq!(post_bulk(es.url(), "/_bulk", big).await.status, 200);
}

#[tokio::test]
async fn closed_connections_give_no_answer() {
    let es = start(Config::default()).await;
    es.set_faults(Faults {
        close_connection: 1,
        close_after_store: 1,
        ..Faults::default()
    });
    let send = || {
        client()
            .post(format!("{}/_bulk", es.url()))
            .header("content-type", "application/x-ndjson")
            .body(creates(STREAM, &["1", "2"]))
            .send()
    };
    let first = send().await;
    assert!(
        first.is_err(),
        "connection closed before the answer: {first:?}"
    );
    assert!(es.docs(STREAM).is_empty(), "nothing stored before the cut");
    let second = send().await;
    assert!(
        second.is_err(),
        "connection closed after storing: {second:?}"
    );
    assert_eq!(
        es.docs(STREAM).len(),
        2,
        "stored although the client got no answer"
    );
    let third = answer(send().await.expect("third answers")).await;
    assert_eq!(
        item(&third.body, 0)["status"],
        409,
        "redelivery meets the stored documents"
    );
    assert_eq!(es.offers(STREAM, "1"), 3);
    assert_eq!(es.stats().connections_closed, 2);
}

#[tokio::test]
async fn item_5xx_and_delay() {
    let es = start(Config::default()).await;
    es.set_faults(Faults {
        items_5xx: 1,
        delay_ms: Some(200),
        ..Faults::default()
    });
    let started = std::time::Instant::now();
    let a = post_bulk(es.url(), "/_bulk", creates(STREAM, &["1", "2"])).await;
    assert!(started.elapsed() >= std::time::Duration::from_millis(200));
    assert_eq!(item(&a.body, 0)["status"], 503);
    assert_eq!(
        item(&a.body, 0)["error"]["type"],
        "unavailable_shards_exception"
    );
    assert_eq!(item(&a.body, 1)["status"], 201);
    assert_eq!(es.stats().items_5xx, 1);
}
