/*
 * lifecycle/cron.c - cron expressions: parsing, and the next tick in a
 * time zone (rules in cron.h). Pure but for the C library's time zone,
 * which is switched under a lock for the few calls that need it.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lifecycle/cron.h"

#define NEVER     INT64_MAX
#define MAX_DAYS  (366 * 8 + 2) /* eight years: every 29 February */
#define MINUTE_MS 60000

struct field {
	const char *name;
	int lo, hi;
	const char *const *names; /* lo + i is names[i]; NULL: none */
};

static const char *const month_names[] = { "jan", "feb", "mar", "apr", "may",
	"jun", "jul", "aug", "sep", "oct", "nov", "dec", NULL };
static const char *const day_names[]
    = { "sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL };

static const struct field fields[5] = {
	{ "minute", 0, 59, NULL },
	{ "hour", 0, 23, NULL },
	{ "day of month", 1, 31, NULL },
	{ "month", 1, 12, month_names },
	{ "day of week", 0, 7, day_names },
};

static const struct {
	const char *name, *fields;
} macros[] = {
	{ "@yearly", "0 0 1 1 *" },
	{ "@annually", "0 0 1 1 *" },
	{ "@monthly", "0 0 1 * *" },
	{ "@weekly", "0 0 * * 0" },
	{ "@daily", "0 0 * * *" },
	{ "@midnight", "0 0 * * *" },
	{ "@hourly", "0 * * * *" },
};

/* value reads a number or a name of f at *p; false if neither. */
static bool
value(const struct field *f, const char **p, int *out)
{
	const char *s = *p;

	if (isdigit((unsigned char) *s)) {
		long v = 0;
		while (isdigit((unsigned char) *s) && v < 1000) {
			v = v * 10 + (*s++ - '0');
		}
		*out = (int) v;
		*p = s;
		return (true);
	}
	for (int i = 0; f->names != NULL && f->names[i] != NULL; i++) {
		if (strncasecmp(s, f->names[i], 3) == 0
		    && !isalpha((unsigned char) s[3])) {
			*out = f->lo + i;
			*p = s + 3;
			return (true);
		}
	}
	return (false);
}

/* item parses one item of a list (`*`, `a`, `a-b`, each with `/step`)
 * into the bits of *set. */
static bool
item(const struct field *f, const char *s, const char *end, uint64_t *set,
    char *err, size_t errlen)
{
	int lo = f->lo, hi = f->hi, step = 1;
	const char *p = s;

	if (*p == '*') {
		p++;
	} else {
		if (!value(f, &p, &lo)) {
			goto bad;
		}
		hi = lo;
		if (*p == '-') {
			p++;
			if (!value(f, &p, &hi)) {
				goto bad;
			}
		} else if (*p == '/') {
			hi = f->hi; /* a/step: from a to the end */
		}
	}
	if (*p == '/') {
		p++;
		if (!isdigit((unsigned char) *p) || !value(f, &p, &step)
		    || step < 1 || step > f->hi) {
			snprintf(err, errlen,
			    "%s: the step of '%.*s' must be 1 to %d", f->name,
			    (int) (end - s), s, f->hi);
			return (false);
		}
	}
	if (p != end) {
		goto bad;
	}
	if (lo < f->lo || hi > f->hi || lo > hi) {
		snprintf(err, errlen, "%s: '%.*s' is not within %d-%d%s",
		    f->name, (int) (end - s), s, f->lo, f->hi,
		    lo > hi ? " or is a range that ends before it starts"
		            : "");
		return (false);
	}
	for (int v = lo; v <= hi; v += step) {
		*set |= (uint64_t) 1 << v;
	}
	return (true);
bad:
	snprintf(err, errlen, "%s: cannot read '%.*s'", f->name,
	    (int) (end - s), s);
	return (false);
}

/* list parses a field's comma-separated items. */
static bool
list(const struct field *f, const char *s, size_t len, uint64_t *set,
    char *err, size_t errlen)
{
	const char *end = s + len;

	*set = 0;
	while (s < end) {
		const char *comma = memchr(s, ',', (size_t) (end - s));
		const char *e = comma != NULL ? comma : end;
		if (e == s || !item(f, s, e, set, err, errlen)) {
			if (e == s) {
				snprintf(
				    err, errlen, "%s: an empty item", f->name);
			}
			return (false);
		}
		s = e + (comma != NULL);
		if (comma != NULL && s == end) {
			snprintf(err, errlen, "%s: an empty item", f->name);
			return (false);
		}
	}
	return (true);
}

/* every parses "@every DUR": numbers with units ms, s, m, h, d. */
static bool
every(const char *s, struct cron *out, char *err, size_t errlen)
{
	int64_t total = 0;

	while (isspace((unsigned char) *s)) {
		s++;
	}
	if (*s == 0) {
		snprintf(
		    err, errlen, "@every: a duration is needed (30s, 5m)");
		return (false);
	}
	while (*s != 0 && !isspace((unsigned char) *s)) {
		int64_t v = 0, unit;
		if (!isdigit((unsigned char) *s)) {
			goto bad;
		}
		while (isdigit((unsigned char) *s) && v < 100000000) {
			v = v * 10 + (*s++ - '0');
		}
		if (strncmp(s, "ms", 2) == 0) {
			unit = 1, s += 2;
		} else if (*s == 's') {
			unit = 1000, s++;
		} else if (*s == 'm') {
			unit = 60000, s++;
		} else if (*s == 'h') {
			unit = 3600000, s++;
		} else if (*s == 'd') {
			unit = 86400000, s++;
		} else {
			goto bad;
		}
		total += v * unit;
		if (total > (int64_t) 366 * 86400000) {
			snprintf(err, errlen, "@every: at most 366d");
			return (false);
		}
	}
	while (isspace((unsigned char) *s)) {
		s++;
	}
	if (*s != 0) {
		goto bad;
	}
	if (total < 1000 || total % 1000 != 0) {
		snprintf(err, errlen,
		    "@every: a whole number of seconds, at least 1s");
		return (false);
	}
	out->every_ms = total;
	return (true);
bad:
	snprintf(err, errlen,
	    "@every: cannot read the duration (write it as 30s, 5m, 1h30m)");
	return (false);
}

bool
cron_parse(const char *text, struct cron *out, char *err, size_t errlen)
{
	struct cron c = { 0 };
	const char *s = text;
	uint64_t set[5];
	int n = 0;

	if (text == NULL || strlen(text) >= CRON_TEXT_MAX) {
		snprintf(
		    err, errlen, "cron: 1 to %d bytes", CRON_TEXT_MAX - 1);
		return (false);
	}
	while (isspace((unsigned char) *s)) {
		s++;
	}
	if (strncmp(s, "@every", 6) == 0
	    && (s[6] == 0 || isspace((unsigned char) s[6]))) {
		if (!every(s + 6, &c, err, errlen)) {
			return (false);
		}
		*out = c;
		return (true);
	}
	if (*s == '@') {
		for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]);
		     i++) {
			size_t l = strlen(macros[i].name);
			if (strncmp(s, macros[i].name, l) == 0
			    && s[l + strspn(s + l, " \t")] == 0) {
				return (cron_parse(
				    macros[i].fields, out, err, errlen));
			}
		}
		snprintf(err, errlen,
		    "cron: unknown '%.32s' (@hourly, @daily, @weekly, "
		    "@monthly, @yearly or @every DUR)",
		    s);
		return (false);
	}
	while (*s != 0) {
		size_t len = strcspn(s, " \t\n");
		if (n == 5) {
			n++;
			break;
		}
		if (n == 2) {
			c.mday_any = *s == '*';
		} else if (n == 4) {
			c.wday_any = *s == '*';
		}
		if (!list(&fields[n], s, len, &set[n], err, errlen)) {
			return (false);
		}
		n++;
		s += len;
		while (isspace((unsigned char) *s)) {
			s++;
		}
	}
	if (n != 5) {
		snprintf(err, errlen,
		    "cron: 5 fields (minute hour day-of-month month "
		    "day-of-week), not %s%d",
		    n > 5 ? "more than " : "", n > 5 ? 5 : n);
		return (false);
	}
	c.minutes = set[0];
	c.hours = (uint32_t) set[1];
	c.mdays = (uint32_t) set[2];
	c.months = (uint16_t) set[3];
	c.wdays = (uint8_t) ((set[4] | (set[4] >> 7)) & 0x7f); /* 7: Sun */
	*out = c;
	return (true);
}

