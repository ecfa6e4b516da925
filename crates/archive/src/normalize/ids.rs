//! Event ids. Outputs use them as document ids (Elasticsearch `_id`, the syslog structured
//! data, Splunk `fields`), so a redone unit is recognised as a repeat wherever the destination
//! deduplicates. The scheme is fixed: changing it would make every destination see the whole
//! archive as new events on the next replay.
//!
//! An id is `<scope>-<local>`:
//! - `scope` is 20 lowercase hex digits, the first 80 bits of
//!   `sha256("sfevents-id-v1" 0x1f kind 0x1f org_id 0x1f unit)`, computed once per unit:
//!   `kind` is `elf` with the EventLogFile's Id as `unit`, or `obj` with the object's API name.
//!   The org id is in it because two orgs can hold the same record Ids (a full sandbox copies
//!   production's), and several orgs may ship into one index.
//! - `local` is the row's 1-based number in the file (EventLogFile), or the object record's
//!   de-duplication key: its EventIdentifier, its Id, or `Id@SystemModstamp` for records
//!   followed by their modification stamp.
//!
//! So `3f0c9a6e5b1d2c4f7a80-17` is row 17 of one EventLogFile. The cost per row is a copy
//! of the scope and the row number: no hash per row.

use sha2::{Digest, Sha256};

/// Version tag of the scheme, hashed into every scope.
const SCHEME: &str = "sfevents-id-v1";

/// The 20-hex-digit scope of a unit, followed by `-`.
fn prefix(kind: &str, org_id: &str, unit: &str) -> String {
    let mut h = Sha256::new();
    for part in [SCHEME, kind, org_id, unit] {
        h.update(part.as_bytes());
        h.update([0x1f]);
    }
    let mut p = hex::encode(&h.finalize()[..10]);
    p.push('-');
    p
}

/// The id prefix of every row of one EventLogFile: append the row number.
pub fn elf_prefix(org_id: &str, file_id: &str) -> String {
    prefix("elf", org_id, file_id)
}

/// The id prefix of every record of one object: append the record's key.
pub fn object_prefix(org_id: &str, object: &str) -> String {
    prefix("obj", org_id, object)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pinned: these ids are document ids at the destinations and must never change.
    #[test]
    fn ids_are_pinned() {
        let p = elf_prefix("00D000000000001AAA", "0AT000000000001AAA");
        assert_eq!(format!("{p}7"), "a63229e81850af731eae-7");
        let p = object_prefix("00D000000000001AAA", "LoginEvent");
        assert_eq!(
            format!("{p}06af6d92-1167-467d-a826-ee8583f7134d"),
            "551e4f883bedade85468-06af6d92-1167-467d-a826-ee8583f7134d"
        );
    }

    #[test]
    fn scopes_differ_by_org_kind_and_unit() {
        let a = elf_prefix("00D000000000001AAA", "0AT000000000001AAA");
        assert_ne!(a, elf_prefix("00D000000000002AAA", "0AT000000000001AAA"));
        assert_ne!(a, elf_prefix("00D000000000001AAA", "0AT000000000002AAA"));
        assert_ne!(a, object_prefix("00D000000000001AAA", "0AT000000000001AAA"));
        assert_eq!(a.len(), 21);
    }
}
