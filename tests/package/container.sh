#!/bin/bash
# Boot a Debian root's systemd as PID 1 in new namespaces, without
# systemd-nspawn (which needs a host booted with systemd).
#
#   container.sh boot ROOTDIR [--tar TARBALL] [--net private|host]
#   container.sh wait-ready ROOTDIR [TIMEOUT_SECONDS]       (default 120)
#   container.sh exec [--host-net] [-e NAME=VALUE]... ROOTDIR -- CMD [ARG]...
#   container.sh push ROOTDIR HOST_FILE GUEST_PATH          copy a file in
#   container.sh shutdown ROOTDIR [TIMEOUT_SECONDS]         (default 60)
#   container.sh destroy ROOTDIR [TIMEOUT]  shutdown, then delete ROOTDIR
#   container.sh status ROOTDIR
#
# ROOTDIR is a per-run directory.  If it is missing or empty, `boot` fills
# it from TARBALL (default: the cached root from rootfs.sh, built if
# needed); an existing ROOTDIR is booted again only if it is such a root.
# Run state (PIDs, logs) lives beside it in ROOTDIR.state/; the guest's
# console (systemd's own boot messages) is logged to ROOTDIR.state/console.log.
# A file written on the host below ROOTDIR shows up in the guest, except
# below /run, /tmp, /dev, /proc and /sys, which are the guest's own mounts;
# `push` works for any guest path.  `exec` exits with the command's status.
# `shutdown` powers the guest off (systemctl poweroff, else SIGRTMIN+4 to
# its PID 1), kills it after TIMEOUT, and then always tears down: kills any
# process left in its namespaces/cgroup, removes its cgroup, unmounts
# anything below ROOTDIR on the host, and checks with findmnt and /proc
# that nothing is left.  It exits 0 only if the guest powered off by itself
# and the checks passed.
#
# The setup (see boot_init below) is:
#   * a cgroup2 directory of our own on the host's cgroup2 hierarchy, then
#     unshare --pid --fork --mount --uts --ipc --cgroup --net
#     --propagation private, so that the guest's systemd sees that
#     directory as the root of a fresh, writable cgroup2 mount
#     (unified mode; the controllers are all bound to the host's v1
#     hierarchies here, so the guest gets none, which systemd accepts);
#   * every mount is made inside the new mount namespace, so nothing is
#     ever mounted on the host and the kernel drops it all when the
#     namespace's last process exits;
#   * ROOTDIR bind-mounted on itself (systemd wants / to be a mount),
#     proc (with /proc/sys and /proc/sysrq-trigger read-only, so the guest
#     cannot change host-wide sysctls), sysfs read-only, cgroup2 at
#     /sys/fs/cgroup read-write, tmpfs /run and /tmp, and a tmpfs /dev with
#     only the basic nodes plus a private devpts instance (not the host's
#     /dev: the guest then cannot reach the host's disks, /dev/kmsg or
#     ptys; the guest is our own test root, but its maintainer scripts
#     should not be able to touch the host by mistake); /dev/console is
#     the pty of a `script` process on the host that logs it; then the
#     whole tree made shared (within the guest only), as nspawn does;
#   * pivot_root into ROOTDIR (not chroot: no user namespace can be made
#     inside a chroot), then /lib/systemd/systemd --system with
#     container=... in its environment and CAP_SYS_MODULE, CAP_SYS_RAWIO,
#     CAP_SYS_TIME, CAP_WAKE_ALARM, CAP_SYSLOG, CAP_MAC_* dropped from the
#     bounding set.
#
# Network: by default the guest gets its own network namespace with only
# loopback (systemd brings lo up).  The package test only needs curl in the
# guest talking to nginx in the guest, so this keeps the guest's ports
# (80/443, the service's sockets) off the host and cannot clash with
# anything listening there, and test traffic provably stays on loopback.
# Commands that need the Debian mirror (apt-get update/install of
# dependencies) run with `exec --host-net`: same mount/pid/... namespaces,
# but the host's network namespace, so only that one process reaches out.
# `boot --net host` shares the host's network namespace instead.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
self="$here/$(basename "${BASH_SOURCE[0]}")"
# shellcheck source=lib.sh
. "$here/lib.sh"

