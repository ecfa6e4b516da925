//! The Salesforce Pub/Sub API (gRPC, `eventbus.v1.PubSub`) beside the REST API: the org's
//! Real-Time Event Monitoring streams (`/event/LoginEventStream`, ...), whose events are the
//! storage objects' records, served over TLS (or h2c when asked) on a port of its own.

pub mod custom;
mod schemas;
mod subscribe;
mod topics;

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::{Code, Request, Response, Status};

use crate::server::Shared;

pub use schemas::EVENT_UUID;
pub use topics::{decode_replay, encode_replay, stream_event};

/// The generated messages, server and client of the Pub/Sub API proto, from the `pubsub-api`
/// crate (one copy of the proto for the simulator and the collector).
pub mod proto {
    pub use pubsub_api::proto::*;
}

use proto::pub_sub_server::{PubSub, PubSubServer};
use proto::*;

/// How the Pub/Sub API is served.
#[derive(Debug, Clone)]
pub struct PubSubConfig {
    /// 0 picks a free port.
    pub port: u16,
    /// Serve plain-text HTTP/2 (h2c) instead of TLS. Salesforce only speaks TLS; this is for
    /// clients that allow `http://` to loopback.
    pub plaintext: bool,
    /// Longest wait, with requested events pending and none to send, before an empty
    /// FetchResponse keepalive (Salesforce: "within 270 seconds").
    pub keepalive: Duration,
    /// How long events stay replayable, in simulator time (RTEM streams: 3 days).
    pub retention: Duration,
    /// Topics (`/event/LoginEventStream` or `LoginEventStream`) not enabled for streaming in
    /// Event Manager: GetTopic and Subscribe answer PERMISSION_DENIED.
    pub disabled_topics: Vec<String>,
}

impl Default for PubSubConfig {
    fn default() -> Self {
        PubSubConfig {
            port: 0,
            plaintext: false,
            keepalive: Duration::from_secs(270),
            retention: Duration::from_secs(72 * 3600),
            disabled_topics: Vec::new(),
        }
    }
}

/// Pub/Sub faults; part of [`crate::Faults`] (`"pubsub": {...}` in `POST /__sim/faults`).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PubSubFaults {
    /// Every Subscribe stream is closed with UNAVAILABLE `RST_STREAM closed stream` once it
    /// has sent this many events (0: at once, including streams already open).
    pub reset_after_events: Option<u64>,
    /// Streams send nothing at all, not even keepalives (the "silent stall"); a stream that
    /// stalled stays silent after the fault is cleared.
    pub stall: bool,
    /// New Subscribe calls fail with UNAVAILABLE `sfdc.platform.eventbus.grpc.service.unavailable`.
    pub refuse_subscriptions: bool,
    /// Every CUSTOM replay id is treated as older than the retention window.
    pub expire_replay_ids: bool,
}

/// Counters of the Pub/Sub API, read through [`crate::SimHandle::pubsub_stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PubSubStats {
    /// Subscribe calls accepted (past auth and the first FetchRequest's checks).
    pub subscriptions_opened: u64,
    /// Subscribe streams open now.
    pub streams_open: i64,
    /// Events sent over all streams.
    pub events_sent: u64,
    /// Keepalives (empty FetchResponses) sent.
    pub keepalives_sent: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub subscriptions_opened: AtomicU64,
    pub streams_open: AtomicI64,
    pub events_sent: AtomicU64,
    pub keepalives_sent: AtomicU64,
}

/// The Pub/Sub API's state, shared by every call.
pub(crate) struct PubSubState {
    pub shared: Arc<Shared>,
    pub config: PubSubConfig,
    pub topics: Vec<Arc<topics::Topic>>,
    pub counters: Counters,
}

impl PubSubState {
    pub fn new(shared: Arc<Shared>, config: PubSubConfig) -> anyhow::Result<Self> {
        let topics = topics::build(&shared.org)?;
        Ok(PubSubState {
            shared,
            config,
            topics,
            counters: Counters::default(),
        })
    }

