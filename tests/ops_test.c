/*
 * ops_test.c - the operator's side of a real cairnd: /metrics scraped and
 * parsed after real traffic, /healthz, /readyz going 503 while the store
 * cannot answer and back, and an online backup taken under load that
 * passes integrity_check and that a second cairnd starts from.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "cairn.h"
#include "harness.h"
#include "ops_http.h"

struct fx {
	struct server srv;
	int http;
	cairn_client *c;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char addr[64];

	f->http = free_port();
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", f->http);
	const char *extra[] = { "--http", addr, NULL };
	if (server_start(&f->srv, extra) != 0) {
		fail_msg("cannot start cairnd");
	}
	assert_int_equal(
	    cairn_client_open(&f->c, f->srv.url, NULL, NULL, 0), CAIRN_OK);
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	cairn_client_close(f->c);
	server_cleanup(&f->srv);
	free(f);
	return (0);
}

static void
pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static uint64_t
enqueue(cairn_client *c, const char *queue, const char *payload)
{
	cairn_task_spec s = { .queue = queue,
		.payload = payload,
		.payload_len = strlen(payload) };
	cairn_enqueue_result r;

	assert_int_equal(cairn_enqueue(c, &s, 1, &r), CAIRN_OK);
	return (r.id);
}

static double
metric(const char *text, const char *series)
{
	double v = -1;

	if (!prom_value(text, series, &v)) {
		fail_msg("no series %s in /metrics", series);
	}
	return (v);
}

static void
test_metrics(void **state)
{
	struct fx *f = *state;
	const char *q = "metrics";
	cairn_lease_options lo = { .lease_timeout_ms = 100 };
	cairn_task_spec bad = { .queue = "no spaces allowed" };
	cairn_enqueue_result r;
	cairn_task **ts;
	size_t n;
	char *body;

	enqueue(f->c, q, "a");
	enqueue(f->c, q, "b");
	enqueue(f->c, q, "c");
	assert_int_equal(
	    cairn_enqueue(f->c, &bad, 1, &r), CAIRN_INVALID_ARGUMENT);
	/* One lease runs out: an expiry by heartbeat timeout. */
	assert_int_equal(cairn_lease(f->c, &q, 1, &lo, &ts, &n), CAIRN_OK);
	assert_int_equal(n, 1);
	cairn_tasks_free(ts, n);
	cairn_queue_settings qs = { .queue = "metrics",
		.max_active = 7,
		.rate_count = 30,
		.rate_interval_ms = 60000 };
	assert_int_equal(cairn_queue_set(f->c, &qs,
	                     CAIRN_QUEUE_MAX_ACTIVE | CAIRN_QUEUE_RATE, NULL),
	    CAIRN_OK);
	pause_ms(400);
	assert_int_equal(cairn_ping(f->c, NULL, NULL), CAIRN_OK);

	assert_int_equal(http_get(f->http, "/metrics", &body), 200);
	assert_non_null(body);
	const char *badline = prom_check(body);
	if (badline != NULL) {
		fail_msg("malformed exposition: %s", badline);
	}
	assert_true(metric(body,
	                "cairn_requests_total{method=\"Enqueue\",code=\"OK\"}")
	    >= 3);
	assert_true(metric(body,
	                "cairn_requests_total{method=\"Enqueue\","
	                "code=\"INVALID_ARGUMENT\"}")
	    >= 1);
	assert_true(metric(body,
	                "cairn_request_duration_seconds_count{method="
	                "\"Enqueue\"}")
	    >= 4);
	assert_true(metric(body, "cairn_commit_batch_size_count") >= 3);
	assert_true(metric(body, "cairn_commit_duration_seconds_count") >= 3);
	assert_true(
	    metric(body,
	        "cairn_lease_expiries_total{cause=\"heartbeat_timeout\"}")
	    >= 1);
	assert_true(metric(body, "cairn_connections") >= 1);
	assert_true(metric(body, "cairn_store_up") == 1);
	/* The expired task is pending again: 3 pending, none active. */
	assert_true(
	    metric(body, "cairn_tasks{queue=\"metrics\",state=\"pending\"}")
	    == 3);
	assert_true(
	    metric(body, "cairn_tasks{queue=\"metrics\",state=\"active\"}")
	    == 0);
	assert_true(metric(body, "cairn_tasks_due{queue=\"metrics\"}") >= 2);
	assert_true(metric(body,
	                "cairn_oldest_due_task_age_seconds{queue=\"metrics\"}")
	    >= 0.3);
	assert_true(metric(body, "cairn_parked_requests") == 0);
	/* The queue's limits. */
	assert_true(
	    metric(body, "cairn_queue_max_active{queue=\"metrics\"}") == 7);
	assert_true(
	    metric(body, "cairn_queue_paused{queue=\"metrics\"}") == 0);
	assert_true(metric(body,
	                "cairn_queue_rate_limit_per_second{queue=\"metrics\"}")
	    == 0.5);
	free(body);
}

