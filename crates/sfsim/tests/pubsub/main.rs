//! sfsim's Pub/Sub API, driven by a tonic client generated from the same proto: topics and
//! schemas, replay presets, flow control, keepalives, auth, errors and faults. Events are
//! decoded with apache-avro using the schema GetSchema returns and compared with the records
//! the storage object holds.

mod harness;

use std::collections::HashSet;
use std::time::Duration;

use sfsim::pubsub::proto::{ReplayPreset, TopicRequest};
use sfsim::{Faults, PubSubFaults};
use tonic::Code;

use harness::*;

#[tokio::test]
async fn topics_and_schemas() {
    let mut c = config();
    c.pubsub.disabled_topics = vec!["/event/UriEventStream".into()];
    let mut ctx = start(c).await;
    let topics: Vec<String> = ctx.sim.pubsub_topics().into_iter().map(|t| t.0).collect();
    for want in [
        "LoginEventStream",
        "ApiEventStream",
        "ReportEventStream",
        "ListViewEventStream",
    ] {
        assert!(topics.contains(&format!("/event/{want}")), "{topics:?}");
    }
    assert!(!topics.iter().any(|t| t.contains("IdentityVerification")));
    // A custom platform event beside them, with no storage object.
    assert!(
        topics.contains(&"/event/Order_Shipped__e".to_string()),
        "{topics:?}"
    );
    let tok = ctx.token.clone();
    let info = ctx
        .client
        .get_topic(ctx.request(
            TopicRequest {
                topic_name: LOGIN.into(),
            },
            &tok,
        ))
        .await
        .expect("GetTopic")
        .into_inner();
    assert!(info.can_subscribe && !info.can_publish, "{info:?}");
    assert_eq!(info.topic_name, LOGIN);
    assert_eq!(info.tenant_guid, ctx.sim.org.org_id);
    let json: serde_json::Value =
        serde_json::from_str(&ctx.schema_json(LOGIN).await).expect("schema JSON");
    assert_eq!(json["namespace"], "com.sforce.eventbus");
    assert_eq!(json["name"], "LoginEventStream");
    let field = |n: &str| {
        json["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .find(|f| f["name"] == n)
            .cloned()
    };
    let ed = field("EventDate").expect("EventDate");
    assert_eq!(ed["type"], serde_json::json!(["null", "long"]));
    assert_eq!(ed["doc"], "EventDate:DateTime");
    assert!(ed["default"].is_null() && ed.get("default").is_some());
    assert_eq!(field("CreatedDate").expect("CreatedDate")["type"], "long");
    assert!(field("Id").is_none());
    // The same schema id every time: it is a digest of the schema.
    let again = ctx.request(
        TopicRequest {
            topic_name: LOGIN.into(),
        },
        &tok,
    );
    let again = ctx
        .client
        .get_topic(again)
        .await
        .expect("GetTopic")
        .into_inner();
    assert_eq!(again.schema_id, info.schema_id);

    let unknown = ctx.request(
        TopicRequest {
            topic_name: "/event/NoSuchEvent".into(),
        },
        &tok,
    );
    let e = ctx
        .client
        .get_topic(unknown)
        .await
        .expect_err("unknown topic");
    assert_eq!(e.code(), Code::NotFound, "{e:?}");
    let off = ctx.request(
        TopicRequest {
            topic_name: "/event/UriEventStream".into(),
        },
        &tok,
    );
    let e = ctx.client.get_topic(off).await.expect_err("disabled topic");
    assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
    let e = ctx
        .open(fetch(
            "/event/UriEventStream",
            ReplayPreset::Earliest,
            vec![],
            5,
        ))
        .await
        .err()
        .expect("disabled topic refused");
    assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
}

/// Over TLS (the certificate HTTPS uses): EARLIEST streams every stored record once, with
/// equal field values, in storage order.
#[tokio::test]
async fn earliest_streams_every_stored_record_over_tls() {
    let mut c = config();
    c.pubsub.plaintext = false;
    let mut ctx = start(c).await;
    assert!(ctx.sim.pubsub_url.starts_with("https://127.0.0.1:"));
    for (topic, object) in [(LOGIN, "LoginEvent"), ("/event/ApiEventStream", "ApiEvent")] {
        let schema = ctx.schema_json(topic).await;
        let mut sub = ctx
            .open(fetch(topic, ReplayPreset::Earliest, vec![], 100))
            .await
            .expect("opens");
        let events = sub.drain(topic).await;
        let want = stored(&ctx.sim, object);
        assert!(want.len() > 150, "{object}: {} records", want.len());
        assert_eq!(events.len(), want.len(), "{object}");
        for ((_, payload), rec) in events.iter().zip(&want) {
            assert_same(rec, &decode(&schema, payload));
        }
    }
    let stats = ctx.sim.pubsub_stats();
    assert_eq!(stats.subscriptions_opened, 2);
    assert!(stats.events_sent > 300);
}

/// LATEST sends nothing old; events published as the clock passes their time arrive, and
/// they are exactly the records the storage object gained.
#[tokio::test]
async fn latest_gets_only_new_events() {
    let mut ctx = start(config()).await;
    let before: HashSet<String> = stored(&ctx.sim, "LoginEvent").iter().map(ident).collect();
    let mut sub = ctx
        .open(fetch(LOGIN, ReplayPreset::Latest, vec![], 100))
        .await
        .expect("opens");
    let first = sub.next(3.0).await.expect("keepalive").expect("ok");
    assert!(first.events.is_empty(), "LATEST sent old events");
    ctx.sim.advance_clock(Duration::from_secs(2 * 3600));
    let schema = ctx.schema_json(LOGIN).await;
    let events = sub.drain(LOGIN).await;
    let gained: Vec<soql::Record> = stored(&ctx.sim, "LoginEvent")
        .into_iter()
        .filter(|r| !before.contains(&ident(r)))
        .collect();
    assert!(!gained.is_empty());
    assert_eq!(events.len(), gained.len());
    for ((_, payload), rec) in events.iter().zip(&gained) {
        assert_same(rec, &decode(&schema, payload));
    }
}

/// CUSTOM resumes right after the given replay id: no gap, no repeat. Replay ids are opaque
/// and not contiguous.
#[tokio::test]
async fn custom_resumes_exactly_after_a_replay_id() {
    let mut ctx = start(config()).await;
    let mut sub = ctx
        .open(fetch(LOGIN, ReplayPreset::Earliest, vec![], 10))
        .await
        .expect("opens");
    let r = sub.next(3.0).await.expect("events").expect("ok");
    assert_eq!(r.events.len(), 10);
    assert_eq!(r.latest_replay_id, r.events[9].replay_id);
    let ids: Vec<u64> = r
        .events
        .iter()
        .map(|e| sfsim::pubsub::decode_replay(&e.replay_id).expect("8 bytes"))
        .collect();
    assert!(
        ids.windows(2).all(|w| w[1] > w[0] + 1),
        "contiguous ids {ids:?}"
    );
    let resume = r.events[4].replay_id.clone();
    let mut again = ctx
        .open(fetch(LOGIN, ReplayPreset::Custom, resume, 5))
        .await
        .expect("opens");
    let r2 = again.next(3.0).await.expect("events").expect("ok");
    let got: Vec<&Vec<u8>> = r2.events.iter().map(|e| &e.replay_id).collect();
    let want: Vec<&Vec<u8>> = r.events[5..10].iter().map(|e| &e.replay_id).collect();
    assert_eq!(got, want);
}

/// Only what was requested is sent; later FetchRequests add to the pending count.
#[tokio::test]
async fn flow_control_sends_only_what_was_requested() {
    let mut ctx = start(config()).await;
    let total = stored(&ctx.sim, "LoginEvent").len();
    let mut sub = ctx
        .open(fetch(LOGIN, ReplayPreset::Earliest, vec![], 5))
        .await
        .expect("opens");
    let r = sub.next(3.0).await.expect("events").expect("ok");
    assert_eq!((r.events.len(), r.pending_num_requested), (5, 0));
    // Nothing pending: neither events nor keepalives (the keepalive interval is 1 s).
    assert!(sub.next(2.5).await.is_none(), "sent more than requested");
    sub.request(LOGIN, 7).await;
    sub.request(LOGIN, 3).await;
    let mut got = 0;
    while got < 10 {
        let r = sub.next(3.0).await.expect("events").expect("ok");
        got += r.events.len();
        assert_eq!(r.pending_num_requested as usize, 10 - got);
    }
    assert_eq!(got, 10);
    assert!(sub.next(2.5).await.is_none(), "sent more than requested");
    sub.request(LOGIN, 100).await;
    let rest = sub.drain(LOGIN).await;
    assert_eq!(15 + rest.len(), total);
}

/// More than 100 requested counts as 100.
#[tokio::test]
async fn requests_above_100_are_capped() {
    let mut ctx = start(config()).await;
    let mut sub = ctx
        .open(fetch(LOGIN, ReplayPreset::Earliest, vec![], 1000))
        .await
        .expect("opens");
    let r = sub.next(3.0).await.expect("events").expect("ok");
    assert_eq!((r.events.len(), r.pending_num_requested), (100, 0));
    sub.request(LOGIN, 250).await;
    let r = sub.next(3.0).await.expect("events").expect("ok");
    assert_eq!((r.events.len(), r.pending_num_requested), (100, 0));
    assert!(sub.next(2.0).await.is_none(), "sent more than 100");
}

/// With events pending and none to send, an empty FetchResponse carrying the latest replay
/// id arrives within the keepalive interval, again and again.
#[tokio::test]
async fn keepalive_carries_latest_replay_id() {
    let mut ctx = start(config()).await;
    let mut sub = ctx
        .open(fetch(LOGIN, ReplayPreset::Earliest, vec![], 100))
        .await
        .expect("opens");
    let events = sub.drain(LOGIN).await;
    let last = events.last().expect("events").0.clone();
    for _ in 0..2 {
        let k = sub.next(1.8).await.expect("keepalive in time").expect("ok");
        assert!(k.events.is_empty());
        assert_eq!(k.latest_replay_id, last);
        assert!(k.pending_num_requested > 0);
        assert!(!k.rpc_id.is_empty());
    }
    assert!(ctx.sim.pubsub_stats().keepalives_sent >= 3);
}

#[tokio::test]
async fn bad_or_expired_token_is_unauthenticated() {
    let mut ctx = start(config()).await;
    let bad = ctx.request(
        TopicRequest {
            topic_name: LOGIN.into(),
        },
        "00Dxx!bogus",
    );
    let e = ctx.client.get_topic(bad).await.expect_err("bad token");
    assert_eq!(e.code(), Code::Unauthenticated);
    assert_eq!(
        error_code(&e),
        "sfdc.platform.eventbus.grpc.service.auth.error"
    );
    assert!(e.metadata().get("rpc-id").is_some());
    let good_token = ctx.token.clone();
    ctx.token = "nope".into();
    let e = ctx
        .open(fetch(LOGIN, ReplayPreset::Latest, vec![], 1))
        .await
        .err()
        .expect("refused");
    assert_eq!(e.code(), Code::Unauthenticated);
    ctx.token = good_token;
    ctx.open(fetch(LOGIN, ReplayPreset::Latest, vec![], 1))
        .await
        .expect("good token works");
    // Sessions expire as they do for REST.
    ctx.sim.set_faults(Faults {
        session_max_secs: Some(0),
        ..Faults::default()
    });
    let e = ctx
        .open(fetch(LOGIN, ReplayPreset::Latest, vec![], 1))
        .await
        .err()
        .expect("expired");
    assert_eq!(e.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn old_or_malformed_replay_id_is_invalid_argument() {
    let mut ctx = start(config()).await;
    let mut sub = ctx
        .open(fetch(LOGIN, ReplayPreset::Earliest, vec![], 1))
        .await
        .expect("opens");
    let first = sub.next(3.0).await.expect("event").expect("ok").events[0]
        .replay_id
        .clone();
    // Still retained: accepted.
    ctx.open(fetch(LOGIN, ReplayPreset::Custom, first.clone(), 1))
        .await
        .expect("retained id");
    ctx.sim.advance_clock(Duration::from_secs(3600));
    let e = ctx
        .open(fetch(LOGIN, ReplayPreset::Custom, first, 1))
        .await
        .err()
        .expect("too old");
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert_eq!(error_code(&e), CORRUPTED);
    let e = ctx
        .open(fetch(LOGIN, ReplayPreset::Custom, vec![1, 2, 3], 1))
        .await
        .err()
        .expect("bad");
    assert_eq!(
        (e.code(), error_code(&e)),
        (Code::InvalidArgument, CORRUPTED)
    );
}

#[tokio::test]
async fn a_later_request_naming_another_topic_is_invalid_argument() {
    let mut ctx = start(config()).await;
    let mut sub = ctx
        .open(fetch(LOGIN, ReplayPreset::Latest, vec![], 1))
        .await
        .expect("opens");
    sub.request("/event/ApiEventStream", 1).await;
    let e = sub
        .next(3.0)
        .await
        .expect("an answer")
        .expect_err("refused");
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
}

fn pubsub_faults(f: PubSubFaults) -> Faults {
    Faults {
        pubsub: f,
        ..Faults::default()
    }
}

#[tokio::test]
async fn fault_resets_streams() {
    let mut ctx = start(config()).await;
    ctx.sim.set_faults(pubsub_faults(PubSubFaults {
        reset_after_events: Some(3),
        ..Default::default()
    }));
    let mut sub = ctx
        .open(fetch(LOGIN, ReplayPreset::Earliest, vec![], 10))
        .await
        .expect("opens");
    let r = sub.next(3.0).await.expect("events").expect("ok");
    assert_eq!(r.events.len(), 3);
    let e = sub.next(3.0).await.expect("reset").expect_err("reset");
    assert_eq!(e.code(), Code::Unavailable);
    assert!(e.message().contains("RST_STREAM closed stream"), "{e:?}");
    // The stream's task is gone.
    for _ in 0..50 {
        if ctx.sim.pubsub_stats().streams_open == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("stream still counted open: {:?}", ctx.sim.pubsub_stats());
}

#[tokio::test]
async fn fault_stalls_streams_silently() {
    let mut ctx = start(config()).await;
    let mut sub = ctx
        .open(fetch(LOGIN, ReplayPreset::Latest, vec![], 10))
        .await
        .expect("opens");
    ctx.sim.set_faults(pubsub_faults(PubSubFaults {
        stall: true,
        ..Default::default()
    }));
    ctx.sim.advance_clock(Duration::from_secs(3600));
    assert!(
        sub.next(2.5).await.is_none(),
        "a stalled stream sent something"
    );
    ctx.sim.set_faults(Faults::default());
    // A stalled stream never comes back, as the reported stalls do not: only a new one works.
    assert!(
        sub.next(1.5).await.is_none(),
        "a stalled stream came back after the fault was cleared"
    );
    let mut fresh = ctx
        .open(fetch(LOGIN, ReplayPreset::Earliest, vec![], 10))
        .await
        .expect("opens");
    let r = fresh.next(2.0).await.expect("answers").expect("ok");
    assert!(!r.events.is_empty());
}

#[tokio::test]
async fn fault_refuses_new_subscriptions() {
    let mut ctx = start(config()).await;
    // Through the admin API, as a test of another process would set it.
    let r = reqwest::Client::new()
        .post(format!("{}/__sim/faults", ctx.sim.url))
        .json(&serde_json::json!({"pubsub": {"refuse_subscriptions": true}}))
        .send()
        .await
        .expect("faults call");
    assert!(r.status().is_success());
    let e = ctx
        .open(fetch(LOGIN, ReplayPreset::Latest, vec![], 1))
        .await
        .err()
        .expect("refused");
    assert_eq!(e.code(), Code::Unavailable);
    assert_eq!(
        error_code(&e),
        "sfdc.platform.eventbus.grpc.service.unavailable"
    );
    ctx.sim.set_faults(Faults::default());
    ctx.open(fetch(LOGIN, ReplayPreset::Latest, vec![], 1))
        .await
        .expect("accepted again");
}

#[tokio::test]
async fn fault_expires_replay_ids() {
    let mut ctx = start(config()).await;
    let mut sub = ctx
        .open(fetch(LOGIN, ReplayPreset::Latest, vec![], 1))
        .await
        .expect("opens");
    let latest = sub
        .next(3.0)
        .await
        .expect("keepalive")
        .expect("ok")
        .latest_replay_id;
    ctx.sim.set_faults(pubsub_faults(PubSubFaults {
        expire_replay_ids: true,
        ..Default::default()
    }));
    let e = ctx
        .open(fetch(LOGIN, ReplayPreset::Custom, latest, 1))
        .await
        .err()
        .expect("expired");
    assert_eq!(
        (e.code(), error_code(&e)),
        (Code::InvalidArgument, CORRUPTED)
    );
}

/// Streaming costs no REST call, and the counters follow the streams.
#[tokio::test]
async fn counters_and_no_rest_calls() {
    let mut ctx = start(config()).await;
    let rest = ctx.sim.rest_requests();
    assert!(rest >= 1, "the token call is a REST request");
    let mut sub = ctx
        .open(fetch(LOGIN, ReplayPreset::Earliest, vec![], 100))
        .await
        .expect("opens");
    let n = sub.drain(LOGIN).await.len() as u64;
    let s = ctx.sim.pubsub_stats();
    assert_eq!(
        (s.subscriptions_opened, s.streams_open, s.events_sent),
        (1, 1, n)
    );
    assert_eq!(ctx.sim.rest_requests(), rest);
    drop(sub);
    for _ in 0..100 {
        if ctx.sim.pubsub_stats().streams_open == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("closed stream still counted open");
}
