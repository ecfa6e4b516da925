//! `_bulk` semantics: data streams, duplicates, op types, gzip, filter_path, body errors.

use std::io::Write;

use receivers::elasticsearch::Config;
use serde_json::json;

use super::*;

#[tokio::test]
async fn create_then_duplicate_is_a_409_item() {
    let es = start(Config::default()).await;
    let first = post_bulk(es.url(), "/_bulk", creates(STREAM, &["a", "b"])).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["errors"], false);
    let ok = item(&first.body, 0);
    assert_eq!(ok["status"], 201);
    assert_eq!(ok["result"], "created");
    assert_eq!(ok["_id"], "a");
    assert_eq!(ok["_version"], 1);
    let backing = ok["_index"].as_str().unwrap();
    assert!(
        backing.starts_with(".ds-logs-salesforce.login-default-") && backing.ends_with("-000001"),
        "{backing}"
    );
    assert!(first.body["took"].is_u64());

    let again = post_bulk(es.url(), "/_bulk", creates(STREAM, &["b", "c"])).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["errors"], true);
    let dup = item(&again.body, 0);
    assert_eq!(dup["status"], 409);
    assert_eq!(dup["_id"], "b");
    assert_eq!(dup["error"]["type"], "version_conflict_engine_exception");
    assert_eq!(
        dup["error"]["reason"],
        "[b]: version conflict, document already exists (current version [1])"
    );
    assert_eq!(dup["error"]["index"], backing);
    assert_eq!(dup["error"]["shard"], "0");
    assert!(dup["error"]["index_uuid"].is_string());
    assert_eq!(
        item(&again.body, 1)["status"],
        201,
        "items keep their order"
    );

    assert_eq!(es.docs(STREAM).len(), 3);
    assert_eq!(es.offers(STREAM, "b"), 2);
    assert_eq!(es.offers(STREAM, "a"), 1);
    let s = es.stats();
    assert_eq!(
        (s.created, s.conflicts, s.items, s.bulk_requests),
        (3, 1, 4, 2)
    );
    assert_eq!(es.data_streams(), vec![STREAM.to_string()]);
}

#[tokio::test]
async fn data_streams_accept_only_create() {
    let es = start(Config::default()).await;
    let body = ndjson(&[
        json!({ "index": { "_index": STREAM } }),
        json!({ "@timestamp": "2026-01-01T00:00:00Z" }),
        json!({ "delete": { "_index": STREAM, "_id": "x" } }),
        json!({ "index": { "_index": "plain-index", "_id": "1" } }),
        json!({ "n": 1 }),
        json!({ "index": { "_index": "plain-index", "_id": "1" } }),
        json!({ "n": 2 }),
    ]);
    let a = post_bulk(es.url(), "/_bulk", body).await;
    assert_eq!(a.body["errors"], true);
    let refused = item(&a.body, 0);
    assert_eq!(refused["status"], 400);
    assert_eq!(refused["_index"], STREAM);
    assert!(refused["_id"].is_null());
    assert_eq!(refused["error"]["type"], "illegal_argument_exception");
    assert_eq!(
        refused["error"]["reason"],
        "only write ops with an op_type of create are allowed in data streams"
    );
    assert_eq!(item(&a.body, 1)["status"], 400, "delete on a data stream");
    assert_eq!(item(&a.body, 2)["status"], 201);
    let overwrite = item(&a.body, 3);
    assert_eq!(
        (
            overwrite["status"].as_u64(),
            overwrite["result"].as_str(),
            overwrite["_version"].as_u64()
        ),
        (Some(200), Some("updated"), Some(2))
    );
    let docs = es.docs("plain-index");
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].source, json!({ "n": 2 }));
    assert!(es.docs(STREAM).is_empty());
}

