use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::*;

const JWT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

#[tokio::test]
async fn jwt_grant_success_and_errors() {
    let sim = start().await;
    let c = sim.credentials.clone();

    // Success, with the documented fields.
    let a = assertion(&sim, good_claims(&sim));
    let r = post_token(&sim, &[("grant_type", JWT), ("assertion", &a)]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    let token = v["access_token"].as_str().unwrap();
    assert!(token.starts_with(&format!("{}!", &sim.org.org_id[..15])));
    assert_eq!(v["instance_url"], sim.url);
    assert_eq!(v["token_type"], "Bearer");
    let user = &sim.org.users[0];
    assert_eq!(
        v["id"],
        format!("{}/id/{}/{}", sim.url, sim.org.org_id, user.id)
    );
    assert_eq!(v["issued_at"].as_str().unwrap().len(), 13);
    assert!(v["signature"].is_string());
    assert!(v.get("refresh_token").is_none());

    // The `sf` CLI's millisecond exp (far in the future) is accepted.
    let mut claims = good_claims(&sim);
    claims["exp"] = json!(unix_now() * 1000 + 300);
    let a = assertion(&sim, claims);
    let r = post_token(&sim, &[("grant_type", JWT), ("assertion", &a)]).await;
    assert_eq!(r.status(), StatusCode::OK);

    // Audience: the simulator's own URL, with or without a slash, and test.salesforce.com.
    for aud in [
        sim.url.clone(),
        format!("{}/", sim.url),
        "https://test.salesforce.com".to_string(),
    ] {
        let mut claims = good_claims(&sim);
        claims["aud"] = json!(aud);
        let a = assertion(&sim, claims);
        let r = post_token(&sim, &[("grant_type", JWT), ("assertion", &a)]).await;
        assert_eq!(r.status(), StatusCode::OK, "aud {aud}");
    }
    // prn wins over sub.
    let mut claims = good_claims(&sim);
    claims["sub"] = json!("nobody@example.com");
    claims["prn"] = json!(c.username);
    let a = assertion(&sim, claims);
    let r = post_token(&sim, &[("grant_type", JWT), ("assertion", &a)]).await;
    assert_eq!(r.status(), StatusCode::OK);

    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"iss": "3MVG9nope"}),
            "invalid_client_id",
            "client identifier invalid",
        ),
        (
            json!({"sub": "nobody@example.com"}),
            "invalid_grant",
            "user hasn't approved this consumer",
        ),
        (
            json!({"aud": "https://evil.example.com"}),
            "invalid_grant",
            "audience is invalid",
        ),
        (
            json!({"exp": unix_now() - 600}),
            "invalid_grant",
            "expired authorization code",
        ),
        (
            json!({"exp": null}),
            "invalid_grant",
            "expired authorization code",
        ),
    ];
    for (patch, error, description) in cases {
        let mut claims = good_claims(&sim);
        for (k, v) in patch.as_object().unwrap() {
            claims[k] = v.clone();
        }
        let a = assertion(&sim, claims);
        let r = post_token(&sim, &[("grant_type", JWT), ("assertion", &a)]).await;
        assert_oauth_error(r, error, description).await;
    }

    // A signature that does not match the claims.
    let good = assertion(&sim, good_claims(&sim));
    let mut other = good_claims(&sim);
    other["exp"] = json!(unix_now() + 170);
    let other = assertion(&sim, other);
    let parts: Vec<&str> = good.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        other.rsplit('.').next().unwrap()
    );
    let r = post_token(&sim, &[("grant_type", JWT), ("assertion", &forged)]).await;
    assert_oauth_error(r, "invalid_grant", "invalid assertion").await;
    let r = post_token(&sim, &[("grant_type", JWT), ("assertion", "not.a.jwt")]).await;
    assert_oauth_error(r, "invalid_grant", "invalid assertion").await;

    // Unknown grant.
    let r = post_token(&sim, &[("grant_type", "authorization_code")]).await;
    assert_oauth_error(r, "unsupported_grant_type", "grant type not supported").await;
}

