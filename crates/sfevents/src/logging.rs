//! Logs to stderr (text or JSON) and to `logs/sfevents_YYYYMMDD.log` in the archive.

use std::path::Path;
use std::sync::Mutex;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Sets up logging once. `log_dir` gets a daily file; `quiet` keeps stderr to warnings.
pub fn init(format: LogFormat, quiet: bool, log_dir: Option<&Path>) {
    let level = if quiet { "warn" } else { "info" };
    let stderr_filter =
        EnvFilter::try_from_env("SFEVENTS_LOG").unwrap_or_else(|_| EnvFilter::new(level));
    let stderr_layer = match format {
        LogFormat::Text => fmt::layer()
            .with_writer(std::io::stderr)
            .with_target(false)
            .compact()
            .boxed(),
        LogFormat::Json => fmt::layer().with_writer(std::io::stderr).json().boxed(),
    };
    let file_layer = log_dir.and_then(|dir| {
        // Logs name users and hosts: owner-only, like state.db.
        base::fsmode::create_dir_all(dir, base::fsmode::PRIVATE_DIR).ok()?;
        let name = format!("sfevents_{}.log", chrono::Utc::now().format("%Y%m%d"));
        let file = base::fsmode::open_append(&dir.join(name), base::fsmode::PRIVATE_FILE).ok()?;
        let layer = fmt::layer().with_writer(Mutex::new(file)).with_ansi(false);
        Some(
            match format {
                LogFormat::Text => layer.boxed(),
                LogFormat::Json => layer.json().boxed(),
            }
            .with_filter(
                EnvFilter::try_from_env("SFEVENTS_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
            ),
        )
    });
    let _ = tracing_subscriber::registry()
        .with(stderr_layer.with_filter(stderr_filter))
        .with(file_layer)
        .try_init();
}
