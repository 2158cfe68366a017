/*
 * lost_disk_check_test.c - the lost-disk checker on stores and histories
 * made by hand: a restored store that is a prefix of what was committed
 * counts its losses and nothing else, and each broken rule (a hole, a
 * state no client saw, a finished task changed, a task left unfinished)
 * is caught. Without it a checker that finds nothing would pass.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lost_disk.h"

/* A history: tasks 1..3 enqueued (sent at 100, 200, 300; each answered
 * 10 ms later), task 1 leased with token "a" and completed (sent 400,
 * answered 410), task 2 leased with "b". */
static void
history(struct history *h)
{
	history_init(h);
	for (uint64_t id = 1; id <= 3; id++) {
		h->enq = realloc(h->enq, id * sizeof(*h->enq));
		h->enq[id - 1] = (struct enqueued) { id, (int64_t) id * 100,
			(int64_t) id * 100 + 10, false };
		h->nenq = id;
	}
	h->del = calloc(2, sizeof(*h->del));
	h->del[0] = (struct delivery) {
		.id = 1, .attempt = 1, .token = "a", .end_send = 400
	};
	h->del[1] = (struct delivery) { .id = 2, .attempt = 1, .token = "b" };
	h->ndel = 2;
	h->done = calloc(1, sizeof(*h->done));
	h->done[0] = (struct completion) {
		.id = 1, .token = "a", .sent = 400, .acked = 410
	};
	h->ndone = 1;
}

static struct ld_row
row(uint64_t id, int state, int attempt, const char *token)
{
	struct ld_row r = { .id = id, .state = state, .attempt = attempt };

	snprintf(
	    r.payload, sizeof(r.payload), "p0-%llu", (unsigned long long) id);
	snprintf(r.token, sizeof(r.token), "%s", token);
	if (state == CAIRN_SUCCEEDED) {
		snprintf(r.result, sizeof(r.result), "done:%s", token);
	}
	return (r);
}

static struct ld_round
check(struct ld_row *rows, size_t n)
{
	struct history h;
	struct ld_round r = { .fault = 1000 };

	history(&h);
	ld_check_restored(&h, rows, n, &r);
	history_free(&h);
	return (r);
}

static void
everything_back_counts_nothing(void **state)
{
	struct ld_row rows[] = { row(1, CAIRN_SUCCEEDED, 1, "a"),
		row(2, CAIRN_ACTIVE, 1, "b"), row(3, CAIRN_PENDING, 0, "") };

	(void) state;
	struct ld_round r = check(rows, 3);
	assert_int_equal(r.lost_enqueues + r.lost_completions, 0);
	assert_int_equal(r.holes + r.never_had, 0);
	assert_int_equal(r.window_ms, 0);
}

static void
a_prefix_counts_its_losses_only(void **state)
{
	/* Everything after t = 250 is gone: task 3 and the completion. */
	struct ld_row rows[]
	    = { row(1, CAIRN_ACTIVE, 1, "a"), row(2, CAIRN_PENDING, 0, "") };

	(void) state;
	struct ld_round r = check(rows, 2);
	assert_int_equal(r.lost_enqueues, 1);
	assert_int_equal(r.lost_completions, 1);
	assert_int_equal(r.window_ms, 1000 - 310); /* task 3's answer */
	assert_int_equal(r.holes + r.never_had, 0);
}

static void
a_hole_is_caught(void **state)
{
	/* Task 2 is missing, yet task 3, sent after task 2 was answered,
	 * and the completion are there: not a prefix. */
	struct ld_row rows[] = { row(1, CAIRN_SUCCEEDED, 1, "a"),
		row(3, CAIRN_PENDING, 0, "") };

	(void) state;
	struct ld_round r = check(rows, 2);
	assert_int_equal(r.lost_enqueues, 1);
	assert_int_equal(r.holes, 2);
}

static void
states_never_seen_are_caught(void **state)
{
	struct ld_row rows[] = {
		row(1, CAIRN_SUCCEEDED, 1, "x"), /* no worker had "x" */
		row(2, CAIRN_SUCCEEDED, 1, "b"), /* "b" never sent Complete */
		row(3, CAIRN_FAILED, 2, ""),     /* failed before the limit */
		row(4, CAIRN_PENDING, 0, ""),    /* never sent */
		row(5, CAIRN_ACTIVE, 9, "z"),    /* past max_attempts */
	};

	(void) state;
	snprintf(rows[3].payload, sizeof(rows[3].payload), "forged");
	struct ld_round r = check(rows, 5);
	assert_int_equal(r.never_had, 5);
	/* ... and an unanswered lease nobody knows is not counted. */
	struct ld_row ok[] = { row(1, CAIRN_SUCCEEDED, 1, "a"),
		row(2, CAIRN_ACTIVE, 2, "unknown"),
		row(3, CAIRN_PENDING, 0, "") };
	assert_int_equal(check(ok, 3).never_had, 0);
	/* A known lease with another attempt than it had is. */
	ok[1] = row(2, CAIRN_ACTIVE, 2, "b");
	assert_int_equal(check(ok, 3).never_had, 1);
}

static void
the_final_store_is_checked(void **state)
{
	struct ld_row before[] = { row(1, CAIRN_SUCCEEDED, 1, "a"),
		row(2, CAIRN_ACTIVE, 1, "b") };
	struct ld_row after[] = { row(1, CAIRN_SUCCEEDED, 1, "a"),
		row(2, CAIRN_SUCCEEDED, 2, "c") };
	struct ld_round r = { 0 };

	(void) state;
	ld_check_final(before, 2, after, 2, &r);
	assert_int_equal(r.bad_release + r.not_drained, 0);
	after[0] = row(1, CAIRN_SUCCEEDED, 2, "d"); /* completed again */
	after[1] = row(2, CAIRN_PENDING, 1, "");    /* left unfinished */
	ld_check_final(before, 2, after, 2, &r);
	assert_int_equal(r.bad_release, 1);
	assert_int_equal(r.not_drained, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(everything_back_counts_nothing),
		cmocka_unit_test(a_prefix_counts_its_losses_only),
		cmocka_unit_test(a_hole_is_caught),
		cmocka_unit_test(states_never_seen_are_caught),
		cmocka_unit_test(the_final_store_is_checked),
	};
	return (
	    cmocka_run_group_tests_name("lost_disk_check", tests, NULL, NULL));
}
