//! The Elasticsearch / OpenSearch output against the in-process receiver
//! (`receivers::elasticsearch`), through `outputs::sink` as the shipper uses it, with events
//! shaped as the archive writes them.

use base::secret::Secret;
use outputs::config::{from_url, OutputConfig};
use outputs::elasticsearch::config::{EsAuth, EsConfig};
use outputs::elasticsearch::setup;
use outputs::{self, Event, OrgContext, SinkError, Verdict};
use receivers::elasticsearch::{self, ApiKey, Config, Credentials, Faults, Handle};
use serde_json::{json, Value};

const INSTANCE: &str = "https://acme.my.salesforce.com";
const ORG: &str = "00D5g000004SxyzEAC";
const LOGIN: &str = "logs-salesforce.login-default";
const USAGE: &str = "logs-salesforce.api_total_usage-default";

fn event(value: Value) -> Event {
    Event::from_value(value)
}

/// Row `n` of a daily Login EventLogFile, as `normalize::convert_csv` writes it.
fn login_row(n: usize) -> Event {
    event(json!({
        "@timestamp": format!("2026-03-10T14:{:02}:05.112Z", n % 60), "id": format!("9c41d07a2be35f18e6a0-{n}"),
        "org_id": ORG, "source": "EventLogFile", "event_type": "Login", "file_id": "0AT5g00000Hq2bWGAR",
        "log_date": "2026-03-10T00:00:00.000+0000", "interval": "Daily", "sequence": 0, "row": n,
        "fields": {
            "EVENT_TYPE": "Login", "TIMESTAMP": format!("202603101{:01}{:02}05.112", n % 10, n % 60),
            "REQUEST_ID": format!("4exLFFQ{n:03}ZkA1T2oVQvh-"), "ORGANIZATION_ID": "00D5g000004Sxyz",
            "USER_ID": "0055g00000B4XyZ", "RUN_TIME": "187", "CPU_TIME": "74", "URI": "/index.jsp",
            "SESSION_KEY": "", "LOGIN_KEY": "Qd1wbYbAt6cx7pCO", "USER_TYPE": "Standard",
            "REQUEST_STATUS": if n % 3 == 1 { "F" } else { "" }, "DB_TOTAL_TIME": "52911027",
            "LOGIN_TYPE": "i", "BROWSER_TYPE": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
            "API_TYPE": "", "API_VERSION": "9998.0", "USER_NAME": format!("user{n}@acme.example"),
            "TLS_PROTOCOL": "TLSv1.3", "CIPHER_SUITE": "TLS_AES_256_GCM_SHA384",
            "AUTHENTICATION_METHOD_REFERENCE": "", "LOGIN_SUB_TYPE": "", "LOGIN_STATUS": "LOGIN_NO_ERROR",
            "TIMESTAMP_DERIVED": format!("2026-03-10T14:{:02}:05.112Z", n % 60),
            "USER_ID_DERIVED": "0055g00000B4XyZAAV", "CLIENT_IP": "", "URI_ID_DERIVED": "",
            "SOURCE_IP": format!("203.0.113.{}", n % 250 + 1)
        }
    }))
}

/// A LoginEvent record, as the object source archives it.
fn login_event(n: usize) -> Event {
    let ident = format!("1d0b6a3e-7f2c-4e91-9a5b-{n:012}");
    event(json!({
        "@timestamp": "2026-03-10T15:02:11.000Z", "id": format!("51f7c2e09ab4d38e1c66-{ident}"),
        "org_id": ORG, "source": "LoginEvent",
        "fields": {
            "attributes": {"type": "LoginEvent"}, "EventIdentifier": ident,
            "EventDate": "2026-03-10T15:02:11.000+0000", "UserId": "0055g00000B4XyZAAV",
            "Username": "ana@acme.example", "SourceIp": "198.51.100.23", "LoginUrl": "login.salesforce.com",
            "Status": "Success", "Browser": "Chrome 122", "Platform": "Mac OSX", "Application": "Browser",
            "LoginType": "Application", "CountryIso": "PT", "City": "Lisbon", "LoginLatitude": 38.7223,
            "LoginLongitude": -9.1393, "TlsProtocol": "TLS 1.3", "SessionLevel": "STANDARD"
        }
    }))
}

