//! Benchmark harness for `immutable-lint` and `terraform-provider-immutable`. The programs are in
//! `src/bin/`; `scripts/bench.sh` builds and runs them and writes the tables of BENCHMARKS.md.
//! The two generators live here, so that their binaries keep only their command lines:
//! `plan_gen` writes the plans of `gen-plan`, `config_gen` the Terraform repositories of
//! `gen-config`; `rng` and `cli` are what both use.

pub mod cli;
pub mod config_gen;
pub mod plan_gen;
pub mod provider_bench;
pub mod rng;
