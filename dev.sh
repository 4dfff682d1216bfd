#!/usr/bin/env bash
# dev.sh: the two set-up commands of the README, for a fresh Debian 12
# machine, as root.
#
#   ./dev.sh run    install what serving needs, build, serve the API on
#                   https://127.0.0.1:8443 until Ctrl-C (PYEXEC_PORT,
#                   PYEXEC_CONFIG and PYEXEC_WORKERS change the defaults)
#   ./dev.sh test   install that and what the tests need, build, run
#                   every test; the last line is
#                   "N passed, N failed", and the exit status is non-zero
#                   on any failure. Arguments go to tests/run.py:
#                   --suite unit,sanitize,valgrind,fuzz,integration,escape,
#                   soak,leftovers,package (a subset), --only NAME, --modes exec
#
# Other steps, for developers: deps [run|test] (install only; default
# test), print-deps run|test (the lists), build (into ./build),
# test-package (the Debian package's install test alone), test-vm (the
# package in a QEMU VM of Debian 12 with cgroup v2; opt-in, see README). The sanitizer
# build (clang, ASan, UBSan) of the unit tests and the fuzzers lives in
# ./build-fuzz and is made by `test` (suites sanitize and fuzz).
set -euo pipefail
cd "$(dirname "$0")"
REPO=$PWD
PY=/usr/bin/python3

# Debian packages, in two lists (tests/unit/dev_deps.sh checks them):
# `run` installs RUN_DEPS, `test` both. Nothing test-only goes in RUN_DEPS.
#
# What building and serving need.
RUN_DEPS=(
	# The build (configure's pkg-config modules; python3-embed is in
	# python3-dev).
	build-essential autoconf automake pkgconf
	libfcgi-dev libjson-c-dev libseccomp-dev libbsd-dev libsqlite3-dev
	python3-dev
	# The stack: nginx, the pool, the dev certificate.
	nginx spawn-fcgi multiwatch openssl ca-certificates
	# What runs in the jails (the zygote imports numpy and PIL).
	python3 python3-numpy python3-pil python3-reportlab python3-matplotlib
	# `python` in the jails (the /compat/repl clients run "python x.py").
	python-is-python3
	# The README's examples against ./dev.sh run.
	curl
)
# What only the tests need, on top of RUN_DEPS.
TEST_DEPS=(
	# FastCGI and SQLite command-line tools, for poking at a test stack.
	libfcgi-bin sqlite3
	# valgrind; clang and its ASan/UBSan/libFuzzer runtimes (build-fuzz);
	# strace (test_reply_atomic counts the writes of a reply).
	valgrind clang libclang-rt-14-dev strace
	# The Debian package and its install test (tests/package).
	debhelper lintian debootstrap dh-python
	# The playground in a real browser, the OpenAPI check, the client.
	chromium chromium-driver python3-selenium python3-jsonschema python3-venv
	python3-pip
	# The /compat routes' tests drive them as their own clients do.
	python3-httpx
)

log() { printf '==> %s\n' "$*" >&2; }

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "dev.sh: run as root (it installs packages and starts nginx)" >&2
		exit 2
	fi
}

# deps run | deps test: installs RUN_DEPS, or RUN_DEPS and TEST_DEPS.
deps() {
	local want=("${RUN_DEPS[@]}")
	[ "${1:-test}" = run ] || want+=("${TEST_DEPS[@]}")
	need_root
	local missing=() p
	for p in "${want[@]}"; do
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
	deps run
	build
	local args=(run --port "${PYEXEC_PORT:-8443}")
	[ -n "${PYEXEC_CONFIG:-}" ] && args+=(--config "$PYEXEC_CONFIG")
	[ -n "${PYEXEC_WORKERS:-}" ] && args+=(--workers "$PYEXEC_WORKERS")
	exec "$PY" tests/harness/stack.py "${args[@]}"
}

cmd_test() {
	deps test
	build
	exec "$PY" tests/run.py "$@"
}

# Only the Debian package's install test (also part of `test`).
cmd_test_package() {
	deps test
	exec tests/package/test-package.sh "$@"
}

# The package on a booted Debian 12 VM (cgroup v2); not part of `test`.
cmd_test_vm() {
	deps test
	exec tests/package/test-vm.sh "$@"
}

case "${1:-}" in
run) shift; cmd_run "$@" ;;
test-vm) shift; cmd_test_vm "$@" ;;
test) shift; cmd_test "$@" ;;
test-package) shift; cmd_test_package "$@" ;;
deps) deps "${2:-test}" ;;
build) deps run; build ;;
# The lists themselves, one package a line (tests/unit/dev_deps.sh).
print-deps)
	case "${2:-}" in
	run) printf '%s\n' "${RUN_DEPS[@]}" ;;
	test) printf '%s\n' "${RUN_DEPS[@]}" "${TEST_DEPS[@]}" ;;
	*) echo "usage: ./dev.sh print-deps run|test" >&2; exit 2 ;;
	esac
	;;
*)
	echo "usage: ./dev.sh run | test [--suite S,...] [--only PATTERN] | test-package | test-vm | deps [run|test] | print-deps run|test | build" >&2
	exit 2
	;;
esac
