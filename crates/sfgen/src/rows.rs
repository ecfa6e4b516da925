//! Row generation for one hour block, and CSV encoding.

use chrono::{DateTime, Datelike, Timelike, Utc};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::columns::Kind;
use crate::ids::{digest, push_id15, push_id18};

const HOUR_MS: u64 = 3_600_000;
/// 62^7: random record numbers fill the last 7 base62 places of an id.
const REC_SPACE: u64 = 3_521_614_606_208;
const B64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// A deterministic random source (ChaCha8, whose output stream is stable across versions).
pub(crate) struct Rng(ChaCha8Rng);

impl Rng {
    pub(crate) fn from_digest(d: [u8; 32]) -> Rng {
        Rng(ChaCha8Rng::from_seed(d))
    }
    pub(crate) fn from_parts(parts: &[&[u8]]) -> Rng {
        Rng::from_digest(digest(parts))
    }
    #[inline]
    pub(crate) fn u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    /// Uniform in `[0, n)` (`0` when `n == 0`).
    #[inline]
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((self.u64() as u128 * n as u128) >> 64) as u64
    }
    #[inline]
    pub(crate) fn permille(&mut self, p: u32) -> bool {
        self.below(1000) < p as u64
    }
    #[inline]
    pub(crate) fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
    /// Uniform in `[0, 1)`.
    #[inline]
    fn unit(&mut self) -> f64 {
        (self.u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// Org-wide data the rows refer to.
pub(crate) struct OrgCtx {
    pub org_id15: String,
    pub slug: String,
    pub users: Vec<UserCtx>,
}

pub(crate) struct UserCtx {
    pub id15: String,
    pub id18: String,
    pub username: String,
    pub ip: [u8; 4],
}

/// One event type's columns, resolved once.
pub(crate) struct TypeInfo {
    pub name: String,
    pub columns: Vec<&'static str>,
    pub kinds: Vec<Kind>,
    pub uris: &'static [&'static str],
    pub api_heavy: bool,
    /// The encoded header line.
    pub header: Vec<u8>,
    /// Per column: whether a value can contain a double quote.
    pub may_quote: Vec<bool>,
    pub field_types: String,
}

impl TypeInfo {
    pub(crate) fn new(name: &str) -> TypeInfo {
        let columns = crate::columns::columns(name);
        let kinds: Vec<Kind> = columns
            .iter()
            .map(|c| crate::columns::kind(name, c))
            .collect();
        let mut header = Vec::new();
        encode_row(columns.iter().map(|c| c.as_bytes()), &mut header);
        let field_types = kinds
            .iter()
            .map(|k| k.field_type())
            .collect::<Vec<_>>()
            .join(",");
        let may_quote = kinds.iter().map(|k| k.may_quote(name)).collect();
        TypeInfo {
            may_quote,
            name: name.to_string(),
            columns,
            kinds,
            uris: crate::columns::uri_templates(name),
            api_heavy: crate::columns::api_heavy(name),
            header,
            field_types,
        }
    }
}

/// Identifies one hour block: its rows are a pure function of this and the spec's seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct BlockKey {
    /// Index into the org's event types.
    pub ti: usize,
    /// Start of the hour, Unix seconds.
    pub hour: i64,
    pub seq: u32,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Block {
    pub key: BlockKey,
    pub rows: u64,
}

pub(crate) fn block_rng(seed: u64, type_name: &str, key: &BlockKey) -> Rng {
    Rng::from_parts(&[
        b"sfgen-block",
        &seed.to_le_bytes(),
        type_name.as_bytes(),
        &key.hour.to_le_bytes(),
        &key.seq.to_le_bytes(),
    ])
}

struct Keys {
    login: [u8; 16],
    session: [u8; 16],
}

/// Generates the rows of one hour block in timestamp order.
pub(crate) struct RowGen<'a> {
    org: &'a OrgCtx,
    ti: &'a TypeInfo,
    rng: Rng,
    n: u64,
    i: u64,
    last_ms: u64,
    hour_ms: i64,
    ts_prefix: String,
    iso_prefix: String,
    keys: Vec<Keys>,
    /// The next row's choices, drawn early by [`RowGen::peek_ms`] (same draws, same order).
    pending: Option<RowCtx>,
}

