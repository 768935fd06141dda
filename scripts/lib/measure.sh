# shellcheck shell=bash
# Sourced by scripts/bench-linter.sh and scripts/bench-config.sh: what both benchmarks do alike.
# Builds the binaries, generates the inputs (again only when the generator or its arguments
# changed), installs checkov, measures whole processes (wall time from bash's EPOCHREALTIME;
# CPU time and peak RSS from /usr/bin/time), takes medians and formats them for the results
# tables and report.
#
# The sourcing script calls bench_args NAME HELP_LINES "$@" first; NAME prefixes error messages
# ("NAME: ..."). It sets tsv, the file run_once appends measurements to, and medians, the output
# of medians_of "$tsv" that get reads.

# One virtualenv serves both benchmarks, so one pin. Relative to the repository root, where
# both scripts run.
CHECKOV_VERSION=3.3.30
checkov_venv=.bench/venv-checkov
# shellcheck disable=SC2034 # checkov is run by the sourcing script
checkov=$checkov_venv/bin/checkov

# bench_args NAME HELP_LINES ARG...: sets smoke and with_checkov from --smoke and --no-checkov;
# -h/--help prints lines HELP_LINES (sed range, e.g. 2,18) of the script and exits 0; anything
# else exits 2. Then checks that /usr/bin/time is there.
# shellcheck disable=SC2034 # with_checkov is read by the sourcing script
bench_args() {
  bench_name=$1
  local help=$2 arg
  shift 2
  smoke=false
  with_checkov=true
  for arg in "$@"; do
    case "$arg" in
      --smoke) smoke=true ;;
      --no-checkov) with_checkov=false ;;
      -h | --help) sed -n "${help}p" "$0"; exit 0 ;;
      *) echo "$bench_name: unknown argument $arg" >&2; exit 2 ;;
    esac
  done
  [[ -x /usr/bin/time ]] || die "/usr/bin/time is missing (it measures peak RSS): apt-get install time"
}

step() { printf '==> %s\n' "$*" >&2; }
die() { printf '%s: %s\n' "$bench_name" "$*" >&2; exit 1; }

# build_bins BIN...: cargo build of the binaries BIN (of immutable-lint and immutable-bench) in
# this run's profile, debug for --smoke and release otherwise. Sets profile, and bin, the
# directory they are in.
# shellcheck disable=SC2034 # bin is read by the sourcing script
build_bins() {
  local name list="" cargo_args=()
  if ${smoke:?}; then profile=debug; else profile=release; fi
  [[ $profile == debug ]] || cargo_args+=(--release)
  cargo_args+=(-p immutable-lint -p immutable-bench)
  for name in "$@"; do
    cargo_args+=(--bin "$name")
    list+="${list:+, }$name"
  done
  step "cargo build ($profile): $list"
  cargo build "${cargo_args[@]}" >&2
  bin=${CARGO_TARGET_DIR:-target}/$profile
}

# generate_once STAMP WRITTEN GEN OUTPUT ARG...: runs `GEN ARG... -o OUTPUT` unless the file
# WRITTEN (OUTPUT itself, or a file the generator writes last into it) is there and not empty
# and the file STAMP says it was written with the same arguments by the same GEN (its mtime):
# a rebuilt generator or other arguments regenerate, anything else reuses what is there.
generate_once() {
  local stamp=$1 written=$2 gen=$3 output=$4
  shift 4
  local signature
  signature="$* $(stat -c %Y "$gen")"
  if [[ ! -s $written || ! -f $stamp || $(cat "$stamp") != "$signature" ]]; then
    step "${gen##*/} $* -o $output"
    "$gen" "$@" -o "$output"
    echo "$signature" >"$stamp"
  fi
}

# install_checkov: checkov==$CHECKOV_VERSION into $checkov_venv unless it is there.
install_checkov() {
  local venv=$checkov_venv
  if [[ ! -x $venv/bin/checkov ]] || [[ $("$venv/bin/checkov" --version 2>/dev/null) != "$CHECKOV_VERSION" ]]; then
    step "installing checkov==$CHECKOV_VERSION into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "checkov==$CHECKOV_VERSION" >&2
  fi
}

