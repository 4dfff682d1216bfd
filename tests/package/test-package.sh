#!/bin/bash
# The real install test of the pyexec Debian package (tests/run.py runs it
# as the `package` suite):
#   1. build the .deb from this tree with dpkg-buildpackage, and a second
#      one with a higher version for the upgrade; lintian must report no
#      error and no warning;
#   2. boot a fresh Debian 12 root's systemd as PID 1 in new namespaces
#      (rootfs.sh, container.sh) and `apt-get install` the package there;
#   3. through nsenter: enable the nginx site as an operator would, start
#      nginx and the service, run the README's curl examples over HTTPS,
#      check the admin key and the hardening, record
#      `systemd-analyze security`, crash a worker mid-run and restart the
#      service, upgrade to the rebuilt package, remove, purge, and check
#      that nothing of pyexec is left, running or on disk;
#   4. shut the guest down and unmount everything, even when a step fails.
# Prints "== step" lines, then "test-package: PASS" or "test-package: FAIL
# at step: ..."; exits non-zero on any failure.  Needs root.
#
#   tests/package/test-package.sh [--keep]   (--keep: leave the stopped root)
#
# Environment: PKGTEST_RUN_DIR (default: a new directory in /var/tmp),
# PKGTEST_MAX_EXPOSURE (default 1.8: fail if `systemd-analyze security`
# rates the service worse), plus those of rootfs.sh.
# shellcheck source-path=SCRIPTDIR
# shellcheck disable=SC2016 # single-quoted $ are for dpkg-query and the guest's shell
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
ctr="$here/container.sh"

keep=0
[ "${1:-}" = --keep ] && keep=1
[ "$(id -u)" = 0 ] || { echo "test-package: FAIL (must run as root)"; exit 1; }
max_exposure=${PKGTEST_MAX_EXPOSURE:-1.8}

