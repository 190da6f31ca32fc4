#!/bin/bash
# End-to-end test of shards.sbatch and merge.sbatch on a single-node Slurm brought up from
# Debian's slurm-wlm and munge packages (root, Debian or Ubuntu; needs only the package
# registry). Not part of .ci/run: installing and starting Slurm takes minutes. Run it from the
# repository root:
#
#   bash contrib/slurm/test-single-node.sh
#
# It builds k2sim (release), starts munged, slurmctld and slurmd for this host, submits a
# 4-task array of a population scenario with a merge job after it (afterany), fails one task on
# purpose in a second round to check that the merge job lists the missing shard, and compares
# the merged files byte for byte with an unsharded run.
set -euo pipefail
root=$(pwd)
work=${WORK:-/tmp/k2sim-slurm-test}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
cargo build --release --quiet
export K2SIM=$CARGO_TARGET_DIR/release/k2sim

if ! command -v slurmctld >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi
host=$(hostname -s)
cpus=$(nproc)
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=k2sim-test
SlurmctldHost=$host
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmUser=root
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
[ -s /etc/munge/munge.key ] || { mkdir -p /etc/munge; dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none; }
chown -R munge:munge /etc/munge 2>/dev/null || true
chmod 400 /etc/munge/munge.key
mkdir -p /run/munge && chown munge:munge /run/munge 2>/dev/null || true
pgrep -x munged >/dev/null || su -s /bin/sh munge -c munged 2>/dev/null || munged --force
pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd
for _ in $(seq 30); do sinfo -h -o %T 2>/dev/null | grep -qE 'idle|mixed' && break; sleep 1; done
sinfo

rm -rf "$work" && mkdir -p "$work" && cd "$work"
cp "$root/scenarios/mk7_assay.toml" s.toml
wait_for() { while squeue -h -j "$1" 2>/dev/null | grep -q .; do sleep 1; done; }

# Round 1: every task succeeds; the merge equals the unsharded run.
jid=$(sbatch --parsable --array=1-4 --cpus-per-task=1 "$root/contrib/slurm/shards.sbatch" s.toml 4 shards)
mid=$(sbatch --parsable --dependency=afterany:$jid "$root/contrib/slurm/merge.sbatch" shards merged)
wait_for "$mid"
"$K2SIM" run s.toml -q --out whole
diff -r whole merged
echo "round 1: merged shards are byte-identical to the unsharded run"

# Round 2: shard 3 lost; the merge job fails and names it, the outputs stay as they were.
rm -rf shards/3
mid=$(sbatch --parsable "$root/contrib/slurm/merge.sbatch" shards merged)
wait_for "$mid"
grep -q "1 of 4 shards missing: 3" shards/MISSING.txt
grep -q -- "--shard 3/4 --out shards/3" shards/MISSING.txt
diff -r whole merged
# Resubmitting the whole array recomputes only shard 3 (the others are kept).
jid=$(sbatch --parsable --array=1-4 --cpus-per-task=1 "$root/contrib/slurm/shards.sbatch" s.toml 4 shards)
mid=$(sbatch --parsable --dependency=afterany:$jid "$root/contrib/slurm/merge.sbatch" shards merged)
wait_for "$mid"
test "$(grep -l '^kept ' k2sim-shard-"$jid"_*.log | wc -l)" = 3
diff -r whole merged
echo "round 2: the missing shard was listed, recomputed alone, and the merge is byte-identical"
