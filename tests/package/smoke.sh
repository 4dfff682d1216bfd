#!/bin/bash
# Smoke test of the package-test harness: boot a fresh Debian 12 root's
# systemd as PID 1 in namespaces, start and restart nginx there, serve a
# page over the guest's loopback, install/purge a throw-away local .deb
# whose postinst starts a systemd service (the path the real pyexec package
# test takes), then shut down and check that nothing is left mounted or
# running.  Prints "smoke: PASS" or "smoke: FAIL ..." and exits non-zero on
# failure.  Needs root.
#
#   tests/package/smoke.sh [--keep]    (--keep: leave the stopped root for inspection)
#
# Environment: PKGTEST_RUN_DIR (default: a new directory in /var/tmp),
# plus those of rootfs.sh.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
ctr="$here/container.sh"

keep=0
[ "${1:-}" = --keep ] && keep=1
[ "$(id -u)" = 0 ] || { echo "smoke: FAIL (must run as root)"; exit 1; }

run_dir=${PKGTEST_RUN_DIR:-$(mktemp -d /var/tmp/pyexec-smoke.XXXXXX)}
mkdir -p "$run_dir"
run_dir=$(realpath "$run_dir")
root="$run_dir/root"
current="setup"
passed=0
torn_down=0
t_start=$SECONDS

