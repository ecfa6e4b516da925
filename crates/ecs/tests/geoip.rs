//! The GeoIP extension point: a provider is called where Elastic's pipelines run `geoip`, and
//! never overrides what the record says.

use std::net::IpAddr;
use std::sync::Arc;

use ecs::{GeoIp, Normalizer, Options};
use serde_json::{json, Map, Value};

struct Fixed;

impl GeoIp for Fixed {
    fn geo(&self, ip: IpAddr) -> Option<Map<String, Value>> {
        let v = json!({"country_iso_code": "ZZ", "city_name": format!("city of {ip}"),
                       "location": {"lat": 1.5, "lon": 2.5}});
        v.as_object().cloned()
    }

    fn asn(&self, _ip: IpAddr) -> Option<Map<String, Value>> {
        json!({"number": 64500, "organization": {"name": "Example"}})
            .as_object()
            .cloned()
    }
}

fn normalizer() -> Normalizer {
    Normalizer::new(Options::default())
        .expect("normalizer")
        .with_geoip(Arc::new(Fixed))
}

#[test]
fn event_log_file_login_gets_city_data() {
    let ev = json!({"@timestamp": "2024-01-01T00:00:00.000Z", "id": "e", "source": "EventLogFile",
        "event_type": "Login", "fields": {"EVENT_TYPE": "Login", "SOURCE_IP": "192.0.2.7"}});
    let b = normalizer().ecs(&ev).expect("doc").body;
    assert_eq!(b["source"]["geo"]["city_name"], "city of 192.0.2.7");
    assert!(b["source"].get("as").is_none(), "login asks for no ASN");
}

#[test]
fn login_event_keeps_salesforce_location() {
    let ev = json!({"@timestamp": "2024-01-01T00:00:00.000Z", "id": "e", "source": "LoginEvent",
        "fields": {"SourceIp": "192.0.2.7", "LoginLatitude": 10.0, "LoginLongitude": 20.0,
                   "City": "Here"}});
    let b = normalizer().ecs(&ev).expect("doc").body;
    assert_eq!(
        b["source"]["geo"],
        json!({"city_name": "Here", "location": {"lat": 10.0, "lon": 20.0}})
    );
}

#[test]
fn aura_request_gets_asn_too() {
    let ev = json!({"@timestamp": "2024-01-01T00:00:00.000Z", "id": "e",
        "source": "AuraRequestEventLog", "fields": {"ClientIp": "2001:db8::9"}});
    let b = normalizer().ecs(&ev).expect("doc").body;
    assert_eq!(b["source"]["geo"]["country_iso_code"], "ZZ");
    assert_eq!(b["source"]["as"]["number"], 64500);
    // No address, no lookup.
    let ev = json!({"@timestamp": "2024-01-01T00:00:00.000Z", "id": "e",
        "source": "AuraRequestEventLog", "fields": {"ClientIp": "Salesforce.com IP"}});
    let b = normalizer().ecs(&ev).expect("doc").body;
    assert!(b.get("source").is_none());
    assert_eq!(
        b["salesforce"]["aura_request"]["client_ip"],
        "Salesforce.com IP"
    );
}
