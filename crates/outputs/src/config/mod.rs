//! Output configuration: `[[output]]` tables of the config file (shared by all orgs) and
//! `--to` URLs, which take the same settings as query parameters:
//!
//! ```text
//! --to 'elasticsearch+https://es.example:9200?mode=agent&namespace=prod&api_key_env=ES_API_KEY'
//! --to 'syslog+tls://logs.example:6514?format=ecs'
//! --to 'splunk+https://splunk.example:8088?token_env=HEC_TOKEN&ack=true'
//! --to 'logplex+https://drain.example/logs'
//! --to 'https://collectors.example/receiver/v1/http?compression=gzip'
//! ```
//!
//! A table or URL is read once into an [`OutputSource`] (its settings as strings); what every
//! output has (name, start, batch limits) is read here, and the output the `type` or `kind+`
//! prefix names (through the [`crate::registry`]) reads its own settings from [`Settings`].
//!
//! Secrets come only from files or environment variables (`*_file`, `*_env`), as for
//! Salesforce: a password in a URL or the config is refused with the way to fix it.
//!
//! This module looks outputs up in the registry, which names every output's folder, so what
//! the outputs themselves use is defined below it and only handed on here: [`Settings`] and
//! [`ConfigError`] in `settings`, [`OutputConfig`] and [`BatchLimits`] in [`crate::output`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use url::Url;

use crate::registry;
use archive::state::Start;

pub use crate::output::{BatchLimits, OutputConfig, OutputKind};
pub use crate::settings::{ConfigError, Settings};

/// Settings every output takes.
const COMMON_KEYS: &[&str] = &[
    "name",
    "type",
    "url",
    "start",
    "max_batch_events",
    "max_batch_bytes",
    "in_flight",
];

/// One `[[output]]` table or `--to` URL, read into its settings but not yet resolved into an
/// output: what `doctor` finds the secret files of, even when the output itself is refused.
#[derive(Debug, Clone)]
pub struct OutputSource {
    /// How doctor names the output: `output 'NAME'` when a name is written, else `output`.
    label: String,
    settings: Settings,
    /// The setting names, in the order written.
    order: Vec<String>,
    /// The kind and URL, or what made the table or URL unreadable.
    read: KindAndUrl,
    /// What errors of the output's own settings are said of (`output 'es'`, `--to URL`).
    context: String,
}

