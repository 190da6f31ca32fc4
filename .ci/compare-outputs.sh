#!/usr/bin/env bash
# Every output of two k2sim builds on the shipped inputs, compared byte for byte: the gate of a
# renovation ("no output byte changes"). Not run by CI (it needs two builds); run it by hand:
#
#   git worktree add /tmp/k2sim-old <old commit> && (cd /tmp/k2sim-old && cargo build --release)
#   cargo build --release
#   .ci/compare-outputs.sh /tmp/k2sim-old/target/release/k2sim target/release/k2sim
#
# Runs run (exact and ODE) on every scenario, units/journal/log variants, shards + merge,
# sensitivity, compare, fit, validate, compounds, foods and every bad-input fixture, then
# compares every file (CSV, JSON, PNG, SVG, captions) and stdout/stderr, ignoring the output
# directory's name and the "done in … s, peak memory … MB" line. Exit 1 on any difference.
set -u
cd "$(dirname "$0")/.."
OLD=$(realpath "$1"); NEW=$(realpath "$2")
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
export RUST_BACKTRACE=0
outputs() { # BIN DEST
  local B=$1 D=$2; mkdir -p "$D"
  for s in scenarios/*.toml; do n=$(basename "$s" .toml)
    "$B" run "$s" --out "$D/run_$n" > "$D/run_$n.stdout" 2>&1; echo "rc=$?" >> "$D/run_$n.stdout"
    "$B" run "$s" --solver ode --out "$D/runode_$n" > "$D/runode_$n.stdout" 2>&1
  done
  "$B" run scenarios/mk7_daily.toml --units nmol_l --journal single --out "$D/units" > "$D/units.stdout" 2>&1
  "$B" run scenarios/mk4_vs_mk7.toml --log --out "$D/log" > "$D/log.stdout" 2>&1
  "$B" run scenarios/population_year.toml --shard 1/2 --out "$D/sh1" > "$D/sh1.stdout" 2>&1
  "$B" run scenarios/population_year.toml --shard 2/2 --out "$D/sh2" > "$D/sh2.stdout" 2>&1
  "$B" merge "$D/sh1" "$D/sh2" --out "$D/merged" > "$D/merged.stdout" 2>&1
  "$B" sensitivity scenarios/mk7_daily.toml --out "$D/sens" > "$D/sens.stdout" 2>&1
  "$B" sensitivity scenarios/mk4_two_compartment.toml --out "$D/sens2" > "$D/sens2.stdout" 2>&1
  "$B" compare scenarios/mk7_daily.toml scenarios/mk4_daily.toml --units nmol_l --threshold 1 --out "$D/cmp" > "$D/cmp.stdout" 2>&1
  "$B" compare scenarios/mk7_daily.toml scenarios/natto_vs_capsule.toml scenarios/every_other_day.toml --out "$D/cmp3" > "$D/cmp3.stdout" 2>&1
  "$B" fit tests/fixtures/observed/mk7_single.toml --out "$D/fit" > "$D/fit.stdout" 2>&1
  "$B" fit tests/fixtures/observed/mk7_single.toml --solver ode --out "$D/fitode" > "$D/fitode.stdout" 2>&1
  "$B" validate --out "$D/val" > "$D/val.stdout" 2>&1; echo "rc=$?" >> "$D/val.stdout"
  "$B" validate --solver ode --no-figures --out "$D/valode" > "$D/valode.stdout" 2>&1
  "$B" compounds > "$D/compounds.stdout" 2>&1
  "$B" foods > "$D/foods.stdout" 2>&1
  for f in tests/fixtures/bad/*.toml; do n=$(basename "$f" .toml)
    "$B" run "$f" --out "$D/bad" > "$D/bad_$n.stderr" 2>&1; echo "rc=$?" >> "$D/bad_$n.stderr"
  done
  "$B" run scenarios/mk4_vs_mk7.toml --reference nope --out "$D/refx" > "$D/err_ref.stderr" 2>&1
  "$B" compare scenarios/mk7_daily.toml scenarios/mk7_daily.toml --out "$D/dup" > "$D/err_dup.stderr" 2>&1
}
outputs "$OLD" "$WORK/old"; outputs "$NEW" "$WORK/new"
norm() { sed -E "s#$1#DEST#g; s/done in [0-9.]+ s, peak memory [0-9]+ MB/done in T/; s/done in [0-9.]+ s/done in T/"; }
fail=0
for f in $(cd "$WORK/old" && find . -type f | sort); do
  if [ ! -f "$WORK/new/$f" ]; then echo "missing: $f"; fail=1; continue; fi
  case "$f" in
    *.png) cmp -s "$WORK/old/$f" "$WORK/new/$f" || { echo "differs: $f"; fail=1; } ;;
    *) diff -q <(norm "$WORK/old" < "$WORK/old/$f") <(norm "$WORK/new" < "$WORK/new/$f") > /dev/null \
         || { echo "differs: $f"; fail=1; } ;;
  esac
done
for f in $(cd "$WORK/new" && find . -type f | sort); do [ -f "$WORK/old/$f" ] || { echo "new: $f"; fail=1; }; done
echo "$(cd "$WORK/old" && find . -type f | wc -l) files compared; differences: $fail"
exit $fail