/// One row's values, concatenated (always UTF-8: every source is a `str` or ASCII).
#[derive(Default, Clone)]
pub(crate) struct RowBuf {
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl RowBuf {
    /// A row holding these values (a scenario's planted row).
    pub(crate) fn from_values<S: AsRef<str>>(values: &[S]) -> RowBuf {
        let mut row = RowBuf::default();
        for v in values {
            row.data.extend_from_slice(v.as_ref().as_bytes());
            row.ends.push(row.data.len());
        }
        row
    }
    pub(crate) fn values(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(self.ends.iter()).map(|(a, &b)| &self.data[a..b])
    }
    pub(crate) fn to_strings(&self) -> Vec<String> {
        self.values()
            .map(|v| {
                String::from_utf8(v.to_vec())
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
            })
            .collect()
    }
    /// Appends the CSV line; `may_quote[i]` false promises value i has no `"`.
    pub(crate) fn encode(&self, may_quote: &[bool], out: &mut Vec<u8>) {
        out.reserve(self.data.len() + 3 * self.ends.len() + 2);
        out.push(b'"');
        for (i, v) in self.values().enumerate() {
            if i > 0 {
                out.extend_from_slice(b"\",\"");
            }
            if may_quote.get(i).copied().unwrap_or(true) && v.contains(&b'"') {
                for &c in v {
                    if c == b'"' {
                        out.push(b'"');
                    }
                    out.push(c);
                }
            } else {
                out.extend_from_slice(v);
            }
        }
        out.extend_from_slice(b"\"\n");
    }
}

/// Per-row choices shared by several columns.
struct RowCtx {
    ms: u64,
    user: usize,
    no_user: bool,
    uri: &'static str,
    rec: u64,
    ip: Ip,
}

enum Ip {
    Sfdc,
    User,
    Other([u8; 4]),
}

impl<'a> RowGen<'a> {
    pub(crate) fn new(org: &'a OrgCtx, ti: &'a TypeInfo, seed: u64, block: &Block) -> Self {
        let mut rng = block_rng(seed, &ti.name, &block.key);
        let start = DateTime::<Utc>::from_timestamp(block.key.hour, 0).unwrap_or_default();
        let ts_prefix = format!(
            "{:04}{:02}{:02}{:02}",
            start.year(),
            start.month(),
            start.day(),
            start.hour()
        );
        let iso_prefix = format!(
            "{:04}-{:02}-{:02}T{:02}:",
            start.year(),
            start.month(),
            start.day(),
            start.hour()
        );
        let keys = org
            .users
            .iter()
            .map(|_| {
                let mut login = [0u8; 16];
                let mut session = [0u8; 16];
                fill_token(&mut rng, B64, &mut login);
                fill_token(&mut rng, B64, &mut session);
                Keys { login, session }
            })
            .collect();
        RowGen {
            org,
            ti,
            rng,
            n: block.rows,
            i: 0,
            last_ms: 0,
            hour_ms: block.key.hour * 1000,
            ts_prefix,
            iso_prefix,
            keys,
            pending: None,
        }
    }

    /// Milliseconds into the hour of the next row, `None` when the block is done. Draws the
    /// row's choices now, so a caller can merge other rows in time order.
    pub(crate) fn peek_ms(&mut self) -> Option<u64> {
        if self.pending.is_none() && self.i < self.n {
            self.pending = Some(self.row_ctx());
        }
        self.pending.as_ref().map(|c| c.ms)
    }

    /// Writes the next row into `row`; false when the block is done.
    pub(crate) fn next_into(&mut self, row: &mut RowBuf) -> bool {
        if self.i >= self.n {
            return false;
        }
        let ctx = match self.pending.take() {
            Some(c) => c,
            None => self.row_ctx(),
        };
        self.i += 1;
        row.data.clear();
        row.ends.clear();
        for &kind in &self.ti.kinds {
            self.value(kind, &ctx, &mut row.data);
            row.ends.push(row.data.len());
        }
        true
    }

