/*
 * pg_gather_test.c - the PostgreSQL backend's gathered writes
 * (store/postgres/gather.c): the keyless inserts, saves and events of a
 * request go as one statement per kind, and what they write is exactly
 * what one statement per row wrote: binary payloads, text that needs
 * quoting, NULLs, an empty result, payloads of hundreds of KiB. A row
 * saved twice keeps the last save, a rollback forgets what was gathered,
 * and a row that fails fails the commit.
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

#include "store_fixture.h"
#include "store/postgres/postgres.h"

#define N 12

static uint64_t
many_sent(struct fx *f)
{
	return (((struct store_pg *) f->s)->many_sent);
}

/* payload_of writes task i's payload: every byte value, zeros included,
 * and a length of its own. */
static size_t
payload_of(int i, uint8_t *buf)
{
	size_t n = (size_t) (i * 23 + 1);

	for (size_t k = 0; k < n; k++) {
		buf[k] = (uint8_t) (k * 37 + (size_t) i);
	}
	return (n);
}

static size_t
history_of(struct fx *f, uint64_t id, struct task_event **ev)
{
	size_t n = 0;

	fx_begin(f);
	assert_int_equal(store_history(f->s, id, ev, &n), CAIRN_OK);
	fx_commit(f);
	return (n);
}

/* listed counts the tasks of queue. */
static size_t
listed(struct fx *f, const char *queue)
{
	struct task **tasks;
	size_t n = 0;

	fx_begin(f);
	assert_int_equal(
	    store_list(f->s, queue, CAIRN_STATE_ANY, 100, 0, &tasks, &n),
	    CAIRN_OK);
	fx_commit(f);
	task_array_free(tasks, n);
	return (n);
}

static void
enqueue_of_many_is_one_statement_per_kind(void **state)
{
	struct fx *f = *state;
	struct task_spec sp[N];
	uint8_t payloads[N][N * 23 + 1];
	size_t lens[N];
	uint64_t ids[N];
	bool created[N];

	memset(sp, 0, sizeof(sp));
	for (int i = 0; i < N; i++) {
		lens[i] = payload_of(i, payloads[i]);
		sp[i].queue = "q";
		sp[i].payload = payloads[i];
		sp[i].payload_len = lens[i];
		sp[i].priority = i - 5;
		sp[i].delay_ms = i * 1000;
		sp[i].retry.multiplier = 1.5 + i / 7.0;
	}
	fx_begin(f);
	uint64_t before = many_sent(f);
	assert_int_equal(
	    lifecycle_enqueue(f->s, sp, N, T0, ids, created, f->msg),
	    CAIRN_OK);
	assert_int_equal(store_flush(f->s), CAIRN_OK);
	/* The tasks and their "enqueued" events. */
	assert_int_equal(many_sent(f), before + 2);
	fx_commit(f);

	for (int i = 0; i < N; i++) {
		struct task *t = fx_get(f, ids[i]);
		struct task_event *ev;
		assert_true(created[i]);
		assert_int_equal(t->state, CAIRN_PENDING);
		assert_string_equal(t->queue, "q");
		assert_int_equal(t->payload_len, lens[i]);
		assert_memory_equal(t->payload, payloads[i], lens[i]);
		assert_int_equal(t->priority, i - 5);
		assert_int_equal(t->run_at_ms, T0 + i * 1000);
		assert_true(t->retry.multiplier == 1.5 + i / 7.0);
		assert_null(t->idempotency_key);
		assert_int_equal(history_of(f, ids[i], &ev), 1);
		assert_string_equal(ev[0].kind, "enqueued");
		assert_int_equal(ev[0].at_ms, T0);
		task_events_free(ev, 1);
		task_free(t);
	}
}

/* check_runs checks that the tasks ids[0..n) name run 70 + i and entry
 * i + 1, as loaded in an open transaction (picked, read ahead or not). */
static void
check_runs(struct fx *f, const uint64_t *ids, size_t n)
{
	struct task_row row;

	for (size_t i = 0; i < n; i++) {
		assert_int_equal(store_load(f->s, ids[i], &row), CAIRN_OK);
		assert_int_equal(row.wf_run, 70 + i);
		assert_int_equal(row.wf_seq, i + 1);
		task_row_clear(&row);
	}
}

/* An activity's task names its run and entry, however it was inserted
 * (alone, gathered with others, with a key) and however it is read (a
 * load, a pick's rows, the read-ahead). */
