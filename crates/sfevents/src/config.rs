//! Configuration: a TOML file naming one or more orgs, overridden by flags and environment
//! variables; or, with no file, flags alone for one org.
//!
//! Secrets are read from files or environment variables only, never from the command line.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;
use url::Url;

use crate::secret::Secret;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{0}")]
    Invalid(String),
    #[error("cannot read config file {path}: {source}. Check the path given with --config or SFEVENTS_CONFIG")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
}

fn invalid(msg: impl Into<String>) -> ConfigError {
    ConfigError::Invalid(msg.into())
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
    /// Stop for the day once the org's DailyApiRequests usage passes this percentage.
    pub api_budget_percent: Option<u8>,
    /// Remove NDJSON files older than this many days once every output has delivered them.
    pub archive_keep_days: Option<u32>,
    /// Remove raw CSV files older than this many days (default: archive_keep_days).
    pub csv_keep_days: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthFile {
    pub method: Option<String>,
    pub client_id: Option<String>,
    pub username: Option<String>,
    pub key_file: Option<PathBuf>,
    pub client_secret_file: Option<PathBuf>,
    pub client_secret_env: Option<String>,
    pub password_file: Option<PathBuf>,
    pub password_env: Option<String>,
    pub security_token_file: Option<PathBuf>,
    pub security_token_env: Option<String>,
    pub refresh_token_file: Option<PathBuf>,
    pub refresh_token_env: Option<String>,
    /// `sf` CLI org alias or username.
    pub alias: Option<String>,
    // Inline secrets are refused with a pointer to the *_file / *_env forms.
    pub client_secret: Option<toml::Value>,
    pub password: Option<toml::Value>,
    pub security_token: Option<toml::Value>,
    pub refresh_token: Option<toml::Value>,
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

/// An `[[org.object]]` table: a Real-Time Event Monitoring storage object, SetupAuditTrail,
/// LoginHistory or any SObject.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectFile {
    pub name: String,
    /// `event` (big object, windows on EventDate) or `sobject` (cursor on a date field and Id);
    /// default: by name.
    pub kind: Option<String>,
    /// Fields to select; default every field the describe call returns.
    pub fields: Option<Vec<String>>,
    /// SObjects: the cursor's date field; default CreatedDate, LoginTime for LoginHistory,
    /// SystemModstamp where the object has it.
    pub cursor_field: Option<String>,
    pub window_minutes: Option<u32>,
    /// Event objects: windows grow over sparse data up to this; default no bound but the range.
    pub max_window_minutes: Option<u32>,
    pub lookback_minutes: Option<u32>,
    pub settle_seconds: Option<u32>,
    pub backfill_days: Option<u32>,
    pub max_windows_per_run: Option<u32>,
    pub max_rows_per_window: Option<u64>,
    /// `sfevents run`: seconds between collections of this object.
    pub every_seconds: Option<u64>,
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
            other => Err(invalid(format!(
                "interval '{other}' is not known: use daily, hourly or auto"
            ))),
        }
    }
}

#[derive(Debug, Clone)]
pub enum Auth {
    Jwt {
        client_id: String,
        username: String,
        key_pem: Secret,
        key_file: PathBuf,
    },
    Password {
        client_id: String,
        client_secret: Secret,
        username: String,
        password: Secret,
        security_token: Secret,
    },
    ClientCredentials {
        client_id: String,
        client_secret: Secret,
    },
    RefreshToken {
        client_id: String,
        client_secret: Option<Secret>,
        refresh_token: Secret,
    },
    SfCli {
        alias: String,
    },
}