    pub fn stats(&self) -> PubSubStats {
        let c = &self.counters;
        PubSubStats {
            subscriptions_opened: c.subscriptions_opened.load(Ordering::SeqCst),
            streams_open: c.streams_open.load(Ordering::SeqCst),
            events_sent: c.events_sent.load(Ordering::SeqCst),
            keepalives_sent: c.keepalives_sent.load(Ordering::SeqCst),
        }
    }

    pub fn faults(&self) -> PubSubFaults {
        self.shared.faults().pubsub
    }

    /// The topic of a name, checked as Subscribe and GetTopic check it.
    pub fn topic(&self, name: &str, rpc_id: &str) -> Result<Arc<topics::Topic>, Status> {
        let Some(t) = self.topics.iter().find(|t| t.name == name) else {
            // Message unverified, and no error-code trailer: Salesforce's wording and code for
            // an unknown topic are not in the reference.
            return Err(error(
                Code::NotFound,
                None,
                &format!("Topic not found: {name}. Check the topic name and your permissions."),
                rpc_id,
            ));
        };
        let disabled =
            self.config.disabled_topics.iter().any(|d| {
                d == &t.name || d == &t.event || d.trim_start_matches("/event/") == t.event
            });
        if disabled {
            // PERMISSION_DENIED (not INVALID_ARGUMENT): the name is right, the org just does
            // not let anyone subscribe until streaming is switched on in Event Manager.
            // Unverified against a real org.
            return Err(error(
                Code::PermissionDenied,
                None,
                &format!(
                    "You don't have permission to subscribe to {name}: streaming is not enabled \
                     for this event in Event Manager."
                ),
                rpc_id,
            ));
        }
        Ok(t.clone())
    }

    /// Checks the `accesstoken`, `instanceurl` and `tenantid` metadata against the tokens
    /// the REST API issued (same expiry and session faults), without counting a REST call.
    pub fn authenticate(&self, md: &MetadataMap, rpc_id: &str) -> Result<(), Status> {
        let get = |k: &str| md.get(k).and_then(|v| v.to_str().ok()).unwrap_or("");
        let org_id = &self.shared.org.org_id;
        let tenant = get("tenantid");
        let tenant_ok =
            tenant == org_id.as_str() || (tenant.len() == 15 && org_id.starts_with(tenant));
        if !get("instanceurl").is_empty()
            && tenant_ok
            && self.shared.token_alive(get("accesstoken"))
        {
            return Ok(());
        }
        Err(error(
            Code::Unauthenticated,
            Some("sfdc.platform.eventbus.grpc.service.auth.error"),
            "An authentication exception occurred. Provide valid authentication via metadata headers.",
            rpc_id,
        ))
    }
}

/// A Pub/Sub API error: the status, its message ending in `rpcId: <id>`, and the
/// `error-code` and `rpc-id` trailers, as Salesforce documents.
///
/// Only documented error codes are sent (`None` otherwise): a made-up code would invite a
/// client to depend on it.
pub(crate) fn error(code: Code, error_code: Option<&str>, msg: &str, rpc_id: &str) -> Status {
    let mut md = MetadataMap::new();
    if let Some(v) = error_code.and_then(|c| MetadataValue::try_from(c).ok()) {
        md.insert("error-code", v);
    }
    if let Ok(v) = MetadataValue::try_from(rpc_id) {
        md.insert("rpc-id", v);
    }
    Status::with_metadata(code, format!("{msg} rpcId: {rpc_id}"), md)
}

pub(crate) fn new_rpc_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The tonic service.
#[derive(Clone)]
pub(crate) struct Service(pub Arc<PubSubState>);

#[tonic::async_trait]
impl PubSub for Service {
    type SubscribeStream = subscribe::ResponseStream;
    type PublishStreamStream = futures_util::stream::Empty<Result<PublishResponse, Status>>;
    type ManagedSubscribeStream = futures_util::stream::Empty<Result<ManagedFetchResponse, Status>>;

    async fn subscribe(
        &self,
        request: Request<tonic::Streaming<FetchRequest>>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        subscribe::subscribe(self.0.clone(), request).await
    }

