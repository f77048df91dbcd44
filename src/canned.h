/* canned.h: agents' canned responses, rules/canned/NAME.yaml.
 *
 * Each file holds `responses:`, a list of {shortcut, title, text, lang}:
 * the console offers them when an agent types "/" and the shortcut. Every
 * problem is reported as "file:line: reason", and the daemon refuses to
 * start on any, like the rest of the content. */
#ifndef SUPPORTD_CANNED_H
#define SUPPORTD_CANNED_H

#include "diag.h"
#include "language.h"

#define CANNED_MAX 500          /* responses in all */
#define CANNED_TEXT_MAX 4000    /* bytes of one response */
#define CANNED_FILE_MAX (256 * 1024)

/* Reads rules_dir/canned/NAME.yaml (a missing directory is no responses);
 * a response's lang must be one of langs (borrowed).
 * Returns the responses as a JSON array text (a new string): [{"shortcut",
 * "title", "text", "lang"}], or NULL after adding problems to d. */
char *canned_load(const char *rules_dir, const struct language_set *langs, struct diag *d);

#endif