impl Auth {
    pub fn method(&self) -> &'static str {
        match self {
            Auth::Jwt { .. } => "jwt",
            Auth::Password { .. } => "password",
            Auth::ClientCredentials { .. } => "client-credentials",
            Auth::RefreshToken { .. } => "refresh-token",
            Auth::SfCli { .. } => "sf-cli",
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

/// How an object is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// A Real-Time Event Monitoring big object: windows `(start, end]` on EventDate, newest
    /// first, de-duplicated by EventIdentifier.
    Event,
    /// Any other object: `(date field, Id)` cursor, oldest first, de-duplicated by Id.
    SObject,
}

/// Real-Time Event Monitoring storage objects (big objects; EventDate, EventIdentifier index).
pub const EVENT_OBJECTS: &[&str] = &[
    "LoginEvent",
    "LogoutEvent",
    "ApiEvent",
    "ReportEvent",
    "ListViewEvent",
    "LightningUriEvent",
    "UriEvent",
    "IdentityVerificationEvent",
    "LoginAsEvent",
    "BulkApiResultEventStore",
];

#[derive(Debug, Clone)]
pub struct ObjectConfig {
    pub name: String,
    pub kind: ObjectKind,
    pub fields: Option<Vec<String>>,
    pub cursor_field: Option<String>,
    /// The first window; sparse windows grow from it.
    pub window_secs: i64,
    /// The largest window, `None` for the whole range left.
    pub max_window_secs: Option<i64>,
    pub lookback_secs: i64,
    pub settle_secs: i64,
    pub backfill_days: u32,
    /// `None`: as many as it takes (collect); run mode uses `run_max_windows`.
    pub max_windows_per_run: Option<u32>,
    pub run_max_windows: u32,
    pub max_rows_per_window: u64,
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
    pub max_attempts: u32,
    pub api_budget_percent: u8,
    /// Archive retention: NDJSON days (only once delivered everywhere), raw CSV days.
    pub archive_keep_days: Option<u32>,
    pub csv_keep_days: Option<u32>,
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
            return Err(invalid(format!(
                "config file {} names no org: add an [[org]] table",
                ov.config.as_deref().unwrap_or(Path::new("")).display()
            )));
        }
        orgs.push(OrgFile {
            name: "default".into(),
            ..Default::default()
        });
    }
    if !ov.only_orgs.is_empty() {
        for want in &ov.only_orgs {
            if !orgs.iter().any(|o| &o.name == want) {
                return Err(invalid(format!(
                    "--org {want}: no such org in the config; it names {}",
                    orgs.iter()
                        .map(|o| o.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        orgs.retain(|o| ov.only_orgs.contains(&o.name));
    }
    let mut names = std::collections::HashSet::new();
    for o in &orgs {
        if o.name.is_empty() || !names.insert(o.name.clone()) {
            return Err(invalid(format!(
                "every [[org]] needs a unique, non-empty name (found '{}' twice or empty)",
                o.name
            )));
        }
    }
    let top_out = ov
        .output_dir
        .clone()
        .or(file.output_dir.map(|p| rel(base_dir.as_deref(), p)));
    let several = orgs.len() > 1;
    orgs.into_iter()
        .map(|o| resolve_org(o, ov, top_out.as_deref(), several, base_dir.as_deref()))
        .collect()
}

/// The outputs: the config file's `[[output]]` tables, then `--to` URLs.
pub fn resolve_outputs(ov: &Overrides) -> Result<Vec<crate::outputs::OutputConfig>, ConfigError> {
    let mut out = Vec::new();
    if let Some(path) = &ov.config {
        let file = load_file(path)?;
        let base = path.parent();
        for t in &file.outputs {
            out.push(crate::outputs::config::from_table(t, base).map_err(invalid)?);
        }
    }
    for to in &ov.to {
        out.push(crate::outputs::config::from_url(to).map_err(invalid)?);
    }
    crate::outputs::config::check_unique(&out).map_err(invalid)?;
    Ok(out)
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
        return Err(invalid(
            "give --output-dir DIR (the archive) or --config FILE".to_string(),
        ));
    }
    Ok(dirs)
}

fn load_file(path: &Path) -> Result<FileConfig, ConfigError> {
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

fn resolve_org(
    o: OrgFile,
    ov: &Overrides,
    top_out: Option<&Path>,
    several: bool,
    base: Option<&Path>,
) -> Result<OrgConfig, ConfigError> {
    let name = o.name.clone();
    let ctx = |msg: String| invalid(format!("org '{name}': {msg}"));

    let instance_url = ov
        .instance_url
        .clone()
        .or(o.instance_url)
        .map(|u| parse_url(&u, "instance URL"))
        .transpose()
        .map_err(ctx)?;
    let (auth, auth_note) = resolve_auth(o.auth, ov, base).map_err(ctx)?;
    let login_url = match ov.login_url.clone().or(o.login_url) {
        Some(u) => parse_url(&u, "login URL").map_err(ctx)?,
        // My Domain orgs take tokens at their own host; that also suits sandboxes.
        None => match &instance_url {
            Some(u) if !matches!(auth, Auth::SfCli { .. }) => u.clone(),
            _ => Url::parse(DEFAULT_LOGIN_URL).map_err(|e| ctx(e.to_string()))?,
        },
    };
    let audience = ov
        .audience
        .clone()
        .or(o.audience)
        .unwrap_or_else(|| default_audience(&login_url, instance_url.as_ref()));
    let api_version = ov
        .api_version
        .clone()
        .or(o.api_version)
        .unwrap_or_else(|| DEFAULT_API_VERSION.to_string());
    let v = api_version.trim_start_matches('v');
    if v.parse::<f64>().map(|x| x < 31.0).unwrap_or(true) {
        return Err(ctx(format!(
            "API version '{api_version}' is not valid: use a version like 64.0 (31.0 or newer)"
        )));
    }
    let api_version = if v.contains('.') {
        v.to_string()
    } else {
        format!("{v}.0")
    };

    let ca_file = ov.ca_file.clone().or(o.ca_file.map(|p| rel(base, p)));
    if let Some(ca) = &ca_file {
        if !ca.is_file() {
            return Err(ctx(format!(
                "CA file {} does not exist: give a PEM file of CA certificates with --ca-file or ca_file",
                ca.display()
            )));
        }
    }
    let archive_dir = match (ov.output_dir.clone(), o.output_dir) {
        (Some(d), _) if !several => d,
        (_, Some(d)) => rel(base, d),
        _ => match top_out {
            Some(d) if several => d.join(&name),
            Some(d) => d.to_path_buf(),
            None => {
                return Err(ctx(
                    "no output folder: give --output-dir DIR (or output_dir in the config)".into(),
                ))
            }
        },
    };

    let elf = &o.event_log_file;
    let interval = match ov.interval.as_deref().or(elf.interval.as_deref()) {
        Some(s) => IntervalChoice::parse(s)?,
        None => IntervalChoice::Auto,
    };
    let event_types = if ov.event_types.is_empty() {
        elf.event_types.clone()
    } else {
        ov.event_types.clone()
    };
    for t in &event_types {
        if t.is_empty() || !t.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(ctx(format!(
                "event type '{t}' is not valid: use names like ApiTotalUsage, Login, URI"
            )));
        }
    }
    let concurrency = ov.concurrency.or(elf.concurrency).unwrap_or(4);
    if concurrency == 0 || concurrency > 64 {
        return Err(ctx("concurrency must be between 1 and 64".into()));
    }
    let max_attempts = ov.max_attempts.or(o.max_attempts).unwrap_or(5);
    if max_attempts == 0 {
        return Err(ctx("max_attempts must be at least 1".into()));
    }
    // `--object` alone selects objects only; with `--event-type` too, both.
    let elf_enabled = elf.enabled && (ov.objects.is_empty() || !ov.event_types.is_empty());
    let elf = ElfConfig {
        enabled: elf_enabled,
        event_types,
        interval,
        backfill_days: ov.backfill_days.or(elf.backfill_days),
        lookback_hours: elf.lookback_hours.unwrap_or(24),
        concurrency,
        every_seconds: ov.elf_every.unwrap_or(3600).max(1),
    };
    let mut object_files = o.objects;
    for name in &ov.objects {
        if !object_files
            .iter()
            .any(|f| f.name.eq_ignore_ascii_case(name))
        {
            object_files.push(ObjectFile {
                name: name.clone(),
                ..Default::default()
            });
        }
    }
    if !ov.objects.is_empty() {
        object_files.retain(|f| ov.objects.iter().any(|n| n.eq_ignore_ascii_case(&f.name)));
    }
    let objects = object_files
        .into_iter()
        .map(|f| resolve_object(f, ov))
        .collect::<Result<Vec<_>, _>>()
        .map_err(ctx)?;
    let api_budget_percent = ov.api_budget_percent.or(o.api_budget_percent).unwrap_or(80);
    if api_budget_percent == 0 || api_budget_percent > 100 {
        return Err(ctx("api_budget_percent must be between 1 and 100".into()));
    }

    let cfg = OrgConfig {
        name,
        instance_url,
        login_url,
        audience,
        api_version,
        ca_file,
        archive_dir,
        auth,
        elf,
        objects,
        max_attempts,
        api_budget_percent,
        archive_keep_days: ov.archive_keep_days.or(o.archive_keep_days),
        csv_keep_days: ov
            .csv_keep_days
            .or(o.csv_keep_days)
            .or(ov.archive_keep_days.or(o.archive_keep_days)),
        notes: auth_note.into_iter().collect(),
    };
    check_transport(&cfg)?;
    Ok(cfg)
}

/// An object source with every setting at its default.
pub fn object_defaults(name: &str) -> Result<ObjectConfig, String> {
    resolve_object(
        ObjectFile {
            name: name.to_string(),
            ..Default::default()
        },
        &Overrides::default(),
    )
}

fn resolve_object(f: ObjectFile, ov: &Overrides) -> Result<ObjectConfig, String> {
    let name = f.name.trim().to_string();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "object '{name}' is not a valid object name: use API names like LoginEvent or SetupAuditTrail"
        ));
    }
    let kind = match f.kind.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("event") => ObjectKind::Event,
        Some("sobject") => ObjectKind::SObject,
        Some(other) => {
            return Err(format!(
                "object {name}: kind '{other}' is not known: use event or sobject"
            ))
        }
        None if EVENT_OBJECTS.iter().any(|e| e.eq_ignore_ascii_case(&name)) => ObjectKind::Event,
        None => ObjectKind::SObject,
    };
    let minutes = |flag: Option<u32>, file: Option<u32>, default: u32| {
        i64::from(flag.or(file).unwrap_or(default)) * 60
    };
    let window_secs = minutes(ov.window_minutes, f.window_minutes, 60);
    if window_secs <= 0 {
        return Err(format!("object {name}: window_minutes must be at least 1"));
    }
    let max_window_secs = ov
        .max_window_minutes
        .or(f.max_window_minutes)
        .map(|m| i64::from(m) * 60);
    if max_window_secs.is_some_and(|m| m < window_secs) {
        return Err(format!(
            "object {name}: max_window_minutes is smaller than window_minutes: raise it, or leave it out to let windows grow over sparse data"
        ));
    }
    // Real-Time Event Monitoring objects, SetupAuditTrail and LoginHistory keep about 180 days.
    let retained = 180;
    Ok(ObjectConfig {
        kind,
        fields: f.fields,
        cursor_field: f.cursor_field,
        window_secs,
        max_window_secs,
        lookback_secs: minutes(ov.lookback_minutes, f.lookback_minutes, 15),
        settle_secs: i64::from(ov.settle_seconds.or(f.settle_seconds).unwrap_or(60)),
        backfill_days: ov.backfill_days.or(f.backfill_days).unwrap_or(retained),
        max_windows_per_run: ov.max_windows_per_run.or(f.max_windows_per_run),
        run_max_windows: ov
            .max_windows_per_run
            .or(f.max_windows_per_run)
            .unwrap_or(12)
            .max(1),
        max_rows_per_window: ov
            .max_rows_per_window
            .or(f.max_rows_per_window)
            .unwrap_or(50_000)
            .max(1),
        every_seconds: ov
            .object_every
            .or(f.every_seconds)
            .unwrap_or(if name.eq_ignore_ascii_case("SetupAuditTrail") {
                300
            } else {
                60
            })
            .max(1),
        name,
    })
}

