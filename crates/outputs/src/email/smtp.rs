//! Talking to the SMTP server: the transport (lettre over tokio and rustls with aws-lc-rs, the
//! provider the rest of the workspace uses, so rustls never sees two), what a refusal means
//! for the alert and for the output, and `doctor`'s step-by-step check.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::{AsyncSmtpTransport, PoolConfig};
use lettre::Tokio1Executor;

use super::config::{EmailConfig, Security};
use crate::probe::Findings;
use crate::sink::{SinkError, Verdict};

pub type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// Connect, TLS handshake and each command: a server that says nothing for this long is down.
const TIMEOUT: Duration = Duration::from_secs(30);
/// The mechanisms offered to the server, in order (it picks from its EHLO).
const MECHANISMS: &[Mechanism] = &[Mechanism::Plain, Mechanism::Login];

/// TLS as the settings say: the system's roots (rustls-native-certs, which reads
/// `SSL_CERT_FILE` too) plus `ca_file`; `tls_verify = false` takes any certificate.
pub fn tls_parameters(c: &EmailConfig) -> Result<TlsParameters, SinkError> {
    let mut b = TlsParameters::builder(c.host.trim_matches(['[', ']']).to_string());
    if let Some(path) = &c.ca_file {
        let pem = std::fs::read(path).map_err(|e| {
            SinkError::Fatal(format!("cannot read ca_file {}: {e}", path.display()))
        })?;
        let cert = Certificate::from_pem(&pem).map_err(|e| {
            SinkError::Fatal(format!(
                "ca_file {} holds no PEM certificate: {e}",
                path.display()
            ))
        })?;
        b = b.add_root_certificate(cert);
    }
    if !c.tls_verify {
        static WARNED: AtomicBool = AtomicBool::new(false);
        if !WARNED.swap(true, Ordering::Relaxed) {
            tracing::warn!("tls_verify = false: the email output accepts any certificate, so anyone on the path can read the alerts and the password");
        }
        b = b.dangerous_accept_invalid_certs(true);
    }
    b.build()
        .map_err(|e| SinkError::Fatal(format!("cannot set up TLS for {}: {e}", c.shown())))
}

fn tls(c: &EmailConfig) -> Result<Tls, SinkError> {
    Ok(match c.security {
        Security::Plain => Tls::None,
        Security::Implicit => Tls::Wrapper(tls_parameters(c)?),
        Security::StartTls => Tls::Required(tls_parameters(c)?),
        Security::Opportunistic => Tls::Opportunistic(tls_parameters(c)?),
    })
}

fn credentials(c: &EmailConfig) -> Option<Credentials> {
    match (&c.username, &c.password) {
        (Some(u), Some(p)) => Some(Credentials::new(u.clone(), p.expose().to_string())),
        _ => None,
    }
}

/// The transport, with a small pool so the mails of one batch share one connection. It must
/// be built inside the tokio runtime: the pool starts its cleaning task there.
pub fn transport(c: &EmailConfig) -> Result<Transport, SinkError> {
    let mut b = Transport::builder_dangerous(c.host.trim_matches(['[', ']']))
        .port(c.port)
        .tls(tls(c)?)
        .timeout(Some(TIMEOUT))
        .authentication(MECHANISMS.to_vec())
        .pool_config(
            PoolConfig::new()
                .max_size(2)
                .idle_timeout(Duration::from_secs(30)),
        );
    if let Some(creds) = credentials(c) {
        b = b.credentials(creds);
    }
    Ok(b.build())
}

/// What the server's refusal means.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// This mail is refused for good (a 5xx for a recipient or the message): dead-letter it.
    Dead(String),
    /// Every mail would be (credentials, TLS, a server without STARTTLS): the user must act.
    Fatal(String),
    /// Try again later (4xx, connection refused or cut, a timeout).
    Transient(String),
}

impl Refusal {
    /// The verdict on the alerts of the mail, or the error of the whole batch.
    pub fn into_verdict(self) -> Result<Verdict, SinkError> {
        match self {
            Refusal::Dead(m) => Ok(Verdict::Dead(m)),
            Refusal::Fatal(m) => Err(SinkError::Fatal(m)),
            Refusal::Transient(m) => Err(SinkError::Transient(m)),
        }
    }
}

/// Whether a rustls error is anywhere in `e`'s causes (lettre reports a failed handshake as a
/// connection error).
fn is_tls(e: &lettre::transport::smtp::Error) -> bool {
    if e.is_tls() {
        return true;
    }
    let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(c) = cur {
        if c.is::<rustls::Error>() {
            return true;
        }
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            if io.get_ref().is_some_and(|i| i.is::<rustls::Error>()) {
                return true;
            }
        }
        cur = c.source();
    }
    false
}

