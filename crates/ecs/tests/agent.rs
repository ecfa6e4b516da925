//! `agent` mode: the document is what Filebeat's `salesforce` input sends, so that the
//! integration's own ingest pipeline maps it.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use ecs::corpus;
use ecs::{Mode, Normalizer, Options};
use serde_json::{json, Map, Value};

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

/// Every line of the corpus that Go's `json.Marshal` wrote (no whitespace outside strings, keys
/// in increasing byte order, `<` `>` `&` escaped): the message agent mode builds from the same
/// record, its columns put in another order first, must be that line byte for byte, less what
/// go-sfdc's `Record.Fields()` leaves out of an object record (the `attributes` envelope, `null`
/// values and nested objects), cut out of the line's own text.
///
/// Those lines are the Login EventLogFile row, the first three Apex rows, the twelve
/// AuraRequestEventLog records and the two SetupAuditTrail records (whose lines keep
/// `attributes` and `null`s). The others (the rest of the Apex rows, the aura EventLogFile rows,
/// the logout and LoginEvent lines) have spaces or unsorted keys: written by hand, not by Go.
#[test]
fn matches_every_line_filebeat_produced() {
    let dir = corpus::dir().unwrap_or_else(|e| panic!("{e}"));
    let n = normalizer(false);
    let (mut found, mut cut, mut report) = (BTreeMap::new(), 0, Vec::new());
    for log in logs(&dir) {
        let name = log
            .strip_prefix(&dir)
            .expect("in the corpus")
            .display()
            .to_string();
        // `_unpaired/<stream>/...` or `<stream>/...`
        let stream = name.trim_start_matches("_unpaired/");
        let stream = &stream[..stream.find('/').expect("a stream folder")];
        let text = fs::read_to_string(&log).expect("read fixture");
        let lines = text.lines().filter(|l| !l.trim().is_empty());
        for (row, line) in lines.enumerate() {
            let Some(members) = go_members(line) else {
                continue;
            };
            *found.entry(name.clone()).or_insert(0) += 1;
            let record: Map<String, Value> = serde_json::from_str(line).expect("JSON");
            let shuffled: Map<String, Value> = record.into_iter().rev().collect();
            let (ev, provider) = corpus::archive_event(stream, &shuffled, row).expect("event");
            let kept: Vec<&str> = members
                .iter()
                .filter(|m| provider == "EventLogFile" || m.kept_by_go_sfdc())
                .map(|m| m.text)
                .collect();
            cut += members.len() - kept.len();
            let want = format!("{{{}}}", kept.join(","));
            let doc = n.agent(&ev).expect("doc");
            if doc.mode != Mode::Agent {
                report.push(format!("{name} line {}: {:?} mode", row + 1, doc.mode));
            } else if doc.body["message"] != json!(want) {
                report.push(format!(
                    "{name} line {}:\n  Filebeat: {want}\n  agent:    {}",
                    row + 1,
                    doc.body["message"].as_str().unwrap_or("(not a string)")
                ));
            }
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
    let want: BTreeMap<String, usize> = [
        ("apex/test-apex.log", 3),
        ("aura_request/test-aura-request-object-sample.log", 12),
        ("login/test-login-eventlogfile.log", 1),
        ("setupaudittrail/test-setupaudittrail.log", 2),
    ]
    .map(|(f, k)| (f.to_string(), k))
    .into();
    assert_eq!(found, want, "the lines Go wrote, by file");
    // SetupAuditTrail: line 1's `attributes` and `null`, line 2's four `null`s.
    assert_eq!(cut, 6, "members go-sfdc leaves out");
}

/// Every `.log` under the corpus folder, sorted.
fn logs(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in fs::read_dir(&d).expect("read corpus") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "log") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// One `"key":value` of a line, as the line has it.
struct Member<'a> {
    key: String,
    text: &'a str,
    value: &'a str,
}

impl Member<'_> {
    fn kept_by_go_sfdc(&self) -> bool {
        self.key != "attributes" && self.value != "null" && !self.value.starts_with('{')
    }
}

/// The members of `line` when Go's `json.Marshal` could have written it: an object, no
/// whitespace outside strings, keys in strictly increasing byte order, no raw `<` `>` `&`.
fn go_members(line: &str) -> Option<Vec<Member<'_>>> {
    let b = line.as_bytes();
    if b.first() != Some(&b'{') || b.last() != Some(&b'}') || line.contains(['<', '>', '&']) {
        return None;
    }
    let mut members: Vec<Member> = Vec::new();
    let mut i = 1;
    while i < b.len() - 1 {
        let start = i;
        let key_end = string_end(b, i)?;
        let key: String = serde_json::from_str(&line[i..key_end]).ok()?;
        if b.get(key_end) != Some(&b':') {
            return None;
        }
        let (value_start, mut depth, mut j) = (key_end + 1, 0i32, key_end + 1);
        while j < b.len() - 1 {
            match b[j] {
                b'"' => j = string_end(b, j)? - 1,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => depth -= 1,
                b',' if depth == 0 => break,
                c if c.is_ascii_whitespace() => return None,
                _ => {}
            }
            j += 1;
        }
        if members
            .last()
            .is_some_and(|m| m.key.as_bytes() >= key.as_bytes())
        {
            return None;
        }
        members.push(Member {
            key,
            text: &line[start..j],
            value: &line[value_start..j],
        });
        i = j + 1;
    }
    Some(members)
}

/// The index just past the JSON string that starts at `i`.
fn string_end(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'"' => return Some(j + 1),
            _ => j += 1,
        }
    }
    None
}
