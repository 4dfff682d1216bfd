#!/bin/sh
# valgrind.sh: run every unit test binary under valgrind (memcheck).
#
# Usage: tests/unit/valgrind.sh [BUILDDIR [SUBSTRING...]]
#
# BUILDDIR is the build tree where "make check" has built the tests
# (default: the current directory). The tests are the one list in
# tests/unit/Makefile.inc (make print-unit-tests); with SUBSTRINGs, only
# those whose name contains one of them. Any memory error, any definite leak
# or any failing test makes the script exit non-zero. Build without
# --enable-sanitizers: ASan and valgrind do not mix.
set -u

builddir=${1:-.}
[ $# -gt 0 ] && shift
patterns=$*
if ! list=$(make -s -C "$builddir" print-unit-tests 2>/dev/null) ||
    [ -z "$list" ]; then
	echo "valgrind.sh: no unit test list in $builddir (configure first)" >&2
	exit 1
fi
tests=
for t in $list; do
	t=${t##*/}
	[ -z "$patterns" ] && tests="$tests $t" && continue
	for p in $patterns; do
		case $t in
		*"$p"*) tests="$tests $t"; break ;;
		esac
	done
done

if ! command -v valgrind >/dev/null 2>&1; then
	echo "valgrind.sh: valgrind is not installed" >&2
	exit 77
fi

# Build whatever is missing.
targets=
for t in $tests; do
	targets="$targets tests/unit/$t"
done
[ -z "$targets" ] || make -C "$builddir" -s $targets || exit 1

# Timing-bound test points skip themselves under a slow tool (test_store).
PYX_TEST_TOOL=valgrind
export PYX_TEST_TOOL

pass=0
fail=0
for t in $tests; do
	bin=$builddir/tests/unit/$t
	if [ ! -x "$bin" ]; then
		echo "valgrind.sh: $bin not built" >&2
		fail=$((fail + 1))
		continue
	fi
	log=$builddir/tests/unit/$t.valgrind.log
	if valgrind --quiet --error-exitcode=1 --leak-check=full \
	    --errors-for-leak-kinds=definite --track-origins=yes \
	    --log-file="$log" "$bin" >"$builddir/tests/unit/$t.vg-out" 2>&1
	then
		echo "PASS: $t"
		pass=$((pass + 1))
	else
		echo "FAIL: $t (see $log and $builddir/tests/unit/$t.vg-out)"
		sed 's/^/    /' "$log" | head -40
		grep '^not ok' "$builddir/tests/unit/$t.vg-out" | head -20
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
