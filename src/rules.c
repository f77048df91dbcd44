/* rules.c: loading rules/ and matching intents' patterns. See rules.h; the
 * format is documented for editors in docs/content.md. */
#include "rules.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "content.h"
#include "yamldoc.h"
#include "xalloc.h"

/* ------------------------------------------------------------- helpers */

/* 1 when s is made of [a-z0-9_] only (and is not empty). */
static int valid_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_'))
			return 0;
	return 1;
}

static void intent_clear(struct rule_intent *r)
{
	free(r->name);
	free(r->lang);
	free(r->label);
	free(r->team);
	free(r->reply);
	free(r->faq);
	free(r->flow);
	for (size_t i = 0; i < r->n_examples; i++)
		free(r->examples[i]);
	free(r->examples);
	for (size_t i = 0; i < r->n_patterns; i++) {
		free(r->patterns[i].source);
		pcre2_code_free(r->patterns[i].code);
	}
	free(r->patterns);
	free(r->file);
	memset(r, 0, sizeof(*r));
}

void rule_set_clear(struct rule_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		intent_clear(&s->v[i]);
	free(s->v);
	language_set_clear(&s->languages);
	memset(s, 0, sizeof(*s));
}

static void set_push(struct rule_set *s, const struct rule_intent *r)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 32;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = *r;
}

/* ------------------------------------------------------------ patterns */

/* 1 when code matches the empty string, i.e. every message. */
static int matches_empty(const pcre2_code *code)
{
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	pcre2_match_context *mc = pcre2_match_context_create(NULL);
	if (!md || !mc)
		abort();
	pcre2_set_match_limit(mc, 10000);
	int rc = pcre2_match(code, (PCRE2_SPTR) "", 0, 0, 0, md, mc);
	pcre2_match_context_free(mc);
	pcre2_match_data_free(md);
	return rc >= 0;
}

/* Compiles the pattern node n of intent `intent` into *out. Returns 0, or
 * -1 after a problem. */
static int compile_pattern(const yamldoc *doc, const yamldoc_node *n, const char *intent,
			   pcre2_compile_context *cc, struct rule_pattern *out, struct diag *d)
{
	const char *src;
	char snip[96], what[96];
	int err;
	PCRE2_SIZE off;

	snprintf(what, sizeof(what), "a pattern of intent '%s'", intent);
	if (yamldoc_string(doc, n, what, RULES_PATTERN_MAX, &src, d) < 0)
		return -1;
	diag_snip(src, 60, snip, sizeof(snip));
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)src, strlen(src),
					 PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS |
						 PCRE2_NEVER_BACKSLASH_C,
					 &err, &off, cc);
	if (!code) {
		PCRE2_UCHAR msg[256];
		if (pcre2_get_error_message(err, msg, sizeof(msg)) < 0)
			snprintf((char *)msg, sizeof(msg), "error %d", err);
		diag_add(d, yamldoc_file(doc), yamldoc_line(n),
			 "pattern '%s' in intent '%s': %s at offset %zu", snip, intent,
			 (const char *)msg, (size_t)off);
		return -1;
	}
	/* No JIT (unsupported CPU, no executable memory) only costs speed. */
	(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
	if (matches_empty(code)) {
		diag_add(d, yamldoc_file(doc), yamldoc_line(n),
			 "pattern '%s' in intent '%s' matches an empty message, so it would match "
			 "every message",
			 snip, intent);
		pcre2_code_free(code);
		return -1;
	}
	out->source = xstrdup(src);
	out->code = code;
	out->line = yamldoc_line(n);
	return 0;
}

struct rules_matcher {
	pcre2_match_data *md;
	pcre2_match_context *mc;
};

rules_matcher *rules_matcher_new(uint32_t match_limit, uint32_t depth_limit)
{
	rules_matcher *m = calloc(1, sizeof(*m));
	if (!m)
		abort();
	/* One pair is enough: only "did it match" is asked. */
	m->md = pcre2_match_data_create(1, NULL);
	m->mc = pcre2_match_context_create(NULL);
	if (!m->md || !m->mc)
		abort();
	pcre2_set_match_limit(m->mc, match_limit);
	pcre2_set_depth_limit(m->mc, depth_limit);
	pcre2_set_heap_limit(m->mc, depth_limit < 64 ? 64 : depth_limit);
	return m;
}

