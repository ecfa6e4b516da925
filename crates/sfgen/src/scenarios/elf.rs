//! EventLogFile rows a scenario plants: every column of the type, in file order. The columns
//! the attack is about are set by the scenario; identity, time, keys and IPs come from the
//! actor; the rest take an ordinary value of the column's kind, as a background row would.

use chrono::{DateTime, Utc};

use super::{Actor, Sc};
use crate::columns::{self, Kind};
use crate::ids::{self, make_id15};
use crate::rows::{push_template, Rng};

/// 62^7.
const REC_SPACE: u64 = 3_521_614_606_208;
const B64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// One planted row of an event type at a time.
pub(crate) struct ElfPlant {
    pub event_type: &'static str,
    /// Event time, epoch ms.
    pub at_ms: i64,
    /// Values in the type's column order.
    pub values: Vec<String>,
    /// The scenario's index in the org's planted list.
    pub tag: usize,
}

fn time(ms: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default()
}

/// `TIMESTAMP`: `yyyyMMddHHmmss.SSS`, GMT.
pub(crate) fn elf_timestamp(ms: i64) -> String {
    time(ms).format("%Y%m%d%H%M%S%.3f").to_string()
}

/// `TIMESTAMP_DERIVED`: ISO 8601 with milliseconds, `Z`.
fn iso(ms: i64) -> String {
    time(ms).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A random 15-character id with this key prefix.
pub(crate) fn id15(rng: &mut Rng, prefix: &str) -> String {
    make_id15(prefix, rng.below(REC_SPACE))
}

/// A row of `event_type` at `at_ms` by `a`, with `set` overriding columns by name. Every
/// name in `set` must be a column of the type.
pub(crate) fn row(
    sc: &Sc<'_>,
    rng: &mut Rng,
    event_type: &'static str,
    at_ms: i64,
    a: &Actor,
    set: &[(&str, String)],
) -> ElfPlant {
    let cols = columns::columns(event_type);
    let mut values: Vec<String> = cols
        .iter()
        .map(|c| default(sc, rng, event_type, c, at_ms, a))
        .collect();
    for (name, v) in set {
        let i = cols.iter().position(|c| c == name);
        debug_assert!(i.is_some(), "{event_type} has no column {name}");
        if let Some(i) = i {
            values[i] = v.clone();
        }
    }
    ElfPlant {
        event_type,
        at_ms,
        values,
        tag: 0,
    }
}

fn default(
    sc: &Sc<'_>,
    rng: &mut Rng,
    event_type: &str,
    col: &str,
    at_ms: i64,
    a: &Actor,
) -> String {
    let p = &sc.people[a.person];
    match col {
        "EVENT_TYPE" => event_type.to_string(),
        "TIMESTAMP" => elf_timestamp(at_ms),
        "TIMESTAMP_DERIVED" => iso(at_ms),
        "REQUEST_ID" => (0..22)
            .map(|_| B64URL[rng.below(64) as usize] as char)
            .collect(),
        "ORGANIZATION_ID" => sc.org.org_id15.clone(),
        "USER_ID" => p.id15.clone(),
        "USER_ID_DERIVED" => p.id18.clone(),
        "USER_NAME" => p.username.clone(),
        "CLIENT_IP" | "SOURCE_IP" => a.ip.clone(),
        "SESSION_KEY" => a.session_key.clone(),
        "LOGIN_KEY" => a.login_key.clone(),
        "USER_TYPE" => "Standard".to_string(),
        "URI_ID_DERIVED" => String::new(),
        "URI" => {
            // A template without a record id, so URI_ID_DERIVED rightly stays empty.
            let t = columns::uri_templates(event_type)
                .iter()
                .find(|t| !t.contains('{') || t.contains("{org}"))
                .copied()
                .unwrap_or("/");
            expand(t, rng, &sc.org.slug)
        }
        _ => by_kind(columns::kind(event_type, col), rng, &sc.org.slug, at_ms),
    }
}

fn expand(t: &str, rng: &mut Rng, slug: &str) -> String {
    let mut out = Vec::new();
    push_template(&mut out, t, rng.below(REC_SPACE), slug);
    String::from_utf8_lossy(&out).into_owned()
}

/// An ordinary value of a column kind.
fn by_kind(kind: Kind, rng: &mut Rng, slug: &str, at_ms: i64) -> String {
    match kind {
        Kind::Pick(items) => rng.pick(items).to_string(),
        Kind::Template(items) => {
            let t = rng.pick(items);
            expand(t, rng, slug)
        }
        Kind::Num(lo, hi) => (lo + rng.below(hi - lo + 1)).to_string(),
        Kind::Skewed(lo, hi) => (lo + rng.below((hi - lo) / 50 + 1)).to_string(),
        Kind::Bool01(p) => if rng.permille(p) { "1" } else { "0" }.to_string(),
        Kind::BoolTf(p) => if rng.permille(p) { "true" } else { "false" }.to_string(),
        Kind::ApiVersion => "64.0".to_string(),
        Kind::UserAgent => "python-requests/2.31.0".to_string(),
        Kind::RecId(prefix) | Kind::RandId(prefix, _) => id15(rng, prefix),
        Kind::RecIdDerived(prefix) | Kind::RandId18(prefix, _) => ids::id18(&id15(rng, prefix)),
        Kind::EpochMs { .. } => at_ms.to_string(),
        Kind::Uuid => crate::objects::uuid(rng),
        _ => String::new(),
    }
}
