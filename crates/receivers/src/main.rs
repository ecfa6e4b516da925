//! `receivers elasticsearch`: runs a test receiver until Ctrl-C and prints its URL.

use anyhow::Context;
use clap::{Parser, Subcommand};
use receivers::elasticsearch::{self, ApiKey, Config, Credentials, Faults, LimitOn};

#[derive(Parser)]
#[command(
    name = "receivers",
    version,
    about = "Local test receivers that behave like sfevents' destinations"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// An Elasticsearch (or OpenSearch) receiver: _bulk, data streams, templates, policies.
    Elasticsearch(Es),
}

#[derive(clap::Args)]
struct Es {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Accept this API key, as ID:KEY (repeatable); clients send base64(ID:KEY).
    #[arg(long = "api-key", value_name = "ID:KEY")]
    api_keys: Vec<String>,
    /// Accept this basic user, as USER:PASSWORD (repeatable).
    #[arg(long = "basic", value_name = "USER:PASSWORD")]
    basic: Vec<String>,
    /// Accept this bearer token (repeatable).
    #[arg(long = "bearer", value_name = "TOKEN")]
    bearer: Vec<String>,
    /// Serve HTTPS with a generated CA (its path is printed).
    #[arg(long)]
    tls: bool,
    /// Play OpenSearch instead of Elasticsearch.
    #[arg(long)]
    opensearch: bool,
    /// version.number to report (default 8.17.0, or 2.19.0 with --opensearch).
    #[arg(long)]
    version: Option<String>,
    /// http.max_content_length in bytes (default 100mb).
    #[arg(long, value_name = "BYTES")]
    max_content_length: Option<u64>,
    /// Count the body size as received (compressed) instead of decoded.
    #[arg(long)]
    limit_on_received: bool,
    /// Do not install x-pack's built-in `logs` template.
    #[arg(long)]
    no_logs_template: bool,
    /// Initial faults, as the JSON accepted by POST /__receiver/faults.
    #[arg(long, value_name = "JSON")]
    faults: Option<String>,
}

fn pair(s: &str, what: &str) -> anyhow::Result<(String, String)> {
    let (a, b) = s
        .split_once(':')
        .with_context(|| format!("{what} must be A:B, got {s:?}"))?;
    Ok((a.to_string(), b.to_string()))
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
    let Command::Elasticsearch(a) = Cli::parse().command;
    let mut config = if a.opensearch {
        Config::opensearch()
    } else {
        Config::default()
    };
    let mut faults: Faults = match &a.faults {
        Some(j) => serde_json::from_str(j).context("--faults")?,
        None => Faults::default(),
    };
    if a.max_content_length.is_some() {
        faults.max_content_length = a.max_content_length;
    }
    let mut credentials = Credentials::default();
    for k in &a.api_keys {
        let (id, key) = pair(k, "--api-key")?;
        credentials.api_keys.push(ApiKey::new(&id, &key));
    }
    for b in &a.basic {
        credentials.basic.push(pair(b, "--basic")?);
    }
    credentials.bearer = a.bearer.clone();
    config.bind = a.bind;
    config.port = a.port;
    config.tls = a.tls;
    config.credentials = credentials;
    config.faults = faults;
    if let Some(v) = a.version {
        config.version = v;
    }
    if a.limit_on_received {
        config.limit_on = LimitOn::Received;
    }
    if a.no_logs_template {
        config.builtin_logs_template = Some(false);
    }
    let api_keys = config.credentials.api_keys.clone();
    let es = elasticsearch::start(config)
        .await
        .context("starting the receiver")?;
    println!("{}", es.url());
    if let Some(ca) = es.ca_file() {
        println!("CA certificate: {}", ca.display());
    }
    for k in &api_keys {
        println!("API key {}: Authorization: ApiKey {}", k.id, k.encoded());
    }
    println!(
        "admin: {0}/__receiver/stats, {0}/__receiver/docs, POST {0}/__receiver/faults",
        es.url()
    );
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    es.shutdown();
    Ok(())
}
