/*
 * pg_prefetch_test.c - the PostgreSQL backend's read-ahead (store.h,
 * prefetch) and the rows its picks keep: what it answers is what a load,
 * a request_get or a pick would have answered, also after this transaction
 * changed it (through the task rules or the workflow rules); its rows are
 * locked as load locks them; and it saves the round trips it exists for,
 * as does a commit that brings the next wakeup (commit_wakeup).
 *
 * Run against the cluster of scripts/pg-test-cluster.sh (CAIRN_TEST_STORE).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "store_fixture.h"
#include "store/postgres/postgres.h"

static uint64_t
round_trips(struct fx *f)
{
	return (((struct store_pg *) f->s)->round_trips);
}

/* begin_ahead begins a transaction as the engine does: the read-ahead of
 * pf, then the lease sweep that every transaction starts with, which
 * brings its answers. */
static void
begin_ahead(struct fx *f, const struct store_prefetch *pf)
{
	uint64_t expired[1];
	size_t n;

	fx_begin(f);
	assert_int_equal(store_prefetch(f->s, pf), CAIRN_OK);
	assert_int_equal(
	    store_pick_expired(f->s, pf->now, 1, expired, &n), CAIRN_OK);
}

/* record commits a request record of key. */
static void
record(struct fx *f, const char *key, const char *result)
{
	fx_begin(f);
	assert_int_equal(store_request_put(f->s, key, T0,
	                     (const uint8_t *) result, strlen(result)),
	    CAIRN_OK);
	fx_commit(f);
}

static void
answers_as_the_calls_would(void **state)
{
	struct fx *f = *state;
	uint64_t a = fx_enqueue(f, "q", T0), b = fx_enqueue(f, "q", T0);
	uint64_t ids[] = { a, b, 999999 };
	const char *keys[] = { "E:new", "L:old" };
	struct task_row row;
	uint8_t *res = NULL;
	size_t len = 0, n = 0;
	bool found = false;
	uint64_t expired[4];

	record(f, "L:old", "7:token");
	fx_begin(f);
	struct store_prefetch pf
	    = { .now = T0, .ids = ids, .nids = 3, .keys = keys, .nkeys = 2 };
	assert_int_equal(store_prefetch(f->s, &pf), CAIRN_OK);
	/* The answers travel with the next call that waits. */
	uint64_t before = round_trips(f);
	assert_int_equal(
	    store_pick_expired(f->s, T0, 4, expired, &n), CAIRN_OK);
	assert_int_equal(round_trips(f), before + 1);

	assert_int_equal(store_load(f->s, a, &row), CAIRN_OK);
	assert_int_equal(row.t.id, a);
	assert_int_equal(row.t.state, CAIRN_PENDING);
	assert_string_equal(row.t.queue, "q");
	task_row_clear(&row);
	assert_int_equal(store_load(f->s, b, &row), CAIRN_OK);
	assert_int_equal(row.t.id, b);
	task_row_clear(&row);
	assert_int_equal(
	    store_request_get(f->s, "E:new", &found, &res, &len), CAIRN_OK);
	assert_false(found);
	assert_int_equal(
	    store_request_get(f->s, "L:old", &found, &res, &len), CAIRN_OK);
	assert_true(found);
	assert_int_equal(len, 7);
	assert_string_equal((char *) res, "7:token");
	free(res);
	assert_int_equal(round_trips(f), before + 1);

	/* What this transaction wrote is read back from the database. */
	assert_int_equal(store_load(f->s, a, &row), CAIRN_OK);
	row.t.attempt = 9;
	assert_int_equal(store_save(f->s, &row), CAIRN_OK);
	task_row_clear(&row);
	assert_int_equal(store_load(f->s, a, &row), CAIRN_OK);
	assert_int_equal(row.t.attempt, 9);
	task_row_clear(&row);
	assert_int_equal(
	    store_request_put(f->s, "E:new", T0, (const uint8_t *) "5:1", 3),
	    CAIRN_OK);
	assert_int_equal(
	    store_request_get(f->s, "E:new", &found, &res, &len), CAIRN_OK);
	assert_true(found);
	assert_string_equal((char *) res, "5:1");
	free(res);
	/* An id that is no task's is still not found. */
	assert_int_equal(store_load(f->s, 999999, &row), CAIRN_NOT_FOUND);
	fx_commit(f);
}

