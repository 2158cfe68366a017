/*
 * pg_store_test.c - what only the PostgreSQL backend has: servers that
 * start at once on an empty database, two stores leasing from one queue
 * (tasks, and runs, expired leases and timers of workflows), bytea round
 * trips, the cairn.enqueue() SQL function, notifications, and a connection
 * that is lost and comes back. CAIRN_TEST_STORE must name a
 * PostgreSQL database (scripts/pg-test-cluster.sh exec DIR sets it); each
 * test gets a fresh schema from the storage contract's fixture.
 */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "store_fixture.h"
#include "store/postgres/postgres.h"

static const char *
uri(void)
{
	const char *u = getenv("CAIRN_TEST_STORE");

	if (u == NULL || strncmp(u, "postgres", 8) != 0) {
		fail_msg("CAIRN_TEST_STORE must be a postgres:// URI");
	}
	return (u);
}

static struct store *
open_schema(const char *schema)
{
	struct store_options o = { .sync = STORE_SYNC_FULL, .schema = schema };
	struct store *s = NULL;
	char err[256];

	if (store_open(uri(), &o, &s, err, sizeof(err)) != CAIRN_OK) {
		fail_msg("store_open: %s", err);
	}
	return (s);
}

/* side opens a plain connection whose search_path is schema. */
static PGconn *
side(const char *schema)
{
	PGconn *c = PQconnectdb(uri());
	char sql[128];

	assert_int_equal(PQstatus(c), CONNECTION_OK);
	snprintf(sql, sizeof(sql), "SET search_path TO \"%s\"", schema);
	PQclear(PQexec(c, sql));
	return (c);
}

/* sql1 runs sql on c and returns the first value as text (static). */
static const char *
sql1(PGconn *c, const char *sql)
{
	static char buf[512];
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_TUPLES_OK
	    && PQresultStatus(r) != PGRES_COMMAND_OK) {
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	}
	snprintf(buf, sizeof(buf), "%s",
	    PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
	return (buf);
}

struct opener {
	const char *schema;
	int status;
	pthread_t th;
};

static void *
open_close(void *arg)
{
	struct opener *o = arg;
	struct store_options so = { .schema = o->schema };
	struct store *s = NULL;
	char err[256];

	o->status = store_open(uri(), &so, &s, err, sizeof(err));
	store_close(s);
	return (NULL);
}

/* Servers that start at once on an empty schema: one migrates, the others
 * wait on the advisory lock and find it done. */
