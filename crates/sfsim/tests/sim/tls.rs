use reqwest::StatusCode;
use serde_json::Value;

use crate::common::*;

#[tokio::test]
async fn https_with_the_generated_ca() {
    let mut cfg = config();
    cfg.tls = true;
    let sim = start_with(cfg).await;
    assert!(sim.url.starts_with("https://localhost:"), "{}", sim.url);
    let ca_file = sim.credentials.ca_file.clone().expect("ca file");
    let toml = std::fs::read_to_string(sim.out_dir.join("sfevents.toml")).unwrap();
    assert!(toml.contains(&format!("ca_file = \"{}\"", ca_file.display())));

    let ca = reqwest::Certificate::from_pem(&std::fs::read(&ca_file).unwrap()).unwrap();
    let client = reqwest::Client::builder()
        .tls_certs_only([ca])
        .build()
        .unwrap();
    let r = client
        .get(format!("{}/services/data/", sim.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    let a = assertion(&sim, good_claims(&sim));
    let v: Value = client
        .post(format!("{}/services/oauth2/token", sim.url))
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", a.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["instance_url"], sim.url);
    let token = v["access_token"].as_str().unwrap();
    let r = client
        .get(format!("{}/services/data/v64.0/query", sim.url))
        .query(&[("q", "SELECT COUNT() FROM EventLogFile")])
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // An untrusting client fails.
    let plain = reqwest::Client::builder().build().unwrap();
    assert!(plain
        .get(format!("{}/services/data/", sim.url))
        .send()
        .await
        .is_err());
}
