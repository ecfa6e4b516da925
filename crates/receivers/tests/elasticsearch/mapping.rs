//! Mappings: stored templates, dynamic mapping, `ignore_malformed`, `constant_keyword`,
//! `dynamic: strict`, `@timestamp`, and the errors a refused document comes back with.

use receivers::elasticsearch::Config;
use serde_json::{json, Value};

use super::*;

const TS: &str = r#""@timestamp":"2026-03-10T14:25:00.000Z""#;

/// One `create` per source line, ids `1`, `2`, ... in order.
fn body(index: &str, sources: &[&str]) -> String {
    let mut s = String::new();
    for (n, src) in sources.iter().enumerate() {
        let action = json!({ "create": { "_index": index, "_id": (n + 1).to_string() } });
        s.push_str(&format!("{action}\n{src}\n"));
    }
    s
}

async fn put(url: &str, path: &str, v: Value) {
    let resp = client()
        .put(format!("{url}{path}"))
        .json(&v)
        .send()
        .await
        .expect("PUT");
    assert!(
        resp.status().is_success(),
        "{}",
        resp.text().await.unwrap_or_default()
    );
}

async fn get(url: &str, path: &str) -> Value {
    answer(
        client()
            .get(format!("{url}{path}"))
            .send()
            .await
            .expect("GET"),
    )
    .await
    .body
}

fn sfevents_like_template() -> Value {
    json!({
        "index_patterns": ["logs-salesforce.*-*"],
        "priority": 200,
        "data_stream": {},
        "template": { "mappings": {
            "dynamic_templates": [
                { "strings_as_keyword": { "match_mapping_type": "string", "mapping": { "type": "keyword" } } }
            ],
            "properties": {
                "@timestamp": { "type": "date" },
                "data_stream.type": { "type": "constant_keyword" },
                "data_stream.dataset": { "type": "constant_keyword" },
                "event": { "properties": { "id": { "type": "keyword" } } },
                "n": { "type": "long" },
                "source": { "properties": { "ip": { "type": "ip" } } }
            }
        } }
    })
}

