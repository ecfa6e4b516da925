//! Templates, lifecycle policies, data streams and the admin endpoints.

use receivers::elasticsearch::Config;
use serde_json::json;

use super::*;

async fn send(req: reqwest::RequestBuilder) -> Answer {
    answer(req.send().await.expect("request")).await
}

#[tokio::test]
async fn index_and_component_templates_round_trip() {
    let es = start(Config::default()).await;
    let c = client();
    let url = es.url();
    let component = json!({ "template": { "settings": { "index.lifecycle.name": "sfevents" } } });
    assert_eq!(
        send(
            c.put(format!("{url}/_component_template/sfevents@settings"))
                .json(&component)
        )
        .await
        .body,
        json!({ "acknowledged": true })
    );
    let template = json!({
        "index_patterns": ["logs-salesforce.*-*"],
        "data_stream": {},
        "priority": 200,
        "composed_of": ["sfevents@settings"],
        "template": { "mappings": { "properties": { "event": { "properties": { "id": { "type": "keyword" } } } } } },
        "_meta": { "managed_by": "sfevents" }
    });
    let put = send(
        c.put(format!("{url}/_index_template/sfevents-logs"))
            .json(&template),
    )
    .await;
    assert_eq!(put.status, 200, "{}", put.body);
    let got = send(c.get(format!("{url}/_index_template/sfevents-logs"))).await;
    let stored = &got.body["index_templates"][0];
    assert_eq!(stored["name"], "sfevents-logs");
    assert_eq!(
        stored["index_template"]["index_patterns"],
        template["index_patterns"]
    );
    assert_eq!(stored["index_template"]["template"], template["template"]);
    assert_eq!(
        stored["index_template"]["data_stream"],
        json!({ "hidden": false, "allow_custom_routing": false })
    );
    assert_eq!(
        es.index_template("sfevents-logs").unwrap()["_meta"]["managed_by"],
        "sfevents"
    );
    let comp = send(c.get(format!("{url}/_component_template/sfevents@settings"))).await;
    assert_eq!(
        comp.body["component_templates"][0]["component_template"],
        component
    );

    let missing = send(c.get(format!("{url}/_index_template/nope"))).await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.body["error"]["type"],
        "resource_not_found_exception"
    );
    assert_eq!(
        missing.body["error"]["reason"],
        "index template matching [nope] not found"
    );
    assert_eq!(
        send(c.get(format!("{url}/_component_template/nope")))
            .await
            .status,
        404
    );

    let clash = send(
        c.put(format!("{url}/_index_template/other"))
            .json(&json!({ "index_patterns": ["logs-salesforce.login-*"], "priority": 200 })),
    )
    .await;
    assert_eq!(clash.status, 400);
    assert!(clash.body["error"]["reason"]
        .as_str()
        .unwrap()
        .contains("that have the same priority [200]"));
    let dangling = send(
        c.put(format!("{url}/_index_template/dangling"))
            .json(&json!({ "index_patterns": ["x-*"], "composed_of": ["absent"] })),
    )
    .await;
    assert_eq!(dangling.status, 400);
    let no_patterns = send(
        c.put(format!("{url}/_index_template/bad"))
            .json(&json!({ "template": {} })),
    )
    .await;
    assert_eq!(
        no_patterns.body["error"]["type"],
        "action_request_validation_exception"
    );

    // The template decides: a data stream, with its lifecycle policy.
    post_bulk(url, "/_bulk", creates(STREAM, &["1"])).await;
    let ds = send(c.get(format!("{url}/_data_stream/{STREAM}"))).await;
    let stream = &ds.body["data_streams"][0];
    assert_eq!(stream["template"], "sfevents-logs");
    assert_eq!(stream["ilm_policy"], "sfevents");
    assert_eq!(stream["generation"], 1);
    assert_eq!(stream["timestamp_field"]["name"], "@timestamp");
    let gone = send(c.get(format!("{url}/_data_stream/logs-none-default"))).await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.body["error"]["type"], "index_not_found_exception");
    let in_use = send(c.delete(format!("{url}/_index_template/sfevents-logs"))).await;
    assert_eq!(
        in_use.status, 400,
        "a template in use by a data stream stays"
    );

    // A higher-priority template without data_stream makes plain indices.
    send(
        c.put(format!("{url}/_index_template/plain"))
            .json(&json!({ "index_patterns": ["logs-plain.*-*"], "priority": 300 })),
    )
    .await;
    let body = ndjson(&[
        json!({ "index": { "_index": "logs-plain.x-default", "_id": "1" } }),
        json!({ "a": 1 }),
    ]);
    let a = post_bulk(url, "/_bulk", body).await;
    assert_eq!(item(&a.body, 0)["status"], 201, "{}", a.body);
}

