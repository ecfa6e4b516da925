//! Salesforce ids: 15-character case-sensitive ids and their 18-character case-safe form.

use sha2::{Digest, Sha256};

pub(crate) const BASE62: &[u8; 62] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The alphabet of the 18-character id's checksum suffix.
const SUFFIX: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// The server "pod" part of every generated id (`0055j00000AT6I1`).
pub(crate) const POD: &[u8; 2] = b"5j";

/// The three checksum characters of a 15-character id.
pub(crate) fn suffix(id15: &[u8; 15]) -> [u8; 3] {
    let mut out = [0u8; 3];
    for (chunk, o) in id15.chunks(5).zip(out.iter_mut()) {
        let mut flags = 0usize;
        for (i, c) in chunk.iter().enumerate() {
            if c.is_ascii_uppercase() {
                flags |= 1 << i;
            }
        }
        *o = SUFFIX[flags];
    }
    out
}

/// The 18-character form of a 15-character id; other inputs are returned unchanged.
pub(crate) fn id18(id15: &str) -> String {
    let b = id15.as_bytes();
    let Ok(arr) = <[u8; 15]>::try_from(b) else {
        return id15.to_string();
    };
    let s = suffix(&arr);
    let mut out = String::with_capacity(18);
    out.push_str(id15);
    for c in s {
        out.push(c as char);
    }
    out
}

/// A 15-character id: 3-character key prefix, the pod, then `n` in base62 padded to 10.
pub(crate) fn id15_bytes(prefix: &str, n: u64) -> [u8; 15] {
    let mut out = [b'0'; 15];
    for (o, c) in out.iter_mut().zip(prefix.bytes().take(3)) {
        *o = c;
    }
    out[3] = POD[0];
    out[4] = POD[1];
    let mut n = n;
    let mut i = 14;
    while n > 0 && i >= 5 {
        out[i] = BASE62[(n % 62) as usize];
        n /= 62;
        i -= 1;
    }
    out
}

pub(crate) fn push_id15(out: &mut Vec<u8>, prefix: &str, n: u64) {
    out.extend_from_slice(&id15_bytes(prefix, n));
}

pub(crate) fn push_id18(out: &mut Vec<u8>, prefix: &str, n: u64) {
    let b = id15_bytes(prefix, n);
    out.extend_from_slice(&b);
    out.extend_from_slice(&suffix(&b));
}

pub(crate) fn make_id15(prefix: &str, n: u64) -> String {
    let mut s = Vec::with_capacity(15);
    push_id15(&mut s, prefix, n);
    // Prefixes are ASCII literals and the rest base62.
    String::from_utf8_lossy(&s).into_owned()
}

#[cfg(test)]
pub(crate) fn make_id18(prefix: &str, n: u64) -> String {
    let mut s = Vec::with_capacity(18);
    push_id18(&mut s, prefix, n);
    String::from_utf8_lossy(&s).into_owned()
}

/// 32 bytes of sha256 over the given parts (each length-prefixed, so the split is unambiguous).
pub(crate) fn digest(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().into()
}

/// A u64 taken from a digest.
pub(crate) fn digest_u64(parts: &[&[u8]]) -> u64 {
    let d = digest(parts);
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    u64::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_ids() {
        assert_eq!(id18("0055j00000AT6I1"), "0055j00000AT6I1AAL");
        assert_eq!(id18("00D5j00000DgAYG"), "00D5j00000DgAYGEA3");
        assert_eq!(id18("short"), "short");
        assert_eq!(make_id15("005", 0), "0055j0000000000");
        assert_eq!(make_id15("0AT", 61), "0AT5j000000000z");
        assert_eq!(make_id18("005", 0).len(), 18);
    }
}
