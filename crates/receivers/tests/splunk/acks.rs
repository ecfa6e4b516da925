//! Indexer acknowledgement: channels, ackIds per channel, `/services/collector/ack`, timing.

use std::time::Duration;

use receivers::splunk::{Acks, Config};
use serde_json::json;

use super::*;

async fn post_on(url: &str, token: &str, channel: &str, body: &str) -> Answer {
    send(
        client()
            .post(format!("{url}/services/collector/event"))
            .header("authorization", format!("Splunk {token}"))
            .header("x-splunk-request-channel", channel)
            .body(body.to_string()),
    )
    .await
}

async fn query(url: &str, token: &str, channel: Option<&str>, body: &str) -> Answer {
    let mut req = client()
        .post(format!("{url}/services/collector/ack"))
        .header("authorization", format!("Splunk {token}"))
        .body(body.to_string());
    if let Some(c) = channel {
        req = req.query(&[("channel", c)]);
    }
    send(req).await
}

#[tokio::test]
async fn ack_ids_count_per_channel_and_turn_true() {
    let hec = start(config()).await;
    let url = hec.url();
    let body = r#"{"event":"a"}{"event":"b"}"#;

    let missing = post(url, "/services/collector/event", ACK_TOKEN, body).await;
    assert_hec(&missing, 400, 10, "Data channel is missing", None);
    let invalid = post_on(url, ACK_TOKEN, "my-channel", body).await;
    assert_hec(&invalid, 400, 11, "Invalid data channel", None);
    assert!(hec.events().is_empty());

    let first = post_on(url, ACK_TOKEN, CHANNEL, body).await;
    assert_eq!(first.text, r#"{"text":"Success","code":0,"ackId":0}"#);
    let second = post_on(url, ACK_TOKEN, CHANNEL, r#"{"event":"c"}"#).await;
    assert_eq!(second.body["ackId"], 1);
    // `?channel=` works too, and each channel counts from 0.
    let other = send(
        client()
            .post(format!("{url}/services/collector/event"))
            .query(&[("channel", OTHER_CHANNEL)])
            .header("authorization", format!("Splunk {ACK_TOKEN}"))
            .body(r#"{"event":"d"}"#),
    )
    .await;
    assert_eq!(other.body["ackId"], 0, "{}", other.text);

    let events = hec.events();
    let tagged: Vec<_> = events
        .iter()
        .map(|e| (e.event.as_str().unwrap(), e.channel.as_deref(), e.ack_id))
        .collect();
    assert_eq!(
        tagged,
        vec![
            ("a", Some(CHANNEL), Some(0)),
            ("b", Some(CHANNEL), Some(0)),
            ("c", Some(CHANNEL), Some(1)),
            ("d", Some(OTHER_CHANNEL), Some(0)),
        ]
    );

    let a = query(url, ACK_TOKEN, Some(CHANNEL), r#"{"acks":[0,1,7]}"#).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body, json!({"acks": {"0": true, "1": true, "7": false}}));
    // Once reported true an ackId is forgotten.
    let again = query(url, ACK_TOKEN, Some(CHANNEL), r#"{"acks":[0]}"#).await;
    assert_eq!(again.body, json!({"acks": {"0": false}}));
    // The channel may come in the header too.
    let by_header = send(
        client()
            .post(format!("{url}/services/collector/ack"))
            .header("authorization", format!("Splunk {ACK_TOKEN}"))
            .header("x-splunk-request-channel", OTHER_CHANNEL)
            .body(r#"{"acks":[0]}"#),
    )
    .await;
    assert_eq!(by_header.body, json!({"acks": {"0": true}}));
    assert_eq!(
        hec.ack_ids_acked(),
        vec![
            (CHANNEL.to_string(), 0),
            (CHANNEL.to_string(), 1),
            (OTHER_CHANNEL.to_string(), 0)
        ]
    );
    assert_eq!(hec.ack_ids_issued().len(), 3);
    assert_eq!(hec.stats().acks_issued, 3);
}

#[tokio::test]
async fn ack_queries_are_checked() {
    let hec = start(config()).await;
    let url = hec.url();
    let disabled = query(url, TOKEN, Some(CHANNEL), r#"{"acks":[0]}"#).await;
    assert_hec(&disabled, 400, 14, "ACK is disabled", None);
    let no_channel = query(url, ACK_TOKEN, None, r#"{"acks":[0]}"#).await;
    assert_hec(&no_channel, 400, 10, "Data channel is missing", None);
    let bad_channel = query(url, ACK_TOKEN, Some("nope"), r#"{"acks":[0]}"#).await;
    assert_hec(&bad_channel, 400, 11, "Invalid data channel", None);
    let bad_body = query(url, ACK_TOKEN, Some(CHANNEL), r#"{"ack":[0]}"#).await;
    assert_hec(&bad_body, 400, 6, "Invalid data format", None);
    let no_token = send(client().post(format!("{url}/services/collector/ack"))).await;
    assert_hec(&no_token, 401, 2, "Token is required", None);
    let unknown = query(url, ACK_TOKEN, Some(CHANNEL), r#"{"acks":[0,1]}"#).await;
    assert_eq!(unknown.body, json!({"acks": {"0": false, "1": false}}));

    // A token without ack records a channel it is given, and answers no ackId.
    let plain = post_on(url, TOKEN, CHANNEL, r#"{"event":"x"}"#).await;
    assert_eq!(plain.text, r#"{"text":"Success","code":0}"#);
    assert_eq!(hec.events()[0].channel.as_deref(), Some(CHANNEL));
    assert_eq!(hec.events()[0].ack_id, None);
    // A refused batch gets no ackId, though its good events are stored.
    let partial = post_on(url, ACK_TOKEN, CHANNEL, r#"{"event":"y"}{"nope":1}"#).await;
    assert_hec(&partial, 400, 12, "Event field is required", Some(1));
    assert_eq!(hec.events()[1].ack_id, None);
    assert!(hec.ack_ids_issued().is_empty());
}

#[tokio::test]
async fn acks_can_be_delayed_or_withheld() {
    let hec = start(Config {
        acks: Acks {
            delay_ms: 400,
            withheld: false,
        },
        ..config()
    })
    .await;
    let url = hec.url();
    let sent = post_on(url, ACK_TOKEN, CHANNEL, r#"{"event":"slow"}"#).await;
    assert_eq!(sent.body["ackId"], 0);
    let early = query(url, ACK_TOKEN, Some(CHANNEL), r#"{"acks":[0]}"#).await;
    assert_eq!(early.body, json!({"acks": {"0": false}}), "not yet indexed");
    assert_eq!(hec.events().len(), 1, "stored on receipt");
    tokio::time::sleep(Duration::from_millis(450)).await;
    let late = query(url, ACK_TOKEN, Some(CHANNEL), r#"{"acks":[0]}"#).await;
    assert_eq!(late.body, json!({"acks": {"0": true}}));

    // Withheld through the admin endpoint: the ackId never turns true.
    let set = client()
        .post(format!("{url}/__receiver/acks"))
        .json(&json!({"withheld": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    let lost = post_on(url, ACK_TOKEN, CHANNEL, r#"{"event":"lost"}"#).await;
    assert_eq!(lost.body["ackId"], 1);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let never = query(url, ACK_TOKEN, Some(CHANNEL), r#"{"acks":[1]}"#).await;
    assert_eq!(never.body, json!({"acks": {"1": false}}));
    // Back to immediate acks for new requests; the withheld one stays false.
    hec.set_acks(Acks::default());
    let quick = post_on(url, ACK_TOKEN, CHANNEL, r#"{"event":"quick"}"#).await;
    let both = query(url, ACK_TOKEN, Some(CHANNEL), r#"{"acks":[1,2]}"#).await;
    assert_eq!(quick.body["ackId"], 2);
    assert_eq!(both.body, json!({"acks": {"1": false, "2": true}}));
    assert_eq!(hec.ack_ids_acked().len(), 2);
}
