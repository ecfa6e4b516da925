//! The sink every notifier is: one request per alert, in order, paced to the destination's
//! rate limit, a `Retry-After` waited out in place (so the alerts before it are not sent
//! twice), and one verdict per alert. Each notifier only says how to send one alert
//! ([`Deliver`]).

use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::AlertView;
use crate::sink::{Event, Sink, SinkError, Verdict};

/// How one notifier sends one alert.
pub trait Deliver: Send + Sync + 'static {
    /// Sends `alert` (from the archive line `event`): the destination's verdict, or an error
    /// that stops the batch here (refused for now: retried; fatal: the pass stops).
    fn deliver<'a>(
        &'a self,
        alert: &'a AlertView,
        event: &'a Event,
    ) -> BoxFuture<'a, Result<Verdict, SinkError>>;
}

/// A `Retry-After` longer than this ends the batch instead (the shipper retries later).
const MAX_WAIT: Duration = Duration::from_secs(60);
/// Waits in place for one alert before giving the batch back to the shipper.
const MAX_WAITS: u32 = 3;

pub struct AlertSink<D: Deliver> {
    deliver: D,
    /// The least time between two requests (Slack: about one message a second).
    interval: Duration,
    last: Mutex<Option<Instant>>,
}

impl<D: Deliver> AlertSink<D> {
    pub fn new(deliver: D, interval: Duration) -> Self {
        AlertSink {
            deliver,
            interval,
            last: Mutex::new(None),
        }
    }

    async fn pace(&self) {
        let mut last = self.last.lock().await;
        if let Some(t) = *last {
            tokio::time::sleep_until(t + self.interval).await;
        }
        *last = Some(Instant::now());
    }

    /// One alert, waiting out a short `Retry-After` in place.
    async fn one(&self, alert: &AlertView, event: &Event) -> Result<Verdict, SinkError> {
        let mut waits = 0;
        loop {
            self.pace().await;
            match self.deliver.deliver(alert, event).await {
                Err(SinkError::Throttled { message, after })
                    if after <= MAX_WAIT && waits < MAX_WAITS =>
                {
                    tracing::info!("{message}: waiting {} s", after.as_secs());
                    waits += 1;
                    tokio::time::sleep(after).await;
                }
                other => return other,
            }
        }
    }

    async fn send_all(&self, events: &[Event]) -> Result<Vec<Verdict>, SinkError> {
        let mut verdicts = Vec::with_capacity(events.len());
        for (i, event) in events.iter().enumerate() {
            let Some(alert) = AlertView::of(event.value()) else {
                verdicts.push(Verdict::Dead("the archived event is not an alert".into()));
                continue;
            };
            match self.one(&alert, event).await {
                Ok(v) => verdicts.push(v),
                // The first alert refused: the whole batch waits (with the shipper's backoff,
                // or its Retry-After).
                Err(e) if i == 0 => return Err(e),
                // Later: what was sent stays sent; the rest is tried again.
                Err(e) => {
                    let why = e.to_string();
                    verdicts.resize(events.len(), Verdict::Retry(why));
                    break;
                }
            }
        }
        Ok(verdicts)
    }
}

impl<D: Deliver> Sink for AlertSink<D> {
    fn send<'a>(&'a self, events: &'a [Event]) -> BoxFuture<'a, Result<Vec<Verdict>, SinkError>> {
        Box::pin(self.send_all(events))
    }
}
