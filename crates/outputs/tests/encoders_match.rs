//! The tree-free encoders send exactly the bytes the tree encoders sent. For every EventLogFile
//! type the generator knows (archived by the archive's own CSV converter), for hostile cells,
//! for objects and alerts, and for Elastic's fixtures: the ECS document written from the line
//! (`ecs::LineEncoder`, what the outputs now use) equals the tree path's document
//! (`Normalizer::ecs`, serialised by serde_json), byte for byte, under several option sets;
//! the `raw` line equals serde_json's serialisation of the parsed line.

use archive::normalize::{convert_csv, ElfProvenance};
use chrono::{TimeZone, Utc};
use ecs::{LineEncoder, Normalizer, Options};
use serde_json::{json, Value};

fn archive_lines(event_type: &str, csv: &[u8]) -> Vec<String> {
    let p = ElfProvenance {
        org_id: "00D000000000001AAA".into(),
        event_type: event_type.into(),
        file_id: "0AT000000000001AAA".into(),
        log_date: Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap(),
        interval: "Daily".into(),
        sequence: 0,
    };
    let mut out = Vec::new();
    convert_csv(csv, &p, &mut out).expect("the CSV converts");
    String::from_utf8(out)
        .expect("UTF-8")
        .lines()
        .map(str::to_string)
        .collect()
}

/// Every generated type's archive lines.
fn generated() -> Vec<String> {
    let types = sfgen::Org::known_event_types();
    let org = sfgen::Org::generate(sfgen::OrgSpec {
        seed: 21,
        days: 1,
        anchor: Utc.with_ymd_and_hms(2024, 3, 2, 13, 37, 12).unwrap(),
        event_types: types.iter().map(|t| t.to_string()).collect(),
        hourly: false,
        rows_per_hour: (1, 3),
        late_files: false,
        big_file_bytes: None,
        records_per_hour: (0, 0),
        duplicate_event_identifiers: false,
    });
    let mut lines = Vec::new();
    for f in &org.files {
        let body: Vec<u8> = org.body(&f.id, 1 << 20).flatten().collect();
        lines.extend(archive_lines(&f.event_type, &body));
    }
    lines
}

/// Cells an encoder can get wrong: escapes, non-ASCII, number look-alikes, odd timestamps,
/// addresses and methods that are not, names that collide once snake-cased.
fn hostile() -> Vec<String> {
    let header = "EVENT_TYPE,TIMESTAMP,TIMESTAMP_DERIVED,USER_ID,USER_ID_DERIVED,USER_NAME,CLIENT_IP,SOURCE_IP,URI,METHOD,HTTP_METHOD,STATUS_CODE,REQUEST_SIZE,RESPONSE_SIZE,USER_AGENT,REQUEST_STATUS,ROWS,RUN_TIME,Rows,ZIP,attributes\n";
    let rows = [
        r#"ApiTotalUsage,20240301101010.123,2024-03-01T10:10:10.123Z,005A,005A,a@b.c,10.0.0.1,10.0.0.1,/x,get,GET,200,12,-0,Mozilla,S,12,1.50,7,007,x"#,
        r#"ApiTotalUsage,20240301101010,,"",005B,"q""uote\back",::1,bad ip,"/é/日/😀",POST,PATCH,+5,0x10,1e5,12345,F,99999999999999999999,-3.25,,0,"#,
        r#"ApiTotalUsage,2024030110101,2024-02-30T00:00:00.000Z,,,,256.1.1.1,,,VERYLONGMETHODNAME1,,,,,,N,-,.5,1.,00,"#,
        "ApiTotalUsage,,2024-03-01T10:10:10Z,005C,,\"line\nbreak\ttab\",,,,,,,,,\"\x01ctl\",R,0,-0.0,,,\n",
        "ApiTotalUsage,,2024-03-01 10:10:10,,,<b>&amp;\u{2028}x\u{2029},,,,,,,,,,A,,,,,",
        r#"ApiTotalUsage,,,,,,,,,,,,,,,,,,,,"#,
    ];
    let csv = format!("{header}{}\n", rows.join("\n"));
    let mut lines = archive_lines("ApiTotalUsage", csv.as_bytes());
    lines.extend(archive_lines(
        "Bogus_Type2",
        csv.replace("ApiTotalUsage", "X").as_bytes(),
    ));
    // The integration's own types: their `agent` documents carry the row as Go writes it.
    lines.extend(archive_lines(
        "Login",
        csv.replace("ApiTotalUsage", "Login").as_bytes(),
    ));
    lines
}

