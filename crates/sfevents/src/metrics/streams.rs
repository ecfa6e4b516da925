//! The Pub/Sub streams' families: one sample per org and topic, from the stream's live
//! counters.

use salesforce::sources::streaming::StreamSnapshot;

use super::page::{Page, C, G};

fn epoch(t: Option<chrono::DateTime<chrono::Utc>>) -> Option<f64> {
    t.map(|t| t.timestamp_millis() as f64 / 1000.0)
}

/// A stream's counters; `now` in epoch seconds.
pub(super) fn stream(p: &mut Page, org: &str, s: &StreamSnapshot, now: f64) {
    let l = [("org", org), ("topic", s.topic.as_str())];
    p.put(
        "sfevents_stream_connected",
        G,
        "1 while the stream's subscription is open.",
        &l,
        if s.connected { 1.0 } else { 0.0 },
    );
    let counters: [(&'static str, &'static str, u64); 3] = [
        (
            "sfevents_stream_events_received_total",
            "Events the Pub/Sub API delivered on the stream since the process started.",
            s.received,
        ),
        (
            "sfevents_stream_events_committed_total",
            "Events the stream archived (those another path had archived first are not counted).",
            s.committed,
        ),
        (
            "sfevents_stream_reconnects_total",
            "Times the stream subscribed again after a fault, a stall or an expired session.",
            s.reconnects,
        ),
    ];
    for (name, help, v) in counters {
        p.put(name, C, help, &l, v as f64);
    }
    if let Some(t) = epoch(s.last_event) {
        p.put(
            "sfevents_stream_last_event_timestamp_seconds",
            G,
            "When the stream last delivered an event.",
            &l,
            t,
        );
    }
    if let Some(t) = epoch(s.last_keepalive) {
        p.put(
            "sfevents_stream_last_keepalive_timestamp_seconds",
            G,
            "When the stream last delivered a keepalive.",
            &l,
            t,
        );
    }
    if let Some(t) = epoch(s.position_saved) {
        p.put(
            "sfevents_stream_position_age_seconds",
            G,
            "Seconds since the stream's replay position was last saved (with events or a keepalive).",
            &l,
            (now - t).max(0.0),
        );
    }
}
