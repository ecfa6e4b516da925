//! What `sfevents doctor` asks of an output ([`crate::output::Output::probe`]): checks that it is there
//! and would accept a write, without writing an event, each reported as one finding. What the
//! HTTP outputs share is here: "accepting a write" is the request the output would send, with
//! its URL, TLS settings and credentials, but nothing in it.

use reqwest::header::{HeaderMap, HeaderValue, LOCATION};

use crate::http_client::{self, Answer, Target};
use base::secret::{scrub, Secret};

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    Warning,
    Problem,
}

/// Where an output's checks go (doctor prints each at once, with the output's name).
pub trait Findings: Send {
    /// One check: what was checked, and what was found (with the fix, when not ok).
    fn add(&mut self, level: Level, what: &str, detail: &str);
}

impl dyn Findings + '_ {
    pub fn ok(&mut self, what: &str, detail: impl AsRef<str>) {
        self.add(Level::Ok, what, detail.as_ref());
    }
    pub fn warn(&mut self, what: &str, detail: impl AsRef<str>) {
        self.add(Level::Warning, what, detail.as_ref());
    }
    pub fn problem(&mut self, what: &str, detail: impl AsRef<str>) {
        self.add(Level::Problem, what, detail.as_ref());
    }
}

/// The check of the HTTP outputs.
pub const WRITE: &str = "accepts a write";

/// A header value marked sensitive (never printed by reqwest's Debug).
pub fn sensitive(v: &str) -> Option<HeaderValue> {
    let mut h = HeaderValue::from_str(v).ok()?;
    h.set_sensitive(true);
    Some(h)
}

/// An empty batch for an HTTP output: its headers, the body (empty, or an empty gzip stream),
/// the secrets to keep out of messages, and the fix for a refused credential.
pub struct EmptyBatch<'a> {
    pub target: &'a Target,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub secrets: &'a [&'a Secret],
    pub fix: &'a str,
}

impl EmptyBatch<'_> {
    /// POSTs the empty batch and says what the answer means.
    pub async fn send(self, out: &mut dyn Findings) {
        let client = match self.target.client() {
            Ok(c) => c,
            Err(e) => return out.problem(WRITE, e.to_string()),
        };
        let clean = |t: &str| scrub(t, self.secrets);
        let url = &self.target.url;
        let a = match http_client::post(&client, url, self.headers, self.body, clean).await {
            Ok(a) => a,
            Err(e) => return transport(out, &e.to_string()),
        };
        let status = a.status;
        let said = clean(&format!("{status}: {}", http_client::excerpt(&a.body)));
        let fix = self.fix;
        match status.as_u16() {
            200..=299 => out.ok(
                WRITE,
                format!("{url} accepts a write (an empty batch, nothing stored)"),
            ),
            401 | 403 => out.problem(
                WRITE,
                format!("{url} refused the credential ({said}). Fix: {fix}"),
            ),
            404 => out.problem(
                WRITE,
                format!("{url} has nothing at this path ({said}). Fix: give the full URL of the collector (the path included) as the service shows it"),
            ),
            400 | 422 => out.ok(
                WRITE,
                format!("{url} is reachable and took the credential, but refuses an empty batch ({said}); events should pass"),
            ),
            300..=399 => redirect(out, &a),
            _ => out.problem(
                WRITE,
                format!("{url} answered {said}. Fix: the receiver is failing or refusing; read its logs"),
            ),
        }
    }
}

/// The destination could not be reached.
pub fn transport(out: &mut dyn Findings, e: &str) {
    out.problem(
        WRITE,
        format!(
            "{e}. Fix: check the url, that the service is up, the firewall, and for TLS ca_file"
        ),
    );
}

/// The URL redirects elsewhere.
pub fn redirect(out: &mut dyn Findings, a: &Answer) {
    let to = a
        .headers
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("?");
    out.problem(
        WRITE,
        format!(
            "the url redirects ({}) to {to}. Fix: set url to the address it redirects to",
            a.status
        ),
    );
}