static void
rows_are_locked_as_load_locks_them(void **state)
{
	struct fx *f = *state;
	uint64_t a = fx_enqueue(f, "q", T0);
	PGconn *c = PQconnectdb(getenv("CAIRN_TEST_STORE"));
	char sql[160];

	assert_int_equal(PQstatus(c), CONNECTION_OK);
	struct store_prefetch pf = { .now = T0, .ids = &a, .nids = 1 };
	begin_ahead(f, &pf);
	snprintf(sql, sizeof(sql),
	    "SELECT id FROM \"%s\".tasks WHERE id = %llu FOR UPDATE NOWAIT",
	    f->schema, (unsigned long long) a);
	PGresult *r = PQexec(c, sql);
	assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
	assert_string_equal(
	    PQresultErrorField(r, PG_DIAG_SQLSTATE), "55P03"); /* locked */
	PQclear(r);
	fx_commit(f);
	r = PQexec(c, sql);
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	PQclear(r);
	PQfinish(c);
}

static void
a_key_asked_twice_is_recorded_once(void **state)
{
	struct fx *f = *state;
	const char *keys[] = { "E:same", "E:same" };
	struct store_prefetch pf = { .now = T0, .keys = keys, .nkeys = 2 };
	uint8_t *res = NULL;
	size_t len = 0;
	bool found = true;

	begin_ahead(f, &pf);
	assert_int_equal(
	    store_request_get(f->s, "E:same", &found, &res, &len), CAIRN_OK);
	assert_false(found);
	assert_int_equal(
	    store_request_put(f->s, "E:same", T0, (const uint8_t *) "9:1", 3),
	    CAIRN_OK);
	/* The resend in the same batch finds the first one's record. */
	assert_int_equal(
	    store_request_get(f->s, "E:same", &found, &res, &len), CAIRN_OK);
	assert_true(found);
	assert_string_equal((char *) res, "9:1");
	free(res);
	fx_commit(f);
}

static void
quoting_of_keys(void **state)
{
	struct fx *f = *state;
	const char *keys[] = { "E:a\"b\\c,{d}", "E:plain" };
	uint8_t *res = NULL;
	size_t len = 0;
	bool found = false;

	record(f, keys[0], "odd");
	struct store_prefetch pf = { .now = T0, .keys = keys, .nkeys = 2 };
	begin_ahead(f, &pf);
	uint64_t before = round_trips(f);
	assert_int_equal(
	    store_request_get(f->s, keys[0], &found, &res, &len), CAIRN_OK);
	assert_true(found);
	assert_string_equal((char *) res, "odd");
	free(res);
	assert_int_equal(
	    store_request_get(f->s, keys[1], &found, &res, &len), CAIRN_OK);
	assert_false(found);
	assert_int_equal(round_trips(f), before);
	fx_commit(f);
}

/* begin_with_pool begins a transaction whose leases of q may take max. */
static void
begin_with_pool(struct fx *f, uint32_t max)
{
	struct store_pick_hint hint = { .queue = "q", .max = max };
	struct store_prefetch pf = { .now = T0, .picks = &hint, .npicks = 1 };

	begin_ahead(f, &pf);
}

static void
pool_answers_leases(void **state)
{
	struct fx *f = *state;
	uint64_t a = fx_enqueue(f, "q", T0), b = fx_enqueue(f, "q", T0);
	struct task **t1 = NULL, **t2 = NULL, **t3 = NULL;

	begin_with_pool(f, 3);
	uint64_t before = round_trips(f);
	/* Two leases share the pool, each task once, in lease order. */
	assert_int_equal(fx_lease_in(f, "q", 1, T0, "w", &t1), 1);
	assert_int_equal(t1[0]->id, a);
	assert_int_equal(fx_lease_in(f, "q", 1, T0, "w", &t2), 1);
	assert_int_equal(t2[0]->id, b);
	/* It read fewer than it asked for: nothing else is due. */
	assert_int_equal(fx_lease_in(f, "q", 1, T0, "w", &t3), 0);
	assert_int_equal(round_trips(f), before);
	fx_commit(f);
	assert_int_equal(fx_state_of(f, a), CAIRN_ACTIVE);
	assert_int_equal(fx_state_of(f, b), CAIRN_ACTIVE);
	task_array_free(t1, 1);
	task_array_free(t2, 1);
	free(t3);
}

