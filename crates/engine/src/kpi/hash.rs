//! A fast, non-cryptographic hasher for integer keys (contact ids).
//!
//! The folds keep a map of live contacts that sees several lookups per
//! contact; std's SipHash would dominate the cost of a fold. Keys are
//! driver-chosen ids, not attacker-controlled input, so flooding
//! resistance is not needed.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A multiply-xorshift hasher: each word is mixed in with one
/// multiplication, and `finish` applies a short xorshift-multiply
/// finaliser (after `splitmix64`) so that every key bit reaches both the
/// low bits the table indexes with and the top bits it tags entries with.
#[derive(Clone, Copy, Debug, Default)]
pub struct FastHasher {
    hash: u64,
}

const K1: u64 = 0x9e37_79b9_7f4a_7c15;
const K2: u64 = 0xbf58_476d_1ce4_e5b9;

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(K1);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 56));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        let h = self.hash ^ (self.hash >> 32);
        let h = h.wrapping_mul(K2);
        h ^ (h >> 29)
    }
}

/// A std `HashMap` using [`FastHasher`].
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn distinct_small_keys_hash_apart_in_low_bits() {
        let build = BuildHasherDefault::<FastHasher>::default();
        let mut seen = std::collections::HashSet::new();
        for k in 0u64..1024 {
            seen.insert(build.hash_one(k * 1024) & 1023);
        }
        // Keys with equal low bits must still spread over the low bits
        // (random placement would give about 1024 * (1 - 1/e) = 647).
        assert!(seen.len() > 600, "{}", seen.len());
        let mut top = std::collections::HashSet::new();
        for k in 0u64..1024 {
            top.insert(build.hash_one(k) >> 57);
        }
        // The top 7 bits (the table's tag byte) vary for sequential keys.
        assert!(top.len() > 100, "{}", top.len());
    }

    #[test]
    fn map_works() {
        let mut m: FastMap<u64, u32> = FastMap::default();
        for k in 0..10_000u64 {
            m.insert(k, k as u32);
        }
        assert_eq!(m.get(&1234), Some(&1234));
        assert_eq!(m.len(), 10_000);
    }
}
