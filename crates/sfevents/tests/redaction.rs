//! Field redaction end to end: the real binary collects from sfsim with a `[redaction]` table
//! (key from a file) and ships to the HTTP receiver and the Elasticsearch receiver. No removed
//! or pseudonymized value may appear anywhere in what the receivers hold; pseudonyms are the
//! key's, the same for a user across events and outputs; with `archive = true` the NDJSON
//! holds none either, while the raw CSV stays byte-identical to what Salesforce served.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use archive::redact::Redactor;
use base::secret::Secret;
use common::*;
use receivers::elasticsearch as es;
use receivers::http as web;
use serde_json::Value;

const KEY: &str = "redaction-test-key-0123456789abcdef";
const TYPES: &[&str] = &["Login", "Logout", "ApiTotalUsage"];
/// EventLogFile columns removed, and the one pseudonymized.
const REMOVED: &[&str] = &["SESSION_KEY", "LOGIN_KEY"];
const PSEUDO: &str = "USER_NAME";

fn org(seed: u64) -> sfsim::SimConfig {
    let mut c = small_config(seed);
    c.freeze_clock = true;
    c.org.records_per_hour = (4, 12);
    c
}

/// The key file and a config file naming the org and holding `[redaction]` with `table`.
fn write_config(sim: &sfsim::SimHandle, dir: &Path, objects: bool, table: &str) -> PathBuf {
    let c = &sim.credentials;
    let auth = format!(
        "client_id = \"{}\"\nusername = \"{}\"\nkey_file = \"{}\"\n",
        c.client_id,
        c.username,
        c.private_key_file.display()
    );
    write_config_with(sim, dir, objects, &auth, table)
}

/// [`write_config`] with `auth` as the body of `[org.auth]`.
fn write_config_with(
    sim: &sfsim::SimHandle,
    dir: &Path,
    objects: bool,
    auth: &str,
    table: &str,
) -> PathBuf {
    std::fs::write(dir.join("pseudonym.key"), format!("{KEY}\n")).unwrap();
    let types: Vec<String> = TYPES.iter().map(|t| format!("\"{t}\"")).collect();
    let mut text = format!(
        "output_dir = \"archive\"\n[[org]]\nname = \"sim\"\ninstance_url = \"{}\"\n[org.auth]\n{auth}[org.event_log_file]\nevent_types = [{}]\n",
        sim.url,
        types.join(", ")
    );
    if objects {
        text.push_str("[[org.object]]\nname = \"LoginEvent\"\n");
    }
    text.push_str(&format!(
        "[redaction]\npseudonymize_key_file = \"pseudonym.key\"\n{table}"
    ));
    let p = dir.join("sfevents.toml");
    std::fs::write(&p, text).unwrap();
    p
}

/// `collect` with the config, shipping to `to` at the end.
async fn collect_and_ship(
    sim: &sfsim::SimHandle,
    config: &Path,
    to: &[String],
) -> std::process::Output {
    let now = sim.now().to_rfc3339();
    collect_with(config, to, &["--quiet"], &[("SFEVENTS_NOW", &now)]).await
}

/// `collect --config` with `to`, `extra` flags and `env` (no other SFEVENTS_* variable).
async fn collect_with(
    config: &Path,
    to: &[String],
    extra: &[&str],
    env: &[(&str, &str)],
) -> std::process::Output {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.arg("collect").args(extra).arg("--config").arg(config);
    for t in to {
        cmd.args(["--to", t]);
    }
    for (k, _) in std::env::vars() {
        if k.starts_with("SFEVENTS_") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().copied());
    cmd.output().await.unwrap()
}

/// The pseudonym the key gives a value.
fn pseudonym(value: &str) -> String {
    let r = Redactor::new(vec![], vec!["X".into()], Some(&Secret::new(KEY)), false).unwrap();
    r.pseudonym(value).unwrap()
}

