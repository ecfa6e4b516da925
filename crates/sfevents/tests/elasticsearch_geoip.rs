//! `geoip_database` / `geoip_asn_database`: the Elasticsearch output opens the MaxMind
//! databases when it starts and its documents carry `source.geo.*` / `source.as.*` as
//! Elastic's pipelines would add them; a database it cannot use stops it with the fix. The
//! databases are written by the ecs crate's test MMDB writer (no MaxMind file is shipped or
//! downloaded).

// The writer lives with the ecs crate's GeoIP tests; both suites use it.
#[path = "../../ecs/tests/support/mmdb.rs"]
mod mmdb;

use std::path::{Path, PathBuf};

use mmdb::{Place, Writer};
use outputs::config::{from_url, OutputConfig};
use outputs::{self, Event, OrgContext, SinkError, Verdict};
use receivers::elasticsearch::{self, Config, Handle};
use serde_json::{json, Value};

const ORG: &str = "00D5g000004SxyzEAC";
const LINKOPING: &str = "89.160.20.112";

fn linkoping() -> Place<'static> {
    Place {
        continent: ("EU", "Europe"),
        country: ("SE", "Sweden"),
        subdivisions: vec![("E", "Östergötland County")],
        city: Some("Linköping"),
        location: Some((58.4167, 15.6167)),
        postal: Some("582 22"),
        time_zone: Some("Europe/Stockholm"),
    }
}

fn city_db() -> Vec<u8> {
    let mut w = Writer::new("GeoLite2-City");
    w.insert("89.160.20.112/28", &linkoping().record());
    w.build()
}

fn asn_db() -> Vec<u8> {
    let mut w = Writer::new("GeoLite2-ASN");
    w.insert("89.160.20.112/28", &mmdb::asn(29518, Some("Bredband2 AB")));
    w.build()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write database");
    path
}

fn output(url: &str, city: Option<&Path>, asn: Option<&Path>) -> OutputConfig {
    let mut q = vec!["compression=none".to_string()];
    if let Some(c) = city {
        q.push(format!("geoip_database={}", c.display()));
    }
    if let Some(a) = asn {
        q.push(format!("geoip_asn_database={}", a.display()));
    }
    from_url(&format!("elasticsearch+{url}?{}", q.join("&"))).expect("output config")
}

fn org() -> OrgContext {
    OrgContext {
        org: "acme".into(),
        instance_url: "https://acme.my.salesforce.com".into(),
        state: None,
    }
}

fn event(value: Value) -> Event {
    Event::from_value(value)
}

/// A Login EventLogFile row, as the archive writes it.
fn login_row(ip: &str) -> Event {
    event(json!({
        "@timestamp": "2026-03-10T14:00:05.112Z", "id": format!("9c41d07a2be35f18e6a0-{ip}"),
        "org_id": ORG, "source": "EventLogFile", "event_type": "Login", "file_id": "0AT5g00000Hq2bWGAR",
        "log_date": "2026-03-10T00:00:00.000+0000", "interval": "Daily", "sequence": 0, "row": 1,
        "fields": {
            "EVENT_TYPE": "Login", "TIMESTAMP": "20260310140005.112", "REQUEST_ID": "4exLFFQ001ZkA1T2oVQvh-",
            "ORGANIZATION_ID": "00D5g000004Sxyz", "USER_ID": "0055g00000B4XyZ", "LOGIN_STATUS": "LOGIN_NO_ERROR",
            "USER_NAME": "ana@acme.example", "TIMESTAMP_DERIVED": "2026-03-10T14:00:05.112Z",
            "USER_ID_DERIVED": "0055g00000B4XyZAAV", "CLIENT_IP": "", "SOURCE_IP": ip
        }
    }))
}

/// An AuraRequest EventLogFile row: City and ASN in Elastic's pipeline.
fn aura_row(ip: &str) -> Event {
    event(json!({
        "@timestamp": "2026-03-10T14:01:00.000Z", "id": format!("5e0c7b14a9d2f3e18c47-{ip}"),
        "org_id": ORG, "source": "EventLogFile", "event_type": "AuraRequest", "file_id": "0AT5g00000Hq2bXGAR",
        "log_date": "2026-03-10T00:00:00.000+0000", "interval": "Daily", "sequence": 0, "row": 1,
        "fields": {
            "EVENT_TYPE": "AuraRequest", "TIMESTAMP_DERIVED": "2026-03-10T14:01:00.000Z",
            "REQUEST_ID": "TID:88120003", "USER_ID_DERIVED": "0055g00000B4XyZAAV", "CLIENT_IP": ip,
            "URI": "/aura", "RUN_TIME": "12"
        }
    }))
}

async fn start() -> Handle {
    elasticsearch::start(Config::default())
        .await
        .expect("receiver starts")
}

async fn send(cfg: &OutputConfig, events: &[Event]) -> Vec<Verdict> {
    let sink = outputs::sink(cfg, &org()).expect("the sink starts");
    sink.send(events).await.expect("sent")
}

fn stored(es: &Handle, data_stream: &str, id: &str) -> Value {
    let docs = es.docs(data_stream);
    let doc = docs.iter().find(|d| d.id == id).expect("document stored");
    doc.source.clone()
}

fn geo() -> Value {
    json!({"city_name": "Linköping", "continent_name": "Europe", "country_iso_code": "SE",
           "country_name": "Sweden", "location": {"lat": 58.4167, "lon": 15.6167},
           "region_iso_code": "SE-E", "region_name": "Östergötland County"})
}

