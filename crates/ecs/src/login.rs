//! The `login` data stream: EventLogFile `Login` rows and `LoginEvent` records, mapped as the
//! integration's `login` pipelines do (`default.yml` with `eventlogfile.yml` / `object.yml`).
//!
//! The corpus' two expected files come from different pipeline versions, and this follows
//! each: the LoginEvent output (2024) still has `salesforce.login.document_id` (a copy of the
//! document's `_id`) and does not map `SessionLevel`/`SessionKey`; the EventLogFile output
//! (2025) has no `document_id`.

use serde_json::{json, Value};

use crate::body::Body;
use crate::event::Provider;
use crate::geoip;
use crate::ingest::{self, Ctx};
use crate::useragent::{self, Properties};

/// `API_TYPE` codes.
pub(crate) const API_TYPES: &[(&str, &str)] = &[
    ("D", "Apex Class"),
    ("E", "SOAP Enterprise"),
    ("I", "SOAP Cross Instance"),
    ("M", "SOAP Metadata"),
    ("O", "Old SOAP"),
    ("P", "SOAP Partner"),
    ("S", "SOAP Apex"),
    ("T", "SOAP Tooling"),
    ("X", "XmlRPC"),
    ("f", "Feed"),
    ("l", "Live Agent"),
    ("p", "SOAP ClientSync"),
];

/// `REQUEST_STATUS` codes.
const REQUEST_STATUSES: &[(&str, &str)] = &[
    ("S", "Success"),
    ("F", "Failure"),
    ("U", "Undefined"),
    ("A", "Authorization Error"),
    ("R", "Redirect"),
    ("N", "Not Found"),
];

const SALESFORCE_IP: &str = "Salesforce.com IP";

pub(crate) fn map(cx: &Ctx, b: &mut Body) {
    match cx.ev.provider {
        Provider::EventLogFile => event_log_file(cx, b),
        Provider::Object => object(cx, b),
    }
    ingest::set_all(
        b,
        &[
            ("event.type", json!(["info"])),
            ("event.kind", json!("event")),
            ("event.action", json!("login-attempt")),
            ("event.category", json!(["authentication"])),
            ("event.dataset", json!("salesforce.login")),
            ("event.module", json!("salesforce")),
        ],
    );
    ingest::related_source_ip(b);
    if let Some(ip) = b.str("salesforce.login.client.ip").map(str::to_string) {
        // related.ip is an `ip` field: only an address can go there.
        if ip != SALESFORCE_IP && crate::convert::is_ip(&ip) {
            b.append_unique("related.ip", ip);
        }
    }
}

fn event_log_file(cx: &Ctx, b: &mut Body) {
    let r = cx.rec;
    ingest::date(b, r, "TIMESTAMP_DERIVED", "@timestamp");
    ingest::rename(b, r, "API_TYPE", "salesforce.login.api.type");
    ingest::decode(b, "salesforce.login.api.type", API_TYPES);
    ingest::renames(
        b,
        r,
        &[
            (
                "AUTHENTICATION_METHOD_REFERENCE",
                "salesforce.login.auth.service_id",
            ),
            ("REQUEST_STATUS", "salesforce.login.request.status"),
        ],
    );
    ingest::decode(b, "salesforce.login.request.status", REQUEST_STATUSES);
    ingest::renames(
        b,
        r,
        &[
            ("API_VERSION", "salesforce.login.api.version"),
            ("USER_ID", "salesforce.login.user_id"),
            ("LOGIN_KEY", "salesforce.login.key"),
            ("EVENT_TYPE", "salesforce.login.event_type"),
            ("REQUEST_ID", "salesforce.login.request.id"),
            ("ORGANIZATION_ID", "salesforce.login.organization_id"),
        ],
    );
    ingest::long(b, r, "RUN_TIME", "salesforce.login.run_time");
    ingest::long(b, r, "CPU_TIME", "salesforce.login.cpu_time");
    // DB_TOTAL_TIME is in nanoseconds; the pipeline's conversion to milliseconds tests a field
    // that never exists, so the value stays as Salesforce wrote it.
    ingest::long(b, r, "DB_TOTAL_TIME", "salesforce.login.db_total_time");
    ingest::renames(
        b,
        r,
        &[
            ("CLIENT_IP", "salesforce.login.client.ip"),
            ("URI_ID_DERIVED", "salesforce.login.uri.id"),
            ("URI", "event.url"),
        ],
    );
    if let Some(status) = r.get("LOGIN_STATUS") {
        let ok = status.as_str() == Some("LOGIN_NO_ERROR");
        b.set("event.outcome", if ok { "success" } else { "failure" });
    }
    ingest::renames(
        b,
        r,
        &[("USER_NAME", "user.email"), ("USER_ID_DERIVED", "user.id")],
    );
    b.set(
        "user.roles",
        json!([crate::convert::template_text(r.get("USER_TYPE"))]),
    );
    if let Some(ip) = r.str("SOURCE_IP") {
        if ip != SALESFORCE_IP && crate::convert::is_ip(ip) {
            b.set("source.ip", ip);
        }
    }
    geoip::enrich(b, cx.geoip, false);
    if let Some(ua) = r.str("BROWSER_TYPE") {
        let props = Properties {
            original: false,
            name: true,
            version: false,
            os: true,
            device: true,
        };
        b.set_opt("user_agent", useragent::ecs(ua, props).map(Value::Object));
    }
    ingest::rename(b, r, "CIPHER_SUITE", "tls.cipher");
    // dissect "%{tls.version_protocol}v%{tls.version}": `TLSv1.2` -> `TLS`, `1.2`.
    if let Some((protocol, version)) = r.str("TLS_PROTOCOL").and_then(|t| t.split_once('v')) {
        b.set("tls.version_protocol", protocol);
        b.set("tls.version", version);
    }
}