#[tokio::test]
async fn a_stored_template_decides_what_a_document_may_hold() {
    let es = start(Config::default()).await;
    put(
        es.url(),
        "/_index_template/sfevents-like",
        sfevents_like_template(),
    )
    .await;
    let sources = [
        format!(
            r#"{{{TS},"data_stream":{{"type":"logs","dataset":"salesforce.login"}},"n":7,"source":{{"ip":"203.0.113.9"}},"user":"ana"}}"#
        ),
        format!(r#"{{{TS},"n":"abc"}}"#),
        format!(r#"{{{TS},"event":{{"id":{{"nested":"x","id":1}}}}}}"#),
        format!(r#"{{{TS},"data_stream":{{"dataset":"salesforce.logout"}}}}"#),
        format!(r#"{{{TS},"event":"login"}}"#),
        format!(r#"{{{TS},"source":{{"ip":"Salesforce.com IP"}}}}"#),
        format!(r#"{{{TS},"user":{{"name":"ana"}}}}"#),
    ];
    let refs: Vec<&str> = sources.iter().map(String::as_str).collect();
    let a = post_bulk(es.url(), "/_bulk", body(STREAM, &refs)).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["errors"], true);
    assert_eq!(item(&a.body, 0)["status"], 201, "{}", a.body);

    let error = |i: usize| {
        let it = item(&a.body, i);
        assert_eq!(it["status"], 400, "{it}");
        assert_eq!(it["error"]["type"], "document_parsing_exception", "{it}");
        it["error"].clone()
    };
    let e = error(1);
    assert_eq!(
        e["reason"],
        "[1:46] failed to parse field [n] of type [long] in document with id '2'. Preview of field's value: 'abc'"
    );
    assert_eq!(
        e["caused_by"],
        json!({"type": "illegal_argument_exception", "reason": "For input string: \"abc\""})
    );
    let e = error(2);
    assert_eq!(
        e["reason"],
        "[1:76] failed to parse field [event.id] of type [keyword] in document with id '3'. Preview of field's value: '{id=1, nested=x}'"
    );
    assert_eq!(
        e["caused_by"],
        json!({"type": "illegal_argument_exception", "reason": "Expected text at 1:56 but found START_OBJECT"})
    );
    let e = error(3);
    assert_eq!(
        e["reason"],
        "[1:67] failed to parse field [data_stream.dataset] of type [constant_keyword] in document with id '4'. Preview of field's value: 'salesforce.logout'"
    );
    assert_eq!(
        e["caused_by"]["reason"],
        "[constant_keyword] field [data_stream.dataset] only accepts values that are equal to the value defined in the mappings [salesforce.login], but got [salesforce.logout]"
    );
    let e = error(4);
    assert_eq!(
        e["reason"],
        "[1:50] object mapping for [event] tried to parse field [event] as object, but found a concrete value"
    );
    assert!(e.get("caused_by").is_none());
    assert_eq!(
        error(5)["caused_by"]["reason"],
        "'Salesforce.com IP' is not an IP string literal."
    );
    // `user` was mapped a keyword by the first document's string.
    assert_eq!(
        error(6)["caused_by"]["reason"],
        "Expected text at 1:49 but found START_OBJECT"
    );

    assert_eq!(es.docs(STREAM).len(), 1);
    assert_eq!(es.stats().rejected, 6);
    // The first document's value fixed the constant and mapped `user`, the refused ones mapped
    // nothing.
    let backing = es.backing_indices(STREAM)[0].clone();
    let m = get(es.url(), &format!("/{STREAM}/_mapping")).await;
    let props = &m[&backing]["mappings"]["properties"];
    assert_eq!(
        props["data_stream"]["properties"]["dataset"],
        json!({"type": "constant_keyword", "value": "salesforce.login"})
    );
    assert_eq!(props["data_stream"]["properties"]["type"]["value"], "logs");
    assert_eq!(props["user"], json!({"type": "keyword"}));
    assert_eq!(es.mapping(STREAM).as_ref(), Some(&m[&backing]["mappings"]));

    // A rollover starts again from the template: the constant is open again.
    es.rollover(STREAM).expect("rolled over");
    let again = post_bulk(es.url(), "/_bulk", body(STREAM, &[&sources[3]])).await;
    assert_eq!(item(&again.body, 0)["status"], 201, "{}", again.body);
}

#[tokio::test]
async fn dynamic_mapping_fixes_a_type_at_the_first_value() {
    let es = start(Config::default()).await;
    let idx = "plain-index";
    let a = post_bulk(
        es.url(),
        "/_bulk",
        body(
            idx,
            &[
                r#"{"count":1,"obj":{"a":1},"name":"ana","when":"2026-03-10T14:25:00Z","ratio":0.5,"gone":null}"#,
                r#"{"count":"many"}"#,
                r#"{"count":"12","ratio":"2","name":42}"#,
                r#"{"obj":"flat"}"#,
                r#"{"name":{"first":"ana"}}"#,
                r#"{"when":"yesterday"}"#,
                r#"{"count":{"n":1}}"#,
                r#"{"obj.a.b":1}"#,
            ],
        ),
    )
    .await;
    let statuses: Vec<u64> = (0..8)
        .map(|i| item(&a.body, i)["status"].as_u64().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [201, 400, 201, 400, 400, 400, 400, 400],
        "{}",
        a.body
    );
    let reason = |i: usize| {
        item(&a.body, i)["error"]["reason"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let cause = |i: usize| {
        item(&a.body, i)["error"]["caused_by"]["reason"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    assert!(reason(1).ends_with("failed to parse field [count] of type [long] in document with id '2'. Preview of field's value: 'many'"), "{}", reason(1));
    assert_eq!(reason(3), "[1:8] object mapping for [obj] tried to parse field [obj] as object, but found a concrete value");
    assert!(
        reason(4).contains("failed to parse field [name] of type [text]"),
        "{}",
        reason(4)
    );
    assert_eq!(cause(5), "failed to parse date field [yesterday] with format [strict_date_optional_time||epoch_millis]");
    assert_eq!(cause(6), "Cannot parse object as number");
    assert!(
        reason(6).starts_with("[1:16] failed to parse field [count]"),
        "{}",
        reason(6)
    );
    assert_eq!(reason(7), "[1:12] Could not dynamically add mapping for field [obj.a.b]. Existing mapping for [obj.a] must be of type object but found [long].");

    let m = es.mapping(idx).expect("mapped");
    let p = &m["properties"];
    assert_eq!(p["count"], json!({"type": "long"}));
    assert_eq!(p["ratio"], json!({"type": "float"}));
    assert_eq!(p["when"], json!({"type": "date"}));
    assert_eq!(
        p["name"],
        json!({"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}})
    );
    assert_eq!(p["obj"]["properties"]["a"], json!({"type": "long"}));
    assert!(p.get("gone").is_none(), "a null maps nothing");
}

#[tokio::test]
async fn x_packs_logs_template_ignores_malformed_values_and_maps_ecs_names() {
    let es = start(Config::default()).await;
    let stream = "logs-app.web-default";
    let a = post_bulk(
        es.url(),
        "/_bulk",
        body(
            stream,
            &[
                &format!(r#"{{{TS},"n":5,"source":{{"ip":"203.0.113.9","geo":{{"location":{{"lat":1.5,"lon":2}}}}}},"message":"hi","user_agent":{{"original":"curl"}},"when":"2026-03-10"}}"#),
                &format!(r#"{{{TS},"n":"abc","source":{{"ip":"not an ip"}}}}"#),
                &format!(r#"{{{TS},"data_stream":{{"type":"metrics"}}}}"#),
                r#"{"@timestamp":"yesterday"}"#,
                r#"{"message":"no time"}"#,
                &format!(r#"{{{TS},"source":{{"ip":{{"v4":"x"}}}}}}"#),
            ],
        ),
    )
    .await;
    let statuses: Vec<u64> = (0..6)
        .map(|i| item(&a.body, i)["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [201, 201, 400, 400, 400, 400], "{}", a.body);
    let docs = es.docs(stream);
    assert_eq!(
        docs[1].ignored,
        ["n", "source.ip"],
        "malformed values are ignored, not refused"
    );
    assert_eq!(docs[1].source["n"], "abc", "and kept in _source");
    let reason = |i: usize| {
        item(&a.body, i)["error"]["caused_by"]["reason"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(
        reason(2).contains("equal to the value defined in the mappings [logs], but got [metrics]")
    );
    assert_eq!(
        reason(3),
        "data stream timestamp field [@timestamp] is missing"
    );
    assert_eq!(
        item(&a.body, 4)["error"]["reason"],
        "[1:21] failed to parse: data stream timestamp field [@timestamp] is missing"
    );
    assert_eq!(
        reason(5),
        "Expected text at 1:57 but found START_OBJECT",
        "objects are never ignored"
    );

    let m = es.mapping(stream).expect("mapped");
    let p = &m["properties"];
    assert_eq!(p["source"]["properties"]["ip"]["type"], "ip");
    assert_eq!(
        p["source"]["properties"]["geo"]["properties"]["location"]["type"],
        "geo_point"
    );
    assert_eq!(p["message"]["type"], "match_only_text");
    assert_eq!(
        p["user_agent"]["properties"]["original"]["fields"]["text"]["type"],
        "match_only_text"
    );
    assert_eq!(
        p["when"],
        json!({"type": "keyword", "ignore_above": 1024}),
        "no date detection"
    );
    let listed = get(es.url(), "/__receiver/docs?index=logs-app.web-default").await;
    assert_eq!(listed["docs"][1]["_ignored"], json!(["n", "source.ip"]));
}

#[tokio::test]
async fn strict_objects_refuse_new_fields_and_opensearch_words_errors_its_way() {
    let es = start(Config::default()).await;
    put(
        es.url(),
        "/_index_template/strict",
        json!({"index_patterns": ["strict-*"], "template": {"mappings": {
            "dynamic": "strict", "properties": {"a": {"type": "keyword"}, "o": {"dynamic": "true", "properties": {}}}
        }}}),
    )
    .await;
    let a = post_bulk(
        es.url(),
        "/_bulk",
        body("strict-1", &[r#"{"a":"x","o":{"free":1}}"#, r#"{"b":1}"#]),
    )
    .await;
    assert_eq!(item(&a.body, 0)["status"], 201, "{}", a.body);
    let e = &item(&a.body, 1)["error"];
    assert_eq!(e["type"], "strict_dynamic_mapping_exception");
    assert_eq!(
        e["reason"],
        "[1:6] mapping set to strict, dynamic introduction of [b] within [_doc] is not allowed"
    );

    let os = start(Config::opensearch()).await;
    let a = post_bulk(
        os.url(),
        "/_bulk",
        body(
            "os-index",
            &[r#"{"n":1}"#, r#"{"n":"x"}"#, r#"{"n":{"a":1}}"#],
        ),
    )
    .await;
    let e = &item(&a.body, 1)["error"];
    assert_eq!(e["type"], "mapper_parsing_exception");
    assert_eq!(e["reason"], "failed to parse field [n] of type [long] in document with id '2'. Preview of field's value: 'x'");
    assert_eq!(
        item(&a.body, 2)["error"]["caused_by"]["reason"],
        "Cannot parse object as number"
    );
}
