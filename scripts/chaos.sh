#!/usr/bin/env bash
# The seeded fault campaign (issue #16; RELIABILITY.md states the invariants and records the
# campaigns): N random scenarios, each from its seed, played with the real Terraform CLI against
# one moto behind the fault proxy, every apply sampled and checked.
#
#   scripts/chaos.sh --runs N --seed S [--jobs K]   seeds S .. S+N-1, K runs at a time
#   scripts/chaos.sh --replay S                     one seed again (logs kept in .e2e/chaos/)
#   scripts/chaos.sh --seeds 3,17,42                these seeds
#
# Builds the campaign runner (cargo build -p e2e --bin chaos) and the provider, unless
# IMMUTABLE_PROVIDER_DIR names a directory holding a provider binary to run instead, and sets up
# .venv (scripts/setup-venv.sh). The table goes to stdout, each run's progress to stderr. Exits 1
# when a run broke an invariant: the table names its seed and the command that replays it.
# CHAOS_KEEP_LOGS=1 keeps every run's logs, not only the failed ones'.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
target_dir=${CARGO_TARGET_DIR:-$repo_root/target}

if [[ -z ${IMMUTABLE_PROVIDER_DIR:-} ]]; then
  printf '==> cargo build -p terraform-provider-immutable\n' >&2
  cargo build -p terraform-provider-immutable
  export IMMUTABLE_PROVIDER_DIR="$target_dir/debug"
else
  printf '==> provider from IMMUTABLE_PROVIDER_DIR=%s (not built)\n' "$IMMUTABLE_PROVIDER_DIR" >&2
fi
printf '==> cargo build -p e2e --bin chaos\n' >&2
cargo build -p e2e --bin chaos
printf '==> scripts/setup-venv.sh\n' >&2
scripts/setup-venv.sh >&2

exec "$target_dir/debug/chaos" "$@"
