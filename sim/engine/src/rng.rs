//! Named random streams derived from one run seed.
//!
//! Each subsystem draws from its own stream (`"arrivals"`, `"durations"`, `"placement"`, ...),
//! seeded by mixing the run seed with a hash of the stream's name. Adding a stream, or drawing
//! more from one, leaves every other stream's numbers unchanged; so changing a placement
//! strategy does not change the workload. The mixer (SplitMix64's finaliser) and the name hash
//! (FNV-1a) are written out here so that they never change with a library upgrade.

use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;

/// The generator every stream uses: PCG-64 MCG (fast, 128-bit state, stable output).
pub type Stream = Pcg64Mcg;

/// SplitMix64's finaliser: a bijective mixer of 64-bit values.
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The seed of run number `index` of a sweep with seed `base`.
pub fn seed_for_index(base: u64, index: u64) -> u64 {
    mix64(mix64(base) ^ mix64(index.wrapping_add(0x5EED)))
}

/// Derives named streams from a run seed.
#[derive(Debug, Clone, Copy)]
pub struct Streams {
    seed: u64,
}

impl Streams {
    /// Streams for a run seed.
    pub fn new(seed: u64) -> Streams {
        Streams { seed }
    }
    /// The run seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// The 64-bit seed of a named stream.
    pub fn seed_of(&self, name: &str) -> u64 {
        mix64(self.seed ^ mix64(fnv1a(name)))
    }
    /// A fresh generator for a named stream.
    pub fn stream(&self, name: &str) -> Stream {
        Stream::seed_from_u64(self.seed_of(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_are_independent_and_stable() {
        let s = Streams::new(42);
        let a1: Vec<u64> = (0..4)
            .map({
                let mut r = s.stream("arrivals");
                move |_| r.next_u64()
            })
            .collect();
        let a2: Vec<u64> = (0..4)
            .map({
                let mut r = s.stream("arrivals");
                move |_| r.next_u64()
            })
            .collect();
        assert_eq!(a1, a2);
        let mut p = s.stream("placement");
        assert_ne!(a1[0], p.next_u64());
        assert_ne!(Streams::new(43).seed_of("arrivals"), s.seed_of("arrivals"));
        // Pinned values: a change here changes every recorded result; bump the output format version.
        assert_eq!(mix64(0), 0xE220_A839_7B1D_CDAF);
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
    }
}