static void
pool_leaves_what_the_batch_enqueued_to_the_next(void **state)
{
	struct fx *f = *state;
	uint64_t a = fx_enqueue(f, "q", T0), c = 0;
	struct task **t1 = NULL, **t2 = NULL, **t3 = NULL;
	struct task_spec sp = fx_spec("q", "late");
	bool created;

	begin_with_pool(f, 2);
	assert_int_equal(
	    lifecycle_enqueue(f->s, &sp, 1, T0, &c, &created, f->msg),
	    CAIRN_OK);
	assert_int_equal(fx_lease_in(f, "q", 1, T0, "w", &t1), 1);
	assert_int_equal(t1[0]->id, a);
	/* Concurrent with the enqueue, this lease may come first. */
	assert_int_equal(fx_lease_in(f, "q", 1, T0, "w", &t2), 0);
	fx_commit(f);
	/* The next transaction's pool holds it. */
	begin_with_pool(f, 1);
	assert_int_equal(fx_lease_in(f, "q", 1, T0, "w", &t3), 1);
	assert_int_equal(t3[0]->id, c);
	fx_commit(f);
	task_array_free(t1, 1);
	free(t2);
	task_array_free(t3, 1);
}

static void
pool_short_of_max_asks_the_database(void **state)
{
	struct fx *f = *state;
	struct task **t = NULL;

	for (int i = 0; i < 3; i++) {
		fx_enqueue(f, "q", T0);
	}
	/* The pool took 2 of 3: a lease of 3 must still get all three. */
	begin_with_pool(f, 2);
	assert_int_equal(fx_lease_in(f, "q", 3, T0, "w", &t), 3);
	fx_commit(f);
	task_array_free(t, 3);
}

static void
late_queues_share_one_pick(void **state)
{
	struct fx *f = *state;
	uint64_t a = fx_enqueue(f, "q", T0), b = fx_enqueue(f, "q", T0);
	struct task **t1 = NULL, **t2 = NULL;
	/* Two Completes that lease their next task: queues unknown yet. */
	struct store_prefetch pf = { .now = T0, .unknown_picks = 2 };

	begin_ahead(f, &pf);
	uint64_t before = round_trips(f);
	assert_int_equal(fx_lease_in(f, "q", 1, T0, "w", &t1), 1);
	assert_int_equal(fx_lease_in(f, "q", 1, T0, "w", &t2), 1);
	assert_int_equal(round_trips(f), before + 1);
	assert_int_equal(t1[0]->id, a);
	assert_int_equal(t2[0]->id, b);
	fx_commit(f);
	task_array_free(t1, 1);
	task_array_free(t2, 1);
}

/* The settings of the batch's queues come with the read-ahead: the picks'
 * queues locked (only rows that limit leases), the enqueues' queues
 * without lock; a write of a row makes what was read of it stale. */
static void
queue_settings_come_ahead(void **state)
{
	struct fx *f = *state;
	struct queue_settings lim = { .queue = "q", .max_active = 5 };
	struct queue_settings def = { .queue = "d", .max_attempts = 3 }, got;
	struct store_pick_hint hint = { .queue = "q", .max = 1 };
	const char *settings[] = { "d", "none" };
	struct store_prefetch pf = { .now = T0,
		.picks = &hint,
		.npicks = 1,
		.settings = settings,
		.nsettings = 2 };

	fx_begin(f);
	assert_int_equal(store_queue_put(f->s, &lim), CAIRN_OK);
	assert_int_equal(store_queue_put(f->s, &def), CAIRN_OK);
	fx_commit(f);
	begin_ahead(f, &pf);
	uint64_t before = round_trips(f);
	assert_int_equal(store_queue_get(f->s, "q", true, &got), CAIRN_OK);
	assert_int_equal(got.max_active, 5);
	assert_int_equal(store_queue_get(f->s, "d", false, &got), CAIRN_OK);
	assert_int_equal(got.max_attempts, 3);
	assert_int_equal(
	    store_queue_get(f->s, "none", false, &got), CAIRN_NOT_FOUND);
	assert_int_equal(round_trips(f), before);
	/* Written by this transaction: read again, as it is now. */
	assert_int_equal(store_queue_bucket(f->s, "q", 77, T0), CAIRN_OK);
	assert_int_equal(store_queue_get(f->s, "q", true, &got), CAIRN_OK);
	assert_int_equal(got.bucket_credit, 77);
	assert_int_equal(round_trips(f), before + 1);
	fx_commit(f);
}

