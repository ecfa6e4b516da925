//! The command line: parses arguments, sets up logging, runs a command, maps the outcome to
//! an exit code.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::collect::{collect_org, Options, OrgReport};
use crate::logging::{self, LogFormat};
use salesforce::config::{self, Overrides};

mod alerts;
mod report;
mod rules;
mod shipping;
use self::shipping::{replay, setup_outputs, ship, ship_to};

/// Exit codes, fixed and documented in the README.
pub use base::exit;

#[derive(Parser)]
#[command(
    name = "sfevents",
    version,
    about = "Gets a Salesforce org's event-monitoring data out before it expires"
)]
pub struct Cli {
    /// Print only warnings and errors (no summary, no progress bar).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Log format on stderr and in the log file.
    #[arg(long, value_enum, global = true, default_value_t = LogFormat::Text, env = "SFEVENTS_LOG_FORMAT")]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once
pub enum Command {
    /// Collect everything new from each configured org into its archive, ship it to the
    /// outputs, then exit.
    Collect {
        #[command(flatten)]
        overrides: Overrides,
        /// Do not ship to the outputs at the end (run `sfevents ship` later).
        #[arg(long)]
        no_ship: bool,
        /// Also read the org's Pub/Sub streams (--stream, [[org.stream]]) for this many
        /// seconds, then commit and stop.
        #[arg(long, value_name = "SECONDS")]
        stream_for: Option<u64>,
    },
    /// Keep collecting: each source on its own interval, until SIGTERM or Ctrl-C.
    Run {
        #[command(flatten)]
        overrides: Overrides,
        /// Serve Prometheus metrics on /metrics and health on /health at this address, e.g.
        /// 127.0.0.1:9464 (config file: metrics_addr).
        #[arg(long, value_name = "ADDR:PORT", env = "SFEVENTS_METRICS_ADDR")]
        metrics_addr: Option<String>,
    },
    /// Show cursors, files and rows delivered, quarantined files, last runs and API calls.
    Status {
        /// Archive folder (holding state.db, or one folder per org).
        #[arg(long, env = "SFEVENTS_OUTPUT_DIR")]
        output_dir: Option<PathBuf>,
        /// Config file whose archives to show.
        #[arg(long, env = "SFEVENTS_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Deliver what the archives hold and the outputs have not yet acknowledged, then exit.
    Ship {
        #[command(flatten)]
        args: ShipArgs,
        /// Only this output (by name).
        #[arg(long)]
        output: Option<String>,
    },
    /// Send archived events to an output again (a rebuilt index, a new cluster). Event ids make
    /// this harmless where the destination deduplicates; the output's position does not move.
    Replay {
        #[command(flatten)]
        args: ShipArgs,
        /// The output to send to (by name).
        #[arg(long)]
        output: String,
        /// Events at or after this day or instant (2026-03-01, 2026-03-01T12:00:00Z).
        #[arg(long)]
        since: Option<String>,
        /// Events before this day or instant.
        #[arg(long)]
        until: Option<String>,
        /// Only these datasets (repeatable): login, api_total_usage, login_event, ...
        #[arg(long = "dataset")]
        datasets: Vec<String>,
    },
    /// Install what an output needs at the destination (idempotent): for elasticsearch, the
    /// index template of the logs-salesforce.* data streams and, with retention_days, an
    /// ILM (Elasticsearch) or ISM (OpenSearch) policy.
    Setup {
        /// The kind of output: elasticsearch (also for OpenSearch).
        #[arg(value_parser = ["elasticsearch", "opensearch"])]
        kind: String,
        /// Where the outputs are configured (--config's [[output]] tables, or --to).
        #[arg(long, env = "SFEVENTS_CONFIG")]
        config: Option<PathBuf>,
        /// An output (repeatable), e.g. elasticsearch+https://es.example:9200?api_key_env=ES_API_KEY.
        #[arg(long = "to", value_name = "URL")]
        to: Vec<String>,
        /// Only this output (by name).
        #[arg(long)]
        output: Option<String>,
    },
    /// Check each org and output (login, permissions, what the org publishes, API headroom,
    /// clock, outputs, archive) and print one line per check with its fix. Exit 0 when all
    /// are ok, 1 with warnings or problems.
    Doctor {
        #[command(flatten)]
        overrides: Overrides,
    },
    /// Audit each org's archive against Salesforce: files and records Salesforce has that the
    /// archive lacks (and whether the next collect takes them), raw files against their
    /// sha256, NDJSON rows against the ledger. Exit 0 when nothing is missing or corrupt, 1
    /// when something is.
    Verify {
        #[command(flatten)]
        overrides: Overrides,
        #[command(flatten)]
        args: crate::verify::VerifyArgs,
    },
    /// Reports from the archive alone (no Salesforce call): api-usage, logins,
    /// connected-apps, data-access, setup-changes, apex, health, or all; as a terminal table,
    /// CSV, JSON or one self-contained HTML page.
    Report {
        #[command(flatten)]
        args: self::report::ReportArgs,
    },
    /// Run Sigma rules over the archive (a backtest), without Salesforce and without moving
    /// the live rules' position. Exit 1 when an alert at or above --fail-level is found.
    Detect {
        #[command(flatten)]
        args: crate::detect::DetectArgs,
    },
    /// Alerts at the outputs: `alerts test --output NAME` sends one test alert.
    Alerts {
        #[command(subcommand)]
        command: self::alerts::AlertsCommand,
    },
    /// The detection rules: list, check or test them (their sample events).
    Rules {
        #[command(subcommand)]
        command: self::rules::RulesCommand,
    },
    /// Start a simulated org (sfsim) in-process and collect all of it into a folder.
    #[cfg(feature = "demo")]
    Demo {
        #[arg(long, default_value = "sfevents-demo")]
        dir: PathBuf,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long, default_value_t = 2)]
        days: u32,
    },
}

