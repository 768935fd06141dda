#!/usr/bin/env bash
# CI test of .pre-commit-hooks.yaml with the real pre-commit (from PyPI, in the repo's .venv):
# `pre-commit try-repo` runs the hooks from a snapshot of this checkout against a scratch
# repository. Fails (never skips) when .venv/bin/pre-commit is missing.
#
# The hooks install the linter from its wheel (`language: python`): pip finds it through
# PIP_FIND_LINKS in WHEEL_DIR (default target/wheels, from scripts/wheel.sh), and they run with
# no cargo or rustc on PATH. The `-source` hooks build with cargo, with the full PATH. Prints the
# first run's time (hook environment install + lint) of both.
#
# Usage: linter/hooks/test-pre-commit.sh [WHEEL_DIR]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
pre_commit="${PRE_COMMIT:-$repo/.venv/bin/pre-commit}"
if [ ! -x "$pre_commit" ]; then
  echo "FAIL: $pre_commit not found; create the venv with scripts/setup-venv.sh" >&2
  exit 1
fi
wheels="${1:-$repo/target/wheels}"
workspace_version="$(awk '/^\[/ { section = $0 } section == "[workspace.package]" && $1 == "version" { gsub(/"/, "", $3); print $3; exit }' "$repo/Cargo.toml")"
if ! compgen -G "$wheels/immutable_lint-$workspace_version-*.whl" >/dev/null; then
  echo "FAIL: no immutable_lint $workspace_version wheel in $wheels; build it with scripts/wheel.sh" >&2
  exit 1
fi
# The hook package (pyproject.toml) must pin the wheel of this very version.
for expected in "version = \"$workspace_version\"" "dependencies = [\"immutable-lint==$workspace_version\"]"; do
  if ! grep -qxF "$expected" "$repo/pyproject.toml"; then
    echo "FAIL: pyproject.toml (the hook package) lacks the line: $expected (the workspace version is $workspace_version)" >&2
    exit 1
  fi
done
export PIP_FIND_LINKS="$wheels" PIP_DISABLE_PIP_VERSION_CHECK=1
# The wheel hooks run with no Rust toolchain: PATH without any directory holding cargo or rustc.
full_path="$PATH"
no_rust_path=""
IFS=: read -r -a path_dirs <<<"$PATH"
for dir in "${path_dirs[@]}"; do
  if [ -n "$dir" ] && [ ! -e "$dir/cargo" ] && [ ! -e "$dir/rustc" ]; then
    no_rust_path="${no_rust_path:+$no_rust_path:}$dir"
  fi
done
export PATH="$no_rust_path"
if command -v cargo >/dev/null 2>&1; then
  echo "FAIL: cargo is still on PATH ($(command -v cargo))" >&2
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
# Configuration mode: a server without create_before_destroy, and the same server with it.
mkdir -p "$project/infra/config-bad" "$project/infra/config-good"
printf 'resource "aws_instance" "web" {\n  ami = "ami-0abc"\n}\n' >"$project/infra/config-bad/main.tf"
printf 'resource "aws_instance" "web" {\n  ami = "ami-0abc"\n  lifecycle {\n    create_before_destroy = true\n  }\n}\n' >"$project/infra/config-good/main.tf"
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

elapsed_since() { awk -v start="$1" -v end="$EPOCHREALTIME" 'BEGIN { printf "%.1f", end - start }'; }

# Each try-repo installs the hook environment afresh (it uses a store of its own): pip installs
# the hook package and the wheel. With no cargo on PATH, a pass means the linter is the wheel's.
start="$EPOCHREALTIME"
check "immutable-lint hook fails a destroy-first plan" 1 "IMM002" \
  "$pre_commit" try-repo "$snapshot" immutable-lint --files infra/bad/plan.json
wheel_first_run="$(elapsed_since "$start")"
check "immutable-lint hook passes a clean plan" 0 "Passed" \
  "$pre_commit" try-repo "$snapshot" immutable-lint --files infra/good/plan.json
check "immutable-lint hook ignores other JSON files" 0 "no files to check" \
  "$pre_commit" try-repo "$snapshot" immutable-lint --files infra/bad/other.json

