#!/usr/bin/env bash
# CI test of the GitHub Action (action.yml): tests/action/run-action.py runs its steps as written,
# with the INPUT_* variables and the runner's files (GITHUB_STEP_SUMMARY, GITHUB_OUTPUT, …) set,
# on a plan that passes and on one that fails; the linter comes from the locally built wheel
# (PIP_FIND_LINKS) with cargo off PATH. Then actionlint checks every workflow of the repository
# and the examples. Fails (never skips) when .venv or the wheel is missing.
#
# Usage: tests/action/test-action.sh [WHEEL_DIR]   (default: target/wheels, from scripts/wheel.sh)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="$repo/.venv"
wheels="${1:-$repo/target/wheels}"
fixtures="$repo/linter/tests/fixtures"

for tool in python actionlint shellcheck; do
  if [ ! -x "$venv/bin/$tool" ]; then
    echo "FAIL: $venv/bin/$tool not found; run scripts/setup-venv.sh" >&2
    exit 1
  fi
done
if ! compgen -G "$wheels/immutable_lint-*.whl" >/dev/null; then
  echo "FAIL: no immutable_lint wheel in $wheels; run scripts/wheel.sh" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# PATH without any directory holding cargo or rustc: the Action must not need a Rust toolchain.
no_rust_path=""
IFS=: read -r -a path_dirs <<<"$PATH"
for dir in "${path_dirs[@]}"; do
  if [ -n "$dir" ] && [ ! -e "$dir/cargo" ] && [ ! -e "$dir/rustc" ]; then
    no_rust_path="${no_rust_path:+$no_rust_path:}$dir"
  fi
done
export PIP_FIND_LINKS="$wheels" PIP_DISABLE_PIP_VERSION_CHECK=1
# One RUNNER_TEMP for every case, as on one runner: the first case installs, the others reuse.
export RUNNER_TEMP="$work/runner-temp"
mkdir -p "$RUNNER_TEMP"

passed=0
failed=0
ok() {
  echo "ok: $1"
  passed=$((passed + 1))
}
not_ok() {
  echo "FAIL: $1"
  failed=$((failed + 1))
}

# run_action NAME INPUT_X=... : runs the action in a fresh workspace; sets $status, $case_dir.
run_action() {
  local name="$1"
  shift
  case_dir="$work/$name"
  mkdir -p "$case_dir/workspace"
  cp "$fixtures/clean.json" "$case_dir/workspace/clean.json"
  cp "$fixtures/imm002_destroy_before_create.json" "$case_dir/workspace/destroy-first.json"
  # Configuration mode: a server without create_before_destroy, and the same server with it.
  mkdir -p "$case_dir/workspace/infra-bad" "$case_dir/workspace/infra-good"
  printf 'resource "aws_instance" "web" {\n  ami = "ami-0abc"\n}\n' >"$case_dir/workspace/infra-bad/main.tf"
  printf 'resource "aws_instance" "web" {\n  ami = "ami-0abc"\n  lifecycle {\n    create_before_destroy = true\n  }\n}\n' \
    >"$case_dir/workspace/infra-good/main.tf"
  : >"$case_dir/summary.md"
  status=0
  (cd "$case_dir/workspace" &&
    env PATH="$no_rust_path" GITHUB_WORKSPACE="$case_dir/workspace" GITHUB_STEP_SUMMARY="$case_dir/summary.md" "$@" \
      "$venv/bin/python" "$here/run-action.py" --shellcheck "$venv/bin/shellcheck" "$repo/action.yml") \
    >"$case_dir/out.txt" 2>&1 || status=$?
}

expect() { # description condition...
  local what="$1"
  shift
  if "$@"; then ok "$what"; else
    not_ok "$what"
    echo "--- output ($case_dir/out.txt) ---"
    cat "$case_dir/out.txt"
    echo "--- step summary ---"
    cat "$case_dir/summary.md"
  fi
}

sarif_results() { # file -> number of results, or -1
  "$venv/bin/python" -c 'import json, sys; print(sum(len(r.get("results", [])) for r in json.load(open(sys.argv[1]))["runs"]))' "$1" 2>/dev/null || echo -1
}