static void
commit_brings_the_next_wakeup(void **state)
{
	struct fx *f = *state;
	struct task_spec sp = fx_spec("q", "later");
	uint64_t id;
	bool created;
	int64_t at = 0;

	sp.run_at_ms = T0 + 5000;
	fx_begin(f);
	assert_int_equal(
	    lifecycle_enqueue(f->s, &sp, 1, T0, &id, &created, f->msg),
	    CAIRN_OK);
	uint64_t before = round_trips(f);
	assert_true(store_commits_with_wakeup(f->s));
	bool committing = false;
	assert_int_equal(
	    store_commit_wakeup(f->s, T0, &at, &committing), CAIRN_OK);
	assert_true(committing);
	assert_int_equal(round_trips(f), before + 1);
	assert_int_equal(at, T0 + 5000);
	assert_int_equal(fx_state_of(f, id), CAIRN_PENDING); /* committed */
}

/* The rules of workflows change tasks through save as well (a run's
 * cancel cancels its activities): what the read-ahead kept of those
 * tasks, rows and picks alike, is never answered once they changed. */
static void
workflow_cancel_leaves_no_stale_task_ahead(void **state)
{
	struct fx *f = *state;
	char token[TASK_TOKEN_LEN + 1];
	struct wf_command acts[2] = {
		{ .kind = WF_ACTIVITY, .activity = { .queue = "running" } },
		{ .kind = WF_ACTIVITY, .activity = { .queue = "waiting" } },
	};
	struct task_row row;
	struct wf_entry e;
	uint64_t run = fx_wf_start(f, "t", "wf", T0), ids[2], got;
	size_t n;
	int st;

	assert_int_equal(fx_wf_lease(f, "wf", T0, token), run);
	fx_wf_advance(f, run, token, 1, acts, 2, 0, T0);
	struct task *t = fx_lease_one(f, "running", T0 + 1);
	ids[0] = t->id;
	task_free(t);
	fx_begin(f);
	assert_int_equal(store_wf_entry_load(f->s, run, 2, &e), CAIRN_OK);
	fx_commit(f);
	ids[1] = e.task_id;
	wf_entry_clear(&e);

	struct store_pick_hint pick = { .queue = "waiting", .max = 1 };
	struct store_prefetch pf = { .now = T0 + 2,
		.ids = ids,
		.nids = 2,
		.picks = &pick,
		.npicks = 1 };
	begin_ahead(f, &pf);
	assert_int_equal(
	    lifecycle_wf_cancel(f->s, run, NULL, T0 + 2, &st, f->msg),
	    CAIRN_OK);
	assert_int_equal(store_load(f->s, ids[0], &row), CAIRN_OK);
	assert_int_equal(row.t.state, CAIRN_ACTIVE);
	assert_true(row.t.cancel_requested);
	task_row_clear(&row);
	assert_int_equal(store_load(f->s, ids[1], &row), CAIRN_OK);
	assert_int_equal(row.t.state, CAIRN_CANCELED);
	task_row_clear(&row);
	assert_int_equal(
	    store_pick_due(f->s, "waiting", T0 + 2, 1, &got, &n), CAIRN_OK);
	assert_int_equal(n, 0);
	/* and the entry of the task canceled before it ran has its
	 * outcome in the same transaction. */
	assert_int_equal(store_wf_entry_load(f->s, run, 2, &e), CAIRN_OK);
	assert_int_equal(e.status, WF_CANCELED_ENTRY);
	wf_entry_clear(&e);
	fx_commit(f);
}

/* The picks of runs read whole rows: the load of a picked run costs no
 * round trip, until this transaction saves it. */