/// An ApiTotalUsage row: no Elastic data stream, so the generic mapping.
fn api_usage(n: usize) -> Event {
    event(json!({
        "@timestamp": "2026-03-10T16:20:00.000Z", "id": format!("07be55a1c3f9d2e4b8a0-{n}"),
        "org_id": ORG, "source": "EventLogFile", "event_type": "ApiTotalUsage",
        "file_id": "0AT5g00000Hq2cXGAR", "log_date": "2026-03-10T00:00:00.000+0000",
        "interval": "Daily", "sequence": 0, "row": n,
        "fields": {
            "EVENT_TYPE": "ApiTotalUsage", "TIMESTAMP": "20260310162000.000",
            "REQUEST_ID": format!("TID:{n}8812000"), "ORGANIZATION_ID": "00D5g000004Sxyz",
            "USER_ID": "0055g00000B4XyZ", "API_FAMILY": "REST", "API_VERSION": "62.0",
            "API_RESOURCE": "/query", "CLIENT_NAME": "sfevents", "HTTP_METHOD": "GET",
            "CLIENT_IP": "192.0.2.10", "COUNTS_AGAINST_API_LIMIT": "true", "STATUS_CODE": "200",
            "TIMESTAMP_DERIVED": "2026-03-10T16:20:00.000Z", "USER_ID_DERIVED": "0055g00000B4XyZAAV"
        }
    }))
}

fn batch() -> Vec<Event> {
    vec![
        login_row(1),
        login_row(2),
        login_row(3),
        login_event(1),
        login_event(2),
        api_usage(1),
        api_usage(2),
    ]
}

fn output(url: &str, query: &str) -> OutputConfig {
    from_url(&format!("elasticsearch+{url}?{query}")).expect("output config")
}

fn es_mut(cfg: &mut OutputConfig) -> &mut EsConfig {
    cfg.kind
        .settings_mut::<EsConfig>()
        .expect("an Elasticsearch output")
}

fn with_auth(mut cfg: OutputConfig, auth: EsAuth) -> OutputConfig {
    es_mut(&mut cfg).auth = Some(auth);
    cfg
}

fn org() -> OrgContext {
    OrgContext {
        org: "acme".into(),
        instance_url: INSTANCE.into(),
        state: None,
    }
}

fn normalizer() -> ecs::Normalizer {
    ecs::Normalizer::new(ecs::Options {
        instance_url: INSTANCE.into(),
        ..ecs::Options::default()
    })
    .expect("normalizer")
}

async fn start(config: Config) -> Handle {
    elasticsearch::start(config).await.expect("receiver starts")
}

async fn send(cfg: &OutputConfig, events: &[Event]) -> Result<Vec<Verdict>, SinkError> {
    outputs::sink(cfg, &org())?.send(events).await
}

fn all(v: &[Verdict], want: &Verdict) -> bool {
    v.iter().all(|x| x == want)
}

#[tokio::test]
async fn ecs_documents_land_in_their_data_streams_gzipped_with_no_pipeline() {
    let es = start(Config::default()).await;
    let events = batch();
    let v = send(&output(es.url(), ""), &events).await.expect("sent");
    assert!(all(&v, &Verdict::Delivered), "{v:?}");
    let n = normalizer();
    for ev in &events {
        let doc = n.ecs(ev.value()).expect("doc");
        let stored: Vec<_> = es
            .docs(&doc.data_stream)
            .into_iter()
            .filter(|d| d.id == ev.id)
            .collect();
        assert_eq!(stored.len(), 1, "{} in {}", ev.id, doc.data_stream);
        assert_eq!(
            stored[0].source, doc.body,
            "the normalizer's document, byte for byte"
        );
        assert_eq!(stored[0].pipeline.as_deref(), Some("_none"));
    }
    assert_eq!((es.docs(LOGIN).len(), es.docs(USAGE).len()), (5, 2));
    let s = es.stats();
    assert_eq!((s.bulk_requests, s.compressed_requests), (1, 1));
    assert!(
        s.bytes_received * 3 < s.bytes_decoded,
        "gzip on the wire: {s:?}"
    );

    let plain = start(Config::default()).await;
    let v = send(
        &output(plain.url(), "compression=none&namespace=prod"),
        &events,
    )
    .await
    .expect("sent");
    assert!(all(&v, &Verdict::Delivered));
    assert_eq!(plain.stats().compressed_requests, 0);
    assert_eq!(plain.docs("logs-salesforce.login-prod").len(), 5);
}

