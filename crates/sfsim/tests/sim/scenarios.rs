//! Attack scenarios over HTTP: the objects and event types they add are listed, described,
//! queried and downloaded like the others, and an org without scenarios does not have them.

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::Value;
use sfsim::{GenOptions, Scenario, SimHandle};

use crate::common::*;

fn lit(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

async fn records(sim: &SimHandle, token: &str, soql: &str) -> Vec<Value> {
    let r = query(sim, token, soql).await;
    assert_eq!(r.status(), StatusCode::OK, "{soql}");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["done"], true, "{soql}");
    v["records"].as_array().unwrap().clone()
}

async fn listed(sim: &SimHandle, token: &str) -> Vec<String> {
    let v: Value = get(sim, token, "/services/data/v64.0/sobjects/")
        .await
        .json()
        .await
        .unwrap();
    v["sobjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_string())
        .collect()
}

async fn with_scenarios() -> SimHandle {
    let mut c = config();
    c.org_options = GenOptions {
        scenarios: Scenario::all(),
        ..GenOptions::default()
    };
    start_with(c).await
}

#[tokio::test]
async fn scenario_objects_are_listed_described_and_queryable() {
    let sim = with_scenarios().await;
    let token = token(&sim).await;
    let names = listed(&sim, &token).await;
    for o in sfgen::SCENARIO_OBJECTS {
        assert!(names.iter().any(|n| n == o), "{o} missing");
    }
    let v: Value = get(
        &sim,
        &token,
        "/services/data/v64.0/sobjects/apianomalyeventstore/describe",
    )
    .await
    .json()
    .await
    .unwrap();
    let fields: Vec<&str> = v["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"Score") && fields.contains(&"SecurityEventData"));

    let planted = sim.org.planted();
    let threat = planted
        .iter()
        .find(|p| p.scenario == Scenario::ThreatDetection)
        .unwrap();
    let recs = records(&sim, &token, "SELECT Id, Score, UserId, SourceIp FROM ApiAnomalyEventStore WHERE Score >= 80 ORDER BY CreatedDate").await;
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["SourceIp"], threat.source_ip.as_str());
    assert_eq!(recs[0]["UserId"], threat.user_id.as_str());

    let hi = lit(sim.now());
    let files = records(&sim, &token, &format!("SELECT FIELDS(STANDARD) FROM FileEventStore WHERE EventDate <= {hi} ORDER BY EventDate DESC")).await;
    assert_eq!(files.len(), 10);
    let as_events = records(
        &sim,
        &token,
        &format!("SELECT DelegatedUsername, UserId FROM LoginAsEvent WHERE EventDate <= {hi}"),
    )
    .await;
    let login_as = planted
        .iter()
        .find(|p| p.scenario == Scenario::LoginAs)
        .unwrap();
    assert_eq!(
        as_events[0]["DelegatedUsername"],
        login_as.username.as_str()
    );
    let blocked = records(
        &sim,
        &token,
        &format!("SELECT FIELDS(STANDARD) FROM ApiEvent WHERE EventDate <= {hi}"),
    )
    .await;
    assert_eq!(
        blocked
            .iter()
            .filter(|r| r["PolicyOutcome"] == "Block")
            .count(),
        1
    );
    assert!(blocked.iter().all(|r| r.get("PolicyOutcome").is_some()));
}

#[tokio::test]
async fn scenario_event_types_and_users_are_served() {
    let sim = with_scenarios().await;
    let token = token(&sim).await;
    let planted = sim.org.planted();
    let login_as = planted
        .iter()
        .find(|p| p.scenario == Scenario::LoginAs)
        .unwrap();
    // The LoginAs event type: its hourly file is listed and its body holds the planted row.
    let elf = records(&sim, &token, "SELECT Id, EventType, Interval FROM EventLogFile WHERE EventType = 'LoginAs' AND Interval = 'Hourly'").await;
    assert_eq!(elf.len(), 1);
    let id = elf[0]["Id"].as_str().unwrap();
    let body = get(
        &sim,
        &token,
        &format!("/services/data/v64.0/sobjects/EventLogFile/{id}/LogFile"),
    )
    .await;
    assert_eq!(body.status(), StatusCode::OK);
    let text = body.text().await.unwrap();
    assert!(text.starts_with("\"EVENT_TYPE\",\"TIMESTAMP\""));
    assert!(text.contains(&format!("\"{}\"", login_as.username)));

    let users = records(&sim, &token, "SELECT Id, Username, IsActive FROM User").await;
    assert_eq!(users.len(), 16);
    assert_eq!(users.iter().filter(|u| u["IsActive"] == false).count(), 1);
}

#[tokio::test]
async fn an_org_without_scenarios_has_none_of_it() {
    let sim = start().await;
    let token = token(&sim).await;
    let names = listed(&sim, &token).await;
    for o in sfgen::SCENARIO_OBJECTS {
        assert!(!names.iter().any(|n| n == o), "{o} listed");
    }
    let r = query(&sim, &token, "SELECT Id FROM ApiAnomalyEventStore").await;
    assert_api_error(r, StatusCode::BAD_REQUEST, "INVALID_TYPE").await;
    let r = query(&sim, &token, "SELECT PolicyOutcome FROM ApiEvent").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(sim.org.planted().is_empty());
}
