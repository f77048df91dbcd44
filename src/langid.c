/* langid.c: which language a customer writes in. See langid.h. */
#include "langid.h"

#include <fingerprint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define LANGID_MAX 24
#define NGRAMS 400          /* libexttextcat's MAXNGRAMS: the fingerprints' size */

/* Close neighbours of en, pt and pl, to be beaten (langid.h). */
static const char *const neighbours[] = {"es", "gl", "ca", "it", "fr", "de",
					 "nl", "cs", "sk", "ro", NULL};

struct langid {
	void *fp[LANGID_MAX];      /* owned fingerprints */
	char code[LANGID_MAX][8];
	int ours[LANGID_MAX];      /* one of the content's languages */
	size_t n;
};

static int load(langid *li, const char *dir, const char *code, int ours)
{
	char path[1024];
	void *fp;

	for (size_t i = 0; i < li->n; i++)
		if (!strcmp(li->code[i], code)) {
			li->ours[i] |= ours;
			return 0;
		}
	if (li->n == LANGID_MAX || strlen(code) >= sizeof(li->code[0]))
		return -1;
	snprintf(path, sizeof(path), "%s/%s.lm", dir, code);
	fp = fp_Init(code);
	if (!fp)
		abort();
	fp_SetProperty(fp, TCPROP_UTF8AWARE, TC_TRUE);
	if (!fp_Read(fp, path, NGRAMS)) {
		fp_Done(fp);
		return -1;
	}
	li->fp[li->n] = fp;
	snprintf(li->code[li->n], sizeof(li->code[0]), "%s", code);
	li->ours[li->n] = ours;
	li->n++;
	return 0;
}

langid *langid_open(const char *const *langs, const char *dir, char *err, size_t errlen)
{
	langid *li = xcalloc(1, sizeof(*li));

	for (size_t i = 0; langs[i]; i++)
		if (i >= 8 || load(li, dir, langs[i], 1)) {
			snprintf(err, errlen, "no language fingerprint %s/%s.lm", dir, langs[i]);
			langid_close(li);
			return NULL;
		}
	for (size_t i = 0; neighbours[i]; i++)
		(void)load(li, dir, neighbours[i], 0);
	return li;
}

void langid_close(langid *li)
{
	if (!li)
		return;
	for (size_t i = 0; i < li->n; i++)
		fp_Done(li->fp[i]);
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