#[tokio::test]
async fn raw_mode_indexes_the_archive_line_itself() {
    let es = start(Config::default()).await;
    let events = batch();
    let v = send(&output(es.url(), "mode=raw&namespace=raw"), &events)
        .await
        .expect("sent");
    assert!(all(&v, &Verdict::Delivered), "{v:?}");
    for ev in &events {
        let ds = ecs::dataset_for(
            ev.value()["source"].as_str().unwrap(),
            ev.value()["event_type"].as_str(),
        );
        let stored: Vec<_> = es
            .docs(&format!("logs-salesforce.{ds}-raw"))
            .into_iter()
            .filter(|d| d.id == ev.id)
            .collect();
        assert_eq!(stored.len(), 1, "{} in {ds}", ev.id);
        assert_eq!(&stored[0].source, ev.value(), "the archive line as it is");
        assert_eq!(stored[0].pipeline.as_deref(), Some("_none"));
    }
    assert_eq!(es.docs("logs-salesforce.login-raw").len(), 5);
}

#[tokio::test]
async fn a_second_send_is_all_duplicates() {
    let es = start(Config::default()).await;
    let cfg = output(es.url(), "");
    let events = batch();
    assert!(all(
        &send(&cfg, &events).await.expect("first"),
        &Verdict::Delivered
    ));
    let again = send(&cfg, &events).await.expect("second");
    assert!(all(&again, &Verdict::Duplicate), "{again:?}");
    assert_eq!(es.all_docs().len(), events.len(), "one document per id");
    assert_eq!(es.offers(LOGIN, &events[0].id), 2);
    assert_eq!(es.stats().conflicts, events.len() as u64);
}

#[tokio::test]
async fn refused_items_are_retried_alone_and_failed_requests_are_transient() {
    let es = start(Config::default()).await;
    let cfg = output(es.url(), "");
    let events = batch();
    es.set_faults(Faults {
        items_429: 1,
        items_5xx: 1,
        ..Faults::default()
    });
    let v = send(&cfg, &events).await.expect("sent");
    assert!(
        matches!(&v[0], Verdict::Retry(r) if r.contains("429 es_rejected_execution_exception")),
        "{v:?}"
    );
    assert!(
        matches!(&v[1], Verdict::Retry(r) if r.contains("503 unavailable_shards_exception")),
        "{v:?}"
    );
    assert!(all(&v[2..], &Verdict::Delivered), "{v:?}");
    let v = send(&cfg, &events[..2]).await.expect("retried");
    assert!(all(&v, &Verdict::Delivered), "{v:?}");
    assert_eq!(es.all_docs().len(), events.len());
    // The sink sends each item once per call (retrying is its caller's): the two refused items
    // were attempted again only when sent again, the rest once.
    let statuses =
        |id: &str| -> Vec<u16> { es.attempt(id).answers.iter().map(|a| a.status).collect() };
    assert_eq!(statuses(&events[0].id), [429, 201]);
    assert_eq!(statuses(&events[1].id), [503, 201]);
    assert!(events[2..].iter().all(|e| statuses(&e.id) == [201]));

    let fresh = [login_row(40), api_usage(40)];
    es.set_faults(Faults {
        requests_429: 1,
        retry_after_secs: Some(7),
        requests_5xx: 1,
        close_connection: 1,
        close_after_store: 1,
        ..Faults::default()
    });
    let e = send(&cfg, &fresh).await.expect_err("429");
    assert!(
        matches!(&e, SinkError::Throttled { message, after }
            if message.contains("429") && message.contains("Retry-After 7") && after.as_secs() == 7),
        "{e:?}"
    );
    let e = send(&cfg, &fresh).await.expect_err("503");
    assert!(
        matches!(&e, SinkError::Transient(m) if m.contains("503") && m.contains("cluster_block_exception")),
        "{e:?}"
    );
    let e = send(&cfg, &fresh).await.expect_err("closed");
    assert!(
        matches!(&e, SinkError::Transient(m) if m.contains("cannot reach")),
        "{e:?}"
    );
    assert_eq!(es.all_docs().len(), events.len(), "nothing stored so far");
    let e = send(&cfg, &fresh).await.expect_err("closed after storing");
    assert!(matches!(e, SinkError::Transient(_)), "{e:?}");
    let v = send(&cfg, &fresh).await.expect("redelivered");
    assert!(all(&v, &Verdict::Duplicate), "stored before the cut: {v:?}");

    let sink = outputs::sink(&cfg, &org()).expect("sink");
    es.shutdown();
    let e = sink.send(&fresh).await.expect_err("down");
    assert!(matches!(e, SinkError::Transient(_)), "{e:?}");
}

