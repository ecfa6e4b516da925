//! `doctor`'s check of a notifier, which must not notify anyone: the endpoint's host is
//! reached over TLS with the output's own trust settings and asked for nothing (a `HEAD` of
//! `/`); any HTTP answer shows that the name resolves, the port is open and the certificate is
//! trusted. Whether the webhook's secret path is right cannot be learned without posting a
//! message: `sfevents alerts test --output NAME` does that on purpose.

use super::endpoint::Endpoint;
use crate::probe::Findings;

pub const REACHABLE: &str = "reachable over TLS";

pub async fn reachable(e: &Endpoint, out: &mut dyn Findings) {
    let client = match e.target.client() {
        Ok(c) => c,
        Err(err) => return out.problem(REACHABLE, err.to_string()),
    };
    let mut root = e.target.url.clone();
    root.set_path("/");
    root.set_query(None);
    match client.head(root).send().await {
        Ok(r) => out.ok(
            REACHABLE,
            format!(
                "{} answers ({}); nothing was sent. `sfevents alerts test --output NAME` sends a test alert",
                e.shown,
                r.status()
            ),
        ),
        Err(err) => {
            let why = e.scrub(&base::error_chain(&err));
            let fix = if why.contains("certificate") {
                "give its CA with ca_file (or SSL_CERT_FILE)"
            } else {
                "check the url, the network and HTTPS_PROXY"
            };
            out.problem(
                REACHABLE,
                format!("cannot reach {}: {why}. Fix: {fix}", e.shown),
            )
        }
    }
}
