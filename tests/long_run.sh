#!/usr/bin/env bash
# The long generated-input run of docs/hardening.md ("Long runs"): the release build of
# tests/robustness.rs in batches of CASES cases per property (fresh random seed each batch),
# one thread, for MINUTES minutes. A batch that runs past HANG_S seconds counts as a hang.
# Prints, and appends to LOG, one line per batch and the totals: inputs tried, refused with a
# located error, valid but too big to run here, run by the exact and ODE solvers, typed solver
# failures, failing batches (a panic or a broken invariant; proptest keeps the case in
# tests/robustness.proptest-regressions), hangs.
#   bash tests/long_run.sh [MINUTES=60] [CASES=5000]
set -u
minutes=${1:-60}
cases=${2:-5000}
hang_s=${HANG_S:-1800}
here=$(cd "$(dirname "$0")/.." && pwd)
log=${LOG:-$here/target/long_run.log}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$here"
cargo test --release --test robustness --no-run 2>&1 | tail -1
end=$(( $(date +%s) + minutes * 60 ))
batch=0 failed=0 hangs=0
tally=$work/tally
: >"$tally"
echo "# long run at $(git rev-parse --short HEAD 2>/dev/null), $(date -u +%FT%TZ), $cases cases per property" | tee -a "$log"
while [ "$(date +%s)" -lt "$end" ]; do
  batch=$((batch + 1))
  t0=$(date +%s)
  K2SIM_ROBUSTNESS_LAST=$work/last K2SIM_ROBUSTNESS_TALLY=$tally PROPTEST_CASES=$cases RAYON_NUM_THREADS=1 \
    timeout "$hang_s" cargo test -q --release --test robustness -- --test-threads=1 \
    >"$work/out" 2>&1
  rc=$?
  t1=$(date +%s)
  status=pass
  if [ $rc -eq 124 ]; then status=HANG; hangs=$((hangs + 1)); cat "$work/out" >>"$log"
  elif [ $rc -ne 0 ]; then
    status=FAIL; failed=$((failed + 1)); cat "$work/out" >>"$log"
    # Killed (out of memory): no proptest report, so keep the input it was trying.
    if grep -q "signal: 9" "$work/out"; then
      cp "$work/last" "$log.killed-batch-$batch.toml"
      echo "killed by signal 9 (out of memory?): its input is $log.killed-batch-$batch.toml" | tee -a "$log"
    fi
  fi
  echo "batch $batch: $status in $((t1 - t0)) s, $(wc -l <"$tally") outcomes so far" | tee -a "$log"
done
count() { grep -cx "$1" "$tally"; }
# An input run by both solvers has two lines (ran-exact, ran-ode): inputs are lines less ODE runs.
echo "totals: $batch batches, $(( $(wc -l <"$tally") - $(count ran-ode) )) inputs tried: $(count refused-located) refused with a located error, $(count valid-not-run) valid but not run (too big for this check), $(count ran-exact) exact runs and $(count ran-ode) ODE runs checked, $(count typed-failure) typed solver failures; $failed failing batches, $hangs hangs" | tee -a "$log"
[ $failed -eq 0 ] && [ $hangs -eq 0 ]
