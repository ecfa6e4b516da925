//! The lake output's settings: where the lake is (`s3://bucket/prefix?region=...&endpoint=...`
//! or `file:///path`), the credentials of an S3-compatible store, and how large a file may grow.

use std::path::PathBuf;

use url::Url;

pub use super::profile::Credentials;
use crate::output::BatchLimits;
use crate::settings::{ConfigError, Settings};

pub const KEYS: &[&str] = &[
    "region",
    "endpoint",
    "access_key_id_env",
    "access_key_id_file",
    "secret_access_key_env",
    "secret_access_key_file",
    "session_token_env",
    "session_token_file",
    "profile",
    "max_file_mb",
    "flush_minutes",
    "flush_seconds",
    "format",
];

/// One shipper batch is what one upload holds (see `sink`): large batches make few, large
/// files. The bytes are the archive's NDJSON, held in memory while a batch is encoded, so the
/// default keeps a batch near a few hundred MB of memory; Parquet of it is about a tenth.
/// One batch at a time: each upload settles before the next batch is read, so the position
/// never passes a file that is not stored.
pub const BATCH: BatchLimits = BatchLimits {
    max_events: 500_000,
    max_bytes: 64 * 1024 * 1024,
    in_flight: 1,
};

/// Where the lake is.
#[derive(Debug, Clone)]
pub enum Location {
    /// An S3-compatible bucket.
    S3(Box<S3Location>),
    /// A folder on this machine (`file:///path`): the same layout, for a local lake or tests.
    Local(PathBuf),
}

/// An S3 bucket, and how to reach and sign for it.
#[derive(Debug, Clone)]
pub struct S3Location {
    pub bucket: String,
    /// The key prefix under the bucket, without leading or trailing `/` (may be empty).
    pub prefix: String,
    pub region: Option<String>,
    /// A non-AWS endpoint (`https://minio:9000`); `None` for AWS itself.
    pub endpoint: Option<Url>,
    /// Given with `*_env`/`*_file` settings; otherwise the standard AWS variables are read.
    pub credentials: Option<Credentials>,
}

/// What the files hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// The archive's events, one column per field, in the `sfevents/v1/` layout.
    Raw,
    /// OCSF 1.1 documents in Security Lake's custom-source layout, whose partitions name the
    /// region.
    Ocsf { region: String },
}

#[derive(Debug, Clone)]
pub struct LakeConfig {
    pub location: Location,
    pub format: Format,
    /// A Parquet file is closed and another begun once it reaches this many bytes.
    pub max_file_bytes: u64,
    /// `flush_minutes`: `run` ships a backlog smaller than a full batch once it is this old,
    /// so a quiet org still lands data and a busy one makes few, large files.
    pub flush: std::time::Duration,
}

impl LakeConfig {
    /// The lake as the user wrote it, for messages (`s3://bucket/prefix`, `file:///path`).
    pub fn describe(&self) -> String {
        match &self.location {
            Location::S3(s) if s.prefix.is_empty() => format!("s3://{}", s.bucket),
            Location::S3(s) => format!("s3://{}/{}", s.bucket, s.prefix),
            Location::Local(p) => format!("file://{}", p.display()),
        }
    }
}

pub fn parse(url: &Url, s: &Settings) -> Result<LakeConfig, ConfigError> {
    let location = match url.scheme() {
        "s3" => Location::S3(Box::new(s3(url, s)?)),
        "file" => {
            let path = url.to_file_path().map_err(|_| {
                ConfigError::invalid(format!(
                    "{url} is not a local folder: write file:///absolute/path"
                ))
            })?;
            let keys = ["endpoint", "access_key_id_env", "access_key_id_file"];
            // A local OCSF lake still names a region in its partitions.
            let region = (s.get("format") != Some("ocsf")).then_some("region");
            for k in keys.into_iter().chain(region) {
                if s.get(k).is_some() {
                    return Err(ConfigError::invalid(format!(
                        "{k} is for an s3:// lake; a file:// lake is a local folder"
                    )));
                }
            }
            Location::Local(path)
        }
        other => {
            return Err(ConfigError::invalid(format!(
                "a lake is s3://bucket/prefix or file:///path, not {other}://"
            )))
        }
    };
    let mb = s.number("max_file_mb", 128, 1)?;
    let flush_secs = match s.get("flush_seconds") {
        // The finer form, for a lake that must land within a minute.
        Some(_) => s.number("flush_seconds", 900, 1)?,
        None => s.number("flush_minutes", 15, 1)? * 60,
    };
    let format = match s.choice("format", &["raw", "ocsf"])? {
        "ocsf" => Format::Ocsf {
            region: s
                .get("region")
                .map(str::to_string)
                .or_else(|| std::env::var("AWS_REGION").ok())
                .unwrap_or_else(|| "us-east-1".to_string()),
        },
        _ => Format::Raw,
    };
    Ok(LakeConfig {
        location,
        format,
        max_file_bytes: mb as u64 * 1024 * 1024,
        flush: std::time::Duration::from_secs(flush_secs as u64),
    })
}

fn s3(url: &Url, s: &Settings) -> Result<S3Location, ConfigError> {
    let bucket = url.host_str().unwrap_or_default().to_string();
    if bucket.is_empty() {
        return Err(ConfigError::invalid(
            "an s3:// lake names its bucket: s3://bucket/prefix",
        ));
    }
    let prefix = url.path().trim_matches('/').to_string();
    let endpoint = match s.get("endpoint") {
        Some(e) => Some(endpoint(e)?),
        None => None,
    };
    let mut region = s.get("region").map(str::to_string);
    let mut credentials = credentials(s)?;
    if let Some(name) = profile_name(s, credentials.is_some())? {
        let p = super::profile::load(&name)?;
        region = region.or(p.region);
        credentials = Some(p.credentials);
    }
    Ok(S3Location {
        bucket,
        prefix,
        region,
        endpoint,
        credentials,
    })
}

