//! Authentication: one token per org, shared by all work and renewed when Salesforce says the
//! session is gone (401 INVALID_SESSION_ID).

pub mod jwt;
pub mod sf_cli;

use std::sync::Arc;

use serde::Deserialize;
use thiserror::Error;
use tokio::sync::{Mutex, RwLock};
use url::Url;

use crate::config::{Auth, OrgConfig};
use base::http::check_http;
use base::secret::Secret;

#[derive(Debug, Error)]
pub enum AuthError {
    /// Salesforce (or the sf CLI) refused the credentials: a configuration problem.
    #[error("{0}")]
    Rejected(String),
    /// The token endpoint could not be reached.
    #[error("{0}")]
    Network(String),
    /// An answer that makes no sense.
    #[error("{0}")]
    Protocol(String),
}

/// An access token and where to use it.
#[derive(Debug, Clone)]
pub struct Session {
    pub access_token: Secret,
    pub instance_url: Url,
    /// The identity URL `.../id/<orgId>/<userId>`.
    pub identity: Option<String>,
}

impl Session {
    /// The 18-character org id from the identity URL.
    pub fn org_id(&self) -> Option<String> {
        let id = self.identity.as_deref()?;
        let mut parts = id.trim_end_matches('/').rsplit('/');
        let _user = parts.next()?;
        parts.next().map(str::to_string)
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    instance_url: Option<String>,
    id: Option<String>,
}

#[derive(Deserialize)]
struct OAuthError {
    error: String,
    #[serde(default)]
    error_description: String,
}

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Holds the org's session; logs in when there is none and again when it is found stale.
pub struct TokenManager {
    cfg: OrgConfig,
    /// The client of [`crate::client::build_http_client`], the one the org's [`SfClient`] holds
    /// (every caller builds one and gives both a clone), so token requests leave with the
    /// same TLS roots, `--ca-file` and `HTTPS_PROXY` as the API requests.
    ///
    /// They do not go through [`SfClient::send`], and that is deliberate: `send` needs the
    /// session this request is to obtain, answers a 401 by logging in again (here that would
    /// loop), retries cut connections and 5xx answers, which a login reports at once, and
    /// counts API calls, which a token request is not.
    ///
    /// [`SfClient`]: crate::client::SfClient
    /// [`SfClient::send`]: crate::client::SfClient::send
    http: reqwest::Client,
    current: RwLock<Option<Arc<Session>>>,
    login: Mutex<()>,
    logins: std::sync::atomic::AtomicU64,
}

impl TokenManager {
    pub fn new(cfg: OrgConfig, http: reqwest::Client) -> Self {
        TokenManager {
            cfg,
            http,
            current: RwLock::new(None),
            login: Mutex::new(()),
            logins: Default::default(),
        }
    }

