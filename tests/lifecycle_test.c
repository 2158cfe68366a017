/*
 * lifecycle_test.c - storage contract, part two: heartbeats, completion,
 * failure and backoff, lease loss and fencing, start-to-close, cancel and
 * manual retry. Time is the test's: no test sleeps for a timeout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store_fixture.h"

static void
heartbeat_extends_and_keeps_details(void **state)
{
	struct fx *f = *state;
	uint64_t id = fx_enqueue(f, "q", T0);
	struct task *t = fx_lease_one(f, "q", T0);
	bool cancel = true;
	int64_t deadline = 0;

	assert_int_equal(fx_heartbeat(f, id, t->lease_token, "step 3",
	                     T0 + 59000, &cancel, &deadline),
	    CAIRN_OK);
	assert_false(cancel);
	assert_int_equal(deadline, T0 + 59000 + 60000);
	/* Without details the previous ones stay. */
	assert_int_equal(fx_heartbeat(f, id, t->lease_token, NULL, T0 + 100000,
	                     NULL, &deadline),
	    CAIRN_OK);
	struct task *g = fx_get(f, id);
	assert_int_equal(g->details_len, 6);
	assert_memory_equal(g->details, "step 3", 6);
	assert_int_equal(g->lease_deadline_ms, T0 + 160000);
	task_free(g);
	assert_int_equal(
	    fx_heartbeat(f, id, "0123456789abcdef0123456789abcdef", NULL,
	        T0 + 100001, NULL, NULL),
	    CAIRN_FAILED_PRECONDITION);
	assert_non_null(strstr(f->msg, "lease lost"));
	assert_int_equal(
	    fx_heartbeat(f, id + 99, t->lease_token, NULL, T0, NULL, NULL),
	    CAIRN_NOT_FOUND);
	task_free(t);
}

static void
next_attempt_receives_previous_details(void **state)
{
	struct fx *f = *state;
	uint64_t id = fx_enqueue(f, "q", T0);
	struct task *t = fx_lease_one(f, "q", T0);

	assert_null(t->details);
	assert_int_equal(
	    fx_heartbeat(f, id, t->lease_token, "page=41", T0 + 1, NULL, NULL),
	    CAIRN_OK);
	assert_int_equal(
	    fx_fail_task(f, id, t->lease_token, false, 0, T0 + 2, NULL, NULL),
	    CAIRN_OK);
	task_free(t);
	t = fx_lease_one(f, "q", T0 + 10000);
	assert_int_equal(t->attempt, 2);
	assert_int_equal(t->details_len, 7);
	assert_memory_equal(t->details, "page=41", 7);
	task_free(t);
}

static void
complete_is_fenced_and_repeatable(void **state)
{
	struct fx *f = *state;
	uint64_t id = fx_enqueue(f, "q", T0);
	struct task *t = fx_lease_one(f, "q", T0);

	assert_int_equal(fx_complete(f, id, "ffffffffffffffffffffffffffffffff",
	                     "x", T0 + 1),
	    CAIRN_FAILED_PRECONDITION);
	assert_int_equal(fx_state_of(f, id), CAIRN_ACTIVE);
	assert_int_equal(
	    fx_complete(f, id, t->lease_token, "done!", T0 + 2), CAIRN_OK);
	struct task *g = fx_get(f, id);
	assert_int_equal(g->state, CAIRN_SUCCEEDED);
	assert_int_equal(g->finished_ms, T0 + 2);
	assert_int_equal(g->result_len, 5);
	assert_memory_equal(g->result, "done!", 5);
	task_free(g);
	/* A retry after a lost reply answers OK and changes nothing. */
	assert_int_equal(
	    fx_complete(f, id, t->lease_token, "other", T0 + 3), CAIRN_OK);
	g = fx_get(f, id);
	assert_memory_equal(g->result, "done!", 5);
	assert_int_equal(g->finished_ms, T0 + 2);
	task_free(g);
	/* But it is not a lease any more. */
	assert_int_equal(
	    fx_heartbeat(f, id, t->lease_token, NULL, T0 + 4, NULL, NULL),
	    CAIRN_FAILED_PRECONDITION);
	assert_int_equal(
	    fx_fail_task(f, id, t->lease_token, false, 0, T0 + 4, NULL, NULL),
	    CAIRN_FAILED_PRECONDITION);
	task_free(t);
}

