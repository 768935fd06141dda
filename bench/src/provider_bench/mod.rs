//! The measurements of `provider-bench` (issue #5), one module per subcommand: `handshake`
//! (exec → handshake line), `schema` (`terraform providers schema -json`) and `plan` (no-op
//! `terraform plan` of N fleets against moto, AWS API calls counted by action) and `rollout` (one
//! `terraform apply` replacing the image of N fleets at once: calls over time, the gates'
//! detection latency, the same under throttling). Each drives its
//! programs, times them and returns its markdown table; `stats` is what they share. The binary
//! keeps the command line and prints the table.
#![allow(
    clippy::print_stderr,
    reason = "a command-line benchmark's measurements: progress on stderr"
)]

mod handshake;
mod plan;
mod rollout;
mod schema;
mod stats;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

pub use handshake::handshake;
pub use plan::plan;
pub use rollout::rollout;
pub use schema::schema;

/// Errors are the message the binary prints after `provider_bench: `.
pub type Result<T> = std::result::Result<T, String>;

/// Options shared by the subcommands, plus the positional `LABEL=VALUE` pairs.
#[derive(Debug, Default)]
pub struct Options {
    pub runs: usize,
    pub mirror: Option<PathBuf>,
    pub terraform: Option<PathBuf>,
    pub sizes: Vec<usize>,
    /// Fleets → the most DescribeAutoScalingGroups calls a no-op plan of that many may make.
    pub limits: BTreeMap<usize, u64>,
    pub targets: Vec<(String, String)>,
    /// `plan`: every fleet has a launching lifecycle hook and a CPU target-tracking policy
    /// (what a refresh of a production fleet reads beyond a plain one).
    pub hooks_and_policies: bool,
    /// `rollout`: fleets per target group (5 groups of 10 for 50 fleets).
    pub per_target_group: usize,
    /// `rollout`: how long the gates wait after the last new group exists before its targets
    /// turn healthy (their steady polling is measured in this window).
    pub hold: Duration,
    /// `rollout`: also measure the replacement with this share of every service's calls
    /// throttled.
    pub throttle: Option<f64>,
    /// `rollout`: fail unless every apply completed, every fleet was replaced and every gate
    /// passed after T (counts, never times).
    pub check: bool,
    /// `rollout`: copy each measured apply's Terraform log (provider at INFO) into this
    /// directory.
    pub logs: Option<PathBuf>,
}
