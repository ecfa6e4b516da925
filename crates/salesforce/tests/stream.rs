//! `salesforce::stream` against sfsim's Pub/Sub API: events decoded into the same records
//! the storage objects give over REST, replay, flow control, keepalives and the errors.

use std::collections::HashMap;
use std::time::Duration;

use salesforce::stream::{self, Auth, Batch, PubSub, Replay, StreamError, Subscription};
use serde_json::{Map, Value};
use sfsim::{SimConfig, SimHandle};

const LOGIN: &str = "/event/LoginEventStream";
const API: &str = "/event/ApiEventStream";

fn config() -> SimConfig {
    // Two days: every record is within the stream's 72-hour retention, so the stream and
    // the storage object hold the same events.
    SimConfig::streaming(11, 2, (2, 6))
}

/// An access token from the REST API's username-password flow.
async fn token(sim: &SimHandle) -> (String, String) {
    let c = &sim.credentials;
    let pw = format!("{}{}", c.password, c.security_token);
    let r: Value = reqwest::Client::new()
        .post(format!("{}/services/oauth2/token", sim.url))
        .form(&[
            ("grant_type", "password"),
            ("client_id", c.client_id.as_str()),
            ("client_secret", c.client_secret.as_str()),
            ("username", c.username.as_str()),
            ("password", pw.as_str()),
        ])
        .send()
        .await
        .expect("token call")
        .json()
        .await
        .expect("token json");
    let t = r["access_token"]
        .as_str()
        .expect("access_token")
        .to_string();
    let i = r["instance_url"].as_str().unwrap_or(&sim.url).to_string();
    (t, i)
}

struct Ctx {
    sim: SimHandle,
    token: String,
    instance_url: String,
}

async fn start(c: SimConfig) -> Ctx {
    let sim = sfsim::start(c).await.expect("sfsim starts");
    let (token, instance_url) = token(&sim).await;
    Ctx {
        sim,
        token,
        instance_url,
    }
}

impl Ctx {
    fn auth(&self, token: &str) -> Auth {
        Auth {
            access_token: base::secret::Secret::new(token),
            instance_url: self.instance_url.clone(),
            tenant_id: self.sim.org.org_id.clone(),
        }
    }

    /// Over TLS with sfsim's CA, as a collector with `--ca-file` would connect.
    async fn pubsub(&self, token: &str) -> PubSub {
        let ca = self.sim.pubsub_ca_file.as_deref();
        let channel = stream::connect(&self.sim.pubsub_url, ca)
            .await
            .expect("connects");
        PubSub::new(channel, &self.auth(token)).expect("auth metadata")
    }

    async fn get(&self, path_or_url: &str) -> Value {
        let url = if path_or_url.starts_with("http") {
            path_or_url.to_string()
        } else {
            format!("{}{path_or_url}", self.sim.url)
        };
        reqwest::Client::new()
            .get(url)
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("REST call")
            .json()
            .await
            .expect("REST json")
    }

