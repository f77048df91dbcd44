#!/bin/sh
# mood-bitext.sh: the mood check on the Bitext customer-service set.
#
#   sh bench/mood-bitext.sh [mood-eval options]     e.g. --split test --sweep
#
# Bitext's columns are text, label, category, flags. A line counts as upset
# when its intent is `complaint` or its flags hold W (offensive language);
# the script writes that as `text<TAB>0|1` and runs bench/mood-eval --lang
# en on it with the options given. Measures only: nothing here feeds back
# into the lexicons.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
data=${BITEXT:-$here/../shared/data/bitext-customer-service/bitext_cs_en.tsv}
[ -x "$here/bench/mood-eval" ] || make -C "$here" bench/mood-eval >&2
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT INT TERM
awk -F '\t' 'NR == 1 { print "text\tlabel"; next }
	{ print $1 "\t" (($2 == "complaint" || $4 ~ /W/) ? 1 : 0) }' "$data" > "$tmp"
cd "$here" && bench/mood-eval --lang en "$@" "$tmp"
