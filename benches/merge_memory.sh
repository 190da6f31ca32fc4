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
# K2SIM names the binary [default: $CARGO_TARGET_DIR or target, /release/k2sim]; WORK the
# scratch folder [default: a temporary one, removed at the end].
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
shift || true
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(4 16 64)
bin=${K2SIM:-${CARGO_TARGET_DIR:-target}/release/k2sim}
[ -x "$bin" ] || { echo "no $bin: run cargo build --release first" >&2; exit 1; }
work=${WORK:-$(mktemp -d)}
[ -n "${WORK:-}" ] || trap 'rm -rf "$work"' EXIT
sed "s/^n = 10000\$/n = $n/" scenarios/population_year.toml > "$work/s.toml"
grep -q "^n = $n\$" "$work/s.toml"
echo "| subjects | shards | shard files (MB) | merge peak memory (MB) | merge wall time (s) |"
echo "|---|---|---|---|---|"
for s in "${counts[@]}"; do
    rm -rf "$work/shards" "$work/merged"
    for k in $(seq 1 "$s"); do
        "$bin" run "$work/s.toml" -q --shard "$k/$s" --out "$work/shards"
    done
    size=$(du -sm "$work/shards" | cut -f1)
    /usr/bin/time -f "%M %e" -o "$work/time" "$bin" merge "$work/shards" -q --out "$work/merged"
    read -r kb secs < "$work/time"
    echo "| $n | $s | $size | $((kb / 1024)) | $secs |"
done
