#!/usr/bin/env bash
# Benchmarks (issues #5, #14, #16): immutable-lint against a plain JSON parse and checkov, its
# configuration mode against checkov's HCL scan, the provider's handshake, schema and no-op plans
# against a Go provider and moto, and a rollout of 50 fleets in one apply against moto. Results:
# bench/results/*.md, summarised in BENCHMARKS.md. Not part of the tests: timings are never
# asserted.
#
#   scripts/bench.sh            full run (long: generates plans up to ~1 GB, runs checkov)
#   scripts/bench.sh --smoke    smallest sizes, one run each; what CI runs so the harness cannot rot
#   scripts/bench.sh linter|config|provider [--smoke]   one part
#   scripts/bench.sh provider [--provider-dir DIR] [--only rollout]
#                               another provider binary than the build's; only the rollout
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

halves=(linter config provider)
case "${1:-}" in
  linter | config | provider) halves=("$1"); shift ;;
esac

for half in "${halves[@]}"; do
  printf '\n==> scripts/bench-%s.sh %s\n' "$half" "$*" >&2
  "scripts/bench-$half.sh" "$@"
done

# A full run of every part rebuilds BENCHMARKS.md from the result files, so the summary can
# never disagree with the tables under it. Smoke runs write elsewhere and leave it alone.
if [[ ${#halves[@]} -eq 3 && " $* " != *" --smoke "* ]]; then
  scripts/bench-summary.sh
fi