static void
fail_backs_off_exponentially_then_fails(void **state)
{
	struct fx *f = *state;
	struct task_spec sp = fx_spec("q", "x");
	cairn_state st;
	int64_t run_at, now = T0;

	sp.max_attempts = 3;
	sp.retry.initial_ms = 100;
	sp.retry.multiplier = 3;
	uint64_t id = fx_enqueue_spec(f, sp, now, NULL);
	int64_t expect[] = { 100, 300 };
	for (int i = 0; i < 2; i++) {
		struct task *t = fx_lease_one(f, "q", now);
		assert_int_equal(t->attempt, i + 1);
		assert_int_equal(fx_fail_task(f, id, t->lease_token, false, 0,
		                     now + 1, &st, &run_at),
		    CAIRN_OK);
		assert_int_equal(st, CAIRN_PENDING);
		assert_int_equal(run_at, now + 1 + expect[i]);
		/* Repeating the same Fail answers the same, changes nothing.
		 */
		assert_int_equal(fx_fail_task(f, id, t->lease_token, false, 0,
		                     now + 2, &st, &run_at),
		    CAIRN_OK);
		assert_int_equal(run_at, now + 1 + expect[i]);
		struct task **none;
		assert_int_equal(fx_lease_n(f, "q", 1, run_at - 1, &none), 0);
		now = run_at;
		task_free(t);
	}
	struct task *t = fx_lease_one(f, "q", now);
	assert_int_equal(t->attempt, 3);
	assert_int_equal(
	    fx_fail_task(f, id, t->lease_token, false, 0, now, &st, &run_at),
	    CAIRN_OK);
	assert_int_equal(st, CAIRN_FAILED);
	struct task *g = fx_get(f, id);
	assert_string_equal(g->last_error, "boom");
	assert_int_equal(g->finished_ms, now);
	task_free(g);
	task_free(t);
}

static void
fail_not_retryable_and_explicit_delay(void **state)
{
	struct fx *f = *state;
	cairn_state st;
	int64_t run_at;
	uint64_t a = fx_enqueue(f, "q", T0);
	struct task *t = fx_lease_one(f, "q", T0);

	assert_int_equal(
	    fx_fail_task(f, a, t->lease_token, false, 7000, T0, &st, &run_at),
	    CAIRN_OK);
	assert_int_equal(st, CAIRN_PENDING);
	assert_int_equal(run_at, T0 + 7000);
	task_free(t);
	t = fx_lease_one(f, "q", T0 + 7000);
	assert_int_equal(fx_fail_task(f, a, t->lease_token, true, 0, T0 + 7001,
	                     &st, &run_at),
	    CAIRN_OK);
	assert_int_equal(st, CAIRN_FAILED);
	assert_int_equal(run_at, 0);
	task_free(t);
}

static void
lease_expires_at_deadline_without_a_sweep(void **state)
{
	struct fx *f = *state;
	struct task_spec sp = fx_spec("q", "x");

	sp.heartbeat_timeout_ms = 1000;
	uint64_t id = fx_enqueue_spec(f, sp, T0, NULL);
	struct task *t = fx_lease_one(f, "q", T0);
	assert_int_equal(t->lease_deadline_ms, T0 + 1000);
	/* One millisecond before: still valid. */
	assert_int_equal(
	    fx_heartbeat(f, id, t->lease_token, NULL, T0 + 999, NULL, NULL),
	    CAIRN_OK);
	/* At the deadline, the lease is gone even though nothing swept. */
	assert_int_equal(
	    fx_complete(f, id, t->lease_token, "late", T0 + 1999 + 1),
	    CAIRN_FAILED_PRECONDITION);
	assert_non_null(strstr(f->msg, "heartbeat timeout"));
	struct task *g = fx_get(f, id);
	assert_int_equal(g->state, CAIRN_PENDING); /* retried */
	assert_string_equal(g->last_error, "lease expired: heartbeat timeout");
	assert_int_equal(g->run_at_ms, T0 + 2000 + 1000);
	assert_null(g->result);
	task_free(g);
	/* And the stale token stays refused. */
	assert_int_equal(fx_complete(f, id, t->lease_token, "late", T0 + 2001),
	    CAIRN_FAILED_PRECONDITION);
	task_free(t);
}