/// An endpoint URL: https anywhere, plain http only to this machine (a test or local store),
/// since S3 requests carry signed credentials.
fn endpoint(e: &str) -> Result<Url, ConfigError> {
    let u = Url::parse(e).map_err(|err| ConfigError::BadUrl {
        url: e.to_string(),
        reason: err.to_string(),
    })?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return Err(ConfigError::invalid(format!(
            "endpoint {e} is not an http(s) address: write endpoint=https://host:port"
        )));
    }
    base::http::check_http(&u, "S3 endpoint").map_err(|e| ConfigError::PlainHttp(e.to_string()))?;
    Ok(u)
}

/// The AWS profile to read: `profile`, else `AWS_PROFILE` when neither the settings nor the
/// environment give keys (the SDKs' order).
fn profile_name(s: &Settings, have_keys: bool) -> Result<Option<String>, ConfigError> {
    if let Some(p) = s.get("profile") {
        if have_keys {
            return Err(ConfigError::invalid(
                "give profile or access_key_id_env and secret_access_key_env, not both",
            ));
        }
        return Ok(Some(p.to_string()));
    }
    let env_keys = std::env::var_os("AWS_ACCESS_KEY_ID").is_some();
    Ok(std::env::var("AWS_PROFILE")
        .ok()
        .filter(|_| !have_keys && !env_keys))
}

fn credentials(s: &Settings) -> Result<Option<Credentials>, ConfigError> {
    let id = s.secret("access_key_id", "S3 access key id")?;
    let secret = s.secret("secret_access_key", "S3 secret access key")?;
    let token = s.secret("session_token", "S3 session token")?;
    match (id, secret) {
        (Some(access_key_id), Some(secret_access_key)) => Ok(Some(Credentials {
            access_key_id,
            secret_access_key,
            session_token: token,
        })),
        (None, None) if token.is_none() => Ok(None),
        _ => Err(ConfigError::invalid(
            "give both access_key_id_env (or _file) and secret_access_key_env (or _file), or neither to use the AWS_ environment variables",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::from_url;

    fn cfg(to: &str) -> LakeConfig {
        let o = from_url(to).unwrap();
        o.kind.settings::<LakeConfig>().unwrap().clone()
    }

    fn err(to: &str) -> String {
        from_url(to).unwrap_err().to_string()
    }

    #[test]
    fn s3_urls() {
        std::env::set_var("SFEVENTS_TEST_LAKE_ID", "AKID");
        std::env::set_var("SFEVENTS_TEST_LAKE_SECRET", "s3cr3t");
        let c = cfg("s3://logs/sf/prod?region=eu-west-1&endpoint=http://127.0.0.1:9000&access_key_id_env=SFEVENTS_TEST_LAKE_ID&secret_access_key_env=SFEVENTS_TEST_LAKE_SECRET&max_file_mb=8");
        let Location::S3(s) = &c.location else {
            panic!("{c:?}")
        };
        assert_eq!((s.bucket.as_str(), s.prefix.as_str()), ("logs", "sf/prod"));
        assert_eq!(s.region.as_deref(), Some("eu-west-1"));
        assert_eq!(
            s.endpoint.as_ref().unwrap().as_str(),
            "http://127.0.0.1:9000/"
        );
        let k = s.credentials.as_ref().unwrap();
        assert_eq!(k.access_key_id.expose(), "AKID");
        assert_eq!(c.max_file_bytes, 8 << 20);
        assert_eq!(c.describe(), "s3://logs/sf/prod");
        assert_eq!(cfg("s3://logs").max_file_bytes, 128 << 20);
    }

    #[test]
    fn refusals_name_the_fix() {
        std::env::set_var("SFEVENTS_TEST_LAKE_ID", "AKID");
        let e = err("s3://logs/x?endpoint=http://minio.example:9000");
        assert!(e.contains("plain http://"), "{e}");
        let e = err("s3://logs/x?access_key_id_env=SFEVENTS_TEST_LAKE_ID");
        assert!(e.contains("secret_access_key_env"), "{e}");
        let e =
            err("s3://logs/x?access_key_id_env=SFEVENTS_TEST_UNSET_VAR&secret_access_key_env=X");
        assert!(e.contains("SFEVENTS_TEST_UNSET_VAR"), "{e}");
        let e = err("file:///tmp/lake?region=us-east-1");
        assert!(e.contains("s3:// lake"), "{e}");
    }

    #[test]
    fn local_lakes() {
        let c = cfg("file:///var/lib/sfevents/lake");
        assert!(
            matches!(&c.location, Location::Local(p) if p == &PathBuf::from("/var/lib/sfevents/lake"))
        );
        let o = from_url("lake+file:///tmp/lake").unwrap();
        assert_eq!(o.kind.type_name(), "lake");
        assert_eq!(cfg("file:///tmp/lake").format, Format::Raw);
        let c = cfg("file:///tmp/lake?format=ocsf&region=eu-west-3");
        assert_eq!(
            c.format,
            Format::Ocsf {
                region: "eu-west-3".into()
            }
        );
    }
}
