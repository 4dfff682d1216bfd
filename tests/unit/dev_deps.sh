#!/bin/sh
# dev_deps.sh: dev.sh's two package lists (TAP, run by `make check`).
# `./dev.sh run` installs only what building and serving need; `./dev.sh
# test` (what CI runs on a fresh Debian 12) installs that and everything
# the tests need, so nothing may be lost from the test list, and no
# test-only tool may creep into the run list.
set -u
top=${srcdir:-.}
dev="$top/dev.sh"
n=0
fail=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

result() {	# result OK|FAIL description [details]
	n=$((n + 1))
	if [ "$1" = OK ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		[ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/# /'
		fail=$((fail + 1))
	fi
}
check() {	# check DESCRIPTION MISSING-LIST
	if [ -z "$2" ]; then result OK "$1"; else result FAIL "$1" "$2"; fi
}
missing_from() {	# names (stdin) not in the file $1
	while read -r p; do
		[ -n "$p" ] && ! grep -qxF "$p" "$1" && echo "$p"
	done
	return 0
}

# Only the test suites need these.
TEST_ONLY="valgrind clang libclang-rt-14-dev strace lintian debootstrap debhelper
dh-python chromium chromium-driver python3-selenium python3-jsonschema
python3-venv python3-pip libfcgi-bin sqlite3 python3-httpx"
# Building and serving need these.
RUN_NEEDS="build-essential autoconf automake pkgconf libfcgi-dev
libjson-c-dev libseccomp-dev libbsd-dev libsqlite3-dev python3-dev nginx
spawn-fcgi multiwatch openssl python3 python3-numpy python3-pil"
# configure.ac's pkg-config modules -> the Debian package with the .pc.
pc_package() {
	case "$1" in
	json-c) echo libjson-c-dev ;;
	libseccomp) echo libseccomp-dev ;;
	libbsd-overlay) echo libbsd-dev ;;
	sqlite3) echo libsqlite3-dev ;;
	python3-embed) echo python3-dev ;;
	*) echo "UNKNOWN-pkg-config-module-$1" ;;
	esac
}

echo "1..7"
if ! bash "$dev" print-deps run >"$tmp/run" 2>"$tmp/err" ||
    ! bash "$dev" print-deps test >"$tmp/test" 2>>"$tmp/err" ||
    [ ! -s "$tmp/run" ] || [ ! -s "$tmp/test" ]; then
	for i in 1 2 3 4 5 6 7; do
		result FAIL "dev.sh print-deps run|test" "$(cat "$tmp/err")"
	done
	exit 1
fi
result OK "dev.sh prints both lists"

check "the run list is part of the test list" \
    "$(missing_from "$tmp/test" <"$tmp/run")"

bad=""
for p in $TEST_ONLY; do
	grep -qxF "$p" "$tmp/run" && bad="$bad $p"
done
check "no test-only tool in the run list" "$bad"

check "the test list has every test tool" \
    "$(printf '%s\n' $TEST_ONLY | missing_from "$tmp/test")"

check "the run list has what building and serving need" \
    "$(printf '%s\n' $RUN_NEEDS | missing_from "$tmp/run")"

mods=$(sed -n 's/^PKG_CHECK_MODULES(\[[A-Z_]*\], *\[\([^] >=]*\).*/\1/p' \
    "$top/configure.ac")
pkgs=$(for m in $mods; do pc_package "$m"; done)
check "every pkg-config module of configure.ac ($(echo $mods)) is in the run list" \
    "$(printf '%s\n' $pkgs | missing_from "$tmp/run")"

dups=$(sort "$tmp/test" | uniq -d)
check "no package listed twice" "$dups"

[ "$fail" -eq 0 ]
