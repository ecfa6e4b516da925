use reqwest::StatusCode;
use serde_json::Value;
use sfsim::SimHandle;

use crate::common::*;

#[tokio::test]
async fn versions_and_auth() {
    let sim = start().await;
    let r = client()
        .get(format!("{}/services/data/", sim.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(api_usage(&r), (0, 100_000));
    let v: Value = r.json().await.unwrap();
    let list = v.as_array().unwrap();
    assert_eq!(list[0]["version"], "31.0");
    assert_eq!(list[0]["label"], "Summer '14");
    assert_eq!(list.last().unwrap()["version"], "64.0");
    assert_eq!(list.last().unwrap()["url"], "/services/data/v64.0");

    // No token, a bad token.
    let r = client()
        .get(format!("{}/services/data/v64.0/limits", sim.url))
        .send()
        .await
        .unwrap();
    assert!(r.headers().contains_key("sforce-limit-info"));
    assert_api_error(r, StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID").await;
    let r = get(&sim, "00Dbogus!x", "/services/data/v64.0/limits").await;
    assert_api_error(r, StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID").await;
    assert_eq!(sim.api_calls(), 0);

    let token = token(&sim).await;
    // `OAuth <token>` is accepted too.
    let r = client()
        .get(format!("{}/services/data/latest/limits/", sim.url))
        .header("authorization", format!("OAuth {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(api_usage(&r).0, 1);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["DailyApiRequests"]["Max"], 100_000);
    assert_eq!(v["DailyApiRequests"]["Remaining"], 99_999);

    let r = get(&sim, &token, "/services/data/v30.0/limits").await;
    assert_api_error(r, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let r = get(&sim, &token, "/services/data/v65.0/limits").await;
    assert_api_error(r, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let r = get(&sim, &token, "/services/data/v31.0/limits").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(api_usage(&r).0, 2);
}

#[tokio::test]
async fn count_and_paging() {
    let mut cfg = config();
    cfg.default_batch_size = 7;
    let sim = start_with(cfg).await;
    let token = token(&sim).await;
    let visible: Vec<String> = sim.visible_files().iter().map(|f| f.id.clone()).collect();
    assert!(visible.len() > 20, "{} files", visible.len());
    assert!(sim.org.files.len() > visible.len(), "late files exist");

    let r = query(&sim, &token, "SELECT COUNT() FROM EventLogFile").await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["totalSize"], visible.len());
    assert_eq!(v["done"], true);
    assert_eq!(v["records"].as_array().unwrap().len(), 0);

    // Follow nextRecordsUrl page by page.
    let r = query(
        &sim,
        &token,
        "SELECT Id, CreatedDate, LogFileLength FROM EventLogFile ORDER BY CreatedDate ASC, Id ASC",
    )
    .await;
    let mut page: Value = r.json().await.unwrap();
    let mut ids = Vec::new();
    let mut pages = 0;
    loop {
        pages += 1;
        assert_eq!(page["totalSize"], visible.len());
        let recs = page["records"].as_array().unwrap();
        assert!(recs.len() <= 7);
        for rec in recs {
            assert_eq!(rec["attributes"]["type"], "EventLogFile");
            ids.push(rec["Id"].as_str().unwrap().to_string());
        }
        if page["done"] == true {
            assert!(page.get("nextRecordsUrl").is_none());
            break;
        }
        let next = page["nextRecordsUrl"].as_str().unwrap().to_string();
        assert!(next.starts_with("/services/data/v64.0/query/"), "{next}");
        let r = get(&sim, &token, &next).await;
        assert_eq!(r.status(), StatusCode::OK);
        page = r.json().await.unwrap();
    }
    assert_eq!(pages, visible.len().div_ceil(7));
    assert_eq!(ids, visible);

    // batchSize header: clamped to at least 200.
    let r = client()
        .get(format!("{}/services/data/v64.0/queryAll/", sim.url))
        .query(&[("q", "SELECT Id FROM EventLogFile")])
        .header("Sforce-Query-Options", "batchSize=10")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["records"].as_array().unwrap().len(),
        visible.len().min(200)
    );

    // A bad locator.
    let r = get(&sim, &token, "/services/data/v64.0/query/0r8nope-2000").await;
    assert_api_error(r, StatusCode::BAD_REQUEST, "INVALID_QUERY_LOCATOR").await;
}

#[tokio::test]
async fn query_errors_and_other_objects() {
    let sim = start().await;
    let token = token(&sim).await;
    let r = query(&sim, &token, "SELECT Id FROM Account").await;
    let v = assert_api_error(r, StatusCode::BAD_REQUEST, "INVALID_TYPE").await;
    assert!(v[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("sObject type 'Account' is not supported."));
    let r = query(&sim, &token, "SELEC Id FROM EventLogFile").await;
    assert_api_error(r, StatusCode::BAD_REQUEST, "MALFORMED_QUERY").await;
    let r = query(&sim, &token, "SELECT Nope__c FROM EventLogFile").await;
    assert_api_error(r, StatusCode::BAD_REQUEST, "INVALID_FIELD").await;

    // What the `sf` CLI asks right after login.
    let r = query(
        &sim,
        &token,
        "SELECT Name, InstanceName, IsSandbox, TrialExpirationDate, NamespacePrefix, OrganizationType FROM Organization",
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["totalSize"], 1);
    assert_eq!(v["records"][0]["attributes"]["type"], "Organization");
    let r = client()
        .get(format!("{}/services/data/v64.0/tooling/query", sim.url))
        .query(&[("q", "SELECT Id FROM SandboxProcess")])
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_api_error(r, StatusCode::BAD_REQUEST, "INVALID_TYPE").await;

    let r = query(&sim, &token, "SELECT Id, Username FROM User").await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["totalSize"], sim.org.users.len());
    assert_eq!(v["records"][0]["Username"], sim.org.users[0].username);
}

#[tokio::test]
async fn column_metadata_describe_and_record() {
    let sim = start().await;
    let token = token(&sim).await;
    let r = client()
        .get(format!("{}/services/data/v64.0/query", sim.url))
        .query(&[
            (
                "q",
                "SELECT Id, EventType, LogFileLength, CreatedBy.Username FROM EventLogFile",
            ),
            ("columns", "true"),
        ])
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["entityName"], "EventLogFile");
    assert_eq!(v["idSelected"], true);
    assert_eq!(v["keyPrefix"], "0AT");
    assert_eq!(v["groupBy"], false);
    let cols = v["columnMetadata"].as_array().unwrap();
    assert_eq!(cols.len(), 4, "{v}");
    assert_eq!(cols[0]["columnName"], "Id");
    assert_eq!(cols[2]["numberType"], true);
    assert_eq!(cols[3]["columnName"], "CreatedBy");
    assert_eq!(cols[3]["joinColumns"][0]["columnName"], "Username");

    let r = get(
        &sim,
        &token,
        "/services/data/v64.0/sobjects/EventLogFile/describe",
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["name"], "EventLogFile");
    assert_eq!(v["keyPrefix"], "0AT");
    let fields = v["fields"].as_array().unwrap();
    let lf = fields.iter().find(|f| f["name"] == "LogFile").unwrap();
    assert_eq!(lf["type"], "base64");
    let cb = fields.iter().find(|f| f["name"] == "CreatedById").unwrap();
    assert_eq!(cb["relationshipName"], "CreatedBy");
    assert_eq!(cb["referenceTo"][0], "User");

    let f = sim.visible_files()[0].clone();
    let r = get(
        &sim,
        &token,
        &format!("/services/data/v64.0/sobjects/EventLogFile/{}", f.id),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["Id"], f.id);
    assert_eq!(v["EventType"], f.event_type);
    let r = get(
        &sim,
        &token,
        "/services/data/v64.0/sobjects/EventLogFile/0AT000000000000AAA",
    )
    .await;
    assert_api_error(r, StatusCode::NOT_FOUND, "NOT_FOUND").await;
}

#[tokio::test]
async fn late_files_appear_when_the_clock_moves() {
    let sim = start().await;
    let token = token(&sim).await;
    let now = sim.now();
    let late = sim
        .org
        .files
        .iter()
        .find(|f| f.created_date > now)
        .expect("a late file")
        .clone();
    let soql = format!(
        "SELECT Id, Sequence FROM EventLogFile WHERE Id = '{}'",
        late.id
    );
    let v: Value = query(&sim, &token, &soql).await.json().await.unwrap();
    assert_eq!(v["totalSize"], 0);
    let path = format!(
        "/services/data/v64.0/sobjects/EventLogFile/{}/LogFile",
        late.id
    );
    let r = get(&sim, &token, &path).await;
    assert_api_error(r, StatusCode::NOT_FOUND, "NOT_FOUND").await;

    let ahead = (late.created_date - now).to_std().unwrap() + std::time::Duration::from_secs(1);
    sim.advance_clock(ahead);
    let v: Value = query(&sim, &token, &soql).await.json().await.unwrap();
    assert_eq!(v["totalSize"], 1);
    assert_eq!(v["records"][0]["Sequence"], late.sequence);
    let r = get(&sim, &token, &path).await;
    assert_eq!(r.status(), StatusCode::OK);
}

/// The first line of a LogFile body, split into column names.
async fn csv_header(sim: &SimHandle, token: &str, id: &str) -> Vec<String> {
    let path = format!("/services/data/v64.0/sobjects/EventLogFile/{id}/LogFile");
    let body = get(sim, token, &path).await.text().await.unwrap();
    let line = body.lines().next().unwrap();
    line.split(',')
        .map(|c| c.trim_matches('"').to_string())
        .collect()
}

#[tokio::test]
async fn log_file_field_names_and_types_match_the_csv_header() {
    let sim = start().await;
    let token = token(&sim).await;
    let soql = "SELECT Id, EventType, LogFileFieldNames, LogFileFieldTypes FROM EventLogFile";
    let v: Value = query(&sim, &token, soql).await.json().await.unwrap();
    let records = v["records"].as_array().unwrap();
    assert!(!records.is_empty());
    let known = [
        "String",
        "Id",
        "Number",
        "Boolean",
        "DateTime",
        "Set",
        "Reference",
    ];
    let mut seen_types = std::collections::BTreeSet::new();
    for r in records.iter().take(12) {
        let names: Vec<&str> = r["LogFileFieldNames"]
            .as_str()
            .unwrap()
            .split(',')
            .collect();
        let types: Vec<&str> = r["LogFileFieldTypes"]
            .as_str()
            .unwrap()
            .split(',')
            .collect();
        assert_eq!(
            csv_header(&sim, &token, r["Id"].as_str().unwrap()).await,
            names
        );
        assert_eq!(names.len(), types.len(), "{r}");
        for t in &types {
            assert!(
                known.contains(t),
                "{t} is not a type name the reference lists"
            );
            seen_types.insert(t.to_string());
        }
        let at = |n: &str| types[names.iter().position(|c| *c == n).unwrap()];
        assert_eq!(at("TIMESTAMP_DERIVED"), "DateTime");
        assert_eq!(at("EVENT_TYPE"), "String");
    }
    assert!(seen_types.contains("Number"), "{seen_types:?}");
}

#[tokio::test]
async fn log_file_field_names_can_be_null_or_refused() {
    let soql = "SELECT Id, LogFileFieldNames, LogFileFieldTypes FROM EventLogFile";
    let mut cfg = config();
    cfg.elf_field_schema = sfsim::ElfFieldSchema::Null;
    let sim = start_with(cfg).await;
    let tok = token(&sim).await;
    let v: Value = query(&sim, &tok, soql).await.json().await.unwrap();
    let r = &v["records"][0];
    assert!(
        r["LogFileFieldNames"].is_null() && r["LogFileFieldTypes"].is_null(),
        "{r}"
    );

    let mut cfg = config();
    cfg.elf_field_schema = sfsim::ElfFieldSchema::Absent;
    let sim = start_with(cfg).await;
    let token = token(&sim).await;
    let v = assert_api_error(
        query(&sim, &token, soql).await,
        StatusCode::BAD_REQUEST,
        "INVALID_FIELD",
    )
    .await;
    assert!(
        v[0]["message"]
            .as_str()
            .unwrap()
            .contains("LogFileFieldNames"),
        "{v}"
    );
    // Without them, the listing works, and a record retrieved by id does not carry them.
    let v: Value = query(&sim, &token, "SELECT Id FROM EventLogFile")
        .await
        .json()
        .await
        .unwrap();
    let id = v["records"][0]["Id"].as_str().unwrap().to_string();
    let path = format!("/services/data/v64.0/sobjects/EventLogFile/{id}");
    let rec: Value = get(&sim, &token, &path).await.json().await.unwrap();
    assert_eq!(rec["Id"], id.as_str());
    assert!(rec.get("LogFileFieldTypes").is_none(), "{rec}");
}
