//! `Subscribe`: the bidirectional stream of FetchRequests (flow control) and FetchResponses
//! (events and keepalives).

use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::Stream;
use tokio::sync::mpsc;
use tonic::{Code, Request, Response, Status};

use super::proto::{ConsumerEvent, FetchRequest, FetchResponse, ProducerEvent, ReplayPreset};
use super::topics::{decode_replay, Topic};
use super::{error, new_rpc_id, PubSubState};

pub type ResponseStream = Pin<Box<dyn Stream<Item = Result<FetchResponse, Status>> + Send>>;

/// At most this many events are outstanding on one Subscribe; more is treated as this many.
pub const MAX_PENDING: i32 = 100;

/// How often a stream looks for newly published events and due keepalives. The simulator's
/// clock can jump (`advance_clock`), so polling is simpler than scheduling each event.
const TICK: Duration = Duration::from_millis(20);

const CORRUPTED: &str = "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted";
const VALIDATION_FAILED: &str =
    "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.validation.failed";

/// Accepts a Subscribe call: checks auth and the first FetchRequest (topic, replay), then
/// streams from a task of its own.
pub async fn subscribe(
    state: Arc<PubSubState>,
    request: Request<tonic::Streaming<FetchRequest>>,
) -> Result<Response<ResponseStream>, Status> {
    let rpc_id = new_rpc_id();
    state.authenticate(request.metadata(), &rpc_id)?;
    if state.faults().refuse_subscriptions {
        return Err(error(
            Code::Unavailable,
            Some("sfdc.platform.eventbus.grpc.service.unavailable"),
            "The Pub/Sub API service is unavailable.",
            &rpc_id,
        ));
    }
    let mut inbound = request.into_inner();
    let first = match inbound.message().await? {
        Some(m) => m,
        None => return Err(Status::cancelled("the client closed the stream")),
    };
    let topic = state.topic(&first.topic_name, &rpc_id)?;
    let cursor = start_position(&state, &topic, &first, &rpc_id)?;
    state
        .counters
        .subscriptions_opened
        .fetch_add(1, Ordering::SeqCst);
    let mut sub = Subscription {
        state,
        topic,
        rpc_id,
        cursor,
        pending: 0,
        sent: 0,
        stalled: false,
    };
    sub.add_requested(first.num_requested);
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(sub.run(inbound, tx));
    let stream =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|m| (m, rx)) });
    Ok(Response::new(Box::pin(stream)))
}

/// Where a subscription starts, from the first FetchRequest's replay options (later
/// requests' replay options are ignored, as Salesforce documents).
fn start_position(
    state: &PubSubState,
    topic: &Topic,
    req: &FetchRequest,
    rpc_id: &str,
) -> Result<usize, Status> {
    let now = state.shared.now();
    let retention = chrono::Duration::from_std(state.config.retention)
        .unwrap_or_else(|_| chrono::Duration::days(3));
    let published = topic.published(now);
    let first = topic.first_retained(now, retention).min(published);
    let preset = ReplayPreset::try_from(req.replay_preset).map_err(|_| {
        error(
            Code::InvalidArgument,
            None,
            &format!("Invalid replay_preset {}.", req.replay_preset),
            rpc_id,
        )
    })?;
    match preset {
        ReplayPreset::Latest => Ok(published),
        ReplayPreset::Earliest => Ok(first),
        ReplayPreset::Custom => {
            let corrupted = |why: &str| {
                error(
                    Code::InvalidArgument,
                    Some(CORRUPTED),
                    &format!("The Replay ID validation failed: {why}."),
                    rpc_id,
                )
            };
            let value = decode_replay(&req.replay_id)
                .ok_or_else(|| corrupted("the Replay ID is not one this topic issued"))?;
            let pos = topic.position_after(value);
            // The id's own event (pos - 1) must still be retained; the topic's start id
            // only while nothing has expired.
            if state.faults().expire_replay_ids || (first > 0 && pos <= first) {
                return Err(corrupted(
                    "the Replay ID is older than the retention window",
                ));
            }
            if pos > published {
                return Err(error(
                    Code::InvalidArgument,
                    Some(VALIDATION_FAILED),
                    "The Replay ID validation failed: no event with this Replay ID was published yet.",
                    rpc_id,
                ));
            }
            Ok(pos)
        }
    }
}

/// What one look at the stream yields.
enum Step {
    Send(FetchResponse),
    Fail(Status),
    Idle,
}

/// One open Subscribe stream.
struct Subscription {
    state: Arc<PubSubState>,
    topic: Arc<Topic>,
    rpc_id: String,
    /// The index of the next event to send.
    cursor: usize,
    /// Events requested and not yet sent.
    pending: i32,
    /// Events sent on this stream.
    sent: u64,
    /// The stream saw a stall: it stays silent for good, as the reported stalls do ("if it
    /// didn't return within 120s then it typically never returned at all"). Streams opened
    /// after the fault is cleared work.
    stalled: bool,
}

