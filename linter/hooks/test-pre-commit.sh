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

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