impl OutputSource {
    /// Reads one `[[output]]` table. `base` resolves relative paths (the config file's folder).
    pub fn table(t: &toml::Table, base: Option<&Path>) -> OutputSource {
        let mut map = BTreeMap::new();
        let mut order = Vec::new();
        let mut refused = None;
        for (k, v) in t {
            let v = match v {
                toml::Value::String(x) => x.clone(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => {
                    refused.get_or_insert(ConfigError::NotScalar {
                        key: k.clone(),
                        value: other.to_string(),
                    });
                    continue;
                }
            };
            order.push(k.clone());
            map.insert(k.clone(), v);
        }
        let what = match map.get("name") {
            Some(n) => format!("output '{n}'"),
            None => "an [[output]] table".to_string(),
        };
        let read = match refused {
            Some(e) => Err(e),
            None => table_kind_and_url(&map, &what),
        };
        OutputSource {
            label: label(map.get("name")),
            settings: Settings::new(map, base),
            order,
            read,
            context: what,
        }
    }

    /// Reads a `--to` URL: `kind+scheme://host:port/path?setting=value&...`; a plain `https://`
    /// URL is the HTTP output.
    pub fn url(to: &str) -> OutputSource {
        let context = format!("--to {}", redacted(to));
        let (read, query) = url_kind_and_address(to);
        let mut map = BTreeMap::new();
        let mut order = Vec::new();
        for (k, v) in query {
            order.push(k.clone());
            map.insert(k, v);
        }
        OutputSource {
            label: label(map.get("name")),
            settings: Settings::new(map, None),
            order,
            read: read.map_err(|e| e.within(&context)),
            context,
        }
    }

    /// The output these settings make.
    pub fn resolve(&self) -> Result<OutputConfig, ConfigError> {
        let (kind, url) = self.read.clone()?;
        resolve(&kind, &url, &self.settings).map_err(|e| e.within(&self.context))
    }

    /// The secret files the settings name, each with what it holds, the output named:
    /// `("output 'hec': token", path)`.
    pub fn secret_files(&self) -> Vec<(String, PathBuf)> {
        self.settings
            .secret_files(&self.order)
            .map(|(what, path)| (format!("{}: {what}", self.label), path))
            .collect()
    }
}

fn label(name: Option<&String>) -> String {
    match name {
        Some(n) => format!("output '{n}'"),
        None => "output".to_string(),
    }
}

/// A table's `type` and `url`. The url may repeat the kind as `--to` writes it
/// (`syslog+tls://...`).
fn table_kind_and_url(map: &BTreeMap<String, String>, what: &str) -> KindAndUrl {
    let kind = map
        .get("type")
        .cloned()
        .ok_or_else(|| ConfigError::NoType {
            what: what.to_string(),
            kinds: registry::kinds(),
        })?;
    let url = map.get("url").cloned().ok_or_else(|| ConfigError::NoUrl {
        what: what.to_string(),
    })?;
    let url = match url.split_once("://") {
        Some((scheme, rest)) => match scheme.split_once('+') {
            Some((k, inner)) if k.eq_ignore_ascii_case(&kind) => format!("{inner}://{rest}"),
            _ => url.clone(),
        },
        None => url.clone(),
    };
    Ok((kind, url))
}

/// An output's kind and URL as written, or what makes them unreadable.
type KindAndUrl = Result<(String, String), ConfigError>;

/// A `--to`'s kind and address (without its query), and its query's settings, read even when
/// the kind is missing.
fn url_kind_and_address(to: &str) -> (KindAndUrl, Vec<(String, String)>) {
    let Some((scheme, _)) = to.split_once("://") else {
        return (Err(ConfigError::NoScheme), Vec::new());
    };
    let (kind, rest) = match scheme.split_once('+') {
        Some((kind, _)) => (Some(kind), &to[kind.len() + 1..]),
        None => (registry::by_scheme(scheme), to),
    };
    let parsed = Url::parse(rest);
    let query = match &parsed {
        Ok(u) => u.query_pairs().into_owned().collect(),
        Err(_) => Vec::new(),
    };
    let Some(kind) = kind else {
        let kinds = registry::kinds();
        return (Err(ConfigError::NoKind { kinds }), query);
    };
    let mut u = match parsed {
        Ok(u) => u,
        Err(e) => {
            let e = ConfigError::NotAUrl {
                reason: e.to_string(),
            };
            return (Err(e), query);
        }
    };
    u.set_query(None);
    (Ok((kind.to_string(), u.as_str().to_string())), query)
}

/// Reads one `[[output]]` table. `base` resolves relative paths (the config file's folder).
pub fn from_table(t: &toml::Table, base: Option<&Path>) -> Result<OutputConfig, ConfigError> {
    OutputSource::table(t, base).resolve()
}

/// Reads a `--to` URL (see [`OutputSource::url`]).
pub fn from_url(to: &str) -> Result<OutputConfig, ConfigError> {
    OutputSource::url(to).resolve()
}

/// `to` with any password in it replaced, for messages.
fn redacted(to: &str) -> String {
    match to.split_once("://") {
        Some((scheme, rest)) => {
            let end = rest.find(['/', '?']).unwrap_or(rest.len());
            match rest[..end].rfind('@') {
                Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
                None => to.to_string(),
            }
        }
        None => to.to_string(),
    }
}

fn resolve(kind: &str, url: &str, s: &Settings) -> Result<OutputConfig, ConfigError> {
    let kind = kind.trim().to_ascii_lowercase();
    let (output, named) = registry::by_name(&kind).ok_or_else(|| ConfigError::UnknownType {
        kind: kind.clone(),
        kinds: registry::kinds(),
    })?;
    let keys: Vec<&str> = COMMON_KEYS.iter().chain(output.keys()).copied().collect();
    s.check_known(&kind, &keys)?;
    let (url, host) = address(url)?;
    let typed = output.parse(&url, s)?;
    let name = name(s, &kind, &host, &url)?;
    // A notifier added to an archive that already holds alerts (or to a first run's backfill
    // of weeks) starts with the alerts that come after it: nobody wants last month paged.
    // Other outputs take the whole archive.
    let order: &[&'static str] = match typed.routing() {
        Some(_) => &["now", "beginning"],
        None => &["beginning", "now"],
    };
    let start = match s.choice("start", order)? {
        "now" => Start::Now,
        _ => Start::Beginning,
    };
    let defaults = output.batch();
    let batch = BatchLimits {
        max_events: s.number("max_batch_events", defaults.max_events, 1)?,
        max_bytes: s.number("max_batch_bytes", defaults.max_bytes, 1024)?,
        in_flight: s.number("in_flight", defaults.in_flight, 1)?,
    };
    Ok(OutputConfig {
        name,
        start,
        batch,
        kind: OutputKind::new(named, typed),
        redaction: None,
    })
}

/// The URL and its host; credentials in it are refused.
fn address(url: &str) -> Result<(Url, String), ConfigError> {
    let parsed = Url::parse(url.trim()).map_err(|e| ConfigError::BadUrl {
        url: url.to_string(),
        reason: e.to_string(),
    })?;
    let host = match parsed.host_str() {
        Some(h) => h.to_string(),
        // `file:///path` (a local lake) has no host.
        None if parsed.scheme() == "file" => "local".to_string(),
        None => {
            return Err(ConfigError::NoHost {
                url: parsed.to_string(),
            })
        }
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(ConfigError::CredentialsInUrl { host });
    }
    Ok((parsed, host))
}

/// The `name` setting, or `<kind>-<host>-<port>`.
fn name(s: &Settings, kind: &str, host: &str, url: &Url) -> Result<String, ConfigError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let name = match s.get("name") {
        Some(n) => n.to_string(),
        // An IPv6 host's brackets and colons are not name characters.
        None => format!("{kind}-{host}-{}", port(url))
            .chars()
            .map(|c| if allowed(c) { c } else { '_' })
            .collect(),
    };
    if name.is_empty() || !name.chars().all(allowed) {
        return Err(ConfigError::BadName { name });
    }
    Ok(name)
}

/// The URL's port, or the known default of its scheme (syslog's included).
fn port(url: &Url) -> u16 {
    url.port_or_known_default().unwrap_or(match url.scheme() {
        "tls" => 6514,
        "tcp" | "udp" => 514,
        "smtp" => 587,
        "smtps" => 465,
        _ => 0,
    })
}

/// Checks a set of outputs: names must differ.
pub fn check_unique(outputs: &[OutputConfig]) -> Result<(), ConfigError> {
    let mut seen = std::collections::HashSet::new();
    for o in outputs {
        if !seen.insert(o.name.as_str()) {
            return Err(ConfigError::DuplicateName {
                name: o.name.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
