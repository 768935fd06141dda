#!/usr/bin/env bash
# Benchmarks immutable-lint as a whole process (wall, CPU, peak RSS) against, in the same run:
#   - the limit: parse-baseline, a plain serde_json parse of the same file discarding the values
#     (read the same way the linter reads it);
#   - checkov (pinned, from PyPI, into .bench/venv-checkov) with one custom check that fails an
#     `update` of an aws_instance (bench/checkov/), the equivalent of IMM001.
# Commands run interleaved (one of each per round, after a warm-up round), so machine load hits
# them alike; medians are reported. Plans come from gen-plan into .bench/plans/ (gitignored).
# Tables go to stdout and to bench/results/linter.md. Timings are never asserted.
#
#   scripts/bench-linter.sh           full run: 1k, 10k, 100k resources and a ~1 GB plan;
#                                     checkov on 1k and 10k (about 10 min on 2 cores)
#   scripts/bench-linter.sh --smoke   1k and 10k, one run each, checkov on 1k; debug build; ~20 s
#                                     (+1-2 min to install checkov once). What CI runs.
#   --no-checkov                      skip checkov (e.g. offline)
#
# Exits non-zero when anything fails to run (a build, the generator, the linter exiting 2 or
# crashing, checkov erroring), never because a ratio misses its target.
set -euo pipefail
export LC_ALL=C

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
# step, die, build_bins, generate_once, install_checkov, run_once, medians_of, get and the
# table cells; CHECKOV_VERSION and checkov.
# shellcheck source=scripts/lib/measure.sh
source scripts/lib/measure.sh

bench_args bench-linter 2,18 "$@"

bench_dir=.bench
plans_dir=$bench_dir/plans
results_md=bench/results/linter.md
tsv=$bench_dir/linter-measurements.tsv
mkdir -p "$plans_dir" bench/results

# Sizes: name, resources, target bytes (0 = natural size), runs, checkov runs.
if $smoke; then
  sizes=("1k 1000 0 1 1" "10k 10000 0 1 0")
else
  sizes=("1k 1000 0 10 3" "10k 10000 0 10 1" "100k 100000 0 7 0" "1GB 250000 1000000000 3 0")
fi
$with_checkov || sizes=("${sizes[@]/%?/0}")

build_bins immutable-lint gen-plan parse-baseline
lint=$bin/immutable-lint
parse=$bin/parse-baseline
gen=$bin/gen-plan

need_checkov=false
for s in "${sizes[@]}"; do
  read -r _ _ _ _ ck <<<"$s"
  ((ck > 0)) && need_checkov=true
done
$need_checkov && install_checkov

checkov_args=(--framework terraform_plan --external-checks-dir bench/checkov --check CKV_IMM_001
  --quiet --compact --skip-download)

: >"$tsv"
declare -A plan_bytes
for s in "${sizes[@]}"; do
  read -r name resources target runs checkov_runs <<<"$s"
  plan=$plans_dir/plan-$name.json
  gen_args=(--resources "$resources" --seed 1)
  ((target > 0)) && gen_args+=(--target-bytes "$target")
  generate_once "$plans_dir/plan-$name.args" "$plan" "$gen" "$plan" "${gen_args[@]}"
  plan_bytes[$name]=$(stat -c %s "$plan")
  step "measuring $name (${plan_bytes[$name]} bytes): $runs rounds, checkov $checkov_runs"
  # Warm-up round: page cache, and a failure shows before the long part.
  "$parse" "$plan" >/dev/null 2>&1 || die "parse-baseline failed on $plan"
  set +e
  "$lint" --no-config "$plan" >/dev/null 2>&1
  status=$?
  set -e
  ((status <= 1)) || die "immutable-lint exited $status on $plan"
  for ((round = 1; round <= runs; round++)); do
    run_once "$name" parse-baseline 0 '' '' "$parse" "$plan"
    # The plans update aws_instances in place: the linter exits 1 with IMM001 findings (2 or a
    # signal is a failure), checkov exits 1 with CKV_IMM_001 failures.
    run_once "$name" immutable-lint 1 IMM001 '' "$lint" --no-config "$plan"
    if ((round <= checkov_runs)); then
      run_once "$name" checkov 1 CKV_IMM_001 '' "$checkov" -f "$plan" "${checkov_args[@]}"
    fi
  done
done

medians=$(medians_of "$tsv")

