//! The few ingest processors Elastic's Salesforce pipelines use, applied from the record
//! (`json.*` in the pipelines) into the document. Each keeps its processor's semantics:
//! a missing or `null` source field does nothing (`ignore_missing`), and a value the processor
//! could not convert leaves the target unset. Where the pipeline would then record an error
//! (`error.message`, `event.kind: pipeline_error`), these leave the field out instead.

use serde_json::Value;

use crate::body::Body;
use crate::convert;
use crate::event::{ArchiveEvent, Record};
use crate::geoip::GeoIp;

/// What a data stream's mapping gets.
pub(crate) struct Ctx<'a> {
    pub ev: &'a ArchiveEvent<'a>,
    pub rec: Record<'a>,
    pub geoip: Option<&'a dyn GeoIp>,
}

/// `rename`: the value as it is, whatever its type.
pub(crate) fn rename(b: &mut Body, rec: Record, from: &str, to: &str) {
    if let Some(v) = rec.get(from) {
        b.set(to, v.clone());
    }
}

/// Several `rename`s, `(from, to)`.
pub(crate) fn renames(b: &mut Body, rec: Record, pairs: &[(&str, &str)]) {
    for (from, to) in pairs {
        rename(b, rec, from, to);
    }
}

/// `date` with the `ISO8601` format: the target gets the UTC time with milliseconds.
pub(crate) fn date(b: &mut Body, rec: Record, from: &str, to: &str) -> bool {
    let t = rec
        .get(from)
        .and_then(Value::as_str)
        .and_then(convert::iso8601);
    match t {
        Some(t) => {
            b.set(to, convert::format_utc(&t));
            true
        }
        None => false,
    }
}

/// `convert` with `type: long`.
pub(crate) fn long(b: &mut Body, rec: Record, from: &str, to: &str) {
    b.set_opt(to, rec.get(from).and_then(convert::es_long));
}

/// `convert` with `type: double`.
pub(crate) fn double(b: &mut Body, rec: Record, from: &str, to: &str) {
    b.set_opt(
        to,
        rec.get(from)
            .and_then(convert::es_double)
            .and_then(convert::float),
    );
}

/// `convert` with `type: ip`: the string as it is, when it is an address.
pub(crate) fn ip(b: &mut Body, rec: Record, from: &str, to: &str) -> bool {
    match rec.str(from).filter(|s| convert::is_ip(s)) {
        Some(s) => {
            b.set(to, s);
            true
        }
        None => false,
    }
}

/// A Painless lookup script: replaces the value at `path` when the table has it.
pub(crate) fn decode(b: &mut Body, path: &str, table: &[(&str, &str)]) {
    let found = b
        .str(path)
        .and_then(|v| table.iter().find(|(code, _)| *code == v))
        .map(|(_, name)| *name);
    if let Some(name) = found {
        b.set(path, name);
    }
}

/// `related.ip` from `source.ip`, as every stream's default pipeline appends it.
pub(crate) fn related_source_ip(b: &mut Body) {
    if let Some(ip) = b.str("source.ip").map(str::to_string) {
        b.append_unique("related.ip", ip);
    }
}

/// Sets the constant `event.*` values a pipeline writes with `set`.
pub(crate) fn set_all(b: &mut Body, pairs: &[(&str, Value)]) {
    for (k, v) in pairs {
        b.set(k, v.clone());
    }
}
