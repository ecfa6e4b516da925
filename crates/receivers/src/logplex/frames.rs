//! The `application/logplex-1` body: octet-counted frames `<len> <message>`, where `len` counts
//! the bytes after the space. Heroku's senders end each message with an LF and count it
//! (heroku/logplex `doc/README.http_drains.md`: "70" for a 69-byte message).
//!
//! Receivers read these bodies loosely: Vector's `heroku_logs` source reads the body line by
//! line and splits each line into 8 space-separated parts (length, `<PRI>1`, timestamp, host,
//! app, procid, msgid, message), never looking at the count. A body is accepted here only when
//! both readings agree, so a sender that passes this receiver is read correctly by either:
//! every count is exact, frames are separated by their own counted LF, no message holds an LF,
//! and each message has the 7 RFC 5424 header parts Logplex writes, with no structured data
//! (Logplex drains carry none, and put no NILVALUE in its place).

use chrono::DateTime;

/// One message of a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// `<PRI>`: facility × 8 + severity.
    pub pri: u8,
    /// The RFC 3339 timestamp, as sent.
    pub timestamp: String,
    pub hostname: String,
    pub app_name: String,
    pub procid: String,
    pub msgid: String,
    /// The free-form message (without the frame's final LF).
    pub msg: String,
}

/// Reads every frame of a body; the error names the frame (0-based) and why.
pub fn parse(body: &[u8]) -> Result<Vec<Message>, String> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < body.len() {
        let n = out.len();
        let digits = body[pos..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 {
            return Err(format!(
                "frame {n} at byte {pos}: expected an octet count, found {:?}",
                preview(&body[pos..])
            ));
        }
        let after = pos + digits;
        if body.get(after) != Some(&b' ') {
            return Err(format!(
                "frame {n} at byte {pos}: the octet count must be followed by one space"
            ));
        }
        let len: usize = std::str::from_utf8(&body[pos..after])
            .ok()
            .and_then(|d| d.parse().ok())
            .filter(|l| *l > 0)
            .ok_or_else(|| format!("frame {n} at byte {pos}: invalid octet count"))?;
        let start = after + 1;
        let remaining = body.len() - start;
        if len > remaining {
            return Err(format!(
                "frame {n} declares {len} octets but only {remaining} remain in the body"
            ));
        }
        let end = start + len;
        let frame = &body[start..end];
        let msg = frame.strip_suffix(b"\n").unwrap_or(frame);
        if msg.len() == frame.len() && end < body.len() {
            return Err(if body[end] == b'\n' {
                format!(
                    "frame {n}: an LF follows its {len} counted octets; the count must include the LF"
                )
            } else {
                format!(
                    "frame {n}: its {len} octets do not end with an LF, so the next frame would be read as part of the same line"
                )
            });
        }
        if msg.contains(&b'\n') {
            return Err(format!(
                "frame {n}: the message contains an LF, which line-based drains read as two messages"
            ));
        }
        let text = std::str::from_utf8(msg).map_err(|e| format!("frame {n}: not UTF-8: {e}"))?;
        out.push(message(text).map_err(|e| format!("frame {n}: {e}"))?);
        pos = end;
    }
    Ok(out)
}

/// `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID MSG`, as Vector splits it.
fn message(text: &str) -> Result<Message, String> {
    let parts: Vec<&str> = text.splitn(7, ' ').collect();
    let [pri_version, timestamp, hostname, app_name, procid, msgid, msg] = parts[..] else {
        return Err(format!(
            "expected `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID MSG`, found {} space-separated parts in {:?}",
            parts.len(),
            preview(text.as_bytes())
        ));
    };
    let pri = pri_version
        .strip_prefix('<')
        .and_then(|r| r.strip_suffix(">1"))
        .filter(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|p| p.parse::<u8>().ok())
        .filter(|p| *p <= 191)
        .ok_or_else(|| format!("{pri_version:?} is not `<PRI>1` with PRI 0..=191"))?;
    DateTime::parse_from_rfc3339(timestamp)
        .map_err(|e| format!("timestamp {timestamp:?} is not RFC 3339: {e}"))?;
    header_field("HOSTNAME", hostname, 255)?;
    header_field("APP-NAME", app_name, 48)?;
    header_field("PROCID", procid, 128)?;
    header_field("MSGID", msgid, 32)?;
    if msg.is_empty() {
        return Err("empty MSG".into());
    }
    if msg.starts_with('[') {
        return Err(format!(
            "structured data after MSGID ({:?}); Logplex drains carry none",
            preview(msg.as_bytes())
        ));
    }
    Ok(Message {
        pri,
        timestamp: timestamp.to_string(),
        hostname: hostname.to_string(),
        app_name: app_name.to_string(),
        procid: procid.to_string(),
        msgid: msgid.to_string(),
        msg: msg.to_string(),
    })
}

