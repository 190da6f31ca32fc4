#!/bin/bash
# Workload W1 (../shared/bench/W1.md) against its floor programs, in one run: the marginal CPU
# cost per subject-step of k2sim (default outputs, bands included, and --no-figures) and of the
# scalar and vector floors, and the ratios to the vector floor (`lanes`). Not run in CI
# (minutes of work on a noisy machine); measured numbers are in benches/README.md.
#
#   bash benches/w1_vs_floor.sh              # N = 80000 subjects, 1 thread
#   bash benches/w1_vs_floor.sh 20000 2      # N = 20000, 2 threads for k2sim
#
# The marginal cost is (cpu(N) − cpu(small)) / ((N − small) × 8761), CPU time = user + sys
# from /usr/bin/time, so a busy machine inflates it less than wall time. FLOOR names the
# floor's Cargo project [default: ../shared/bench/w1_floor].
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-80000}
threads=${2:-1}
small=8
floor=${FLOOR:-../shared/bench/w1_floor}
[ -f "$floor/Cargo.toml" ] || { echo "no floor programs at $floor" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "building k2sim and the floors (release)…" >&2
cargo build --release -q
bin=${CARGO_TARGET_DIR:-target}/release/k2sim
CARGO_TARGET_DIR="$work/floor-target" cargo build --release -q --manifest-path "$floor/Cargo.toml"
fbin="$work/floor-target/release"

# W1 as the peer workload states it: MK-7 180 µg every 24 h × 365 from t = 0, hourly output,
# ka 0.5 /h, t½ 72 h, V/F 300 L, F 1, CV 30 % log-normal on ka, t½ and V.
w1() {
    cat > "$work/w1_$1.toml" <<EOF
name = "W1"
duration_h = 8760
step_h = 1

[[regimen]]
label = "MK-7 180 µg daily"
compound = "mk7"
dose_ug = 180
interval_h = 24
doses = 365

[regimen.params]
ka_per_h = 0.5
half_life_h = 72
v_l = 300
f = 1

[population]
n = $1
seed = 1
cv_pct = { ka_per_h = 30, half_life_h = 30, v_l = 30 }
EOF
}
w1 "$n"
w1 "$small"

# CPU seconds (user + sys) of a command.
cpu() {
    /usr/bin/time -f "%U %S" -o "$work/t" "$@" > /dev/null
    awk '{ print $1 + $2 }' "$work/t"
}
per_step() { # cpu_n cpu_small n
    awk -v a="$1" -v b="$2" -v n="$3" -v s="$small" 'BEGIN { printf "%.3f", (a - b) / ((n - s) * 8761) * 1e9 }'
}

export RAYON_NUM_THREADS=$threads
k_full_n=$(cpu "$bin" -q run "$work/w1_$n.toml" --out "$work/o1")
k_full_s=$(cpu "$bin" -q run "$work/w1_$small.toml" --out "$work/o2")
k_nofig_n=$(cpu "$bin" -q run "$work/w1_$n.toml" --out "$work/o3" --no-figures)
k_nofig_s=$(cpu "$bin" -q run "$work/w1_$small.toml" --out "$work/o4" --no-figures)
unset RAYON_NUM_THREADS
f_scalar_n=$(cpu "$fbin/w1_floor" "$n")
f_scalar_s=$(cpu "$fbin/w1_floor" "$small")
f_lanes_n=$(cpu "$fbin/lanes" "$n")
f_lanes_s=$(cpu "$fbin/lanes" "$small")

lanes=$(per_step "$f_lanes_n" "$f_lanes_s" "$n")
row() { # name ns
    awk -v name="$1" -v ns="$2" -v l="$lanes" 'BEGIN { printf "| %s | %.3f | %.2f × |\n", name, ns, ns / l }'
}
echo "W1, N = $n subjects × 8761 steps; k2sim with $threads thread(s); $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1 /proc/loadavg)"
echo
echo "| program | marginal CPU per subject-step (ns) | ratio to lanes |"
echo "|---|---|---|"
row "k2sim run, default outputs (bands, figures)" "$(per_step "$k_full_n" "$k_full_s" "$n")"
row "k2sim run --no-figures" "$(per_step "$k_nofig_n" "$k_nofig_s" "$n")"
row "scalar floor (w1_floor)" "$(per_step "$f_scalar_n" "$f_scalar_s" "$n")"
row "vector floor (lanes)" "$lanes"
echo
echo "fixed cost of k2sim (N = $small): $k_full_s s CPU with figures, $k_nofig_s s without"
