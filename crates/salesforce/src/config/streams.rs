//! Pub/Sub streams: `[[org.stream]]` tables and `--stream`, resolved into [`StreamConfig`]s.
//!
//! A stream archives its events as the storage object they are also stored in (LoginEventStream
//! as LoginEvent), so the two paths share one dataset and one de-duplication: see
//! `sources::stream`.

use std::time::Duration;

use serde::Deserialize;
use thiserror::Error;

use super::Overrides;

/// An `[[org.stream]]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamFile {
    /// `/event/LoginEventStream` (or `LoginEventStream`).
    pub topic: String,
    /// Where a stream with no stored position starts: `earliest` (every event still retained,
    /// 72 hours) or `latest` (from now on). Default earliest.
    pub start: Option<String>,
    /// Events asked for at a time (1 to 100, default 100): at most this many are received
    /// and not yet committed.
    pub batch: Option<u32>,
    /// Resubscribe when nothing, not even a keepalive, arrived for this long (default 600:
    /// about twice Salesforce's 270-second keepalive).
    pub watchdog_seconds: Option<u64>,
    /// Events arriving within this many milliseconds of the first uncommitted one are
    /// committed together (default 250): fewer, larger archive files, at that much latency.
    pub flush_millis: Option<u64>,
}

/// Where a stream with no stored replay id starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamStart {
    Earliest,
    Latest,
}

/// One stream, resolved.
#[derive(Debug, Clone)]
pub struct StreamConfig {
    /// `/event/LoginEventStream`.
    pub topic: String,
    /// The storage object its events are archived as (`LoginEvent`), or the event's own name
    /// when it has none (custom platform events, `Foo__e`).
    pub source: String,
    pub start: StreamStart,
    pub batch: i32,
    pub watchdog: Duration,
    pub flush: Duration,
    /// The storage object is also polled (an `[[org.object]]` of the same name): its poll
    /// fills any gap and purges the shared de-duplication ids.
    pub polled: bool,
}

/// Why a stream's settings are refused.
#[derive(Debug, Error)]
pub enum StreamConfigError {
    #[error("stream topic '{0}' is not a topic name: write it like /event/LoginEventStream")]
    BadTopic(String),
    #[error("stream {topic}: start '{given}' is not known: use earliest or latest")]
    Start { topic: String, given: String },
    #[error("stream {topic}: batch must be between 1 and 100 (Salesforce sends at most 100 events per request)")]
    Batch { topic: String },
    #[error("stream {topic}: watchdog_seconds must be at least 2 (Salesforce sends a keepalive within 270 seconds; the default is 600)")]
    Watchdog { topic: String },
    #[error("stream {0} is configured twice")]
    Twice(String),
}

/// The storage object a streaming event is stored in (the pairs of the reference's table):
/// `LoginEventStream` → `LoginEvent`, `FileEvent` → `FileEventStore`; any other event keeps
/// its own name.
pub fn storage_object(event: &str) -> String {
    const STORED_AS_STORE: &[&str] = &[
        "ApiAnomalyEvent",
        "BulkApiResultEvent",
        "CredentialStuffingEvent",
        "FileEvent",
        "PermissionSetEvent",
        "ReportAnomalyEvent",
        "SessionHijackingEvent",
    ];
    if let Some(object) = event.strip_suffix("Stream") {
        return object.to_string();
    }
    if STORED_AS_STORE.contains(&event) {
        return format!("{event}Store");
    }
    event.to_string()
}

/// `/event/Name` from `Name` or `/event/Name`, checked.
fn topic_name(given: &str) -> Result<String, StreamConfigError> {
    let given = given.trim();
    let name = given.strip_prefix("/event/").unwrap_or(given);
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(StreamConfigError::BadTopic(given.to_string()));
    }
    Ok(format!("/event/{name}"))
}

