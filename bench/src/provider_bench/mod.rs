//! The measurements of `provider-bench` (issue #5), one module per subcommand: `handshake`
//! (exec → handshake line), `schema` (`terraform providers schema -json`) and `plan` (no-op
//! `terraform plan` of N fleets against moto, AWS API calls counted by action). Each drives its
//! programs, times them and returns its markdown table; `stats` is what they share. The binary
//! keeps the command line and prints the table.
#![allow(
    clippy::print_stderr,
    reason = "a command-line benchmark's measurements: progress on stderr"
)]

mod handshake;
mod plan;
mod schema;
mod stats;

use std::collections::BTreeMap;
use std::path::PathBuf;

pub use handshake::handshake;
pub use plan::plan;
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
}
