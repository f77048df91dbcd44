/* langid.h: which language a customer writes in.
 *
 * libexttextcat's character n-gram fingerprints (Cavnar and Trenkle's
 * out-of-place distance) rank the content's languages and the close
 * neighbours their language.yaml files name as rivals (for the shipped
 * ones: Spanish, Galician, Catalan, Italian, French, Romanian; German,
 * Dutch; Czech, Slovak), which are there only to be beaten: a line that
 * reads as Spanish is not called Portuguese. Short chat lines
 * are hard, so the content's languages get a small bias, and a guess is
 * only "sure" when the winner is one of them and leads the runner-up by a
 * margin; otherwise the caller keeps the language it had.
 *
 * A langid is read-only after langid_open: any thread may guess with it,
 * one call at a time per thread (fp_Create builds into a per-call
 * handle). */
#ifndef SUPPORTD_LANGID_H
#define SUPPORTD_LANGID_H

#include <stddef.h>

typedef struct langid langid;
struct language;

#define LANGID_MARGIN 0.04   /* runner-up's distance over the winner's, minus one */
#define LANGID_BIAS 0.97     /* the content's languages' distances are scaled by this */

struct langid_guess {
	char lang[8];        /* the best of the content's languages, or "" */
	double margin;       /* how far ahead of the runner-up (any language) */
	int sure;            /* lang is one of ours and margin >= LANGID_MARGIN */
};

#define LANGID_OURS_MAX 8    /* content languages one langid tells apart */

/* Loads from dir (libexttextcat's NAME.lm files) the fingerprint of each
 * of the n languages (borrowed; at most LANGID_OURS_MAX), which a guess
 * names by its code, and of their rivals. A language without a
 * fingerprint is an error; a rival without one is skipped. NULL with a
 * reason in err on failure. */
langid *langid_open(const struct language *const *langs, size_t n, const char *dir, char *err,
		    size_t errlen);

void langid_close(langid *li);

/* Guesses the language of len bytes of UTF-8. Never fails: text with no
 * letters gives lang "" and sure 0. */
void langid_guess(const langid *li, const char *text, size_t len, struct langid_guess *out);

#define LANGID_STOP_MIN 3    /* function words a line needs to read as one language */

/* Whether len bytes of UTF-8 plainly read as the content language `code`
 * by their function words (its language.yaml stop words): at least
 * LANGID_STOP_MIN of them, and at least twice as many as of any other of
 * the content's languages. Far cheaper than langid_guess, for a caller
 * that only wants to know whether a line may be in another language:
 * 0 means "ask langid_guess". */
int langid_reads_as(const langid *li, const char *text, size_t len, const char *code);

#endif