check "immutable-lint-config hook fails a destroy-first configuration" 1 "IMM002" \
  "$pre_commit" try-repo "$snapshot" immutable-lint-config --files infra/config-bad/main.tf
check "immutable-lint-config hook passes a clean configuration" 0 "Passed" \
  "$pre_commit" try-repo "$snapshot" immutable-lint-config --files infra/config-good/main.tf
check "immutable-lint-config hook lints the directory of each changed file" 1 "infra/config-bad/main.tf:1" \
  "$pre_commit" try-repo "$snapshot" immutable-lint-config --files infra/config-good/main.tf infra/config-bad/main.tf
check "immutable-lint-config hook ignores other files" 0 "no files to check" \
  "$pre_commit" try-repo "$snapshot" immutable-lint-config --files infra/bad/plan.json

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

# The source builds: the `-source` hooks compile the linter with cargo from pre-commit's clone
# (full PATH; CARGO_TARGET_DIR shares this checkout's dependency builds, so this is not a cold build).
start="$EPOCHREALTIME"
check "immutable-lint-source hook builds with cargo and fails a destroy-first plan" 1 "IMM002" \
  env PATH="$full_path" "$pre_commit" try-repo "$snapshot" immutable-lint-source --files infra/bad/plan.json
source_first_run="$(elapsed_since "$start")"
check "immutable-lint-config-source hook passes a clean configuration" 0 "Passed" \
  env PATH="$full_path" "$pre_commit" try-repo "$snapshot" immutable-lint-config-source --files infra/config-good/main.tf

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
# The local file's configuration hook lists root modules (`args: [infra]`): point it at ours.
sed -e "s|args: \[infra\]|args: [infra/config-bad, infra/config-good]|" \
  "$repo/examples/pre-commit/.pre-commit-config.local.yaml" >"$project/.pre-commit-config.local.yaml"
if ! grep -q "args: \[infra/config-bad, infra/config-good\]" "$project/.pre-commit-config.local.yaml"; then
  echo "FAIL: examples/pre-commit/.pre-commit-config.local.yaml no longer has the args line this test rewrites"
  failed=$((failed + 1))
fi
(cd "$project" && git add .pre-commit-config.yaml .pre-commit-config.local.yaml && git commit -qm config)
# The example's hooks install the wheel (PIP_FIND_LINKS); the local variant runs the release
# binary the -source run above built.
built="$CARGO_TARGET_DIR/release"
check "example config: a destroy-first plan fails the commit" 1 "IMM002" \
  env "$pre_commit" run --config .pre-commit-config.yaml --files infra/bad/plan.json
check "example config: a clean plan passes" 0 "Passed" \
  env "$pre_commit" run --config .pre-commit-config.yaml --files infra/good/plan.json
# A .tf change also triggers immutable-lint-plan, which needs terraform and credentials.
check "example config: a destroy-first configuration fails the commit" 1 "IMM002" \
  env SKIP=immutable-lint-plan "$pre_commit" run --config .pre-commit-config.yaml --files infra/config-bad/main.tf
check "example config: a clean configuration passes" 0 "Passed" \
  env SKIP=immutable-lint-plan "$pre_commit" run --config .pre-commit-config.yaml --files infra/config-good/main.tf
# The local variant runs the immutable-lint on PATH.
check "example local config: a destroy-first plan fails the commit" 1 "IMM002" \
  env PATH="$built:$PATH" "$pre_commit" run --config .pre-commit-config.local.yaml --files infra/bad/plan.json
check "example local config: a clean plan passes" 0 "Passed" \
  env PATH="$built:$PATH" "$pre_commit" run --config .pre-commit-config.local.yaml --files infra/good/plan.json
check "example local config: a destroy-first configuration fails the commit" 1 "IMM002" \
  env PATH="$built:$PATH" "$pre_commit" run --config .pre-commit-config.local.yaml --files infra/config-bad/main.tf

echo "first run (hook environment install + lint): wheel hook ${wheel_first_run}s (pip, no cargo on PATH); source hook ${source_first_run}s (cargo, warm target dir)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
