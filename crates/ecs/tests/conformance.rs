//! Conformance with Elastic's Salesforce integration: every pipeline test fixture of the
//! corpus (`ecs::corpus::dir`: `SFEVENTS_CONFORMANCE_DIR`, else
//! `shared/conformance/elastic-salesforce/` beside the workspace, else the cache scripts/test
//! fills; used in place: it is under the Elastic License 2.0 and is not copied here) is turned into an archive event the way sfevents
//! writes one, normalized in `ecs` mode, and compared with Elastic's expected document field
//! by field. Reading the corpus, building the archive events and comparing are in
//! `ecs::corpus`, shared with sfevents' `tests/elasticsearch_conformance.rs`, which sends the
//! same events through the Elasticsearch output.
//!
//! What is not compared, and why (`ecs::corpus::compare`):
//! - `event.ingested`: the time the pipeline ran.
//! - `source.geo.*` / `source.as.*` that only the expected side has: GeoIP database lookups,
//!   which these tests run without (see `GeoIp`). Geo fields we do produce (LoginEvent carries
//!   its own location) are compared.
//! - the envelope (`ecs::ENVELOPE_FIELDS`), which pipeline tests never show; its values are
//!   checked separately.
//!
//! `event.original` is compared as JSON text after removing insignificant whitespace: several
//! fixture lines are hand-written with spaces after `:` and `,`, which an archive event (parsed
//! JSON) cannot keep.

use ecs::corpus::{self, compare, INSTANCE, ORG, SIMULATE_ID};
use ecs::{Normalizer, Options};
use serde_json::{json, Value};

#[test]
fn every_expected_document_is_reproduced() {
    let mut report = Vec::new();
    let (mut documents, mut equal) = (0, 0);
    let dir = corpus::dir().unwrap_or_else(|e| panic!("{e}"));
    let fixtures = corpus::fixtures(&dir).unwrap_or_else(|e| panic!("{e}"));
    for f in &fixtures {
        let n = Normalizer::new(f.options()).expect("normalizer");
        for case in f.cases().unwrap_or_else(|e| panic!("{e}")) {
            documents += 1;
            let doc = match n.ecs(&case.event) {
                Ok(d) => d,
                Err(e) => {
                    report.push(format!("{}: error {e}", case.label));
                    continue;
                }
            };
            assert_eq!(doc.id, SIMULATE_ID);
            assert_eq!(doc.dataset, format!("salesforce.{}", f.stream));
            assert_eq!(
                doc.data_stream,
                format!("logs-salesforce.{}-default", f.stream)
            );
            let diffs = compare(&f.stream, &case.expected, &doc.body);
            if diffs.is_empty() {
                equal += 1;
            } else {
                report.push(format!("{}:\n  {}", case.label, diffs.join("\n  ")));
            }
        }
    }
    println!(
        "{documents} documents from {} fixtures, {equal} equal",
        fixtures.len()
    );
    assert!(
        report.is_empty(),
        "{} of {documents} documents differ from Elastic's expected output:\n{}",
        documents - equal,
        report.join("\n")
    );
    assert_eq!(
        (fixtures.len(), documents, equal),
        (FIXTURES, DOCUMENTS, DOCUMENTS),
        "fixtures, documents compared and documents equal in {}",
        dir.display()
    );
}

/// The corpus' fixtures with an expected output, and their input lines: login (ELF 1, object
/// 1), logout (ELF 1, object 1), apex 6, setupaudittrail 2, aura_request (ELF 14, object 12).
const FIXTURES: usize = 8;
const DOCUMENTS: usize = 38;
/// The records of `_unpaired/` (a LoginEvent input: one success, one failure).
const UNPAIRED: usize = 2;

/// `_unpaired` holds fixture inputs whose expected output could not be found (a newer
/// LoginEvent input with a failed login). Nothing to compare, but they must normalize.
#[test]
fn unpaired_inputs_normalize() {
    let n = Normalizer::new(Options::default()).expect("normalizer");
    let mut count = 0;
    let dir = corpus::dir().unwrap_or_else(|e| panic!("{e}"));
    for (stream, log) in corpus::unpaired(&dir).unwrap_or_else(|e| panic!("{e}")) {
        let records = corpus::records(&log).unwrap_or_else(|e| panic!("{e}"));
        for (i, record) in records.iter().enumerate() {
            let (event, _) =
                corpus::archive_event(&stream, record, i).unwrap_or_else(|e| panic!("{e}"));
            let doc = n.ecs(&event).expect("normalizes");
            assert_eq!(doc.dataset, format!("salesforce.{stream}"));
            let outcome = &doc.body["event"]["outcome"];
            let status = record.get("Status").and_then(Value::as_str);
            let want = if status == Some("Success") {
                "success"
            } else {
                "failure"
            };
            assert_eq!(outcome, want, "{} record {}", log.display(), i + 1);
            count += 1;
        }
    }
    assert_eq!(count, UNPAIRED, "unpaired records in {}", dir.display());
}

/// The comparison itself: it must catch a changed, a missing and an extra field, compare
/// `event.original` as JSON text, and forgive only the GeoIP fields we did not produce.
#[test]
fn comparison_reports_every_difference() {
    let envelope = json!({
        "data_stream": {"type": "logs", "dataset": "salesforce.x", "namespace": "default"},
        "event": {"dataset": "salesforce.x"},
        "salesforce": {"instance_url": INSTANCE, "org_id": ORG, "event_id": SIMULATE_ID}});
    let mut got = envelope.clone();
    let extra = json!({"a": 1, "b": [1, 2], "c": "x", "event": {"original": "{\"k\":1}"},
                       "source": {"geo": {"city_name": "Here"}}, "z": true});
    merge(&mut got, &extra);
    let expected = json!({"a": 2, "b": [1, 3], "d": "y", "event": {"original": "{ \"k\": 1 }",
                          "ingested": "now"},
                          "source": {"geo": {"city_name": "Here", "country_name": "There"}},
                          "z": true});
    let diffs = compare("x", &expected, &got);
    assert_eq!(
        diffs,
        vec![
            "a: expected 2, got 1",
            "b[1]: expected 3, got 2",
            "c: unexpected \"x\"",
            "d: expected \"y\", missing",
        ]
    );
    let mut bad = envelope;
    merge(&mut bad, &json!({"salesforce": {"org_id": "other"}}));
    assert_eq!(compare("x", &json!({}), &bad).len(), 1);
}

fn merge(into: &mut Value, from: &Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}
