/*
 * lifecycle/cron.h - cron expressions of schedules: the standard 5 fields
 * (minute hour day-of-month month day-of-week, with lists, ranges, steps
 * and the names of months and days), the usual @hourly-style macros, and
 * "@every DUR", and the next tick of one in an IANA time zone.
 *
 * Rules, as Vixie cron has them: when both day-of-month and day-of-week
 * are restricted (neither starts with '*'), a day matches if either does;
 * a day-of-week of 7 is Sunday, as 0. In a time zone with daylight saving
 * time, a local time that a change skips (02:30 on the night the clocks
 * go forward) fires once, when the skipped hour ends (03:00), and one that
 * happens twice (the night they go back) fires once, the first time.
 * "@every DUR" ticks at the multiples of DUR since the Unix epoch (whole
 * seconds, at least 1 s), whatever the zone.
 */
#ifndef CAIRN_CRON_H
#define CAIRN_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRON_TEXT_MAX 256 /* bytes of an expression */
#define CRON_ZONE_MAX 64  /* bytes of a time zone's name */

struct cron {
	uint64_t minutes; /* bit m: minute m (0-59) */
	uint32_t hours;   /* bit h: hour h (0-23) */
	uint32_t mdays;   /* bit d: day of month d (1-31) */
	uint16_t months;  /* bit m: month m (1-12) */
	uint8_t wdays;    /* bit w: day of week w (0-6, Sunday 0) */
	bool mday_any;    /* the day-of-month field starts with '*' */
	bool wday_any;    /* the day-of-week field starts with '*' */
	int64_t every_ms; /* "@every": the period; 0: the fields rule */
};

/* cron_parse parses text into *out. On error returns false and writes
 * a message that names the field at fault into err. */
bool cron_parse(const char *text, struct cron *out, char *err, size_t errlen);

/* cron_zone_check says whether zone ("" : UTC) names a time zone of the
 * system's database (TZDIR, else /usr/share/zoneinfo); if not, writes
 * why into err. */
bool cron_zone_check(const char *zone, char *err, size_t errlen);

/* cron_next returns the first tick of c strictly after `after` (ms since
 * the epoch) in zone ("" or NULL: UTC), or INT64_MAX when there is none
 * within eight years (30 February). Thread-safe: the C library's time
 * zone (TZ) is switched under a lock and put back. */
int64_t cron_next(const struct cron *c, const char *zone, int64_t after);

#endif /* CAIRN_CRON_H */
