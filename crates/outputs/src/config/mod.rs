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
//! What every output has (name, start, batch limits) is read here; each output's own settings
//! are read by the `config.rs` of its folder, through [`Settings`].
//!
//! Secrets come only from files or environment variables (`*_file`, `*_env`), as for
//! Salesforce: a password in a URL or the config is refused with the way to fix it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use url::Url;

use crate::{elasticsearch, http, logplex, splunk, syslog};
use archive::state::Start;
use base::secret::read_secret_file;
use base::secret::Secret;

pub use crate::elasticsearch::config::{EsAuth, EsConfig, EsMode};

/// One configured output.
#[derive(Debug, Clone)]
pub struct OutputConfig {
    /// Names the output in state.db, `status`, `--output` and `dead-letter/<name>/`.
    pub name: String,
    pub start: Start,
    pub batch: BatchLimits,
    pub kind: OutputKind,
    /// `[redaction]`, applied to every event before the sink sees it (set by
    /// `config::resolve_outputs`).
    pub redaction: Option<std::sync::Arc<archive::redact::Redactor>>,
}

#[derive(Debug, Clone)]
pub enum OutputKind {
    Elasticsearch(EsConfig),
    Syslog(syslog::config::SyslogConfig),
    Logplex(logplex::config::LogplexConfig),
    Splunk(splunk::config::SplunkConfig),
    Http(http::config::HttpConfig),
}

impl OutputKind {
    /// The output's kind as `type =` names it.
    pub fn type_name(&self) -> &'static str {
        match self {
            OutputKind::Elasticsearch(_) => "elasticsearch",
            OutputKind::Syslog(_) => "syslog",
            OutputKind::Logplex(_) => "logplex",
            OutputKind::Splunk(_) => "splunk",
            OutputKind::Http(_) => "http",
        }
    }
}

/// How much goes into one request, and how many requests are in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchLimits {
    pub max_events: usize,
    pub max_bytes: usize,
    pub in_flight: usize,
}

impl Default for BatchLimits {
    fn default() -> Self {
        BatchLimits {
            max_events: 1000,
            max_bytes: 5 * 1024 * 1024,
            in_flight: 2,
        }
    }
}

/// The kinds of output, as `type =` and the `kind+` prefix of `--to` name them.
const KINDS: &str = "elasticsearch, opensearch, syslog, logplex, splunk or http";

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

/// An output's settings as strings, from a TOML table or a URL's query, with the readers that
/// give every output the same rules and the same error texts.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    map: BTreeMap<String, String>,
    /// Resolves relative paths: the config file's folder.
    base: Option<PathBuf>,
}

impl Settings {
    pub fn new(map: BTreeMap<String, String>, base: Option<&Path>) -> Settings {
        Settings {
            map,
            base: base.map(Path::to_path_buf),
        }
    }

    pub fn get(&self, k: &str) -> Option<&str> {
        self.map.get(k).map(String::as_str)
    }

