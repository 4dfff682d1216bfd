#!/bin/bash
# The VM test: the pyexec package on a booted Debian 12 (its own kernel,
# linux-image-amd64, and systemd on the unified cgroup v2 hierarchy), which
# the package test's container cannot give (this host mounts cgroup v1
# controllers, so no guest of it has v2 controllers).
#   1. build the .deb from this tree (dpkg-buildpackage -us -uc -b; lintian
#      is the package test's job);
#   2. make or reuse the VM image (vm-image.sh) and boot it in QEMU on a
#      throw-away copy-on-write overlay, with no network at all: the .deb
#      and the checks (guest-vm.py) come in on a 9p share, the results go
#      back on it, and the VM powers itself off;
#   3. print the guest's report; PASS only if every check passed.
# Prints "test-vm: PASS (N s)" or "test-vm: FAIL at step: ...".  Needs root.
#
#   tests/package/test-vm.sh [--keep]     (--keep: leave the run directory)
#
# Environment: PKGTEST_VM_TIMEOUT (seconds the VM may run, default 2400),
# PKGTEST_VM_SMP (default 2), PKGTEST_VM_MEM (default 2048, MiB),
# PKGTEST_VM_ACCEL (default: kvm if /dev/kvm is usable, else tcg), plus
# those of rootfs.sh.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

keep=0
[ "${1:-}" = --keep ] && keep=1
[ "$(id -u)" = 0 ] || { echo "test-vm: FAIL (must run as root)"; exit 1; }
vm_timeout=${PKGTEST_VM_TIMEOUT:-2400}
smp=${PKGTEST_VM_SMP:-2}
mem=${PKGTEST_VM_MEM:-2048}
if [ -z "${PKGTEST_VM_ACCEL:-}" ]; then
    if [ -w /dev/kvm ]; then accel=kvm; else accel=tcg; fi
else
    accel=$PKGTEST_VM_ACCEL
fi

run_dir=$(mktemp -d /var/tmp/pyexec-vmtest.XXXXXX)
share="$run_dir/share"
current=setup
passed=0
qemu_pid=
t_start=$SECONDS

finish() {
    local rc=$?
    trap - EXIT INT TERM HUP
    set +e
    if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
        kill "$qemu_pid"; sleep 2; kill -9 "$qemu_pid" 2>/dev/null
        wait "$qemu_pid" 2>/dev/null
    fi
    if [ "$passed" != 1 ] && [ -f "$run_dir/console.log" ]; then
        echo "--- VM console (last 40 lines)"
        tail -n 40 "$run_dir/console.log" | sed 's/^/   /'
    fi
    if [ "$keep" = 0 ]; then
        rm -rf --one-file-system "$run_dir"
    else
        echo "kept: $run_dir"
    fi
    if [ "$rc" = 0 ] && [ "$passed" = 1 ]; then
        echo "test-vm: PASS ($((SECONDS - t_start))s)"
    else
        echo "test-vm: FAIL at step: $current ($((SECONDS - t_start))s)"
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
fail() { echo "check failed: $*"; exit 1; }

step "tools: qemu-system-x86, qemu-utils, dpkg-dev, debhelper"
need=()
for p in qemu-system-x86 qemu-utils dpkg-dev debhelper debootstrap; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
export DEBIAN_FRONTEND=noninteractive
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi

step "dpkg-buildpackage -us -uc -b"
build="$run_dir/build"
mkdir -p "$build/src" "$share"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard) |
    (cd "$repo" && while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done) |
    tar -C "$repo" --null -T - -cf - | tar -C "$build/src" -xf -
if ! (cd "$build/src" && dpkg-checkbuilddeps) >/dev/null 2>&1; then
    apt-get build-dep -y -q "$build/src" >/dev/null
fi
(cd "$build/src" && dpkg-buildpackage -us -uc -b) >"$build/build.log" 2>&1 ||
    { tail -n 40 "$build/build.log"; fail "dpkg-buildpackage (log: $build/build.log)"; }
deb=$(ls "$build"/pyexec_*.deb)
cp "$deb" "$share/pyexec.deb"
cp "$here/guest-vm.py" "$share/guest-vm.py"
printf '#!/bin/bash\nexec python3 /mnt/host/guest-vm.py\n' >"$share/guest-vm.sh"
echo $((vm_timeout - 60)) >"$share/timeout"

step "VM image (vm-image.sh)"
img=$("$here/vm-image.sh")
qemu-img create -q -f qcow2 -b "$img/disk.img" -F raw "$run_dir/overlay.qcow2"

step "boot Debian 12 in QEMU ($accel, $smp CPUs, $mem MiB) and run the checks"
t_vm=$SECONDS
# No network device at all; the only way in or out is the 9p share.
timeout --kill-after=10 "$vm_timeout" qemu-system-x86_64 \
    -machine q35,accel="$accel" -cpu max -smp "$smp" -m "$mem" \
    -nodefaults -display none -no-reboot -nic none \
    -kernel "$img/vmlinuz" -initrd "$img/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0 systemd.unified_cgroup_hierarchy=1 panic=-1 quiet" \
    -drive file="$run_dir/overlay.qcow2",if=virtio,format=qcow2,cache=unsafe \
    -virtfs local,path="$share",mount_tag=host,security_model=none,id=host \
    -serial file:"$run_dir/console.log" &
qemu_pid=$!
wait "$qemu_pid" || echo "   qemu exited with status $?"
qemu_pid=
echo "   the VM ran $((SECONDS - t_vm))s"

step "the guest's report"
[ -f "$share/guest.log" ] || fail "the guest wrote no report (see the console)"
sed 's/^/   /' "$share/guest.log"
[ -f "$share/security.txt" ] &&
    grep -E 'Overall exposure' "$share/security.txt" | sed 's/^/   /'
grep -q '^vm-test: PASS' "$share/guest.log" || fail "checks failed in the guest"
[ "$(cat "$share/guest.rc" 2>/dev/null)" = 0 ] || fail "the guest's checks exited non-zero"
passed=1
