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

smoke=false
with_checkov=true
for arg in "$@"; do
  case "$arg" in
    --smoke) smoke=true ;;
    --no-checkov) with_checkov=false ;;
    -h | --help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "bench-linter: unknown argument $arg" >&2; exit 2 ;;
  esac
done

CHECKOV_VERSION=3.3.30
bench_dir=.bench
plans_dir=$bench_dir/plans
results_md=bench/results/linter.md
tsv=$bench_dir/linter-measurements.tsv
mkdir -p "$plans_dir" bench/results

step() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench-linter: %s\n' "$*" >&2; exit 1; }

if [[ ! -x /usr/bin/time ]]; then
  die "/usr/bin/time is missing (it measures peak RSS): apt-get install time"
fi

# Sizes: name, resources, target bytes (0 = natural size), runs, checkov runs.
if $smoke; then
  profile=debug
  sizes=("1k 1000 0 1 1" "10k 10000 0 1 0")
else
  profile=release
  sizes=("1k 1000 0 10 3" "10k 10000 0 10 1" "100k 100000 0 7 0" "1GB 250000 1000000000 3 0")
fi
$with_checkov || sizes=("${sizes[@]/%?/0}")

step "cargo build ($profile): immutable-lint, gen-plan, parse-baseline"
cargo_flags=()
[[ $profile == release ]] && cargo_flags=(--release)
cargo build "${cargo_flags[@]}" -p immutable-lint -p immutable-bench --bin immutable-lint --bin gen-plan --bin parse-baseline >&2
bin=target/$profile
lint=$bin/immutable-lint
parse=$bin/parse-baseline
gen=$bin/gen-plan

checkov=$bench_dir/venv-checkov/bin/checkov
need_checkov=false
for s in "${sizes[@]}"; do
  read -r _ _ _ _ ck <<<"$s"
  ((ck > 0)) && need_checkov=true
done
if $need_checkov; then
  if [[ ! -x $checkov ]] || [[ $("$checkov" --version 2>/dev/null) != "$CHECKOV_VERSION" ]]; then
    step "installing checkov==$CHECKOV_VERSION into $bench_dir/venv-checkov"
    python3 -m venv "$bench_dir/venv-checkov"
    "$bench_dir/venv-checkov/bin/pip" install --quiet "checkov==$CHECKOV_VERSION" >&2
  fi
fi

# run_once SIZE LABEL EXPECTED_CODES MUST_PRINT CMD... : one measured run, appended to $tsv as
# size label wall user sys rss_kb. EXPECTED_CODES is a regex of the acceptable exit codes;
# MUST_PRINT a string the output must contain (proof that the tool really scanned the plan).
run_once() {
  local size=$1 label=$2 ok=$3 must=$4
  shift 4
  local timing err out status
  timing=$(mktemp) err=$(mktemp) out=$(mktemp)
  local t0 t1
  set +e
  t0=$EPOCHREALTIME
  /usr/bin/time -f '%e %U %S %M %x' -o "$timing" "$@" >"$out" 2>"$err"
  status=$?
  t1=$EPOCHREALTIME
  set -e
  local code
  code=$(awk 'END { print $NF }' "$timing")
  if [[ ! $code =~ ^($ok)$ ]] || { [[ -n $must ]] && ! grep -q -- "$must" "$out"; }; then
    echo "bench-linter: $label on $size failed (exit $code, status $status; output must contain $must): $*" >&2
    tail -20 "$err" >&2
    tail -c 2000 "$out" >&2
    # /usr/bin/time reports a signal on its first line.
    head -2 "$timing" >&2
    rm -f "$timing" "$err" "$out"
    exit 1
  fi
  # Wall time from the shell's microsecond clock (time's %e has 10 ms steps; this adds the
  # ~1 ms of starting /usr/bin/time to every command alike). CPU times keep time's 10 ms steps.
  awk -v s="$size" -v l="$label" -v t0="$t0" -v t1="$t1" \
    'END { printf "%s\t%s\t%.4f\t%s\t%s\t%s\n", s, l, t1 - t0, $2, $3, $4 }' "$timing" >>"$tsv"
  rm -f "$timing" "$err" "$out"
}

