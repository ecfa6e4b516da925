//! Checks of the outputs: each destination reachable and accepting a write without an event
//! written (`probe`), and, where an archive exists, how old its backlog is and how many events
//! it refused for good.

use std::path::Path;

use super::{probe, Report};
use outputs::{OutputConfig, OutputKind};
use salesforce::config::OrgConfig;

/// A backlog older than this is worth a warning: the output has not kept up for a day.
const BACKLOG_WARN_HOURS: i64 = 24;

pub async fn check(r: &mut Report, o: &OutputConfig, orgs: &[OrgConfig]) {
    let scope = format!("output '{}'", o.name);
    reachable(r, &scope, o).await;
    for org in orgs {
        backlog(r, &scope, o, org);
    }
}

async fn reachable(r: &mut Report, scope: &str, o: &OutputConfig) {
    let what = "reachable";
    match &o.kind {
        OutputKind::Elasticsearch(es) => {
            // `GET /`: the cluster check the sink itself makes before its first batch.
            let client = match outputs::elasticsearch::client::EsClient::new(es) {
                Ok(c) => c,
                Err(e) => return r.problem(scope, what, e.to_string()),
            };
            let flavor = match client.cluster().await {
                Ok(c) => {
                    r.ok(
                        scope,
                        what,
                        format!("{} answers: {}", client.base(), c.describe()),
                    );
                    c.flavor
                }
                Err(e) => {
                    return r.problem(
                        scope,
                        what,
                        format!(
                        "{e}. Fix: start the cluster or correct the output's URL and credentials"
                    ),
                    )
                }
            };
            probe::es_templates(r, scope, es, &client, flavor).await;
        }
        OutputKind::Syslog(c) => {
            use outputs::syslog::config::Transport;
            if c.transport == Transport::Udp {
                return r.ok(
                    scope,
                    what,
                    format!(
                        "UDP to {}:{} cannot be checked without sending",
                        c.host, c.port
                    ),
                );
            }
            match outputs::syslog::probe(c).await {
                Ok(at) => r.ok(
                    scope,
                    what,
                    match c.transport {
                        Transport::Tls => format!("{at} completes the TLS handshake (nothing was sent)"),
                        _ => format!("{at} accepts connections (nothing was sent)"),
                    },
                ),
                Err(e) => r.problem(
                    scope,
                    what,
                    format!("{e}. Fix: check the host, the port, that the receiver is up, the firewall and, for TLS, ca_file"),
                ),
            }
        }
        OutputKind::Splunk(c) => probe::splunk(r, scope, c).await,
        OutputKind::Logplex(c) => probe::logplex(r, scope, c).await,
        OutputKind::Http(c) => probe::http(r, scope, c).await,
    }
}

/// Opens state.db for reading only: doctor never creates, migrates or tightens it.
pub fn open_read_only(db: &Path) -> Option<rusqlite::Connection> {
    if !db.exists() {
        return None;
    }
    rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).ok()
}

fn backlog(r: &mut Report, scope: &str, o: &OutputConfig, org: &OrgConfig) {
    let Some(conn) = open_read_only(&org.archive_dir.join("state.db")) else {
        return;
    };
    let what = format!("backlog of org '{}'", org.name);
    // Where the output stands (none yet: it starts at the log's beginning or end).
    let pos: Option<(i64, i64)> = conn
        .query_row(
            "SELECT seq, dead FROM output_positions WHERE org = ?1 AND output = ?2",
            [&org.name, &o.name],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .ok();
    let (seq, dead) = pos.unwrap_or((0, 0));
    let oldest: Option<String> = conn
        .query_row(
            "SELECT MIN(committed_at) FROM delivery_log WHERE org = ?1 AND seq > ?2 AND pruned_at IS NULL",
            rusqlite::params![org.name, seq],
            |row| row.get(0),
        )
        .ok()
        .flatten();
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
