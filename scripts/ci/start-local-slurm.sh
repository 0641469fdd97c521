#!/usr/bin/env bash
# A single-node SLURM cluster on this machine, for tests/test_slurm.py (CI runs it from .ci/run).
#
#   scripts/ci/start-local-slurm.sh
#
# Installs Debian's slurm-wlm and munge (unless slurmctld is already there), creates the munge key,
# writes /etc/slurm/slurm.conf for this host (CPUs and memory of the machine, no accounting database,
# no cgroups, MinJobAge high so that `squeue` still reports finished jobs), starts munged, slurmctld
# and slurmd as plain daemons (no systemd) and waits until a trivial job runs through srun and sbatch.
# Idempotent: a second run with nothing changed only checks that the cluster answers; a changed
# slurm.conf restarts the SLURM daemons. Needs root (or sudo). Exits non-zero, saying why, if the
# cluster cannot be brought up. Logs: /var/log/slurm/, /var/log/munge/.
set -euo pipefail

say() { echo "[start-local-slurm] $*"; }
fail() {
    echo "[start-local-slurm] ERROR: $*" >&2
    for log in /var/log/munge/munged.log /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log; do
        if [ -s "$log" ]; then
            echo "--- last lines of $log" >&2
            tail -n 15 "$log" >&2
        fi
    done
    exit 1
}

if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        say "not root: re-running under sudo"
        exec sudo -n -E bash "$0" "$@"
    fi
    fail "must run as root (or with password-less sudo) to install and start SLURM"
fi

CONF_DIR=/etc/slurm
CONF=$CONF_DIR/slurm.conf
NODE=$(hostname -s)
PARTITION=debug
CLUSTER=thermoscape-ci

# --- 1. packages ---------------------------------------------------------------------------------
if command -v slurmctld >/dev/null 2>&1 && command -v slurmd >/dev/null 2>&1 \
        && command -v sbatch >/dev/null 2>&1 && command -v munged >/dev/null 2>&1; then
    say "slurm and munge already installed ($(slurmctld -V 2>/dev/null || echo 'slurmctld present'))"
else
    command -v apt-get >/dev/null 2>&1 || fail "slurm is not installed and there is no apt-get to install it"
    say "installing slurm-wlm and munge with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt_install() {
        apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confold slurm-wlm munge
    }
    if ! apt_install; then
        say "apt-get install failed; updating the package lists and retrying"
        apt-get update -q || fail "apt-get update failed"
        apt_install || fail "apt-get install slurm-wlm munge failed"
    fi
    say "installed $(slurmctld -V)"
fi

# --- 2. munge ------------------------------------------------------------------------------------
getent passwd munge >/dev/null || fail "the munge package did not create the 'munge' user"
mkdir -p /etc/munge /var/lib/munge /var/log/munge /run/munge
if [ ! -s /etc/munge/munge.key ]; then
    say "creating /etc/munge/munge.key"
    if command -v mungekey >/dev/null 2>&1; then
        mungekey --create --force --keyfile=/etc/munge/munge.key
    else
        dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
    fi
else
    say "munge key present"
fi
chown -R munge:munge /etc/munge /var/lib/munge /var/log/munge /run/munge
chmod 0700 /etc/munge /var/lib/munge /var/log/munge
chmod 0755 /run/munge
chmod 0400 /etc/munge/munge.key

if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    say "munged already running"
else
    say "starting munged"
    # a stale socket or pid file of a dead munged blocks a new one
    rm -f /run/munge/munge.socket.2 /run/munge/munge.socket.2.lock /run/munge/munged.pid
    runuser -u munge -- /usr/sbin/munged || fail "munged did not start"
    for _ in $(seq 20); do
        munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
        sleep 0.5
    done
    munge -n | unmunge >/dev/null 2>&1 || fail "munged started but 'munge -n | unmunge' fails"
fi

# --- 3. slurm.conf -------------------------------------------------------------------------------
CPUS=$(nproc)
MEM_TOTAL_MB=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
# headroom for the OS and the daemons: 10 %, at least 512 MB
HEADROOM_MB=$(( MEM_TOTAL_MB / 10 > 512 ? MEM_TOTAL_MB / 10 : 512 ))
REAL_MEMORY=$(( MEM_TOTAL_MB - HEADROOM_MB ))
[ "$REAL_MEMORY" -gt 0 ] || fail "cannot derive RealMemory from /proc/meminfo (MemTotal ${MEM_TOTAL_MB} MB)"

