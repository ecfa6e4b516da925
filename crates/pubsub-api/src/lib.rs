//! Salesforce's Pub/Sub API, `eventbus.v1` from `proto/pubsub_api.proto`
//! (forcedotcom/pub-sub-api): the messages and the client for the collector, and the server
//! for the simulator (feature `server`). One copy of the proto, so the two cannot drift.

/// The generated messages, client and (with `server`) server.
pub mod proto {
    tonic::include_proto!("eventbus.v1");
}
