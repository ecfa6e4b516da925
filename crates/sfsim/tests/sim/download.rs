use std::io::Read;

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::*;

fn log_file_path(id: &str) -> String {
    format!("/services/data/v64.0/sobjects/EventLogFile/{id}/LogFile")
}

fn expected_body(sim: &sfsim::SimHandle, id: &str) -> Vec<u8> {
    sim.org.body(id, 1000).flatten().collect()
}

#[tokio::test]
async fn download_identity_and_gzip() {
    let mut cfg = config();
    cfg.org.big_file_bytes = Some(300_000);
    let sim = start_with(cfg).await;
    let token = token(&sim).await;
    // The biggest visible file, so the body spans several chunks.
    let f = sim
        .visible_files()
        .into_iter()
        .max_by_key(|f| sim.org.length(&f.id))
        .unwrap()
        .clone();
    let expected = expected_body(&sim, &f.id);
    assert_eq!(expected.len() as u64, sim.org.length(&f.id));
    assert!(expected.len() > 64 * 1024, "{} bytes", expected.len());

    let soql = format!(
        "SELECT Id, LogFileLength FROM EventLogFile WHERE Id = '{}'",
        f.id
    );
    let v: Value = query(&sim, &token, &soql).await.json().await.unwrap();
    assert_eq!(
        v["records"][0]["LogFileLength"].as_f64().unwrap(),
        expected.len() as f64
    );

    let r = get(&sim, &token, &log_file_path(&f.id)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers().get("content-type").unwrap(),
        "application/octetstream"
    );
    assert!(r.headers().get("content-encoding").is_none());
    assert!(r.headers().contains_key("sforce-limit-info"));
    let body = r.bytes().await.unwrap();
    assert_eq!(body.len(), expected.len());
    assert!(body[..] == expected[..]);

    let r = client()
        .get(format!("{}{}", sim.url, log_file_path(&f.id)))
        .bearer_auth(&token)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers().get("content-encoding").unwrap(), "gzip");
    let gz = r.bytes().await.unwrap();
    assert!(gz.len() < expected.len());
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut plain)
        .unwrap();
    assert!(plain == expected);

    // reqwest's own transparent gzip works as well.
    let auto = reqwest::Client::new()
        .get(format!("{}{}", sim.url, log_file_path(&f.id)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(auto[..] == expected[..]);

    let r = get(&sim, &token, &log_file_path("0AT000000000000AAA")).await;
    let v = assert_api_error(r, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert_eq!(v[0]["message"], "The requested resource does not exist");
}

#[tokio::test]
async fn cut_download_then_whole() {
    let sim = start().await;
    let token = token(&sim).await;
    let f = sim
        .visible_files()
        .into_iter()
        .max_by_key(|f| sim.org.length(&f.id))
        .unwrap()
        .clone();
    let expected = expected_body(&sim, &f.id);
    assert!(expected.len() > 500);
    sim.set_faults(sfsim::Faults {
        cut_download_after_bytes: Some(300),
        ..Default::default()
    });

    let r = get(&sim, &token, &log_file_path(&f.id)).await;
    assert_eq!(r.status(), StatusCode::OK);
    match r.bytes().await {
        Ok(b) => panic!("the first download should fail, got {} bytes", b.len()),
        Err(e) => assert!(e.is_body() || e.is_decode() || e.is_request(), "{e:?}"),
    }
    // Reading chunk by chunk shows the bytes that got through.
    let other = sim
        .visible_files()
        .into_iter()
        .filter(|g| g.id != f.id)
        .max_by_key(|g| sim.org.length(&g.id))
        .unwrap()
        .clone();
    let mut r = get(&sim, &token, &log_file_path(&other.id)).await;
    let mut got = Vec::new();
    let failed = loop {
        match r.chunk().await {
            Ok(Some(c)) => got.extend_from_slice(&c),
            Ok(None) => break false,
            Err(_) => break true,
        }
    };
    if sim.org.length(&other.id) > 300 {
        assert!(failed);
        assert!(got.len() <= 300);
        assert_eq!(got[..], expected_body(&sim, &other.id)[..got.len()]);
    }

    // Later downloads are whole.
    let body = get(&sim, &token, &log_file_path(&f.id))
        .await
        .bytes()
        .await
        .unwrap();
    assert!(body[..] == expected[..]);
}

#[tokio::test]
async fn files_past_retention_are_gone() {
    let mut cfg = config();
    cfg.retention_days = 1;
    let sim = start_with(cfg).await;
    let token = token(&sim).await;
    let now = sim.now();
    let old = sim
        .org
        .files
        .iter()
        .find(|f| f.created_date < now - chrono::Duration::days(1))
        .expect("an expired file")
        .clone();
    let r = get(&sim, &token, &log_file_path(&old.id)).await;
    assert_api_error(r, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let soql = format!("SELECT Id FROM EventLogFile WHERE Id = '{}'", old.id);
    let v: Value = query(&sim, &token, &soql).await.json().await.unwrap();
    assert_eq!(v["totalSize"], 0);
    let v: Value = query(&sim, &token, "SELECT COUNT() FROM EventLogFile")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["totalSize"], sim.visible_files().len());
}