void rules_matcher_free(rules_matcher *m)
{
	if (!m)
		return;
	pcre2_match_data_free(m->md);
	pcre2_match_context_free(m->mc);
	free(m);
}

/* 1 on a match, 0 on none (or an invalid subject), -2 at a limit. */
static int try_match(rules_matcher *m, const pcre2_code *code, const char *s, size_t len)
{
	int rc = pcre2_match(code, (PCRE2_SPTR)s, len, 0, 0, m->md, m->mc);
	if (rc >= 0)
		return 1;
	switch (rc) {
	case PCRE2_ERROR_MATCHLIMIT:
	case PCRE2_ERROR_DEPTHLIMIT:
	case PCRE2_ERROR_HEAPLIMIT:
	case PCRE2_ERROR_JIT_STACKLIMIT:
		return -2;
	default:
		return 0;
	}
}

int rules_match(rules_matcher *m, const struct rule_intent *r, const char *text, size_t len,
		const char *folded, size_t folded_len, int *limited_pattern)
{
	for (size_t i = 0; i < r->n_patterns; i++) {
		int rc = try_match(m, r->patterns[i].code, text, len);
		if (rc == 0 && folded)
			rc = try_match(m, r->patterns[i].code, folded, folded_len);
		if (rc == 1)
			return (int)i;
		if (rc == -2) {
			*limited_pattern = (int)i;
			return -2;
		}
	}
	return -1;
}

/* ------------------------------------------------------------- parsing */

/* Reads the action keys into *r: `reply`, or `faq`, or `flow`, or `flow`
 * with `faq` (the entry answers whenever the flow cannot run, and the
 * intent and the entry count as one candidate). */
static int parse_action(const yamldoc *doc, const yamldoc_node *map, const char *name,
			struct rule_intent *r, struct diag *d)
{
	const char *file = yamldoc_file(doc);
	const yamldoc_node *reply = yamldoc_get(map, "reply"), *faq = yamldoc_get(map, "faq"),
			   *flow = yamldoc_get(map, "flow");
	const char *s;
	char snip[80];

	if (!reply && !faq && !flow) {
		diag_add(d, file, r->line,
			 "intent '%s' needs an action: 'reply', 'faq', 'flow', or 'flow' with 'faq'",
			 name);
		return -1;
	}
	if (reply && (faq || flow)) {
		diag_add(d, file, yamldoc_line(faq ? faq : flow),
			 "intent '%s' has both 'reply' and '%s': a reply stands alone", name,
			 faq ? "faq" : "flow");
		return -1;
	}
	r->action_line = yamldoc_line(reply ? reply : flow ? flow : faq);
	if (reply) {
		if (yamldoc_string(doc, reply, "'reply'", RULES_REPLY_MAX, &s, d) < 0)
			return -1;
		if (faq_check_markdown(file, r->action_line + yamldoc_is_block(reply), s,
				       strlen(s), d) < 0)
			return -1;
		r->reply = content_trimmed_dup(s);
		return 0;
	}
	if (faq) {
		if (content_one_line(doc, faq, "'faq'", 64, &s, d) < 0)
			return -1;
		if (!content_valid_id(s)) {
			diag_add(d, file, yamldoc_line(faq), "faq '%s' is not a valid FAQ id",
				 diag_snip(s, 64, snip, sizeof(snip)));
			return -1;
		}
		r->faq = xstrdup(s);
	}
	if (flow) {
		if (content_one_line(doc, flow, "'flow'", RULES_NAME_MAX, &s, d) < 0)
			return -1;
		if (!valid_name(s)) {
			diag_add(d, file, yamldoc_line(flow),
				 "flow '%s' is not a valid flow name: use a-z, 0-9 and '_'",
				 diag_snip(s, 64, snip, sizeof(snip)));
			return -1;
		}
		r->flow = xstrdup(s);
	}
	return 0;
}

