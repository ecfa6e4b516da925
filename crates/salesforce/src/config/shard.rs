//! `--shard I/N`: an instance collects only the orgs whose name hashes to shard I of N, so N
//! instances (a StatefulSet, N hosts) split a config's orgs with no coordination. The hash is
//! SHA-256 of the org's name, stable across versions and machines; shards count from 0 (a
//! StatefulSet's pod ordinal).

use sha2::{Digest, Sha256};

use super::ConfigError;

/// One instance's share: shard `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// Reads `I/N` (0 <= I < N).
    pub fn parse(s: &str) -> Result<Shard, ConfigError> {
        let bad = || ConfigError::Shard(s.to_string());
        let (i, n) = s.trim().split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Whether the org named `name` is this shard's.
    pub fn takes(&self, name: &str) -> bool {
        let d = Sha256::digest(name.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&d[..8]);
        u64::from_be_bytes(first) % u64::from(self.count) == u64::from(self.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_org_is_in_exactly_one_shard() {
        let names: Vec<String> = (0..500).map(|i| format!("org-{i}")).collect();
        let shards: Vec<Shard> = (0..4)
            .map(|i| Shard::parse(&format!("{i}/4")).unwrap())
            .collect();
        let mut sizes = [0usize; 4];
        for n in &names {
            let owners: Vec<usize> = (0..4).filter(|&i| shards[i].takes(n)).collect();
            assert_eq!(owners.len(), 1, "{n}");
            sizes[owners[0]] += 1;
        }
        // Roughly even: each shard holds 125 of 500, give or take.
        assert!(sizes.iter().all(|&s| (90..160).contains(&s)), "{sizes:?}");
        // Stable: the first 8 bytes of SHA-256("acme-prod"), big-endian, mod 3 (as Python's
        // hashlib computes it) is 1, on every version and machine.
        assert!(Shard::parse("1/3").unwrap().takes("acme-prod"));
        assert!(!Shard::parse("0/3").unwrap().takes("acme-prod"));
    }

    #[test]
    fn shards_are_written_i_of_n() {
        assert_eq!(Shard::parse("2/5").unwrap(), Shard { index: 2, count: 5 });
        for bad in ["5/5", "1", "a/2", "1/0", "-1/2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }
}