static void
concurrent_open_migrates_once(void **state)
{
	struct fx *f = *state;
	struct opener o[4];
	char schema[80];

	snprintf(schema, sizeof(schema), "%s_race", f->schema);
	for (int i = 0; i < 4; i++) {
		o[i].schema = schema;
		pthread_create(&o[i].th, NULL, open_close, &o[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(o[i].th, NULL);
		assert_int_equal(o[i].status, CAIRN_OK);
	}
	PGconn *c = side(schema);
	char want[16];
	snprintf(want, sizeof(want), "1:%d", PG_SCHEMA_VERSION);
	assert_string_equal(sql1(c,
	                        "SELECT count(*) || ':' || max(version) "
	                        "FROM schema_version"),
	    want);
	PQfinish(c);
}

/* A database of the version before workflows, with tasks in it, is
 * brought to the current one by the next server that opens it: its
 * tasks are kept and belong to no run, and its queues have no settings
 * until they are given some. */
static void
schema_2_migrates_to_workflows(void **state)
{
	struct fx *f = *state;
	uint64_t id = fx_enqueue(f, "old", T0);
	PGconn *c = side(f->schema);
	struct task_row row;

	store_close(f->s);
	/* Back to version 2: what migrations 2 -> 3, 3 -> 4 and 4 -> 5
	 * made, undone. */
	sql1(c,
	    "DROP TABLE schedules; "
	    "DROP TRIGGER tasks_freed ON tasks; DROP TABLE queues; DROP "
	    "FUNCTION notify_queue(), notify_freed(); "
	    "DROP TABLE wf_runs, wf_entries, wf_inbox; DROP FUNCTION "
	    "notify_runnable(), notify_finished(); ALTER TABLE tasks DROP "
	    "COLUMN wf_run, DROP COLUMN wf_seq; UPDATE schema_version SET "
	    "version = 2");
	f->s = open_schema(f->schema);
	char want[16];
	snprintf(want, sizeof(want), "%d", PG_SCHEMA_VERSION);
	assert_string_equal(
	    sql1(c, "SELECT version FROM schema_version"), want);
	PQfinish(c);
	fx_begin(f);
	assert_int_equal(store_load(f->s, id, &row), CAIRN_OK);
	assert_int_equal(row.wf_run, 0);
	task_row_clear(&row);
	fx_commit(f);
	uint64_t run = fx_wf_start(f, "t", "wf", T0);
	assert_true(run != 0);
	struct queue_settings q = { .queue = "old", .max_active = 1 }, got;
	fx_begin(f);
	assert_int_equal(
	    store_queue_get(f->s, "old", false, &got), CAIRN_NOT_FOUND);
	assert_int_equal(store_queue_put(f->s, &q), CAIRN_OK);
	assert_int_equal(store_queue_get(f->s, "old", true, &got), CAIRN_OK);
	fx_commit(f);
}

/* Two servers picking from one queue never see the same row. */
static void
skip_locked_between_stores(void **state)
{
	struct fx *f = *state;
	struct store *b = open_schema(f->schema);
	uint64_t ia[10], ib[10];
	size_t na, nb;

	for (int i = 0; i < 10; i++) {
		fx_enqueue(f, "q", T0);
	}
	fx_begin(f);
	assert_int_equal(store_pick_due(f->s, "q", T0, 6, ia, &na), CAIRN_OK);
	assert_int_equal(na, 6);
	assert_int_equal(store_begin(b), CAIRN_OK);
	assert_int_equal(store_pick_due(b, "q", T0, 10, ib, &nb), CAIRN_OK);
	assert_int_equal(nb, 4);
	for (size_t i = 0; i < na; i++) {
		for (size_t j = 0; j < nb; j++) {
			assert_true(ia[i] != ib[j]);
		}
	}
	assert_int_equal(store_commit(b), CAIRN_OK);
	fx_commit(f);
	store_close(b);
}

/* A timer of 0 ms in each of n runs of queue "wf": their timers are due
 * at once. */
static void
runs_with_due_timers(struct fx *f, int n, uint64_t *runs)
{
	struct wf_command timer = { .kind = WF_TIMER, .duration_ms = 0 };
	char token[TASK_TOKEN_LEN + 1];

	for (int i = 0; i < n; i++) {
		runs[i] = fx_wf_start(f, "t", "wf", T0);
		assert_int_equal(fx_wf_lease(f, "wf", T0, token), runs[i]);
		fx_wf_advance(f, runs[i], token, 1, &timer, 1, 0, T0);
	}
}

/* Two servers never take one runnable run, one expired lease or one
 * fired timer while either holds it; each takes what the other left. */
static void
skip_locked_runs_and_timers_between_stores(void **state)
{
	struct fx *f = *state;
	struct store *b = open_schema(f->schema);
	char token[TASK_TOKEN_LEN + 1];
	uint64_t r[2], ia[4], ib[4];
	struct wf_ref fa[4], fb[4];
	size_t na, nb;

	r[0] = fx_wf_start(f, "t", "wf", T0);
	r[1] = fx_wf_start(f, "t", "wf", T0 + 1);
	fx_begin(f);
	assert_int_equal(store_wf_pick_ready(f->s, "wf", T0, 1, ia, &na), 0);
	assert_int_equal(na, 1);
	assert_int_equal(ia[0], r[0]);
	assert_int_equal(store_begin(b), CAIRN_OK);
	assert_int_equal(store_wf_pick_ready(b, "wf", T0 + 1, 4, ib, &nb), 0);
	assert_int_equal(nb, 1);
	assert_int_equal(ib[0], r[1]);
	assert_int_equal(store_commit(b), CAIRN_OK);
	fx_commit(f);

	/* Both leased, both expired. */
	assert_int_equal(fx_wf_lease(f, "wf", T0 + 2, token), r[0]);
	assert_int_equal(fx_wf_lease(f, "wf", T0 + 2, token), r[1]);
	fx_begin(f);
	assert_int_equal(
	    store_wf_pick_expired(f->s, T0 + 40000, 1, ia, &na), CAIRN_OK);
	assert_int_equal(na, 1);
	assert_int_equal(store_begin(b), CAIRN_OK);
	assert_int_equal(
	    store_wf_pick_expired(b, T0 + 40000, 4, ib, &nb), CAIRN_OK);
	assert_int_equal(nb, 1);
	assert_true(ia[0] != ib[0]);
	assert_int_equal(store_commit(b), CAIRN_OK);
	fx_commit(f);

	/* Two runs with a timer due each. */
	runs_with_due_timers(f, 2, r);
	fx_begin(f);
	assert_int_equal(store_wf_pick_fired(f->s, T0, 1, fa, &na), CAIRN_OK);
	assert_int_equal(na, 1);
	assert_int_equal(store_begin(b), CAIRN_OK);
	assert_int_equal(store_wf_pick_fired(b, T0, 4, fb, &nb), CAIRN_OK);
	assert_int_equal(nb, 1);
	assert_true(fa[0].run_id != fb[0].run_id);
	assert_int_equal(fb[0].seq, 1);
	/* Asked again, b gets its own timer (its own lock), never a's. */
	assert_int_equal(store_wf_pick_fired(b, T0, 4, fb, &nb), CAIRN_OK);
	assert_int_equal(nb, 1);
	assert_true(fa[0].run_id != fb[0].run_id);
	assert_int_equal(store_commit(b), CAIRN_OK);
	fx_commit(f);
	store_close(b);
}

struct wf_leaser {
	const char *schema;
	uint64_t ids[200];
	size_t n;
	int status; /* cmocka asserts only on the main thread */
	pthread_t th;
};

/* lease_runs leases runs of "race" until three leases in a row find
 * none, and ends each turn at once, as a worker that finished. */
static void *
lease_runs(void *arg)
{
	struct wf_leaser *l = arg;
	struct store_options so = { .schema = l->schema };
	struct store *s = NULL;
	char err[256], msg[LC_MSG_MAX];
	const char *queues[] = { "race" };
	struct wf_lease_request req
	    = { .queues = queues, .nqueues = 1, .worker_id = "w" };

	if ((l->status = store_open(uri(), &so, &s, err, sizeof(err))) != 0) {
		return (NULL);
	}
	for (int idle = 0; idle < 3 && l->status == CAIRN_OK;) {
		struct wf_leased got;
		struct wf_advanced out;
		if ((l->status = store_begin(s)) != CAIRN_OK
		    || (l->status
		           = lifecycle_wf_lease(s, &req, NULL, T0, &got, msg))
		        != CAIRN_OK) {
			store_rollback(s);
			break;
		}
		if (got.run.id != 0) {
			struct wf_advance a = { .run_id = got.run.id,
				.token = got.run.lease_token,
				.expected_seq = 1,
				.finish = WF_SUCCEEDED };
			l->status
			    = lifecycle_wf_advance(s, &a, NULL, T0, &out, msg);
			wf_advanced_clear(&out);
		}
		if (l->status != CAIRN_OK
		    || (l->status = store_commit(s)) != CAIRN_OK) {
			store_rollback(s);
			wf_leased_clear(&got);
			break;
		}
		if (got.run.id != 0 && l->n < 200) {
			l->ids[l->n++] = got.run.id;
		}
		idle = got.run.id == 0 ? idle + 1 : 0;
		wf_leased_clear(&got);
	}
	store_close(s);
	return (NULL);
}

/* Two servers leasing and finishing the runs of one queue as fast as
 * they can take every run once. */
static void
concurrent_run_leases_take_each_run_once(void **state)
{
	struct fx *f = *state;
	static struct wf_leaser l[2];
	static uint8_t seen[100];
	uint64_t first = 0;

	for (int i = 0; i < 100; i++) {
		uint64_t id = fx_wf_start(f, "t", "race", T0);
		first = first == 0 ? id : first;
	}
	memset(seen, 0, sizeof(seen));
	for (int i = 0; i < 2; i++) {
		l[i].schema = f->schema;
		l[i].n = 0;
		pthread_create(&l[i].th, NULL, lease_runs, &l[i]);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(l[i].th, NULL);
		assert_int_equal(l[i].status, CAIRN_OK);
		for (size_t j = 0; j < l[i].n; j++) {
			uint64_t k = l[i].ids[j] - first;
			assert_true(k < 100);
			assert_int_equal(seen[k], 0);
			seen[k] = 1;
		}
	}
	assert_int_equal(l[0].n + l[1].n, 100);
}

struct racer {
	struct store *s;
	uint64_t run, task;
	const char *token;
	bool cancel; /* else complete */
	int status;  /* cmocka asserts only on the main thread */
	char msg[LC_MSG_MAX];
	pthread_t th;
};

/* race_one completes the task or cancels the run in the transaction that
 * the main thread opened, and commits. */
static void *
race_one(void *arg)
{
	struct racer *r = arg;
	int st;

	r->status = r->cancel
	    ? lifecycle_wf_cancel(r->s, r->run, NULL, T0 + 3, &st, r->msg)
	    : lifecycle_complete(r->s, r->task, r->token,
	        (const uint8_t *) "ok", 2, T0 + 3, r->msg);
	if (r->status == CAIRN_OK) {
		r->status = store_commit(r->s);
	}
	if (r->status != CAIRN_OK) {
		store_rollback(r->s);
	}
	return (NULL);
}

/*
 * A task's completion locks the task, then its run (to resolve the
 * entry); a run's cancel locks the run, then its activities' tasks. On
 * two servers at once the two wait for each other: PostgreSQL finds the
 * deadlock (deadlock_timeout, 1 s by default, well before the backend's
 * lock_timeout of 5 s) and aborts one, which fails with ABORTED and
 * changed nothing; the other commits, and the aborted one, tried again,
 * succeeds. Never both lost, never a wait until the lock timeout.
 */
static void
completion_and_cancel_of_one_run_on_two_stores(void **state)
{
	struct fx *f = *state;
	struct store *b = open_schema(f->schema);
	char token[TASK_TOKEN_LEN + 1];
	struct wf_command act
	    = { .kind = WF_ACTIVITY, .activity = { .queue = "work" } };
	struct racer r[2];
	struct task_row row;
	struct wf_run run;

	uint64_t id = fx_wf_start(f, "t", "wf", T0);
	assert_int_equal(fx_wf_lease(f, "wf", T0, token), id);
	fx_wf_advance(f, id, token, 1, &act, 1, 0, T0);
	struct task *t = fx_lease_one(f, "work", T0 + 1);
	memset(r, 0, sizeof(r));
	for (int i = 0; i < 2; i++) {
		r[i].run = id;
		r[i].task = t->id;
		r[i].token = t->lease_token;
		r[i].cancel = i == 1;
		r[i].s = i == 0 ? f->s : b;
	}
	/* Each holds the row the other will want. */
	fx_begin(f);
	assert_int_equal(store_load(f->s, t->id, &row), CAIRN_OK);
	task_row_clear(&row);
	assert_int_equal(store_begin(b), CAIRN_OK);
	assert_int_equal(store_wf_load(b, id, &run), CAIRN_OK);
	wf_run_clear(&run);
	for (int i = 0; i < 2; i++) {
		pthread_create(&r[i].th, NULL, race_one, &r[i]);
	}
	int ok = 0;
	for (int i = 0; i < 2; i++) {
		pthread_join(r[i].th, NULL);
	}
	for (int i = 0; i < 2; i++) {
		if (r[i].status == CAIRN_OK) {
			ok++;
			continue;
		}
		assert_int_equal(r[i].status, CAIRN_ABORTED);
		assert_non_null(strstr(r[i].msg, "40P01"));
		/* Again, alone: it goes through. */
		r[i].s = f->s;
		fx_begin(f);
		race_one(&r[i]);
		assert_int_equal(r[i].status, CAIRN_OK);
	}
	assert_true(ok >= 1);
	store_close(b);
	assert_int_equal(fx_state_of(f, t->id), CAIRN_SUCCEEDED);
	fx_begin(f);
	assert_int_equal(store_wf_load(f->s, id, &run), CAIRN_OK);
	fx_commit(f);
	assert_true(run.cancel_requested);
	assert_int_equal(run.resolved_count, 1);
	wf_run_clear(&run);
	task_free(t);
}

/* run_locked says whether connection c finds run id locked by someone
 * else (autocommit: its own try holds nothing afterwards). */
static bool
run_locked(PGconn *c, uint64_t id)
{
	char sql[128];
	PGresult *r;
	bool locked;

	snprintf(sql, sizeof(sql),
	    "SELECT id FROM wf_runs WHERE id = %llu FOR UPDATE NOWAIT",
	    (unsigned long long) id);
	r = PQexec(c, sql);
	if (PQresultStatus(r) == PGRES_TUPLES_OK) {
		locked = false;
	} else {
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		/* lock_not_available, nothing else */
		assert_string_equal(state != NULL ? state : "", "55P03");
		locked = true;
	}
	PQclear(r);
	return (locked);
}

/* Prefetch locks, before any op applies, the runs the transaction will
 * change: those its ops name, those of the tasks it loads, and their
 * parents; the others stay free, and reading one takes no lock. */
static void
runs_are_locked_at_prefetch(void **state)
{
	struct fx *f = *state;
	char token[TASK_TOKEN_LEN + 1];
	struct wf_command act
	    = { .kind = WF_ACTIVITY, .activity = { .queue = "work" } };
	struct wf_command child = { .kind = WF_CHILD, .name = "c" };
	PGconn *c = side(f->schema);
	struct wf_run run;

	uint64_t free_run = fx_wf_start(f, "t", "wf", T0);
	uint64_t parent = fx_wf_start(f, "t", "wf", T0 + 1);
	uint64_t with_task = fx_wf_start(f, "t", "wf", T0 + 2);
	assert_int_equal(fx_wf_lease(f, "wf", T0 + 3, token), free_run);
	assert_int_equal(fx_wf_lease(f, "wf", T0 + 3, token), parent);
	fx_wf_advance(f, parent, token, 1, &child, 1, 0, T0 + 3);
	assert_int_equal(fx_wf_lease(f, "wf", T0 + 3, token), with_task);
	fx_wf_advance(f, with_task, token, 1, &act, 1, 0, T0 + 3);
	char sql[128];
	snprintf(sql, sizeof(sql),
	    "SELECT id FROM wf_runs WHERE parent_run = %llu",
	    (unsigned long long) parent);
	uint64_t kid = strtoull(sql1(c, sql), NULL, 10);
	snprintf(sql, sizeof(sql), "SELECT id FROM tasks WHERE wf_run = %llu",
	    (unsigned long long) with_task);
	uint64_t task = strtoull(sql1(c, sql), NULL, 10);
	assert_true(kid != 0 && task != 0);

	/* The ops name the child run (its completion resolves the parent's
	 * entry) and load the activity's task, in an order that is not the
	 * runs' order. */
	struct store_prefetch pf = { .now = T0 + 4,
		.ids = &task,
		.nids = 1,
		.runs = &kid,
		.nruns = 1 };
	fx_begin(f);
	assert_int_equal(store_prefetch(f->s, &pf), CAIRN_OK);
	/* A read that waits for its answer, and so for the prefetch's. */
	assert_int_equal(store_wf_get(f->s, free_run, &run), CAIRN_OK);
	wf_run_clear(&run);
	assert_true(run_locked(c, kid));
	assert_true(run_locked(c, parent));
	assert_true(run_locked(c, with_task));
	assert_false(run_locked(c, free_run));
	fx_commit(f);
	assert_false(run_locked(c, kid));
	PQfinish(c);
}

/* store_open on the test database, with a lock_timeout that turns a wait
 * for a lock into an error instead of a hang. */
static struct store *
open_impatient(const char *schema)
{
	struct store_options o = { .sync = STORE_SYNC_FULL, .schema = schema };
	struct store *s = NULL;
	char u[1024], err[256];

	snprintf(u, sizeof(u), "%s%soptions=-c%%20lock_timeout%%3D2000", uri(),
	    strchr(uri(), '?') != NULL ? "&" : "?");
	if (store_open(u, &o, &s, err, sizeof(err)) != CAIRN_OK) {
		fail_msg("store_open: %s", err);
	}
	return (s);
}

/* Get, Await and History read a run that another server holds (in the
 * middle of a turn's transaction) without waiting for it. */
static void
inspecting_a_held_run_does_not_wait(void **state)
{
	struct fx *f = *state;
	struct store *b = open_impatient(f->schema);
	struct wf_run held, seen;
	uint64_t id, found;
	char msg[LC_MSG_MAX];

	id = fx_wf_start(f, "t", "wf", T0);
	fx_begin(f);
	assert_int_equal(store_wf_load(f->s, id, &held), CAIRN_OK);
	assert_int_equal(store_begin(b), CAIRN_OK);
	assert_int_equal(store_wf_get(b, id, &seen), CAIRN_OK);
	assert_int_equal(seen.id, id);
	wf_run_clear(&seen);
	assert_int_equal(
	    lifecycle_wf_find(b, NULL, id, &found, msg), CAIRN_OK);
	assert_int_equal(found, id);
	/* The control: a load does wait for the lock, and gives up. */
	assert_int_not_equal(store_wf_load(b, id, &seen), CAIRN_OK);
	store_rollback(b);
	fx_commit(f);
	wf_run_clear(&held);
	store_close(b);
}

/* Loads after a pick are answered from the picked rows, until a save
 * makes one stale. */
static void
picked_rows_answer_loads(void **state)
{
	struct fx *f = *state;
	uint64_t id = fx_enqueue(f, "q", T0), got;
	struct task_row row;
	size_t n;

	fx_begin(f);
	assert_int_equal(store_pick_due(f->s, "q", T0, 1, &got, &n), CAIRN_OK);
	assert_int_equal(n, 1);
	assert_int_equal(got, id);
	assert_int_equal(store_load(f->s, id, &row), CAIRN_OK);
	assert_int_equal(row.t.state, CAIRN_PENDING);
	assert_string_equal(row.t.queue, "q");
	row.t.attempt = 7;
	assert_int_equal(store_save(f->s, &row), CAIRN_OK);
	task_row_clear(&row);
	assert_int_equal(store_load(f->s, id, &row), CAIRN_OK);
	assert_int_equal(row.t.attempt, 7);
	task_row_clear(&row);
	fx_commit(f);
}

struct leaser {
	const char *schema;
	uint64_t ids[400];
	size_t n;
	int status; /* cmocka asserts only on the main thread */
	pthread_t th;
};

static void *
lease_all(void *arg)
{
	struct leaser *l = arg;
	struct store_options so = { .schema = l->schema };
	struct store *s = NULL;
	char err[256];
	const char *queues[] = { "race" };
	struct lease_request req = { .queues = queues,
		.nqueues = 1,
		.max_tasks = 3,
		.worker_id = "w" };
	char msg[LC_MSG_MAX];

	if ((l->status = store_open(uri(), &so, &s, err, sizeof(err))) != 0) {
		return (NULL);
	}
	for (int idle = 0; idle < 3 && l->status == CAIRN_OK;) {
		struct task **t = NULL;
		size_t n = 0;
		if ((l->status = store_begin(s)) != CAIRN_OK
		    || (l->status = lifecycle_lease(s, &req, T0, &t, &n, msg))
		        != CAIRN_OK
		    || (l->status = store_commit(s)) != CAIRN_OK) {
			store_rollback(s);
			break;
		}
		for (size_t i = 0; i < n && l->n < 400; i++) {
			l->ids[l->n++] = t[i]->id;
		}
		task_array_free(t, n);
		idle = n == 0 ? idle + 1 : 0;
	}
	store_close(s);
	return (NULL);
}

/* Two servers leasing one queue as fast as they can take every task
 * once. */
static void
concurrent_leases_take_each_task_once(void **state)
{
	struct fx *f = *state;
	static struct leaser l[2];
	static uint8_t seen[400];
	uint64_t first = 0;

	for (int i = 0; i < 300; i++) {
		uint64_t id = fx_enqueue(f, "race", T0);
		first = first == 0 ? id : first;
	}
	memset(seen, 0, sizeof(seen));
	for (int i = 0; i < 2; i++) {
		l[i].schema = f->schema;
		l[i].n = 0;
		pthread_create(&l[i].th, NULL, lease_all, &l[i]);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(l[i].th, NULL);
		assert_int_equal(l[i].status, CAIRN_OK);
		for (size_t j = 0; j < l[i].n; j++) {
			uint64_t k = l[i].ids[j] - first;
			assert_true(k < 300);
			assert_int_equal(seen[k], 0);
			seen[k] = 1;
		}
	}
	assert_int_equal(l[0].n + l[1].n, 300);
}

/* Payloads and results are arbitrary bytes; an empty result of a task
 * that succeeded is stored empty, not NULL. */
static void
bytea_round_trip(void **state)
{
	struct fx *f = *state;
	static uint8_t bytes[1024];
	struct task_spec sp = fx_spec("bin", NULL);
	bool created;

	for (size_t i = 0; i < sizeof(bytes); i++) {
		bytes[i] = (uint8_t) (i * 7);
	}
	sp.payload = bytes;
	sp.payload_len = sizeof(bytes);
	uint64_t id = fx_enqueue_spec(f, sp, T0, &created);
	struct task *t = fx_get(f, id);
	assert_int_equal(t->payload_len, sizeof(bytes));
	assert_memory_equal(t->payload, bytes, sizeof(bytes));
	task_free(t);

	struct task *l = fx_lease_one(f, "bin", T0);
	assert_int_equal(
	    fx_complete(f, l->id, l->lease_token, NULL, T0 + 1), CAIRN_OK);
	task_free(l);
	PGconn *c = side(f->schema);
	char sql[128];
	snprintf(sql, sizeof(sql),
	    "SELECT length(result) FROM tasks WHERE id = %llu",
	    (unsigned long long) id);
	assert_string_equal(sql1(c, sql), "0");
	PQfinish(c);
}

/* The columns that must match between a server insert and enqueue(). */
#define SAME_COLUMNS                                                          \
	"queue, payload, priority, state, attempt, max_attempts, "            \
	"backoff_initial, backoff_multiplier, backoff_max, "                  \
	"heartbeat_timeout, start_to_close, idempotency_key, details, "       \
	"result, last_error, cancel_requested, worker_id, lease_token, "      \
	"lease_deadline, finished_at, lease_timeout, attempt_deadline, "      \
	"lease_outcome, event_seq, run_at - created_at, "                     \
	"updated_at - created_at"

static const char *
row_of(PGconn *c, const char *id)
{
	static char out[1024];
	char sql[700];

	snprintf(sql, sizeof(sql),
	    "SELECT ROW(" SAME_COLUMNS ")::text || ' ' || (SELECT "
	    "string_agg(seq || kind || attempt || coalesce(worker_id, '-') || "
	    "coalesce(message, '-') || (at - t.created_at), ',') FROM events "
	    "WHERE task_id = t.id) FROM tasks t WHERE id = %s",
	    id);
	snprintf(out, sizeof(out), "%s", sql1(c, sql));
	return (out);
}

/* enqueue() in SQL makes exactly the row and history of Enqueue. */
static void
sql_enqueue_matches_the_server(void **state)
{
	struct fx *f = *state;
	PGconn *c = side(f->schema);
	char mine[1024], id[32], sql[200];

	uint64_t sid = fx_enqueue(f, "mail", T0);
	snprintf(id, sizeof(id), "%llu", (unsigned long long) sid);
	snprintf(mine, sizeof(mine), "%s", row_of(c, id));
	/* fx_enqueue's payload is "p". */
	snprintf(id, sizeof(id), "%s",
	    sql1(c, "SELECT enqueue('mail', 'p'::bytea)"));
	assert_string_equal(row_of(c, id), mine);

	/* A key: the second call answers with the first task. */
	snprintf(id, sizeof(id), "%s",
	    sql1(c,
	        "SELECT enqueue('mail', '\\x00ff', idempotency_key => "
	        "'k1', priority => 5, delay => '5 s')"));
	assert_string_equal(sql1(c,
	                        "SELECT enqueue('mail', '', "
	                        "idempotency_key => 'k1')"),
	    id);
	snprintf(sql, sizeof(sql),
	    "SELECT priority || ' ' || (run_at - created_at) || ' ' || "
	    "encode(payload, 'hex') FROM tasks WHERE id = %s",
	    id);
	assert_string_equal(sql1(c, sql), "5 5000 00ff");
	/* and the server's Enqueue with the same key finds it too. */
	struct task_spec sp = fx_spec("mail", "x");
	bool created;
	sp.idempotency_key = "k1";
	assert_int_equal(
	    fx_enqueue_spec(f, sp, T0, &created), strtoull(id, NULL, 10));
	assert_false(created);

	/* The queue's defaults, as the server's Enqueue takes them; a value
	 * of the caller's wins. */
	struct queue_settings qd = { .queue = "qd",
		.max_attempts = 4,
		.heartbeat_timeout_ms = 7000,
		.retry = { 300, 3, 0 } };
	fx_begin(f);
	assert_int_equal(store_queue_put(f->s, &qd), CAIRN_OK);
	fx_commit(f);
	snprintf(sql, sizeof(sql),
	    "SELECT max_attempts || ' ' || heartbeat_timeout || ' ' || "
	    "backoff_initial || ' ' || backoff_multiplier || ' ' || "
	    "backoff_max FROM tasks WHERE id = %s",
	    sql1(c, "SELECT enqueue('qd', 'x')"));
	assert_string_equal(sql1(c, sql), "4 7000 300 3 3600000");
	snprintf(sql, sizeof(sql),
	    "SELECT max_attempts || ' ' || heartbeat_timeout FROM tasks "
	    "WHERE id = %s",
	    sql1(c,
	        "SELECT enqueue('qd', 'x', max_attempts => 9, "
	        "heartbeat_timeout => '2 s')"));
	assert_string_equal(sql1(c, sql), "9 2000");

	/* What the server's validation refuses, enqueue() refuses. */
	PGresult *r = PQexec(c, "SELECT enqueue('bad queue!', '')");
	assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
	assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "22023");
	PQclear(r);
	r = PQexec(c, "SELECT enqueue('q', '', delay => '-1 s')");
	assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
	PQclear(r);
	PQfinish(c);
}

/* wait_notify waits up to 2 s for a notification on c. */
static PGnotify *
wait_notify(PGconn *c)
{
	struct pollfd p = { .fd = PQsocket(c), .events = POLLIN };
	PGnotify *n;

	for (int i = 0; i < 20; i++) {
		PQconsumeInput(c);
		if ((n = PQnotifies(c)) != NULL) {
			return (n);
		}
		poll(&p, 1, 100);
	}
	return (NULL);
}

/* A commit that makes a task PENDING notifies cairn_due with its queue,
 * from the committing connection: the LISTEN thread can skip its own. */
static void
commit_notifies_the_queue(void **state)
{
	struct fx *f = *state;
	PGconn *l = side(f->schema), *app = side(f->schema);
	PGnotify *n;

	sql1(l, "LISTEN cairn_due");
	fx_enqueue(f, "wake.me", T0);
	assert_non_null(n = wait_notify(l));
	assert_string_equal(n->extra, "wake.me");
	assert_int_equal(n->be_pid, store_postgres_backend_pid(f->s));
	PQfreemem(n);

	/* Inside an application's transaction: only at its commit. */
	sql1(app, "BEGIN");
	sql1(app, "SELECT enqueue('app', 'x')");
	PQconsumeInput(l);
	assert_null(PQnotifies(l));
	sql1(app, "COMMIT");
	assert_non_null(n = wait_notify(l));
	assert_string_equal(n->extra, "app");
	assert_int_equal(n->be_pid, PQbackendPID(app));
	PQfreemem(n);
	PQfinish(app);
	PQfinish(l);
}

/* A run that becomes runnable notifies cairn_due with '@' and its queue,
 * a run that ends with '!'; a lease sends nothing. */
static void
workflow_commits_notify(void **state)
{
	struct fx *f = *state;
	PGconn *l = side(f->schema);
	char token[TASK_TOKEN_LEN + 1];
	size_t n;
	PGnotify *m;

	sql1(l, "LISTEN cairn_due");
	uint64_t run = fx_wf_start(f, "t", "flows", T0);
	assert_non_null(m = wait_notify(l));
	assert_string_equal(m->extra, "@flows");
	assert_int_equal(m->be_pid, store_postgres_backend_pid(f->s));
	PQfreemem(m);
	assert_int_equal(fx_wf_lease(f, "flows", T0, token), run);
	PQconsumeInput(l);
	assert_null(PQnotifies(l));
	/* Its lease expires: runnable again. */
	fx_begin(f);
	assert_int_equal(
	    lifecycle_wf_expire(f->s, T0 + 30000, 10, &n, f->msg), CAIRN_OK);
	fx_commit(f);
	assert_int_equal(n, 1);
	assert_non_null(m = wait_notify(l));
	assert_string_equal(m->extra, "@flows");
	PQfreemem(m);
	assert_int_equal(fx_wf_lease(f, "flows", T0 + 30001, token), run);
	fx_wf_advance(f, run, token, 1, NULL, 0, WF_SUCCEEDED, T0 + 30002);
	assert_non_null(m = wait_notify(l));
	assert_string_equal(m->extra, "!");
	PQfreemem(m);
	PQconsumeInput(l);
	assert_null(PQnotifies(l));
	PQfinish(l);
}

static void
terminate(const char *schema, int pid)
{
	PGconn *c = side(schema);
	char sql[80];

	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d)", pid);
	assert_string_equal(sql1(c, sql), "t");
	PQfinish(c);
	usleep(100 * 1000);
}

