/*
 * store_test.c - storage contract, part one: enqueue, idempotency keys,
 * lease order, reads (get, list, stats, history), timers, retention and
 * transactions. Runs against the backend CAIRN_TEST_STORE names.
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
enqueue_applies_defaults(void **state)
{
	struct fx *f = *state;
	static const uint8_t bin[] = { 'a', 0, 0xff, 'b' };
	struct task_spec sp = fx_spec("mail", NULL);
	bool created;

	sp.payload = bin;
	sp.payload_len = sizeof(bin);
	sp.priority = -3;
	uint64_t id = fx_enqueue_spec(f, sp, T0, &created);
	assert_true(created);
	assert_true(id > 0);
	struct task *t = fx_get(f, id);
	assert_int_equal(t->state, CAIRN_PENDING);
	assert_string_equal(t->queue, "mail");
	assert_int_equal(t->payload_len, sizeof(bin));
	assert_memory_equal(t->payload, bin, sizeof(bin));
	assert_int_equal(t->priority, -3);
	assert_int_equal(t->attempt, 0);
	assert_int_equal(t->max_attempts, TASK_DEFAULT_MAX_ATTEMPTS);
	assert_int_equal(t->heartbeat_timeout_ms, TASK_DEFAULT_HEARTBEAT_MS);
	assert_int_equal(t->retry.initial_ms, TASK_DEFAULT_BACKOFF_MS);
	assert_true(t->retry.multiplier == TASK_DEFAULT_MULTIPLIER);
	assert_int_equal(t->retry.max_ms, TASK_DEFAULT_MAX_BACKOFF_MS);
	assert_int_equal(t->run_at_ms, T0);
	assert_int_equal(t->created_ms, T0);
	assert_null(t->idempotency_key);
	assert_int_equal(t->lease_token[0], 0);
	task_free(t);
}

static void
enqueue_batch_is_atomic_and_ordered(void **state)
{
	struct fx *f = *state;
	struct task_spec sp[3]
	    = { fx_spec("a", "1"), fx_spec("b", "2"), fx_spec("a", "3") };
	uint64_t ids[3];
	bool created[3];

	fx_begin(f);
	assert_int_equal(
	    lifecycle_enqueue(f->s, sp, 3, T0, ids, created, f->msg),
	    CAIRN_OK);
	assert_int_equal(store_rollback(f->s), CAIRN_OK);
	struct task *t = NULL;
	fx_begin(f);
	assert_int_equal(store_get(f->s, ids[0], &t), CAIRN_NOT_FOUND);
	fx_commit(f);

	fx_begin(f);
	assert_int_equal(
	    lifecycle_enqueue(f->s, sp, 3, T0, ids, created, f->msg),
	    CAIRN_OK);
	fx_commit(f);
	assert_true(ids[0] < ids[1] && ids[1] < ids[2]);
	t = fx_get(f, ids[1]);
	assert_string_equal(t->queue, "b");
	task_free(t);
}

static void
idempotency_key_dedups_per_queue(void **state)
{
	struct fx *f = *state;
	struct task_spec sp = fx_spec("q", "first");
	bool created;

	sp.idempotency_key = "order-7";
	uint64_t a = fx_enqueue_spec(f, sp, T0, &created);
	assert_true(created);
	sp.payload = (const uint8_t *) "second";
	uint64_t b = fx_enqueue_spec(f, sp, T0 + 5, &created);
	assert_false(created);
	assert_int_equal(a, b);
	struct task *t = fx_get(f, a);
	assert_memory_equal(t->payload, "first", 5); /* nothing changed */
	assert_string_equal(t->idempotency_key, "order-7");
	task_free(t);

	sp.queue = "other"; /* the key is per queue */
	uint64_t c = fx_enqueue_spec(f, sp, T0, &created);
	assert_true(created);
	assert_int_not_equal(c, a);

	/* find_key (the dashboard's search): the task of each queue. */
	uint64_t id = 0;
	fx_begin(f);
	assert_int_equal(store_find_key(f->s, "q", "order-7", &id), CAIRN_OK);
	assert_int_equal(id, a);
	assert_int_equal(
	    store_find_key(f->s, "other", "order-7", &id), CAIRN_OK);
	assert_int_equal(id, c);
	assert_int_equal(
	    store_find_key(f->s, "q", "order-8", &id), CAIRN_NOT_FOUND);
	assert_int_equal(
	    store_find_key(f->s, "none", "order-7", &id), CAIRN_NOT_FOUND);
	fx_commit(f);

	/* The same key twice in one batch: one task. */
	struct task_spec two[2] = { fx_spec("z", "x"), fx_spec("z", "y") };
	uint64_t ids[2];
	bool cr[2];
	two[0].idempotency_key = two[1].idempotency_key = "k";
	fx_begin(f);
	assert_int_equal(
	    lifecycle_enqueue(f->s, two, 2, T0, ids, cr, f->msg), CAIRN_OK);
	fx_commit(f);
	assert_true(cr[0]);
	assert_false(cr[1]);
	assert_int_equal(ids[0], ids[1]);
}