/// Lines the tree path must handle (objects, alerts, odd shapes).
fn others() -> Vec<String> {
    let vals = [
        json!({"@timestamp": "2024-03-01T10:00:00.000Z", "id": "o-1", "org_id": "00D", "source": "LoginEvent",
               "fields": {"Status": "Success", "SourceIp": "1.2.3.4", "Nested": {"A": 1}}}),
        json!({"@timestamp": "2024-03-01T10:00:00.000Z", "id": "o-2", "source": "ReportEvent",
               "fields": {"Rows": 12, "EventIdentifier": "x"}}),
        json!({"@timestamp": "2024-03-01T10:00:00.000Z", "id": "e-3", "source": "EventLogFile",
               "fields": {"EVENT_TYPE": "URI", "ROWS": 12}}),
        json!({"id": "e-4", "source": "EventLogFile", "event_type": "URI", "fields": {"EVENT_TYPE": "URI"}}),
        json!({"@timestamp": 5, "id": "e-5", "source": "EventLogFile", "event_type": "URI", "fields": {}}),
        json!({"@timestamp": "2024-03-01T10:00:00.000Z", "id": "e-6", "org_id": "", "source": "EventLogFile",
               "event_type": "URI", "fields": {"EVENT_TYPE": "URI"}}),
        json!({"@timestamp": "2024-03-01T10:00:00.000Z", "id": "e\"7", "source": "EventLogFile",
               "event_type": "Login", "fields": {"EVENT_TYPE": "Login", "LOGIN_STATUS": "LOGIN_NO_ERROR"}}),
    ];
    vals.iter().map(|v| v.to_string()).collect()
}