/* A connection lost inside a transaction fails the call with UNAVAILABLE;
 * the next begin reconnects by itself. Lost between transactions, begin
 * reconnects at once. */
static void
lost_connection_is_unavailable_then_back(void **state)
{
	struct fx *f = *state;
	uint64_t id = fx_enqueue(f, "q", T0);
	struct task *t = NULL;

	fx_begin(f);
	terminate(f->schema, store_postgres_backend_pid(f->s));
	assert_int_equal(store_get(f->s, id, &t), CAIRN_UNAVAILABLE);
	assert_non_null(strstr(store_errmsg(f->s), "connection lost"));
	assert_int_equal(store_get(f->s, id, &t), CAIRN_UNAVAILABLE);
	assert_int_equal(store_commit(f->s), CAIRN_UNAVAILABLE);
	assert_int_equal(store_rollback(f->s), CAIRN_OK);
	assert_int_equal(store_postgres_backend_pid(f->s), 0);

	t = fx_get(f, id); /* begin reconnected */
	assert_int_equal(t->id, id);
	task_free(t);

	terminate(f->schema, store_postgres_backend_pid(f->s));
	t = fx_get(f, id);
	assert_int_equal(t->id, id);
	task_free(t);
}

/* The ids of a block taken before a lost connection are not used after
 * it: here the sequence goes back as a crash that lost its advance would
 * leave it, and another writer inserts the next id; a keyed insert must
 * still make its task, not meet that id. */
