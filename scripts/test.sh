#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run): Terraform 1.0.3 and moto into .venv/, format and
# lint checks, the provider build that the end-to-end tests drive, then every test of the
# workspace. Arguments go to cargo test (e.g. a name filter: scripts/test.sh replace).
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

step() { printf '\n==> %s\n' "$*" >&2; }
step "scripts/setup-venv.sh (Terraform 1.0.3, moto, pre-commit, maturin, actionlint in .venv/)"
scripts/setup-venv.sh

step "cargo fmt --all -- --check"
cargo fmt --all -- --check

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

# The end-to-end tests run this binary through Terraform's dev_overrides; cargo does not build
# another package's binary for a test, so build it explicitly.
step "cargo build -p terraform-provider-immutable -p immutable-lint"
cargo build -p terraform-provider-immutable -p immutable-lint

# The linter's wheel (maturin; a release build into target/, shared with the -source hook's
# build below), installed with pip into a fresh venv with no Rust toolchain on PATH.
step "scripts/wheel.sh + scripts/test-wheel.sh (immutable-lint wheel, pip install without Rust)"
scripts/wheel.sh
bash scripts/test-wheel.sh

# The pre-commit hooks, run by the real pre-commit (try-repo) against a scratch repository:
# the wheel hooks without cargo on PATH, the -source hooks with it.
step "linter/hooks/test-pre-commit.sh (pre-commit try-repo)"
bash linter/hooks/test-pre-commit.sh

# The GitHub Action's steps as written (INPUT_*, GITHUB_STEP_SUMMARY), and actionlint over the
# workflows. The signed-registry install test is an e2e test (cargo test: packaging::registry).
step "tests/action/test-action.sh (action.yml, actionlint)"
bash tests/action/test-action.sh

# The benchmark harness in smoke mode (smallest sizes, one run): it must keep working, and the
# provider's call-count promise (one DescribeAutoScalingGroups per no-op plan) is checked as a
# count, never as a time. Full runs: scripts/bench.sh, results in BENCHMARKS.md.
step "scripts/bench.sh --smoke"
scripts/bench.sh --smoke

# cargo test rather than nextest: some test binaries of the workspace have their own harness
# (harness = false), which nextest cannot list. cargo test also runs the doctests.
step "cargo test --workspace --no-fail-fast $*"
log=$(mktemp "${TMPDIR:-/tmp}/immutable-test.XXXXXX")
trap 'rm -f -- "$log"' EXIT
set +e
cargo test --workspace --no-fail-fast "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# cargo test ends with the last crate's doctests (often "0 passed"), so close with one line that
# adds up every "test result:" line. Nothing may be printed after it: CI reads the closing line.
awk '
  /^test result: / {
    for (i = 1; i <= NF; i++) {
      count = $(i - 1) + 0
      if ($i ~ /^passed/) passed += count
      if ($i ~ /^failed/) failed += count
      if ($i ~ /^ignored/) ignored += count
    }
  }
  END { printf "summary: %d passed, %d failed, %d skipped\n", passed, failed, ignored }
' "$log"
exit "$status"