/// Every value the generator wrote into the redacted columns of the collected files (and of
/// LoginEvent records): none may leave.
fn secrets(sim: &sfsim::SimHandle, files: &[sfgen::LogFileMeta]) -> HashSet<String> {
    let mut out = HashSet::new();
    for f in files {
        let cols = sfgen::Org::columns(&f.event_type);
        for row in sim.org.rows(&f.id) {
            for (c, v) in cols.iter().zip(row) {
                if (REMOVED.contains(c) || *c == PSEUDO) && v.len() >= 8 {
                    out.insert(v);
                }
            }
        }
    }
    for r in sim.visible_records("LoginEvent") {
        for f in ["Username", "SessionKey", "LoginKey"] {
            if let Some(v) = r.get(f).and_then(soql::Value::as_str) {
                if v.len() >= 8 {
                    out.insert(v.to_string());
                }
            }
        }
    }
    assert!(out.len() > 10, "the org has values to hide: {}", out.len());
    out
}

fn assert_hidden(what: &str, text: &str, secrets: &HashSet<String>) {
    if let Some(s) = secrets.iter().find(|s| text.contains(s.as_str())) {
        panic!("{what} holds the redacted value {s}: {text}");
    }
}

/// The archive line as outputs must receive it: removed columns gone, the user pseudonymized.
fn redacted(event: &Value) -> Value {
    let mut v = event.clone();
    let f = v["fields"].as_object_mut().unwrap();
    for c in REMOVED {
        f.shift_remove(*c);
    }
    if let Some(Value::String(u)) = f.get_mut(PSEUDO) {
        if !u.is_empty() {
            *u = pseudonym(u);
        }
    }
    v
}

/// Every `p:` pseudonym in a document.
fn pseudonyms_in(v: &Value, out: &mut HashSet<String>) {
    match v {
        Value::String(s) if s.starts_with("p:") && s.len() == 34 => {
            out.insert(s.clone());
        }
        Value::Array(a) => a.iter().for_each(|x| pseudonyms_in(x, out)),
        Value::Object(m) => m.values().for_each(|x| pseudonyms_in(x, out)),
        _ => {}
    }
}

