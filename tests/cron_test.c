/*
 * cron_test.c - the cron expressions of schedules (lifecycle/cron.c):
 * what parses and what is refused with which message, and the next tick
 * for lists, ranges, steps, names, the day-of-month / day-of-week OR rule,
 * leap days, @every, and the nights when daylight saving time starts (a
 * skipped time fires when the gap ends) and ends (a repeated time fires
 * once).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "lifecycle/cron.h"

/* at returns the instant of a UTC date and time, in ms. */
static int64_t
at(int y, int mo, int d, int h, int mi)
{
	struct tm tm = { .tm_year = y - 1900,
		.tm_mon = mo - 1,
		.tm_mday = d,
		.tm_hour = h,
		.tm_min = mi };

	return ((int64_t) timegm(&tm) * 1000);
}

static struct cron
parse(const char *text)
{
	struct cron c;
	char err[160];

	if (!cron_parse(text, &c, err, sizeof(err))) {
		fail_msg("'%s': %s", text, err);
	}
	return (c);
}

static void
refused(const char *text, const char *want)
{
	struct cron c;
	char err[160] = "";

	assert_false(cron_parse(text, &c, err, sizeof(err)));
	if (strstr(err, want) == NULL) {
		fail_msg("'%s': message '%s' lacks '%s'", text, err, want);
	}
}

static int64_t
next(const char *text, const char *zone, int64_t after)
{
	struct cron c = parse(text);

	return (cron_next(&c, zone, after));
}

static void
fields_lists_ranges_steps_names(void **state)
{
	(void) state;
	struct cron c = parse("1,2,10-12 */6 1-31/10 jan,JUL-aug mon-fri");
	assert_int_equal(c.minutes, (1u << 1) | (1u << 2) | (7u << 10));
	assert_int_equal(
	    c.hours, (1u << 0) | (1u << 6) | (1u << 12) | (1u << 18));
	assert_int_equal(
	    c.mdays, (1u << 1) | (1u << 11) | (1u << 21) | (1u << 31));
	assert_int_equal(c.months, (1u << 1) | (1u << 7) | (1u << 8));
	assert_int_equal(c.wdays, 0x3e);
	assert_false(c.mday_any);
	assert_false(c.wday_any);
	c = parse("  0 0 * * 7 ");
	assert_int_equal(c.wdays, 1); /* 7 is Sunday */
	assert_true(c.mday_any);
	c = parse("5/20 * * * *");
	assert_int_equal(c.minutes, (1u << 5) | (1u << 25) | (1ull << 45));
	c = parse("@hourly");
	assert_int_equal(c.minutes, 1);
	assert_int_equal(c.hours, 0xffffff);
	c = parse("@every 1h30m");
	assert_int_equal(c.every_ms, 5400000);
}

static void
bad_text_is_refused_with_the_field(void **state)
{
	(void) state;
	refused("", "5 fields");
	refused("* * * *", "not 4");
	refused("* * * * * *", "not more than 5");
	refused("60 * * * *", "minute: '60' is not within 0-59");
	refused("* 24 * * *", "hour");
	refused("* * 0 * *", "day of month");
	refused("* * * 13 *", "month");
	refused("* * * * 8", "day of week");
	refused("*/0 * * * *", "minute: the step");
	refused("5-1 * * * *", "ends before it starts");
	refused("* * * foo *", "month: cannot read 'foo'");
	refused("* * * * mon-", "day of week: cannot read");
	refused("1,,2 * * * *", "empty item");
	refused("1, * * * *", "empty item");
	refused("@every 1500ms", "whole number of seconds");
	refused("@every 0s", "at least 1s");
	refused("@every", "a duration is needed");
	refused("@every 5 minutes", "cannot read the duration");
	refused("@fortnightly", "unknown '@fortnightly'");
}

static void
next_tick_in_utc(void **state)
{
	(void) state;
	assert_int_equal(next("*/15 * * * *", "", at(2024, 1, 1, 0, 7)),
	    at(2024, 1, 1, 0, 15));
	/* Strictly after: a tick at `after` itself is not the next. */
	assert_int_equal(next("*/15 * * * *", NULL, at(2024, 1, 1, 0, 15)),
	    at(2024, 1, 1, 0, 30));
	/* Friday 10:00 -> Monday 09:00. */
	assert_int_equal(next("0 9 * * mon-fri", "UTC", at(2024, 1, 5, 10, 0)),
	    at(2024, 1, 8, 9, 0));
	assert_int_equal(next("0 0 1 * *", "", at(2024, 1, 31, 23, 59)),
	    at(2024, 2, 1, 0, 0));
	assert_int_equal(
	    next("@yearly", "", at(2024, 6, 1, 0, 0)), at(2025, 1, 1, 0, 0));
}

