/*
 * workflow_inspect_test.c - storage contract, part four: what durable
 * workflows add to the engine's next wakeup, and the reads that inspect
 * them (list, stats, history), for every backend (CAIRN_TEST_STORE).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store_fixture.h"

/* wakeup reads the next wakeup as the engine does, with the commit. */
static int64_t
wakeup(struct fx *f, int64_t now)
{
	int64_t at = 0;
	bool committing = false;

	fx_begin(f);
	assert_int_equal(
	    store_commit_wakeup(f->s, now, &at, &committing), CAIRN_OK);
	return (at);
}

static void
next_wakeup_includes_runs_and_timers(void **state)
{
	struct fx *f = *state;
	char token[TASK_TOKEN_LEN + 1];
	int64_t retry_at;

	assert_int_equal(wakeup(f, T0), TASK_TIME_NEVER);
	/* Runnable now: nothing to wait for. */
	uint64_t a = fx_wf_start(f, "t", "wf", T0);
	assert_int_equal(wakeup(f, T0), TASK_TIME_NEVER);
	/* Leased: its lease ends. */
	assert_int_equal(fx_wf_lease(f, "wf", T0, token), a);
	assert_int_equal(wakeup(f, T0 + 1), T0 + 30000);
	/* Waiting for a timer: the timer fires. */
	struct wf_command timer = { .kind = WF_TIMER, .duration_ms = 5000 };
	fx_wf_advance(f, a, token, 1, &timer, 1, 0, T0 + 1);
	assert_int_equal(wakeup(f, T0 + 2), T0 + 5001);
	/* A failed workflow task: runnable again after its delay. */
	uint64_t b = fx_wf_start(f, "t", "wf2", T0 + 2);
	assert_int_equal(fx_wf_lease(f, "wf2", T0 + 2, token), b);
	fx_begin(f);
	assert_int_equal(lifecycle_wf_fail_task(f->s, b, token, "bug", false,
	                     T0 + 3, &retry_at, f->msg),
	    CAIRN_OK);
	fx_commit(f);
	assert_int_equal(retry_at, T0 + 1003);
	assert_int_equal(wakeup(f, T0 + 4), T0 + 1003);
	/* Past that instant it is due, not a wakeup; the timer is next. */
	assert_int_equal(wakeup(f, T0 + 1003), T0 + 5001);
}

/* list_ids lists with filter and returns how many, ids in ids. */
static size_t
list_ids(struct fx *f, const struct wf_filter *flt, uint32_t limit,
    uint64_t after, uint64_t *ids)
{
	struct wf_run **runs;
	size_t n;

	fx_begin(f);
	assert_int_equal(
	    store_wf_list(f->s, flt, limit, after, &runs, &n), CAIRN_OK);
	fx_commit(f);
	for (size_t i = 0; i < n; i++) {
		ids[i] = runs[i]->id;
	}
	wf_run_array_free(runs, n);
	return (n);
}

