//! The email output's settings:
//!
//! ```text
//! --to 'smtp://mail.example:587?from=alerts@x.example&to=a@x.example,b@y.example&username=alerts&password_env=SMTP_PASSWORD'
//! --to 'smtps://mail.example:465?from=...&to=...'
//! ```
//!
//! `smtp://` is submission with STARTTLS (`starttls = required`, the default; `opportunistic`
//! falls back to plain text when the server offers no STARTTLS; `none` is plain text and is
//! taken only for a server on this machine, as a relay on localhost). `smtps://` is TLS from
//! the first byte (RFC 8314). The port defaults to 587 and 465. Plus `username` with
//! `password_env`/`password_file`, `ca_file`/`tls_verify`, `subject_prefix`, `digest_minutes`
//! and every notifier's `min_level`, `rules` and `suppress_minutes`.

use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use lettre::message::Mailbox;
use url::Url;

use crate::notify::Routing;
use crate::settings::{ConfigError, Settings};
use base::secret::Secret;

pub const KEYS: &[&str] = &[
    "from",
    "to",
    "starttls",
    "username",
    "password_env",
    "password_file",
    "ca_file",
    "tls_verify",
    "digest_minutes",
    "subject_prefix",
    "min_level",
    "rules",
    "suppress_minutes",
    "max_per_second",
];

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// `smtps://`: TLS from the first byte.
    Implicit,
    /// `smtp://`, `starttls = required`: STARTTLS or no mail.
    StartTls,
    /// `starttls = opportunistic`: STARTTLS when offered, else plain text.
    Opportunistic,
    /// `starttls = none`: plain text (loopback only).
    Plain,
}

#[derive(Debug, Clone)]
pub struct EmailConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub from: Mailbox,
    pub to: Vec<Mailbox>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub ca_file: Option<PathBuf>,
    pub tls_verify: bool,
    /// `digest_minutes`; 0: one mail per alert. See the module comment of `email` for what a
    /// digest is with the shipper as it is.
    pub digest_minutes: u32,
    pub subject_prefix: String,
    pub routing: Routing,
    /// The least time between two mails.
    pub interval: Duration,
}

impl EmailConfig {
    /// `smtp://host:587`: what messages and findings name (never the credentials).
    pub fn shown(&self) -> String {
        let scheme = match self.security {
            Security::Implicit => "smtps",
            _ => "smtp",
        };
        format!("{scheme}://{}:{}", self.host, self.port)
    }

    /// Secrets to keep out of every message.
    pub fn scrub(&self, text: &str) -> String {
        match &self.password {
            Some(p) => base::secret::scrub(text, &[p]),
            None => text.to_string(),
        }
    }
}

/// A day: the longest digest window, as for `suppress_minutes`.
const MAX_DIGEST_MINUTES: usize = 1440;

pub fn parse(url: &Url, s: &Settings) -> Result<EmailConfig, ConfigError> {
    let host = url
        .host_str()
        .ok_or_else(|| ConfigError::invalid("the SMTP url names no host"))?
        .to_string();
    if !matches!(url.path(), "" | "/") {
        return Err(ConfigError::invalid(format!(
            "an SMTP url has no path (it has '{}'): write smtp://host:587?from=...&to=...",
            url.path()
        )));
    }
    let security = security(url.scheme(), &host, s)?;
    let port = url.port().unwrap_or(match security {
        Security::Implicit => 465,
        _ => 587,
    });
    let (username, password) = credentials(s, security, &host)?;
    let digest = s.number("digest_minutes", 0, 0)?;
    if digest > MAX_DIGEST_MINUTES {
        return Err(ConfigError::invalid(format!(
            "digest_minutes = {digest} is longer than a day: use at most {MAX_DIGEST_MINUTES} (0: one mail per alert)"
        )));
    }
    Ok(EmailConfig {
        host,
        port,
        security,
        from: from(s)?,
        to: to(s)?,
        username,
        password,
        ca_file: s.existing_file("ca_file", "a PEM file of CA certificates")?,
        tls_verify: s.flag("tls_verify", true)?,
        digest_minutes: digest as u32,
        subject_prefix: s.get("subject_prefix").unwrap_or("[sfevents]").to_string(),
        routing: Routing {
            gather_secs: digest as i64 * 60,
            ..Routing::parse(s)?
        },
        // Mail servers throttle bursts from one sender; a few a second is plenty for alerts.
        interval: crate::notify::interval(s, 5)?,
    })
}