#[tokio::test]
async fn documents_carry_the_geo_fields_of_elastics_geoip_processor() {
    let dir = tempfile::tempdir().expect("temp dir");
    let city = write(dir.path(), "GeoLite2-City.mmdb", &city_db());
    let asn = write(dir.path(), "GeoLite2-ASN.mmdb", &asn_db());
    let es = start().await;
    let events = [
        login_row(LINKOPING),
        aura_row(LINKOPING),
        login_row("10.0.0.8"),
    ];
    let v = send(&output(es.url(), Some(&city), Some(&asn)), &events).await;
    assert!(v.iter().all(|x| *x == Verdict::Delivered), "{v:?}");

    // login: City only, as Elastic's login pipeline.
    let login = stored(&es, "logs-salesforce.login-default", &events[0].id);
    assert_eq!(login["source"], json!({"geo": geo(), "ip": LINKOPING}));
    assert_eq!(login["related"]["ip"], json!([LINKOPING]));
    // aura_request: City and ASN.
    let aura = stored(&es, "logs-salesforce.aura_request-default", &events[1].id);
    assert_eq!(
        aura["source"],
        json!({"as": {"number": 29518, "organization": {"name": "Bredband2 AB"}},
               "geo": geo(), "ip": LINKOPING})
    );
    // A private address: nothing added.
    let private = stored(&es, "logs-salesforce.login-default", &events[2].id);
    assert_eq!(private["source"], json!({"ip": "10.0.0.8"}));

    // A City database alone: no `source.as`.
    let es = start().await;
    send(&output(es.url(), Some(&city), None), &events[1..2]).await;
    let aura = stored(&es, "logs-salesforce.aura_request-default", &events[1].id);
    assert_eq!(aura["source"], json!({"geo": geo(), "ip": LINKOPING}));

    // Without a database, as before.
    let es = start().await;
    send(&output(es.url(), None, None), &events[..1]).await;
    let login = stored(&es, "logs-salesforce.login-default", &events[0].id);
    assert_eq!(login["source"], json!({"ip": LINKOPING}));
}

#[tokio::test]
async fn a_replaced_database_is_read_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let city = write(dir.path(), "GeoLite2-City.mmdb", &city_db());
    let es = start().await;
    let cfg = output(es.url(), Some(&city), None);
    send(&cfg, &[login_row(LINKOPING)]).await;

    // MaxMind's updater replaces the file: the next sink (run builds one every few seconds)
    // reads the new one.
    let mut moved = linkoping();
    moved.city = Some("Norrköping");
    let mut w = Writer::new("GeoLite2-City");
    w.insert("89.160.20.112/28", &moved.record())
        .insert("175.16.199.0/24", &linkoping().record());
    write(dir.path(), "GeoLite2-City.mmdb", &w.build());
    let es = start().await;
    let cfg = output(es.url(), Some(&city), None);
    let ev = login_row(LINKOPING);
    send(&cfg, std::slice::from_ref(&ev)).await;
    let login = stored(&es, "logs-salesforce.login-default", &ev.id);
    assert_eq!(login["source"]["geo"]["city_name"], "Norrköping");
}

/// The Fatal message of a sink that cannot start.
fn fatal(cfg: &OutputConfig) -> String {
    match outputs::sink(cfg, &org()) {
        Err(SinkError::Fatal(m)) => m,
        Err(other) => panic!("not fatal: {other}"),
        Ok(_) => panic!("the sink started"),
    }
}

#[test]
fn databases_it_cannot_use_stop_the_output_with_the_fix() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = "https://es.example:9200";

    // Gone after the config was read.
    let gone = write(dir.path(), "gone.mmdb", &city_db());
    let cfg = output(url, Some(&gone), None);
    std::fs::remove_file(&gone).expect("remove");
    let m = fatal(&cfg);
    assert!(
        m.contains("geoip_database") && m.contains(&gone.display().to_string()),
        "{m}"
    );
    assert!(
        m.contains("give the path of a City database (GeoLite2-City.mmdb"),
        "{m}"
    );
    assert!(m.contains("or remove geoip_database"), "{m}");

    // The download as it comes, not the database in it.
    let tgz = write(
        dir.path(),
        "GeoLite2-City.tar.gz",
        b"\x1f\x8b\x08\x00\x00\x00",
    );
    let m = fatal(&output(url, Some(&tgz), None));
    assert!(m.contains("is not a MaxMind database"), "{m}");
    assert!(m.contains("unpacked from MaxMind's .tar.gz"), "{m}");

    // A kind that is not read.
    let mut w = Writer::new("GeoLite2-Country");
    w.insert("89.160.20.112/28", &mmdb::map(vec![]));
    let country = write(dir.path(), "GeoLite2-Country.mmdb", &w.build());
    let m = fatal(&output(url, Some(&country), None));
    assert!(m.contains("GeoLite2-Country database"), "{m}");
    assert!(
        m.contains("give a City database (GeoLite2-City.mmdb"),
        "{m}"
    );

    // The two settings swapped.
    let city = write(dir.path(), "GeoLite2-City.mmdb", &city_db());
    let asn = write(dir.path(), "GeoLite2-ASN.mmdb", &asn_db());
    let m = fatal(&output(url, Some(&asn), Some(&city)));
    assert!(
        m.contains("geoip_database") && m.contains("is a GeoLite2-ASN database"),
        "{m}"
    );
    assert!(m.contains("give it as geoip_asn_database"), "{m}");
    let m = fatal(&output(url, Some(&city), Some(&city)));
    assert!(
        m.contains("geoip_asn_database") && m.contains("is a GeoLite2-City database"),
        "{m}"
    );
    assert!(m.contains("give it as geoip_database"), "{m}");
}
