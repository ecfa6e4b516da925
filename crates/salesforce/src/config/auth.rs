//! The login flow of an org: `[org.auth]` and the auth flags, resolved into an [`Auth`], with
//! secrets read from files or environment variables only.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{rel, Overrides};
use base::secret::{read_secret_file, Secret};

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
pub(super) fn resolve_auth(
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
