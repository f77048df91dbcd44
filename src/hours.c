/* hours.c: a team's business hours in its time zone. See hours.h.
 *
 * ICU does every conversion between instants and wall times. "Is it open"
 * is one instant -> wall time lookup. "When does it open next" searches
 * instants: openness can only turn on where the wall clock reaches a
 * day's open_min or where the zone's offset jumps (a DST transition may
 * land the clock inside an interval), so the next opening is the earliest
 * such instant after now at which the schedule is open. Between two
 * candidates the schedule can only close, never open. */
#include "hours.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/ucal.h>
#include <unicode/ustring.h>
#include <unicode/utypes.h>

#define HORIZON_DAYS 8
#define DAY_MS ((int64_t)86400000)
#define CANON_MAX 128     /* UChars of a canonical zone id; the longest is 32 */
#define MAX_TRANSITIONS 16 /* offset changes looked at within the horizon */

static const char *const day_names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

/* ICU out of memory is an internal allocation failure: abort, as xalloc
 * does. Every other failure is the caller's to report. */
static void check_oom(UErrorCode st)
{
	if (st == U_MEMORY_ALLOCATION_ERROR)
		abort();
}

/* ---------------------------------------------------------------- parsing */

int hours_day_index(const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < 7; i++)
		if (!strcmp(name, day_names[i]))
			return i;
	return -1;
}

/* "HH:MM" at s (exactly five bytes) to minutes, 00:00 to 24:00. */
static int parse_hhmm(const char *s, int *min)
{
	for (int i = 0; i < 5; i++)
		if (i == 2 ? s[i] != ':' : (s[i] < '0' || s[i] > '9'))
			return -1;
	int hh = (s[0] - '0') * 10 + (s[1] - '0');
	int mm = (s[3] - '0') * 10 + (s[4] - '0');
	if (mm > 59 || hh > 24 || (hh == 24 && mm != 0))
		return -1;
	*min = hh * 60 + mm;
	return 0;
}

int hours_parse_day(const char *spec, int *open_min, int *close_min, char *err, size_t errlen)
{
	int o, c;

	if (spec && !strcmp(spec, "closed")) {
		*open_min = *close_min = 0;
		return 0;
	}
	if (!spec || strlen(spec) != 11 || spec[5] != '-' || parse_hhmm(spec, &o) ||
	    parse_hhmm(spec + 6, &c)) {
		snprintf(err, errlen, "must be \"HH:MM-HH:MM\" (24-hour, e.g. \"09:00-18:00\", "
			 "\"00:00-24:00\" for the whole day) or \"closed\"");
		return -1;
	}
	if (o == HOURS_DAY_MIN) {
		snprintf(err, errlen, "cannot open at 24:00; open at 00:00 on the next day");
		return -1;
	}
	if (c == o) {
		snprintf(err, errlen, "opens and closes at %02d:%02d; write \"closed\" for a closed day",
			 o / 60, o % 60);
		return -1;
	}
	if (c < o) {
		snprintf(err, errlen, "closes at %02d:%02d, before it opens at %02d:%02d; to stay open "
			 "past midnight end at 24:00 and open the next day at 00:00",
			 c / 60, c % 60, o / 60, o % 60);
		return -1;
	}
	*open_min = o;
	*close_min = c;
	return 0;
}

/* A day or a range "mon-fri" to its first day and number of days. */
static int parse_days(const char *key, int *first, int *n)
{
	char a[4], b[4];
	int i, j;

	if ((i = hours_day_index(key)) >= 0) {
		*first = i;
		*n = 1;
		return 0;
	}
	if (!key || strlen(key) != 7 || key[3] != '-')
		return -1;
	memcpy(a, key, 3);
	memcpy(b, key + 4, 3);
	a[3] = b[3] = '\0';
	i = hours_day_index(a);
	j = hours_day_index(b);
	if (i < 0 || j < 0 || i == j)
		return -1;
	*first = i;
	*n = (j - i + 7) % 7 + 1;
	return 0;
}

