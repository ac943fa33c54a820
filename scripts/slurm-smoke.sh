#!/usr/bin/env bash
# Slurm smoke test of `cargo xtask sweep --slurm` (docs/reproduction.md, "Sweeps"): starts a
# one-node Slurm cluster on this machine, submits the job array of a two-task sweep of the
# `tiny` DigitCircle preset, waits for it, runs `cargo xtask collect` and checks the table.
# Stops the daemons it started (by their process ids). What it leaves behind: the Debian
# packages it installs when they are missing (slurm-wlm, munge), a munge key it creates when
# there is none (/etc/munge/munge.key, /run/munge) and its files under /tmp/sparling-slurm.*.
#
# Needs root (the one-node cluster runs as SlurmUser=root). Run from anywhere:
#   scripts/slurm-smoke.sh
# Known to work with Debian 12's slurm-wlm 22.05.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/sparling-slurm.XXXXXX)
STARTED_MUNGE=""
log() { printf 'slurm-smoke: %s\n' "$*" >&2; }

cleanup() {
  for pidfile in "$WORK/slurmd.pid" "$WORK/slurmctld.pid"; do
    if [[ -s $pidfile ]]; then kill "$(cat "$pidfile")" 2>/dev/null || true; fi
  done
  if [[ -n $STARTED_MUNGE ]]; then kill "$STARTED_MUNGE" 2>/dev/null || true; fi
  log "daemons stopped; files kept in $WORK"
}
trap cleanup EXIT

if [[ $(id -u) -ne 0 ]]; then
  log "must run as root (the one-node cluster uses SlurmUser=root)"
  exit 2
fi
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  log "installing slurm-wlm and munge"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

# munge authenticates Slurm's daemons and clients; start it unless it already runs.
if ! pgrep -x munged >/dev/null; then
  if [[ ! -s /etc/munge/munge.key ]]; then
    dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
    chown munge:munge /etc/munge/munge.key 2>/dev/null || true
    chmod 400 /etc/munge/munge.key
  fi
  mkdir -p /run/munge
  chown munge:munge /run/munge 2>/dev/null || true
  munged --force
  sleep 1
  STARTED_MUNGE=$(pgrep -x -n munged)
  log "munged started (pid $STARTED_MUNGE)"
fi

HOST=$(hostname -s)
MEMORY_MB=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 9 / 10 ))
mkdir -p "$WORK/state" "$WORK/spool" "$WORK/log"
cat >"$WORK/slurm.conf" <<EOF
ClusterName=sparling-smoke
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
NodeName=$HOST CPUs=2 RealMemory=$MEMORY_MB State=UNKNOWN
PartitionName=smoke Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$WORK/slurm.conf

slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 60); do
  state=$(sinfo -h -N -o %T 2>/dev/null | head -1 || true)
  [[ $state == idle* ]] && break
  sleep 1
done
log "node state: ${state:-unknown}"
[[ ${state:-} == idle* ]] || { log "the node did not come up; see $WORK/log"; exit 1; }

log "building xtask"
cargo build --quiet --manifest-path "$ROOT/Cargo.toml" -p xtask
XTASK=$ROOT/target/debug/xtask

"$XTASK" sweep --domain digit-circle --presets tiny --seeds 1-2 --samples 4 \
  --slurm --time 00:15:00 --mem 2G --cpus-per-task 1 --out "$WORK/sweep"
log "submitting"
sbatch --wait "$WORK/sweep/sweep.sbatch"
sacct_state=$(squeue -h 2>/dev/null | wc -l)
log "queue empty: $([[ $sacct_state -eq 0 ]] && echo yes || echo no)"

"$XTASK" collect "$WORK/sweep" >/dev/null
if grep -q "2 of 2 tasks finished" "$WORK/sweep/summary.md" \
  && grep -q "| digit-circle | tiny | sparling | 1, 2 |" "$WORK/sweep/summary.md"; then
  cat "$WORK/sweep/summary.md"
  log "PASSED: a two-task job array ran under Slurm and collect tabled both seeds"
else
  cat "$WORK/sweep/summary.md" >&2 || true
  log "FAILED; logs in $WORK/sweep/logs and $WORK/log"
  exit 1
fi