#[tokio::test]
async fn refused_and_unmappable_documents_are_dead_and_the_rest_delivered() {
    let es = start(Config::default()).await;
    // API_RESOURCE is text in the rows before (a keyword under x-pack's `logs` template): an
    // object there is a mapping conflict, refused for good.
    let mut value = api_usage(3).value().clone();
    value["fields"]["API_RESOURCE"] = json!({"path": "/query"});
    let conflicting = event(value);
    let mut events = batch();
    events.push(conflicting.clone());
    events.push(event(
        json!({"id": "9c41d07a2be35f18e6a0-99", "source": "EventLogFile", "fields": {}}),
    ));
    let v = send(&output(es.url(), ""), &events).await.expect("sent");
    let reason = match &v[7] {
        Verdict::Dead(r) => r.clone(),
        other => panic!("{other:?}"),
    };
    let id = &conflicting.id;
    assert!(
        reason.starts_with("400 document_parsing_exception: [1:")
            && reason.contains(&format!("failed to parse field [salesforce.api_total_usage.api_resource] of type [keyword] in document with id '{id}'. Preview of field's value: '{{path=/query}}' (caused by illegal_argument_exception: Expected text at 1:")),
        "{reason}"
    );
    assert!(
        matches!(&v[8], Verdict::Dead(r) if r.contains("event_type")),
        "{v:?}"
    );
    assert!(all(&v[..7], &Verdict::Delivered), "{v:?}");
    assert_eq!(es.all_docs().len(), 7);
    assert_eq!(es.stats().items, 8, "the unmappable event was never sent");
    assert_eq!(es.stats().rejected, 1);
}

#[tokio::test]
async fn a_body_over_the_limit_is_split_and_a_lone_document_over_it_is_dead() {
    let es = start(Config::default()).await;
    let events: Vec<Event> = (1..=8).map(login_row).collect();
    let n = normalizer();
    let largest = events
        .iter()
        .map(|e| n.ecs(e.value()).expect("doc").body.to_string().len() + 120)
        .max()
        .unwrap_or(0);
    es.set_faults(Faults {
        max_content_length: Some(2 * largest as u64),
        ..Faults::default()
    });
    let v = send(&output(es.url(), ""), &events).await.expect("sent");
    assert!(all(&v, &Verdict::Delivered), "{v:?}");
    assert_eq!(es.docs(LOGIN).len(), 8);
    let s = es.stats();
    assert!(
        s.requests_413 >= 3 && s.bulk_requests == s.requests_413 + 4,
        "{s:?}"
    );
    let ids: Vec<String> = es.docs(LOGIN).into_iter().map(|d| d.id).collect();
    let sent: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
    assert_eq!(ids, sent, "halves go in batch order");

    es.set_faults(Faults {
        max_content_length: Some(200),
        ..Faults::default()
    });
    let v = send(&output(es.url(), ""), &[login_row(20), login_row(21)])
        .await
        .expect("sent");
    assert!(
        v.iter()
            .all(|x| matches!(x, Verdict::Dead(r) if r.starts_with("document too large"))),
        "{v:?}"
    );
}

