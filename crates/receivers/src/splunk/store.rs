//! What the Splunk receiver keeps: stored events, counters, and indexer acknowledgement state
//! per channel.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::config::Acks;
use super::envelope::Envelope;
use crate::common::{Attempts, FaultCounts, Faults};

/// An indexed event, with how it arrived.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub time: Option<f64>,
    /// `time` as sent (a number or a numeric string).
    pub time_raw: Option<Value>,
    pub host: Option<String>,
    pub source: Option<String>,
    pub sourcetype: Option<String>,
    /// The index it went to (as named, the token's default, or `main`).
    pub index: String,
    pub event: Value,
    pub fields: Map<String, Value>,
    /// The token the request authenticated with.
    pub token: String,
    /// The request's channel (`X-Splunk-Request-Channel` or `?channel=`), if any.
    pub channel: Option<String>,
    /// The `ackId` its request was answered with (none when ack is off, or when a later event
    /// of the same body was refused).
    pub ack_id: Option<u64>,
    /// The ingest request it came in, numbered from 1 in arrival order.
    pub request: u64,
    /// The path posted to (`/services/collector/event/1.0`, ...).
    pub path: String,
}

impl StoredEvent {
    pub fn new(e: Envelope, token: &str, channel: Option<&str>, request: u64, path: &str) -> Self {
        StoredEvent {
            time: e.time,
            time_raw: e.time_raw,
            host: e.host,
            source: e.source,
            sourcetype: e.sourcetype,
            index: e.index,
            event: e.event,
            fields: e.fields,
            token: token.to_string(),
            channel: channel.map(str::to_string),
            ack_id: None,
            request,
            path: path.to_string(),
        }
    }
}

/// Counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Requests to the event endpoints, whatever their answer.
    pub requests: u64,
    /// Events stored.
    pub events: u64,
    /// Error answers by HEC code (`2` token required, `6` invalid data format, ...).
    pub errors: BTreeMap<u16, u64>,
    pub requests_413: u64,
    /// Request bodies sent with `Content-Encoding: gzip`.
    pub gzip_requests: u64,
    /// `POST /services/collector/ack` requests answered.
    pub ack_queries: u64,
    pub acks_issued: u64,
    /// Injected faults that struck.
    #[serde(flatten)]
    pub faults: FaultCounts,
}

/// One `ackId`: when it turns true, or never.
#[derive(Debug, Clone, Copy)]
enum Pending {
    ReadyAt(Instant),
    Never,
}

/// A channel's acknowledgements: ids count from 0; an id answered true is forgotten, so asking
/// again answers false (as Splunk, and Vector's emulation, do).
#[derive(Debug, Default)]
struct Channel {
    next: u64,
    pending: BTreeMap<u64, Pending>,
}

#[derive(Debug, Default)]
pub struct State {
    pub faults: Faults,
    pub acks: Acks,
    pub events: Vec<StoredEvent>,
    pub stats: Stats,
    channels: HashMap<String, Channel>,
    /// (channel, ackId) answered true to a client, in answer order.
    pub acked: Vec<(String, u64)>,
    /// (channel, ackId) handed out, in order.
    pub issued: Vec<(String, u64)>,
    /// Every attempt of each event, by id.
    pub attempts: Attempts,
}

impl State {
    pub fn new(faults: Faults, acks: Acks) -> Self {
        State {
            faults,
            acks,
            ..State::default()
        }
    }

    /// The next request number.
    pub fn next_request(&mut self) -> u64 {
        self.stats.requests += 1;
        self.stats.requests
    }

    pub fn count_error(&mut self, code: u16) {
        *self.stats.errors.entry(code).or_default() += 1;
    }

    /// Hands out the channel's next `ackId`, turning true per the [`Acks`] in force.
    pub fn issue_ack(&mut self, channel: &str) -> u64 {
        let when = if self.acks.withheld {
            Pending::Never
        } else {
            Pending::ReadyAt(Instant::now() + Duration::from_millis(self.acks.delay_ms))
        };
        let ch = self.channels.entry(channel.to_string()).or_default();
        let id = ch.next;
        ch.next += 1;
        ch.pending.insert(id, when);
        self.stats.acks_issued += 1;
        self.issued.push((channel.to_string(), id));
        id
    }

    /// The status of each asked id on `channel`; unknown ids are false.
    pub fn query_acks(&mut self, channel: &str, ids: &[u64]) -> Vec<(u64, bool)> {
        let now = Instant::now();
        let mut out = Vec::with_capacity(ids.len());
        for &id in ids {
            let ready = self
                .channels
                .get(channel)
                .and_then(|c| c.pending.get(&id))
                .is_some_and(|p| matches!(p, Pending::ReadyAt(t) if *t <= now));
            if ready {
                if let Some(c) = self.channels.get_mut(channel) {
                    c.pending.remove(&id);
                }
                self.acked.push((channel.to_string(), id));
            }
            out.push((id, ready));
        }
        self.stats.ack_queries += 1;
        out
    }

    /// Forgets events, acknowledgements, counters, attempts and faults.
    pub fn reset(&mut self) {
        *self = State::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_count_per_channel_and_are_forgotten_once_true() {
        let mut st = State::default();
        assert_eq!(st.issue_ack("a"), 0);
        assert_eq!(st.issue_ack("a"), 1);
        assert_eq!(st.issue_ack("b"), 0);
        assert_eq!(
            st.query_acks("a", &[0, 1, 7]),
            vec![(0, true), (1, true), (7, false)]
        );
        assert_eq!(st.query_acks("a", &[0]), vec![(0, false)]);
        assert_eq!(st.query_acks("zzz", &[0]), vec![(0, false)]);
        st.acks.withheld = true;
        assert_eq!(st.issue_ack("b"), 1);
        assert_eq!(st.query_acks("b", &[0, 1]), vec![(0, true), (1, false)]);
        assert_eq!(
            st.acked,
            vec![("a".into(), 0), ("a".into(), 1), ("b".into(), 0)]
        );
    }
}