    fn row_ctx(&mut self) -> RowCtx {
        let rng = &mut self.rng;
        // Stratified: row i falls in the i-th of n equal slices of the hour, so rows come
        // out sorted without holding the block in memory.
        let (i, n) = (self.i as u128, self.n as u128);
        let start = (i * HOUR_MS as u128 / n) as u64;
        let end = ((i + 1) * HOUR_MS as u128 / n) as u64;
        let mut ms = start + rng.below(end.saturating_sub(start));
        // Some timestamps are round, so they print with fewer fraction digits.
        if rng.permille(60) {
            let unit = [10u64, 100, 1000][rng.below(3) as usize];
            let up = ms.div_ceil(unit) * unit;
            if up < HOUR_MS {
                ms = up;
            }
        }
        ms = ms.max(self.last_ms).min(HOUR_MS - 1);
        self.last_ms = ms;

        let nusers = self.org.users.len().max(1) as u64;
        let user = if self.ti.api_heavy {
            if rng.permille(600) {
                0
            } else {
                rng.below(nusers) as usize
            }
        } else if rng.permille(100) || nusers == 1 {
            0
        } else {
            1 + rng.below(nusers - 1) as usize
        };
        let no_user = self.ti.name == "Logout" && rng.permille(20);
        let uri = rng.pick(self.ti.uris);
        let rec = rng.below(REC_SPACE);
        let r = rng.below(100);
        let ip = if (user == 0 && r < 50) || r < 4 {
            Ip::Sfdc
        } else if r < 85 {
            Ip::User
        } else {
            let v = rng.u64();
            let b = v.to_le_bytes();
            Ip::Other([
                [34, 52, 81, 104, 198, 203][(b[0] % 6) as usize],
                b[1],
                b[2],
                b[3].max(1),
            ])
        };
        RowCtx {
            ms,
            user,
            no_user,
            uri,
            rec,
            ip,
        }
    }

