//! The seeded fault campaign (issue #16): random scenarios played with the real Terraform CLI
//! against moto behind the fault proxy, checked against invariants while every apply runs and
//! after the last one. `scripts/chaos.sh` runs it (`src/bin/chaos.rs`); `tests/e2e/chaos.rs`
//! plays a short campaign with fixed seeds and the regression seeds; RELIABILITY.md states the
//! invariants and records the campaigns.
//!
//! One job per file:
//! - [`scenario`]: a scenario from a seed (settings, changes, faults and when);
//! - [`inject`]: the faults, injected while an apply runs;
//! - [`invariants`] and [`convergence`]: what must hold;
//! - [`runner`]: one run end to end; [`report`]: the campaign and its table.

pub mod convergence;
pub mod inject;
pub mod invariants;
pub mod report;
pub mod runner;
pub mod scenario;

pub use invariants::{Invariant, Violation};
pub use report::{CampaignReport, run_campaign};
pub use runner::{RunReport, run_seed};
pub use scenario::Scenario;
