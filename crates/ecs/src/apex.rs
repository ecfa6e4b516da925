//! The `apex` data stream: the EventLogFile types `ApexCallout`, `ApexExecution`,
//! `ApexRestApi`, `ApexSoap`, `ApexTrigger` and `ExternalCustomApexCallout`, mapped as the
//! integration's `apex` pipeline does.
//!
//! Its quirks are kept on purpose, because dashboards and rules built on Elastic's output
//! expect them: times are 32-bit floats (`DB_TOTAL_TIME` 39254335 becomes 39254336.0),
//! `event.duration` is in milliseconds, `user.id` is the 15-character `USER_ID`, and
//! `salesforce.apex.document_id` copies the document's `_id`.

use serde_json::Value;

use crate::body::Body;
use crate::convert;
use crate::geoip;
use crate::ingest::{self, Ctx};

/// The EventLogFile types of this data stream.
pub(crate) const EVENT_TYPES: &[&str] = &[
    "ApexCallout",
    "ApexExecution",
    "ApexRestApi",
    "ApexSoap",
    "ApexTrigger",
    "ExternalCustomApexCallout",
];

/// Columns parsed as Java `float`.
const FLOATS: &[(&str, &str)] = &[
    ("CALLOUT_TIME", "callout_time"),
    ("CPU_TIME", "cpu_time"),
    ("DB_CPU_TIME", "db_cpu_time"),
    ("DB_TOTAL_TIME", "db_total_time"),
    ("EXECUTE_MS", "execute_ms"),
    ("FETCH_MS", "fetch_ms"),
    ("LIMIT_USAGE_PERCENT", "limit_usage_pct"),
    ("THROUGHPUT", "throughput"),
    ("RUN_TIME", "run_time"),
];

/// Columns parsed as Java `long`.
const LONGS: &[(&str, &str)] = &[
    ("DB_BLOCKS", "db_blocks"),
    ("LIMIT", "limit"),
    ("NUMBER_FIELDS", "fields_count"),
    ("NUMBER_SOQL_QUERIES", "soql_queries_count"),
    ("OFFSET", "offset"),
    ("ROWS", "rows_total"),
    ("ROWS_FETCHED", "rows_fetched"),
    ("ROWS_PROCESSED", "rows_processed"),
];

/// Columns copied as they are.
const STRINGS: &[(&str, &str)] = &[
    ("ACTION", "action"),
    ("CLASS_NAME", "class_name"),
    ("CLIENT_NAME", "client_name"),
    ("ENTITY", "entity"),
    ("ENTITY_NAME", "entity_name"),
    ("ENTRY_POINT", "entry_point"),
    ("EVENT_TYPE", "event_type"),
    ("FILTER", "filter"),
    ("IS_LONG_RUNNING_REQUEST", "is_long_running_request"),
    ("LOGIN_KEY", "login_key"),
    ("MEDIA_TYPE", "media_type"),
    ("MESSAGE", "message"),
    ("METHOD_NAME", "method_name"),
    ("ORDERBY", "orderby"),
    ("ORGANIZATION_ID", "organization_id"),
    ("QUERY", "query"),
    ("QUIDDITY", "quiddity"),
    ("REQUEST_ID", "request_id"),
    ("REQUEST_STATUS", "request_status"),
    ("SELECT", "select"),
    ("SUBQUERIES", "subqueries"),
    ("TRIGGER_ID", "trigger_id"),
    ("TRIGGER_NAME", "trigger_name"),
    ("TRIGGER_TYPE", "trigger_type"),
    ("TYPE", "type"),
    ("URI", "uri"),
    ("URI_ID_DERIVED", "uri_derived_id"),
    ("USER_AGENT", "user_agent"),
    ("USER_ID_DERIVED", "user_id_derived"),
];

/// `USER_AGENT` codes, by their first three digits.
const USER_AGENTS: &[(&str, &str)] = &[
    ("100", "Internet Explorer"),
    ("110", "Firefox"),
    ("130", "Chrome"),
    ("140", "Safari"),
    ("150", "Opera"),
    ("160", "Android"),
    ("170", "Netscape"),
    ("180", "Webkit"),
    ("190", "Gecko"),
    ("230", "Blackberry"),
    ("240", "Good Access"),
    ("999", "Unknown"),
];