fn security(scheme: &str, host: &str, s: &Settings) -> Result<Security, ConfigError> {
    if scheme.eq_ignore_ascii_case("smtps") {
        if s.get("starttls").is_some() {
            return Err(ConfigError::invalid(
                "starttls is for smtp:// urls: smtps:// is TLS from the first byte; remove starttls",
            ));
        }
        return Ok(Security::Implicit);
    }
    if !scheme.eq_ignore_ascii_case("smtp") {
        return Err(ConfigError::invalid(format!(
            "an email output's url is smtp://host:587 (STARTTLS) or smtps://host:465 (TLS), not {scheme}://"
        )));
    }
    Ok(
        match s.choice("starttls", &["required", "opportunistic", "none"])? {
            "opportunistic" => Security::Opportunistic,
            "none" if is_loopback(host) => Security::Plain,
            "none" => {
                return Err(ConfigError::invalid(format!(
                    "starttls = none sends mail and password in plain text, so it is taken only for a server on this machine (localhost), not {host}: use starttls = required (or smtps://host:465)"
                )))
            }
            _ => Security::StartTls,
        },
    )
}

/// `localhost`, 127.0.0.0/8 or ::1.
pub fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost") || IpAddr::from_str(h).is_ok_and(|ip| ip.is_loopback())
}

fn credentials(
    s: &Settings,
    security: Security,
    host: &str,
) -> Result<(Option<String>, Option<Secret>), ConfigError> {
    let username = s.get("username").map(str::to_string);
    let password = s.secret("password", "SMTP password")?;
    match (&username, &password) {
        (Some(_), None) => Err(ConfigError::invalid(
            "username is set without a password: add password_env = \"VARIABLE\" or password_file = \"PATH\"",
        )),
        (None, Some(_)) => Err(ConfigError::invalid(
            "a password is set without a username: add username = \"...\" (the SMTP login)",
        )),
        // Opportunistic STARTTLS would hand the password to anyone who strips the server's
        // STARTTLS offer on the way.
        (Some(_), Some(_)) if security == Security::Opportunistic && !is_loopback(host) => {
            Err(ConfigError::invalid(
                "starttls = opportunistic with a username would send the password in plain text when the server (or someone on the path) offers no STARTTLS: use starttls = required",
            ))
        }
        _ => Ok((username, password)),
    }
}

fn mailbox(key: &str, value: &str) -> Result<Mailbox, ConfigError> {
    Mailbox::from_str(value.trim()).map_err(|e| {
        ConfigError::invalid(format!(
            "{key}: '{}' is not a mail address ({e}): write name@domain, or \"Name <name@domain>\"",
            value.trim()
        ))
    })
}

fn from(s: &Settings) -> Result<Mailbox, ConfigError> {
    let v = s.get("from").filter(|v| !v.trim().is_empty()).ok_or_else(|| {
        ConfigError::invalid(
            "an email output needs the sender: add from = \"alerts@your-domain\" (an address the server lets this login send as)",
        )
    })?;
    mailbox("from", v)
}

