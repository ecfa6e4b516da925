//! The generic mapping (every EventLogFile type and object the integration does not cover) and
//! the API's error cases.

use ecs::{dataset_for, snake_case, EcsError, Mode, Normalizer, Options};
use serde_json::{json, Value};

fn normalizer() -> Normalizer {
    Normalizer::new(Options {
        instance_url: "https://acme.my.salesforce.com".into(),
        namespace: "prod".into(),
        ..Options::default()
    })
    .expect("normalizer")
}

fn elf(event_type: &str, fields: Value) -> Value {
    json!({"@timestamp": "2024-01-01T01:02:03.400Z", "id": "ev-1", "org_id": "00D000000000001AAA",
           "source": "EventLogFile", "event_type": event_type, "file_id": "0AT000000000001AAA",
           "log_date": "2024-01-01T00:00:00.000Z", "interval": "Daily", "sequence": 0, "row": 3,
           "fields": fields})
}

#[test]
fn dataset_names() {
    assert_eq!(snake_case("ApiTotalUsage"), "api_total_usage");
    assert_eq!(
        dataset_for("EventLogFile", Some("ApiTotalUsage")),
        "api_total_usage"
    );
    assert_eq!(dataset_for("EventLogFile", Some("Login")), "login");
    assert_eq!(dataset_for("EventLogFile", Some("ApexSoap")), "apex");
    assert_eq!(dataset_for("LoginEvent", None), "login");
    assert_eq!(dataset_for("AuraRequestEventLog", None), "aura_request");
    assert_eq!(dataset_for("LoginHistory", None), "login_history");
    assert_eq!(dataset_for("ReportEvent", None), "report_event");
    assert_eq!(dataset_for("Custom_Thing__c", None), "custom_thing__c");
    // A name that would land in one of the integration's data streams is kept apart.
    assert_eq!(dataset_for("Login", None), "login_object");
}

#[test]
fn event_log_file_row() {
    let ev = elf(
        "ApiTotalUsage",
        json!({"EVENT_TYPE": "ApiTotalUsage", "TIMESTAMP": "20240101010203.400",
               "TIMESTAMP_DERIVED": "2024-01-01T01:02:03.400Z", "USER_ID": "005000000000001",
               "USER_ID_DERIVED": "005000000000001AAA", "USER_NAME": "jane@acme.com",
               "CLIENT_IP": "Salesforce.com IP", "SOURCE_IP": "", "URI": "/services/data/v58.0/query",
               "HTTP_METHOD": "GET", "STATUS_CODE": "200", "REQUEST_SIZE": "0",
               "ROWS": "12", "RATIO": "0.25", "ZIP": "02134", "REQUEST_ID": "4242",
               "API_VERSION": "58.0", "COUNTS": "1e3", "EMPTY": "", "REQUEST_STATUS": "F"}),
    );
    let doc = normalizer().ecs(&ev).expect("doc");
    assert_eq!(doc.id, "ev-1");
    assert_eq!(doc.mode, Mode::Ecs);
    assert_eq!(doc.dataset, "salesforce.api_total_usage");
    assert_eq!(doc.data_stream, "logs-salesforce.api_total_usage-prod");
    let b = &doc.body;
    assert_eq!(b["@timestamp"], "2024-01-01T01:02:03.400Z");
    assert_eq!(
        b["event"],
        json!({"dataset": "salesforce.api_total_usage", "kind": "event", "module": "salesforce",
               "provider": "EventLogFile", "outcome": "failure"})
    );
    assert_eq!(b["ecs"]["version"], "8.11.0");
    assert_eq!(
        b["data_stream"],
        json!({"type": "logs", "dataset": "salesforce.api_total_usage",
                                       "namespace": "prod"})
    );
    assert_eq!(
        b["user"],
        json!({"id": "005000000000001AAA", "name": "jane@acme.com"})
    );
    // "Salesforce.com IP" is not an address, and the empty SOURCE_IP is nothing.
    assert!(b.get("source").is_none());
    assert!(b["related"].get("ip").is_none());
    assert_eq!(
        b["related"]["user"],
        json!(["005000000000001AAA", "005000000000001", "jane@acme.com"])
    );
    assert_eq!(b["url"], json!({"original": "/services/data/v58.0/query"}));
    assert_eq!(
        b["http"],
        json!({"request": {"method": "GET", "bytes": 0}, "response": {"status_code": 200}})
    );
    let s = &b["salesforce"]["api_total_usage"];
    assert_eq!(s["rows"], json!(12));
    assert_eq!(s["ratio"], json!(0.25));
    assert_eq!(s["api_version"], json!(58.0));
    assert_eq!(s["zip"], json!("02134"));
    assert_eq!(s["request_id"], json!("4242"));
    assert_eq!(s["user_id"], json!("005000000000001"));
    assert_eq!(s["counts"], json!("1e3"));
    assert_eq!(s["timestamp"], json!("20240101010203.400"));
    assert!(s.get("empty").is_none() && s.get("source_ip").is_none());
    assert_eq!(
        b["salesforce"]["instance_url"],
        json!("https://acme.my.salesforce.com")
    );
    assert_eq!(b["salesforce"]["org_id"], json!("00D000000000001AAA"));
    assert_eq!(b["salesforce"]["event_id"], json!("ev-1"));
    assert!(b.get("tags").is_none() && b["event"].get("original").is_none());
}