int hours_set_days(struct hours *h, const char *key, const char *spec, unsigned *seen,
		   char *err, size_t errlen)
{
	int first, n, o, c;

	if (parse_days(key, &first, &n)) {
		snprintf(err, errlen, "a key must be a day (mon, tue, wed, thu, fri, sat, sun) or a "
			 "range of two different days such as mon-fri");
		return -1;
	}
	for (int k = 0; k < n; k++) {
		int d = (first + k) % 7;
		if (*seen & (1u << d)) {
			snprintf(err, errlen, "%s is given twice", day_names[d]);
			return -1;
		}
	}
	if (hours_parse_day(spec, &o, &c, err, errlen))
		return -1;
	for (int k = 0; k < n; k++) {
		int d = (first + k) % 7;
		*seen |= 1u << d;
		h->day[d].open_min = o;
		h->day[d].close_min = c;
	}
	h->set = 1;
	return 0;
}

/* ------------------------------------------------------------- time zones */

/* Checks tz as hours_check_tz does and writes it as UTF-16 into id
 * (HOURS_TZ_MAX units, NUL-terminated) for ucal_open. */
static int zone_id(const char *tz, UChar *id, char *err, size_t errlen)
{
	size_t len = tz ? strlen(tz) : 0;
	UChar canon[CANON_MAX];
	UBool is_system = 0;
	UErrorCode st = U_ZERO_ERROR;

	if (len == 0 || len >= HOURS_TZ_MAX) {
		snprintf(err, errlen, "a time zone must be an IANA name of 1 to %d bytes, such as "
			 "\"Europe/Lisbon\"", HOURS_TZ_MAX - 1);
		return -1;
	}
	/* IANA names use only these, which are all in ICU's invariant set
	 * that u_charsToUChars converts; they are also safe to quote. */
	for (size_t i = 0; i < len; i++) {
		char ch = tz[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '/' || ch == '_' || ch == '-' || ch == '+')) {
			snprintf(err, errlen, "a time zone name has only letters, digits and / _ - +, "
				 "such as \"Europe/Lisbon\"");
			return -1;
		}
	}
	u_charsToUChars(tz, id, (int32_t)len + 1);
	ucal_getCanonicalTimeZoneID(id, -1, canon, CANON_MAX, &is_system, &st);
	check_oom(st);
	if (st == U_ILLEGAL_ARGUMENT_ERROR || (U_SUCCESS(st) && !is_system)) {
		snprintf(err, errlen, "\"%s\" is not a time zone ICU knows; give an IANA name such as "
			 "\"Europe/Lisbon\" (names are case-sensitive)", tz);
		return -1;
	}
	if (U_FAILURE(st)) {
		snprintf(err, errlen, "ICU could not look up time zone \"%s\": %s", tz, u_errorName(st));
		return -1;
	}
	return 0;
}

int hours_check_tz(const char *tz, char *err, size_t errlen)
{
	UChar id[HOURS_TZ_MAX];
	return zone_id(tz, id, err, errlen);
}

int hours_set_tz(struct hours *h, const char *tz, char *err, size_t errlen)
{
	if (hours_check_tz(tz, err, errlen))
		return -1;
	snprintf(h->tz, sizeof(h->tz), "%s", tz);
	return 0;
}

/* A Gregorian calendar in h's zone, or NULL. A wall time that a DST
 * change skips resolves to the jump (next_opening also tries every jump,
 * so this only keeps each candidate meaningful on its own); the caller
 * picks which of two repeated ones. */
static UCalendar *open_cal(const struct hours *h)
{
	UChar id[HOURS_TZ_MAX];
	char err[8];
	UErrorCode st = U_ZERO_ERROR;
	UCalendar *cal;

	if (zone_id(h->tz, id, err, sizeof(err)))
		return NULL;
	/* Root locale: only week data depends on it, and DAY_OF_WEEK does not. */
	cal = ucal_open(id, -1, "", UCAL_GREGORIAN, &st);
	check_oom(st);
	if (U_FAILURE(st)) {
		if (cal)
			ucal_close(cal);
		return NULL;
	}
	ucal_setAttribute(cal, UCAL_LENIENT, 1); /* day-of-month overflow rolls on */
	ucal_setAttribute(cal, UCAL_SKIPPED_WALL_TIME, UCAL_WALLTIME_NEXT_VALID);
	return cal;
}

/* ----------------------------------------------------------- open or not */

