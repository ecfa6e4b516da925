//! Object sources: `[[org.object]]` tables and the object flags, resolved into
//! [`ObjectConfig`]s.

use serde::Deserialize;
use thiserror::Error;

use super::Overrides;

/// An `[[org.object]]` table: a Real-Time Event Monitoring storage object, SetupAuditTrail,
/// LoginHistory or any SObject.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectFile {
    pub name: String,
    /// `event` (big object, windows on EventDate) or `sobject` (cursor on a date field and Id);
    /// default: by name.
    pub kind: Option<String>,
    /// Fields to select; default every field the describe call returns.
    pub fields: Option<Vec<String>>,
    /// SObjects: the cursor's date field; default CreatedDate, LoginTime for LoginHistory,
    /// SystemModstamp where the object has it.
    pub cursor_field: Option<String>,
    pub window_minutes: Option<u32>,
    /// Event objects: windows grow over sparse data up to this; default no bound but the range.
    pub max_window_minutes: Option<u32>,
    pub lookback_minutes: Option<u32>,
    pub settle_seconds: Option<u32>,
    pub backfill_days: Option<u32>,
    pub max_windows_per_run: Option<u32>,
    pub max_rows_per_window: Option<u64>,
    /// `sfevents run`: seconds between collections of this object.
    pub every_seconds: Option<u64>,
}

/// How an object is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// A Real-Time Event Monitoring big object: windows `(start, end]` on EventDate, newest
    /// first, de-duplicated by EventIdentifier.
    Event,
    /// Any other object: `(date field, Id)` cursor, oldest first, de-duplicated by Id.
    SObject,
}

/// Real-Time Event Monitoring storage objects (big objects; EventDate, EventIdentifier index).
pub const EVENT_OBJECTS: &[&str] = &[
    "LoginEvent",
    "LogoutEvent",
    "ApiEvent",
    "ReportEvent",
    "ListViewEvent",
    "LightningUriEvent",
    "UriEvent",
    "IdentityVerificationEvent",
    "LoginAsEvent",
    "BulkApiResultEventStore",
    // File downloads and previews. Whether it is a big object is not confirmed; EventDate
    // windows read it either way, and `kind = "sobject"` in its table overrides.
    "FileEventStore",
];

#[derive(Debug, Clone)]
pub struct ObjectConfig {
    pub name: String,
    pub kind: ObjectKind,
    pub fields: Option<Vec<String>>,
    pub cursor_field: Option<String>,
    /// The first window; sparse windows grow from it.
    pub window_secs: i64,
    /// The largest window, `None` for the whole range left.
    pub max_window_secs: Option<i64>,
    pub lookback_secs: i64,
    pub settle_secs: i64,
    pub backfill_days: u32,
    /// `None`: as many as it takes (collect); run mode uses `run_max_windows`.
    pub max_windows_per_run: Option<u32>,
    pub run_max_windows: u32,
    pub max_rows_per_window: u64,
    pub every_seconds: u64,
    /// A Pub/Sub stream archives the same object (`[[org.stream]]`): the ids it may deliver
    /// again are kept for it (see `sources::streaming`).
    pub streamed: bool,
}

/// Why an object source's settings are refused.
#[derive(Debug, Error)]
pub enum ObjectError {
    #[error(
        "object '{0}' is not a valid object name: use API names like LoginEvent or SetupAuditTrail"
    )]
    BadName(String),
    #[error("object {name}: kind '{kind}' is not known: use event or sobject")]
    UnknownKind { name: String, kind: String },
    #[error("object {0}: window_minutes must be at least 1")]
    NoWindow(String),
    #[error("object {0}: max_window_minutes is smaller than window_minutes: raise it, or leave it out to let windows grow over sparse data")]
    MaxBelowWindow(String),
}

/// An object source with every setting at its default.
pub fn object_defaults(name: &str) -> Result<ObjectConfig, ObjectError> {
    resolve_object(
        ObjectFile {
            name: name.to_string(),
            ..Default::default()
        },
        &Overrides::default(),
    )
}

pub(super) fn resolve_object(f: ObjectFile, ov: &Overrides) -> Result<ObjectConfig, ObjectError> {
    let name = f.name.trim().to_string();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(ObjectError::BadName(name));
    }
    let kind = match f.kind.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("event") => ObjectKind::Event,
        Some("sobject") => ObjectKind::SObject,
        Some(other) => {
            return Err(ObjectError::UnknownKind {
                name,
                kind: other.to_string(),
            })
        }
        None if EVENT_OBJECTS.iter().any(|e| e.eq_ignore_ascii_case(&name)) => ObjectKind::Event,
        None => ObjectKind::SObject,
    };
    let minutes = |flag: Option<u32>, file: Option<u32>, default: u32| {
        i64::from(flag.or(file).unwrap_or(default)) * 60
    };
    let window_secs = minutes(ov.window_minutes, f.window_minutes, 60);
    if window_secs <= 0 {
        return Err(ObjectError::NoWindow(name));
    }
    let max_window_secs = ov
        .max_window_minutes
        .or(f.max_window_minutes)
        .map(|m| i64::from(m) * 60);
    if max_window_secs.is_some_and(|m| m < window_secs) {
        return Err(ObjectError::MaxBelowWindow(name));
    }
    // Real-Time Event Monitoring objects, SetupAuditTrail and LoginHistory keep about 180 days.
    let retained = 180;
    Ok(ObjectConfig {
        kind,
        fields: f.fields,
        cursor_field: f.cursor_field,
        window_secs,
        max_window_secs,
        lookback_secs: minutes(ov.lookback_minutes, f.lookback_minutes, 15),
        settle_secs: i64::from(ov.settle_seconds.or(f.settle_seconds).unwrap_or(60)),
        backfill_days: ov.backfill_days.or(f.backfill_days).unwrap_or(retained),
        max_windows_per_run: ov.max_windows_per_run.or(f.max_windows_per_run),
        run_max_windows: ov
            .max_windows_per_run
            .or(f.max_windows_per_run)
            .unwrap_or(12)
            .max(1),
        max_rows_per_window: ov
            .max_rows_per_window
            .or(f.max_rows_per_window)
            .unwrap_or(50_000)
            .max(1),
        every_seconds: ov
            .object_every
            .or(f.every_seconds)
            .unwrap_or(if name.eq_ignore_ascii_case("SetupAuditTrail") {
                300
            } else {
                60
            })
            .max(1),
        streamed: false,
        name,
    })
}
