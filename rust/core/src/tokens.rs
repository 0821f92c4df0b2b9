//! Static Bearer tokens, held only as SHA-256 digests and looked up in time that does not depend on
//! which entry (if any) matches: every stored digest is compared in full, in constant time.

use sha2::{Digest, Sha256};
use subtle::{ConditionallySelectable, ConstantTimeEq};

/// The SHA-256 digest of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// The digests of a token map, in the map's order.
#[derive(Debug, Clone)]
pub struct TokenTable {
    digests: Vec<[u8; 32]>,
}

impl TokenTable {
    pub fn new(digests: Vec<[u8; 32]>) -> Self {
        Self { digests }
    }

    /// The index of the entry whose digest is `token`'s; with repeated digests, the last one.
    pub fn find(&self, token: &[u8]) -> Option<usize> {
        let digest = sha256(token);
        let mut found = u64::MAX; // no entry
        for (index, stored) in self.digests.iter().enumerate() {
            let index = u64::try_from(index).unwrap_or(u64::MAX);
            found.conditional_assign(&index, stored.ct_eq(&digest));
        }
        usize::try_from(found).ok().filter(|_| found != u64::MAX)
    }

    pub fn len(&self) -> usize {
        self.digests.len()
    }

    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_known_input() {
        let hex: String = sha256(b"abc").iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn finds_the_matching_entry() {
        let table = TokenTable::new(vec![sha256(b"a"), sha256(b"b"), sha256(b"c")]);
        assert_eq!(table.find(b"b"), Some(1));
        assert_eq!(table.find(b"c"), Some(2));
        assert_eq!(table.find(b"d"), None);
        assert_eq!(TokenTable::new(Vec::new()).find(b"a"), None);
        assert_eq!(table.len(), 3);
    }

    #[test]
    fn no_early_exit() {
        // the walk goes on past a match: with a repeated digest, the last entry is the one reported
        let table = TokenTable::new(vec![sha256(b"a"), sha256(b"a"), sha256(b"b")]);
        assert_eq!(table.find(b"a"), Some(1));
    }
}