static void
sweep_expires_and_fences_stale_worker(void **state)
{
	struct fx *f = *state;
	struct task_spec sp = fx_spec("q", "x");

	sp.heartbeat_timeout_ms = 1000;
	sp.max_attempts = 2;
	uint64_t id = fx_enqueue_spec(f, sp, T0, NULL);
	struct task *old = fx_lease_one(f, "q", T0);
	assert_int_equal(fx_expire(f, T0 + 999), 0);
	assert_int_equal(fx_expire(f, T0 + 1000), 1);
	assert_int_equal(fx_state_of(f, id), CAIRN_PENDING);
	struct task *cur = fx_lease_one(f, "q", T0 + 5000);
	assert_int_equal(cur->attempt, 2);
	/* The paused worker wakes up: its calls are refused, the newer
	 * attempt's result stands. */
	assert_int_equal(
	    fx_complete(f, id, old->lease_token, "stale", T0 + 5001),
	    CAIRN_FAILED_PRECONDITION);
	assert_int_equal(
	    fx_complete(f, id, cur->lease_token, "fresh", T0 + 5002),
	    CAIRN_OK);
	struct task *g = fx_get(f, id);
	assert_memory_equal(g->result, "fresh", 5);
	task_free(g);
	task_free(old);
	task_free(cur);

	/* Attempts used up: expiry makes it FAILED. */
	uint64_t id2 = fx_enqueue_spec(f, sp, T0, NULL);
	for (int i = 0; i < 2; i++) {
		struct task *t = fx_lease_one(f, "q", T0 + 100000 * (i + 1));
		assert_int_equal(t->id, id2);
		assert_int_equal(
		    fx_expire(f, T0 + 100000 * (i + 1) + 1000), 1);
		task_free(t);
	}
	assert_int_equal(fx_state_of(f, id2), CAIRN_FAILED);
}

static void
start_to_close_ends_a_heartbeating_attempt(void **state)
{
	struct fx *f = *state;
	struct task_spec sp = fx_spec("q", "x");
	int64_t deadline;

	sp.heartbeat_timeout_ms = 2000;
	sp.start_to_close_ms = 5000;
	uint64_t id = fx_enqueue_spec(f, sp, T0, NULL);
	struct task *t = fx_lease_one(f, "q", T0);
	assert_int_equal(t->lease_deadline_ms, T0 + 2000);
	assert_int_equal(fx_heartbeat(f, id, t->lease_token, NULL, T0 + 1500,
	                     NULL, &deadline),
	    CAIRN_OK);
	assert_int_equal(deadline, T0 + 3500);
	assert_int_equal(fx_heartbeat(f, id, t->lease_token, NULL, T0 + 3400,
	                     NULL, &deadline),
	    CAIRN_OK);
	assert_int_equal(deadline, T0 + 5000); /* capped */
	assert_int_equal(
	    fx_heartbeat(f, id, t->lease_token, NULL, T0 + 5000, NULL, NULL),
	    CAIRN_FAILED_PRECONDITION);
	assert_non_null(strstr(f->msg, "start-to-close"));
	struct task *g = fx_get(f, id);
	assert_int_equal(g->state, CAIRN_PENDING);
	assert_string_equal(
	    g->last_error, "lease expired: start-to-close timeout");
	task_free(g);
	task_free(t);
}

static int
cancel(struct fx *f, uint64_t id, int64_t now, cairn_state *st)
{
	fx_begin(f);
	int rv = lifecycle_cancel(f->s, id, now, st, f->msg);
	fx_commit(f);
	return (rv);
}

