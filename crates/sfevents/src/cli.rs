//! The command line: parses arguments, sets up logging, runs a command, maps the outcome to
//! an exit code.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::collect::{collect_org, Options, OrgReport};
use crate::config::{self, Overrides};
use crate::logging::{self, LogFormat};

/// Exit codes, fixed and documented in the README.
pub mod exit {
    /// Everything was collected.
    pub const OK: u8 = 0;
    /// Some units failed or the run stopped early (API limit, network); what was collected is kept.
    pub const PARTIAL: u8 = 1;
    /// Usage, configuration or credentials error: nothing was collected.
    pub const CONFIG: u8 = 2;
}

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
    /// Collect everything new from each configured org into its archive, then exit.
    Collect {
        #[command(flatten)]
        overrides: Overrides,
    },
    /// Keep collecting: each source on its own interval, until SIGTERM or Ctrl-C.
    Run {
        #[command(flatten)]
        overrides: Overrides,
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
    /// Start a simulated org (sfsim) in-process and collect all of it into a folder.
    Demo {
        #[arg(long, default_value = "sfevents-demo")]
        dir: PathBuf,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long, default_value_t = 2)]
        days: u32,
    },
}

pub fn main() -> ExitCode {
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
    let code = rt.block_on(async {
        match cli.command {
            Command::Collect { overrides } => {
                collect(&overrides, cli.quiet, cli.log_format, progress).await
            }
            Command::Run { overrides } => run(&overrides, cli.quiet, cli.log_format).await,
            Command::Status { output_dir, config } => status(output_dir, config),
            Command::Demo { dir, seed, days } => {
                logging::init(cli.log_format, true, Some(&dir.join("logs")));
                demo(&dir, seed, days, progress).await
            }
        }
    });
    ExitCode::from(code)
}

/// Resolves the configuration and starts logging into the first org's archive.
fn setup(ov: &Overrides, quiet: bool, format: LogFormat) -> Result<Vec<config::OrgConfig>, u8> {
    let orgs = config::resolve(ov).map_err(|e| {
        eprintln!("error: {e}");
        exit::CONFIG
    })?;
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

async fn collect(ov: &Overrides, quiet: bool, format: LogFormat, progress: bool) -> u8 {
    let orgs = match setup(ov, quiet, format) {
        Ok(o) => o,
        Err(code) => return code,
    };
    let mut code = exit::OK;
    for org in &orgs {
        let report = collect_org(org, &Options { progress }).await;
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
    code
}

async fn run(ov: &Overrides, quiet: bool, format: LogFormat) -> u8 {
    let orgs = match setup(ov, quiet, format) {
        Ok(o) => o,
        Err(code) => return code,
    };
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
    crate::run::run(orgs, Options { progress: false }, rx).await
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
}

fn status(output_dir: Option<PathBuf>, config: Option<PathBuf>) -> u8 {
    let mut dirs = Vec::new();
    if let Some(d) = output_dir {
        dirs.push(d);
    }
    if let Some(c) = config {
        match std::fs::read_to_string(&c)
            .map_err(|e| e.to_string())
            .and_then(|t| toml::from_str::<config::FileConfig>(&t).map_err(|e| e.to_string()))
        {
            Ok(f) => {
                let base = c.parent().map(PathBuf::from).unwrap_or_default();
                dirs.extend(f.output_dir.map(|d| base.join(d)));
                dirs.extend(
                    f.orgs
                        .into_iter()
                        .filter_map(|o| o.output_dir.map(|d| base.join(d))),
                );
            }
            Err(e) => {
                eprintln!("error: config file {}: {e}", c.display());
                return exit::CONFIG;
            }
        }
    }
    if dirs.is_empty() {
        eprintln!("error: give --output-dir DIR (the archive) or --config FILE");
        return exit::CONFIG;
    }
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
