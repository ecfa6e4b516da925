//! The syslog output's settings: `--to syslog+tls://host:6514` (RFC 5425), `syslog+tcp://`
//! (octet counting, RFC 6587) or `syslog+udp://` (one datagram per message, RFC 5426).

use std::path::PathBuf;

use url::Url;

use crate::encode::Format;
use crate::output::BatchLimits;
use crate::settings::{ConfigError, Settings};
use base::secret::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Tls,
    Tcp,
    Udp,
}

/// What happens to a message longer than `max_message_bytes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Oversize {
    /// MSG is cut at a character boundary and the structured data says so
    /// (`truncated="<original MSG bytes>"`).
    Truncate,
    /// The event goes to the output's dead letters instead.
    DeadLetter,
}

#[derive(Debug, Clone)]
pub struct SyslogConfig {
    pub transport: Transport,
    pub host: String,
    pub port: u16,
    pub format: Format,
    /// 0 to 23 (`local0` is 16).
    pub facility: u8,
    /// Of most events (default `info`).
    pub severity: u8,
    /// Of failed logins and setup changes (default `notice`).
    pub notable_severity: u8,
    /// APP-NAME (default `sfevents`).
    pub app_name: String,
    /// HOSTNAME; `None`: the org's instance host (`acme.my.salesforce.com`), the system the
    /// events come from.
    pub hostname: Option<String>,
    /// The SD-ID of the element carrying the event id, org id and dataset.
    pub sd_id: String,
    /// A token sent as the SD-ID of an element of its own in every message (Sumo Logic's cloud
    /// syslog source wants `<token>@41123`).
    pub token: Option<Secret>,
    /// The most bytes of a whole message (HEADER, STRUCTURED-DATA and MSG).
    pub max_message_bytes: usize,
    pub oversize: Oversize,
    pub ca_file: Option<PathBuf>,
    /// A client certificate and its key (PEM), for receivers that authenticate senders.
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    pub tls_verify: bool,
}

pub const KEYS: &[&str] = &[
    "format",
    "facility",
    "severity",
    "notable_severity",
    "app_name",
    "hostname",
    "sd_id",
    "token_env",
    "token_file",
    "max_message_bytes",
    "oversize",
    "ca_file",
    "cert_file",
    "key_file",
    "tls_verify",
];

/// One connection writes in order, so one batch in flight.
pub const BATCH: BatchLimits = BatchLimits {
    max_events: 500,
    max_bytes: 1024 * 1024,
    in_flight: 1,
};