static void
ids_taken_before_a_lost_connection_are_not_used(void **state)
{
	struct fx *f = *state;
	struct task_spec sp = fx_spec("q", "k");
	PGconn *c = side(f->schema);
	char sql[160];
	bool created = false;

	uint64_t first = fx_enqueue(f, "q", T0);
	snprintf(sql, sizeof(sql),
	    "SELECT setval(pg_get_serial_sequence('tasks', 'id'), %llu)",
	    (unsigned long long) first);
	sql1(c, sql);
	terminate(f->schema, store_postgres_backend_pid(f->s));
	uint64_t other
	    = strtoull(sql1(c, "SELECT enqueue('q', 'o'::bytea)"), NULL, 10);
	assert_int_equal(other, first + 1);
	sp.idempotency_key = "k";
	uint64_t id = fx_enqueue_spec(f, sp, T0 + 1, &created);
	assert_true(created);
	assert_true(id != other);
	PQfinish(c);
}

/* A transaction in which a statement failed never commits. */
static void
failed_statement_never_commits(void **state)
{
	struct fx *f = *state;
	struct task_spec sp = fx_spec("q", "x");
	uint64_t id;
	bool created;

	sp.queue = "bad\xff"; /* not UTF-8: PostgreSQL refuses the text */
	fx_begin(f);
	/* Without a key the insert is pipelined: the failure may show only
	 * at commit. */
	store_insert(f->s, &sp, T0, &id, &created);
	assert_int_not_equal(store_commit(f->s), CAIRN_OK);
	assert_int_equal(store_rollback(f->s), CAIRN_OK);
	sp.idempotency_key = "k";
	fx_begin(f);
	assert_int_not_equal(
	    store_insert(f->s, &sp, T0, &id, &created), CAIRN_OK);
	assert_int_not_equal(store_commit(f->s), CAIRN_OK);
	assert_int_equal(store_rollback(f->s), CAIRN_OK);
	id = fx_enqueue(f, "q", T0); /* and the store works on */

	/* A pipelined write that fails is reported by the next call that
	 * waits for an answer, and the transaction does not commit. */
	struct task_event ev = { .at_ms = T0, .kind = "x", .message = "\xff" };
	struct task *t = NULL;
	fx_begin(f);
	assert_int_equal(store_add_event(f->s, id, 2, &ev), CAIRN_OK);
	assert_int_equal(store_get(f->s, id, &t), CAIRN_INTERNAL);
	assert_non_null(strstr(store_errmsg(f->s), "add event"));
	assert_int_equal(store_rollback(f->s), CAIRN_OK);
	fx_begin(f);
	assert_int_equal(store_add_event(f->s, id, 2, &ev), CAIRN_OK);
	assert_int_not_equal(store_commit(f->s), CAIRN_OK);
	assert_int_equal(store_rollback(f->s), CAIRN_OK);
	struct task_event *h = NULL;
	size_t n = 0;
	fx_begin(f);
	assert_int_equal(store_history(f->s, id, &h, &n), CAIRN_OK);
	fx_commit(f);
	assert_int_equal(n, 1);
	task_events_free(h, n);
}

