//! The Elasticsearch / OpenSearch output's settings (`type = "elasticsearch"` or
//! `"opensearch"`, `--to elasticsearch+https://...`).

use std::path::PathBuf;

use url::Url;

use crate::settings::{ConfigError, Settings};
use base::http::check_http;
use base::secret::Secret;

/// `ecs`: sfevents maps the events (ECS, as Elastic's integration does) and indexes them with
/// `pipeline=_none`. `agent`: sfevents sends what Filebeat's input sends, for Elastic's own
/// ingest pipelines and dashboards. `raw`: the archive's own lines, as they are (the record
/// under `fields`), for a pipeline of one's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EsMode {
    Ecs,
    Agent,
    Raw,
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

pub const KEYS: &[&str] = &[
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

pub fn parse(url: &Url, s: &Settings) -> Result<EsConfig, ConfigError> {
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(ConfigError::invalid(format!(
            "url {url} must start with https://"
        )));
    }
    check_http(url, "output URL").map_err(|e| ConfigError::PlainHttp(e.to_string()))?;
    let auth = auth(s)?;
    let mode = match s.choice("mode", &["ecs", "agent", "raw"])? {
        "agent" => EsMode::Agent,
        "raw" => EsMode::Raw,
        _ => EsMode::Ecs,
    };
    let namespace = namespace(s)?;
    let ca_file = s.existing_file("ca_file", "a PEM file of CA certificates")?;
    let gzip = s.choice("compression", &["gzip", "none"])? == "gzip";
    // Only that the files exist: the output opens them (and checks their kind) when it starts.
    let geoip_database = s.existing_file(
        "geoip_database",
        "a MaxMind .mmdb file such as GeoLite2-City.mmdb",
    )?;
    let geoip_asn_database = s.existing_file(
        "geoip_asn_database",
        "a MaxMind .mmdb file such as GeoLite2-ASN.mmdb",
    )?;
    let retention_days = match s.get("retention_days") {
        None => None,
        Some(v) => Some(v.parse::<u32>().ok().filter(|d| *d > 0).ok_or_else(|| {
            ConfigError::invalid(format!("retention_days = '{v}' must be a number of days"))
        })?),
    };
    Ok(EsConfig {
        url: url.clone(),
        mode,
        namespace,
        auth,
        ca_file,
        tls_verify: s.flag("tls_verify", true)?,
        gzip,
        geoip_database,
        geoip_asn_database,
        retention_days,
        preserve_original_event: s.flag("preserve_original_event", false)?,
    })
}

/// One way to authenticate, or none.
fn auth(s: &Settings) -> Result<Option<EsAuth>, ConfigError> {
    let api_key = s.secret("api_key", "API key")?;
    let password = s.secret("password", "password")?;
    let bearer = s.secret("bearer_token", "bearer token")?;
    let auth = match (api_key, s.get("username"), password, bearer) {
        (Some(k), None, None, None) => Some(EsAuth::ApiKey(k)),
        (None, Some(u), Some(p), None) => Some(EsAuth::Basic {
            username: u.to_string(),
            password: p,
        }),
        (None, None, None, Some(t)) => Some(EsAuth::Bearer(t)),
        (None, None, None, None) => None,
        (None, Some(_), None, None) => {
            return Err(ConfigError::invalid(
                "username needs a password: add password_env = \"VARIABLE\" or password_file = \"PATH\"",
            ))
        }
        _ => {
            return Err(ConfigError::invalid(
                "give one way to authenticate: an API key, a username and password, or a bearer token",
            ))
        }
    };
    Ok(auth)
}

/// The data streams' namespace.
fn namespace(s: &Settings) -> Result<String, ConfigError> {
    let namespace = s.get("namespace").unwrap_or("default").to_string();
    if namespace.is_empty()
        || namespace.len() > 100
        || !namespace
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(ConfigError::invalid(format!(
            "namespace '{namespace}' must be lowercase letters, digits and '_' (it is part of the data stream name)"
        )));
    }
    Ok(namespace)
}

#[cfg(test)]
mod tests {
    use super::EsConfig;
    use crate::config::{from_table, from_url};

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
        let es = o
            .kind
            .settings::<EsConfig>()
            .expect("an Elasticsearch output");
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
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("geoip_asn_database /nonexistent/GeoLite2-ASN.mmdb does not exist"),
            "{e}"
        );
        let e = from_url("elasticsearch+https://es.example?geoip_database=/nonexistent/City.mmdb")
            .unwrap_err()
            .to_string();
        assert!(e.contains("such as GeoLite2-City.mmdb"), "{e}");
    }
}