static void
picked_runs_answer_loads(void **state)
{
	struct fx *f = *state;
	uint64_t run = fx_wf_start(f, "t", "wf", T0), got;
	struct wf_run r;
	size_t n;

	fx_begin(f);
	assert_int_equal(
	    store_wf_pick_ready(f->s, "wf", T0, 1, &got, &n), CAIRN_OK);
	assert_int_equal(got, run);
	uint64_t before = round_trips(f);
	assert_int_equal(store_wf_load(f->s, run, &r), CAIRN_OK);
	assert_int_equal(round_trips(f), before);
	assert_int_equal(r.phase, WF_RUNNABLE);
	assert_string_equal(r.queue, "wf");
	r.phase = WF_LEASED;
	r.lease_deadline_ms = T0 + 100;
	assert_int_equal(store_wf_save(f->s, &r), CAIRN_OK);
	wf_run_clear(&r);
	assert_int_equal(store_wf_load(f->s, run, &r), CAIRN_OK);
	assert_int_equal(round_trips(f), before + 1);
	assert_int_equal(r.phase, WF_LEASED);
	assert_int_equal(r.lease_deadline_ms, T0 + 100);
	wf_run_clear(&r);
	/* Picked again (expired now), it is read afresh. */
	assert_int_equal(
	    store_wf_pick_expired(f->s, T0 + 100, 1, &got, &n), CAIRN_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_wf_load(f->s, run, &r), CAIRN_OK);
	assert_int_equal(r.phase, WF_LEASED);
	wf_run_clear(&r);
	fx_commit(f);
}

/* plan_of explains, on the store's own connection (out of pipeline mode
 * for a moment, between transactions), how the prepared statement which
 * now runs with a bigint array. */
static char *
plan_of(struct fx *f, enum pg_stmt which, const char *array)
{
	PGconn *c = ((struct store_pg *) f->s)->conn;
	char sql[128];
	size_t len = 0;
	char *plan = calloc(1, 4096);

	assert_non_null(plan);
	assert_int_equal(PQexitPipelineMode(c), 1);
	snprintf(sql, sizeof(sql), "EXPLAIN EXECUTE cairn_%d('%s')",
	    (int) which, array);
	PGresult *r = PQexec(c, sql);
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	for (int i = 0; i < PQntuples(r); i++) {
		len += (size_t) snprintf(
		    plan + len, 4096 - len, "%s\n", PQgetvalue(r, i, 0));
	}
	PQclear(r);
	assert_int_equal(PQenterPipelineMode(c), 1);
	return (plan);
}

static void
read_ahead_keeps_to_the_index_as_tasks_grow(void **state)
{
	struct fx *f = *state;
	uint64_t ids[2] = { fx_enqueue(f, "q", T0), fx_enqueue(f, "q", T0) };
	struct task_row row;

	/* Enough runs while tasks is nearly empty for PostgreSQL to cache
	 * one plan for all later runs. */
	for (int i = 0; i < 8; i++) {
		fx_begin(f);
		struct store_prefetch pf
		    = { .now = T0, .ids = ids, .nids = 2 };
		assert_int_equal(store_prefetch(f->s, &pf), CAIRN_OK);
		assert_int_equal(store_load(f->s, ids[0], &row), CAIRN_OK);
		task_row_clear(&row);
		fx_commit(f);
	}
	/* Then tasks grows. */
	static struct task_spec sp[1000];
	static uint64_t more[1000];
	static bool created[1000];
	for (int i = 0; i < 1000; i++) {
		sp[i] = fx_spec("q", "x");
	}
	for (int round = 0; round < 5; round++) {
		fx_begin(f);
		assert_int_equal(lifecycle_enqueue(f->s, sp, 1000, T0, more,
		                     created, f->msg),
		    CAIRN_OK);
		fx_commit(f);
	}
	char *plan = plan_of(f, PG_LOAD_MANY, "{1,2}");
	if (strstr(plan, "Seq Scan") != NULL) {
		fail_msg("loading 2 of 5,002 tasks reads them all:\n%s", plan);
	}
	assert_non_null(strstr(plan, "tasks_pkey"));
	free(plan);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    answers_as_the_calls_would, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    rows_are_locked_as_load_locks_them, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    quoting_of_keys, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    a_key_asked_twice_is_recorded_once, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    pool_answers_leases, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    queue_settings_come_ahead, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    commit_brings_the_next_wakeup, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    late_queues_share_one_pick, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    pool_leaves_what_the_batch_enqueued_to_the_next, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(
		    pool_short_of_max_asks_the_database, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(
		    read_ahead_keeps_to_the_index_as_tasks_grow, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(
		    workflow_cancel_leaves_no_stale_task_ahead, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(
		    picked_runs_answer_loads, fx_setup, fx_teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
