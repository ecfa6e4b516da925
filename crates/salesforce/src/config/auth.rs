//! The login flow of an org: `[org.auth]` and the auth flags, resolved into an [`Auth`], with
//! secrets read from files or environment variables only.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;

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

/// Why an org's login flow cannot be set up. Each message names the flag or setting to fix.
#[derive(Debug, Error)]
pub enum AuthConfigError {
    #[error("secrets are not written into the config: replace {0} with {0}_file = \"PATH\" or {0}_env = \"VARIABLE\"")]
    InlineSecret(&'static str),
    #[error("the {what} is to come from environment variable {name}, which is not set")]
    EnvNotSet { what: &'static str, name: String },
    /// A secret file that cannot be read or is empty (`base::secret`'s message).
    #[error("{0}")]
    SecretFile(String),
    #[error("no authentication configured: give --client-id, --username and --jwt-key-file (JWT bearer), or --org-alias to reuse an sf CLI login, or set [org.auth] method in the config")]
    NoMethod,
    #[error("{method} auth needs {flag}")]
    Needs {
        method: &'static str,
        flag: &'static str,
    },
    #[error("jwt auth needs --jwt-key-file (the PEM private key whose certificate is uploaded to the connected app)")]
    NoJwtKey,
    #[error("the JWT key file {} is not a PEM private key: give the RSA key (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----) whose certificate is uploaded to the connected app", .0.display())]
    NotPem(PathBuf),
    #[error("the JWT key file {} is encrypted: decrypt it first (openssl pkey -in KEY -out server.key)", .0.display())]
    Encrypted(PathBuf),
    #[error("{method} auth needs the {what}: set {env} or {flag}")]
    NoSecret {
        method: &'static str,
        what: &'static str,
        env: &'static str,
        flag: &'static str,
    },
    #[error("sf-cli auth needs --org-alias ALIAS (or alias in the config)")]
    NoAlias,
    #[error("auth method '{0}' is not known: use jwt, password, client-credentials, refresh-token or sf-cli")]
    UnknownMethod(String),
}

type Result<T> = std::result::Result<T, AuthConfigError>;

fn secret_file(path: &Path, what: &str) -> Result<Secret> {
    read_secret_file(path, what).map_err(|e| AuthConfigError::SecretFile(e.to_string()))
}

/// Where one secret may come from.
struct SecretSource<'a> {
    /// A file named in the config or the flags.
    file: Option<PathBuf>,
    /// An environment variable named in the config.
    env_name: Option<&'a str>,
    /// The variable read when neither is named.
    default_env: &'static str,
    what: &'static str,
}

impl SecretSource<'_> {
    /// The secret from, in order: the file, the named variable, or the default variable.
    fn read(self) -> Result<Option<Secret>> {
        if let Some(f) = self.file {
            return secret_file(&f, self.what).map(Some);
        }
        if let Some(name) = self.env_name {
            return match std::env::var(name) {
                Ok(v) if !v.is_empty() => Ok(Some(Secret::new(v))),
                _ => Err(AuthConfigError::EnvNotSet {
                    what: self.what,
                    name: name.to_string(),
                }),
            };
        }
        Ok(std::env::var(self.default_env)
            .ok()
            .filter(|v| !v.is_empty())
            .map(Secret::new))
    }

    /// The secret, which `method` cannot do without.
    fn require(
        self,
        method: &'static str,
        what: &'static str,
        flag: &'static str,
    ) -> Result<Secret> {
        let env = self.default_env;
        self.read()?.ok_or(AuthConfigError::NoSecret {
            method,
            what,
            env,
            flag,
        })
    }
}

/// What the file and the flags say, once they are merged: the flags win.
struct Given<'a> {
    file: AuthFile,
    ov: &'a Overrides,
    base: Option<&'a Path>,
    client_id: Option<String>,
    username: Option<String>,
    key_file: Option<PathBuf>,
}