run_dir=${PKGTEST_RUN_DIR:-$(mktemp -d /var/tmp/pyexec-pkgtest.XXXXXX)}
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
        echo "--- guest journal of pyexec, nginx (last 60 lines)"
        timeout 20 "$ctr" exec "$root" -- journalctl -b --no-pager -n 60 \
            -u pyexec.service -u pyexec.socket -u nginx.service 2>/dev/null
    fi
    # Always: stop the guest, unmount, remove its cgroup, verify.
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
        echo "leftover mounts:"; findmnt -rn -o TARGET | grep -F "$run_dir"
        rc=1; current="teardown check"
    fi
    local p left=""
    for p in /proc/[0-9]*; do
        case "$(readlink "$p/root" 2>/dev/null)" in "$run_dir"/*) left="$left ${p#/proc/}" ;; esac
    done
    if [ -n "$left" ]; then
        echo "leftover processes:$left"; rc=1; current="teardown check"
    fi
    if [ "$keep" = 0 ] && [ "$current" != "teardown check" ]; then
        rm -rf --one-file-system "$run_dir/build"
        [ -n "${PKGTEST_RUN_DIR:-}" ] || rm -rf --one-file-system "$run_dir"
    fi
    if [ "$rc" = 0 ] && [ "$passed" = 1 ]; then
        echo "test-package: PASS ($((SECONDS - t_start))s)"
    else
        echo "test-package: FAIL at step: $current ($((SECONDS - t_start))s)"
        [ "$rc" = 0 ] && rc=1
    fi
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM HUP

step_t=$SECONDS
step() {
    [ "$current" = setup ] || echo "   ($((SECONDS - step_t))s)"
    current=$*; step_t=$SECONDS; echo "== $*"
}
g() { "$ctr" exec "$root" -- "$@"; }
fail() { echo "check failed: $*"; return 1; }
check() { "$@" || fail "$*"; }
# Waits up to $1 seconds for a command to succeed.
wait_for() {
    local n=$(($1 * 5)); shift
    while ! "$@" >/dev/null 2>&1; do
        n=$((n - 1)); [ "$n" -gt 0 ] || return 1
        sleep 0.2
    done
}
# True once N workers of the service's current run passed their self-test.
workers_ready() {
    local inv
    inv=$(g systemctl show -P InvocationID pyexec.service)
    [ -n "$inv" ] && [ "$(g journalctl -o cat "_SYSTEMD_INVOCATION_ID=$inv" | grep -c 'worker ready')" -ge "$1" ]
}
pkg_installed() { g dpkg-query -W -f='${Status}' pyexec 2>/dev/null | grep -q 'install ok installed'; }
service_pids() { g pgrep -d ' ' -u pyexec 2>/dev/null || true; }

# ------------------------------------------------------------- build

step "build dependencies (debhelper, lintian, the Build-Depends)"
need=()
for p in dpkg-dev debhelper lintian debootstrap; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
build="$run_dir/build"
rm -rf "$build"
mkdir -p "$build/src"
# The tree as it is (tracked and new files, not ignored ones such as a dev
# build): a fresh copy, so the build never touches the working tree.
(cd "$repo" && git ls-files -z --cached --others --exclude-standard) |
    (cd "$repo" && while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done) |
    tar -C "$repo" --null -T - -cf - | tar -C "$build/src" -xf -
mkdir -p "$build/v2"
cp -a "$build/src" "$build/v2/src"     # for the upgrade, built later
export DEBIAN_FRONTEND=noninteractive
if [ ${#need[@]} -gt 0 ] || ! (cd "$build/src" && dpkg-checkbuilddeps) >/dev/null 2>&1; then
    apt-get update -q >/dev/null
    [ ${#need[@]} -eq 0 ] || apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
    apt-get build-dep -y -q "$build/src" >/dev/null
fi

step "dpkg-buildpackage -us -uc -b"
(cd "$build/src" && dpkg-buildpackage -us -uc -b) >"$build/build.log" 2>&1 ||
    { tail -n 40 "$build/build.log"; fail "dpkg-buildpackage (log: $build/build.log)"; }
version=$(cd "$build/src" && dpkg-parsechangelog -S Version)
arch=$(dpkg --print-architecture)
deb1="$build/pyexec_${version}_${arch}.deb"
check test -s "$deb1"
echo "   built $deb1"
# (The test root leaves out man pages and docs, so look for them here.)
contents=$(dpkg-deb -c "$deb1")
for f in usr/share/man/man8/pyexec-fcgi.8.gz usr/share/man/man5/pyexec.conf.5.gz \
    usr/sbin/pyexec-fcgi lib/systemd/system/pyexec.service lib/systemd/system/pyexec.socket \
    usr/lib/sysusers.d/pyexec.conf usr/share/doc/pyexec/README.gz; do
    grep -q " \./$f\$" <<<"$contents" || fail "$f is not in the package"
done

step "lintian: no error, no warning"
lintian --display-level '>=info' "$build/pyexec_${version}_${arch}.changes" \
    >"$build/lintian.log" 2>&1 || true
grep -v '^running with root privileges' "$build/lintian.log" | sed 's/^/   /'
if grep -qE '^[EW]: ' "$build/lintian.log"; then fail "lintian reported errors or warnings"; fi

step "build the upgrade: the same tree with a higher version"
version2="$version+pkgtest1"
{
    printf 'pyexec (%s) UNRELEASED; urgency=medium\n\n' "$version2"
    printf '  * Rebuild for the package upgrade test.\n\n'
    printf ' -- pyexec test <root@localhost>  %s\n\n' "$(date -R)"
    cat "$build/src/debian/changelog"
} >"$build/changelog2"
mv "$build/changelog2" "$build/v2/src/debian/changelog"
(cd "$build/v2/src" && dpkg-buildpackage -us -uc -b) >"$build/build2.log" 2>&1 ||
    { tail -n 40 "$build/build2.log"; fail "dpkg-buildpackage of the upgrade"; }
deb2="$build/v2/pyexec_${version2}_${arch}.deb"
check test -s "$deb2"

# ------------------------------------------------------------- install

step "root file system (rootfs.sh) and boot"
tar=$("$here/rootfs.sh")
"$ctr" boot "$root" --tar "$tar"
"$ctr" wait-ready "$root" 120

step "apt-get install ./pyexec_${version}_${arch}.deb"
"$ctr" push "$root" "$deb1" "/var/tmp/${deb1##*/}"
"$ctr" push "$root" "$deb2" "/var/tmp/${deb2##*/}"
"$ctr" push "$root" "$here/guest-examples.sh" /var/tmp/guest-examples.sh
# The cached root has every dependency, so no network is needed; if the
# package gained one since, fetch it through the host's network.
if ! g apt-get install -y -q "/var/tmp/${deb1##*/}" >"$run_dir/install.log" 2>&1; then
    echo "   offline install failed; retrying with the host's network"
    "$ctr" exec --host-net "$root" -- apt-get update -q >/dev/null
    "$ctr" exec --host-net "$root" -- apt-get install -y -q "/var/tmp/${deb1##*/}" ||
        fail "apt-get install"
fi
check pkg_installed

