//! URLs in the configuration: parsing, the JWT audience a login URL implies, and the rule
//! that plain `http://` goes only to loopback.

use base::http::{check_http, is_loopback};
use thiserror::Error;
use url::Url;

use super::{ConfigError, OrgConfig, OrgError, DEFAULT_LOGIN_URL};

/// A URL setting that is not an http(s) URL with a host; `what` names the setting.
#[derive(Debug, Error)]
pub enum UrlError {
    #[error(
        "{what} '{given}' is not a URL ({error}): write it like https://acme.my.salesforce.com"
    )]
    NotUrl {
        what: &'static str,
        given: String,
        error: url::ParseError,
    },
    #[error("{what} '{given}' must start with https://")]
    Scheme { what: &'static str, given: String },
    #[error("{what} '{given}' has no host")]
    NoHost { what: &'static str, given: String },
}

pub(super) fn default_audience(login: &Url, instance: Option<&Url>) -> String {
    let sandbox = |u: &Url| {
        u.host_str()
            .is_some_and(|h| h == "test.salesforce.com" || h.contains(".sandbox."))
    };
    if sandbox(login) || instance.is_some_and(sandbox) {
        "https://test.salesforce.com".into()
    } else if is_loopback(login) {
        // A local simulator is its own audience.
        login.as_str().trim_end_matches('/').to_string()
    } else {
        DEFAULT_LOGIN_URL.into()
    }
}

pub(super) fn parse_url(s: &str, what: &'static str) -> Result<Url, UrlError> {
    let given = || s.to_string();
    let u = Url::parse(s.trim()).map_err(|error| UrlError::NotUrl {
        what,
        given: given(),
        error,
    })?;
    if u.scheme() != "https" && u.scheme() != "http" {
        return Err(UrlError::Scheme {
            what,
            given: given(),
        });
    }
    if u.host_str().is_none() {
        return Err(UrlError::NoHost {
            what,
            given: given(),
        });
    }
    Ok(u)
}

/// Plain `http://` only to loopback, for the login and the instance URL alike.
pub(super) fn check_transport(cfg: &OrgConfig) -> Result<(), ConfigError> {
    let ctx = |e: String| ConfigError::Org {
        org: cfg.name.clone(),
        error: OrgError::PlainHttp(e),
    };
    check_http(&cfg.login_url, "login URL").map_err(|e| ctx(e.to_string()))?;
    if let Some(u) = &cfg.instance_url {
        check_http(u, "instance URL").map_err(|e| ctx(e.to_string()))?;
    }
    check_http(&cfg.pubsub_url, "pubsub_url").map_err(|e| ctx(e.to_string()))?;
    Ok(())
}
