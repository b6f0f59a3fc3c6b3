//! Seeded random streams: one ChaCha stream per simulated entity, keyed by the entity's name.
//!
//! Keying by name (not by creation order) means adding a consumer leaves every producer's draws
//! unchanged, so two scenarios that differ in one entity stay comparable record for record.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The generator every entity uses: fast, portable, and reproducible from (seed, stream).
pub type SimRng = ChaCha8Rng;

#[derive(Clone, Copy, Debug)]
pub struct RngStreams {
    seed: u64,
}

impl RngStreams {
    pub fn new(seed: u64) -> Self {
        RngStreams { seed }
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The stream for one entity, e.g. `stream("producer/web")`.
    pub fn stream(&self, name: &str) -> SimRng {
        let mut key = [0u8; 32];
        let mut state = self.seed;
        for chunk in key.chunks_mut(8) {
            chunk.copy_from_slice(&splitmix64(&mut state).to_le_bytes());
        }
        let mut rng = ChaCha8Rng::from_seed(key);
        rng.set_stream(fnv1a64(name.as_bytes()));
        rng
    }
}

/// SplitMix64 spreads a small seed (0, 1, 42, ...) over a full 256-bit ChaCha key.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a: a fixed, platform-independent hash of the entity name (std's hasher is randomized).
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    fn draws(rng: &mut SimRng) -> Vec<u64> {
        (0..4).map(|_| rng.r#gen()).collect()
    }

    #[test]
    fn same_seed_and_name_give_the_same_stream() {
        let s = RngStreams::new(42);
        assert_eq!(draws(&mut s.stream("producer/web")), draws(&mut s.stream("producer/web")));
    }

    #[test]
    fn names_and_seeds_give_independent_streams() {
        let s = RngStreams::new(42);
        let a = draws(&mut s.stream("producer/web"));
        assert_ne!(a, draws(&mut s.stream("producer/web2")));
        assert_ne!(a, draws(&mut RngStreams::new(43).stream("producer/web")));
    }

    #[test]
    fn streams_are_stable_across_versions() {
        // Pinned so an accidental change to the derivation (which would change every output) fails here.
        let v: u64 = RngStreams::new(0).stream("x").r#gen();
        assert_eq!(v, PINNED_FIRST_DRAW);
    }
    const PINNED_FIRST_DRAW: u64 = 5332104388205431250;
}
