//! GeoIP enrichment: a provider is called where Elastic's pipelines run `geoip` and never
//! overrides what the record says (the `Fixed` provider below), and `MaxMindGeoIp` reads real
//! `.mmdb` files into exactly the fields Elasticsearch's `geoip` processor produces. The
//! databases are written by `support/mmdb.rs` (no MaxMind file is shipped or downloaded); the
//! places in them are the ones Elastic's pipeline fixtures show for the same addresses, which
//! come from MaxMind's test databases.

#[path = "support/mmdb.rs"]
mod mmdb;

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use ecs::{DatabaseKind, GeoIp, GeoIpError, MaxMindGeoIp, Mode, Normalizer, Options};
use mmdb::{Place, Writer};
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

// ---------------------------------------------------------------------------------------------
// MaxMind databases

const LONDON: &str = "81.2.69.142";
const LINKOPING: &str = "89.160.20.112";
const CHANGCHUN: &str = "175.16.199.0";

/// A City database with the places Elastic's fixtures show, plus a place with two
/// subdivisions (IPv6), a country-only network and a record without ISO codes.
fn city_db() -> Vec<u8> {
    let london = Place {
        continent: ("EU", "Europe"),
        country: ("GB", "United Kingdom"),
        subdivisions: vec![("ENG", "England")],
        city: Some("London"),
        location: Some((51.5142, -0.0931)),
        postal: Some("EC2V"),
        time_zone: Some("Europe/London"),
    }
    .record();
    let linkoping = Place {
        continent: ("EU", "Europe"),
        country: ("SE", "Sweden"),
        subdivisions: vec![("E", "Östergötland County")],
        city: Some("Linköping"),
        location: Some((58.4167, 15.6167)),
        postal: None,
        time_zone: Some("Europe/Stockholm"),
    }
    .record();
    let mut w = Writer::new("GeoLite2-City");
    w.insert("81.2.69.142/31", &london)
        .insert("81.2.69.144/28", &london)
        .insert("89.160.20.112/28", &linkoping)
        .insert("89.160.20.128/25", &linkoping)
        .insert(
            "175.16.199.0/24",
            &Place {
                continent: ("AS", "Asia"),
                country: ("CN", "China"),
                subdivisions: vec![("22", "Jilin Sheng")],
                city: Some("Changchun"),
                location: Some((43.88, 125.3228)),
                postal: None,
                time_zone: Some("Asia/Harbin"),
            }
            .record(),
        )
        .insert(
            "216.160.83.56/29",
            &Place {
                continent: ("NA", "North America"),
                country: ("US", "United States"),
                subdivisions: vec![("WA", "Washington")],
                city: Some("Milton"),
                location: Some((47.2513, -122.3149)),
                postal: Some("98354"),
                time_zone: Some("America/Los_Angeles"),
            }
            .record(),
        )
        .insert(
            "67.43.156.0/24",
            &Place {
                continent: ("AS", "Asia"),
                country: ("BT", "Bhutan"),
                subdivisions: vec![],
                city: None,
                location: Some((27.5, 90.5)),
                postal: None,
                time_zone: Some("Asia/Thimphu"),
            }
            .record(),
        )
        .insert(
            "2a02:ec80::/29",
            &Place {
                continent: ("EU", "Europe"),
                country: ("ES", "Spain"),
                subdivisions: vec![("AN", "Andalusia"), ("MA", "Malaga")],
                city: Some("Marbella"),
                location: Some((36.5101, -4.8825)),
                postal: Some("29601"),
                time_zone: Some("Europe/Madrid"),
            }
            .record(),
        )
        .insert(
            "2.125.160.216/29",
            &Place {
                continent: ("EU", "Europe"),
                country: ("GB", "United Kingdom"),
                subdivisions: vec![],
                city: None,
                location: None,
                postal: None,
                time_zone: None,
            }
            .record(),
        )
        .insert(
            "5.83.0.0/16",
            &mmdb::map(vec![
                (
                    "country",
                    mmdb::map(vec![("names", mmdb::names("Elbonia"))]),
                ),
                (
                    "subdivisions",
                    mmdb::Data::Array(vec![mmdb::map(vec![("names", mmdb::names("North"))])]),
                ),
                // Half a location is no location.
                (
                    "location",
                    mmdb::map(vec![("latitude", mmdb::Data::Double(1.5))]),
                ),
            ]),
        );
    w.build()
}