/* Parses one intent mapping into *r. *patterns counts the compiled
 * patterns of the whole set, against RULES_PATTERNS_TOTAL_MAX. Returns 0,
 * or -1 after problems (then *r is cleared). */
static int parse_intent(const yamldoc *doc, const yamldoc_node *map, const char *lang,
			pcre2_compile_context *cc, size_t *patterns, struct rule_intent *r,
			struct diag *d)
{
	static const char *const keys[] = {"name",     "label",    "priority", "team", "patterns",
					   "examples", "reply",    "faq",      "flow", NULL};
	const char *file = yamldoc_file(doc);
	const yamldoc_node *n;
	const char *s;
	const char *name = "?";
	char snip[80];
	int rc = 0;

	memset(r, 0, sizeof(*r));
	if (yamldoc_check_keys(doc, map, "an intent", keys, d) < 0)
		rc = -1;
	if (yamldoc_kind(map) != YAMLDOC_MAP)
		return -1;
	r->line = yamldoc_len(map) ? yamldoc_line(yamldoc_key(map, 0)) : yamldoc_line(map);

	if (!(n = yamldoc_get(map, "name"))) {
		diag_add(d, file, r->line, "intent without a 'name'");
		rc = -1;
	} else if (content_one_line(doc, n, "'name'", RULES_NAME_MAX, &s, d) < 0) {
		rc = -1;
	} else if (!valid_name(s)) {
		diag_add(d, file, yamldoc_line(n),
			 "intent name '%s' is not valid: use lower-case letters a-z, digits and '_'",
			 diag_snip(s, 64, snip, sizeof(snip)));
		rc = -1;
	} else {
		r->name = xstrdup(s);
		name = r->name;
	}

	if (!(n = yamldoc_get(map, "label"))) {
		diag_add(d, file, r->line,
			 "intent '%s' has no 'label' (the text of its \"did you mean\" button)", name);
		rc = -1;
	} else if (content_one_line(doc, n, "'label'", RULES_LABEL_MAX, &s, d) < 0) {
		rc = -1;
	} else {
		r->label = content_trimmed_dup(s);
	}

	if ((n = yamldoc_get(map, "priority"))) {
		long p;
		if (yamldoc_int(doc, n, "'priority'", -RULES_PRIORITY_MAX, RULES_PRIORITY_MAX, &p,
				d) < 0)
			rc = -1;
		else
			r->priority = (int)p;
	}

	if ((n = yamldoc_get(map, "team")) && content_team(doc, n, &r->team, d) < 0)
		rc = -1;

	if ((n = yamldoc_get(map, "examples"))) {
		if (yamldoc_strings(doc, n, "'examples'", 0, RULES_EXAMPLES_MAX, RULES_EXAMPLE_MAX,
				    &r->examples, &r->n_examples, d) < 0) {
			rc = -1;
		} else {
			content_trim_strings(r->examples, r->n_examples);
		}
	}

	const yamldoc_node *pats = yamldoc_get(map, "patterns");
	if (pats && yamldoc_kind(pats) != YAMLDOC_SEQ) {
		diag_add(d, file, yamldoc_line(pats), "'patterns' must be a list ('- item' lines)");
		rc = -1;
	} else if (pats && yamldoc_len(pats) > RULES_PATTERNS_MAX) {
		diag_add(d, file, yamldoc_line(pats), "'patterns' has %zu items; the limit is %d",
			 yamldoc_len(pats), RULES_PATTERNS_MAX);
		rc = -1;
	} else if (pats && yamldoc_len(pats)) {
		r->patterns = calloc(yamldoc_len(pats), sizeof(*r->patterns));
		if (!r->patterns)
			abort();
		for (size_t i = 0; i < yamldoc_len(pats); i++) {
			if (*patterns >= RULES_PATTERNS_TOTAL_MAX) {
				diag_add(d, file, yamldoc_line(yamldoc_item(pats, i)),
					 "more than %d patterns in all: this one is not loaded",
					 RULES_PATTERNS_TOTAL_MAX);
				rc = -1;
				break;
			}
			if (compile_pattern(doc, yamldoc_item(pats, i), name, cc,
					    &r->patterns[r->n_patterns], d) < 0) {
				rc = -1;
			} else {
				r->n_patterns++;
				(*patterns)++;
			}
		}
	}

