//! A Pub/Sub topic as a source: a long-lived subscription whose events are archived as the
//! storage object's records (LoginEventStream as LoginEvent) seconds after they happen.
//!
//! - **Exactly once.** A flush writes the events it received and commits them with the replay
//!   id of the last one (cursor `replay /event/<topic>`) in one state.db transaction; only
//!   then are as many events asked for again, so no more are in flight than a crash can lose,
//!   and those are sent again on resume (`CUSTOM` from the stored id). Keepalives' replay ids
//!   are stored too, so a quiet topic's position never ages out of retention.
//! - **One path per event.** Events are de-duplicated by EventIdentifier (EventUuid for
//!   events without one) in the same `seen` table, under the same source, as the storage
//!   object's poll: streaming and polling one object together archive each event once.
//! - **Which path is authoritative.** The stream is the fast path; the storage object is the
//!   record. When the stored replay id is refused (older than the 72-hour retention, or
//!   unknown after maintenance) or is older than 70 hours, the stream starts again from
//!   `EARLIEST` and the gap before that is read from the storage object over REST: by the
//!   object's own poll when it is configured, else once, here (`gap.rs`).
//! - **A long-lived client.** A watchdog resubscribes when nothing, not even a keepalive,
//!   comes within `watchdog_seconds`; the old call is closed before a new one opens; a refused
//!   session is renewed and the stream resumes where it was; other faults back off.

mod consume;
mod gap;
mod status;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use super::records::ObjectCtx;
use crate::auth::AuthError;
use crate::client::ApiError;
use crate::config::StreamConfig;
use crate::stream::{Auth, PubSub, StreamError, Subscription};
pub use status::{StreamSnapshot, StreamStatus};

/// The delay before resubscribing grows to this after repeated faults.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// A session that lasted this long resets the backoff.
const HEALTHY: Duration = Duration::from_secs(60);

/// One stream, ready to run.
pub struct Streamer {
    /// Writes the streamed records (`via = "pubsub"`).
    ctx: Arc<ObjectCtx>,
    /// Writes the records a gap fill reads over REST (`via` none).
    poll_ctx: Arc<ObjectCtx>,
    cfg: StreamConfig,
    pubsub_url: String,
    ca_file: Option<PathBuf>,
    status: Arc<StreamStatus>,
    /// The newest event time when the `seen` ids were last purged.
    purged: Mutex<Option<DateTime<Utc>>>,
}

/// How a session ended, when not by a stop.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Stream(#[from] StreamError),
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("no event and no keepalive for {} seconds: resubscribing", .0.as_secs())]
    Watchdog(Duration),
    #[error("the Pub/Sub API ended the stream")]
    Ended,
}

impl SessionError {
    /// Faults no retry fixes: a wrong URL or CA file, a topic that does not exist or is not
    /// enabled, credentials refused at login.
    pub fn is_fatal(&self) -> bool {
        match self {
            SessionError::Stream(e) => matches!(
                e,
                StreamError::Url { .. }
                    | StreamError::PlainHttp(_)
                    | StreamError::CaFile { .. }
                    | StreamError::Metadata { .. }
                    | StreamError::TopicNotFound { .. }
                    | StreamError::TopicNotEnabled { .. }
            ),
            SessionError::Api(ApiError::Auth(AuthError::Rejected(_))) => true,
            _ => false,
        }
    }
}

fn local(e: impl std::fmt::Display) -> ApiError {
    ApiError::Local(e.to_string())
}

/// The state.db cursor key of a topic's replay position.
pub fn cursor_key(topic: &str) -> String {
    format!("replay {topic}")
}

/// Waits `d` or until a stop is asked; true if stopping.
async fn pause(d: Duration, stop: &mut watch::Receiver<bool>) -> bool {
    if *stop.borrow() {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep(d) => {}
        r = stop.changed() => { if r.is_err() { return true; } }
    }
    *stop.borrow()
}

impl Streamer {
    /// A stream of the org `poll_ctx` collects (its client, archive and state): streamed
    /// records are written through a copy of it marked `via = "pubsub"` that numbers files
    /// with the same counter.
    pub fn new(
        poll_ctx: Arc<ObjectCtx>,
        cfg: StreamConfig,
        pubsub_url: &url::Url,
        ca_file: Option<PathBuf>,
    ) -> Streamer {
        let ctx = Arc::new(poll_ctx.with_via("pubsub"));
        Streamer {
            status: Arc::new(StreamStatus::new(&cfg.topic)),
            ctx,
            poll_ctx,
            cfg,
            pubsub_url: pubsub_url.as_str().trim_end_matches('/').to_string(),
            ca_file,
            purged: Mutex::new(None),
        }
    }

    pub fn status(&self) -> Arc<StreamStatus> {
        self.status.clone()
    }

    pub fn config(&self) -> &StreamConfig {
        &self.cfg
    }