# run_once SIZE LABEL EXPECTED_CODES MUST_PRINT KEEP CMD... : one measured run, appended to $tsv
# as size label wall user sys rss_kb. EXPECTED_CODES is a regex of the acceptable exit codes;
# MUST_PRINT a string the output must contain (proof that the tool really scanned its input;
# empty: no check). The output is kept in the file KEEP (empty: thrown away). Exits 1 when the
# command fails.
run_once() {
  local size=$1 label=$2 ok=$3 must=$4 keep=$5
  shift 5
  local timing err out status t0 t1 code
  timing=$(mktemp) err=$(mktemp) out=$(mktemp)
  set +e
  t0=$EPOCHREALTIME
  /usr/bin/time -f '%e %U %S %M %x' -o "$timing" "$@" >"$out" 2>"$err"
  status=$?
  t1=$EPOCHREALTIME
  set -e
  code=$(awk 'END { print $NF }' "$timing")
  if [[ ! $code =~ ^($ok)$ ]] || { [[ -n $must ]] && ! grep -q -- "$must" "$out"; }; then
    echo "$bench_name: $label on $size failed (exit $code, status $status; output must contain $must): $*" >&2
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
    'END { printf "%s\t%s\t%.4f\t%s\t%s\t%s\n", s, l, t1 - t0, $2, $3, $4 }' "$timing" >>"${tsv:?}"
  if [[ -n $keep ]]; then mv "$out" "$keep"; else rm -f "$out"; fi
  rm -f "$timing" "$err"
}

# medians_of TSV: medians per size and tool of run_once's measurements, in the order first
# measured: size label wall cpu rss_kb n.
medians_of() {
  awk -F'\t' '
    { key = $1 "\t" $2; n[key]++; wall[key, n[key]] = $3; cpu[key, n[key]] = $4 + $5; rss[key, n[key]] = $6
      if (!(key in seen)) { seen[key] = 1; order[++keys] = key } }
    function median(arr, key, count,   i, j, t, v) {
      for (i = 1; i <= count; i++) v[i] = arr[key, i]
      for (i = 2; i <= count; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
      return count % 2 ? v[(count + 1) / 2] : (v[count / 2] + v[count / 2 + 1]) / 2
    }
    END { for (k = 1; k <= keys; k++) { key = order[k]
      printf "%s\t%s\t%s\t%s\t%d\n", key, median(wall, key, n[key]), median(cpu, key, n[key]), median(rss, key, n[key]), n[key] } }
  ' "$1"
}

# Table cells; an empty measurement prints as –.
get() { # get SIZE LABEL FIELD(3=wall 4=cpu 5=rss 6=n), from $medians
  awk -F'\t' -v s="$1" -v l="$2" -v f="$3" '$1 == s && $2 == l { print $f }' <<<"${medians-}"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "–"; else printf "%.2f×", a / b }'; }
bigratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "–"; else printf "%.0f×", a / b }'; }
secs() { [[ -n $1 ]] && printf '%.3f s' "$1" || printf '–'; }
# CPU times: /usr/bin/time counts in 10 ms steps.
cpusecs() { [[ -n $1 ]] && printf '%.2f s' "$1" || printf '–'; }
mib() { [[ -n $1 ]] && awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }' || printf '–'; }
human_bytes() { awk -v b="$1" 'BEGIN { if (b < 1048576) printf "%.0f KiB", b / 1024; else printf "%.1f MiB", b / 1048576 }'; }

# report_intro PROFILE RESULTS_MD: the lines under a report's title: the machine, the build and,
# in a smoke run, that its figures are not the product's.
report_intro() {
  echo "Machine: $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GiB memory ($(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')); $(date -u +%Y-%m-%d)."
  echo "Build: $1. checkov $CHECKOV_VERSION ($(python3 --version 2>&1))."
  if ${smoke:?}; then
    echo "Smoke run: debug build, one run of each command; it proves the harness works. Its ratios"
    echo "are not the product's figures: those come from a full run ($2)."
  fi
}

# write_report REPORT RESULTS_MD SMOKE_MD: prints the tables in the file REPORT, then keeps them:
# a smoke run in SMOKE_MD (it proves the harness works; it must not replace the measured
# full-run results), a full run in RESULTS_MD, before the hand-written notes section that file
# keeps after the generated tables.
write_report() {
  local report=$1 results_md=$2 smoke_md=$3 notes=""
  cat "$report"
  if ${smoke:?}; then
    cp "$report" "$smoke_md"
    step "smoke run: tables written to $smoke_md (not $results_md)"
  else
    if [[ -f $results_md ]]; then
      notes=$(awk '/^<!-- notes -->/ { keep = 1 } keep' "$results_md")
    fi
    { cat "$report"; echo; [[ -n $notes ]] && echo "$notes"; } >"$results_md"
    step "wrote $results_md"
  fi
}