fn default_audience(login: &Url, instance: Option<&Url>) -> String {
    let sandbox = |u: &Url| {
        u.host_str()
            .is_some_and(|h| h == "test.salesforce.com" || h.contains(".sandbox."))
    };
    if sandbox(login) || instance.is_some_and(sandbox) {
        "https://test.salesforce.com".into()
    } else if is_loopback(login) {
        // A local simulator is its own audience.
        login.as_str().trim_end_matches('/').to_string()
    } else {
        DEFAULT_LOGIN_URL.into()
    }
}

fn parse_url(s: &str, what: &str) -> Result<Url, String> {
    let u = Url::parse(s.trim()).map_err(|e| {
        format!("{what} '{s}' is not a URL ({e}): write it like https://acme.my.salesforce.com")
    })?;
    if u.scheme() != "https" && u.scheme() != "http" {
        return Err(format!("{what} '{s}' must start with https://"));
    }
    if u.host_str().is_none() {
        return Err(format!("{what} '{s}' has no host"));
    }
    Ok(u)
}

/// True for localhost and loopback addresses.
pub fn is_loopback(u: &Url) -> bool {
    match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Refuses plain http:// except to loopback: tokens would cross the network in clear.
pub fn check_http(u: &Url, what: &str) -> Result<(), String> {
    if u.scheme() == "http" && !is_loopback(u) {
        return Err(format!(
            "{what} {u} uses plain http://, which would send credentials and tokens unencrypted: use https:// (http:// is only allowed to localhost)"
        ));
    }
    Ok(())
}

fn check_transport(cfg: &OrgConfig) -> Result<(), ConfigError> {
    let ctx = |m: String| invalid(format!("org '{}': {m}", cfg.name));
    check_http(&cfg.login_url, "login URL").map_err(ctx)?;
    if let Some(u) = &cfg.instance_url {
        check_http(u, "instance URL").map_err(ctx)?;
    }
    Ok(())
}

pub(crate) fn read_secret_file(path: &Path, what: &str) -> Result<Secret, String> {
    let s = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "cannot read the {what} file {}: {e}. Check the path and that this user may read it",
            path.display()
        )
    })?;
    let s = s.trim_end_matches(['\n', '\r']).to_string();
    if s.is_empty() {
        return Err(format!("the {what} file {} is empty", path.display()));
    }
    Ok(Secret::new(s))
}

