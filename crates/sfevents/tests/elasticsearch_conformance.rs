//! Elastic's pipeline fixtures end to end: every input line of the conformance corpus (where
//! `ecs::corpus::dir` finds it, as for the ecs crate's tests: `SFEVENTS_CONFORMANCE_DIR`, else
//! `shared/conformance/elastic-salesforce/` beside the workspace, else the cache scripts/test
//! fills; used in place: Elastic License 2.0, never copied here) goes as an archive event through the real Elasticsearch
//! output (`outputs::sink`, `ecs` mode) to the in-process receiver, and what the receiver
//! stores is compared with Elastic's expected document field for field.
//!
//! The archive events and the comparison are `ecs::corpus`'s, the same as
//! `crates/ecs/tests/conformance.rs` (which calls the normalizer directly), so the two tests
//! ignore exactly the same paths: `event.ingested`, the `source.geo.*` / `source.as.*` that
//! only Elastic has (GeoIP), and the envelope, whose values are checked instead. On top of
//! that, each stored document must be the only one, in `logs-salesforce.<stream>-default`,
//! with the archive id as `_id`, indexed with `pipeline=_none`.
//!
//! The fixtures were made with the integration's "Preserve original event" option
//! (`Fixture::preserve_original`, which the ecs test passes as `Options::preserve_original`):
//! Elastic's documents carry `event.original` and the tag `preserve_original_event`, so the
//! output must be configured to keep them too (see `output`).
//!
//! Every event has the id the simulate API gives (`_id`: fields that copy the document id
//! show it), so two of them in one data stream would be one document: each goes to a receiver
//! of its own.

use std::time::Instant;

use ecs::corpus::{self, Case, INSTANCE, NAMESPACE, SIMULATE_ID};
use outputs::config::{from_url, OutputConfig};
use outputs::{self, Event, OrgContext, Verdict};
use receivers::elasticsearch::{self, Config};

fn event(case: &Case) -> Event {
    Event::from_value(case.event.clone())
}

/// The output as `--to` gives it, every setting at its default (`ecs` mode, namespace
/// `default`) but the fixture's "Preserve original event".
fn output(url: &str, preserve_original: bool) -> OutputConfig {
    from_url(&format!(
        "elasticsearch+{url}?name=conf&preserve_original_event={preserve_original}"
    ))
    .expect("output config")
}

/// Sends one case and returns what is wrong with what the receiver holds: empty when the
/// stored document is Elastic's.
async fn check(case: &Case, preserve_original: bool) -> Vec<String> {
    let es = elasticsearch::start(Config::default())
        .await
        .expect("receiver starts");
    let org = OrgContext {
        org: "conformance".into(),
        instance_url: INSTANCE.into(),
        state: None,
    };
    let sink = match outputs::sink(&output(es.url(), preserve_original), &org) {
        Ok(s) => s,
        Err(e) => return vec![format!("no sink: {e}")],
    };
    let verdicts = match sink.send(&[event(case)]).await {
        Ok(v) => v,
        Err(e) => return vec![format!("the batch failed: {e}")],
    };
    if verdicts != [Verdict::Delivered] {
        return vec![format!("verdicts {verdicts:?}, not [Delivered]")];
    }
    let data_stream = format!("logs-salesforce.{}-{NAMESPACE}", case.stream);
    let all = es.all_docs();
    let mut problems = Vec::new();
    // The one document, wherever it went: a wrong data stream is reported with its fields.
    let doc = match all.as_slice() {
        [doc] => doc,
        _ => {
            let held: Vec<String> = all
                .iter()
                .map(|d| format!("{} (_id {:?})", d.index, d.id))
                .collect();
            return vec![format!(
                "expected one document; the receiver holds {}: {}",
                all.len(),
                held.join(", ")
            )];
        }
    };
    if es.docs(&data_stream).len() != 1 {
        problems.push(format!(
            "data stream: expected {data_stream}, the document is in {}",
            doc.index
        ));
    }
    if doc.id != SIMULATE_ID {
        problems.push(format!("_id: expected {SIMULATE_ID:?}, got {:?}", doc.id));
    }
    if !doc
        .backing_index
        .starts_with(&format!(".ds-{data_stream}-"))
    {
        problems.push(format!(
            "backing index: expected one of data stream {data_stream}, got {}",
            doc.backing_index
        ));
    }
    if doc.pipeline.as_deref() != Some("_none") {
        problems.push(format!(
            "pipeline: expected \"_none\" (the documents are final), got {:?}",
            doc.pipeline
        ));
    }
    problems.extend(corpus::compare(&case.stream, &case.expected, &doc.source));
    problems
}

#[tokio::test]
async fn the_receiver_holds_elastics_documents() {
    let started = Instant::now();
    let dir = corpus::dir().unwrap_or_else(|e| panic!("{e}"));
    let fixtures = corpus::fixtures(&dir).unwrap_or_else(|e| panic!("{e}"));
    let (mut documents, mut equal) = (0, 0);
    let mut report = Vec::new();
    for f in &fixtures {
        for case in f.cases().unwrap_or_else(|e| panic!("{e}")) {
            documents += 1;
            let problems = check(&case, f.preserve_original()).await;
            if problems.is_empty() {
                equal += 1;
            } else {
                report.push(format!("{}:\n  {}", case.label, problems.join("\n  ")));
            }
        }
    }
    println!(
        "{documents} documents from {} fixtures through the Elasticsearch output, {equal} stored as Elastic's, in {:.2?}",
        fixtures.len(),
        started.elapsed()
    );
    assert!(
        report.is_empty(),
        "{} of {documents} documents stored by the receiver differ from Elastic's expected output:\n{}",
        documents - equal,
        report.join("\n")
    );
    // Every fixture and every document of the corpus (crates/ecs/tests/conformance.rs counts
    // them the same way): login, logout, apex, setupaudittrail and aura_request.
    assert_eq!(
        (fixtures.len(), documents, equal),
        (8, 38, 38),
        "fixtures, documents sent and documents stored as Elastic's, from {}",
        dir.display()
    );
}