#[test]
fn addresses_and_fallback_time() {
    let ev = elf(
        "RestApi",
        json!({"EVENT_TYPE": "RestApi", "CLIENT_IP": "Salesforce.com IP", "SOURCE_IP": "",
               "USER_ID": "005000000000001", "TIMESTAMP": "20240102030405.6"}),
    );
    let mut ev2 = ev.clone();
    ev2["fields"]["CLIENT_IP"] = json!("10.1.2.3");
    let b = normalizer().ecs(&ev2).expect("doc").body;
    assert_eq!(b["source"]["ip"], "10.1.2.3");
    assert_eq!(b["related"]["ip"], json!(["10.1.2.3"]));
    // No TIMESTAMP_DERIVED: TIMESTAMP, in GMT.
    assert_eq!(b["@timestamp"], "2024-01-02T03:04:05.600Z");
    // Neither: the archive's time.
    let mut ev3 = ev;
    ev3["fields"]["TIMESTAMP"] = json!("");
    let b = normalizer().ecs(&ev3).expect("doc").body;
    assert_eq!(b["@timestamp"], "2024-01-01T01:02:03.400Z");
    ev3["@timestamp"] = Value::Null;
    assert_eq!(
        normalizer().ecs(&ev3),
        Err(EcsError::MissingField("@timestamp"))
    );
}

#[test]
fn object_record() {
    let ev = json!({"@timestamp": "2024-03-04T05:06:07.000Z", "id": "ev-2",
        "org_id": "00D000000000001AAA", "source": "LoginHistory",
        "fields": {"Id": "0Ya000000000001AAA", "LoginTime": "2024-03-04T05:06:07.000+0000",
                   "UserId": "005000000000001AAA", "SourceIp": "2001:db8::1",
                   "CreatedDate": "2024-03-04T05:06:08.000+0000", "Status": "Success",
                   "LoginAttempts": 3, "Latitude": 12.5, "Platform": null, "IsPortal": false,
                   "attributes": {"type": "LoginHistory"},
                   "CreatedBy": {"Username": "jane@acme.com", "Profile": {"Name": "Admin"}},
                   "Browser": ""}});
    let doc = normalizer().ecs(&ev).expect("doc");
    assert_eq!(doc.data_stream, "logs-salesforce.login_history-prod");
    let b = &doc.body;
    assert_eq!(b["event"]["provider"], "Object");
    assert_eq!(b["event"]["id"], "0Ya000000000001AAA");
    assert_eq!(b["event"]["created"], "2024-03-04T05:06:08.000Z");
    assert_eq!(b["@timestamp"], "2024-03-04T05:06:07.000Z");
    assert_eq!(b["source"]["ip"], "2001:db8::1");
    assert_eq!(
        b["related"],
        json!({"ip": ["2001:db8::1"], "user": ["005000000000001AAA"]})
    );
    assert_eq!(
        b["salesforce"]["login_history"],
        json!({"id": "0Ya000000000001AAA", "login_time": "2024-03-04T05:06:07.000+0000",
               "user_id": "005000000000001AAA", "source_ip": "2001:db8::1",
               "created_date": "2024-03-04T05:06:08.000+0000", "status": "Success",
               "login_attempts": 3, "latitude": 12.5, "is_portal": false,
               "created_by": {"username": "jane@acme.com", "profile": {"name": "Admin"}}})
    );
}

#[test]
fn real_time_event_ids_and_preserved_original() {
    let n = Normalizer::new(Options {
        preserve_original: true,
        tags: vec!["salesforce-report".into()],
        ..Options::default()
    })
    .expect("normalizer");
    let fields = json!({"Id": "000000000000000AAA", "EventIdentifier": "b2f1", "Records": 5,
                        "EventDate": "2024-03-04T05:06:07.000Z"});
    let ev = json!({"@timestamp": "2024-03-04T05:06:07.000Z", "id": "ev-3",
                    "source": "ReportEvent", "fields": fields});
    let b = n.ecs(&ev).expect("doc").body;
    assert_eq!(b["event"]["id"], "b2f1");
    assert_eq!(b["event"]["original"], json!(fields.to_string()));
    assert_eq!(
        b["tags"],
        json!(["preserve_original_event", "salesforce-report"])
    );
    assert_eq!(b["data_stream"]["namespace"], "default");
    assert!(
        b["salesforce"].get("org_id").is_none() && b["salesforce"].get("instance_url").is_none()
    );
    // Without EventIdentifier, the placeholder Id is no event id.
    let ev = json!({"@timestamp": "2024-03-04T05:06:07.000Z", "id": "ev-4",
                    "source": "ReportEvent", "fields": {"Id": "000000000000000AAA"}});
    assert!(n.ecs(&ev).expect("doc").body["event"].get("id").is_none());
}

#[test]
fn bad_input_and_options() {
    let n = normalizer();
    assert_eq!(n.ecs(&json!("x")), Err(EcsError::NotAnObject));
    assert_eq!(
        n.ecs(&json!({"id": "e", "fields": {}})),
        Err(EcsError::MissingField("source"))
    );
    assert_eq!(
        n.agent(&json!({"id": "e", "source": "LoginEvent"})),
        Err(EcsError::MissingField("fields"))
    );
    for ns in ["", "Prod", "a-b", "a b", "a,b", &"x".repeat(101)] {
        let r = Normalizer::new(Options {
            namespace: ns.to_string(),
            ..Options::default()
        });
        assert!(
            matches!(r, Err(EcsError::InvalidNamespace(_))),
            "{ns:?} accepted"
        );
    }
}