impl Given<'_> {
    /// A setting the method cannot do without, named by its flag.
    fn need(v: Option<String>, method: &'static str, flag: &'static str) -> Result<String> {
        v.filter(|s| !s.is_empty())
            .ok_or(AuthConfigError::Needs { method, flag })
    }

    /// The flag's file, else the config's (relative to the config file's folder).
    fn path(&self, flag: &Option<PathBuf>, config: &Option<PathBuf>) -> Option<PathBuf> {
        flag.clone()
            .or_else(|| config.clone().map(|p| rel(self.base, p)))
    }

    fn client_secret(&self) -> SecretSource<'_> {
        SecretSource {
            file: self.path(&self.ov.client_secret_file, &self.file.client_secret_file),
            env_name: self.file.client_secret_env.as_deref(),
            default_env: "SFEVENTS_CLIENT_SECRET",
            what: "client secret",
        }
    }

    fn jwt(self) -> Result<Auth> {
        let client_id = Self::need(
            self.client_id,
            "jwt",
            "--client-id (the connected app's consumer key)",
        )?;
        let username = Self::need(self.username, "jwt", "--username (the user to act as)")?;
        let key_file = self.key_file.ok_or(AuthConfigError::NoJwtKey)?;
        let key_pem = secret_file(&key_file, "JWT private key")?;
        let pem = key_pem.expose();
        if !pem.contains("-----BEGIN") || !pem.contains("PRIVATE KEY") {
            return Err(AuthConfigError::NotPem(key_file));
        }
        if pem.contains("ENCRYPTED") {
            return Err(AuthConfigError::Encrypted(key_file));
        }
        Ok(Auth::Jwt {
            client_id,
            username,
            key_pem,
            key_file,
        })
    }

    fn password(self) -> Result<Auth> {
        let m = "password";
        let client_id = Self::need(self.client_id.clone(), m, "--client-id")?;
        let username = Self::need(self.username.clone(), m, "--username")?;
        let client_secret =
            self.client_secret()
                .require(m, "consumer secret", "--client-secret-file")?;
        let password = SecretSource {
            file: self.path(&self.ov.password_file, &self.file.password_file),
            env_name: self.file.password_env.as_deref(),
            default_env: "SFEVENTS_PASSWORD",
            what: "password",
        }
        .require(m, "password", "--password-file")?;
        let security_token = SecretSource {
            file: self.path(&None, &self.file.security_token_file),
            env_name: self.file.security_token_env.as_deref(),
            default_env: "SFEVENTS_SECURITY_TOKEN",
            what: "security token",
        }
        .read()?
        .unwrap_or_default();
        Ok(Auth::Password {
            client_id,
            client_secret,
            username,
            password,
            security_token,
        })
    }

    fn client_credentials(self) -> Result<Auth> {
        let m = "client-credentials";
        let client_id = Self::need(self.client_id.clone(), m, "--client-id")?;
        let client_secret =
            self.client_secret()
                .require(m, "consumer secret", "--client-secret-file")?;
        Ok(Auth::ClientCredentials {
            client_id,
            client_secret,
        })
    }

    fn refresh_token(self) -> Result<Auth> {
        let m = "refresh-token";
        let client_id = Self::need(self.client_id.clone(), m, "--client-id")?;
        let client_secret = self.client_secret().read()?;
        let refresh_token = SecretSource {
            file: self.path(&self.ov.refresh_token_file, &self.file.refresh_token_file),
            env_name: self.file.refresh_token_env.as_deref(),
            default_env: "SFEVENTS_REFRESH_TOKEN",
            what: "refresh token",
        }
        .require(m, "token", "--refresh-token-file")?;
        Ok(Auth::RefreshToken {
            client_id,
            client_secret,
            refresh_token,
        })
    }
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
) -> Result<(Auth, Option<String>)> {
    for (field, v) in [
        ("client_secret", &a.client_secret),
        ("password", &a.password),
        ("security_token", &a.security_token),
        ("refresh_token", &a.refresh_token),
    ] {
        if v.is_some() {
            return Err(AuthConfigError::InlineSecret(field));
        }
    }
    let explicit = ov
        .auth
        .clone()
        .or(a.method.clone())
        .map(|m| m.replace('_', "-").to_ascii_lowercase());
    let alias = ov.org_alias.clone().or(a.alias.clone());
    let given = Given {
        client_id: ov.client_id.clone().or(a.client_id.clone()),
        username: ov.username.clone().or(a.username.clone()),
        key_file: ov
            .jwt_key_file
            .clone()
            .or(a.key_file.clone().map(|p| rel(base, p))),
        file: a,
        ov,
        base,
    };
    let jwt_complete =
        given.client_id.is_some() && given.username.is_some() && given.key_file.is_some();
    let mut note = None;
    if let Some(alias) = alias {
        match explicit.as_deref() {
            Some("sf-cli") => return Ok((Auth::SfCli { alias }, None)),
            None if !jwt_complete => return Ok((Auth::SfCli { alias }, None)),
            _ => {
                note = Some(format!(
                    "logging in with {} as {}; org alias '{alias}' is only a label (add --auth sf-cli to use the sf CLI's login instead)",
                    explicit.as_deref().unwrap_or("JWT bearer"),
                    given.username.as_deref().unwrap_or("the connected app"),
                ));
            }
        }
    }
    let method = match explicit {
        Some(m) => m,
        None if given.key_file.is_some() => "jwt".into(),
        None => return Err(AuthConfigError::NoMethod),
    };
    let auth = match method.as_str() {
        "jwt" => given.jwt(),
        "password" => given.password(),
        "client-credentials" => given.client_credentials(),
        "refresh-token" => given.refresh_token(),
        "sf-cli" => Err(AuthConfigError::NoAlias),
        _ => Err(AuthConfigError::UnknownMethod(method)),
    }?;
    Ok((auth, note))
}
