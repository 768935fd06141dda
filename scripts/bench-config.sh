#!/usr/bin/env bash
# Benchmarks immutable-lint's configuration mode (`immutable-lint DIR`, no plan) against
# checkov's HCL scan of the same directory (`checkov -d DIR`) with an equivalent custom check,
# side by side in one run: bench/checkov/SshOpenToWorldHcl.py (CKV_IMM_005) fails what IMM005
# reports, SSH open to 0.0.0.0/0 or ::/0 in aws_security_group ingress blocks and
# aws_security_group_rule resources. immutable-lint runs all its rules; checkov runs that one.
# Repositories come from gen-config into .bench/config/ (gitignored). Before timing, both tools'
# findings are compared with what gen-config planted, block by block (file and line).
# Tables go to stdout and to bench/results/config.md. Timings are never asserted.
#
#   scripts/bench-config.sh           full run: 100 files/1,000 resources and 1,000 files/
#                                     10,000 resources; release build (~5 min on 2 cores)
#   scripts/bench-config.sh --smoke   20 files/100 resources, one run each; debug build; what
#                                     CI runs (a few seconds after the build and checkov install)
#   --no-checkov                      skip checkov (e.g. offline)
#
# Exits non-zero when anything fails to run or the findings disagree (a build, the generator,
# the linter exiting 2 or crashing, checkov erroring), never because a ratio misses its target.
set -euo pipefail
export LC_ALL=C

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
# step, die, build_bins, generate_once, install_checkov, run_once, medians_of, get and the
# table cells; CHECKOV_VERSION and checkov.
# shellcheck source=scripts/lib/measure.sh
source scripts/lib/measure.sh

bench_args bench-config 2,20 "$@"

bench_dir=.bench
repos_dir=$bench_dir/config
results_md=bench/results/config.md
mkdir -p "$repos_dir" bench/results
# This run's measurements (a run in another shell, e.g. a smoke run, must not mix in).
tsv=$(mktemp "${TMPDIR:-/tmp}/bench-config.XXXXXX")
trap 'rm -f -- "$tsv"' EXIT

# Sizes: name, files, resources, linter runs, checkov runs.
suffix=""
if $smoke; then
  suffix=-smoke
  sizes=("100r 20 100 1 1")
else
  sizes=("1k 100 1000 10 3" "10k 1000 10000 10 3")
fi

build_bins immutable-lint gen-config
lint=$bin/immutable-lint
gen=$bin/gen-config

$with_checkov && install_checkov
checkov_args=(--framework terraform --external-checks-dir bench/checkov --check CKV_IMM_005
  --quiet --compact --skip-download --output json)

# Findings as "file:line" of each reported block, one per line, sorted and unique.
lint_blocks() { # lint_blocks JSON RULE DIR
  python3 - "$@" <<'PY'
import json, os, sys
report, rule, root = sys.argv[1], sys.argv[2], os.path.realpath(sys.argv[3])
blocks = set()
for f in json.load(open(report))["findings"]:
    if f["rule"] == rule and f["location"]:
        path = os.path.relpath(os.path.realpath(f["location"]["file"]), root)
        blocks.add(f"{path}:{f['location']['line']}")
print("\n".join(sorted(blocks)))
PY
}
checkov_blocks() { # checkov_blocks JSON
  python3 - "$@" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
report = report if isinstance(report, list) else [report]
blocks = set()
for part in report:
    for r in part.get("results", {}).get("failed_checks", []):
        blocks.add(f"{r['file_path'].lstrip('/')}:{r['file_line_range'][0]}")
print("\n".join(sorted(blocks)))
PY
}
checkov_results() { # checkov_results JSON: failed results (a count block in a module can repeat)
  python3 -c 'import json, sys
r = json.load(open(sys.argv[1])); r = r if isinstance(r, list) else [r]
print(sum(len(p.get("results", {}).get("failed_checks", [])) for p in r))' "$1"
}