/// Counts a stream as open for as long as its task lives.
struct OpenGuard(Arc<PubSubState>);
impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.counters.streams_open.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Subscription {
    fn add_requested(&mut self, n: i32) {
        if n > 0 {
            self.pending = self.pending.saturating_add(n).min(MAX_PENDING);
        }
    }

    async fn run(
        mut self,
        inbound: tonic::Streaming<FetchRequest>,
        tx: mpsc::Sender<Result<FetchResponse, Status>>,
    ) {
        self.state
            .counters
            .streams_open
            .fetch_add(1, Ordering::SeqCst);
        let _open = OpenGuard(self.state.clone());
        // A client that half-closes its side still gets what it asked for.
        let mut inbound = Some(inbound);
        let mut tick = tokio::time::interval(TICK);
        let mut last_sent = Instant::now();
        loop {
            let step = tokio::select! {
                msg = next_request(&mut inbound) => match msg {
                    Ok(Some(req)) => match self.on_request(req) {
                        Ok(()) => Step::Idle,
                        Err(s) => Step::Fail(s),
                    },
                    Ok(None) => {
                        inbound = None;
                        Step::Idle
                    }
                    // The transport failed: nobody is left to answer.
                    Err(_) => return,
                },
                _ = tick.tick() => self.step(last_sent),
                _ = tx.closed() => return,
            };
            match step {
                Step::Idle => {}
                Step::Send(resp) => {
                    last_sent = Instant::now();
                    if tx.send(Ok(resp)).await.is_err() {
                        return;
                    }
                }
                Step::Fail(status) => {
                    let _ = tx.send(Err(status)).await;
                    return;
                }
            }
        }
    }

    /// A later FetchRequest: more events requested, on the same topic.
    fn on_request(&mut self, req: FetchRequest) -> Result<(), Status> {
        if !req.topic_name.is_empty() && req.topic_name != self.topic.name {
            return Err(error(
                Code::InvalidArgument,
                None,
                &format!(
                    "The topic {} differs from the topic {} this subscription started with; \
                     start a new Subscribe call to change topics.",
                    req.topic_name, self.topic.name
                ),
                &self.rpc_id,
            ));
        }
        self.add_requested(req.num_requested);
        Ok(())
    }

    /// Sends what is due: published events up to the pending count, else a keepalive once
    /// the interval has passed with events still requested.
    fn step(&mut self, last_sent: Instant) -> Step {
        let faults = self.state.faults();
        if let Some(n) = faults.reset_after_events {
            if self.sent >= n {
                // Not generated by the Pub/Sub service itself, so no error code or rpc id.
                return Step::Fail(Status::unavailable("RST_STREAM closed stream"));
            }
        }
        if faults.stall || self.stalled {
            self.stalled = true;
            return Step::Idle;
        }
        let published = self.topic.published(self.state.shared.now());
        if self.pending > 0 && published > self.cursor {
            let mut n = (published - self.cursor).min(self.pending as usize);
            if let Some(limit) = faults.reset_after_events {
                n = n.min((limit - self.sent) as usize);
            }
            return Step::Send(self.events(n));
        }
        if self.pending > 0 && last_sent.elapsed() >= self.state.config.keepalive {
            self.state
                .counters
                .keepalives_sent
                .fetch_add(1, Ordering::SeqCst);
            return Step::Send(self.response(Vec::new()));
        }
        Step::Idle
    }

    /// The next `n` events as one FetchResponse.
    fn events(&mut self, n: usize) -> FetchResponse {
        let refs = &self.topic.events()[self.cursor..self.cursor + n];
        let mut events = Vec::with_capacity(n);
        for e in refs {
            match self.topic.payload(e) {
                Ok((payload, uuid)) => events.push(ConsumerEvent {
                    event: Some(ProducerEvent {
                        id: uuid,
                        schema_id: self.topic.schema_id.clone(),
                        payload,
                        headers: Vec::new(),
                    }),
                    replay_id: super::encode_replay(e.replay),
                }),
                // Never expected with generated data; skipping keeps the stream going.
                Err(err) => {
                    tracing::error!(error = %err, topic = %self.topic.name, "encoding an event")
                }
            }
        }
        self.cursor += n;
        self.pending -= n as i32;
        self.sent += n as u64;
        self.state
            .counters
            .events_sent
            .fetch_add(events.len() as u64, Ordering::SeqCst);
        self.response(events)
    }

    fn response(&self, events: Vec<ConsumerEvent>) -> FetchResponse {
        FetchResponse {
            events,
            latest_replay_id: self.topic.replay_at(self.cursor),
            rpc_id: self.rpc_id.clone(),
            pending_num_requested: self.pending,
        }
    }
}

/// The next FetchRequest, or never once the client has half-closed.
async fn next_request(
    inbound: &mut Option<tonic::Streaming<FetchRequest>>,
) -> Result<Option<FetchRequest>, Status> {
    match inbound {
        Some(s) => s.message().await,
        None => std::future::pending().await,
    }
}
