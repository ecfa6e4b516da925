//! What a destination is handed and what it answers: the [`Event`]s of a batch, the
//! [`Verdict`] on each, the [`SinkError`] of a whole batch, and the org an output runs for
//! ([`OrgContext`]). Every output's sink, the shipper and the shared parts take these.

use std::sync::OnceLock;

use futures_util::future::BoxFuture;
use serde_json::Value;

/// One archived event, as read from the archive's NDJSON: the line itself, which the
/// tree-free encoders read directly, and its parsed tree, made only when an output asks for it
/// ([`Event::value`]).
#[derive(Debug, Clone)]
pub struct Event {
    /// The event id (the document id at destinations that deduplicate).
    pub id: String,
    /// Where it is in the delivery log: its file's entry and its row there (from 0).
    pub pos: (i64, u64),
    line: String,
    value: OnceLock<Value>,
}

impl Event {
    /// An event from its archive line. `Err` gives the line back with why it is not an archive
    /// event (not a JSON object, or no `id`); it is checked here, without building a tree.
    pub fn from_line(line: String) -> Result<Event, (String, String)> {
        if let Err(e) = ecs::json_check::check_object(&line) {
            let why = format!("the archived line is not JSON: {e}");
            return Err((line, why));
        }
        // The archive writes `id` as a plain string near the front; anything else (an escaped
        // key, an id that is not a string) takes serde's reading, which says what is wrong.
        let plain = ecs::line::Members::of(&line).and_then(|mut m| {
            m.find_map(|(k, v)| (k.ok()?.raw == "id").then_some(v))?
                .as_str()?
                .plain()
                .map(str::to_string)
        });
        match plain {
            Some(id) => Ok(Event {
                id,
                pos: (0, 0),
                line,
                value: OnceLock::new(),
            }),
            None => Event::from_line_by_serde(line),
        }
    }

    /// [`Event::from_line`] by serde, for lines whose id is not a plain string.
    fn from_line_by_serde(line: String) -> Result<Event, (String, String)> {
        #[derive(serde::Deserialize)]
        struct Head<'a> {
            #[serde(borrow)]
            id: Option<std::borrow::Cow<'a, str>>,
        }
        let id = match serde_json::from_str::<Head>(&line) {
            Ok(Head { id: Some(id) }) => id.into_owned(),
            Ok(Head { id: None }) => return Err((line, "the archived event has no id".into())),
            Err(e) => {
                let why = format!("the archived line is not JSON: {e}");
                return Err((line, why));
            }
        };
        Ok(Event {
            id,
            pos: (0, 0),
            line,
            value: OnceLock::new(),
        })
    }

    /// An event from a tree (tests, `alerts test`, redaction): its id is the tree's `id`.
    pub fn from_value(value: Value) -> Event {
        let id = value["id"].as_str().unwrap_or_default().to_string();
        Event::with_id(id, value)
    }

    /// An event from a tree, with the id given.
    pub fn with_id(id: String, value: Value) -> Event {
        Event {
            id,
            pos: (0, 0),
            line: serde_json::to_string(&value).unwrap_or_default(),
            value: OnceLock::from(value),
        }
    }

    /// A line that is not an archive event, kept as text for its dead letter.
    pub fn unreadable(line: String) -> Event {
        Event {
            id: String::new(),
            pos: (0, 0),
            line,
            value: OnceLock::new(),
        }
    }

    /// The event at its place in the delivery log.
    pub fn at(mut self, seq: i64, row: u64) -> Event {
        self.pos = (seq, row);
        self
    }

    /// The archive line, as written (compact JSON, one line).
    pub fn line(&self) -> &str {
        &self.line
    }

    /// The archive line, parsed (once, on first use).
    pub fn value(&self) -> &Value {
        self.value.get_or_init(|| {
            serde_json::from_str(&self.line).unwrap_or_else(|_| Value::String(self.line.clone()))
        })
    }
}

/// What the destination did with one event of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Acknowledged.
    Delivered,
    /// Already there (a redo after a crash, or a replay): counts as delivered.
    Duplicate,
    /// Refused for now (overloaded, unavailable): send it again later.
    Retry(String),
    /// Refused for good (a mapping error, an oversized document): dead-letter it.
    Dead(String),
}

/// A whole batch failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SinkError {
    /// Connection refused or cut, 429, 5xx: try the batch again later.
    #[error("{0}")]
    Transient(String),
    /// The same, with the destination's `Retry-After`: not before `after`.
    #[error("{message}")]
    Throttled {
        message: String,
        after: std::time::Duration,
    },
    /// Credentials refused, no such destination, ...: retrying cannot help.
    #[error("{0}")]
    Fatal(String),
}

/// A destination.
pub trait Sink: Send + Sync {
    /// Sends a batch and returns one verdict per event, in order.
    fn send<'a>(&'a self, events: &'a [Event]) -> BoxFuture<'a, Result<Vec<Verdict>, SinkError>>;
}

/// Where and with what an output runs for one org's archive.
#[derive(Debug, Clone)]
pub struct OrgContext {
    /// The org's name in state.db.
    pub org: String,
    /// The Salesforce instance the events came from (`salesforce.instance_url`).
    pub instance_url: String,
    /// The archive's `state.db`, for an output that reads what the collector kept there (the
    /// lake: the column types Salesforce declared, and its own position); `None` where there
    /// is no archive.
    pub state: Option<std::path::PathBuf>,
}