    async fn get_schema(
        &self,
        request: Request<SchemaRequest>,
    ) -> Result<Response<SchemaInfo>, Status> {
        let rpc_id = new_rpc_id();
        self.0.authenticate(request.metadata(), &rpc_id)?;
        let id = &request.get_ref().schema_id;
        let t = self
            .0
            .topics
            .iter()
            .find(|t| &t.schema_id == id)
            .ok_or_else(|| {
                error(
                    Code::NotFound,
                    None,
                    &format!("Schema not found: {id}."),
                    &rpc_id,
                )
            })?;
        Ok(Response::new(SchemaInfo {
            schema_json: t.schema_json.clone(),
            schema_id: t.schema_id.clone(),
            rpc_id,
        }))
    }

    async fn get_topic(
        &self,
        request: Request<TopicRequest>,
    ) -> Result<Response<TopicInfo>, Status> {
        let rpc_id = new_rpc_id();
        self.0.authenticate(request.metadata(), &rpc_id)?;
        let t = self.0.topic(&request.get_ref().topic_name, &rpc_id)?;
        Ok(Response::new(TopicInfo {
            topic_name: t.name.clone(),
            tenant_guid: self.0.shared.org.org_id.clone(),
            // Real-Time Event Monitoring streams are published by Salesforce only.
            can_publish: false,
            can_subscribe: true,
            schema_id: t.schema_id.clone(),
            rpc_id,
        }))
    }

    async fn publish(
        &self,
        request: Request<PublishRequest>,
    ) -> Result<Response<PublishResponse>, Status> {
        let rpc_id = new_rpc_id();
        self.0.authenticate(request.metadata(), &rpc_id)?;
        let t = self.0.topic(&request.get_ref().topic_name, &rpc_id)?;
        Err(publish_denied(&t.name, &rpc_id))
    }

    async fn publish_stream(
        &self,
        request: Request<tonic::Streaming<PublishRequest>>,
    ) -> Result<Response<Self::PublishStreamStream>, Status> {
        let rpc_id = new_rpc_id();
        self.0.authenticate(request.metadata(), &rpc_id)?;
        Err(publish_denied("this topic", &rpc_id))
    }

    async fn managed_subscribe(
        &self,
        _request: Request<tonic::Streaming<ManagedFetchRequest>>,
    ) -> Result<Response<Self::ManagedSubscribeStream>, Status> {
        Err(Status::unimplemented("ManagedSubscribe is not simulated"))
    }
}

/// Publishing to an RTEM stream: TopicInfo says `can_publish: false`; the status is a guess
/// (unverified).
fn publish_denied(topic: &str, rpc_id: &str) -> Status {
    error(
        Code::PermissionDenied,
        None,
        &format!("You don't have permission to publish to {topic}."),
        rpc_id,
    )
}

/// TLS material for the server: PEM chain and key (the certificate sfsim's HTTPS uses).
pub(crate) struct ServerPem {
    pub cert_chain: String,
    pub key: String,
}

/// Binds the Pub/Sub port and serves until `shutdown` resolves. Returns the URL.
pub(crate) async fn serve(
    state: Arc<PubSubState>,
    bind: &str,
    tls: Option<ServerPem>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind((bind, state.config.port)).await?;
    let addr = listener.local_addr()?;
    let ip = if addr.ip().is_unspecified() {
        std::net::IpAddr::from([127, 0, 0, 1])
    } else {
        addr.ip()
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let url = format!("{scheme}://{}", std::net::SocketAddr::new(ip, addr.port()));
    let mut builder = tonic::transport::Server::builder();
    if let Some(pem) = tls {
        let identity = tonic::transport::Identity::from_pem(pem.cert_chain, pem.key);
        builder =
            builder.tls_config(tonic::transport::ServerTlsConfig::new().identity(identity))?;
    }
    let router = builder.add_service(PubSubServer::new(Service(state)));
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    tokio::spawn(async move {
        if let Err(e) = router
            .serve_with_incoming_shutdown(incoming, shutdown)
            .await
        {
            tracing::error!(error = %e, "Pub/Sub server stopped");
        }
    });
    Ok(url)
}