/* The log of request ids: a key is recorded once, read back as stored,
 * and forgotten after its time. */
static void
request_log(void **state)
{
	struct fx *f = *state;
	uint8_t *res = NULL;
	size_t len = 0, n = 0;
	bool found = true;

	fx_begin(f);
	assert_int_equal(
	    store_request_get(f->s, "r1", &found, &res, &len), CAIRN_OK);
	assert_false(found);
	assert_int_equal(
	    store_request_put(f->s, "r1", T0, (const uint8_t *) "ids 1 2", 7),
	    CAIRN_OK);
	assert_int_equal(
	    store_request_put(f->s, "r2", T0 + 10, (const uint8_t *) "", 0),
	    CAIRN_OK);
	fx_commit(f);

	fx_begin(f);
	assert_int_equal(
	    store_request_get(f->s, "r1", &found, &res, &len), CAIRN_OK);
	assert_true(found);
	assert_int_equal(len, 7);
	assert_string_equal((char *) res, "ids 1 2");
	free(res);
	/* A second record of one key fails, as a concurrent duplicate on
	 * another server would: pipelined, it shows at the next call. */
	assert_int_equal(store_request_put(f->s, "r1", T0, NULL, 0), CAIRN_OK);
	assert_int_equal(store_commit(f->s), CAIRN_ABORTED);
	assert_int_equal(store_rollback(f->s), CAIRN_OK);

	fx_begin(f);
	/* Pipelined, the delete reports no count: what is left shows it. */
	assert_int_equal(store_request_prune(f->s, T0 + 5, 100, &n), CAIRN_OK);
	assert_int_equal(
	    store_request_get(f->s, "r1", &found, &res, &len), CAIRN_OK);
	assert_false(found);
	assert_int_equal(
	    store_request_get(f->s, "r2", &found, &res, &len), CAIRN_OK);
	assert_true(found);
	assert_int_equal(len, 0);
	free(res);
	fx_commit(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    concurrent_open_migrates_once, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    schema_2_migrates_to_workflows, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    skip_locked_between_stores, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    picked_rows_answer_loads, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    runs_are_locked_at_prefetch, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    inspecting_a_held_run_does_not_wait, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(
		    concurrent_leases_take_each_task_once, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(
		    skip_locked_runs_and_timers_between_stores, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(
		    concurrent_run_leases_take_each_run_once, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(
		    completion_and_cancel_of_one_run_on_two_stores, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(
		    bytea_round_trip, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    sql_enqueue_matches_the_server, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    commit_notifies_the_queue, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    workflow_commits_notify, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    lost_connection_is_unavailable_then_back, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(
		    ids_taken_before_a_lost_connection_are_not_used, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(
		    failed_statement_never_commits, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    request_log, fx_setup, fx_teardown),
	};

	uri();
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
