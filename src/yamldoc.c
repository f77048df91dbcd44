/* yamldoc.c: a read-only YAML tree on libyaml's event parser. See yamldoc.h.
 *
 * The tree is built with an explicit stack of open containers, bounded by
 * YAMLDOC_MAX_DEPTH, so no input can recurse. Every node is also listed in
 * the document's `all` array, which is what yamldoc_free() walks. */
#include "yamldoc.h"
#include "xalloc.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

struct yamldoc_node {
	enum yamldoc_kind kind;
	int line;                     /* 1-based file line */
	unsigned char null;           /* scalar: YAML null */
	unsigned char block;          /* scalar: literal or folded style */
	char *text;                   /* scalar: NUL-terminated text */
	size_t len;                   /* scalar: bytes of text */
	struct yamldoc_node **items;  /* seq: items; map: key, value, key, ... */
	size_t n, cap;
};

struct yamldoc {
	char *file;
	struct yamldoc_node *root;
	struct yamldoc_node **all;    /* every node, for freeing */
	size_t n_all, cap_all;
};

/* ---------------------------------------------------------------- text */

/* Finds the first byte of s that breaks the text rule (see
 * yamldoc_check_text). Returns 0 when there is none, else 1 with its
 * offset in *at and a reason in why. */
static int text_problem(const unsigned char *s, size_t len, size_t *at, char *why,
			size_t whylen)
{
	size_t i = 0;
	while (i < len) {
		unsigned c = s[i];
		if (c < 0x80) {
			if (c == 0) {
				snprintf(why, whylen, "NUL bytes are not allowed");
				goto bad;
			}
			if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
				snprintf(why, whylen, "control character U+%04X is not allowed", c);
				goto bad;
			}
			i++;
			continue;
		}
		size_t cl;
		unsigned cp, min;
		if (c >= 0xc2 && c <= 0xdf) {
			cl = 2; cp = c & 0x1f; min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			cl = 3; cp = c & 0x0f; min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			cl = 4; cp = c & 0x07; min = 0x10000;
		} else {
			goto bad_utf8;
		}
		if (len - i < cl)
			goto bad_utf8;
		for (size_t k = 1; k < cl; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				goto bad_utf8;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			goto bad_utf8;
		if (cp >= 0x80 && cp < 0xa0 && cp != 0x85) {
			snprintf(why, whylen, "control character U+%04X is not allowed", cp);
			goto bad;
		}
		i += cl;
	}
	return 0;
bad_utf8:
	snprintf(why, whylen, "invalid UTF-8 (byte 0x%02X); save the file as UTF-8", s[i]);
bad:
	*at = i;
	return 1;
}

int yamldoc_check_text(const char *file, int first_line, const char *buf, size_t len,
		       struct diag *d)
{
	char why[96];
	size_t at;
	if (!text_problem((const unsigned char *)buf, len, &at, why, sizeof(why)))
		return 0;
	int line = first_line;
	for (size_t i = 0; i < at; i++)
		if (buf[i] == '\n')
			line++;
	diag_add(d, file, line, "%s", why);
	return -1;
}

/* ------------------------------------------------------------- building */


static struct yamldoc_node *node_new(yamldoc *doc, enum yamldoc_kind kind, int line)
{
	struct yamldoc_node *n = calloc(1, sizeof(*n));
	if (!n)
		abort();
	n->kind = kind;
	n->line = line;
	if (doc->n_all == doc->cap_all) {
		doc->cap_all = doc->cap_all ? doc->cap_all * 2 : 64;
		doc->all = xrealloc(doc->all, doc->cap_all * sizeof(*doc->all));
	}
	doc->all[doc->n_all++] = n;
	return n;
}

static void node_push(struct yamldoc_node *parent, struct yamldoc_node *child)
{
	if (parent->n == parent->cap) {
		parent->cap = parent->cap ? parent->cap * 2 : 8;
		parent->items = xrealloc(parent->items, parent->cap * sizeof(*parent->items));
	}
	parent->items[parent->n++] = child;
}

