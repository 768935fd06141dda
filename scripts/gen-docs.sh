#!/usr/bin/env bash
# Regenerates every generated page under docs/: the provider's registry pages (docs/index.md,
# docs/resources/*.md) from the schema, templates/ and examples/, and the linter's rule pages
# (docs/rules/) from the rules' doc comments. CI fails when the committed pages are stale.
# Guides (docs/guides/) are written by hand and left alone.
#   scripts/gen-docs.sh          write the pages
#   scripts/gen-docs.sh --check  write nothing; exit 1 if a provider page is stale
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

if [[ "${1:-}" == "--check" ]]; then
  exec cargo run -q -p terraform-provider-immutable --example gen-docs -- --check "$repo_root"
fi
cargo run -q -p terraform-provider-immutable --example gen-docs -- "$repo_root"
cargo run -q -p immutable-lint -- --generate-docs docs/rules
