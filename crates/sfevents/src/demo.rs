//! `sfevents demo`: starts sfsim in-process with a generated org and collects everything.

use std::path::{Path, PathBuf};

use crate::collect::{collect_org, Options, OrgReport};
use base::secret::Secret;
use salesforce::config::{Auth, ElfConfig, IntervalChoice, OrgConfig};

pub async fn run(dir: &Path, seed: u64, days: u32, progress: bool) -> anyhow::Result<OrgReport> {
    base::fsmode::create_dir_all(dir, base::fsmode::PRIVATE_DIR)?;
    let sim_dir = dir.join("sfsim");
    let mut sim_cfg = sfsim::SimConfig {
        out_dir: Some(sim_dir.clone()),
        ..Default::default()
    };
    sim_cfg.org.seed = seed;
    sim_cfg.org.days = days;
    sim_cfg.org.rows_per_hour = (5, 40);
    let sim = sfsim::start(sim_cfg).await?;
    println!("sfsim is serving a generated org at {}", sim.url);
    let c = &sim.credentials;
    let key_pem = std::fs::read_to_string(&c.private_key_file)?;
    let url = url::Url::parse(&sim.url)?;
    let cfg = OrgConfig {
        name: "demo".into(),
        instance_url: Some(url.clone()),
        login_url: url.clone(),
        audience: sim.url.trim_end_matches('/').to_string(),
        api_version: salesforce::config::DEFAULT_API_VERSION.into(),
        ca_file: c.ca_file.clone(),
        archive_dir: dir.to_path_buf(),
        auth: Auth::Jwt {
            client_id: c.client_id.clone(),
            username: c.username.clone(),
            key_pem: Secret::new(key_pem),
            key_file: c.private_key_file.clone(),
        },
        elf: ElfConfig {
            enabled: true,
            event_types: Vec::new(),
            interval: IntervalChoice::Auto,
            backfill_days: None,
            lookback_hours: 24,
            concurrency: 4,
            every_seconds: 3600,
        },
        objects: sfgen::OBJECTS
            .iter()
            .map(|name| {
                let mut o =
                    salesforce::config::object_defaults(name).map_err(anyhow::Error::msg)?;
                o.backfill_days = days + 1;
                Ok(o)
            })
            .collect::<anyhow::Result<_>>()?,
        streams: Vec::new(),
        pubsub_url: url::Url::parse(&sim.pubsub_url)?,
        max_attempts: 5,
        api_budget_percent: 80,
        archive_keep_days: None,
        archive_group_read: false,
        compress_events: true,
        csv_keep_days: None,
        archive_redaction: None,
        notes: Vec::new(),
    };
    let report = collect_org(
        &cfg,
        &Options {
            progress,
            stream_for: None,
        },
    )
    .await;
    sim.shutdown();
    Ok(report)
}

/// Where things are, for the summary.
pub fn paths(dir: &Path) -> [(String, PathBuf); 4] {
    [
        (
            "raw CSV (as Salesforce serves it)".into(),
            dir.join("output"),
        ),
        ("normalized NDJSON".into(), dir.join("events")),
        ("state (cursors, ledger, runs)".into(), dir.join("state.db")),
        ("logs".into(), dir.join("logs")),
    ]
}