fn asn_db() -> Vec<u8> {
    let mut w = Writer::new("GeoLite2-ASN");
    let bredband2 = mmdb::asn(29518, Some("Bredband2 AB"));
    w.insert("89.160.20.112/28", &bredband2)
        .insert("89.160.20.128/25", &bredband2)
        .insert("216.160.83.56/29", &mmdb::asn(209, None))
        .insert("67.43.156.0/24", &mmdb::asn(35908, None))
        .insert(
            "2a02:ec80::/29",
            &mmdb::asn(39_122, Some("Example Telecom")),
        );
    w.build()
}

/// A database on disk, removed when the test ends.
struct File {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn file(name: &str, bytes: &[u8]) -> File {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write database");
    File { _dir: dir, path }
}

fn open(name: &str, bytes: &[u8]) -> MaxMindGeoIp {
    let f = file(name, bytes);
    MaxMindGeoIp::open(&f.path).expect("database opens")
}

/// City and ASN, as the Elasticsearch output attaches them.
fn both() -> MaxMindGeoIp {
    let city = open("GeoLite2-City.mmdb", &city_db());
    let asn = open("GeoLite2-ASN.mmdb", &asn_db());
    city.combine(&asn).expect("a City and an ASN database")
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("address")
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().expect("object")
}

fn london() -> Value {
    json!({"city_name": "London", "continent_name": "Europe", "country_iso_code": "GB",
           "country_name": "United Kingdom", "location": {"lat": 51.5142, "lon": -0.0931},
           "region_iso_code": "GB-ENG", "region_name": "England"})
}

fn linkoping() -> Value {
    json!({"city_name": "Linköping", "continent_name": "Europe", "country_iso_code": "SE",
           "country_name": "Sweden", "location": {"lat": 58.4167, "lon": 15.6167},
           "region_iso_code": "SE-E", "region_name": "Östergötland County"})
}

fn changchun() -> Value {
    json!({"city_name": "Changchun", "continent_name": "Asia", "country_iso_code": "CN",
           "country_name": "China", "location": {"lat": 43.88, "lon": 125.3228},
           "region_iso_code": "CN-22", "region_name": "Jilin Sheng"})
}

fn bredband2() -> Value {
    json!({"number": 29518, "organization": {"name": "Bredband2 AB"}})
}

#[test]
fn city_lookups_give_the_processors_default_properties() {
    let g = open("GeoLite2-City.mmdb", &city_db());
    assert!(g.has(DatabaseKind::City) && !g.has(DatabaseKind::Asn));
    assert_eq!(g.database_type(DatabaseKind::City), Some("GeoLite2-City"));
    // English names, the country (not the registered one), `<country>-<subdivision>`; no
    // timezone, postal code or accuracy radius (not default properties).
    assert_eq!(g.geo(ip(LONDON)), Some(obj(london())));
    assert_eq!(
        g.geo(ip("81.2.69.143")),
        Some(obj(london())),
        "the whole /31"
    );
    assert_eq!(g.geo(ip(LINKOPING)), Some(obj(linkoping())));
    assert_eq!(g.geo(ip("89.160.20.127")), Some(obj(linkoping())));
    assert_eq!(g.geo(ip(CHANGCHUN)), Some(obj(changchun())));
    // An IPv4-mapped IPv6 address is the IPv4 address (the test database has no alias).
    assert_eq!(g.geo(ip("::ffff:89.160.20.112")), Some(obj(linkoping())));
    // IPv6, and the most specific of two subdivisions.
    assert_eq!(
        g.geo(ip("2a02:ec81:1::7")),
        Some(obj(
            json!({"city_name": "Marbella", "continent_name": "Europe",
            "country_iso_code": "ES", "country_name": "Spain",
            "location": {"lat": 36.5101, "lon": -4.8825},
            "region_iso_code": "ES-MA", "region_name": "Malaga"})
        ))
    );
    // Only what the record has: a country-only network, one without city or subdivision; a
    // record without codes gives names but no country_iso_code or region_iso_code, and half a
    // location no location.
    assert_eq!(
        g.geo(ip("2.125.160.217")),
        Some(obj(
            json!({"continent_name": "Europe", "country_iso_code": "GB",
                        "country_name": "United Kingdom"})
        ))
    );
    assert_eq!(
        g.geo(ip("67.43.156.1")),
        Some(obj(
            json!({"continent_name": "Asia", "country_iso_code": "BT",
                        "country_name": "Bhutan", "location": {"lat": 27.5, "lon": 90.5}})
        ))
    );
    assert_eq!(
        g.geo(ip("5.83.1.2")),
        Some(obj(
            json!({"country_name": "Elbonia", "region_name": "North"})
        ))
    );
    // A City database has no ASN.
    assert_eq!(g.asn(ip(LINKOPING)), None);
}

#[test]
fn private_and_unknown_addresses_give_nothing() {
    let g = both();
    for a in [
        "10.0.0.1",
        "192.168.1.20",
        "172.16.5.4",
        "127.0.0.1",
        "169.254.1.1",
        "8.8.8.8",
        "81.2.69.160",
        "::1",
        "fe80::1",
        "2001:db8::1",
    ] {
        assert_eq!(g.geo(ip(a)), None, "{a}");
        assert_eq!(g.asn(ip(a)), None, "{a}");
    }
}

#[test]
fn asn_lookups_are_renamed_as_the_pipeline_does() {
    let g = open("GeoLite2-ASN.mmdb", &asn_db());
    assert!(g.has(DatabaseKind::Asn) && !g.has(DatabaseKind::City));
    assert_eq!(g.asn(ip(LINKOPING)), Some(obj(bredband2())));
    assert_eq!(g.asn(ip("::ffff:89.160.20.112")), Some(obj(bredband2())));
    assert_eq!(
        g.asn(ip("2a02:ec80::1")),
        Some(obj(
            json!({"number": 39122, "organization": {"name": "Example Telecom"}})
        ))
    );
    assert_eq!(
        g.asn(ip("216.160.83.57")),
        Some(obj(json!({"number": 209}))),
        "no organization name, no organization"
    );
    assert_eq!(g.asn(ip(LONDON)), None, "not in the ASN database");
    assert_eq!(g.geo(ip(LINKOPING)), None, "an ASN database has no places");
}

#[test]
fn databases_that_cannot_be_used_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("GeoLite2-City.mmdb");
    let e = MaxMindGeoIp::open(&missing).expect_err("missing");
    assert!(
        matches!(e, GeoIpError::Read { ref path, .. } if path == &missing),
        "{e:?}"
    );
    assert!(e.to_string().contains("GeoLite2-City.mmdb"), "{e}");

