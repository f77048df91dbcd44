/* tsv.c: the evaluation tools' input files. See tsv.h. */
#include "tsv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

/* Why a data line is refused, or NULL. Cuts the second field at its end. */
static const char *check_row(char *line, size_t len, char **second)
{
	if (memchr(line, 0, len))
		return "NUL byte in line";
	if (!wire_utf8_valid(line, len))
		return "invalid UTF-8";
	char *tab = strchr(line, '\t');
	if (!tab)
		return "no tab: expected two tab-separated fields";
	char *end = strchr(tab + 1, '\t');
	if (end)
		*end = 0;
	if (tab == line || !tab[1])
		return "empty field";
	*tab = 0;
	*second = tab + 1;
	return NULL;
}

int tsv_read(const char *path, tsv_row_fn *fn, void *ud)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *second;
	size_t cap = 0, lineno = 0, rows = 0;
	ssize_t len;
	const char *why;

	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = 0;
		if (lineno == 1) {
			if (!strchr(line, '\t')) {
				fprintf(stderr, "%s:1: expected a header line with two tab-separated fields\n",
					path);
				goto err;
			}
			continue;
		}
		if (len == 0)
			continue; /* a blank line, e.g. at the end of a concatenation */
		if ((why = check_row(line, (size_t)len, &second))) {
			fprintf(stderr, "%s:%zu: %s\n", path, lineno, why);
			goto err;
		}
		if (fn(line, second, ud) < 0) {
			fprintf(stderr, "%s:%zu: rejected\n", path, lineno);
			goto err;
		}
		rows++;
	}
	if (ferror(f)) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		goto err;
	}
	if (!rows) {
		fprintf(stderr, "%s: no data lines\n", path);
		goto err;
	}
	free(line);
	fclose(f);
	return 0;
err:
	free(line);
	fclose(f);
	return -1;
}
