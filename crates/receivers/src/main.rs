//! `receivers elasticsearch|splunk|logplex|http|pagerduty|slack|teams`: runs a test receiver until Ctrl-C and prints
//! its URL (and the CA to trust with `--tls`).

use anyhow::Context;
use clap::{Parser, Subcommand};
use rand::distr::{Alphanumeric, SampleString};
use receivers::common::Faults as CommonFaults;
use receivers::elasticsearch::{self, ApiKey, Config, Credentials, Faults, LimitOn};
use receivers::{http, logplex, pagerduty, slack, splunk, teams};

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
    /// A Splunk HTTP Event Collector: tokens, indexes, HEC codes, indexer acknowledgement.
    Splunk(Splunk),
    /// A Heroku Logplex HTTPS drain: application/logplex-1 frames, frame-id dedup.
    Logplex(Logplex),
    /// A newline-delimited HTTP receiver (Sumo Logic HTTP source, generic webhook).
    Http(Http),
    /// A PagerDuty Events API v2 endpoint: routing keys, incidents by dedup key, rate limit.
    Pagerduty(Pagerduty),
    /// A Slack incoming webhook: webhook paths, Block Kit limits, rate limit.
    Slack(Slack),
    /// A Microsoft Teams Workflows webhook: Adaptive Card messages, sig, 28 KB, 4 per second.
    Teams(Teams),
}

/// Where to listen, for the receivers other than Elasticsearch.
#[derive(clap::Args)]
struct Listen {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Serve HTTPS with a generated CA (its path is printed).
    #[arg(long)]
    tls: bool,
    /// Initial faults, as the JSON accepted by POST /__receiver/faults.
    #[arg(long, value_name = "JSON")]
    faults: Option<String>,
}

impl Listen {
    fn faults(&self) -> anyhow::Result<CommonFaults> {
        match &self.faults {
            Some(j) => serde_json::from_str(j).context("--faults"),
            None => Ok(CommonFaults::default()),
        }
    }
}

#[derive(clap::Args)]
struct Splunk {
    #[command(flatten)]
    listen: Listen,
    /// Accept this HEC token (repeatable); without any token, one is generated and printed.
    #[arg(long = "token", value_name = "TOKEN")]
    tokens: Vec<String>,
    /// Accept this HEC token with indexer acknowledgement on (repeatable).
    #[arg(long = "ack-token", value_name = "TOKEN")]
    ack_tokens: Vec<String>,
    /// Indexes the tokens may write to (repeatable; default any).
    #[arg(long = "index", value_name = "INDEX")]
    indexes: Vec<String>,
    /// Index of events that name none (default main).
    #[arg(long, value_name = "INDEX")]
    default_index: Option<String>,
    /// max_content_length in bytes (default 838860800, Splunk's).
    #[arg(long, value_name = "BYTES")]
    max_content_length: Option<u64>,
    /// Milliseconds before an ackId turns true.
    #[arg(long, default_value_t = 0)]
    ack_delay_ms: u64,
}

#[derive(clap::Args)]
struct Logplex {
    #[command(flatten)]
    listen: Listen,
    /// Require basic auth, as USER:PASSWORD.
    #[arg(long, value_name = "USER:PASSWORD")]
    basic: Option<String>,
    /// Store repeated Logplex-Frame-Ids again instead of answering 200 without storing.
    #[arg(long)]
    no_dedup: bool,
}

#[derive(clap::Args)]
struct Http {
    #[command(flatten)]
    listen: Listen,
    /// Require this header, as "NAME: VALUE" (e.g. "Authorization: Bearer x").
    #[arg(long, value_name = "NAME: VALUE")]
    require_header: Option<String>,
    /// Largest decoded body in bytes (default 1048576, Sumo Logic's 1 MB).
    #[arg(long, value_name = "BYTES")]
    max_body_bytes: Option<u64>,
}

#[derive(clap::Args)]
struct Pagerduty {
    #[command(flatten)]
    listen: Listen,
    /// Serve this 32-character routing key (repeatable); without any, one is generated.
    #[arg(long = "routing-key", value_name = "KEY")]
    routing_keys: Vec<String>,
    /// Events a routing key may send per minute; 0 lifts the limit.
    #[arg(long, default_value_t = pagerduty::DEFAULT_EVENTS_PER_MINUTE)]
    events_per_minute: u32,
}

