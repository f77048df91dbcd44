/* faq.h: the FAQ content: loading and checking faq/<lang>/ files.
 *
 * Each Markdown file under faq/<lang>/ (subdirectories included, dotfiles
 * skipped) is one entry: YAML front matter between a first line "---" and
 * the next "---" line, then the answer in a small Markdown subset
 * (docs/content.md is the editors' guide). Everything is checked here, and
 * every problem is reported to a struct diag as "file:line: reason" with
 * the real file line, so an editor can fix all of them in one go. The
 * search index consumes the entries; it trusts them. */
#ifndef SUPPORTD_FAQ_H
#define SUPPORTD_FAQ_H

#include <stddef.h>

#include "diag.h"
#include "language.h"

#define FAQ_FILE_MAX (64 * 1024)   /* bytes of one file */
#define FAQ_ENTRIES_MAX 20000      /* entries in one faq/ tree, all languages */
#define FAQ_ID_MAX 64              /* bytes of an id */
#define FAQ_TITLE_MAX 200          /* bytes of a title */
#define FAQ_QUESTIONS_MAX 100      /* questions of one entry */
#define FAQ_QUESTION_MAX 500       /* bytes of one question */
#define FAQ_TAGS_MAX 32            /* tags of one entry */
#define FAQ_TAG_MAX 64             /* bytes of one tag */
#define FAQ_DIR_DEPTH 8            /* subdirectory levels under faq/<lang>/ */

struct faq_entry {
	char *id, *lang, *title, *team;  /* team defaults to "general" */
	char **questions;                /* the ways customers ask it, >= 1 */
	size_t n_questions;
	char **tags;
	size_t n_tags;
	char *answer;                    /* Markdown body, trimmed, LF line ends */
	char *file;                      /* path as given + relative part, for messages */
	int line;                        /* line of the front matter's first key */
};

struct faq_set {
	struct faq_entry *v;
	size_t n;
	size_t cap;
};

/* Loads every entry under faq_dir (borrowed): faq_dir/<lang>/ for each
 * language of langs (borrowed; rules/<lang>/language.yaml defines them),
 * recursively; another directory is a problem. Appends the valid entries to *out
 * (which the caller owns and releases with faq_set_clear; start it zeroed).
 * Problems go to d. Returns 0 when there were none, -1 otherwise; out
 * holds the valid entries either way. A missing or unreadable faq_dir is a
 * problem. Entries of a language whose id repeats an earlier one are
 * reported (naming both files) and left out. */
int faq_load(const char *faq_dir, const struct language_set *langs, struct faq_set *out,
	     struct diag *d);

/* Frees every entry and the array; *s is empty and reusable afterwards. */
void faq_set_clear(struct faq_set *s);

/* Parses one file's bytes (borrowed). file names it in messages and is
 * copied into the entry; lang is the language of its directory. On success
 * returns 0 and fills *out, which the caller releases with
 * faq_entry_clear(); on failure returns -1 after adding problems to d and
 * leaves *out zeroed. Files over FAQ_FILE_MAX bytes are refused. */
int faq_parse(const char *file, const char *lang, const char *buf, size_t len,
	      struct faq_entry *out, struct diag *d);

/* Frees an entry's strings and zeroes it. */
void faq_entry_clear(struct faq_entry *e);

/* Checks len bytes of answer text against the Markdown subset (paragraphs,
 * "-", "*" and "1." lists, [text](https://...) links to http, https or
 * mailto, **bold**). first_line is the file line of text's first line.
 * Returns 0, or -1 after adding one problem per bad line to d. Used for
 * FAQ bodies and for intents' replies. */
int faq_check_markdown(const char *file, int first_line, const char *text, size_t len,
		       struct diag *d);

/* The entry with this lang and id, or NULL. Borrowed from s; linear. */
const struct faq_entry *faq_find(const struct faq_set *s, const char *lang, const char *id);

#endif