static void
lease_order_priority_run_at_id(void **state)
{
	struct fx *f = *state;
	struct task_spec lo = fx_spec("q", "lo"), hi = fx_spec("q", "hi");
	struct task **ts;

	hi.priority = 10;
	uint64_t l1 = fx_enqueue_spec(f, lo, T0, NULL);
	uint64_t h1 = fx_enqueue_spec(f, hi, T0 + 2, NULL);
	uint64_t h0 = fx_enqueue_spec(f, hi, T0 + 1, NULL);
	hi.run_at_ms = T0 + 1; /* same run_at as h0, later id */
	uint64_t h2 = fx_enqueue_spec(f, hi, T0 + 3, NULL);
	uint64_t l0 = fx_enqueue(f, "q", T0 - 5); /* earlier run_at */

	size_t n = fx_lease_n(f, "q", 10, T0 + 10, &ts);
	assert_int_equal(n, 5);
	uint64_t want[] = { h0, h2, h1, l0, l1 };
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(ts[i]->id, want[i]);
	}
	task_array_free(ts, n);
}

static void
lease_respects_run_at_and_max(void **state)
{
	struct fx *f = *state;
	struct task_spec later = fx_spec("q", "later");
	struct task **ts;

	later.delay_ms = 5000;
	uint64_t d = fx_enqueue_spec(f, later, T0, NULL);
	fx_enqueue(f, "q", T0);
	fx_enqueue(f, "q", T0);
	fx_enqueue(f, "q", T0);
	assert_int_equal(fx_lease_n(f, "q", 2, T0, &ts), 2);
	task_array_free(ts, 2);
	assert_int_equal(fx_lease_n(f, "q", 5, T0 + 4999, &ts), 1);
	assert_int_not_equal(ts[0]->id, d); /* not before run_at */
	task_array_free(ts, 1);
	assert_int_equal(fx_lease_n(f, "q", 5, T0 + 5000, &ts), 1);
	assert_int_equal(ts[0]->id, d);
	task_array_free(ts, 1);
	assert_int_equal(fx_lease_n(f, "q", 5, T0 + 9000, &ts), 0);
	assert_int_equal(fx_lease_n(f, "other", 5, T0 + 9000, &ts), 0);
}

static void
lease_starts_an_attempt(void **state)
{
	struct fx *f = *state;
	uint64_t id = fx_enqueue(f, "q", T0);

	struct task *t = fx_lease_one(f, "q", T0 + 100);
	assert_int_equal(t->id, id);
	assert_int_equal(t->state, CAIRN_ACTIVE);
	assert_int_equal(t->attempt, 1);
	assert_int_equal(strlen(t->lease_token), TASK_TOKEN_LEN);
	assert_int_equal(
	    strspn(t->lease_token, "0123456789abcdef"), TASK_TOKEN_LEN);
	assert_int_equal(t->lease_deadline_ms, T0 + 100 + 60000);
	assert_string_equal(t->worker_id, "w1");
	struct task *g = fx_get(f, id);
	assert_int_equal(g->state, CAIRN_ACTIVE);
	assert_string_equal(g->lease_token, t->lease_token);
	assert_int_equal(g->lease_deadline_ms, t->lease_deadline_ms);
	task_free(g);
	task_free(t);
}