/* The state of one parse: what is open, how much was made. */
struct build {
	yamldoc *doc;
	const char *buf;
	size_t len;
	int first_line;
	struct diag *d;
	struct yamldoc_node *stack[YAMLDOC_MAX_DEPTH];
	int depth;
	int docs;          /* documents started */
	size_t nodes;
};

static int line_of_offset(const struct build *b, size_t off)
{
	int line = b->first_line;
	for (size_t i = 0; i < off && i < b->len; i++)
		if (b->buf[i] == '\n')
			line++;
	return line;
}

static void parser_problem(struct build *b, const yaml_parser_t *p)
{
	const char *file = b->doc->file;
	switch (p->error) {
	case YAML_MEMORY_ERROR:
		abort();
	case YAML_READER_ERROR:
		diag_add(b->d, file, line_of_offset(b, p->problem_offset), "YAML: %s",
			 p->problem ? p->problem : "cannot read the input");
		return;
	default:
		if (p->context && p->context_mark.line != p->problem_mark.line)
			diag_add(b->d, file, (int)p->problem_mark.line + b->first_line,
				 "YAML syntax error: %s (%s on line %d)",
				 p->problem ? p->problem : "invalid YAML", p->context,
				 (int)p->context_mark.line + b->first_line);
		else if (p->context)
			diag_add(b->d, file, (int)p->problem_mark.line + b->first_line,
				 "YAML syntax error: %s (%s)",
				 p->problem ? p->problem : "invalid YAML", p->context);
		else
			diag_add(b->d, file, (int)p->problem_mark.line + b->first_line,
				 "YAML syntax error: %s", p->problem ? p->problem : "invalid YAML");
		return;
	}
}

/* Refuses anchors and tags on a node's event. Returns 0 or -1. */
static int check_props(struct build *b, int line, const yaml_char_t *anchor,
		       const yaml_char_t *tag)
{
	char snip[48];
	if (anchor) {
		diag_add(b->d, b->doc->file, line,
			 "YAML anchors (&%s) are not supported: write the value out in full",
			 diag_snip((const char *)anchor, 32, snip, sizeof(snip)));
		return -1;
	}
	if (tag) {
		diag_add(b->d, b->doc->file, line, "YAML tags (%s) are not supported",
			 diag_snip((const char *)tag, 32, snip, sizeof(snip)));
		return -1;
	}
	return 0;
}

/* Hangs a new node under the open container (or makes it the root). */
static int attach(struct build *b, struct yamldoc_node *n)
{
	if (++b->nodes > YAMLDOC_MAX_NODES) {
		diag_add(b->d, b->doc->file, n->line, "more than %d YAML values in one document",
			 YAMLDOC_MAX_NODES);
		return -1;
	}
	if (b->depth == 0) {
		b->doc->root = n;
		return 0;
	}
	struct yamldoc_node *parent = b->stack[b->depth - 1];
	if (parent->kind == YAMLDOC_MAP && parent->n % 2 == 0 && n->kind != YAMLDOC_SCALAR) {
		diag_add(b->d, b->doc->file, n->line, "mapping keys must be plain text");
		return -1;
	}
	node_push(parent, n);
	return 0;
}

static int cmp_key(const void *a, const void *b)
{
	const struct yamldoc_node *x = *(const struct yamldoc_node *const *)a;
	const struct yamldoc_node *y = *(const struct yamldoc_node *const *)b;
	int c = strcmp(x->text, y->text);
	if (c)
		return c;
	return (x->line > y->line) - (x->line < y->line);
}

/* Refuses a mapping with a repeated key. Sorting keeps this O(n log n)
 * for hostile mappings with many keys. */
