#!/bin/bash
# Create (or reuse from the cache) a bootable disk image of Debian 12 for
# the VM test (test-vm.sh), and print the directory holding it:
#   disk.img     raw ext4 file system (no partition table), the root
#   vmlinuz      Debian 12's own kernel (linux-image-amd64), booted by
#   initrd.img   QEMU directly with -kernel/-initrd (no boot loader)
#
#   tests/package/vm-image.sh [--force]
#
# It starts from the package test's cached root (rootfs.sh: debootstrap
# --variant=minbase plus every dependency of the .deb), installs
# linux-image-amd64 into it with apt from the same Debian mirror, and adds
# one boot-time unit, pyexec-vmtest.service, which mounts the host's 9p
# share (mount tag "host") at /mnt/host, runs /mnt/host/guest-vm.sh with
# its output in /mnt/host/guest.log, and powers the VM off.  Everything
# the test does in the guest comes through that share, so the image does
# not change when the test does.  Cached in $PKGTEST_CACHE_DIR as
# bookworm-vm-<key>/ (key: the root's tarball and this recipe).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

RECIPE_VERSION=2
IMAGE_SIZE=4G

force=0
case "${1:-}" in
    --force) force=1 ;;
    "") ;;
    *) die "unknown argument: $1" ;;
esac
[ "$(id -u)" = 0 ] || die "must run as root"

tar=$("$here/rootfs.sh")
key=$( { echo "recipe=$RECIPE_VERSION size=$IMAGE_SIZE"; readlink -f "$tar"; } |
    sha256sum | cut -c1-16)
out="$PKGTEST_CACHE_DIR/$PKGTEST_SUITE-vm-$key"

exec 8>"$PKGTEST_CACHE_DIR/.vm-lock"
flock 8
if [ "$force" = 0 ] && [ -s "$out/disk.img" ] && [ -s "$out/vmlinuz" ] &&
    [ -s "$out/initrd.img" ]; then
    log "reusing cached VM image $out"
    printf '%s\n' "$out"
    exit 0
fi

build=$(mktemp -d "$PKGTEST_CACHE_DIR/vmbuild.XXXXXX")
root="$build/root"
cleanup() {
    local rc=$?
    if findmnt -rn -o TARGET | grep -qF "$build/"; then
        findmnt -rn -o TARGET | grep -F "$build/" | sort -r |
            while IFS= read -r m; do umount "$m" 2>/dev/null || umount -l "$m" || true; done
    fi
    rm -rf --one-file-system "$build"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

t0=$SECONDS
mkdir -p "$root"
tar -C "$root" --numeric-owner --xattrs --xattrs-include='*' --acls -xf "$tar"

# The kernel, from the Debian archive of the host's apt sources (through
# the host's network, as rootfs.sh installs the root's packages).
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# An initramfs with only what this VM needs (virtio disk, ext4): Debian's
# default (MODULES=most) copies every storage driver, which takes many
# minutes on a slow machine.
mkdir -p "$root/etc/initramfs-tools/conf.d"
echo MODULES=list >"$root/etc/initramfs-tools/conf.d/pyexec-vmtest"
printf 'virtio_pci\nvirtio_blk\next4\n' >>"$root/etc/initramfs-tools/modules"
log "installing linux-image-amd64 into the root"
# shellcheck disable=SC2016 # expanded by the inner shell
unshare --mount --propagation private -- /bin/sh -ec '
    root=$1
    mount -t proc proc "$root/proc"
    mount -t tmpfs tmpfs "$root/tmp"
    mount --bind /dev "$root/dev"
    chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
        DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 /bin/sh -ec "
            apt-get update -q
            apt-get install -y -q linux-image-amd64 initramfs-tools
            apt-get clean
    "
' sh "$root" >"$build/apt.log" 2>&1 || { tail -n 40 "$build/apt.log" >&2; die "installing the kernel failed"; }
rm -f "$root/usr/sbin/policy-rc.d"
: >"$root/etc/resolv.conf"

# A machine of its own now, not a container: a root file system to mount,
# a machine id made at first boot, the serial console for the log.
printf '/dev/vda / ext4 rw,errors=remount-ro 0 1\n' >"$root/etc/fstab"
rm -f "$root/etc/machine-id"
: >"$root/etc/machine-id"
printf '9p\n9pnet_virtio\n' >"$root/etc/modules-load.d/pyexec-vmtest.conf"
cat >"$root/usr/local/sbin/pyexec-vmtest" <<'SH'
#!/bin/sh
# Boot-time runner of the VM test: the test script and its results live on
# the host's 9p share; the VM powers itself off afterwards, whatever happens.
mkdir -p /mnt/host
if mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 host /mnt/host; then
    if [ -f /mnt/host/guest-vm.sh ]; then
        timeout "$(cat /mnt/host/timeout 2>/dev/null || echo 1800)" \
            /bin/bash /mnt/host/guest-vm.sh >/mnt/host/guest.log 2>&1
        echo "$?" >/mnt/host/guest.rc
    fi
    sync
    umount /mnt/host
fi
systemctl poweroff --no-block
SH
chmod 755 "$root/usr/local/sbin/pyexec-vmtest"
cat >"$root/etc/systemd/system/pyexec-vmtest.service" <<'UNIT'
[Unit]
Description=pyexec VM test (tests/package/test-vm.sh)
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/pyexec-vmtest
StandardOutput=journal+console
StandardError=journal+console
[Install]
WantedBy=multi-user.target
UNIT
ln -sfn /etc/systemd/system/pyexec-vmtest.service \
    "$root/etc/systemd/system/multi-user.target.wants/pyexec-vmtest.service"
# Nothing to wait for on a machine without network.
for u in systemd-networkd-wait-online.service apt-daily.timer apt-daily-upgrade.timer \
    man-db.timer e2scrub_all.timer fstrim.timer; do
    ln -sfn /dev/null "$root/etc/systemd/system/$u"
done

mkdir -p "$build/out"
cp "$(readlink -f "$root/vmlinuz")" "$build/out/vmlinuz"
cp "$(readlink -f "$root/initrd.img")" "$build/out/initrd.img"
log "making the ext4 image ($IMAGE_SIZE, sparse)"
mkfs.ext4 -q -F -L pyexec-vm -d "$root" "$build/out/disk.img" "$IMAGE_SIZE" >&2
rm -rf "$out"
mv "$build/out" "$out"
find "$PKGTEST_CACHE_DIR" -maxdepth 1 -name "$PKGTEST_SUITE-vm-*" ! -name "${out##*/}" \
    -mtime +30 -exec rm -rf {} + 2>/dev/null || true
log "VM image ready: $out ($((SECONDS - t0))s)"
printf '%s\n' "$out"
