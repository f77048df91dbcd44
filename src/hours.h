/* hours.h: a team's business hours in its time zone.
 *
 * A schedule is one open interval per weekday in local wall-clock time of
 * an IANA time zone ("Europe/Lisbon"). All calendar and time zone
 * arithmetic is ICU's (unicode/ucal.h); this module only says which wall
 * times are open. Link with pkg-config's icu-i18n.
 *
 * Config (desk.teams.<team>): "timezone" is the zone, "hours" an object of
 * day -> spec. A key is a day "mon".."sun" or an inclusive range "mon-fri"
 * (a range may wrap the week: "fri-mon" is fri, sat, sun, mon). A spec is
 * "HH:MM-HH:MM" (24-hour, the end excluded), "00:00-24:00" for the whole
 * day, or "closed". Days not given are closed; a day given twice is an
 * error. An interval cannot pass midnight: "22:00-24:00" on one day and
 * "00:00-02:00" on the next is one continuous opening.
 *
 * Open means: the local wall time, to the minute, is inside that weekday's
 * interval. Across a DST change this is what the clock on the office wall
 * says: on a day whose clock skips 01:00-02:00 an interval opening at
 * 01:30 opens at the jump (02:00 new time); on a day whose clock repeats
 * 01:00-02:00 those wall times are open (or closed) both times round.
 *
 * Plain data, no globals: callers share nothing but ICU's own caches,
 * which are thread-safe. Time is passed in (Unix ms) so tests are exact. */
#ifndef SUPPORTD_HOURS_H
#define SUPPORTD_HOURS_H

#include <stddef.h>
#include <stdint.h>

#define HOURS_TZ_MAX 64   /* bytes of a zone name, with the NUL */
#define HOURS_DAY_MIN 1440

/* A weekly schedule: for each day (0 = Monday .. 6 = Sunday) one open
 * interval [open_min, close_min) in minutes after local midnight, with
 * 0 <= open_min < close_min <= 1440, or closed (open_min == close_min == 0).
 * A team without hours (set == 0) is always open. Zero it before use. */
struct hours {
	char tz[HOURS_TZ_MAX];      /* IANA name, e.g. "Europe/Lisbon" */
	int set;                    /* 0: always open */
	struct { int open_min, close_min; } day[7];
};

/* Parses one day's spec: "09:00-18:00", "closed", or "00:00-24:00" (two
 * digits each, close after open, at most 24:00). Returns 0, or -1 with a
 * reason in err (which does not quote spec) and the outputs untouched. */
int hours_parse_day(const char *spec, int *open_min, int *close_min, char *err, size_t errlen);

/* Checks that tz is a time zone ICU knows: a system (IANA) id, so not an
 * unknown name (for which ucal_open silently falls back to GMT as
 * "Etc/Unknown"), not a custom "GMT+05:00", and spelled with its case.
 * Links ("US/Eastern", "Asia/Calcutta") are accepted. Returns 0, or -1
 * with a reason in err. Aborts if ICU runs out of memory. */
int hours_check_tz(const char *tz, char *err, size_t errlen);

/* Checks tz (hours_check_tz) and copies it into h->tz. 0 or -1 with reason. */
int hours_set_tz(struct hours *h, const char *tz, char *err, size_t errlen);

/* Applies one entry of the config's "hours" object: key is a day or a
 * range (see above), spec as for hours_parse_day. Sets h->set. *seen is a
 * bit mask of the days given so far (start it at 0); a day given twice is
 * an error. Returns 0, or -1 with a reason in err and h untouched. */
int hours_set_days(struct hours *h, const char *key, const char *spec, unsigned *seen,
		   char *err, size_t errlen);

/* 1 if open at wall time now_ms (Unix ms), else 0. If closed and
 * next_open_ms is not NULL, sets it to the next opening within 8 days, or
 * -1 if none (no day has hours, or the only ones fall in an hour a DST
 * change skips); when open it is left alone. Borrows h.
 * Returns -1 if h->tz is not a zone ICU knows (hours_check_tz fails) or
 * ICU fails; a caller testing `!hours_open(...)` treats that as open.
 * Aborts if ICU runs out of memory. */
int hours_open(const struct hours *h, int64_t now_ms, int64_t *next_open_ms);

/* A day name: "mon".."sun" -> 0..6, else (also NULL) -1. Lower case only. */
int hours_day_index(const char *name);

#endif