static int check_duplicates(struct build *b, const struct yamldoc_node *map)
{
	size_t pairs = map->n / 2;
	int rc = 0;
	if (pairs < 2)
		return 0;
	struct yamldoc_node **keys = xrealloc(NULL, pairs * sizeof(*keys));
	for (size_t i = 0; i < pairs; i++)
		keys[i] = map->items[2 * i];
	qsort(keys, pairs, sizeof(*keys), cmp_key);
	for (size_t i = 1; i < pairs; i++) {
		if (strcmp(keys[i - 1]->text, keys[i]->text) == 0) {
			char snip[80];
			diag_add(b->d, b->doc->file, keys[i]->line,
				 "duplicate key '%s' (first on line %d)",
				 diag_snip(keys[i]->text, 64, snip, sizeof(snip)), keys[i - 1]->line);
			rc = -1;
			break;
		}
	}
	free(keys);
	return rc;
}

static int on_scalar(struct build *b, const yaml_event_t *ev, int line)
{
	char why[96];
	size_t at;
	if (check_props(b, line, ev->data.scalar.anchor, ev->data.scalar.tag) < 0)
		return -1;
	const char *v = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	/* Escapes in quoted scalars can make what the raw text check let by. */
	if (text_problem((const unsigned char *)v, len, &at, why, sizeof(why))) {
		diag_add(b->d, b->doc->file, line, "%s", why);
		return -1;
	}
	struct yamldoc_node *n = node_new(b->doc, YAMLDOC_SCALAR, line);
	n->text = xrealloc(NULL, len + 1);
	memcpy(n->text, v, len);
	n->text[len] = '\0';
	n->len = len;
	n->block = ev->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
		   ev->data.scalar.style == YAML_FOLDED_SCALAR_STYLE;
	n->null = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		  (len == 0 || strcmp(n->text, "~") == 0 || strcmp(n->text, "null") == 0 ||
		   strcmp(n->text, "Null") == 0 || strcmp(n->text, "NULL") == 0);
	return attach(b, n);
}

static int on_open(struct build *b, enum yamldoc_kind kind, int line,
		   const yaml_char_t *anchor, const yaml_char_t *tag)
{
	if (check_props(b, line, anchor, tag) < 0)
		return -1;
	if (b->depth == YAMLDOC_MAX_DEPTH) {
		diag_add(b->d, b->doc->file, line, "YAML nesting deeper than %d levels",
			 YAMLDOC_MAX_DEPTH);
		return -1;
	}
	struct yamldoc_node *n = node_new(b->doc, kind, line);
	if (attach(b, n) < 0)
		return -1;
	b->stack[b->depth++] = n;
	return 0;
}

/* Handles one event. Returns 1 at the end of the stream, 0 to go on, -1
 * after a problem. */
static int on_event(struct build *b, const yaml_event_t *ev)
{
	int line = (int)ev->start_mark.line + b->first_line;
	char snip[48];
	switch (ev->type) {
	case YAML_STREAM_START_EVENT:
	case YAML_DOCUMENT_END_EVENT:
	case YAML_NO_EVENT:
		return 0;
	case YAML_STREAM_END_EVENT:
		return 1;
	case YAML_DOCUMENT_START_EVENT:
		if (++b->docs > 1) {
			diag_add(b->d, b->doc->file, line,
				 "only one YAML document is allowed (a second one starts here)");
			return -1;
		}
		if (ev->data.document_start.tag_directives.start !=
		    ev->data.document_start.tag_directives.end) {
			diag_add(b->d, b->doc->file, line, "YAML %%TAG directives are not supported");
			return -1;
		}
		return 0;
	case YAML_ALIAS_EVENT:
		diag_add(b->d, b->doc->file, line, "YAML aliases (*%s) are not supported",
			 diag_snip((const char *)ev->data.alias.anchor, 32, snip, sizeof(snip)));
		return -1;
	case YAML_SCALAR_EVENT:
		return on_scalar(b, ev, line);
	case YAML_SEQUENCE_START_EVENT:
		return on_open(b, YAMLDOC_SEQ, line, ev->data.sequence_start.anchor,
			       ev->data.sequence_start.tag);
	case YAML_MAPPING_START_EVENT:
		return on_open(b, YAMLDOC_MAP, line, ev->data.mapping_start.anchor,
			       ev->data.mapping_start.tag);
	case YAML_SEQUENCE_END_EVENT:
		b->depth--;
		return 0;
	case YAML_MAPPING_END_EVENT:
		b->depth--;
		return check_duplicates(b, b->stack[b->depth]);
	}
	return 0;
}

