//! `sfsim serve`: runs the Salesforce simulator until Ctrl-C.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use sfsim::{Faults, GenOptions, OrgSpec, Scenario, SimConfig};

#[derive(Parser)]
#[command(
    name = "sfsim",
    version,
    about = "A local Salesforce REST simulator for event-monitoring collectors"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate an org and serve it until Ctrl-C.
    Serve(Serve),
}

#[derive(clap::Args)]
struct Serve {
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
    /// Seed of the generated org: the same seed gives the same files.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Whole days of history before today.
    #[arg(long, default_value_t = 3)]
    days: u32,
    /// Serve HTTPS with a generated CA (written to <out>/ca.crt).
    #[arg(long)]
    tls: bool,
    /// Where the credentials set, keys and sfevents.toml are written.
    #[arg(long, default_value = "./sfsim-out")]
    out: PathBuf,
    /// EventLogFile types to generate (repeatable); default: a realistic set.
    #[arg(long = "event-type", value_name = "TYPE")]
    event_types: Vec<String>,
    /// Publish only daily files.
    #[arg(long)]
    no_hourly: bool,
    /// Do not publish late hourly files.
    #[arg(long)]
    no_late_files: bool,
    /// Rows per hour and event type, as MIN-MAX.
    #[arg(long, value_name = "MIN-MAX", value_parser = parse_range, default_value = "1-20")]
    rows_per_hour: (u32, u32),
    /// Make one daily file at least this many bytes.
    #[arg(long, value_name = "N")]
    big_file_bytes: Option<u64>,
    /// Query page size when the client asks for none.
    #[arg(long, value_name = "N", default_value_t = 2000)]
    page_size: usize,
    /// DailyApiRequests Max.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    daily_api_limit: u64,
    /// EventLogFile retention in days.
    #[arg(long, value_name = "N", default_value_t = 30)]
    retention_days: u32,
    /// Newest API version served.
    #[arg(long, default_value = "64.0")]
    api_version: String,
    /// Reject JWT assertions whose exp is more than this many seconds ahead.
    #[arg(long, value_name = "SECS")]
    jwt_max_exp_secs: Option<u64>,
    /// Content-Type of LogFile bodies.
    #[arg(long, default_value = "application/octetstream")]
    log_file_content_type: String,
    /// A token dies after this many REST calls.
    #[arg(long, value_name = "N")]
    session_max_calls: Option<u64>,
    /// A token dies this many seconds after it was issued.
    #[arg(long, value_name = "N")]
    session_max_secs: Option<u64>,
    /// Every Nth REST call answers 503.
    #[arg(long, value_name = "N")]
    error_5xx_every: Option<u64>,
    /// Every Nth REST call answers 429.
    #[arg(long, value_name = "N")]
    error_429_every: Option<u64>,
    /// Retry-After of the 429 answers.
    #[arg(long, value_name = "SECS")]
    retry_after_secs: Option<u64>,
    /// The first download of each file is cut after this many bytes.
    #[arg(long, value_name = "N")]
    cut_download_after_bytes: Option<u64>,
    /// Delay every answer this many milliseconds.
    #[arg(long, value_name = "MS")]
    delay_ms: Option<u64>,
    /// Pages never hold more rows than this, whatever batchSize the client asks for.
    #[arg(long, value_name = "N")]
    page_size_cap: Option<usize>,
    /// Play an org without the EventLogFile.Interval field (queries naming it fail).
    #[arg(long)]
    no_interval_field: bool,
    /// What EventLogFile records say of their columns: `served` (LogFileFieldNames and
    /// LogFileFieldTypes), `null` (both null) or `absent` (queries naming them fail).
    #[arg(long, value_name = "served|null|absent", value_parser = parse_field_schema, default_value = "served")]
    elf_field_schema: sfsim::ElfFieldSchema,
    /// Downloads of this EventLogFile id always fail with 500 (repeatable).
    #[arg(long)]
    broken_file: Vec<String>,
    /// Records per hour of each Real-Time Event Monitoring object, as MIN-MAX (0-0: none).
    #[arg(long, value_name = "MIN-MAX", value_parser = parse_range, default_value = "2-12")]
    records_per_hour: (u32, u32),
    /// SetupAuditTrail records per hour, as MIN-MAX, spread over each hour (default: the
    /// realistic 0 to 4 an hour, some sharing one second). Generated even with
    /// --records-per-hour 0-0. Hours up to 6 past the start become visible as time passes.
    #[arg(long, value_name = "MIN-MAX", value_parser = parse_range)]
    audit_per_hour: Option<(u32, u32)>,
    /// Store a few RTEM records twice (same EventIdentifier).
    #[arg(long)]
    duplicate_event_identifiers: bool,
    /// Plant an attack on the org's last full day (repeatable; `all` for every one):
    /// brute_force, password_spray, credential_stuffing, disabled_account,
    /// impossible_travel, new_login_country, new_data_loader_app, privileged_permission_set,
    /// login_as, mass_file_download, secret_hunting_query, mass_delete, threat_detection,
    /// transaction_security_block.
    #[arg(long, value_name = "NAME")]
    scenario: Vec<String>,
    /// Every queryMore (nextRecordsUrl) page answers 500.
    #[arg(long)]
    fail_query_more: bool,
    /// A query with more than N records in its result answers 400 QUERY_TIMEOUT.
    #[arg(long, value_name = "N")]
    query_timeout_over_rows: Option<u64>,
    /// Refuse every login with this OAuth error, as `error: description` (e.g.
    /// "invalid_grant: user hasn't approved this consumer").
    #[arg(long, value_name = "ERROR: DESCRIPTION")]
    oauth_error: Option<String>,
    /// Queries on this object answer INVALID_TYPE, as without its permission (repeatable).
    #[arg(long, value_name = "OBJECT")]
    deny_object: Vec<String>,
    /// Queries on this object find no records, as an RTEM object whose storage is off
    /// (repeatable).
    #[arg(long, value_name = "OBJECT")]
    empty_object: Vec<String>,
    /// REST answers carry a Date header this many seconds off the real time.
    #[arg(long, value_name = "SECS", allow_hyphen_values = true)]
    date_skew_secs: Option<i64>,
    /// Pub/Sub API port; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    pubsub_port: u16,
    /// Serve the Pub/Sub API as plain HTTP/2 (h2c) instead of TLS (clients that allow
    /// http:// to loopback).
    #[arg(long)]
    pubsub_plaintext: bool,
    /// Seconds before an empty keepalive when requested events are pending (Salesforce:
    /// within 270).
    #[arg(long, value_name = "SECS", default_value_t = 270)]
    pubsub_keepalive_secs: u64,
    /// Hours a published event stays replayable (Salesforce: 72).
    #[arg(long, value_name = "HOURS", default_value_t = 72)]
    pubsub_retention_hours: u64,
    /// A topic not enabled for streaming in Event Manager (repeatable), e.g. LogoutEventStream.
    #[arg(long, value_name = "TOPIC")]
    pubsub_disabled_topic: Vec<String>,
}