bool
cron_zone_check(const char *zone, char *err, size_t errlen)
{
	const char *dir = getenv("TZDIR");
	char path[512], magic[4];
	FILE *f;

	if (zone == NULL || zone[0] == 0 || strcmp(zone, "UTC") == 0) {
		return (true);
	}
	if (strlen(zone) >= CRON_ZONE_MAX || zone[0] == '/'
	    || strstr(zone, "..") != NULL
	    || strspn(zone,
	           "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	           "0123456789_+-/")
	        != strlen(zone)) {
		snprintf(err, errlen,
		    "time zone: '%.64s' is not a zone name (Europe/Paris)",
		    zone);
		return (false);
	}
	snprintf(path, sizeof(path), "%s/%s",
	    dir != NULL && dir[0] != 0 ? dir : "/usr/share/zoneinfo", zone);
	if ((f = fopen(path, "rb")) == NULL || fread(magic, 1, 4, f) != 4
	    || memcmp(magic, "TZif", 4) != 0) {
		if (f != NULL) {
			fclose(f);
		}
		snprintf(err, errlen,
		    "time zone: unknown zone '%s' (an IANA name such as "
		    "Europe/Paris)",
		    zone);
		return (false);
	}
	fclose(f);
	return (true);
}

/* Civil dates (proleptic Gregorian) as days since 1970-01-01. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468);
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int) (doy - (153 * mp + 2) / 5 + 1);
	*m = (int) (mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* A local wall time as minutes since 1970-01-01 00:00 of the wall. */
static int64_t
wall_of(time_t t)
{
	struct tm tm;

	localtime_r(&t, &tm);
	return (
	    (days_from_civil(tm.tm_year + 1900LL, tm.tm_mon + 1, tm.tm_mday)
	        * 1440)
	    + tm.tm_hour * 60 + tm.tm_min);
}

/* instant_of returns the earliest instant (s) whose local wall time is
 * wall (minutes), or, when a change of offset skips it, the instant at
 * which the skipped time ends. */
static time_t
instant_of(int64_t wall)
{
	int64_t y;
	int m, d;
	time_t best = (time_t) -1;

	civil_from_days(wall / 1440, &y, &m, &d);
	for (int dst = 0; dst <= 1; dst++) {
		struct tm tm = {
			.tm_year = (int) (y - 1900),
			.tm_mon = m - 1,
			.tm_mday = d,
			.tm_hour = (int) (wall % 1440 / 60),
			.tm_min = (int) (wall % 60),
			.tm_isdst = dst,
		};
		time_t t = mktime(&tm);
		if (t != (time_t) -1 && wall_of(t) == wall
		    && (best == (time_t) -1 || t < best)) {
			best = t;
		}
	}
	if (best != (time_t) -1) {
		return (best);
	}
	/* In a gap: the first minute whose wall time is past it. Offsets
	 * change by less than a day, so the search stays within one. */
	time_t lo = (time_t) ((wall - 1440) * 60),
	       hi = (time_t) (wall * 60 + 1440 * 60);
	while (hi - lo > 60) {
		time_t mid = lo + (hi - lo) / 120 * 60;
		if (wall_of(mid) >= wall) {
			hi = mid;
		} else {
			lo = mid;
		}
	}
	return (hi);
}

static bool
day_matches(const struct cron *c, int64_t day)
{
	int64_t y;
	int m, d;
	int w = (int) (((day % 7) + 11) % 7); /* 1970-01-01: Thursday */

	civil_from_days(day, &y, &m, &d);
	if (!(c->months & (1u << m))) {
		return (false);
	}
	bool md = (c->mdays >> d) & 1, wd = (c->wdays >> w) & 1;
	return (c->mday_any || c->wday_any ? md && wd : md || wd);
}

static pthread_mutex_t zone_mu = PTHREAD_MUTEX_INITIALIZER;

/* next_in_zone is cron_next for the fields, with the zone set. */
static int64_t
next_in_zone(const struct cron *c, int64_t after)
{
	int64_t start = (after / MINUTE_MS + 1) * MINUTE_MS;
	int64_t wall0 = wall_of((time_t) (start / 1000));
	int64_t day0 = wall0 / 1440;

	for (int64_t day = day0; day < day0 + MAX_DAYS; day++) {
		if (!day_matches(c, day)) {
			continue;
		}
		for (int h = 0; h < 24; h++) {
			if (!(c->hours & (1u << h))) {
				continue;
			}
			for (int mi = 0; mi < 60; mi++) {
				int64_t wall = day * 1440 + h * 60 + mi;
				if (!(c->minutes & ((uint64_t) 1 << mi))
				    || wall < wall0 - 180) {
					continue;
				}
				int64_t t = (int64_t) instant_of(wall) * 1000;
				if (t > after) {
					return (t);
				}
			}
		}
	}
	return (NEVER);
}

int64_t
cron_next(const struct cron *c, const char *zone, int64_t after)
{
	char saved[256];
	const char *old;
	bool had;

	if (c->every_ms > 0) {
		return ((after / c->every_ms + 1) * c->every_ms);
	}
	pthread_mutex_lock(&zone_mu);
	old = getenv("TZ");
	had = old != NULL && strlen(old) < sizeof(saved);
	if (had) {
		snprintf(saved, sizeof(saved), "%s", old);
	}
	setenv("TZ", zone != NULL && zone[0] != 0 ? zone : "UTC0", 1);
	tzset();
	int64_t t = next_in_zone(c, after);
	if (had) {
		setenv("TZ", saved, 1);
	} else {
		unsetenv("TZ");
	}
	tzset();
	pthread_mutex_unlock(&zone_mu);
	return (t);
}
