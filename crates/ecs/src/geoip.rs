//! GeoIP enrichment (`source.geo.*`, `source.as.*`), as Elasticsearch's `geoip` processor does
//! it in Elastic's Salesforce pipelines.
//!
//! Those pipelines run `geoip` on `source.ip` with the default City database
//! (`target_field: source.geo`, default properties) in every data stream, and for aura_request
//! also with `GeoLite2-ASN.mmdb` (`target_field: source.as`, properties `asn` and
//! `organization_name`, then renamed to `number` and `organization.name`). Each data stream
//! calls [`enrich`] at the point where its pipeline runs the processor, so that what the
//! pipeline writes afterwards (LoginEvent's own `City`, `Country`...) wins, as it does there.
//!
//! [`GeoIp`] is the extension point; [`MaxMindGeoIp`] implements it over MaxMind databases
//! (GeoLite2/GeoIP2 City and ASN) with the `maxminddb` crate, producing exactly the fields the
//! processor produces. Without a provider the fields are simply absent.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use maxminddb::{geoip2, Reader};
use serde_json::{json, Map, Number, Value};

use crate::body::Body;

/// A GeoIP database, as the `geoip` processor uses one.
pub trait GeoIp: Send + Sync {
    /// The ECS `geo` object for `ip`, with the fields the processor's default properties give
    /// for a City database: `continent_name`, `country_iso_code`, `country_name`,
    /// `region_iso_code`, `region_name`, `city_name`, `location: {lat, lon}` (each only when the
    /// database has it). `None` when the database knows nothing of `ip`.
    fn geo(&self, ip: IpAddr) -> Option<Map<String, Value>>;

    /// The ECS `as` object for `ip`: `{number, organization: {name}}`.
    fn asn(&self, ip: IpAddr) -> Option<Map<String, Value>> {
        let _ = ip;
        None
    }
}

/// Runs the provider on `source.ip` (city data into `source.geo`, and with `with_asn` the ASN
/// into `source.as`), keeping any value already there.
///
/// Elasticsearch replaces the whole target object; no pipeline runs `geoip` where the target
/// already holds something (login's object pipeline skips it when `source.geo.location` is
/// set), so keeping what is there only matters for callers that fill it first on purpose.
pub(crate) fn enrich(body: &mut Body, provider: Option<&dyn GeoIp>, with_asn: bool) {
    let Some(provider) = provider else { return };
    let Some(ip) = body.str("source.ip").and_then(|s| s.parse::<IpAddr>().ok()) else {
        return;
    };
    if let Some(geo) = provider.geo(ip) {
        merge(body, "source.geo", geo);
    }
    if with_asn {
        if let Some(asn) = provider.asn(ip) {
            merge(body, "source.as", asn);
        }
    }
}

fn merge(body: &mut Body, at: &str, found: Map<String, Value>) {
    for (k, v) in found {
        let path = format!("{at}.{k}");
        if !body.has(&path) {
            body.set(&path, v);
        }
    }
}

/// The kinds of MaxMind database [`MaxMindGeoIp`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatabaseKind {
    /// GeoLite2-City, GeoIP2-City: `source.geo.*`.
    City,
    /// GeoLite2-ASN, GeoIP2-ASN: `source.as.*`.
    Asn,
}

impl DatabaseKind {
    /// What a database's `database_type` metadata says it is. Elasticsearch decides the same
    /// way, by the suffix (`GeoLite2-City`, `GeoIP2-City`, `GeoLite2-ASN`...); Country,
    /// Enterprise, ISP and the others are not read here.
    pub fn of(database_type: &str) -> Option<DatabaseKind> {
        if database_type.ends_with("-City") {
            Some(DatabaseKind::City)
        } else if database_type.ends_with("-ASN") {
            Some(DatabaseKind::Asn)
        } else {
            None
        }
    }
}

impl fmt::Display for DatabaseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DatabaseKind::City => "City",
            DatabaseKind::Asn => "ASN",
        })
    }
}

/// Why a GeoIP database could not be used.
#[derive(Debug, thiserror::Error)]
pub enum GeoIpError {
    /// The file could not be read (missing, no permission...).
    #[error("cannot read the GeoIP database {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not a MaxMind DB (a `.tar.gz` or CSV download, say) or is damaged.
    #[error("{} is not a MaxMind database (.mmdb): {reason}", path.display())]
    NotMaxMind { path: PathBuf, reason: String },
    /// A MaxMind database of a kind that is not read here (Country, ISP...).
    #[error("{} is a {database_type} database: only City (GeoLite2-City, GeoIP2-City) and ASN (GeoLite2-ASN) databases are read", path.display())]
    Unsupported {
        path: PathBuf,
        database_type: String,
    },
    /// Two databases of the same kind given to [`MaxMindGeoIp::combine`].
    #[error("{} and {} are both {kind} databases", first.display(), second.display())]
    Duplicate {
        kind: DatabaseKind,
        first: PathBuf,
        second: PathBuf,
    },
}

/// One opened database, read into memory.
struct Database {
    path: PathBuf,
    database_type: String,
    reader: Reader<Vec<u8>>,
}

/// MaxMind City and/or ASN databases as Elasticsearch's `geoip` processor reads them.
///
/// Each file is read into memory once, when opened. Memory-mapping would save that copy, but
/// a database replaced in place while mapped (MaxMind's updaters rewrite the file) could then
/// crash the process. Clones share the databases.
#[derive(Clone)]
pub struct MaxMindGeoIp {
    city: Option<Arc<Database>>,
    asn: Option<Arc<Database>>,
}