checkov_args=(--framework terraform_plan --external-checks-dir bench/checkov --check CKV_IMM_001
  --quiet --compact --skip-download)

: >"$tsv"
declare -A plan_bytes
for s in "${sizes[@]}"; do
  read -r name resources target runs checkov_runs <<<"$s"
  plan=$plans_dir/plan-$name.json
  gen_args=(--resources "$resources" --seed 1)
  ((target > 0)) && gen_args+=(--target-bytes "$target")
  stamp="$plans_dir/plan-$name.args"
  # Regenerate when the generator or its arguments changed.
  if [[ ! -s $plan || ! -f $stamp || $(cat "$stamp") != "${gen_args[*]} $(stat -c %Y "$gen")" ]]; then
    step "gen-plan ${gen_args[*]} -o $plan"
    "$gen" "${gen_args[@]}" -o "$plan"
    echo "${gen_args[*]} $(stat -c %Y "$gen")" >"$stamp"
  fi
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
    run_once "$name" parse-baseline 0 '' "$parse" "$plan"
    # The plans update aws_instances in place: the linter exits 1 with IMM001 findings (2 or a
    # signal is a failure), checkov exits 1 with CKV_IMM_001 failures.
    run_once "$name" immutable-lint 1 IMM001 "$lint" --no-config "$plan"
    if ((round <= checkov_runs)); then
      run_once "$name" checkov 1 CKV_IMM_001 "$checkov" -f "$plan" "${checkov_args[@]}"
    fi
  done
done

# Medians per size and tool: size label wall cpu rss_kb n.
medians=$(awk -F'\t' '
  { key = $1 "\t" $2; n[key]++; wall[key, n[key]] = $3; cpu[key, n[key]] = $4 + $5; rss[key, n[key]] = $6
    if (!(key in seen)) { seen[key] = 1; order[++keys] = key } }
  function median(arr, key, count,   i, j, t, v) {
    for (i = 1; i <= count; i++) v[i] = arr[key, i]
    for (i = 2; i <= count; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
    return count % 2 ? v[(count + 1) / 2] : (v[count / 2] + v[count / 2 + 1]) / 2
  }
  END { for (k = 1; k <= keys; k++) { key = order[k]
    printf "%s\t%s\t%s\t%s\t%d\n", key, median(wall, key, n[key]), median(cpu, key, n[key]), median(rss, key, n[key]), n[key] } }
' "$tsv")

get() { # get SIZE LABEL FIELD(3=wall 4=cpu 5=rss 6=n)
  awk -F'\t' -v s="$1" -v l="$2" -v f="$3" '$1 == s && $2 == l { print $f }' <<<"$medians"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "–"; else printf "%.2f×", a / b }'; }
bigratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "–"; else printf "%.0f×", a / b }'; }
secs() { [[ -n $1 ]] && printf '%.3f s' "$1" || printf '–'; }
# CPU times: /usr/bin/time counts in 10 ms steps.
cpusecs() { [[ -n $1 ]] && printf '%.2f s' "$1" || printf '–'; }
mib() { [[ -n $1 ]] && awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }' || printf '–'; }

report=$(mktemp)
{
  echo "## immutable-lint benchmarks"
  echo
  echo "Machine: $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GiB memory ($(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')); $(date -u +%Y-%m-%d)."
  echo "Build: $profile. checkov $CHECKOV_VERSION ($(python3 --version 2>&1))."
  if $smoke; then
    echo "Smoke run: debug build, one run of each command; it proves the harness works. Its ratios"
    echo "are not the product's figures: those come from a full run (bench/results/linter.md)."
  fi
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

cat "$report"
if $smoke; then
  # A smoke run proves the harness works; it must not replace the measured full-run results.
  cp "$report" "$bench_dir/linter-smoke.md"
  step "smoke run: tables written to $bench_dir/linter-smoke.md (not $results_md)"
else
  # The file keeps a hand-written notes section after the generated tables.
  notes=""
  if [[ -f $results_md ]]; then
    notes=$(awk '/^<!-- notes -->/ { keep = 1 } keep' "$results_md")
  fi
  { cat "$report"; echo; [[ -n $notes ]] && echo "$notes"; } >"$results_md"
  step "wrote $results_md"
fi
rm -f "$report"
