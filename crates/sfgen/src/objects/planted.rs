//! Records attack scenarios plant: built field by field like the generated ones (schema
//! order, the same value forms), so a reader cannot tell them apart but by their content.

use super::*;
use crate::rows::Rng;

/// Who an event is attributed to, and from where.
pub(crate) struct EventUser<'a> {
    pub id18: &'a str,
    pub username: &'a str,
    pub login_key: &'a str,
    pub session_key: &'a str,
    pub ip: &'a str,
}

/// A login attempt's facts (shared by its LoginEvent and LoginHistory records).
pub(crate) struct LoginFacts<'a> {
    pub status: &'a str,
    pub login_type: &'a str,
    pub sub_type: Option<&'a str>,
    pub application: &'a str,
    pub browser: &'a str,
    pub platform: &'a str,
    pub geo: &'static Geo,
    pub login_url: &'a str,
}

/// The place an attack logs in from: `n` picks one of the attack places.
pub(crate) fn attack_geo(n: u64) -> &'static Geo {
    &ATTACK_GEOS[(n % ATTACK_GEOS.len() as u64) as usize]
}

/// A user's home place (where every generated login of theirs comes from).
pub(crate) fn home_geo(ip: [u8; 4]) -> &'static Geo {
    super::geo::home(ip)
}

/// Storage delay of a planted RTEM record: one to five seconds.
fn delay(rng: &mut Rng) -> i64 {
    1000 + rng.below(4001) as i64
}

/// The fields every RTEM big-object record starts with.
fn head(
    rng: &mut Rng,
    ev_ms: i64,
    created_ms: i64,
    u: &EventUser<'_>,
) -> Vec<(&'static str, Value)> {
    vec![
        ("Id", s(BIG_OBJECT_ID)),
        ("CreatedDate", Value::DateTime(utc_ms(created_ms))),
        ("EventDate", Value::DateTime(utc_ms(ev_ms))),
        ("EventIdentifier", s(uuid(rng))),
        ("UserId", s(u.id18)),
        ("Username", s(u.username)),
        ("SessionKey", s(u.session_key)),
        ("LoginKey", s(u.login_key)),
        ("SessionLevel", s("STANDARD")),
        ("SourceIp", s(u.ip)),
    ]
}

