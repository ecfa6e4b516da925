//! Events: paths, envelopes, tokens and indexes, HEC's error codes, gzip, 413, health.

use std::io::Write;

use base64::Engine;
use receivers::splunk::{Config, Token};
use serde_json::json;

use super::*;

const ENDPOINTS: [&str; 3] = [
    "/services/collector/event",
    "/services/collector",
    "/services/collector/event/1.0",
];

#[tokio::test]
async fn every_event_path_answers_success_as_splunk_does() {
    let hec = start(config()).await;
    for (i, path) in ENDPOINTS.iter().enumerate() {
        let a = post(hec.url(), path, TOKEN, format!(r#"{{"event":"e{i}"}}"#)).await;
        assert_eq!(a.status, 200);
        assert_eq!(a.text, r#"{"text":"Success","code":0}"#);
        assert!(a.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"));
    }
    let events = hec.events();
    assert_eq!(events.len(), 3);
    for (i, (e, path)) in events.iter().zip(ENDPOINTS).enumerate() {
        assert_eq!(e.event, json!(format!("e{i}")));
        assert_eq!(e.path, path);
        assert_eq!(e.token, TOKEN);
        assert_eq!(e.request, i as u64 + 1);
        assert_eq!((e.channel.as_deref(), e.ack_id), (None, None));
    }
    assert_eq!(hec.stats().requests, 3);
    assert_eq!(hec.stats().events, 3);
}

#[tokio::test]
async fn concatenated_envelopes_keep_their_metadata() {
    let hec = start(Config::with_tokens(vec![
        Token::new(TOKEN).with_default_index("salesforce")
    ]))
    .await;
    let body = concat!(
        r#"{"time":1773152700.125,"host":"org1","source":"sfevents","sourcetype":"sfdc:logfile","index":"audit","event":{"EVENT_TYPE":"Login","USER_ID":"005"},"fields":{"event_id":"id-1","org":["a","b"],"n":3}}"#,
        "\n",
        r#"{"time":"1773152701.5","event":"plain text"}"#,
        r#"  {"event":"third","time":"1773152702"}"#
    );
    let a = post(hec.url(), "/services/collector/event", TOKEN, body).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let e = hec.events();
    assert_eq!(e.len(), 3);
    assert_eq!(e[0].time, Some(1_773_152_700.125));
    assert_eq!(e[0].host.as_deref(), Some("org1"));
    assert_eq!(e[0].source.as_deref(), Some("sfevents"));
    assert_eq!(e[0].sourcetype.as_deref(), Some("sfdc:logfile"));
    assert_eq!(e[0].index, "audit");
    assert_eq!(e[0].event["EVENT_TYPE"], "Login");
    assert_eq!(e[0].fields["event_id"], "id-1");
    assert_eq!(e[0].fields["org"], json!(["a", "b"]));
    assert_eq!(e[1].time, Some(1_773_152_701.5));
    assert_eq!(e[1].time_raw, Some(json!("1773152701.5")));
    assert_eq!(e[1].index, "salesforce", "the token's default index");
    assert_eq!(e[1].event, "plain text");
    assert_eq!(e[2].time, Some(1_773_152_702.0));
    assert_eq!(hec.events_in("audit").len(), 1);
    assert!(e.iter().all(|x| x.request == 1));

    let main = start(config()).await;
    post(main.url(), "/services/collector", TOKEN, r#"{"event":"x"}"#).await;
    assert_eq!(main.events()[0].index, "main", "no default index: main");
}

#[tokio::test]
async fn tokens_are_checked_as_hec_does() {
    let hec = start(Config::with_tokens(vec![
        Token::new(TOKEN),
        Token::new("off").disabled(),
    ]))
    .await;
    let url = format!("{}/services/collector/event", hec.url());
    let body = r#"{"event":"x"}"#;
    let none = send(client().post(&url).body(body)).await;
    assert_hec(&none, 401, 2, "Token is required", None);
    let bearer = send(client().post(&url).bearer_auth(TOKEN).body(body)).await;
    assert_hec(&bearer, 401, 3, "Invalid authorization", None);
    let bare = send(
        client()
            .post(&url)
            .header("authorization", TOKEN)
            .body(body),
    )
    .await;
    assert_hec(&bare, 401, 3, "Invalid authorization", None);
    let wrong = post(hec.url(), "/services/collector/event", "nope", body).await;
    assert_hec(&wrong, 403, 4, "Invalid token", None);
    let disabled = post(hec.url(), "/services/collector/event", "off", body).await;
    assert_hec(&disabled, 403, 1, "Token disabled", None);
    assert!(hec.events().is_empty());

    // Basic auth: any user, the token as password.
    let basic = send(
        client()
            .post(&url)
            .basic_auth("anyone", Some(TOKEN))
            .body(body),
    )
    .await;
    assert_eq!(basic.status, 200, "{}", basic.text);
    let encoded = base64::engine::general_purpose::STANDARD.encode("x:wrong");
    let bad_basic = send(
        client()
            .post(&url)
            .header("authorization", format!("Basic {encoded}"))
            .body(body),
    )
    .await;
    assert_hec(&bad_basic, 403, 4, "Invalid token", None);
    // Splunk's scheme name is case-insensitive.
    let lower = send(
        client()
            .post(&url)
            .header("authorization", format!("splunk {TOKEN}"))
            .body(body),
    )
    .await;
    assert_eq!(lower.status, 200);

    assert_eq!(hec.events().len(), 2);
    let errors = hec.stats().errors;
    assert_eq!(
        (errors[&2], errors[&3], errors[&4], errors[&1]),
        (1, 2, 2, 1)
    );
}

#[tokio::test]
async fn a_bad_event_stops_the_batch_after_storing_the_ones_before() {
    let hec = start(Config::with_tokens(vec![
        Token::new(TOKEN).with_indexes(&["sf", "audit"])
    ]))
    .await;
    let cases: [(&str, usize, u64, &str); 9] = [
        (
            r#"{"event":"a","index":"sf"}{"event":"b"}{"time":1}"#,
            2,
            12,
            "Event field is required",
        ),
        (
            r#"{"event":"a"}{"event":""}"#,
            1,
            13,
            "Event field cannot be blank",
        ),
        (r#"{"event":{}}"#, 0, 13, "Event field cannot be blank"),
        (r#"{"event":"a"}{"event":"b" "#, 1, 6, "Invalid data format"),
        (r#"[{"event":"a"}]"#, 0, 6, "Invalid data format"),
        (
            r#"{"event":"a","time":"yesterday"}"#,
            0,
            6,
            "Invalid data format",
        ),
        (
            r#"{"event":"a","index":"audit"}{"event":"b","index":"main"}"#,
            1,
            7,
            "Incorrect index",
        ),
        (
            r#"{"event":"a","fields":{"ok":"1"}}{"event":"b","fields":{"nested":{"k":"v"}}}"#,
            1,
            15,
            "Error in handling indexed fields",
        ),
        (
            r#"{"event":"a","fields":{"arr":["A",[1]]}}"#,
            0,
            15,
            "Error in handling indexed fields",
        ),
    ];
    let mut stored = 0;
    for (body, bad, code, text) in cases {
        let a = post(hec.url(), "/services/collector/event", TOKEN, body).await;
        assert_hec(&a, 400, code, text, Some(bad as u64));
        stored += bad;
        assert_eq!(
            hec.events().len(),
            stored,
            "events before #{bad} of {body} are kept"
        );
    }
    let empty = post(hec.url(), "/services/collector/event", TOKEN, " \n ").await;
    assert_hec(&empty, 400, 5, "No data", None);
    assert_eq!(
        empty.text, r#"{"text":"No data","code":5}"#,
        "no invalid-event-number without events"
    );
    let kept: Vec<_> = hec.events().iter().map(|e| e.event.clone()).collect();
    assert_eq!(
        kept,
        vec![
            json!("a"),
            json!("b"),
            json!("a"),
            json!("a"),
            json!("a"),
            json!("a")
        ]
    );
    assert_eq!(hec.stats().errors[&15], 2);
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

#[tokio::test]
async fn gzip_bodies_are_decoded_and_other_encodings_refused() {
    let hec = start(config()).await;
    let body: String = (0..50).map(|i| format!(r#"{{"event":"g{i}"}}"#)).collect();
    let req = |enc: &str, b: Vec<u8>| {
        client()
            .post(format!("{}/services/collector/event", hec.url()))
            .header("authorization", format!("Splunk {TOKEN}"))
            .header("content-encoding", enc)
            .body(b)
    };
    let a = send(req("gzip", gzip(body.as_bytes()))).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(hec.events().len(), 50);
    assert_eq!(hec.stats().gzip_requests, 1);
    let corrupt = send(req("gzip", b"not gzip at all".to_vec())).await;
    assert_hec(&corrupt, 400, 6, "Invalid data format", None);
    let br = send(req("br", body.clone().into_bytes())).await;
    assert_eq!(br.status, 415);
    assert_eq!(hec.events().len(), 50);
}

#[tokio::test]
async fn bodies_over_max_content_length_are_413() {
    let hec = start(Config {
        max_content_length: 2000,
        ..config()
    })
    .await;
    let body: String = (0..100)
        .map(|i| format!(r#"{{"event":"event number {i}"}}"#))
        .collect();
    assert!(body.len() > 2000);
    let a = post(hec.url(), "/services/collector/event", TOKEN, body.clone()).await;
    assert_eq!(a.status, 413);
    assert!(hec.events().is_empty());
    assert_eq!(hec.stats().requests_413, 1);
    // The limit is on the bytes received: the same events gzipped fit.
    let compressed = gzip(body.as_bytes());
    assert!(compressed.len() < 2000);
    let gz = send(
        client()
            .post(format!("{}/services/collector/event", hec.url()))
            .header("authorization", format!("Splunk {TOKEN}"))
            .header("content-encoding", "gzip")
            .body(compressed),
    )
    .await;
    assert_eq!(gz.status, 200, "{}", gz.text);
    assert_eq!(hec.events().len(), 100);
}

#[tokio::test]
async fn health_and_unknown_paths() {
    let hec = start(config()).await;
    for path in [
        "/services/collector/health",
        "/services/collector/health/1.0",
    ] {
        let a = send(client().get(format!("{}{path}", hec.url()))).await;
        assert_eq!(a.status, 200);
        assert_eq!(a.text, r#"{"text":"HEC is healthy","code":17}"#);
    }
    let raw = post(hec.url(), "/services/collector/nope", TOKEN, "x").await;
    assert_eq!(raw.status, 404);
    let get = send(client().get(format!("{}/services/collector/event", hec.url()))).await;
    assert_eq!(get.status, 405);
}

#[tokio::test]
async fn tls_with_the_generated_ca() {
    let hec = start(Config {
        tls: true,
        ..config()
    })
    .await;
    assert!(hec.url().starts_with("https://localhost:"));
    let ca = reqwest::Certificate::from_pem(hec.ca_pem().unwrap().as_bytes()).unwrap();
    let trusting = reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .unwrap();
    let a = trusting
        .post(format!("{}/services/collector/event", hec.url()))
        .header("authorization", format!("Splunk {TOKEN}"))
        .body(r#"{"event":"secure"}"#)
        .send()
        .await
        .expect("trusted over TLS");
    assert_eq!(a.status(), 200);
    assert!(
        client().get(hec.url()).send().await.is_err(),
        "untrusted without the CA"
    );
    assert_eq!(hec.events().len(), 1);
}
