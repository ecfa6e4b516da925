use super::*;
use crate::elasticsearch::config::{EsConfig, EsMode};

fn err(r: Result<OutputConfig, ConfigError>) -> String {
    r.unwrap_err().to_string()
}

#[test]
fn urls_and_tables() {
    let o = from_url("elasticsearch+https://es.example:9200?mode=agent&namespace=prod").unwrap();
    assert_eq!(o.name, "elasticsearch-es.example-9200");
    let es = o
        .kind
        .settings::<EsConfig>()
        .expect("an Elasticsearch output");
    assert_eq!(es.mode, EsMode::Agent);
    assert_eq!(es.namespace, "prod");
    assert_eq!(es.url.as_str(), "https://es.example:9200/");
    assert!(es.gzip && es.tls_verify && es.auth.is_none());

    let e = err(from_url("elasticsearch+http://es.example:9200"));
    assert!(e.contains("plain http://"), "{e}");
    assert!(from_url("elasticsearch+http://127.0.0.1:9200").is_ok());
    let e = err(from_url("elasticsearch+https://u:p4ss@es.example"));
    assert!(e.contains("password_env") && !e.contains("p4ss"), "{e}");
    let e = err(from_url("elasticsearch+https://es.example?mode=fast"));
    assert!(e.contains("use ecs or agent"), "{e}");
    let e = err(from_url("elasticsearch+https://es.example?batch=3"));
    assert!(e.contains("unknown setting 'batch'"), "{e}");
    let e = err(from_url("kafka+https://k.example"));
    // The lake output is there when the crate is built with it (the collector's default).
    let known = if cfg!(feature = "lake") {
        "teams, email or lake"
    } else {
        "teams or email"
    };
    assert_eq!(
        e,
        format!("--to kafka+https://k.example: output type 'kafka' is not known: use elasticsearch, opensearch, syslog, logplex, splunk, http, webhook, pagerduty, slack, {known}")
    );
    let e = err(from_url("ftp://es.example"));
    assert!(e.contains("which kind of output"), "{e}");
    let e = err(from_url("es.example:9200"));
    assert!(e.contains("not a URL"), "{e}");
    let e = err(from_url(
        "elasticsearch+https://es.example?api_key_env=SFEVENTS_TEST_UNSET_KEY",
    ));
    assert!(e.contains("SFEVENTS_TEST_UNSET_KEY"), "{e}");

    let t: toml::Table = toml::from_str(
        "name = \"es\"\ntype = \"opensearch\"\nurl = \"https://os.example\"\nmax_batch_events = 10\nstart = \"now\"",
    )
    .unwrap();
    let o = from_table(&t, None).unwrap();
    assert_eq!(
        (o.name.as_str(), o.batch.max_events, o.start),
        ("es", 10, Start::Now)
    );
    assert_eq!(
        (o.kind.type_name(), o.kind.named()),
        ("elasticsearch", "opensearch")
    );
    assert!(o.kind.answers_to("opensearch") && o.kind.answers_to("elasticsearch"));
    let t: toml::Table = toml::from_str("name = \"x\"\nurl = \"https://os.example\"").unwrap();
    assert_eq!(
        err(from_table(&t, None)),
        format!("output 'x' has no type: add type = \"elasticsearch\" (or elasticsearch, opensearch, syslog, logplex, splunk, http, webhook, pagerduty, slack, {known})")
    );
    let t: toml::Table =
        toml::from_str("type = \"http\"\nurl = \"https://h.example\"\nheader = { A = \"b\" }")
            .unwrap();
    assert_eq!(
        err(from_table(&t, None)),
        "[[output]] key header = { A = \"b\" } is not a string, number or true/false"
    );
}

#[test]
fn every_kind_from_a_url_and_a_table() {
    let o = from_url("https://collect.example/receiver/v1/http/abc").unwrap();
    assert_eq!(o.kind.type_name(), "http");
    assert_eq!(o.name, "http-collect.example-443");
    let o = from_url("syslog+tls://logs.example").unwrap();
    assert_eq!(
        (o.kind.type_name(), o.name.as_str()),
        ("syslog", "syslog-logs.example-6514")
    );
    let o = from_url("http+https://collect.example/in").unwrap();
    assert_eq!(o.kind.type_name(), "http");
    let o = from_url("logplex+https://drain.example/logs").unwrap();
    assert_eq!(o.kind.type_name(), "logplex");
    let t: toml::Table = toml::from_str(
        "type = \"syslog\"\nurl = \"syslog+tcp://127.0.0.1:1514\"\nname = \"audit\"",
    )
    .unwrap();
    let o = from_table(&t, None).unwrap();
    assert_eq!((o.kind.type_name(), o.name.as_str()), ("syslog", "audit"));
    let t: toml::Table =
        toml::from_str("type = \"syslog\"\nurl = \"udp://127.0.0.1:1514\"").unwrap();
    assert_eq!(from_table(&t, None).unwrap().kind.type_name(), "syslog");
    let o = from_url("opensearch+https://os.example").unwrap();
    assert_eq!(o.name, "opensearch-os.example-443");
}

#[test]
fn secret_files_are_read_from_the_source_even_when_it_is_refused() {
    let s = OutputSource::url(
        "splunk+https://h.example:8088?name=hec&token_file=/nonexistent/t&ca_file=/etc/ca.pem",
    );
    assert_eq!(
        s.secret_files(),
        vec![(
            "output 'hec': token".to_string(),
            PathBuf::from("/nonexistent/t")
        )]
    );
    assert!(s.resolve().unwrap_err().to_string().starts_with("--to splunk+https://h.example:8088?name=hec&token_file=/nonexistent/t&ca_file=/etc/ca.pem: cannot read the HEC token file /nonexistent/t"));
    let s = OutputSource::url("kafka+https://k.example?password_file=pw");
    assert_eq!(
        s.secret_files(),
        vec![("output: password".to_string(), PathBuf::from("pw"))]
    );
    let t: toml::Table = toml::from_str(
        "type = \"logplex\"\nurl = \"https://d.example\"\nusername = \"u\"\npassword_file = \"pw\"",
    )
    .unwrap();
    let s = OutputSource::table(&t, Some(Path::new("/etc/sfevents")));
    assert_eq!(
        s.secret_files(),
        vec![(
            "output: password".to_string(),
            PathBuf::from("/etc/sfevents/pw")
        )]
    );
}
