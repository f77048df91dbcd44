/* test_content.c: unit tests for the content loaders: src/diag.c,
 * src/yamldoc.c, src/faq.c and src/rules.c. Every refusal is checked with
 * its exact "file:line: reason" message, and the shipped faq/ and rules/
 * trees must load without a single problem (tests run from the repo root). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "faq.h"
#include "brain.h"
#include "rules.h"
#include "yamldoc.h"
#include "repo_languages.h"

/* ------------------------------------------------------------ helpers */

/* Fails unless d holds exactly the line want. */
static void expect_diag(const struct diag *d, const char *want)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->v[i], want) == 0)
			return;
	for (size_t i = 0; i < d->n; i++)
		print_message("  got: %s\n", d->v[i]);
	fail_msg("missing problem: %s", want);
}

/* Fails unless d holds exactly one line, want. */
static void expect_only(const struct diag *d, const char *want)
{
	expect_diag(d, want);
	if (d->n != 1) {
		for (size_t i = 0; i < d->n; i++)
			print_message("  got: %s\n", d->v[i]);
		fail_msg("expected 1 problem, got %zu", d->n);
	}
}

static void expect_none(const struct diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		print_message("  unexpected: %s\n", d->v[i]);
	assert_int_equal(d->n, 0);
}

static double now_sec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parses an FAQ file's text; returns faq_parse's result. */
static int parse_faq(const char *text, struct faq_entry *e, struct diag *d)
{
	return faq_parse("faq/en/x.md", "en", text, strlen(text), e, d);
}

/* Parses an FAQ text that must be refused with exactly one problem. */
static void faq_refused(const char *text, const char *want)
{
	struct faq_entry e;
	struct diag d;
	diag_init(&d);
	assert_int_equal(parse_faq(text, &e, &d), -1);
	assert_null(e.id);
	expect_only(&d, want);
	diag_clear(&d);
}

static int parse_rules(const char *text, struct rule_set *r, struct diag *d)
{
	return rules_parse("rules/en/r.yaml", "en", text, strlen(text), r, d);
}

static void rules_refused(const char *text, const char *want)
{
	struct rule_set r = {0};
	struct diag d;
	diag_init(&d);
	assert_int_equal(parse_rules(text, &r, &d), -1);
	assert_int_equal(r.n, 0);
	expect_only(&d, want);
	rule_set_clear(&r);
	diag_clear(&d);
}

/* A scratch directory tree, removed by tree_free. */
struct tree {
	char dir[64];
};

static void tree_new(struct tree *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/supportd-content-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
}

