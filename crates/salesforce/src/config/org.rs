//! One `[[org]]` table with the flags over it, resolved and checked into an [`OrgConfig`].

use std::path::{Path, PathBuf};

use thiserror::Error;
use url::Url;

use super::auth::{resolve_auth, AuthConfigError};
use super::objects::{resolve_object, ObjectError, ObjectFile};
use super::streams::{resolve_streams, StreamConfigError};
use super::urls::{check_transport, default_audience, parse_url, UrlError};
use super::{
    rel, Auth, AuthFile, ConfigError, ElfConfig, ElfFile, IntervalChoice, ObjectConfig, OrgConfig,
    OrgFile, Overrides, DEFAULT_API_VERSION, DEFAULT_LOGIN_URL,
};

/// Why one org's settings are refused; [`ConfigError::Org`] names the org.
#[derive(Debug, Error)]
pub enum OrgError {
    #[error(transparent)]
    Url(#[from] UrlError),
    #[error(transparent)]
    Auth(#[from] AuthConfigError),
    #[error(transparent)]
    Object(#[from] ObjectError),
    #[error(transparent)]
    Stream(#[from] StreamConfigError),
    /// The built-in login URL does not parse: never, but `Url::parse` cannot know that.
    #[error("{0}")]
    DefaultLoginUrl(url::ParseError),
    /// Plain `http://` to a remote host (`base::http`'s message).
    #[error("{0}")]
    PlainHttp(String),
    #[error("API version '{0}' is not valid: use a version like 64.0 (31.0 or newer)")]
    ApiVersion(String),
    #[error("CA file {} does not exist: give a PEM file of CA certificates with --ca-file or ca_file", .0.display())]
    NoCaFile(PathBuf),
    #[error("no output folder: give --output-dir DIR (or output_dir in the config)")]
    NoOutputDir,
    #[error("event type '{0}' is not valid: use names like ApiTotalUsage, Login, URI")]
    EventType(String),
    #[error("concurrency must be between 1 and 64")]
    Concurrency,
    #[error("max_attempts must be at least 1")]
    MaxAttempts,
    #[error("api_budget_percent must be between 1 and 100")]
    ApiBudget,
}

/// Where the archives go: the top-level folder (flag or file), whether the config names
/// several orgs (each then gets a folder of its own), and the config file's folder.
pub(super) struct Placement<'a> {
    pub top_out: Option<&'a Path>,
    pub several: bool,
    pub base: Option<&'a Path>,
}

/// Resolves one org. Settings are checked in a fixed order: with several wrong, the first
/// is the one reported.
pub(super) fn resolve_org(
    mut o: OrgFile,
    ov: &Overrides,
    at: &Placement,
) -> Result<OrgConfig, ConfigError> {
    let name = o.name.clone();
    let in_org = |error: OrgError| ConfigError::Org {
        org: name.clone(),
        error,
    };
    let auth = std::mem::take(&mut o.auth);
    let login = login(&o, auth, ov, at.base).map_err(in_org)?;
    let api_version = api_version(ov.api_version.clone().or(o.api_version)).map_err(in_org)?;
    let ca_file = ov.ca_file.clone().or(o.ca_file.map(|p| rel(at.base, p)));
    if let Some(ca) = ca_file.as_ref().filter(|ca| !ca.is_file()) {
        return Err(in_org(OrgError::NoCaFile(ca.clone())));
    }
    let archive_dir = archive_dir(&name, ov, o.output_dir, at).map_err(in_org)?;
    // An unknown interval is reported without the org's name (`ConfigError::Interval`):
    // the message is part of the interface.
    let interval = match ov
        .interval
        .as_deref()
        .or(o.event_log_file.interval.as_deref())
    {
        Some(s) => IntervalChoice::parse(s)?,
        None => IntervalChoice::Auto,
    };
    let elf = elf_config(&o.event_log_file, ov, interval).map_err(in_org)?;
    let max_attempts = ov.max_attempts.or(o.max_attempts).unwrap_or(5);
    if max_attempts == 0 {
        return Err(in_org(OrgError::MaxAttempts));
    }
    let mut objects = objects(o.objects, ov).map_err(in_org)?;
    let polled: Vec<String> = objects.iter().map(|o| o.name.clone()).collect();
    let streams = resolve_streams(std::mem::take(&mut o.streams), ov, &polled)
        .map_err(|e| in_org(e.into()))?;
    for obj in &mut objects {
        obj.streamed = streams
            .iter()
            .any(|s| s.source.eq_ignore_ascii_case(&obj.name));
    }
    let pubsub_url = parse_url(pubsub_url_of(ov, o.pubsub_url.as_deref()), "pubsub_url")
        .map_err(|e| in_org(e.into()))?;
    let api_budget_percent = ov.api_budget_percent.or(o.api_budget_percent).unwrap_or(80);
    if api_budget_percent == 0 || api_budget_percent > 100 {
        return Err(in_org(OrgError::ApiBudget));
    }
    let archive_keep_days = ov.archive_keep_days.or(o.archive_keep_days);
    let cfg = OrgConfig {
        name,
        instance_url: login.instance_url,
        login_url: login.login_url,
        audience: login.audience,
        api_version,
        ca_file,
        archive_dir,
        auth: login.auth,
        elf,
        objects,
        streams,
        pubsub_url,
        max_attempts,
        api_budget_percent,
        archive_keep_days,
        csv_keep_days: ov.csv_keep_days.or(o.csv_keep_days).or(archive_keep_days),
        archive_group_read: ov.archive_group_read || o.archive_group_read.unwrap_or(false),
        compress_events: super::ArchiveCompression::zstd(
            ov.archive_compression,
            o.archive_compression,
        ),
        archive_redaction: None,
        notes: login.note.into_iter().collect(),
    };
    check_transport(&cfg)?;
    Ok(cfg)
}

/// The Pub/Sub API's URL: the flag's, the file's, or Salesforce's.
fn pubsub_url_of<'a>(ov: &'a Overrides, file: Option<&'a str>) -> &'a str {
    ov.pubsub_url
        .as_deref()
        .or(file)
        .unwrap_or(crate::stream::DEFAULT_URL)
}

/// Where and how the org logs in.
struct Login {
    instance_url: Option<Url>,
    login_url: Url,
    audience: String,
    auth: Auth,
    /// Which login flow won over another, to tell the user once.
    note: Option<String>,
}

fn login(
    o: &OrgFile,
    auth: AuthFile,
    ov: &Overrides,
    base: Option<&Path>,
) -> Result<Login, OrgError> {
    let instance_url = ov
        .instance_url
        .clone()
        .or(o.instance_url.clone())
        .map(|u| parse_url(&u, "instance URL"))
        .transpose()?;
    let (auth, note) = resolve_auth(auth, ov, base)?;
    let login_url = match ov.login_url.clone().or(o.login_url.clone()) {
        Some(u) => parse_url(&u, "login URL")?,
        // My Domain orgs take tokens at their own host; that also suits sandboxes.
        None => match &instance_url {
            Some(u) if !matches!(auth, Auth::SfCli { .. }) => u.clone(),
            _ => Url::parse(DEFAULT_LOGIN_URL).map_err(OrgError::DefaultLoginUrl)?,
        },
    };
    let audience = ov
        .audience
        .clone()
        .or(o.audience.clone())
        .unwrap_or_else(|| default_audience(&login_url, instance_url.as_ref()));
    Ok(Login {
        instance_url,
        login_url,
        audience,
        auth,
        note,
    })
}

/// `64.0`, from `64`, `v64.0` or nothing (the default).
fn api_version(given: Option<String>) -> Result<String, OrgError> {
    let api_version = given.unwrap_or_else(|| DEFAULT_API_VERSION.to_string());
    let v = api_version.trim_start_matches('v');
    if v.parse::<f64>().map(|x| x < 31.0).unwrap_or(true) {
        return Err(OrgError::ApiVersion(api_version));
    }
    Ok(if v.contains('.') {
        v.to_string()
    } else {
        format!("{v}.0")
    })
}

/// `--output-dir` is the org's archive when there is one org; with several, each org has
/// its own `output_dir` or a folder named after it in the top-level one.
fn archive_dir(
    name: &str,
    ov: &Overrides,
    own: Option<PathBuf>,
    at: &Placement,
) -> Result<PathBuf, OrgError> {
    Ok(match (ov.output_dir.clone(), own) {
        (Some(d), _) if !at.several => d,
        (_, Some(d)) => rel(at.base, d),
        _ => match at.top_out {
            Some(d) if at.several => d.join(name),
            Some(d) => d.to_path_buf(),
            None => return Err(OrgError::NoOutputDir),
        },
    })
}

fn elf_config(
    elf: &ElfFile,
    ov: &Overrides,
    interval: IntervalChoice,
) -> Result<ElfConfig, OrgError> {
    let event_types = if ov.event_types.is_empty() {
        elf.event_types.clone()
    } else {
        ov.event_types.clone()
    };
    if let Some(t) = event_types
        .iter()
        .find(|t| t.is_empty() || !t.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        return Err(OrgError::EventType(t.clone()));
    }
    let concurrency = ov.concurrency.or(elf.concurrency).unwrap_or(4);
    if concurrency == 0 || concurrency > 64 {
        return Err(OrgError::Concurrency);
    }
    Ok(ElfConfig {
        // `--object` or `--stream` alone selects objects or streams only; with
        // `--event-type` too, both.
        enabled: elf.enabled
            && ((ov.objects.is_empty() && ov.streams.is_empty()) || !ov.event_types.is_empty()),
        event_types,
        interval,
        backfill_days: ov.backfill_days.or(elf.backfill_days),
        lookback_hours: elf.lookback_hours.unwrap_or(24),
        concurrency,
        every_seconds: ov.elf_every.unwrap_or(3600).max(1),
    })
}

/// The config's `[[org.object]]` tables, with the `--object` flags: a flag naming an object
/// the config lacks adds it at its defaults, and flags, when given, are the whole selection.
fn objects(mut files: Vec<ObjectFile>, ov: &Overrides) -> Result<Vec<ObjectConfig>, OrgError> {
    for name in &ov.objects {
        if !files.iter().any(|f| f.name.eq_ignore_ascii_case(name)) {
            files.push(ObjectFile {
                name: name.clone(),
                ..Default::default()
            });
        }
    }
    if !ov.objects.is_empty() {
        files.retain(|f| ov.objects.iter().any(|n| n.eq_ignore_ascii_case(&f.name)));
    } else if !ov.streams.is_empty() {
        // `--stream` alone collects only the streams, as `--object` alone only objects.
        files.clear();
    }
    Ok(files
        .into_iter()
        .map(|f| resolve_object(f, ov))
        .collect::<Result<Vec<_>, _>>()?)
}
