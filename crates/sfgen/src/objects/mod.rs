//! Queryable event objects beside EventLogFile: the Real-Time Event Monitoring storage
//! objects (big objects such as LoginEvent), SetupAuditTrail and LoginHistory.
//!
//! Records are generated per (object, hour) block from their own seeded generator, so a
//! block's records do not depend on any other block. Every record carries the time it
//! becomes visible to queries ([`ObjectRecord::visible_at`]).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use soql::{BigObjectRules, FieldDef, FieldType, ObjectSchema, Record, Value};

use crate::ids::{self, digest_u64, make_id15, BASE62};
use crate::rows::{OrgCtx, Rng};
use crate::{GenOptions, OrgSpec, User};

const HOUR: i64 = 3600;
const HOUR_MS: i64 = 3_600_000;
/// 62^7.
const REC_SPACE: u64 = 3_521_614_606_208;
/// Hours of records generated beyond the anchor, revealed as the simulator's clock advances.
pub(crate) const FUTURE_HOURS: i64 = 6;
/// The synthetic id every RTEM big-object record carries (not a unique key).
pub const BIG_OBJECT_ID: &str = "000000000000000AAA";

/// The Real-Time Event Monitoring storage objects generated (all big objects).
pub const RTEM_OBJECTS: &[&str] = &[
    "LoginEvent",
    "LogoutEvent",
    "ApiEvent",
    "ReportEvent",
    "ListViewEvent",
    "LightningUriEvent",
    "UriEvent",
    "IdentityVerificationEvent",
];

/// Every queryable event object generated beside EventLogFile.
pub const OBJECTS: &[&str] = &[
    "LoginEvent",
    "LogoutEvent",
    "ApiEvent",
    "ReportEvent",
    "ListViewEvent",
    "LightningUriEvent",
    "UriEvent",
    "IdentityVerificationEvent",
    "SetupAuditTrail",
    "LoginHistory",
];

/// Objects only an org with attack scenarios has records of (see `GenOptions::scenarios`):
/// LoginAsEvent and FileEventStore (big objects) and the Threat Detection stores (standard
/// objects). They are served only by such an org, so an org without scenarios looks exactly
/// as it always did.
pub const SCENARIO_OBJECTS: &[&str] = &[
    "LoginAsEvent",
    "FileEventStore",
    "ApiAnomalyEventStore",
    "CredentialStuffingEventStore",
    "ReportAnomalyEventStore",
    "SessionHijackingEventStore",
];

/// [`OBJECTS`] then [`SCENARIO_OBJECTS`]: the order of an org's record lists.
pub(crate) fn all_objects() -> impl Iterator<Item = &'static str> {
    OBJECTS.iter().chain(SCENARIO_OBJECTS).copied()
}

/// One generated record and the time it becomes visible to queries (its storage time:
/// `CreatedDate` for RTEM objects and SetupAuditTrail, `LoginTime` for LoginHistory).
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectRecord {
    pub record: Record,
    pub visible_at: DateTime<Utc>,
}

mod audit;
mod geo;
pub(crate) mod planted;
mod rtem;
mod schema;

use self::audit::audit_block;
pub(crate) use self::geo::{Geo, ATTACK_GEOS, GEOS};
use self::rtem::{add_duplicates, rtem_block};
use self::schema::field_list;
pub(crate) use self::schema::{canonical, schema, schema_with};

fn utc_ms(ms: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default()
}

fn s(v: impl Into<String>) -> Value {
    Value::String(v.into())
}

fn opt(v: Option<&str>) -> Value {
    v.map_or(Value::Null, |x| Value::String(x.to_string()))
}