    fn value(&mut self, kind: Kind, c: &RowCtx, out: &mut Vec<u8>) {
        let user = &self.org.users[c.user.min(self.org.users.len().saturating_sub(1))];
        match kind {
            Kind::EventType => out.extend_from_slice(self.ti.name.as_bytes()),
            Kind::Timestamp => {
                out.extend_from_slice(self.ts_prefix.as_bytes());
                let (mm, ss, frac) = split_ms(c.ms);
                push_2d(out, mm);
                push_2d(out, ss);
                if frac > 0 {
                    out.push(b'.');
                    let digits = [
                        (frac / 100) as u8,
                        (frac / 10 % 10) as u8,
                        (frac % 10) as u8,
                    ];
                    let len = if frac % 100 == 0 {
                        1
                    } else if frac % 10 == 0 {
                        2
                    } else {
                        3
                    };
                    for d in &digits[..len] {
                        out.push(b'0' + d);
                    }
                }
            }
            Kind::TimestampDerived => {
                out.extend_from_slice(self.iso_prefix.as_bytes());
                let (mm, ss, frac) = split_ms(c.ms);
                push_2d(out, mm);
                out.push(b':');
                push_2d(out, ss);
                out.push(b'.');
                push_2d(out, frac / 10);
                out.push(b'0' + (frac % 10) as u8);
                out.push(b'Z');
            }
            Kind::EpochMs { max_back } => {
                let t = self.hour_ms + c.ms as i64 - self.rng.below(max_back as u64 + 1) as i64;
                push_u64(out, t.max(0) as u64);
            }
            Kind::RequestId => {
                let mut b = [0u8; 22];
                fill_token(&mut self.rng, B64URL, &mut b);
                push_ascii(out, &b);
            }
            Kind::OrgId => out.extend_from_slice(self.org.org_id15.as_bytes()),
            Kind::UserId => {
                if !c.no_user {
                    out.extend_from_slice(user.id15.as_bytes())
                }
            }
            Kind::UserIdDerived => {
                if !c.no_user {
                    out.extend_from_slice(user.id18.as_bytes())
                }
            }
            Kind::UserName => {
                if !c.no_user {
                    out.extend_from_slice(user.username.as_bytes())
                }
            }
            Kind::ClientIp => match c.ip {
                Ip::Sfdc => out.extend_from_slice(b"Salesforce.com IP"),
                Ip::User => push_ip(out, user.ip),
                Ip::Other(ip) => push_ip(out, ip),
            },
            Kind::PlainIp => match c.ip {
                Ip::Other(ip) => push_ip(out, ip),
                _ => push_ip(out, user.ip),
            },
            Kind::SessionKey => {
                if !self.rng.permille(150) {
                    push_ascii(out, &self.keys[c.user].session);
                }
            }
            Kind::LoginKey => push_ascii(out, &self.keys[c.user].login),
            Kind::Uri => push_template(out, c.uri, c.rec, &self.org.slug),
            Kind::UriIdDerived => {
                if let Some(prefix) = template_id_prefix(c.uri) {
                    push_id18(out, prefix, c.rec);
                }
            }
            Kind::ApiVersion => out.extend_from_slice(self.rng.pick(API_VERSIONS).as_bytes()),
            Kind::UserAgent => out.extend_from_slice(self.rng.pick(USER_AGENTS).as_bytes()),
            Kind::Query => out.extend_from_slice(self.rng.pick(QUERIES).as_bytes()),
            Kind::EntityName => out.extend_from_slice(self.rng.pick(ENTITY_NAMES).as_bytes()),
            Kind::ErrorText => {
                if self.rng.permille(150) {
                    let t = self.rng.pick(ERROR_TEXTS);
                    push_template(out, t, c.rec, &self.org.slug);
                }
            }
            Kind::Pick(items) => out.extend_from_slice(self.rng.pick(items).as_bytes()),
            Kind::Template(items) => {
                let t = self.rng.pick(items);
                push_template(out, t, c.rec, &self.org.slug);
            }
            Kind::Num(lo, hi) => push_u64(out, lo + self.rng.below(hi - lo + 1)),
            Kind::Skewed(lo, hi) => {
                let u = self.rng.unit();
                push_u64(out, lo + ((hi - lo) as f64 * u * u * u) as u64);
            }
            Kind::Bool01(p) => out.push(if self.rng.permille(p) { b'1' } else { b'0' }),
            Kind::BoolTf(p) => out.extend_from_slice(if self.rng.permille(p) {
                b"true".as_slice()
            } else {
                b"false"
            }),
            Kind::RecId(prefix) => push_id15(out, prefix, c.rec),
            Kind::RecIdDerived(prefix) => push_id18(out, prefix, c.rec),
            Kind::RandId(prefix, empty) => {
                if !self.rng.permille(empty) {
                    let n = self.rng.below(REC_SPACE);
                    push_id15(out, prefix, n);
                }
            }
            Kind::RandId18(prefix, empty) => {
                if !self.rng.permille(empty) {
                    let n = self.rng.below(REC_SPACE);
                    push_id18(out, prefix, n);
                }
            }
            Kind::Uuid => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let v = ((self.rng.u64() as u128) << 64) | self.rng.u64() as u128;
                for k in 0..32 {
                    if matches!(k, 8 | 12 | 16 | 20) {
                        out.push(b'-');
                    }
                    out.push(HEX[((v >> (124 - 4 * k)) & 15) as usize]);
                }
            }
        }
    }
}

fn split_ms(ms: u64) -> (u64, u64, u64) {
    (ms / 60_000, ms / 1000 % 60, ms % 1000)
}

fn fill_token(rng: &mut Rng, alphabet: &[u8; 64], out: &mut [u8]) {
    let mut bits = 0u64;
    let mut avail = 0;
    for o in out.iter_mut() {
        if avail < 6 {
            bits = rng.u64();
            avail = 64;
        }
        *o = alphabet[(bits & 63) as usize];
        bits >>= 6;
        avail -= 6;
    }
}

fn push_ascii(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(b);
}

fn push_2d(out: &mut Vec<u8>, n: u64) {
    out.push(b'0' + (n / 10 % 10) as u8);
    out.push(b'0' + (n % 10) as u8);
}

pub(crate) fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    push_ascii(out, &buf[i..]);
}

fn push_ip(out: &mut Vec<u8>, ip: [u8; 4]) {
    for (i, o) in ip.iter().enumerate() {
        if i > 0 {
            out.push(b'.');
        }
        push_u64(out, *o as u64);
    }
}

/// The key prefix of a template's record placeholder (`{001}`), if it has one.
fn template_id_prefix(t: &'static str) -> Option<&'static str> {
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        rest = &rest[open + 1..];
        if let Some(name) = rest.get(..4).and_then(|s| s.strip_suffix('}')) {
            if name != "org" && name.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Some(name);
            }
        }
    }
    None
}