fn archived(dir: &Path) -> HashMap<String, Value> {
    ndjson_lines(dir)
        .into_iter()
        .map(|(_, v)| (v["id"].as_str().unwrap().to_string(), v))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outputs_get_redacted_events_while_the_archive_keeps_everything() {
    let sim = start(org(91)).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        &sim,
        dir.path(),
        false,
        "redact = [\"SESSION_KEY\", \"LOGIN_KEY\"]\npseudonymize = [\"USER_NAME\"]\n",
    );
    let h = es::start(es::Config::default()).await.unwrap();
    let w = web::start(web::Config::default()).await.unwrap();
    let to = [
        format!(
            "elasticsearch+{}?name=es&mode=ecs",
            h.url().trim_end_matches('/')
        ),
        format!("{}/in?name=web", w.url().trim_end_matches('/')),
    ];
    let o = collect_and_ship(&sim, &config, &to).await;
    assert_exit(&o, 0);
    let archive = dir.path().join("archive");
    let expected = expected_of(&sim, "auto", TYPES);
    // `archive = false`: the archive holds every value, and the CSV is Salesforce's.
    check_archive(&sim, &archive, &expected);
    let want = archived(&archive);
    let hidden = secrets(&sim, &expected);

    // HTTP (raw): the archive line, redacted, and nothing else.
    let lines = w.lines();
    assert_eq!(lines.len(), want.len());
    let mut by_user: HashMap<String, HashSet<String>> = HashMap::new();
    for l in &lines {
        assert_hidden("an HTTP line", &l.line, &hidden);
        let v = l.json().unwrap();
        let a = &want[v["id"].as_str().unwrap()];
        assert_eq!(v, redacted(a));
        if let (Some(u), Some(p)) = (a["fields"][PSEUDO].as_str(), v["fields"][PSEUDO].as_str()) {
            by_user
                .entry(u.to_string())
                .or_default()
                .insert(p.to_string());
        }
    }

    // Elasticsearch (ecs): the mapping sees only the pseudonym.
    let docs = h.all_docs();
    assert_eq!(docs.len(), want.len());
    for d in &docs {
        assert_hidden("an Elasticsearch document", &d.source.to_string(), &hidden);
        let a = &want[&d.id];
        let mut found = HashSet::new();
        pseudonyms_in(&d.source, &mut found);
        match a["fields"][PSEUDO].as_str().filter(|u| !u.is_empty()) {
            Some(u) => {
                let p = pseudonym(u);
                assert_eq!(found, HashSet::from([p.clone()]), "{}", d.source);
                let user = &d.source["user"];
                assert!(user["name"] == p || user["email"] == p, "{}", d.source);
                by_user.entry(u.to_string()).or_default().insert(p);
            }
            None => assert!(found.is_empty(), "{}", d.source),
        }
    }
    // One pseudonym per user across events and outputs, and users stay apart.
    assert!(by_user.len() >= 2, "{by_user:?}");
    let all: HashSet<&String> = by_user.values().flatten().collect();
    assert_eq!(all.len(), by_user.len(), "{by_user:?}");
    assert!(by_user.values().all(|p| p.len() == 1), "{by_user:?}");
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archive_true_writes_the_ndjson_redacted_and_keeps_the_raw_csv() {
    let sim = start(org(92)).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        &sim,
        dir.path(),
        true,
        "redact = [\"SESSION_KEY\", \"LOGIN_KEY\", \"SessionKey\", \"LoginKey\"]\npseudonymize = [\"USER_NAME\", \"Username\"]\narchive = true\n",
    );
    let h = es::start(es::Config::default()).await.unwrap();
    let w = web::start(web::Config::default()).await.unwrap();
    let to = [
        format!(
            "elasticsearch+{}?name=es&mode=agent",
            h.url().trim_end_matches('/')
        ),
        format!("{}/in?name=web", w.url().trim_end_matches('/')),
    ];
    let o = collect_and_ship(&sim, &config, &to).await;
    assert_exit(&o, 0);
    let archive = dir.path().join("archive");
    let expected = expected_of(&sim, "auto", TYPES);
    let hidden = secrets(&sim, &expected);

    // Every NDJSON byte is free of the hidden values; the delivery log counts the bytes written.
    for (p, v) in ndjson_lines(&archive) {
        assert_hidden(&p.display().to_string(), &v.to_string(), &hidden);
    }
    check_delivery_log(&archive);
    let want = archived(&archive);
    let logins: HashMap<String, soql::Record> = sim
        .visible_records("LoginEvent")
        .into_iter()
        .map(|r| {
            let id = r
                .get("EventIdentifier")
                .and_then(soql::Value::as_str)
                .unwrap();
            (id.to_string(), r.clone())
        })
        .collect();
    let mut login_events = 0;
    for v in want.values() {
        let f = v["fields"].as_object().unwrap();
        if v["source"] == "LoginEvent" {
            let r = &logins[f["EventIdentifier"].as_str().unwrap()];
            let user = r.get("Username").and_then(soql::Value::as_str).unwrap();
            assert_eq!(f["Username"].as_str(), Some(pseudonym(user).as_str()));
            assert!(!f.contains_key("SessionKey") && !f.contains_key("LoginKey"));
            login_events += 1;
        }
    }
    assert!(login_events > 0);

    // Every EventLogFile row is there with its other values, and the CSV is Salesforce's bytes.
    let mut rows_checked = 0;
    for file in &expected {
        let cols = sfgen::Org::columns(&file.event_type);
        let mut got: Vec<&Value> = want
            .values()
            .filter(|v| v["file_id"] == file.id.as_str())
            .collect();
        got.sort_by_key(|v| v["row"].as_u64());
        let rows: Vec<Vec<String>> = sim.org.rows(&file.id).collect();
        assert_eq!(got.len(), rows.len(), "file {}", file.id);
        for (v, row) in got.iter().zip(&rows) {
            let f = v["fields"].as_object().unwrap();
            for (c, val) in cols.iter().zip(row) {
                match *c {
                    c if REMOVED.contains(&c) => assert!(!f.contains_key(c)),
                    PSEUDO if !val.is_empty() => {
                        assert_eq!(f[PSEUDO].as_str(), Some(pseudonym(val).as_str()))
                    }
                    c => assert_eq!(f[c].as_str(), Some(val.as_str()), "{c}"),
                }
            }
            rows_checked += 1;
        }
        let csv = std::fs::read(archive.join("output").join(csv_name(file))).unwrap();
        let served: Vec<u8> = sim.org.body(&file.id, 1 << 16).flatten().collect();
        assert!(csv == served, "{} is not Salesforce's file", csv_name(file));
    }
    assert!(rows_checked > 0);

    // Shipping does not hash again: the outputs get the archive's pseudonyms.
    let lines = w.lines();
    assert_eq!(lines.len(), want.len());
    for l in &lines {
        assert_hidden("an HTTP line", &l.line, &hidden);
        let v = l.json().unwrap();
        assert_eq!(v, want[v["id"].as_str().unwrap()]);
    }
    // Agent mode: the record in `message` (the integration's streams; the others are mapped
    // here) holds only pseudonyms, as does everything else.
    let docs = h.all_docs();
    assert_eq!(docs.len(), want.len());
    let mut messages = 0;
    for d in &docs {
        assert_hidden("an Elasticsearch document", &d.source.to_string(), &hidden);
        let Some(m) = d.source["message"].as_str() else {
            continue;
        };
        let msg: Value = serde_json::from_str(m).unwrap();
        let a = &want[&d.id]["fields"];
        for k in [PSEUDO, "Username"] {
            assert_eq!(msg.get(k), a.get(k), "{}: {k}", d.id);
        }
        messages += 1;
    }
    assert!(messages > 0);
    sim.shutdown();
}

