#!/bin/bash
# End-to-end test of shards.sbatch and merge.sbatch on a single-node Slurm brought up from
# Debian's slurm-wlm and munge packages (root, Debian or Ubuntu; needs only the package
# registry). Run it from the repository root:
#
#   bash contrib/slurm/test-single-node.sh        # fails if it cannot run
#   bash contrib/slurm/test-single-node.sh --ci   # skips (exit 0) when not root, without apt,
#                                                  # when the registry is unreachable or when a
#                                                  # slurmctld or slurmd already runs here
#
# It builds k2sim (release), installs slurm-wlm and munge if slurmctld is missing, and starts a
# private munged, slurmctld and slurmd for this host: configuration, keys, state and logs all
# live in $WORK/slurm (default /tmp/k2sim-slurm-test; nothing under /etc is written), and the
# daemons are stopped on exit, pass or fail. Then, with a 4-task array of a population scenario
# and a merge job after it (--dependency=afterany):
#   round 1: every task succeeds; the merge job completes and its files are byte-identical to
#            an unsharded run;
#   round 2: shard 3 is deleted and task 3 of a resubmitted array fails on purpose; the merge
#            job still runs (afterany), fails, and lists shard 3 with its re-run command; the
#            merged outputs stay as they were; the other tasks keep their valid shards;
#   round 3: the array is resubmitted as is: only shard 3 is computed, and the merge is again
#            byte-identical to the unsharded run.
# Any mismatch exits non-zero.
set -euo pipefail
ci=false
[ "${1:-}" = --ci ] && ci=true
skip() {
    if $ci; then
        echo "test-single-node.sh: SKIPPED: $*" >&2
        exit 0
    fi
    echo "test-single-node.sh: $*" >&2
    exit 1
}
step() { echo "== $* ($SECONDS s)"; }

root=$(pwd)
[ -f "$root/contrib/slurm/shards.sbatch" ] || { echo "run from the repository root" >&2; exit 1; }
work=${WORK:-/tmp/k2sim-slurm-test}
[ "$(id -u)" = 0 ] || skip "needs root (to install and start Slurm)"
{ pgrep -x slurmctld || pgrep -x slurmd; } >/dev/null && skip "a Slurm daemon already runs on this host (its ports are taken); stop it first"

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
    command -v apt-get >/dev/null || skip "slurm-wlm and munge are not installed, and there is no apt-get"
    step "installing slurm-wlm and munge"
    t0=$SECONDS
    apt-get update -qq || skip "apt-get update failed (package registry unreachable?)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge \
        >"${TMPDIR:-/tmp}/k2sim-slurm-apt.log" 2>&1 \
        || { tail -20 "${TMPDIR:-/tmp}/k2sim-slurm-apt.log" >&2; skip "apt-get install slurm-wlm munge failed"; }
    echo "installed in $((SECONDS - t0)) s"
fi

step "building k2sim (release)"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
cargo build --release --quiet
export K2SIM=$CARGO_TARGET_DIR/release/k2sim
t_rest=$SECONDS

rm -rf "$work"
state=$work/slurm
mkdir -p "$state/ctld" "$state/d"
host=$(hostname -s)
cpus=$(nproc)
export SLURM_CONF=$state/slurm.conf
cat >"$SLURM_CONF" <<CONF
ClusterName=k2sim-test
SlurmctldHost=$host(127.0.0.1)
AuthType=auth/munge
AuthInfo=socket=$state/munge.socket
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MinJobAge=3600
SlurmUser=root
SlurmdUser=root
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/d
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF

