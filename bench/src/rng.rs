//! The generators' random numbers: SplitMix64, one stream per generated item. Each item is
//! derived from `(seed, index)` alone, so the output is a pure function of the arguments and a
//! section can be written again by walking the indexes (gen-plan streams its plans that way).

/// SplitMix64: tiny, fast and good enough to pick a mix deterministically.
pub struct Rng(u64);

impl Rng {
    /// The stream of item `index` under `seed`.
    pub fn new(seed: u64, index: usize) -> Self {
        let mut rng = Self(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        rng.next_u64();
        rng
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// True with probability `per_mille` / 1000.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
}
