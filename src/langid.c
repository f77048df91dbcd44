/* langid.c: which language a customer writes in. See langid.h. */
#include "langid.h"

#include <fingerprint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "language.h"
#include "text.h"
#include "xalloc.h"

#define LANGID_MAX 24
#define NGRAMS 400          /* libexttextcat's MAXNGRAMS: the fingerprints' size */

struct langid {
	void *fp[LANGID_MAX];      /* owned fingerprints */
	char name[LANGID_MAX][24]; /* the fingerprint's name */
	char code[LANGID_MAX][8];  /* what a guess says: ours, their code; else the name */
	int ours[LANGID_MAX];      /* one of the content's languages */
	size_t n;
	struct {                   /* the content's languages' stop words (langid_reads_as) */
		char code[8];
		char **stop;       /* owned copies: folded, sorted */
		size_t n_stop;
	} words[LANGID_OURS_MAX];
	size_t n_words;
};

/* Loads the fingerprint `name` as `code` (ours) or as a rival. */
static int load(langid *li, const char *dir, const char *name, const char *code, int ours)
{
	char path[1024];
	void *fp;

	for (size_t i = 0; i < li->n; i++)
		if (!strcmp(li->name[i], name)) {
			if (ours) {
				li->ours[i] = 1;
				snprintf(li->code[i], sizeof(li->code[0]), "%s", code);
			}
			return 0;
		}
	if (li->n == LANGID_MAX || strlen(name) >= sizeof(li->name[0]) ||
	    strlen(code) >= sizeof(li->code[0]) || strchr(name, '/'))
		return -1;
	snprintf(path, sizeof(path), "%s/%s.lm", dir, name);
	fp = fp_Init(name);
	if (!fp)
		abort();
	fp_SetProperty(fp, TCPROP_UTF8AWARE, TC_TRUE);
	if (!fp_Read(fp, path, NGRAMS)) {
		fp_Done(fp);
		return -1;
	}
	li->fp[li->n] = fp;
	snprintf(li->name[li->n], sizeof(li->name[0]), "%s", name);
	snprintf(li->code[li->n], sizeof(li->code[0]), "%s", code);
	li->ours[li->n] = ours;
	li->n++;
	return 0;
}

langid *langid_open(const struct language *const *langs, size_t n, const char *dir, char *err,
		    size_t errlen)
{
	langid *li = xcalloc(1, sizeof(*li));

	for (size_t i = 0; i < n; i++)
		if (i >= LANGID_OURS_MAX ||
		    load(li, dir, langs[i]->fingerprint, langs[i]->code, 1)) {
			snprintf(err, errlen, "no language fingerprint %s/%s.lm (%s)", dir,
				 langs[i]->fingerprint, langs[i]->file ? langs[i]->file : langs[i]->code);
			langid_close(li);
			return NULL;
		}
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < langs[i]->n_rivals; k++)
			(void)load(li, dir, langs[i]->rivals[k], langs[i]->rivals[k], 0);
	for (size_t i = 0; i < n; i++) {
		snprintf(li->words[i].code, sizeof(li->words[i].code), "%s", langs[i]->code);
		li->words[i].stop = xcalloc(langs[i]->n_stop + 1, sizeof(char *));
		for (size_t k = 0; k < langs[i]->n_stop; k++)
			li->words[i].stop[k] = xstrdup(langs[i]->stop[k]);
		li->words[i].n_stop = langs[i]->n_stop;
		li->n_words++;
	}
	return li;
}

static int cmp_word(const void *key, const void *elem)
{
	return strcmp(key, *(char *const *)elem);
}

int langid_reads_as(const langid *li, const char *text, size_t len, const char *code)
{
	size_t counts[LANGID_OURS_MAX] = {0}, mine = 0, most_other = 0, flen;
	int self = -1;
	char *folded, *p, *end;

	if (!li || !code)
		return 0;
	for (size_t i = 0; i < li->n_words; i++)
		if (!strncmp(li->words[i].code, code, 2))
			self = (int)i;
	if (self < 0 || !(folded = text_fold(text, len, &flen)))
		return 0;
	/* words: runs of anything but ASCII separators (stop words are plain
	 * words; a word glued to punctuation only fails to count) */
	for (p = folded, end = folded + flen; p < end;) {
		char *w;
		while (p < end && (unsigned char)*p < 0x80 && !text_is_word_cp((unsigned char)*p))
			p++;
		w = p;
		while (p < end && ((unsigned char)*p >= 0x80 || text_is_word_cp((unsigned char)*p)))
			p++;
		if (p == w)
			continue;
		char save = *p;
		*p = '\0';
		for (size_t i = 0; i < li->n_words; i++)
			counts[i] += bsearch(w, li->words[i].stop, li->words[i].n_stop, sizeof(char *),
					     cmp_word) != NULL;
		*p = save;
	}
	free(folded);
	mine = counts[self];
	for (size_t i = 0; i < li->n_words; i++)
		if ((int)i != self && counts[i] > most_other)
			most_other = counts[i];
	return mine >= LANGID_STOP_MIN && mine >= 2 * most_other;
}

void langid_close(langid *li)
{
	if (!li)
		return;
	for (size_t i = 0; i < li->n; i++)
		fp_Done(li->fp[i]);
	for (size_t i = 0; i < li->n_words; i++) {
		for (size_t k = 0; k < li->words[i].n_stop; k++)
			free(li->words[i].stop[k]);
		free(li->words[i].stop);
	}
	free(li);
}

void langid_guess(const langid *li, const char *text, size_t len, struct langid_guess *out)
{
	double best = -1, second = -1, best_ours = -1;
	size_t best_i = 0, ours_i = 0;
	void *u;

	memset(out, 0, sizeof(*out));
	if (!li || !len || len > UINT_MAX)
		return;
	u = fp_Init("text");
	if (!u)
		abort();
	fp_SetProperty(u, TCPROP_UTF8AWARE, TC_TRUE);
	fp_SetProperty(u, TCPROP_MINIMUM_DOCUMENT_SIZE, 1);
	if (!fp_Create(u, text, (unsigned)len, NGRAMS)) {
		fp_Done(u);
		return;
	}
	for (size_t i = 0; i < li->n; i++) {
		double d = (double)fp_Compare(li->fp[i], u, INT_MAX);
		if (li->ours[i])
			d *= LANGID_BIAS;
		if (best < 0 || d < best) {
			second = best;
			best = d;
			best_i = i;
		} else if (second < 0 || d < second) {
			second = d;
		}
		if (li->ours[i] && (best_ours < 0 || d < best_ours)) {
			best_ours = d;
			ours_i = i;
		}
	}
	fp_Done(u);
	if (best_ours < 0)
		return;
	snprintf(out->lang, sizeof(out->lang), "%s", li->code[ours_i]);
	if (best > 0 && second > 0)
		out->margin = second / best - 1.0;
	out->sure = li->ours[best_i] && out->margin >= LANGID_MARGIN;
}