    /// How many times a token was obtained.
    pub fn logins(&self) -> u64 {
        self.logins.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The current session, logging in first if there is none.
    pub async fn session(&self) -> Result<Arc<Session>, AuthError> {
        if let Some(s) = self.current.read().await.clone() {
            return Ok(s);
        }
        self.renew(None).await
    }

    /// Replaces `stale` with a new session. Concurrent callers holding the same stale session
    /// share one login.
    pub async fn renew(&self, stale: Option<&Arc<Session>>) -> Result<Arc<Session>, AuthError> {
        let _guard = self.login.lock().await;
        if let Some(cur) = self.current.read().await.clone() {
            if stale.is_none_or(|s| !Arc::ptr_eq(s, &cur)) {
                return Ok(cur);
            }
        }
        let s = Arc::new(self.login().await?);
        self.logins
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        *self.current.write().await = Some(s.clone());
        Ok(s)
    }

    async fn login(&self) -> Result<Session, AuthError> {
        let cfg = &self.cfg;
        let form: Vec<(&str, String)> = match &cfg.auth {
            Auth::SfCli { alias } => return sf_cli::session(alias).await,
            Auth::Jwt {
                client_id,
                username,
                key_pem,
                ..
            } => {
                let assertion = jwt::assertion(client_id, username, &cfg.audience, key_pem)
                    .map_err(|e| AuthError::Rejected(e.to_string()))?;
                vec![("grant_type", JWT_BEARER.into()), ("assertion", assertion)]
            }
            Auth::Password {
                client_id,
                client_secret,
                username,
                password,
                security_token,
            } => vec![
                ("grant_type", "password".into()),
                ("client_id", client_id.clone()),
                ("client_secret", client_secret.expose().into()),
                ("username", username.clone()),
                (
                    "password",
                    format!("{}{}", password.expose(), security_token.expose()),
                ),
            ],
            Auth::ClientCredentials {
                client_id,
                client_secret,
            } => vec![
                ("grant_type", "client_credentials".into()),
                ("client_id", client_id.clone()),
                ("client_secret", client_secret.expose().into()),
            ],
            Auth::RefreshToken {
                client_id,
                client_secret,
                refresh_token,
            } => {
                let mut f = vec![
                    ("grant_type", "refresh_token".into()),
                    ("client_id", client_id.clone()),
                    ("refresh_token", refresh_token.expose().into()),
                ];
                if let Some(s) = client_secret {
                    f.push(("client_secret", s.expose().into()));
                }
                f
            }
        };
        let token = self.request_token(&form).await?;
        self.session_from(token)
    }

    /// Posts the form to the login URL's token endpoint and reads the token from the answer.
    async fn request_token(&self, form: &[(&str, String)]) -> Result<TokenAnswer, AuthError> {
        let cfg = &self.cfg;
        let token_url = cfg
            .login_url
            .join("/services/oauth2/token")
            .map_err(|e| AuthError::Protocol(e.to_string()))?;
        let resp = self
            .http
            .post(token_url.clone())
            .form(form)
            .send()
            .await
            .map_err(|e| {
                AuthError::Network(format!(
                    "cannot reach {}: {}. Check the login URL (--login-url / --instance-url), DNS, HTTPS_PROXY and --ca-file",
                    cfg.login_url,
                    base::error_chain(&e)
                ))
            })?;
        let status = resp.status();
        let body = resp
            .text()
            .await
            .map_err(|e| AuthError::Network(format!("token answer from {token_url}: {e}")))?;
        if !status.is_success() {
            return Err(match serde_json::from_str::<OAuthError>(&body) {
                Ok(e) => AuthError::Rejected(explain(&e.error, &e.error_description, cfg)),
                Err(_) => AuthError::Protocol(format!(
                    "{token_url} answered HTTP {status} with no OAuth error: is {} a Salesforce login URL?",
                    cfg.login_url
                )),
            });
        }
        serde_json::from_str(&body).map_err(|_| {
            AuthError::Protocol(format!(
                "{token_url} answered HTTP {status} but not with a token: is {} a Salesforce login URL?",
                cfg.login_url
            ))
        })
    }

    fn session_from(&self, t: TokenAnswer) -> Result<Session, AuthError> {
        let cfg = &self.cfg;
        // Salesforce's answer names the org's own host; it wins over the configured one.
        let instance = match (&t.instance_url, &cfg.instance_url) {
            (Some(u), _) => Url::parse(u)
                .map_err(|e| AuthError::Protocol(format!("instance_url '{u}': {e}")))?,
            (None, Some(u)) => u.clone(),
            (None, None) => cfg.login_url.clone(),
        };
        check_http(&instance, "the instance URL Salesforce returned")
            .map_err(|e| AuthError::Rejected(e.to_string()))?;
        Ok(Session {
            access_token: Secret::new(t.access_token),
            instance_url: instance,
            identity: t.id,
        })
    }
}

/// Turns an OAuth error into a sentence that says what to fix.
fn explain(error: &str, description: &str, cfg: &OrgConfig) -> String {
    let d = description.to_ascii_lowercase();
    let fix = if d.contains("hasn't approved") || d.contains("has not approved") {
        "the user is not pre-authorized for the connected app: in Setup > App Manager > the app > Manage > Edit Policies, set 'Admin approved users are pre-authorized' and add the user's profile or a permission set".to_string()
    } else if d.contains("invalid assertion") {
        "the signature does not match the certificate uploaded to the connected app: upload the certificate made from this private key, or point --jwt-key-file at the right key".to_string()
    } else if d.contains("audience") {
        format!(
            "the JWT audience '{}' is wrong: use https://login.salesforce.com for production, https://test.salesforce.com for sandboxes (set --audience or --login-url)",
            cfg.audience
        )
    } else if d.contains("expired authorization code") {
        "the assertion was already expired: check this machine's clock (NTP)".to_string()
    } else if error == "invalid_client_id" || d.contains("client identifier invalid") {
        "this org does not know the client id: copy the Consumer Key of the connected app into --client-id (and check you log in to the right org or sandbox)".to_string()
    } else if error == "invalid_client" {
        "the consumer secret is wrong: copy the Consumer Secret of the connected app".to_string()
    } else if d.contains("authentication failure") {
        "wrong username, password or security token, or the org blocks the username-password flow (orgs created since Summer '23 do by default): prefer JWT bearer".to_string()
    } else if d.contains("expired access/refresh token") {
        "the refresh token was revoked or has expired: authorize again to get a new one".to_string()
    } else if error == "unsupported_grant_type" {
        "the connected app does not allow this flow: enable it in the app's OAuth policies"
            .to_string()
    } else if d.contains("not supported on this domain") {
        "client credentials must be sent to the org's My Domain: set --login-url https://<domain>.my.salesforce.com".to_string()
    } else {
        "check the connected app and the user's permissions".to_string()
    };
    format!(
        "Salesforce refused the {} login at {}: {error}: {description}. Fix: {fix}",
        cfg.auth.method(),
        cfg.login_url
    )
}