GUEST_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
GUEST_CONTAINER=pyexec-test
DROP_CAPS=-sys_module,-sys_rawio,-sys_time,-wake_alarm,-syslog,-mac_admin,-mac_override

usage() { sed -n '2,/^# ROOTDIR/p' "$self" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

# ---------------------------------------------------------------- helpers

abs_root() {
    [ -n "${1:-}" ] || usage
    local r
    r=$(realpath -m -- "$1")
    case "$r" in /|/proc*|/sys*|/dev*|/run|/tmp|/var|/usr|/etc) die "refusing ROOTDIR $r" ;; esac
    printf '%s\n' "$r"
}

state_dir() { printf '%s.state\n' "$1"; }

# The host's cgroup2 mount (pure v2: /sys/fs/cgroup; hybrid: .../unified).
host_cgroup2() {
    findmnt -rn -t cgroup2 -o TARGET | head -n1
}

cgroup_for() {
    local base
    base=$(host_cgroup2) || true
    [ -n "$base" ] || die "no cgroup2 hierarchy mounted on the host"
    printf '%s/pyexec-test/%s\n' "$base" "$(printf '%s' "$1" | sha256sum | cut -c1-12)"
}

# PID (host view) of the guest's PID 1, if it is alive.
init_pid() {
    local st=$1 pid
    [ -f "$st/init.pid" ] || return 1
    pid=$(cat "$st/init.pid")
    [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
    # Guard against PID reuse: it must still be in the guest's mount ns.
    [ "$(readlink "/proc/$pid/ns/mnt" 2>/dev/null)" = "$(cat "$st/mntns" 2>/dev/null)" ] || return 1
    printf '%s\n' "$pid"
}

alive() { [ -d "/proc/$1" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]; }

# Mounts on the host at or below $1, deepest first.
host_mounts_under() {
    findmnt -rn -o TARGET | awk -v r="$1" '$0 == r || index($0, r "/") == 1' | sort -r
}

# Host PIDs of processes that belong to the guest: in one of its recorded
# namespaces, in its cgroup, or with their root directory inside ROOTDIR.
guest_pids() {
    local root=$1 st=$2 cg=$3 p ns want_mnt want_pid
    want_mnt=$(cat "$st/mntns" 2>/dev/null || true)
    want_pid=$(cat "$st/pidns" 2>/dev/null || true)
    {
        if [ -f "$cg/cgroup.procs" ]; then
            find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null || true
        fi
        for p in /proc/[0-9]*; do
            p=${p#/proc/}
            [ "$p" = "$$" ] && continue
            ns=$(readlink "/proc/$p/ns/mnt" 2>/dev/null) || continue
            if [ -n "$want_mnt" ] && [ "$ns" = "$want_mnt" ]; then echo "$p"; continue; fi
            if [ -n "$want_pid" ] && [ "$(readlink "/proc/$p/ns/pid" 2>/dev/null)" = "$want_pid" ]; then echo "$p"; continue; fi
            case "$(readlink "/proc/$p/root" 2>/dev/null)" in
                "$root"|"$root"/*) echo "$p" ;;
            esac
        done
    } | sort -un
}

# Remove a cgroup directory tree, children first.
remove_cgroup_tree() {
    local cg=$1
    [ -d "$cg" ] || return 0
    find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
    [ ! -d "$cg" ]
}

# ---------------------------------------------------------------- boot

# Runs as PID 1 of the new PID namespace, in the new mount, UTS, IPC,
# cgroup (and network) namespaces, before systemd is exec'd.  Everything
# mounted here is private to the new mount namespace.
boot_init() {
    local root=$1 st=$2 net=$3
    # Propagation is already private (unshare --propagation private);
    # making / a mount point lets systemd make it shared in its namespace.
    mount --bind "$root" "$root"
    mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
    local ro
    for ro in sys sysrq-trigger; do
        [ -e "$root/proc/$ro" ] || continue      # no sysrq on some kernels
        mount --bind "$root/proc/$ro" "$root/proc/$ro"
        mount -o remount,bind,ro,nosuid,nodev,noexec "$root/proc/$ro"
    done
    if [ "$net" = private ]; then
        # Network sysctls are per network namespace: let the guest set its own.
        mount --bind "$root/proc/sys/net" "$root/proc/sys/net"
        mount -o remount,bind,rw,nosuid,nodev,noexec "$root/proc/sys/net"
    fi
    mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"
    # Root of this mount = the cgroup namespace's root = our own directory.
    mount -t cgroup2 -o rw,nosuid,nodev,noexec,relatime cgroup2 "$root/sys/fs/cgroup"

    mount -t tmpfs -o mode=755,nosuid,size=8m tmpfs "$root/dev"
    local spec name mode maj min
    for spec in null:666:1:3 zero:666:1:5 full:666:1:7 random:666:1:8 \
                urandom:666:1:9 tty:666:5:0; do
        IFS=: read -r name mode maj min <<<"$spec"
        mknod -m "$mode" "$root/dev/$name" c "$maj" "$min"
    done
    mkdir -m 755 "$root/dev/pts"
    mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5,nosuid,noexec devpts "$root/dev/pts"
    ln -s pts/ptmx "$root/dev/ptmx"
    mkdir -m 1777 "$root/dev/shm"
    mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/dev/shm"
    ln -s /proc/self/fd "$root/dev/fd"
    ln -s /proc/self/fd/0 "$root/dev/stdin"
    ln -s /proc/self/fd/1 "$root/dev/stdout"
    ln -s /proc/self/fd/2 "$root/dev/stderr"
    # The console: our stdout is the pty that `script` on the host logs.
    local tty
    tty=$(tty 2>/dev/null || true)
    if [ -n "$tty" ] && [ -c "$tty" ]; then
        : >"$root/dev/console"
        mount --bind "$tty" "$root/dev/console"
    fi

    mount -t tmpfs -o mode=755,nosuid,nodev,size=20% tmpfs "$root/run"
    mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/tmp"

    hostname "$GUEST_CONTAINER"
    if [ "$net" = private ]; then ip link set lo up 2>/dev/null || true; fi
    local uuid
    uuid=$(cat "$root/etc/machine-id")

    # Make ROOTDIR the root of the mount namespace with pivot_root, not
    # chroot: the kernel refuses to create a user namespace from inside a
    # chroot (EPERM), so sandboxes in the guest (pyexec's jail, systemd's
    # PrivateUsers=) would fail where they work on a real host.
    # pivot_root(".", ".") stacks the old root on the new one; detaching
    # it leaves the host's tree unreachable.  From here on, commands are
    # the guest's own.
    cd "$root"
    pivot_root . .
    umount -l .
    cd /
    # systemd makes / shared itself only when it is not in a container
    # (it expects the container manager to have done it, as nspawn does).
    # Without shared propagation, mounts that systemd makes in a helper's
    # namespace never reach its own: LoadCredential= then hands services
    # an empty credentials directory.  The guest's mounts were made private
    # to the host above, so this shares them only within the guest.
    mount --make-rshared /

    echo "pyexec-test: starting systemd in $root"
    exec setpriv --bounding-set "$DROP_CAPS" -- \
        /usr/bin/env -i container="$GUEST_CONTAINER" \
        container_uuid="$uuid" TERM=vt220 \
        PATH="$GUEST_PATH" LANG=C.UTF-8 \
        /lib/systemd/systemd --system --log-target=console --log-level=info --show-status=yes
}

# Host side, stage 1: a new PID namespace.  --kill-child: if this unshare
# dies, the guest's PID 1 (and with it the whole PID namespace) is killed.
# unshare itself stays in the host's cgroup, so the guest's systemd only
# ever sees its own processes in its cgroup tree.
boot_launch() {
    exec unshare --pid --fork --kill-child=SIGKILL -- "$self" __stage2 "$@"
}

# Stage 2, already PID 1 of the new PID namespace: join our cgroup ("0" =
# the writing process), then create the cgroup namespace rooted there and
# the other namespaces; unshare exec's in place, so PID 1 stays PID 1.
boot_stage2() {
    local root=$1 st=$2 net=$3 cg=$4
    echo 0 >"$cg/cgroup.procs"
    local netflag=--net
    [ "$net" = host ] && netflag=
    # shellcheck disable=SC2086 # $netflag is empty or one word
    exec unshare --cgroup --mount --uts --ipc $netflag --propagation private -- \
        "$self" __init "$root" "$st" "$net"
}

cmd_boot() {
    local root tar="" net=private
    root=$(abs_root "${1:-}"); shift
    while [ $# -gt 0 ]; do
        case "$1" in
        --tar) tar=$2; shift 2 ;;
        --net) net=$2; shift 2 ;;
        --net=*) net=${1#--net=}; shift ;;
        *) usage ;;
        esac
    done
    case "$net" in private|host) ;; *) die "--net must be private or host" ;; esac
    [ "$(id -u)" = 0 ] || die "must run as root"
    local st cg
    st=$(state_dir "$root")
    cg=$(cgroup_for "$root")
    if init_pid "$st" >/dev/null; then die "a guest is already running in $root"; fi
    [ -z "$(host_mounts_under "$root")" ] || die "$root has host mounts below it; run shutdown first"

    if [ ! -d "$root" ] || [ -z "$(ls -A "$root")" ]; then
        [ -n "$tar" ] || tar=$("$here/rootfs.sh")
        [ -s "$tar" ] || die "no root tarball $tar"
        # Extract beside it and rename, so an interrupted extraction never
        # leaves a half-filled ROOTDIR that looks bootable.
        local t0=$SECONDS tmp="$root.extract"
        rm -rf --one-file-system "$tmp"
        mkdir -p "$tmp"
        tar --numeric-owner --xattrs --xattrs-include='*' --acls -C "$tmp" -xf "$tar"
        rmdir "$root" 2>/dev/null || true
        mv -T "$tmp" "$root"
        log "extracted $tar into $root in $((SECONDS - t0))s"
    fi
    [ -f "$root/etc/pyexec-test-root" ] || die "$root is not a root made by rootfs.sh"
    [ -x "$root/lib/systemd/systemd" ] || die "$root has no systemd"

    rm -rf "$st"
    mkdir -p "$st"
    # A fresh machine-id per boot; host's resolver for `exec --host-net`.
    tr -d '-' </proc/sys/kernel/random/uuid >"$root/etc/machine-id"
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    echo "$net" >"$st/net"

    remove_cgroup_tree "$cg" || die "stale cgroup $cg still has processes"
    mkdir -p "$cg"
    echo "$cg" >"$st/cgroup"

    # From here on, a failed or interrupted boot tears down what it started.
    # shellcheck disable=SC2064 # expand now
    trap "trap - EXIT; teardown '$root' '$st' '$cg' >&2 || true; exit 1" EXIT
    trap 'exit 130' INT TERM HUP

    # `script` gives the guest a pty as its console and logs it; setsid
    # detaches the guest from our session; no fd of ours is inherited, so
    # callers capturing our output are not kept waiting.
    local cmd
    cmd=$(printf '%q ' "$self" __launch "$root" "$st" "$net" "$cg")
    SHELL=/bin/bash setsid script -qfe -c "$cmd" "$st/console.log" \
        </dev/null >"$st/script.out" 2>&1 9>&- &
    echo "$!" >"$st/script.pid"

    # Find the guest's PID 1: the process in our cgroup that is PID 1 of
    # its own PID namespace; then wait until it has exec'd systemd.
    local i pid="" p
    for ((i = 0; i < 300; i++)); do
        if [ -z "$pid" ]; then
            while read -r p; do
                if grep -qE '^NSpid:[[:space:]]+[0-9]+[[:space:]]+1$' "/proc/$p/status" 2>/dev/null; then
                    pid=$p
                    awk '$1 == "PPid:" {print $2}' "/proc/$p/status" >"$st/unshare.pid"
                fi
            done < <(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null || true)
        fi
        if [ -n "$pid" ]; then
            alive "$pid" || break                    # died before/in systemd
            [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = systemd ] && break
        fi
        sleep 0.1
    done
    if [ -z "$pid" ] || ! alive "$pid" || [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != systemd ]; then
        log "the guest did not start; console:"
        tail -n 30 "$st/console.log" >&2 || true
        die "boot failed"
    fi
    echo "$pid" >"$st/init.pid"
    readlink "/proc/$pid/ns/mnt" >"$st/mntns"
    readlink "/proc/$pid/ns/pid" >"$st/pidns"
    trap - EXIT INT TERM HUP
    log "guest PID 1 is host PID $pid ($net network); console log $st/console.log"
}

# ---------------------------------------------------------------- exec

cmd_exec() {
    local hostnet=0 envs=()
    while [ $# -gt 0 ]; do
        case "$1" in
        --host-net) hostnet=1; shift ;;
        -e) envs+=("$2"); shift 2 ;;
        -*) usage ;;
        *) break ;;
        esac
    done
    local root st pid cg
    root=$(abs_root "${1:-}"); shift
    [ "${1:-}" = -- ] && shift
    [ $# -gt 0 ] || usage
    st=$(state_dir "$root")
    pid=$(init_pid "$st") || die "no guest running in $root"
    cg=$(cat "$st/cgroup")
    local nsflags=(--mount --uts --ipc --pid --cgroup)
    [ "$hostnet" = 1 ] || nsflags+=(--net)
    # Join the guest's cgroup first so that inside its cgroup namespace the
    # command is at "/" (not outside the namespace root) and so that
    # shutdown can find and kill it.  The environment is a fresh one.
    # shellcheck disable=SC2016 # expanded by the inner shell
    exec /bin/bash -c 'echo "$BASHPID" >"$1/cgroup.procs"; shift; exec "$@"' sh "$cg" \
        setpriv --bounding-set "$DROP_CAPS" -- \
        nsenter --target "$pid" "${nsflags[@]}" --root --wd -- \
        /usr/bin/env -i PATH="$GUEST_PATH" HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" \
        DEBIAN_FRONTEND=noninteractive SYSTEMD_PAGER=cat container="$GUEST_CONTAINER" \
        "${envs[@]}" "$@"
}

cmd_push() {
    [ $# -eq 3 ] || usage
    [ -f "$2" ] || die "no file $2"
    # shellcheck disable=SC2016 # expanded by the guest's shell
    "$self" exec "$1" -- /bin/sh -c 'cat >"$1"' sh "$3" <"$2"
}

# ---------------------------------------------------------------- wait-ready

cmd_wait_ready() {
    local root st timeout=${2:-120} state="" i
    root=$(abs_root "${1:-}")
    st=$(state_dir "$root")
    for ((i = 0; i < timeout * 2; i++)); do
        init_pid "$st" >/dev/null || { tail -n 30 "$st/console.log" >&2 || true; die "the guest's PID 1 exited"; }
        state=$(timeout 10 "$self" exec "$root" -- systemctl is-system-running 2>/dev/null || true)
        case "$state" in
        running) log "guest is running"; return 0 ;;
        degraded)
            log "guest is degraded; failed units:"
            "$self" exec "$root" -- systemctl --failed --no-legend --no-pager >&2 || true
            return 0 ;;
        maintenance|stopping|offline) break ;;
        esac
        sleep 0.5
    done
    log "guest not ready after ${timeout}s (state: ${state:-unknown})"
    {
        timeout 10 "$self" exec "$root" -- systemctl list-jobs --no-pager || true
        timeout 10 "$self" exec "$root" -- systemctl --failed --no-pager || true
        echo "--- console"; tail -n 40 "$st/console.log" || true
    } >&2
    return 1
}

# ---------------------------------------------------------------- shutdown

cmd_shutdown() {
    local root st cg timeout pid i rc=0
    root=$(abs_root "${1:-}")
    timeout=${2:-60}
    st=$(state_dir "$root")
    cg=$(cat "$st/cgroup" 2>/dev/null || cgroup_for "$root")

    # Whatever happens while stopping the guest, the teardown below runs.
    # shellcheck disable=SC2064 # expand now
    trap "teardown '$root' '$st' '$cg'" EXIT

    if pid=$(init_pid "$st"); then
        log "powering off the guest (PID $pid)"
        # SIGRTMIN+4 asks systemd for poweroff, like `systemctl poweroff`,
        # without depending on D-Bus or systemctl working.
        timeout 5 "$self" exec "$root" -- systemctl poweroff --no-block >/dev/null 2>&1 ||
            kill -s RTMIN+4 "$pid" 2>/dev/null || true
        for ((i = 0; i < timeout * 5; i++)); do
            alive "$pid" || break
            sleep 0.2
        done
        if alive "$pid"; then
            log "guest did not power off within ${timeout}s: killing it"
            rc=1
            kill -s KILL "$pid" 2>/dev/null || true
        else
            log "guest powered off"
        fi
    fi
    trap - EXIT
    teardown "$root" "$st" "$cg" || rc=1
    return "$rc"
}

# Kill whatever is left of the guest, remove its cgroup, unmount anything
# below ROOTDIR on the host, and verify.  Safe to run more than once.
teardown() {
    local root=$1 st=$2 cg=$3 i pids m bad=0
    # Killing the PID namespace's init kills everything in it; cgroup.kill
    # catches anything that joined the cgroup but not the namespace.
    if [ -f "$st/init.pid" ] && init_pid "$st" >/dev/null; then
        kill -s KILL "$(cat "$st/init.pid")" 2>/dev/null || true
    fi
    for ((i = 0; i < 50; i++)); do
        pids=$(guest_pids "$root" "$st" "$cg")
        [ -z "$pids" ] && break
        [ -f "$cg/cgroup.kill" ] && echo 1 >"$cg/cgroup.kill" 2>/dev/null
        # shellcheck disable=SC2086 # list of PIDs
        kill -s KILL $pids 2>/dev/null || true
        sleep 0.1
    done
    for p in script.pid unshare.pid; do
        if [ -f "$st/$p" ]; then
            for ((i = 0; i < 50; i++)); do alive "$(cat "$st/$p")" || break; sleep 0.1; done
        fi
    done
    remove_cgroup_tree "$cg" || { log "cgroup $cg could not be removed"; bad=1; }
    rmdir "${cg%/*}" 2>/dev/null || true

    # The guest's mounts live in its own mount namespace and vanished with
    # it; anything still mounted below ROOTDIR on the host came from
    # elsewhere (e.g. an interrupted rootfs build): unmount it, deepest first.
    while IFS= read -r m; do
        [ -n "$m" ] || continue
        umount "$m" 2>/dev/null || umount -l "$m" || true
    done < <(host_mounts_under "$root")

    if [ -n "$(host_mounts_under "$root")" ]; then
        log "still mounted below $root:"; host_mounts_under "$root" >&2; bad=1
    fi
    pids=$(guest_pids "$root" "$st" "$cg")
    if [ -n "$pids" ]; then
        log "guest processes left:"
        # shellcheck disable=SC2086
        ps -o pid,args -p $pids >&2 || true
        bad=1
    fi
    if [ "$bad" = 0 ]; then
        rm -f "$st/init.pid"
        log "teardown complete: no mounts below $root, no guest processes"
    fi
    return "$bad"
}

cmd_destroy() {
    local root st rc=0
    root=$(abs_root "${1:-}")
    st=$(state_dir "$root")
    cmd_shutdown "$root" "${2:-60}" || rc=$?
    if [ -n "$(host_mounts_under "$root")" ]; then die "not deleting $root: still mounted below it"; fi
    if [ -d "$root" ] && [ ! -f "$root/etc/pyexec-test-root" ] && [ -n "$(ls -A "$root")" ]; then
        die "not deleting $root: not a root made by rootfs.sh"
    fi
    rm -rf --one-file-system "$root" "$st"
    return "$rc"
}

cmd_status() {
    local root st pid
    root=$(abs_root "${1:-}")
    st=$(state_dir "$root")
    if pid=$(init_pid "$st"); then
        echo "running: PID $pid, network $(cat "$st/net")"
    else
        echo "stopped"; return 3
    fi
}

# ---------------------------------------------------------------- main

sub=${1:-}; [ $# -gt 0 ] && shift
case "$sub" in
    boot) cmd_boot "$@" ;;
    exec) cmd_exec "$@" ;;
    push) cmd_push "$@" ;;
    wait-ready) cmd_wait_ready "$@" ;;
    shutdown) cmd_shutdown "$@" ;;
    destroy) cmd_destroy "$@" ;;
    status) cmd_status "$@" ;;
    __launch) boot_launch "$@" ;;
    __stage2) boot_stage2 "$@" ;;
    __init) boot_init "$@" ;;
    *) usage ;;
esac
