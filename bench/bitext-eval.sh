#!/bin/sh
# bitext-eval.sh: the whole bot (shipped faq/ and rules/, lua/pipeline.lua)
# on the Bitext customer-service set, through `supportd ask --json`.
#
#   sh bench/bitext-eval.sh [EVERY]     every EVERY-th line (default 5)
#
# bench/data/bitext_map.tsv says which of the sample content's answers serve
# each Bitext intent. Prints, over the lines whose intent the content
# serves: answered (a faq:/intent: reply, or a flow its intent starts), of
# those right; handed off to a person; clarified (a
# "did you mean" whose buttons include a right answer, or not); fallback.
# Over the lines the content does not serve ("none"): how many got a
# confident answer (wrong by definition). Measures only: nothing here feeds
# back into content or code.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
data=${BITEXT:-$here/../shared/data/bitext-customer-service/bitext_cs_en.tsv}
every=${1:-5}
bin=${SUPPORTD:-$here/supportd}
[ -x "$bin" ] || make -C "$here" supportd >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

awk -F '\t' -v every="$every" 'NR > 1 && (NR - 2) % every == 0 { print $1 > "'"$tmp"'/q.txt"; print $2 > "'"$tmp"'/labels.txt" }' "$data"
(cd "$here" && "$bin" ask --json < "$tmp/q.txt") > "$tmp/out.jsonl"
paste "$tmp/labels.txt" "$tmp/out.jsonl" | awk -F '\t' -v map="$here/bench/data/bitext_map.tsv" '
BEGIN {
	while ((getline line < map) > 0) {
		if (line ~ /^#/ || line ~ /^bitext_label/) continue
		split(line, f, "\t"); want[f[1]] = f[2]
	}
}
function has(list, s,   n, a, i) { n = split(list, a, "|"); for (i = 1; i <= n; i++) if (a[i] == s) return 1; return 0 }
{
	label = $1; js = $2
	if (!(label in want)) { unknown++; next }
	# the first reply'"'"'s source and its button ids
	src = js; sub(/.*"replies":\[\{"text":"([^"\\]|\\.)*","source":"/, "", src); sub(/".*/, "", src)
	ch = js; sub(/.*"replies":\[\{"text":"([^"\\]|\\.)*","source":"[^"]*","confidence":[^,]*,"choices":\[/, "", ch); sub(/\]\}.*/, "", ch)
	# no reply of its own: a flow started (by the best candidate, an
	# intent: that is its answer) or a handoff
	if (js ~ /"replies":\[\]/) {
		if (js ~ /"start_flow":"/) { src = js; sub(/.*"candidates":\[\{"source":"/, "", src); sub(/".*/, "", src) }
		else {
			src = "handoff"
			# the customer asked for a person, or complained: the handoff is the answer
			hs = js; sub(/.*"candidates":\[\{"source":"/, "", hs); sub(/".*/, "", hs)
			if (has(want[label], hs) && (hs == "intent:human_agent" || hs == "intent:complaint")) src = hs
		}
	}
	if (want[label] == "none") {
		none++
		if (src ~ /^(faq|intent):/) none_answered++
		next
	}
	served++
	if (src ~ /^(faq|intent):/) { answered++; if (has(want[label], src)) right++ }
	else if (src == "clarify") {
		clarified++
		n = split(ch, parts, /"id":"/); ok = 0
		for (i = 2; i <= n; i++) { id = parts[i]; sub(/".*/, "", id); if (has(want[label], id)) ok = 1 }
		if (ok) clarified_right++
	} else if (src == "handoff") handoff++
	else fallback++
}
END {
	printf "lines_served %d\n", served
	printf "answered %.4f\n", answered / served
	printf "answered_right %.4f\n", answered ? right / answered : 0
	printf "clarified %.4f\n", clarified / served
	printf "clarified_with_right_button %.4f\n", clarified ? clarified_right / clarified : 0
	printf "fallback %.4f\n", fallback / served
	printf "handed_off %.4f\n", handoff / served
	printf "right_answer_or_right_button %.4f\n", (right + clarified_right) / served
	printf "lines_not_served %d\n", none
	printf "not_served_answered_anyway %.4f\n", none ? none_answered / none : 0
}'