static void
list_filters_and_pages(void **state)
{
	struct fx *f = *state;
	char token[TASK_TOKEN_LEN + 1];
	uint64_t r[5], ids[8];

	r[0] = fx_wf_start(f, "order", "q1", T0);
	r[1] = fx_wf_start(f, "refund", "q1", T0);
	r[2] = fx_wf_start(f, "order", "q2", T0);
	r[3] = fx_wf_start(f, "order", "q1", T0);
	r[4] = fx_wf_start(f, "refund", "q2", T0);
	/* r[2] finishes; r[4] gets stuck. */
	assert_int_equal(fx_wf_lease(f, "q2", T0, token), r[2]);
	fx_wf_advance(f, r[2], token, 1, NULL, 0, WF_SUCCEEDED, T0 + 1);
	assert_int_equal(fx_wf_lease(f, "q2", T0, token), r[4]);
	int64_t retry_at;
	fx_begin(f);
	assert_int_equal(lifecycle_wf_fail_task(f->s, r[4], token, "bad", true,
	                     T0 + 1, &retry_at, f->msg),
	    CAIRN_OK);
	fx_commit(f);

	struct wf_filter any = { 0 };
	assert_int_equal(list_ids(f, &any, 10, 0, ids), 5);
	assert_int_equal(list_ids(f, &any, 2, 0, ids), 2);
	assert_int_equal(ids[1], r[1]);
	assert_int_equal(list_ids(f, &any, 2, ids[1], ids), 2);
	assert_int_equal(ids[0], r[2]);
	struct wf_filter type = { .type = "order" };
	assert_int_equal(list_ids(f, &type, 10, 0, ids), 3);
	assert_int_equal(ids[2], r[3]);
	struct wf_filter queue = { .queue = "q2" };
	assert_int_equal(list_ids(f, &queue, 10, 0, ids), 2);
	assert_int_equal(ids[0], r[2]);
	struct wf_filter done = { .state = WF_SUCCEEDED };
	assert_int_equal(list_ids(f, &done, 10, 0, ids), 1);
	assert_int_equal(ids[0], r[2]);
	struct wf_filter both = { .type = "order", .state = WF_RUNNING };
	assert_int_equal(list_ids(f, &both, 10, 0, ids), 2);
	assert_int_equal(ids[1], r[3]);
	struct wf_filter stuck = { .stuck = true };
	assert_int_equal(list_ids(f, &stuck, 10, 0, ids), 1);
	assert_int_equal(ids[0], r[4]);
	struct wf_filter none
	    = { .type = "order", .queue = "q2", .state = WF_RUNNING };
	assert_int_equal(list_ids(f, &none, 10, 0, ids), 0);

	struct wf_type_stats *st;
	size_t n;
	fx_begin(f);
	assert_int_equal(store_wf_stats(f->s, &st, &n), CAIRN_OK);
	fx_commit(f);
	assert_int_equal(n, 2);
	assert_string_equal(st[0].type, "order");
	assert_int_equal(st[0].count[WF_RUNNING], 2);
	assert_int_equal(st[0].count[WF_SUCCEEDED], 1);
	assert_int_equal(st[0].stuck, 0);
	assert_string_equal(st[1].type, "refund");
	assert_int_equal(st[1].count[WF_RUNNING], 2);
	assert_int_equal(st[1].stuck, 1);
	wf_type_stats_free(st, n);
}

static void
history_has_inputs_attempts_and_queues(void **state)
{
	struct fx *f = *state;
	char token[TASK_TOKEN_LEN + 1];
	struct wf_command cmds[2] = {
		{ .kind = WF_ACTIVITY,
		    .name = "charge",
		    .input = (const uint8_t *) "42",
		    .input_len = 2,
		    .activity = { .queue = "pay" } },
		{ .kind = WF_STEP,
		    .name = "plan",
		    .input = (const uint8_t *) "p",
		    .input_len = 1,
		    .status = WF_COMPLETED },
	};
	uint64_t run = fx_wf_start(f, "t", "wf", T0);

	assert_int_equal(fx_wf_lease(f, "wf", T0, token), run);
	cmds[0].activity.max_attempts = 3;
	fx_wf_advance(f, run, token, 1, cmds, 2, 0, T0);
	/* One attempt fails and is retried after its backoff. */
	struct task *t = fx_lease_one(f, "pay", T0 + 1);
	assert_int_equal(fx_fail_task(f, t->id, t->lease_token, false, 0,
	                     T0 + 2, NULL, NULL),
	    CAIRN_OK);
	task_free(t);
	t = fx_lease_one(f, "pay", T0 + 5000);
	task_free(t);

	struct wf_read q = { .run_id = run, .with_input = true };
	struct wf_entry *e;
	size_t n;
	fx_begin(f);
	assert_int_equal(store_wf_entries(f->s, &q, &e, &n), CAIRN_OK);
	fx_commit(f);
	assert_int_equal(n, 2);
	assert_int_equal(e[0].kind, WF_ACTIVITY);
	assert_int_equal(e[0].input_len, 2);
	assert_memory_equal(e[0].input, "42", 2);
	assert_int_equal(e[0].attempts, 2);
	assert_string_equal(e[0].queue, "pay");
	assert_int_equal(e[1].kind, WF_STEP);
	assert_int_equal(e[1].status, WF_COMPLETED);
	assert_int_equal(e[1].input_hash, wf_hash("p", 1));
	assert_null(e[1].queue);
	wf_entries_free(e, n);
	/* A page of the log, after a seq. */
	q.after_seq = 1;
	q.limit = 5;
	fx_begin(f);
	assert_int_equal(store_wf_entries(f->s, &q, &e, &n), CAIRN_OK);
	fx_commit(f);
	assert_int_equal(n, 1);
	assert_int_equal(e[0].seq, 2);
	wf_entries_free(e, n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
		T(next_wakeup_includes_runs_and_timers),
		T(list_filters_and_pages),
		T(history_has_inputs_attempts_and_queues),
#undef T
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
