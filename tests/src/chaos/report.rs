//! The campaign: seeds played `jobs` at a time against one moto, and the table at the end
//! (runs, faults injected by kind, violations by invariant, wall time).

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use super::invariants::Invariant;
use super::runner::{RunReport, run_seed};
use super::scenario::FaultKind;
use crate::Moto;

/// What a campaign found.
#[derive(Debug, Clone, Default)]
pub struct CampaignReport {
    /// One per seed, in seed order.
    pub runs: Vec<RunReport>,
    pub jobs: usize,
    pub wall: Duration,
}

impl CampaignReport {
    /// Seeds whose run broke an invariant or could not be played.
    pub fn failed_seeds(&self) -> Vec<u64> {
        self.runs
            .iter()
            .filter(|r| r.failed())
            .map(|r| r.seed)
            .collect()
    }

    /// Violations by invariant.
    pub fn violations(&self) -> BTreeMap<Invariant, usize> {
        let mut counts: BTreeMap<Invariant, usize> =
            Invariant::ALL.iter().map(|&i| (i, 0)).collect();
        for run in &self.runs {
            for violation in &run.violations {
                *counts.entry(violation.invariant).or_default() += 1;
            }
        }
        counts
    }

    /// Faults injected by kind, every kind listed.
    pub fn faults(&self) -> BTreeMap<&'static str, u32> {
        let mut counts: BTreeMap<&'static str, u32> =
            FaultKind::NAMES.iter().map(|&name| (name, 0)).collect();
        for run in &self.runs {
            for (kind, count) in &run.faults {
                *counts.entry(kind).or_default() += count;
            }
        }
        counts
    }
}

/// Plays `seeds`, `jobs` runs at a time, against `moto`.
pub fn run_campaign(moto: &Moto, seeds: &[u64], jobs: usize) -> CampaignReport {
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    let reports = Mutex::new(Vec::new());
    let jobs = jobs.clamp(1, seeds.len().max(1));
    thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    let Some(&seed) = seeds.get(index) else {
                        break;
                    };
                    let report = run_seed(moto, seed);
                    reports
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(report);
                }
            });
        }
    });
    let mut runs = reports.into_inner().unwrap_or_else(PoisonError::into_inner);
    runs.sort_by_key(|r| r.seed);
    CampaignReport {
        runs,
        jobs,
        wall: started.elapsed(),
    }
}

impl fmt::Display for CampaignReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let failed = self.failed_seeds();
        let applies: u32 = self.runs.iter().map(|r| r.applies).sum();
        let skipped: u32 = self.runs.iter().map(|r| r.skipped).sum();
        let errors = self.runs.iter().filter(|r| r.error.is_some()).count();
        let seeds: Vec<u64> = self.runs.iter().map(|r| r.seed).collect();
        let mut table = String::new();
        let _ = writeln!(table, "| | |\n|---|---|");
        let _ = writeln!(
            table,
            "| runs | {} ({} failed), seeds {}, {} at a time |",
            self.runs.len(),
            failed.len(),
            seed_span(&seeds),
            self.jobs
        );
        let _ = writeln!(table, "| applies | {applies} |");
        let faults = self.faults();
        let total: u32 = faults.values().sum();
        let listed: Vec<String> = faults.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(
            table,
            "| faults injected | {total}: {} ({skipped} drawn but not injected) |",
            listed.join(", ")
        );
        let violations = self.violations();
        let total: usize = violations.values().sum();
        let listed: Vec<String> = violations
            .iter()
            .map(|(k, v)| format!("{} {v}", k.name()))
            .collect();
        let _ = writeln!(
            table,
            "| invariant violations | {total}: {} |",
            listed.join(", ")
        );
        let _ = writeln!(table, "| runs not played to the end | {errors} |");
        let _ = writeln!(
            table,
            "| wall time | {:.0}s ({:.1} min) |",
            self.wall.as_secs_f64(),
            self.wall.as_secs_f64() / 60.0
        );
        write!(f, "{table}")?;
        for run in self.runs.iter().filter(|r| r.failed()) {
            write!(
                f,
                "\nseed={} FAILED: replay with scripts/chaos.sh --replay {}",
                run.seed, run.seed
            )?;
            for violation in &run.violations {
                write!(f, "\n  {violation}")?;
            }
            if let Some(error) = &run.error {
                write!(f, "\n  harness: {error}")?;
            }
        }
        Ok(())
    }
}

/// `1-20` for consecutive seeds, else the list.
fn seed_span(seeds: &[u64]) -> String {
    match (seeds.first(), seeds.last()) {
        (Some(first), Some(last))
            if seeds
                .windows(2)
                .all(|w| w.first().map(|a| a + 1) == w.get(1).copied()) =>
        {
            if first == last {
                first.to_string()
            } else {
                format!("{first}-{last}")
            }
        }
        _ => seeds
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(","),
    }
}