/// The streams of an org: the file's tables, then `--stream` topics not among them; with
/// `--stream` given, only those.
pub(super) fn resolve_streams(
    mut files: Vec<StreamFile>,
    ov: &Overrides,
    polled: &[String],
) -> Result<Vec<StreamConfig>, StreamConfigError> {
    let wanted: Vec<String> = ov
        .streams
        .iter()
        .map(|t| topic_name(t))
        .collect::<Result<_, _>>()?;
    for f in &mut files {
        f.topic = topic_name(&f.topic)?;
    }
    for t in &wanted {
        if !files.iter().any(|f| &f.topic == t) {
            files.push(StreamFile {
                topic: t.clone(),
                ..Default::default()
            });
        }
    }
    if !wanted.is_empty() {
        files.retain(|f| wanted.contains(&f.topic));
    }
    let mut out: Vec<StreamConfig> = Vec::new();
    for f in files {
        let s = resolve_stream(f, polled)?;
        if out.iter().any(|o| o.topic == s.topic) {
            return Err(StreamConfigError::Twice(s.topic));
        }
        out.push(s);
    }
    Ok(out)
}

fn resolve_stream(f: StreamFile, polled: &[String]) -> Result<StreamConfig, StreamConfigError> {
    let topic = f.topic;
    let start = match f.start.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("earliest") => StreamStart::Earliest,
        Some("latest") => StreamStart::Latest,
        Some(other) => {
            return Err(StreamConfigError::Start {
                topic,
                given: other.to_string(),
            })
        }
    };
    let batch = f.batch.unwrap_or(100);
    if !(1..=100).contains(&batch) {
        return Err(StreamConfigError::Batch { topic });
    }
    let watchdog = f.watchdog_seconds.unwrap_or(600);
    if watchdog < 2 {
        return Err(StreamConfigError::Watchdog { topic });
    }
    let source = storage_object(topic.trim_start_matches("/event/"));
    Ok(StreamConfig {
        polled: polled.iter().any(|p| p.eq_ignore_ascii_case(&source)),
        source,
        start,
        batch: batch as i32,
        watchdog: Duration::from_secs(watchdog),
        flush: Duration::from_millis(f.flush_millis.unwrap_or(250)),
        topic,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_archived_as_their_storage_objects() {
        assert_eq!(storage_object("LoginEventStream"), "LoginEvent");
        assert_eq!(storage_object("ApiEventStream"), "ApiEvent");
        assert_eq!(storage_object("FileEvent"), "FileEventStore");
        assert_eq!(
            storage_object("SessionHijackingEvent"),
            "SessionHijackingEventStore"
        );
        assert_eq!(storage_object("Order_Shipped__e"), "Order_Shipped__e");
    }

    #[test]
    fn topics_are_named_and_checked() {
        assert_eq!(
            topic_name("LoginEventStream").unwrap(),
            "/event/LoginEventStream"
        );
        assert_eq!(
            topic_name(" /event/LoginEventStream ").unwrap(),
            "/event/LoginEventStream"
        );
        assert!(topic_name("/data/AccountChangeEvent").is_err());
        assert!(topic_name("/event/").is_err());
    }

    #[test]
    fn flags_select_and_add_streams() {
        let files = vec![
            StreamFile {
                topic: "LoginEventStream".into(),
                batch: Some(10),
                ..Default::default()
            },
            StreamFile {
                topic: "/event/ApiEventStream".into(),
                ..Default::default()
            },
        ];
        let ov = Overrides {
            streams: vec!["/event/LoginEventStream".into(), "LogoutEventStream".into()],
            ..Default::default()
        };
        let s = resolve_streams(files, &ov, &["LoginEvent".into()]).unwrap();
        let names: Vec<_> = s
            .iter()
            .map(|s| (s.topic.as_str(), s.batch, s.polled))
            .collect();
        assert_eq!(
            names,
            [
                ("/event/LoginEventStream", 10, true),
                ("/event/LogoutEventStream", 100, false)
            ]
        );
        let twice = vec![
            StreamFile {
                topic: "LoginEventStream".into(),
                ..Default::default()
            },
            StreamFile {
                topic: "/event/LoginEventStream".into(),
                ..Default::default()
            },
        ];
        assert!(matches!(
            resolve_streams(twice, &Overrides::default(), &[]),
            Err(StreamConfigError::Twice(_))
        ));
    }
}
