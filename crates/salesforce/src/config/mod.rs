//! Configuration: a TOML file naming one or more orgs, overridden by flags and environment
//! variables; or, with no file, flags alone for one org.
//!
//! Secrets are read from files or environment variables only, never from the command line.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;
use url::Url;

mod auth;
mod metrics;
mod objects;
mod org;
pub mod redaction;
mod shard;
mod streams;
mod urls;

pub use auth::{Auth, AuthConfigError, AuthFile};
pub use metrics::resolve_metrics_addr;
pub use objects::{
    object_defaults, ObjectConfig, ObjectError, ObjectFile, ObjectKind, EVENT_OBJECTS,
};
use org::resolve_org;
pub use org::OrgError;
pub use redaction::{RedactionArgs, RedactionError, RedactionFile, DEFAULT_KEY_ENV};
pub use shard::Shard;
pub use streams::{storage_object, StreamConfig, StreamConfigError, StreamFile, StreamStart};
pub use urls::UrlError;

// The variants that wrap another error print its message in their own and do not give it as
// their `source`: a caller printing the chain of causes would show it twice.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// A message made elsewhere (the binary's `[[output]]` tables).
    #[error("{0}")]
    Invalid(String),
    #[error("cannot read config file {path}: {source}. Check the path given with --config or SFEVENTS_CONFIG")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("config file {} names no org: add an [[org]] table", .0.display())]
    NoOrg(PathBuf),
    #[error("--org {wanted}: no such org in the config; it names {named}")]
    NoSuchOrg { wanted: String, named: String },
    #[error("every [[org]] needs a unique, non-empty name (found '{0}' twice or empty)")]
    OrgName(String),
    /// A setting of one org.
    #[error("org '{org}': {error}")]
    Org { org: String, error: OrgError },
    #[error("interval '{0}' is not known: use daily, hourly or auto")]
    Interval(String),
    #[error("[redaction]: {0}")]
    Redaction(RedactionError),
    #[error("give --output-dir DIR (the archive) or --config FILE")]
    NoArchive,
    #[error("shard '{0}' is not I/N with 0 <= I < N: write it like 0/3 (instance 0 of 3; a StatefulSet's pod ordinal)")]
    Shard(String),
    #[error("{flag} '{given}' is not an address and port like 127.0.0.1:9464 or [::1]:9464")]
    MetricsAddr { flag: &'static str, given: String },
}

/// The TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub output_dir: Option<PathBuf>,
    #[serde(default, rename = "org")]
    pub orgs: Vec<OrgFile>,
    /// `[[output]]` tables, shared by all orgs; read by `outputs::config`.
    #[serde(default, rename = "output")]
    pub outputs: Vec<toml::Table>,
    /// `[redaction]`: fields removed or pseudonymized for every org and output.
    pub redaction: Option<RedactionFile>,
    /// `sfevents run`'s Prometheus and health endpoint, e.g. "127.0.0.1:9464" (`metrics.rs`).
    pub metrics_addr: Option<String>,
    /// `shard = "I/N"`: collect only the orgs that hash to shard I of N (see `--shard`).
    pub shard: Option<String>,
    /// `[detections]`: rule folders, disabled rules, allowlists; read by the binary's
    /// `detect/config.rs`.
    pub detections: Option<toml::Table>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgFile {
    pub name: String,
    pub instance_url: Option<String>,
    pub login_url: Option<String>,
    pub audience: Option<String>,
    pub api_version: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub output_dir: Option<PathBuf>,
    #[serde(default)]
    pub auth: AuthFile,
    #[serde(default)]
    pub event_log_file: ElfFile,
    pub max_attempts: Option<u32>,
    #[serde(default, rename = "object")]
    pub objects: Vec<ObjectFile>,
    /// `[[org.stream]]` tables: Pub/Sub topics read as they are published.
    #[serde(default, rename = "stream")]
    pub streams: Vec<StreamFile>,
    /// The Pub/Sub API endpoint (default https://api.pubsub.salesforce.com:7443).
    pub pubsub_url: Option<String>,
    /// Stop for the day once the org's DailyApiRequests usage passes this percentage.
    pub api_budget_percent: Option<u8>,
    /// Remove NDJSON files older than this many days once every output has delivered them.
    pub archive_keep_days: Option<u32>,
    /// Remove raw CSV files older than this many days (default: archive_keep_days).
    pub csv_keep_days: Option<u32>,
    /// Raw CSV and NDJSON readable by the archive folder's group (0640, folders 0750).
    pub archive_group_read: Option<bool>,
    /// `zstd` (default): EventLogFile NDJSON written compressed (`archive::lines`); `none`:
    /// plain `.ndjson`.
    pub archive_compression: Option<ArchiveCompression>,
}

