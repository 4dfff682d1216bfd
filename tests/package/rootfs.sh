#!/bin/bash
# Create (or reuse from the cache) a minimal Debian 12 (bookworm) root for
# the package tests, packed as an uncompressed tar, and print its path.
#
#   tests/package/rootfs.sh [--force]
#
# The root is made by debootstrap --variant=minbase from the Debian
# archive that the host's own apt sources name (never a hard-coded host),
# with systemd as init and the packages the pyexec .deb needs preinstalled,
# so that a later `apt install ./pyexec_*.deb` in the root does not have to
# download anything in the common case.  The host's Debian apt sources are
# copied into the root so that apt there can still resolve Depends.
#
# Cache: $PKGTEST_CACHE_DIR (default /var/cache/pyexec-test) holds
# bookworm-rootfs-<key>.tar, where <key> hashes the recipe, mirror, package
# list and copied apt sources; bookworm-rootfs.tar links to the newest one.
# A tarball older than PKGTEST_ROOTFS_MAX_AGE_DAYS (default 14, 0 = never)
# is rebuilt so that the preinstalled packages do not go stale.
#
# Environment: PKGTEST_CACHE_DIR, PKGTEST_EXTRA_PACKAGES (space separated,
# added to the preinstalled list), PKGTEST_ROOTFS_MAX_AGE_DAYS.
#
# Only the build directory inside the cache dir is written; the host's
# /etc/apt is only read (debootstrap is installed with apt-get if missing).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

# Bump when the recipe below changes in a way that should invalidate caches.
RECIPE_VERSION=1

# debootstrap stage: what is needed to boot systemd and run apt/dpkg.
BASE_PACKAGES="systemd,systemd-sysv,dbus,ca-certificates,curl,adduser,procps,iproute2"
# Installed with apt afterwards (better dependency resolution than
# debootstrap's --include): the service's runtime dependencies and the web
# front end, plus openssl/ssl-cert for the HTTPS test certificate.
read -ra EXTRA_PACKAGES <<<"nginx spawn-fcgi multiwatch libfcgi0ldbl libjson-c5 libseccomp2 libbsd0 libsqlite3-0 python3 python-is-python3 python3-numpy python3-pil python3-reportlab python3-matplotlib openssl ssl-cert ${PKGTEST_EXTRA_PACKAGES:-}"
MAX_AGE_DAYS=${PKGTEST_ROOTFS_MAX_AGE_DAYS:-14}

force=0
case "${1:-}" in
    --force) force=1 ;;
    "") ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1" ;;
esac

[ "$(id -u)" = 0 ] || die "must run as root"

mirror_line=$(host_debian_mirror) ||
    die "no '$PKGTEST_SUITE' main entry for the Debian archive in the host's apt sources"
MIRROR=${mirror_line%%$'\t'*}
KEYRING=${mirror_line#*$'\t'}
[ "$KEYRING" != "-" ] || KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$KEYRING" ] || die "keyring $KEYRING not readable"
ARCH=$(dpkg --print-architecture)

# The apt source files copied into the root: the host's active ones whose
# keyring (if they name one) the root will also have.  Third-party
# repositories signed by keys the root lacks are left out.
copy_sources=()
while IFS= read -r f; do
    skip=0
    while IFS= read -r kr; do
        case "$kr" in /usr/share/keyrings/debian-archive-*) ;; *) skip=1 ;; esac
    done < <(grep -ohiE '(signed-by[:=][[:space:]]*)[^][:space:]]+' "$f" | sed -E 's/^[Ss]igned-[Bb]y[:=][[:space:]]*//')
    if [ "$skip" = 1 ]; then log "not copying $f (needs a keyring the root lacks)"; continue; fi
    copy_sources+=("$f")
done < <(apt_source_files)
[ "${#copy_sources[@]}" -gt 0 ] || die "no host apt source file to copy"

key=$( {
    echo "recipe=$RECIPE_VERSION suite=$PKGTEST_SUITE arch=$ARCH mirror=$MIRROR"
    echo "base=$BASE_PACKAGES"
    echo "extra=$(printf '%s\n' "${EXTRA_PACKAGES[@]}" | sort -u | tr '\n' ' ')"
    for f in "${copy_sources[@]}"; do echo "== $f"; cat "$f"; done
} | sha256sum | cut -c1-16)

mkdir -p "$PKGTEST_CACHE_DIR"
tarball="$PKGTEST_CACHE_DIR/$PKGTEST_SUITE-rootfs-$key.tar"
link="$PKGTEST_CACHE_DIR/$PKGTEST_SUITE-rootfs.tar"

# One builder at a time; a second caller waits and then reuses the result.
exec 9>"$PKGTEST_CACHE_DIR/.lock"
flock 9

