#!/bin/bash
# Peak memory (max RSS) and wall time of `k2sim merge` for N subjects split into S shards, on
# the reference workload scenarios/population_year.toml (one year, hourly, bands every 6 h)
# with its `n` set to N. Not run in CI (minutes of work, and a noisy machine); see
# docs/performance.md for measured numbers.
#
#   cargo build --release
#   bash benches/merge_memory.sh                 # N = 100000, S = 4 16 64
#   bash benches/merge_memory.sh 1000000 16 256  # N = 10^6, S = 16 and 256
#
# K2SIM names the binary [default: $CARGO_TARGET_DIR or target, /release/k2sim]; BASELINE
# another k2sim of the same version (say, the previous commit's) that merges the same shards
# too, for before/after columns; DAYS shortens the run to that many days (with as many daily
# doses), which makes the shards faster to compute and smaller without changing what a merge
# holds per subject; WORK the scratch folder [default: a temporary one, removed at the end].
# With WORK set, shards already there for the same N, S and DAYS are reused.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
shift || true
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(4 16 64)
bin=${K2SIM:-${CARGO_TARGET_DIR:-target}/release/k2sim}
[ -x "$bin" ] || { echo "no $bin: run cargo build --release first" >&2; exit 1; }
base=${BASELINE:-}
[ -z "$base" ] || [ -x "$base" ] || { echo "no $base (BASELINE)" >&2; exit 1; }
work=${WORK:-$(mktemp -d)}
[ -n "${WORK:-}" ] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work"
days=${DAYS:-365}
sed -e "s/^n = 10000\$/n = $n/" -e "s/^duration_h = 8760\$/duration_h = $((days * 24))/" \
    -e "s/^doses = 365\$/doses = $days/" scenarios/population_year.toml > "$work/s.toml"
grep -q "^n = $n\$" "$work/s.toml"
grep -q "^doses = $days\$" "$work/s.toml"

# Merges shards folder $2 with binary $1 into $work/$3: prints "peak MB | wall s".
measure() {
    rm -rf "${work:?}/$3"
    /usr/bin/time -f "%M %e" -o "$work/time" "$1" merge "$2" -q --out "$work/$3"
    read -r kb secs < "$work/time"
    echo "$((kb / 1024)) | $secs"
}

head="| subjects | days | shards | shard files (MB) | merge peak memory (MB) | merge wall time (s) |"
rule="|---|---|---|---|---|---|"
if [ -n "$base" ]; then
    head="| subjects | days | shards | shard files (MB) | before: peak (MB) | before: wall (s) | after: peak (MB) | after: wall (s) |"
    rule="|---|---|---|---|---|---|---|---|"
fi
echo "$head"
echo "$rule"
for s in "${counts[@]}"; do
    shards="$work/shards-$n-$days-$s"
    if [ "$(ls "$shards" 2>/dev/null | wc -l)" != "$s" ]; then
        rm -rf "$shards"
        for k in $(seq 1 "$s"); do
            "$bin" run "$work/s.toml" -q --shard "$k/$s" --out "$shards"
        done
    fi
    size=$(du -sm "$shards" | cut -f1)
    row="| $n | $days | $s | $size |"
    [ -z "$base" ] || row="$row $(measure "$base" "$shards" merged-before) |"
    echo "$row $(measure "$bin" "$shards" merged) |"
    if [ -n "$base" ]; then
        # Same shards: the same bytes from either binary.
        diff -r -q "$work/merged-before" "$work/merged" > /dev/null ||
            echo "warning: the merges of $base and $bin differ" >&2
        rm -rf "$work/merged-before"
    fi
    rm -rf "$work/merged"
done
