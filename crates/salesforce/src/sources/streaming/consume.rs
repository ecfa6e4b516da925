//! Archiving what a subscription delivers: events gathered for up to `flush_millis`, then
//! written and committed with their replay id, then asked for again; keepalives' replay ids
//! stored as they come.

use std::time::Instant;

use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use tokio::sync::{mpsc, watch};

use super::{cursor_key, local, SessionError, Streamer};
use crate::stream::{Batch, Requester, StreamError, StreamEvent, EVENT_UUID};
use archive::normalize::{iso, parse_sf_datetime};
use archive::state::Cursor;

type Incoming = mpsc::Receiver<Result<Option<Batch>, StreamError>>;

/// Events received and not yet committed.
#[derive(Default)]
struct Gathered {
    events: Vec<StreamEvent>,
    /// When they must be committed by.
    due: Option<Instant>,
}

/// What the next wait on the stream ends with.
enum Next {
    Message(Option<Result<Option<Batch>, StreamError>>),
    TimedOut,
    Stop,
}

impl Streamer {
    /// Archives the batches of `rx` until the stream fails (with what was received committed
    /// first) or a stop is asked.
    pub(super) async fn consume(
        &self,
        mut rx: Incoming,
        requester: &Requester,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<(), SessionError> {
        let mut held = Gathered::default();
        loop {
            let wait = held.due.map_or(self.cfg.watchdog, |d| {
                d.saturating_duration_since(Instant::now())
            });
            let next = tokio::select! {
                m = tokio::time::timeout(wait, rx.recv()) => m.map_or(Next::TimedOut, Next::Message),
                _ = stop_asked(stop) => Next::Stop,
            };
            let batch = match next {
                Next::Stop => return self.flush(&mut held, requester).await,
                Next::TimedOut if held.due.is_some() => {
                    self.flush(&mut held, requester).await?;
                    continue;
                }
                Next::TimedOut => return Err(SessionError::Watchdog(self.cfg.watchdog)),
                Next::Message(Some(Ok(Some(b)))) => b,
                Next::Message(end) => {
                    self.flush(&mut held, requester).await?;
                    return Err(match end {
                        Some(Err(e)) => e.into(),
                        _ => SessionError::Ended,
                    });
                }
            };
            self.take(batch, &mut held, requester).await?;
        }
    }

    /// Holds a batch's events (committing once a request's worth is held), or stores a
    /// keepalive's replay id.
    async fn take(
        &self,
        batch: Batch,
        held: &mut Gathered,
        requester: &Requester,
    ) -> Result<(), SessionError> {
        if batch.is_keepalive() {
            self.status.keepalive();
            self.flush(held, requester).await?;
            return self.keepalive(&batch.latest_replay_id);
        }
        self.status.received(batch.events.len());
        held.events.extend(batch.events);
        held.due
            .get_or_insert_with(|| Instant::now() + self.cfg.flush);
        if held.events.len() >= self.cfg.batch as usize {
            self.flush(held, requester).await?;
        }
        Ok(())
    }

    /// Writes and commits the held events with the last one's replay id, then asks for as
    /// many again.
    async fn flush(&self, held: &mut Gathered, requester: &Requester) -> Result<(), SessionError> {
        held.due = None;
        let events = std::mem::take(&mut held.events);
        let Some(last) = events.last() else {
            return Ok(());
        };
        let replay = last.replay_id.clone();
        let n = events.len() as i32;
        let records = records(events);
        let key = if records[0].contains_key("EventIdentifier") {
            "EventIdentifier"
        } else {
            EVENT_UUID
        };
        let time_field = if records[0].contains_key("EventDate") {
            "EventDate"
        } else {
            "CreatedDate"
        };
        let ctx = &self.ctx;
        let source = self.cfg.source.as_str();
        let newest = newest(&records, time_field).map(|t| iso(&t));
        let cursor = self.cursor(&replay, newest)?;
        let new = {
            let _page = ctx.page_lock();
            let new = ctx.write_page(source, &records, &[key], time_field)?;
            ctx.commit(source, &new, Some((&cursor_key(&self.cfg.topic), &cursor)))?;
            new
        };
        self.status.committed(&ctx.store, new.seen.len() as u64);
        if !self.cfg.polled {
            self.purge_seen(&cursor)?;
        }
        // A call already gone cannot be asked: the next subscription asks anew.
        if let Err(e) = requester.request(n).await {
            tracing::debug!(topic = %self.cfg.topic, "{e}");
        }
        Ok(())
    }

    /// Stores a keepalive's replay id when it moved: nothing is held, so every event up to it
    /// is committed.
    fn keepalive(&self, latest: &[u8]) -> Result<(), SessionError> {
        if latest.is_empty() {
            return Ok(());
        }
        let key = cursor_key(&self.cfg.topic);
        let store = &self.ctx.store;
        let stored = store
            .cursor(&self.ctx.org, &self.cfg.source, &key)
            .map_err(local)?;
        let position = encode(latest);
        if stored.as_ref().is_some_and(|c| c.position == position) {
            return Ok(());
        }
        let newest = stored.map(|c| c.last_id).filter(|t| !t.is_empty());
        let cursor = self.cursor(latest, newest)?;
        store
            .set_cursor(&self.ctx.org, &self.cfg.source, &key, &cursor)
            .map_err(local)?;
        self.status.committed(store, 0);
        Ok(())
    }

    /// The replay position: the id, the newest event time archived through the stream (the
    /// stored one when `newest` is none), and when it was saved.
    fn cursor(&self, replay: &[u8], newest: Option<String>) -> Result<Cursor, SessionError> {
        let newest = match newest {
            Some(t) => t,
            None => self
                .ctx
                .store
                .cursor(
                    &self.ctx.org,
                    &self.cfg.source,
                    &cursor_key(&self.cfg.topic),
                )
                .map_err(local)?
                .map(|c| c.last_id)
                .unwrap_or_default(),
        };
        Ok(Cursor {
            position: encode(replay),
            last_id: newest,
            extra: Some(iso(&base::clock::now())),
        })
    }
}

/// Resolves once a stop is asked (or nobody can ask any more).
async fn stop_asked(stop: &mut watch::Receiver<bool>) {
    while !*stop.borrow() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}

/// A replay id as stored: base64 of Salesforce's opaque bytes.
pub(super) fn encode(replay: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(replay)
}

pub(super) fn decode(stored: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(stored)
        .ok()
}

/// The events' records; an event without EventIdentifier (a custom platform event) keeps its
/// EventUuid as the de-duplication key.
fn records(events: Vec<StreamEvent>) -> Vec<Map<String, Value>> {
    events
        .into_iter()
        .map(|e| {
            let mut r = e.record;
            if !r.contains_key("EventIdentifier") {
                if let Some(u) = e.event_uuid {
                    r.insert(EVENT_UUID.into(), Value::String(u));
                }
            }
            r
        })
        .collect()
}

fn newest(records: &[Map<String, Value>], field: &str) -> Option<DateTime<Utc>> {
    records
        .iter()
        .filter_map(|r| r.get(field)?.as_str().and_then(parse_sf_datetime))
        .max()
}
