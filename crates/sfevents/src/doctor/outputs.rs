//! Checks of the outputs: each destination reachable and accepting a write without an event
//! written (the output's own check, `Output::probe`, in its folder of the `outputs` crate),
//! and, where an archive exists, how old its backlog is and how many events it refused for
//! good.

use std::path::Path;

use super::{Level, Report};
use archive::state::Reader;
use outputs::probe::{self, Findings};
use outputs::OutputConfig;
use salesforce::config::OrgConfig;

/// A backlog older than this is worth a warning: the output has not kept up for a day.
const BACKLOG_WARN_HOURS: i64 = 24;

pub async fn check(r: &mut Report, o: &OutputConfig, orgs: &[OrgConfig]) {
    let scope = format!("output '{}'", o.name);
    o.probe(&mut Scoped { r, scope: &scope }).await;
    for org in orgs {
        backlog(r, &scope, o, org);
    }
}

/// An output's findings, as lines of the report under the output's name.
struct Scoped<'a> {
    r: &'a mut Report,
    scope: &'a str,
}

impl Findings for Scoped<'_> {
    fn add(&mut self, level: probe::Level, what: &str, detail: &str) {
        let level = match level {
            probe::Level::Ok => Level::Ok,
            probe::Level::Warning => Level::Warning,
            probe::Level::Problem => Level::Problem,
        };
        self.r.add(level, self.scope, what, detail);
    }
}

/// Opens state.db for reading only: doctor never creates, migrates or tightens it.
pub fn open_read_only(db: &Path) -> Option<Reader> {
    if !db.exists() {
        return None;
    }
    Reader::open(db).ok()
}

fn backlog(r: &mut Report, scope: &str, o: &OutputConfig, org: &OrgConfig) {
    let Some(reader) = open_read_only(&org.archive_dir.join("state.db")) else {
        return;
    };
    let what = format!("backlog of org '{}'", org.name);
    // Where the output stands (none yet: it starts at the log's beginning or end).
    let (seq, dead) = match reader.output_standing(&org.name, &o.name) {
        Ok(Some(s)) => (s.seq, s.dead),
        _ => (0, 0),
    };
    let oldest = reader.oldest_after(&org.name, seq).ok().flatten();
    if dead > 0 {
        r.warn(
            scope,
            "dead letters",
            format!(
                "{dead} events were refused for good, kept in {}. Fix: read why in those files, fix the mapping or size limit, then `sfevents replay`",
                org.archive_dir.join("dead-letter").join(&o.name).display()
            ),
        );
    }
    let age = oldest
        .as_deref()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| (chrono::Utc::now() - t.with_timezone(&chrono::Utc)).num_hours());
    match (oldest, age) {
        (None, _) => r.ok(scope, &what, "nothing waiting"),
        (Some(t), Some(h)) if h >= BACKLOG_WARN_HOURS => r.warn(
            scope,
            &what,
            format!("events committed since {t} ({h} h) are not delivered yet. Fix: make the output reachable, then run `sfevents ship`"),
        ),
        (Some(t), _) => r.ok(scope, &what, format!("waiting since {t}")),
    }
}