#[derive(clap::Args)]
struct Slack {
    #[command(flatten)]
    listen: Listen,
    /// Serve this webhook path, /services/T/B/SECRET (repeatable); without any, one is
    /// generated.
    #[arg(long = "webhook", value_name = "PATH")]
    webhooks: Vec<String>,
    /// Serve this webhook path refusing every message, as PATH=action_prohibited,
    /// PATH=channel_not_found or PATH=channel_is_archived (repeatable).
    #[arg(long = "refusing", value_name = "PATH=ERROR")]
    refusing: Vec<String>,
    /// Messages a webhook may send at once.
    #[arg(long, default_value_t = slack::DEFAULT_RATE.burst)]
    burst: u32,
    /// Milliseconds for one more message to be allowed.
    #[arg(long, default_value_t = slack::DEFAULT_RATE.refill_every_ms)]
    refill_ms: u64,
    /// No rate limit.
    #[arg(long)]
    no_rate_limit: bool,
}

#[derive(clap::Args)]
struct Teams {
    #[command(flatten)]
    listen: Listen,
    /// Serve this workflow, as PATH:SIG (repeatable); without any, one is generated.
    #[arg(long = "workflow", value_name = "PATH:SIG")]
    workflows: Vec<String>,
    /// Largest body in bytes (default 28672, Teams' 28 KB).
    #[arg(long, value_name = "BYTES")]
    max_body_bytes: Option<u64>,
    /// No rate limit (default: 4 requests a second per workflow).
    #[arg(long)]
    no_rate_limit: bool,
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
    match Cli::parse().command {
        Command::Elasticsearch(a) => run_es(a).await,
        Command::Splunk(a) => run_splunk(a).await,
        Command::Logplex(a) => run_logplex(a).await,
        Command::Http(a) => run_http(a).await,
        Command::Pagerduty(a) => run_pagerduty(a).await,
        Command::Slack(a) => run_slack(a).await,
        Command::Teams(a) => run_teams(a).await,
    }
}