static void
activity_tasks_know_their_run(void **state)
{
	struct fx *f = *state;
	struct task_spec sp[4];
	uint64_t ids[4], picked[4];
	bool created[4];
	size_t n;

	for (int i = 0; i < 4; i++) {
		sp[i] = fx_spec("act", "x");
		sp[i].wf_run = 70 + (uint64_t) i;
		sp[i].wf_seq = (uint32_t) i + 1;
	}
	sp[3].idempotency_key = "wf:73:4";
	fx_begin(f);
	assert_int_equal(
	    lifecycle_enqueue(f->s, sp, 1, T0, ids, created, f->msg), 0);
	assert_int_equal(store_flush(f->s), CAIRN_OK);
	uint64_t before = many_sent(f);
	assert_int_equal(lifecycle_enqueue(f->s, sp + 1, 2, T0, ids + 1,
	                     created + 1, f->msg),
	    CAIRN_OK);
	assert_int_equal(store_flush(f->s), CAIRN_OK);
	assert_int_equal(many_sent(f), before + 2);
	assert_int_equal(lifecycle_enqueue(f->s, sp + 3, 1, T0, ids + 3,
	                     created + 3, f->msg),
	    CAIRN_OK);
	fx_commit(f);

	fx_begin(f);
	check_runs(f, ids, 4);
	fx_commit(f);
	fx_begin(f);
	assert_int_equal(
	    store_pick_due(f->s, "act", T0, 4, picked, &n), CAIRN_OK);
	assert_int_equal(n, 4);
	check_runs(f, ids, 4);
	fx_commit(f);
	struct store_prefetch pf = { .now = T0, .ids = ids, .nids = 4 };
	fx_begin(f);
	assert_int_equal(store_prefetch(f->s, &pf), CAIRN_OK);
	check_runs(f, ids, 4);
	fx_commit(f);
	/* A task of no run names none. */
	uint64_t plain = fx_enqueue(f, "act", T0);
	struct task_row row;
	fx_begin(f);
	assert_int_equal(store_load(f->s, plain, &row), CAIRN_OK);
	assert_int_equal(row.wf_run, 0);
	assert_int_equal(row.wf_seq, 0);
	task_row_clear(&row);
	fx_commit(f);
}

static void
lease_and_complete_of_many_write_every_field(void **state)
{
	struct fx *f = *state;
	static const char *const results[]
	    = { "", "plain", "a,b{c}\"d\\e", "NULL", "\xc3\xa9t\xc3\xa9" };
	struct task **got;
	uint64_t ids[N];

	for (int i = 0; i < N; i++) {
		fx_enqueue(f, "q", T0);
	}
	fx_begin(f);
	uint64_t before = many_sent(f);
	size_t n = fx_lease_in(f, "q", N, T0 + 10, "worker \"1\", {x}", &got);
	assert_int_equal(n, N);
	assert_int_equal(store_flush(f->s), CAIRN_OK);
	assert_int_equal(many_sent(f), before + 2); /* saves, events */
	fx_commit(f);

	/* Completed as the engine completes a batch: the rows read ahead,
	 * so that no load sends what was gathered before its time. */
	fx_begin(f);
	for (size_t i = 0; i < n; i++) {
		ids[i] = got[i]->id;
	}
	struct store_prefetch pf = { .now = T0 + 20, .ids = ids, .nids = n };
	assert_int_equal(store_prefetch(f->s, &pf), CAIRN_OK);
	for (size_t i = 0; i < n; i++) {
		const char *r = results[i % 5];
		assert_int_equal(
		    lifecycle_complete(f->s, got[i]->id, got[i]->lease_token,
		        (const uint8_t *) r, strlen(r), T0 + 20, f->msg),
		    CAIRN_OK);
	}
	assert_int_equal(store_flush(f->s), CAIRN_OK);
	assert_int_equal(many_sent(f), before + 4);
	fx_commit(f);

	for (size_t i = 0; i < n; i++) {
		struct task *t = fx_get(f, got[i]->id);
		struct task_event *ev;
		const char *r = results[i % 5];
		assert_int_equal(t->state, CAIRN_SUCCEEDED);
		assert_int_equal(t->attempt, 1);
		assert_string_equal(t->worker_id, "worker \"1\", {x}");
		assert_int_equal(t->finished_ms, T0 + 20);
		assert_int_equal(t->result_len, strlen(r));
		assert_memory_equal(t->result, r, strlen(r));
		assert_null(t->details);
		assert_int_equal(history_of(f, t->id, &ev), 3);
		assert_string_equal(ev[1].kind, "leased");
		assert_string_equal(ev[1].worker_id, "worker \"1\", {x}");
		assert_string_equal(ev[2].kind, "completed");
		task_events_free(ev, 3);
		task_free(t);
	}
	task_array_free(got, n);
}