static void
lease_timeout_override_and_multi_queue(void **state)
{
	struct fx *f = *state;
	struct task_spec a = fx_spec("a", "x"), b = fx_spec("b", "y");
	const char *qs[] = { "a", "b" };
	struct lease_request r = { .queues = qs,
		.nqueues = 2,
		.max_tasks = 2,
		.lease_timeout_ms = 1500 };
	struct task **ts;
	size_t n;

	b.priority = 5;
	uint64_t ia = fx_enqueue_spec(f, a, T0, NULL);
	uint64_t ib = fx_enqueue_spec(f, b, T0, NULL);
	fx_enqueue(f, "a", T0 + 1);
	fx_begin(f);
	assert_int_equal(
	    lifecycle_lease(f->s, &r, T0 + 10, &ts, &n, f->msg), CAIRN_OK);
	fx_commit(f);
	assert_int_equal(n, 2);
	assert_int_equal(ts[0]->id, ib); /* higher priority, other queue */
	assert_int_equal(ts[1]->id, ia);
	assert_int_equal(ts[0]->lease_deadline_ms, T0 + 10 + 1500);
	assert_null(ts[0]->worker_id);
	task_array_free(ts, n);
	/* The third task was looked at but not taken: still PENDING. */
	fx_begin(f);
	assert_int_equal(
	    lifecycle_lease(f->s, &r, T0 + 10, &ts, &n, f->msg), CAIRN_OK);
	fx_commit(f);
	assert_int_equal(n, 1);
	task_array_free(ts, n);
}

static void
list_pages_and_filters(void **state)
{
	struct fx *f = *state;
	struct task **ts;
	size_t n;
	uint64_t ids[5];

	for (int i = 0; i < 5; i++) {
		ids[i] = fx_enqueue(f, "q", T0);
	}
	fx_enqueue(f, "other", T0);
	task_free(fx_lease_one(f, "q", T0));

	fx_begin(f);
	assert_int_equal(
	    store_list(f->s, "q", CAIRN_STATE_ANY, 2, 0, &ts, &n), CAIRN_OK);
	assert_int_equal(n, 2);
	assert_int_equal(ts[0]->id, ids[0]);
	assert_int_equal(ts[1]->id, ids[1]);
	task_array_free(ts, n);
	assert_int_equal(
	    store_list(f->s, "q", CAIRN_STATE_ANY, 10, ids[1], &ts, &n),
	    CAIRN_OK);
	assert_int_equal(n, 3);
	assert_int_equal(ts[0]->id, ids[2]);
	task_array_free(ts, n);
	assert_int_equal(
	    store_list(f->s, "q", CAIRN_PENDING, 10, 0, &ts, &n), CAIRN_OK);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(ts[i]->state, CAIRN_PENDING);
	}
	task_array_free(ts, n);
	assert_int_equal(
	    store_list(f->s, "q", CAIRN_ACTIVE, 10, 0, &ts, &n), CAIRN_OK);
	assert_int_equal(n, 1);
	assert_int_equal(ts[0]->id, ids[0]);
	task_array_free(ts, n);
	assert_int_equal(
	    store_list(f->s, "none", CAIRN_STATE_ANY, 10, 0, &ts, &n),
	    CAIRN_OK);
	assert_int_equal(n, 0);
	task_array_free(ts, n);
	fx_commit(f);
}

