/* content.h: what the content loaders (faq.c, rules.c) share.
 *
 * Both read a tree that people edit by hand, check every field, and report
 * each problem to a struct diag as "file:line: reason" instead of stopping.
 * The pieces they have in common live here, the way Lua's lauxlib serves
 * its libraries: trimming, the checks of fields
 * both formats have (one-line strings, ids, teams), and bounded reading of
 * files and directories. Internal allocation failure aborts; anything that
 * comes from the tree (a missing file, one too large, a FIFO) is a
 * problem in d, never an abort. */
#ifndef SUPPORTD_CONTENT_H
#define SUPPORTD_CONTENT_H

#include <stddef.h>
#include <sys/stat.h>

#include "diag.h"
#include "yamldoc.h"

/* --------------------------------------------------------------- text */

/* 1 for the white space content trims: space, tab, CR and LF. */
int content_is_blank(int c);

/* Returns a new string the caller frees: s (borrowed) without leading and
 * trailing white space. */
char *content_trimmed_dup(const char *s);

/* Trims each of the n strings of v in place: each v[i] is freed and
 * replaced by a new trimmed copy (v keeps owning them). */
void content_trim_strings(char **v, size_t n);

/* ------------------------------------------------------------- fields */

/* 1 when s (borrowed) matches [a-z0-9][a-z0-9_-]*, the form of an FAQ id.
 * The caller limits the length. */
int content_valid_id(const char *s);

/* Checks the string field n of doc: yamldoc_string() with max bytes, and
 * one line apart from trailing white space, else "<what> must be one
 * line". *out borrows the node's text (it lives as long as doc). Returns
 * 0, or -1 after adding a problem to d. */
int content_one_line(const yamldoc *doc, const yamldoc_node *n, const char *what, size_t max,
		     const char **out, struct diag *d);

/* 1 when s (borrowed) matches [a-z][a-z0-9_-]{0,31}, the form of a team. */
int content_valid_team(const char *s);

/* Checks the 'team' field n of doc: one line matching [a-z][a-z0-9_-]{0,31}.
 * Returns 0 with *out a new string the caller frees, or -1 after adding a
 * problem to d. */
int content_team(const yamldoc *doc, const yamldoc_node *n, char **out, struct diag *d);

/* -------------------------------------------------------------- files */

/* Returns a new string the caller frees: "dir/name", without repeating a
 * trailing '/' of dir. Borrows both. */
char *content_path_join(const char *dir, const char *name);

/* 1 when s ends with suffix (both borrowed). */
int content_ends_with(const char *s, const char *suffix);

/* Reads the regular file path (borrowed) of at most max bytes. On success
 * returns 0 with *buf a new NUL-terminated buffer the caller frees and
 * *len its length. Otherwise returns -1 after adding one problem for path
 * to d (cannot open, not a regular file, too large, cannot read). */
int content_read_file(const char *path, size_t max, char **buf, size_t *len,
		      struct diag *d);

/* Called by content_list_dir() for one entry: path ("dir/name"), name and
 * st are borrowed for the call. */
typedef void content_entry_fn(void *ud, const char *path, const char *name,
			      const struct stat *st);

/* Calls fn(ud, ...) for each entry of dir (borrowed) in strcmp() order of
 * names, leaving out names that start with '.'. st is stat()'s answer, so
 * links are followed; an entry stat() refuses is reported to d as
 * "<path>: cannot read: <reason>" and skipped. When stop is not NULL the
 * listing ends as soon as *stop is nonzero (looked at before each entry).
 * Returns 0, or -1 after adding "<dir>: cannot read <what>: <reason>" to d
 * when dir cannot be listed (what names it: "the rules directory"). */
int content_list_dir(const char *dir, const char *what, content_entry_fn *fn, void *ud,
		     const int *stop, struct diag *d);

/* ------------------------------------------------------------ repeats */

/* A content_drop_repeats() element's key (borrowed from el). */
typedef const char *content_key_fn(const void *el);

/* Called by content_drop_repeats() for an element whose key repeats that
 * of kept, the earliest element with that key: reports el (to ud) and
 * releases what el owns; el's bytes are overwritten afterwards. */
typedef void content_drop_fn(void *ud, void *el, const void *kept);

/* Removes the elements of v[from..n) (an array of elements of size bytes;
 * v may be NULL when from == n) whose key repeats an earlier one of them,
 * keeping the order of the rest, and returns the new element count.
 * drop(ud, el, kept) is called for each removed element in strcmp() order
 * of keys, then in array order, so reports come out sorted. */
size_t content_drop_repeats(void *v, size_t from, size_t n, size_t size, content_key_fn *key,
			    content_drop_fn *drop, void *ud);

#endif