    let tgz = file("GeoLite2-City.tar.gz", b"\x1f\x8b\x08\x00 not a database");
    let e = MaxMindGeoIp::open(&tgz.path).expect_err("not mmdb");
    assert!(matches!(e, GeoIpError::NotMaxMind { .. }), "{e:?}");
    assert!(e.to_string().contains("not a MaxMind database"), "{e}");

    let mut country = Writer::new("GeoLite2-Country");
    country.insert("81.2.69.142/31", &mmdb::map(vec![]));
    let c = file("GeoLite2-Country.mmdb", &country.build());
    let e = MaxMindGeoIp::open(&c.path).expect_err("country");
    assert!(
        matches!(e, GeoIpError::Unsupported { ref database_type, .. } if database_type == "GeoLite2-Country"),
        "{e:?}"
    );

    let city = open("a.mmdb", &city_db());
    let e = city
        .combine(&open("b.mmdb", &city_db()))
        .expect_err("two City");
    assert!(
        matches!(
            e,
            GeoIpError::Duplicate {
                kind: DatabaseKind::City,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(DatabaseKind::of("GeoIP2-City"), Some(DatabaseKind::City));
    assert_eq!(DatabaseKind::of("GeoIP2-ASN"), Some(DatabaseKind::Asn));
    assert_eq!(DatabaseKind::of("GeoIP2-Enterprise"), None);
}

#[test]
fn the_database_is_read_once() {
    let f = file("GeoLite2-City.mmdb", &city_db());
    let g = MaxMindGeoIp::open(&f.path).expect("opens");
    // Replacing or removing the file does not disturb an opened database.
    std::fs::write(&f.path, b"gone").expect("overwrite");
    assert_eq!(g.geo(ip(LONDON)), Some(obj(london())));
}

fn maxmind() -> Normalizer {
    Normalizer::new(Options::default())
        .expect("normalizer")
        .with_geoip(Arc::new(both()))
}

fn ecs(ev: Value) -> Value {
    maxmind().ecs(&ev).expect("doc").body
}

fn elf(event_type: &str, fields: Value) -> Value {
    let mut f = fields;
    f["EVENT_TYPE"] = json!(event_type);
    json!({"@timestamp": "2024-01-01T00:00:00.000Z", "id": "e", "source": "EventLogFile",
           "event_type": event_type, "fields": f})
}

fn object(source: &str, fields: Value) -> Value {
    json!({"@timestamp": "2024-01-01T00:00:00.000Z", "id": "e", "source": source,
           "fields": fields})
}

#[test]
fn data_streams_get_geo_where_elastics_pipelines_run_geoip() {
    // login ELF (Elastic's fixture: 175.16.199.0 -> Changchun), City only.
    let b = ecs(elf(
        "Login",
        json!({"SOURCE_IP": CHANGCHUN, "CLIENT_IP": LINKOPING}),
    ));
    assert_eq!(b["source"], json!({"geo": changchun(), "ip": CHANGCHUN}));
    // logout ELF (CLIENT_IP) and LogoutEvent (fixture: 89.160.20.112 -> Linköping): no ASN.
    let b = ecs(elf("Logout", json!({"CLIENT_IP": LINKOPING})));
    assert_eq!(b["source"], json!({"geo": linkoping(), "ip": LINKOPING}));
    let b = ecs(object("LogoutEvent", json!({"SourceIp": LINKOPING})));
    assert_eq!(b["source"], json!({"geo": linkoping(), "ip": LINKOPING}));
    // apex (fixture: 81.2.69.142 -> London).
    let b = ecs(elf("ApexCallout", json!({"CLIENT_IP": LONDON})));
    assert_eq!(b["source"], json!({"geo": london(), "ip": LONDON}));
    // aura_request, ELF and object: City and ASN; no `as` where the ASN database has nothing
    // (as in the fixture for 81.2.69.142).
    let b = ecs(elf("AuraRequest", json!({"CLIENT_IP": LINKOPING})));
    assert_eq!(
        b["source"],
        json!({"as": bredband2(), "geo": linkoping(), "ip": LINKOPING})
    );
    let b = ecs(object("AuraRequestEventLog", json!({"ClientIp": LONDON})));
    assert_eq!(b["source"], json!({"geo": london(), "ip": LONDON}));
    // `Salesforce.com IP` is no address: nothing is looked up.
    let b = ecs(elf(
        "AuraRequest",
        json!({"CLIENT_IP": "Salesforce.com IP"}),
    ));
    assert!(b.get("source").is_none(), "{b}");
    // Private: the field stays, no geo.
    let b = ecs(elf("Login", json!({"SOURCE_IP": "10.1.2.3"})));
    assert_eq!(b["source"], json!({"ip": "10.1.2.3"}));
}

#[test]
fn login_event_keeps_salesforces_own_location() {
    // Elastic's fixture: LoginEvent from 89.160.20.112, which the database places in
    // Linköping; Salesforce's own coordinates win and the processor does not run, so none of
    // its fields (continent_name, region_iso_code) appear.
    let b = ecs(object(
        "LoginEvent",
        json!({"SourceIp": LINKOPING, "LoginLatitude": 21.1888, "LoginLongitude": 72.8293,
               "City": "Surat", "Country": "India", "CountryIso": "IN", "PostalCode": "395007",
               "Subdivision": "Gujarat"}),
    ));
    assert_eq!(
        b["source"]["geo"],
        json!({"location": {"lat": 21.1888, "lon": 72.8293}, "country_iso_code": "IN",
               "postal_code": "395007", "city_name": "Surat", "region_name": "Gujarat",
               "country_name": "India"})
    );
    // Without coordinates (null: the Filebeat input leaves nulls out, so the processor runs)
    // the database fills in, and Salesforce's own names are renamed over it afterwards.
    let b = ecs(object(
        "LoginEvent",
        json!({"SourceIp": LINKOPING, "LoginLatitude": null, "City": "Norrköping"}),
    ));
    let mut want = linkoping();
    want["city_name"] = json!("Norrköping");
    assert_eq!(b["source"]["geo"], want);
    assert!(b["source"].get("as").is_none());
}

#[test]
fn the_generic_mapping_gets_city_and_asn_on_source_ip() {
    let b = ecs(elf(
        "ApiTotalUsage",
        json!({"CLIENT_IP": LINKOPING, "ROWS": "1"}),
    ));
    assert_eq!(
        b["source"],
        json!({"as": bredband2(), "geo": linkoping(), "ip": LINKOPING})
    );
    let b = ecs(object(
        "LoginHistory",
        json!({"SourceIp": "2a02:ec80::9", "Id": "0Ya000000000001AAA"}),
    ));
    assert_eq!(b["source"]["geo"]["region_iso_code"], "ES-MA");
    assert_eq!(b["source"]["as"]["number"], 39122);
}

#[test]
fn agent_mode_leaves_geoip_to_elastics_pipelines() {
    let n = maxmind();
    let doc = n
        .agent(&elf("Login", json!({"SOURCE_IP": LONDON})))
        .expect("doc");
    assert_eq!(doc.mode, Mode::Agent);
    assert!(doc.body.get("source").is_none(), "{}", doc.body);
    // No pipeline maps a generic dataset: the ECS document, with its GeoIP.
    let doc = n
        .agent(&elf("ApiTotalUsage", json!({"CLIENT_IP": LONDON})))
        .expect("doc");
    assert_eq!(doc.mode, Mode::Ecs);
    assert_eq!(doc.body["source"]["geo"], london());
}

/// Every GeoIP result in Elastic's pipeline fixtures (documents whose `source.geo` has a
/// `continent_name`, which only the processor writes) has exactly the fields and values this
/// provider gives for the same address, and so has every `source.as`.
#[test]
fn elastic_fixtures_geoip_results_match() {
    let corpus = ecs::corpus::dir().unwrap_or_else(|e| panic!("{e}"));
    let g = both();
    let mut checked = 0;
    let mut dirs = vec![corpus];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read corpus") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if !path.to_string_lossy().ends_with("-expected.json") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read fixture");
            let expected: Value = serde_json::from_str(&text).expect("fixture JSON");
            for doc in expected["expected"].as_array().into_iter().flatten() {
                let source = &doc["source"];
                let Some(addr) = source["ip"].as_str() else {
                    continue;
                };
                if source["geo"].get("continent_name").is_some() {
                    let got = g.geo(ip(addr)).map(Value::Object);
                    assert_eq!(got.as_ref(), Some(&source["geo"]), "{}", path.display());
                    checked += 1;
                }
                if let Some(want) = source.get("as") {
                    assert_eq!(g.asn(ip(addr)).map(Value::Object).as_ref(), Some(want));
                    checked += 1;
                }
            }
        }
    }
    // 32 `source.geo` (aura_request 24, apex 5, logout 2, login 1) and 15 `source.as`
    // (aura_request).
    assert_eq!(checked, 47, "GeoIP results found in the fixtures");
}

/// The test databases are valid MaxMind DB files, as MaxMind's own reader checks them (every
/// tree record, the separator, every data value), so the tests above read real databases.
#[test]
fn the_test_writer_follows_the_format() {
    for bytes in [city_db(), asn_db()] {
        let reader = maxminddb::Reader::from_source(bytes).expect("reader");
        reader.verify().expect("a valid database");
        assert_eq!(reader.metadata().ip_version, 6);
    }
}