yamldoc *yamldoc_parse(const char *file, int first_line, const char *buf, size_t len,
		       struct diag *d)
{
	yaml_parser_t p;
	struct build b;
	yamldoc *doc;
	int done = 0;

	if (len > YAMLDOC_MAX_BYTES) {
		diag_add(d, file, 0, "YAML text too large (%zu bytes; the limit is %u)", len,
			 YAMLDOC_MAX_BYTES);
		return NULL;
	}
	if (yamldoc_check_text(file, first_line, buf, len, d) < 0)
		return NULL;
	doc = calloc(1, sizeof(*doc));
	if (!doc)
		abort();
	doc->file = strdup(file);
	if (!doc->file)
		abort();
	memset(&b, 0, sizeof(b));
	b.doc = doc;
	b.buf = buf;
	b.len = len;
	b.first_line = first_line;
	b.d = d;

	if (!yaml_parser_initialize(&p))
		abort();
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
	while (!done) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&p, &ev)) {
			parser_problem(&b, &p);
			goto err;
		}
		int rc = on_event(&b, &ev);
		yaml_event_delete(&ev);
		if (rc < 0)
			goto err;
		done = rc == 1;
	}
	yaml_parser_delete(&p);
	return doc;
err:
	yaml_parser_delete(&p);
	yamldoc_free(doc);
	return NULL;
}

void yamldoc_free(yamldoc *doc)
{
	if (!doc)
		return;
	for (size_t i = 0; i < doc->n_all; i++) {
		free(doc->all[i]->text);
		free(doc->all[i]->items);
		free(doc->all[i]);
	}
	free(doc->all);
	free(doc->file);
	free(doc);
}

/* ------------------------------------------------------------- reading */

const yamldoc_node *yamldoc_root(const yamldoc *doc)
{
	return doc->root;
}

const char *yamldoc_file(const yamldoc *doc)
{
	return doc->file;
}

enum yamldoc_kind yamldoc_kind(const yamldoc_node *n)
{
	return n->kind;
}

int yamldoc_line(const yamldoc_node *n)
{
	return n->line;
}

size_t yamldoc_len(const yamldoc_node *n)
{
	switch (n->kind) {
	case YAMLDOC_SCALAR:
		return n->len;
	case YAMLDOC_SEQ:
		return n->n;
	case YAMLDOC_MAP:
		return n->n / 2;
	}
	return 0;
}

const yamldoc_node *yamldoc_item(const yamldoc_node *seq, size_t i)
{
	return seq->kind == YAMLDOC_SEQ && i < seq->n ? seq->items[i] : NULL;
}

const yamldoc_node *yamldoc_key(const yamldoc_node *map, size_t i)
{
	return map->kind == YAMLDOC_MAP && 2 * i + 1 < map->n ? map->items[2 * i] : NULL;
}

const yamldoc_node *yamldoc_value(const yamldoc_node *map, size_t i)
{
	return map->kind == YAMLDOC_MAP && 2 * i + 1 < map->n ? map->items[2 * i + 1] : NULL;
}

const yamldoc_node *yamldoc_get(const yamldoc_node *map, const char *key)
{
	if (!map || map->kind != YAMLDOC_MAP)
		return NULL;
	for (size_t i = 0; i + 1 < map->n; i += 2)
		if (strcmp(map->items[i]->text, key) == 0)
			return map->items[i + 1];
	return NULL;
}

const char *yamldoc_text(const yamldoc_node *n)
{
	return n->kind == YAMLDOC_SCALAR ? n->text : NULL;
}

int yamldoc_is_null(const yamldoc_node *n)
{
	return n->kind == YAMLDOC_SCALAR && n->null;
}

int yamldoc_is_block(const yamldoc_node *n)
{
	return n->kind == YAMLDOC_SCALAR && n->block;
}

/* ---------------------------------------------------------- conversions */