if [ "$force" = 0 ] && [ -s "$tarball" ]; then
    if [ "$MAX_AGE_DAYS" = 0 ] || [ -z "$(find "$tarball" -mtime "+$MAX_AGE_DAYS" -print)" ]; then
        log "reusing cached root $tarball"
        ln -sfn "${tarball##*/}" "$link"
        printf '%s\n' "$tarball"
        exit 0
    fi
    log "cached root $tarball is older than $MAX_AGE_DAYS days: rebuilding"
fi

if ! command -v debootstrap >/dev/null; then
    log "installing debootstrap"
    apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >&2
fi

build=$(mktemp -d "$PKGTEST_CACHE_DIR/build.XXXXXX")
root="$build/root"
cleanup() {
    local rc=$?
    # debootstrap mounts proc/sys in the target itself and normally
    # unmounts them; make sure nothing is left before deleting.
    if findmnt -rn -o TARGET | grep -qF "$build/"; then
        findmnt -rn -o TARGET | grep -F "$build/" | sort -r | while IFS= read -r m; do
            umount "$m" 2>/dev/null || umount -l "$m" || true
        done
    fi
    rm -rf --one-file-system "$build"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

t0=$(date +%s)
log "debootstrap $PKGTEST_SUITE from $MIRROR (minbase + $BASE_PACKAGES)"
debootstrap --variant=minbase --arch="$ARCH" --keyring="$KEYRING" \
    --include="$BASE_PACKAGES" "$PKGTEST_SUITE" "$root" "$MIRROR" \
    >"$build/debootstrap.log" 2>&1 || {
    tail -n 40 "$build/debootstrap.log" >&2
    [ -f "$root/debootstrap/debootstrap.log" ] && tail -n 40 "$root/debootstrap/debootstrap.log" >&2
    die "debootstrap failed"
}
t1=$(date +%s)
log "debootstrap took $((t1 - t0))s"

# apt sources: the host's, instead of debootstrap's one-line sources.list.
rm -f "$root/etc/apt/sources.list"
for f in "${copy_sources[@]}"; do
    case "$f" in
    "$PKGTEST_APT_ETC/sources.list") cp "$f" "$root/etc/apt/sources.list" ;;
    *) cp "$f" "$root/etc/apt/sources.list.d/" ;;
    esac
done

# Keep the root small: no docs, man pages or translations.
cat >"$root/etc/dpkg/dpkg.cfg.d/01-pkgtest-nodoc" <<'CFG'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
CFG
cat >"$root/etc/apt/apt.conf.d/90pkgtest" <<'CFG'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
Dpkg::Use-Pty "false";
CFG

# Second stage in a private mount namespace so nothing is mounted on the
# host.  policy-rc.d keeps maintainer scripts from starting services in the
# chroot (there is no init there yet).
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$root/etc/resolv.conf"
log "installing: ${EXTRA_PACKAGES[*]}"
# shellcheck disable=SC2016 # expanded by the inner shell
unshare --mount --propagation private -- /bin/sh -ec '
    root=$1; shift
    mount -t proc proc "$root/proc"
    mount -t tmpfs tmpfs "$root/tmp"
    chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
        DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 /bin/sh -ec "
            apt-get update -q
            apt-get install -y -q $*
            apt-get clean
    "
' sh "$root" "${EXTRA_PACKAGES[@]}" >"$build/apt.log" 2>&1 || {
    tail -n 40 "$build/apt.log" >&2
    die "installing the extra packages failed"
}
rm -f "$root/usr/sbin/policy-rc.d"
t2=$(date +%s)
log "package installation took $((t2 - t1))s"

# Container-friendly configuration.
: >"$root/etc/machine-id"          # filled per boot by container.sh
rm -f "$root/var/lib/dbus/machine-id"
echo pyexec-test >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost pyexec-test\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
: >"$root/etc/resolv.conf"         # no DNS inside the loopback-only netns
# No consoles to log in on: the guest's /dev/console is a log file.
for u in console-getty.service getty@.service serial-getty@.service getty.target; do
    ln -sfn /dev/null "$root/etc/systemd/system/$u"
done
printf '%s\n' "$key" >"$root/etc/pyexec-test-root"

tar --numeric-owner --xattrs --xattrs-include='*' --acls -C "$root" -cf "$build/root.tar" .
mv -f "$build/root.tar" "$tarball"
ln -sfn "${tarball##*/}" "$link"
# Prune cached roots of other recipes that have not been rebuilt for a while.
find "$PKGTEST_CACHE_DIR" -maxdepth 1 -name "$PKGTEST_SUITE-rootfs-*.tar" ! -name "${tarball##*/}" \
    -mtime +"${MAX_AGE_DAYS/#0/30}" -delete 2>/dev/null || true
t3=$(date +%s)
log "root ready: $tarball ($(du -h "$tarball" | cut -f1)), total $((t3 - t0))s"
printf '%s\n' "$tarball"
