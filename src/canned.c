/* canned.c: agents' canned responses. See canned.h. */
#include "canned.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "content.h"
#include "language.h"
#include "rules.h"
#include "yamldoc.h"

struct load {
	json_t *list;
	struct diag *d;
	const struct language_set *langs;
};

static void parse(struct load *l, const char *path, const char *buf, size_t len)
{
	static const char *const keys[] = {"shortcut", "title", "text", "lang", NULL};
	static const char *const top[] = {"responses", NULL};
	yamldoc *doc = yamldoc_parse(path, 1, buf, len, l->d);
	const yamldoc_node *root, *list;

	if (!doc)
		return;
	root = yamldoc_root(doc);
	if (!root || yamldoc_check_keys(doc, root, "a canned responses file", top, l->d))
		goto out;
	list = yamldoc_get(root, "responses");
	if (!list || yamldoc_kind(list) != YAMLDOC_SEQ) {
		diag_add(l->d, path, root ? yamldoc_line(root) : 0,
			 "'responses' must be a list of {shortcut, title, text}");
		goto out;
	}
	for (size_t i = 0; i < yamldoc_len(list); i++) {
		const yamldoc_node *r = yamldoc_item(list, i);
		const char *shortcut = NULL, *title = NULL, *text = NULL, *lang = NULL;
		if (yamldoc_check_keys(doc, r, "a canned response", keys, l->d) ||
		    content_one_line(doc, yamldoc_get(r, "shortcut"), "'shortcut'", 32, &shortcut,
				     l->d) ||
		    content_one_line(doc, yamldoc_get(r, "title"), "'title'", 80, &title, l->d) ||
		    yamldoc_string(doc, yamldoc_get(r, "text"), "'text'", CANNED_TEXT_MAX, &text, l->d))
			continue;
		if (!content_valid_id(shortcut)) {
			diag_add(l->d, path, yamldoc_line(r),
				 "shortcut '%s' must be lower-case letters, digits, - and _", shortcut);
			continue;
		}
		if (yamldoc_get(r, "lang") &&
		    (content_one_line(doc, yamldoc_get(r, "lang"), "'lang'", 8, &lang, l->d) ||
		     !language_valid_code(lang) || !language_find(l->langs, lang))) {
			diag_add(l->d, path, yamldoc_line(r),
				 "lang must be one of the content's languages (rules/<code>/%s)",
				 LANGUAGE_FILE);
			continue;
		}
		if (json_array_size(l->list) >= CANNED_MAX) {
			diag_add(l->d, path, yamldoc_line(r), "more than %d canned responses", CANNED_MAX);
			break;
		}
		json_array_append_new(l->list, json_pack("{s:s, s:s, s:s, s:s?}", "shortcut", shortcut,
							 "title", title, "text", text, "lang", lang));
	}
out:
	yamldoc_free(doc);
}

static void on_entry(void *ud, const char *path, const char *name, const struct stat *st)
{
	struct load *l = ud;
	char *buf;
	size_t len;

	if (!S_ISREG(st->st_mode) || !content_ends_with(name, ".yaml"))
		return;
	if (content_read_file(path, CANNED_FILE_MAX, &buf, &len, l->d))
		return;
	parse(l, path, buf, len);
	free(buf);
}

char *canned_load(const char *rules_dir, const struct language_set *langs, struct diag *d)
{
	struct load l = {json_array(), d, langs};
	size_t before = diag_count(d);
	char *dir = content_path_join(rules_dir, RULES_CANNED_DIR), *out = NULL;
	struct stat st;

	if (stat(dir, &st) == 0)
		content_list_dir(dir, "the canned responses directory", on_entry, &l, NULL, d);
	free(dir);
	if (diag_count(d) == before)
		out = json_dumps(l.list, JSON_COMPACT);
	json_decref(l.list);
	return out;
}
