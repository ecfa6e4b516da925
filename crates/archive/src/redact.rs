//! Field redaction: removes fields from the Salesforce record of an event (`redact`) or
//! replaces their values with a keyed hash (`pseudonymize`), so outputs (and, when asked, the
//! archive's NDJSON) never hold session keys or user names while reports and detections still
//! group by user.
//!
//! Field names are the record's own (EventLogFile columns such as `USER_NAME`, object fields
//! such as `Username`), matched exactly; a dotted name such as `CreatedBy.Username` also
//! reaches into a related record. Only the record under `fields` is touched: the archive's own
//! keys (`id`, `org_id`, `@timestamp`, ...) are not Salesforce values.
//!
//! A pseudonym is `p:` and the first 16 bytes of HMAC-SHA256(key, value) in hex: the same
//! value gives the same pseudonym under one key, and nothing about the value without the key.
//! Pseudonyms are left as they are when met again, so redacting twice (an archive written
//! redacted, then shipped) gives what redacting once gives.

use std::io::Write;

use serde_json::{Map, Value};
use sha2::Sha256;

use base::secret::Secret;

/// The shortest key accepted: shorter keys can be guessed from the pseudonyms.
pub const MIN_KEY_BYTES: usize = 16;
const PREFIX: &str = "p:";
/// Bytes of the HMAC kept (hex-encoded, twice as many characters).
const KEPT: usize = 16;

/// HMAC-SHA256 keyed once; each value clones the keyed state (RustCrypto's `hmac`).
#[derive(Clone)]
struct Hmac(hmac::Hmac<Sha256>);

impl Hmac {
    fn new(key: &[u8]) -> Hmac {
        // HMAC takes keys of any length (RFC 2104): `new_from_slice` cannot fail for it.
        Hmac(
            <hmac::Hmac<Sha256> as hmac::Mac>::new_from_slice(key)
                .expect("HMAC accepts any key length"),
        )
    }

    fn mac(&self, data: &[u8]) -> [u8; 32] {
        use hmac::Mac;
        let mut m = self.0.clone();
        m.update(data);
        m.finalize().into_bytes().into()
    }
}

/// What to take out of every record, and the key for pseudonyms.
#[derive(Clone)]
pub struct Redactor {
    remove: Vec<String>,
    pseudonymize: Vec<String>,
    hmac: Option<Hmac>,
    archive: bool,
}

// By hand: the keyed hash states must never print.
impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("remove", &self.remove)
            .field("pseudonymize", &self.pseudonymize)
            .field("key", &self.hmac.as_ref().map(|_| "[redacted]"))
            .field("archive", &self.archive)
            .finish()
    }
}

/// A `[redaction]` that cannot work; the message names the rule, never the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedactorError {
    #[error("field name '{0}' is not valid: use the record's field names, such as USER_NAME or CreatedBy.Username")]
    FieldName(String),
    #[error("field {0} is both in redact and in pseudonymize: choose one")]
    Both(String),
    #[error("pseudonymize names fields but no key is given")]
    NoKey,
    #[error("the pseudonymize key is {0} bytes long: use at least {MIN_KEY_BYTES} random bytes (e.g. `openssl rand -hex 32`)")]
    ShortKey(usize),
}

impl Redactor {
    /// `key` is required when `pseudonymize` names a field, and must be at least
    /// [`MIN_KEY_BYTES`] long. The error says which rule was broken, never the key.
    pub fn new(
        remove: Vec<String>,
        pseudonymize: Vec<String>,
        key: Option<&Secret>,
        archive: bool,
    ) -> Result<Redactor, RedactorError> {
        for name in remove.iter().chain(&pseudonymize) {
            if name.is_empty() || name.split('.').any(str::is_empty) {
                return Err(RedactorError::FieldName(name.clone()));
            }
        }
        if let Some(both) = remove.iter().find(|n| pseudonymize.contains(n)) {
            return Err(RedactorError::Both(both.clone()));
        }
        let hmac = match (pseudonymize.is_empty(), key) {
            (true, _) => None,
            (false, None) => return Err(RedactorError::NoKey),
            (false, Some(k)) if k.expose().len() < MIN_KEY_BYTES => {
                return Err(RedactorError::ShortKey(k.expose().len()))
            }
            (false, Some(k)) => Some(Hmac::new(k.expose().as_bytes())),
        };
        Ok(Redactor {
            remove,
            pseudonymize,
            hmac,
            archive,
        })
    }

    /// True when the archive's NDJSON is to be written redacted too.
    pub fn archive(&self) -> bool {
        self.archive
    }

