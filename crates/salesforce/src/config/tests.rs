//! Resolution of files, flags and secrets.
use super::*;

fn key_file(dir: &Path) -> PathBuf {
    let p = dir.join("k.pem");
    std::fs::write(
        &p,
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    p
}

#[test]
fn flags_only_jwt() {
    let d = tempfile::tempdir().unwrap();
    let ov = Overrides {
        client_id: Some("cid".into()),
        username: Some("u@x".into()),
        jwt_key_file: Some(key_file(d.path())),
        instance_url: Some("https://acme.my.salesforce.com".into()),
        output_dir: Some(d.path().join("out")),
        event_types: vec!["ApiTotalUsage".into()],
        ..Default::default()
    };
    let orgs = resolve(&ov).unwrap();
    assert_eq!(orgs.len(), 1);
    let o = &orgs[0];
    assert_eq!(o.auth.method(), "jwt");
    assert_eq!(o.audience, "https://login.salesforce.com");
    assert_eq!(o.login_url.as_str(), "https://acme.my.salesforce.com/");
    assert_eq!(o.archive_dir, d.path().join("out"));
    assert!(!format!("{o:?}").contains("AAAA"), "key must not print");
    assert!(o.notes.is_empty());
}

#[test]
fn complete_jwt_flags_win_over_an_org_alias_unless_sf_cli_is_asked_for() {
    let d = tempfile::tempdir().unwrap();
    let seed = Overrides {
        client_id: Some("cid".into()),
        username: Some("u@x".into()),
        jwt_key_file: Some(key_file(d.path())),
        instance_url: Some("https://acme.my.salesforce.com".into()),
        org_alias: Some("my-org".into()),
        output_dir: Some(d.path().join("out")),
        ..Default::default()
    };
    let o = &resolve(&seed).unwrap()[0];
    assert_eq!(o.auth.method(), "jwt");
    assert_eq!(o.login_url.as_str(), "https://acme.my.salesforce.com/");
    assert_eq!(o.notes.len(), 1);
    assert!(
        o.notes[0].contains("'my-org' is only a label"),
        "{:?}",
        o.notes
    );

    let asked = Overrides {
        auth: Some("sf-cli".into()),
        ..seed.clone()
    };
    assert_eq!(resolve(&asked).unwrap()[0].auth.method(), "sf-cli");

    // Incomplete JWT flags: the alias is the login.
    let partial = Overrides {
        jwt_key_file: None,
        ..seed
    };
    let o = &resolve(&partial).unwrap()[0];
    assert_eq!(o.auth.method(), "sf-cli");
    assert_eq!(o.login_url.as_str(), "https://login.salesforce.com/");
}

#[test]
fn refuses_http_to_remote_hosts() {
    let d = tempfile::tempdir().unwrap();
    let ov = Overrides {
        client_id: Some("cid".into()),
        username: Some("u".into()),
        jwt_key_file: Some(key_file(d.path())),
        instance_url: Some("http://acme.my.salesforce.com".into()),
        output_dir: Some(d.path().into()),
        ..Default::default()
    };
    let e = resolve(&ov).unwrap_err().to_string();
    assert!(e.contains("plain http://"), "{e}");
    let ov = Overrides {
        instance_url: Some("http://127.0.0.1:8080".into()),
        ..ov
    };
    assert!(resolve(&ov).is_ok());
}

#[test]
fn inline_secrets_refused_and_sandbox_audience() {
    let d = tempfile::tempdir().unwrap();
    let cfg = d.path().join("c.toml");
    std::fs::write(
        &cfg,
        "output_dir = \"out\"\n[[org]]\nname = \"a\"\nlogin_url = \"https://test.salesforce.com\"\n[org.auth]\nmethod = \"password\"\nclient_id = \"x\"\nusername = \"u\"\npassword = \"p\"\n",
    )
    .unwrap();
    let ov = Overrides {
        config: Some(cfg.clone()),
        ..Default::default()
    };
    let e = resolve(&ov).unwrap_err().to_string();
    assert!(e.contains("password_file"), "{e}");
    std::fs::write(
        &cfg,
        format!("output_dir = \"out\"\n[[org]]\nname = \"a\"\nlogin_url = \"https://test.salesforce.com\"\n[org.auth]\nclient_id = \"x\"\nusername = \"u\"\nkey_file = \"{}\"\n[[org]]\nname = \"b\"\ninstance_url = \"https://b.my.salesforce.com\"\n[org.auth]\nkey_file = \"k.pem\"\nclient_id = \"y\"\nusername = \"v\"\n", key_file(d.path()).display()),
    )
    .unwrap();
    let orgs = resolve(&ov).unwrap();
    assert_eq!(orgs[0].audience, "https://test.salesforce.com");
    assert_eq!(orgs[0].archive_dir, d.path().join("out").join("a"));
    assert_eq!(orgs[1].archive_dir, d.path().join("out").join("b"));
}

#[test]
fn unknown_keys_are_errors() {
    let d = tempfile::tempdir().unwrap();
    let cfg = d.path().join("c.toml");
    std::fs::write(&cfg, "[[org]]\nname = \"a\"\ninstanse_url = \"x\"\n").unwrap();
    let e = resolve(&Overrides {
        config: Some(cfg),
        ..Default::default()
    })
    .unwrap_err()
    .to_string();
    assert!(e.contains("instanse_url"), "{e}");
}

/// The typed errors print what the `String` errors they replaced printed, word for word.
#[test]
fn typed_errors_keep_their_messages() {
    let d = tempfile::tempdir().unwrap();
    let base = Overrides {
        instance_url: Some("https://acme.my.salesforce.com".into()),
        output_dir: Some(d.path().join("out")),
        ..Default::default()
    };
    let error = |ov: &Overrides| resolve(ov).unwrap_err().to_string();

    let ov = Overrides {
        auth: Some("password".into()),
        client_id: Some("cid".into()),
        ..base.clone()
    };
    assert_eq!(error(&ov), "org 'default': password auth needs --username");
    std::env::remove_var("SFEVENTS_CLIENT_SECRET");
    let ov = Overrides {
        auth: Some("client_credentials".into()),
        client_id: Some("cid".into()),
        ..base.clone()
    };
    assert_eq!(
        error(&ov),
        "org 'default': client-credentials auth needs the consumer secret: set SFEVENTS_CLIENT_SECRET or --client-secret-file"
    );
    let not_pem = d.path().join("not.pem");
    std::fs::write(&not_pem, "hello\n").unwrap();
    let ov = Overrides {
        client_id: Some("cid".into()),
        username: Some("u".into()),
        jwt_key_file: Some(not_pem.clone()),
        ..base.clone()
    };
    assert_eq!(
        error(&ov),
        format!("org 'default': the JWT key file {} is not a PEM private key: give the RSA key (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----) whose certificate is uploaded to the connected app", not_pem.display())
    );
    let jwt = Overrides {
        jwt_key_file: Some(key_file(d.path())),
        ..ov
    };
    let ov = Overrides {
        instance_url: Some("acme".into()),
        ..jwt.clone()
    };
    assert_eq!(
        error(&ov),
        "org 'default': instance URL 'acme' is not a URL (relative URL without a base): write it like https://acme.my.salesforce.com"
    );
    let ov = Overrides {
        interval: Some("Weekly".into()),
        ..jwt.clone()
    };
    assert_eq!(
        error(&ov),
        "interval 'weekly' is not known: use daily, hourly or auto"
    );
    let ov = Overrides {
        api_version: Some("v20".into()),
        ..jwt.clone()
    };
    assert_eq!(
        error(&ov),
        "org 'default': API version 'v20' is not valid: use a version like 64.0 (31.0 or newer)"
    );
    let ov = Overrides {
        objects: vec!["Login Event".into()],
        ..jwt.clone()
    };
    assert_eq!(
        error(&ov),
        "org 'default': object 'Login Event' is not a valid object name: use API names like LoginEvent or SetupAuditTrail"
    );
    let ov = Overrides {
        redaction: RedactionArgs {
            pseudonymize: vec!["USER_NAME".into()],
            ..Default::default()
        },
        ..jwt
    };
    std::env::remove_var(DEFAULT_KEY_ENV);
    assert_eq!(
        error(&ov),
        "[redaction]: pseudonymize names USER_NAME but no key is given: set pseudonymize_key_file or pseudonymize_key_env in [redaction], give --pseudonymize-key-file, or set SFEVENTS_PSEUDONYMIZE_KEY"
    );
}