/* 1 if h is open at instant t, 0 if not, -1 if ICU fails. */
static int open_at(UCalendar *cal, const struct hours *h, UDate t)
{
	UErrorCode st = U_ZERO_ERROR;
	int32_t dow, hh, mm;

	ucal_setMillis(cal, t, &st);
	dow = ucal_get(cal, UCAL_DAY_OF_WEEK, &st);
	hh = ucal_get(cal, UCAL_HOUR_OF_DAY, &st);
	mm = ucal_get(cal, UCAL_MINUTE, &st);
	check_oom(st);
	if (U_FAILURE(st) || dow < UCAL_SUNDAY || dow > UCAL_SATURDAY)
		return -1;
	int d = (dow - UCAL_MONDAY + 7) % 7; /* ICU: SUNDAY = 1 .. SATURDAY = 7 */
	int m = hh * 60 + mm;
	return m >= h->day[d].open_min && m < h->day[d].close_min;
}

/* Candidate t for the next opening after now: kept in *best if it is
 * earlier and the schedule is open there. */
static int consider(UCalendar *cal, const struct hours *h, int64_t now, UDate t, int64_t *best)
{
	int64_t ms = (int64_t)t;
	int rc;

	if (ms <= now || (*best >= 0 && ms >= *best))
		return 0;
	if ((rc = open_at(cal, h, t)) < 0)
		return -1;
	if (rc)
		*best = ms;
	return 0;
}

/* The next opening after now (at which h is closed) within the horizon,
 * or -1 in *out. Returns 0, or -1 if ICU fails. */
static int next_opening(UCalendar *cal, const struct hours *h, int64_t now, int64_t *out)
{
	static const UCalendarWallTimeOption repeated[2] = {UCAL_WALLTIME_FIRST, UCAL_WALLTIME_LAST};
	UErrorCode st = U_ZERO_ERROR;
	int64_t best = -1;
	int32_t year, month, date, dow;
	int any = 0;

	for (int d = 0; d < 7; d++)
		any |= h->day[d].open_min < h->day[d].close_min;
	if (!any) {
		*out = -1;
		return 0;
	}
	ucal_setMillis(cal, (UDate)now, &st);
	year = ucal_get(cal, UCAL_EXTENDED_YEAR, &st);
	month = ucal_get(cal, UCAL_MONTH, &st);
	date = ucal_get(cal, UCAL_DATE, &st);
	dow = ucal_get(cal, UCAL_DAY_OF_WEEK, &st);
	check_oom(st);
	if (U_FAILURE(st))
		return -1;

	/* Each day's opening wall time, today and the next 7 days; both
	 * instants when a DST change repeats it. */
	for (int k = 0; k < HORIZON_DAYS; k++) {
		int d = (dow - UCAL_MONDAY + 7 + k) % 7;
		int o = h->day[d].open_min;
		if (o >= h->day[d].close_min)
			continue;
		for (int r = 0; r < 2; r++) {
			ucal_setAttribute(cal, UCAL_REPEATED_WALL_TIME, repeated[r]);
			ucal_clear(cal);
			ucal_set(cal, UCAL_EXTENDED_YEAR, year);
			ucal_set(cal, UCAL_MONTH, month);
			ucal_set(cal, UCAL_DATE, date + k);
			ucal_set(cal, UCAL_HOUR_OF_DAY, o / 60);
			ucal_set(cal, UCAL_MINUTE, o % 60);
			UDate t = ucal_getMillis(cal, &st);
			check_oom(st);
			if (U_FAILURE(st) || consider(cal, h, now, t, &best))
				return -1;
		}
	}

	/* Each offset change within the horizon. */
	UDate from = (UDate)now;
	for (int i = 0; i < MAX_TRANSITIONS; i++) {
		UDate tr;
		ucal_setMillis(cal, from, &st);
		UBool found = ucal_getTimeZoneTransitionDate(cal, UCAL_TZ_TRANSITION_NEXT, &tr, &st);
		check_oom(st);
		if (U_FAILURE(st))
			return -1;
		if (!found || tr > (UDate)(now + HORIZON_DAYS * DAY_MS) || tr <= from)
			break;
		if (consider(cal, h, now, tr, &best))
			return -1;
		from = tr;
	}
	*out = best;
	return 0;
}

int hours_open(const struct hours *h, int64_t now_ms, int64_t *next_open_ms)
{
	UCalendar *cal;
	int rc;

	if (!h->set)
		return 1;
	if (!(cal = open_cal(h)))
		return -1;
	rc = open_at(cal, h, (UDate)now_ms);
	if (rc == 0 && next_open_ms && next_opening(cal, h, now_ms, next_open_ms))
		rc = -1;
	ucal_close(cal);
	return rc;
}
