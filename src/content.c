/* content.c: what the content loaders share. See content.h. */
#include "content.h"
#include "xalloc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --------------------------------------------------------------- text */

int content_is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

char *content_trimmed_dup(const char *s)
{
	size_t n = strlen(s);
	while (n && content_is_blank((unsigned char)s[n - 1]))
		n--;
	while (n && content_is_blank((unsigned char)*s)) {
		s++;
		n--;
	}
	return xstrndup(s, n);
}

void content_trim_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *t = content_trimmed_dup(v[i]);
		free(v[i]);
		v[i] = t;
	}
}

/* ------------------------------------------------------------- fields */

int content_valid_id(const char *s)
{
	if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s)))
		return 0;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_' ||
		      *s == '-'))
			return 0;
	return 1;
}

int content_one_line(const yamldoc *doc, const yamldoc_node *n, const char *what, size_t max,
		     const char **out, struct diag *d)
{
	if (yamldoc_string(doc, n, what, max, out, d) < 0)
		return -1;
	size_t len = strlen(*out);
	while (len && content_is_blank((unsigned char)(*out)[len - 1]))
		len--;
	if (memchr(*out, '\n', len)) {
		diag_add(d, yamldoc_file(doc), yamldoc_line(n), "%s must be one line", what);
		return -1;
	}
	return 0;
}

int content_valid_team(const char *s)
{
	return islower((unsigned char)*s) && strlen(s) <= 32 && content_valid_id(s);
}

int content_team(const yamldoc *doc, const yamldoc_node *n, char **out, struct diag *d)
{
	const char *s;
	char snip[80];
	if (content_one_line(doc, n, "'team'", 64, &s, d) < 0)
		return -1;
	if (!content_valid_team(s)) {
		diag_add(d, yamldoc_file(doc), yamldoc_line(n),
			 "team '%s' is not valid: use up to 32 lower-case letters, digits, "
			 "'-' and '_', starting with a letter",
			 diag_snip(s, 40, snip, sizeof(snip)));
		return -1;
	}
	*out = xstrdup(s);
	return 0;
}

/* -------------------------------------------------------------- files */

char *content_path_join(const char *dir, const char *name)
{
	size_t dl = strlen(dir);
	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	size_t len = dl + 1 + strlen(name) + 1;
	char *p = xrealloc(NULL, len);
	snprintf(p, len, "%.*s/%s", (int)dl, dir, name);
	return p;
}

int content_ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

int content_read_file(const char *path, size_t max, char **buf, size_t *len,
		      struct diag *d)
{
	struct stat st;
	char *b = NULL;
	size_t got = 0;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		diag_add(d, path, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		diag_add(d, path, 0, "not a regular file");
		goto err;
	}
	if ((unsigned long long)st.st_size > max) {
		diag_add(d, path, 0, "file too large (%lld bytes; the limit is %zu)",
			 (long long)st.st_size, max);
		goto err;
	}
	/* One byte more than allowed, in case the file grew since fstat. */
	b = xrealloc(NULL, max + 2);
	for (;;) {
		ssize_t r = read(fd, b + got, max + 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			diag_add(d, path, 0, "cannot read: %s", strerror(errno));
			goto err;
		}
		if (r == 0)
			break;
		got += (size_t)r;
		if (got > max) {
			diag_add(d, path, 0, "file too large (more than %zu bytes)", max);
			goto err;
		}
	}
	b[got] = '\0';
	close(fd);
	*buf = b;
	*len = got;
	return 0;
err:
	free(b);
	close(fd);
	return -1;
}

static int cmp_dirent(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int content_list_dir(const char *dir, const char *what, content_entry_fn *fn, void *ud,
		     const int *stop, struct diag *d)
{
	struct dirent **names = NULL;
	int k = scandir(dir, &names, NULL, cmp_dirent);
	if (k < 0) {
		diag_add(d, dir, 0, "cannot read %s: %s", what, strerror(errno));
		return -1;
	}
	for (int i = 0; i < k; i++) {
		const char *name = names[i]->d_name;
		struct stat st;
		if (name[0] == '.' || (stop && *stop))
			continue;
		char *path = content_path_join(dir, name);
		if (stat(path, &st) < 0)
			diag_add(d, path, 0, "cannot read: %s", strerror(errno));
		else
			fn(ud, path, name, &st);
		free(path);
	}
	for (int i = 0; i < k; i++)
		free(names[i]);
	free(names);
	return 0;
}

/* ------------------------------------------------------------ repeats */

struct key_ref {
	const char *key;
	size_t index;
};

static int cmp_key_ref(const void *a, const void *b)
{
	const struct key_ref *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	if (c)
		return c;
	return (x->index > y->index) - (x->index < y->index);
}

size_t content_drop_repeats(void *v, size_t from, size_t n, size_t size, content_key_fn *key,
			    content_drop_fn *drop, void *ud)
{
	if (n - from < 2)
		return n;
	char *base = (char *)v + from * size;
	size_t count = n - from;
	struct key_ref *refs = xrealloc(NULL, count * sizeof(*refs));
	unsigned char *gone = calloc(count, 1);
	if (!gone)
		abort();
	for (size_t i = 0; i < count; i++) {
		refs[i].key = key(base + i * size);
		refs[i].index = i;
	}
	qsort(refs, count, sizeof(*refs), cmp_key_ref);
	/* A group's first ref is its earliest element, which is kept; only
	 * refs not yet seen are compared after a drop. */
	for (size_t i = 1, keep = 0; i < count; i++) {
		if (strcmp(refs[i].key, refs[keep].key) != 0) {
			keep = i;
			continue;
		}
		gone[refs[i].index] = 1;
		drop(ud, base + refs[i].index * size, base + refs[keep].index * size);
	}
	size_t o = 0;
	for (size_t i = 0; i < count; i++)
		if (!gone[i])
			memmove(base + o++ * size, base + i * size, size);
	free(gone);
	free(refs);
	return from + o;
}
