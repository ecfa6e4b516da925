//! Output configuration: `[[output]]` tables of the config file (shared by all orgs) and
//! `--to` URLs, which take the same settings as query parameters:
//!
//! ```text
//! --to 'elasticsearch+https://es.example:9200?mode=agent&namespace=prod&api_key_env=ES_API_KEY'
//! ```
//!
//! Secrets come only from files or environment variables (`*_file`, `*_env`), as for
//! Salesforce: a password in a URL or the config is refused with the way to fix it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use url::Url;

use crate::config::{check_http, read_secret_file};
use crate::secret::Secret;
use crate::state::Start;

/// One configured output.
#[derive(Debug, Clone)]
pub struct OutputConfig {
    /// Names the output in state.db, `status`, `--output` and `dead-letter/<name>/`.
    pub name: String,
    pub start: Start,
    pub batch: BatchLimits,
    pub kind: OutputKind,
}

#[derive(Debug, Clone)]
pub enum OutputKind {
    Elasticsearch(EsConfig),
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

/// `ecs`: sfevents maps the events (ECS, as Elastic's integration does) and indexes them with
/// `pipeline=_none`. `agent`: sfevents sends what Filebeat's input sends, for Elastic's own
/// ingest pipelines and dashboards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EsMode {
    Ecs,
    Agent,
}

#[derive(Debug, Clone)]
pub enum EsAuth {
    ApiKey(Secret),
    Basic { username: String, password: Secret },
    Bearer(Secret),
}

#[derive(Debug, Clone)]
pub struct EsConfig {
    /// The cluster's URL, `https://host:9200` (a path prefix is kept, for proxies).
    pub url: Url,
    pub mode: EsMode,
    pub namespace: String,
    pub auth: Option<EsAuth>,
    pub ca_file: Option<PathBuf>,
    pub tls_verify: bool,
    pub gzip: bool,
    /// A MaxMind City database (GeoLite2-City.mmdb) for `source.geo.*`.
    pub geoip_database: Option<PathBuf>,
    /// A MaxMind ASN database (GeoLite2-ASN.mmdb) for `source.as.*`.
    pub geoip_asn_database: Option<PathBuf>,
    /// Days of ILM/ISM retention installed by `sfevents setup elasticsearch`; none: no policy.
    pub retention_days: Option<u32>,
    /// Keep the record in `event.original` with the tag `preserve_original_event`, as the
    /// integration's "Preserve original event" option does.
    pub preserve_original_event: bool,
}

/// Settings as strings, from a TOML table or a URL's query.
type Settings = BTreeMap<String, String>;

const COMMON_KEYS: &[&str] = &[
    "name",
    "type",
    "url",
    "start",
    "max_batch_events",
    "max_batch_bytes",
    "in_flight",
];
const ES_KEYS: &[&str] = &[
    "mode",
    "namespace",
    "api_key_env",
    "api_key_file",
    "username",
    "password_env",
    "password_file",
    "bearer_token_env",
    "bearer_token_file",
    "ca_file",
    "tls_verify",
    "compression",
    "geoip_database",
    "geoip_asn_database",
    "retention_days",
    "preserve_original_event",
];

/// Reads one `[[output]]` table. `base` resolves relative paths (the config file's folder).
pub fn from_table(t: &toml::Table, base: Option<&Path>) -> Result<OutputConfig, String> {
    let mut s = Settings::new();
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
        s.insert(k.clone(), v);
    }
    let name = s.get("name").cloned();
    let what = match &name {
        Some(n) => format!("output '{n}'"),
        None => "an [[output]] table".to_string(),
    };
    let kind = s.get("type").cloned().ok_or_else(|| {
        format!("{what} has no type: add type = \"elasticsearch\" (or opensearch)")
    })?;
    let url = s
        .get("url")
        .cloned()
        .ok_or_else(|| format!("{what} has no url: add url = \"https://host:9200\""))?;
    resolve(&kind, &url, s, base).map_err(|e| format!("{what}: {e}"))
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

