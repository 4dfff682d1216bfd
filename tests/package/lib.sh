# shellcheck shell=bash
# Shared helpers for the package-test harness (sourced, not executed).

PKGTEST_SUITE=${PKGTEST_SUITE:-bookworm}
PKGTEST_CACHE_DIR=${PKGTEST_CACHE_DIR:-/var/cache/pyexec-test}
# Where the host's apt configuration is read from (only read, never written).
PKGTEST_APT_ETC=${PKGTEST_APT_ETC:-/etc/apt}

log() { printf '[%s] %s\n' "${0##*/}" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# List the host's active apt source files, in the order apt reads them.
# Only names apt itself reads (*.list, *.sources) are considered, so files
# disabled by renaming are skipped exactly as apt skips them.
apt_source_files() {
    local f
    [ -f "$PKGTEST_APT_ETC/sources.list" ] && printf '%s\n' "$PKGTEST_APT_ETC/sources.list"
    for f in "$PKGTEST_APT_ETC"/sources.list.d/*.list "$PKGTEST_APT_ETC"/sources.list.d/*.sources; do
        [ -f "$f" ] && printf '%s\n' "$f"
    done
    return 0
}

# Print "URI<TAB>SUITE<TAB>COMPONENTS<TAB>SIGNED_BY" for every active
# binary ("deb") entry in the host's apt sources, from both the one-line
# format and the deb822 format.  SIGNED_BY is a keyring path or "-".
apt_source_entries() {
    local f
    while IFS= read -r f; do
        case "$f" in
        *.sources)
            awk '
            function flush(   n, i, j, t, u, s, types, uris, suites, isdeb) {
                if (!have) return
                if (tolower(fld["enabled"]) == "no") { reset(); return }
                n = split(fld["types"], types, /[ \t]+/)
                isdeb = 0
                for (i = 1; i <= n; i++) if (types[i] == "deb") isdeb = 1
                if (!isdeb) { reset(); return }
                sb = fld["signed-by"]
                if (sb == "" || sb ~ /BEGIN PGP/ || sb ~ /[ \t]/) sb = "-"
                nu = split(fld["uris"], uris, /[ \t]+/)
                ns = split(fld["suites"], suites, /[ \t]+/)
                for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++)
                    if (uris[i] != "" && suites[j] != "")
                        printf "%s\t%s\t%s\t%s\n", uris[i], suites[j], fld["components"], sb
                reset()
            }
            function reset() { delete fld; have = 0; key = "" }
            BEGIN { reset() }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { flush(); next }
            /^[ \t]/ {                      # continuation line
                if (key != "" && key != "signed-by") { sub(/^[ \t]+/, ""); fld[key] = fld[key] " " $0 }
                else if (key == "signed-by") fld[key] = fld[key] " BEGIN PGP"
                next
            }
            {
                i = index($0, ":"); if (!i) next
                key = tolower(substr($0, 1, i - 1))
                v = substr($0, i + 1); sub(/^[ \t]+/, "", v); sub(/[ \t]+$/, "", v)
                fld[key] = v; have = 1
            }
            END { flush() }' "$f"
            ;;
        *)
            awk '
            /^[ \t]*#/ || NF == 0 { next }
            $1 != "deb" { next }
            {
                sb = "-"; i = 2
                if ($2 ~ /^\[/) {           # [ option=value ... ]
                    while (i <= NF) {
                        o = $i; gsub(/[\[\]]/, "", o)
                        if (o ~ /^signed-by=/) { sb = substr(o, 11) }
                        if ($i ~ /\]$/) { i++; break }
                        i++
                    }
                }
                uri = $i; suite = $(i + 1); comps = ""
                for (j = i + 2; j <= NF; j++) comps = comps (comps == "" ? "" : " ") $j
                printf "%s\t%s\t%s\t%s\n", uri, suite, comps, sb
            }' "$f"
            ;;
        esac
    done < <(apt_source_files)
}

# The main Debian archive entry for $PKGTEST_SUITE: "URI<TAB>SIGNED_BY".
# Prefers an entry whose components include "main"; security and
# updates suites are different suite names and therefore never match.
host_debian_mirror() {
    local uri suite comps sb
    while IFS=$'\t' read -r uri suite comps sb; do
        [ "$suite" = "$PKGTEST_SUITE" ] || continue
        case "$uri" in http://*|https://*|file:/*) ;; *) continue ;; esac
        case " $comps " in *" main "*) ;; *) continue ;; esac
        printf '%s\t%s\n' "${uri%/}" "$sb"
        return 0
    done < <(apt_source_entries)
    return 1
}
