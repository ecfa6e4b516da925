//! EXTENSION POINT: GeoIP enrichment (`source.geo.*`, `source.as.*`). Not implemented this
//! round: no database reader ships with this crate.
//!
//! Elastic's pipelines run the `geoip` processor (MaxMind GeoLite2 City, and ASN for
//! aura_request) on `source.ip`. To do the same here, implement [`GeoIp`] over a database
//! reader and give it to [`crate::Normalizer::with_geoip`]; every data stream then calls it
//! where Elastic's pipeline runs `geoip`, and never overwrites what the record already says
//! (LoginEvent carries its own city, country and coordinates). Without a provider those
//! fields are simply absent; the conformance test treats them as the one expected gap.

use std::net::IpAddr;

use serde_json::{Map, Value};

use crate::body::Body;

/// A GeoIP database, as the `geoip` processor uses one.
pub trait GeoIp: Send + Sync {
    /// The ECS `geo` object for `ip`: `city_name`, `continent_name`, `country_iso_code`,
    /// `country_name`, `region_iso_code`, `region_name`, `location: {lat, lon}`...
    fn geo(&self, ip: IpAddr) -> Option<Map<String, Value>>;

    /// The ECS `as` object for `ip`: `{number, organization: {name}}`.
    fn asn(&self, ip: IpAddr) -> Option<Map<String, Value>> {
        let _ = ip;
        None
    }
}

/// Runs the provider on `source.ip` (city data into `source.geo`, and with `with_asn` the ASN
/// into `source.as`), keeping any value already there.
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