/// An RTEM big-object record of `object` at `ev_ms` with `fields` beside the common ones
/// (Transaction Security fields included: they go after the schema's, as
/// [`add`] puts them on every record of an org with scenarios).
pub(crate) fn rtem_event(
    rng: &mut Rng,
    object: &'static str,
    ev_ms: i64,
    u: &EventUser<'_>,
    fields: Vec<(&'static str, Value)>,
) -> ObjectRecord {
    let created = ev_ms + delay(rng);
    let mut vals = head(rng, ev_ms, created, u);
    vals.extend(fields);
    let policy: Vec<(&'static str, Value)> = super::schema::policy_fields(object)
        .iter()
        .map(|(n, _)| {
            let v = vals.iter().find(|(m, _)| m == n).map(|(_, v)| v.clone());
            (*n, v.unwrap_or(Value::Null))
        })
        .collect();
    ObjectRecord {
        record: build(object, BIG_OBJECT_ID, vals, policy),
        visible_at: utc_ms(created),
    }
}

/// A login attempt: its LoginEvent and its LoginHistory record, in that order.
pub(crate) fn login(
    rng: &mut Rng,
    ev_ms: i64,
    u: &EventUser<'_>,
    f: &LoginFacts<'_>,
) -> [ObjectRecord; 2] {
    let history_id = ids::id18(&make_id15("0Ya", rng.below(REC_SPACE)));
    let geo_id = ids::id18(&make_id15(
        "04F",
        digest_u64(&[b"geo", f.geo.city.as_bytes()]) % REC_SPACE,
    ));
    let ok = f.status == "Success";
    let created = ev_ms + delay(rng);
    let mut vals = head(rng, ev_ms, created, u);
    vals.retain(|(n, _)| *n != "SessionKey");
    let session = if ok { s(u.session_key) } else { Value::Null };
    vals.extend([
        ("SessionKey", session),
        ("AdditionalInfo", s("{}")),
        ("ApiType", s("N/A")),
        ("ApiVersion", s("N/A")),
        ("Application", s(f.application)),
        ("Browser", s(f.browser)),
        ("CipherSuite", s("ECDHE-RSA-AES256-GCM-SHA384")),
        ("City", s(f.geo.city)),
        ("ClientVersion", s("N/A")),
        ("Country", s(f.geo.country)),
        ("CountryIso", s(f.geo.iso)),
        ("EvaluationTime", Value::Double(0.0)),
        ("HttpMethod", s("POST")),
        ("LoginGeoId", s(geo_id.clone())),
        ("LoginHistoryId", s(history_id.clone())),
        ("LoginLatitude", Value::Double(f.geo.lat)),
        ("LoginLongitude", Value::Double(f.geo.lon)),
        ("LoginSubType", opt(f.sub_type)),
        ("LoginType", s(f.login_type)),
        ("LoginUrl", s(f.login_url)),
        ("Platform", s(f.platform)),
        ("PostalCode", s(f.geo.postal)),
        ("Status", s(f.status)),
        ("Subdivision", s(f.geo.subdivision)),
        ("TlsProtocol", s("TLS 1.2")),
        ("UserType", s("Standard")),
    ]);
    let event = rtem("LoginEvent", vals, created);
    let login_time = utc_ms(ev_ms - ev_ms.rem_euclid(1000));
    let hvals = vec![
        ("Id", s(history_id.clone())),
        ("UserId", s(u.id18)),
        ("LoginTime", Value::DateTime(login_time)),
        ("LoginType", s(f.login_type)),
        ("SourceIp", s(u.ip)),
        ("LoginUrl", s(f.login_url)),
        ("LoginGeoId", s(geo_id)),
        ("TlsProtocol", s("TLS 1.2")),
        ("CipherSuite", s("ECDHE-RSA-AES256-GCM-SHA384")),
        ("OptionsIsGet", Value::Bool(false)),
        ("OptionsIsPost", Value::Bool(true)),
        ("Browser", s(f.browser)),
        ("Platform", s(f.platform)),
        ("Status", s(f.status)),
        ("Application", s(f.application)),
        ("ClientVersion", s("N/A")),
        ("ApiType", s("N/A")),
        ("ApiVersion", s("N/A")),
        ("CountryIso", s(f.geo.iso)),
        ("LoginSubType", opt(f.sub_type)),
    ];
    let history = ObjectRecord {
        record: build("LoginHistory", &history_id, hvals, Vec::new()),
        visible_at: login_time,
    };
    [event, history]
}

/// A Threat Detection store record (a standard object: a real Id, every field its own).
/// Salesforce creates these minutes after the event, once its models have scored it.
#[allow(clippy::too_many_arguments)]
pub(crate) fn threat_event(
    rng: &mut Rng,
    object: &'static str,
    ev_ms: i64,
    u: &EventUser<'_>,
    score: f64,
    summary: &str,
    data: String,
    fields: Vec<(&'static str, Value)>,
) -> ObjectRecord {
    let id = ids::id18(&make_id15(
        super::schema::threat_prefix(object),
        rng.below(REC_SPACE),
    ));
    let created = ev_ms + 300_000 + rng.below(900_001) as i64;
    let mut vals = vec![
        ("Id", s(id.clone())),
        ("CreatedDate", Value::DateTime(utc_ms(created))),
        ("EventDate", Value::DateTime(utc_ms(ev_ms))),
        ("EventIdentifier", s(uuid(rng))),
        ("UserId", s(u.id18)),
        ("Username", s(u.username)),
        ("SessionKey", s(u.session_key)),
        ("LoginKey", s(u.login_key)),
        ("SourceIp", s(u.ip)),
        ("Score", Value::Double(score)),
        ("Summary", s(summary)),
        ("SecurityEventData", s(data)),
    ];
    vals.extend(fields);
    ObjectRecord {
        record: build(object, &id, vals, Vec::new()),
        visible_at: utc_ms(created),
    }
}

/// A SetupAuditTrail record made at `at` (whole seconds) by `by`.
pub(crate) fn audit(
    id_n: u64,
    at: i64,
    by: &User,
    action: &str,
    section: &str,
    display: &str,
    delegate: Option<&str>,
) -> ObjectRecord {
    let id = ids::id18(&make_id15("0Ym", id_n % REC_SPACE));
    let created = DateTime::<Utc>::from_timestamp(at, 0).unwrap_or_default();
    let created_by = Record::new("User", Some(by.id.clone()))
        .with("Id", s(by.id.clone()))
        .with("Username", s(by.username.clone()))
        .with("Name", s(by.name.clone()));
    let vals = vec![
        ("Id", s(id.clone())),
        ("Action", s(action)),
        ("Section", s(section)),
        ("CreatedDate", Value::DateTime(created)),
        ("CreatedById", s(by.id.clone())),
        ("Display", s(display)),
        ("DelegateUser", opt(delegate)),
    ];
    ObjectRecord {
        record: build(
            "SetupAuditTrail",
            &id,
            vals,
            vec![("CreatedBy", Value::Record(Box::new(created_by)))],
        ),
        visible_at: created,
    }
}

/// Adds the planted records to an org's lists (aligned with [`OBJECTS`], grown to
/// [`all_objects`]) and gives ApiEvent and ReportEvent records the Transaction Security fields
/// (see `schema::policy_fields`), null where the record has none.
pub(crate) fn add(out: &mut Vec<Vec<ObjectRecord>>, planted: Vec<(&'static str, ObjectRecord)>) {
    let names: Vec<&'static str> = all_objects().collect();
    out.resize_with(names.len(), Vec::new);
    let mut touched = HashSet::new();
    for (object, rec) in planted {
        if let Some(i) = names.iter().position(|o| *o == object) {
            out[i].push(rec);
            touched.insert(i);
        }
    }
    for (i, recs) in out.iter_mut().enumerate() {
        let extra = super::schema::policy_fields(names[i]);
        for r in recs.iter_mut() {
            for (name, _) in extra {
                if r.record.get(name).is_none() {
                    r.record.fields.push((name.to_string(), Value::Null));
                }
            }
        }
        if touched.contains(&i) {
            sort_records(names[i], recs);
        }
    }
}