/// A record whose fields follow the object's schema order (missing ones null), then `extra`.
fn build(
    object: &str,
    id: &str,
    mut vals: Vec<(&'static str, Value)>,
    extra: Vec<(&'static str, Value)>,
) -> Record {
    let mut r = Record::new(object, Some(id.to_string()));
    for (name, _) in field_list(object).unwrap_or_default() {
        let v = vals
            .iter()
            .position(|(n, _)| *n == name)
            .map_or(Value::Null, |i| vals.swap_remove(i).1);
        r.fields.push((name.to_string(), v));
    }
    for (n, v) in extra {
        r.fields.push((n.to_string(), v));
    }
    r
}

/// (entity, key prefix, list views, reports).
const ENTITIES: &[(&str, &str, &[&str], &[&str])] = &[
    (
        "Account",
        "001",
        &["All Accounts", "My Accounts", "Recently Viewed Accounts"],
        &["Accounts by Industry", "New Accounts This Quarter"],
    ),
    (
        "Contact",
        "003",
        &["All Contacts", "My Contacts"],
        &["Contacts without Email", "Contact Roles"],
    ),
    (
        "Opportunity",
        "006",
        &[
            "All Opportunities",
            "Closing This Month",
            "My Opportunities",
        ],
        &["Pipeline by Stage", "Won Opportunities FY", "Forecast Q3"],
    ),
    (
        "Lead",
        "00Q",
        &["All Open Leads", "My Unread Leads"],
        &["Lead Source Conversion", "Leads by Owner"],
    ),
    (
        "Case",
        "500",
        &["All Open Cases", "My Cases"],
        &["Open Cases by Priority", "Case Aging"],
    ),
];

const BROWSERS: &[&str] = &[
    "Chrome 124",
    "Chrome 125",
    "Firefox 126",
    "Safari 17",
    "Edge 125",
];
const PLATFORMS: &[&str] = &["Mac OSX", "Windows 10", "Windows 11", "Linux", "iOS"];
const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "python-requests/2.31.0",
    "sfdx toolbelt:sfdx-core/7.3.9",
];

/// One login: shared by a LoginEvent and its LoginHistory row.
struct Login {
    kind: &'static str,
    sub_type: Option<&'static str>,
    application: &'static str,
    browser: &'static str,
    platform: &'static str,
    status: &'static str,
    tls: &'static str,
    cipher: &'static str,
    login_url: String,
    http_method: &'static str,
    client_version: &'static str,
    api_type: &'static str,
}

/// The generator of one (object, hour) block.
struct Gen<'a> {
    rng: Rng,
    seed: u64,
    ctx: &'a OrgCtx,
    users: &'a [User],
    hour: i64,
}