/// `archive_compression = "zstd"`: the compressed NDJSON is redacted too (read back with the
/// zstd library: the compressed bytes alone would hide nothing from a byte search).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archive_true_redacts_compressed_ndjson_too() {
    let sim = start(org(93)).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        &sim,
        dir.path(),
        false,
        "redact = [\"SESSION_KEY\", \"LOGIN_KEY\"]\npseudonymize = [\"USER_NAME\"]\narchive = true\n",
    );
    let now = sim.now().to_rfc3339();
    let flags = ["--quiet", "--no-ship", "--archive-compression", "zstd"];
    let o = collect_with(&config, &[], &flags, &[("SFEVENTS_NOW", &now)]).await;
    assert_exit(&o, 0);
    let archive = dir.path().join("archive");
    let hidden = secrets(&sim, &expected_of(&sim, "auto", TYPES));
    let mut lines = 0;
    for (p, bytes) in files_with_bytes(&archive) {
        if !p.to_string_lossy().ends_with(".ndjson.zst") {
            continue;
        }
        // files_with_bytes decompressed it (with the zstd library).
        let text = String::from_utf8(bytes).unwrap();
        assert_hidden(&p.display().to_string(), &text, &hidden);
        lines += text.lines().count();
    }
    assert!(lines > 10, "{lines} compressed lines read back");
    check_delivery_log(&archive);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pseudonymize_without_a_key_is_a_configuration_error() {
    let sim = start(org(93)).await;
    let dir = tempfile::tempdir().unwrap();
    let o = collect(
        &sim,
        dir.path(),
        &["--event-type", "Login", "--pseudonymize", "USER_NAME"],
    )
    .await;
    assert_exit(&o, 2);
    let text = describe(&o);
    assert!(
        text.contains("--pseudonymize-key-file") && text.contains("USER_NAME"),
        "{text}"
    );
    assert!(!dir.path().join("state.db").exists(), "nothing collected");
    // A short key file is refused too, without printing it.
    let key = dir.path().join("short.key");
    std::fs::write(&key, "shortkey\n").unwrap();
    let o = collect(
        &sim,
        dir.path(),
        &[
            "--event-type",
            "Login",
            "--pseudonymize",
            "USER_NAME",
            "--pseudonymize-key-file",
            &key.display().to_string(),
        ],
    )
    .await;
    assert_exit(&o, 2);
    let text = describe(&o);
    assert!(
        text.contains("at least 16") && !text.contains("shortkey"),
        "{text}"
    );
    sim.shutdown();
}

/// Every file under `root` and its bytes.
fn files_with_bytes(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    files_under(root)
        .into_iter()
        .map(|p| {
            // Compressed event files decompressed: a byte search would not see into them.
            let bytes = readable_bytes(&p);
            (p, bytes)
        })
        .collect()
}

