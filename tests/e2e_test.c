/*
 * e2e_test.c - the real cairnd on a loopback port, driven through
 * libcairn: a task from enqueue to SUCCEEDED, fencing of a paused worker,
 * long-poll wake-up, idempotent enqueue under concurrent duplicates, a
 * drain after every worker was killed, and an orderly stop.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cairn.h"
#include "harness.h"

struct fx {
	struct server srv;
	cairn_client *c;
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

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static uint64_t
enqueue(cairn_client *c, cairn_task_spec spec)
{
	cairn_enqueue_result r;

	assert_int_equal(cairn_enqueue(c, &spec, 1, &r), CAIRN_OK);
	assert_true(r.created);
	return (r.id);
}

static cairn_task *
lease1(cairn_client *c, const char *queue, const cairn_lease_options *o)
{
	cairn_task **ts;
	size_t n;

	assert_int_equal(cairn_lease(c, &queue, 1, o, &ts, &n), CAIRN_OK);
	assert_int_equal(n, 1);
	cairn_task *t = ts[0];
	ts[0] = NULL;
	cairn_tasks_free(ts, 1);
	return (t);
}

static void
task_goes_from_enqueue_to_succeeded(void **state)
{
	struct fx *f = *state;
	cairn_task_spec spec = { .queue = "email",
		.payload = "hi\0there",
		.payload_len = 8,
		.priority = 2 };
	bool cancel = true;
	int64_t deadline = 0;

	uint64_t id = enqueue(f->c, spec);
	cairn_lease_options lo = { .worker_id = "worker-a" };
	cairn_task *t = lease1(f->c, "email", &lo);
	assert_int_equal(t->id, id);
	assert_int_equal(t->payload_len, 8);
	assert_memory_equal(t->payload, "hi\0there", 8);
	assert_int_equal(t->attempt, 1);
	assert_int_equal(t->state, CAIRN_ACTIVE);
	assert_non_null(t->lease_token);
	assert_int_equal(cairn_heartbeat(f->c, id, t->lease_token, "half", 4,
	                     &cancel, &deadline),
	    CAIRN_OK);
	assert_false(cancel);
	assert_true(deadline > 0);
	assert_int_equal(
	    cairn_complete(f->c, id, t->lease_token, "sent", 4), CAIRN_OK);
	/* A client retrying after a lost reply sees OK again. */
	assert_int_equal(
	    cairn_complete(f->c, id, t->lease_token, "sent", 4), CAIRN_OK);

	cairn_task *g;
	assert_int_equal(cairn_get(f->c, id, &g), CAIRN_OK);
	assert_int_equal(g->state, CAIRN_SUCCEEDED);
	assert_int_equal(g->result_len, 4);
	assert_memory_equal(g->result, "sent", 4);
	assert_string_equal(g->worker_id, "worker-a");
	cairn_task_free(g);

	cairn_event *ev;
	size_t n;
	assert_int_equal(cairn_history(f->c, id, &ev, &n), CAIRN_OK);
	assert_int_equal(n, 4);
	assert_string_equal(ev[0].kind, "enqueued");
	assert_string_equal(ev[3].kind, "completed");
	cairn_events_free(ev, n);
	cairn_task_free(t);

	assert_int_equal(cairn_get(f->c, id + 1000, &g), CAIRN_NOT_FOUND);
	assert_non_null(strstr(cairn_client_errmsg(f->c), "not found"));
}

static void
paused_worker_is_fenced(void **state)
{
	struct fx *f = *state;
	cairn_task_spec spec = { .queue = "fence",
		.payload = "x",
		.payload_len = 1,
		.retry_initial_backoff_ms = 1 };
	cairn_lease_options short_lease = { .lease_timeout_ms = 200 };

	uint64_t id = enqueue(f->c, spec);
	cairn_task *old = lease1(f->c, "fence", &short_lease);
	usleep(300 * 1000); /* the worker "pauses" past its lease */
	cairn_lease_options wait = { .wait_ms = 5000 };
	cairn_task *cur = lease1(f->c, "fence", &wait);
	assert_int_equal(cur->id, id);
	assert_int_equal(cur->attempt, 2);
	assert_int_equal(
	    cairn_complete(f->c, id, cur->lease_token, "new", 3), CAIRN_OK);
	assert_int_equal(cairn_complete(f->c, id, old->lease_token, "old", 3),
	    CAIRN_FAILED_PRECONDITION);
	assert_non_null(strstr(cairn_client_errmsg(f->c), "lease lost"));
	assert_int_equal(
	    cairn_heartbeat(f->c, id, old->lease_token, NULL, 0, NULL, NULL),
	    CAIRN_FAILED_PRECONDITION);
	cairn_task *g;
	assert_int_equal(cairn_get(f->c, id, &g), CAIRN_OK);
	assert_int_equal(g->state, CAIRN_SUCCEEDED);
	assert_memory_equal(g->result, "new", 3);
	cairn_task_free(g);
	cairn_task_free(old);
	cairn_task_free(cur);
}

