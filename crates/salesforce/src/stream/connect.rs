//! The channel to the Pub/Sub endpoint: HTTP/2 over rustls, or h2c to loopback.

use std::path::Path;
use std::time::Duration;

use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use url::Url;

use super::StreamError;

/// Salesforce's Pub/Sub endpoint: one for every org (the org is chosen by the metadata).
pub const DEFAULT_URL: &str = "https://api.pubsub.salesforce.com:7443";

/// Connects to the Pub/Sub API at `url` (`https://` with the system's roots plus `ca_file`
/// when given; `http://` only to loopback, spoken as HTTP/2 from the first byte).
pub async fn connect(url: &str, ca_file: Option<&Path>) -> Result<Channel, StreamError> {
    endpoint(url, ca_file)?
        .connect()
        .await
        .map_err(|e| StreamError::Connect {
            url: url.to_string(),
            reason: chain(&e),
        })
}

fn endpoint(url: &str, ca_file: Option<&Path>) -> Result<Endpoint, StreamError> {
    let bad = |reason: String| StreamError::Url {
        url: url.to_string(),
        reason,
    };
    let u = Url::parse(url).map_err(|e| bad(e.to_string()))?;
    base::http::check_http(&u, "Pub/Sub URL")?;
    let ep = Endpoint::from_shared(url.to_string())
        .map_err(|e| bad(e.to_string()))?
        .connect_timeout(Duration::from_secs(30))
        // A Subscribe stream may carry nothing for minutes (keepalives come within 270 s):
        // HTTP/2 pings find a connection a NAT or proxy dropped long before that.
        .http2_keep_alive_interval(Duration::from_secs(60))
        .keep_alive_timeout(Duration::from_secs(20))
        .keep_alive_while_idle(true);
    match u.scheme() {
        "https" => {
            let mut tls = ClientTlsConfig::new().with_native_roots();
            if let Some(path) = ca_file {
                let pem = std::fs::read(path).map_err(|source| StreamError::CaFile {
                    path: path.to_path_buf(),
                    source,
                })?;
                tls = tls.ca_certificate(Certificate::from_pem(pem));
            }
            ep.tls_config(tls).map_err(|e| bad(chain(&e)))
        }
        // tonic speaks h2c with prior knowledge on http://: no upgrade round trip.
        "http" => Ok(ep),
        other => Err(bad(format!("unsupported scheme {other}: use https://"))),
    }
}

/// An error and its sources: tonic's transport error alone says only "transport error".
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_loopback() {
        assert!(matches!(
            endpoint("http://api.pubsub.example.com:7443", None),
            Err(StreamError::PlainHttp(_))
        ));
        assert!(endpoint("http://127.0.0.1:7443", None).is_ok());
        assert!(endpoint("http://localhost:7443", None).is_ok());
        assert!(matches!(
            endpoint("ftp://localhost:7443", None),
            Err(StreamError::Url { .. })
        ));
    }
}
