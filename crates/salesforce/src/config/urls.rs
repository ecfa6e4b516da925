//! URLs in the configuration: parsing, the JWT audience a login URL implies, and the rule
//! that plain `http://` goes only to loopback.

use base::http::{check_http, is_loopback};
use url::Url;

use super::{invalid, ConfigError, OrgConfig, DEFAULT_LOGIN_URL};

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

pub(super) fn parse_url(s: &str, what: &str) -> Result<Url, String> {
    let u = Url::parse(s.trim()).map_err(|e| {
        format!("{what} '{s}' is not a URL ({e}): write it like https://acme.my.salesforce.com")
    })?;
    if u.scheme() != "https" && u.scheme() != "http" {
        return Err(format!("{what} '{s}' must start with https://"));
    }
    if u.host_str().is_none() {
        return Err(format!("{what} '{s}' has no host"));
    }
    Ok(u)
}

pub(super) fn check_transport(cfg: &OrgConfig) -> Result<(), ConfigError> {
    let ctx = |m: String| invalid(format!("org '{}': {m}", cfg.name));
    check_http(&cfg.login_url, "login URL").map_err(ctx)?;
    if let Some(u) = &cfg.instance_url {
        check_http(u, "instance URL").map_err(ctx)?;
    }
    Ok(())
}
