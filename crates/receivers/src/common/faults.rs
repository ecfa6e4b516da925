//! Faults injected into ingest requests, shared by the Splunk, Logplex and HTTP receivers.
//!
//! Counters say how many of the *next* ingest requests are hit; each hit uses one up, so a test
//! can say "the next 3 requests answer 503" and then see the fourth succeed. Set them in the
//! receiver's `Config::faults`, with its `Handle::set_faults`, or with
//! `POST /__receiver/faults` (this struct as JSON; it replaces the faults in force). Stopping
//! and restarting the listener is done through the handle (`stop`, `restart`).

use std::net::SocketAddr;
use std::time::Duration;

use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::conn::{self, Kills};

/// The faults in force. Every field is off by default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// The next N ingest requests answer 503 and store nothing (Splunk: `Server is busy`,
    /// code 9).
    pub requests_503: u32,
    /// The next N ingest requests answer 429 and store nothing.
    pub requests_429: u32,
    /// `Retry-After` seconds sent with those 429s.
    pub retry_after_secs: Option<u64>,
    /// The next N ingest requests are read and then their connection is closed with no answer;
    /// nothing is stored.
    pub close_connection: u32,
    /// The next N ingest requests are stored and then their connection is closed with no
    /// answer: the client cannot know its data arrived.
    pub close_after_store: u32,
    /// Every successful ingest answer is delayed this many milliseconds (after storing).
    pub delay_ms: Option<u64>,
}

/// How often the faults struck, for a receiver's statistics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultCounts {
    pub requests_503: u64,
    pub requests_429: u64,
    /// Connections closed without an answer (before or after storing).
    pub connections_closed: u64,
}

/// What an ingest request meets before its data is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestFault {
    None,
    /// Answer 429, with this `Retry-After`.
    Reject429(Option<u64>),
    Reject503,
    Close,
}

/// What a stored request meets before it is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AfterStore {
    pub close: bool,
    pub delay: Option<Duration>,
}

/// Uses one of `n` up; true when there was one.
pub fn take(n: &mut u32) -> bool {
    if *n > 0 {
        *n -= 1;
        true
    } else {
        false
    }
}

impl Faults {
    /// Takes the fault for the next ingest request, in a fixed order, and counts it.
    pub fn take_request_fault(&mut self, counts: &mut FaultCounts) -> RequestFault {
        if take(&mut self.requests_503) {
            counts.requests_503 += 1;
            RequestFault::Reject503
        } else if take(&mut self.requests_429) {
            counts.requests_429 += 1;
            RequestFault::Reject429(self.retry_after_secs)
        } else if take(&mut self.close_connection) {
            counts.connections_closed += 1;
            RequestFault::Close
        } else {
            RequestFault::None
        }
    }

    /// What a request whose data was just stored meets, counted.
    pub fn take_after_store(&mut self, counts: &mut FaultCounts) -> AfterStore {
        let close = take(&mut self.close_after_store);
        counts.connections_closed += u64::from(close);
        AfterStore {
            close,
            delay: self.delay_ms.map(Duration::from_millis),
        }
    }
}

/// The answer for a request fault, or `None` to go on. `reject(status, retry_after)` builds the
/// product's 429 and 503 answers.
pub fn answer(
    fault: RequestFault,
    kills: &Kills,
    peer: SocketAddr,
    reject: impl FnOnce(u16, Option<u64>) -> Response,
) -> Option<Response> {
    match fault {
        RequestFault::None => None,
        RequestFault::Reject503 => Some(reject(503, None)),
        RequestFault::Reject429(retry_after) => Some(reject(429, retry_after)),
        RequestFault::Close => Some(conn::close(kills, peer)),
    }
}

/// Waits and closes as [`AfterStore`] says; the answer is `ok` unless the connection is closed.
pub async fn finish(after: AfterStore, kills: &Kills, peer: SocketAddr, ok: Response) -> Response {
    if let Some(d) = after.delay {
        tokio::time::sleep(d).await;
    }
    if after.close {
        return conn::close(kills, peer);
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_used_up_in_order_and_counted() {
        let mut counts = FaultCounts::default();
        let mut f = Faults {
            requests_503: 1,
            requests_429: 1,
            retry_after_secs: Some(3),
            close_connection: 1,
            close_after_store: 1,
            delay_ms: Some(5),
        };
        assert_eq!(f.take_request_fault(&mut counts), RequestFault::Reject503);
        assert_eq!(
            f.take_request_fault(&mut counts),
            RequestFault::Reject429(Some(3))
        );
        assert_eq!(f.take_request_fault(&mut counts), RequestFault::Close);
        assert_eq!(f.take_request_fault(&mut counts), RequestFault::None);
        let after = f.take_after_store(&mut counts);
        assert!(after.close);
        assert_eq!(after.delay, Some(Duration::from_millis(5)));
        assert!(!f.take_after_store(&mut counts).close);
        assert_eq!(
            counts,
            FaultCounts {
                requests_503: 1,
                requests_429: 1,
                connections_closed: 2
            }
        );
    }
}