    /// Streams until `stop` turns true (events received by then are committed first), or a
    /// fault no retry fixes.
    pub async fn run(&self, mut stop: watch::Receiver<bool>) -> Result<(), SessionError> {
        let store = self.ctx.store.clone();
        let topic = &self.cfg.topic;
        let mut delay = Duration::ZERO;
        let mut from_earliest = false;
        loop {
            if *stop.borrow() {
                return Ok(());
            }
            let began = Instant::now();
            let err = match self.session(&mut stop, &mut from_earliest).await {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            self.status.reconnecting(&store, &err.to_string());
            if err.is_fatal() {
                tracing::error!(%topic, "stream stopped: {err}");
                return Err(err);
            }
            if gap::replay_refused(&err) {
                from_earliest = true;
            }
            delay = next_delay(delay, began.elapsed(), &err);
            tracing::warn!(%topic, "stream interrupted: {err}; subscribing again in {} ms", delay.as_millis());
            if pause(delay, &mut stop).await {
                return Ok(());
            }
        }
    }

    /// One subscription: logs in (or reuses the session), subscribes and archives until the
    /// stream fails or a stop is asked.
    async fn session(
        &self,
        stop: &mut watch::Receiver<bool>,
        from_earliest: &mut bool,
    ) -> Result<(), SessionError> {
        let tokens = self.ctx.client.tokens.clone();
        let session = tokens.session().await.map_err(ApiError::Auth)?;
        let auth = Auth::for_org(&session, self.ctx.org_id.clone());
        let r = self.subscribed(&auth, stop, from_earliest).await;
        if let Err(SessionError::Stream(StreamError::Auth { .. })) = &r {
            // The session expired or was revoked: the next subscription logs in again and
            // resumes from the stored replay id.
            tokens.renew(Some(&session)).await.map_err(ApiError::Auth)?;
        }
        r
    }

    async fn subscribed(
        &self,
        auth: &Auth,
        stop: &mut watch::Receiver<bool>,
        from_earliest: &mut bool,
    ) -> Result<(), SessionError> {
        let pubsub = PubSub::open(&self.pubsub_url, self.ca_file.as_deref(), auth).await?;
        pubsub.topic(&self.cfg.topic).await?;
        let sub = self.subscribe(&pubsub, from_earliest).await?;
        self.status.connected(&self.ctx.store, true);
        tracing::info!(topic = %self.cfg.topic, "streaming");
        let requester = sub.requester();
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let reader = tokio::spawn(read_batches(sub, tx));
        let r = self.consume(rx, &requester, stop).await;
        // The old call is gone before a new one can open: a client that keeps it gets every
        // event twice.
        reader.abort();
        let _ = reader.await;
        self.status.connected(&self.ctx.store, false);
        r
    }

    /// Subscribes from the stored replay id, or, when there is none, from the configured
    /// start. A position too old to resume (refused before, or older than the retention)
    /// has its gap filled from the storage object first, then starts from `EARLIEST`.
    async fn subscribe(
        &self,
        pubsub: &PubSub,
        from_earliest: &mut bool,
    ) -> Result<Subscription, SessionError> {
        let replay = self.start_at(from_earliest).await?;
        let sub = pubsub
            .subscribe(&self.cfg.topic, replay, self.cfg.batch)
            .await?;
        *from_earliest = false;
        Ok(sub)
    }
}

/// Reads a subscription's batches into `tx` until the call ends or the receiver is gone.
/// Reading in a task of its own lets the runner wait on the channel with a timeout without
/// ever dropping a batch half-read.
async fn read_batches(
    mut sub: Subscription,
    tx: tokio::sync::mpsc::Sender<Result<Option<crate::stream::Batch>, StreamError>>,
) {
    loop {
        let r = sub.next_batch().await;
        let end = !matches!(r, Ok(Some(_)));
        if tx.send(r).await.is_err() || end {
            return;
        }
    }
}

/// The wait before the next subscription: none after a watchdog or a renewed session (a fresh
/// stream is the cure), else doubling from one second up to [`MAX_BACKOFF`], reset by a
/// session that stayed up.
fn next_delay(last: Duration, lasted: Duration, err: &SessionError) -> Duration {
    let immediate = matches!(
        err,
        SessionError::Watchdog(_) | SessionError::Stream(StreamError::Auth { .. })
    );
    if lasted >= HEALTHY || (immediate && last.is_zero()) {
        return if immediate {
            Duration::ZERO
        } else {
            Duration::from_secs(1)
        };
    }
    (last * 2).clamp(Duration::from_secs(1), MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_back_off_and_a_healthy_session_resets() {
        let unavailable = SessionError::Ended;
        let mut d = Duration::ZERO;
        let mut seen = Vec::new();
        for _ in 0..8 {
            d = next_delay(d, Duration::from_secs(1), &unavailable);
            seen.push(d.as_secs());
        }
        assert_eq!(seen, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(next_delay(d, HEALTHY, &unavailable), Duration::from_secs(1));
        let watchdog = SessionError::Watchdog(Duration::from_secs(600));
        assert_eq!(
            next_delay(Duration::ZERO, HEALTHY, &watchdog),
            Duration::ZERO
        );
        // A watchdog right after another fault still backs off: a server that stalls every
        // stream at once is not hammered.
        assert_eq!(
            next_delay(Duration::from_secs(4), Duration::from_secs(1), &watchdog),
            Duration::from_secs(8)
        );
    }
}