/// Where the archives and the outputs are, for the commands that only read archives.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct ShipArgs {
    /// Config file: its orgs' archives and its [[output]] tables.
    #[arg(long, env = "SFEVENTS_CONFIG")]
    pub config: Option<PathBuf>,
    /// Archive folder (holding state.db, or one folder per org).
    #[arg(long, env = "SFEVENTS_OUTPUT_DIR")]
    pub output_dir: Option<PathBuf>,
    /// An output (repeatable), e.g. elasticsearch+https://es.example:9200?api_key_env=ES_API_KEY.
    #[arg(long = "to", value_name = "URL")]
    pub to: Vec<String>,
    #[command(flatten)]
    pub redaction: config::RedactionArgs,
}

pub fn main() -> ExitCode {
    // Before any thread: what libraries create (SQLite's files above all) is owner-only too.
    base::fsmode::restrict_umask();
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::CONFIG);
        }
    };
    let progress = !cli.quiet && std::io::stderr().is_terminal();
    let code = rt.block_on(dispatch(cli.command, cli.quiet, cli.log_format, progress));
    ExitCode::from(code)
}

/// Runs one command; returns its exit code.
async fn dispatch(command: Command, quiet: bool, format: LogFormat, progress: bool) -> u8 {
    match command {
        Command::Collect {
            overrides,
            no_ship,
            stream_for,
        } => collect(&overrides, no_ship, quiet, format, progress, stream_for).await,
        Command::Ship { args, output } => ship(&args, output.as_deref(), quiet).await,
        Command::Setup {
            kind,
            config,
            to,
            output,
        } => setup_outputs(&kind, config, to, output.as_deref(), quiet).await,
        Command::Replay {
            args,
            output,
            since,
            until,
            datasets,
        } => replay(&args, &output, since, until, &datasets, quiet).await,
        Command::Run {
            overrides,
            metrics_addr,
        } => run(&overrides, metrics_addr.as_deref(), quiet, format).await,
        Command::Status { output_dir, config } => status(output_dir, config),
        Command::Doctor { overrides } => {
            // Warnings only, and no log file: doctor creates nothing in the archive.
            logging::init(format, true, None);
            crate::doctor::run(&overrides).await
        }
        Command::Verify { overrides, args } => {
            // Warnings only, and no log file: verify changes nothing in the archive.
            logging::init(format, true, None);
            crate::verify::run(&overrides, &args).await
        }
        Command::Report { args } => self::report::run(&args),
        Command::Detect { args } => {
            logging::init(format, true, None);
            crate::detect::run(&args, quiet)
        }
        Command::Rules { command } => self::rules::run(&command),
        Command::Alerts { command } => {
            logging::init(format, quiet, None);
            self::alerts::run(&command).await
        }
        #[cfg(feature = "demo")]
        Command::Demo { dir, seed, days } => {
            logging::init(format, true, Some(&dir.join("logs")));
            demo(&dir, seed, days, progress).await
        }
    }
}