#[tokio::test]
async fn documents_and_pipelines_are_readable() {
    let es = start(Config::default()).await;
    let body = ndjson(&[
        json!({ "create": { "_index": STREAM, "_id": "1" } }),
        json!({ "@timestamp": 1767225600000u64, "message": "one" }),
        json!({ "create": { "_index": STREAM, "_id": "2", "pipeline": "own" } }),
        json!({ "@timestamp": "2026-01-01", "message": "two" }),
        json!({ "create": { "_index": STREAM } }),
        json!({ "@timestamp": "2026-01-01T10:00:00+01:00" }),
    ]);
    let a = post_bulk(
        es.url(),
        "/_bulk?pipeline=logs-salesforce.login-1.0.0&refresh=wait_for",
        body,
    )
    .await;
    assert_eq!(a.body["errors"], false, "{}", a.body);
    let docs = es.docs(STREAM);
    assert_eq!(docs.len(), 3);
    assert_eq!(
        docs[0].pipeline.as_deref(),
        Some("logs-salesforce.login-1.0.0")
    );
    assert_eq!(
        docs[1].pipeline.as_deref(),
        Some("own"),
        "the action's pipeline wins"
    );
    assert_eq!(docs[0].source["message"], "one");
    assert_eq!(docs[2].id.len(), 20, "auto-generated id");
    assert_eq!(docs[0].index, STREAM);

    let listed = answer(
        client()
            .get(format!("{}/__receiver/docs?index={STREAM}", es.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(listed.body["docs"].as_array().map(Vec::len), Some(3));
    assert_eq!(listed.body["docs"][1]["pipeline"], "own");
    assert_eq!(es.all_docs().len(), 3);
}

#[tokio::test]
async fn gzip_bodies_are_decoded() {
    let es = start(Config::default()).await;
    let ids: Vec<String> = (0..50).map(|i| format!("id-{i}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let plain = creates(STREAM, &refs);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(plain.as_bytes()).unwrap();
    let compressed = gz.finish().unwrap();
    let resp = client()
        .post(format!("{}/_bulk", es.url()))
        .header("content-type", "application/x-ndjson")
        .header("content-encoding", "gzip")
        .body(compressed.clone())
        .send()
        .await
        .unwrap();
    let a = answer(resp).await;
    assert_eq!(a.body["errors"], false, "{}", a.body);
    assert_eq!(es.docs(STREAM).len(), 50);
    let s = es.stats();
    assert_eq!(s.compressed_requests, 1);
    assert_eq!(s.bytes_received, compressed.len() as u64);
    assert_eq!(s.bytes_decoded, plain.len() as u64);
}

#[tokio::test]
async fn filter_path_trims_the_answer() {
    let es = start(Config::default()).await;
    post_bulk(es.url(), "/_bulk", creates(STREAM, &["1"])).await;
    let beats = post_bulk(
        es.url(),
        "/_bulk?filter_path=errors,items.*.error,items.*.status",
        creates(STREAM, &["1", "2"]),
    )
    .await;
    assert_eq!(
        beats.body,
        json!({ "errors": true, "items": [
            { "create": { "status": 409, "error": beats.body["items"][0]["create"]["error"].clone() } },
            { "create": { "status": 201 } }
        ]})
    );
    assert_eq!(
        beats.body["items"][0]["create"]["error"]["type"],
        "version_conflict_engine_exception"
    );
    let ids = post_bulk(
        es.url(),
        "/_bulk?filter_path=items.*._id",
        creates(STREAM, &["3", "4"]),
    )
    .await;
    assert_eq!(
        ids.body,
        json!({ "items": [{ "create": { "_id": "3" } }, { "create": { "_id": "4" } }] })
    );
    let only_errors = post_bulk(
        es.url(),
        "/_bulk?filter_path=items.*.error",
        creates(STREAM, &["5"]),
    )
    .await;
    assert_eq!(only_errors.body, json!({}));
}

#[tokio::test]
async fn malformed_requests_fail_whole() {
    let es = start(Config::default()).await;
    let no_newline = creates(STREAM, &["1"]).trim_end().to_string();
    let a = post_bulk(es.url(), "/_bulk", no_newline).await;
    assert_eq!(a.status, 400);
    assert_eq!(
        a.body["error"]["reason"],
        "The bulk request must be terminated by a newline [\\n]"
    );
    assert_eq!(a.body["status"], 400);
    assert_eq!(
        a.body["error"]["root_cause"][0]["type"],
        "illegal_argument_exception"
    );

    let a = post_bulk(es.url(), "/_bulk?bogus=1", creates(STREAM, &["1"])).await;
    assert_eq!(
        a.body["error"]["reason"],
        "request [/_bulk] contains unrecognized parameter: [bogus]"
    );
    let a = post_bulk(es.url(), "/_bulk?refresh=soon", creates(STREAM, &["1"])).await;
    assert_eq!(a.status, 400);

    let long_id = "x".repeat(513);
    let a = post_bulk(es.url(), "/_bulk", creates(STREAM, &[long_id.as_str()])).await;
    assert_eq!(
        a.body["error"]["type"],
        "action_request_validation_exception"
    );

    let resp = client()
        .post(format!("{}/_bulk", es.url()))
        .header("content-type", "text/plain")
        .body(creates(STREAM, &["1"]))
        .send()
        .await
        .unwrap();
    let a = answer(resp).await;
    assert_eq!(a.status, 406);
    assert_eq!(
        a.body["error"],
        "Content-Type header [text/plain] is not supported"
    );

    // Bad documents fail only their item.
    let body = ndjson(&[
        json!({ "create": { "_index": STREAM, "_id": "no-ts" } }),
        json!({ "message": "x" }),
        json!({ "create": { "_index": STREAM, "_id": "bad-ts" } }),
        json!({ "@timestamp": "yesterday" }),
        json!({ "create": { "_index": "Upper", "_id": "1" } }),
        json!({ "a": 1 }),
    ]);
    let mut text = body;
    text.push_str("{\"create\":{\"_index\":\"logs-x-default\",\"_id\":\"broken\"}}\n{\"a\":\n");
    let a = post_bulk(es.url(), "/_bulk", text).await;
    assert_eq!(a.status, 200);
    let no_ts = item(&a.body, 0);
    assert_eq!(no_ts["error"]["type"], "document_parsing_exception");
    assert!(no_ts["error"]["reason"]
        .as_str()
        .unwrap()
        .ends_with("data stream timestamp field [@timestamp] is missing"));
    assert_eq!(
        item(&a.body, 1)["error"]["caused_by"]["type"],
        "illegal_argument_exception"
    );
    assert_eq!(
        item(&a.body, 2)["error"]["type"],
        "invalid_index_name_exception"
    );
    assert_eq!(
        item(&a.body, 3)["error"]["type"],
        "document_parsing_exception"
    );
    assert_eq!(es.stats().rejected, 4);
    assert!(es.all_docs().is_empty());
}

#[tokio::test]
async fn rollover_ends_id_deduplication() {
    let es = start(Config::default()).await;
    post_bulk(es.url(), "/_bulk", creates(STREAM, &["same"])).await;
    let r = answer(
        client()
            .post(format!("{}/{STREAM}/_rollover", es.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.body["rolled_over"], true, "{}", r.body);
    assert!(r.body["new_index"].as_str().unwrap().ends_with("-000002"));
    // elastic/elasticsearch#44794: the same _id lands again in the new write index.
    let a = post_bulk(es.url(), "/_bulk", creates(STREAM, &["same"])).await;
    assert_eq!(item(&a.body, 0)["status"], 201);
    assert_eq!(es.docs(STREAM).len(), 2);
    assert_eq!(es.backing_indices(STREAM).len(), 2);
}
