/* diag.h: a list of problems found in content files, for the people who
 * edit them.
 *
 * Each problem is one line "file:line: reason" ("file: reason" when it is
 * about the whole file), in the order found. Loaders keep going after a
 * problem so an editor sees every mistake at once; to keep a hostile tree
 * from using unbounded memory the list keeps DIAG_MAX lines and then one
 * "... and N more problems" line. Lines are sanitized as they are added:
 * control bytes and invalid UTF-8 become '?', and a line is cut at
 * DIAG_LINE_MAX bytes. */
#ifndef SUPPORTD_DIAG_H
#define SUPPORTD_DIAG_H

#include <stddef.h>

#define DIAG_MAX 1000      /* problem lines kept; then one summary line */
#define DIAG_LINE_MAX 512  /* bytes of one line, without the NUL */

/* Where problem i is, beside its line v[i], for tools that print problems
 * their own way (supportd check): the parts diag_add() was given. */
struct diag_where {
	char *file;            /* owned, sanitized; NULL when added without a file,
				  and for the "... and N more" line */
	int line;              /* 0: the whole file, or no file */
	size_t reason;         /* offset of the reason in v[i] */
};

struct diag {
	char **v;              /* each v[i] is "file:line: reason", owned */
	struct diag_where *at; /* at[i] is where v[i] is; owned, parallel to v */
	size_t n, cap;
	size_t dropped;        /* problems past DIAG_MAX, counted in the last line */
};

/* Makes *d an empty list. */
void diag_init(struct diag *d);

/* Appends one problem. Borrows file and the format arguments. line is
 * 1-based; line 0 means the whole file and gives "file: reason". A NULL
 * file adds the reason as it is, for messages that already name their
 * place (Lua's "file:line: reason"). */
void diag_add(struct diag *d, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Number of problems added so far, including those past DIAG_MAX. */
size_t diag_count(const struct diag *d);

/* Writes up to max bytes of s into buf (size len) for quoting in a
 * message: cut on a character boundary with "..." when longer, newlines
 * shown as "\n". Always NUL-terminates. Returns buf. */
const char *diag_snip(const char *s, size_t max, char *buf, size_t len);

/* The parts of problem i (i < d->n), borrowed from d: its file (NULL when
 * it has none), its line (0 for the whole file or none) and its reason,
 * which is v[i] without the "file:line: " in front. */
const char *diag_file(const struct diag *d, size_t i);
int diag_line(const struct diag *d, size_t i);
const char *diag_reason(const struct diag *d, size_t i);

/* Frees every line; *d is empty and reusable afterwards. */
void diag_clear(struct diag *d);

#endif