/// A secret from, in order: a file named in the config or flags, an env var named in the
/// config, or the default env var.
fn secret(
    file: Option<PathBuf>,
    env_name: Option<&str>,
    default_env: &str,
    what: &str,
) -> Result<Option<Secret>, String> {
    if let Some(f) = file {
        return read_secret_file(&f, what).map(Some);
    }
    if let Some(name) = env_name {
        return match std::env::var(name) {
            Ok(v) if !v.is_empty() => Ok(Some(Secret::new(v))),
            _ => Err(format!(
                "the {what} is to come from environment variable {name}, which is not set"
            )),
        };
    }
    Ok(std::env::var(default_env)
        .ok()
        .filter(|v| !v.is_empty())
        .map(Secret::new))
}

/// The login flow, and a note when flags for two flows were given.
///
/// Precedence: an explicit `--auth`/`method` wins; then complete JWT flags (client id, username
/// and key file) log in natively, even beside `--org-alias`, so the nightly script's command
/// line works without the `sf` CLI; then an alias asks the `sf` CLI.
fn resolve_auth(
    a: AuthFile,
    ov: &Overrides,
    base: Option<&Path>,
) -> Result<(Auth, Option<String>), String> {
    for (field, v) in [
        ("client_secret", &a.client_secret),
        ("password", &a.password),
        ("security_token", &a.security_token),
        ("refresh_token", &a.refresh_token),
    ] {
        if v.is_some() {
            return Err(format!(
                "secrets are not written into the config: replace {field} with {field}_file = \"PATH\" or {field}_env = \"VARIABLE\""
            ));
        }
    }
    let client_id = ov.client_id.clone().or(a.client_id.clone());
    let username = ov.username.clone().or(a.username.clone());
    let key_file = ov
        .jwt_key_file
        .clone()
        .or(a.key_file.clone().map(|p| rel(base, p)));
    let explicit = ov
        .auth
        .clone()
        .or(a.method.clone())
        .map(|m| m.replace('_', "-").to_ascii_lowercase());
    let jwt_complete = client_id.is_some() && username.is_some() && key_file.is_some();
    let alias = ov.org_alias.clone().or(a.alias.clone());
    let mut note = None;
    if let Some(alias) = alias {
        match explicit.as_deref() {
            Some("sf-cli") => return Ok((Auth::SfCli { alias }, None)),
            None if !jwt_complete => return Ok((Auth::SfCli { alias }, None)),
            _ => {
                note = Some(format!(
                    "logging in with {} as {}; org alias '{alias}' is only a label (add --auth sf-cli to use the sf CLI's login instead)",
                    explicit.as_deref().unwrap_or("JWT bearer"),
                    username.as_deref().unwrap_or("the connected app"),
                ));
            }
        }
    }
    let method = match explicit {
        Some(m) => m,
        None if key_file.is_some() => "jwt".into(),
        None => {
            return Err("no authentication configured: give --client-id, --username and --jwt-key-file (JWT bearer), or --org-alias to reuse an sf CLI login, or set [org.auth] method in the config".into())
        }
    };
    let need = |v: Option<String>, flag: &str| {
        v.filter(|s| !s.is_empty())
            .ok_or_else(|| format!("{method} auth needs {flag}"))
    };
    let client_secret_file = ov
        .client_secret_file
        .clone()
        .or(a.client_secret_file.map(|p| rel(base, p)));
    let auth = match method.as_str() {
        "jwt" => {
            let client_id = need(client_id, "--client-id (the connected app's consumer key)")?;
            let username = need(username, "--username (the user to act as)")?;
            let key_file = key_file.ok_or_else(|| {
                "jwt auth needs --jwt-key-file (the PEM private key whose certificate is uploaded to the connected app)".to_string()
            })?;
            let key_pem = read_secret_file(&key_file, "JWT private key")?;
            if !key_pem.expose().contains("-----BEGIN") || !key_pem.expose().contains("PRIVATE KEY") {
                return Err(format!(
                    "the JWT key file {} is not a PEM private key: give the RSA key (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----) whose certificate is uploaded to the connected app",
                    key_file.display()
                ));
            }
            if key_pem.expose().contains("ENCRYPTED") {
                return Err(format!(
                    "the JWT key file {} is encrypted: decrypt it first (openssl pkey -in KEY -out server.key)",
                    key_file.display()
                ));
            }
            Ok(Auth::Jwt {
                client_id,
                username,
                key_pem,
                key_file,
            })
        }
        "password" => {
            let client_id = need(client_id, "--client-id")?;
            let username = need(username, "--username")?;
            let client_secret = secret(
                client_secret_file,
                a.client_secret_env.as_deref(),
                "SFEVENTS_CLIENT_SECRET",
                "client secret",
            )?
            .ok_or("password auth needs the consumer secret: set SFEVENTS_CLIENT_SECRET or --client-secret-file")?;
            let password = secret(
                ov.password_file.clone().or(a.password_file.map(|p| rel(base, p))),
                a.password_env.as_deref(),
                "SFEVENTS_PASSWORD",
                "password",
            )?
            .ok_or("password auth needs the password: set SFEVENTS_PASSWORD or --password-file")?;
            let security_token = secret(
                a.security_token_file.map(|p| rel(base, p)),
                a.security_token_env.as_deref(),
                "SFEVENTS_SECURITY_TOKEN",
                "security token",
            )?
            .unwrap_or_default();
            Ok(Auth::Password {
                client_id,
                client_secret,
                username,
                password,
                security_token,
            })
        }
        "client-credentials" => {
            let client_id = need(client_id, "--client-id")?;
            let client_secret = secret(
                client_secret_file,
                a.client_secret_env.as_deref(),
                "SFEVENTS_CLIENT_SECRET",
                "client secret",
            )?
            .ok_or("client-credentials auth needs the consumer secret: set SFEVENTS_CLIENT_SECRET or --client-secret-file")?;
            Ok(Auth::ClientCredentials {
                client_id,
                client_secret,
            })
        }
        "refresh-token" => {
            let client_id = need(client_id, "--client-id")?;
            let client_secret = secret(
                client_secret_file,
                a.client_secret_env.as_deref(),
                "SFEVENTS_CLIENT_SECRET",
                "client secret",
            )?;
            let refresh_token = secret(
                ov.refresh_token_file.clone().or(a.refresh_token_file.map(|p| rel(base, p))),
                a.refresh_token_env.as_deref(),
                "SFEVENTS_REFRESH_TOKEN",
                "refresh token",
            )?
            .ok_or("refresh-token auth needs the token: set SFEVENTS_REFRESH_TOKEN or --refresh-token-file")?;
            Ok(Auth::RefreshToken {
                client_id,
                client_secret,
                refresh_token,
            })
        }
        "sf-cli" => Err("sf-cli auth needs --org-alias ALIAS (or alias in the config)".into()),
        other => Err(format!(
            "auth method '{other}' is not known: use jwt, password, client-credentials, refresh-token or sf-cli"
        )),
    }?;
    Ok((auth, note))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_file(dir: &Path) -> PathBuf {
        let p = dir.join("k.pem");
        std::fs::write(
            &p,
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        p
    }

    #[test]
    fn flags_only_jwt() {
        let d = tempfile::tempdir().unwrap();
        let ov = Overrides {
            client_id: Some("cid".into()),
            username: Some("u@x".into()),
            jwt_key_file: Some(key_file(d.path())),
            instance_url: Some("https://acme.my.salesforce.com".into()),
            output_dir: Some(d.path().join("out")),
            event_types: vec!["ApiTotalUsage".into()],
            ..Default::default()
        };
        let orgs = resolve(&ov).unwrap();
        assert_eq!(orgs.len(), 1);
        let o = &orgs[0];
        assert_eq!(o.auth.method(), "jwt");
        assert_eq!(o.audience, "https://login.salesforce.com");
        assert_eq!(o.login_url.as_str(), "https://acme.my.salesforce.com/");
        assert_eq!(o.archive_dir, d.path().join("out"));
        assert!(!format!("{o:?}").contains("AAAA"), "key must not print");
        assert!(o.notes.is_empty());
    }

    #[test]
    fn complete_jwt_flags_win_over_an_org_alias_unless_sf_cli_is_asked_for() {
        let d = tempfile::tempdir().unwrap();
        let seed = Overrides {
            client_id: Some("cid".into()),
            username: Some("u@x".into()),
            jwt_key_file: Some(key_file(d.path())),
            instance_url: Some("https://acme.my.salesforce.com".into()),
            org_alias: Some("my-org".into()),
            output_dir: Some(d.path().join("out")),
            ..Default::default()
        };
        let o = &resolve(&seed).unwrap()[0];
        assert_eq!(o.auth.method(), "jwt");
        assert_eq!(o.login_url.as_str(), "https://acme.my.salesforce.com/");
        assert_eq!(o.notes.len(), 1);
        assert!(
            o.notes[0].contains("'my-org' is only a label"),
            "{:?}",
            o.notes
        );

        let asked = Overrides {
            auth: Some("sf-cli".into()),
            ..seed.clone()
        };
        assert_eq!(resolve(&asked).unwrap()[0].auth.method(), "sf-cli");

        // Incomplete JWT flags: the alias is the login.
        let partial = Overrides {
            jwt_key_file: None,
            ..seed
        };
        let o = &resolve(&partial).unwrap()[0];
        assert_eq!(o.auth.method(), "sf-cli");
        assert_eq!(o.login_url.as_str(), "https://login.salesforce.com/");
    }

    #[test]
    fn refuses_http_to_remote_hosts() {
        let d = tempfile::tempdir().unwrap();
        let ov = Overrides {
            client_id: Some("cid".into()),
            username: Some("u".into()),
            jwt_key_file: Some(key_file(d.path())),
            instance_url: Some("http://acme.my.salesforce.com".into()),
            output_dir: Some(d.path().into()),
            ..Default::default()
        };
        let e = resolve(&ov).unwrap_err().to_string();
        assert!(e.contains("plain http://"), "{e}");
        let ov = Overrides {
            instance_url: Some("http://127.0.0.1:8080".into()),
            ..ov
        };
        assert!(resolve(&ov).is_ok());
    }

    #[test]
    fn inline_secrets_refused_and_sandbox_audience() {
        let d = tempfile::tempdir().unwrap();
        let cfg = d.path().join("c.toml");
        std::fs::write(
            &cfg,
            "output_dir = \"out\"\n[[org]]\nname = \"a\"\nlogin_url = \"https://test.salesforce.com\"\n[org.auth]\nmethod = \"password\"\nclient_id = \"x\"\nusername = \"u\"\npassword = \"p\"\n",
        )
        .unwrap();
        let ov = Overrides {
            config: Some(cfg.clone()),
            ..Default::default()
        };
        let e = resolve(&ov).unwrap_err().to_string();
        assert!(e.contains("password_file"), "{e}");
        std::fs::write(
            &cfg,
            format!("output_dir = \"out\"\n[[org]]\nname = \"a\"\nlogin_url = \"https://test.salesforce.com\"\n[org.auth]\nclient_id = \"x\"\nusername = \"u\"\nkey_file = \"{}\"\n[[org]]\nname = \"b\"\ninstance_url = \"https://b.my.salesforce.com\"\n[org.auth]\nkey_file = \"k.pem\"\nclient_id = \"y\"\nusername = \"v\"\n", key_file(d.path()).display()),
        )
        .unwrap();
        let orgs = resolve(&ov).unwrap();
        assert_eq!(orgs[0].audience, "https://test.salesforce.com");
        assert_eq!(orgs[0].archive_dir, d.path().join("out").join("a"));
        assert_eq!(orgs[1].archive_dir, d.path().join("out").join("b"));
    }

    #[test]
    fn unknown_keys_are_errors() {
        let d = tempfile::tempdir().unwrap();
        let cfg = d.path().join("c.toml");
        std::fs::write(&cfg, "[[org]]\nname = \"a\"\ninstanse_url = \"x\"\n").unwrap();
        let e = resolve(&Overrides {
            config: Some(cfg),
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("instanse_url"), "{e}");
    }
}
