//! Seeded random numbers for the harnesses: SplitMix64. The fault campaign seeds it with a run's
//! seed alone, so a scenario is a pure function of its seed and `--replay S` plays the same one
//! again; the benchmark generators (`bench/src/rng.rs`) derive one stream per generated item.

/// SplitMix64: tiny and good enough to pick settings, changes and faults deterministically.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// The stream of run `seed`.
    pub fn new(seed: u64) -> Self {
        let mut rng = Self::from_state(seed ^ 0x6368_616F_735F_7631); // "chaos_v1"
        rng.next_u64();
        rng
    }

    /// The stream that starts from `state` as it is.
    pub fn from_state(state: u64) -> Self {
        Self(state)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `low..=high`.
    pub fn range(&mut self, low: u64, high: u64) -> u64 {
        low + self.next_u64() % (high - low + 1)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// One of `items`, each with its weight; `None` if every weight is zero.
    pub fn weighted<T: Copy>(&mut self, items: &[(T, u64)]) -> Option<T> {
        let total: u64 = items.iter().map(|(_, weight)| weight).sum();
        if total == 0 {
            return None;
        }
        let mut pick = self.next_u64() % total;
        for &(item, weight) in items {
            if pick < weight {
                return Some(item);
            }
            pick -= weight;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_ranges_are_inclusive() {
        let a: Vec<u64> = (0..5)
            .map({
                let mut rng = Rng::new(7);
                move |_| rng.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..5)
            .map({
                let mut rng = Rng::new(7);
                move |_| rng.next_u64()
            })
            .collect();
        assert_eq!(a, b);
        let mut rng = Rng::new(1);
        let seen: Vec<u64> = (0..200).map(|_| rng.range(2, 4)).collect();
        assert!(seen.contains(&2) && seen.contains(&4) && seen.iter().all(|v| (2..=4).contains(v)));
        assert_eq!(rng.weighted(&[("a", 0), ("b", 0)]), None);
        assert_eq!(rng.weighted(&[("a", 0), ("b", 3)]), Some("b"));
    }
}