#[tokio::test]
async fn jwt_exp_limit_is_configurable() {
    let mut cfg = config();
    cfg.jwt_max_exp_secs = Some(300);
    let sim = start_with(cfg).await;
    let mut claims = good_claims(&sim);
    claims["exp"] = json!(unix_now() * 1000);
    let a = assertion(&sim, claims);
    let r = post_token(&sim, &[("grant_type", JWT), ("assertion", &a)]).await;
    assert_oauth_error(r, "invalid_grant", "expired authorization code").await;
    let a = assertion(&sim, good_claims(&sim));
    let r = post_token(&sim, &[("grant_type", JWT), ("assertion", &a)]).await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn password_refresh_and_client_credentials() {
    let sim = start().await;
    let c = sim.credentials.clone();
    let with_token = format!("{}{}", c.password, c.security_token);
    let form = |pw: &str, id: &str, secret: &str| {
        vec![
            ("grant_type".to_string(), "password".to_string()),
            ("client_id".to_string(), id.to_string()),
            ("client_secret".to_string(), secret.to_string()),
            ("username".to_string(), c.username.clone()),
            ("password".to_string(), pw.to_string()),
        ]
    };
    let post = |f: Vec<(String, String)>| {
        let url = format!("{}/services/oauth2/token", sim.url);
        async move { client().post(url).form(&f).send().await.unwrap() }
    };

    let r = post(form(&with_token, &c.client_id, &c.client_secret)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    let refresh = v["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(v["scope"], "api web refresh_token");
    // Without the security token (a trusted IP range).
    let r = post(form(&c.password, &c.client_id, &c.client_secret)).await;
    assert_eq!(r.status(), StatusCode::OK);

    let r = post(form("wrong", &c.client_id, &c.client_secret)).await;
    assert_oauth_error(r, "invalid_grant", "authentication failure").await;
    let r = post(form(&with_token, "3MVG9wrong", &c.client_secret)).await;
    assert_oauth_error(r, "invalid_client_id", "client identifier invalid").await;
    let r = post(form(&with_token, &c.client_id, "wrong")).await;
    assert_oauth_error(r, "invalid_client", "invalid client credentials").await;

    // Refresh token.
    let r = post_token(
        &sim,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", &c.client_id),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    let token = v["access_token"].as_str().unwrap();
    let r = get(&sim, token, "/services/data/v64.0/limits").await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = post_token(
        &sim,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "5Aep861nope"),
        ],
    )
    .await;
    assert_oauth_error(r, "invalid_grant", "expired access/refresh token").await;

    // Client credentials in the form and with HTTP Basic.
    let r = post_token(
        &sim,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &c.client_id),
            ("client_secret", &c.client_secret),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = client()
        .post(format!("{}/services/oauth2/token", sim.url))
        .basic_auth(&c.client_id, Some(&c.client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = post_token(
        &sim,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &c.client_id),
            ("client_secret", "nope"),
        ],
    )
    .await;
    assert_oauth_error(r, "invalid_client", "invalid client credentials").await;
}

#[tokio::test]
async fn token_form_in_query_string_and_chunked_body() {
    let sim = start().await;
    let a = assertion(&sim, good_claims(&sim));
    // Parameters in the query string.
    let r = client()
        .post(format!("{}/services/oauth2/token", sim.url))
        .query(&[("grant_type", JWT), ("assertion", &a)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // A chunked body (no Content-Length), as Node's fetch may send.
    let body = format!(
        "grant_type={}&assertion={}",
        url_encode(JWT),
        url_encode(&a)
    );
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        body.as_bytes().chunks(50).map(|c| Ok(c.to_vec())).collect();
    let r = client()
        .post(format!("{}/services/oauth2/token", sim.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn credentials_files_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config();
    cfg.out_dir = Some(dir.path().to_path_buf());
    let sim = start_with(cfg).await;
    let c: sfsim::Credentials =
        serde_json::from_slice(&std::fs::read(dir.path().join("credentials.json")).unwrap())
            .unwrap();
    assert_eq!(c.client_id, sim.credentials.client_id);
    assert_eq!(c.client_id.len(), 85);
    assert!(c.client_id.starts_with("3MVG9"));
    assert_eq!(c.login_url, sim.url);
    assert!(c.private_key_file.is_absolute());
    assert!(std::fs::read_to_string(&c.certificate_file)
        .unwrap()
        .contains("BEGIN CERTIFICATE"));
    let toml = std::fs::read_to_string(dir.path().join("sfevents.toml")).unwrap();
    assert!(toml.contains(&format!("instance_url = \"{}\"", sim.url)));
    assert!(toml.contains("method = \"jwt\""));
    assert!(toml.contains(&format!("username = \"{}\"", c.username)));
    assert!(toml.contains(&format!("key_file = \"{}\"", c.private_key_file.display())));
    assert!(!toml.contains("ca_file"));
}

#[tokio::test]
async fn identity_and_userinfo() {
    let sim = start().await;
    let token = token(&sim).await;
    let user = &sim.org.users[0];
    let r = get(&sim, &token, &format!("/id/{}/{}", sim.org.org_id, user.id)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["user_id"], user.id);
    assert_eq!(v["organization_id"], sim.org.org_id);
    assert_eq!(v["username"], user.username);
    assert!(v["urls"]["rest"].is_string());
    let r = get(&sim, &token, "/services/oauth2/userinfo").await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["preferred_username"], user.username);
    let r = get(&sim, "bogus", "/services/oauth2/userinfo").await;
    assert_api_error(r, StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID").await;
}