/// Expands `{org}` to the org's slug and `{XYZ}` to the row's record id with prefix XYZ.
pub(crate) fn push_template(out: &mut Vec<u8>, t: &str, rec: u64, slug: &str) {
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}').filter(|&c| c == 3);
        match close {
            Some(close) => {
                out.extend_from_slice(&rest.as_bytes()[..open]);
                let name = &after[..close];
                if name == "org" {
                    out.extend_from_slice(slug.as_bytes());
                } else {
                    push_id15(out, name, rec);
                }
                rest = &after[close + 1..];
            }
            None => {
                out.extend_from_slice(&rest.as_bytes()[..=open]);
                rest = after;
            }
        }
    }
    out.extend_from_slice(rest.as_bytes());
}

/// Appends one CSV line: every value quoted, quotes doubled, `\n` at the end.
pub(crate) fn encode_row<'s>(values: impl IntoIterator<Item = &'s [u8]>, out: &mut Vec<u8>) {
    for (i, b) in values.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        if b.contains(&b'"') {
            for &c in b {
                if c == b'"' {
                    out.push(b'"');
                }
                out.push(c);
            }
        } else {
            out.extend_from_slice(b);
        }
        out.push(b'"');
    }
    out.push(b'\n');
}

const API_VERSIONS: &[&str] = &["64.0", "64.0", "64.0", "63.0", "62.0", "58.0", "9998.0"];

const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36 Edg/125.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "SalesforceMobileSDK/11.1.0 iOS/17.4.1 (iPhone) Salesforce1/248.010(3000101)",
    "Go-http-client/1.1",
    "python-requests/2.31.0",
    "Apache-HttpClient/4.5.14 (Java/17.0.10)",
    "sfevents/0.1 (rust; reqwest)",
];

const QUERIES: &[&str] = &[
    "",
    "",
    "",
    "",
    "SELECT Id, Name FROM Account WHERE Name = 'Acme, Inc.' LIMIT 10",
    "SELECT Id, Subject, Status\nFROM Case\nWHERE Status != 'Closed'",
    "SELECT Id FROM Contact WHERE Title = 'VP \"Sales\"'",
    "SELECT Id, EventType, LogFile FROM EventLogFile WHERE CreatedDate > 2024-01-01T00:00:00Z ORDER BY CreatedDate, Id",
    "SELECT COUNT() FROM Opportunity WHERE StageName IN ('Closed Won', 'Negotiation')",
];

const ENTITY_NAMES: &[&str] = &[
    "",
    "",
    "Account",
    "Account",
    "Contact",
    "Opportunity",
    "Case",
    "Lead",
    "EventLogFile",
    "Account,Contact",
    "\"Invoice__c\",\"Invoice_Line__c\"",
    "Order\nOrderItem",
];

const ERROR_TEXTS: &[&str] = &[
    "Session expired or invalid",
    "INVALID_FIELD: \nSELECT Id, Foo__c FROM Account\n           ^\nERROR at Row:1:Column:12\nNo such column 'Foo__c' on entity 'Account'",
    "Required fields are missing: [LastName, \"Company\"]",
    "Read timed out, retrying (attempt 2)",
    "Redirected from \"{org}.my.salesforce.com\" to \"{org}.lightning.force.com\",\nupdate your bookmarks",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        let mut s = Vec::new();
        push_template(&mut s, "/x/{001}/y/{org}{z", 0, "acme");
        assert_eq!(s, b"/x/0015j0000000000/y/acme{z");
        assert_eq!(
            template_id_prefix("/lightning/r/Account/{001}/view"),
            Some("001")
        );
        assert_eq!(template_id_prefix("https://{org}.x"), None);
        let mut v = Vec::new();
        encode_row([&b"a\"b"[..], b"", b"x,\ny"], &mut v);
        assert_eq!(v, b"\"a\"\"b\",\"\",\"x,\ny\"\n");
        let mut n = Vec::new();
        push_u64(&mut n, 0);
        push_u64(&mut n, 1234567);
        assert_eq!(n, b"01234567");
    }
}