    /// True when there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.remove.is_empty() && self.pseudonymize.is_empty()
    }

    /// The pseudonym of a value.
    pub fn pseudonym(&self, value: &str) -> Option<String> {
        let mac = self.hmac.as_ref()?.mac(value.as_bytes());
        Some(format!("{PREFIX}{}", hex::encode(&mac[..KEPT])))
    }

    /// Redacts the record under `fields` of an archive event (anything else is left alone).
    pub fn event(&self, event: &mut Value) {
        if let Some(fields) = event.get_mut("fields").and_then(Value::as_object_mut) {
            self.record(fields);
        }
    }

    /// Redacts a Salesforce record in place.
    pub fn record(&self, record: &mut Map<String, Value>) {
        for name in &self.remove {
            if let Some((map, key)) = locate(record, name) {
                // `shift_remove`: the record keeps its column order.
                map.shift_remove(key);
            }
        }
        for name in &self.pseudonymize {
            if let Some((map, key)) = locate(record, name) {
                if let Some(v) = map.get_mut(key) {
                    self.replace(v);
                }
            }
        }
    }

    fn replace(&self, v: &mut Value) {
        let p = match &*v {
            // Nothing to hide, and "no user" stays recognisable.
            Value::Null => return,
            Value::String(s) if s.is_empty() || is_pseudonym(s) => return,
            Value::String(s) => self.pseudonym(s),
            // Numbers, booleans, related records: their JSON text.
            other => self.pseudonym(&other.to_string()),
        };
        if let Some(p) = p {
            *v = Value::String(p);
        }
    }

    /// Redacts one archive line (JSON, without its newline) into `out`, with a newline.
    pub fn line(&self, line: &[u8], out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        let mut v: Value = serde_json::from_slice(line)?;
        self.event(&mut v);
        serde_json::to_writer(&mut *out, &v)?;
        out.push(b'\n');
        Ok(())
    }
}

/// Where `name` is: the record's own key when it has one by that exact name, else the path
/// through related records (`CreatedBy.Username`). The map holding the value, and its key.
fn locate<'m, 'n>(
    record: &'m mut Map<String, Value>,
    name: &'n str,
) -> Option<(&'m mut Map<String, Value>, &'n str)> {
    if record.contains_key(name) {
        return Some((record, name));
    }
    let (parents, leaf) = name.rsplit_once('.')?;
    let mut map = record;
    for part in parents.split('.') {
        map = map.get_mut(part)?.as_object_mut()?;
    }
    map.contains_key(leaf).then_some((map, leaf))
}

/// `p:` and 32 lowercase hex digits: what [`Redactor::pseudonym`] makes.
fn is_pseudonym(s: &str) -> bool {
    s.len() == PREFIX.len() + 2 * KEPT
        && s.starts_with(PREFIX)
        && s[PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A writer of NDJSON that redacts each line on its way to `inner`: for the archive, behind
/// the EventLogFile converter, whose fast path stays as it is. Lines may arrive in any pieces.
pub struct RedactingWriter<'r, W: Write> {
    inner: W,
    redactor: &'r Redactor,
    /// The start of a line not yet complete.
    partial: Vec<u8>,
    out: Vec<u8>,
    /// Bytes written to `inner`.
    written: u64,
}

impl<'r, W: Write> RedactingWriter<'r, W> {
    pub fn new(inner: W, redactor: &'r Redactor) -> Self {
        RedactingWriter {
            inner,
            redactor,
            partial: Vec::new(),
            out: Vec::new(),
            written: 0,
        }
    }

    /// Writes what is left (a last line without a newline gets one) and returns the bytes
    /// written in all.
    pub fn finish(mut self) -> std::io::Result<u64> {
        if !self.partial.is_empty() {
            let last = std::mem::take(&mut self.partial);
            self.out.clear();
            self.redact_lines(&last)?;
            let last = std::mem::take(&mut self.out);
            self.emit(&last)?;
        }
        self.inner.flush()?;
        Ok(self.written)
    }

    fn redact_lines(&mut self, lines: &[u8]) -> std::io::Result<()> {
        for line in lines.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            self.redactor.line(line, &mut self.out).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("cannot redact an archive line: {e}"),
                )
            })?;
        }
        Ok(())
    }

    fn emit(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.inner.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }
}

impl<W: Write> Write for RedactingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let Some(last_nl) = buf.iter().rposition(|b| *b == b'\n') else {
            self.partial.extend_from_slice(buf);
            return Ok(buf.len());
        };
        self.out.clear();
        if self.partial.is_empty() {
            self.redact_lines(&buf[..last_nl])?;
        } else {
            let mut first = std::mem::take(&mut self.partial);
            first.extend_from_slice(&buf[..last_nl]);
            self.redact_lines(&first)?;
        }
        let out = std::mem::take(&mut self.out);
        self.emit(&out)?;
        self.out = out;
        self.partial.extend_from_slice(&buf[last_nl + 1..]);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
#[path = "redact_tests.rs"]
mod tests;
