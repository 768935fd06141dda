//! The generators' random numbers: SplitMix64 (`e2e::rng`), one stream per generated item. Each
//! item is derived from `(seed, index)` alone, so the output is a pure function of the arguments
//! and a section can be written again by walking the indexes (gen-plan streams its plans that
//! way).

/// One item's stream.
pub struct Rng(e2e::rng::Rng);

impl Rng {
    /// The stream of item `index` under `seed`.
    pub fn new(seed: u64, index: usize) -> Self {
        let state = seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut rng = e2e::rng::Rng::from_state(state);
        rng.next_u64();
        Self(rng)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
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
