//! Black-box CLI tests: errors with exit codes and fixes, every auth method, TLS, quarantine,
//! several orgs, status and the demo.

mod common;

use std::path::Path;

use common::*;
use sfsim::Faults;

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every file under `dir`, as bytes (compressed event files decompressed), for secret scans.
fn all_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    files_under(dir)
        .into_iter()
        .map(|p| (p.display().to_string(), readable_bytes(&p)))
        .collect()
}

fn assert_no_secret(dir: &Path, out: &std::process::Output, secrets: &[&str]) {
    for s in secrets {
        assert!(s.len() >= 6);
        for (name, bytes) in all_bytes(dir) {
            assert!(
                !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
                "a secret appears in {name}"
            );
        }
        assert!(!String::from_utf8_lossy(&out.stdout).contains(s));
        assert!(!stderr(out).contains(s));
    }
}

async fn token_via_password(sim: &sfsim::SimHandle) -> serde_json::Value {
    let c = &sim.credentials;
    reqwest::Client::new()
        .post(format!("{}/services/oauth2/token", sim.url))
        .form(&[
            ("grant_type", "password"),
            ("client_id", c.client_id.as_str()),
            ("client_secret", c.client_secret.as_str()),
            ("username", c.username.as_str()),
            ("password", &format!("{}{}", c.password, c.security_token)),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_and_credential_errors_name_the_problem_and_the_fix() {
    let sim = start(small_config(21)).await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    // A config file that is not TOML.
    let bad = d.join("bad.toml");
    std::fs::write(&bad, "[[org]\nname = ").unwrap();
    let o = run(&[
        "collect".into(),
        "--config".into(),
        bad.display().to_string(),
    ])
    .await;
    assert_exit(&o, 2);
    assert!(
        stderr(&o).contains("bad.toml") && stderr(&o).contains("not valid"),
        "{}",
        stderr(&o)
    );

    // A misspelt key.
    std::fs::write(&bad, "output_dir = \"x\"\n[[org]]\nname = \"a\"\ninstanse_url = \"https://a.my.salesforce.com\"\n").unwrap();
    let o = run(&[
        "collect".into(),
        "--config".into(),
        bad.display().to_string(),
    ])
    .await;
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("instanse_url"), "{}", stderr(&o));

    // A missing key file.
    let mut args = vec!["collect".to_string()];
    args.extend(auth_args(&sim, &d.join("out")));
    let key_pos = args.iter().position(|a| a == "--jwt-key-file").unwrap() + 1;
    args[key_pos] = d.join("nope.key").display().to_string();
    let o = run(&args).await;
    assert_exit(&o, 2);
    assert!(
        stderr(&o).contains("nope.key") && stderr(&o).contains("Check the path"),
        "{}",
        stderr(&o)
    );

    // A key file that cannot be read (a folder) and one that is not a key.
    args[key_pos] = d.display().to_string();
    let o = run(&args).await;
    assert_exit(&o, 2);
    assert!(
        stderr(&o).contains("cannot read the JWT private key file"),
        "{}",
        stderr(&o)
    );
    let not_key = d.join("cert.pem");
    std::fs::copy(&sim.credentials.certificate_file, &not_key).unwrap();
    args[key_pos] = not_key.display().to_string();
    let o = run(&args).await;
    assert_exit(&o, 2);
    assert!(
        stderr(&o).contains("not a PEM private key"),
        "{}",
        stderr(&o)
    );

    // A wrong client id.
    args[key_pos] = sim.credentials.private_key_file.display().to_string();
    let cid = args.iter().position(|a| a == "--client-id").unwrap() + 1;
    args[cid] = "3MVG9notTheRightConsumerKey".into();
    let o = run(&args).await;
    assert_exit(&o, 2);
    let e = stderr(&o);
    assert!(
        e.contains("invalid_client_id") && e.contains("Consumer Key"),
        "{e}"
    );
    assert!(e.lines().count() <= 3, "errors are short: {e}");

    // A user the connected app does not pre-authorize, and a wrong JWT audience.
    args[cid] = sim.credentials.client_id.clone();
    let user = args.iter().position(|a| a == "--username").unwrap() + 1;
    args[user] = "someone.else@example.com".into();
    let o = run(&args).await;
    assert_exit(&o, 2);
    assert!(
        stderr(&o).contains("hasn't approved") && stderr(&o).contains("pre-authorized"),
        "{}",
        stderr(&o)
    );
    args[user] = sim.credentials.username.clone();
    let mut with_aud = args.clone();
    with_aud.extend(["--audience".into(), "https://login.example.com".into()]);
    let o = run(&with_aud).await;
    assert_exit(&o, 2);
    assert!(
        stderr(&o).contains("audience") && stderr(&o).contains("--audience"),
        "{}",
        stderr(&o)
    );

    // An unreachable instance.
    args[cid] = sim.credentials.client_id.clone();
    let url = args.iter().position(|a| a == "--instance-url").unwrap() + 1;
    args[url] = "http://127.0.0.1:9".into();
    let o = run(&args).await;
    assert_exit(&o, 1);
    assert!(
        stderr(&o).contains("cannot reach http://127.0.0.1:9"),
        "{}",
        stderr(&o)
    );

    // http:// to a host that is not loopback.
    args[url] = "http://acme.my.salesforce.com".into();
    let o = run(&args).await;
    assert_exit(&o, 2);
    assert!(
        stderr(&o).contains("plain http://") && stderr(&o).contains("use https://"),
        "{}",
        stderr(&o)
    );

    // No auth at all.
    let o = run(&[
        "collect".into(),
        "--output-dir".into(),
        d.display().to_string(),
    ])
    .await;
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("--jwt-key-file"), "{}", stderr(&o));
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_client_credentials_refresh_token_and_sf_cli_logins_all_collect() {
    let sim = start(small_config(22)).await;
    let c = sim.credentials.clone();
    let base = |dir: &Path, method: &str| {
        vec![
            "collect".to_string(),
            "--quiet".into(),
            "--auth".into(),
            method.into(),
            "--client-id".into(),
            c.client_id.clone(),
            "--username".into(),
            c.username.clone(),
            "--instance-url".into(),
            sim.url.clone(),
            "--output-dir".into(),
            dir.display().to_string(),
            "--event-type".into(),
            "Login".into(),
        ]
    };
    let expected = expected_of(&sim, "auto", &["Login"]);

    // Username-password, secrets from the environment.
    let dir = tempfile::tempdir().unwrap();
    let o = tokio::process::Command::new(BIN)
        .args(base(dir.path(), "password"))
        .env("SFEVENTS_CLIENT_SECRET", &c.client_secret)
        .env("SFEVENTS_PASSWORD", &c.password)
        .env("SFEVENTS_SECURITY_TOKEN", &c.security_token)
        .output()
        .await
        .unwrap();
    assert_exit(&o, 0);
    check_archive(&sim, dir.path(), &expected);
    assert_no_secret(
        dir.path(),
        &o,
        &[&c.password, &c.client_secret, &c.security_token],
    );

    // Client credentials, the secret from a file.
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("secret.txt");
    std::fs::write(&secret_file, format!("{}\n", c.client_secret)).unwrap();
    let out = dir.path().join("archive");
    let mut args = base(&out, "client-credentials");
    args.extend([
        "--client-secret-file".into(),
        secret_file.display().to_string(),
    ]);
    let o = run(&args).await;
    assert_exit(&o, 0);
    check_archive(&sim, &out, &expected);
    assert_no_secret(&out, &o, &[&c.client_secret]);

    // Refresh token.
    let token = token_via_password(&sim).await;
    let refresh = token["refresh_token"]
        .as_str()
        .expect("refresh token")
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let o = tokio::process::Command::new(BIN)
        .args(base(dir.path(), "refresh-token"))
        .env("SFEVENTS_REFRESH_TOKEN", &refresh)
        .env("SFEVENTS_CLIENT_SECRET", &c.client_secret)
        .output()
        .await
        .unwrap();
    assert_exit(&o, 0);
    check_archive(&sim, dir.path(), &expected);
    assert_no_secret(dir.path(), &o, &[&refresh, &c.client_secret]);

    // An sf CLI login: a stand-in `sf` that answers like a current CLI (token redacted in
    // `org display`, shown by `org auth show-access-token`).
    let access = token_via_password(&sim).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let sf = dir.path().join("sf");
    std::fs::write(
        &sf,
        format!(
            "#!/bin/sh\ncase \"$*\" in\n  *show-access-token*) echo '{{\"status\":0,\"result\":{{\"accessToken\":\"{access}\"}}}}' ;;\n  *display*) echo '{{\"status\":0,\"result\":{{\"accessToken\":\"[REDACTED] Use sf org auth show-access-token to view\",\"instanceUrl\":\"{}\",\"id\":\"{}/id/{}/005000000000001AAA\"}}}}' ;;\n  *) exit 1 ;;\nesac\n",
            sim.url, sim.url, sim.org.org_id
        ),
    )
    .unwrap();
    std::os::unix::fs::PermissionsExt::set_mode(
        &mut std::fs::metadata(&sf).unwrap().permissions(),
        0o755,
    );
    std::fs::set_permissions(&sf, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = dir.path().join("archive");
    let o = tokio::process::Command::new(BIN)
        .args([
            "collect",
            "--quiet",
            "--org-alias",
            "my-org",
            "--output-dir",
            &out.display().to_string(),
            "--event-type",
            "Login",
        ])
        .env("SFEVENTS_SF_BIN", &sf)
        .output()
        .await
        .unwrap();
    assert_exit(&o, 0);
    check_archive(&sim, &out, &expected);
    assert_no_secret(&out, &o, &[&access]);
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_a_private_ca() {
    let mut cfg = small_config(23);
    cfg.tls = true;
    let sim = start(cfg).await;
    assert!(sim.url.starts_with("https://"));
    let ca = sim.credentials.ca_file.clone().expect("CA file");
    let expected = expected_of(&sim, "auto", &["Logout"]);

    // Untrusted: a clear error that points at --ca-file.
    let dir = tempfile::tempdir().unwrap();
    let o = collect(&sim, dir.path(), &["--event-type", "Logout"]).await;
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("--ca-file"), "{}", stderr(&o));

    let o = collect(
        &sim,
        dir.path(),
        &[
            "--event-type",
            "Logout",
            "--ca-file",
            &ca.display().to_string(),
        ],
    )
    .await;
    assert_exit(&o, 0);
    check_archive(&sim, dir.path(), &expected);

    // SSL_CERT_FILE is honoured too.
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec![
        "collect".to_string(),
        "--quiet".into(),
        "--event-type".into(),
        "Logout".into(),
    ];
    args.extend(auth_args(&sim, dir.path()));
    let o = tokio::process::Command::new(BIN)
        .args(&args)
        .env("SSL_CERT_FILE", &ca)
        .output()
        .await
        .unwrap();
    assert_exit(&o, 0);
    check_archive(&sim, dir.path(), &expected);
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_keeps_failing_is_quarantined_and_the_rest_goes_on() {
    let mut cfg = small_config(24);
    cfg.org.rows_per_hour = (1, 4);
    let sim = start(cfg).await;
    let expected = expected_of(&sim, "auto", &["ApexCallout"]);
    let broken = expected[expected.len() / 2].id.clone();
    sim.set_faults(Faults {
        broken_files: vec![broken.clone()],
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let o = collect(
        &sim,
        dir.path(),
        &["--event-type", "ApexCallout", "--max-attempts", "2"],
    )
    .await;
    assert_exit(&o, 1);
    assert!(
        stderr(&o).contains(&broken) && stderr(&o).contains("quarantined"),
        "{}",
        stderr(&o)
    );
    let others: Vec<_> = expected
        .iter()
        .filter(|f| f.id != broken)
        .cloned()
        .collect();
    check_archive(&sim, dir.path(), &others);
    let st = run(&[
        "status".into(),
        "--output-dir".into(),
        dir.path().display().to_string(),
    ])
    .await;
    assert!(String::from_utf8_lossy(&st.stdout).contains(&broken));

    // Once Salesforce serves it again, the next run takes it.
    sim.set_faults(Faults::default());
    let o = collect(&sim, dir.path(), &["--event-type", "ApexCallout"]).await;
    assert_exit(&o, 0);
    check_archive(&sim, dir.path(), &expected);
    let st = run(&[
        "status".into(),
        "--output-dir".into(),
        dir.path().display().to_string(),
    ])
    .await;
    assert!(!String::from_utf8_lossy(&st.stdout).contains("quarantined"));
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_file_with_two_orgs_keeps_each_apart() {
    let a = start(small_config(25)).await;
    let b = start(small_config(26)).await;
    let dir = tempfile::tempdir().unwrap();
    let org = |name: &str, s: &sfsim::SimHandle| {
        format!(
            "[[org]]\nname = \"{name}\"\ninstance_url = \"{}\"\n[org.auth]\nmethod = \"jwt\"\nclient_id = \"{}\"\nusername = \"{}\"\nkey_file = \"{}\"\n[org.event_log_file]\nevent_types = [\"URI\"]\n",
            s.url,
            s.credentials.client_id,
            s.credentials.username,
            s.credentials.private_key_file.display()
        )
    };
    let cfg = dir.path().join("sfevents.toml");
    std::fs::write(
        &cfg,
        format!(
            "output_dir = \"archive\"\n{}{}",
            org("prod", &a),
            org("sandbox", &b)
        ),
    )
    .unwrap();
    let o = run(&[
        "collect".into(),
        "--config".into(),
        cfg.display().to_string(),
    ])
    .await;
    assert_exit(&o, 0);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("org 'prod'") && out.contains("org 'sandbox'"),
        "{out}"
    );
    for (name, sim) in [("prod", &a), ("sandbox", &b)] {
        let expected = expected_of(sim, "auto", &["URI"]);
        check_archive(sim, &dir.path().join("archive").join(name), &expected);
    }
    // --org picks one.
    let o = run(&[
        "collect".into(),
        "--config".into(),
        cfg.display().to_string(),
        "--org".into(),
        "nope".into(),
    ])
    .await;
    assert_exit(&o, 2);
    let st = run(&[
        "status".into(),
        "--config".into(),
        cfg.display().to_string(),
    ])
    .await;
    assert_exit(&st, 0);
    let text = String::from_utf8_lossy(&st.stdout);
    assert!(
        text.contains("org prod") && text.contains("org sandbox"),
        "{text}"
    );
    a.shutdown();
    b.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_config_sfsim_writes_works_as_is_and_json_logs() {
    let sim = start(small_config(27)).await;
    let cfg = sim.out_dir.join("sfevents.toml");
    assert!(cfg.is_file());
    let dir = tempfile::tempdir().unwrap();
    let o = run(&[
        "collect".into(),
        "--config".into(),
        cfg.display().to_string(),
        "--output-dir".into(),
        dir.path().display().to_string(),
        "--event-type".into(),
        "ApexExecution".into(),
        "--log-format".into(),
        "json".into(),
    ])
    .await;
    assert_exit(&o, 0);
    let err = stderr(&o);
    let first = err.lines().next().expect("log lines on stderr");
    let v: serde_json::Value = serde_json::from_str(first).expect("JSON log line");
    assert!(v["level"].is_string());
    let expected = expected_of(&sim, "auto", &["ApexExecution"]);
    check_archive(&sim, dir.path(), &expected);
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_collects_a_simulated_org() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let o = run(&[
        "demo".into(),
        "--dir".into(),
        demo.display().to_string(),
        "--days".into(),
        "1".into(),
    ])
    .await;
    assert_exit(&o, 0);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("files") && out.contains("rows"), "{out}");
    let rows = rows_by_type(&demo);
    for kind in sfgen::DEFAULT_EVENT_TYPES.iter().chain(sfgen::OBJECTS) {
        assert!(
            rows.get(*kind).is_some_and(|n| *n > 0),
            "no {kind} in the demo: {rows:?}"
        );
    }
    assert!(demo.join("state.db").is_file());
    assert!(std::fs::read_dir(demo.join("output")).unwrap().count() > 10);
    assert!(out.contains("sfevents report all"), "{out}");

    // The reports the demo points to: every one has data in the demo's archive.
    let o = run(&[
        "report".into(),
        "all".into(),
        "--output-dir".into(),
        demo.display().to_string(),
        "--format".into(),
        "json".into(),
    ])
    .await;
    assert_exit(&o, 0);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let ids: Vec<&str> = v["report"]["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, reports::NAMES);
}

/// A minimal HTTP CONNECT proxy on loopback that counts the tunnels it opened.
async fn connect_proxy() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let tunnels = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = tunnels.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let count = count.clone();
            tokio::spawn(async move {
                let mut client = BufReader::new(client);
                let mut line = String::new();
                client.read_line(&mut line).await.ok()?;
                let target = line
                    .strip_prefix("CONNECT ")?
                    .split_whitespace()
                    .next()?
                    .to_string();
                loop {
                    let mut h = String::new();
                    client.read_line(&mut h).await.ok()?;
                    if h == "\r\n" || h.is_empty() {
                        break;
                    }
                }
                let target = target.replace("localhost", "127.0.0.1");
                let mut upstream = tokio::net::TcpStream::connect(&target).await.ok()?;
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut client = client.into_inner();
                client
                    .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                    .await
                    .ok()?;
                tokio::io::copy_bidirectional(&mut client, &mut upstream)
                    .await
                    .ok()?;
                Some(())
            });
        }
    });
    (format!("http://{addr}"), tunnels)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_proxy_is_honoured() {
    let mut cfg = small_config(28);
    cfg.tls = true;
    let sim = start(cfg).await;
    let ca = sim.credentials.ca_file.clone().expect("CA file");
    let (proxy, tunnels) = connect_proxy().await;
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec![
        "collect".to_string(),
        "--quiet".into(),
        "--event-type".into(),
        "Logout".into(),
    ];
    args.extend(auth_args(&sim, dir.path()));
    args.extend(["--ca-file".into(), ca.display().to_string()]);
    let o = tokio::process::Command::new(BIN)
        .args(&args)
        .env("HTTPS_PROXY", &proxy)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .output()
        .await
        .unwrap();
    assert_exit(&o, 0);
    assert!(
        tunnels.load(std::sync::atomic::Ordering::SeqCst) >= 1,
        "nothing went through the proxy"
    );
    let expected = expected_of(&sim, "auto", &["Logout"]);
    check_archive(&sim, dir.path(), &expected);
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_days_bounds_the_first_run() {
    // The simulator's clock is the real one here, as backfill is counted from this machine's now.
    let mut cfg = small_config(29);
    cfg.org.anchor = chrono::Utc::now();
    cfg.org.days = 3;
    let sim = start(cfg).await;
    let t0 = chrono::Utc::now();
    let dir = tempfile::tempdir().unwrap();
    let o = collect(
        &sim,
        dir.path(),
        &["--event-type", "Login", "--backfill-days", "1"],
    )
    .await;
    assert_exit(&o, 0);
    let cut = t0 - chrono::Duration::days(1);
    let margin = chrono::Duration::seconds(60);
    let all = expected_of(&sim, "auto", &["Login"]);
    let got: std::collections::HashSet<String> = ndjson_lines(dir.path())
        .into_iter()
        .map(|(_, v)| v["file_id"].as_str().unwrap().to_string())
        .collect();
    for f in &all {
        if f.created_date >= cut + margin {
            assert!(
                got.contains(&f.id),
                "file {} created {} is inside the backfill",
                f.id,
                f.created_date
            );
        }
        if f.created_date < cut - margin {
            assert!(
                !got.contains(&f.id),
                "file {} created {} is older than the backfill",
                f.id,
                f.created_date
            );
        }
    }
    assert!(
        all.iter().any(|f| f.created_date < cut - margin),
        "the org has older files"
    );
    let collected: Vec<_> = all.into_iter().filter(|f| got.contains(&f.id)).collect();
    check_archive(&sim, dir.path(), &collected);
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_command_line_with_an_org_alias_logs_in_natively_without_the_sf_cli() {
    // The nightly script's exact line: JWT flags and --org-alias, on a machine with no `sf`.
    let sim = start(small_config(26)).await;
    let c = sim.credentials.clone();
    let dir = tempfile::tempdir().unwrap();
    let empty_path = dir.path().join("bin");
    std::fs::create_dir(&empty_path).unwrap();
    let out = dir.path().join("archive");
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.args([
        "collect",
        "--client-id",
        &c.client_id,
        "--username",
        &c.username,
        "--jwt-key-file",
        &c.private_key_file.display().to_string(),
        "--instance-url",
        &sim.url,
        "--org-alias",
        "my-org",
        "--output-dir",
        &out.display().to_string(),
    ]);
    for (k, _) in std::env::vars() {
        if k.starts_with("SFEVENTS_") || k == "SSL_CERT_FILE" {
            cmd.env_remove(k);
        }
    }
    let o = cmd.env("PATH", &empty_path).output().await.unwrap();
    assert_exit(&o, 0);
    check_archive(&sim, &out, &expected_files(&sim, "auto"));
    let log = log_text(&out);
    assert_eq!(
        log.matches("org alias 'my-org' is only a label").count(),
        1,
        "the choice is logged once: {log}"
    );
    sim.shutdown();
}

/// `--shard I/N`: N instances with one config collect each org exactly once between them,
/// and a bad shard is a configuration error.
#[tokio::test]
async fn shards_split_the_orgs_with_no_coordination() {
    let sim = start(small_config(27)).await;
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..6).map(|i| format!("org-{i}")).collect();
    let mut text = String::from("output_dir = \"archive\"\n");
    for name in &names {
        text.push_str(&format!(
            "[[org]]\nname = \"{name}\"\ninstance_url = \"{}\"\n[org.auth]\nmethod = \"jwt\"\nclient_id = \"{}\"\nusername = \"{}\"\nkey_file = \"{}\"\n[org.event_log_file]\nevent_types = [\"URI\"]\n",
            sim.url,
            sim.credentials.client_id,
            sim.credentials.username,
            sim.credentials.private_key_file.display()
        ));
    }
    let cfg = dir.path().join("sfevents.toml");
    std::fs::write(&cfg, text).unwrap();
    let mut taken: Vec<String> = Vec::new();
    for shard in ["0/2", "1/2"] {
        let o = run(&[
            "collect".into(),
            "--config".into(),
            cfg.display().to_string(),
            "--shard".into(),
            shard.into(),
        ])
        .await;
        assert_exit(&o, 0);
        let out = String::from_utf8_lossy(&o.stdout);
        let mine: Vec<String> = names
            .iter()
            .filter(|n| out.contains(&format!("org '{n}'")))
            .cloned()
            .collect();
        assert!(
            !mine.is_empty() && mine.len() < names.len(),
            "shard {shard}: {out}"
        );
        taken.extend(mine);
    }
    taken.sort();
    assert_eq!(taken, names, "each org once across the shards");
    let archives = std::fs::read_dir(dir.path().join("archive"))
        .unwrap()
        .count();
    assert_eq!(archives, names.len());
    let o = run(&[
        "collect".into(),
        "--config".into(),
        cfg.display().to_string(),
        "--shard".into(),
        "2/2".into(),
    ])
    .await;
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("shard '2/2'"), "{}", stderr(&o));
}

/// `status` weighs the archive against the CSV Salesforce served: the raw CSV (byte for byte
/// what was served, on a fresh archive) plus the NDJSON, per byte served.
#[tokio::test]
async fn status_reports_archive_bytes_per_byte_of_csv() {
    let sim = start(small_config(28)).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = common::collect(
        &sim,
        &out,
        &["--event-type", "Login", "--event-type", "URI"],
    )
    .await;
    assert_exit(&o, 0);
    fn size(d: &std::path::Path) -> u64 {
        std::fs::read_dir(d)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| {
                let p = e.path();
                if p.is_dir() {
                    size(&p)
                } else {
                    std::fs::metadata(&p).map_or(0, |m| m.len())
                }
            })
            .sum()
    }
    let (csv, ndjson) = (size(&out.join("output")), size(&out.join("events")));
    assert!(csv > 0 && ndjson > 0);
    let want = format!(
        "{:.2} bytes kept per byte served",
        (csv + ndjson) as f64 / csv as f64
    );
    let st = run(&[
        "status".into(),
        "--output-dir".into(),
        out.display().to_string(),
    ])
    .await;
    let text = String::from_utf8_lossy(&st.stdout);
    assert!(text.contains(&want), "no `{want}` in\n{text}");
}
