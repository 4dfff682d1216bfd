#!/usr/bin/env bash
# slow-machine.sh: runs tests under a CPU quota, to prove that their time
# margins hold on a machine several times slower than this one.
#
#   tests/slow-machine.sh [PERCENT] [run.py arguments...]
#
# PERCENT (default 25) is the share of ONE core that the whole test run,
# stacks included (nginx, workers, jails), may use: 25 on a 2-core machine
# leaves an eighth of its CPU. It uses the cgroup v1 cpu controller (this
# development machine's); as root. Without run.py arguments it runs the
# tests that measure time, in both modes.
set -euo pipefail
cd "$(dirname "$0")/.."
pct=${1:-25}
shift || true
cpu=$(awk '$9 == "cgroup" && $NF ~ /(^|,)cpu(,|$)/ {print $5; exit}' \
    /proc/self/mountinfo)
if [ -z "$cpu" ]; then
	echo "slow-machine.sh: no cgroup v1 cpu controller mounted" >&2
	exit 2
fi
cg=$cpu/pyexec-slow-$$
mkdir "$cg"
trap 'rmdir "$cg" 2>/dev/null || true' EXIT
echo 100000 > "$cg/cpu.cfs_period_us"
echo $((pct * 1000)) > "$cg/cpu.cfs_quota_us"
if [ $# -eq 0 ]; then
	set -- --suite integration,escape --only \
	    test_limits,test_busy,test_secrets,fork_bomb,scm_rights,timeout_,daemon_survival,return_fifo,output_flood,concurrent_isolation,sys_int80,memory_,signal_
fi
echo "==> CPU quota: ${pct}% of one core ($(nproc) cores here)"
start=$(date +%s)
rc=0
sh -c 'echo $$ > "$1/cgroup.procs"; shift; exec "$@"' sh "$cg" \
    /usr/bin/python3 tests/run.py "$@" || rc=$?
echo "==> $(( $(date +%s) - start )) s under a ${pct}% quota"
exit $rc