finish() {
    local rc=$?
    trap - EXIT INT TERM HUP
    set +e
    if [ "$passed" != 1 ] && [ -f "$root.state/console.log" ]; then
        echo "--- last guest console lines"; tail -n 25 "$root.state/console.log" | tr -d '\r'
        echo "--- guest journal (last 40 lines)"
        timeout 20 "$ctr" exec "$root" -- journalctl -b --no-pager -n 40 2>/dev/null
    fi
    # Always: stop the guest, unmount, remove the cgroup, verify.
    if [ "$torn_down" = 0 ] && { [ -d "$root" ] || [ -d "$root.state" ]; }; then
        if [ "$keep" = 1 ]; then
            "$ctr" shutdown "$root" 30 || { rc=1; current="teardown"; }
        else
            "$ctr" destroy "$root" 30 || { rc=1; current="teardown"; }
        fi
    fi
    # Independent check of the host: nothing mounted below the run dir, no
    # process whose root directory is inside it.
    if findmnt -rn -o TARGET | grep -qF "$run_dir"; then
        echo "leftover mounts:"; findmnt -rn -o TARGET | grep -F "$run_dir"; rc=1; current="teardown check"
    fi
    local p left=""
    for p in /proc/[0-9]*; do
        case "$(readlink "$p/root" 2>/dev/null)" in "$run_dir"/*) left="$left ${p#/proc/}" ;; esac
    done
    if [ -n "$left" ]; then
        echo "leftover processes:$left"; rc=1; current="teardown check"
    fi
    if [ "$keep" = 0 ] && [ "$current" != "teardown check" ]; then
        rm -rf --one-file-system "$run_dir/probe" "$run_dir"/harness-probe_*.deb
        [ -n "${PKGTEST_RUN_DIR:-}" ] || rmdir "$run_dir" 2>/dev/null
    fi
    if [ "$rc" = 0 ] && [ "$passed" = 1 ]; then
        echo "smoke: PASS ($((SECONDS - t_start))s)"
    else
        echo "smoke: FAIL at step: $current"
        [ "$rc" = 0 ] && rc=1
    fi
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM HUP

step() { current=$*; echo "== $*"; }
in_guest() { "$ctr" exec "$root" -- "$@"; }
check() { if ! "$@"; then echo "check failed: $*"; return 1; fi; }

step "root file system (rootfs.sh)"
t=$SECONDS
tar=$("$here/rootfs.sh")
echo "   root tarball ready in $((SECONDS - t))s: $tar"

step "boot"
t=$SECONDS
"$ctr" boot "$root" --tar "$tar"
"$ctr" wait-ready "$root" 120
echo "   booted to running in $((SECONDS - t))s"

step "install nginx if missing"
# shellcheck disable=SC2016 # dpkg-query's format, not a shell expansion
if ! in_guest dpkg-query -W -f='${Status}\n' nginx 2>/dev/null | grep -q '^install ok installed$'; then
    "$ctr" exec --host-net "$root" -- apt-get update -q
    "$ctr" exec --host-net "$root" -- apt-get install -y -q nginx
fi

step "systemctl start nginx"
in_guest systemctl start nginx
check in_guest systemctl is-active --quiet nginx

step "curl nginx's page inside the guest"
page=$(in_guest curl -fsS --max-time 10 http://127.0.0.1/)
check grep -q 'Welcome to nginx' <<<"$page"

step "the guest's nginx is not reachable from the host's network namespace"
if [ "$(cat "$root.state/net")" = private ] && ! ss -Hltn 'sport = :80' | grep -q .; then
    if curl -s --max-time 2 -o /dev/null http://127.0.0.1/; then
        echo "host port 80 answered although nothing on the host listens"; false
    fi
else
    echo "   (skipped: guest shares the host network, or the host listens on :80)"
fi

step "systemctl restart nginx"
pid_before=$(in_guest systemctl show -P MainPID nginx)
in_guest systemctl restart nginx
check in_guest systemctl is-active --quiet nginx
pid_after=$(in_guest systemctl show -P MainPID nginx)
check test "$pid_before" != "$pid_after"
check grep -q 'Welcome to nginx' <<<"$(in_guest curl -fsS --max-time 10 http://127.0.0.1/)"

step "apt install a local .deb whose postinst starts a service"
probe="$run_dir/probe"
rm -rf "$probe"
mkdir -p "$probe/DEBIAN" "$probe/lib/systemd/system" "$probe/var/lib/harness-probe"
echo "harness probe page" >"$probe/var/lib/harness-probe/index.html"
cat >"$probe/DEBIAN/control" <<'EOF'
Package: harness-probe
Version: 1.0
Architecture: all
Maintainer: pyexec test harness <root@localhost>
Depends: python3, init-system-helpers
Description: throw-away package used by the harness smoke test
EOF
cat >"$probe/lib/systemd/system/harness-probe.service" <<'EOF'
[Unit]
Description=harness probe web server
[Service]
ExecStart=/usr/bin/python3 -m http.server --bind 127.0.0.1 --directory /var/lib/harness-probe 8081
[Install]
WantedBy=multi-user.target
EOF
cat >"$probe/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
    deb-systemd-helper enable harness-probe.service
    deb-systemd-invoke start harness-probe.service
fi
EOF
cat >"$probe/DEBIAN/prerm" <<'EOF'
#!/bin/sh
set -e
deb-systemd-invoke stop harness-probe.service
EOF
cat >"$probe/DEBIAN/postrm" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = purge ]; then deb-systemd-helper purge harness-probe.service; fi
systemctl daemon-reload || true
EOF
chmod 755 "$probe/DEBIAN/postinst" "$probe/DEBIAN/prerm" "$probe/DEBIAN/postrm"
dpkg-deb --root-owner-group -b "$probe" "$run_dir/harness-probe_1.0_all.deb" >/dev/null
"$ctr" push "$root" "$run_dir/harness-probe_1.0_all.deb" /var/tmp/harness-probe_1.0_all.deb
# Depends are all preinstalled, so this needs no network (private netns).
in_guest apt-get install -y -q /var/tmp/harness-probe_1.0_all.deb
check in_guest systemctl is-active --quiet harness-probe
for _ in $(seq 50); do
    in_guest curl -fsS --max-time 2 http://127.0.0.1:8081/ >/dev/null 2>&1 && break
    sleep 0.2
done
check grep -q 'harness probe page' <<<"$(in_guest curl -fsS --max-time 5 http://127.0.0.1:8081/)"

step "apt purge the .deb; nothing of it left running"
in_guest apt-get purge -y -q harness-probe
check test "$(in_guest systemctl show -P LoadState harness-probe.service)" = not-found
if in_guest pgrep -f 'http.server.*8081' >/dev/null; then echo "probe still running"; false; fi
check test ! -e "$root/etc/systemd/system/multi-user.target.wants/harness-probe.service"

step "shutdown and teardown"
if [ "$keep" = 1 ]; then
    "$ctr" shutdown "$root" 60
else
    "$ctr" destroy "$root" 60
fi
torn_down=1
passed=1