step "installed: socket and service enabled and running"
check g systemctl is-enabled --quiet pyexec.socket
check g systemctl is-enabled --quiet pyexec.service
check wait_for 30 g systemctl is-active --quiet pyexec.socket
check wait_for 30 g systemctl is-active --quiet pyexec.service
# shellcheck disable=SC2016 # expanded in the guest
check test "$(g stat -c '%U:%G %a %F' /run/pyexec.sock)" = "root:www-data 660 socket"
check test "$(g stat -c '%U %a' /run/pyexec)" = "pyexec 700"
for f in /etc/pyexec/pyexec.conf /etc/nginx/conf.d/pyexec.conf \
    /etc/nginx/snippets/pyexec.conf /etc/nginx/sites-available/pyexec; do
    check g test -f "$f"
done
check g test ! -e /etc/nginx/sites-enabled/pyexec
# Every worker came up and passed its sandbox self-test under the unit.
check wait_for 30 workers_ready 8
# The service-wide ceilings are set (this guest has no cgroup controllers
# to enforce them; a real Debian 12 host does).
check test "$(g systemctl show -P TasksMax pyexec.service)" = 512
[ "$(g systemctl show -P MemoryMax pyexec.service)" != infinity ] || fail "MemoryMax is not set"

step "admin key: root's alone, handed over as a credential, nowhere else"
check test "$(g stat -c '%U:%G %a' /etc/pyexec/admin.key)" = "root:root 600"
key=$(g cat /etc/pyexec/admin.key)
check test "${#key}" -ge 32
for f in /lib/systemd/system/pyexec.service /lib/systemd/system/pyexec.socket \
    /etc/pyexec/pyexec.conf; do
    if g grep -qF "$key" "$f"; then fail "the admin key is in $f"; fi
done
if g systemctl show pyexec.service | grep -qF "$key"; then fail "the admin key is in the unit's properties"; fi
# The service's copy: the credential, not world-readable.
check test "$(g cat /run/credentials/pyexec.service/admin.key)" = "$key"
check test "$(g stat -c '%A' /run/credentials/pyexec.service/admin.key | cut -c8-10)" = "---"
# The workers' view: the user pyexec, no capabilities, no new privileges,
# seccomp on, and no way to read the key file itself.
wpid=$(g pgrep -u pyexec -n pyexec-fcgi)
status=$(g cat "/proc/$wpid/status")
grep -qE '^CapEff:[[:space:]]+0+$' <<<"$status" || fail "worker has effective capabilities"
grep -qE '^CapBnd:[[:space:]]+0+$' <<<"$status" || fail "worker has a capability bounding set"
grep -qE '^NoNewPrivs:[[:space:]]+1$' <<<"$status" || fail "worker lacks no_new_privs"
grep -qE '^Seccomp:[[:space:]]+2$' <<<"$status" || fail "worker runs without seccomp"
if g setpriv --reuid pyexec --regid pyexec --clear-groups cat /etc/pyexec/admin.key >/dev/null 2>&1; then
    fail "the pyexec user can read /etc/pyexec/admin.key"
fi
# LimitNOFILE=: set in the unit, and the workers' soft fd limit is the
# hard one (which systemd caps at its own: a container may have less).
check test "$(g systemctl show -P LimitNOFILE pyexec.service)" = 524288
nofile=$(g awk '/^Max open files/ {print $4 " " $5}' "/proc/$wpid/limits")
check test "${nofile% *}" = "${nofile#* }"

step "per-slot uids: the package made a range, pyexec-uidmap maps it"
check g grep -q '^pyexec:[0-9]*:65536$' /etc/subuid
check g grep -q '^pyexec:[0-9]*:65536$' /etc/subgid
check test "$(g stat -c '%U:%G %a %F' /run/pyexec-uidmap.sock)" = "root:pyexec 660 socket"
check g systemctl is-active --quiet pyexec-uidmap.service
base=$(g awk -F: '$1 == "pyexec" {print $2}' /etc/subuid)
# (Read whole first: grep -q closing the pipe early fails it under pipefail.)
jlog=$(g journalctl -u pyexec --no-pager)
grep -q "per-slot uids: runs get host uids $base-" <<<"$jlog" ||
    fail "the workers do not use the range starting at $base"

step "systemd-analyze security --offline=true pyexec.service"
g systemd-analyze security --offline=true --no-pager /lib/systemd/system/pyexec.service \
    >"$run_dir/security.txt" 2>&1 || true
grep -E '^✗' "$run_dir/security.txt" | sed 's/^/   /'
score=$(sed -n 's/.*Overall exposure level for pyexec.service: \([0-9.]*\).*/\1/p' "$run_dir/security.txt")
echo "   overall exposure: ${score:-?} (limit $max_exposure)"
check test -n "$score"
awk -v s="$score" -v m="$max_exposure" 'BEGIN { exit !(s <= m) }' ||
    fail "exposure $score is worse than $max_exposure"