/// Sorts lettre's error into what it means for the alert. `dest` names the server.
pub fn refusal(c: &EmailConfig, e: &lettre::transport::smtp::Error) -> Refusal {
    let said = c.scrub(&base::error_chain(e));
    let dest = c.shown();
    let code = e.status().map(|s| s.to_string());
    if is_tls(e) {
        let fix = if c.security == Security::Implicit {
            "check that the port speaks TLS from the first byte (465; for 587 write smtp://), and give the server's CA with ca_file (or tls_verify = false for a test server)"
        } else {
            "give the server's CA with ca_file (or SSL_CERT_FILE), or tls_verify = false for a test server"
        };
        return Refusal::Fatal(format!("TLS with {dest} failed: {said}. Fix: {fix}"));
    }
    match code.as_deref() {
        // 535: credentials refused; 534/538: the mechanism needs more (TLS, another method);
        // 530: authentication (or STARTTLS) required.
        Some("535") | Some("534") | Some("538") => Refusal::Fatal(format!(
            "{dest} refused the login: {said}. Fix: check username and the password in password_env / password_file"
        )),
        Some("530") if said.contains("STARTTLS") => Refusal::Fatal(format!(
            "{dest} takes mail only after STARTTLS: {said}. Fix: starttls = required"
        )),
        Some("530") => Refusal::Fatal(format!(
            "{dest} requires authentication: {said}. Fix: set username and password_env / password_file (and starttls = required)"
        )),
        // Command syntax or sequence: a protocol mismatch that every mail would meet.
        Some("500") | Some("501") | Some("502") | Some("503") | Some("504") => Refusal::Fatal(
            format!("{dest} refused a command: {said}. Fix: check the url's port and starttls"),
        ),
        Some(_) if e.is_permanent() => {
            Refusal::Dead(format!("{dest} refused the mail for good: {said}"))
        }
        Some(_) => Refusal::Transient(format!("{dest} refused the mail for now: {said}")),
        None if e.is_client() => Refusal::Fatal(client_fix(&dest, &said)),
        None => Refusal::Transient(format!("cannot reach {dest}: {said}")),
    }
}

/// lettre's own refusals before any mail: no STARTTLS offered, no usable AUTH mechanism.
fn client_fix(dest: &str, said: &str) -> String {
    let fix = if said.contains("STARTTLS") {
        "the server offers no STARTTLS: use smtps:// if it speaks TLS on another port, or starttls = opportunistic / none (localhost only) if it is meant to be plain"
    } else if said.contains("authentication mechanism") {
        "the server offers no AUTH PLAIN or LOGIN here (many offer AUTH only after STARTTLS): keep starttls = required, or remove username if the server takes mail without a login"
    } else {
        "check the url and the settings"
    };
    format!("{dest}: {said}. Fix: {fix}")
}

pub const CONNECTS: &str = "connects and says EHLO";
pub const TLS: &str = "TLS";
pub const AUTHENTICATES: &str = "authenticates";

/// `doctor`: connect (with TLS for smtps://), EHLO, STARTTLS, AUTH when a username is set,
/// QUIT; no MAIL command, so nothing is sent. lettre's `test_connection` does connect, TLS
/// and AUTH too, but then only a NOOP, keeps the connection in its pool instead of QUIT, and
/// does not say which step failed; each step here is its own finding.
pub async fn probe(c: &EmailConfig, out: &mut dyn Findings) {
    let params = match c.security {
        Security::Plain => None,
        _ => match tls_parameters(c) {
            Ok(p) => Some(p),
            Err(e) => return out.problem(TLS, e.to_string()),
        },
    };
    let hello = ClientId::default();
    let wrapper = params.clone().filter(|_| c.security == Security::Implicit);
    let host = c.host.trim_matches(['[', ']']);
    let conn =
        AsyncSmtpConnection::connect_tokio1((host, c.port), Some(TIMEOUT), &hello, wrapper, None)
            .await;
    let mut conn = match conn {
        Ok(conn) => conn,
        Err(e) => {
            let what = if is_tls(&e) { TLS } else { CONNECTS };
            return out.problem(what, explain(c, &e));
        }
    };
    out.ok(
        CONNECTS,
        format!("{} answers as {}", c.shown(), conn.server_info().name()),
    );
    if !starttls(c, &mut conn, params, &hello, out).await {
        return conn.abort().await;
    }
    let authenticated = authenticate(c, &mut conn, out).await;
    let _ = conn.quit().await;
    if authenticated {
        tracing::debug!("doctor: {} closed with QUIT, no mail sent", c.shown());
    }
}

/// The finding's text for a failed step: lettre's words and the fix.
fn explain(c: &EmailConfig, e: &lettre::transport::smtp::Error) -> String {
    match refusal(c, e) {
        Refusal::Fatal(m) | Refusal::Dead(m) => m,
        Refusal::Transient(m) => {
            format!("{m}. Fix: check the host and port, that the server is up, and the firewall")
        }
    }
}

async fn starttls(
    c: &EmailConfig,
    conn: &mut AsyncSmtpConnection,
    params: Option<TlsParameters>,
    hello: &ClientId,
    out: &mut dyn Findings,
) -> bool {
    match (c.security, params) {
        (Security::Implicit, _) => {
            out.ok(TLS, "TLS from the first byte (smtps), certificate trusted");
            true
        }
        (Security::Plain, _) | (_, None) => {
            out.warn(
                TLS,
                "starttls = none: plain text to a server on this machine",
            );
            true
        }
        (Security::Opportunistic, Some(_)) if !conn.can_starttls() => {
            out.warn(TLS, format!("{} offers no STARTTLS: with starttls = opportunistic mail goes in plain text. Fix: a server that offers STARTTLS, then starttls = required", c.shown()));
            true
        }
        (_, Some(p)) => match conn.starttls(p, hello).await {
            Ok(()) => {
                out.ok(TLS, "STARTTLS, certificate trusted");
                true
            }
            Err(e) => {
                out.problem(TLS, explain(c, &e));
                false
            }
        },
    }
}

async fn authenticate(
    c: &EmailConfig,
    conn: &mut AsyncSmtpConnection,
    out: &mut dyn Findings,
) -> bool {
    let Some(creds) = credentials(c) else {
        out.ok(AUTHENTICATES, "no username: the server is expected to take mail without a login (a relay that trusts this host)");
        return true;
    };
    match conn.auth(MECHANISMS, &creds).await {
        Ok(_) => {
            out.ok(
                AUTHENTICATES,
                format!(
                    "logged in as {}; QUIT, no mail sent. `sfevents alerts test --output NAME` sends a test alert",
                    c.username.as_deref().unwrap_or_default()
                ),
            );
            true
        }
        Err(e) => {
            out.problem(AUTHENTICATES, explain(c, &e));
            false
        }
    }
}
