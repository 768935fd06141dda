//! Benchmark harness for `immutable-lint` and `terraform-provider-immutable`. The programs are in
//! `src/bin/`; `scripts/bench.sh` builds and runs them and writes the tables of BENCHMARKS.md.
