//! A named AWS profile (`profile = "name"`, or `AWS_PROFILE` when no `AWS_ACCESS_KEY_ID` is
//! set): its static keys from the shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`, else
//! `~/.aws/credentials`) or config file (`AWS_CONFIG_FILE`, else `~/.aws/config`), and its
//! region from either. `object_store` reads the environment and instance roles but no
//! profiles; this fills that gap for static keys.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::settings::ConfigError;
use base::secret::Secret;

/// Static S3 credentials: from the settings' environment variables or files, or a profile.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub access_key_id: Secret,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
}

/// What a profile gives.
#[derive(Debug)]
pub struct Profile {
    pub credentials: Credentials,
    pub region: Option<String>,
}

/// The profile `name` from the files the AWS CLI and SDKs read.
pub fn load(name: &str) -> Result<Profile, ConfigError> {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let path = |var: &str, default: &str| {
        std::env::var_os(var).map_or_else(|| home.join(".aws").join(default), PathBuf::from)
    };
    load_from(
        name,
        &path("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
        &path("AWS_CONFIG_FILE", "config"),
    )
}

/// The profile `name` from these two files (either may be missing).
pub fn load_from(name: &str, credentials: &Path, config: &Path) -> Result<Profile, ConfigError> {
    let creds = section(credentials, name);
    // The config file names profiles `[profile x]`, but the default one `[default]`.
    let config_name = if name == "default" {
        name.to_string()
    } else {
        format!("profile {name}")
    };
    let conf = section(config, &config_name);
    let get = |k: &str| creds.get(k).or_else(|| conf.get(k)).cloned();
    let (Some(id), Some(secret)) = (get("aws_access_key_id"), get("aws_secret_access_key")) else {
        return Err(ConfigError::invalid(format!(
            "AWS profile '{name}' has no aws_access_key_id and aws_secret_access_key in {} or {}: sfevents reads a profile's static keys; for SSO or an assumed role, export the keys (aws configure export-credentials --profile {name} --format env) or use access_key_id_env and secret_access_key_env",
            credentials.display(),
            config.display()
        )));
    };
    Ok(Profile {
        credentials: Credentials {
            access_key_id: Secret::new(id),
            secret_access_key: Secret::new(secret),
            session_token: get("aws_session_token").map(Secret::new),
        },
        region: get("region"),
    })
}

/// The `key = value` pairs of `[name]` in an INI file; empty when the file or section is not
/// there.
fn section(path: &Path, name: &str) -> HashMap<String, String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return HashMap::new();
    };
    let mut out = HashMap::new();
    let mut inside = false;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(h) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            inside = h.trim() == name;
            continue;
        }
        if let (true, Some((k, v))) = (inside, line.split_once('=')) {
            out.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_come_from_the_shared_files() {
        let d = tempfile::tempdir().unwrap();
        let (creds, conf) = (d.path().join("credentials"), d.path().join("config"));
        std::fs::write(
            &creds,
            "[default]\naws_access_key_id = AKDEF\naws_secret_access_key = def\n\n# archive\n[lake]\naws_access_key_id=AKLAKE\naws_secret_access_key = lake/secret\naws_session_token = tok\n",
        )
        .unwrap();
        std::fs::write(
            &conf,
            "[default]\nregion = us-east-2\n[profile lake]\nregion = eu-west-1\n[profile sso]\nsso_start_url = https://x\n",
        )
        .unwrap();
        let p = load_from("lake", &creds, &conf).unwrap();
        assert_eq!(p.credentials.access_key_id.expose(), "AKLAKE");
        assert_eq!(p.credentials.secret_access_key.expose(), "lake/secret");
        assert_eq!(p.credentials.session_token.unwrap().expose(), "tok");
        assert_eq!(p.region.as_deref(), Some("eu-west-1"));
        let p = load_from("default", &creds, &conf).unwrap();
        assert_eq!(p.region.as_deref(), Some("us-east-2"));
        let e = load_from("sso", &creds, &conf).unwrap_err().to_string();
        assert!(e.contains("export-credentials --profile sso"), "{e}");
        assert!(load_from("nope", &d.path().join("x"), &d.path().join("y")).is_err());
    }
}