static void
cancel_pending_and_active(void **state)
{
	struct fx *f = *state;
	cairn_state st;
	bool flag;

	uint64_t p = fx_enqueue(f, "q", T0 + 1);
	uint64_t a = fx_enqueue(f, "q", T0);
	struct task *t = fx_lease_one(f, "q", T0 + 2);
	assert_int_equal(t->id, a);
	assert_int_equal(cancel(f, p, T0 + 3, &st), CAIRN_OK);
	assert_int_equal(st, CAIRN_CANCELED);
	assert_int_equal(cancel(f, p, T0 + 4, &st), CAIRN_OK); /* repeat */
	struct task **none;
	assert_int_equal(fx_lease_n(f, "q", 5, T0 + 5, &none), 0);

	assert_int_equal(cancel(f, a, T0 + 5, &st), CAIRN_OK);
	assert_int_equal(st, CAIRN_ACTIVE);
	assert_int_equal(
	    fx_heartbeat(f, a, t->lease_token, NULL, T0 + 6, &flag, NULL),
	    CAIRN_OK);
	assert_true(flag);
	/* The worker gives up: canceled, not retried. */
	assert_int_equal(
	    fx_fail_task(f, a, t->lease_token, false, 0, T0 + 7, &st, NULL),
	    CAIRN_OK);
	assert_int_equal(st, CAIRN_CANCELED);
	task_free(t);

	/* An expired lease of a cancel-requested task ends CANCELED too. */
	struct task_spec sp = fx_spec("c", "x");
	sp.heartbeat_timeout_ms = 10;
	uint64_t e = fx_enqueue_spec(f, sp, T0, NULL);
	t = fx_lease_one(f, "c", T0);
	assert_int_equal(cancel(f, e, T0 + 1, &st), CAIRN_OK);
	assert_int_equal(fx_expire(f, T0 + 10), 1);
	assert_int_equal(fx_state_of(f, e), CAIRN_CANCELED);
	task_free(t);

	/* A finished task cannot be canceled. */
	uint64_t d = fx_enqueue(f, "d", T0);
	t = fx_lease_one(f, "d", T0);
	assert_int_equal(
	    fx_complete(f, d, t->lease_token, NULL, T0), CAIRN_OK);
	assert_int_equal(cancel(f, d, T0, &st), CAIRN_FAILED_PRECONDITION);
	assert_int_equal(cancel(f, d + 1000, T0, &st), CAIRN_NOT_FOUND);
	task_free(t);
}

static int
retry(struct fx *f, uint64_t id, int64_t now)
{
	struct task *t = NULL;

	fx_begin(f);
	int rv = lifecycle_retry(f->s, id, now, &t, f->msg);
	fx_commit(f);
	task_free(t);
	return (rv);
}

static void
manual_retry_gives_a_fresh_budget(void **state)
{
	struct fx *f = *state;
	struct task_spec sp = fx_spec("q", "x");

	sp.max_attempts = 1;
	uint64_t id = fx_enqueue_spec(f, sp, T0, NULL);
	assert_int_equal(retry(f, id, T0), CAIRN_OK); /* pending: no-op */
	struct task *t = fx_lease_one(f, "q", T0);
	assert_int_equal(retry(f, id, T0), CAIRN_FAILED_PRECONDITION);
	assert_int_equal(
	    fx_fail_task(f, id, t->lease_token, false, 0, T0, NULL, NULL),
	    CAIRN_OK);
	task_free(t);
	assert_int_equal(fx_state_of(f, id), CAIRN_FAILED);
	assert_int_equal(retry(f, id, T0 + 10), CAIRN_OK);
	struct task *g = fx_get(f, id);
	assert_int_equal(g->state, CAIRN_PENDING);
	assert_int_equal(g->attempt, 0);
	assert_int_equal(g->finished_ms, 0);
	task_free(g);
	t = fx_lease_one(f, "q", T0 + 10);
	assert_int_equal(t->attempt, 1);
	assert_int_equal(
	    fx_complete(f, id, t->lease_token, NULL, T0 + 11), CAIRN_OK);
	assert_int_equal(retry(f, id, T0 + 12), CAIRN_FAILED_PRECONDITION);
	assert_int_equal(retry(f, id + 50, T0), CAIRN_NOT_FOUND);
	task_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
		T(heartbeat_extends_and_keeps_details),
		T(next_attempt_receives_previous_details),
		T(complete_is_fenced_and_repeatable),
		T(fail_backs_off_exponentially_then_fails),
		T(fail_not_retryable_and_explicit_delay),
		T(lease_expires_at_deadline_without_a_sweep),
		T(sweep_expires_and_fences_stale_worker),
		T(start_to_close_ends_a_heartbeating_attempt),
		T(cancel_pending_and_active),
		T(manual_retry_gives_a_fresh_budget),
#undef T
	};
	return (cmocka_run_group_tests_name("lifecycle", tests, NULL, NULL));
}