static void
a_row_saved_twice_keeps_the_last_save(void **state)
{
	struct fx *f = *state;
	uint64_t a = fx_enqueue(f, "q", T0), b = fx_enqueue(f, "q", T0);
	struct task_row row;

	fx_begin(f);
	for (int round = 1; round <= 2; round++) {
		for (uint64_t id = a; id <= b; id += b - a) {
			assert_int_equal(store_load(f->s, id, &row), CAIRN_OK);
			row.t.attempt = (uint32_t) (round * 10);
			assert_int_equal(store_save(f->s, &row), CAIRN_OK);
			task_row_clear(&row);
		}
	}
	fx_commit(f);
	for (uint64_t id = a; id <= b; id += b - a) {
		struct task *t = fx_get(f, id);
		assert_int_equal(t->attempt, 20);
		task_free(t);
	}
}

static void
rollback_forgets_what_was_gathered(void **state)
{
	struct fx *f = *state;
	struct task_spec sp[3] = { fx_spec("gone", "x"), fx_spec("gone", "y"),
		fx_spec("gone", "z") };
	uint64_t ids[3];
	bool created[3];

	fx_begin(f);
	assert_int_equal(
	    lifecycle_enqueue(f->s, sp, 3, T0, ids, created, f->msg),
	    CAIRN_OK);
	assert_int_equal(store_rollback(f->s), CAIRN_OK);
	/* The next transaction sends nothing of the first. */
	fx_enqueue(f, "kept", T0);
	assert_int_equal(listed(f, "gone"), 0);
	assert_int_equal(listed(f, "kept"), 1);
}

static void
a_failing_row_fails_the_commit(void **state)
{
	struct fx *f = *state;
	struct task_spec sp[2] = { fx_spec("q", "x"), fx_spec("q", "y") };
	struct task_event ev = { .at_ms = T0, .kind = "note", .attempt = 0 };
	uint64_t ids[2];
	bool created[2];

	fx_begin(f);
	assert_int_equal(
	    lifecycle_enqueue(f->s, sp, 2, T0, ids, created, f->msg),
	    CAIRN_OK);
	/* Event 1 of each task exists already ("enqueued"): the gathered
	 * statement fails on its primary key. */
	assert_int_equal(store_add_event(f->s, ids[0], 1, &ev), CAIRN_OK);
	assert_int_equal(store_add_event(f->s, ids[1], 1, &ev), CAIRN_OK);
	assert_int_not_equal(store_commit(f->s), CAIRN_OK);
	store_rollback(f->s);
	assert_int_equal(listed(f, "q"), 0);
	/* The store goes on. */
	fx_enqueue(f, "q", T0);
	assert_int_equal(listed(f, "q"), 1);
}

static void
large_rows_then_small_ones(void **state)
{
	struct fx *f = *state;
	enum { BIG = 300 * 1024 };
	uint8_t *big = malloc(BIG);
	struct task_spec sp[3];
	uint64_t ids[3];
	bool created[3];

	assert_non_null(big);
	for (size_t k = 0; k < BIG; k++) {
		big[k] = (uint8_t) (k % 251);
	}
	/* Three payloads of 300 KiB gathered in one statement, then a
	 * request of small ones on the buffers that are left. */
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 3; i++) {
			sp[i] = fx_spec("q", "x");
			if (round == 0) {
				sp[i].payload = big;
				sp[i].payload_len = BIG - (size_t) i;
			}
		}
		fx_begin(f);
		assert_int_equal(
		    lifecycle_enqueue(f->s, sp, 3, T0, ids, created, f->msg),
		    CAIRN_OK);
		assert_int_equal(store_flush(f->s), CAIRN_OK);
		fx_commit(f);
		for (int i = 0; i < 3; i++) {
			struct task *t = fx_get(f, ids[i]);
			size_t want = round == 0 ? BIG - (size_t) i : 1;
			assert_int_equal(t->payload_len, want);
			assert_memory_equal(t->payload,
			    round == 0 ? big : (uint8_t *) "x", want);
			task_free(t);
		}
	}
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    enqueue_of_many_is_one_statement_per_kind, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(
		    lease_and_complete_of_many_write_every_field, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(
		    a_row_saved_twice_keeps_the_last_save, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(
		    rollback_forgets_what_was_gathered, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    a_failing_row_fails_the_commit, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    large_rows_then_small_ones, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    activity_tasks_know_their_run, fx_setup, fx_teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
