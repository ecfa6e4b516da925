use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use sfsim::Faults;

use crate::common::*;

#[tokio::test]
async fn session_dies_mid_pagination() {
    let mut cfg = config();
    cfg.default_batch_size = 5;
    let sim = start_with(cfg).await;
    sim.set_faults(Faults {
        session_max_calls: Some(2),
        ..Default::default()
    });
    let token = token(&sim).await;
    let r = query(&sim, &token, "SELECT Id FROM EventLogFile").await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    let next = v["nextRecordsUrl"].as_str().unwrap().to_string();
    let r = get(&sim, &token, &next).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    let next = v["nextRecordsUrl"].as_str().unwrap().to_string();
    let r = get(&sim, &token, &next).await;
    assert_api_error(r, StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID").await;
    // A new token continues from the same locator.
    let token = self::token(&sim).await;
    let r = get(&sim, &token, &next).await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn session_max_secs() {
    let sim = start().await;
    let token = token(&sim).await;
    sim.set_faults(Faults {
        session_max_secs: Some(1),
        ..Default::default()
    });
    let r = get(&sim, &token, "/services/data/v64.0/limits").await;
    assert_eq!(r.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = get(&sim, &token, "/services/data/v64.0/limits").await;
    assert_api_error(r, StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID").await;
}

#[tokio::test]
async fn server_errors_and_throttling() {
    let sim = start().await;
    let token = token(&sim).await;
    sim.set_faults(Faults {
        error_5xx_every: Some(3),
        ..Default::default()
    });
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let r = get(&sim, &token, "/services/data/v64.0/limits").await;
        statuses.push(r.status().as_u16());
        if r.status() == StatusCode::SERVICE_UNAVAILABLE {
            assert_api_error(r, StatusCode::SERVICE_UNAVAILABLE, "SERVER_UNAVAILABLE").await;
        }
    }
    assert_eq!(statuses, [200, 200, 503, 200, 200, 503]);

    // Through the admin API this time.
    let r = client()
        .post(format!("{}/__sim/faults", sim.url))
        .json(&json!({"error_429_every": 2, "retry_after_secs": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = get(&sim, &token, "/services/data/v64.0/limits").await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = get(&sim, &token, "/services/data/v64.0/limits").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers().get("retry-after").unwrap(), "5");
    let r = client()
        .post(format!("{}/__sim/faults", sim.url))
        .json(&json!({"nope": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn daily_limit_and_usage_header() {
    let sim = start().await;
    let token = token(&sim).await;
    for i in 1..=3u64 {
        let r = get(&sim, &token, "/services/data/v64.0/limits").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(api_usage(&r), (i, 100_000));
    }
    assert_eq!(sim.api_calls(), 3);
    sim.set_daily_api_limit(4);
    let r = get(&sim, &token, "/services/data/v64.0/limits").await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = get(&sim, &token, "/services/data/v64.0/limits").await;
    assert_eq!(api_usage(&r), (5, 4));
    let v = assert_api_error(r, StatusCode::FORBIDDEN, "REQUEST_LIMIT_EXCEEDED").await;
    assert_eq!(v[0]["message"], "TotalRequests Limit exceeded.");

    // A new day.
    let r = client()
        .post(format!("{}/__sim/reset_api_calls", sim.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = get(&sim, &token, "/services/data/v64.0/limits").await;
    assert_eq!(r.status(), StatusCode::OK);
    // Raised through the admin API.
    let r = client()
        .post(format!("{}/__sim/limits", sim.url))
        .json(&json!({"daily_api_limit": 1000}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = get(&sim, &token, "/services/data/v64.0/limits").await;
    assert_eq!(api_usage(&r), (2, 1000));
}

#[tokio::test]
async fn admin_state_clock_and_delay() {
    let sim = start().await;
    let v: Value = client()
        .get(format!("{}/__sim/state", sim.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["org_id"], sim.org.org_id);
    assert_eq!(v["api_calls"], 0);
    assert_eq!(v["files"]["visible"], sim.visible_files().len());
    let future = v["files"]["future"].as_u64().unwrap();
    assert!(future > 0);

    let files: Value = client()
        .get(format!("{}/__sim/files", sim.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(files.as_array().unwrap().len(), sim.org.files.len());

    let before = sim.now();
    let r = client()
        .post(format!("{}/__sim/clock", sim.url))
        .json(&json!({"advance_secs": 7200}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(sim.now() >= before + chrono::Duration::hours(2));
    let v: Value = client()
        .get(format!("{}/__sim/state", sim.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["files"]["future"], 0);

    sim.set_faults(Faults {
        delay_ms: Some(300),
        ..Default::default()
    });
    let token = token(&sim).await;
    let t = Instant::now();
    let r = get(&sim, &token, "/services/data/v64.0/limits").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(t.elapsed() >= Duration::from_millis(300));
}
