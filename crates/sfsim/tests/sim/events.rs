//! The event objects: RTEM big objects (LoginEvent, ...), SetupAuditTrail and LoginHistory.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sfsim::{Faults, SimHandle};

use crate::common::*;

fn lit(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn time_of(r: &soql::Record, field: &str) -> DateTime<Utc> {
    match r.get(field) {
        Some(soql::Value::DateTime(t)) => *t,
        other => panic!("{field}: {other:?}"),
    }
}

fn ident(r: &soql::Record) -> String {
    r.get("EventIdentifier")
        .and_then(soql::Value::as_str)
        .expect("EventIdentifier")
        .to_string()
}

/// Every record of a query, following `nextRecordsUrl`; also the number of pages.
async fn query_all(sim: &SimHandle, token: &str, soql: &str) -> (Vec<Value>, usize) {
    let r = query(sim, token, soql).await;
    assert_eq!(r.status(), StatusCode::OK, "{soql}");
    let mut v: Value = r.json().await.unwrap();
    let total = v["totalSize"].as_u64().unwrap() as usize;
    let mut out: Vec<Value> = v["records"].as_array().unwrap().clone();
    let mut pages = 1;
    while let Some(next) = v["nextRecordsUrl"].as_str().map(str::to_string) {
        assert_eq!(v["done"], false);
        let r = get(sim, token, &next).await;
        assert_eq!(r.status(), StatusCode::OK);
        v = r.json().await.unwrap();
        out.extend(v["records"].as_array().unwrap().iter().cloned());
        pages += 1;
    }
    assert_eq!(v["done"], true);
    assert_eq!(out.len(), total);
    (out, pages)
}

#[tokio::test]
async fn login_event_window_pages_newest_first() {
    let mut cfg = config();
    cfg.default_batch_size = 25;
    let sim = start_with(cfg).await;
    let token = token(&sim).await;
    // A window ending an hour before the anchor: every record in it is stored already.
    let hi = sim.org.spec.anchor - chrono::Duration::hours(1);
    let lo = hi - chrono::Duration::days(1);
    let soql = format!(
        "SELECT FIELDS(STANDARD) FROM LoginEvent WHERE EventDate > {} AND EventDate <= {} ORDER BY EventDate DESC",
        lit(lo),
        lit(hi)
    );
    let (records, pages) = query_all(&sim, &token, &soql).await;
    let mut expected: Vec<soql::Record> = sim
        .visible_records("LoginEvent")
        .into_iter()
        .filter(|r| time_of(r, "EventDate") > lo && time_of(r, "EventDate") <= hi)
        .collect();
    expected.reverse();
    assert!(expected.len() > 50, "{}", expected.len());
    assert_eq!(pages, expected.len().div_ceil(25));
    let got: Vec<&str> = records
        .iter()
        .map(|r| r["EventIdentifier"].as_str().unwrap())
        .collect();
    let want: Vec<String> = expected.iter().map(ident).collect();
    assert_eq!(got, want);

    let first = &records[0];
    assert_eq!(first["attributes"]["type"], "LoginEvent");
    assert_eq!(
        first["attributes"]["url"],
        "/services/data/v64.0/sobjects/LoginEvent/000000000000000AAA"
    );
    assert_eq!(first["Id"], "000000000000000AAA");
    for f in [
        "Username",
        "UserId",
        "SourceIp",
        "LoginType",
        "Status",
        "TlsProtocol",
    ] {
        assert!(first[f].is_string(), "{f}: {first}");
    }
    assert!(first["LoginLatitude"].is_number());
    let ev = first["EventDate"].as_str().unwrap();
    assert!(ev.ends_with("+0000") && ev.len() == 28, "{ev}");
    let ev: Vec<&str> = records
        .iter()
        .map(|r| r["EventDate"].as_str().unwrap())
        .collect();
    assert!(ev.windows(2).all(|w| w[0] >= w[1]));

    // The big-object default order (no ORDER BY) is the index, descending, too.
    let (plain, _) = query_all(
        &sim,
        &token,
        &format!(
            "SELECT EventIdentifier FROM LoginEvent WHERE EventDate > {} AND EventDate <= {}",
            lit(lo),
            lit(hi)
        ),
    )
    .await;
    let plain: Vec<&str> = plain
        .iter()
        .map(|r| r["EventIdentifier"].as_str().unwrap())
        .collect();
    assert_eq!(plain, got);
}

#[tokio::test]
async fn every_rtem_object_answers_fields_standard() {
    let sim = start().await;
    let token = token(&sim).await;
    let hi = sim.org.spec.anchor - chrono::Duration::hours(1);
    for o in sfgen::RTEM_OBJECTS {
        let (records, _) = query_all(
            &sim,
            &token,
            &format!(
                "SELECT FIELDS(STANDARD) FROM {o} WHERE EventDate <= {} ORDER BY EventDate DESC",
                lit(hi)
            ),
        )
        .await;
        assert!(!records.is_empty(), "{o}");
        let schema = sfgen::schema(o).unwrap();
        let keys: Vec<&String> = records[0].as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), schema.fields.len() + 1, "{o}");
    }
}