    /// Every record of `object` as the collector's object source reads it: the describe
    /// call's fields, queried over REST with paging, `attributes` stripped; by
    /// EventIdentifier.
    async fn rest_records(&self, object: &str) -> HashMap<String, Map<String, Value>> {
        let v = "/services/data/v64.0";
        let d = self.get(&format!("{v}/sobjects/{object}/describe")).await;
        let fields: Vec<&str> = d["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .filter(|f| !matches!(f["type"].as_str(), Some("address" | "location" | "base64")))
            .filter_map(|f| f["name"].as_str())
            .collect();
        let q = format!("SELECT {} FROM {object}", fields.join(","));
        let mut page = self.get(&format!("{v}/query?q={}", url_encode(&q))).await;
        let mut out = HashMap::new();
        loop {
            for r in page["records"].as_array().expect("records") {
                let mut r = r.as_object().expect("record").clone();
                r.remove("attributes");
                let id = r["EventIdentifier"].as_str().expect("EventIdentifier");
                out.insert(id.to_string(), r);
            }
            match page["nextRecordsUrl"].as_str() {
                Some(next) => page = self.get(next).await,
                None => return out,
            }
        }
    }
}

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The next batch within `secs`.
async fn next(sub: &mut Subscription, secs: u64) -> Batch {
    tokio::time::timeout(Duration::from_secs(secs), sub.next_batch())
        .await
        .expect("a batch in time")
        .expect("no error")
        .expect("the stream goes on")
}

/// Every event until the first keepalive, asking for 100 more whenever none are pending;
/// returns the events and the keepalive.
async fn drain(sub: &mut Subscription) -> (Vec<stream::StreamEvent>, Batch) {
    let mut out = Vec::new();
    loop {
        let b = next(sub, 10).await;
        if b.is_keepalive() {
            return (out, b);
        }
        out.extend(b.events);
        if sub.pending() == 0 {
            sub.request(100).await.expect("request more");
        }
    }
}

fn ident(e: &stream::StreamEvent) -> String {
    e.record["EventIdentifier"]
        .as_str()
        .expect("EventIdentifier")
        .to_string()
}

/// The fields where `streamed` differs from the REST record (`Id` aside: only storage has it).
fn differences(rest: &Map<String, Value>, streamed: &Map<String, Value>) -> Vec<String> {
    let mut d = Vec::new();
    for (k, v) in rest {
        if k != "Id" && streamed.get(k) != Some(v) {
            d.push(format!("{k}: REST {v}, stream {:?}", streamed.get(k)));
        }
    }
    for k in streamed.keys() {
        if !rest.contains_key(k) {
            d.push(format!("{k}: only in the stream"));
        }
    }
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn earliest_streams_every_record_as_rest_reads_it_without_rest_calls() {
    let ctx = start(config()).await;
    for (topic, object) in [(LOGIN, "LoginEvent"), (API, "ApiEvent")] {
        let rest = ctx.rest_records(object).await;
        assert!(rest.len() > 50, "{object}: {} records", rest.len());
        let before = ctx.sim.rest_requests();
        let ps = ctx.pubsub(&ctx.token).await;
        let info = ps.topic(topic).await.expect("topic");
        assert_eq!(info.topic_name, topic);
        let mut sub = ps
            .subscribe(topic, Replay::Earliest, 100)
            .await
            .expect("subscribe");
        let (events, keepalive) = drain(&mut sub).await;
        assert_eq!(events.len(), rest.len(), "{object}: every record, once");
        eprintln!(
            "{object}: {} events, each equal to its REST record",
            events.len()
        );
        for e in &events {
            let r = rest.get(&ident(e)).expect("a stored record");
            let d = differences(r, &e.record);
            assert!(d.is_empty(), "{object} {}: {d:?}", ident(e));
            assert!(e.event_uuid.is_some());
        }
        // The keepalive carries the newest replay id: the last event's.
        let last = &events.last().expect("events").replay_id;
        assert_eq!(&keepalive.latest_replay_id, last);
        assert_eq!(sub.latest_replay_id(), Some(last.as_slice()));
        assert_eq!(ps.cached_schemas(), 1, "one GetSchema per schema id");
        assert_eq!(
            ctx.sim.rest_requests(),
            before,
            "{object}: no REST call while streaming"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_resumes_after_a_replay_id_without_gap_or_repeat() {
    let ctx = start(config()).await;
    let ps = ctx.pubsub(&ctx.token).await;
    let mut sub = ps
        .subscribe(LOGIN, Replay::Earliest, 100)
        .await
        .expect("subscribe");
    let (all, _) = drain(&mut sub).await;
    assert!(all.len() > 50);
    let k = all.len() / 2;
    eprintln!("resuming after event {k} of {}", all.len());
    // Fewer requested than remain: the rest comes only as the caller asks.
    let mut sub = ps
        .subscribe(LOGIN, Replay::Custom(all[k].replay_id.clone()), 7)
        .await
        .expect("subscribe");
    let first = next(&mut sub, 10).await;
    assert_eq!(first.events.len(), 7, "num_requested honoured");
    assert_eq!(sub.pending(), 0);
    let mut resumed = first.events;
    sub.request(100).await.expect("more");
    let (rest, _) = drain(&mut sub).await;
    resumed.extend(rest);
    let want: Vec<String> = all[k + 1..].iter().map(ident).collect();
    let got: Vec<String> = resumed.iter().map(ident).collect();
    assert_eq!(got, want);
    let ids: Vec<&Vec<u8>> = resumed.iter().map(|e| &e.replay_id).collect();
    let want_ids: Vec<&Vec<u8>> = all[k + 1..].iter().map(|e| &e.replay_id).collect();
    assert_eq!(ids, want_ids);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latest_gets_a_keepalive_with_the_newest_replay_id() {
    let ctx = start(config()).await;
    let ps = ctx.pubsub(&ctx.token).await;
    let mut sub = ps
        .subscribe(LOGIN, Replay::Earliest, 100)
        .await
        .expect("subscribe");
    let (all, _) = drain(&mut sub).await;
    let mut sub = ps
        .subscribe(LOGIN, Replay::Latest, 10)
        .await
        .expect("subscribe");
    let b = next(&mut sub, 5).await;
    assert!(
        b.is_keepalive(),
        "nothing new is published on a frozen clock"
    );
    assert_eq!(b.pending_num_requested, 10);
    assert_eq!(b.latest_replay_id, all.last().expect("events").replay_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_disabled_topics_say_what_to_do() {
    let mut c = config();
    c.pubsub.disabled_topics = vec![API.into()];
    let ctx = start(c).await;
    let ps = ctx.pubsub(&ctx.token).await;
    let missing = "/event/NoSuchEventStream";
    let e = ps.topic(missing).await.expect_err("no such topic");
    assert!(matches!(e, StreamError::TopicNotFound { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains(missing) && msg.contains("Event Manager"),
        "{msg}"
    );
    let e = ps.topic(API).await.expect_err("disabled");
    assert!(matches!(e, StreamError::TopicNotEnabled { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains(API) && msg.contains("enable") && msg.contains("Event Manager"),
        "{msg}"
    );
    match ps.subscribe(API, Replay::Earliest, 10).await {
        Err(StreamError::TopicNotEnabled { topic, .. }) => assert_eq!(topic, API),
        Err(e) => panic!("{e:?}"),
        Ok(_) => panic!("subscribed to a disabled topic"),
    }
    ps.topic(LOGIN).await.expect("the others still work");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_token_is_an_auth_error() {
    let ctx = start(config()).await;
    let ps = ctx.pubsub("00Dbad!not-a-session").await;
    let e = ps.topic(LOGIN).await.expect_err("refused");
    assert!(matches!(e, StreamError::Auth { .. }), "{e:?}");
    assert!(e.to_string().contains("access token"), "{e}");
    match ps.subscribe(LOGIN, Replay::Earliest, 10).await {
        Err(StreamError::Auth { .. }) => {}
        Err(e) => panic!("{e:?}"),
        Ok(_) => panic!("subscribed with a bad token"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2c_to_loopback_and_not_elsewhere() {
    let mut c = config();
    c.pubsub.plaintext = true;
    let ctx = start(c).await;
    assert!(ctx.sim.pubsub_url.starts_with("http://"));
    let channel = stream::connect(&ctx.sim.pubsub_url, None)
        .await
        .expect("h2c to loopback");
    let ps = PubSub::new(channel, &ctx.auth(&ctx.token)).expect("auth");
    ps.topic(LOGIN).await.expect("topic over h2c");
    let e = stream::connect("http://api.pubsub.salesforce.com:7443", None)
        .await
        .expect_err("plain http elsewhere");
    assert!(matches!(e, StreamError::PlainHttp(_)), "{e:?}");
}