	if (!yamldoc_get(map, "examples") && !(pats && yamldoc_len(pats))) {
		diag_add(d, file, r->line,
			 "intent '%s' needs 'examples' (phrases customers type) or 'patterns'", name);
		rc = -1;
	}

	if (parse_action(doc, map, name, r, d) < 0)
		rc = -1;

	if (rc < 0) {
		*patterns -= r->n_patterns;
		intent_clear(r);
		return -1;
	}
	r->lang = xstrdup(lang);
	r->file = xstrdup(file);
	if (!r->team)
		r->team = xstrdup("general");
	return 0;
}

/* Parses a whole rules file's len bytes (borrowed). Returns a new document
 * the caller frees with yamldoc_free(), or NULL after adding a problem to
 * d; files over RULES_FILE_MAX are refused. */
static yamldoc *parse_file(const char *file, const char *buf, size_t len, struct diag *d)
{
	if (len > RULES_FILE_MAX) {
		diag_add(d, file, 0, "file too large (%zu bytes; the limit is %d)", len,
			 RULES_FILE_MAX);
		return NULL;
	}
	return yamldoc_parse(file, 1, buf, len, d);
}

int rules_parse(const char *file, const char *lang, const char *buf, size_t len,
		struct rule_set *out, struct diag *d)
{
	static const char *const keys[] = {"intents", NULL};
	pcre2_compile_context *cc = NULL;
	yamldoc *doc;
	const yamldoc_node *root, *list;
	size_t patterns = 0;
	int rc = 0;

	if (!(doc = parse_file(file, buf, len, d)))
		return -1;
	if (!(root = yamldoc_root(doc))) {
		diag_add(d, file, 0, "the file is empty: it needs an 'intents:' list");
		goto err;
	}
	if (yamldoc_check_keys(doc, root, "a rules file", keys, d) < 0)
		rc = -1;
	if (!(list = yamldoc_get(root, "intents"))) {
		if (yamldoc_kind(root) == YAMLDOC_MAP)
			diag_add(d, file, yamldoc_line(root), "missing 'intents:' list");
		goto err;
	}
	if (yamldoc_kind(list) != YAMLDOC_SEQ) {
		diag_add(d, file, yamldoc_line(list),
			 "'intents' must be a list of intents, each starting with '- name:'");
		goto err;
	}
	cc = pcre2_compile_context_create(NULL);
	if (!cc)
		abort();
	pcre2_set_max_pattern_length(cc, RULES_PATTERN_MAX);
	pcre2_set_parens_nest_limit(cc, 64);
	for (size_t i = 0; i < out->n; i++)
		patterns += out->v[i].n_patterns;
	for (size_t i = 0; i < yamldoc_len(list); i++) {
		struct rule_intent r;
		if (out->n >= RULES_INTENTS_MAX) {
			diag_add(d, file, yamldoc_line(yamldoc_item(list, i)),
				 "more than %d intents: this one and the rest are not loaded",
				 RULES_INTENTS_MAX);
			goto err;
		}
		if (parse_intent(doc, yamldoc_item(list, i), lang, cc, &patterns, &r, d) < 0)
			rc = -1;
		else
			set_push(out, &r);
	}
	pcre2_compile_context_free(cc);
	yamldoc_free(doc);
	return rc;
err:
	pcre2_compile_context_free(cc);
	yamldoc_free(doc);
	return -1;
}

/* ---------------------------------------------------------- thresholds */

void rules_thresholds_default(struct rule_thresholds *t)
{
	t->answer = 0.55;
	t->clarify = 0.35;
	t->clarify_margin = 0.15;
}

int rules_parse_thresholds(const char *file, const char *buf, size_t len,
			   struct rule_thresholds *out, struct diag *d)
{
	static const char *const keys[] = {"answer", "clarify", "clarify_margin", NULL};
	struct rule_thresholds t;
	yamldoc *doc;
	const yamldoc_node *root, *n;
	int rc = 0;

