#!/usr/bin/env bash
# The pre-commit hook's first run — what a developer waits for after `pre-commit install` on a
# fresh machine — with the linter from its wheel (`immutable-lint`, language python) against the
# cargo source build (`immutable-lint-source`, what every hook did before the wheel). Each run is
# `pre-commit try-repo` (its own empty store, so the hook environment is installed every time) on
# a snapshot of this checkout, linting one plan. The wheel runs have no cargo on PATH; the source
# runs build into an empty CARGO_TARGET_DIR (a cold build, as on a new machine; the crates are
# already downloaded). Writes bench/results/hooks.md, which scripts/bench-summary.sh puts into
# BENCHMARKS.md. Not part of the tests: timings are never asserted.
#
# Usage: scripts/bench-hooks.sh [--runs N]   (default 3 wheel runs, 1 source run per N=3)
#   Needs .venv (scripts/setup-venv.sh) and the wheel (scripts/wheel.sh).
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
runs=3
if [[ "${1:-}" == "--runs" && -n "${2:-}" ]]; then runs="$2"; fi
pre_commit="$repo_root/.venv/bin/pre-commit"
[[ -x "$pre_commit" ]] || { echo "bench-hooks.sh: run scripts/setup-venv.sh first" >&2; exit 2; }
compgen -G "target/wheels/immutable_lint-*.whl" >/dev/null || { echo "bench-hooks.sh: run scripts/wheel.sh first" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-hooks.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@localhost GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@localhost
snapshot="$work/hook-repo"
mkdir -p "$snapshot"
git ls-files -z --cached --others --exclude-standard | xargs -0 -r cp --parents -t "$snapshot" 2>/dev/null || true
(cd "$snapshot" && git init -q && git add -A && git commit -qm snapshot)
project="$work/project"
mkdir -p "$project"
cp linter/tests/fixtures/imm002_destroy_before_create.json "$project/plan.json"
(cd "$project" && git init -q && git add -A && git commit -qm init)

no_rust_path=""
IFS=: read -r -a path_dirs <<<"$PATH"
for dir in "${path_dirs[@]}"; do
  if [[ -n "$dir" && ! -e "$dir/cargo" && ! -e "$dir/rustc" ]]; then
    no_rust_path="${no_rust_path:+$no_rust_path:}$dir"
  fi
done

# first_run HOOK ENV... : seconds for one try-repo of HOOK; the hook must report IMM002.
first_run() {
  local hook="$1" start
  shift
  start="$EPOCHREALTIME"
  (cd "$project" && env "$@" "$pre_commit" try-repo "$snapshot" "$hook" --files plan.json) >"$work/out.txt" 2>&1 || true
  grep -q IMM002 "$work/out.txt" || { cat "$work/out.txt" >&2; echo "bench-hooks.sh: $hook did not lint" >&2; exit 1; }
  awk -v s="$start" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.1f", e - s }'
}
median() { tr ' ' '\n' | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

wheel_times=()
for ((i = 0; i < runs; i++)); do
  wheel_times+=("$(first_run immutable-lint PATH="$no_rust_path" PIP_FIND_LINKS="$repo_root/target/wheels")")
  echo "wheel run $((i + 1)): ${wheel_times[-1]}s" >&2
done
source_time="$(first_run immutable-lint-source CARGO_TARGET_DIR="$work/cold-target")"
echo "source run (cold target dir): ${source_time}s" >&2
rm -rf "$work/cold-target"

wheel_median="$(printf '%s ' "${wheel_times[@]}" | median)"
mkdir -p bench/results
cat >bench/results/hooks.md <<MD
## pre-commit hook: first run

Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) memory; $(date -u +%Y-%m-%d); load average at the end $(cut -d' ' -f1-3 /proc/loadavg).
Reproduce: \`scripts/bench-hooks.sh\` (\`pre-commit try-repo\` on a snapshot of this checkout, one plan
with an IMM002 finding; each run installs the hook environment from scratch).

| hook | what the first run does | first run |
|---|---|---|
| \`immutable-lint\` (wheel, no cargo on PATH) | virtualenv, pip installs the hook package and the immutable-lint wheel, lints | ${wheel_median} s (median of ${runs}: ${wheel_times[*]}) |
| \`immutable-lint-source\` (cargo, empty target dir) | \`cargo build --release -p immutable-lint\` from pre-commit's clone, lints | ${source_time} s (1 run) |

The wheel hook's first run is $(awk -v s="$source_time" -v w="$wheel_median" 'BEGIN { printf "%.0f", s / w }')× faster and needs no Rust toolchain. Later runs of
either hook reuse the installed environment and take the lint's time only.
MD
echo "wrote bench/results/hooks.md" >&2