fn holds(hay: &[u8], needle: &str) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// A token shaped as sfsim issues them (they are not handed to the test): an access token
/// `<org>!AQ` + 94 letters and digits, a refresh token `5Aep861` + 80.
fn token_shaped(hay: &[u8]) -> bool {
    [(&b"!AQ"[..], 94), (&b"5Aep861"[..], 80)]
        .iter()
        .any(|(prefix, n)| {
            hay.windows(prefix.len() + n).any(|w| {
                w.starts_with(prefix) && w[prefix.len()..].iter().all(u8::is_ascii_alphanumeric)
            })
        })
}

/// What must appear nowhere but the raw CSV: the values of `cols` in the collected files,
/// less any that is (part of) a value of another column, which stays on purpose. And one value
/// of a column kept as it is (`REQUEST_ID`), for the control.
fn originals(
    sim: &sfsim::SimHandle,
    files: &[sfgen::LogFileMeta],
    cols: &[&str],
) -> (HashSet<String>, Vec<String>) {
    let (mut hidden, mut kept, mut request_ids) = (HashSet::new(), Vec::new(), Vec::new());
    for f in files {
        let names = sfgen::Org::columns(&f.event_type);
        for row in sim.org.rows(&f.id) {
            for (c, v) in names.iter().zip(row) {
                if cols.contains(c) {
                    if v.len() >= 7 {
                        hidden.insert(v);
                    }
                } else {
                    if *c == "REQUEST_ID" && v.len() >= 8 {
                        request_ids.push(v.clone());
                    }
                    kept.push(v);
                }
            }
        }
    }
    hidden.retain(|h| !kept.iter().any(|k| k.contains(h.as_str())));
    (hidden, request_ids)
}