	rules_thresholds_default(out);
	t = *out;
	if (!(doc = parse_file(file, buf, len, d)))
		return -1;
	if (!(root = yamldoc_root(doc))) {
		yamldoc_free(doc);
		return 0; /* only comments: the defaults */
	}
	if (yamldoc_check_keys(doc, root, "thresholds", keys, d) < 0)
		rc = -1;
	if ((n = yamldoc_get(root, "answer")) &&
	    yamldoc_double(doc, n, "'answer'", 0, 1, &t.answer, d) < 0)
		rc = -1;
	if ((n = yamldoc_get(root, "clarify")) &&
	    yamldoc_double(doc, n, "'clarify'", 0, 1, &t.clarify, d) < 0)
		rc = -1;
	if ((n = yamldoc_get(root, "clarify_margin")) &&
	    yamldoc_double(doc, n, "'clarify_margin'", 0, 1, &t.clarify_margin, d) < 0)
		rc = -1;
	if (rc == 0 && t.clarify > t.answer) {
		n = yamldoc_get(root, "clarify");
		if (!n)
			n = yamldoc_get(root, "answer");
		diag_add(d, file, yamldoc_line(n),
			 "'clarify' (%g) must not be above 'answer' (%g)", t.clarify, t.answer);
		rc = -1;
	}
	if (rc == 0)
		*out = t;
	yamldoc_free(doc);
	return rc;
}

/* ------------------------------------------------------------- loading */

/* An intent's name (a content_key_fn). */
static const char *intent_name(const void *el)
{
	return ((const struct rule_intent *)el)->name;
}

/* Reports and clears an intent whose name repeats an earlier one's (a
 * content_drop_fn; all of them are of one language). */
static void drop_intent(void *ud, void *el, const void *kept)
{
	struct rule_intent *r = el;
	const struct rule_intent *k = kept;
	diag_add(ud, r->file, r->line, "duplicate intent name '%s': %s:%d already uses it",
		 r->name, k->file, k->line);
	intent_clear(r);
}

/* One load's state. */
struct load {
	struct rule_set *out;
	struct diag *d;
	const char *rules_dir;  /* the root, for messages */
	const char *dir;        /* the language directory being read ... */
	const char *lang;       /* ... and its language */
	size_t files;           /* its .yaml files seen */
	int full;               /* RULES_FILES_MAX passed: stop reading it */
};

/* One entry of rules/<lang>/ (a content_entry_fn): loads NAME.yaml.
 * mood.yaml is the language's mood lexicon, which mood.c reads, and
 * language.yaml its definition, which root_entry read. */
static void lang_file(void *ud, const char *path, const char *name, const struct stat *st)
{
	struct load *l = ud;
	char *buf;
	size_t len;
	if (!strcmp(name, RULES_MOOD_FILE) || !strcmp(name, LANGUAGE_FILE)) {
		return;
	} else if (S_ISDIR(st->st_mode)) {
		diag_add(l->d, path, 0,
			 "rules are not read from subdirectories: move its files up to %s/",
			 l->dir);
	} else if (content_ends_with(name, ".yml")) {
		diag_add(l->d, path, 0, "rules files must end in .yaml");
	} else if (content_ends_with(name, ".yaml")) {
		if (++l->files > RULES_FILES_MAX) {
			diag_add(l->d, path, 0,
				 "more than %d rules files: this one and the rest are not loaded",
				 RULES_FILES_MAX);
			l->full = 1;
			return;
		}
		if (content_read_file(path, RULES_FILE_MAX, &buf, &len, l->d) == 0) {
			rules_parse(path, l->lang, buf, len, l->out, l->d);
			free(buf);
		}
	}
}

/* Loads dir, rules/<lang>/, then drops the intents whose name repeats. */
static void load_lang(struct load *l, const char *dir, const char *lang)
{
	struct rule_set *s = l->out;
	size_t first = s->n;
	l->dir = dir;
	l->lang = lang;
	l->files = 0;
	l->full = 0;
	if (content_list_dir(dir, "the directory", lang_file, l, &l->full, l->d) < 0)
		return;
	s->n = content_drop_repeats(s->v, first, s->n, sizeof(*s->v), intent_name, drop_intent,
				    l->d);
}

