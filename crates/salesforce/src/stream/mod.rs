//! The Pub/Sub API client (gRPC, `eventbus.v1.PubSub`): Real-Time Event Monitoring streams
//! (`/event/LoginEventStream`, ...) read as they happen, instead of polling the storage
//! objects over REST.
//!
//! - [`connect`]: a tonic channel to the Pub/Sub endpoint over rustls (system roots plus an
//!   optional CA file; plain `http://` only to loopback, as every other URL of ours).
//! - [`PubSub`]: the calls, with the auth metadata of a REST session ([`Auth`]):
//!   [`PubSub::topic`], [`PubSub::schema`] (cached by schema id) and [`PubSub::subscribe`].
//! - [`Subscription`]: one Subscribe stream: batches of events decoded into records shaped as
//!   the storage object's REST records ([`decode`]), keepalives with the latest replay id, and
//!   flow control that the caller replenishes as it commits.
//!
//! `sources::stream` runs a long-lived subscription per topic on top of this.

mod client;
mod connect;
pub mod decode;
mod error;
mod subscription;

pub use client::{Auth, PubSub};
pub use connect::{connect, DEFAULT_URL};
pub use decode::{Decoded, EventSchema, EVENT_UUID};
pub use error::StreamError;
pub use pubsub_api::proto::TopicInfo;
pub use subscription::{Batch, Replay, Requester, StreamEvent, Subscription, MAX_REQUESTED};