/// A run with redaction on, credentials from files, every log line kept: no secret, token,
/// key or redacted value is left in any file of the archive (state.db and its journal, logs,
/// spool, NDJSON), in what the process printed, or in what the output received; the raw CSV
/// alone holds the originals, byte for byte Salesforce's; and with `csv_keep_days` the
/// originals are gone from the disk too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_or_redacted_value_is_left_anywhere() {
    const BEARER: &str = "output-bearer-7f3e9a1c5b2d40e8";
    let sim = start(org(94)).await;
    let dir = tempfile::tempdir().unwrap();
    let c = &sim.credentials;
    for (name, value) in [
        ("client.secret", c.client_secret.as_str()),
        ("password", c.password.as_str()),
        ("security.token", c.security_token.as_str()),
        ("output.token", BEARER),
    ] {
        let p = dir.path().join(name);
        std::fs::write(&p, format!("{value}\n")).unwrap();
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    }
    let auth = format!(
        "method = \"password\"\nclient_id = \"{}\"\nusername = \"{}\"\nclient_secret_file = \"client.secret\"\npassword_file = \"password\"\nsecurity_token_file = \"security.token\"\n",
        c.client_id, c.username
    );
    let config = write_config_with(
        &sim,
        dir.path(),
        false,
        &auth,
        "redact = [\"SESSION_KEY\", \"LOGIN_KEY\"]\npseudonymize = [\"USER_NAME\", \"CLIENT_IP\"]\narchive = true\n",
    );
    let w = web::start(web::Config {
        required_header: Some(("Authorization".into(), format!("Bearer {BEARER}"))),
        ..web::Config::default()
    })
    .await
    .unwrap();
    let to = [format!(
        "{}/in?name=web&bearer_token_file={}",
        w.url().trim_end_matches('/'),
        dir.path().join("output.token").display()
    )];
    let now = sim.now().to_rfc3339();
    let o = collect_with(
        &config,
        &to,
        &[],
        &[("SFEVENTS_NOW", &now), ("SFEVENTS_LOG", "debug")],
    )
    .await;
    assert_exit(&o, 0);
    let archive = dir.path().join("archive");
    let expected = expected_of(&sim, "auto", TYPES);
    let (hidden, request_ids) = originals(
        &sim,
        &expected,
        &["SESSION_KEY", "LOGIN_KEY", "USER_NAME", "CLIENT_IP"],
    );
    assert!(
        hidden.len() > 20 && !request_ids.is_empty(),
        "{}",
        hidden.len()
    );
    let credentials = [
        c.client_secret.as_str(),
        c.password.as_str(),
        c.security_token.as_str(),
        BEARER,
        KEY,
    ];
    // Neither a credential nor an issued token, anywhere; `what` names the place.
    let no_credential = |what: &str, bytes: &[u8]| {
        for s in credentials {
            assert!(!holds(bytes, s), "{what} holds the secret {s}");
        }
        assert!(!token_shaped(bytes), "{what} holds an OAuth token");
    };
    let no_original = |what: &str, bytes: &[u8]| {
        if let Some(v) = hidden.iter().find(|v| holds(bytes, v)) {
            panic!("{what} holds the redacted value {v}");
        }
    };
    let printed = [o.stdout.as_slice(), o.stderr.as_slice()].concat();
    assert!(
        holds(&printed, "web"),
        "the run printed its log: {}",
        describe(&o)
    );
    no_credential("the output", &printed);
    no_original("the output", &printed);

    let csvs: HashMap<String, Vec<u8>> = expected
        .iter()
        .map(|f| {
            (
                csv_name(f),
                sim.org.body(&f.id, 1 << 16).flatten().collect(),
            )
        })
        .collect();
    let files = files_with_bytes(&archive);
    let (mut raw, mut ndjson, mut control) = (0, 0, 0);
    for (p, bytes) in &files {
        let what = p.display().to_string();
        no_credential(&what, bytes);
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        match csvs.get(&name) {
            Some(served) => {
                // The raw CSV is Salesforce's, originals and all (the scan finds them there).
                assert!(bytes == served, "{what} is not Salesforce's file");
                raw += usize::from(hidden.iter().any(|v| holds(bytes, v)));
            }
            None => {
                no_original(&what, bytes);
                ndjson += usize::from(name.ends_with(".ndjson") || name.ends_with(".ndjson.zst"));
                control += usize::from(request_ids.iter().any(|r| holds(bytes, r)));
            }
        }
    }
    let names: Vec<String> = files
        .iter()
        .map(|(p, _)| p.strip_prefix(&archive).unwrap().display().to_string())
        .collect();
    assert!(names.iter().any(|n| n == "state.db"), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("logs/")), "{names:?}");
    assert!(
        raw > 0 && ndjson > 0,
        "{raw} CSV with originals, {ndjson} NDJSON: {names:?}"
    );
    // Control: values kept as they are do show up, in the NDJSON and at the output.
    assert!(control > 0, "no kept value found: the scan reads nothing");
    let lines = w.lines();
    assert!(!lines.is_empty());
    let mut seen = 0;
    for l in &lines {
        no_credential("an HTTP line", l.line.as_bytes());
        no_original("an HTTP line", l.line.as_bytes());
        seen += usize::from(request_ids.iter().any(|r| l.line.contains(r.as_str())));
        for (n, v) in &l.headers {
            if n != "authorization" {
                no_credential("an HTTP header", v.as_bytes());
            }
            no_original("an HTTP header", v.as_bytes());
        }
    }
    assert!(seen > 0);

    // csv_keep_days = 0 drops the raw CSV (delivered_at is this machine's time, so the run
    // that prunes is told it is tomorrow): then the originals are nowhere at all.
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let o = collect_with(
        &config,
        &[],
        &["--quiet", "--no-ship", "--csv-keep-days", "0"],
        &[("SFEVENTS_NOW", &tomorrow)],
    )
    .await;
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", describe(&o));
    let files = files_with_bytes(&archive);
    assert!(
        files
            .iter()
            .all(|(p, _)| !csvs.contains_key(&*p.file_name().unwrap().to_string_lossy())),
        "the raw CSV is gone"
    );
    assert!(files.len() > 3);
    for (p, bytes) in &files {
        no_credential(&p.display().to_string(), bytes);
        no_original(&p.display().to_string(), bytes);
    }
    sim.shutdown();
}
