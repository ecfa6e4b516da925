//! Every attempt of each event, by its id, whatever HEC answered.

use receivers::splunk::{Attempts, Faults};
use serde_json::{json, Value};

use super::*;

/// Envelopes as sfevents writes them: the id in `fields.event_id`.
fn envelopes(ids: &[&str]) -> String {
    ids.iter()
        .map(|id| json!({"event": {"USER_ID": "005x"}, "fields": {"event_id": id}}).to_string())
        .collect()
}

fn counted(a: &Attempts, id: &str) -> (u64, u64, u64, u64) {
    let x = a.events[id];
    (x.attempts, x.accepted, x.refused, x.unanswered())
}

#[tokio::test]
async fn every_attempt_is_counted_whatever_the_answer() {
    let hec = start(config()).await;
    let url = hec.url().to_string();
    let ingest = |body: String| post(&url, "/services/collector/event", TOKEN, body);
    hec.set_faults(Faults {
        requests_503: 1,
        close_connection: 1,
        ..Faults::default()
    });
    assert_eq!(ingest(envelopes(&["a", "b"])).await.status, 503);
    let cut = client()
        .post(format!("{url}/services/collector/event"))
        .header("authorization", format!("Splunk {TOKEN}"))
        .body(envelopes(&["a", "b"]))
        .send()
        .await;
    assert!(cut.is_err(), "cut before storing");
    assert_eq!(ingest(envelopes(&["a", "b"])).await.status, 200);
    // The events before a bad one are taken, and the answer says so; the rest are not.
    let bad = format!(
        "{}{}{}",
        envelopes(&["c"]),
        json!({"event": "", "fields": {"event_id": "d"}}),
        envelopes(&["e"])
    );
    let a = ingest(bad).await;
    assert_hec(&a, 400, 13, "Event field cannot be blank", Some(1));
    // A wrong token is refused before the body is read: nothing to count.
    let wrong = post(&url, "/services/collector/event", "nope", envelopes(&["f"])).await;
    assert_eq!(wrong.status, 403);
    // Stored, then cut: no answer.
    hec.set_faults(Faults {
        close_after_store: 1,
        ..Faults::default()
    });
    let lost = client()
        .post(format!("{url}/services/collector/event"))
        .header("authorization", format!("Splunk {TOKEN}"))
        .body(envelopes(&["g"]))
        .send()
        .await;
    assert!(lost.is_err());
    // With acknowledgement on, an answer with an ackId takes the events.
    let acked = send(
        client()
            .post(format!("{url}/services/collector/event?channel={CHANNEL}"))
            .header("authorization", format!("Splunk {ACK_TOKEN}"))
            .body(envelopes(&["h"])),
    )
    .await;
    assert_eq!(acked.body["ackId"], 0);

    let a = hec.attempts();
    assert_eq!(counted(&a, "a"), (3, 1, 2, 0));
    assert_eq!(counted(&a, "b"), (3, 1, 2, 0));
    assert_eq!(counted(&a, "c"), (1, 1, 0, 0));
    assert_eq!(counted(&a, "d"), (1, 0, 1, 0));
    assert_eq!(counted(&a, "e"), (1, 0, 1, 0));
    assert!(!a.events.contains_key("f"));
    assert_eq!(counted(&a, "g"), (1, 0, 0, 1));
    assert_eq!(counted(&a, "h"), (1, 1, 0, 0));
    assert_eq!((a.extra(), a.without_id), (4, 0));
    let stored: Vec<Value> = hec
        .events()
        .iter()
        .map(|e| e.fields["event_id"].clone())
        .collect();
    assert_eq!(
        stored,
        ["a", "b", "c", "g", "h"].map(|s| json!(s)),
        "storing is unchanged"
    );

    let got: Value = client()
        .get(format!("{url}/__receiver/attempts"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (got["repeated_ids"].clone(), got["ids"].clone()),
        (json!(2), json!(7))
    );
    assert_eq!(serde_json::from_value::<Attempts>(got).unwrap(), a);
    let reset = client()
        .post(format!("{url}/__receiver/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 200);
    assert_eq!(hec.attempts(), Attempts::default());
}
