//! Fidelity test: jsforce (from npm, unchanged) logs in, pages through EventLogFile with
//! `nextRecordsUrl` and downloads a LogFile from sfsim over HTTPS, trusting the simulator's CA
//! through `NODE_EXTRA_CA_CERTS`. The script is `tests/fidelity/jsforce_check.mjs`; its
//! dependencies must be installed first with `npm ci --prefix tests/fidelity`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::TimeZone;
use serde_json::Value;
use sfsim::{OrgSpec, SimConfig};
use sha2::{Digest, Sha256};

/// The workspace root (`crates/sfsim/../..`).
fn workspace_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jsforce_works_against_sfsim_over_https() {
    let fidelity = workspace_root().join("tests/fidelity");
    assert!(
        fidelity.join("jsforce_check.mjs").is_file(),
        "missing {}/jsforce_check.mjs",
        fidelity.display()
    );
    assert!(
        fidelity.join("node_modules/jsforce/package.json").is_file(),
        "jsforce is not installed in {}: run `npm ci --prefix tests/fidelity` first",
        fidelity.display()
    );

    let sim = sfsim::start(SimConfig {
        org: OrgSpec {
            seed: 11,
            days: 3,
            // A fixed anchor keeps the catalogue identical from run to run; late files are
            // published 10+ minutes after it, so the visible set cannot change mid-test.
            anchor: chrono::Utc
                .with_ymd_and_hms(2026, 3, 10, 14, 25, 0)
                .single()
                .expect("anchor"),
            event_types: Vec::new(),
            hourly: true,
            rows_per_hour: (1, 20),
            late_files: true,
            big_file_bytes: None,
            records_per_hour: (2, 12),
            duplicate_event_identifiers: false,
        },
        tls: true,
        default_batch_size: 200,
        ..SimConfig::default()
    })
    .await
    .expect("sfsim starts");
    assert!(sim.url.starts_with("https://"), "{}", sim.url);
    let ca_file = sim
        .credentials
        .ca_file
        .clone()
        .expect("a CA file when serving TLS");

    let visible_before: Vec<String> = sim.visible_files().iter().map(|f| f.id.clone()).collect();
    assert!(
        visible_before.len() > 2 * 200,
        "the org must need several query pages: {} files",
        visible_before.len()
    );

    let out = run_check(&sim, &fidelity, Some(&ca_file)).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "jsforce check failed ({}):\nstdout: {stdout}\nstderr: {stderr}",
        out.status
    );
    let summary: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("summary is not JSON ({e}): {stdout}\nstderr: {stderr}"));
    eprintln!("jsforce summary: {summary}");

    // Login through the username-password flow, on the simulator's HTTPS URL.
    assert_eq!(summary["login"], true, "{summary}");
    assert_eq!(summary["instanceUrl"], sim.url.as_str(), "{summary}");
    assert_eq!(summary["userId"], sim.org.users[0].id.as_str(), "{summary}");
    assert_eq!(
        summary["organizationId"],
        sim.org.org_id.as_str(),
        "{summary}"
    );
    assert_eq!(
        summary["identity"]["ok"], true,
        "conn.identity(): {summary}"
    );

    // Every visible file, each once, over several pages.
    let visible_after: Vec<String> = sim.visible_files().iter().map(|f| f.id.clone()).collect();
    assert_eq!(
        visible_before, visible_after,
        "the visible set moved mid-test"
    );
    let total = visible_after.len() as u64;
    assert_eq!(summary["totalSize"].as_u64(), Some(total), "{summary}");
    assert_eq!(summary["fetched"].as_u64(), Some(total), "{summary}");
    let pages = summary["pages"].as_u64().expect("pages");
    assert_eq!(pages, total.div_ceil(200), "pages of 200: {summary}");
    let mut ids = visible_after.clone();
    ids.sort();
    assert_eq!(
        summary["idsSha256"].as_str(),
        Some(sha256_hex(ids.join("\n").as_bytes()).as_str()),
        "the fetched ids are exactly the visible files"
    );

    // The downloaded LogFile is byte-for-byte the generator's body.
    let id = summary["logFileId"].as_str().expect("logFileId");
    assert!(sim.is_visible(id), "{id}");
    let mut body = Vec::new();
    for chunk in sim.org.body(id, 65536) {
        body.extend_from_slice(&chunk);
    }
    assert!(!body.is_empty());
    assert_eq!(body.len() as u64, sim.org.length(id));
    assert_eq!(
        summary["logFileLength"].as_u64(),
        Some(body.len() as u64),
        "LogFileLength: {summary}"
    );
    assert_eq!(
        summary["logFileBytes"].as_u64(),
        Some(body.len() as u64),
        "{summary}"
    );
    assert_eq!(
        summary["logFileSha256"].as_str(),
        Some(sha256_hex(&body).as_str()),
        "{summary}"
    );

    // The JWT bearer flow through jsforce's `conn.authorize({grant_type, assertion})`.
    assert_eq!(summary["jwt"]["ok"], true, "{summary}");
    assert_eq!(summary["jwt"]["countTotalSize"].as_u64(), Some(total));

    // The HTTPS trust is real: without the simulator's CA, jsforce refuses the server.
    let untrusted = run_check(&sim, &fidelity, None).await;
    let stderr = String::from_utf8_lossy(&untrusted.stderr);
    assert!(
        !untrusted.status.success(),
        "jsforce must not trust sfsim without NODE_EXTRA_CA_CERTS"
    );
    assert!(
        stderr.contains("certificate"),
        "expected a certificate error, got: {stderr}"
    );

    sim.shutdown();
}

/// Runs `node tests/fidelity/jsforce_check.mjs` against the simulator, trusting `ca_file` (or
/// nothing beyond Node's bundled roots).
async fn run_check(
    sim: &sfsim::SimHandle,
    fidelity: &Path,
    ca_file: Option<&Path>,
) -> std::process::Output {
    let c = &sim.credentials;
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(fidelity.join("jsforce_check.mjs"))
        .current_dir(fidelity)
        .env("SFSIM_URL", &sim.url)
        .env("SFSIM_CLIENT_ID", &c.client_id)
        .env("SFSIM_CLIENT_SECRET", &c.client_secret)
        .env("SFSIM_USERNAME", &c.username)
        .env("SFSIM_PASSWORD", &c.password)
        .env("SFSIM_SECURITY_TOKEN", &c.security_token)
        .env("SFSIM_PRIVATE_KEY_FILE", &c.private_key_file)
        .env("SFSIM_API_VERSION", "64.0")
        // Nothing in the environment may make Node skip or redirect certificate checks.
        .env_remove("NODE_EXTRA_CA_CERTS")
        .env_remove("NODE_TLS_REJECT_UNAUTHORIZED")
        .env_remove("NODE_OPTIONS")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .kill_on_drop(true);
    if let Some(ca) = ca_file {
        cmd.env("NODE_EXTRA_CA_CERTS", ca);
    }
    tokio::time::timeout(Duration::from_secs(300), cmd.output())
        .await
        .expect("the jsforce check finishes within 5 minutes")
        .expect("running `node` (Node.js 20.18+ must be on PATH)")
}