impl<'a> Gen<'a> {
    fn new(seed: u64, object: &str, hour: i64, ctx: &'a OrgCtx, users: &'a [User]) -> Self {
        Gen {
            rng: Rng::from_parts(&[
                b"sfgen-object",
                &seed.to_le_bytes(),
                object.as_bytes(),
                &hour.to_le_bytes(),
            ]),
            seed,
            ctx,
            users,
            hour,
        }
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.rng.below(items.len() as u64) as usize]
    }

    fn uuid(&mut self) -> String {
        uuid(&mut self.rng)
    }

    fn id(&mut self, prefix: &str) -> String {
        ids::id18(&make_id15(prefix, self.rng.below(REC_SPACE)))
    }

    /// A user index: the integration user with probability `integration` permille.
    fn user(&mut self, integration: u32) -> usize {
        let n = self.users.len().max(1) as u64;
        if n == 1 || self.rng.permille(integration) {
            0
        } else {
            1 + self.rng.below(n - 1) as usize
        }
    }

    /// The user's LoginKey and SessionKey during this hour (the same for every object).
    fn keys(&self, user: usize) -> (String, String) {
        let mut r = Rng::from_parts(&[
            b"sfgen-object-keys",
            &self.seed.to_le_bytes(),
            &(user as u64).to_le_bytes(),
            &self.hour.to_le_bytes(),
        ]);
        let mut token = || {
            (0..16)
                .map(|_| BASE62[r.below(62) as usize] as char)
                .collect::<String>()
        };
        let login = token();
        let session = token();
        (login, session)
    }

    fn ip(&mut self, user: usize) -> String {
        let ip = match self.ctx.users.get(user) {
            Some(u) if !self.rng.permille(100) => u.ip,
            _ => {
                let b = self.rng.u64().to_le_bytes();
                [
                    [34, 52, 81, 104, 198][(b[0] % 5) as usize],
                    b[1],
                    b[2],
                    b[3].max(1),
                ]
            }
        };
        format!("{}.{}.{}.{}", ip[0], ip[1], ip[2], ip[3])
    }

    fn geo(&self, user: usize) -> &'static Geo {
        let b = self.ctx.users.get(user).map_or(0, |u| u.ip[1]);
        &GEOS[b as usize % GEOS.len()]
    }

    /// Event times (ms) of `n` events in this hour, sorted: event i falls in slice i of n.
    fn times(&mut self, n: u64) -> Vec<i64> {
        (0..n)
            .map(|i| {
                let a = (i as i64 * HOUR_MS) / n as i64;
                let b = ((i as i64 + 1) * HOUR_MS) / n as i64;
                self.hour * 1000 + a + self.rng.below((b - a).max(1) as u64) as i64
            })
            .collect()
    }

    /// Storage delay in ms: a few seconds, or (5%) 90 to 600 seconds.
    fn storage_delay(&mut self) -> i64 {
        if self.rng.permille(50) {
            90_000 + self.rng.below(510_001) as i64
        } else {
            1000 + self.rng.below(4001) as i64
        }
    }

    fn login(&mut self, user: usize) -> Login {
        let slug = self.ctx.slug.clone();
        let r = self.rng.below(100);
        let (kind, sub_type, application, api_type) = if user == 0 {
            if r < 70 {
                (
                    "Remote Access 2.0",
                    Some("OAuth JWT Bearer"),
                    "sfevents",
                    "N/A",
                )
            } else {
                (
                    "Remote Access 2.0",
                    Some("OAuth Username-Password"),
                    "Salesforce CLI",
                    "N/A",
                )
            }
        } else if r < 75 {
            ("Application", None, "Browser", "N/A")
        } else if r < 90 {
            (
                "Remote Access 2.0",
                Some("OAuth Authorization Code"),
                "Salesforce for Outlook",
                "N/A",
            )
        } else {
            ("Other Apex API", None, "N/A", "SOAP Partner")
        };
        let browser = if kind == "Application" {
            self.pick(BROWSERS)
        } else {
            "Unknown"
        };
        let platform = if kind == "Application" {
            self.pick(PLATFORMS)
        } else {
            "Unknown"
        };
        let status = if self.rng.permille(60) {
            self.pick(&[
                "Invalid Password",
                "Failed: Computer activation required",
                "Failed: API security token required",
            ])
        } else {
            "Success"
        };
        let tls13 = self.rng.permille(300);
        Login {
            kind,
            sub_type,
            application,
            browser,
            platform,
            status,
            tls: if tls13 { "TLS 1.3" } else { "TLS 1.2" },
            cipher: if tls13 {
                "TLS_AES_256_GCM_SHA384"
            } else {
                "ECDHE-RSA-AES256-GCM-SHA384"
            },
            login_url: if kind == "Application" || self.rng.permille(500) {
                format!("{slug}.my.salesforce.com")
            } else {
                "login.salesforce.com".to_string()
            },
            http_method: if kind == "Application" && self.rng.permille(200) {
                "GET"
            } else {
                "POST"
            },
            client_version: "N/A",
            api_type,
        }
    }

    /// Fields every RTEM record has.
    fn head(
        &mut self,
        event_ms: i64,
        created_ms: i64,
        user: usize,
    ) -> (Vec<(&'static str, Value)>, String) {
        let (login_key, session_key) = self.keys(user);
        let users = self.users;
        let u = &users[user.min(users.len().saturating_sub(1))];
        let identifier = self.uuid();
        let ip = self.ip(user);
        let level = if self.rng.permille(50) {
            "HIGH_ASSURANCE"
        } else {
            "STANDARD"
        };
        (
            vec![
                ("Id", s(BIG_OBJECT_ID)),
                ("CreatedDate", Value::DateTime(utc_ms(created_ms))),
                ("EventDate", Value::DateTime(utc_ms(event_ms))),
                ("EventIdentifier", s(identifier)),
                ("UserId", s(u.id.clone())),
                ("Username", s(u.username.clone())),
                ("SessionKey", s(session_key)),
                ("LoginKey", s(login_key)),
                ("SessionLevel", s(level)),
                ("SourceIp", s(ip)),
            ],
            u.id.clone(),
        )
    }
}