const ACTIONS: &[(&str, &str)] = &[
    ("apexcallout", "apex-callout"),
    ("apextrigger", "apex-trigger"),
    ("apexexecution", "apex-execution"),
    ("apexrestapi", "apex-rest"),
    ("apexsoap", "apex-soap"),
    ("externalcustomapexcallout", "apex-external-custom-callout"),
];

pub(crate) fn map(cx: &Ctx, b: &mut Body) {
    let r = cx.rec;
    b.set("salesforce.apex.document_id", cx.ev.id);
    ingest::date(b, r, "TIMESTAMP_DERIVED", "@timestamp");
    for (col, field) in FLOATS {
        let v = r.str(col).and_then(convert::java_float);
        b.set_opt(
            &format!("salesforce.apex.{field}"),
            v.and_then(convert::float),
        );
    }
    for (col, field) in LONGS {
        let v = r.str(col).and_then(convert::java_parse_long);
        b.set_opt(&format!("salesforce.apex.{field}"), v);
    }
    for (col, field) in STRINGS {
        ingest::rename(b, r, col, &format!("salesforce.apex.{field}"));
    }
    let code = b
        .str("salesforce.apex.user_agent")
        .and_then(|ua| ua.get(..3))
        .and_then(|p| USER_AGENTS.iter().find(|(c, _)| *c == p))
        .map(|(_, name)| *name);
    b.set_opt("salesforce.apex.user_agent", code);

    if !b.has("event.kind") {
        b.set("event.kind", "event");
    }
    let event_type = b.str("salesforce.apex.event_type").map(str::to_string);
    let et = event_type.as_deref();
    if et != Some("ApexExecution") {
        b.append_unique("event.type", "connection");
    }
    if et != Some("ApexTrigger") && et != Some("ApexExecution") {
        b.append_unique("event.category", "network");
    }
    if let Some(et) = et {
        let lower = et.to_lowercase();
        if let Some((_, action)) = ACTIONS.iter().find(|(k, _)| *k == lower) {
            b.set("event.action", *action);
        }
    }
    let duration = match et {
        Some("ApexCallout") => r.str("TIME").and_then(convert::java_float),
        Some("ApexTrigger" | "ApexExecution") => r.str("EXEC_TIME").and_then(convert::java_float),
        Some("ApexRestApi" | "ApexSoap") => {
            b.get("salesforce.apex.run_time").and_then(Value::as_f64)
        }
        Some("ExternalCustomApexCallout") => r.str("TOTAL_MS").and_then(convert::java_float),
        _ => None,
    };
    b.set_opt("event.duration", duration.and_then(convert::float));
    let flag = |k: &str| r.str(k);
    if flag("SUCCESS") == Some("1") || flag("STATUS") == Some("1") {
        b.set("event.outcome", "success");
    } else if flag("SUCCESS").is_some() || flag("STATUS").is_some() {
        b.set("event.outcome", "failure");
    }
    let uri = b.str("salesforce.apex.uri").map(str::to_string);
    match (et, r.str("URL")) {
        (Some("ApexCallout"), Some(url)) => b.set("event.url", url),
        (Some("ApexCallout" | "ExternalCustomApexCallout"), _) => {}
        _ => b.set_opt("event.url", uri),
    }
    ingest::rename(b, r, "USER_ID", "user.id");
    b.append_unique("user.roles", convert::template_text(r.get("USER_TYPE")));
    if let Some(ip) = r.str("CLIENT_IP") {
        if ip != "Salesforce.com IP" && convert::is_ip(ip) {
            b.set("source.ip", ip);
        }
    }
    geoip::enrich(b, cx.geoip, false);
    ingest::related_source_ip(b);
    ingest::rename(b, r, "METHOD", "http.request.method");
    ingest::long(b, r, "REQUEST_SIZE", "http.request.bytes");
    ingest::long(b, r, "RESPONSE_SIZE", "http.response.bytes");
    ingest::long(b, r, "STATUS_CODE", "http.response.status_code");
}
