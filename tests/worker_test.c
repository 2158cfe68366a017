/*
 * worker_test.c - libcairn's worker helper against a real cairnd: results
 * and failures, a cancel and a lost lease seen by the handler, concurrency,
 * a stop that finishes the task held and one that gives it back.
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

#include <cmocka.h>

#include "cairn.h"
#include "harness.h"

struct fx {
	struct server srv;
	cairn_client *c;
	const char *queue;
	cairn_worker *w;
	atomic_int running, max_running, handled;
	atomic_int last_reason;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (server_start(&f->srv, NULL) != 0) {
		fail_msg("cannot start cairnd");
	}
	assert_int_equal(
	    cairn_client_open(&f->c, f->srv.url, NULL, NULL, 0), CAIRN_OK);
	f->queue = "work";
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	cairn_worker_free(f->w);
	cairn_client_close(f->c);
	server_cleanup(&f->srv);
	free(f);
	return (0);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static uint64_t
enqueue(struct fx *f, const char *payload, int64_t start_to_close_ms)
{
	cairn_task_spec s = { .queue = f->queue,
		.payload = payload,
		.payload_len = strlen(payload),
		.start_to_close_timeout_ms = start_to_close_ms };
	cairn_enqueue_result r;

	assert_int_equal(cairn_enqueue(f->c, &s, 1, &r), CAIRN_OK);
	return (r.id);
}

static cairn_task *
get(struct fx *f, uint64_t id)
{
	cairn_task *t;

	assert_int_equal(cairn_get(f->c, id, &t), CAIRN_OK);
	return (t);
}

/* handler: "ok:X" completes with X, "fail" fails for good, "sleep" takes
 * 400 ms, "hold" waits until told to stop. */
static void
handler(cairn_job *job, const cairn_task *t, void *arg)
{
	struct fx *f = arg;
	const char *p = (const char *) t->payload;
	int now = atomic_fetch_add(&f->running, 1) + 1;
	int max = atomic_load(&f->max_running);

	while (now > max
	    && !atomic_compare_exchange_weak(&f->max_running, &max, now)) { }
	if (t->payload_len > 3 && strncmp(p, "ok:", 3) == 0) {
		cairn_job_complete(job, p + 3, t->payload_len - 3);
	} else if (t->payload_len == 4 && strncmp(p, "fail", 4) == 0) {
		cairn_job_fail(job, "handler says no", false);
	} else if (t->payload_len == 5 && strncmp(p, "sleep", 5) == 0) {
		cairn_job_set_details(job, "half", 4);
		cairn_job_wait_stop(job, 400);
	} else {
		atomic_store(
		    &f->last_reason, (int) cairn_job_wait_stop(job, 20000));
	}
	atomic_fetch_sub(&f->running, 1);
	atomic_fetch_add(&f->handled, 1);
}

static void
make_worker(struct fx *f, unsigned concurrency, uint64_t max_tasks)
{
	cairn_worker_options o = { .queues = &f->queue,
		.nqueues = 1,
		.concurrency = concurrency,
		.poll_wait_ms = 300,
		.lease_timeout_ms = 600,
		.max_tasks = max_tasks };

	assert_int_equal(
	    cairn_worker_new(&f->w, f->c, &o, handler, f), CAIRN_OK);
}

static void *
run_main(void *arg)
{
	struct fx *f = arg;

	return ((void *) (intptr_t) cairn_worker_run(f->w));
}

/* wait_state polls task id until it has state, up to ms. */
static bool
wait_state(struct fx *f, uint64_t id, cairn_state state, int ms)
{
	struct timespec pause = { 0, 50 * 1000 * 1000 };

	for (int64_t until = now_ms() + ms; now_ms() < until;) {
		cairn_task *t = get(f, id);
		bool hit = t->state == state;
		cairn_task_free(t);
		if (hit) {
			return (true);
		}
		nanosleep(&pause, NULL);
	}
	return (false);
}