/* Writes len bytes to dir/rel, creating the directories on the way. */
static void tree_write(const struct tree *t, const char *rel, const char *text, size_t len)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
	for (char *p = path + strlen(t->dir) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void tree_free(struct tree *t)
{
	nftw(t->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static const char valid_faq[] =
	"---\n"
	"id: password-reset\n"
	"title: Reset a forgotten password\n"
	"questions:\n"
	"  - I forgot my password\n"
	"  - \"how do I reset it?\"\n"
	"tags: [account, login]\n"
	"---\n"
	"\n"
	"Use the [reset page](https://example.com/reset) and **check your spam**.\n"
	"\n"
	"- one\n"
	"- two\n"
	"\n";

/* --------------------------------------------------------------- diag */

static void test_diag_format_and_cap(void **state)
{
	(void)state;
	struct diag d;
	diag_init(&d);
	diag_add(&d, "a.md", 3, "bad %s", "thing");
	diag_add(&d, "a.md", 0, "whole file");
	diag_add(&d, "a.md", 1, "ctl \x01 and \xff byte");
	assert_string_equal(d.v[0], "a.md:3: bad thing");
	assert_string_equal(d.v[1], "a.md: whole file");
	assert_string_equal(d.v[2], "a.md:1: ctl ? and ? byte");
	for (int i = 0; i < DIAG_MAX + 2; i++)
		diag_add(&d, "b.md", i + 1, "problem %d", i);
	assert_int_equal(d.n, DIAG_MAX + 1);
	assert_int_equal(diag_count(&d), DIAG_MAX + 5);
	assert_string_equal(d.v[DIAG_MAX], "... and 5 more problems");
	diag_clear(&d);
	assert_int_equal(d.n, 0);

	char buf[32];
	assert_string_equal(diag_snip("short", 10, buf, sizeof(buf)), "short");
	assert_string_equal(diag_snip("abcdefghijkl", 5, buf, sizeof(buf)), "abcde...");
	assert_string_equal(diag_snip("a\nb", 10, buf, sizeof(buf)), "a\\nb");
	/* Never cuts a character in two: "é" is 2 bytes. */
	assert_string_equal(diag_snip("aé", 2, buf, sizeof(buf)), "a...");
}

/* ------------------------------------------------------------ yamldoc */

static void test_yaml_tree_and_lines(void **state)
{
	(void)state;
	struct diag d;
	diag_init(&d);
	const char *y = "# comment\n"
			"name: x\n"
			"list:\n"
			"  - a\n"
			"  - 'b'\n"
			"n: 42\n"
			"f: 0.5\n"
			"b: yes\n"
			"empty:\n";
	yamldoc *doc = yamldoc_parse("t.yaml", 10, y, strlen(y), &d);
	assert_non_null(doc);
	const yamldoc_node *root = yamldoc_root(doc);
	assert_int_equal(yamldoc_kind(root), YAMLDOC_MAP);
	assert_int_equal(yamldoc_len(root), 6);
	assert_string_equal(yamldoc_text(yamldoc_get(root, "name")), "x");
	assert_int_equal(yamldoc_line(yamldoc_get(root, "name")), 11);
	const yamldoc_node *list = yamldoc_get(root, "list");
	assert_int_equal(yamldoc_kind(list), YAMLDOC_SEQ);
	assert_int_equal(yamldoc_len(list), 2);
	assert_string_equal(yamldoc_text(yamldoc_item(list, 1)), "b");
	assert_int_equal(yamldoc_line(yamldoc_item(list, 1)), 14);
	long n;
	double f;
	int b;
	assert_int_equal(yamldoc_int(doc, yamldoc_get(root, "n"), "'n'", 0, 100, &n, &d), 0);
	assert_int_equal(n, 42);
	assert_int_equal(yamldoc_double(doc, yamldoc_get(root, "f"), "'f'", 0, 1, &f, &d), 0);
	assert_true(f == 0.5);
	assert_int_equal(yamldoc_bool(doc, yamldoc_get(root, "b"), "'b'", &b, &d), 0);
	assert_int_equal(b, 1);
	assert_true(yamldoc_is_null(yamldoc_get(root, "empty")));
	assert_null(yamldoc_get(root, "absent"));
	expect_none(&d);

	/* Type errors name the key and the value. */
	assert_int_equal(yamldoc_int(doc, yamldoc_get(root, "name"), "'priority'", 0, 9, &n, &d), -1);
	expect_diag(&d, "t.yaml:11: 'priority' must be an integer, got 'x'");
	assert_int_equal(yamldoc_int(doc, yamldoc_get(root, "n"), "'n'", 0, 9, &n, &d), -1);
	expect_diag(&d, "t.yaml:15: 'n' must be between 0 and 9, got 42");
	assert_int_equal(yamldoc_double(doc, list, "'f'", 0, 1, &f, &d), -1);
	expect_diag(&d, "t.yaml:13: 'f' must be a number, got a list");
	const char *s;
	assert_int_equal(yamldoc_string(doc, yamldoc_get(root, "empty"), "'title'", 10, &s, &d), -1);
	expect_diag(&d, "t.yaml:18: 'title' must be text, got nothing");
	assert_int_equal(d.n, 4);
	yamldoc_free(doc);
	diag_clear(&d);
}

static void yaml_refused(const char *y, const char *want)
{
	struct diag d;
	diag_init(&d);
	assert_null(yamldoc_parse("t.yaml", 1, y, strlen(y), &d));
	expect_only(&d, want);
	diag_clear(&d);
}

static void test_yaml_billion_laughs_refused(void **state)
{
	(void)state;
	const char *bomb = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
			   "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
			   "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
			   "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
			   "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
			   "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
			   "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
			   "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
			   "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
	double t0 = now_sec();
	yaml_refused(bomb, "t.yaml:1: YAML anchors (&a) are not supported: write the value out in full");
	assert_true(now_sec() - t0 < 0.5);
	/* An alias on its own is refused as well. */
	yaml_refused("x: 1\ny: *x\n", "t.yaml:2: YAML aliases (*x) are not supported");
	yaml_refused("x: !!str 1\n", "t.yaml:1: YAML tags (tag:yaml.org,2002:str) are not supported");
	yaml_refused("%TAG !e! tag:example.com,2000:\n---\nx: 1\n",
		     "t.yaml:1: YAML %TAG directives are not supported");
}

static void test_yaml_limits(void **state)
{
	(void)state;
	char deep[256];
	struct diag d;
	diag_init(&d);
	/* 32 levels are fine, 33 are not. */
	memset(deep, 0, sizeof(deep));
	memset(deep, '[', YAMLDOC_MAX_DEPTH);
	memset(deep + YAMLDOC_MAX_DEPTH, ']', YAMLDOC_MAX_DEPTH);
	yamldoc *doc = yamldoc_parse("t.yaml", 1, deep, strlen(deep), &d);
	assert_non_null(doc);
	yamldoc_free(doc);
	expect_none(&d);
	memset(deep, 0, sizeof(deep));
	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	yaml_refused(deep, "t.yaml:1: YAML nesting deeper than 32 levels");
	/* Block style: the line of the first level too deep. */
	char block[4096] = "";
	size_t o = 0;
	for (int i = 0; i < 40; i++)
		o += (size_t)snprintf(block + o, sizeof(block) - o, "%*sk:\n", 2 * i, "");
	yaml_refused(block, "t.yaml:33: YAML nesting deeper than 32 levels");
	/* Node count. */
	size_t big = 3 * (YAMLDOC_MAX_NODES + 10) + 16;
	char *many = malloc(big);
	assert_non_null(many);
	o = 0;
	many[o++] = '[';
	for (int i = 0; i < YAMLDOC_MAX_NODES + 5; i++) {
		memcpy(many + o, "1,", 2);
		o += 2;
	}
	many[o++] = ']';
	many[o] = '\0';
	yaml_refused(many, "t.yaml:1: more than 100000 YAML values in one document");
	free(many);
	diag_clear(&d);
}

static void test_yaml_bad_input(void **state)
{
	(void)state;
	yaml_refused("a: 1\nb: 2\na: 3\n", "t.yaml:3: duplicate key 'a' (first on line 1)");
	yaml_refused("a: 1\n---\nb: 2\n",
		     "t.yaml:2: only one YAML document is allowed (a second one starts here)");
	yaml_refused("a: 1\nb: \"x\\0y\"\n", "t.yaml:2: NUL bytes are not allowed");
	yaml_refused("a: 1\nb: \xc3\x28\n", "t.yaml:2: invalid UTF-8 (byte 0xC3); save the file as UTF-8");
	yaml_refused("a: [1, 2\nb: 3\n",
		     "t.yaml:2: YAML syntax error: did not find expected ',' or ']' "
		     "(while parsing a flow sequence on line 1)");
	yaml_refused("? [a]\n: 1\n", "t.yaml:1: mapping keys must be plain text");
}

/* ---------------------------------------------------------------- faq */

static void test_faq_valid(void **state)
{
	(void)state;
	struct faq_entry e;
	struct diag d;
	diag_init(&d);
	assert_int_equal(parse_faq(valid_faq, &e, &d), 0);
	expect_none(&d);
	assert_string_equal(e.id, "password-reset");
	assert_string_equal(e.lang, "en");
	assert_string_equal(e.title, "Reset a forgotten password");
	assert_string_equal(e.team, "general");
	assert_int_equal(e.n_questions, 2);
	assert_string_equal(e.questions[0], "I forgot my password");
	assert_string_equal(e.questions[1], "how do I reset it?");
	assert_int_equal(e.n_tags, 2);
	assert_string_equal(e.tags[1], "login");
	assert_string_equal(e.answer, "Use the [reset page](https://example.com/reset) and "
				      "**check your spam**.\n\n- one\n- two");
	assert_string_equal(e.file, "faq/en/x.md");
	assert_int_equal(e.line, 2);
	faq_entry_clear(&e);

	/* CRLF line ends, a byte order mark, team and lang given. */
	const char *crlf = "\xef\xbb\xbf---\r\nid: a1\r\ntitle: T\r\nteam: billing\r\nlang: en\r\n"
			   "questions: [q]\r\n---\r\nLine one\r\nline two\r\n";
	assert_int_equal(parse_faq(crlf, &e, &d), 0);
	expect_none(&d);
	assert_string_equal(e.team, "billing");
	assert_string_equal(e.answer, "Line one\nline two");
	faq_entry_clear(&e);
	diag_clear(&d);
}

static void test_faq_front_matter_errors(void **state)
{
	(void)state;
	faq_refused("---\ntitle: T\nquestions: [q]\n---\nBody\n",
		    "faq/en/x.md:2: missing 'id' in the front matter");
	faq_refused("---\nid: Bad Id\ntitle: T\nquestions: [q]\n---\nBody\n",
		    "faq/en/x.md:2: id 'Bad Id' is not valid: use lower-case letters a-z, digits, "
		    "'-' and '_', starting with a letter or digit");
	faq_refused("---\nid: -x\ntitle: T\nquestions: [q]\n---\nBody\n",
		    "faq/en/x.md:2: id '-x' is not valid: use lower-case letters a-z, digits, "
		    "'-' and '_', starting with a letter or digit");
	faq_refused("---\nid: a\ntitle: T\nquestions: [q]\ntitel: x\n---\nBody\n",
		    "faq/en/x.md:5: unknown key 'titel' in the front matter (did you mean 'title'?)");
	faq_refused("---\nid: a\ntitle: T\nquestions: [q]\ncolour: red\n---\nBody\n",
		    "faq/en/x.md:5: unknown key 'colour' in the front matter (allowed: id, title, "
		    "questions, tags, team, lang)");
	faq_refused("---\nid: a\ntitle: T\nquestions: []\n---\nBody\n",
		    "faq/en/x.md:4: 'questions' needs at least 1 item");
	faq_refused("---\nid: a\ntitle: T\nquestions: how do I\n---\nBody\n",
		    "faq/en/x.md:4: 'questions' must be a list ('- item' lines), got text");
	faq_refused("---\nid: a\ntitle: T\nquestions:\n  - ok\n  -\n---\nBody\n",
		    "faq/en/x.md:6: item 2 of 'questions' must be text, got nothing");
	faq_refused("---\nid: a\ntitle: T\nquestions: [q]\nlang: pt\n---\nBody\n",
		    "faq/en/x.md:5: lang 'pt' does not match the directory's language 'en'");
	faq_refused("---\nid: a\ntitle: T\nquestions: [q]\nteam: Billing Team\n---\nBody\n",
		    "faq/en/x.md:5: team 'Billing Team' is not valid: use up to 32 lower-case "
		    "letters, digits, '-' and '_', starting with a letter");
	faq_refused("---\nid: a\ntitle: T\nquestions: [q]\n",
		    "faq/en/x.md:1: the front matter is not closed: add a '---' line after it");
	faq_refused("id: a\n---\nBody\n",
		    "faq/en/x.md:1: the first line must be '---', starting the front matter (id, "
		    "title, questions), which ends with another '---' line");
	faq_refused("---\n---\nBody\n",
		    "faq/en/x.md:2: the front matter is empty: it needs id, title and questions");
	faq_refused("---\nid: a\ntitle: T\nquestions: [q]\n---\n\n  \n",
		    "faq/en/x.md:5: the answer is empty: write it below the closing '---'");
	faq_refused("---\nid: a\ntitle: T\nquestions: [q]\nid: b\n---\nBody\n",
		    "faq/en/x.md:5: duplicate key 'id' (first on line 2)");
	faq_refused("", "faq/en/x.md: the file is empty");

	/* Several problems in one file are all reported. */
	struct faq_entry e;
	struct diag d;
	diag_init(&d);
	assert_int_equal(parse_faq("---\ntitle: [x]\nbogus: 1\n---\n# Heading\n", &e, &d), -1);
	expect_diag(&d, "faq/en/x.md:3: unknown key 'bogus' in the front matter (allowed: id, "
			"title, questions, tags, team, lang)");
	expect_diag(&d, "faq/en/x.md:2: missing 'id' in the front matter");
	expect_diag(&d, "faq/en/x.md:2: 'title' must be text, got a list");
	expect_diag(&d, "faq/en/x.md:2: missing 'questions' in the front matter: list the ways "
			"customers ask this");
	expect_diag(&d, "faq/en/x.md:5: headings ('#') are not supported; use a **bold** line");
	assert_int_equal(d.n, 5);
	diag_clear(&d);
}

#define FM "---\nid: a\ntitle: T\nquestions: [q]\n---\n" /* body starts on line 6 */

static void test_faq_markdown_errors(void **state)
{
	(void)state;
	faq_refused(FM "Intro.\n\nSee [this](javascript:alert(1)).\n",
		    "faq/en/x.md:8: link to 'javascript:alert(1)' is not allowed: links must start "
		    "with https://, http:// or mailto:");
	faq_refused(FM "See [this](ftp://example.com/file).\n",
		    "faq/en/x.md:6: link to 'ftp://example.com/file' is not allowed: links must "
		    "start with https://, http:// or mailto:");
	faq_refused(FM "One.\nTwo.\n\nHello <script>alert(1)</script>\n",
		    "faq/en/x.md:9: raw HTML is not allowed ('<script>')");
	faq_refused(FM "<!-- note -->\n", "faq/en/x.md:6: raw HTML is not allowed ('<!-- note -->')");
	faq_refused(FM "Go to <https://example.com>\n",
		    "faq/en/x.md:6: write links as [text](https://...), not <...> ('<https://example.com>')");
	faq_refused(FM "Text\n\n```\n<code> `x`\n```\nafter\n", "faq/en/x.md:8: code blocks are not supported");
	faq_refused(FM "Use `code` here\n", "faq/en/x.md:6: inline code (`) is not supported");
	faq_refused(FM "> quoted\n", "faq/en/x.md:6: block quotes ('>') are not supported");
	faq_refused(FM "a | b\n\n| x | y |\n", "faq/en/x.md:8: tables are not supported");
	faq_refused(FM "Some *italic* text\n",
		    "faq/en/x.md:6: a single '*' (italics) is not supported; use **bold** or escape "
		    "it as \\*");
	faq_refused(FM "Some **bold\n\nnext\n",
		    "faq/en/x.md:6: '**' (bold) is not closed in its paragraph");
	faq_refused(FM "![logo](https://example.com/a.png)\n",
		    "faq/en/x.md:6: images (![...](...)) are not supported");
	faq_refused(FM "See [the page](https://example.com\n",
		    "faq/en/x.md:6: link is not closed: expected ')' after the address");
	faq_refused(FM "See [the page][1]\n",
		    "faq/en/x.md:6: reference links ([text][ref]) are not supported; write "
		    "[text](https://...)");
	faq_refused(FM "Text\n\n---\n",
		    "faq/en/x.md:8: rules and underlined headings ('---', '***', '===') are not "
		    "supported");
	faq_refused(FM "    indented code\n",
		    "faq/en/x.md:6: a line indented by 4 or more spaces is a code block, which is "
		    "not supported");
	faq_refused(FM "1) first\n", "faq/en/x.md:6: use '1.' for numbered list items, not '1)'");
	faq_refused(FM "+ item\n", "faq/en/x.md:6: use '-' or '*' for list items, not '+'");

	/* What the subset allows. */
	struct faq_entry e;
	struct diag d;
	diag_init(&d);
	assert_int_equal(parse_faq(FM "Costs 5 * 3 < 20 & more [sic] #1 -5%.\n\n"
				      "* item with [mail](mailto:help@example.com)\n"
				      "- [Foo](https://en.wikipedia.org/wiki/Foo_(bar)) x\n"
				      "1. first **bold\n   still bold**\n2. [Link **b**](http://x.example)\n"
				      "Escaped \\* star and \\` tick.\n",
				  &e, &d),
			 0);
	expect_none(&d);
	faq_entry_clear(&e);
	diag_clear(&d);
}

static void test_faq_invalid_utf8_and_size(void **state)
{
	(void)state;
	faq_refused(FM "Fine line\nBad \xff byte\n",
		    "faq/en/x.md:7: invalid UTF-8 (byte 0xFF); save the file as UTF-8");
	faq_refused("---\nid: a\ntitle: Caf\xc3\n---\nBody\n",
		    "faq/en/x.md:3: invalid UTF-8 (byte 0xC3); save the file as UTF-8");
	faq_refused(FM "Over\xc0\xaflong\n", /* overlong '/' */
		    "faq/en/x.md:6: invalid UTF-8 (byte 0xC0); save the file as UTF-8");
	faq_refused(FM "Bell \x07 here\n", "faq/en/x.md:6: control character U+0007 is not allowed");

	size_t big = FAQ_FILE_MAX + 1;
	char *buf = malloc(big);
	assert_non_null(buf);
	memset(buf, 'a', big);
	memcpy(buf, FM, strlen(FM));
	struct faq_entry e;
	struct diag d;
	diag_init(&d);
	assert_int_equal(faq_parse("faq/en/x.md", "en", buf, big, &e, &d), -1);
	expect_only(&d, "faq/en/x.md: file too large (65537 bytes; the limit is 65536)");
	diag_clear(&d);

	/* The loader refuses it from its size, without reading it. */
	struct tree t;
	struct faq_set s = {0};
	char want[256];
	tree_new(&t);
	tree_write(&t, "en/big.md", buf, big);
	assert_int_equal(faq_load(t.dir, repo_languages(), &s, &d), -1);
	snprintf(want, sizeof(want), "%s/en/big.md: file too large (65537 bytes; the limit is 65536)",
		 t.dir);
	expect_only(&d, want);
	assert_int_equal(s.n, 0);
	tree_free(&t);
	diag_clear(&d);
	free(buf);
}

static void test_faq_load_tree(void **state)
{
	(void)state;
	struct tree t;
	struct faq_set s = {0};
	struct diag d;
	char want[512];
	diag_init(&d);
	tree_new(&t);
	tree_write(&t, "en/a.md", FM "Answer A\n", strlen(FM "Answer A\n"));
	/* The same id again, in a subdirectory: refused, naming both files. */
	tree_write(&t, "en/sub/b.md", "---\ntitle: T\nid: a\nquestions: [q]\n---\nAnswer B\n",
		   strlen("---\ntitle: T\nid: a\nquestions: [q]\n---\nAnswer B\n"));
	tree_write(&t, "en/sub/c.md", "---\nid: c\ntitle: T\nquestions: [q]\n---\nAnswer C\n",
		   strlen("---\nid: c\ntitle: T\nquestions: [q]\n---\nAnswer C\n"));
	/* The same id in another language is fine. */
	tree_write(&t, "pt/a.md", FM "Resposta A\n", strlen(FM "Resposta A\n"));
	/* Skipped: dotfiles, dot directories, other extensions. */
	tree_write(&t, "en/.draft.md", "junk", 4);
	tree_write(&t, "en/.git/x.md", "junk", 4);
	tree_write(&t, "en/notes.txt", "junk", 4);
	/* Reported: an unknown language, a file outside a language. */
	tree_write(&t, "de/a.md", FM "Antwort\n", strlen(FM "Antwort\n"));
	tree_write(&t, "stray.md", FM "x\n", strlen(FM "x\n"));

	assert_int_equal(faq_load(t.dir, repo_languages(), &s, &d), -1);
	snprintf(want, sizeof(want), "%s/en/sub/b.md:2: duplicate id 'a': %s/en/a.md:2 already uses it",
		 t.dir, t.dir);
	expect_diag(&d, want);
	snprintf(want, sizeof(want),
		 "%s/de: not a language directory: there is no language 'de' (a language needs "
		 "rules/de/language.yaml; docs/content.md, \"Adding a language\")",
		 t.dir);
	expect_diag(&d, want);
	snprintf(want, sizeof(want),
		 "%s/stray.md: FAQ files belong in a language directory, such as %s/en/", t.dir,
		 t.dir);
	expect_diag(&d, want);
	assert_int_equal(d.n, 3);
	assert_int_equal(s.n, 3);
	assert_non_null(faq_find(&s, "en", "a"));
	assert_string_equal(faq_find(&s, "en", "a")->answer, "Answer A");
	assert_string_equal(faq_find(&s, "en", "c")->answer, "Answer C");
	assert_string_equal(faq_find(&s, "pt", "a")->answer, "Resposta A");
	assert_null(faq_find(&s, "pl", "a"));
	faq_set_clear(&s);
	tree_free(&t);
	diag_clear(&d);

	/* A missing directory is a problem. */
	assert_int_equal(faq_load("/nonexistent/faq", repo_languages(), &s, &d), -1);
	expect_only(&d, "/nonexistent/faq: cannot read the FAQ directory: No such file or directory");
	diag_clear(&d);
}

/* -------------------------------------------------------------- rules */

static const char valid_rules[] =
	"# comment\n"
	"intents:\n"
	"  - name: reset_password\n"
	"    label: Reset my password\n"
	"    priority: 10\n"
	"    team: accounts\n"
	"    patterns:\n"
	"      - '\\b(forgot|lost|reset)\\b.{0,40}\\bpassword'\n"
	"      - 'n\xc3\xa3o consigo entrar'\n"
	"    examples:\n"
	"      - I forgot my password\n"
	"      - how do I reset my password\n"
	"    faq: password-reset\n"
	"  - name: human_agent\n"
	"    label: Talk to a person\n"
	"    examples: [talk to a person]\n"
	"    reply: |\n"
	"      Connecting you **now**.\n"
	"  - name: track_order\n"
	"    label: Track my order\n"
	"    patterns: ['\\bwhere\\b.{0,20}\\border\\b']\n"
	"    flow: order_status\n";

static void test_rules_parse(void **state)
{
	(void)state;
	struct rule_set r = {0};
	struct diag d;
	diag_init(&d);
	assert_int_equal(parse_rules(valid_rules, &r, &d), 0);
	expect_none(&d);
	assert_int_equal(r.n, 3);
	const struct rule_intent *a = &r.v[0];
	assert_string_equal(a->name, "reset_password");
	assert_string_equal(a->lang, "en");
	assert_string_equal(a->label, "Reset my password");
	assert_string_equal(a->team, "accounts");
	assert_int_equal(a->priority, 10);
	assert_string_equal(a->faq, "password-reset");
	assert_null(a->reply);
	assert_null(a->flow);
	assert_int_equal(a->n_examples, 2);
	assert_string_equal(a->examples[1], "how do I reset my password");
	assert_int_equal(a->n_patterns, 2);
	assert_int_equal(a->patterns[0].line, 8);
	assert_string_equal(a->patterns[0].source, "\\b(forgot|lost|reset)\\b.{0,40}\\bpassword");
	assert_string_equal(a->file, "rules/en/r.yaml");
	assert_int_equal(a->line, 3);
	assert_int_equal(a->action_line, 13);
	const struct rule_intent *b = &r.v[1];
	assert_string_equal(b->reply, "Connecting you **now**.");
	assert_string_equal(b->team, "general");
	assert_int_equal(b->priority, 0);
	assert_int_equal(b->n_patterns, 0);
	const struct rule_intent *c = &r.v[2];
	assert_string_equal(c->flow, "order_status");
	assert_int_equal(c->n_examples, 0);
	assert_int_equal(c->n_patterns, 1);

	/* Matching: case-insensitive, as typed and folded. */
	rules_matcher *m = rules_matcher_new(100000, 1000);
	int lim = -1;
	const char *t1 = "I FORGOT my Password!";
	assert_int_equal(rules_match(m, a, t1, strlen(t1), NULL, 0, &lim), 0);
	const char *t2 = "N\xc3\x83O CONSIGO ENTRAR"; /* "NÃO", upper case accent */
	assert_int_equal(rules_match(m, a, t2, strlen(t2), NULL, 0, &lim), 1);
	const char *t3 = "Nao consigo entrar"; /* typed without the accent */
	assert_int_equal(rules_match(m, a, t3, strlen(t3), NULL, 0, &lim), -1);
	const char *t4 = "hello there";
	assert_int_equal(rules_match(m, a, t4, strlen(t4), NULL, 0, &lim), -1);
	assert_int_equal(rules_match(m, b, t1, strlen(t1), t1, strlen(t1), &lim), -1);
	assert_int_equal(lim, -1);
	rules_matcher_free(m);
	rule_set_clear(&r);
	diag_clear(&d);
}

static void test_rules_match_folded(void **state)
{
	(void)state;
	struct rule_set r = {0};
	struct diag d;
	diag_init(&d);
	const char *y = "intents:\n"
			"  - name: no_access\n"
			"    label: No access\n"
			"    patterns: ['\\bnao consigo\\b', '\\bzolty\\b']\n"
			"    reply: ok\n";
	assert_int_equal(parse_rules(y, &r, &d), 0);
	expect_none(&d);
	rules_matcher *m = rules_matcher_new(100000, 1000);
	int lim = -1;
	const char *text = "N\xc3\xa3o consigo pagar";    /* "Não consigo pagar" */
	const char *folded = "nao consigo pagar";
	assert_int_equal(rules_match(m, &r.v[0], text, strlen(text), NULL, 0, &lim), -1);
	assert_int_equal(rules_match(m, &r.v[0], text, strlen(text), folded, strlen(folded), &lim), 0);
	const char *pl = "\xc5\xbc\xc3\xb3\xc5\x82ty";      /* "żółty" */
	assert_int_equal(rules_match(m, &r.v[0], pl, strlen(pl), "zolty", 5, &lim), 1);
	/* Invalid UTF-8 never matches. */
	assert_int_equal(rules_match(m, &r.v[0], "nao consigo \xff", 14, NULL, 0, &lim), -1);
	rules_matcher_free(m);
	rule_set_clear(&r);
	diag_clear(&d);
}

static void test_rules_catastrophic_backtracking(void **state)
{
	(void)state;
	struct rule_set r = {0};
	struct diag d;
	diag_init(&d);
	const char *y = "intents:\n"
			"  - name: evil\n"
			"    label: Evil\n"
			"    patterns: ['\\bsafe\\b', '^(a+)+$']\n"
			"    reply: ok\n";
	assert_int_equal(parse_rules(y, &r, &d), 0);
	size_t n = 4096;
	char *text = malloc(n + 2);
	assert_non_null(text);
	memset(text, 'a', n);
	text[n] = 'b';
	text[n + 1] = '\0';
	rules_matcher *m = rules_matcher_new(10000, 100);
	int lim = -1;
	double t0 = now_sec();
	assert_int_equal(rules_match(m, &r.v[0], text, n + 1, text, n + 1, &lim), -2);
	assert_true(now_sec() - t0 < 1.0);
	assert_int_equal(lim, 1);
	/* The same matcher keeps working afterwards. */
	assert_int_equal(rules_match(m, &r.v[0], "aaaa", 4, NULL, 0, &lim), 1);
	assert_int_equal(rules_match(m, &r.v[0], "a safe bet", 10, NULL, 0, &lim), 0);
	rules_matcher_free(m);
	free(text);
	rule_set_clear(&r);
	diag_clear(&d);
}

#define INTENT "intents:\n  - name: x\n    label: X\n    examples: [hi]\n" /* next key on line 5 */

static void test_rules_errors(void **state)
{
	(void)state;
	rules_refused(INTENT "    patterns: ['(unclosed']\n    reply: ok\n",
		      "rules/en/r.yaml:5: pattern '(unclosed' in intent 'x': missing closing "
		      "parenthesis at offset 9");
	rules_refused(INTENT "    patterns:\n      - 'fine'\n      - 'a{2,1}'\n    reply: ok\n",
		      "rules/en/r.yaml:7: pattern 'a{2,1}' in intent 'x': numbers out of order in "
		      "{} quantifier at offset 5");
	rules_refused(INTENT "    patterns: ['a*']\n    reply: ok\n",
		      "rules/en/r.yaml:5: pattern 'a*' in intent 'x' matches an empty message, so "
		      "it would match every message");
	rules_refused(INTENT "    priority: high\n    reply: ok\n",
		      "rules/en/r.yaml:5: 'priority' must be an integer, got 'high'");
	rules_refused(INTENT "    priority: 5000\n    reply: ok\n",
		      "rules/en/r.yaml:5: 'priority' must be between -1000 and 1000, got 5000");
	rules_refused(INTENT "    reply: ok\n    faq: some-id\n",
		      "rules/en/r.yaml:6: intent 'x' has both 'reply' and 'faq': a reply stands alone");
	rules_refused(INTENT "    flow: f\n    reply: ok\n",
		      "rules/en/r.yaml:5: intent 'x' has both 'reply' and 'flow': a reply stands alone");
	rules_refused(INTENT, "rules/en/r.yaml:2: intent 'x' needs an action: 'reply', 'faq', "
			      "'flow', or 'flow' with 'faq'");
	rules_refused(INTENT "    reply: see <b>this</b>\n",
		      "rules/en/r.yaml:5: raw HTML is not allowed ('<b>')");
	rules_refused(INTENT "    reply: |\n      fine\n      [x](javascript:y)\n",
		      "rules/en/r.yaml:7: link to 'javascript:y' is not allowed: links must start "
		      "with https://, http:// or mailto:");
	rules_refused(INTENT "    flow: Order-Status\n",
		      "rules/en/r.yaml:5: flow 'Order-Status' is not a valid flow name: use a-z, "
		      "0-9 and '_'");
	rules_refused(INTENT "    replys: ok\n    reply: ok\n",
		      "rules/en/r.yaml:5: unknown key 'replys' in an intent (did you mean 'reply'?)");
	rules_refused("intents:\n  - name: Bad-Name\n    label: X\n    examples: [hi]\n    reply: ok\n",
		      "rules/en/r.yaml:2: intent name 'Bad-Name' is not valid: use lower-case "
		      "letters a-z, digits and '_'");
	rules_refused("intents:\n  - name: x\n    examples: [hi]\n    reply: ok\n",
		      "rules/en/r.yaml:2: intent 'x' has no 'label' (the text of its \"did you mean\" "
		      "button)");
	rules_refused("intents:\n  - name: x\n    label: X\n    reply: ok\n",
		      "rules/en/r.yaml:2: intent 'x' needs 'examples' (phrases customers type) or "
		      "'patterns'");
	rules_refused("intents: none\n", "rules/en/r.yaml:1: 'intents' must be a list of intents, "
					 "each starting with '- name:'");
	rules_refused("# nothing yet\n", "rules/en/r.yaml: the file is empty: it needs an 'intents:' list");

	/* Patterns over the length limit. */
	char *big = malloc(RULES_PATTERN_MAX + 200);
	assert_non_null(big);
	int o = snprintf(big, RULES_PATTERN_MAX + 200, INTENT "    reply: ok\n    patterns: ['");
	memset(big + o, 'a', RULES_PATTERN_MAX + 1);
	strcpy(big + o + RULES_PATTERN_MAX + 1, "']\n");
	rules_refused(big, "rules/en/r.yaml:6: a pattern of intent 'x' is too long (1001 bytes; "
			   "the limit is 1000)");
	free(big);

	/* The valid intents of a file with a bad one are kept. */
	struct rule_set r = {0};
	struct diag d;
	diag_init(&d);
	assert_int_equal(parse_rules("intent:\n  - name: x\n", &r, &d), -1);
	expect_diag(&d, "rules/en/r.yaml:1: unknown key 'intent' in a rules file (did you mean 'intents'?)");
	expect_diag(&d, "rules/en/r.yaml:1: missing 'intents:' list");
	assert_int_equal(d.n, 2);
	diag_clear(&d);
	assert_int_equal(parse_rules(INTENT "    reply: ok\n"
					    "  - name: y\n    label: Y\n    examples: [yo]\n",
				     &r, &d),
			 -1);
	expect_only(&d, "rules/en/r.yaml:6: intent 'y' needs an action: 'reply', 'faq', 'flow', or "
		       "'flow' with 'faq'");
	assert_int_equal(r.n, 1);
	assert_string_equal(r.v[0].name, "x");
	rule_set_clear(&r);
	diag_clear(&d);
}

static void thresholds_refused(const char *y, const char *want)
{
	struct rule_thresholds t;
	struct diag d;
	diag_init(&d);
	assert_int_equal(rules_parse_thresholds("rules/thresholds.yaml", y, strlen(y), &t, &d), -1);
	expect_only(&d, want);
	assert_true(t.answer == 0.55 && t.clarify == 0.35 && t.clarify_margin == 0.15);
	diag_clear(&d);
}

static void test_thresholds(void **state)
{
	(void)state;
	struct rule_thresholds t;
	struct diag d;
	diag_init(&d);
	rules_thresholds_default(&t);
	assert_true(t.answer == 0.55 && t.clarify == 0.35 && t.clarify_margin == 0.15);
	const char *y = "answer: 0.7\nclarify: 0.3\nclarify_margin: 0.1\n";
	assert_int_equal(rules_parse_thresholds("t.yaml", y, strlen(y), &t, &d), 0);
	assert_true(t.answer == 0.7 && t.clarify == 0.3 && t.clarify_margin == 0.1);
	/* A key left out keeps its default. */
	y = "answer: 0.6\n";
	assert_int_equal(rules_parse_thresholds("t.yaml", y, strlen(y), &t, &d), 0);
	assert_true(t.answer == 0.6 && t.clarify == 0.35 && t.clarify_margin == 0.15);
	expect_none(&d);
	diag_clear(&d);

	thresholds_refused("answer: 1.5\n",
			   "rules/thresholds.yaml:1: 'answer' must be between 0 and 1, got 1.5");
	thresholds_refused("answer: 0.5\nclarify: 0.6\n",
			   "rules/thresholds.yaml:2: 'clarify' (0.6) must not be above 'answer' (0.5)");
	thresholds_refused("answer: 0.2\n",
			   "rules/thresholds.yaml:1: 'clarify' (0.35) must not be above 'answer' (0.2)");
	thresholds_refused("answer: high\n",
			   "rules/thresholds.yaml:1: 'answer' must be a number, got 'high'");
	thresholds_refused("answer: .nan\n",
			   "rules/thresholds.yaml:1: 'answer' must be a number, got '.nan'");
	thresholds_refused("answer: 0.5\nclarfy: 0.2\n",
			   "rules/thresholds.yaml:2: unknown key 'clarfy' in thresholds (did you "
			   "mean 'clarify'?)");
}

static void test_rules_load_tree(void **state)
{
	(void)state;
	struct tree t;
	struct rule_set r = {0};
	struct diag d;
	char want[512];
	diag_init(&d);
	tree_new(&t);
	/* No thresholds.yaml: the defaults. */
	tree_write(&t, "en/a.yaml", INTENT "    reply: ok\n", strlen(INTENT "    reply: ok\n"));
	tree_write(&t, "en/b.yaml", INTENT "    reply: again\n", strlen(INTENT "    reply: again\n"));
	tree_write(&t, "pt/a.yaml", INTENT "    faq: a\n", strlen(INTENT "    faq: a\n"));
	tree_write(&t, "en/c.yml", "x", 1);
	/* each language directory has its language.yaml, which is not rules */
	tree_write(&t, "en/language.yaml", "name: English\nstemmer:\n  snowball: english\n",
		   strlen("name: English\nstemmer:\n  snowball: english\n"));
	tree_write(&t, "pt/language.yaml", "name: Português\nstemmer: {snowball: portuguese}\n",
		   strlen("name: Português\nstemmer: {snowball: portuguese}\n"));
	/* but pl has none, and "english" is no ISO 639-1 code */
	tree_write(&t, "pl/a.yaml", INTENT "    reply: ok\n", strlen(INTENT "    reply: ok\n"));
	tree_write(&t, "english/a.yaml", INTENT "    reply: ok\n", strlen(INTENT "    reply: ok\n"));
	assert_int_equal(rules_load(t.dir, &r, &d), -1);
	snprintf(want, sizeof(want),
		 "%s/en/b.yaml:2: duplicate intent name 'x': %s/en/a.yaml:2 already uses it", t.dir,
		 t.dir);
	expect_diag(&d, want);
	snprintf(want, sizeof(want), "%s/en/c.yml: rules files must end in .yaml", t.dir);
	expect_diag(&d, want);
	snprintf(want, sizeof(want),
		 "%s/pl: no language.yaml: a language directory needs one, to say how its text "
		 "is read (docs/content.md, \"Adding a language\")",
		 t.dir);
	expect_diag(&d, want);
	snprintf(want, sizeof(want),
		 "%s/english: not a language directory: a language directory is named by its "
		 "two-letter ISO 639-1 code, such as %s/en/",
		 t.dir, t.dir);
	expect_diag(&d, want);
	assert_int_equal(d.n, 4);
	assert_int_equal(r.languages.n, 2);
	assert_string_equal(r.languages.v[0].code, "en");
	assert_string_equal(r.languages.v[1].name, "Português");
	assert_string_equal(r.languages.v[1].snowball, "portuguese");
	assert_int_equal(r.n, 3);
	assert_string_equal(r.v[0].reply, "ok");
	assert_string_equal(r.v[1].lang, "pl");
	assert_string_equal(r.v[2].lang, "pt");
	assert_true(r.thresholds.answer == 0.55 && r.thresholds.clarify == 0.35 &&
		    r.thresholds.clarify_margin == 0.15);

	/* rules_check_faq_refs: pt's faq 'a' exists only in en. */
	struct faq_set f = {0};
	struct diag fd;
	diag_init(&fd);
	tree_write(&t, "faq/en/a.md", FM "Answer\n", strlen(FM "Answer\n"));
	snprintf(want, sizeof(want), "%s/faq", t.dir);
	assert_int_equal(faq_load(want, repo_languages(), &f, &fd), 0);
	diag_clear(&d);
	assert_int_equal(rules_check_faq_refs(&r, &f, NULL, &d), -1);
	snprintf(want, sizeof(want),
		 "%s/pt/a.yaml:5: intent 'x': there is no FAQ entry with id 'a' in language 'pt'",
		 t.dir);
	expect_only(&d, want);
	diag_clear(&d);
	assert_int_equal(rules_check_faq_refs(&r, &f, "pl", &d), -1);
	snprintf(want, sizeof(want),
		 "%s/pt/a.yaml:5: intent 'x': there is no FAQ entry with id 'a' in language 'pt' or in pl",
		 t.dir);
	expect_only(&d, want);
	diag_clear(&d);
	/* not translated yet: the default language's entry answers */
	assert_int_equal(rules_check_faq_refs(&r, &f, "en", &d), 0);
	expect_none(&d);
	free(r.v[2].lang);
	r.v[2].lang = strdup("en");
	assert_int_equal(rules_check_faq_refs(&r, &f, NULL, &d), 0);
	expect_none(&d);
	faq_set_clear(&f);
	diag_clear(&fd);
	rule_set_clear(&r);

	/* A thresholds file is read. */
	tree_write(&t, "thresholds.yaml", "answer: 0.8\n", strlen("answer: 0.8\n"));
	assert_int_equal(rules_load(t.dir, &r, &d), -1); /* the duplicates again */
	assert_true(r.thresholds.answer == 0.8);
	rule_set_clear(&r);
	tree_free(&t);
	diag_clear(&d);

	assert_int_equal(rules_load("/nonexistent/rules", &r, &d), -1);
	expect_only(&d, "/nonexistent/rules: cannot read the rules directory: No such file or directory");
	assert_true(r.thresholds.answer == 0.55);
	rule_set_clear(&r);
	diag_clear(&d);
}

/* ------------------------------------------------------ shipped content */

static void test_shipped_content_loads_cleanly(void **state)
{
	(void)state;
	struct faq_set f = {0};
	struct rule_set r = {0};
	struct diag d;
	diag_init(&d);
	assert_int_equal(faq_load("faq", repo_languages(), &f, &d), 0);
	assert_int_equal(rules_load("rules", &r, &d), 0);
	assert_int_equal(rules_check_faq_refs(&r, &f, BRAIN_DEFAULT_LANG, &d), 0);
	expect_none(&d);
	/* the same shop in en, pt and pl: every entry and intent in each */
	static const char *const langs[] = {"en", "pt", "pl"};
	size_t en_faqs = 0, en_rules = 0;
	for (size_t i = 0; i < f.n; i++) {
		en_faqs += !strcmp(f.v[i].lang, "en");
		assert_true(f.v[i].n_questions >= 5 && f.v[i].n_questions <= 12);
	}
	for (size_t i = 0; i < r.n; i++) {
		en_rules += !strcmp(r.v[i].lang, "en");
		assert_true(r.v[i].n_examples >= 6 && r.v[i].n_examples <= 12);
	}
	assert_true(en_faqs >= 28);
	assert_true(en_rules >= 12 && en_rules <= 16);
	assert_int_equal(f.n, 3 * en_faqs);
	assert_int_equal(r.n, 3 * en_rules);
	for (size_t i = 0; i < f.n; i++) {
		if (strcmp(f.v[i].lang, "en"))
			continue;
		for (size_t l = 1; l < 3; l++) {
			int found = 0;
			for (size_t j = 0; j < f.n; j++)
				found |= !strcmp(f.v[j].lang, langs[l]) && !strcmp(f.v[j].id, f.v[i].id);
			if (!found)
				fail_msg("faq entry %s has no %s version", f.v[i].id, langs[l]);
		}
	}
	assert_true(r.thresholds.answer == 0.55 && r.thresholds.clarify == 0.35 &&
		    r.thresholds.clarify_margin == 0.15);

	/* The intents the pipeline relies on, and their patterns. */
	const char *want[] = {"reset_password", "track_order", "cancel_order", "human_agent",
			      "thanks", "goodbye", "complaint", "bot_capabilities"};
	rules_matcher *m = rules_matcher_new(100000, 1000);
	for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
		const struct rule_intent *in = NULL;
		for (size_t l = 0; l < 3; l++) {
			in = NULL;
			for (size_t i = 0; i < r.n; i++)
				if (strcmp(r.v[i].name, want[w]) == 0 && !strcmp(r.v[i].lang, langs[l]))
					in = &r.v[i];
			if (!in)
				fail_msg("intent %s is missing in %s", want[w], langs[l]);
		}
	}
	for (size_t i = 0; i < r.n; i++) {
		int lim;
		const struct rule_intent *in = &r.v[i];
		if (strcmp(in->lang, "en"))
			continue; /* the English phrasings below */
		if (strcmp(in->name, "human_agent") == 0) {
			assert_string_equal(in->label, "Talk to a person");
			assert_non_null(in->reply);
			assert_int_equal(rules_match(m, in, "can I talk to a human", 21, NULL, 0, &lim), 0);
			assert_int_equal(rules_match(m, in, "where is my order", 17, NULL, 0, &lim), -1);
		}
		if (strcmp(in->name, "reset_password") == 0) {
			assert_string_equal(in->faq, "password-reset");
			assert_int_equal(rules_match(m, in, "I forgot my password", 20, NULL, 0, &lim), 0);
		}
		if (strcmp(in->name, "track_order") == 0) {
			assert_string_equal(in->flow, "order_status");
			assert_int_equal(rules_match(m, in, "Where's my order?", 17, NULL, 0, &lim), 0);
		}
		if (strcmp(in->name, "thanks") == 0) {
			assert_int_equal(rules_match(m, in, "thanks!", 7, NULL, 0, &lim), 0);
			assert_int_equal(rules_match(m, in, "thanks but where is my refund", 29, NULL,
						     0, &lim),
					 -1);
		}
	}
	rules_matcher_free(m);
	faq_set_clear(&f);
	rule_set_clear(&r);
	diag_clear(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diag_format_and_cap),
		cmocka_unit_test(test_yaml_tree_and_lines),
		cmocka_unit_test(test_yaml_billion_laughs_refused),
		cmocka_unit_test(test_yaml_limits),
		cmocka_unit_test(test_yaml_bad_input),
		cmocka_unit_test(test_faq_valid),
		cmocka_unit_test(test_faq_front_matter_errors),
		cmocka_unit_test(test_faq_markdown_errors),
		cmocka_unit_test(test_faq_invalid_utf8_and_size),
		cmocka_unit_test(test_faq_load_tree),
		cmocka_unit_test(test_rules_parse),
		cmocka_unit_test(test_rules_match_folded),
		cmocka_unit_test(test_rules_catastrophic_backtracking),
		cmocka_unit_test(test_rules_errors),
		cmocka_unit_test(test_thresholds),
		cmocka_unit_test(test_rules_load_tree),
		cmocka_unit_test(test_shipped_content_loads_cleanly),
	};
	return cmocka_run_group_tests_name("content", tests, NULL, NULL);
}