/// Resolves the configuration and starts logging into the first org's archive.
fn setup(ov: &Overrides, quiet: bool, format: LogFormat) -> Result<Vec<config::OrgConfig>, u8> {
    let orgs = config::resolve(ov).map_err(|e| {
        eprintln!("error: {e}");
        exit::CONFIG
    })?;
    // The archives first, so that logging (creating logs/) does not make them 0700 where
    // archive_group_read wants 0750; a failure is reported when the archive is opened.
    for org in &orgs {
        let access = base::fsmode::Access::new(org.archive_group_read);
        let _ = base::fsmode::create_dir_all(&org.archive_dir, access.data_dir());
    }
    logging::init(
        format,
        quiet,
        orgs.first().map(|o| o.archive_dir.join("logs")).as_deref(),
    );
    for org in &orgs {
        for note in &org.notes {
            tracing::info!(org = %org.name, "{note}");
        }
    }
    Ok(orgs)
}

async fn collect(
    ov: &Overrides,
    no_ship: bool,
    quiet: bool,
    format: LogFormat,
    progress: bool,
    stream_for: Option<u64>,
) -> u8 {
    let opts = Options {
        progress,
        stream_for: stream_for.map(std::time::Duration::from_secs),
    };
    let orgs = match setup(ov, quiet, format) {
        Ok(o) => o,
        Err(code) => return code,
    };
    let outputs = match crate::config::resolve_outputs(ov) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CONFIG;
        }
    };
    let rules = match crate::detect::config::live(ov.config.as_deref()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e:#}");
            return exit::CONFIG;
        }
    };
    let mut code = exit::OK;
    for org in &orgs {
        let report = collect_org(org, &opts).await;
        if !quiet && report.org_id.is_some() {
            print_report(&report);
        }
        code = code.max(report_code(&report));
        if let Some(why) = &report.stopped {
            eprintln!("error: org '{}': {why}", report.name);
        }
        for (id, e) in &report.failed {
            eprintln!("error: org '{}': file {id} quarantined: {e}", report.name);
        }
    }
    let dirs: Vec<PathBuf> = orgs.iter().map(|o| o.archive_dir.clone()).collect();
    if let Some(set) = rules {
        code = code.max(detect_live(&dirs, set, quiet).await);
    }
    if !no_ship && !outputs.is_empty() {
        code = code.max(ship_to(&dirs, &outputs, None, quiet).await);
    }
    code
}

/// `collect`'s pass of the live rules, before shipping (so the alerts ship with the events).
async fn detect_live(dirs: &[PathBuf], set: detections::RuleSet, quiet: bool) -> u8 {
    let dirs = dirs.to_vec();
    let pass = tokio::task::spawn_blocking(move || {
        crate::detect::live::catch_up_all(&dirs, &set, &mut Default::default())
    })
    .await;
    match pass {
        Ok(Ok(p)) => {
            if !quiet {
                println!("rules: {} events evaluated, {} alerts", p.events, p.alerts);
            }
            if p.missing > 0 {
                exit::PARTIAL
            } else {
                exit::OK
            }
        }
        Ok(Err(e)) => {
            eprintln!("error: rules: {e:#}");
            exit::PARTIAL
        }
        Err(e) => {
            eprintln!("error: rules: {e}");
            exit::PARTIAL
        }
    }
}

async fn run(ov: &Overrides, metrics_addr: Option<&str>, quiet: bool, format: LogFormat) -> u8 {
    let orgs = match setup(ov, quiet, format) {
        Ok(o) => o,
        Err(code) => return code,
    };
    // Bound before collection starts: a bad or busy address is a configuration error.
    let metrics = match crate::metrics::listener(metrics_addr, ov.config.as_deref()).await {
        Ok(l) => l,
        Err(e) => {
            // `:#` prints the cause after the context, as the message always read.
            eprintln!("error: {e:#}");
            return exit::CONFIG;
        }
    };
    let rx = stop_on_signals();
    let outputs = match crate::config::resolve_outputs(ov) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CONFIG;
        }
    };
    let rules = match crate::detect::config::live(ov.config.as_deref()) {
        Ok(r) => r.map(std::sync::Arc::new),
        Err(e) => {
            eprintln!("error: {e:#}");
            return exit::CONFIG;
        }
    };
    crate::metrics::live().set_outputs(outputs.iter().map(|o| o.name.clone()).collect());
    let metrics = metrics.map(|l| tokio::spawn(crate::metrics::serve(l, rx.clone())));
    // One shipper loop per archive; collection never waits for them.
    let mut shippers = tokio::task::JoinSet::new();
    if !outputs.is_empty() {
        for org in &orgs {
            shippers.spawn(crate::ship::keep_shipping(
                org.archive_dir.clone(),
                outputs.clone(),
                rx.clone(),
            ));
        }
    }
    // The rules are one more consumer of each archive's log, beside the shippers.
    if let Some(set) = &rules {
        for org in &orgs {
            shippers.spawn(crate::detect::live::keep_detecting(
                org.archive_dir.clone(),
                set.clone(),
                rx.clone(),
            ));
        }
    }
    let code = crate::run::run(
        orgs,
        Options {
            progress: false,
            stream_for: None,
        },
        rx,
    )
    .await;
    // A shipper waiting out a dead destination is abandoned: its position is committed
    // batch by batch, so nothing is lost and at most the batch in flight is sent again.
    let grace = tokio::time::sleep(std::time::Duration::from_secs(5));
    tokio::pin!(grace);
    loop {
        tokio::select! {
            next = shippers.join_next() => if next.is_none() { break },
            _ = &mut grace => { shippers.abort_all(); break }
        }
    }
    // The server saw the stop too and closes its listener; it is not waited on longer.
    if let Some(m) = metrics {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), m).await;
    }
    code
}