static void
stats_counts_states_and_due(void **state)
{
	struct fx *f = *state;
	struct task_spec later = fx_spec("q", "later");
	struct queue_stats *st;
	size_t n;

	later.delay_ms = 60000;
	fx_enqueue(f, "q", T0);
	fx_enqueue(f, "q", T0 + 1000);
	fx_enqueue(f, "q", T0 + 2000);
	fx_enqueue_spec(f, later, T0, NULL);
	fx_enqueue(f, "b", T0);
	struct task *t = fx_lease_one(f, "q", T0 + 3000);
	assert_int_equal(
	    fx_complete(f, t->id, t->lease_token, "ok", T0 + 3000), CAIRN_OK);
	task_free(t);

	fx_begin(f);
	assert_int_equal(
	    store_stats(f->s, NULL, T0 + 5000, &st, &n), CAIRN_OK);
	fx_commit(f);
	assert_int_equal(n, 2);
	assert_string_equal(st[0].queue, "b");
	assert_string_equal(st[1].queue, "q");
	assert_int_equal(st[1].count[CAIRN_PENDING], 3);
	assert_int_equal(st[1].count[CAIRN_SUCCEEDED], 1);
	assert_int_equal(st[1].count[CAIRN_ACTIVE], 0);
	assert_int_equal(st[1].due, 2);
	assert_int_equal(st[1].oldest_due_age_ms, 4000);
	queue_stats_free(st, n);

	fx_begin(f);
	assert_int_equal(store_stats(f->s, "b", T0 + 5000, &st, &n), CAIRN_OK);
	fx_commit(f);
	assert_int_equal(n, 1);
	assert_int_equal(st[0].count[CAIRN_PENDING], 1);
	queue_stats_free(st, n);
}

static void
history_records_each_step(void **state)
{
	struct fx *f = *state;
	struct task_event *ev;
	size_t n;
	uint64_t id = fx_enqueue(f, "q", T0);

	struct task *t = fx_lease_one(f, "q", T0 + 1);
	assert_int_equal(
	    fx_heartbeat(f, id, t->lease_token, "50%", T0 + 2, NULL, NULL),
	    CAIRN_OK);
	assert_int_equal(
	    fx_fail_task(f, id, t->lease_token, false, 0, T0 + 3, NULL, NULL),
	    CAIRN_OK);
	task_free(t);
	t = fx_lease_one(f, "q", T0 + 5000);
	assert_int_equal(
	    fx_complete(f, id, t->lease_token, NULL, T0 + 5001), CAIRN_OK);
	task_free(t);

	fx_begin(f);
	assert_int_equal(store_history(f->s, id, &ev, &n), CAIRN_OK);
	fx_commit(f);
	const char *kinds[] = { "enqueued", "leased", "heartbeat", "failed",
		"retried", "leased", "completed" };
	assert_int_equal(n, 7);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(ev[i].kind, kinds[i]);
	}
	assert_int_equal(ev[0].at_ms, T0);
	assert_int_equal(ev[1].attempt, 1);
	assert_string_equal(ev[1].worker_id, "w1");
	assert_string_equal(ev[3].message, "boom");
	assert_int_equal(ev[5].attempt, 2);
	assert_int_equal(ev[6].at_ms, T0 + 5001);
	task_events_free(ev, n);

	fx_begin(f);
	assert_int_equal(
	    store_history(f->s, id + 100, &ev, &n), CAIRN_NOT_FOUND);
	fx_commit(f);
}

static void
next_wakeup_sees_delays_and_deadlines(void **state)
{
	struct fx *f = *state;
	struct task_spec later = fx_spec("q", "later");
	int64_t at;

	fx_begin(f);
	assert_int_equal(store_next_wakeup(f->s, T0, &at), CAIRN_OK);
	fx_commit(f);
	assert_true(at == TASK_TIME_NEVER);
	later.delay_ms = 90000;
	fx_enqueue_spec(f, later, T0, NULL);
	fx_enqueue(f, "q", T0);
	task_free(fx_lease_one(f, "q", T0)); /* deadline T0 + 60000 */
	fx_begin(f);
	assert_int_equal(store_next_wakeup(f->s, T0, &at), CAIRN_OK);
	fx_commit(f);
	assert_int_equal(at, T0 + 60000);
}