declare -A repo_bytes planted_ssh lint_ssh checkov_ssh checkov_ssh_results lint_total by_rule
for s in "${sizes[@]}"; do
  read -r name files resources runs checkov_runs <<<"$s"
  $with_checkov || checkov_runs=0
  repo=$repos_dir/$name
  # gen-config writes .gen-config last.
  generate_once "$repos_dir/$name.args" "$repo/.gen-config" "$gen" "$repo" \
    --files "$files" --resources "$resources" --seed 1
  repo_bytes[$name]=$(find "$repo" -name '*.tf' -printf '%s\n' | awk '{ s += $1 } END { print s }')
  planted_ssh[$name]=$(awk '$1 == "IMM005" { print $2 }' "$repo/.gen-config")

  step "checking $name: the HCL parses (source mapping), configuration mode runs"
  # The source-mapping parse of --source reads every .tf file (hcl-edit) and follows the
  # local module calls: any file it cannot parse is an exit-2 error.
  empty_plan=$(mktemp --suffix=.json)
  echo '{"format_version":"1.2","resource_changes":[]}' >"$empty_plan"
  "$lint" --no-config --source "$repo" "$empty_plan" >/dev/null || die "the generated HCL of $repo does not parse"
  rm -f "$empty_plan"
  report=$bench_dir/config-$name$suffix.lint.json
  set +e
  "$lint" --no-config --format json "$repo" >"$report"
  status=$?
  set -e
  ((status <= 1)) || die "immutable-lint $repo exited $status (is configuration mode in this build?)"
  lint_total[$name]=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["findings"]))' "$report")
  lint_ssh[$name]=$(lint_blocks "$report" IMM005 "$repo" | grep -c . || true)
  # Every rule: blocks found / planted (a rule whose configuration form is missing shows 0).
  by_rule[$name]=$(for rule in IMM001 IMM002 IMM003 IMM004 IMM005 IMM006; do
    printf '%s %s/%s, ' "$rule" "$(lint_blocks "$report" "$rule" "$repo" | grep -c . || true)" \
      "$(awk -v r="$rule" '$1 == r { print $2 }' "$repo/.gen-config")"
  done | sed 's/, $//')
  [[ ${lint_ssh[$name]} == "${planted_ssh[$name]}" ]] ||
    die "immutable-lint reports ${lint_ssh[$name]} IMM005 blocks in $repo, gen-config planted ${planted_ssh[$name]}"

  step "measuring $name (${repo_bytes[$name]} bytes of .tf): $runs rounds, checkov $checkov_runs"
  checkov_report=$bench_dir/config-$name$suffix.checkov.json
  for ((round = 1; round <= runs; round++)); do
    # Findings include errors (IMM002, IMM003): exit 1; 2 or a signal is a failure.
    run_once "$name" immutable-lint 1 IMM005 '' "$lint" --no-config "$repo"
    if ((round <= checkov_runs)); then
      run_once "$name" checkov 1 CKV_IMM_005 "$checkov_report" "$checkov" -d "$repo" "${checkov_args[@]}"
    fi
  done
  if ((checkov_runs > 0)); then
    checkov_ssh[$name]=$(checkov_blocks "$checkov_report" | grep -c . || true)
    checkov_ssh_results[$name]=$(checkov_results "$checkov_report")
    if ! diff <(lint_blocks "$report" IMM005 "$repo") <(checkov_blocks "$checkov_report") >&2; then
      die "immutable-lint (<) and checkov (>) report different blocks in $repo"
    fi
  fi
done

medians=$(medians_of "$tsv")

report_md=$(mktemp)
{
  echo "## Configuration mode: immutable-lint DIR against checkov -d DIR"
  echo
  report_intro "$profile" "$results_md"
  echo "Reproduce: \`scripts/bench-config.sh$($smoke && echo ' --smoke')\` (repositories: \`gen-config --files F --resources N --seed 1 -o DIR\`;"
  echo "linter: \`immutable-lint --no-config DIR\`, every rule;"
  echo "checkov: \`checkov -d DIR --framework terraform --external-checks-dir bench/checkov --check CKV_IMM_005 --quiet --compact --skip-download --output json\`, one check)."
  echo "Medians of interleaved runs (one of each command per round); wall time from bash's \`EPOCHREALTIME\`,"
  echo "CPU time (10 ms steps) and peak RSS from \`/usr/bin/time\`."
  echo
  echo "### Wall time"
  echo
  echo "| repository | .tf files | resources | HCL | immutable-lint | checkov | checkov / lint | runs |"
  echo "|---|---|---|---|---|---|---|---|"
  for s in "${sizes[@]}"; do
    read -r name files resources _ _ <<<"$s"
    l=$(get "$name" immutable-lint 3) c=$(get "$name" checkov 3)
    runs=$(get "$name" immutable-lint 6)
    [[ -z $c ]] || runs+=" (checkov $(get "$name" checkov 6))"
    echo "| $name | $files | $resources | $(human_bytes "${repo_bytes[$name]}") | $(secs "$l") | $(secs "$c") | $(bigratio "$c" "$l") | $runs |"
  done
  echo
  echo "### CPU time (user + system) and peak memory"
  echo
  echo "| repository | immutable-lint CPU | checkov CPU | checkov / lint | immutable-lint RSS | checkov RSS |"
  echo "|---|---|---|---|---|---|"
  for s in "${sizes[@]}"; do
    read -r name _ _ _ _ <<<"$s"
    l=$(get "$name" immutable-lint 4) c=$(get "$name" checkov 4)
    echo "| $name | $(cpusecs "$l") | $(cpusecs "$c") | $(bigratio "$c" "$l") | $(mib "$(get "$name" immutable-lint 5)") | $(mib "$(get "$name" checkov 5)") |"
  done
  echo
  echo "### Same findings"
  echo
  echo "| repository | SSH open to the world, planted by gen-config | immutable-lint IMM005 (blocks) | checkov CKV_IMM_005 (blocks / results) | immutable-lint, all rules (blocks found/planted) |"
  echo "|---|---|---|---|---|"
  for s in "${sizes[@]}"; do
    read -r name _ _ _ _ <<<"$s"
    ck="–"
    [[ -z ${checkov_ssh[$name]:-} ]] || ck="${checkov_ssh[$name]} / ${checkov_ssh_results[$name]}"
    echo "| $name | ${planted_ssh[$name]} | ${lint_ssh[$name]} | $ck | ${lint_total[$name]} findings: ${by_rule[$name]} |"
  done
  if ! $smoke; then
    echo
    echo "### Target"
    echo
    echo "| target | measured | met |"
    echo "|---|---|---|"
    for s in "${sizes[@]}"; do
      read -r name files resources _ _ <<<"$s"
      c=$(get "$name" checkov 3)
      [[ -n $c ]] || continue
      rr=$(awk -v a="$c" -v b="$(get "$name" immutable-lint 3)" 'BEGIN { printf "%.0f", a / b }')
      met=$(awk -v r="$rr" 'BEGIN { print (r >= 100 ? "yes" : "**no**") }')
      echo "| ≥ 100× faster than checkov ($files files, $resources resources) | ${rr}× | $met |"
    done
  fi
} >"$report_md"

write_report "$report_md" "$results_md" "$bench_dir/config-smoke.md"
rm -f "$report_md"
