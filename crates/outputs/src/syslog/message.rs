//! RFC 5424 messages:
//!
//! ```text
//! <PRI>1 TIMESTAMP HOSTNAME APP-NAME - MSGID [token][sd_id id="…" org="…" dataset="…"] MSG
//! ```
//!
//! - PRI is `facility * 8 + severity`, with `notable_severity` for failed logins and setup
//!   changes ([`Meta::is_notable`]).
//! - TIMESTAMP is the event's own time (RFC 3339, UTC, `T` and `Z`, at most 6 fractional digits
//!   as RFC 5424 6.2.3 allows), or the time of sending for an event without one.
//! - HOSTNAME is the configured one, or the org's instance host: the system the events come
//!   from. MSGID is the dataset, so receivers can route without parsing MSG.
//! - The structured data carries the event id (syslog receivers do not deduplicate, so the id
//!   is how a search finds a repeat), the org id and the dataset. A configured token comes
//!   first, as an element of its own (Sumo Logic's cloud syslog reads it there).
//! - MSG is the event as one line of JSON, UTF-8 without a BOM.
//!
//! A message longer than `max_message_bytes` is never dropped silently: either MSG is cut at a
//! character boundary and the element says `truncated="<MSG bytes before the cut>"`, or the
//! event is dead-lettered.

use chrono::{DateTime, Datelike, SecondsFormat, SubsecRound, Timelike, Utc};

use super::config::{Oversize, SyslogConfig};
use crate::encode::{EncodeError, Meta};
use crate::sink::{Event, OrgContext};
use base::secret::Secret;

/// Turns events (and their encoded MSG) into RFC 5424 messages.
pub struct Formatter {
    facility: u8,
    severity: u8,
    notable_severity: u8,
    hostname: String,
    app_name: String,
    sd_id: String,
    token: Option<Secret>,
    max: usize,
    oversize: Oversize,
}

/// RFC 5424 6.2.5: MSGID is at most 32 characters.
const MSGID_MAX: usize = 32;
/// RFC 5424 6.2.4: HOSTNAME is at most 255 characters.
const HOSTNAME_MAX: usize = 255;

fn printable(b: u8) -> bool {
    (33..=126).contains(&b)
}

/// Appends a PARAM-VALUE with `"`, `\` and `]` escaped (RFC 5424 6.3.3).
fn escape_into(out: &mut Vec<u8>, value: &str) {
    for b in value.bytes() {
        if matches!(b, b'"' | b'\\' | b']') {
            out.push(b'\\');
        }
        out.push(b);
    }
}