static void
prune_deletes_old_terminal_tasks_only(void **state)
{
	struct fx *f = *state;
	struct task_spec keyed = fx_spec("q", "k");
	size_t n;
	bool created;

	keyed.idempotency_key = "once";
	uint64_t done = fx_enqueue_spec(f, keyed, T0, NULL);
	uint64_t active = fx_enqueue(f, "q", T0);
	struct task *t = fx_lease_one(f, "q", T0);
	assert_int_equal(t->id, done);
	assert_int_equal(
	    fx_complete(f, done, t->lease_token, "r", T0 + 10), CAIRN_OK);
	task_free(t);
	task_free(fx_lease_one(f, "q", T0));
	uint64_t recent = fx_enqueue(f, "q", T0);
	t = fx_lease_one(f, "q", T0 + 500);
	assert_int_equal(
	    fx_complete(f, recent, t->lease_token, "r", T0 + 900), CAIRN_OK);
	task_free(t);

	fx_begin(f);
	assert_int_equal(store_prune(f->s, T0 + 100, 100, &n), CAIRN_OK);
	fx_commit(f);
	assert_int_equal(n, 1);
	struct task *g = NULL;
	struct task_event *ev;
	fx_begin(f);
	assert_int_equal(store_get(f->s, done, &g), CAIRN_NOT_FOUND);
	assert_int_equal(store_history(f->s, done, &ev, &n), CAIRN_NOT_FOUND);
	fx_commit(f);
	assert_int_equal(fx_state_of(f, active), CAIRN_ACTIVE);
	assert_int_equal(fx_state_of(f, recent), CAIRN_SUCCEEDED);
	/* The key is free again once its task is gone. */
	uint64_t again = fx_enqueue_spec(f, keyed, T0 + 200, &created);
	assert_true(created);
	assert_int_not_equal(again, done);
}

/* Per-queue settings: a row per configured queue, read, listed and
 * replaced; the ACTIVE count that max_active compares with; the bucket
 * saved alone; and get with lock sees only a row that limits leases. */
static void
queue_settings_round_trip(void **state)
{
	struct fx *f = *state;
	struct queue_settings q = { .queue = "mail",
		.max_active = 3,
		.rate_count = 5,
		.rate_interval_ms = 1000,
		.max_attempts = 7,
		.retry = { 10, 1.5, 900 },
		.heartbeat_timeout_ms = 2000,
		.updated_ms = T0 },
	                      got, *all;
	uint32_t active;
	size_t n;

	assert_true(store_has_queues(f->s));
	fx_begin(f);
	assert_int_equal(
	    store_queue_get(f->s, "mail", false, &got), CAIRN_NOT_FOUND);
	assert_int_equal(store_queue_put(f->s, &q), CAIRN_OK);
	q.queue[0] = 'n'; /* "nail": no limit, only a default */
	q.max_active = 0;
	q.rate_count = 0;
	assert_int_equal(store_queue_put(f->s, &q), CAIRN_OK);
	fx_commit(f);

	fx_begin(f);
	assert_int_equal(store_queue_get(f->s, "mail", true, &got), CAIRN_OK);
	assert_string_equal(got.queue, "mail");
	assert_int_equal(got.max_active, 3);
	assert_int_equal(got.rate_count, 5);
	assert_int_equal(got.rate_interval_ms, 1000);
	assert_int_equal(got.max_attempts, 7);
	assert_int_equal(got.retry.initial_ms, 10);
	assert_true(got.retry.multiplier == 1.5);
	assert_int_equal(got.retry.max_ms, 900);
	assert_int_equal(got.heartbeat_timeout_ms, 2000);
	assert_int_equal(got.updated_ms, T0);
	assert_int_equal(
	    store_queue_get(f->s, "nail", true, &got), CAIRN_NOT_FOUND);
	assert_int_equal(store_queue_get(f->s, "nail", false, &got), CAIRN_OK);
	assert_int_equal(got.max_attempts, 7);
	assert_int_equal(store_queue_bucket(f->s, "mail", 1234, T0 + 5), 0);
	assert_int_equal(store_queue_list(f->s, &all, &n), CAIRN_OK);
	assert_int_equal(n, 2);
	assert_string_equal(all[0].queue, "mail");
	assert_int_equal(all[0].bucket_credit, 1234);
	assert_int_equal(all[0].bucket_at_ms, T0 + 5);
	assert_string_equal(all[1].queue, "nail");
	free(all);
	fx_commit(f);

	fx_enqueue(f, "mail", T0);
	fx_enqueue(f, "mail", T0);
	fx_enqueue(f, "mail", T0);
	struct task **t;
	/* Past the bucket's last draw (T0 + 5) by long enough to refill. */
	assert_int_equal(fx_lease_n(f, "mail", 2, T0 + 60000, &t), 2);
	task_array_free(t, 2);
	fx_begin(f);
	assert_int_equal(store_queue_active(f->s, "mail", &active), CAIRN_OK);
	assert_int_equal(active, 2);
	assert_int_equal(store_queue_active(f->s, "nail", &active), CAIRN_OK);
	assert_int_equal(active, 0);
	fx_commit(f);
}

