//! `agent` mode: the document is what Filebeat's `salesforce` input sends, so that the
//! integration's own ingest pipeline maps it.

use std::fs;

use ecs::{Mode, Normalizer, Options};
use serde_json::{json, Value};

fn normalizer(preserve_original: bool) -> Normalizer {
    Normalizer::new(Options {
        instance_url: "https://acme.my.salesforce.com".into(),
        preserve_original,
        tags: vec!["salesforce-login".into()],
        ..Options::default()
    })
    .expect("normalizer")
}

#[test]
fn event_log_file_row_is_the_sorted_string_map() {
    // Archive order is CSV order; Go's json.Marshal of map[string]string sorts the keys and
    // keeps empty cells.
    let ev = json!({"@timestamp": "2022-09-13T05:22:43.429Z", "id": "ev-1",
        "org_id": "00D000000000001AAA", "source": "EventLogFile", "event_type": "Login",
        "fields": {"EVENT_TYPE": "Login", "TIMESTAMP": "20220913052243.429", "USER_ID": "005",
                   "SESSION_KEY": "", "BROWSER_TYPE": "a <b> & \"c\"", "CPU_TIME": "63"}});
    let doc = normalizer(true).agent(&ev).expect("doc");
    assert_eq!(doc.mode, Mode::Agent);
    assert_eq!(doc.id, "ev-1");
    assert_eq!(doc.data_stream, "logs-salesforce.login-default");
    assert_eq!(
        doc.body,
        json!({
            "@timestamp": "2022-09-13T05:22:43.429Z",
            "message": "{\"BROWSER_TYPE\":\"a \\u003cb\\u003e \\u0026 \\\"c\\\"\",\"CPU_TIME\":\"63\",\
                        \"EVENT_TYPE\":\"Login\",\"SESSION_KEY\":\"\",\
                        \"TIMESTAMP\":\"20220913052243.429\",\"USER_ID\":\"005\"}",
            "event": {"provider": "EventLogFile", "dataset": "salesforce.login"},
            "input": {"type": "salesforce"},
            "tags": ["preserve_original_event", "salesforce-login"],
            "data_stream": {"type": "logs", "dataset": "salesforce.login", "namespace": "default"},
            "salesforce": {"instance_url": "https://acme.my.salesforce.com",
                           "org_id": "00D000000000001AAA", "event_id": "ev-1"}
        })
    );
}

#[test]
fn object_record_is_what_go_sfdc_keeps() {
    let ev = json!({"@timestamp": "2021-10-06T07:13:07.000Z", "id": "0Ym000000000001AAA",
        "source": "SetupAuditTrail",
        "fields": {"Id": "0Ym000000000001AAA", "Action": "changedPassword",
                   "CreatedDate": "2021-10-06T07:13:07.000+0000", "DelegateUser": null,
                   "CreatedBy": {"Username": "a@b.c"}, "attributes": {"type": "SetupAuditTrail"},
                   "Rank": 2.0, "Score": 0.5, "Big": 12345678901234567890u64}});
    let doc = normalizer(false).agent(&ev).expect("doc");
    assert_eq!(doc.data_stream, "logs-salesforce.setupaudittrail-default");
    assert_eq!(
        doc.body["message"],
        json!(
            "{\"Action\":\"changedPassword\",\"Big\":12345678901234567000,\
               \"CreatedDate\":\"2021-10-06T07:13:07.000+0000\",\"Id\":\"0Ym000000000001AAA\",\
               \"Rank\":2,\"Score\":0.5}"
        )
    );
    assert_eq!(doc.body["event"]["provider"], "Object");
    assert_eq!(doc.body["tags"], json!(["salesforce-login"]));
    // Nothing is mapped here: the pipeline does it.
    assert!(doc.body["event"].get("action").is_none() && doc.body.get("user").is_none());
}

#[test]
fn datasets_without_a_pipeline_fall_back_to_ecs() {
    let ev = json!({"@timestamp": "2024-01-01T00:00:00.000Z", "id": "ev-9",
        "source": "EventLogFile", "event_type": "ApiTotalUsage",
        "fields": {"EVENT_TYPE": "ApiTotalUsage", "ROWS": "1"}});
    let n = normalizer(false);
    let doc = n.agent(&ev).expect("doc");
    assert_eq!(doc.mode, Mode::Ecs);
    assert_eq!(doc, n.ecs(&ev).expect("doc"));
    assert!(doc.body.get("message").is_none());
}

/// The corpus' Login EventLogFile line was produced by the Go input (sorted keys, compact):
/// the message built from the same row must be byte-identical to it.
#[test]
fn matches_the_line_filebeat_produced() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/conformance/elastic-salesforce/login/test-login-eventlogfile.log"
    );
    let line = fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("the conformance corpus is expected at {path}: {e}"));
    let line = line.trim_end();
    // Put the columns in another order, as a CSV header may have them.
    let record: serde_json::Map<String, Value> = serde_json::from_str(line).expect("JSON");
    let shuffled: serde_json::Map<String, Value> = record.into_iter().rev().collect();
    let ev = json!({"@timestamp": "2022-09-13T05:22:43.429Z", "id": "x",
                    "source": "EventLogFile", "event_type": "Login", "fields": shuffled});
    let doc = normalizer(false).agent(&ev).expect("doc");
    assert_eq!(doc.body["message"], json!(line));
}
