//! What the Pub/Sub tests share: sfsim with a short keepalive, a tonic client over TLS with
//! auth metadata, a subscription handle, Avro decoding and the records a storage object holds.

#![allow(dead_code)]

use std::collections::HashSet;
use std::time::Duration;

use apache_avro::types::Value as Avro;
use sfsim::pubsub::proto::pub_sub_client::PubSubClient;
use sfsim::pubsub::proto::{
    FetchRequest, FetchResponse, ReplayPreset, SchemaRequest, TopicRequest,
};
use sfsim::{SimConfig, SimHandle};
use soql::Value;
use tokio::sync::mpsc;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};
use tonic::{Status, Streaming};

pub const LOGIN: &str = "/event/LoginEventStream";
pub const CORRUPTED: &str = "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted";

pub fn config() -> SimConfig {
    let mut c = SimConfig::streaming(5, 4, (2, 12));
    c.org.duplicate_event_identifiers = true;
    c.pubsub.plaintext = true;
    c
}

pub struct Ctx {
    pub sim: SimHandle,
    pub token: String,
    pub client: PubSubClient<Channel>,
}

pub async fn start(c: SimConfig) -> Ctx {
    let sim = sfsim::start(c).await.expect("sfsim starts");
    let token = token(&sim).await;
    let channel = if let Some(ca) = &sim.pubsub_ca_file {
        let pem = std::fs::read(ca).expect("CA");
        let tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(pem))
            .domain_name("localhost");
        Channel::from_shared(sim.pubsub_url.clone())
            .expect("url")
            .tls_config(tls)
            .expect("tls")
            .connect()
            .await
    } else {
        Channel::from_shared(sim.pubsub_url.clone())
            .expect("url")
            .connect()
            .await
    }
    .expect("connects");
    Ctx {
        sim,
        token,
        client: PubSubClient::new(channel),
    }
}

