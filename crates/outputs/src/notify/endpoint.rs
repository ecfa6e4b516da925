//! Where a notifier posts, when the address itself is the secret (a Slack or Teams webhook
//! URL carries its credential): `url_env` or `url_file` give the whole URL, and the URL written
//! after `slack+` / `teams+` then only names the destination. The full URL never reaches a
//! log, `status` or an error: errors name the host only.

use base::secret::Secret;
use url::Url;

use crate::http_client::Target;
use crate::settings::{ConfigError, Settings};

/// The settings [`Endpoint::parse`] reads.
pub const KEYS: &[&str] = &["url_env", "url_file", "ca_file", "tls_verify"];

#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The URL to post to, with its secret parts.
    pub target: Target,
    /// The whole URL, to scrub from error texts.
    pub secret: Secret,
    /// `https://host`: what messages name.
    pub shown: String,
}

impl Endpoint {
    /// The URL from `url_env`/`url_file` when given (it must be on the written URL's host),
    /// else the written URL. `what` names the output in errors.
    pub fn parse(written: &Url, s: &Settings, what: &str) -> Result<Endpoint, ConfigError> {
        let url = match s.secret("url", &format!("{what} webhook URL"))? {
            Some(secret) => {
                let u = Url::parse(secret.expose().trim()).map_err(|e| {
                    ConfigError::invalid(format!(
                        "the {what} webhook URL from url_env/url_file is not a URL ({e}): give the whole URL the service showed"
                    ))
                })?;
                if u.host_str() != written.host_str() {
                    return Err(ConfigError::invalid(format!(
                        "the {what} webhook URL from url_env/url_file is on {}, not on {} as the output's url says: write the same host",
                        u.host_str().unwrap_or("?"),
                        written.host_str().unwrap_or("?")
                    )));
                }
                u
            }
            None => written.clone(),
        };
        let target = Target::parse(&url, s)?;
        Ok(Endpoint {
            shown: format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default()),
            secret: Secret::new(url.as_str()),
            target,
        })
    }

    /// `text` without the URL (nor its path, which holds the credential).
    pub fn scrub(&self, text: &str) -> String {
        let path = Secret::new(self.target.url.path());
        base::secret::scrub(text, &[&self.secret, &path])
    }
}
