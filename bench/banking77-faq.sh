#!/bin/sh
# banking77-faq.sh: Banking77 as a few-shot FAQ, scored by bench/faq-eval.
#
#   sh bench/banking77-faq.sh [faq-eval options]        score the test split
#   sh bench/banking77-faq.sh --train [options]         measure on train only
#   sh bench/banking77-faq.sh --varied [options]        train only, 2 to 18 questions per entry
#   sh bench/banking77-faq.sh --fit [options]           fit the confidence on train only
#
# Default: entries are the first five train lines of each intent (one FAQ
# entry per intent, five questions); queries are the whole test split.
# --train: same entries; queries are every other train line (for choosing
# parameters without looking at the test split).
# --varied: like --train, but intent n (in order of first appearance) gets
# 2 + 4 * (n mod 5) questions (2, 6, 10, 14 or 18), to see whether entries
# with many questions are unduly favoured or penalised.
# --fit: entries are the first five train lines of each intent; queries
# are every other train line, plus the hand-written out-of-scope
# development list bench/data/oos_en_dev.tsv (50 questions no support bot
# should answer: "what is the capital of France" must not look like a
# banking question), each repeated FIT_OOS_REPEAT times (default 20, about
# a tenth of the queries); runs faq-eval --fit. The coefficients it prints
# are faqindex.c's default_calib. The shared evaluation data is never
# used to fit anything. FIT_HOLDOUT=n (default 0: off) also leaves every
# n-th intent out of the FAQ, so that its train lines are out of scope
# too, near the domain.
#
# Files are made in a temp dir, removed on exit. Set FAQ_EVAL to use another
# binary (default bench/faq-eval, built with make if missing).
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
data=${BANKING77_DIR:-$here/../shared/data/banking77}
oos=$here/bench/data/oos_en_dev.tsv
bin=${FAQ_EVAL:-$here/bench/faq-eval}
mode=test
case ${1:-} in
--train) mode=train; shift ;;
--varied) mode=varied; shift ;;
--fit) mode=fit; shift ;;
esac

if [ ! -x "$bin" ]; then
	make -C "$here" bench/faq-eval >&2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# entries.tsv: id<TAB>text; rest.tsv: text<TAB>id for the train lines not used
awk -F '\t' -v mode="$mode" -v holdout="${FIT_HOLDOUT:-0}" -v entries="$tmp/entries.tsv" -v rest="$tmp/rest.tsv" '
NR == 1 { print "id\ttext" > entries; print "text\tid" > rest; next }
{
	if (!($2 in seen)) { seen[$2] = 1; order[$2] = n_intents++ }
	held_out = mode == "fit" && holdout > 0 && order[$2] % holdout == holdout - 1
	shots = mode == "varied" ? 2 + 4 * (order[$2] % 5) : 5
	if (count[$2]++ < shots) {
		if (!held_out)
			print $2 "\t" $1 > entries
		else
			print $1 "\t" $2 > rest   # a held-out intent: these are queries too
	} else {
		print $1 "\t" $2 > rest
	}
}' "$data/train.tsv"
if [ "$mode" = fit ]; then
	# far out of scope: an id no entry has; tabs cannot occur in the text
	awk -F '\t' -v times="${FIT_OOS_REPEAT:-20}" \
		'NR > 1 { for (i = 0; i < times; i++) print $1 "\t-" }' "$oos" >> "$tmp/rest.tsv"
fi

case $mode in
test) exec_queries=$data/test.tsv ;;
*) exec_queries=$tmp/rest.tsv ;;
esac
fit=
[ "$mode" = fit ] && fit=--fit
"$bin" --entries "$tmp/entries.tsv" --queries "$exec_queries" --lang en $fit "$@"