# ------------------------------------------------------------- serve

step "configure as an operator: public rate limits raised for the test"
# The defaults (5 requests a minute, 30 a day per client address) would
# refuse most of the examples below, which all come from 127.0.0.1.
g sed -i -e 's/^#rate_limit_per_minute = .*/rate_limit_per_minute = 100000/' \
    -e 's/^#daily_quota = .*/daily_quota = 100000000/' /etc/pyexec/pyexec.conf
check test "$(g grep -c '^rate_limit_per_minute = 100000$\|^daily_quota = 100000000$' /etc/pyexec/pyexec.conf)" = 2
check g pyexec-fcgi -t -c /etc/pyexec/pyexec.conf
g systemctl restart pyexec.service
check wait_for 30 workers_ready 8

step "enable the nginx site, start nginx and the service"
g ln -s ../sites-available/pyexec /etc/nginx/sites-enabled/pyexec
check g nginx -t -q
g systemctl start nginx.service pyexec.socket pyexec.service
g systemctl reload-or-restart nginx.service
check g systemctl is-active --quiet nginx.service
# The name in Debian's snakeoil certificate, to verify it.
cert_name=$(g openssl x509 -in /etc/ssl/certs/ssl-cert-snakeoil.pem -noout -subject -nameopt multiline |
    sed -n 's/^ *commonName *= *//p')
check test -n "$cert_name"
curl_g() {
    g curl -sS --max-time 60 --cacert /etc/ssl/certs/ssl-cert-snakeoil.pem \
        --resolve "$cert_name:443:127.0.0.1" "$@"
}
check wait_for 30 curl_g -f "https://$cert_name/healthz"

step "README examples over HTTPS (curl in the guest)"
g bash /var/tmp/guest-examples.sh "$cert_name"

# A script that names itself, so that a run in progress is told from an
# idle worker's pre-built jail (JSON's \u0027 is a quote: none survives
# the shell quoting here).
BUSY='open(\u0027/proc/self/comm\u0027, \u0027w\u0027).write(\u0027pyexec-busy\u0027)'
jail_busy() { g pgrep -x pyexec-busy >/dev/null; }
# Mount points of workers that are gone (names carry the worker's pid).
stale_jails() {
    g sh -c 'for d in /run/pyexec/jail.*; do [ -e "$d" ] || continue; p=${d#/run/pyexec/jail.}; p=${p%%.*}; [ "$(cat /proc/$p/comm 2>/dev/null)" = pyexec-fcgi ] || echo "$d"; done'
}

step "a worker killed mid-run: respawned, and its mount point gone at restart"
pids_before=$(service_pids)
g sh -c "curl -sS --max-time 60 --cacert /etc/ssl/certs/ssl-cert-snakeoil.pem \
    --resolve '$cert_name:443:127.0.0.1' https://$cert_name/execute \
    -H 'Content-Type: application/json' \
    -d '{\"code\": \"$BUSY\nimport time\ntime.sleep(30)\"}' >/dev/null 2>&1 &"
check wait_for 20 jail_busy
# The worker running it is the parent of the jail's init, the script's
# parent (idle workers hold pre-built jails too: they run no script).
busy=$(g sh -c 'k=$(pgrep -x pyexec-busy | head -n 1); i=$(ps -o ppid= -p "$k" | tr -d " "); ps -o ppid= -p "$i"' | tr -d ' ')
check test -n "$busy"
g kill -KILL "$busy"
check wait_for 20 sh -c "[ \$('$ctr' exec '$root' -- pgrep -c -u pyexec -x pyexec-fcgi) -ge 8 ]"
check curl_g -fo /dev/null "https://$cert_name/healthz"
echo "   left by the crash: $(g sh -c 'ls -d /run/pyexec/jail.* 2>/dev/null | wc -l') empty jail directory"

