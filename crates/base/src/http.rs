//! The one rule for plain `http://` URLs, shared by the org's URLs and every output's.

use url::Url;

/// True for localhost and loopback addresses.
pub fn is_loopback(u: &Url) -> bool {
    match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A plain `http://` URL to somewhere other than this machine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {url} uses plain http://, which would send credentials and tokens unencrypted: use https:// (http:// is only allowed to localhost)")]
pub struct PlainHttp {
    /// What the URL is for ("login URL", "output URL").
    pub what: String,
    pub url: Url,
}

/// Refuses plain http:// except to loopback: tokens would cross the network in clear.
pub fn check_http(u: &Url, what: &str) -> Result<(), PlainHttp> {
    if u.scheme() == "http" && !is_loopback(u) {
        return Err(PlainHttp {
            what: what.to_string(),
            url: u.clone(),
        });
    }
    Ok(())
}
