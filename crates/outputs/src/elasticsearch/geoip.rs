//! `geoip_database` (City) and `geoip_asn_database` (ASN): the MaxMind databases the documents'
//! `source.geo.*` and `source.as.*` come from, as Elasticsearch's `geoip` processor adds them
//! in Elastic's pipelines (see `ecs::MaxMindGeoIp`).
//!
//! `run` builds a sink for every org and output every few seconds, and a GeoLite2-City file is
//! tens of MB: each file is read once per process and shared, and read again only when its
//! size or modification time changes (MaxMind's updater replaced it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use ecs::{DatabaseKind, GeoIpError, MaxMindGeoIp};

use super::config::EsConfig;
use crate::sink::SinkError;

/// What tells a replaced file apart: its size and modification time.
type Stamp = (u64, Option<SystemTime>);

/// Databases opened by this process, by path.
static OPENED: Mutex<BTreeMap<PathBuf, (Stamp, MaxMindGeoIp)>> = Mutex::new(BTreeMap::new());

/// The output's GeoIP provider, or none when no database is configured. A database that
/// cannot be used stops the output: documents without the geo fields the user asked for would
/// be indexed for good.
pub(super) fn provider(
    output: &str,
    es: &EsConfig,
) -> Result<Option<Arc<dyn ecs::GeoIp>>, SinkError> {
    let city = es
        .geoip_database
        .as_deref()
        .map(|p| open(output, "geoip_database", p, DatabaseKind::City))
        .transpose()?;
    let asn = es
        .geoip_asn_database
        .as_deref()
        .map(|p| open(output, "geoip_asn_database", p, DatabaseKind::Asn))
        .transpose()?;
    let both = match (city, asn) {
        (Some(c), Some(a)) => c.combine(&a).map_err(|e| {
            // Not reachable after the kind checks in `open`, but an error, not a panic.
            SinkError::Fatal(format!("output {output}: {e}"))
        })?,
        (Some(one), None) | (None, Some(one)) => one,
        (None, None) => return Ok(None),
    };
    Ok(Some(Arc::new(both)))
}

/// Opens (or reuses) one database and checks that it is of the kind its setting wants.
fn open(
    output: &str,
    key: &str,
    path: &Path,
    want: DatabaseKind,
) -> Result<MaxMindGeoIp, SinkError> {
    let db = cached(path).map_err(|e| SinkError::Fatal(explain(output, key, want, &e)))?;
    if db.has(want) {
        return Ok(db);
    }
    let (found, other_key, example) = match want {
        DatabaseKind::City => (
            DatabaseKind::Asn,
            "geoip_asn_database",
            "GeoLite2-City.mmdb",
        ),
        DatabaseKind::Asn => (DatabaseKind::City, "geoip_database", "GeoLite2-ASN.mmdb"),
    };
    let database_type = db.database_type(found).unwrap_or("other");
    Err(SinkError::Fatal(format!(
        "output {output}: {key} {} is a {database_type} database: give it as {other_key}, and {} {want} database ({example}) as {key}",
        path.display(),
        if want == DatabaseKind::Asn { "an" } else { "a" },
    )))
}

fn cached(path: &Path) -> Result<MaxMindGeoIp, GeoIpError> {
    let stamp = std::fs::metadata(path)
        .ok()
        .map(|m| (m.len(), m.modified().ok()));
    // A panic elsewhere while the lock was held leaves the map as consistent as ever.
    let mut opened = OPENED.lock().unwrap_or_else(|e| e.into_inner());
    if let (Some(stamp), Some((was, db))) = (stamp, opened.get(path)) {
        if stamp == *was {
            return Ok(db.clone());
        }
    }
    let db = MaxMindGeoIp::open(path)?;
    tracing::info!(
        database = %path.display(),
        city = db.database_type(DatabaseKind::City).unwrap_or(""),
        asn = db.database_type(DatabaseKind::Asn).unwrap_or(""),
        "GeoIP database read"
    );
    match stamp {
        Some(stamp) => {
            opened.insert(path.to_path_buf(), (stamp, db.clone()));
        }
        None => {
            opened.remove(path);
        }
    }
    Ok(db)
}

/// The error, with the file and what to do about it.
fn explain(output: &str, key: &str, want: DatabaseKind, e: &GeoIpError) -> String {
    let example = match want {
        DatabaseKind::City => "GeoLite2-City.mmdb or GeoIP2-City.mmdb",
        DatabaseKind::Asn => "GeoLite2-ASN.mmdb",
    };
    let fix = match e {
        GeoIpError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            format!("give the path of a {want} database ({example}), or remove {key}")
        }
        GeoIpError::Read { .. } => {
            format!("make the file readable by the user sfevents runs as, or remove {key}")
        }
        GeoIpError::NotMaxMind { .. } => format!(
            "give the .mmdb file itself ({example}, unpacked from MaxMind's .tar.gz download), or remove {key}"
        ),
        GeoIpError::Unsupported { .. } | GeoIpError::Duplicate { .. } => {
            format!("give a {want} database ({example}), or remove {key}")
        }
    };
    format!("output {output}: {key}: {e}: {fix}")
}