/* A language directory, rules/<code>/: its language.yaml, then its
 * intents. */
static void load_language(struct load *l, const char *dir, const char *code)
{
	if (language_set_add_dir(&l->out->languages, dir, code, l->d) == 1)
		diag_add(l->d, dir, 0,
			 "no %s: a language directory needs one, to say how its text is read "
			 "(docs/content.md, \"Adding a language\")",
			 LANGUAGE_FILE);
	load_lang(l, dir, code);
}

/* One entry of rules/ (a content_entry_fn): a language directory or
 * thresholds.yaml. */
static void root_entry(void *ud, const char *path, const char *name, const struct stat *st)
{
	struct load *l = ud;
	char *buf;
	size_t len;
	if (S_ISDIR(st->st_mode)) {
		if (!strcmp(name, RULES_CANNED_DIR))
			return; /* agents' canned responses: canned.c reads them */
		if (language_valid_code(name))
			load_language(l, path, name);
		else
			diag_add(l->d, path, 0,
				 "not a language directory: a language directory is named by "
				 "its two-letter ISO 639-1 code, such as %s/en/",
				 l->rules_dir);
	} else if (strcmp(name, "thresholds.yaml") == 0) {
		if (content_read_file(path, RULES_FILE_MAX, &buf, &len, l->d) == 0) {
			rules_parse_thresholds(path, buf, len, &l->out->thresholds, l->d);
			free(buf);
		}
	} else if (content_ends_with(name, ".yaml") || content_ends_with(name, ".yml")) {
		diag_add(l->d, path, 0,
			 "rules files belong in a language directory, such as %s/en/; only "
			 "thresholds.yaml lives here",
			 l->rules_dir);
	}
}

int rules_load(const char *rules_dir, struct rule_set *out, struct diag *d)
{
	struct load l = {.out = out, .d = d, .rules_dir = rules_dir};
	size_t before = diag_count(d);
	rules_thresholds_default(&out->thresholds);
	if (content_list_dir(rules_dir, "the rules directory", root_entry, &l, NULL, d) < 0)
		return -1;
	return diag_count(d) == before ? 0 : -1;
}

/* ------------------------------------------------------- cross-checks */

static int cmp_entry(const void *a, const void *b)
{
	const struct faq_entry *x = *(const struct faq_entry *const *)a;
	const struct faq_entry *y = *(const struct faq_entry *const *)b;
	int c = strcmp(x->lang, y->lang);
	return c ? c : strcmp(x->id, y->id);
}

int rules_check_faq_refs(const struct rule_set *r, const struct faq_set *f,
			 const char *default_lang, struct diag *d)
{
	int rc = 0;
	const struct faq_entry **index = NULL;
	if (f->n) {
		index = xrealloc(NULL, f->n * sizeof(*index));
		for (size_t i = 0; i < f->n; i++)
			index[i] = &f->v[i];
		qsort(index, f->n, sizeof(*index), cmp_entry);
	}
	for (size_t i = 0; i < r->n; i++) {
		const struct rule_intent *in = &r->v[i];
		if (!in->faq)
			continue;
		struct faq_entry key = {.id = in->faq, .lang = in->lang};
		const struct faq_entry *kp = &key;
		if (f->n && bsearch(&kp, index, f->n, sizeof(*index), cmp_entry))
			continue;
		int other = default_lang && strcmp(default_lang, in->lang);
		key.lang = (char *)default_lang; /* not translated yet: answered in that */
		if (other && f->n && bsearch(&kp, index, f->n, sizeof(*index), cmp_entry))
			continue;
		diag_add(d, in->file, in->action_line,
			 "intent '%s': there is no FAQ entry with id '%s' in language '%s'%s%s", in->name,
			 in->faq, in->lang, other ? " or in " : "", other ? default_lang : "");
		rc = -1;
	}
	free(index);
	return rc;
}