impl fmt::Debug for MaxMindGeoIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |d: &Option<Arc<Database>>| {
            d.as_ref()
                .map(|d| format!("{} ({})", d.path.display(), d.database_type))
        };
        f.debug_struct("MaxMindGeoIp")
            .field("city", &show(&self.city))
            .field("asn", &show(&self.asn))
            .finish()
    }
}

impl MaxMindGeoIp {
    /// Opens one database, a City or an ASN one (told apart by its metadata).
    pub fn open(path: impl AsRef<Path>) -> Result<MaxMindGeoIp, GeoIpError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| GeoIpError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let reader = Reader::from_source(bytes).map_err(|e| GeoIpError::NotMaxMind {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let database_type = reader.metadata().database_type.clone();
        let kind = DatabaseKind::of(&database_type).ok_or_else(|| GeoIpError::Unsupported {
            path: path.to_path_buf(),
            database_type: database_type.clone(),
        })?;
        let db = Some(Arc::new(Database {
            path: path.to_path_buf(),
            database_type,
            reader,
        }));
        Ok(match kind {
            DatabaseKind::City => MaxMindGeoIp {
                city: db,
                asn: None,
            },
            DatabaseKind::Asn => MaxMindGeoIp {
                city: None,
                asn: db,
            },
        })
    }

    /// The databases of both: a City one from either, an ASN one from either.
    pub fn combine(&self, other: &MaxMindGeoIp) -> Result<MaxMindGeoIp, GeoIpError> {
        let pick = |kind, a: &Option<Arc<Database>>, b: &Option<Arc<Database>>| match (a, b) {
            (Some(a), Some(b)) => Err(GeoIpError::Duplicate {
                kind,
                first: a.path.clone(),
                second: b.path.clone(),
            }),
            (a, b) => Ok(a.clone().or_else(|| b.clone())),
        };
        Ok(MaxMindGeoIp {
            city: pick(DatabaseKind::City, &self.city, &other.city)?,
            asn: pick(DatabaseKind::Asn, &self.asn, &other.asn)?,
        })
    }

    /// Whether a database of `kind` is here.
    pub fn has(&self, kind: DatabaseKind) -> bool {
        self.database(kind).is_some()
    }

    /// The `database_type` of the database of `kind` (`GeoLite2-City`...).
    pub fn database_type(&self, kind: DatabaseKind) -> Option<&str> {
        self.database(kind).map(|d| d.database_type.as_str())
    }

    fn database(&self, kind: DatabaseKind) -> Option<&Database> {
        match kind {
            DatabaseKind::City => self.city.as_deref(),
            DatabaseKind::Asn => self.asn.as_deref(),
        }
    }
}

impl GeoIp for MaxMindGeoIp {
    fn geo(&self, ip: IpAddr) -> Option<Map<String, Value>> {
        let db = self.city.as_ref()?;
        let ip = canonical(ip);
        // A lookup error (an IPv6 address in an IPv4-only database) or an undecodable record
        // adds nothing, as the pipelines' `ignore_failure` does; an address the database does
        // not have (private, reserved, unknown) gives no record at all.
        let city: geoip2::City = db.reader.lookup(ip).ok()?.decode().ok()??;
        let geo = city_fields(&city);
        (!geo.is_empty()).then_some(geo)
    }

    fn asn(&self, ip: IpAddr) -> Option<Map<String, Value>> {
        let db = self.asn.as_ref()?;
        let asn: geoip2::Asn = db.reader.lookup(canonical(ip)).ok()?.decode().ok()??;
        let mut out = Map::new();
        // The processor's `asn` and `organization_name`, renamed by the pipeline.
        if let Some(n) = asn.autonomous_system_number {
            out.insert("number".into(), n.into());
        }
        if let Some(name) = asn.autonomous_system_organization {
            out.insert("organization".into(), json!({ "name": name }));
        }
        (!out.is_empty()).then_some(out)
    }
}

/// `::ffff:a.b.c.d` as the IPv4 address it is: Elasticsearch parses it so (Java's
/// `InetAddress`), and a database without the `::ffff:0:0/96` alias would not find it.
fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// The processor's default City properties, as Elasticsearch builds them: English names
/// (its locale), the country (not the registered country), the most specific subdivision
/// (the last one), `region_iso_code` as `<country>-<subdivision>` only when both codes exist,
/// and `location` only with both coordinates.
fn city_fields(c: &geoip2::City) -> Map<String, Value> {
    let mut out = Map::new();
    let mut put = |k: &str, v: Option<&str>| {
        if let Some(v) = v {
            out.insert(k.to_string(), Value::String(v.to_string()));
        }
    };
    let subdivision = c.subdivisions.last();
    put("city_name", c.city.names.english);
    put("continent_name", c.continent.names.english);
    put("country_iso_code", c.country.iso_code);
    put("country_name", c.country.names.english);
    let region_iso = c
        .country
        .iso_code
        .zip(subdivision.and_then(|s| s.iso_code))
        .map(|(country, sub)| format!("{country}-{sub}"));
    put("region_iso_code", region_iso.as_deref());
    put("region_name", subdivision.and_then(|s| s.names.english));
    let coordinate = |x: Option<f64>| x.and_then(Number::from_f64);
    if let (Some(lat), Some(lon)) = (
        coordinate(c.location.latitude),
        coordinate(c.location.longitude),
    ) {
        out.insert("location".into(), json!({ "lat": lat, "lon": lon }));
    }
    out
}