/// A version-4 UUID (an EventIdentifier) from two draws of `rng`.
pub(crate) fn uuid(rng: &mut Rng) -> String {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&rng.u64().to_le_bytes());
    b[8..].copy_from_slice(&rng.u64().to_le_bytes());
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn rtem(object: &'static str, vals: Vec<(&'static str, Value)>, created_ms: i64) -> ObjectRecord {
    ObjectRecord {
        record: build(object, BIG_OBJECT_ID, vals, Vec::new()),
        visible_at: utc_ms(created_ms),
    }
}

/// Records per block drawn from the spec's range.
fn count(g: &mut Gen<'_>, spec: &OrgSpec) -> u64 {
    let (a, b) = spec.records_per_hour;
    let (lo, hi) = (a.min(b) as u64, a.max(b) as u64);
    lo + g.rng.below(hi - lo + 1)
}

/// LoginEvent and LoginHistory records of one hour (one login each).
fn logins(g: &mut Gen<'_>, spec: &OrgSpec) -> (Vec<ObjectRecord>, Vec<ObjectRecord>) {
    let n = count(g, spec);
    let mut events = Vec::new();
    let mut history = Vec::new();
    for t in g.times(n) {
        let user = g.user(300);
        let created = t + g.storage_delay();
        let (mut vals, user_id) = g.head(t, created, user);
        let l = g.login(user);
        let geo = g.geo(user);
        let history_id = g.id("0Ya");
        let geo_id = ids::id18(&make_id15(
            "04F",
            digest_u64(&[b"geo", geo.city.as_bytes()]) % REC_SPACE,
        ));
        let session_key = if l.kind == "Application" && l.status == "Success" {
            vals.iter()
                .find(|(n, _)| *n == "SessionKey")
                .map(|(_, v)| v.clone())
                .unwrap_or(Value::Null)
        } else {
            Value::Null
        };
        vals.retain(|(n, _)| *n != "SessionKey");
        let source_ip = vals
            .iter()
            .find(|(n, _)| *n == "SourceIp")
            .map(|(_, v)| v.clone())
            .unwrap_or(Value::Null);
        let login_type = l.kind;
        vals.extend([
            ("SessionKey", session_key),
            ("AdditionalInfo", s("{}")),
            ("ApiType", s(l.api_type)),
            (
                "ApiVersion",
                s(if l.api_type == "N/A" { "N/A" } else { "64.0" }),
            ),
            ("Application", s(l.application)),
            ("Browser", s(l.browser)),
            ("CipherSuite", s(l.cipher)),
            ("City", s(geo.city)),
            ("ClientVersion", s(l.client_version)),
            ("Country", s(geo.country)),
            ("CountryIso", s(geo.iso)),
            ("EvaluationTime", Value::Double(0.0)),
            ("HttpMethod", s(l.http_method)),
            ("LoginGeoId", s(geo_id.clone())),
            ("LoginHistoryId", s(history_id.clone())),
            ("LoginLatitude", Value::Double(geo.lat)),
            ("LoginLongitude", Value::Double(geo.lon)),
            ("LoginSubType", opt(l.sub_type)),
            ("LoginType", s(login_type)),
            ("LoginUrl", s(l.login_url.clone())),
            ("Platform", s(l.platform)),
            ("PostalCode", s(geo.postal)),
            ("Status", s(l.status)),
            ("Subdivision", s(geo.subdivision)),
            ("TlsProtocol", s(l.tls)),
            ("UserType", s("Standard")),
        ]);
        events.push(rtem("LoginEvent", vals, created));

        // LoginHistory keeps whole seconds.
        let login_time = utc_ms(t - t.rem_euclid(1000));
        let hvals = vec![
            ("Id", s(history_id.clone())),
            ("UserId", s(user_id)),
            ("LoginTime", Value::DateTime(login_time)),
            ("LoginType", s(login_type)),
            ("SourceIp", source_ip),
            ("LoginUrl", s(l.login_url.clone())),
            ("LoginGeoId", s(geo_id)),
            ("TlsProtocol", s(l.tls)),
            ("CipherSuite", s(l.cipher)),
            ("OptionsIsGet", Value::Bool(l.http_method == "GET")),
            ("OptionsIsPost", Value::Bool(l.http_method == "POST")),
            ("Browser", s(l.browser)),
            ("Platform", s(l.platform)),
            ("Status", s(l.status)),
            ("Application", s(l.application)),
            ("ClientVersion", s(l.client_version)),
            ("ApiType", s(l.api_type)),
            (
                "ApiVersion",
                s(if l.api_type == "N/A" { "N/A" } else { "64.0" }),
            ),
            ("CountryIso", s(geo.iso)),
            ("LoginSubType", opt(l.sub_type)),
        ];
        history.push(ObjectRecord {
            record: build("LoginHistory", &history_id, hvals, Vec::new()),
            visible_at: login_time,
        });
    }
    (events, history)
}