static void
day_of_month_or_day_of_week(void **state)
{
	(void) state;
	/* Both restricted: the 13th or any Friday, whichever comes first. */
	assert_int_equal(next("0 0 13 * fri", "", at(2024, 1, 1, 0, 0)),
	    at(2024, 1, 5, 0, 0));
	assert_int_equal(next("0 0 13 * fri", "", at(2024, 1, 12, 0, 0)),
	    at(2024, 1, 13, 0, 0));
	/* One is '*': the other alone decides. */
	assert_int_equal(next("0 0 13 * *", "", at(2024, 1, 1, 0, 0)),
	    at(2024, 1, 13, 0, 0));
	assert_int_equal(next("0 0 * * fri", "", at(2024, 1, 1, 0, 0)),
	    at(2024, 1, 5, 0, 0));
	/* As in Vixie cron, a field that starts with '*' counts as '*'. */
	assert_int_equal(next("0 0 */1 * fri", "", at(2024, 1, 1, 0, 0)),
	    at(2024, 1, 5, 0, 0));
}

static void
leap_days_and_impossible_dates(void **state)
{
	(void) state;
	assert_int_equal(next("0 0 29 2 *", "", at(2024, 3, 1, 0, 0)),
	    at(2028, 2, 29, 0, 0));
	assert_int_equal(
	    next("0 0 30 2 *", "", at(2024, 3, 1, 0, 0)), INT64_MAX);
	assert_int_equal(next("0 0 31 apr *", "", 0), INT64_MAX);
}

static void
every_counts_from_the_epoch(void **state)
{
	(void) state;
	assert_int_equal(next("@every 30s", "Europe/Paris", 1000), 30000);
	assert_int_equal(next("@every 30s", "", 30000), 60000);
	assert_int_equal(next("@every 1s", "", 1500), 2000);
}

static void
time_zones_and_daylight_saving(void **state)
{
	(void) state;
	/* Noon in New York: 17:00 UTC in winter, 16:00 in summer. */
	assert_int_equal(
	    next("0 12 * * *", "America/New_York", at(2024, 1, 10, 0, 0)),
	    at(2024, 1, 10, 17, 0));
	assert_int_equal(
	    next("0 12 * * *", "America/New_York", at(2024, 7, 10, 0, 0)),
	    at(2024, 7, 10, 16, 0));
	/* Paris, 31 March 2024: 02:00 CET jumps to 03:00 CEST (01:00 UTC).
	 * 02:30 never happens: it fires once, when the gap ends. */
	int64_t t = next("30 2 * * *", "Europe/Paris", at(2024, 3, 30, 12, 0));
	assert_int_equal(t, at(2024, 3, 31, 1, 0));
	assert_int_equal(
	    next("30 2 * * *", "Europe/Paris", t), at(2024, 4, 1, 0, 30));
	/* Every minute through the gap: 01:59 CET, then 03:00 CEST once. */
	t = next("* * * * *", "Europe/Paris", at(2024, 3, 31, 0, 58));
	assert_int_equal(t, at(2024, 3, 31, 0, 59));
	t = next("* * * * *", "Europe/Paris", t);
	assert_int_equal(t, at(2024, 3, 31, 1, 0));
	assert_int_equal(
	    next("* * * * *", "Europe/Paris", t), at(2024, 3, 31, 1, 1));
	/* 27 October 2024: 03:00 CEST goes back to 02:00 CET; 02:30
	 * happens twice (00:30 and 01:30 UTC) and fires once. */
	t = next("30 2 * * *", "Europe/Paris", at(2024, 10, 26, 12, 0));
	assert_int_equal(t, at(2024, 10, 27, 0, 30));
	assert_int_equal(
	    next("30 2 * * *", "Europe/Paris", t), at(2024, 10, 28, 1, 30));
	/* The process's own zone is left as it was. */
	assert_null(getenv("TZ"));
}

static void
zone_names(void **state)
{
	char err[160];

	(void) state;
	assert_true(cron_zone_check("", err, sizeof(err)));
	assert_true(cron_zone_check("UTC", err, sizeof(err)));
	assert_true(cron_zone_check("Europe/Paris", err, sizeof(err)));
	assert_false(cron_zone_check("Mars/Olympus_Mons", err, sizeof(err)));
	assert_non_null(strstr(err, "unknown zone"));
	assert_false(cron_zone_check("../../etc/passwd", err, sizeof(err)));
	assert_false(cron_zone_check("/etc/localtime", err, sizeof(err)));
	assert_false(cron_zone_check("Europe/Paris;rm", err, sizeof(err)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fields_lists_ranges_steps_names),
		cmocka_unit_test(bad_text_is_refused_with_the_field),
		cmocka_unit_test(next_tick_in_utc),
		cmocka_unit_test(day_of_month_or_day_of_week),
		cmocka_unit_test(leap_days_and_impossible_dates),
		cmocka_unit_test(every_counts_from_the_epoch),
		cmocka_unit_test(time_zones_and_daylight_saving),
		cmocka_unit_test(zone_names),
	};

	unsetenv("TZ");
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