async fn run_es(a: Es) -> anyhow::Result<()> {
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

/// Prints the URL and CA, and the admin endpoints, of a started receiver.
fn announce(url: &str, ca: Option<&std::path::Path>, admin: &str) {
    println!("{url}");
    if let Some(ca) = ca {
        println!("CA certificate: {}", ca.display());
    }
    println!("admin: {url}/__receiver/stats, POST {url}/__receiver/faults, {url}{admin}");
}

async fn run_splunk(a: Splunk) -> anyhow::Result<()> {
    let mut names: Vec<(String, bool)> = a.tokens.iter().map(|t| (t.clone(), false)).collect();
    names.extend(a.ack_tokens.iter().map(|t| (t.clone(), true)));
    if names.is_empty() {
        names.push((Alphanumeric.sample_string(&mut rand::rng(), 32), false));
    }
    let tokens: Vec<splunk::Token> = names
        .iter()
        .map(|(t, ack)| splunk::Token {
            ack: *ack,
            indexes: a.indexes.clone(),
            default_index: a.default_index.clone(),
            ..splunk::Token::new(t)
        })
        .collect();
    let config = splunk::Config {
        bind: a.listen.bind.clone(),
        port: a.listen.port,
        tls: a.listen.tls,
        tokens,
        max_content_length: a
            .max_content_length
            .unwrap_or(splunk::DEFAULT_MAX_CONTENT_LENGTH),
        acks: splunk::Acks {
            delay_ms: a.ack_delay_ms,
            withheld: false,
        },
        faults: a.listen.faults()?,
    };
    let hec = splunk::start(config)
        .await
        .context("starting the receiver")?;
    announce(hec.url(), hec.ca_file(), "/__receiver/events");
    for (t, ack) in &names {
        let ack = if *ack {
            " (indexer acknowledgement on)"
        } else {
            ""
        };
        println!("token: Authorization: Splunk {t}{ack}");
    }
    wait().await?;
    hec.shutdown();
    Ok(())
}

async fn run_logplex(a: Logplex) -> anyhow::Result<()> {
    let config = logplex::Config {
        bind: a.listen.bind.clone(),
        port: a.listen.port,
        tls: a.listen.tls,
        basic: a.basic.as_deref().map(|b| pair(b, "--basic")).transpose()?,
        dedup_frame_ids: !a.no_dedup,
        faults: a.listen.faults()?,
        ..logplex::Config::default()
    };
    let drain = logplex::start(config)
        .await
        .context("starting the receiver")?;
    announce(drain.url(), drain.ca_file(), "/__receiver/messages");
    wait().await?;
    drain.shutdown();
    Ok(())
}

async fn run_http(a: Http) -> anyhow::Result<()> {
    let required_header = match &a.require_header {
        Some(h) => {
            let (n, v) = h
                .split_once(':')
                .with_context(|| format!("--require-header must be NAME: VALUE, got {h:?}"))?;
            Some((n.trim().to_ascii_lowercase(), v.trim().to_string()))
        }
        None => None,
    };
    let config = http::Config {
        bind: a.listen.bind.clone(),
        port: a.listen.port,
        tls: a.listen.tls,
        required_header,
        max_body_bytes: a.max_body_bytes.unwrap_or(http::SUMO_MAX_BODY),
        faults: a.listen.faults()?,
    };
    let recv = http::start(config).await.context("starting the receiver")?;
    announce(recv.url(), recv.ca_file(), "/__receiver/lines");
    wait().await?;
    recv.shutdown();
    Ok(())
}

fn secret(len: usize) -> String {
    Alphanumeric.sample_string(&mut rand::rng(), len)
}

async fn run_pagerduty(a: Pagerduty) -> anyhow::Result<()> {
    let mut keys = a.routing_keys.clone();
    if keys.is_empty() {
        keys.push(secret(pagerduty::event::ROUTING_KEY_LEN));
    }
    let config = pagerduty::Config {
        bind: a.listen.bind.clone(),
        port: a.listen.port,
        tls: a.listen.tls,
        routing_keys: keys.clone(),
        events_per_minute: a.events_per_minute,
        faults: a.listen.faults()?,
        ..pagerduty::Config::default()
    };
    let pd = pagerduty::start(config)
        .await
        .context("starting the receiver")?;
    announce(
        pd.url(),
        pd.ca_file(),
        "/__receiver/events, /__receiver/incidents",
    );
    for k in &keys {
        println!("routing key: {k} (POST {}/v2/enqueue)", pd.url());
    }
    wait().await?;
    pd.shutdown();
    Ok(())
}

async fn run_slack(a: Slack) -> anyhow::Result<()> {
    let mut hooks: Vec<slack::Webhook> =
        a.webhooks.iter().map(|p| slack::Webhook::new(p)).collect();
    for r in &a.refusing {
        let (path, error) = r
            .split_once('=')
            .with_context(|| format!("--refusing must be PATH=ERROR, got {r:?}"))?;
        let refusal: slack::Refusal = serde_json::from_value(serde_json::Value::from(error))
            .with_context(|| format!("--refusing: unknown error {error:?}"))?;
        hooks.push(slack::Webhook::new(path).refusing(refusal));
    }
    if hooks.is_empty() {
        let path = format!("/services/T{}/B{}/{}", secret(8), secret(8), secret(24));
        hooks.push(slack::Webhook::new(&path));
    }
    let rate = slack::Rate {
        burst: a.burst,
        refill_every_ms: a.refill_ms,
    };
    let config = slack::Config {
        bind: a.listen.bind.clone(),
        port: a.listen.port,
        tls: a.listen.tls,
        webhooks: hooks.clone(),
        rate: (!a.no_rate_limit).then_some(rate),
        faults: a.listen.faults()?,
        ..slack::Config::default()
    };
    let hook = slack::start(config)
        .await
        .context("starting the receiver")?;
    announce(hook.url(), hook.ca_file(), "/__receiver/messages");
    for h in &hooks {
        let refusing = h
            .refusal
            .map(|r| format!(" (answers {})", r.body()))
            .unwrap_or_default();
        println!("webhook: {}{refusing}", hook.webhook_url(&h.path));
    }
    wait().await?;
    hook.shutdown();
    Ok(())
}

async fn run_teams(a: Teams) -> anyhow::Result<()> {
    let mut flows = Vec::new();
    for w in &a.workflows {
        let (path, sig) = w
            .rsplit_once(':')
            .with_context(|| format!("--workflow must be PATH:SIG, got {w:?}"))?;
        flows.push(teams::Workflow::new(path, sig));
    }
    if flows.is_empty() {
        let path = format!("/workflows/{}/triggers/manual/paths/invoke", secret(32));
        flows.push(teams::Workflow::new(&path, &secret(43)));
    }
    let config = teams::Config {
        bind: a.listen.bind.clone(),
        port: a.listen.port,
        tls: a.listen.tls,
        workflows: flows.clone(),
        rate: (!a.no_rate_limit).then_some(teams::DEFAULT_RATE),
        max_body_bytes: a.max_body_bytes.unwrap_or(teams::MAX_MESSAGE_BYTES),
        faults: a.listen.faults()?,
    };
    let recv = teams::start(config)
        .await
        .context("starting the receiver")?;
    announce(recv.url(), recv.ca_file(), "/__receiver/messages");
    for f in &flows {
        println!("workflow: {}", recv.workflow_url(f));
    }
    wait().await?;
    recv.shutdown();
    Ok(())
}

async fn wait() -> anyhow::Result<()> {
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")
}
