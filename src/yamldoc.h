/* yamldoc.h: a small read-only YAML tree for content files.
 *
 * Built from libyaml's event parser. Every node knows its 1-based file
 * line. Only what content files need is accepted: one document of
 * scalars, sequences and mappings whose keys are plain text. Refused, with
 * a "file:line: reason" problem:
 *   - anchors (&a), aliases (*a) and tags (!x, %TAG): without aliases a
 *     document cannot expand (no "billion laughs"), and tags only ever
 *     mean trouble in hand-written content;
 *   - a key that appears twice in one mapping;
 *   - nesting deeper than YAMLDOC_MAX_DEPTH, more than YAMLDOC_MAX_NODES
 *     nodes, input over YAMLDOC_MAX_BYTES (file readers keep their own,
 *     smaller limits);
 *   - text that is not UTF-8, or holds NUL or control characters (tab, CR
 *     and LF excepted), also inside quoted scalars ("\0", "\x07").
 * Scalars keep their text; a type is only given to a scalar when a caller
 * asks for one (yamldoc_int() and friends), which reports a type error
 * naming the key, e.g. "rules/en/account.yaml:7: 'priority' must be an
 * integer, got 'high'". */
#ifndef SUPPORTD_YAMLDOC_H
#define SUPPORTD_YAMLDOC_H

#include <stddef.h>

#include "diag.h"

#define YAMLDOC_MAX_DEPTH 32
#define YAMLDOC_MAX_NODES 100000
#define YAMLDOC_MAX_BYTES (4u << 20)

typedef struct yamldoc yamldoc;
typedef struct yamldoc_node yamldoc_node;

enum yamldoc_kind { YAMLDOC_SCALAR, YAMLDOC_SEQ, YAMLDOC_MAP };

/* Parses len bytes of YAML. file (borrowed, copied) names the source in
 * messages; first_line is the file line of buf's first line (1 for a whole
 * file). Returns a new document (free with yamldoc_free), or NULL after
 * adding the first problem to d. A document with no content (empty, only
 * comments) is valid and has a NULL root. */
yamldoc *yamldoc_parse(const char *file, int first_line, const char *buf, size_t len,
		       struct diag *d);
void yamldoc_free(yamldoc *doc);

/* The document's root node, or NULL when it has none. Nodes are owned by
 * the document and live until yamldoc_free(). */
const yamldoc_node *yamldoc_root(const yamldoc *doc);
/* The file name given to yamldoc_parse(). */
const char *yamldoc_file(const yamldoc *doc);

enum yamldoc_kind yamldoc_kind(const yamldoc_node *n);
int yamldoc_line(const yamldoc_node *n);
/* Items of a sequence, pairs of a mapping, bytes of a scalar. */
size_t yamldoc_len(const yamldoc_node *n);
/* The i-th item of a sequence (i < yamldoc_len). */
const yamldoc_node *yamldoc_item(const yamldoc_node *seq, size_t i);
/* The key (always a scalar) and value of a mapping's i-th pair, in file
 * order. */
const yamldoc_node *yamldoc_key(const yamldoc_node *map, size_t i);
const yamldoc_node *yamldoc_value(const yamldoc_node *map, size_t i);
/* A mapping's value for key, or NULL when absent (or map is not a map). */
const yamldoc_node *yamldoc_get(const yamldoc_node *map, const char *key);
/* A scalar's NUL-terminated text (borrowed), or NULL for other kinds. */
const char *yamldoc_text(const yamldoc_node *n);
/* 1 when a scalar is YAML's null: unquoted "", "~", "null", "Null", "NULL". */
int yamldoc_is_null(const yamldoc_node *n);
/* 1 for a literal (|) or folded (>) scalar, whose text starts on the line
 * after yamldoc_line(). */
int yamldoc_is_block(const yamldoc_node *n);

/* Type checks and conversions. `what` names the value in messages
 * ("'priority'"). Each returns 0, or -1 after adding a problem to d.
 * yamldoc_string: a non-null scalar of at most max bytes, not blank;
 *   *out borrows the node's text.
 * yamldoc_int: a decimal integer (optional sign) in [min, max].
 * yamldoc_double: a finite decimal number in [min, max].
 * yamldoc_bool: true/false (also yes/no, on/off, any case).
 * yamldoc_strings: a sequence of min_items to max_items strings, each as
 *   yamldoc_string; *out is a new array of new strings (the caller frees
 *   each and the array; NULL when there are none), *n_out their count. On
 *   error *out is NULL and *n_out 0. */
int yamldoc_string(const yamldoc *doc, const yamldoc_node *n, const char *what, size_t max,
		   const char **out, struct diag *d);
int yamldoc_int(const yamldoc *doc, const yamldoc_node *n, const char *what, long min,
		long max, long *out, struct diag *d);
int yamldoc_double(const yamldoc *doc, const yamldoc_node *n, const char *what, double min,
		   double max, double *out, struct diag *d);
int yamldoc_bool(const yamldoc *doc, const yamldoc_node *n, const char *what, int *out,
		 struct diag *d);
int yamldoc_strings(const yamldoc *doc, const yamldoc_node *n, const char *what,
		    size_t min_items, size_t max_items, size_t max_bytes, char ***out, size_t *n_out,
		    struct diag *d);

/* Checks that map is a mapping whose keys are all in allowed (a
 * NULL-terminated list); each other key is a problem naming the closest
 * allowed key when one is near ("unknown key 'titel' (did you mean
 * 'title'?)"). `what` names the mapping ("front matter", "intent"). Returns
 * 0, or -1 after adding problems. */
int yamldoc_check_keys(const yamldoc *doc, const yamldoc_node *map, const char *what,
		       const char *const *allowed, struct diag *d);

/* Checks that len bytes of text are UTF-8 without NUL or control
 * characters other than tab, CR and LF; first_line is the file line of
 * buf's first byte. The same rule yamldoc_parse() applies; faq.c runs it
 * over whole files, Markdown body included. Returns 0, or -1 after adding
 * one problem (the first) to d. */
int yamldoc_check_text(const char *file, int first_line, const char *buf, size_t len,
		       struct diag *d);

#endif
