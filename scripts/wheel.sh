#!/usr/bin/env bash
# Builds immutable-lint into a platform wheel with maturin (linter/pyproject.toml,
# `bindings = "bin"`): a wheel holding only the release binary, which `pip install` puts on the
# virtualenv's PATH with no Rust toolchain. The pre-commit hooks (.pre-commit-hooks.yaml) and
# the GitHub Action (action.yml) install the linter from it.
#
#   OUT/immutable_lint-<v>-py3-none-<platform tag>.whl
#
# Builds into $CARGO_TARGET_DIR (default target/), so the build reuses the workspace's cargo
# cache. maturin comes from $MATURIN, else .venv/bin/maturin (scripts/setup-venv.sh), else a
# virtualenv of its own under target/ that pip fills with the pinned maturin.
#
# Usage: scripts/wheel.sh [--out DIR] [--target TRIPLE] [-- MATURIN-BUILD-ARGS...]
#   --out DIR        where the wheel goes (default: target/wheels); older wheels of the same
#                    version and platform there are replaced
#   --target TRIPLE  Rust target to build for (default: this machine)
# Prints the wheel's path on stdout.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly maturin_pin="maturin==1.16.0"

usage() {
  sed -n '/^# Usage:/,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
}

die() {
  printf 'wheel.sh: %s\n' "$*" >&2
  exit 2
}

out="$repo_root/target/wheels"
target_args=()
extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out | --target)
      [[ $# -ge 2 ]] || die "$1 needs a value"
      case "$1" in
        --out) out="$2" ;;
        --target) target_args=(--target "$2") ;;
      esac
      shift
      ;;
    --)
      shift
      extra=("$@")
      break
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      usage
      die "unknown argument: $1"
      ;;
  esac
  shift
done

maturin="${MATURIN:-}"
if [[ -z "$maturin" && -x "$repo_root/.venv/bin/maturin" ]]; then
  maturin="$repo_root/.venv/bin/maturin"
fi
if [[ -z "$maturin" ]]; then
  venv="$repo_root/target/maturin-venv"
  if [[ ! -x "$venv/bin/maturin" ]]; then
    printf 'wheel.sh: installing %s into %s\n' "$maturin_pin" "$venv" >&2
    python3 -m venv "$venv"
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install --quiet "$maturin_pin"
  fi
  maturin="$venv/bin/maturin"
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo_root/target}"
mkdir -p "$out"
# A scratch directory first: maturin names the wheel, and this script must say which one it built.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/immutable-wheel.XXXXXX")
trap 'rm -rf -- "$scratch"' EXIT
"$maturin" build --release --locked --manifest-path "$repo_root/linter/Cargo.toml" \
  --out "$scratch" ${target_args[@]+"${target_args[@]}"} ${extra[@]+"${extra[@]}"} >&2

shopt -s nullglob
wheels=("$scratch"/immutable_lint-*.whl)
[[ ${#wheels[@]} -eq 1 ]] || die "maturin built ${#wheels[@]} wheels, expected one"
wheel="$out/$(basename "${wheels[0]}")"
mv -f -- "${wheels[0]}" "$wheel"
printf '%s\n' "$wheel"