started=()
cleanup() {
    local rc=$?
    trap - EXIT
    if [ ${#started[@]} -gt 0 ]; then
        scancel --user=root 2>/dev/null || true
        local d pids=()
        for d in slurmd slurmctld munged; do
            if [[ " ${started[*]} " == *" $d "* ]] && [ -s "$state/$d.pid" ]; then
                pids+=("$(cat "$state/$d.pid")")
                kill "${pids[-1]}" 2>/dev/null || true
            fi
        done
        for _ in $(seq 20); do
            kill -0 "${pids[@]}" 2>/dev/null || break
            sleep 0.5
        done
        echo "stopped ${started[*]}"
    fi
    if [ "$rc" != 0 ]; then
        echo "FAILED (exit $rc); logs in $state and $work" >&2
        for f in "$state"/*.log; do
            [ -f "$f" ] && { echo "--- tail $f" >&2; tail -15 "$f" >&2; }
        done
    fi
    exit "$rc"
}
trap cleanup EXIT

step "starting munged, slurmctld and slurmd"
dd if=/dev/urandom of="$state/munge.key" bs=1024 count=1 status=none
chmod 400 "$state/munge.key"
# --force: the socket lives under /tmp, which munged would otherwise refuse (world-writable).
munged --force -S "$state/munge.socket" --key-file="$state/munge.key" \
    --pid-file="$state/munged.pid" --log-file="$state/munged.log" --seed-file="$state/munged.seed"
started+=(munged)
slurmctld
started+=(slurmctld)
slurmd
started+=(slurmd)
for _ in $(seq 60); do
    sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)' && break
    sleep 1
done
sinfo
sinfo -h -o %T | grep -qE '^(idle|mixed|allocated)' || { echo "the node did not come up" >&2; exit 1; }

cd "$work"
cp "$root/scenarios/mk7_assay.toml" s.toml
# The states of a job (or of every task of an array), one a line.
states() { scontrol -o show job "$1" | grep -o 'JobState=[A-Z_]*' | cut -d= -f2; }
# Waits until the job (every task of an array) has ended; at most 10 minutes.
wait_for() {
    local _
    for _ in $(seq 600); do
        states "$1" | grep -qvE '^(COMPLETED|FAILED|CANCELLED|TIMEOUT|OUT_OF_MEMORY|NODE_FAIL|BOOT_FAIL|DEADLINE)$' || return 0
        sleep 1
    done
    echo "job $1 did not end within 10 minutes: $(states "$1" | sort | uniq -c | tr '\n' ' ')" >&2
    scontrol show job "$1" >&2
    return 1
}
# expect JOB STATE...: the sorted states of JOB (its tasks) are STATE...
expect() {
    local job=$1 got want
    shift
    got=$(states "$job" | sort | tr '\n' ' ')
    want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
    [ "$got" = "$want" ] || { echo "job $job: states $got, expected $want" >&2; exit 1; }
}
shards() { sbatch --parsable --array=1-4 --cpus-per-task=1 "$root/contrib/slurm/shards.sbatch" s.toml 4 shards; }
merge() { sbatch --parsable --dependency=afterany:"$1" "$root/contrib/slurm/merge.sbatch" shards merged; }
logs_with() { grep -l -- "$1" k2sim-shard-"$2"_*.log | wc -l; }

step "the unsharded run"
"$K2SIM" run s.toml -q --out whole

step "round 1: 4 tasks and the merge after them"
jid=$(shards)
mid=$(merge "$jid")
wait_for "$mid"
expect "$jid" COMPLETED COMPLETED COMPLETED COMPLETED
expect "$mid" COMPLETED
test "$(logs_with '^wrote ' "$jid")" = 4
diff -r whole merged
echo "round 1: the merge of 4 shards is byte-identical to the unsharded run ($(find merged -type f | wc -l) files)"

step "round 2: shard 3 deleted, task 3 fails on purpose"
rm -rf shards/3
cat >k2sim-fail3 <<'SH'
#!/bin/sh
if [ "${SLURM_ARRAY_TASK_ID:-}" = 3 ]; then
    echo "k2sim-fail3: task 3 fails on purpose" >&2
    exit 1
fi
exec "$K2SIM_REAL" "$@"
SH
chmod +x k2sim-fail3
jid=$(export K2SIM_REAL="$K2SIM" K2SIM="$work/k2sim-fail3" && shards)
mid=$(merge "$jid")
wait_for "$mid"
expect "$jid" COMPLETED COMPLETED FAILED COMPLETED
expect "${jid}_3" FAILED
expect "$mid" FAILED
test "$(logs_with '^kept ' "$jid")" = 3
grep -q "1 of 4 shards missing: 3" shards/MISSING.txt
grep -q -- "--shard 3/4 --out shards/3" shards/MISSING.txt
grep -q "1 of 4 shards missing: 3" "k2sim-merge-$mid.log"
diff -r whole merged
echo "round 2: the merge job ran after the failed task, listed shard 3 and left the outputs as they were"

step "round 3: the array resubmitted as is"
jid=$(shards)
mid=$(merge "$jid")
wait_for "$mid"
expect "$jid" COMPLETED COMPLETED COMPLETED COMPLETED
expect "$mid" COMPLETED
test "$(logs_with '^kept ' "$jid")" = 3
test "$(grep -l '^wrote ' "k2sim-shard-${jid}_3.log" | wc -l)" = 1
test ! -e shards/MISSING.txt
diff -r whole merged
echo "round 3: only shard 3 was recomputed, and the merge is byte-identical to the unsharded run"

echo "PASS: Slurm end-to-end test (slurm $(sinfo -V | cut -d' ' -f2)); $((SECONDS - t_rest)) s after the build, $SECONDS s in all"
