//! The `/metrics` page: Prometheus text exposition format 0.0.4, read at scrape time from
//! `Live`, the orgs' `ApiStats` and their `state.db`.

use std::fmt::Write as _;

use crate::metrics::Live;

/// One metric family: its samples must be written together, after its `# HELP` and `# TYPE`.
struct Family {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    samples: String,
}

#[derive(Default)]
struct Page {
    families: Vec<Family>,
}

impl Page {
    fn put(
        &mut self,
        name: &'static str,
        kind: &'static str,
        help: &'static str,
        labels: &[(&str, &str)],
        value: f64,
    ) {
        let i = match self.families.iter().position(|f| f.name == name) {
            Some(i) => i,
            None => {
                self.families.push(Family {
                    name,
                    kind,
                    help,
                    samples: String::new(),
                });
                self.families.len() - 1
            }
        };
        let s = &mut self.families[i].samples;
        s.push_str(name);
        if !labels.is_empty() {
            s.push('{');
            for (n, (k, v)) in labels.iter().enumerate() {
                if n > 0 {
                    s.push(',');
                }
                let _ = write!(s, "{k}=\"{}\"", escape(v));
            }
            s.push('}');
        }
        let _ = writeln!(s, " {}", number(value));
    }

    fn text(self) -> String {
        let mut out = String::new();
        for f in self.families {
            let _ = writeln!(out, "# HELP {} {}", f.name, f.help);
            let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind);
            out.push_str(&f.samples);
        }
        out
    }
}

/// A label value as the format wants it: `\`, `"` and newline escaped.
pub fn escape(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        // Rust prints whole floats without a fraction (3.0 -> "3"), which Prometheus accepts.
        format!("{v}")
    }
}

fn seconds(ts: &str) -> Option<f64> {
    chrono::DateTime::parse_from_rfc3339(ts)
        .ok()
        .map(|t| t.timestamp_millis() as f64 / 1000.0)
}

/// The process's resident set, from /proc/self/status (Linux; absent elsewhere).
fn rss_bytes() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = s
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024.0)
}

const C: &str = "counter";
const G: &str = "gauge";

pub fn render(live: &Live, stores: &super::metrics::StoresRef) -> String {
    let mut p = Page::default();
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
    // A snapshot, so that no lock is held while state.db is read.
    let orgs: Vec<_> = match live.orgs.lock() {
        Ok(o) => o
            .iter()
            .map(|(name, o)| {
                (
                    name.clone(),
                    o.archive.clone(),
                    o.api.clone(),
                    o.health.clone(),
                    o.errors.clone(),
                    o.cycles.clone(),
                )
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    let outputs: Vec<String> = live.outputs.lock().map(|o| o.clone()).unwrap_or_default();
    let now = base::clock::now().timestamp_millis() as f64 / 1000.0;
    for (org, archive, api, health, errors, cycles) in orgs {
        let o = org.as_str();
        p.put(
            "sfevents_org_healthy",
            G,
            "1 when the org's last cycle did not stop early and it could start (see /health).",
            &[("org", o)],
            if matches!(health, crate::metrics::Health::Failing(_)) {
                0.0
            } else {
                1.0
            },
        );
        for (outcome, n) in &cycles {
            p.put(
                "sfevents_cycles_total",
                C,
                "Collection cycles run, by outcome (ok, partial: some units failed, stopped: ended early).",
                &[("org", o), ("outcome", outcome)],
                *n as f64,
            );
        }
        for (source, n) in &errors {
            p.put(
                "sfevents_errors_total",
                C,
                "Units (EventLogFile files, object reads) that failed, by source.",
                &[("org", o), ("source", source)],
                *n as f64,
            );
        }
        if let Some(api) = &api {
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
        let Some(store) = crate::metrics::store_for(stores, &archive) else {
            continue;
        };
        match store.archived_by_source(o) {
            Ok(rows) => {
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
            Err(e) => tracing::warn!(org = o, "metrics: {e}"),
        }
        match store.source_stats(o) {
            Ok(rows) => {
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
            Err(e) => tracing::warn!(org = o, "metrics: {e}"),
        }
        let positions = match store.outputs(o) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(org = o, "metrics: {e}");
                continue;
            }
        };
        for (name, pos) in positions {
            if !outputs.contains(&name) {
                continue;
            }
            let l = [("org", o), ("output", name.as_str())];
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
            match store.backlog(o, &pos) {
                Ok(b) => {
                    p.put(
                        "sfevents_output_backlog_events",
                        G,
                        "Events archived and not yet delivered to the output.",
                        &l,
                        b.events as f64,
                    );
                    p.put(
                        "sfevents_output_backlog_bytes",
                        G,
                        "NDJSON bytes archived and not yet delivered to the output.",
                        &l,
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
                        &l,
                        age,
                    );
                }
                Err(e) => tracing::warn!(org = o, "metrics: {e}"),
            }
        }
    }
    p.text()
}

#[cfg(test)]
mod tests {
    #[test]
    fn samples_of_a_family_are_together_and_labels_escaped() {
        let mut p = super::Page::default();
        p.put("a_total", "counter", "A.", &[("x", "q\"\\\n")], 1.0);
        p.put("b", "gauge", "B.", &[], 2.5);
        p.put("a_total", "counter", "A.", &[("x", "y")], 3.0);
        assert_eq!(
            p.text(),
            "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"q\\\"\\\\\\n\"} 1\na_total{x=\"y\"} 3\n# HELP b B.\n# TYPE b gauge\nb 2.5\n"
        );
    }
}