fn object(cx: &Ctx, b: &mut Body) {
    let r = cx.rec;
    ingest::date(b, r, "EventDate", "@timestamp");
    ingest::rename(b, r, "AuthServiceId", "salesforce.login.auth.service_id");
    ingest::double(b, r, "EvaluationTime", "salesforce.login.evaluation_time");
    ingest::renames(
        b,
        r,
        &[
            ("ClientVersion", "salesforce.login.client_version"),
            ("LoginGeoId", "salesforce.login.geo_id"),
            ("LoginHistoryId", "salesforce.login.history_id"),
            ("ApiType", "salesforce.login.api.type"),
            (
                "AuthMethodReference",
                "salesforce.login.auth.method_reference",
            ),
            ("LoginType", "salesforce.login.type"),
            (
                "PolicyOutcome",
                "salesforce.login.transaction_security.policy.outcome",
            ),
            ("ApiVersion", "salesforce.login.api.version"),
            ("EventIdentifier", "event.id"),
            (
                "RelatedEventIdentifier",
                "salesforce.login.related_event_identifier",
            ),
            ("LoginKey", "salesforce.login.key"),
            ("Application", "salesforce.login.application"),
            (
                "PolicyId",
                "salesforce.login.transaction_security.policy.id",
            ),
        ],
    );
    if let Some(status) = r.get("Status") {
        let ok = status.as_str() == Some("Success");
        b.set("event.outcome", if ok { "success" } else { "failure" });
    }
    ingest::date(b, r, "CreatedDate", "event.created");
    ingest::renames(
        b,
        r,
        &[
            ("LoginUrl", "event.url"),
            ("Username", "user.email"),
            ("UserId", "user.id"),
        ],
    );
    if let Some(t) = r.get("UserType") {
        b.append_unique("user.roles", crate::convert::template_text(Some(t)));
    }
    ingest::ip(b, r, "SourceIp", "source.ip");
    ingest::rename(b, r, "LoginLatitude", "source.geo.location.lat");
    ingest::rename(b, r, "LoginLongitude", "source.geo.location.lon");
    // GeoIP only when Salesforce did not locate the login itself.
    if !b.has("source.geo.location.lat") && !b.has("source.geo.location.lon") {
        geoip::enrich(b, cx.geoip, false);
    }
    ingest::renames(
        b,
        r,
        &[
            ("CountryIso", "source.geo.country_iso_code"),
            ("PostalCode", "source.geo.postal_code"),
            ("City", "source.geo.city_name"),
            ("Subdivision", "source.geo.region_name"),
            ("Country", "source.geo.country_name"),
            ("Browser", "user_agent.name"),
            ("Platform", "user_agent.os.name"),
            ("HttpMethod", "http.request.method"),
            ("AdditionalInfo", "salesforce.login.additional_info"),
            ("CipherSuite", "tls.cipher"),
        ],
    );
    object_tls(r, b);
    b.set("salesforce.login.document_id", cx.ev.id);
}

/// grok `^TLS %{NUMBER:tls.version}$` or `^%{WORD:tls.version}$`; ECS wants the protocol in
/// lower case, and `Unknown` is no protocol.
fn object_tls(r: crate::event::Record, b: &mut Body) {
    let Some(tls) = r.str("TlsProtocol") else {
        return;
    };
    let version = tls
        .strip_prefix("TLS ")
        .filter(|v| is_grok_number(v))
        .or_else(|| {
            (!tls.is_empty() && tls.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_'))
                .then_some(tls)
        });
    if let Some(v) = version {
        b.set("tls.version", v);
        if v != "Unknown" {
            b.set("tls.version_protocol", "tls");
        }
    }
}

/// grok's NUMBER: an optional sign, digits with an optional fraction, or a bare fraction.
fn is_grok_number(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (int, frac) = s.split_once('.').map_or((s, None), |(i, f)| (i, Some(f)));
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|c| c.is_ascii_digit());
    match frac {
        None => digits(int),
        Some(f) => digits(f) && (int.is_empty() || digits(int)),
    }
}