struct waiter {
	cairn_client *c;
	const char *queue;
	int64_t answered_at;
	size_t n;
	int rv;
};

static void *
wait_lease(void *arg)
{
	struct waiter *w = arg;
	cairn_lease_options o = { .wait_ms = 10000 };
	cairn_task **ts = NULL;

	w->rv = cairn_lease(w->c, &w->queue, 1, &o, &ts, &w->n);
	w->answered_at = now_ms();
	cairn_tasks_free(ts, w->n);
	return (NULL);
}

static void
long_poll_wakes_on_enqueue(void **state)
{
	struct fx *f = *state;
	struct waiter w = { .c = f->c, .queue = "poll" };
	cairn_task_spec spec
	    = { .queue = "poll", .payload = "", .payload_len = 0 };
	pthread_t th;

	pthread_create(&th, NULL, wait_lease, &w);
	usleep(200 * 1000); /* let it park */
	assert_int_equal(w.answered_at, 0);
	enqueue(f->c, spec);
	int64_t committed = now_ms();
	pthread_join(th, NULL);
	assert_int_equal(w.rv, CAIRN_OK);
	assert_int_equal(w.n, 1);
	print_message("parked lease answered %lld ms after the enqueue "
	              "returned\n",
	    (long long) (w.answered_at - committed));
	/* A wake-up, not a poll: well inside the 10 s wait. */
	assert_true(w.answered_at - committed < 1000);
}

struct dup {
	cairn_client *c;
	cairn_enqueue_result r;
	int rv;
};

static void *
enqueue_dup(void *arg)
{
	struct dup *d = arg;
	cairn_task_spec spec = { .queue = "dedup",
		.payload = "charge",
		.payload_len = 6,
		.idempotency_key = "invoice-42" };

	d->rv = cairn_enqueue(d->c, &spec, 1, &d->r);
	return (NULL);
}

static void
concurrent_duplicates_make_one_task(void **state)
{
	struct fx *f = *state;
	enum { N = 16 };
	struct dup d[N];
	pthread_t th[N];
	int created = 0;

	for (int i = 0; i < N; i++) {
		d[i] = (struct dup) { .c = f->c };
		pthread_create(&th[i], NULL, enqueue_dup, &d[i]);
	}
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(d[i].rv, CAIRN_OK);
		assert_int_equal(d[i].r.id, d[0].r.id);
		created += d[i].r.created;
	}
	assert_int_equal(created, 1);
	cairn_task **ts;
	size_t n;
	uint64_t next;
	assert_int_equal(
	    cairn_list(f->c, "dedup", CAIRN_STATE_ANY, 100, 0, &ts, &n, &next),
	    CAIRN_OK);
	assert_int_equal(n, 1);
	cairn_tasks_free(ts, n);
}

/* stuck_worker leases tasks and never finishes them; it runs in a process
 * of its own (this program, exec'd again: nng does not survive a fork). */
static int
stuck_worker(const char *url)
{
	cairn_client *c;
	const char *q = "drain";
	cairn_lease_options o = { .max_tasks = 5, .lease_timeout_ms = 500 };

	if (cairn_client_open(&c, url, NULL, NULL, 0) != CAIRN_OK) {
		return (1);
	}
	for (;;) {
		cairn_task **ts;
		size_t n;
		if (cairn_lease(c, &q, 1, &o, &ts, &n) == CAIRN_OK) {
			cairn_tasks_free(ts, n);
		}
		usleep(10 * 1000);
	}
}

static pid_t
spawn_stuck_worker(const char *url)
{
	pid_t pid = fork();

	if (pid == 0) {
		execl("/proc/self/exe", "e2e_test", "--stuck-worker", url,
		    (char *) NULL);
		_exit(127);
	}
	return (pid);
}

