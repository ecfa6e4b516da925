//! Every attempt of each `_id`, with the answer it got (`/__receiver/attempts`).

use receivers::elasticsearch::{Config, Faults};

use super::*;

#[tokio::test]
async fn each_attempt_is_kept_with_its_answer() {
    let es = start(Config::default()).await;
    es.set_faults(Faults {
        items_429: 1,
        ..Faults::default()
    });
    let a = post_bulk(es.url(), "/_bulk", creates(STREAM, &["1", "2"])).await;
    assert_eq!(item(&a.body, 0)["status"], 429);
    // A sender that keeps its promise resends only "1"; this one resends both.
    post_bulk(es.url(), "/_bulk", creates(STREAM, &["1", "2"])).await;
    es.set_faults(Faults {
        requests_5xx: 1,
        close_after_store: 1,
        ..Faults::default()
    });
    assert_eq!(
        post_bulk(es.url(), "/_bulk", creates(STREAM, &["3"]))
            .await
            .status,
        503
    );
    let cut = client()
        .post(format!("{}/_bulk", es.url()))
        .header("content-type", "application/x-ndjson")
        .body(creates(STREAM, &["3"]))
        .send()
        .await;
    assert!(cut.is_err(), "closed after storing");
    post_bulk(es.url(), "/_bulk", creates(STREAM, &["3"])).await;

    let t = es.attempts();
    let statuses = |id: &str| -> Vec<(u16, bool, bool)> {
        t.events[id]
            .answers
            .iter()
            .map(|a| (a.status, a.request, a.unanswered))
            .collect()
    };
    assert_eq!(statuses("1"), [(429, false, false), (201, false, false)]);
    assert_eq!(statuses("2"), [(201, false, false), (409, false, false)]);
    assert_eq!(
        statuses("3"),
        [(503, true, false), (201, false, true), (409, false, false)]
    );
    assert_eq!(t.events["1"].resent_without_cause(), 0);
    assert_eq!(
        t.events["2"].resent_without_cause(),
        1,
        "sent again after a 201"
    );
    assert_eq!(
        t.events["3"].resent_without_cause(),
        0,
        "no answer asks for a resend"
    );
    assert_eq!((t.events["3"].accepted(), t.events["3"].refused()), (1, 1));
    assert_eq!(t.events["1"].answers[0].index, STREAM);
    assert_eq!((t.extra(), t.resent_without_cause()), (4, 1));

    let j = answer(
        client()
            .get(format!("{}/__receiver/attempts?id=2", es.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(j.body["ids"], 1);
    assert_eq!(j.body["events"]["2"]["attempts"], 2);
    assert_eq!(j.body["events"]["2"]["answers"][1]["status"], 409);
    assert_eq!(j.body["resent_without_cause"], 1);
    es.reset();
    assert!(es.attempts().events.is_empty());
}
