#!/usr/bin/env bash
# CI test of the linter's wheel (scripts/wheel.sh): `pip install` of the wheel into a fresh
# virtualenv, with no cargo or rustc on PATH, gives a working immutable-lint. Fails (never
# skips) when there is no wheel.
#
# Usage: scripts/test-wheel.sh [WHEEL_DIR]   (default: target/wheels)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
wheels="${1:-$repo_root/target/wheels}"
fixtures="$repo_root/linter/tests/fixtures"
version=$(awk '/^\[/ { section = $0 } section == "[workspace.package]" && $1 == "version" { gsub(/"/, "", $3); print $3; exit }' "$repo_root/Cargo.toml")

shopt -s nullglob
found=("$wheels"/immutable_lint-"$version"-*.whl)
if [[ ${#found[@]} -ne 1 ]]; then
  echo "FAIL: expected one immutable_lint $version wheel in $wheels (found ${#found[@]}); run scripts/wheel.sh" >&2
  exit 1
fi
wheel="${found[0]}"

# PATH without any directory holding cargo or rustc.
no_rust_path=""
IFS=: read -r -a path_dirs <<<"$PATH"
for dir in "${path_dirs[@]}"; do
  if [[ -n "$dir" && ! -e "$dir/cargo" && ! -e "$dir/rustc" ]]; then
    no_rust_path="${no_rust_path:+$no_rust_path:}$dir"
  fi
done
export PATH="$no_rust_path"

work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
passed=0
failed=0
check() { # description expected-status command...
  local what="$1" expected="$2" status=0
  shift 2
  "$@" >"$work/out.txt" 2>&1 || status=$?
  if [[ "$status" -eq "$expected" ]]; then
    echo "ok: $what"
    passed=$((passed + 1))
  else
    echo "FAIL: $what (status $status, expected $expected)"
    cat "$work/out.txt"
    failed=$((failed + 1))
  fi
}

check "no cargo or rustc on PATH" 0 sh -c '! command -v cargo && ! command -v rustc'
# A platform wheel: maturin's `bindings = "bin"` tags it py3-none-<platform>, never `any`.
check "$(basename "$wheel") is a platform wheel" 0 sh -c "case '$(basename "$wheel")' in *-py3-none-any.whl) exit 1 ;; *-py3-none-*.whl) exit 0 ;; *) exit 1 ;; esac"
python3 -m venv "$work/venv"
start="$EPOCHREALTIME"
check "pip install of the wheel into a fresh venv" 0 \
  env PIP_DISABLE_PIP_VERSION_CHECK=1 "$work/venv/bin/python" -m pip install --no-index "$wheel"
echo "  pip install took $(awk -v s="$start" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.1f", e - s }')s"
lint="$work/venv/bin/immutable-lint"
check "immutable-lint is installed into the venv's bin" 0 test -x "$lint"
check "immutable-lint --version prints $version" 0 grep -q "immutable-lint $version" <("$lint" --version)
check "a destroy-first plan fails (1)" 1 "$lint" --no-config "$fixtures/imm002_destroy_before_create.json"
check "a clean plan passes (0)" 0 "$lint" --no-config "$fixtures/clean.json"
check "unreadable input is an input error (2)" 2 "$lint" --no-config "$work/missing.json"

echo "$passed passed, $failed failed"
[[ "$failed" -eq 0 ]]