    /// The settings whose names start with `prefix` (e.g. `header.`), without it.
    pub fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.map
            .iter()
            .filter_map(move |(k, v)| k.strip_prefix(prefix).map(|n| (n, v.as_str())))
    }

    /// `true` / `false`.
    pub fn flag(&self, k: &str, default: bool) -> Result<bool, String> {
        match self.get(k) {
            None => Ok(default),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(v) => Err(format!("{k} = '{v}' must be true or false")),
        }
    }

    /// A whole number of at least `min`.
    pub fn number(&self, k: &str, default: usize, min: usize) -> Result<usize, String> {
        match self.get(k) {
            None => Ok(default),
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= min)
                .ok_or_else(|| format!("{k} = '{v}' must be a whole number of at least {min}")),
        }
    }

    /// One of `choices`; the first is the default.
    pub fn choice(&self, k: &str, choices: &[&'static str]) -> Result<&'static str, String> {
        match self.get(k) {
            None => Ok(choices[0]),
            Some(v) => {
                choices.iter().copied().find(|c| *c == v).ok_or_else(|| {
                    format!("{k} = '{v}' is not known: use {}", choices.join(" or "))
                })
            }
        }
    }

    /// A path, relative to the config file's folder when it came from one.
    pub fn path(&self, k: &str) -> Option<PathBuf> {
        self.get(k).map(|p| match &self.base {
            Some(b) if Path::new(p).is_relative() => b.join(p),
            _ => PathBuf::from(p),
        })
    }

    /// A path that must name an existing file; `what` says what it should hold.
    pub fn existing_file(&self, k: &str, what: &str) -> Result<Option<PathBuf>, String> {
        match self.path(k) {
            Some(p) if !p.is_file() => {
                Err(format!("{k} {} does not exist: give {what}", p.display()))
            }
            other => Ok(other),
        }
    }

    /// A secret from `<stem>_file` (a file holding it) or `<stem>_env` (an environment
    /// variable holding it); `what` names it in errors.
    pub fn secret(&self, stem: &str, what: &str) -> Result<Option<Secret>, String> {
        if let Some(f) = self.path(&format!("{stem}_file")) {
            return read_secret_file(&f, what).map(Some);
        }
        match self.get(&format!("{stem}_env")) {
            Some(var) => match std::env::var(var) {
                Ok(v) if !v.is_empty() => Ok(Some(Secret::new(v))),
                _ => Err(format!(
                    "the {what} is to come from environment variable {var}, which is not set"
                )),
            },
            None => Ok(None),
        }
    }

    /// Refuses settings an output does not know. A key in `keys` ending with `.` allows any
    /// name after it (`header.` allows `header.X-Sumo-Category`).
    fn check_known(&self, kind: &str, keys: &[&str]) -> Result<(), String> {
        let known = |k: &str| {
            keys.iter().any(|key| match key.strip_suffix('.') {
                Some(prefix) => k.len() > key.len() && k.starts_with(key) && !prefix.is_empty(),
                None => *key == k,
            })
        };
        match self.map.keys().find(|k| !known(k)) {
            Some(k) => Err(format!(
                "unknown setting '{k}': the settings of a {kind} output are {}",
                keys.iter()
                    .map(|k| if k.ends_with('.') {
                        format!("{k}NAME")
                    } else {
                        k.to_string()
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            None => Ok(()),
        }
    }
}

/// Reads one `[[output]]` table. `base` resolves relative paths (the config file's folder).
pub fn from_table(t: &toml::Table, base: Option<&Path>) -> Result<OutputConfig, String> {
    let mut map = BTreeMap::new();
    for (k, v) in t {
        let v = match v {
            toml::Value::String(x) => x.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => {
                return Err(format!(
                    "[[output]] key {k} = {other} is not a string, number or true/false"
                ))
            }
        };
        map.insert(k.clone(), v);
    }
    let what = match map.get("name") {
        Some(n) => format!("output '{n}'"),
        None => "an [[output]] table".to_string(),
    };
    let kind = map
        .get("type")
        .cloned()
        .ok_or_else(|| format!("{what} has no type: add type = \"elasticsearch\" (or {KINDS})"))?;
    let url = map
        .get("url")
        .cloned()
        .ok_or_else(|| format!("{what} has no url: add url = \"https://host:port\""))?;
    // The url may repeat the kind as `--to` writes it (`syslog+tls://...`).
    let url = match url.split_once("://") {
        Some((scheme, rest)) => match scheme.split_once('+') {
            Some((k, inner)) if k.eq_ignore_ascii_case(&kind) => format!("{inner}://{rest}"),
            _ => url.clone(),
        },
        None => url.clone(),
    };
    resolve(&kind, &url, Settings::new(map, base)).map_err(|e| format!("{what}: {e}"))
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

/// Reads a `--to` URL: `kind+scheme://host:port/path?setting=value&...`; a plain `https://`
/// URL is the HTTP output.
pub fn from_url(to: &str) -> Result<OutputConfig, String> {
    let shown = redacted(to);
    let (scheme, _) = to.split_once("://").ok_or_else(|| {
        format!("--to {shown}: not a URL: write it as kind+https://host:port, e.g. --to elasticsearch+https://host:9200")
    })?;
    let (kind, rest) = match scheme.split_once('+') {
        Some((kind, _)) => (kind, &to[kind.len() + 1..]),
        None if scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http") => {
            ("http", to)
        }
        None => {
            return Err(format!(
                "--to {shown}: say which kind of output, e.g. --to elasticsearch+https://host:9200 or syslog+tls://host:6514 ({KINDS})"
            ))
        }
    };
    let mut u = Url::parse(rest).map_err(|e| format!("--to {shown}: not a URL ({e})"))?;
    let mut map = BTreeMap::new();
    for (k, v) in u.query_pairs() {
        map.insert(k.into_owned(), v.into_owned());
    }
    u.set_query(None);
    resolve(kind, u.as_str(), Settings::new(map, None)).map_err(|e| format!("--to {shown}: {e}"))
}

fn resolve(kind: &str, url: &str, s: Settings) -> Result<OutputConfig, String> {
    let kind = kind.trim().to_ascii_lowercase();
    let own: &[&str] = match kind.as_str() {
        "elasticsearch" | "opensearch" => elasticsearch::config::KEYS,
        "syslog" => syslog::config::KEYS,
        "logplex" => logplex::config::KEYS,
        "splunk" => splunk::config::KEYS,
        "http" => http::config::KEYS,
        other => return Err(format!("output type '{other}' is not known: use {KINDS}")),
    };
    let keys: Vec<&str> = COMMON_KEYS.iter().chain(own).copied().collect();
    s.check_known(&kind, &keys)?;
    let url = Url::parse(url.trim()).map_err(|e| format!("url '{url}' is not a URL ({e})"))?;
    let host = url
        .host_str()
        .ok_or_else(|| format!("url {url} has no host"))?
        .to_string();
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "credentials are not written into URLs: remove them from {host} and give them with the output's *_env or *_file settings (for example password_env = \"VARIABLE\" or token_file = \"PATH\")"
        ));
    }
    let (kind_cfg, defaults) = match kind.as_str() {
        "elasticsearch" | "opensearch" => (
            OutputKind::Elasticsearch(elasticsearch::config::parse(&url, &s)?),
            BatchLimits::default(),
        ),
        "syslog" => (
            OutputKind::Syslog(syslog::config::parse(&url, &s)?),
            syslog::config::BATCH,
        ),
        "logplex" => (
            OutputKind::Logplex(logplex::config::parse(&url, &s)?),
            logplex::config::BATCH,
        ),
        "splunk" => (
            OutputKind::Splunk(splunk::config::parse(&url, &s)?),
            splunk::config::BATCH,
        ),
        _ => (
            OutputKind::Http(http::config::parse(&url, &s)?),
            http::config::BATCH,
        ),
    };
    let name = match s.get("name") {
        Some(n) => n.to_string(),
        // An IPv6 host's brackets and colons are not name characters.
        None => format!("{kind}-{host}-{}", port(&url))
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .collect(),
    };
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(format!(
            "output name '{name}' may hold only letters, digits, '-', '_' and '.'"
        ));
    }
    let start = match s.choice("start", &["beginning", "now"])? {
        "now" => Start::Now,
        _ => Start::Beginning,
    };
    let batch = BatchLimits {
        max_events: s.number("max_batch_events", defaults.max_events, 1)?,
        max_bytes: s.number("max_batch_bytes", defaults.max_bytes, 1024)?,
        in_flight: s.number("in_flight", defaults.in_flight, 1)?,
    };
    Ok(OutputConfig {
        name,
        start,
        batch,
        kind: kind_cfg,
        redaction: None,
    })
}

/// The URL's port, or the known default of its scheme (syslog's included).
fn port(url: &Url) -> u16 {
    url.port_or_known_default().unwrap_or(match url.scheme() {
        "tls" => 6514,
        "tcp" | "udp" => 514,
        _ => 0,
    })
}

/// Checks a set of outputs: names must differ.
pub fn check_unique(outputs: &[OutputConfig]) -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for o in outputs {
        if !seen.insert(o.name.as_str()) {
            return Err(format!(
                "two outputs are named '{}': give each its own name (name = \"...\", or ?name=... in --to)",
                o.name
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_tables() {
        let o =
            from_url("elasticsearch+https://es.example:9200?mode=agent&namespace=prod").unwrap();
        assert_eq!(o.name, "elasticsearch-es.example-9200");
        let OutputKind::Elasticsearch(es) = &o.kind else {
            panic!("{o:?}")
        };
        assert_eq!(es.mode, EsMode::Agent);
        assert_eq!(es.namespace, "prod");
        assert_eq!(es.url.as_str(), "https://es.example:9200/");
        assert!(es.gzip && es.tls_verify && es.auth.is_none());

        let e = from_url("elasticsearch+http://es.example:9200").unwrap_err();
        assert!(e.contains("plain http://"), "{e}");
        assert!(from_url("elasticsearch+http://127.0.0.1:9200").is_ok());
        let e = from_url("elasticsearch+https://u:p4ss@es.example").unwrap_err();
        assert!(e.contains("password_env") && !e.contains("p4ss"), "{e}");
        let e = from_url("elasticsearch+https://es.example?mode=fast").unwrap_err();
        assert!(e.contains("use ecs or agent"), "{e}");
        let e = from_url("elasticsearch+https://es.example?batch=3").unwrap_err();
        assert!(e.contains("unknown setting 'batch'"), "{e}");
        let e = from_url("kafka+https://k.example").unwrap_err();
        assert!(e.contains("not known"), "{e}");
        let e = from_url("ftp://es.example").unwrap_err();
        assert!(e.contains("which kind of output"), "{e}");
        let e = from_url("es.example:9200").unwrap_err();
        assert!(e.contains("not a URL"), "{e}");
        let e = from_url("elasticsearch+https://es.example?api_key_env=SFEVENTS_TEST_UNSET_KEY")
            .unwrap_err();
        assert!(e.contains("SFEVENTS_TEST_UNSET_KEY"), "{e}");

        let t: toml::Table = toml::from_str(
            "name = \"es\"\ntype = \"opensearch\"\nurl = \"https://os.example\"\nmax_batch_events = 10\nstart = \"now\"",
        )
        .unwrap();
        let o = from_table(&t, None).unwrap();
        assert_eq!(
            (o.name.as_str(), o.batch.max_events, o.start),
            ("es", 10, Start::Now)
        );
        let t: toml::Table = toml::from_str("name = \"x\"\nurl = \"https://os.example\"").unwrap();
        assert!(from_table(&t, None).unwrap_err().contains("has no type"));
    }

    #[test]
    fn every_kind_from_a_url_and_a_table() {
        let o = from_url("https://collect.example/receiver/v1/http/abc").unwrap();
        assert_eq!(o.kind.type_name(), "http");
        assert_eq!(o.name, "http-collect.example-443");
        let o = from_url("syslog+tls://logs.example").unwrap();
        assert_eq!(
            (o.kind.type_name(), o.name.as_str()),
            ("syslog", "syslog-logs.example-6514")
        );
        let o = from_url("http+https://collect.example/in").unwrap();
        assert_eq!(o.kind.type_name(), "http");
        let o = from_url("logplex+https://drain.example/logs").unwrap();
        assert_eq!(o.kind.type_name(), "logplex");
        let t: toml::Table = toml::from_str(
            "type = \"syslog\"\nurl = \"syslog+tcp://127.0.0.1:1514\"\nname = \"audit\"",
        )
        .unwrap();
        let o = from_table(&t, None).unwrap();
        assert_eq!((o.kind.type_name(), o.name.as_str()), ("syslog", "audit"));
        let t: toml::Table =
            toml::from_str("type = \"syslog\"\nurl = \"udp://127.0.0.1:1514\"").unwrap();
        assert_eq!(from_table(&t, None).unwrap().kind.type_name(), "syslog");
    }

    #[test]
    fn prefixed_settings() {
        let mut m = BTreeMap::new();
        m.insert("header.X-Sumo-Category".to_string(), "prod".to_string());
        m.insert("header.".to_string(), "x".to_string());
        let s = Settings::new(m, None);
        assert_eq!(
            s.with_prefix("header.").collect::<Vec<_>>(),
            vec![("", "x"), ("X-Sumo-Category", "prod")]
        );
        let e = s.check_known("http", &["header."]).unwrap_err();
        assert!(e.contains("'header.'") && e.contains("header.NAME"), "{e}");
    }
}
