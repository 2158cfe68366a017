/*
 * crash_check_test.c - the crash harness's checker on histories made by
 * hand: each invariant it reports must be caught when it is broken, and a
 * sound history must count nothing. Without this, a checker that never
 * finds anything would pass every run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crash.h"

/* grant adds a delivery of task id, granted at t by the server's clock. */
static void
grant(struct history *h, uint64_t id, uint32_t attempt, const char *token,
    int64_t t)
{
	struct delivery *d;

	pthread_mutex_lock(&h->mu);
	h->del = realloc(h->del, (h->ndel + 1) * sizeof(*h->del));
	d = &h->del[h->ndel++];
	memset(d, 0, sizeof(*d));
	d->id = id;
	d->attempt = attempt;
	snprintf(d->token, sizeof(d->token), "%s", token);
	d->grant = t;
	d->deadline = t + CRASH_LEASE_MS;
	pthread_mutex_unlock(&h->mu);
}

static struct counts
check(struct history *h)
{
	struct counts c = { 0 };

	check_history(h, &c);
	return (c);
}

static void
sound_history_counts_nothing(void **state)
{
	struct history h;

	(void) state;
	history_init(&h);
	grant(&h, 1, 1, "a", 1000);
	history_end_sent(&h, 1, "a", 1200, CALL_FAIL);
	history_ok(&h, 1, "a", 1200, 0, CALL_FAIL);
	grant(&h, 1, 2, "b", 1300); /* after the fail: a retry */
	history_ok(&h, 1, "b", 1400, 2900, CALL_HEARTBEAT);
	grant(&h, 1, 3, "c", 2900 + 1); /* after b's extended deadline */
	struct counts c = check(&h);
	assert_int_equal(c.double_leases, 0);
	assert_int_equal(c.stale_accepted, 0);
	assert_int_equal(c.over_attempts, 0);
	assert_int_equal(c.duplicate_deliveries, 1); /* b expired: at least
	                                                 once */
	history_free(&h);
}

static void
overlapping_leases_are_caught(void **state)
{
	struct history h;

	(void) state;
	history_init(&h);
	grant(&h, 7, 1, "a", 1000);                         /* valid to 2500 */
	history_ok(&h, 7, "a", 1100, 3000, CALL_HEARTBEAT); /* to 3000 */
	grant(&h, 7, 2, "b", 2800);
	assert_int_equal(check(&h).double_leases, 1);
	history_free(&h);
}

static void
stale_token_accepted_is_caught(void **state)
{
	struct history h;

	(void) state;
	history_init(&h);
	grant(&h, 3, 1, "a", 1000);
	grant(&h, 3, 2, "b", 2600);                     /* a expired at 2500 */
	history_ok(&h, 3, "a", 2700, 0, CALL_COMPLETE); /* sent after b */
	assert_int_equal(check(&h).stale_accepted, 1);
	history_free(&h);
}

static void
delivery_after_completion_is_caught(void **state)
{
	struct history h;

	(void) state;
	history_init(&h);
	grant(&h, 4, 1, "a", wall_ms() - 2000);
	history_ok(&h, 4, "a", wall_ms() - 1900, 0, CALL_COMPLETE);
	grant(&h, 4, 2, "b", wall_ms() + 1000);
	assert_int_equal(check(&h).delivered_after_done, 1);
	history_free(&h);
}

static void
attempts_over_the_limit_are_caught(void **state)
{
	struct history h;

	(void) state;
	history_init(&h);
	grant(&h, 5, CRASH_MAX_ATTEMPTS + 1, "a", 1000);
	assert_int_equal(check(&h).over_attempts, 1);
	history_free(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sound_history_counts_nothing),
		cmocka_unit_test(overlapping_leases_are_caught),
		cmocka_unit_test(stale_token_accepted_is_caught),
		cmocka_unit_test(delivery_after_completion_is_caught),
		cmocka_unit_test(attempts_over_the_limit_are_caught),
	};
	return (cmocka_run_group_tests_name("crash_check", tests, NULL, NULL));
}
