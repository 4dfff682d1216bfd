#!/usr/bin/env bash
# dev.sh: the two set-up commands of the README, for a fresh Debian 12
# machine, as root.
#
#   ./dev.sh run    install what is needed, build, serve the API on
#                   https://127.0.0.1:8443 until Ctrl-C (PYEXEC_PORT,
#                   PYEXEC_CONFIG and PYEXEC_WORKERS change the defaults)
#   ./dev.sh test   install, build, run every test; the last line is
#                   "N passed, N failed", and the exit status is non-zero
#                   on any failure. Arguments go to tests/run.py:
#                   --suite unit,sanitize,valgrind,fuzz,integration,escape,
#                   soak,leftovers,package (a subset), --only NAME, --modes exec
#
# Other steps, for developers: deps (install only), build (into ./build),
# test-package (the Debian package's install test alone), test-vm (the
# package in a QEMU VM of Debian 12 with cgroup v2; opt-in, see README). The sanitizer
# build (clang, ASan, UBSan) of the unit tests and the fuzzers lives in
# ./build-fuzz and is made by `test` (suites sanitize and fuzz).
set -euo pipefail
cd "$(dirname "$0")"
REPO=$PWD
PY=/usr/bin/python3

# Debian packages the build, the service and the tests need.
DEPS=(
	build-essential autoconf automake pkgconf
	libfcgi-dev libfcgi-bin libjson-c-dev libseccomp-dev libbsd-dev
	libsqlite3-dev sqlite3
	nginx spawn-fcgi multiwatch openssl curl ca-certificates
	python3 python3-numpy python3-pil python3-reportlab python3-matplotlib
	# valgrind; clang and its ASan/UBSan/libFuzzer runtimes (build-fuzz);
	# strace (test_reply_atomic counts the writes of a reply).
	valgrind clang libclang-rt-14-dev strace
	# The Debian package and its install test (tests/package).
	debhelper lintian debootstrap dh-python
	# The playground in a real browser, the OpenAPI check, the client.
	chromium chromium-driver python3-selenium python3-jsonschema python3-venv
	python3-pip
)

log() { printf '==> %s\n' "$*" >&2; }

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "dev.sh: run as root (it installs packages and starts nginx)" >&2
		exit 2
	fi
}

deps() {
	need_root
	local missing=() p
	for p in "${DEPS[@]}"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q 'install ok installed'; then
			missing+=("$p")
		fi
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing: ${missing[*]}"
	# Never let a package install start a system service (nginx would
	# take port 80): add a deny-all policy-rc.d unless one exists.
	local policy=/usr/sbin/policy-rc.d added=0
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' > "$policy"
		chmod 755 "$policy"
		added=1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
	[ "$added" -eq 1 ] && rm -f "$policy"
	return 0
}

build() {
	log "building"
	if [ ! -x configure ] || [ configure.ac -nt configure ] ||
	    [ Makefile.am -nt configure ]; then
		autoreconf -fi
	fi
	mkdir -p build
	if [ ! -f build/Makefile ] || [ configure -nt build/Makefile ]; then
		(cd build && ../configure --enable-werror -q)
	fi
	make -C build -j"$(nproc)" -s
}

cmd_run() {
	deps
	build
	local args=(run --port "${PYEXEC_PORT:-8443}")
	[ -n "${PYEXEC_CONFIG:-}" ] && args+=(--config "$PYEXEC_CONFIG")
	[ -n "${PYEXEC_WORKERS:-}" ] && args+=(--workers "$PYEXEC_WORKERS")
	exec "$PY" tests/harness/stack.py "${args[@]}"
}

cmd_test() {
	deps
	build
	exec "$PY" tests/run.py "$@"
}

# Only the Debian package's install test (also part of `test`).
cmd_test_package() {
	deps
	exec tests/package/test-package.sh "$@"
}

# The package on a booted Debian 12 VM (cgroup v2); not part of `test`.
cmd_test_vm() {
	deps
	exec tests/package/test-vm.sh "$@"
}

case "${1:-}" in
run) shift; cmd_run "$@" ;;
test-vm) shift; cmd_test_vm "$@" ;;
test) shift; cmd_test "$@" ;;
test-package) shift; cmd_test_package "$@" ;;
deps) deps ;;
build) deps; build ;;
*)
	echo "usage: ./dev.sh run | test [--suite S,...] [--only PATTERN] | test-package | test-vm | deps | build" >&2
	exit 2
	;;
esac
