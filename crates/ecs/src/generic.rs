//! The generic mapping, for every EventLogFile type and object that Elastic's integration does
//! not cover (ApiTotalUsage, ReportEvent, LoginHistory, any SObject...). One set of rules for
//! all of them, documented in the crate's README:
//!
//! - every field goes under `salesforce.<dataset>.<snake_case name>`; relationship fields
//!   (`CreatedBy: {Username}`) become nested objects the same way; empty cells, `null` and the
//!   API's `attributes` envelope are left out;
//! - EventLogFile cells that are plain decimals become numbers ([`convert::elf_number`]);
//!   object values keep the types the API gave them;
//! - well-known columns also fill ECS fields (the first column present wins):
//!   see [`USER_ID`], [`USER_NAME`], [`SOURCE_IP`], [`URL`], [`HTTP_METHOD`]...;
//! - with a GeoIP provider, `source.geo.*` and `source.as.*` from `source.ip`.

use serde_json::{Map, Value};

use crate::body::Body;
use crate::convert;
use crate::event::{Provider, Record};
use crate::geoip;
use crate::ingest::{self, Ctx};

/// `user.id`: the 18-character id first.
pub(crate) const USER_ID: &[&str] = &["USER_ID_DERIVED", "USER_ID", "UserId", "UserIdentifier"];
/// `user.name`: the Salesforce username (a login such as `jane@acme.com`).
pub(crate) const USER_NAME: &[&str] = &["USER_NAME", "Username", "UserName"];
/// `source.ip`: the first column that holds an address (not `Salesforce.com IP`).
pub(crate) const SOURCE_IP: &[&str] = &["SOURCE_IP", "CLIENT_IP", "SourceIp", "ClientIp"];
/// `url.original`.
pub(crate) const URL: &[&str] = &["URI", "URL", "Uri", "Url"];
/// `http.request.method`, when the value is a method token (`GET`, `POST`...).
pub(crate) const HTTP_METHOD: &[&str] = &[
    "HTTP_METHOD",
    "REQUEST_METHOD",
    "METHOD",
    "HttpMethod",
    "RequestMethod",
];
/// `http.response.status_code`, `http.request.bytes`, `http.response.bytes`: integers.
pub(crate) const STATUS_CODE: &[&str] = &["STATUS_CODE", "StatusCode"];
pub(crate) const REQUEST_BYTES: &[&str] = &["REQUEST_SIZE", "RequestSize"];
pub(crate) const RESPONSE_BYTES: &[&str] = &["RESPONSE_SIZE", "ResponseSize"];
/// `user_agent.original`, unless the value is a numeric client code.
pub(crate) const USER_AGENT: &[&str] = &["USER_AGENT", "BROWSER_TYPE", "UserAgent"];
/// AuraRequestEventLog and other storage objects report this placeholder as every `Id`.
pub(crate) const EMPTY_KEY: &str = "000000000000000AAA";

pub(crate) fn map(cx: &Ctx, dataset: &str, b: &mut Body) {
    let r = cx.rec;
    let elf = cx.ev.provider == Provider::EventLogFile;
    ingest::set_all(
        b,
        &[
            ("event.kind", "event".into()),
            ("event.module", "salesforce".into()),
            ("event.dataset", format!("salesforce.{dataset}").into()),
        ],
    );
    if elf {
        if !ingest::date(b, r, "TIMESTAMP_DERIVED", "@timestamp") {
            if let Some(t) = r.text("TIMESTAMP").and_then(convert::elf_timestamp) {
                b.set("@timestamp", convert::format_utc(&t));
            }
        }
        match r.str("REQUEST_STATUS") {
            Some("S" | "R") => b.set("event.outcome", "success"),
            Some("F" | "A" | "N") => b.set("event.outcome", "failure"),
            _ => {}
        }
    } else {
        ingest::date(b, r, "CreatedDate", "event.created");
        let id = r
            .text("EventIdentifier")
            .or_else(|| r.text("Id").filter(|id| *id != EMPTY_KEY));
        b.set_opt("event.id", id);
    }

    let first = |cols: &[&str]| cols.iter().find_map(|c| text(r, c));
    b.set_opt("user.id", first(USER_ID));
    b.set_opt("user.name", first(USER_NAME));
    let ips: Vec<String> = SOURCE_IP
        .iter()
        .filter_map(|c| text(r, c))
        .filter(|s| convert::is_ip(s))
        .collect();
    b.set_opt("source.ip", ips.first().cloned());
    // GeoIP as Elastic's newest pipelines do it on `source.ip` (aura_request's: City and ASN).
    geoip::enrich(b, cx.geoip, true);
    b.set_opt("url.original", first(URL));
    let method = HTTP_METHOD
        .iter()
        .filter_map(|c| text(r, c))
        .find(|m| m.len() <= 16 && m.bytes().all(|c| c.is_ascii_uppercase()));
    b.set_opt("http.request.method", method);
    let integer = |cols: &[&str]| {
        cols.iter()
            .find_map(|c| r.get(c).and_then(convert::es_long))
    };
    b.set_opt("http.response.status_code", integer(STATUS_CODE));
    b.set_opt("http.request.bytes", integer(REQUEST_BYTES));
    b.set_opt("http.response.bytes", integer(RESPONSE_BYTES));
    let ua = first(USER_AGENT).filter(|u| !u.bytes().all(|c| c.is_ascii_digit()));
    b.set_opt("user_agent.original", ua);

    for ip in ips {
        b.append_unique("related.ip", ip);
    }
    for user in USER_ID.iter().chain(USER_NAME).filter_map(|c| text(r, c)) {
        b.append_unique("related.user", user);
    }

    let fields = columns(r.map(), elf);
    if !fields.is_empty() {
        b.set(&format!("salesforce.{dataset}"), Value::Object(fields));
    }
}

/// A column as text, when it has any: strings as they are, numbers written out.
fn text(r: Record, column: &str) -> Option<String> {
    match r.get(column)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Every field under its snake_case name, following the rules in the module comment.
fn columns(fields: &Map<String, Value>, elf: bool) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in fields {
        if k == "attributes" {
            continue;
        }
        let key = convert::snake_case(k);
        if out.contains_key(&key) {
            // Two names that differ only in case or punctuation: the first one is kept.
            continue;
        }
        let value = match v {
            Value::Null => continue,
            Value::String(s) if s.is_empty() => continue,
            Value::String(s) if elf => {
                convert::elf_number(&key, s).unwrap_or_else(|| Value::String(s.clone()))
            }
            Value::Object(m) => {
                let nested = columns(m, false);
                if nested.is_empty() {
                    continue;
                }
                Value::Object(nested)
            }
            other => other.clone(),
        };
        out.insert(key, value);
    }
    out
}
