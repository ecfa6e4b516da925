//! The `aura_request` data stream: EventLogFile `AuraRequest` rows and `AuraRequestEventLog`
//! records, mapped as the integration's `aura_request` pipelines do. Both shapes end up in the
//! same document: each source's column names are mapped first, then the shared part (outcome,
//! duration in nanoseconds, URL parts, user agent, the parsed `ACTION_MESSAGE`) runs once.
//!
//! Unlike the other streams, this pipeline always keeps `event.original`.

use serde_json::{json, Map, Value};

use crate::body::Body;
use crate::convert;
use crate::event::{Provider, Record};
use crate::geoip;
use crate::ingest::{self, Ctx};
use crate::uri;
use crate::useragent::{self, Properties};

pub(crate) fn map(cx: &Ctx, b: &mut Body) {
    // The user agent waits here between the source mapping and the shared part.
    let user_agent = match cx.ev.provider {
        Provider::EventLogFile => event_log_file(cx, b),
        Provider::Object => object(cx, b),
    };
    b.set("event.kind", "event");
    b.set("event.action", "aura-request");
    b.append_unique("event.category", "web");
    b.append_unique("event.type", "access");
    // A blank status is no outcome; `S` only describes the HTTP disposition.
    match b.str("salesforce.aura_request.request_status") {
        Some("S" | "R") => b.set("event.outcome", "success"),
        Some("F" | "A" | "N") => b.set("event.outcome", "failure"),
        _ => {}
    }
    if let Some(ms) = b
        .get("salesforce.aura_request.run_time")
        .and_then(Value::as_i64)
    {
        // Java's long multiplication wraps; so does this, to stay identical.
        b.set("event.duration", ms.wrapping_mul(1_000_000));
    }
    if let Some(original) = b.str("url.original").map(str::to_string) {
        if let Some(parts) = uri::parts(&original) {
            for (k, v) in parts {
                b.set(&format!("url.{k}"), v);
            }
        }
    }
    if let Some(ua) = user_agent {
        if !ua.is_empty() && ua.bytes().all(|c| c.is_ascii_digit()) {
            // A legacy numeric client code, not a User-Agent header.
            b.set("salesforce.aura_request.user_agent_code", ua);
        } else {
            b.set_opt(
                "user_agent",
                useragent::ecs(&ua, Properties::ALL).map(Value::Object),
            );
        }
    }
    geoip::enrich(b, cx.geoip, true);
    let actions = b
        .str("salesforce.aura_request.action_message")
        .map(parse_actions)
        .filter(|a| !a.is_empty());
    b.set_opt("salesforce.aura_request.actions", actions.map(Value::Array));
    ingest::related_source_ip(b);
    for path in ["user.id", "salesforce.aura_request.user_id"] {
        if let Some(u) = b.get(path).filter(|v| !v.is_null()).cloned() {
            b.append_unique(
                "related.user",
                Value::String(convert::template_text(Some(&u))),
            );
        }
    }
}

/// EventLogFile columns; returns the USER_AGENT cell.
fn event_log_file(cx: &Ctx, b: &mut Body) -> Option<String> {
    // Empty CSV cells count as absent, so that every check below is a plain presence check.
    let kept: Map<String, Value> = cx
        .rec
        .map()
        .iter()
        .filter(|(_, v)| !v.is_null() && v.as_str() != Some(""))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let r = Record(&kept);
    if !ingest::date(b, r, "TIMESTAMP_DERIVED", "@timestamp") {
        if let Some(t) = r.str("TIMESTAMP").and_then(convert::elf_timestamp) {
            b.set("@timestamp", convert::format_utc(&t));
        }
    }
    ingest::renames(
        b,
        r,
        &[
            ("REQUEST_ID", "http.request.id"),
            ("REQUEST_METHOD", "http.request.method"),
            ("URI", "url.original"),
            ("USER_ID_DERIVED", "user.id"),
            ("ORGANIZATION_ID", "organization.id"),
        ],
    );
    client_ip(b, r, "CLIENT_IP");
    let ua = r.get("USER_AGENT").map(|v| convert::template_text(Some(v)));
    ingest::rename(
        b,
        r,
        "ACTION_MESSAGE",
        "salesforce.aura_request.action_message",
    );
    for (col, field) in [
        ("ACTION_MESSAGE_LENGTH", "action_message_length"),
        ("RUN_TIME", "run_time"),
        ("CPU_TIME", "cpu_time"),
        ("DB_TOTAL_TIME", "db_total_time"),
    ] {
        ingest::long(b, r, col, &format!("salesforce.aura_request.{field}"));
    }
    // EVENT_TYPE is left out on purpose: it is the constant `AuraRequest`, and the object has
    // no such field, so mapping it would make the two sources disagree.
    ingest::renames(
        b,
        r,
        &[
            ("REQUEST_STATUS", "salesforce.aura_request.request_status"),
            ("URI_ID_DERIVED", "salesforce.aura_request.uri_id"),
            ("USER_ID", "salesforce.aura_request.user_id"),
            ("USER_TYPE", "salesforce.aura_request.user_type"),
            ("LOGIN_KEY", "salesforce.aura_request.login_key"),
            ("SESSION_KEY", "salesforce.aura_request.session_key"),
            (
                "EASY_SUITE_VALUE",
                "salesforce.aura_request.easy_suite_value",
            ),
        ],
    );
    ua
}

