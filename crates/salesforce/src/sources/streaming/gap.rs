//! Where a subscription starts, and the gap a lost position leaves, read from the storage
//! object over REST.
//!
//! Salesforce keeps stream events 72 hours. A replay id older than that is refused
//! (`replayid.corrupted` or `validation.failed`); one saved more than 70 hours ago is not
//! tried. The stream then starts from `EARLIEST` (every event still retained) and the time
//! before that is read from the storage object, which keeps events for months: from the
//! newest event the stream archived, less the object's look-back. Events both paths see
//! are archived once (the shared `seen` ids).

use std::sync::atomic::AtomicBool;

use chrono::{DateTime, Duration, Utc};

use super::consume::decode;
use super::{cursor_key, local, SessionError, Streamer};
use crate::config::{object_defaults, StreamStart};
use crate::sources::event_objects::{self, CURSOR_KEY, STREAMABLE_DAYS};
use crate::stream::{Replay, StreamError};
use archive::normalize::{iso, parse_sf_datetime};
use archive::state::Cursor;

/// A saved position older than this is not tried: the 72-hour retention, less a margin for
/// clocks and for the time a resubscription takes.
const RESUMABLE_HOURS: i64 = 70;

/// Salesforce's `error-code` trailers for a replay id it will not resume from.
const REFUSED_REPLAY: &[&str] = &[
    "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted",
    "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.validation.failed",
];

/// The stream refused the stored replay id: the next subscription starts from `EARLIEST`.
pub(super) fn replay_refused(e: &SessionError) -> bool {
    let SessionError::Stream(e @ StreamError::Status { .. }) = e else {
        return false;
    };
    e.error_code().is_some_and(|c| REFUSED_REPLAY.contains(&c))
}

impl Streamer {
    /// Where to subscribe from: the stored replay id when it is still resumable; else the
    /// gap is filled and the stream starts from `EARLIEST`; with no position, the configured
    /// start.
    pub(super) async fn start_at(&self, from_earliest: &mut bool) -> Result<Replay, SessionError> {
        let store = &self.ctx.store;
        let key = cursor_key(&self.cfg.topic);
        let stored = store
            .cursor(&self.ctx.org, &self.cfg.source, &key)
            .map_err(local)?;
        let Some(stored) = stored else {
            return Ok(match self.cfg.start {
                StreamStart::Earliest => Replay::Earliest,
                StreamStart::Latest => Replay::Latest,
            });
        };
        let saved = stored.extra.as_deref().and_then(parse_sf_datetime);
        let too_old =
            saved.is_some_and(|t| base::clock::now() - t > Duration::hours(RESUMABLE_HOURS));
        match decode(&stored.position) {
            Some(id) if !*from_earliest && !too_old => Ok(Replay::Custom(id)),
            _ => {
                let why = if *from_earliest {
                    "Salesforce refused the stored replay id"
                } else if too_old {
                    "the stored replay id is older than the 72-hour retention"
                } else {
                    "the stored replay id is not readable"
                };
                self.fill_gap(&stored, why).await?;
                Ok(Replay::Earliest)
            }
        }
    }

    /// Reads the storage object from the newest event the stream archived (less the
    /// look-back) up to now, unless the object is polled anyway.
    async fn fill_gap(&self, stored: &Cursor, why: &str) -> Result<(), SessionError> {
        let source = self.cfg.source.as_str();
        let topic = &self.cfg.topic;
        if self.cfg.polled {
            tracing::warn!(%topic, "{why}: streaming again from the earliest retained event; the poll of {source} reads the rest");
            return Ok(());
        }
        let newest = parse_sf_datetime(&stored.last_id)
            .or_else(|| stored.extra.as_deref().and_then(parse_sf_datetime));
        let now = base::clock::now();
        let from = newest.unwrap_or(now - Duration::days(STREAMABLE_DAYS));
        tracing::warn!(%topic, "{why}: reading {source} from {} over REST, then streaming from the earliest retained event", iso(&from));
        let mut cfg = object_defaults(source).map_err(local)?;
        cfg.backfill_days = 180;
        // The stream delivers these events again from its earliest: their ids stay.
        cfg.streamed = true;
        self.set_poll_start(from)?;
        let report =
            event_objects::collect(&self.poll_ctx, &cfg, None, now, &AtomicBool::new(false))
                .await?;
        tracing::info!(%topic, events = report.events, "gap filled from {source}");
        Ok(())
    }

    /// Makes the storage object's walk start at `from` (its look-back goes further back).
    fn set_poll_start(&self, from: DateTime<Utc>) -> Result<(), SessionError> {
        let c = Cursor {
            position: iso(&from),
            last_id: String::new(),
            extra: None,
        };
        self.ctx
            .store
            .set_cursor(&self.ctx.org, &self.cfg.source, CURSOR_KEY, &c)
            .map_err(local)?;
        Ok(())
    }

    /// Forgets ids no stream can deliver again (the object is not polled, so nothing else
    /// purges them).
    pub(super) fn purge_seen(&self, cursor: &Cursor) -> Result<(), SessionError> {
        let Some(newest) = parse_sf_datetime(&cursor.last_id) else {
            return Ok(());
        };
        let mut last = self.purged.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|t| newest - t < Duration::hours(1)) {
            return Ok(());
        }
        *last = Some(newest);
        let before = iso(&(newest - Duration::days(STREAMABLE_DAYS)));
        self.ctx
            .store
            .purge_seen(&self.ctx.org, &self.cfg.source, &before)
            .map_err(local)?;
        Ok(())
    }
}