if command -v cargo >/dev/null 2>&1 && PATH="$no_rust_path" command -v cargo >/dev/null 2>&1; then
  not_ok "cargo is still on the PATH the Action runs with"
fi

# 1. A clean plan passes: status 0, a summary, a SARIF file with no results.
run_action pass INPUT_PLAN=clean.json
expect "clean plan: the action passes" [ "$status" -eq 0 ]
expect "clean plan: status output 0" grep -qx "output status=0" "$case_dir/out.txt"
expect "clean plan: the step summary has the Markdown report" grep -q "immutable-lint" "$case_dir/summary.md"
expect "clean plan: SARIF written, no results" [ "$(sarif_results "$case_dir/workspace/immutable-lint.sarif")" -eq 0 ]
expect "clean plan: sarif output is the absolute path" \
  grep -qx "output sarif=$case_dir/workspace/immutable-lint.sarif" "$case_dir/out.txt"
expect "install: the linter came from the wheel" grep -q "immutable-lint 0\." "$case_dir/out.txt"

# 2. A destroy-first plan fails: annotations, summary and SARIF name IMM002, status output 1.
run_action fail INPUT_PLAN=destroy-first.json INPUT_SARIF=reports/lint.sarif
expect "destroy-first plan: the action fails with status 1" [ "$status" -eq 1 ]
expect "destroy-first plan: annotations (::error) name IMM002" grep -q "^::error.*IMM002" "$case_dir/out.txt"
expect "destroy-first plan: status output 1" grep -qx "output status=1" "$case_dir/out.txt"
expect "destroy-first plan: the step summary names IMM002" grep -q "IMM002" "$case_dir/summary.md"
expect "destroy-first plan: SARIF at the given path has the finding" \
  [ "$(sarif_results "$case_dir/workspace/reports/lint.sarif")" -ge 1 ]

# 3. Report-only mode, another log format, and usage errors.
run_action report-only INPUT_PLAN=destroy-first.json INPUT_FAIL_ON_FINDINGS=false INPUT_FORMAT=human
report_only_passed() { [ "$status" -eq 0 ] && grep -qx "output status=1" "$case_dir/out.txt"; }
human_not_annotations() { grep -q "destroy-before-create" "$case_dir/out.txt" && ! grep -q "^::error.*IMM002" "$case_dir/out.txt"; }
expect "fail-on-findings false: passes, status output 1" report_only_passed
expect "format human: the log has the human report, no annotations" human_not_annotations
run_action both INPUT_PLAN=clean.json INPUT_DIRECTORY=.
both_refused() { [ "$status" -eq 2 ] && grep -q "either the plan or the directory" "$case_dir/out.txt"; }
expect "plan and directory together: refused (status 2)" both_refused
run_action neither
expect "neither plan nor directory: refused (status 2)" [ "$status" -eq 2 ]
run_action missing INPUT_PLAN=missing.json
expect "a missing plan file: input error (status 2), not a pass" [ "$status" -eq 2 ]
run_action unknown-input INPUT_PLANS=clean.json
expect "an INPUT_ that names no input: the harness refuses it" [ "$status" -eq 2 ]

# 4. directory: configuration mode (`immutable-lint DIR`), no plan.
run_action directory-good INPUT_DIRECTORY=infra-good
expect "directory: a clean configuration passes" [ "$status" -eq 0 ]
run_action directory-bad INPUT_DIRECTORY=infra-bad
expect "directory: a configuration without create_before_destroy fails with status 1" [ "$status" -eq 1 ]
expect "directory: annotations point at the .tf file" grep -q "^::error.*file=.*main.tf.*IMM002" "$case_dir/out.txt"

# 5. actionlint over every workflow file: the repository's and the examples users copy.
workflows=("$repo"/.github/workflows/*.yml "$repo"/examples/ci/github-actions.yml)
if (cd "$repo" && PATH="$venv/bin:$PATH" "$venv/bin/actionlint" -shellcheck "$venv/bin/shellcheck" "${workflows[@]}") >"$work/actionlint.txt" 2>&1; then
  ok "actionlint: ${#workflows[@]} workflow files are clean"
else
  not_ok "actionlint"
  cat "$work/actionlint.txt"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