static void
test_results(void **state)
{
	struct fx *f = *state;
	uint64_t a = enqueue(f, "ok:forty-two", 0);
	uint64_t b = enqueue(f, "fail", 0);
	uint64_t c = enqueue(f, "sleep", 0);
	cairn_task *t;

	make_worker(f, 1, 3);
	assert_int_equal(cairn_worker_run(f->w), CAIRN_OK);
	t = get(f, a);
	assert_int_equal(t->state, CAIRN_SUCCEEDED);
	assert_int_equal(t->result_len, 9);
	assert_memory_equal(t->result, "forty-two", 9);
	cairn_task_free(t);
	t = get(f, b);
	assert_int_equal(t->state, CAIRN_FAILED);
	assert_string_equal(t->last_error, "handler says no");
	cairn_task_free(t);
	/* Returning without an outcome completes; the 400 ms spanned
	 * heartbeats that carried the details. */
	t = get(f, c);
	assert_int_equal(t->state, CAIRN_SUCCEEDED);
	assert_int_equal(t->details_len, 4);
	cairn_task_free(t);
}

static void
test_cancel_reaches_the_handler(void **state)
{
	struct fx *f = *state;
	uint64_t id = enqueue(f, "hold", 0);
	pthread_t t;
	void *rv;

	make_worker(f, 1, 1);
	pthread_create(&t, NULL, run_main, f);
	assert_true(wait_state(f, id, CAIRN_ACTIVE, 5000));
	assert_int_equal(cairn_cancel(f->c, id, NULL), CAIRN_OK);
	pthread_join(t, &rv);
	assert_int_equal((intptr_t) rv, CAIRN_OK);
	assert_int_equal(atomic_load(&f->last_reason), CAIRN_JOB_CANCELED);
	assert_true(wait_state(f, id, CAIRN_CANCELED, 1000));
}

static void
test_lost_lease_reaches_the_handler(void **state)
{
	struct fx *f = *state;
	uint64_t id = enqueue(f, "hold", 500); /* start-to-close 500 ms */
	int64_t t0 = now_ms();

	make_worker(f, 1, 1);
	assert_int_equal(cairn_worker_run(f->w), CAIRN_OK);
	assert_int_equal(atomic_load(&f->last_reason), CAIRN_JOB_LEASE_LOST);
	assert_true(now_ms() - t0 < 5000);
	cairn_task *t = get(f, id);
	assert_int_not_equal(t->state, CAIRN_ACTIVE);
	assert_non_null(strstr(t->last_error, "start-to-close"));
	cairn_task_free(t);
}

static void
test_concurrency(void **state)
{
	struct fx *f = *state;
	uint64_t ids[6];
	int64_t t0 = now_ms();

	for (int i = 0; i < 6; i++) {
		ids[i] = enqueue(f, "sleep", 0);
	}
	make_worker(f, 3, 6);
	assert_int_equal(cairn_worker_run(f->w), CAIRN_OK);
	assert_int_equal(atomic_load(&f->max_running), 3);
	assert_int_equal(atomic_load(&f->handled), 6);
	/* Two rounds of 400 ms, not six. */
	assert_true(now_ms() - t0 < 2000);
	for (int i = 0; i < 6; i++) {
		assert_true(wait_state(f, ids[i], CAIRN_SUCCEEDED, 1000));
	}
}

static void
test_stop_finishes_what_it_holds(void **state)
{
	struct fx *f = *state;
	uint64_t id = enqueue(f, "sleep", 0);
	pthread_t t;

	make_worker(f, 1, 0);
	pthread_create(&t, NULL, run_main, f);
	assert_true(wait_state(f, id, CAIRN_ACTIVE, 5000));
	cairn_worker_stop(f->w, false);
	pthread_join(t, NULL);
	cairn_task *task = get(f, id);
	assert_int_equal(task->state, CAIRN_SUCCEEDED);
	cairn_task_free(task);
}

static void
test_stop_abandon_gives_back(void **state)
{
	struct fx *f = *state;
	uint64_t id = enqueue(f, "hold", 0);
	pthread_t t;

	make_worker(f, 1, 0);
	pthread_create(&t, NULL, run_main, f);
	assert_true(wait_state(f, id, CAIRN_ACTIVE, 5000));
	cairn_worker_stop(f->w, true);
	pthread_join(t, NULL);
	assert_int_equal(atomic_load(&f->last_reason), CAIRN_JOB_ABANDONED);
	cairn_task *task = get(f, id);
	assert_int_equal(task->state, CAIRN_PENDING);
	assert_int_equal(task->attempt, 1);
	assert_string_equal(
	    task->last_error, "worker stopped; task given back");
	cairn_task_free(task);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_results, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_cancel_reaches_the_handler, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_lost_lease_reaches_the_handler, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_concurrency, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_stop_finishes_what_it_holds, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_stop_abandon_gives_back, setup, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
