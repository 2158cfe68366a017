/*
 * schedule_test.c - cron schedules end to end on the real cairnd (SQLite,
 * and PostgreSQL when CAIRN_TEST_STORE names it), through libcairn:
 *
 *  - "@every 1s" over about 10 s with a restart enqueues one task per
 *    tick, never two for one tick: on PostgreSQL with two servers, one of
 *    them restarted midway (the other keeps firing, so no tick is lost);
 *    on SQLite with its one server restarted (the ticks missed while it
 *    was down fire once, as the default policy says);
 *  - pause, resume, replace and delete;
 *  - bad cron text, time zones, queue names and options are refused with
 *    INVALID_ARGUMENT and change nothing;
 *  - (SQLite) a database of the schema before schedules is upgraded.
 *
 * Environment (set by ctest): CAIRND.
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
#include <sqlite3.h>

#include "cairn.h"
#include "harness.h"

struct fx {
	struct server a, b; /* b: PostgreSQL only */
	bool two;
	cairn_client *c;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (server_start(&f->a, NULL) != 0) {
		fail_msg("cannot start cairnd");
	}
	f->two = server_start_beside(&f->b, &f->a, NULL) == 0;
	assert_int_equal(
	    cairn_client_open(&f->c, f->a.url, NULL, NULL, 0), CAIRN_OK);
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	cairn_client_close(f->c);
	if (f->two) {
		server_stop(&f->b);
	}
	server_stop(&f->a);
	server_cleanup(&f->a);
	free(f);
	return (0);
}

static cairn_schedule_spec
spec(const char *name, const char *cron, const char *queue)
{
	cairn_schedule_spec s = { .name = name, .cron = cron };

	s.task.queue = queue;
	s.task.payload = "tick";
	s.task.payload_len = 4;
	s.create_queue = true; /* each test's queues are new */
	return (s);
}

static int
by_value(const void *a, const void *b)
{
	long x = *(const long *) a, y = *(const long *) b;

	return ((x > y) - (x < y));
}

/* ticks reads the tasks of queue, checks that each is one tick of
 * schedule name (its key) and that no tick has two, and returns their
 * count; *first and *last are the first and last tick (s). Task ids do
 * not follow the ticks: two servers take ids in blocks of their own. */
static size_t
ticks(cairn_client *c, const char *queue, const char *name, long *first,
    long *last)
{
	cairn_task **ts;
	size_t n;
	uint64_t next;
	char prefix[160];
	long t[1000];

	snprintf(prefix, sizeof(prefix), "schedule:%s:", name);
	assert_int_equal(
	    cairn_list(c, queue, 0, 1000, 0, &ts, &n, &next), CAIRN_OK);
	for (size_t i = 0; i < n; i++) {
		const char *k = ts[i]->idempotency_key;
		assert_true(strncmp(k, prefix, strlen(prefix)) == 0);
		t[i] = strtol(k + strlen(prefix), NULL, 10);
	}
	cairn_tasks_free(ts, n);
	qsort(t, n, sizeof(t[0]), by_value);
	for (size_t i = 1; i < n; i++) {
		if (t[i] == t[i - 1]) {
			fail_msg("two tasks for tick %ld", t[i]);
		}
	}
	*first = n > 0 ? t[0] : 0;
	*last = n > 0 ? t[n - 1] : 0;
	return (n);
}

/* A schedule of one tick a second over about ten seconds, with a
 * restart in the middle. */
static void
every_second_over_a_restart(void **state)
{
	struct fx *f = *state;
	cairn_schedule_spec s = spec("beat", "@every 1s", "beats");
	long first = 0, last = 0;

	/* Start just after a tick, so that ten seconds hold ten ticks. */
	sleep_ms((int) (1100 - now_ms() % 1000));
	int64_t t0 = now_ms();
	assert_int_equal(cairn_schedule_add(f->c, &s, NULL), CAIRN_OK);
	sleep_ms(4500);
	/* The server this client talks to goes down for a moment; with two
	 * servers the other one fires meanwhile. */
	assert_int_equal(server_stop(&f->a), 0);
	sleep_ms(1500);
	assert_int_equal(server_restart(&f->a, NULL), 0);
	int64_t left = 10000 - (now_ms() - t0);
	sleep_ms(left > 0 ? (int) left : 0);
	assert_int_equal(cairn_schedule_delete(f->c, "beat"), CAIRN_OK);
	int64_t t1 = now_ms();

	size_t n = ticks(f->c, "beats", "beat", &first, &last);
	long window = (long) (t1 / 1000 - t0 / 1000);
	print_message("%zu tasks for ticks %ld..%ld over %ld s (%s)\n", n,
	    first, last, window, f->two ? "two servers" : "one server");
	assert_true(first > t0 / 1000 && last <= t1 / 1000);
	if (f->two) {
		/* No tick lost: one task for each second of the window. */
		assert_int_equal(n, (size_t) (last - first + 1));
		assert_true(n >= 9 && n <= 11);
	} else {
		/* The ticks missed while it was down fired once. */
		assert_true(n >= 8 && n <= 11);
		assert_true((long) n >= last - first + 1 - 2);
	}
}

