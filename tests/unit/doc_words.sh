#!/bin/sh
# doc_words.sh: what users read (README, man pages, the shipped nginx and
# configuration files, openapi.json) is written for someone who never saw
# the systems pyexec was designed from: no "seed 002's policy", no "seed
# list". Behaviour is named, not its origin. (TAP, run by `make check`;
# "--seed N", a random seed of bench/soak.py, is fine.)
set -u
top=${srcdir:-.}
echo "1..1"
files="$top/README $top/man/*.[0-9] $top/nginx/*.conf $top/nginx/*.conf.in
$top/etc/pyexec.conf $top/www/openapi.json $top/www/index.html"
hits=$(grep -nE '(^|[^-a-z])[Ss]eeds?([^a-z]|$)' $files 2>/dev/null)
if [ -z "$hits" ]; then
	echo "ok 1 - no seed names in the README, man pages, shipped configuration or API description"
else
	echo "not ok 1 - no seed names in the README, man pages, shipped configuration or API description"
	printf '%s\n' "$hits" | sed 's/^/# /'
	exit 1
fi