#[tokio::test]
async fn credentials_are_sent_and_refusals_are_fatal_without_the_secret() {
    let es = start(Config {
        credentials: Credentials {
            api_keys: vec![ApiKey::new("k1d", "s3cret-api-key")],
            basic: vec![("shipper".into(), "pw-0f-shipper".into())],
            ..Credentials::default()
        },
        ..Config::default()
    })
    .await;
    let cfg = |auth| with_auth(output(es.url(), ""), auth);
    let key = |k: &str| EsAuth::ApiKey(Secret::new(k));
    let basic = |p: &str| EsAuth::Basic {
        username: "shipper".into(),
        password: Secret::new(p),
    };
    let encoded = ApiKey::new("k1d", "s3cret-api-key").encoded();
    for auth in [
        key(&encoded),
        key("k1d:s3cret-api-key"),
        basic("pw-0f-shipper"),
    ] {
        let v = send(&cfg(auth), &[login_row(1)]).await.expect("accepted");
        assert!(
            matches!(v[0], Verdict::Delivered | Verdict::Duplicate),
            "{v:?}"
        );
    }
    let wrong = ApiKey::new("k1d", "wr0ng-api-key").encoded();
    let e = send(&cfg(key(&wrong)), &[login_row(2)])
        .await
        .expect_err("wrong key");
    let SinkError::Fatal(m) = &e else {
        panic!("{e:?}")
    };
    assert!(m.contains("401") && m.contains("API key"), "{m}");
    assert!(!m.contains(&wrong) && !m.contains("wr0ng-api-key"), "{m}");
    let e = send(&cfg(basic("pw-wr0ng")), &[login_row(2)])
        .await
        .expect_err("wrong password");
    let SinkError::Fatal(m) = &e else {
        panic!("{e:?}")
    };
    assert!(m.contains("user shipper") && !m.contains("pw-wr0ng"), "{m}");
    let e = send(&output(es.url(), ""), &[login_row(2)])
        .await
        .expect_err("none");
    assert!(
        matches!(&e, SinkError::Fatal(m) if m.contains("api_key_env")),
        "{e:?}"
    );

    let os = start(Config {
        credentials: Credentials {
            basic: vec![("shipper".into(), "pw-0f-shipper".into())],
            ..Credentials::default()
        },
        ..Config::opensearch()
    })
    .await;
    let v = send(
        &with_auth(output(os.url(), ""), basic("pw-0f-shipper")),
        &batch(),
    )
    .await
    .expect("opensearch");
    assert!(all(&v, &Verdict::Delivered), "{v:?}");
    assert_eq!(os.docs(LOGIN).len(), 5);
    let e = send(
        &with_auth(output(os.url(), ""), key(&encoded)),
        &[login_row(1)],
    )
    .await
    .expect_err("api key");
    assert!(
        matches!(&e, SinkError::Fatal(m) if m.contains("OpenSearch, which has no API keys")),
        "{e:?}"
    );
}

#[tokio::test]
async fn agent_mode_sends_filebeats_shape_without_a_pipeline() {
    let es = start(Config::default()).await;
    let events = batch();
    let v = send(&output(es.url(), "mode=agent"), &events)
        .await
        .expect("sent");
    assert!(all(&v, &Verdict::Delivered), "{v:?}");
    let n = normalizer();
    for ev in &events {
        let doc = n.agent(ev.value()).expect("doc");
        let stored = es
            .docs(&doc.data_stream)
            .into_iter()
            .find(|d| d.id == ev.id)
            .expect("stored");
        assert_eq!(stored.source, doc.body);
        assert_eq!(
            stored.pipeline, None,
            "the data stream's default pipeline must run"
        );
    }
    let login = es
        .docs(LOGIN)
        .into_iter()
        .find(|d| d.id == events[3].id)
        .expect("LoginEvent");
    let message: Value =
        serde_json::from_str(login.source["message"].as_str().expect("message")).expect("JSON");
    assert_eq!(
        message["EventIdentifier"],
        events[3].value()["fields"]["EventIdentifier"]
    );
    assert!(message.get("attributes").is_none(), "as go-sfdc drops it");
    let usage = &es.docs(USAGE)[0];
    assert_eq!(
        usage.source,
        n.ecs(events[5].value()).expect("doc").body,
        "no integration stream: ecs"
    );

    let os = start(Config::opensearch()).await;
    let e = send(&output(os.url(), "mode=agent"), &events)
        .await
        .expect_err("opensearch");
    assert!(
        matches!(&e, SinkError::Fatal(m) if m.contains("use mode = ecs")),
        "{e:?}"
    );
}

/// Without the CA the answer is `Fatal`: retrying cannot make the certificate trusted, and a
/// backoff loop would hide a setting to fix.
#[tokio::test]
async fn tls_needs_the_receivers_ca() {
    let es = start(Config {
        tls: true,
        ..Config::default()
    })
    .await;
    let ca = es.ca_file().expect("ca").display().to_string();
    let v = send(&output(es.url(), &format!("ca_file={ca}")), &[login_row(1)])
        .await
        .expect("trusted");
    assert_eq!(v, vec![Verdict::Delivered]);
    let e = send(&output(es.url(), ""), &[login_row(2)])
        .await
        .expect_err("untrusted");
    assert!(
        matches!(&e, SinkError::Fatal(m) if m.contains("certificate") && m.contains("ca_file")),
        "{e:?}"
    );
    let v = send(&output(es.url(), "tls_verify=false"), &[login_row(2)])
        .await
        .expect("unverified");
    assert_eq!(v, vec![Verdict::Delivered]);
}

async fn data_stream(es: &Handle, name: &str) -> Value {
    let v: Value = reqwest::get(format!("{}/_data_stream/{name}", es.url()))
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON");
    v["data_streams"][0].clone()
}

