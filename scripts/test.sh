#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run): Terraform 1.0.3 and moto into .venv/, format and
# lint checks, the provider build that the end-to-end tests drive, then every test of the
# workspace, and the lifecycle end-to-end tests once more under the newer Terraform on PATH.
# Arguments go to cargo test (e.g. a name filter: scripts/test.sh replace); they skip that
# second pass.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

step() { printf '\n==> %s\n' "$*" >&2; }

# The end-to-end modules (tests/e2e/<module>.rs) that plan, apply, import and destroy fleets
# through Terraform: they run under .venv's Terraform 1.0.3 with everything else, then again
# under the newer Terraform that the machine has on PATH (IMMUTABLE_TERRAFORM, tests/src/lib.rs).
lifecycle_e2e=(quickstart replace scale drift import destroy migration migration_production
  rollout canary fleet_identity
  launch_settings group_settings examples doc_examples validation endpoints limits aws_errors
  unresponsive)
# 1.0.3 only: the harness's own checks (they assert 1.0.3), the fault proxy (no Terraform),
# the tests that already pick their Terraform versions (packaging, generate_config) or lint plans,
# and the short fault campaign (chaos: minutes of random scenarios, once is enough).
other_e2e=(harness fault_proxy packaging generate_config lint_real_plans chaos)
# The first pass is .venv's Terraform whatever the caller's environment says.
unset IMMUTABLE_TERRAFORM
# Every module must be in one list, or a new one would silently miss the second pass.
unclassified=$(sed -n 's/^mod \([a-z_0-9]*\);$/\1/p' tests/e2e/main.rs |
  grep -vxF -f <(printf '%s\n' "${lifecycle_e2e[@]}" "${other_e2e[@]}") || true)
if [[ -n $unclassified ]]; then
  printf 'scripts/test.sh: e2e modules in neither lifecycle_e2e nor other_e2e: %s\n' \
    "$unclassified" >&2
  exit 1
fi
step "scripts/setup-venv.sh (Terraform 1.0.3, moto, pre-commit, maturin, actionlint in .venv/)"
scripts/setup-venv.sh

step "cargo fmt --all -- --check"
cargo fmt --all -- --check

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

# No module of a crate imports another that imports it back (ARCHITECTURE.md, "Module
# dependencies").
step "scripts/check-module-cycles.py (provider, cty, server, linter, e2e, bench)"
python3 scripts/check-module-cycles.py provider/src provider/cty/src provider/server/src linter/src tests/src bench/src

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

# `terraform version`'s number, with no CLI configuration and no update check.
terraform_version() {
  CHECKPOINT_DISABLE=1 TF_CLI_CONFIG_FILE=/dev/null "$1" version 2>/dev/null |
    sed -n '1s/^Terraform v//p'
}
venv_bin=$(cd "${IMMUTABLE_VENV:-$repo_root/.venv}/bin" && pwd -P) || venv_bin=.venv/bin
baseline_version=$(terraform_version "$venv_bin/terraform")
versions="${baseline_version:-?} (all e2e)"

# The second pass: the lifecycle modules under the machine's newer Terraform, the first
# `terraform` on PATH outside the virtualenv, if it is not 1.0.3. Its own test process, so its
# own moto on its own port. A machine without one skips it loudly and counts its tests skipped.
lifecycle_filters=("${lifecycle_e2e[@]/%/::}")
lifecycle_skipped=0
if [[ $# -gt 0 ]]; then
  versions="${baseline_version:-?} (the tests the arguments selected), lifecycle e2e not rerun"
else
  outside_venv=
  IFS=: read -ra path_dirs <<<"$PATH"
  for dir in "${path_dirs[@]}"; do
    if [[ -n $dir && $(cd "$dir" 2>/dev/null && pwd -P) != "$venv_bin" ]]; then
      outside_venv+=${outside_venv:+:}$dir
    fi
  done
  newer=$(PATH=$outside_venv; command -v terraform) || true
  newer_version=
  if [[ -n $newer ]]; then
    newer_version=$(terraform_version "$newer")
  fi
  if [[ -n $newer_version && $newer_version != "$baseline_version" ]]; then
    step "IMMUTABLE_TERRAFORM=$newer (Terraform $newer_version) cargo test -p e2e --test e2e --no-fail-fast -- ${lifecycle_filters[*]}"
    set +e
    IMMUTABLE_TERRAFORM=$newer cargo test -p e2e --test e2e --no-fail-fast -- \
      "${lifecycle_filters[@]}" 2>&1 | tee -a "$log"
    lifecycle_status=${PIPESTATUS[0]}
    set -e
    if [[ $lifecycle_status -ne 0 ]]; then
      status=$lifecycle_status
    fi
    versions+=", $newer_version (lifecycle e2e, $newer)"
  else
    lifecycle_skipped=$(cargo test -q -p e2e --test e2e -- --list "${lifecycle_filters[@]}" \
      2>/dev/null | grep -c ': test$' || true)
    why="no terraform on PATH outside ${venv_bin}"
    if [[ -n $newer ]]; then
      why="$newer is Terraform ${newer_version:-of unknown version}, not a newer one"
    fi
    step "SKIPPED: the $lifecycle_skipped lifecycle e2e tests under a newer Terraform ($why)"
    printf '!!! NO NEWER TERRAFORM: the lifecycle e2e tests ran under Terraform %s only; put a\n%s\n' \
      "${baseline_version:-?}" '!!! newer terraform on PATH (the machine image has one) to run them under it too.' >&2
    versions+=", lifecycle e2e under a newer Terraform SKIPPED ($why)"
  fi
fi
echo "terraform versions: $versions"

# cargo test ends with the last crate's doctests (often "0 passed"), so close with one line that
# adds up every "test result:" line. Nothing may be printed after it: CI reads the closing line.
awk -v lifecycle_skipped="$lifecycle_skipped" '
  /^test result: / {
    for (i = 1; i <= NF; i++) {
      count = $(i - 1) + 0
      if ($i ~ /^passed/) passed += count
      if ($i ~ /^failed/) failed += count
      if ($i ~ /^ignored/) ignored += count
    }
  }
  END {
    ignored += lifecycle_skipped
    printf "summary: %d passed, %d failed, %d skipped\n", passed, failed, ignored
  }
' "$log"
exit "$status"
