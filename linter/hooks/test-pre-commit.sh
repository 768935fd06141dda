#!/usr/bin/env bash
# CI test of .pre-commit-hooks.yaml with the real pre-commit (from PyPI, in the repo's .venv):
# `pre-commit try-repo` runs both hooks from a snapshot of this checkout against a scratch
# repository. Fails (never skips) when .venv/bin/pre-commit is missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
pre_commit="${PRE_COMMIT:-$repo/.venv/bin/pre-commit}"
if [ ! -x "$pre_commit" ]; then
  echo "FAIL: $pre_commit not found; create the venv with scripts/setup-venv.sh" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export PRE_COMMIT_HOME="$work/cache"
# Reuse this checkout's build cache: only immutable-lint itself is recompiled.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
export GIT_AUTHOR_NAME=test GIT_AUTHOR_EMAIL=test@localhost GIT_COMMITTER_NAME=test GIT_COMMITTER_EMAIL=test@localhost

# try-repo only sees committed and tracked files, so snapshot the working tree
# (tracked + untracked, minus ignored) into a fresh repository.
snapshot="$work/hook-repo"
mkdir -p "$snapshot"
(cd "$repo" && { git ls-files -z --cached --others --exclude-standard 2>/dev/null || true; }) |
  (cd "$repo" && xargs -0 -r cp --parents -t "$snapshot" 2>/dev/null || true)
(cd "$snapshot" && git init -q && git add -A && git commit -qm snapshot)

project="$work/project"
fixtures="$repo/linter/tests/fixtures"
mkdir -p "$project/infra/bad" "$project/infra/good"
cp "$fixtures/imm002_destroy_before_create.json" "$project/infra/bad/plan.json"
cp "$fixtures/clean.json" "$project/infra/good/plan.json"
(cd "$project" && git init -q && git add -A && git commit -qm init)

passed=0
failed=0
check() { # name expected-status needle command...
  local name="$1" expected="$2" needle="$3"
  shift 3
  local status=0
  (cd "$project" && "$@") >"$work/out.txt" 2>&1 || status=$?
  if [ "$status" -eq "$expected" ] && grep -q -- "$needle" "$work/out.txt"; then
    echo "ok: $name"
    passed=$((passed + 1))
  else
    echo "FAIL: $name (status $status, expected $expected, looking for '$needle')"
    cat "$work/out.txt"
    failed=$((failed + 1))
  fi
}

check "immutable-lint hook fails a destroy-first plan" 1 "IMM002" \
  "$pre_commit" try-repo "$snapshot" immutable-lint --files infra/bad/plan.json
check "immutable-lint hook passes a clean plan" 0 "Passed" \
  "$pre_commit" try-repo "$snapshot" immutable-lint --files infra/good/plan.json
check "immutable-lint hook ignores other JSON files" 0 "no files to check" \
  "$pre_commit" try-repo "$snapshot" immutable-lint --files infra/bad/other.json

# The plan hook with a stand-in terraform: `plan -out` writes a marker, `show -json` prints a plan.
fake="$work/fake-terraform"
cat >"$fake" <<FAKE
#!/bin/sh
case "\$2" in
  plan) for a in "\$@"; do case "\$a" in -out=*) echo plan >"\${a#-out=}";; esac; done ;;
  show) cat "$fixtures/imm002_destroy_before_create.json" ;;
  *) echo "unexpected: \$*" >&2; exit 3 ;;
esac
FAKE
chmod +x "$fake"
printf 'resource "immutable_fleet" "web" {}\n' >"$project/main.tf"
(cd "$project" && git add main.tf)
check "immutable-lint-plan hook plans and lints" 1 "destroy-before-create" \
  env IMMUTABLE_LINT_TERRAFORM="$fake" "$pre_commit" try-repo "$snapshot" immutable-lint-plan --files main.tf

# examples/pre-commit/: the configurations a user copies, run as written except that the repo
# URL and rev point at the snapshot (the published tag does not exist for this checkout).
snapshot_rev="$(cd "$snapshot" && git rev-parse HEAD)"
sed -e "s|repo: https://github.com/immutable-infra/immutable|repo: $snapshot|" \
  -e "s|rev: v[0-9][^ ]*|rev: $snapshot_rev|" \
  "$repo/examples/pre-commit/.pre-commit-config.yaml" >"$project/.pre-commit-config.yaml"
if ! grep -q "repo: $snapshot" "$project/.pre-commit-config.yaml" || ! grep -q "rev: $snapshot_rev" "$project/.pre-commit-config.yaml"; then
  echo "FAIL: examples/pre-commit/.pre-commit-config.yaml no longer has the repo/rev lines this test rewrites"
  failed=$((failed + 1))
fi
cp "$repo/examples/pre-commit/.pre-commit-config.local.yaml" "$project/.pre-commit-config.local.yaml"
(cd "$project" && git add .pre-commit-config.yaml .pre-commit-config.local.yaml && git commit -qm config)
# The try-repo runs above tested the hook's build; reuse what they built (the hook honours
# IMMUTABLE_LINT_BIN) instead of building again from pre-commit's own clone.
built="$CARGO_TARGET_DIR/release"
check "example config: a destroy-first plan fails the commit" 1 "IMM002" \
  env IMMUTABLE_LINT_BIN="$built/immutable-lint" "$pre_commit" run --config .pre-commit-config.yaml --files infra/bad/plan.json
check "example config: a clean plan passes" 0 "Passed" \
  env IMMUTABLE_LINT_BIN="$built/immutable-lint" "$pre_commit" run --config .pre-commit-config.yaml --files infra/good/plan.json
# The local variant runs the immutable-lint on PATH.
check "example local config: a destroy-first plan fails the commit" 1 "IMM002" \
  env PATH="$built:$PATH" "$pre_commit" run --config .pre-commit-config.local.yaml --files infra/bad/plan.json
check "example local config: a clean plan passes" 0 "Passed" \
  env PATH="$built:$PATH" "$pre_commit" run --config .pre-commit-config.local.yaml --files infra/good/plan.json

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