#[tokio::test]
async fn setup_audit_trail_with_created_by_and_ties() {
    let sim = start().await;
    let token = token(&sim).await;
    let hi = sim.org.spec.anchor - chrono::Duration::hours(1);
    let (records, _) = query_all(
        &sim,
        &token,
        &format!(
            "SELECT Id, Action, Section, Display, CreatedDate, CreatedById, CreatedBy.Username FROM SetupAuditTrail WHERE CreatedDate <= {} ORDER BY CreatedDate ASC, Id ASC",
            lit(hi)
        ),
    )
    .await;
    let expected: Vec<soql::Record> = sim
        .visible_records("SetupAuditTrail")
        .into_iter()
        .filter(|r| time_of(r, "CreatedDate") <= hi)
        .collect();
    assert_eq!(records.len(), expected.len());
    assert!(records.len() > 20);
    let mut per_second: HashMap<String, usize> = HashMap::new();
    for (r, e) in records.iter().zip(&expected) {
        assert_eq!(r["Id"].as_str(), e.id.as_deref());
        assert_eq!(r["attributes"]["type"], "SetupAuditTrail");
        let by = &r["CreatedBy"];
        assert_eq!(by["attributes"]["type"], "User");
        assert_eq!(
            by["attributes"]["url"]
                .as_str()
                .map(|u| u.contains(r["CreatedById"].as_str().unwrap())),
            Some(true)
        );
        let name = by["Username"].as_str().unwrap();
        assert!(sim.org.users.iter().any(|u| u.username == name), "{name}");
        assert_eq!(by.as_object().unwrap().len(), 2, "{by}");
        let created = r["CreatedDate"].as_str().unwrap();
        assert!(created.ends_with(".000+0000"), "{created}");
        *per_second.entry(created.to_string()).or_default() += 1;
    }
    assert!(per_second.values().any(|&n| n >= 2), "no tied CreatedDate");
    let keys: Vec<(&str, &str)> = records
        .iter()
        .map(|r| {
            (
                r["CreatedDate"].as_str().unwrap(),
                r["Id"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]));

    // Elastic's query: FIELDS(STANDARD) has CreatedById but not the relationship.
    let (records, _) = query_all(
        &sim,
        &token,
        &format!(
            "SELECT FIELDS(STANDARD) FROM SetupAuditTrail WHERE CreatedDate > {} ORDER BY CreatedDate ASC NULLS FIRST",
            lit(hi - chrono::Duration::days(1))
        ),
    )
    .await;
    assert!(!records.is_empty());
    assert!(records[0].get("CreatedBy").is_none());
    assert!(records[0]["CreatedById"].is_string());
    // A normal object: `!=` and any order are fine.
    let r = query(
        &sim,
        &token,
        "SELECT Id FROM SetupAuditTrail WHERE Action != 'x' ORDER BY Section DESC LIMIT 3",
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn login_history_filters() {
    let sim = start().await;
    let token = token(&sim).await;
    let hi = sim.org.spec.anchor - chrono::Duration::hours(1);
    let (records, _) = query_all(
        &sim,
        &token,
        &format!(
            "SELECT Id, UserId, LoginTime, Status FROM LoginHistory WHERE LoginTime <= {} ORDER BY LoginTime ASC",
            lit(hi)
        ),
    )
    .await;
    assert!(!records.is_empty());
    assert!(records[0]["Id"].as_str().unwrap().starts_with("0Ya"));
    let r = query(
        &sim,
        &token,
        "SELECT Id FROM LoginHistory WHERE Browser = 'Chrome 124'",
    )
    .await;
    assert_api_error(r, StatusCode::BAD_REQUEST, "INVALID_FIELD").await;
    let r = query(
        &sim,
        &token,
        "SELECT Id FROM LoginHistory WHERE LoginType = 'Application' AND CountryIso != 'US'",
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn big_object_rules_are_enforced() {
    let sim = start().await;
    let token = token(&sim).await;
    for (q, code) in [
        (
            "SELECT Id FROM LoginEvent ORDER BY EventDate ASC",
            "MALFORMED_QUERY",
        ),
        (
            "SELECT Id FROM LoginEvent WHERE Username = 'x'",
            "INVALID_QUERY_FILTER_OPERATOR",
        ),
        ("SELECT Id FROM LoginEvent OFFSET 10", "MALFORMED_QUERY"),
        (
            "SELECT Id FROM ApiEvent WHERE EventIdentifier != 'x'",
            "INVALID_QUERY_FILTER_OPERATOR",
        ),
        (
            "SELECT Id FROM ReportEvent WHERE CreatedDate > 2024-01-01T00:00:00Z",
            "INVALID_QUERY_FILTER_OPERATOR",
        ),
        ("SELECT COUNT() FROM UriEvent", "MALFORMED_QUERY"),
        (
            "SELECT Id FROM LogoutEvent WHERE EventDate > 2024-01-01T00:00:00Z OR EventDate < 2023-01-01T00:00:00Z",
            "INVALID_QUERY_FILTER_OPERATOR",
        ),
    ] {
        let r = query(&sim, &token, q).await;
        let v = assert_api_error(r, StatusCode::BAD_REQUEST, code).await;
        assert!(!v[0]["message"].as_str().unwrap().is_empty(), "{q}");
    }
    let r = query(
        &sim,
        &token,
        "SELECT Id FROM LoginEvent WHERE EventDate = 2024-01-01T00:00:00Z AND EventIdentifier = 'x'",
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn late_records_appear_when_the_clock_passes_their_storage_time() {
    let sim = start().await;
    let token = token(&sim).await;
    let now = sim.now();
    // A late record (stored 90+ s after its event) whose event is still ahead of the clock.
    let (object, rec) = sfgen::RTEM_OBJECTS
        .iter()
        .flat_map(|o| sim.org.object_records(o).iter().map(move |r| (*o, r)))
        .find(|(_, r)| {
            let ev = time_of(&r.record, "EventDate");
            ev > now + chrono::Duration::seconds(60)
                && r.visible_at - ev >= chrono::Duration::seconds(90)
        })
        .expect("a late record beyond the anchor");
    let ev = time_of(&rec.record, "EventDate");
    let id = ident(&rec.record);
    let window = |until: DateTime<Utc>| {
        format!(
            "SELECT EventIdentifier FROM {object} WHERE EventDate > {} AND EventDate <= {}",
            lit(ev - chrono::Duration::seconds(1)),
            lit(until)
        )
    };
    let found = |records: &[Value]| records.iter().any(|r| r["EventIdentifier"] == id.as_str());

    // The event happened but is not stored yet.
    let by = (ev - now + chrono::Duration::seconds(20)).to_std().unwrap();
    sim.advance_clock(by);
    assert!(sim.now() > ev && sim.now() < rec.visible_at);
    let (records, _) = query_all(&sim, &token, &window(sim.now())).await;
    assert!(!found(&records));
    assert!(!sim.visible_records(object).iter().any(|r| ident(r) == id));

    // Stored now: the same window finds it.
    let by = (rec.visible_at - sim.now() + chrono::Duration::seconds(1))
        .to_std()
        .unwrap();
    sim.advance_clock(by);
    let (records, _) = query_all(&sim, &token, &window(sim.now())).await;
    assert!(found(&records));
    assert!(sim.visible_records(object).iter().any(|r| ident(r) == id));
}

#[tokio::test]
async fn duplicates_are_served_twice() {
    let mut cfg = config();
    cfg.org.duplicate_event_identifiers = true;
    let sim = start_with(cfg).await;
    let token = token(&sim).await;
    let hi = sim.org.spec.anchor - chrono::Duration::hours(1);
    let visible = sim.visible_records("LoginEvent");
    let mut count: HashMap<String, usize> = HashMap::new();
    for r in &visible {
        *count.entry(ident(r)).or_default() += 1;
    }
    assert!(count.values().filter(|&&n| n == 2).count() >= 3);
    let (records, _) = query_all(
        &sim,
        &token,
        &format!(
            "SELECT EventIdentifier FROM LoginEvent WHERE EventDate <= {}",
            lit(hi)
        ),
    )
    .await;
    let mut served: HashMap<&str, usize> = HashMap::new();
    for r in &records {
        *served
            .entry(r["EventIdentifier"].as_str().unwrap())
            .or_default() += 1;
    }
    assert!(served.values().any(|&n| n == 2));
}

#[tokio::test]
async fn fail_query_more_fault() {
    let mut cfg = config();
    cfg.default_batch_size = 10;
    let sim = start_with(cfg).await;
    let token = token(&sim).await;
    let r = query(&sim, &token, "SELECT EventIdentifier FROM LoginEvent").await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    let next = v["nextRecordsUrl"].as_str().unwrap().to_string();
    sim.set_faults(Faults {
        fail_query_more: true,
        ..Default::default()
    });
    let r = get(&sim, &token, &next).await;
    assert_api_error(r, StatusCode::INTERNAL_SERVER_ERROR, "UNKNOWN_EXCEPTION").await;
    // First pages still work.
    let r = query(&sim, &token, "SELECT EventIdentifier FROM LoginEvent").await;
    assert_eq!(r.status(), StatusCode::OK);
    // Cleared through the admin API: the same locator works again.
    let r = client()
        .post(format!("{}/__sim/faults", sim.url))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = get(&sim, &token, &next).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["records"].as_array().unwrap().len(), 10);
}

#[tokio::test]
async fn query_timeout_fault() {
    let sim = start().await;
    let token = token(&sim).await;
    let r = client()
        .post(format!("{}/__sim/faults", sim.url))
        .json(&json!({"query_timeout_over_rows": 20}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(sim.faults().query_timeout_over_rows, Some(20));
    let r = query(&sim, &token, "SELECT FIELDS(STANDARD) FROM LoginEvent").await;
    let v = assert_api_error(r, StatusCode::BAD_REQUEST, "QUERY_TIMEOUT").await;
    assert_eq!(
        v[0]["message"],
        "Your query request was running for too long."
    );
    let r = query(
        &sim,
        &token,
        "SELECT FIELDS(STANDARD) FROM LoginEvent LIMIT 20",
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    // A narrow window stays under the limit.
    let hi = sim.org.spec.anchor - chrono::Duration::hours(2);
    let r = query(
        &sim,
        &token,
        &format!(
            "SELECT EventIdentifier FROM LoginEvent WHERE EventDate > {} AND EventDate <= {}",
            lit(hi - chrono::Duration::hours(1)),
            lit(hi)
        ),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    sim.set_faults(Faults::default());
    let r = query(&sim, &token, "SELECT FIELDS(STANDARD) FROM LoginEvent").await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn describe_event_objects() {
    let sim = start().await;
    let token = token(&sim).await;
    let r = get(&sim, &token, "/services/data/v64.0/sobjects/").await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    let names: Vec<&str> = v["sobjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    for o in sfgen::OBJECTS.iter().chain(&["EventLogFile"]) {
        assert!(names.contains(o), "{o} missing from {names:?}");
    }

    let r = get(
        &sim,
        &token,
        "/services/data/v64.0/sobjects/loginevent/describe",
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["name"], "LoginEvent");
    let field = |v: &Value, name: &str| -> Value {
        v["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name}"))
    };
    assert_eq!(field(&v, "EventDate")["type"], "datetime");
    assert_eq!(field(&v, "EventIdentifier")["type"], "string");
    assert_eq!(field(&v, "LoginLatitude")["type"], "double");

    let r = get(
        &sim,
        &token,
        "/services/data/v64.0/sobjects/SetupAuditTrail/describe",
    )
    .await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["keyPrefix"], "0Ym");
    let by = field(&v, "CreatedById");
    assert_eq!(by["type"], "reference");
    assert_eq!(by["relationshipName"], "CreatedBy");
    assert_eq!(by["referenceTo"], json!(["User"]));
    assert_eq!(field(&v, "CreatedDate")["sortable"], true);

    let r = get(
        &sim,
        &token,
        "/services/data/v64.0/sobjects/LoginHistory/describe",
    )
    .await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(field(&v, "Browser")["filterable"], false);
    assert_eq!(field(&v, "LoginTime")["filterable"], true);
    assert_eq!(field(&v, "LoginTime")["type"], "datetime");

    let r = client()
        .get(format!("{}/__sim/state", sim.url))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    let visible = v["objects"]["LoginEvent"]["visible"].as_u64().unwrap();
    assert!(visible > 0 && visible < v["objects"]["LoginEvent"]["total"].as_u64().unwrap());
}
