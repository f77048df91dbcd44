/* repo_languages.h: the repository's languages, for unit tests.
 *
 * Tests run from the repository root (make test-unit), so the shipped
 * rules/<code>/language.yaml files define en, pt and pl here exactly as
 * they do for the daemon. Loaded once per test binary; a missing or broken
 * file fails the test that asks. */
#ifndef SUPPORTD_TEST_REPO_LANGUAGES_H
#define SUPPORTD_TEST_REPO_LANGUAGES_H

#include "diag.h"
#include "language.h"

static inline const struct language_set *repo_languages(void)
{
	static struct language_set set;
	static int loaded;

	if (!loaded) {
		struct diag d;
		diag_init(&d);
		assert_int_equal(language_set_load("rules", &set, &d), 0);
		diag_clear(&d);
		loaded = 1;
	}
	return &set;
}

/* The repository's definition of code; fails the test without one. */
static inline const struct language *repo_language(const char *code)
{
	const struct language *l = language_find(repo_languages(), code);
	assert_non_null(l);
	return l;
}

#endif
