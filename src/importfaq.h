/* importfaq.h: `supportd import-faq`: FAQ entries from a spreadsheet.
 *
 * `supportd import-faq FILE.csv [--out DIR] [--lang L] [--dry-run]` reads a
 * CSV export (RFC 4180, parsed by libcsv) whose header row names the
 * columns question, answer, and optionally alternates, team and lang, and
 * writes each row as DIR/faq/<lang>/<id>.md in the format faq.c loads
 * (docs/content.md, "Importing an FAQ spreadsheet"). Every file is checked
 * with the FAQ loader before it is written, and the tree is loaded again
 * afterwards, so the command never leaves invalid content behind. Existing
 * files are never overwritten. Problems are reported as "FILE.csv:ROW:
 * reason", ROW being the CSV line where the record starts. */
#ifndef SUPPORTD_IMPORTFAQ_H
#define SUPPORTD_IMPORTFAQ_H

#include <stddef.h>

#define IMPORTFAQ_CSV_MAX (32 * 1024 * 1024) /* bytes of one CSV file */
#define IMPORTFAQ_SLUG_MAX 60                /* bytes of a generated id */

/* Runs `supportd import-faq` with argv[0] = "import-faq". Returns the exit
 * status: 0, 1 when a row was skipped, 2 for a usage error. */
int importfaq_main(int argc, char **argv);

/* The command's --help text. */
const char *importfaq_usage(void);

/* Returns a new string the caller frees: the id a question (borrowed)
 * suggests. Folded as text.c folds (case and accents: "Não" -> "nao"),
 * apostrophes dropped, every other run of characters outside a-z and 0-9
 * made one '-', no '-' at either end, cut to IMPORTFAQ_SLUG_MAX bytes at a
 * '-' where one is near. "entry" when nothing is left. NULL when question
 * is not valid UTF-8. */
char *importfaq_slug(const char *question);

/* Says whether id (borrowed for the call) is taken: 1 or 0. */
typedef int importfaq_taken_fn(void *ud, const char *id);

/* Returns a new string the caller frees: slug (borrowed) itself when
 * taken(ud, slug) is 0, else the first of slug-2, slug-3, ... that is free,
 * the slug cut so the whole stays within IMPORTFAQ_SLUG_MAX bytes. */
char *importfaq_unique_id(const char *slug, importfaq_taken_fn *taken, void *ud);

/* Splits an alternates cell (borrowed) at line breaks, ';' and '|'. Returns
 * a new array of new strings (the caller frees each and the array; NULL
 * when there are none) with their count in *n: each trimmed, empty pieces
 * and exact repeats left out, in order. */
char **importfaq_split_alternates(const char *s, size_t *n);

#endif