/// RFC 5424 §6.2: 1..=max printable US-ASCII characters (`-` when absent).
fn header_field(name: &str, v: &str, max: usize) -> Result<(), String> {
    if v.is_empty() {
        return Err(format!("empty {name} (two spaces in a row?)"));
    }
    if v.len() > max || !v.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!(
            "{name} {v:?} must be 1 to {max} printable US-ASCII characters"
        ));
    }
    Ok(())
}

fn preview(b: &[u8]) -> String {
    String::from_utf8_lossy(&b[..b.len().min(40)]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Heroku's documented example: 69 bytes of message, counted 70 with the LF.
    const HEROKU: &str =
        "70 <174>1 2012-07-22T00:06:26+00:00 host erlang console - Hi from erlang\n";

    #[test]
    fn herokus_example_parses() {
        let body = HEROKU.repeat(3);
        let msgs = parse(body.as_bytes()).unwrap();
        assert_eq!(msgs.len(), 3);
        let m = &msgs[0];
        assert_eq!(m.pri, 174);
        assert_eq!(m.hostname, "host");
        assert_eq!(m.app_name, "erlang");
        assert_eq!(m.procid, "console");
        assert_eq!(m.msgid, "-");
        assert_eq!(m.msg, "Hi from erlang");
        // The last frame may also go without its LF.
        let last = "69 <174>1 2012-07-22T00:06:26+00:00 host erlang console - Hi from erlang";
        assert_eq!(
            parse(format!("{HEROKU}{last}").as_bytes()).unwrap().len(),
            2
        );
    }

    fn err(body: &str) -> String {
        parse(body.as_bytes()).unwrap_err()
    }

    #[test]
    fn counts_must_be_exact() {
        // The LF not counted: 69 then a stray LF.
        let uncounted =
            "69 <174>1 2012-07-22T00:06:26+00:00 host erlang console - Hi from erlang\n";
        assert!(err(&uncounted.repeat(2)).contains("the count must include the LF"));
        assert!(
            err("71 <174>1 2012-07-22T00:06:26+00:00 host erlang console - Hi from erlang\n")
                .contains("declares 71 octets but only 70 remain")
        );
        // One short: the frame ends before the LF, the next "frame" starts with it.
        let short = "68 <174>1 2012-07-22T00:06:26+00:00 host erlang console - Hi from erlang\n";
        assert!(err(short).contains("do not end with an LF"));
        assert!(err("x <174>1").contains("expected an octet count"));
        assert!(err("70<174>1").contains("followed by one space"));
    }

    #[test]
    fn messages_must_be_single_line_logplex_syslog() {
        let frame = |m: &str| format!("{} {m}\n", m.len() + 1);
        let ok = "<13>1 2026-03-10T14:25:00.123456+00:00 sfevents app web.1 - hello";
        assert!(parse(frame(ok).as_bytes()).is_ok());
        let cases = [
            (
                "<13>1 2026-03-10T14:25:00Z h a p - line1\nline2",
                "contains an LF",
            ),
            (
                "<13>1 2026-03-10T14:25:00Z h a p id [sd@1 k=\"v\"] msg",
                "structured data",
            ),
            (
                "<13>1 2026-03-10T14:25:00Z h a p id",
                "found 6 space-separated parts",
            ),
            ("<13>1 2026-03-10T14:25:00Z h a p id ", "empty MSG"),
            ("<13>1 2026-03-10T14:25:00Z h  p id m", "empty APP-NAME"),
            ("<192>1 2026-03-10T14:25:00Z h a p id m", "PRI 0..=191"),
            ("<13> 2026-03-10T14:25:00Z h a p id m", "`<PRI>1`"),
            ("<13>1 10/Mar/2026 h a p id m", "not RFC 3339"),
            (
                "<13>1 2026-03-10T14:25:00Z h a p 0123456789012345678901234567890123 m",
                "MSGID",
            ),
        ];
        for (m, want) in cases {
            let e = err(&frame(m));
            assert!(e.starts_with("frame 0"), "{e}");
            assert!(e.contains(want), "{m:?}: {e}");
        }
    }
}