/// An access token from the REST API's username-password flow.
pub async fn token(sim: &SimHandle) -> String {
    let c = &sim.credentials;
    let pw = format!("{}{}", c.password, c.security_token);
    let r: serde_json::Value = reqwest::Client::new()
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
    r["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

impl Ctx {
    pub fn request<T>(&self, msg: T, token: &str) -> tonic::Request<T> {
        let mut r = tonic::Request::new(msg);
        let md = r.metadata_mut();
        md.insert("accesstoken", token.parse().expect("ascii"));
        md.insert("instanceurl", self.sim.url.parse().expect("ascii"));
        md.insert("tenantid", self.sim.org.org_id.parse().expect("ascii"));
        r
    }

    pub async fn schema_json(&mut self, topic: &str) -> String {
        let t = self.request(
            TopicRequest {
                topic_name: topic.into(),
            },
            &self.token.clone(),
        );
        let info = self
            .client
            .get_topic(t)
            .await
            .expect("GetTopic")
            .into_inner();
        let s = SchemaRequest {
            schema_id: info.schema_id,
        };
        let s = self.request(s, &self.token.clone());
        self.client
            .get_schema(s)
            .await
            .expect("GetSchema")
            .into_inner()
            .schema_json
    }

    /// Opens a Subscribe stream with `first` as its first FetchRequest.
    pub async fn open(&mut self, first: FetchRequest) -> Result<Sub, Status> {
        let (tx, rx) = mpsc::channel::<FetchRequest>(8);
        tx.send(first).await.expect("queue");
        let out =
            futures_util::stream::unfold(
                rx,
                |mut rx| async move { rx.recv().await.map(|m| (m, rx)) },
            );
        let req = self.request(out, &self.token.clone());
        let stream = self.client.subscribe(req).await?.into_inner();
        Ok(Sub { tx, stream })
    }
}

pub fn fetch(topic: &str, preset: ReplayPreset, replay_id: Vec<u8>, n: i32) -> FetchRequest {
    FetchRequest {
        topic_name: topic.into(),
        replay_preset: preset as i32,
        replay_id,
        num_requested: n,
        auth_refresh: String::new(),
    }
}

pub struct Sub {
    pub tx: mpsc::Sender<FetchRequest>,
    pub stream: Streaming<FetchResponse>,
}

impl Sub {
    /// The next response within `secs`; `None` on timeout.
    pub async fn next(&mut self, secs: f64) -> Option<Result<FetchResponse, Status>> {
        let wait = Duration::from_secs_f64(secs);
        match tokio::time::timeout(wait, self.stream.message()).await {
            Ok(Ok(Some(r))) => Some(Ok(r)),
            Ok(Ok(None)) => panic!("stream ended without status"),
            Ok(Err(s)) => Some(Err(s)),
            Err(_) => None,
        }
    }

    pub async fn request(&self, topic: &str, n: i32) {
        let r = fetch(topic, ReplayPreset::Latest, Vec::new(), n);
        self.tx.send(r).await.expect("request sent");
    }

    /// Events until the first keepalive (an empty response), asking for 100 more each time
    /// the pending count drops to zero.
    pub async fn drain(&mut self, topic: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut out = Vec::new();
        loop {
            let r = self.next(5.0).await.expect("a response").expect("no error");
            if r.events.is_empty() {
                return out;
            }
            for e in &r.events {
                let payload = e.event.as_ref().expect("event").payload.clone();
                out.push((e.replay_id.clone(), payload));
            }
            if r.pending_num_requested == 0 {
                self.request(topic, 100).await;
            }
        }
    }
}

pub fn decode(schema_json: &str, payload: &[u8]) -> Vec<(String, Avro)> {
    let schema = apache_avro::Schema::parse_str(schema_json).expect("schema");
    let reader = apache_avro::reader::datum::GenericDatumReader::builder(&schema)
        .build()
        .expect("reader");
    match reader.read_value(&mut &payload[..]).expect("avro datum") {
        Avro::Record(fields) => fields,
        other => panic!("not a record: {other:?}"),
    }
}

/// What the storage object holds now, once per EventIdentifier, in storage order, within the
/// stream's 72-hour retention.
pub fn stored(sim: &SimHandle, object: &str) -> Vec<soql::Record> {
    let cutoff = sim.now() - chrono::Duration::hours(72);
    let mut seen = HashSet::new();
    let mut v: Vec<soql::Record> = sim
        .visible_records(object)
        .into_iter()
        .filter(|r| matches!(r.get("CreatedDate"), Some(Value::DateTime(t)) if *t >= cutoff))
        .filter(|r| seen.insert(ident(r)))
        .collect();
    v.sort_by_key(|r| (created(r), ident(r)));
    v
}

pub fn ident(r: &soql::Record) -> String {
    r.get("EventIdentifier")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

pub fn created(r: &soql::Record) -> chrono::DateTime<chrono::Utc> {
    match r.get("CreatedDate") {
        Some(Value::DateTime(t)) => *t,
        _ => panic!("no CreatedDate"),
    }
}

/// Asserts an event's decoded fields equal the record's, field by field.
pub fn assert_same(rec: &soql::Record, event: &[(String, Avro)]) {
    for (name, v) in event {
        if name == sfsim::pubsub::EVENT_UUID {
            continue;
        }
        let v = match v {
            Avro::Union(_, b) => b.as_ref(),
            v => v,
        };
        let want = rec
            .get(name)
            .unwrap_or_else(|| panic!("record lacks {name}"));
        let ok = match (want, v) {
            (Value::Null, Avro::Null) => true,
            (Value::String(a), Avro::String(b)) => a == b,
            (Value::DateTime(a), Avro::Long(b)) => a.timestamp_millis() == *b,
            (Value::Double(a), Avro::Double(b)) => a == b,
            (Value::Int(a), Avro::Long(b)) => a == b,
            (Value::Bool(a), Avro::Boolean(b)) => a == b,
            (Value::Double(a), Avro::String(b)) => b.parse::<f64>().ok() == Some(*a),
            _ => false,
        };
        assert!(
            ok,
            "{name}: stored {want:?}, streamed {v:?} ({})",
            ident(rec)
        );
    }
    let names: Vec<&str> = event.iter().map(|(n, _)| n.as_str()).collect();
    for (n, _) in &rec.fields {
        assert!(n == "Id" || names.contains(&n.as_str()), "event lacks {n}");
    }
}

pub fn error_code(s: &Status) -> &str {
    s.metadata()
        .get("error-code")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}