/// A flag that turns true at the first SIGTERM or Ctrl-C; the second exits at once.
fn stop_on_signals() -> tokio::sync::watch::Receiver<bool> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(e) => {
                    tracing::error!("cannot listen for SIGTERM: {e}");
                    return;
                }
            };
        for n in 0.. {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            if n > 0 {
                eprintln!("stopping now; the next start redoes the unit that was in flight");
                std::process::exit(130);
            }
            tracing::info!("stopping after the unit in flight (signal again to stop at once)");
            let _ = tx.send(true);
        }
    });
    rx
}

fn report_code(r: &OrgReport) -> u8 {
    if r.config_error {
        exit::CONFIG
    } else if r.ok() {
        exit::OK
    } else {
        exit::PARTIAL
    }
}

fn print_report(r: &OrgReport) {
    println!(
        "org '{}' ({}): {} files, {} rows, {} bytes, {} object events collected; {} API calls{}",
        r.name,
        r.org_id.as_deref().unwrap_or("?"),
        r.files,
        r.rows,
        r.bytes,
        r.objects.values().map(|o| o.events).sum::<u64>(),
        r.api_calls,
        r.api_usage
            .map(|(u, m)| format!(" (org usage {u}/{m})"))
            .unwrap_or_default()
    );
    for (t, (files, rows)) in &r.per_type {
        println!("  {t:<24} {files:>5} files {rows:>9} rows");
    }
    for (o, rep) in &r.objects {
        println!(
            "  {o:<24} {:>5} windows {:>8} events{}",
            rep.windows,
            rep.events,
            if rep.caught_up { "" } else { " (more to read)" }
        );
    }
    for s in &r.streams {
        println!(
            "  {:<24} {:>8} events received, {} archived, {} reconnects",
            s.topic, s.received, s.committed, s.reconnects
        );
    }
}

fn status(output_dir: Option<PathBuf>, config: Option<PathBuf>) -> u8 {
    let dirs = match config::archive_roots(output_dir.as_deref(), config.as_deref()) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CONFIG;
        }
    };
    let mut archives: Vec<PathBuf> = dirs
        .iter()
        .flat_map(|d| crate::status::find_archives(d))
        .collect();
    archives.dedup();
    if archives.is_empty() {
        eprintln!(
            "error: no state.db under {}: run `sfevents collect` first",
            dirs.iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return exit::CONFIG;
    }
    let mut code = exit::OK;
    for a in archives {
        match crate::status::report(&a) {
            Ok(s) => print!("{s}"),
            Err(e) => {
                eprintln!("error: {e}");
                code = exit::PARTIAL;
            }
        }
    }
    code
}

#[cfg(feature = "demo")]
async fn demo(dir: &std::path::Path, seed: u64, days: u32, progress: bool) -> u8 {
    println!(
        "sfevents demo: collecting a simulated org into {}",
        dir.display()
    );
    match crate::demo::run(dir, seed, days, progress).await {
        Ok(r) => {
            print_report(&r);
            for (what, p) in crate::demo::paths(dir) {
                println!("  {what:<36} {}", p.display());
            }
            println!(
                "Run it again: nothing new is downloaded. See `sfevents status --output-dir {}`.",
                dir.display()
            );
            println!(
                "Reports from it: `sfevents report all --output-dir {0}`, or one page with `sfevents report all --output-dir {0} --format html --out report.html`.",
                dir.display()
            );
            if let Some(why) = &r.stopped {
                eprintln!("error: {why}");
            }
            report_code(&r)
        }
        Err(e) => {
            eprintln!("error: demo: {e:#}");
            exit::PARTIAL
        }
    }
}
