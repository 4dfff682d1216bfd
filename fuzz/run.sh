#!/bin/sh
# run.sh: build the libFuzzer harnesses out of tree with clang, then run
# each one for a fixed time.
#
# Usage: fuzz/run.sh [-t SECONDS] OUTDIR [req|b64|cfg|pylit|compat|text ...]
#
#   -t SECONDS  how long each fuzzer runs (default 20)
#   OUTDIR      build directory, created if needed; it also receives the
#               grown corpora (OUTDIR/corpus-NAME), the logs (NAME.log)
#               and any crashing input (OUTDIR/crashes/NAME-crash-...)
#
# The seeds in fuzz/seeds/NAME are read, never written. Exits non-zero if
# the build fails or any fuzzer finds a crash, a leak, a timeout or a
# broken invariant. Needs clang and libFuzzer (libclang-rt-14-dev).
set -eu

usage() {
	echo "usage: $0 [-t seconds] outdir [req|b64|cfg|pylit|compat|text ...]" >&2
	exit 2
}

secs=20
while getopts t: opt; do
	case $opt in
	t)	secs=$OPTARG ;;
	*)	usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
out=$1
shift
names=${*:-req b64 cfg pylit compat text}

top=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -x "$top/configure" ]; then
	(cd "$top" && autoreconf -fi)
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
# The one sanitizer build: the fuzzers, and (tests/run.py, suite
# "sanitize") the unit tests with ASan and UBSan.
if ! grep -q -- --enable-sanitizers "$out/config.status" 2>/dev/null; then
	[ -f "$out/Makefile" ] && make -s -C "$out" distclean >/dev/null 2>&1
	(cd "$out" && "$top/configure" -q CC=clang --enable-fuzzing \
	    --enable-sanitizers --enable-werror)
fi
targets=
for n in $names; do
	case $n in
	req|b64|cfg|pylit|compat|text) targets="$targets fuzz/${n}_fuzzer" ;;
	*)	echo "$0: unknown fuzzer '$n'" >&2; exit 2 ;;
	esac
done
make -C "$out" -s $targets

mkdir -p "$out/crashes"
status=0
for n in $names; do
	case $n in
	req)	maxlen=4096 dict=$top/fuzz/req.dict ;;
	b64)	maxlen=1024 dict= ;;
	cfg)	maxlen=10000 dict=$top/fuzz/cfg.dict ;;
	pylit)	maxlen=2048 dict=$top/fuzz/pylit.dict ;;
	compat)	maxlen=1024 dict= ;;
	text)	maxlen=4096 dict= ;;
	esac
	mkdir -p "$out/corpus-$n"
	set -- -max_total_time="$secs" -max_len="$maxlen" -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$out/crashes/$n-"
	[ -n "$dict" ] && set -- "$@" -dict="$dict"
	printf '%s: %ss ... ' "$n" "$secs"
	if "$out/fuzz/${n}_fuzzer" "$@" "$out/corpus-$n" "$top/fuzz/seeds/$n" \
	    >"$out/$n.log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
		    "$out/$n.log")
		echo "ok (${runs:-?} runs, corpus $(ls "$out/corpus-$n" | wc -l))"
	else
		echo "FAILED (see $out/$n.log)"
		grep -E 'ERROR|invariant failed|SUMMARY|Test unit written' \
		    "$out/$n.log" | head -20
		status=1
	fi
done
exit $status
