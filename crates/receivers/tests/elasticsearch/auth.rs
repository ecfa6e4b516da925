//! Authentication and the cluster-info answer.

use receivers::elasticsearch::{ApiKey, Config, Credentials};

use super::*;

fn secured() -> Config {
    Config {
        credentials: Credentials {
            api_keys: vec![ApiKey::new("sfevents", "s3cret")],
            basic: vec![("elastic".into(), "changeme".into())],
            bearer: vec!["tok-1".into()],
        },
        ..Config::default()
    }
}

#[tokio::test]
async fn refusals_follow_the_security_features() {
    let es = start(secured()).await;
    let get = |auth: Option<String>| {
        let mut r = client().get(format!("{}/_index_template", es.url()));
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        async move { answer(r.send().await.unwrap()).await }
    };
    let missing = get(None).await;
    assert_eq!(missing.status, 401);
    assert_eq!(missing.body["error"]["type"], "security_exception");
    assert_eq!(
        missing.body["error"]["reason"],
        "missing authentication credentials for REST request [/_index_template]"
    );
    let challenges: Vec<&str> = missing
        .headers
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert_eq!(
        challenges,
        [
            "Basic realm=\"security\", charset=\"UTF-8\"",
            "Bearer realm=\"security\"",
            "ApiKey"
        ]
    );
    assert_eq!(
        missing.body["error"]["header"]["WWW-Authenticate"][2],
        "ApiKey"
    );
    assert_eq!(missing.headers["x-elastic-product"], "Elasticsearch");

    let wrong_key = get(Some(format!(
        "ApiKey {}",
        ApiKey::new("sfevents", "nope").encoded()
    )))
    .await;
    assert_eq!(wrong_key.status, 401);
    assert_eq!(
        wrong_key.body["error"]["additional_unsuccessful_credentials"],
        "API key: invalid credentials for API key [sfevents]"
    );
    let unknown_key = get(Some(format!(
        "ApiKey {}",
        ApiKey::new("other", "x").encoded()
    )))
    .await;
    assert_eq!(
        unknown_key.body["error"]["additional_unsuccessful_credentials"],
        "API key: unable to find apikey with id other"
    );
    let wrong_user = get(Some("Basic ZWxhc3RpYzp3cm9uZw==".into())).await; // elastic:wrong
    assert_eq!(
        wrong_user.body["error"]["reason"],
        "unable to authenticate user [elastic] for REST request [/_index_template]"
    );
    assert_eq!(get(Some("Bearer nope".into())).await.status, 401);

    assert_eq!(
        get(Some(format!(
            "ApiKey {}",
            ApiKey::new("sfevents", "s3cret").encoded()
        )))
        .await
        .status,
        200
    );
    assert_eq!(
        get(Some("Basic ZWxhc3RpYzpjaGFuZ2VtZQ==".into()))
            .await
            .status,
        200
    ); // elastic:changeme
    assert_eq!(get(Some("Bearer tok-1".into())).await.status, 200);

    // Bulk is refused before anything is read or stored.
    let a = post_bulk(es.url(), "/_bulk", creates(STREAM, &["1"])).await;
    assert_eq!(a.status, 401);
    assert!(es.docs(STREAM).is_empty());
    assert_eq!(es.stats().bulk_requests, 0);
    assert_eq!(es.stats().auth_failures, 6);
    // The admin endpoints need nothing.
    assert_eq!(
        client()
            .get(format!("{}/__receiver/stats", es.url()))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn opensearch_has_no_api_keys() {
    let os = start(Config {
        credentials: secured().credentials,
        ..Config::opensearch()
    })
    .await;
    let key = format!("ApiKey {}", ApiKey::new("sfevents", "s3cret").encoded());
    let refused = client()
        .get(os.url())
        .header("authorization", key)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(
        refused.headers()["www-authenticate"],
        "Basic realm=\"OpenSearch Security\""
    );
    let info = answer(
        client()
            .get(os.url())
            .basic_auth("elastic", Some("changeme"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(info.status, 200);
    assert_eq!(info.body["version"]["distribution"], "opensearch");
    assert_eq!(info.body["version"]["number"], "2.19.0");
    assert!(info.headers.get("x-elastic-product").is_none());
}

#[tokio::test]
async fn cluster_info_and_rest_compatibility() {
    let es = start(Config::default()).await;
    let info = answer(client().get(es.url()).send().await.unwrap()).await;
    assert_eq!(info.status, 200);
    assert_eq!(info.headers["x-elastic-product"], "Elasticsearch");
    assert_eq!(info.body["version"]["number"], "8.17.0");
    assert_eq!(info.body["version"]["build_flavor"], "default");
    assert_eq!(info.body["tagline"], "You Know, for Search");
    for key in ["name", "cluster_name", "cluster_uuid"] {
        assert!(info.body[key].is_string(), "{key}");
    }

    // A 9.x client on an 8.x cluster.
    let v9 = "application/vnd.elasticsearch+json; compatible-with=9";
    let refused = answer(
        client()
            .get(es.url())
            .header("accept", v9)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.body["error"]["type"], "media_type_header_exception");
    assert!(refused.body["error"]["caused_by"]["reason"]
        .as_str()
        .unwrap()
        .starts_with("Accept version must be either version 8 or 7, but found 9."));
    let v8 = answer(
        client()
            .get(es.url())
            .header(
                "accept",
                "application/vnd.elasticsearch+json; compatible-with=8",
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(v8.status, 200);
    assert_eq!(
        v8.headers["content-type"],
        "application/vnd.elasticsearch+json;compatible-with=8"
    );

    let unknown = answer(
        client()
            .get(format!("{}/_nope", es.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(unknown.status, 400);
    assert_eq!(
        unknown.body["error"],
        "no handler found for uri [/_nope] and method [GET]"
    );
    let wrong = answer(
        client()
            .get(format!("{}/_bulk", es.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(wrong.status, 405);
    assert!(
        wrong.body["error"]
            .as_str()
            .unwrap()
            .starts_with("Incorrect HTTP method for uri [/_bulk] and method [GET], allowed: ["),
        "{}",
        wrong.body
    );
}

#[tokio::test]
async fn tls_with_the_generated_ca() {
    let es = start(Config {
        tls: true,
        ..Config::default()
    })
    .await;
    assert!(es.url().starts_with("https://localhost:"));
    let ca = reqwest::Certificate::from_pem(es.ca_pem().unwrap().as_bytes()).unwrap();
    let trusting = reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .unwrap();
    let info = trusting
        .get(es.url())
        .send()
        .await
        .expect("trusted over TLS");
    assert_eq!(info.status(), 200);
    assert!(std::fs::read_to_string(es.ca_file().unwrap())
        .unwrap()
        .contains("BEGIN CERTIFICATE"));
    assert!(
        client().get(es.url()).send().await.is_err(),
        "untrusted without the CA"
    );
}