#[tokio::test]
async fn lifecycle_policies_per_flavour() {
    let es = start(Config::default()).await;
    let c = client();
    let policy = json!({ "policy": { "phases": { "hot": { "actions": { "rollover": { "max_age": "1d" } } } } } });
    let put = send(
        c.put(format!("{}/_ilm/policy/sfevents", es.url()))
            .json(&policy),
    )
    .await;
    assert_eq!(put.body, json!({ "acknowledged": true }));
    let got = send(c.get(format!("{}/_ilm/policy/sfevents", es.url()))).await;
    assert_eq!(got.body["sfevents"]["policy"], policy["policy"]);
    assert_eq!(got.body["sfevents"]["version"], 1);
    let missing = send(c.get(format!("{}/_ilm/policy/nope", es.url()))).await;
    assert_eq!(
        (
            missing.status.as_u16(),
            missing.body["error"]["reason"].as_str()
        ),
        (404, Some("Lifecycle policy not found: [nope]"))
    );
    assert_eq!(es.ilm_policy("sfevents").unwrap(), policy["policy"]);
    let ism_on_es = send(
        c.put(format!("{}/_plugins/_ism/policies/x", es.url()))
            .json(&policy),
    )
    .await;
    assert_eq!(ism_on_es.status, 400);
    assert_eq!(
        ism_on_es.body["error"],
        "no handler found for uri [/_plugins/_ism/policies/x] and method [PUT]"
    );

    let os = start(Config::opensearch()).await;
    let ism =
        json!({ "policy": { "description": "sfevents", "default_state": "hot", "states": [] } });
    let created = send(
        c.put(format!("{}/_plugins/_ism/policies/sfevents", os.url()))
            .json(&ism),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["_id"], "sfevents");
    assert_eq!(created.body["policy"]["policy"]["default_state"], "hot");
    let again = send(
        c.put(format!("{}/_plugins/_ism/policies/sfevents", os.url()))
            .json(&ism),
    )
    .await;
    assert_eq!(
        again.status, 409,
        "replacing needs if_seq_no and if_primary_term"
    );
    let seq = created.body["_seq_no"].as_u64().unwrap();
    let update = send(
        c.put(format!(
            "{}/_plugins/_ism/policies/sfevents?if_seq_no={seq}&if_primary_term=1",
            os.url()
        ))
        .json(&ism),
    )
    .await;
    assert_eq!(update.status, 200, "{}", update.body);
    assert_eq!(update.body["_version"], 2);
    let got = send(c.get(format!("{}/_plugins/_ism/policies/sfevents", os.url()))).await;
    assert_eq!(got.body["policy"]["policy_id"], "sfevents");
    assert_eq!(
        os.ism_policy("sfevents").unwrap()["description"],
        "sfevents"
    );
    let missing = send(c.get(format!("{}/_plugins/_ism/policies/nope", os.url()))).await;
    assert_eq!(
        (
            missing.status.as_u16(),
            missing.body["error"]["reason"].as_str()
        ),
        (404, Some("Policy not found"))
    );
    assert_eq!(
        send(c.get(format!("{}/_ilm/policy/x", os.url())))
            .await
            .status,
        400
    );
    // No built-in logs template on OpenSearch: logs-*-* is a plain index.
    let body = ndjson(&[
        json!({ "index": { "_index": STREAM, "_id": "1" } }),
        json!({ "a": 1 }),
    ]);
    assert_eq!(
        item(&post_bulk(os.url(), "/_bulk", body).await.body, 0)["status"],
        201
    );
}