mkdir -p "$CONF_DIR" /var/lib/slurm/slurmctld /var/lib/slurm/slurmd /var/log/slurm /run/slurm
NEW_CONF=$(mktemp)
trap 'rm -f "$NEW_CONF"' EXIT
cat >"$NEW_CONF" <<EOF
# Written by scripts/ci/start-local-slurm.sh: a single-node test cluster on ${NODE}.
ClusterName=${CLUSTER}
SlurmctldHost=${NODE}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
MailProg=/bin/true
SwitchType=switch/none
# containers usually have no (writable) cgroups
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
# no slurmdbd: no accounting; squeue must still see finished jobs, hence the high MinJobAge
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MinJobAge=86400
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
# use the CPUs and memory below even where slurmd detects a different topology (VMs, containers)
SlurmdParameters=config_overrides
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldTimeout=60
SlurmdTimeout=60
InactiveLimit=0
KillWait=10
NodeName=${NODE} NodeAddr=127.0.0.1 CPUs=${CPUS} RealMemory=${REAL_MEMORY} State=UNKNOWN
PartitionName=${PARTITION} Nodes=${NODE} Default=YES MaxTime=INFINITE State=UP
EOF

CONF_CHANGED=0
if [ -f "$CONF" ] && cmp -s "$NEW_CONF" "$CONF"; then
    say "$CONF unchanged (node ${NODE}: CPUs=${CPUS} RealMemory=${REAL_MEMORY} MB)"
else
    [ -f "$CONF" ] && cp "$CONF" "$CONF.bak" && say "previous $CONF saved as $CONF.bak"
    install -m 0644 "$NEW_CONF" "$CONF"
    CONF_CHANGED=1
    say "wrote $CONF (node ${NODE}: CPUs=${CPUS} RealMemory=${REAL_MEMORY} MB, partition ${PARTITION}, MinJobAge=86400)"
fi

# --- 4. daemons ----------------------------------------------------------------------------------
running() {  # running NAME PIDFILE: the daemon of that pid file is alive
    local pid
    [ -s "$2" ] && pid=$(cat "$2") && kill -0 "$pid" 2>/dev/null \
        && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ]
}
stop() {  # stop NAME PIDFILE
    local pid
    if running "$1" "$2"; then
        pid=$(cat "$2")
        say "stopping $1 (pid $pid) to apply the new configuration"
        kill "$pid"
        for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    fi
    rm -f "$2"
}

if [ "$CONF_CHANGED" = 1 ]; then
    stop slurmd /run/slurm/slurmd.pid
    stop slurmctld /run/slurm/slurmctld.pid
fi
if running slurmctld /run/slurm/slurmctld.pid; then
    say "slurmctld already running (pid $(cat /run/slurm/slurmctld.pid))"
else
    say "starting slurmctld"
    slurmctld || fail "slurmctld did not start"
fi
if running slurmd /run/slurm/slurmd.pid; then
    say "slurmd already running (pid $(cat /run/slurm/slurmd.pid))"
else
    say "starting slurmd"
    slurmd -N "$NODE" || fail "slurmd did not start"
fi

# --- 5. wait for the node, then run a trivial job --------------------------------------------------
say "waiting for node ${NODE} to become idle"
STATE=""
for i in $(seq 60); do
    STATE=$(sinfo -h -N -n "$NODE" -o %t 2>/dev/null | head -n 1 || true)
    case "$STATE" in
        idle|mix|alloc) break ;;
        drain*|drng|down*|fail*)
            # left over from an earlier run (e.g. restarted daemons): bring it back once
            if [ "$i" -eq 5 ]; then
                say "node is '$STATE'; resuming it"
                scontrol update NodeName="$NODE" State=RESUME 2>/dev/null || true
            fi ;;
    esac
    sleep 1
done
case "$STATE" in
    idle|mix|alloc) say "node ${NODE} is ${STATE}" ;;
    *) fail "node ${NODE} did not become idle within 60 s (state '${STATE:-no answer from sinfo}')" ;;
esac

OUT=$(timeout 60 srun -N1 -n1 -t 1 --mem=100 hostname -s 2>&1) \
    || fail "a trivial 'srun hostname' failed: $OUT"
say "srun works (ran on $OUT)"
OUT=$(cd /tmp && timeout 90 sbatch --wait --parsable -t 1 --mem=100 -o /dev/null --wrap 'srun -n1 true' 2>&1) \
    || fail "a trivial 'sbatch --wait' job failed: $OUT"
say "sbatch works (job $OUT completed)"
say "local SLURM cluster '${CLUSTER}' is up: partition ${PARTITION}, node ${NODE} (${CPUS} CPUs, ${REAL_MEMORY} MB)"
