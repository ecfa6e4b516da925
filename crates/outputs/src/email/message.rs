//! The mails: one per alert, or one digest listing several. Each is multipart/alternative, a
//! text part (`notify::text::plain`, the words every notifier uses) and an HTML part with the
//! same content escaped and the facts in a small table, so the mail reads the same in a
//! terminal client and in a webmail.
//!
//! The `Message-ID` is made of the alert id (`<ID@sfevents>`; a digest: `<digest.FIRST.LAST@
//! sfevents>`), never random: a mail sent again after a crash (the shipper redoes the batch in
//! flight) carries the same id, so a mail client or a rule on the mailbox can recognise and
//! drop the repeat. `X-Sfevents-Alert-Id` and `X-Sfevents-Rule` let mailbox rules route by
//! alert and rule without parsing the subject.

use lettre::message::header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::Message;

use super::config::EmailConfig;
use crate::notify::text::{clip, context, facts, plain, title};
use crate::notify::{level_rank, AlertView, LEVELS};

pub const ALERT_ID: HeaderName = HeaderName::new_from_ascii_str("X-Sfevents-Alert-Id");
pub const RULE: HeaderName = HeaderName::new_from_ascii_str("X-Sfevents-Rule");

/// The domain part of every Message-ID: ids are ours, not the server's.
const ID_DOMAIN: &str = "sfevents";
/// A subject longer than this is cut: clients show about this much, and a header line is
/// best kept under 998 characters.
const SUBJECT_MAX: usize = 200;

/// `<ID@sfevents>`, with anything a msg-id may not hold replaced.
pub fn message_id(id: &str) -> String {
    format!("<{}@{ID_DOMAIN}>", id_part(id))
}

/// The digest's id: its first and last alert, so a resend of the same batch has the same id.
pub fn digest_id(alerts: &[AlertView]) -> String {
    let first = alerts.first().map(|a| a.id.as_str()).unwrap_or("none");
    let last = alerts.last().map(|a| a.id.as_str()).unwrap_or("none");
    format!("<digest.{}.{}@{ID_DOMAIN}>", id_part(first), id_part(last))
}

/// RFC 5322's dot-atom-text: alert ids are hex, but the archive is not ours to trust.
fn id_part(id: &str) -> String {
    let s: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    if s.is_empty() {
        "none".into()
    } else {
        s
    }
}

/// `[sfevents] [HIGH] Brute force against one user: jane@acme.example`.
pub fn subject(prefix: &str, a: &AlertView) -> String {
    let mut s = format!("{prefix} {}", title(a));
    if let Some(user) = a.user() {
        s.push_str(": ");
        s.push_str(user);
    }
    clip(s.trim(), SUBJECT_MAX)
}

/// `[sfevents] [HIGH] 3 alerts: Brute force, Login as another user`.
pub fn digest_subject(prefix: &str, alerts: &[AlertView]) -> String {
    let top = alerts
        .iter()
        .filter_map(|a| level_rank(&a.rule.level))
        .max()
        .map(|r| LEVELS[r].to_ascii_uppercase())
        .unwrap_or_else(|| "ALERTS".into());
    let mut titles: Vec<&str> = Vec::new();
    for a in alerts {
        let t = if a.rule.title.is_empty() {
            a.rule.name.as_str()
        } else {
            a.rule.title.as_str()
        };
        if !titles.contains(&t) {
            titles.push(t);
        }
    }
    let n = alerts.len();
    let noun = if n == 1 { "alert" } else { "alerts" };
    let s = format!("{prefix} [{top}] {n} {noun}: {}", titles.join(", "));
    clip(s.trim(), SUBJECT_MAX)
}

/// `&`, `<`, `>`, `"` and `'` escaped: alert fields come from Salesforce users.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One alert as HTML: the title, the facts' table, the summary and the context line.
fn html_section(a: &AlertView) -> String {
    let mut h = format!("<h2>{}</h2>\n<table>\n", escape(&title(a)));
    for (k, v) in facts(a) {
        h.push_str(&format!(
            "<tr><th align=\"left\">{}</th><td>{}</td></tr>\n",
            escape(k),
            escape(&v)
        ));
    }
    h.push_str("</table>\n");
    if !a.summary.is_empty() {
        h.push_str(&format!("<p>{}</p>\n", escape(&a.summary)));
    }
    h.push_str(&format!("<p><small>{}</small></p>\n", escape(&context(a))));
    h
}

