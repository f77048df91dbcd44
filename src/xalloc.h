/* xalloc.h: allocation that cannot fail.
 *
 * Internal allocations abort the process when memory runs out (as Redis's
 * zmalloc and jq's jv_alloc do): there is no sensible way to go on, and
 * checking every call would hide the real error paths. Sizes that come
 * from outside (a frame, a file) are limited before they get here. Zero
 * sizes allocate one byte, so a result is never NULL. */
#ifndef SUPPORTD_XALLOC_H
#define SUPPORTD_XALLOC_H

#include <stddef.h>

/* Each returns new memory the caller frees with free(). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
/* Takes ownership of p (which may be NULL) and returns its replacement. */
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* The first n bytes of s (or fewer, up to its NUL), NUL-terminated. */
char *xstrndup(const char *s, size_t n);

#endif