/// RFC 3339 in UTC with at most 6 fractional digits (0, 3 or 6, as the value needs).
pub fn timestamp(t: DateTime<Utc>) -> String {
    let mut t = t.trunc_subsecs(6);
    // chrono keeps a leap second as nanoseconds past 10^9; RFC 5424 6.2.3 forbids second 60.
    if t.nanosecond() >= 1_000_000_000 {
        t = t.with_nanosecond(999_999_000).unwrap_or(t);
    }
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The largest index at most `at` that starts a UTF-8 character of `s` (or is its end).
fn char_floor(s: &[u8], at: usize) -> usize {
    let mut i = at.min(s.len());
    // Continuation bytes are 0b10xxxxxx; a cut before one would split a character.
    while i > 0 && i < s.len() && s[i] & 0xC0 == 0x80 {
        i -= 1;
    }
    i
}

impl Formatter {
    pub fn new(c: &SyslogConfig, org: &OrgContext) -> Formatter {
        let hostname = c.hostname.clone().unwrap_or_else(|| {
            url::Url::parse(&org.instance_url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .filter(|h| !h.is_empty() && h.len() <= HOSTNAME_MAX && h.bytes().all(printable))
                .unwrap_or_else(|| "-".to_string())
        });
        Formatter {
            facility: c.facility,
            severity: c.severity,
            notable_severity: c.notable_severity,
            hostname,
            app_name: c.app_name.clone(),
            sd_id: c.sd_id.clone(),
            token: c.token.clone(),
            max: c.max_message_bytes,
            oversize: c.oversize,
        }
    }

    /// The message of `event`, whose MSG (the encoder's JSON) is `msg`; `now` stands in for an
    /// event without a time. `Err` says why the event cannot be sent (it is dead-lettered).
    pub fn format(
        &self,
        event: &Event,
        msg: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Vec<u8>, EncodeError> {
        let meta = Meta::of(event);
        let head = self.head(event, &meta, now, None);
        let whole = head.len() + 1 + msg.len();
        if whole <= self.max {
            return Ok(assemble(head, msg));
        }
        if self.oversize == Oversize::DeadLetter {
            return Err(EncodeError::TooLong {
                bytes: whole,
                max: self.max,
            });
        }
        let head = self.head(event, &meta, now, Some(msg.len()));
        let Some(room) = self.max.checked_sub(head.len() + 1) else {
            return Err(EncodeError::HeaderTooLong {
                bytes: head.len(),
                max: self.max,
            });
        };
        Ok(assemble(head, &msg[..char_floor(msg, room)]))
    }

    /// HEADER SP STRUCTURED-DATA, with `truncated` in the element when MSG was cut.
    fn head(
        &self,
        event: &Event,
        meta: &Meta,
        now: DateTime<Utc>,
        truncated: Option<usize>,
    ) -> Vec<u8> {
        let severity = match meta.alert_level(event) {
            Some(level) => alert_severity(level),
            None if meta.is_notable(event) => self.notable_severity,
            None => self.severity,
        };
        let pri = u16::from(self.facility) * 8 + u16::from(severity);
        // A year RFC 3339 cannot write in four digits is not the event's real time.
        let time = meta
            .time
            .filter(|t| (0..=9999).contains(&t.year()))
            .unwrap_or(now);
        let msgid: String = meta
            .dataset
            .bytes()
            .filter(|b| printable(*b))
            .take(MSGID_MAX)
            .map(char::from)
            .collect();
        let msgid = if msgid.is_empty() {
            "-"
        } else {
            msgid.as_str()
        };
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(
            format!(
                "<{pri}>1 {} {} {} - {msgid} ",
                timestamp(time),
                self.hostname,
                self.app_name
            )
            .as_bytes(),
        );
        if let Some(t) = &self.token {
            // Checked at configuration to be an SD-NAME: nothing to escape.
            out.push(b'[');
            out.extend_from_slice(t.expose().as_bytes());
            out.push(b']');
        }
        out.push(b'[');
        out.extend_from_slice(self.sd_id.as_bytes());
        out.extend_from_slice(b" id=\"");
        escape_into(&mut out, &event.id);
        if let Some(org) = meta.org_id {
            out.extend_from_slice(b"\" org=\"");
            escape_into(&mut out, org);
        }
        out.extend_from_slice(b"\" dataset=\"");
        escape_into(&mut out, &meta.dataset);
        out.push(b'"');
        if let Some(n) = truncated {
            out.extend_from_slice(format!(" truncated=\"{n}\"").as_bytes());
        }
        out.push(b']');
        out
    }
}

fn assemble(mut head: Vec<u8>, msg: &[u8]) -> Vec<u8> {
    head.reserve(1 + msg.len());
    head.push(b' ');
    head.extend_from_slice(msg);
    head
}

/// An alert's syslog severity: warning or above, by its rule's level (critical 2, high error
/// 3, the others warning 4), whatever the output's `severity`.
fn alert_severity(level: &str) -> u8 {
    match level {
        "critical" => 2,
        "high" => 3,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;
    use crate::config::from_url;
    use crate::encode::{Encoder, Format};

    fn config(query: &str) -> SyslogConfig {
        let o = from_url(&format!("syslog+tcp://127.0.0.1:1514?{query}")).unwrap();
        o.kind.settings::<SyslogConfig>().unwrap().clone()
    }

    fn org() -> OrgContext {
        OrgContext {
            org: "acme".into(),
            instance_url: "https://acme.my.salesforce.com".into(),
            state: None,
        }
    }

    fn event(v: serde_json::Value) -> Event {
        Event::from_value(v)
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 10, 12, 30, 0).unwrap()
    }

    fn text(f: &Formatter, e: &Event) -> String {
        let mut msg = Vec::new();
        Encoder::new("t", Format::Raw, &org())
            .unwrap()
            .write(e, &mut msg)
            .unwrap();
        String::from_utf8(f.format(e, &msg, now()).unwrap()).unwrap()
    }

    fn login(status: &str) -> Event {
        event(json!({
            "@timestamp": "2024-03-01T10:00:00.123456789Z", "id": "0a1b-7", "org_id": "00Dxx",
            "source": "EventLogFile", "event_type": "Login",
            "fields": {"LOGIN_STATUS": status}
        }))
    }

    #[test]
    fn every_field_of_the_header_and_the_structured_data() {
        std::env::set_var("SFEVENTS_TEST_SYSLOG_MSG_TOKEN", "tok@41123");
        let mut c = config("token_env=SFEVENTS_TEST_SYSLOG_MSG_TOKEN");
        let f = Formatter::new(&c, &org());
        let e = login("LOGIN_NO_ERROR");
        let line = text(&f, &e);
        let json = serde_json::to_string(e.value()).unwrap();
        assert_eq!(
            line,
            format!(
                "<134>1 2024-03-01T10:00:00.123456Z acme.my.salesforce.com sfevents - login \
                 [tok@41123][sfevents@32473 id=\"0a1b-7\" org=\"00Dxx\" dataset=\"login\"] {json}"
            )
        );
        // A failed login: notable (local0.notice = 133); the configured hostname wins.
        c.hostname = Some("collector-1".into());
        c.token = None;
        let f = Formatter::new(&c, &org());
        let line = text(&f, &login("LOGIN_ERROR_INVALID_PASSWORD"));
        assert!(
            line.starts_with(
                "<133>1 2024-03-01T10:00:00.123456Z collector-1 sfevents - login [sfevents@32473 "
            ),
            "{line}"
        );
        // No time, no org id, no instance: the time of sending, no org param, NILVALUE host.
        let f = Formatter::new(
            &config("facility=auth&severity=debug&app_name=x"),
            &OrgContext {
                org: "o".into(),
                instance_url: String::new(),
                state: None,
            },
        );
        let e =
            event(json!({"id": "x-1", "source": "LoginEvent", "fields": {"Status": "Success"}}));
        let line = text(&f, &e);
        assert!(line.starts_with("<39>1 2026-03-10T12:30:00Z - x - login [sfevents@32473 id=\"x-1\" dataset=\"login\"] {"), "{line}");
    }

    #[test]
    fn alerts_go_at_warning_or_above_by_their_level() {
        let f = Formatter::new(&config("facility=local0&severity=debug"), &org());
        let alert = |level: &str| {
            event(
                json!({"@timestamp": "2024-03-01T10:00:00Z", "id": "a-1", "org_id": "00Dxx",
                "source": "sfevents", "event_type": "Alert",
                "fields": {"rule": {"name": "r", "level": level}}}),
            )
        };
        // local0 = 16: warning 4 -> 132, error 3 -> 131, critical 2 -> 130.
        for (level, pri) in [
            ("informational", 132),
            ("low", 132),
            ("medium", 132),
            ("high", 131),
            ("critical", 130),
        ] {
            let line = text(&f, &alert(level));
            assert!(
                line.starts_with(&format!("<{pri}>1 2024-03-01T10:00:00Z ")),
                "{level}: {line}"
            );
            assert!(
                line.contains(" alert [sfevents@32473 id=\"a-1\" org=\"00Dxx\" dataset=\"alert\"]"),
                "{line}"
            );
        }
    }

    #[test]
    fn param_values_are_escaped_and_msgid_is_printable_ascii() {
        let f = Formatter::new(&config(""), &org());
        let e = event(
            json!({"id": "a\"b\\c]d é", "org_id": "0]0", "source": "Weird Object ü which is long enough to cut",
            "fields": {}}),
        );
        let meta = Meta::of(&e);
        let line = text(&f, &e);
        assert!(
            line.contains(r#"[sfevents@32473 id="a\"b\\c\]d é" org="0\]0" dataset=""#),
            "{line}"
        );
        let msgid = line.split(' ').nth(5).unwrap();
        assert!(msgid.len() <= 32 && msgid.bytes().all(printable), "{msgid}");
        let want: String = meta
            .dataset
            .bytes()
            .filter(|b| printable(*b))
            .take(32)
            .map(char::from)
            .collect();
        assert_eq!(msgid, want);
    }

    #[test]
    fn timestamps_have_at_most_six_fractional_digits() {
        let t = |s: &str| timestamp(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc));
        assert_eq!(
            t("2024-03-01T10:00:00.123456789Z"),
            "2024-03-01T10:00:00.123456Z"
        );
        assert_eq!(t("2024-03-01T10:00:00.120Z"), "2024-03-01T10:00:00.120Z");
        assert_eq!(t("2024-03-01T11:00:00+01:00"), "2024-03-01T10:00:00Z");
        assert_eq!(t("2016-12-31T23:59:60.5Z"), "2016-12-31T23:59:59.999999Z");
    }

    #[test]
    fn oversize_is_cut_at_a_character_boundary_or_dead_lettered() {
        // Two-, three- and four-byte characters, so every cut point is tried against each.
        let e = event(
            json!({"id": "big-1", "org_id": "00Dxx", "source": "LoginEvent",
            "fields": {"Text": "é日😀".repeat(200)}}),
        );
        let msg = serde_json::to_vec(e.value()).unwrap();
        for max in 480..700 {
            let f = Formatter::new(&config(&format!("max_message_bytes={max}")), &org());
            let out = f.format(&e, &msg, now()).unwrap();
            assert!(out.len() <= max, "{} > {max}", out.len());
            // Within three bytes of the limit: the cut wastes at most a partial character.
            assert!(out.len() + 3 >= max, "{} for {max}", out.len());
            let s = std::str::from_utf8(&out).expect("whole characters");
            let marker = format!(" truncated=\"{}\"] ", msg.len());
            let at = s.find(&marker).expect("the element says it was cut") + marker.len();
            assert!(msg.starts_with(&s.as_bytes()[at..]));
        }
        // Fits: untouched, no marker.
        let f = Formatter::new(&config("max_message_bytes=100000"), &org());
        let out = String::from_utf8(f.format(&e, &msg, now()).unwrap()).unwrap();
        assert!(out.ends_with(std::str::from_utf8(&msg).unwrap()) && !out.contains("truncated="));
        // dead_letter: refused with the reason and the fix.
        let f = Formatter::new(
            &config("max_message_bytes=600&oversize=dead_letter"),
            &org(),
        );
        let why = f.format(&e, &msg, now()).unwrap_err().to_string();
        assert!(
            why.contains("max_message_bytes = 600") && why.contains("oversize = truncate"),
            "{why}"
        );
        // A header that cannot fit even without MSG is refused, not sent over the limit.
        let long = event(json!({"id": "i".repeat(600), "source": "LoginEvent", "fields": {}}));
        let f = Formatter::new(&config("max_message_bytes=480"), &org());
        let why = f.format(&long, b"{}", now()).unwrap_err().to_string();
        assert!(why.contains("header"), "{why}");
    }

    #[test]
    fn char_floor_never_splits_a_character() {
        let s = "aé日😀".as_bytes();
        let starts = [0, 1, 3, 6, 10];
        for at in 0..=12 {
            // The last character start at or before the cut (the end counts as one).
            let want = *starts.iter().filter(|x| **x <= at).max().unwrap();
            assert_eq!(char_floor(s, at), want, "cut at {at}");
        }
    }
}