fn parse_range(s: &str) -> Result<(u32, u32), String> {
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| format!("expected MIN-MAX, got {s:?}"))?;
    let a: u32 = a.trim().parse().map_err(|e| format!("bad minimum: {e}"))?;
    let b: u32 = b.trim().parse().map_err(|e| format!("bad maximum: {e}"))?;
    if a > b {
        return Err(format!("minimum {a} is above maximum {b}"));
    }
    Ok((a, b))
}

fn parse_field_schema(s: &str) -> Result<sfsim::ElfFieldSchema, String> {
    match s {
        "served" => Ok(sfsim::ElfFieldSchema::Served),
        "null" => Ok(sfsim::ElfFieldSchema::Null),
        "absent" => Ok(sfsim::ElfFieldSchema::Absent),
        other => Err(format!("expected served, null or absent, got {other:?}")),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(a) => serve(a).await,
    }
}

async fn serve(a: Serve) -> anyhow::Result<()> {
    let scenarios = Scenario::parse_list(&a.scenario).map_err(anyhow::Error::msg)?;
    let config = SimConfig {
        org: OrgSpec {
            seed: a.seed,
            days: a.days,
            anchor: chrono::Utc::now(),
            event_types: a.event_types,
            hourly: !a.no_hourly,
            rows_per_hour: a.rows_per_hour,
            late_files: !a.no_late_files,
            big_file_bytes: a.big_file_bytes,
            records_per_hour: a.records_per_hour,
            duplicate_event_identifiers: a.duplicate_event_identifiers,
        },
        org_options: GenOptions {
            audit_per_hour: a.audit_per_hour,
            scenarios,
        },
        port: a.port,
        bind: a.bind,
        tls: a.tls,
        out_dir: Some(a.out),
        api_version: a.api_version,
        default_batch_size: a.page_size,
        page_size_cap: a.page_size_cap,
        freeze_clock: false,
        daily_api_limit: a.daily_api_limit,
        retention_days: a.retention_days,
        jwt_max_exp_secs: a.jwt_max_exp_secs,
        log_file_content_type: a.log_file_content_type,
        elf_interval_field: !a.no_interval_field,
        elf_field_schema: a.elf_field_schema,
        pubsub: sfsim::PubSubConfig {
            port: a.pubsub_port,
            plaintext: a.pubsub_plaintext,
            keepalive: std::time::Duration::from_secs(a.pubsub_keepalive_secs),
            retention: std::time::Duration::from_secs(a.pubsub_retention_hours * 3600),
            disabled_topics: a.pubsub_disabled_topic,
        },
        faults: Faults {
            session_max_calls: a.session_max_calls,
            session_max_secs: a.session_max_secs,
            error_5xx_every: a.error_5xx_every,
            error_429_every: a.error_429_every,
            retry_after_secs: a.retry_after_secs,
            cut_download_after_bytes: a.cut_download_after_bytes,
            delay_ms: a.delay_ms,
            broken_files: a.broken_file,
            fail_query_more: a.fail_query_more,
            query_timeout_over_rows: a.query_timeout_over_rows,
            oauth_error: a.oauth_error,
            deny_objects: a.deny_object,
            empty_objects: a.empty_object,
            date_skew_secs: a.date_skew_secs,
            pubsub: Default::default(),
        },
    };
    let sim = sfsim::start(config).await.context("starting sfsim")?;
    let files = sim.visible_files().len();
    println!(
        "sfsim serving {} (org {}, {} files visible of {})",
        sim.url,
        sim.org.org_id,
        files,
        sim.org.files.len()
    );
    println!(
        "credentials: {}",
        sim.out_dir.join("credentials.json").display()
    );
    println!("username: {}", sim.credentials.username);
    println!("Pub/Sub API: {}", sim.pubsub_url);
    if let Some(ca) = &sim.credentials.ca_file {
        println!("CA certificate: {}", ca.display());
    }
    print_planted(&sim.org);
    println!("admin API: {}/__sim/state", sim.url);
    println!(
        "collect with: sfevents collect --config {} --output-dir ./sfevents-out",
        sim.out_dir.join("sfevents.toml").display()
    );
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    println!("stopping");
    sim.shutdown();
    Ok(())
}

/// One line per planted attack: who, from where, when, how much.
fn print_planted(org: &sfsim::Org) {
    for p in org.planted() {
        println!(
            "scenario {}: {} from {} at {} ({} rows, {} records)",
            p.scenario,
            p.username,
            p.source_ip,
            p.start.format("%Y-%m-%dT%H:%M:%SZ"),
            p.elf_rows.len(),
            p.object_records.len()
        );
    }
}
