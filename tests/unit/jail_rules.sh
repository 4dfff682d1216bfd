#!/bin/sh
# jail_rules.sh: the build's check of the rules the tree states in
# comments, run by `make check` (TAP):
#   - the jail library (src/libjail.a) runs between clone and exec: it
#     calls no allocator, no stdio, no json-c, and nothing of libcommon.a
#     (the logger, x*alloc), only libc system calls and itself;
#   - pyexec-zygote never sees a request: it links no request parser,
#     json-c, SQLite or libfcgi.
# Run from the build directory (automake does).
set -u
NM=${NM:-nm}
n=0
fail=0

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

undef() {	# the undefined symbols of an archive or object, one a line
	"$NM" -u "$1" 2>/dev/null | awk 'NF == 2 { print $2 }' | sort -u
}
defined() {
	"$NM" --defined-only "$1" 2>/dev/null |
	    awk 'NF == 3 && $2 ~ /[TDBR]/ { print $3 }' | sort -u
}

echo "1..4"
jail=src/libjail.a
if [ ! -f "$jail" ] || [ ! -f src/libcommon.a ] || [ ! -f src/pyexec-zygote ]; then
	for i in 1 2 3 4; do result FAIL "build products missing (run make)"; done
	exit 1
fi

bad=$(undef "$jail" | grep -E '^(malloc|calloc|realloc|reallocarray|free|str(n)?dup|aligned_alloc|posix_memalign|[a-z]*printf|v?[a-z]*printf_chk|_IO_.*|f(open|dopen|close|puts|putc|write|read|flush|gets)|puts|putchar|perror|getline|json_.*|sqlite3_.*|FCGX_.*|Py.*)$')
result "$([ -z "$bad" ] && echo OK || echo FAIL)" \
    "libjail.a calls no allocator, stdio, json-c, SQLite, libfcgi or CPython" "$bad"

bad=$(undef "$jail" | comm -12 - "$(defined src/libcommon.a > jail_rules.common; echo jail_rules.common)")
rm -f jail_rules.common
result "$([ -z "$bad" ] && echo OK || echo FAIL)" \
    "libjail.a uses nothing of libcommon.a (logger, x*alloc, buffers)" "$bad"

# The jail's own symbols it needs are all defined inside it.
own=$(defined "$jail")
missing=
for s in $(undef "$jail"); do
	case $s in
	fd_send|name_check|policy_apply|jail_*)
		echo "$own" | grep -qx "$s" || missing="$missing $s" ;;
	esac
done
result "$([ -z "$missing" ] && echo OK || echo FAIL)" \
    "libjail.a is self-contained" "$missing"

bad=$("$NM" -D --undefined-only src/pyexec-zygote 2>/dev/null |
    awk '{ print $NF }' | grep -E '^(json_|sqlite3_|FCGX_)')
bad="$bad$("$NM" src/pyexec-zygote 2>/dev/null | awk '{ print $NF }' |
    grep -E '^(req_parse|store_open|execute_handle)$')"
result "$([ -z "$bad" ] && echo OK || echo FAIL)" \
    "pyexec-zygote links no request parser, json-c, SQLite or libfcgi" "$bad"

[ "$fail" -eq 0 ]