/// Object records as the collector archives them (the REST API's JSON, `attributes` first),
/// for every object the generator makes; the generic ones take the tree-free path.
fn object_lines() -> Vec<String> {
    let org = sfgen::Org::generate(sfgen::OrgSpec {
        seed: 22,
        days: 1,
        anchor: Utc.with_ymd_and_hms(2024, 3, 2, 13, 37, 12).unwrap(),
        event_types: Vec::new(),
        hourly: false,
        rows_per_hour: (1, 1),
        late_files: false,
        big_file_bytes: None,
        records_per_hour: (1, 3),
        duplicate_event_identifiers: false,
    });
    let mut lines = Vec::new();
    for object in sfgen::OBJECTS {
        for (n, r) in org.object_records(object).iter().enumerate().take(40) {
            let fields = r.record.to_json("64.0");
            let when = ["EventDate", "CreatedDate", "LoginTime"]
                .iter()
                .find_map(|k| fields[*k].as_str())
                .and_then(|t| chrono::DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.3f%z").ok())
                .map(|t| {
                    t.with_timezone(&Utc)
                        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                        .to_string()
                });
            let line = json!({"@timestamp": when, "id": format!("{object}-{n}"),
                              "org_id": "00D000000000001AAA", "source": object, "fields": fields});
            lines.push(line.to_string());
        }
    }
    lines
}

/// Object records with the values a typed writer can get wrong: numbers serde writes its own
/// way, booleans, nulls, empty strings, the storage objects' empty Id, dates that are not, a
/// number where a computed field reads text, relationship objects and lists (those two take
/// the tree path).
fn hostile_objects() -> Vec<String> {
    let f = [
        json!({"attributes": {"type": "ApiEvent"}, "Rows": 1.50, "Big": 123456789012345678901234567890u128 as f64,
               "Neg": -0.0, "Exp": 1e5, "Ok": true, "No": false, "Gone": null, "Empty": "",
               "Id": "000000000000000AAA", "CreatedDate": "2024-03-01T10:00:00.000+0000",
               "SourceIp": "Salesforce.com IP", "Username": "q\"uote", "StatusCode": 201.0,
               "HttpMethod": "get", "UserAgent": "12345"}),
        json!({"EventIdentifier": "", "Id": "0Ab\t1", "CreatedDate": "not a date", "ClientIp": "::1",
               "RequestSize": "0x10", "ResponseSize": 7, "UserId": "005", "Uri": "/é/😀", "user_id": "x"}),
        json!({"UserId": 5, "Rows": 2}),
        json!({"CreatedBy": {"attributes": {"type": "User"}, "Username": "a@b.c"}, "Rows": 3}),
        json!({"Tags": ["a", "b"], "Rows": 4}),
        json!({"attributes": "odd", "Rows": 5, "Status": "Failed"}),
    ];
    f.iter()
        .enumerate()
        .map(|(n, fields)| {
            json!({"@timestamp": "2024-03-01T10:00:00.000Z", "id": format!("h-{n}"),
                   "org_id": "00D", "source": "ApiEvent", "fields": fields})
            .to_string()
        })
        .collect()
}

fn normalizers() -> Vec<Normalizer> {
    let opts = [
        Options::default(),
        Options {
            instance_url: "https://acme.my.salesforce.com".into(),
            namespace: "prod".into(),
            tags: vec!["b".into(), "a".into(), "b".into()],
            ..Options::default()
        },
        Options {
            preserve_original: true,
            ..Options::default()
        },
    ];
    opts.into_iter()
        .map(|o| Normalizer::new(o).expect("options"))
        .collect()
}

/// Compares both paths over `lines`, in `ecs` and in `agent` mode; returns how many took the
/// tree-free path.
fn compare(lines: &[String]) -> usize {
    let mut fast = 0;
    for n in normalizers() {
        let mut enc = LineEncoder::new(n.clone());
        for line in lines {
            let v: Value = serde_json::from_str(line).expect("archive lines are JSON");
            assert_eq!(
                line.as_bytes(),
                serde_json::to_vec(&v).unwrap().as_slice(),
                "raw: the line is what serde_json writes of it"
            );
            for agent in [false, true] {
                let mut out = Vec::new();
                let written = if agent {
                    enc.agent(line, &mut out)
                } else {
                    enc.ecs(line, &mut out)
                };
                let Some(w) = written.map(|w| w.data_stream.to_string()) else {
                    assert!(out.is_empty(), "nothing written when declining: {line}");
                    continue;
                };
                fast += 1;
                let doc = if agent { n.agent(&v) } else { n.ecs(&v) };
                let doc = doc.unwrap_or_else(|e| panic!("{e}: {line}"));
                assert_eq!(
                    String::from_utf8(out).unwrap(),
                    serde_json::to_string(&doc.body).unwrap(),
                    "agent {agent}, the line: {line}"
                );
                assert_eq!(w, doc.data_stream);
            }
        }
    }
    fast
}

#[test]
fn every_generated_type_encodes_as_the_tree_path_did() {
    let lines = generated();
    let types = sfgen::Org::known_event_types().len();
    assert!(lines.len() > types, "{} lines", lines.len());
    let fast = compare(&lines);
    // Every type but the integration's own (Login, Logout, the Apex ones, AuraRequest) takes
    // the tree-free path under the two option sets without `preserve_original`.
    assert!(
        fast > lines.len(),
        "{fast} of {} lines tree-free",
        lines.len()
    );
}

#[test]
fn hostile_cells_encode_as_the_tree_path_did() {
    let lines = hostile();
    assert_eq!(lines.len(), 18);
    let fast = compare(&lines);
    assert!(fast >= 20, "{fast} tree-free");
}

#[test]
fn generic_objects_encode_as_the_tree_path_did() {
    let lines = object_lines();
    let generic = lines
        .iter()
        .filter(|l| {
            !["LoginEvent", "LogoutEvent", "SetupAuditTrail"]
                .iter()
                .any(|o| l.contains(&format!("\"source\":\"{o}\"")))
        })
        .count();
    assert!(
        generic >= 20,
        "{generic} generic object records of {}",
        lines.len()
    );
    // Each generic record: ecs and agent under the two option sets without preserve_original.
    assert_eq!(compare(&lines), generic * 4);
    // Three of the six hostile records decline (a number where text is read, a relationship
    // object, a list): the other three, under the same four.
    assert_eq!(compare(&hostile_objects()), 3 * 4);
}

#[test]
fn objects_alerts_and_odd_lines_take_the_tree_path_or_agree() {
    compare(&others());
}

#[test]
fn elastic_fixtures_encode_as_the_tree_path_did() {
    let dir = ecs::corpus::dir().unwrap_or_else(|e| panic!("{e}"));
    let mut lines = Vec::new();
    for f in ecs::corpus::fixtures(&dir).unwrap_or_else(|e| panic!("{e}")) {
        for case in f.cases().unwrap_or_else(|e| panic!("{e}")) {
            lines.push(case.event.to_string());
        }
    }
    assert!(lines.len() > 20, "{} fixture events", lines.len());
    compare(&lines);
}