fn html_page(body: &str) -> String {
    format!("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n{body}</body></html>\n")
}

/// Text and HTML, base64 so any relay passes them through byte for byte.
fn parts(text: String, html: String) -> MultiPart {
    let part = |ct: ContentType, body: String| {
        SinglePart::builder()
            .header(ct)
            .header(ContentTransferEncoding::Base64)
            .body(body)
    };
    MultiPart::alternative()
        .singlepart(part(ContentType::TEXT_PLAIN, text))
        .singlepart(part(ContentType::TEXT_HTML, html))
}

fn builder(c: &EmailConfig, id: String, subject: String) -> lettre::message::MessageBuilder {
    let mut b = Message::builder()
        .from(c.from.clone())
        .subject(subject)
        .message_id(Some(id))
        .user_agent(format!("sfevents {}", env!("CARGO_PKG_VERSION")));
    for to in &c.to {
        b = b.to(Mailbox::clone(to));
    }
    b
}

/// The mail of one alert.
pub fn alert(c: &EmailConfig, a: &AlertView) -> Result<Message, String> {
    builder(c, message_id(&a.id), subject(&c.subject_prefix, a))
        .raw_header(HeaderValue::new(ALERT_ID, a.id.clone()))
        .raw_header(HeaderValue::new(RULE, a.rule.name.clone()))
        .multipart(parts(plain(a), html_page(&html_section(a))))
        .map_err(|e| format!("cannot build the mail of alert {}: {e}", a.id))
}

