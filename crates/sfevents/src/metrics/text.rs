//! The `/metrics` page, read at scrape time from `Live`, the orgs' `ApiStats` and their
//! `state.db`: one function per group of families, in the order the page lists them.

use std::sync::Arc;

use archive::state::{Position, Store};
use salesforce::client::ApiStats;

use super::live::{store_for, Health, Live, StoresRef};
use super::page::{rss_bytes, seconds, Page, C, G};

/// One org as a scrape sees it: a copy, so that no lock is held while state.db is read.
struct OrgView {
    name: String,
    archive: std::path::PathBuf,
    api: Option<Arc<ApiStats>>,
    health: Health,
    errors: std::collections::BTreeMap<String, u64>,
    cycles: std::collections::BTreeMap<&'static str, u64>,
    streams: Vec<Arc<salesforce::sources::streaming::StreamStatus>>,
}

pub fn render(live: &Live, stores: &StoresRef) -> String {
    let mut p = Page::default();
    process(&mut p);
    let orgs: Vec<OrgView> = match live.orgs.lock() {
        Ok(o) => o
            .iter()
            .map(|(name, o)| OrgView {
                name: name.clone(),
                archive: o.archive.clone(),
                api: o.api.clone(),
                health: o.health.clone(),
                errors: o.errors.clone(),
                cycles: o.cycles.clone(),
                streams: o.streams.clone(),
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    let outputs: Vec<String> = live.outputs.lock().map(|o| o.clone()).unwrap_or_default();
    let now = base::clock::now().timestamp_millis() as f64 / 1000.0;
    for org in orgs {
        cycles(&mut p, &org);
        if let Some(api) = &org.api {
            api_calls(&mut p, &org.name, api);
        }
        for s in &org.streams {
            super::streams::stream(&mut p, &org.name, &s.snapshot(), now);
        }
        let Some(store) = store_for(stores, &org.archive) else {
            continue;
        };
        archived(&mut p, &org.name, &store);
        sources(&mut p, &org.name, &store, now);
        match store.outputs(&org.name) {
            Ok(positions) => {
                for (name, pos) in positions.iter().filter(|(n, _)| outputs.contains(n)) {
                    output(&mut p, &org.name, name, pos, &store, now);
                }
            }
            Err(e) => tracing::warn!(org = org.name, "metrics: {e}"),
        }
    }
    p.text()
}

/// The build and the process.
fn process(p: &mut Page) {
    p.put(
        "sfevents_build_info",
        G,
        "sfevents' version; always 1.",
        &[("version", env!("CARGO_PKG_VERSION"))],
        1.0,
    );
    if let Some(rss) = rss_bytes() {
        p.put(
            "process_resident_memory_bytes",
            G,
            "Resident memory size in bytes.",
            &[],
            rss,
        );
    }
}

/// Health, cycles and failed units: what only `Live` knows.
fn cycles(p: &mut Page, org: &OrgView) {
    let o = org.name.as_str();
    p.put(
        "sfevents_org_healthy",
        G,
        "1 when the org's last cycle did not stop early and it could start (see /health).",
        &[("org", o)],
        if matches!(org.health, Health::Failing(_)) {
            0.0
        } else {
            1.0
        },
    );
    for (outcome, n) in &org.cycles {
        p.put(
            "sfevents_cycles_total",
            C,
            "Collection cycles run, by outcome (ok, partial: some units failed, stopped: ended early).",
            &[("org", o), ("outcome", outcome)],
            *n as f64,
        );
    }
    for (source, n) in &org.errors {
        p.put(
            "sfevents_errors_total",
            C,
            "Units (EventLogFile files, object reads) that failed, by source.",
            &[("org", o), ("source", source)],
            *n as f64,
        );
    }
}

/// API calls spent and the org's daily usage as Salesforce last reported it.
fn api_calls(p: &mut Page, o: &str, api: &ApiStats) {
    p.put(
        "sfevents_api_calls_total",
        C,
        "Salesforce API calls sfevents sent for the org since it started.",
        &[("org", o)],
        api.calls() as f64,
    );
    if let Some((used, max)) = api.usage() {
        p.put(
            "sfevents_org_daily_api_requests_used",
            G,
            "The org's DailyApiRequests used, as Salesforce last reported (Sforce-Limit-Info).",
            &[("org", o)],
            used as f64,
        );
        p.put(
            "sfevents_org_daily_api_requests_max",
            G,
            "The org's DailyApiRequests limit, as Salesforce last reported.",
            &[("org", o)],
            max as f64,
        );
    }
}

/// What each source archived, from the delivery log.
fn archived(p: &mut Page, o: &str, store: &Store) {
    let rows = match store.archived_by_source(o) {
        Ok(rows) => rows,
        Err(e) => return tracing::warn!(org = o, "metrics: {e}"),
    };
    for r in rows {
        let l = [("org", o), ("source", r.source.as_str())];
        p.put(
            "sfevents_events_collected_total",
            C,
            "Events archived, by source (EventLogFile or the object).",
            &l,
            r.events as f64,
        );
        p.put(
            "sfevents_files_collected_total",
            C,
            "NDJSON files archived (one per EventLogFile file or object page).",
            &l,
            r.files as f64,
        );
        p.put(
            "sfevents_archived_bytes_total",
            C,
            "NDJSON bytes archived (what outputs read).",
            &l,
            r.bytes as f64,
        );
    }
}

/// Each source's last success and newest event.
fn sources(p: &mut Page, o: &str, store: &Store, now: f64) {
    let rows = match store.source_stats(o) {
        Ok(rows) => rows,
        Err(e) => return tracing::warn!(org = o, "metrics: {e}"),
    };
    for s in rows {
        let l = [("org", o), ("source", s.source.as_str())];
        if let Some(t) = s.last_success.as_deref().and_then(seconds) {
            p.put(
                "sfevents_last_success_timestamp_seconds",
                G,
                "When the source last committed a unit (Unix time).",
                &l,
                t,
            );
        }
        if let Some(t) = s.newest_event.as_deref().and_then(seconds) {
            p.put(
                "sfevents_newest_event_timestamp_seconds",
                G,
                "The newest event archived from the source (Unix time).",
                &l,
                t,
            );
            p.put(
                "sfevents_newest_event_lag_seconds",
                G,
                "How far the newest event archived is behind now.",
                &l,
                (now - t).max(0.0),
            );
        }
    }
}

/// One output's counters, from its position in the delivery log.
fn output(p: &mut Page, o: &str, name: &str, pos: &Position, store: &Store, now: f64) {
    let l = [("org", o), ("output", name)];
    p.put(
        "sfevents_output_events_sent_total",
        C,
        "Events sent to the output, each once however often retried: delivered, dead-lettered or in flight.",
        &l,
        (pos.delivered + pos.dead + pos.in_flight) as f64,
    );
    p.put(
        "sfevents_output_events_delivered_total",
        C,
        "Events the output acknowledged (duplicates it already held included).",
        &l,
        pos.delivered as f64,
    );
    p.put(
        "sfevents_output_events_retried_total",
        C,
        "Events sent again after a retryable failure.",
        &l,
        pos.retried as f64,
    );
    p.put(
        "sfevents_output_events_dead_lettered_total",
        C,
        "Events the output rejected for good, written to the archive's dead letters.",
        &l,
        pos.dead as f64,
    );
    backlog(p, &l, pos, store, now);
}

/// What an output has not yet been given, and how old the oldest of it is.
fn backlog(p: &mut Page, l: &[(&str, &str)], pos: &Position, store: &Store, now: f64) {
    let b = match store.backlog(l[0].1, pos) {
        Ok(b) => b,
        Err(e) => return tracing::warn!(org = l[0].1, "metrics: {e}"),
    };
    p.put(
        "sfevents_output_backlog_events",
        G,
        "Events archived and not yet delivered to the output.",
        l,
        b.events as f64,
    );
    p.put(
        "sfevents_output_backlog_bytes",
        G,
        "NDJSON bytes archived and not yet delivered to the output.",
        l,
        b.bytes as f64,
    );
    let age = match b.oldest.as_deref().and_then(seconds) {
        Some(t) if b.events > 0 => (now - t).max(0.0),
        _ => 0.0,
    };
    p.put(
        "sfevents_output_backlog_age_seconds",
        G,
        "Age of the oldest event not yet delivered to the output; 0 when none.",
        l,
        age,
    );
}