static const char *kind_name(const yamldoc_node *n)
{
	switch (n->kind) {
	case YAMLDOC_SCALAR:
		return n->null ? "nothing" : "text";
	case YAMLDOC_SEQ:
		return "a list";
	case YAMLDOC_MAP:
		return "a mapping";
	}
	return "?";
}

/* Requires a non-null scalar; reports "<what> must be <expect>, got ...". */
static int want_scalar(const yamldoc *doc, const yamldoc_node *n, const char *what,
		       const char *expect, struct diag *d)
{
	if (n->kind == YAMLDOC_SCALAR && !n->null)
		return 0;
	diag_add(d, doc->file, n->line, "%s must be %s, got %s", what, expect, kind_name(n));
	return -1;
}

int yamldoc_string(const yamldoc *doc, const yamldoc_node *n, const char *what, size_t max,
		   const char **out, struct diag *d)
{
	if (want_scalar(doc, n, what, "text", d) < 0)
		return -1;
	if (n->len > max) {
		diag_add(d, doc->file, n->line, "%s is too long (%zu bytes; the limit is %zu)",
			 what, n->len, max);
		return -1;
	}
	if (strspn(n->text, " \t\r\n") == n->len) {
		diag_add(d, doc->file, n->line, "%s must not be empty", what);
		return -1;
	}
	*out = n->text;
	return 0;
}

/* Text-to-value conversions for want_typed(): each returns 1 and sets *out
 * when all of text (len bytes) is one value of its type, else 0. */
typedef int parse_fn(const char *text, size_t len, void *out);

/* A decimal integer with an optional sign, within long. */
static int parse_long(const char *s, size_t len, void *out)
{
	char *end;
	size_t digits = strspn(s + (*s == '-' || *s == '+'), "0123456789");
	(void)len;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (digits == 0 || *end != '\0' || errno == ERANGE)
		return 0;
	*(long *)out = v;
	return 1;
}

/* A finite number in decimal notation only: no hex floats, inf or nan. */
static int parse_double(const char *s, size_t len, void *out)
{
	char *end;
	if (strspn(s, "0123456789+-.eE") != len || !strpbrk(s, "0123456789"))
		return 0;
	errno = 0;
	double v = strtod(s, &end);
	if (*end != '\0' || errno == ERANGE || !isfinite(v))
		return 0;
	*(double *)out = v;
	return 1;
}

/* true/yes/on or false/no/off, in any case. */
static int parse_bool(const char *s, size_t len, void *out)
{
	static const char *const yes[] = {"true", "yes", "on"};
	static const char *const no[] = {"false", "no", "off"};
	(void)len;
	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*(int *)out = 1;
			return 1;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*(int *)out = 0;
			return 1;
		}
	}
	return 0;
}

/* Requires a non-null scalar whose text parse() accepts, storing the value
 * in *out; else reports "<what> must be <expect>, got ..." and returns -1. */
static int want_typed(const yamldoc *doc, const yamldoc_node *n, const char *what,
		      const char *expect, parse_fn *parse, void *out, struct diag *d)
{
	char snip[48];
	if (want_scalar(doc, n, what, expect, d) < 0)
		return -1;
	if (parse(n->text, n->len, out))
		return 0;
	diag_add(d, doc->file, n->line, "%s must be %s, got '%s'", what, expect,
		 diag_snip(n->text, 32, snip, sizeof(snip)));
	return -1;
}

int yamldoc_int(const yamldoc *doc, const yamldoc_node *n, const char *what, long min,
		long max, long *out, struct diag *d)
{
	long v;
	if (want_typed(doc, n, what, "an integer", parse_long, &v, d) < 0)
		return -1;
	if (v < min || v > max) {
		diag_add(d, doc->file, n->line, "%s must be between %ld and %ld, got %ld", what,
			 min, max, v);
		return -1;
	}
	*out = v;
	return 0;
}

