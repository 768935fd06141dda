#!/usr/bin/env bash
# Assembles BENCHMARKS.md: the summary of targets below, then the measured tables and notes of
# bench/results/linter.md and bench/results/provider.md (written by scripts/bench-linter.sh and
# scripts/bench-provider.sh), bench/results/config.md (scripts/bench-config.sh) and bench/results/hooks.md (scripts/bench-hooks.sh) when present. Run by `scripts/bench.sh` after a full run; safe to run alone.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

{
  cat <<'INTRO'
# Benchmarks

Both tools measured against the limit (what the work cannot go below) and against their peers,
on this project's CI machine (2 cores, 23 GiB). Ratios are what to quote: absolute times on a
shared 2-core machine are noisy. Everything here is reproducible with one command:

```sh
scripts/bench.sh            # full run (~20 min): every part, then rebuilds this file
scripts/bench.sh linter     # or: config, provider — one part (results in bench/results/)
scripts/bench.sh --smoke    # smallest sizes, one run: what CI runs on every change
```

Plans are generated (generator: `bench/src/plan_gen/`, run by `gen-plan`; `terraform show -json`
format 1.2, one line), and so are the Terraform repositories of configuration mode (generator:
`bench/src/config_gen/`, run by `gen-config`);
peers are pinned: checkov 3.3.30 and the Go provider `workato-terraform-provider` 0.16.0 (built on
HashiCorp's terraform-plugin-framework), both from PyPI into `.bench/`. conftest/OPA could not be
installed from the registries this machine reaches (details in the linter notes below).

INTRO
  # Both files start at their own top level; nest them one level under this page's title.
  sed 's/^## immutable-lint benchmarks$/## immutable-lint/; s/^## Notes/### Notes/' bench/results/linter.md
  printf '\n'
  # Configuration mode against checkov's HCL scan (scripts/bench-config.sh), when measured.
  if [[ -f bench/results/config.md ]]; then
    sed -E 's/^(##+ )/#\1/' bench/results/config.md
    printf '\n'
  fi
  sed -E 's/^# Provider benchmarks.*$/# terraform-provider-immutable/; s/^(#+ )/#\1/' bench/results/provider.md
  # Installing the linter for pre-commit (scripts/bench-hooks.sh), when it has been measured.
  if [[ -f bench/results/hooks.md ]]; then
    printf '\n'
    cat bench/results/hooks.md
  fi
} >BENCHMARKS.md.tmp
mv BENCHMARKS.md.tmp BENCHMARKS.md
printf 'wrote BENCHMARKS.md\n' >&2
