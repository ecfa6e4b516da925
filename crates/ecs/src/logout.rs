//! The `logout` data stream: EventLogFile `Logout` rows and `LogoutEvent` records, mapped as
//! the integration's `logout` pipelines do.
//!
//! Follows the corpus' expected outputs (2024): `USER_INITIATED_LOGOUT` stays the string
//! Salesforce wrote (`"1"`), and LogoutEvent has no `event.id`. Newer pipelines turn the first
//! into a boolean and add the second (see README, "Known differences from newer pipelines").

use serde_json::json;

use crate::body::Body;
use crate::event::Provider;
use crate::geoip;
use crate::ingest::{self, Ctx};

const SESSION_TYPES: &[(&str, &str)] = &[
    ("A", "API"),
    ("I", "APIOnlyUser"),
    ("N", "ChatterNetworks"),
    ("Z", "ChatterNetworksAPIOnly"),
    ("C", "Content"),
    ("P", "OauthApprovalUI"),
    ("O", "Oauth2"),
    ("T", "SiteStudio"),
    ("R", "SitePreview"),
    ("S", "SubstituteUser"),
    ("B", "TempContentExchange"),
    ("G", "TempOauthAccessTokenFrontdoor"),
    ("Y", "TempVisualforceExchange"),
    ("F", "TempUIFrontdoor"),
    ("U", "UI"),
    ("E", "UserSite"),
    ("V", "Visualforce"),
    ("W", "WDC_API"),
];

const SESSION_LEVELS: &[(&str, &str)] =
    &[("1", "Standard Session"), ("2", "High-Assurance Session")];

const PLATFORMS: &[(&str, &str)] = &[
    ("1000", "Windows"),
    ("1008", "Windows 2003"),
    ("1013", "Windows 8.1"),
    ("1015", "Windows 10"),
    ("2003", "Macintosh/Apple OSX"),
    ("4000", "Linux"),
    ("5005", "Android"),
    ("5006", "iPhone"),
    ("5007", "iPad"),
    ("5200", "Android 10.0"),
];

const APP_TYPES: &[(&str, &str)] = &[
    ("1000", "Application"),
    ("1007", "SFDC Application"),
    ("1014", "Chat"),
    ("2501", "CTI"),
    ("2514", "OAuth"),
    ("3475", "SFDC Partner Portal"),
];

const USER_ROLES: &[(&str, &str)] = &[
    ("A", "Automated Process"),
    ("b", "High Volume Portal"),
    ("C", "Customer Portal User"),
    ("D", "External Who"),
    ("F", "Self-Service"),
    ("G", "Guest"),
    ("L", "Package License Manager"),
    ("N", "Salesforce to Salesforce"),
    ("n", "CSN Only"),
    ("O", "Power Custom"),
    ("o", "Custom"),
    ("P", "Partner"),
    ("p", "Customer Portal Manager"),
    ("S", "Standard"),
    ("X", "Salesforce Administrator"),
];

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
            ("event.action", json!("logout")),
            ("event.category", json!(["authentication"])),
            ("event.dataset", json!("salesforce.logout")),
            ("event.module", json!("salesforce")),
        ],
    );
    geoip::enrich(b, cx.geoip, false);
    ingest::related_source_ip(b);
}

fn event_log_file(cx: &Ctx, b: &mut Body) {
    let r = cx.rec;
    ingest::date(b, r, "TIMESTAMP_DERIVED", "@timestamp");
    ingest::rename(b, r, "SESSION_TYPE", "salesforce.logout.session.type");
    ingest::decode(b, "salesforce.logout.session.type", SESSION_TYPES);
    ingest::rename(b, r, "EVENT_TYPE", "salesforce.logout.event_type");
    ingest::rename(b, r, "SESSION_LEVEL", "salesforce.logout.session.level");
    ingest::decode(b, "salesforce.logout.session.level", SESSION_LEVELS);
    ingest::rename(b, r, "BROWSER_TYPE", "salesforce.logout.browser_type");
    ingest::rename(b, r, "PLATFORM_TYPE", "salesforce.logout.platform_type");
    ingest::decode(b, "salesforce.logout.platform_type", PLATFORMS);
    ingest::rename(b, r, "RESOLUTION_TYPE", "salesforce.logout.resolution_type");
    ingest::rename(b, r, "APP_TYPE", "salesforce.logout.app_type");
    ingest::decode(b, "salesforce.logout.app_type", APP_TYPES);
    ingest::rename(b, r, "CLIENT_VERSION", "salesforce.logout.client_version");
    ingest::rename(b, r, "API_TYPE", "salesforce.logout.api.type");
    ingest::decode(b, "salesforce.logout.api.type", crate::login::API_TYPES);
    ingest::renames(
        b,
        r,
        &[
            ("API_VERSION", "salesforce.logout.api.version"),
            (
                "USER_INITIATED_LOGOUT",
                "salesforce.logout.user_initiated_logout",
            ),
            ("LOGIN_KEY", "salesforce.logout.login_key"),
            ("USER_ID", "salesforce.logout.user_id"),
            ("ORGANIZATION_ID", "salesforce.logout.organization_id"),
            // Elastic files the request id as the event's code.
            ("REQUEST_ID", "event.code"),
            ("USER_TYPE", "salesforce.logout.user.roles"),
        ],
    );
    // A known user type becomes a one-element list of its name; an unknown code stays as is.
    let role = b
        .str("salesforce.logout.user.roles")
        .and_then(|v| USER_ROLES.iter().find(|(code, _)| *code == v))
        .map(|(_, name)| *name);
    if let Some(name) = role {
        b.set("salesforce.logout.user.roles", json!([name]));
    }
    ingest::rename(b, r, "USER_ID_DERIVED", "user.id");
    if let Some(ip) = r.str("CLIENT_IP") {
        if ip != "Salesforce.com IP" && crate::convert::is_ip(ip) {
            b.set("source.ip", ip);
        }
    }
}

fn object(cx: &Ctx, b: &mut Body) {
    let r = cx.rec;
    ingest::date(b, r, "EventDate", "@timestamp");
    ingest::renames(
        b,
        r,
        &[
            (
                "RelatedEventIdentifier",
                "salesforce.logout.related_event_identifier",
            ),
            ("LoginKey", "salesforce.logout.login_key"),
            ("SessionLevel", "salesforce.logout.session.level"),
            ("SessionKey", "salesforce.logout.session.key"),
        ],
    );
    ingest::date(b, r, "CreatedDate", "event.created");
    ingest::renames(b, r, &[("Username", "user.email"), ("UserId", "user.id")]);
    ingest::ip(b, r, "SourceIp", "source.ip");
}