int yamldoc_double(const yamldoc *doc, const yamldoc_node *n, const char *what, double min,
		   double max, double *out, struct diag *d)
{
	double v;
	if (want_typed(doc, n, what, "a number", parse_double, &v, d) < 0)
		return -1;
	if (v < min || v > max) {
		diag_add(d, doc->file, n->line, "%s must be between %g and %g, got %g", what, min,
			 max, v);
		return -1;
	}
	*out = v;
	return 0;
}

int yamldoc_bool(const yamldoc *doc, const yamldoc_node *n, const char *what, int *out,
		 struct diag *d)
{
	return want_typed(doc, n, what, "true or false", parse_bool, out, d);
}

int yamldoc_strings(const yamldoc *doc, const yamldoc_node *n, const char *what,
		    size_t min_items, size_t max_items, size_t max_bytes, char ***out,
		    size_t *n_out, struct diag *d)
{
	char **v = NULL;
	size_t count = 0;
	*out = NULL;
	*n_out = 0;
	if (n->kind != YAMLDOC_SEQ) {
		diag_add(d, doc->file, n->line, "%s must be a list ('- item' lines), got %s",
			 what, kind_name(n));
		return -1;
	}
	if (n->n < min_items) {
		diag_add(d, doc->file, n->line, "%s needs at least %zu item%s", what, min_items,
			 min_items == 1 ? "" : "s");
		return -1;
	}
	if (n->n > max_items) {
		diag_add(d, doc->file, n->line, "%s has %zu items; the limit is %zu", what, n->n,
			 max_items);
		return -1;
	}
	v = n->n ? xrealloc(NULL, n->n * sizeof(*v)) : NULL;
	for (size_t i = 0; i < n->n; i++) {
		char item_what[96];
		const char *s;
		snprintf(item_what, sizeof(item_what), "item %zu of %s", i + 1, what);
		if (yamldoc_string(doc, n->items[i], item_what, max_bytes, &s, d) < 0)
			goto err;
		v[count] = strdup(s);
		if (!v[count])
			abort();
		count++;
	}
	*out = v;
	*n_out = count;
	return 0;
err:
	for (size_t i = 0; i < count; i++)
		free(v[i]);
	free(v);
	return -1;
}

/* Levenshtein distance of two short strings, capped at 9. */
static int distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int row[65];
	if (la > 64 || lb > 64)
		return 9;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int diag_prev = row[0];
		row[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int up = row[j];
			int best = diag_prev + (a[i - 1] != b[j - 1]);
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			if (up + 1 < best)
				best = up + 1;
			row[j] = best;
			diag_prev = up;
		}
	}
	return row[lb] > 9 ? 9 : row[lb];
}

int yamldoc_check_keys(const yamldoc *doc, const yamldoc_node *map, const char *what,
		       const char *const *allowed, struct diag *d)
{
	int rc = 0;
	if (map->kind != YAMLDOC_MAP) {
		diag_add(d, doc->file, map->line, "%s must be a mapping of 'key: value' lines, got %s",
			 what, kind_name(map));
		return -1;
	}
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const char *key = map->items[i]->text;
		const char *near = NULL;
		/* Suggest a key within 2 edits (1 for short keys). */
		int best = strlen(key) > 4 ? 3 : 2;
		size_t k;
		char snip[80];
		for (k = 0; allowed[k]; k++) {
			if (strcmp(key, allowed[k]) == 0)
				break;
			int dist = distance(key, allowed[k]);
			if (dist < best) {
				best = dist;
				near = allowed[k];
			}
		}
		if (allowed[k])
			continue;
		diag_snip(key, 64, snip, sizeof(snip));
		if (near) {
			diag_add(d, doc->file, map->items[i]->line,
				 "unknown key '%s' in %s (did you mean '%s'?)", snip, what, near);
		} else {
			char list[256];
			size_t o = 0;
			list[0] = '\0';
			for (k = 0; allowed[k] && o < sizeof(list); k++)
				o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
						      k ? ", " : "", allowed[k]);
			diag_add(d, doc->file, map->items[i]->line,
				 "unknown key '%s' in %s (allowed: %s)", snip, what, list);
		}
		rc = -1;
	}
	return rc;
}