static void
test_health_and_readiness(void **state)
{
	struct fx *f = *state;
	char path[256], *body;
	sqlite3 *db;

	assert_int_equal(http_get(f->http, "/healthz", &body), 200);
	assert_string_equal(body, "ok\n");
	free(body);
	assert_int_equal(http_get(f->http, "/readyz", NULL), 200);
	assert_int_equal(http_get(f->http, "/nothing-here", NULL), 404);

	/* Another process holds the write lock: the engine's transaction
	 * waits, and the probe gives up after its 2 s. */
	snprintf(path, sizeof(path), "%s", f->srv.store + strlen("sqlite:"));
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(http_get(f->http, "/readyz", &body), 503);
	assert_non_null(strstr(body, "not ready"));
	free(body);
	assert_int_equal(http_get(f->http, "/healthz", NULL), 200);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	int code = 0;
	for (int i = 0; i < 50 && code != 200; i++) {
		code = http_get(f->http, "/readyz", NULL);
		pause_ms(100);
	}
	assert_int_equal(code, 200);
}

struct load {
	cairn_client *c;
	atomic_bool stop;
	atomic_uint_fast64_t acked;
};

static void *
load_main(void *arg)
{
	struct load *l = arg;
	cairn_task_spec s[20];
	cairn_enqueue_result r[20];
	static const char payload[] = "under load";

	for (int i = 0; i < 20; i++) {
		s[i] = (cairn_task_spec) { .queue = "load",
			.payload = payload,
			.payload_len = sizeof(payload) - 1 };
	}
	while (!atomic_load(&l->stop)) {
		if (cairn_enqueue(l->c, s, 20, r) == CAIRN_OK) {
			atomic_fetch_add(&l->acked, 20);
		}
	}
	return (NULL);
}

static uint64_t
count_tasks(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	uint64_t n = 0;

	assert_int_equal(
	    sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *) sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(
	                     db, "SELECT count(*) FROM tasks", -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = (uint64_t) sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return (n);
}

static void
test_backup_under_load(void **state)
{
	struct fx *f = *state;
	static char big[2048];
	cairn_task_spec s[250];
	cairn_enqueue_result r[250];
	struct load l = { .c = f->c };
	struct server copy;
	pthread_t t;
	char *path = NULL, store[300];
	uint64_t bytes = 0, before;
	cairn_queue_stats *st;
	size_t n;

	/* Some megabytes, so that the copy takes many steps. */
	memset(big, 'x', sizeof(big));
	for (int i = 0; i < 250; i++) {
		s[i] = (cairn_task_spec) { .queue = "fill",
			.payload = big,
			.payload_len = sizeof(big) };
	}
	for (int i = 0; i < 8; i++) {
		assert_int_equal(cairn_enqueue(f->c, s, 250, r), CAIRN_OK);
	}
	assert_int_equal(pthread_create(&t, NULL, load_main, &l), 0);
	pause_ms(100);
	before = 2000 + atomic_load(&l.acked);
	assert_int_equal(
	    cairn_backup(f->c, "copy.db", 0, &path, &bytes), CAIRN_OK);
	uint64_t during = atomic_load(&l.acked);
	pause_ms(100);
	atomic_store(&l.stop, true);
	pthread_join(t, NULL);
	assert_true(atomic_load(&l.acked) > during); /* served meanwhile */
	assert_non_null(strstr(path, "/copy.db"));
	assert_true(bytes > 2000 * sizeof(big));
	assert_true(count_tasks(path) >= before);

	/* Names that are not plain new names are refused. */
	assert_int_equal(cairn_backup(f->c, "copy.db", 0, NULL, NULL),
	    CAIRN_ALREADY_EXISTS);
	assert_int_equal(cairn_backup(f->c, "../escape.db", 0, NULL, NULL),
	    CAIRN_INVALID_ARGUMENT);

	/* A second cairnd starts from the copy and has the tasks. */
	snprintf(store, sizeof(store), "sqlite:%s", path);
	const char *extra[] = { "--store", store, NULL };
	assert_int_equal(server_start(&copy, extra), 0);
	cairn_client *c2;
	assert_int_equal(
	    cairn_client_open(&c2, copy.url, NULL, NULL, 0), CAIRN_OK);
	assert_int_equal(cairn_stats(c2, "fill", &st, &n), CAIRN_OK);
	assert_int_equal(n, 1);
	assert_int_equal(st[0].pending, 2000);
	cairn_stats_free(st, n);
	cairn_client_close(c2);
	server_cleanup(&copy);
	cairn_free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_health_and_readiness, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_backup_under_load, setup, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