/// AuraRequestEventLog fields; returns UserAgent.
fn object(cx: &Ctx, b: &mut Body) -> Option<String> {
    let r = cx.rec;
    // Always the "empty key" placeholder in practice, but kept in case Salesforce fills it.
    ingest::rename(b, r, "Id", "salesforce.aura_request.id");
    ingest::date(b, r, "Timestamp", "@timestamp");
    ingest::renames(
        b,
        r,
        &[
            ("RequestIdentifier", "http.request.id"),
            ("RequestMethod", "http.request.method"),
            ("Uri", "url.original"),
            ("UserIdentifier", "user.id"),
        ],
    );
    client_ip(b, r, "ClientIp");
    let ua = r.get("UserAgent").map(|v| convert::template_text(Some(v)));
    ingest::rename(
        b,
        r,
        "ActionMessage",
        "salesforce.aura_request.action_message",
    );
    for (col, field) in [
        ("RunTime", "run_time"),
        ("CpuTime", "cpu_time"),
        ("DatabaseTotalTime", "db_total_time"),
    ] {
        ingest::long(b, r, col, &format!("salesforce.aura_request.{field}"));
    }
    ingest::renames(
        b,
        r,
        &[
            ("UserType", "salesforce.aura_request.user_type"),
            ("LoginKey", "salesforce.aura_request.login_key"),
            ("SessionKey", "salesforce.aura_request.session_key"),
        ],
    );
    ua
}

/// An address goes to `source.ip`; anything else (`Salesforce.com IP`) is kept verbatim in
/// `salesforce.aura_request.client_ip`.
fn client_ip(b: &mut Body, r: Record, column: &str) {
    if r.str(column) == Some("") {
        return;
    }
    if !ingest::ip(b, r, column, "source.ip") {
        ingest::rename(b, r, column, "salesforce.aura_request.client_ip");
    }
}

/// `ACTION_MESSAGE`: `;`-separated `<id>$<scheme>://<controller>/ACTION$<method>=<ms>`.
/// Segments that do not follow the grammar are skipped; a blank or non-numeric duration is
/// left out of its action.
fn parse_actions(raw: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for segment in raw.split(';') {
        // Java's trim(): everything up to and including the space.
        let part = segment.trim_matches(|c: char| c <= ' ');
        let Some(eq) = part.rfind('=').filter(|&i| i >= 1) else {
            continue;
        };
        let (descriptor, duration) = (&part[..eq], &part[eq + 1..]);
        let (Some(id_end), Some(scheme_end), Some(action_start)) = (
            descriptor.find('$'),
            descriptor.find("://"),
            descriptor.find("/ACTION$"),
        ) else {
            continue;
        };
        if id_end < 1 || scheme_end <= id_end || action_start < scheme_end + 3 {
            continue;
        }
        let mut action = json!({
            "id": &descriptor[..id_end],
            "scheme": &descriptor[id_end + 1..scheme_end],
            "controller": &descriptor[scheme_end + 3..action_start],
            "method": &descriptor[action_start + 8..],
        });
        if !duration.is_empty() && duration.bytes().all(|c| c.is_ascii_digit()) {
            if let (Some(ms), Some(o)) = (duration.parse::<i64>().ok(), action.as_object_mut()) {
                o.insert("duration".into(), ms.into());
            }
        }
        out.push(action);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_message_grammar() {
        let a = parse_actions("1$aura://C/ACTION$m=16;bad;;2$java://D/ACTION$n=;x$y=1");
        assert_eq!(
            a,
            vec![
                json!({"id": "1", "scheme": "aura", "controller": "C", "method": "m", "duration": 16}),
                json!({"id": "2", "scheme": "java", "controller": "D", "method": "n"}),
            ]
        );
    }
}
