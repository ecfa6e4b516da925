//! Every delivery attempt of each event, counted by the archive event's id, for the Splunk,
//! Logplex and HTTP receivers.
//!
//! What a receiver stores says little about a sender's "exactly once": Splunk's indexer
//! acknowledgement and a drain's frame-id dedup store an event once however often it comes, and
//! a sender that resent everything would look the same. These counts are taken at the door,
//! before any dedup, so a test can hold the sender itself to its claim: in a clean run every
//! id is attempted once; under faults, only what the faults refused or cut is attempted again.
//!
//! An attempt is a request whose body the receiver read and decoded. A request refused before
//! that (credentials, `Content-Type`, a body over the size limit, an encoding it cannot undo)
//! carries no readable ids and is not counted. Each attempt ends one of three ways:
//!
//! - **accepted**: the event was taken (stored, or dropped as a repeat of a stored one) and the
//!   answer said so (a 2xx; for HEC also the events before `invalid-event-number`);
//! - **refused**: not stored: an error answer, or the connection closed before storing;
//! - neither ([`Attempt::unanswered`]): stored, but the answer never left the receiver (the
//!   connection closed after storing, or the receiver stopped mid-request).
//!
//! Readable through each receiver's `Handle::attempts` and `GET /__receiver/attempts`;
//! `POST /__receiver/reset` forgets them. What the receivers store and answer is unchanged.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// How one event id fared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// Requests that carried the event.
    pub attempts: u64,
    /// Of those, the ones that took it and said so.
    pub accepted: u64,
    /// Of those, the ones that did not store it.
    pub refused: u64,
}

impl Attempt {
    /// Attempts stored but never answered (closed after storing, or cut by a stop).
    pub fn unanswered(&self) -> u64 {
        self.attempts
            .saturating_sub(self.accepted)
            .saturating_sub(self.refused)
    }
}

/// Attempts by event id, and the events read without one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Attempts {
    pub events: BTreeMap<String, Attempt>,
    /// Events read that carried no id (not JSON, or no `id` in it).
    pub without_id: u64,
}

/// The event ids of one request's body, in body order (`None`: an event without one).
pub type Ids = [Option<String>];

impl Attempts {
    /// A request carrying `ids` was read.
    pub fn read(&mut self, ids: &Ids) {
        for id in ids {
            match id {
                Some(id) => self.events.entry(id.clone()).or_default().attempts += 1,
                None => self.without_id += 1,
            }
        }
    }

    /// The request took `ids` and said so.
    pub fn accepted(&mut self, ids: &Ids) {
        for id in ids.iter().flatten() {
            self.events.entry(id.clone()).or_default().accepted += 1;
        }
    }

    /// The request stored none of `ids`.
    pub fn refused(&mut self, ids: &Ids) {
        for id in ids.iter().flatten() {
            self.events.entry(id.clone()).or_default().refused += 1;
        }
    }

    /// Ids attempted more than once.
    pub fn repeated(&self) -> impl Iterator<Item = (&String, &Attempt)> {
        self.events.iter().filter(|(_, a)| a.attempts > 1)
    }

    /// Attempts beyond each id's first, summed: what a sender sent again.
    pub fn extra(&self) -> u64 {
        self.events.values().map(|a| a.attempts - 1).sum()
    }

    /// The admin endpoint's JSON: the counts by id, and a summary.
    pub fn to_json(&self) -> Value {
        json!({
            "events": self.events,
            "without_id": self.without_id,
            "ids": self.events.len(),
            "repeated_ids": self.repeated().count(),
            "extra_attempts": self.extra(),
        })
    }
}

/// The archive event's id in a JSON document sfevents sends: `id` (`format = raw`, the
/// archive line), else `salesforce.event_id` (`format = ecs`, nested or dotted).
pub fn event_id(v: &Value) -> Option<String> {
    let text = |x: &Value| match x {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    text(&v["id"])
        .or_else(|| text(&v["salesforce"]["event_id"]))
        .or_else(|| text(&v["salesforce.event_id"]))
}

/// The id of one line or message of text that may be a JSON document.
pub fn id_of_text(text: &[u8]) -> Option<String> {
    serde_json::from_slice::<Value>(text)
        .ok()
        .and_then(|v| event_id(&v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_found_in_raw_and_ecs_documents() {
        assert_eq!(event_id(&json!({"id": "a-1"})).as_deref(), Some("a-1"));
        assert_eq!(
            event_id(&json!({"salesforce": {"event_id": "b-2"}})).as_deref(),
            Some("b-2")
        );
        assert_eq!(
            event_id(&json!({"salesforce.event_id": "c-3"})).as_deref(),
            Some("c-3")
        );
        assert_eq!(event_id(&json!({"id": 7})).as_deref(), Some("7"));
        assert_eq!(event_id(&json!({"id": ""})), None);
        assert_eq!(event_id(&json!("text")), None);
        assert_eq!(id_of_text(b"not json"), None);
        assert_eq!(id_of_text(br#"{"id":"x"}"#).as_deref(), Some("x"));
    }

    #[test]
    fn outcomes_are_counted_per_id() {
        let mut a = Attempts::default();
        let ids = [Some("x".to_string()), None, Some("y".to_string())];
        a.read(&ids);
        a.refused(&ids);
        a.read(&ids);
        a.accepted(&ids[..1]);
        a.read(&ids[..1]);
        assert_eq!(
            a.events["x"],
            Attempt {
                attempts: 3,
                accepted: 1,
                refused: 1
            }
        );
        assert_eq!(a.events["x"].unanswered(), 1);
        assert_eq!(a.events["y"].unanswered(), 1);
        assert_eq!(a.without_id, 2);
        assert_eq!(a.extra(), 3);
        assert_eq!(a.repeated().count(), 2);
        let j = a.to_json();
        assert_eq!(
            (j["repeated_ids"].clone(), j["extra_attempts"].clone()),
            (json!(2), json!(3))
        );
        let back: Attempts = serde_json::from_value(j).unwrap();
        assert_eq!(back, a, "the endpoint's JSON reads back");
    }
}
