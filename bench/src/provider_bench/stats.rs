//! Median and minimum of timed samples, for every table.

use std::time::Duration;

/// Median and minimum of a sample, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub median_ms: f64,
    pub min_ms: f64,
}

pub fn stats(samples: &[Duration]) -> Stats {
    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    let median_ms = match ms.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => ms[n / 2],
        n => f64::midpoint(ms[n / 2 - 1], ms[n / 2]),
    };
    Stats {
        median_ms,
        min_ms: ms.first().copied().unwrap_or(f64::NAN),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_even_and_odd_samples() {
        let ms = |v: &[u64]| {
            v.iter()
                .map(|m| Duration::from_millis(*m))
                .collect::<Vec<_>>()
        };
        assert!((stats(&ms(&[5, 1, 3])).median_ms - 3.0).abs() < 1e-9);
        assert!((stats(&ms(&[4, 1, 3, 2])).median_ms - 2.5).abs() < 1e-9);
        assert!((stats(&ms(&[4, 1])).min_ms - 1.0).abs() < 1e-9);
    }
}
