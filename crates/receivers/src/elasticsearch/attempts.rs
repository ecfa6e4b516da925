//! Every delivery attempt of each `_id`, with the answer it got, so that a test can hold the
//! *sender* to "exactly once": what Elasticsearch stores says little about it, since a
//! duplicate `create` is answered 409 and never stored, and a sender that resent everything
//! would leave the same documents behind.
//!
//! An attempt is a bulk action with an `_id` in a request whose body the receiver read and
//! parsed (a request refused before that, for its credentials, size or syntax, carries no
//! readable ids). Its answer is the item's status, or the whole request's (a 429 or 5xx that
//! executed nothing), or none: the connection was closed before the answer, either before any
//! item was executed or after (the documents stored, the client not told).
//!
//! A sender that keeps its promise sends an `_id` again only after an answer that asks for it
//! (429, 5xx, or no answer): [`Attempt::resent_without_cause`] counts the others.
//!
//! Readable through [`super::Handle::attempts`] and `GET /__receiver/attempts`, in the shape
//! the other receivers use (`events` by id with `attempts`, `accepted`, `refused`), plus each
//! attempt's `answers`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The answer to one attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// `_index` as the action named it.
    pub index: String,
    /// The item's status; the whole request's when `request` is set; 0 when nothing was
    /// decided (the connection was closed before any item ran).
    pub status: u16,
    /// `status` is the whole request's: no item of it ran.
    #[serde(default)]
    pub request: bool,
    /// The client never got the answer: the connection was closed.
    #[serde(default)]
    pub unanswered: bool,
}

impl Answer {
    /// An answer that asks for the document to be sent again: a 429 or 5xx (item or request),
    /// or none at all.
    pub fn retryable(&self) -> bool {
        self.unanswered || self.status == 429 || self.status >= 500
    }

    /// The document is in the index after this attempt: created, or already there (409).
    pub fn stored(&self) -> bool {
        !self.request && ((200..300).contains(&self.status) || self.status == 409)
    }
}

/// All the attempts of one `_id`, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub answers: Vec<Answer>,
}

impl Attempt {
    pub fn attempts(&self) -> u64 {
        self.answers.len() as u64
    }

    /// Attempts answered with the document stored (2xx, 409).
    pub fn accepted(&self) -> u64 {
        self.count(|a| !a.unanswered && a.stored())
    }

    /// Attempts answered without storing it (any other status).
    pub fn refused(&self) -> u64 {
        self.count(|a| !a.unanswered && !a.stored())
    }

    /// Attempts that came although the answer before did not ask for them.
    pub fn resent_without_cause(&self) -> u64 {
        self.answers
            .windows(2)
            .filter(|w| !w[0].retryable())
            .count() as u64
    }

    /// Attempts answered with a retryable status (or none).
    pub fn retryable(&self) -> u64 {
        self.count(Answer::retryable)
    }

    fn count(&self, f: impl Fn(&Answer) -> bool) -> u64 {
        self.answers.iter().filter(|a| f(a)).count() as u64
    }
}

/// Attempts by `_id`, and the actions that had none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Attempts {
    pub events: BTreeMap<String, Attempt>,
    pub without_id: u64,
}

impl Attempts {
    pub fn record(&mut self, id: Option<&str>, answer: Answer) {
        match id {
            Some(id) => self
                .events
                .entry(id.to_string())
                .or_default()
                .answers
                .push(answer),
            None => self.without_id += 1,
        }
    }

    /// Attempts beyond each id's first: what the sender sent again.
    pub fn extra(&self) -> u64 {
        self.events.values().map(|a| a.attempts() - 1).sum()
    }

    /// [`Attempt::resent_without_cause`], summed.
    pub fn resent_without_cause(&self) -> u64 {
        self.events
            .values()
            .map(Attempt::resent_without_cause)
            .sum()
    }

    /// The admin endpoint's JSON: each id's counts and answers, and a summary.
    pub fn to_json(&self) -> Value {
        let events: serde_json::Map<String, Value> = self
            .events
            .iter()
            .map(|(id, a)| {
                let v = json!({
                    "attempts": a.attempts(), "accepted": a.accepted(), "refused": a.refused(),
                    "answers": a.answers,
                });
                (id.clone(), v)
            })
            .collect();
        json!({
            "events": events,
            "without_id": self.without_id,
            "ids": self.events.len(),
            "repeated_ids": self.events.values().filter(|a| a.attempts() > 1).count(),
            "extra_attempts": self.extra(),
            "resent_without_cause": self.resent_without_cause(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(status: u16, request: bool, unanswered: bool) -> Answer {
        Answer {
            index: "i".into(),
            status,
            request,
            unanswered,
        }
    }

    #[test]
    fn resends_are_judged_by_the_answer_before() {
        let mut t = Attempts::default();
        t.record(Some("x"), a(429, false, false));
        t.record(Some("x"), a(503, true, false));
        t.record(Some("x"), a(201, false, true));
        t.record(Some("x"), a(409, false, false));
        t.record(Some("y"), a(201, false, false));
        t.record(Some("y"), a(409, false, false));
        t.record(None, a(201, false, false));
        let x = &t.events["x"];
        assert_eq!((x.attempts(), x.accepted(), x.refused()), (4, 1, 2));
        assert_eq!(x.resent_without_cause(), 0);
        assert_eq!(t.events["y"].resent_without_cause(), 1);
        assert_eq!(
            (t.extra(), t.resent_without_cause(), t.without_id),
            (4, 1, 1)
        );
        let j = t.to_json();
        assert_eq!(j["events"]["x"]["answers"][1]["request"], true);
        assert_eq!(
            (j["repeated_ids"].clone(), j["resent_without_cause"].clone()),
            (json!(2), json!(1))
        );
        let back: Attempts = serde_json::from_value(j).unwrap();
        assert_eq!(back, t, "the endpoint's JSON reads back");
    }
}