report=$(mktemp)
{
  echo "## immutable-lint benchmarks"
  echo
  report_intro "$profile" "$results_md"
  echo "Reproduce: \`scripts/bench-linter.sh$($smoke && echo ' --smoke')\` (plans: \`$gen --resources N --seed 1 [--target-bytes B] -o FILE\`;"
  echo "linter: \`immutable-lint --no-config plan.json\`; limit: \`parse-baseline plan.json\`;"
  echo "checkov: \`checkov -f plan.json --framework terraform_plan --external-checks-dir bench/checkov --check CKV_IMM_001 --quiet --compact --skip-download\`)."
  echo "Medians of interleaved runs (one of each command per round, after a warm-up round): wall time from bash's \`EPOCHREALTIME\`,"
  echo "CPU time (10 ms steps) and peak RSS from \`/usr/bin/time\`; runs per command in the last column of the first table."
  echo
  echo "### Wall time"
  echo
  echo "| plan | size | parse-baseline (limit) | immutable-lint | lint / limit | checkov | checkov / lint | runs |"
  echo "|---|---|---|---|---|---|---|---|"
  for s in "${sizes[@]}"; do
    read -r name resources _ _ _ <<<"$s"
    p=$(get "$name" parse-baseline 3) l=$(get "$name" immutable-lint 3) c=$(get "$name" checkov 3)
    runs=$(get "$name" immutable-lint 6)
    [[ -z $c ]] || runs+=" (checkov $(get "$name" checkov 6))"
    echo "| $name ($resources resources) | $(mib $((plan_bytes[$name] / 1024))) | $(secs "$p") | $(secs "$l") | $(ratio "$l" "$p") | $(secs "$c") | $(bigratio "$c" "$l") | $runs |"
  done
  echo
  echo "### CPU time (user + system)"
  echo
  echo "| plan | parse-baseline | immutable-lint | lint / limit | checkov | checkov / lint |"
  echo "|---|---|---|---|---|---|"
  for s in "${sizes[@]}"; do
    read -r name _ _ _ _ <<<"$s"
    p=$(get "$name" parse-baseline 4) l=$(get "$name" immutable-lint 4) c=$(get "$name" checkov 4)
    echo "| $name | $(cpusecs "$p") | $(cpusecs "$l") | $(ratio "$l" "$p") | $(cpusecs "$c") | $(bigratio "$c" "$l") |"
  done
  echo
  echo "### Peak memory (maximum resident set size)"
  echo
  echo "| plan | size | parse-baseline | immutable-lint | lint / plan size | checkov |"
  echo "|---|---|---|---|---|---|"
  for s in "${sizes[@]}"; do
    read -r name _ _ _ _ <<<"$s"
    p=$(get "$name" parse-baseline 5) l=$(get "$name" immutable-lint 5) c=$(get "$name" checkov 5)
    echo "| $name | $(mib $((plan_bytes[$name] / 1024))) | $(mib "$p") | $(mib "$l") | $(ratio "$l" $((plan_bytes[$name] / 1024))) | $(mib "$c") |"
  done
  echo
  echo "### Targets"
  echo
  echo "| target | measured | met |"
  echo "|---|---|---|"
  verdict() { awk -v v="$1" -v lim="$2" -v dir="$3" 'BEGIN { v += 0; if (v == 0) print "not measured"; else if ((dir == "<" && v < lim) || (dir == ">" && v > lim)) print "yes"; else print "**no**" }'; }
  big=100k
  $smoke && big=10k
  l=$(get $big immutable-lint 3) p=$(get $big parse-baseline 3)
  r=$(awk -v a="$l" -v b="$p" 'BEGIN { if (b > 0) printf "%.2f", a / b }')
  echo "| wall ≤ 1.5× the plain parse on the $big plan | ${r:-–}× | $(verdict "$r" 1.5 '<') |"
  # Plans under 30 MB are left out: there the process's fixed footprint (binary, allocator,
  # ~8 MiB) is most of the peak, not the plan.
  worst=0 worst_name=
  for s in "${sizes[@]}"; do
    read -r name _ _ _ _ <<<"$s"
    ((plan_bytes[$name] >= 30000000)) || continue
    rr=$(awk -v a="$(get "$name" immutable-lint 5)" -v b=$((plan_bytes[$name] / 1024)) 'BEGIN { printf "%.2f", a / b }')
    if awk -v a="$rr" -v b="$worst" 'BEGIN { exit !(a > b) }'; then worst=$rr worst_name=$name; fi
  done
  echo "| peak RSS < 2.5× the plan file (worst plan of 30 MB or more) | ${worst}× ($worst_name) | $(verdict "$worst" 2.5 '<') |"
  for s in "${sizes[@]}"; do
    read -r name _ _ _ _ <<<"$s"
    c=$(get "$name" checkov 3)
    [[ -n $c ]] || continue
    rr=$(awk -v a="$c" -v b="$(get "$name" immutable-lint 3)" 'BEGIN { printf "%.0f", a / b }')
    echo "| ≥ 500× faster than checkov ($name plan) | ${rr}× | $(verdict "$rr" 499.5 '>') |"
  done
  if [[ -n ${plan_bytes[1GB]:-} ]]; then
    echo "| the ~1 GB plan completes | $(secs "$(get 1GB immutable-lint 3)"), $(mib "$(get 1GB immutable-lint 5)") peak | yes |"
  fi
} >"$report"

write_report "$report" "$results_md" "$bench_dir/linter-smoke.md"
rm -f "$report"
