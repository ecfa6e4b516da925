//! One Subscribe stream: the first FetchRequest chooses where to start, later ones only ask
//! for more events (flow control), and every FetchResponse is a batch of events or, when
//! none are to be had, a keepalive carrying the latest replay id.

use pubsub_api::proto::{ConsumerEvent, FetchRequest, FetchResponse, ReplayPreset};
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use tonic::Streaming;

use super::{PubSub, StreamError};

/// Salesforce serves at most this many events per request; more is treated as this many.
pub const MAX_REQUESTED: i32 = 100;

/// Where a subscription starts. Only the first FetchRequest's choice counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replay {
    /// Only events published from now on.
    Latest,
    /// Every event still retained (RTEM streams: 3 days).
    Earliest,
    /// After the event of this replay id, stored as Salesforce gave it (opaque bytes).
    Custom(Vec<u8>),
}

/// One event: its replay id (what to store to resume after it) and its record.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamEvent {
    pub replay_id: Vec<u8>,
    /// The bus's id of the event (ProducerEvent `id`).
    pub id: String,
    pub schema_id: String,
    pub event_uuid: Option<String>,
    /// Shaped as the storage object's REST record: see [`super::decode`].
    pub record: Map<String, Value>,
}

/// One FetchResponse.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Empty for a keepalive.
    pub events: Vec<StreamEvent>,
    /// The newest replay id of the topic as the server saw it when answering.
    pub latest_replay_id: Vec<u8>,
    /// Events still requested and not yet sent.
    pub pending_num_requested: i32,
    pub rpc_id: String,
}

impl Batch {
    /// A keepalive: requested events are pending but none exist yet.
    pub fn is_keepalive(&self) -> bool {
        self.events.is_empty()
    }
}

/// An open Subscribe call.
pub struct Subscription {
    pubsub: PubSub,
    topic: String,
    requests: mpsc::Sender<FetchRequest>,
    responses: Streaming<FetchResponse>,
    latest_replay_id: Option<Vec<u8>>,
    pending: i32,
}

fn fetch(topic: &str, preset: ReplayPreset, replay_id: Vec<u8>, n: i32) -> FetchRequest {
    FetchRequest {
        topic_name: topic.to_string(),
        replay_preset: preset as i32,
        replay_id,
        num_requested: n.clamp(1, MAX_REQUESTED),
        auth_refresh: String::new(),
    }
}

impl PubSub {
    /// Subscribes to `topic` from `replay`, asking for `num_requested` events (1 to
    /// [`MAX_REQUESTED`]). Errors of the topic or the replay id come back here.
    pub async fn subscribe(
        &self,
        topic: &str,
        replay: Replay,
        num_requested: i32,
    ) -> Result<Subscription, StreamError> {
        let (preset, replay_id) = match replay {
            Replay::Latest => (ReplayPreset::Latest, Vec::new()),
            Replay::Earliest => (ReplayPreset::Earliest, Vec::new()),
            Replay::Custom(id) => (ReplayPreset::Custom, id),
        };
        let first = fetch(topic, preset, replay_id, num_requested);
        let pending = first.num_requested;
        // Room for a few requests: the caller sends one per commit, the call drains them.
        let (requests, rx) = mpsc::channel(16);
        // The server reads the first request before it answers the call: queue it first.
        requests
            .send(first)
            .await
            .map_err(|_| StreamError::Closed {
                topic: topic.to_string(),
            })?;
        let outbound =
            futures_util::stream::unfold(
                rx,
                |mut rx| async move { rx.recv().await.map(|m| (m, rx)) },
            );
        let responses = self
            .client
            .clone()
            .subscribe(self.request(outbound))
            .await
            .map_err(|s| StreamError::from_status(s, "Subscribe", Some(topic)))?
            .into_inner();
        Ok(Subscription {
            pubsub: self.clone(),
            topic: topic.to_string(),
            requests,
            responses,
            latest_replay_id: None,
            pending,
        })
    }
}

impl Subscription {
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The newest replay id the server reported (events and keepalives alike): stored when
    /// nothing else is, it keeps a quiet topic's position from aging out of retention.
    pub fn latest_replay_id(&self) -> Option<&[u8]> {
        self.latest_replay_id.as_deref()
    }

    /// Events requested and not yet received, as last reported by the server (plus any
    /// requested since).
    pub fn pending(&self) -> i32 {
        self.pending
    }

    /// The next batch, decoded; `Ok(None)` when the server ended the stream without error.
    pub async fn next_batch(&mut self) -> Result<Option<Batch>, StreamError> {
        let r = match self.responses.message().await {
            Ok(Some(r)) => r,
            Ok(None) => return Ok(None),
            Err(s) => return Err(StreamError::from_status(s, "Subscribe", Some(&self.topic))),
        };
        if !r.latest_replay_id.is_empty() {
            self.latest_replay_id = Some(r.latest_replay_id.clone());
        }
        self.pending = r.pending_num_requested;
        let mut events = Vec::with_capacity(r.events.len());
        for e in r.events {
            events.push(self.decode(e).await?);
        }
        Ok(Some(Batch {
            events,
            latest_replay_id: r.latest_replay_id,
            pending_num_requested: r.pending_num_requested,
            rpc_id: r.rpc_id,
        }))
    }

    async fn decode(&self, e: ConsumerEvent) -> Result<StreamEvent, StreamError> {
        let Some(ev) = e.event else {
            return Err(StreamError::Decode {
                schema_id: String::new(),
                reason: "a ConsumerEvent without its event".into(),
            });
        };
        let schema = self.pubsub.schema(&ev.schema_id).await?;
        let d = schema.decode(&ev.payload)?;
        Ok(StreamEvent {
            replay_id: e.replay_id,
            id: ev.id,
            schema_id: ev.schema_id,
            event_uuid: d.event_uuid,
            record: d.record,
        })
    }

    /// Asks for `n` more events (1 to [`MAX_REQUESTED`]): the caller does so as it commits
    /// what it received, so no more is in flight than it can lose to a crash.
    pub async fn request(&mut self, n: i32) -> Result<(), StreamError> {
        self.pending += self.requester().request(n).await?;
        Ok(())
    }

    /// A handle that asks for more events while another task reads the batches.
    pub fn requester(&self) -> Requester {
        Requester {
            topic: self.topic.clone(),
            requests: self.requests.clone(),
        }
    }
}

/// Asks a subscription for more events (see [`Subscription::requester`]).
#[derive(Clone)]
pub struct Requester {
    topic: String,
    requests: mpsc::Sender<FetchRequest>,
}

impl Requester {
    /// Asks for `n` more events (1 to [`MAX_REQUESTED`]); returns how many were asked for.
    pub async fn request(&self, n: i32) -> Result<i32, StreamError> {
        let req = fetch(&self.topic, ReplayPreset::Latest, Vec::new(), n);
        let n = req.num_requested;
        self.requests
            .send(req)
            .await
            .map_err(|_| StreamError::Closed {
                topic: self.topic.clone(),
            })?;
        Ok(n)
    }
}