static void
pause_resume_replace_delete(void **state)
{
	struct fx *f = *state;
	cairn_schedule_spec s = spec("p", "@every 1s", "pq");
	cairn_schedule *got;
	long first, last;

	assert_int_equal(cairn_schedule_add(f->c, &s, &got), CAIRN_OK);
	assert_string_equal(got->cron, "@every 1s");
	assert_false(got->paused);
	assert_true(got->next_fire_at_ms > 0);
	cairn_schedule_free(got);
	assert_int_equal(
	    cairn_schedule_add(f->c, &s, NULL), CAIRN_ALREADY_EXISTS);
	sleep_ms(2500);
	assert_int_equal(
	    cairn_schedule_pause(f->c, "p", true, &got), CAIRN_OK);
	assert_true(got->paused);
	cairn_schedule_free(got);
	size_t n = ticks(f->c, "pq", "p", &first, &last);
	assert_true(n >= 1);
	sleep_ms(2500);
	assert_int_equal(ticks(f->c, "pq", "p", &first, &last), n);
	assert_int_equal(cairn_schedule_pause(f->c, "p", false, NULL), 0);
	sleep_ms(2500);
	assert_true(ticks(f->c, "pq", "p", &first, &last) > n);

	/* Replace: another cron and zone, the same name. */
	s.cron = "0 7 * * mon-fri";
	s.time_zone = "Europe/Paris";
	s.replace = true;
	assert_int_equal(cairn_schedule_add(f->c, &s, &got), CAIRN_OK);
	assert_string_equal(got->time_zone, "Europe/Paris");
	assert_true(got->last_task_id > 0); /* kept from before */
	cairn_schedule_free(got);

	cairn_schedule **v;
	assert_int_equal(cairn_schedule_list(f->c, &v, &n), CAIRN_OK);
	assert_int_equal(n, 1);
	assert_string_equal(v[0]->cron, "0 7 * * mon-fri");
	cairn_schedules_free(v, n);
	assert_int_equal(cairn_schedule_delete(f->c, "p"), CAIRN_OK);
	assert_int_equal(cairn_schedule_delete(f->c, "p"), CAIRN_NOT_FOUND);
	assert_int_equal(
	    cairn_schedule_pause(f->c, "p", true, NULL), CAIRN_NOT_FOUND);
}

static void
refused(cairn_client *c, cairn_schedule_spec s, const char *want)
{
	assert_int_equal(
	    cairn_schedule_add(c, &s, NULL), CAIRN_INVALID_ARGUMENT);
	const char *m = cairn_client_errmsg(c);
	if (strstr(m, want) == NULL) {
		fail_msg("message '%s' lacks '%s'", m, want);
	}
}

static void
bad_input_changes_nothing(void **state)
{
	struct fx *f = *state;
	cairn_schedule_spec s;
	cairn_schedule **v;
	size_t n;

	refused(f->c, spec("x", "61 * * * *", "q"), "minute");
	refused(f->c, spec("x", "* * * *", "q"), "5 fields");
	refused(f->c, spec("x", "@every 0s", "q"), "at least 1s");
	refused(f->c, spec("x", "@weekdays", "q"), "unknown");
	refused(f->c, spec("x", "* * * * *", "bad queue"), "task.queue");
	refused(f->c, spec("bad name", "* * * * *", "q"), "name");
	s = spec("x", "* * * * *", "q");
	s.time_zone = "Mars/Olympus_Mons";
	refused(f->c, s, "unknown zone");
	s = spec("x", "* * * * *", "q");
	s.task.heartbeat_timeout_ms = -1;
	refused(f->c, s, "task.heartbeat_timeout_ms");
	s = spec("x", "* * * * *", "q");
	s.task.idempotency_key = "mine";
	refused(f->c, s, "set by each tick");
	/* A queue with no tasks and no settings: a typing error? */
	s = spec("x", "* * * * *", "emials");
	s.create_queue = false;
	refused(f->c, s, "unknown queue 'emials'");
	assert_int_equal(cairn_schedule_list(f->c, &v, &n), CAIRN_OK);
	assert_int_equal(n, 0);
	cairn_schedules_free(v, n);
}

/* A database made before schedules existed (schema version 4) is
 * upgraded when cairnd opens it, tasks and all. */
static void
old_database_is_upgraded(void **state)
{
	struct fx *f = *state;
	cairn_task_spec t
	    = { .queue = "old", .payload = "x", .payload_len = 1 };
	cairn_enqueue_result r;
	char path[256];
	sqlite3 *db;

	assert_false(f->two);
	assert_int_equal(cairn_enqueue(f->c, &t, 1, &r), CAIRN_OK);
	cairn_client_close(f->c);
	f->c = NULL;
	assert_int_equal(server_stop(&f->a), 0);
	snprintf(path, sizeof(path), "%s/cairn.db", f->a.dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db, "DROP TABLE schedules; PRAGMA user_version = 4",
	        NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(server_restart(&f->a, NULL), 0);
	assert_int_equal(
	    cairn_client_open(&f->c, f->a.url, NULL, NULL, 0), CAIRN_OK);
	cairn_schedule_spec s = spec("after", "@daily", "old");
	assert_int_equal(cairn_schedule_add(f->c, &s, NULL), CAIRN_OK);
	cairn_task *got;
	assert_int_equal(cairn_get(f->c, r.id, &got), CAIRN_OK);
	assert_string_equal(got->queue, "old");
	cairn_task_free(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    every_second_over_a_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    pause_resume_replace_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    bad_input_changes_nothing, setup, teardown),
		/* SQLite only: PostgreSQL's upgrades are pg_store_test's. */
		cmocka_unit_test_setup_teardown(
		    old_database_is_upgraded, setup, teardown),
	};
	const char *pg = getenv("CAIRN_TEST_STORE");
	size_t n = sizeof(tests) / sizeof(tests[0]);

	if (pg != NULL && strncmp(pg, "postgres", 8) == 0) {
		n--;
	}
	return (
	    _cmocka_run_group_tests("schedule_test", tests, n, NULL, NULL));
}