/* Leases obey the queue's limits: paused takes nothing, max_active counts
 * the ACTIVE tasks, and the bucket lets rate_count through per interval
 * (the time is the test's). */
static void
leases_obey_queue_limits(void **state)
{
	struct fx *f = *state;
	struct queue_settings q = { .queue = "lim", .paused = true };
	struct task **t;

	assert_true(store_has_queues(f->s));
	for (int i = 0; i < 10; i++) {
		fx_enqueue(f, "lim", T0);
	}
	fx_begin(f);
	assert_int_equal(store_queue_put(f->s, &q), CAIRN_OK);
	fx_commit(f);
	assert_int_equal(fx_lease_n(f, "lim", 5, T0, &t), 0);
	task_array_free(t, 0);

	q.paused = false;
	q.max_active = 2;
	fx_begin(f);
	assert_int_equal(store_queue_put(f->s, &q), CAIRN_OK);
	fx_commit(f);
	assert_int_equal(fx_lease_n(f, "lim", 5, T0, &t), 2);
	assert_int_equal(
	    fx_complete(f, t[0]->id, t[0]->lease_token, "", T0), CAIRN_OK);
	task_array_free(t, 2);
	assert_int_equal(fx_lease_n(f, "lim", 5, T0, &t), 1);
	task_array_free(t, 1);

	/* 2 per second, no max_active: the full bucket gives 2, then one
	 * token per 500 ms of the test's time. */
	q.max_active = 0;
	q.rate_count = 2;
	q.rate_interval_ms = 1000;
	fx_begin(f);
	assert_int_equal(store_queue_put(f->s, &q), CAIRN_OK);
	fx_commit(f);
	assert_int_equal(fx_lease_n(f, "lim", 5, T0, &t), 2);
	task_array_free(t, 2);
	assert_int_equal(fx_lease_n(f, "lim", 5, T0 + 499, &t), 0);
	task_array_free(t, 0);
	assert_int_equal(fx_lease_n(f, "lim", 5, T0 + 500, &t), 1);
	task_array_free(t, 1);
	assert_int_equal(fx_lease_n(f, "lim", 5, T0 + 5000, &t), 2);
	task_array_free(t, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
		T(enqueue_applies_defaults),
		T(enqueue_batch_is_atomic_and_ordered),
		T(idempotency_key_dedups_per_queue),
		T(lease_order_priority_run_at_id),
		T(lease_respects_run_at_and_max),
		T(lease_starts_an_attempt),
		T(lease_timeout_override_and_multi_queue),
		T(list_pages_and_filters),
		T(stats_counts_states_and_due),
		T(history_records_each_step),
		T(next_wakeup_sees_delays_and_deadlines),
		T(prune_deletes_old_terminal_tasks_only),
		T(queue_settings_round_trip),
		T(leases_obey_queue_limits),
#undef T
	};
	return (cmocka_run_group_tests_name("store", tests, NULL, NULL));
}