fn entity(
    g: &mut Gen<'_>,
) -> (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
) {
    g.pick(ENTITIES)
}

/// Sorts an object's records by event time (CreatedDate for SetupAuditTrail, LoginTime for
/// LoginHistory, EventDate otherwise), then Id. Stable: records of one time and Id (RTEM
/// records all carry one synthetic Id) keep their order.
pub(crate) fn sort_records(object: &str, recs: &mut [ObjectRecord]) {
    let time_field = match object {
        "SetupAuditTrail" => "CreatedDate",
        "LoginHistory" => "LoginTime",
        _ => "EventDate",
    };
    let time = |r: &ObjectRecord| match r.record.get(time_field) {
        Some(Value::DateTime(t)) => *t,
        _ => DateTime::<Utc>::default(),
    };
    recs.sort_by(|a, b| (time(a), a.record.id.as_deref()).cmp(&(time(b), b.record.id.as_deref())));
}

/// Every object's records (aligned with [`OBJECTS`]), for hours from `start` to
/// [`FUTURE_HOURS`] beyond the anchor.
pub(crate) fn generate(
    spec: &OrgSpec,
    options: &GenOptions,
    ctx: &OrgCtx,
    users: &[User],
    start: i64,
) -> Vec<Vec<ObjectRecord>> {
    let mut out: Vec<Vec<ObjectRecord>> = OBJECTS.iter().map(|_| Vec::new()).collect();
    let rtem = spec.records_per_hour.0.max(spec.records_per_hour.1) > 0;
    if users.is_empty() || (!rtem && options.audit_per_hour.is_none()) {
        return out;
    }
    let anchor_ms = spec.anchor.timestamp_millis();
    let end = spec.anchor.timestamp() + FUTURE_HOURS * HOUR;
    let idx = |name: &str| OBJECTS.iter().position(|o| *o == name).unwrap_or(0);
    let mut used_audit_ids = HashSet::new();
    let mut h = start;
    while h < end {
        if rtem {
            for &object in RTEM_OBJECTS {
                let mut g = Gen::new(spec.seed, object, h, ctx, users);
                if object == "LoginEvent" {
                    let (events, history) = logins(&mut g, spec);
                    out[idx("LoginEvent")].extend(events);
                    out[idx("LoginHistory")].extend(history);
                } else {
                    out[idx(object)].extend(rtem_block(&mut g, spec, object));
                }
            }
        }
        let mut g = Gen::new(spec.seed, "SetupAuditTrail", h, ctx, users);
        out[idx("SetupAuditTrail")].extend(audit_block(
            &mut g,
            &mut used_audit_ids,
            options.audit_per_hour,
        ));
        h += HOUR;
    }
    for (i, recs) in out.iter_mut().enumerate() {
        let object = OBJECTS[i];
        sort_records(object, recs);
        if spec.duplicate_event_identifiers && RTEM_OBJECTS.contains(&object) {
            add_duplicates(object, spec.seed, recs, anchor_ms);
        }
    }
    out
}