/// How EventLogFile NDJSON is written (`archive_compression`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ArchiveCompression {
    /// Plain NDJSON (`<file id>.ndjson`), for tools that read the archive's files as text.
    None,
    /// zstd frames with a row index (`<file id>.ndjson.zst`): about a tenth of the size.
    // The default: plain NDJSON made the archive four times the data Salesforce served.
    #[default]
    Zstd,
}

impl ArchiveCompression {
    /// Whether the flag, else the file, else the default asks for zstd.
    pub fn zstd(flag: Option<ArchiveCompression>, file: Option<ArchiveCompression>) -> bool {
        flag.or(file).unwrap_or_default() == ArchiveCompression::Zstd
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElfFile {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub event_types: Vec<String>,
    pub interval: Option<String>,
    pub backfill_days: Option<u32>,
    pub lookback_hours: Option<u32>,
    pub concurrency: Option<usize>,
}

impl Default for ElfFile {
    fn default() -> Self {
        ElfFile {
            enabled: true,
            event_types: Vec::new(),
            interval: None,
            backfill_days: None,
            lookback_hours: None,
            concurrency: None,
        }
    }
}

fn yes() -> bool {
    true
}

/// Flags and environment variables that override the file (or replace it).
#[derive(Debug, Default, Clone, clap::Args)]
pub struct Overrides {
    /// Config file (TOML) naming one or more orgs.
    #[arg(long, env = "SFEVENTS_CONFIG")]
    pub config: Option<PathBuf>,
    /// An output to ship to (repeatable), with its settings as query parameters, e.g.
    /// elasticsearch+https://es.example:9200?mode=agent&namespace=prod&api_key_env=ES_API_KEY.
    /// Adds to the config file's [[output]] tables.
    #[arg(long = "to", value_name = "URL")]
    pub to: Vec<String>,
    /// Only these orgs of the config file (repeatable).
    #[arg(long = "org")]
    pub only_orgs: Vec<String>,
    /// Collect only the orgs whose name hashes to shard I of N (0 <= I < N), e.g. 0/3: N
    /// instances with the same config split its orgs with no coordination.
    #[arg(long, value_name = "I/N", env = "SFEVENTS_SHARD")]
    pub shard: Option<String>,
    /// Where the archive and state live.
    #[arg(long, env = "SFEVENTS_OUTPUT_DIR")]
    pub output_dir: Option<PathBuf>,
    /// The org's instance URL, e.g. https://acme.my.salesforce.com.
    #[arg(long, env = "SFEVENTS_INSTANCE_URL")]
    pub instance_url: Option<String>,
    /// Where to ask for tokens: https://login.salesforce.com (default), https://test.salesforce.com
    /// for sandboxes, or the org's My Domain URL.
    #[arg(long, env = "SFEVENTS_LOGIN_URL")]
    pub login_url: Option<String>,
    /// JWT audience; defaults to https://login.salesforce.com, or https://test.salesforce.com for sandboxes.
    #[arg(long, env = "SFEVENTS_AUDIENCE")]
    pub audience: Option<String>,
    /// Auth method: jwt, password, client-credentials, refresh-token, sf-cli.
    #[arg(long, env = "SFEVENTS_AUTH")]
    pub auth: Option<String>,
    /// Connected app consumer key.
    #[arg(long, env = "SFEVENTS_CLIENT_ID")]
    pub client_id: Option<String>,
    /// Salesforce username to act as.
    #[arg(long, env = "SFEVENTS_USERNAME")]
    pub username: Option<String>,
    /// PEM private key (PKCS#1 or PKCS#8) for the JWT bearer flow.
    #[arg(long, env = "SFEVENTS_JWT_KEY_FILE")]
    pub jwt_key_file: Option<PathBuf>,
    /// File holding the connected app's consumer secret (or set SFEVENTS_CLIENT_SECRET).
    #[arg(long, env = "SFEVENTS_CLIENT_SECRET_FILE")]
    pub client_secret_file: Option<PathBuf>,
    /// File holding the password (or set SFEVENTS_PASSWORD).
    #[arg(long, env = "SFEVENTS_PASSWORD_FILE")]
    pub password_file: Option<PathBuf>,
    /// File holding the refresh token (or set SFEVENTS_REFRESH_TOKEN).
    #[arg(long, env = "SFEVENTS_REFRESH_TOKEN_FILE")]
    pub refresh_token_file: Option<PathBuf>,
    /// Take the session from an existing `sf` CLI login (alias or username).
    #[arg(long, env = "SFEVENTS_ORG_ALIAS")]
    pub org_alias: Option<String>,
    /// Extra CA certificates (PEM) to trust, for private CAs and TLS-inspecting proxies.
    #[arg(long, env = "SFEVENTS_CA_FILE")]
    pub ca_file: Option<PathBuf>,
    /// API version, e.g. 64.0.
    #[arg(long, env = "SFEVENTS_API_VERSION")]
    pub api_version: Option<String>,
    /// EventLogFile types to collect (repeatable); default: every type the org has.
    #[arg(long = "event-type")]
    pub event_types: Vec<String>,
    /// daily, hourly or auto (hourly where the org has hourly files).
    #[arg(long, env = "SFEVENTS_INTERVAL")]
    pub interval: Option<String>,
    /// First run: how many days back to collect (default: all that Salesforce still keeps).
    #[arg(long, env = "SFEVENTS_BACKFILL_DAYS")]
    pub backfill_days: Option<u32>,
    /// Parallel downloads (default 4).
    #[arg(long, env = "SFEVENTS_CONCURRENCY")]
    pub concurrency: Option<usize>,
    /// Attempts per request and per file before giving up (default 5).
    #[arg(long, env = "SFEVENTS_MAX_ATTEMPTS")]
    pub max_attempts: Option<u32>,
    /// Objects to collect (repeatable): LoginEvent, LogoutEvent, ApiEvent, ..., SetupAuditTrail,
    /// LoginHistory or any SObject. With --object and no --event-type, no EventLogFile is taken.
    #[arg(long = "object", value_name = "NAME")]
    pub objects: Vec<String>,
    /// Pub/Sub topics to stream (repeatable), e.g. /event/LoginEventStream: each event is
    /// archived seconds after it happens, as its storage object's record. With --stream and no
    /// --event-type or --object, only the streams are collected.
    #[arg(long = "stream", value_name = "TOPIC")]
    pub streams: Vec<String>,
    /// The Pub/Sub API endpoint (default https://api.pubsub.salesforce.com:7443).
    #[arg(long, env = "SFEVENTS_PUBSUB_URL")]
    pub pubsub_url: Option<String>,
    /// Objects: the first window on EventDate in minutes (default 60); sparse windows then grow.
    #[arg(long, env = "SFEVENTS_WINDOW_MINUTES")]
    pub window_minutes: Option<u32>,
    /// Objects: the largest window on EventDate in minutes (default: the whole range left).
    #[arg(long, env = "SFEVENTS_MAX_WINDOW_MINUTES")]
    pub max_window_minutes: Option<u32>,
    /// Objects: seconds to wait before an event counts as stored (default 60).
    #[arg(long, env = "SFEVENTS_SETTLE_SECONDS")]
    pub settle_seconds: Option<u32>,
    /// Objects: minutes re-read on every run to catch late events (default 15).
    #[arg(long, env = "SFEVENTS_LOOKBACK_MINUTES")]
    pub lookback_minutes: Option<u32>,
    /// Objects: most windows per run (default: unlimited for collect, 12 for run).
    #[arg(long, env = "SFEVENTS_MAX_WINDOWS_PER_RUN")]
    pub max_windows_per_run: Option<u32>,
    /// Objects: a window with more rows than this is split (default 50000).
    #[arg(long, env = "SFEVENTS_MAX_ROWS_PER_WINDOW")]
    pub max_rows_per_window: Option<u64>,
    /// Run mode: seconds between object collections (default 60).
    #[arg(long, env = "SFEVENTS_OBJECT_EVERY")]
    pub object_every: Option<u64>,
    /// Run mode: seconds between EventLogFile collections (default 3600).
    #[arg(long, env = "SFEVENTS_ELF_EVERY")]
    pub elf_every: Option<u64>,
    /// Stop for the day once this percentage of DailyApiRequests is used (default 80).
    #[arg(long, env = "SFEVENTS_API_BUDGET_PERCENT")]
    pub api_budget_percent: Option<u8>,
    /// Remove NDJSON files older than this many days once every output has delivered them
    /// (default: keep everything).
    #[arg(long, env = "SFEVENTS_ARCHIVE_KEEP_DAYS")]
    pub archive_keep_days: Option<u32>,
    /// Remove raw CSV files older than this many days (default: --archive-keep-days).
    #[arg(long, env = "SFEVENTS_CSV_KEEP_DAYS")]
    pub csv_keep_days: Option<u32>,
    #[command(flatten)]
    pub redaction: RedactionArgs,
    /// Make the raw CSV and NDJSON readable by the archive folder's group (files 0640,
    /// folders 0750); state.db, logs and the spool stay owner-only. Default: owner-only.
    #[arg(long, env = "SFEVENTS_ARCHIVE_GROUP_READ")]
    pub archive_group_read: bool,
    /// Write EventLogFile NDJSON compressed (`zstd`: frames with a row index, about a tenth of
    /// the size) or plain (`none`). Files already archived keep their form. Default: zstd.
    #[arg(long, value_enum, env = "SFEVENTS_ARCHIVE_COMPRESSION")]
    pub archive_compression: Option<ArchiveCompression>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntervalChoice {
    Daily,
    Hourly,
    Auto,
}

impl IntervalChoice {
    fn parse(s: &str) -> Result<Self, ConfigError> {
        match s.to_ascii_lowercase().as_str() {
            "daily" => Ok(IntervalChoice::Daily),
            "hourly" => Ok(IntervalChoice::Hourly),
            "auto" => Ok(IntervalChoice::Auto),
            other => Err(ConfigError::Interval(other.to_string())),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ElfConfig {
    pub enabled: bool,
    pub event_types: Vec<String>,
    pub interval: IntervalChoice,
    pub backfill_days: Option<u32>,
    pub lookback_hours: u32,
    pub concurrency: usize,
    /// `sfevents run`: seconds between collections.
    pub every_seconds: u64,
}

/// One org, fully resolved.
#[derive(Debug, Clone)]
pub struct OrgConfig {
    pub name: String,
    pub instance_url: Option<Url>,
    pub login_url: Url,
    pub audience: String,
    pub api_version: String,
    pub ca_file: Option<PathBuf>,
    /// The archive root: output/, events/, logs/, state.db.
    pub archive_dir: PathBuf,
    pub auth: Auth,
    pub elf: ElfConfig,
    pub objects: Vec<ObjectConfig>,
    pub streams: Vec<StreamConfig>,
    /// The Pub/Sub API endpoint, checked (plain `http://` to loopback only).
    pub pubsub_url: Url,
    pub max_attempts: u32,
    pub api_budget_percent: u8,
    /// Archive retention: NDJSON days (only once delivered everywhere), raw CSV days.
    pub archive_keep_days: Option<u32>,
    pub csv_keep_days: Option<u32>,
    /// Raw CSV and NDJSON group-readable (`base::fsmode::Access::Group`).
    pub archive_group_read: bool,
    /// EventLogFile NDJSON written compressed (`archive_compression = "zstd"`).
    pub compress_events: bool,
    /// Set when `[redaction] archive = true`: the NDJSON is written redacted.
    pub archive_redaction: Option<std::sync::Arc<archive::redact::Redactor>>,
    /// Choices worth telling the user once, such as which login flow won over another.
    pub notes: Vec<String>,
}

pub const DEFAULT_API_VERSION: &str = "64.0";
pub const DEFAULT_LOGIN_URL: &str = "https://login.salesforce.com";

/// Reads the file (if any), applies overrides, reads secrets, and checks everything.
pub fn resolve(ov: &Overrides) -> Result<Vec<OrgConfig>, ConfigError> {
    let file = match &ov.config {
        Some(path) => load_file(path)?,
        None => FileConfig::default(),
    };
    let base_dir = ov
        .config
        .as_deref()
        .and_then(Path::parent)
        .map(Path::to_path_buf);
    let mut orgs = file.orgs;
    if orgs.is_empty() {
        if ov.config.is_some() {
            return Err(ConfigError::NoOrg(ov.config.clone().unwrap_or_default()));
        }
        orgs.push(OrgFile {
            name: "default".into(),
            ..Default::default()
        });
    }
    if !ov.only_orgs.is_empty() {
        for want in &ov.only_orgs {
            if !orgs.iter().any(|o| &o.name == want) {
                return Err(ConfigError::NoSuchOrg {
                    wanted: want.clone(),
                    named: orgs
                        .iter()
                        .map(|o| o.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
        orgs.retain(|o| ov.only_orgs.contains(&o.name));
    }
    if let Some(s) = ov.shard.as_deref().or(file.shard.as_deref()) {
        let shard = Shard::parse(s)?;
        orgs.retain(|o| shard.takes(&o.name));
        if orgs.is_empty() {
            tracing::warn!(
                "shard {s}: no org of the config hashes to this shard; nothing to collect"
            );
        }
    }
    let mut names = std::collections::HashSet::new();
    for o in &orgs {
        if o.name.is_empty() || !names.insert(o.name.clone()) {
            return Err(ConfigError::OrgName(o.name.clone()));
        }
    }
    let top_out = ov
        .output_dir
        .clone()
        .or(file.output_dir.map(|p| rel(base_dir.as_deref(), p)));
    let at = org::Placement {
        top_out: top_out.as_deref(),
        several: orgs.len() > 1,
        base: base_dir.as_deref(),
    };
    // Collection needs the redactor only to write the archive redacted.
    let table = file.redaction.as_ref();
    let redactor =
        redaction::resolve(table, base_dir.as_deref(), &ov.redaction)?.filter(|r| r.archive());
    orgs.into_iter()
        .map(|o| resolve_org(o, ov, &at))
        .map(|o| {
            o.map(|mut o| {
                o.archive_redaction = redactor.clone();
                o
            })
        })
        .collect()
}

/// The archive folders named by `--output-dir` or the config file, without resolving
/// credentials: for the commands that read archives only (`status`, `ship`, `replay`).
pub fn archive_roots(
    output_dir: Option<&Path>,
    config: Option<&Path>,
) -> Result<Vec<PathBuf>, ConfigError> {
    let mut dirs = Vec::new();
    if let Some(d) = output_dir {
        dirs.push(d.to_path_buf());
    }
    if let Some(c) = config {
        let f = load_file(c)?;
        let base = c.parent().map(PathBuf::from).unwrap_or_default();
        dirs.extend(f.output_dir.map(|d| base.join(d)));
        dirs.extend(
            f.orgs
                .into_iter()
                .filter_map(|o| o.output_dir.map(|d| base.join(d))),
        );
    }
    if dirs.is_empty() {
        return Err(ConfigError::NoArchive);
    }
    Ok(dirs)
}

pub fn load_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.to_string().trim().replace('\n', " "),
    })
}

fn rel(base: Option<&Path>, p: PathBuf) -> PathBuf {
    match base {
        Some(b) if p.is_relative() => b.join(p),
        _ => p,
    }
}

#[cfg(test)]
mod tests;