#[tokio::test]
async fn admin_endpoints() {
    let es = start(Config::default()).await;
    let c = client();
    let url = es.url();
    let set = send(
        c.post(format!("{url}/__receiver/faults"))
            .json(&json!({ "requests_429": 1 })),
    )
    .await;
    assert_eq!(set.body["requests_429"], 1);
    let bad = send(
        c.post(format!("{url}/__receiver/faults"))
            .json(&json!({ "requests_492": 1 })),
    )
    .await;
    assert_eq!(bad.status, 400, "unknown fault names are refused");
    assert_eq!(
        send(c.get(format!("{url}/__receiver/faults"))).await.body["requests_429"],
        1
    );
    post_bulk(url, "/_bulk", creates(STREAM, &["1"])).await;
    post_bulk(url, "/_bulk", creates(STREAM, &["1"])).await;
    let stats = send(c.get(format!("{url}/__receiver/stats"))).await;
    assert_eq!(
        (
            stats.body["bulk_requests"].as_u64(),
            stats.body["requests_429"].as_u64(),
            stats.body["created"].as_u64()
        ),
        (Some(2), Some(1), Some(1))
    );
    let offers = send(c.get(format!("{url}/__receiver/offers?index={STREAM}"))).await;
    assert_eq!(
        offers.body["offers"],
        json!([{ "index": STREAM, "id": "1", "count": 2 }])
    );
    assert_eq!(
        send(c.post(format!("{url}/__receiver/reset"))).await.status,
        200
    );
    assert!(es.all_docs().is_empty());
    assert_eq!(es.stats().bulk_requests, 0);
    assert!(
        es.index_template("logs").is_some(),
        "templates survive a reset"
    );
}

#[tokio::test]
async fn data_stream_api_refresh_and_head() {
    let es = start(Config::default()).await;
    let c = client();
    let url = es.url();
    let put = send(c.put(format!("{url}/_data_stream/logs-app-prod"))).await;
    assert_eq!(put.body, json!({ "acknowledged": true }));
    let again = send(c.put(format!("{url}/_data_stream/logs-app-prod"))).await;
    assert_eq!(
        again.body["error"]["type"],
        "resource_already_exists_exception"
    );
    let no_template = send(c.put(format!("{url}/_data_stream/metrics-app"))).await;
    assert_eq!(
        no_template.body["error"]["reason"],
        "no matching index template found for data stream [metrics-app]"
    );
    let all = send(c.get(format!("{url}/_data_stream"))).await;
    assert_eq!(all.body["data_streams"][0]["name"], "logs-app-prod");
    assert_eq!(
        all.body["data_streams"][0]["template"], "logs",
        "the built-in template"
    );
    let listed = send(c.get(format!("{url}/_index_template"))).await;
    assert_eq!(listed.body["index_templates"][0]["name"], "logs");

    // HEAD answers like GET without a body (the clients' `exists` calls).
    let head = c
        .head(format!("{url}/_index_template/logs"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    let head = c
        .head(format!("{url}/_index_template/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 404);

    let refreshed = send(c.post(format!("{url}/logs-app-prod/_refresh"))).await;
    assert_eq!(refreshed.body["_shards"]["successful"], 1);
    assert_eq!(
        send(c.post(format!("{url}/nope/_refresh"))).await.status,
        404
    );
    assert_eq!(
        send(c.delete(format!("{url}/_data_stream/logs-app-prod")))
            .await
            .status,
        200
    );
    assert!(es.data_streams().is_empty());
    assert_eq!(
        send(c.delete(format!("{url}/_data_stream/logs-app-prod")))
            .await
            .status,
        404
    );
}