/// Reads a `--to` URL: `elasticsearch+https://host:9200?mode=agent&...` (also `opensearch+`).
pub fn from_url(to: &str) -> Result<OutputConfig, String> {
    let shown = redacted(to);
    let (kind, rest) = to.split_once('+').ok_or_else(|| {
        format!("--to {shown}: say which kind of output, e.g. --to elasticsearch+https://host:9200")
    })?;
    let mut u = Url::parse(rest).map_err(|e| format!("--to {shown}: not a URL ({e})"))?;
    let mut s = Settings::new();
    for (k, v) in u.query_pairs() {
        s.insert(k.into_owned(), v.into_owned());
    }
    u.set_query(None);
    resolve(kind, u.as_str(), s, None).map_err(|e| format!("--to {shown}: {e}"))
}

fn resolve(
    kind: &str,
    url: &str,
    s: Settings,
    base: Option<&Path>,
) -> Result<OutputConfig, String> {
    let kind = kind.trim().to_ascii_lowercase();
    let keys: Vec<&str> = match kind.as_str() {
        "elasticsearch" | "opensearch" => COMMON_KEYS.iter().chain(ES_KEYS).copied().collect(),
        other => {
            return Err(format!(
                "output type '{other}' is not known: use elasticsearch or opensearch"
            ))
        }
    };
    if let Some(k) = s.keys().find(|k| !keys.contains(&k.as_str())) {
        return Err(format!(
            "unknown setting '{k}': the settings of an {kind} output are {}",
            keys.join(", ")
        ));
    }
    let url = Url::parse(url.trim()).map_err(|e| format!("url '{url}' is not a URL ({e})"))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(format!("url {url} must start with https://"));
    }
    let host = url
        .host_str()
        .ok_or_else(|| format!("url {url} has no host"))?
        .to_string();
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "credentials are not written into URLs: remove them from {host} and give username with password_env = \"VARIABLE\" or password_file = \"PATH\", or api_key_env/api_key_file"
        ));
    }
    check_http(&url, "output URL")?;
    let name = match s.get("name") {
        Some(n) => n.clone(),
        None => format!("{kind}-{host}-{}", url.port_or_known_default().unwrap_or(0)),
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
    let start = match s.get("start").map(String::as_str) {
        None | Some("beginning") => Start::Beginning,
        Some("now") => Start::Now,
        Some(other) => {
            return Err(format!(
                "start = '{other}' is not known: use beginning or now"
            ))
        }
    };
    let number = |k: &str, default: usize, min: usize| -> Result<usize, String> {
        match s.get(k) {
            None => Ok(default),
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= min)
                .ok_or_else(|| format!("{k} = '{v}' must be a whole number of at least {min}")),
        }
    };
    let d = BatchLimits::default();
    let batch = BatchLimits {
        max_events: number("max_batch_events", d.max_events, 1)?,
        max_bytes: number("max_batch_bytes", d.max_bytes, 1024)?,
        in_flight: number("in_flight", d.in_flight, 1)?,
    };
    let path = |p: &String| -> PathBuf {
        match base {
            Some(b) if Path::new(p).is_relative() => b.join(p),
            _ => PathBuf::from(p),
        }
    };
    let secret = |env: &str, file: &str, what: &str| -> Result<Option<Secret>, String> {
        if let Some(f) = s.get(file) {
            return read_secret_file(&path(f), what).map(Some);
        }
        match s.get(env) {
            Some(var) => match std::env::var(var) {
                Ok(v) if !v.is_empty() => Ok(Some(Secret::new(v))),
                _ => Err(format!(
                    "the {what} is to come from environment variable {var}, which is not set"
                )),
            },
            None => Ok(None),
        }
    };
    let api_key = secret("api_key_env", "api_key_file", "API key")?;
    let password = secret("password_env", "password_file", "password")?;
    let bearer = secret("bearer_token_env", "bearer_token_file", "bearer token")?;
    let auth = match (api_key, s.get("username"), password, bearer) {
        (Some(k), None, None, None) => Some(EsAuth::ApiKey(k)),
        (None, Some(u), Some(p), None) => Some(EsAuth::Basic {
            username: u.clone(),
            password: p,
        }),
        (None, None, None, Some(t)) => Some(EsAuth::Bearer(t)),
        (None, None, None, None) => None,
        (None, Some(_), None, None) => {
            return Err(
                "username needs a password: add password_env = \"VARIABLE\" or password_file = \"PATH\""
                    .into(),
            )
        }
        _ => {
            return Err(
                "give one way to authenticate: an API key, a username and password, or a bearer token"
                    .into(),
            )
        }
    };
    let mode = match s.get("mode").map(String::as_str) {
        None | Some("ecs") => EsMode::Ecs,
        Some("agent") => EsMode::Agent,
        Some(other) => return Err(format!("mode = '{other}' is not known: use ecs or agent")),
    };
    let namespace = s
        .get("namespace")
        .cloned()
        .unwrap_or_else(|| "default".into());
    if namespace.is_empty()
        || namespace.len() > 100
        || !namespace
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(format!(
            "namespace '{namespace}' must be lowercase letters, digits and '_' (it is part of the data stream name)"
        ));
    }
    let ca_file = s.get("ca_file").map(path);
    if let Some(ca) = &ca_file {
        if !ca.is_file() {
            return Err(format!(
                "ca_file {} does not exist: give a PEM file of CA certificates",
                ca.display()
            ));
        }
    }
    let flag = |k: &str, default: bool| -> Result<bool, String> {
        match s.get(k).map(String::as_str) {
            None => Ok(default),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(v) => Err(format!("{k} = '{v}' must be true or false")),
        }
    };
    let gzip = match s.get("compression").map(String::as_str) {
        None | Some("gzip") => true,
        Some("none") => false,
        Some(v) => {
            return Err(format!(
                "compression = '{v}' is not known: use gzip or none"
            ))
        }
    };
    // Only that the files exist: the output opens them (and checks their kind) when it starts.
    let database = |key: &str, example: &str| -> Result<Option<PathBuf>, String> {
        let Some(g) = s.get(key).map(path) else {
            return Ok(None);
        };
        if !g.is_file() {
            return Err(format!(
                "{key} {} does not exist: give a MaxMind .mmdb file such as {example}",
                g.display()
            ));
        }
        Ok(Some(g))
    };
    let geoip_database = database("geoip_database", "GeoLite2-City.mmdb")?;
    let geoip_asn_database = database("geoip_asn_database", "GeoLite2-ASN.mmdb")?;
    let retention_days = match s.get("retention_days") {
        None => None,
        Some(v) => Some(
            v.parse::<u32>()
                .ok()
                .filter(|d| *d > 0)
                .ok_or_else(|| format!("retention_days = '{v}' must be a number of days"))?,
        ),
    };
    Ok(OutputConfig {
        name,
        start,
        batch,
        kind: OutputKind::Elasticsearch(EsConfig {
            url,
            mode,
            namespace,
            auth,
            ca_file,
            tls_verify: flag("tls_verify", true)?,
            gzip,
            geoip_database,
            geoip_asn_database,
            retention_days,
            preserve_original_event: flag("preserve_original_event", false)?,
        }),
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
        let OutputKind::Elasticsearch(es) = &o.kind;
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
        let e = from_url("https://es.example").unwrap_err();
        assert!(e.contains("which kind of output"), "{e}");
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
    fn geoip_databases_are_paths_relative_to_the_config() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("GeoLite2-City.mmdb"), b"city").unwrap();
        std::fs::write(dir.path().join("GeoLite2-ASN.mmdb"), b"asn").unwrap();
        let t: toml::Table = toml::from_str(
            "type = \"elasticsearch\"\nurl = \"https://es.example\"\ngeoip_database = \"GeoLite2-City.mmdb\"\ngeoip_asn_database = \"GeoLite2-ASN.mmdb\"",
        )
        .unwrap();
        let o = from_table(&t, Some(dir.path())).unwrap();
        let OutputKind::Elasticsearch(es) = &o.kind;
        assert_eq!(
            es.geoip_database.as_deref(),
            Some(dir.path().join("GeoLite2-City.mmdb").as_path())
        );
        assert_eq!(
            es.geoip_asn_database.as_deref(),
            Some(dir.path().join("GeoLite2-ASN.mmdb").as_path())
        );

        let e = from_url(
            "elasticsearch+https://es.example?geoip_asn_database=/nonexistent/GeoLite2-ASN.mmdb",
        )
        .unwrap_err();
        assert!(
            e.contains("geoip_asn_database /nonexistent/GeoLite2-ASN.mmdb does not exist"),
            "{e}"
        );
        let e = from_url("elasticsearch+https://es.example?geoip_database=/nonexistent/City.mmdb")
            .unwrap_err();
        assert!(e.contains("such as GeoLite2-City.mmdb"), "{e}");
    }
}