#[tokio::test]
async fn setup_installs_template_and_policy_idempotently() {
    let es = start(Config::default()).await;
    let mut cfg = output(es.url(), "retention_days=30");
    let es_cfg = |c: &OutputConfig| match c.kind.settings::<EsConfig>() {
        Some(e) => e.clone(),
        None => panic!("{:?}", c.kind),
    };
    let lines = setup(&cfg, &es_cfg(&cfg)).await.expect("setup");
    let text = lines.join("\n");
    assert!(text.contains("Elasticsearch 8.17.0"), "{text}");
    assert!(
        text.contains("ILM policy sfevents-salesforce (delete 30 days after rollover): installed"),
        "{text}"
    );
    assert!(
        text.contains(
            "index template sfevents-salesforce (logs-salesforce.*-*, priority 130): installed"
        ),
        "{text}"
    );
    let t = es.index_template("sfevents-salesforce").expect("template");
    assert_eq!(
        t["template"]["settings"]["index.lifecycle.name"],
        "sfevents-salesforce"
    );
    assert_eq!(
        t["template"]["mappings"]["properties"]["source"]["properties"]["ip"]["type"],
        "ip"
    );
    assert_eq!(
        es.ilm_policy("sfevents-salesforce").expect("ilm")["phases"]["delete"]["min_age"],
        "30d"
    );
    let again = setup(&cfg, &es_cfg(&cfg)).await.expect("again").join("\n");
    assert_eq!(again.matches(": already there").count(), 2, "{again}");
    es_mut(&mut cfg).retention_days = Some(60);
    let changed = setup(&cfg, &es_cfg(&cfg))
        .await
        .expect("changed")
        .join("\n");
    assert!(
        changed.contains("ILM policy sfevents-salesforce (delete 60 days after rollover): updated"),
        "{changed}"
    );
    assert!(
        changed.contains("priority 130): already there"),
        "the template names the policy only: {changed}"
    );

    // Elastic's integration installed (Fleet's priority 200): its template wins for its data
    // stream, ours for the rest.
    let fleet =
        json!({"index_patterns": ["logs-salesforce.login-*"], "priority": 200, "data_stream": {}});
    let put = reqwest::Client::new()
        .put(format!(
            "{}/_index_template/logs-salesforce.login",
            es.url()
        ))
        .json(&fleet)
        .send()
        .await
        .expect("PUT");
    assert!(put.status().is_success());
    let noted = setup(&cfg, &es_cfg(&cfg)).await.expect("noted").join("\n");
    assert!(
        noted.contains("integration templates are installed (logs-salesforce.login)"),
        "{noted}"
    );
    send(&cfg, &batch()).await.expect("sent");
    assert_eq!(
        data_stream(&es, LOGIN).await["template"],
        "logs-salesforce.login"
    );
    let usage = data_stream(&es, USAGE).await;
    assert_eq!(
        (usage["template"].as_str(), usage["ilm_policy"].as_str()),
        (Some("sfevents-salesforce"), Some("sfevents-salesforce"))
    );

    let os = start(Config::opensearch()).await;
    let mut cfg = output(os.url(), "retention_days=7");
    let text = setup(&cfg, &es_cfg(&cfg))
        .await
        .expect("opensearch")
        .join("\n");
    assert!(
        text.contains("ISM policy sfevents-salesforce (delete 7 days after rollover): installed"),
        "{text}"
    );
    let ism = os.ism_policy("sfevents-salesforce").expect("ism");
    assert_eq!(
        ism["ism_template"][0]["index_patterns"][0],
        "logs-salesforce.*-*"
    );
    assert_eq!(
        ism["states"][0]["transitions"][0]["conditions"]["min_rollover_age"],
        "7d"
    );
    assert!(
        os.index_template("sfevents-salesforce").expect("template")["template"]["settings"]
            .get("index.lifecycle.name")
            .is_none()
    );
    let again = setup(&cfg, &es_cfg(&cfg)).await.expect("again").join("\n");
    assert_eq!(again.matches(": already there").count(), 2, "{again}");
    es_mut(&mut cfg).retention_days = Some(14);
    let changed = setup(&cfg, &es_cfg(&cfg))
        .await
        .expect("changed, by seq_no")
        .join("\n");
    assert!(
        changed.contains("ISM policy sfevents-salesforce (delete 14 days after rollover): updated"),
        "{changed}"
    );
    send(&cfg, &batch()).await.expect("sent");
    assert!(
        os.data_streams().contains(&LOGIN.to_string()),
        "a data stream, not a plain index"
    );
}
