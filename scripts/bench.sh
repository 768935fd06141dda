#!/usr/bin/env bash
# Benchmarks (issue #5): immutable-lint against a plain JSON parse and checkov, the provider's
# handshake, schema and no-op plans against a Go provider and moto. Results: bench/results/*.md,
# summarised in BENCHMARKS.md. Not part of the tests: timings are never asserted.
#
#   scripts/bench.sh            full run (long: generates plans up to ~1 GB, runs checkov)
#   scripts/bench.sh --smoke    smallest sizes, one run each; what CI runs so the harness cannot rot
#   scripts/bench.sh linter|provider [--smoke]   one half
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

halves=(linter provider)
case "${1:-}" in
  linter | provider) halves=("$1"); shift ;;
esac

for half in "${halves[@]}"; do
  printf '\n==> scripts/bench-%s.sh %s\n' "$half" "$*" >&2
  "scripts/bench-$half.sh" "$@"
done

# A full run of both halves rebuilds BENCHMARKS.md from the two result files, so the summary can
# never disagree with the tables under it. Smoke runs write elsewhere and leave it alone.
if [[ ${#halves[@]} -eq 2 && " $* " != *" --smoke "* ]]; then
  scripts/bench-summary.sh
fi