static void
queue_drains_after_workers_are_killed(void **state)
{
	struct fx *f = *state;
	enum { TASKS = 30, WORKERS = 3 };
	cairn_task_spec specs[TASKS];
	cairn_enqueue_result res[TASKS];
	pid_t w[WORKERS];

	for (int i = 0; i < TASKS; i++) {
		specs[i] = (cairn_task_spec) { .queue = "drain",
			.payload = "job",
			.payload_len = 3,
			.retry_initial_backoff_ms = 10 };
	}
	assert_int_equal(cairn_enqueue(f->c, specs, TASKS, res), CAIRN_OK);
	for (int i = 0; i < WORKERS; i++) {
		w[i] = spawn_stuck_worker(f->srv.url);
	}
	cairn_queue_stats *st;
	size_t ns;
	int64_t until = now_ms() + 5000;
	uint64_t held = 0;
	while (held < TASKS && now_ms() < until) {
		usleep(50 * 1000); /* until the workers hold every task */
		assert_int_equal(
		    cairn_stats(f->c, "drain", &st, &ns), CAIRN_OK);
		assert_int_equal(ns, 1);
		held = st[0].active;
		cairn_stats_free(st, ns);
	}
	assert_int_equal(held, TASKS);
	for (int i = 0; i < WORKERS; i++) {
		kill(w[i], SIGKILL);
		waitpid(w[i], NULL, 0);
	}
	/* Nobody else acts: the leases expire and a new worker drains the
	 * queue with long-polls alone. */
	int done = 0;
	int64_t give_up = now_ms() + 20000;
	while (done < TASKS && now_ms() < give_up) {
		const char *q = "drain";
		cairn_lease_options o = { .max_tasks = 10, .wait_ms = 2000 };
		cairn_task **ts;
		size_t n;
		assert_int_equal(
		    cairn_lease(f->c, &q, 1, &o, &ts, &n), CAIRN_OK);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(cairn_complete(f->c, ts[i]->id,
			                     ts[i]->lease_token, NULL, 0),
			    CAIRN_OK);
			done++;
		}
		cairn_tasks_free(ts, n);
	}
	assert_int_equal(done, TASKS);
	assert_int_equal(cairn_stats(f->c, "drain", &st, &ns), CAIRN_OK);
	assert_int_equal(ns, 1);
	assert_int_equal(st[0].succeeded, TASKS);
	assert_int_equal(st[0].pending + st[0].active, 0);
	cairn_stats_free(st, ns);
}

static void
stop_answers_parked_and_keeps_data(void **state)
{
	struct fx *f = *state;
	struct waiter w = { .c = f->c, .queue = "never" };
	cairn_task_spec spec
	    = { .queue = "kept", .payload = "x", .payload_len = 1 };
	pthread_t th;

	uint64_t id = enqueue(f->c, spec);
	pthread_create(&th, NULL, wait_lease, &w);
	usleep(200 * 1000);
	int64_t t0 = now_ms();
	assert_int_equal(server_stop(&f->srv), 0); /* exit status 0 */
	pthread_join(th, NULL);
	/* The parked lease got an answer (empty) rather than a timeout. */
	assert_int_equal(w.rv, CAIRN_OK);
	assert_int_equal(w.n, 0);
	assert_true(w.answered_at - t0 < 5000);

	assert_int_equal(server_restart(&f->srv, NULL), 0);
	cairn_task *g;
	assert_int_equal(cairn_get(f->c, id, &g), CAIRN_OK);
	assert_int_equal(g->state, CAIRN_PENDING);
	cairn_task_free(g);
}

static void
finished_tasks_are_pruned_after_retention(void **state)
{
	struct fx *f = *state;
	static const char *const args[] = { "--retention", "300ms", NULL };
	cairn_task_spec spec
	    = { .queue = "short", .payload = "x", .payload_len = 1 };
	cairn_task *g;

	assert_int_equal(server_stop(&f->srv), 0);
	assert_int_equal(server_restart(&f->srv, args), 0);
	uint64_t done = enqueue(f->c, spec);
	uint64_t waiting = enqueue(f->c, spec);
	cairn_task *t = lease1(f->c, "short", NULL);
	assert_int_equal(t->id, done);
	assert_int_equal(
	    cairn_complete(f->c, done, t->lease_token, NULL, 0), CAIRN_OK);
	cairn_task_free(t);
	int rv = CAIRN_OK;
	for (int i = 0; i < 50 && rv == CAIRN_OK; i++) {
		usleep(100 * 1000);
		if ((rv = cairn_get(f->c, done, &g)) == CAIRN_OK) {
			cairn_task_free(g);
		}
	}
	assert_int_equal(rv, CAIRN_NOT_FOUND);
	/* Only finished tasks go. */
	assert_int_equal(cairn_get(f->c, waiting, &g), CAIRN_OK);
	assert_int_equal(g->state, CAIRN_PENDING);
	cairn_task_free(g);
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--stuck-worker") == 0) {
		return (stuck_worker(argv[2]));
	}
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(task_goes_from_enqueue_to_succeeded),
		T(paused_worker_is_fenced),
		T(long_poll_wakes_on_enqueue),
		T(concurrent_duplicates_make_one_task),
		T(queue_drains_after_workers_are_killed),
		T(stop_answers_parked_and_keeps_data),
		T(finished_tasks_are_pruned_after_retention),
#undef T
	};
	signal(SIGPIPE, SIG_IGN);
	return (cmocka_run_group_tests_name("e2e", tests, NULL, NULL));
}
