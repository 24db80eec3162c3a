#!/bin/sh
# SPDX-License-Identifier: ISC
# The engine's calls run one way.  src/engine/engine.h maps each file of
# the engine to a layer; a file may call only files of a lower layer.
# Held against the built objects: for every symbol an engine object needs
# (nm -u) that another engine object defines, the definer's layer must be
# below the user's.  So a call that closes a circle (the facts calling
# the signer, say) fails here, whatever the headers say.
set -u
export LC_ALL=C
BUILD=${BUILD:-build}
MAP=src/engine/engine.h
OBJ=$BUILD/obj/src/engine
T=$(mktemp -d "${TMPDIR:-/tmp}/tg-layers.XXXXXX")
trap 'rm -rf "$T"' EXIT

fails=0
ok() { echo "ok $1"; }
notok() {
	echo "not ok $1"; shift; fails=$((fails + 1))
	for l in "$@"; do echo "#   $l"; done
	return 0
}

if ! command -v nm >/dev/null 2>&1; then
	echo "ok engine_calls_run_down_the_layers # SKIP no nm (binutils)"
	exit 0
fi
if ! ls "$OBJ"/*.o >/dev/null 2>&1; then
	notok engine_objects_are_built "no objects in $OBJ: build first"
	exit 1
fi

# the map: " *   LAYER  FILE.c  what it holds", one line a file
sed -n 's/^ \*   \([0-9]\)  \([a-z_]*\)\.c .*/\2 \1/p' "$MAP" | sort >"$T/map"
for c in src/engine/*.c; do basename "$c" .c; done | sort >"$T/files"
unmapped=$(cut -d' ' -f1 "$T/map" | comm -13 - "$T/files")
gone=$(cut -d' ' -f1 "$T/map" | comm -23 - "$T/files")
if [ -s "$T/map" ] && [ -z "$unmapped$gone" ]; then
	ok engine_map_names_every_engine_file
else
	notok engine_map_names_every_engine_file \
	    "in src/engine, not in the map: ${unmapped:-none}" \
	    "in the map, not in src/engine: ${gone:-none}"
fi

# a stale object would answer for code that is no longer there
stale=""
for c in src/engine/*.c; do
	o=$OBJ/$(basename "$c" .c).o
	if [ ! -f "$o" ] || [ -n "$(find "$c" -newer "$o")" ]; then
		stale="$stale $(basename "$c")"
	fi
done
if [ -z "$stale" ]; then
	ok engine_objects_are_built_from_these_sources
else
	notok engine_objects_are_built_from_these_sources \
	    "not built, or older than the source:$stale (run make first)"
fi

# edges "USER DEFINER" between engine files, from the objects
while read -r f; do
	[ -f "$OBJ/$f.o" ] || continue
	nm -g --defined-only "$OBJ/$f.o" |
	    awk -v f="$f" 'NF == 3 { print $3, f }'
done <"$T/files" | sort >"$T/defs"
while read -r f; do
	[ -f "$OBJ/$f.o" ] || continue
	nm -u "$OBJ/$f.o" | awk '{ print $NF }' | sort -u |
	    join - "$T/defs" | awk -v f="$f" '$2 != f { print f, $2, $1 }'
done <"$T/files" | sort -u >"$T/edges"

# check EDGES: the edges (user definer symbol) that do not go down the map
check() {
	awk 'NR == FNR { layer[$1] = $2; next }
	    !($1 in layer) || !($2 in layer) || layer[$2] >= layer[$1] {
		printf "%s (%s) calls %s (%s): %s\n", $1, layer[$1], $2,
		    layer[$2], $3
	    }' "$T/map" "$1"
}

# controls: the edges are seen, and an upward call would be flagged
if grep -q '^requests signer eng_sign_ready$' "$T/edges"; then
	ok engine_objects_show_requests_calling_the_signer
else
	notok engine_objects_show_requests_calling_the_signer \
	    "nm found no call from requests.o to eng_sign_ready"
fi
echo "facts signer eng_sign_ready" >"$T/upward"
if [ -n "$(check "$T/upward")" ]; then
	ok engine_layer_check_flags_the_facts_calling_the_signer
else
	notok engine_layer_check_flags_the_facts_calling_the_signer
fi

bad=$(check "$T/edges")
if [ -z "$bad" ]; then
	ok engine_calls_run_down_the_layers
else
	IFS='
'
	# shellcheck disable=SC2086 # one argument a line of $bad (IFS)
	notok engine_calls_run_down_the_layers $bad
fi
[ "$fails" -eq 0 ]