step "systemctl restart pyexec: the run in progress and a request sent meanwhile are answered"
main_before=$(g systemctl show -P MainPID pyexec.service)
post_g() { # post_g CODE OUTFILE: POST /execute in the background, in the guest
    g sh -c "curl -sS --max-time 60 --cacert /etc/ssl/certs/ssl-cert-snakeoil.pem \
        --resolve '$cert_name:443:127.0.0.1' https://$cert_name/execute \
        -H 'Content-Type: application/json' -d '{\"code\": \"$1\"}' >$2 2>&1 &"
}
g rm -f /var/tmp/restart-1.json /var/tmp/restart-2.json
post_g "$BUSY"'\nimport time\ntime.sleep(2)\nprint(6 * 7)' /var/tmp/restart-1.json
check wait_for 20 jail_busy
# The second request arrives while the old workers are still stopping.
(sleep 0.5; post_g 'print(7 * 6)' /var/tmp/restart-2.json) &
g systemctl restart pyexec.service
wait
check g systemctl is-active --quiet pyexec.service
main_after=$(g systemctl show -P MainPID pyexec.service)
check test "$main_before" != "$main_after"
for f in /var/tmp/restart-1.json /var/tmp/restart-2.json; do
    if ! wait_for 60 g grep -q '"stdout":"42\\n"' "$f"; then
        g cat "$f"; echo; fail "$f: no answer 42"
    fi
done
check wait_for 30 workers_ready 8
[ -z "$(stale_jails)" ] || fail "jail directories survived the restart: $(stale_jails)"
check g bash /var/tmp/guest-examples.sh "$cert_name" >/dev/null
[ "$pids_before" != "$(service_pids)" ] || fail "no process was replaced"

# ------------------------------------------------------------- upgrade, remove, purge

step "upgrade: apt-get install ./pyexec_${version2}_${arch}.deb"
main_before=$(g systemctl show -P MainPID pyexec.service)
g apt-get install -y -q "/var/tmp/${deb2##*/}" >>"$run_dir/install.log" 2>&1 ||
    { tail -n 20 "$run_dir/install.log"; fail "apt-get install of the upgrade"; }
check test "$(g dpkg-query -W -f='${Version}' pyexec)" = "$version2"
check wait_for 30 g systemctl is-active --quiet pyexec.service
main_after=$(g systemctl show -P MainPID pyexec.service)
[ "$main_before" != "$main_after" ] || fail "the service was not restarted by the upgrade"
check test "$(g cat /etc/pyexec/admin.key)" = "$key"
check g grep -q '^rate_limit_per_minute = 100000$' /etc/pyexec/pyexec.conf
check g bash /var/tmp/guest-examples.sh "$cert_name" >/dev/null

step "apt-get remove: stopped, configuration kept, nginx still up"
g apt-get remove -y -q pyexec >>"$run_dir/install.log" 2>&1 || fail "apt-get remove"
if g systemctl is-active --quiet pyexec.service; then fail "service still active"; fi
if g systemctl is-active --quiet pyexec.socket; then fail "socket still active"; fi
check wait_for 20 sh -c "[ -z \"\$('$ctr' exec '$root' -- pgrep -u pyexec)\" ]"
check g test ! -e /run/pyexec.sock
for f in /etc/pyexec/pyexec.conf /etc/pyexec/admin.key /etc/nginx/sites-available/pyexec \
    /etc/nginx/snippets/pyexec.conf /etc/nginx/conf.d/pyexec.conf; do
    check g test -f "$f"
done
check g nginx -t -q
check g systemctl is-active --quiet nginx.service
# nginx answers for the missing workers with its own JSON error.
check test "$(curl_g -o /dev/null -w '%{http_code}' "https://$cert_name/healthz")" = 503

step "apt-get purge: configuration, key and state gone, nothing running"
g apt-get purge -y -q pyexec >>"$run_dir/install.log" 2>&1 || fail "apt-get purge"
check test "$(g dpkg-query -W -f='${Status}' pyexec 2>/dev/null || true)" != "install ok installed"
for f in /etc/pyexec /var/lib/pyexec /run/pyexec /run/pyexec.sock \
    /etc/nginx/conf.d/pyexec.conf /etc/nginx/snippets/pyexec.conf \
    /etc/nginx/sites-available/pyexec /etc/nginx/sites-enabled/pyexec \
    /lib/systemd/system/pyexec.service /lib/systemd/system/pyexec.socket \
    /etc/systemd/system/multi-user.target.wants/pyexec.service \
    /etc/systemd/system/sockets.target.wants/pyexec.socket; do
    if g test -e "$f" || g test -L "$f"; then fail "$f is left after purge"; fi
done
check test "$(g systemctl show -P LoadState pyexec.service)" = not-found
if g pgrep -a -f 'pyexec-fcgi|multiwatch'; then fail "pyexec processes left"; fi
check g nginx -t -q
check g systemctl is-active --quiet nginx.service

# ------------------------------------------------------------- teardown

step "shutdown and teardown"
if [ "$keep" = 1 ]; then
    "$ctr" shutdown "$root" 60
else
    "$ctr" destroy "$root" 60
fi
torn_down=1
passed=1
echo "   ($((SECONDS - step_t))s)"