/// `to`: addresses separated by commas.
fn to(s: &Settings) -> Result<Vec<Mailbox>, ConfigError> {
    let v = s.get("to").unwrap_or_default();
    let to: Vec<Mailbox> = v
        .split(',')
        .filter(|a| !a.trim().is_empty())
        .map(|a| mailbox("to", a))
        .collect::<Result<_, _>>()?;
    if to.is_empty() {
        return Err(ConfigError::invalid(
            "an email output needs recipients: add to = \"soc@your-domain\" (several separated by commas)",
        ));
    }
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::{EmailConfig, Security};
    use crate::config::from_url;

    fn err(to: &str) -> String {
        from_url(to).unwrap_err().to_string()
    }

    fn cfg(to: &str) -> EmailConfig {
        let o = from_url(to).unwrap();
        assert_eq!(o.kind.type_name(), "email");
        o.kind.settings::<EmailConfig>().unwrap().clone()
    }

    #[test]
    fn bare_smtp_urls_are_the_email_output() {
        let c = cfg("smtp://mail.example?from=alerts@x.example&to=a@x.example,%20b@y.example");
        assert_eq!((c.security, c.port), (Security::StartTls, 587));
        assert_eq!(c.to.len(), 2);
        assert_eq!(c.to[1].email.to_string(), "b@y.example");
        assert_eq!(
            (c.digest_minutes, c.subject_prefix.as_str()),
            (0, "[sfevents]")
        );
        let c = cfg("smtps://mail.example?from=alerts@x.example&to=a@x.example&digest_minutes=15&min_level=high");
        assert_eq!(
            (c.security, c.port, c.digest_minutes),
            (Security::Implicit, 465, 15)
        );
        assert_eq!(c.routing.min_level, 3);
        let o = from_url(
            "email+smtp://mail.example:2525?from=a@x.example&to=b@x.example&starttls=opportunistic",
        )
        .unwrap();
        assert!(o.routing().is_some());
        assert_eq!(o.name, "email-mail.example-2525");
        let c = o.kind.settings::<EmailConfig>().unwrap();
        assert_eq!((c.security, c.port), (Security::Opportunistic, 2525));
    }

    #[test]
    fn settings_errors() {
        let e = err("smtp://mail.example?to=a@x.example");
        assert!(e.contains("from = "), "{e}");
        let e = err("smtp://mail.example?from=alerts@x.example");
        assert!(e.contains("recipients") && e.contains("to = "), "{e}");
        let e = err("smtp://mail.example?from=alerts@x.example&to=not-an-address");
        assert!(e.contains("'not-an-address' is not a mail address"), "{e}");
        let e = err("smtp://mail.example?from=a@x.example&to=b@x.example&starttls=maybe");
        assert!(
            e.contains("starttls = 'maybe'") && e.contains("required or opportunistic or none"),
            "{e}"
        );
        let e = err("smtp://mail.example?from=a@x.example&to=b@x.example&starttls=none");
        assert!(
            e.contains("only for a server on this machine") && e.contains("mail.example"),
            "{e}"
        );
        for local in ["localhost", "127.0.0.1", "[::1]"] {
            let c = cfg(&format!(
                "smtp://{local}:25?from=a@x.example&to=b@x.example&starttls=none"
            ));
            assert_eq!(c.security, Security::Plain, "{local}");
        }
        let e = err("smtps://mail.example?from=a@x.example&to=b@x.example&starttls=required");
        assert!(e.contains("remove starttls"), "{e}");
        let e = err("smtp://mail.example?from=a@x.example&to=b@x.example&digest_minutes=soon");
        assert!(e.contains("digest_minutes = 'soon'"), "{e}");
        let e = err("smtp://mail.example?from=a@x.example&to=b@x.example&digest_minutes=2000");
        assert!(e.contains("at most 1440"), "{e}");
        let e = err("smtp://mail.example?from=a@x.example&to=b@x.example&username=u");
        assert!(e.contains("password_env"), "{e}");
        let e = err("smtp://mail.example?from=a@x.example&to=b@x.example&password_env=SFEVENTS_TEST_SMTP_UNSET");
        assert!(e.contains("SFEVENTS_TEST_SMTP_UNSET"), "{e}");
        std::env::set_var("SFEVENTS_TEST_SMTP_PW", "hunter2-secret");
        let e = err("smtp://mail.example?from=a@x.example&to=b@x.example&username=u&password_env=SFEVENTS_TEST_SMTP_PW&starttls=opportunistic");
        assert!(
            e.contains("starttls = required") && !e.contains("hunter2"),
            "{e}"
        );
        let c = cfg("smtp://mail.example?from=a@x.example&to=b@x.example&username=u&password_env=SFEVENTS_TEST_SMTP_PW");
        assert!(
            !format!("{c:?}").contains("hunter2"),
            "the password is secret"
        );
        assert_eq!(
            c.scrub("AUTH failed for hunter2-secret"),
            "AUTH failed for [redacted]"
        );
        let e = err("smtp://mail.example/inbox?from=a@x.example&to=b@x.example");
        assert!(e.contains("no path"), "{e}");
        let e = err("smtp://u:pw@mail.example?from=a@x.example&to=b@x.example");
        assert!(e.contains("password_env") && !e.contains("pw@"), "{e}");
        let e = err("smtp://mail.example?from=a@x.example&to=b@x.example&min_level=loud");
        assert!(e.contains("min_level 'loud'"), "{e}");
    }
}