/// One mail listing `alerts`, in order.
pub fn digest(c: &EmailConfig, alerts: &[AlertView]) -> Result<Message, String> {
    let n = alerts.len();
    let mut text = format!("{n} alerts\n\n");
    let mut html = format!("<h1>{n} alerts</h1>\n");
    let mut rules: Vec<&str> = Vec::new();
    for (i, a) in alerts.iter().enumerate() {
        if i > 0 {
            text.push_str("\n----------------------------------------\n\n");
            html.push_str("<hr>\n");
        }
        text.push_str(&plain(a));
        html.push_str(&html_section(a));
        if !rules.contains(&a.rule.name.as_str()) {
            rules.push(&a.rule.name);
        }
    }
    let ids: Vec<&str> = alerts.iter().map(|a| a.id.as_str()).collect();
    builder(
        c,
        digest_id(alerts),
        digest_subject(&c.subject_prefix, alerts),
    )
    .raw_header(HeaderValue::new(ALERT_ID, ids.join(" ")))
    .raw_header(HeaderValue::new(RULE, rules.join(" ")))
    .multipart(parts(text, html_page(&html)))
    .map_err(|e| format!("cannot build the digest mail of {n} alerts: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::from_url;
    use base64::Engine;

    fn alert_view(id: &str, user: &str, level: &str) -> AlertView {
        serde_json::from_value(serde_json::json!({
            "@timestamp": "2026-03-01T10:00:00.000Z",
            "id": id,
            "org_id": "00D000000000001",
            "rule": {"name": "salesforce_brute_force", "id": "r-1",
                     "title": "Brute force <against> one user", "level": level, "tags": []},
            "group": {"USER_NAME": user, "SOURCE_IP": "203.0.113.9"},
            "count": 3,
            "first_seen": "2026-03-01T09:58:00.000Z",
            "last_seen": "2026-03-01T10:00:00.000Z",
            "events": {"ids": ["e1", "e2", "e3"], "total": 3},
            "summary": "3 failed logins for jane & co"
        }))
        .unwrap()
    }

    fn config() -> EmailConfig {
        let o = from_url(
            "smtp://mail.example?from=Alerts%20%3Calerts@x.example%3E&to=a@x.example,b@y.example",
        )
        .unwrap();
        o.kind.settings::<EmailConfig>().unwrap().clone()
    }

    /// The formatted mail's header block (unfolded) and its decoded parts, by content type.
    fn split(mail: &[u8]) -> (String, Vec<(String, String)>) {
        let s = String::from_utf8(mail.to_vec()).unwrap();
        let (head, body) = s.split_once("\r\n\r\n").unwrap();
        let head = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        let boundary = head
            .split("boundary=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .expect("a multipart boundary")
            .to_string();
        let mut parts = Vec::new();
        for p in body.split(&format!("--{boundary}")).skip(1) {
            let Some((ph, pb)) = p.split_once("\r\n\r\n") else {
                continue;
            };
            assert!(ph.contains("Content-Transfer-Encoding: base64"), "{ph}");
            let ct = ph
                .lines()
                .find_map(|l| l.strip_prefix("Content-Type: "))
                .unwrap()
                .to_string();
            let b64: String = pb.split_whitespace().collect();
            let text = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap();
            // Text parts travel with CRLF line ends (RFC 2046).
            let text = String::from_utf8(text).unwrap().replace("\r\n", "\n");
            parts.push((ct, text));
        }
        (head, parts)
    }

    fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
        head.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
    }

    #[test]
    fn one_alert_one_mail() {
        let a = alert_view("5b1e0c2a9f", "jane@acme.example", "high");
        let mail = alert(&config(), &a).unwrap().formatted();
        let (head, parts) = split(&mail);
        assert_eq!(header(&head, "Message-ID"), Some("<5b1e0c2a9f@sfevents>"));
        assert_eq!(
            header(&head, "Subject"),
            Some("[sfevents] [HIGH] Brute force <against> one user: jane@acme.example")
        );
        assert_eq!(header(&head, "From"), Some("Alerts <alerts@x.example>"));
        assert_eq!(header(&head, "To"), Some("a@x.example, b@y.example"));
        assert_eq!(header(&head, "X-Sfevents-Alert-Id"), Some("5b1e0c2a9f"));
        assert_eq!(
            header(&head, "X-Sfevents-Rule"),
            Some("salesforce_brute_force")
        );
        assert!(header(&head, "Content-Type")
            .unwrap()
            .starts_with("multipart/alternative"));
        assert_eq!(parts.len(), 2, "{parts:?}");
        assert!(parts[0].0.starts_with("text/plain"), "{parts:?}");
        assert_eq!(parts[0].1, plain(&a));
        assert!(parts[0].1.contains("User: jane@acme.example"));
        assert!(parts[1].0.starts_with("text/html"), "{parts:?}");
        let html = &parts[1].1;
        assert!(
            html.contains("<h2>[HIGH] Brute force &lt;against&gt; one user</h2>"),
            "{html}"
        );
        assert!(
            html.contains("<th align=\"left\">IP</th><td>203.0.113.9</td>"),
            "{html}"
        );
        assert!(
            html.contains("<p>3 failed logins for jane &amp; co</p>"),
            "{html}"
        );
        assert!(!html.contains("<against>"), "escaped: {html}");
    }

    #[test]
    fn the_same_alert_makes_the_same_message_id() {
        let a = alert_view("abc", "jane", "low");
        let c = config();
        let one = split(&alert(&c, &a).unwrap().formatted()).0;
        let two = split(&alert(&c, &a).unwrap().formatted()).0;
        assert_eq!(header(&one, "Message-ID"), header(&two, "Message-ID"));
        assert_eq!(message_id("a b<c>@d"), "<a-b-c--d@sfevents>");
        let mut no_user = alert_view("x", "", "medium");
        no_user.group.clear();
        assert_eq!(
            subject("[p]", &no_user),
            "[p] [MEDIUM] Brute force <against> one user"
        );
    }

    #[test]
    fn a_digest_lists_every_alert() {
        let mut alerts = vec![
            alert_view("id1", "jane", "medium"),
            alert_view("id2", "joe", "critical"),
            alert_view("id3", "ann", "low"),
        ];
        alerts[2].rule.title = "Login as another user".into();
        alerts[2].rule.name = "salesforce_login_as".into();
        let mail = digest(&config(), &alerts).unwrap().formatted();
        let (head, parts) = split(&mail);
        assert_eq!(
            header(&head, "Message-ID"),
            Some("<digest.id1.id3@sfevents>")
        );
        assert_eq!(
            header(&head, "Subject"),
            Some("[sfevents] [CRITICAL] 3 alerts: Brute force <against> one user, Login as another user")
        );
        assert_eq!(header(&head, "X-Sfevents-Alert-Id"), Some("id1 id2 id3"));
        assert_eq!(
            header(&head, "X-Sfevents-Rule"),
            Some("salesforce_brute_force salesforce_login_as")
        );
        for a in &alerts {
            assert!(parts[0].1.contains(&plain(a)), "{}", parts[0].1);
            assert!(
                parts[1].1.contains(&format!("alert {}", a.id)),
                "{}",
                parts[1].1
            );
        }
    }
}