const FACILITIES: &[&str] = &[
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv",
    "ftp", "ntp", "audit", "alert", "clock", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
];
const SEVERITIES: &[&str] = &[
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

/// The largest UDP payload over IPv4.
const MAX_DATAGRAM: usize = 65_507;

fn level(s: &Settings, k: &str, names: &[&str], default: &str) -> Result<u8, ConfigError> {
    let v = s.get(k).unwrap_or(default);
    names
        .iter()
        .position(|n| *n == v)
        .or_else(|| v.parse::<usize>().ok().filter(|n| *n < names.len()))
        .map(|n| n as u8)
        .ok_or_else(|| {
            ConfigError::invalid(format!(
                "{k} = '{v}' is not known: use one of {}",
                names.join(", ")
            ))
        })
}

/// SD-NAME: 1 to 32 printable ASCII characters except `=`, space, `]` and `"` (RFC 5424 6.3.2).
fn check_sd_name(k: &str, v: &str) -> Result<(), ConfigError> {
    let ok = !v.is_empty()
        && v.len() <= 32
        && v.bytes()
            .all(|b| (33..=126).contains(&b) && !matches!(b, b'=' | b']' | b'"'));
    if ok {
        Ok(())
    } else {
        Err(ConfigError::invalid(format!(
            "{k} must be 1 to 32 printable ASCII characters without '=', ']', '\"' or spaces (RFC 5424 SD-ID), e.g. sfevents@32473"
        )))
    }
}

/// `len` printable US-ASCII characters at most (RFC 5424 6.2 header fields).
fn check_header_field(k: &str, v: &str, len: usize) -> Result<(), ConfigError> {
    if v.is_empty() || v.len() > len || !v.bytes().all(|b| (33..=126).contains(&b)) {
        return Err(ConfigError::invalid(format!(
            "{k} = '{v}' must be 1 to {len} printable ASCII characters without spaces (RFC 5424)"
        )));
    }
    Ok(())
}

/// `tcp://` and `udp://` are not special schemes: the url crate keeps their host as an opaque
/// name, never an IP address, so `config::is_loopback` would not see `127.0.0.1` as loopback.
fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

pub fn parse(url: &Url, s: &Settings) -> Result<SyslogConfig, ConfigError> {
    let (transport, host, port) = address(url)?;
    let app_name = s.get("app_name").unwrap_or("sfevents").to_string();
    check_header_field("app_name", &app_name, 48)?;
    let hostname = s.get("hostname").map(str::to_string);
    if let Some(h) = &hostname {
        check_header_field("hostname", h, 255)?;
    }
    let sd_id = s.get("sd_id").unwrap_or("sfevents@32473").to_string();
    check_sd_name("sd_id", &sd_id)?;
    let token = token(s, url, transport, &host)?;
    let max_message_bytes = max_message_bytes(s, transport)?;
    let oversize = match s.choice("oversize", &["truncate", "dead_letter"])? {
        "dead_letter" => Oversize::DeadLetter,
        _ => Oversize::Truncate,
    };
    let (cert_file, key_file) = client_certificate(s, transport)?;
    Ok(SyslogConfig {
        transport,
        host,
        port,
        format: Format::from_settings(s)?,
        facility: level(s, "facility", FACILITIES, "local0")?,
        severity: level(s, "severity", SEVERITIES, "info")?,
        notable_severity: level(s, "notable_severity", SEVERITIES, "notice")?,
        app_name,
        hostname,
        sd_id,
        token,
        max_message_bytes,
        oversize,
        ca_file: s.existing_file("ca_file", "a PEM file of CA certificates")?,
        cert_file,
        key_file,
        tls_verify: s.flag("tls_verify", true)?,
    })
}

/// The transport, host and port of `syslog+tls://host:port` (no path).
fn address(url: &Url) -> Result<(Transport, String, u16), ConfigError> {
    let transport = match url.scheme() {
        "tls" => Transport::Tls,
        "tcp" => Transport::Tcp,
        "udp" => Transport::Udp,
        other => {
            return Err(ConfigError::invalid(format!(
                "a syslog output's url starts with syslog+tls://, syslog+tcp:// or syslog+udp://, not {other}://"
            )))
        }
    };
    let host = url
        .host_str()
        .ok_or_else(|| ConfigError::NoHost {
            url: url.to_string(),
        })?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = url.port().unwrap_or(match transport {
        Transport::Tls => 6514,
        _ => 514,
    });
    if url.path() != "" && url.path() != "/" {
        return Err(ConfigError::invalid(format!(
            "a syslog url has no path: write syslog+tls://{host}:{port}"
        )));
    }
    Ok((transport, host, port))
}

/// The token, an SD-ID that stays encrypted on the network.
fn token(
    s: &Settings,
    url: &Url,
    transport: Transport,
    host: &str,
) -> Result<Option<Secret>, ConfigError> {
    let token = s.secret("token", "syslog token")?;
    if let Some(t) = &token {
        check_sd_name("the token", t.expose())?;
        if transport != Transport::Tls && !is_loopback_host(host) {
            return Err(ConfigError::invalid(format!(
                "the token would cross the network unencrypted over {}: use syslog+tls://",
                url.scheme()
            )));
        }
    }
    Ok(token)
}

/// `max_message_bytes`: at most a UDP datagram over UDP.
fn max_message_bytes(s: &Settings, transport: Transport) -> Result<usize, ConfigError> {
    let default_max = 64 * 1024;
    let max = match transport {
        Transport::Udp => MAX_DATAGRAM,
        _ => usize::MAX,
    };
    let max_message_bytes = s.number("max_message_bytes", default_max.min(max), 480)?;
    if max_message_bytes > max {
        return Err(ConfigError::invalid(format!(
            "max_message_bytes = {max_message_bytes} does not fit in one UDP datagram: use at most {MAX_DATAGRAM}"
        )));
    }
    Ok(max_message_bytes)
}

/// `cert_file` and `key_file`, both or neither; TLS settings only with TLS.
fn client_certificate(
    s: &Settings,
    transport: Transport,
) -> Result<(Option<PathBuf>, Option<PathBuf>), ConfigError> {
    let tls_only = ["ca_file", "cert_file", "key_file", "tls_verify"];
    if transport != Transport::Tls {
        if let Some(k) = tls_only.iter().find(|k| s.get(k).is_some()) {
            return Err(ConfigError::invalid(format!(
                "{k} applies to syslog+tls:// only"
            )));
        }
    }
    let cert_file = s.existing_file("cert_file", "a PEM client certificate")?;
    let key_file = s.existing_file("key_file", "the PEM private key of cert_file")?;
    if cert_file.is_some() != key_file.is_some() {
        return Err(ConfigError::invalid(
            "cert_file and key_file go together: give both or neither",
        ));
    }
    Ok((cert_file, key_file))
}

#[cfg(test)]
mod tests {
    use crate::config::from_url;

    use super::*;

    fn syslog(to: &str) -> Result<SyslogConfig, String> {
        let o = from_url(to).map_err(|e| e.to_string())?;
        Ok(o.kind.settings::<SyslogConfig>().unwrap().clone())
    }

    #[test]
    fn settings() {
        let c = syslog("syslog+tls://logs.example").unwrap();
        assert_eq!(
            (c.transport, c.port, c.facility, c.severity),
            (Transport::Tls, 6514, 16, 6)
        );
        assert_eq!((c.notable_severity, c.max_message_bytes), (5, 65536));
        assert_eq!(
            (c.app_name.as_str(), c.sd_id.as_str()),
            ("sfevents", "sfevents@32473")
        );
        let c = syslog("syslog+udp://[::1]:1514?facility=auth&severity=notice&format=ecs").unwrap();
        assert_eq!(
            (c.host.as_str(), c.port, c.facility, c.severity),
            ("::1", 1514, 4, 5)
        );
        assert_eq!(c.format, Format::Ecs);
        let e = syslog("syslog+udp://h?max_message_bytes=70000").unwrap_err();
        assert!(e.contains("UDP datagram"), "{e}");
        let e = syslog("syslog+tcp://h?facility=local9").unwrap_err();
        assert!(e.contains("local7"), "{e}");
        let e = syslog("syslog+tcp://h?ca_file=/etc/hosts").unwrap_err();
        assert!(e.contains("syslog+tls:// only"), "{e}");
        let e = syslog("syslog+tls://h?sd_id=a%20b").unwrap_err();
        assert!(e.contains("SD-ID"), "{e}");
        let e = syslog("syslog+https://h").unwrap_err();
        assert!(e.contains("syslog+tls://"), "{e}");
        std::env::set_var("SFEVENTS_TEST_SYSLOG_TOKEN", "abc@41123");
        let e =
            syslog("syslog+tcp://logs.example?token_env=SFEVENTS_TEST_SYSLOG_TOKEN").unwrap_err();
        assert!(e.contains("unencrypted"), "{e}");
        let c = syslog("syslog+tls://logs.example?token_env=SFEVENTS_TEST_SYSLOG_TOKEN").unwrap();
        assert_eq!(c.token.unwrap().expose(), "abc@41123");
        // Plain TCP to this machine keeps the token on it.
        let c = syslog("syslog+tcp://127.0.0.1:1514?token_env=SFEVENTS_TEST_SYSLOG_TOKEN").unwrap();
        assert!(c.token.is_some());
    }
}
