/*
 * queue_limits_test.c - per-queue limits end to end, through the real
 * cairnd and libcairn: max_active with many workers (sampled all along),
 * a paused queue that leases nothing and resumes, a rate limit counted
 * over 10 s of the server's time, and bad settings refused without a
 * change.
 *
 * With CAIRN_TEST_STORE set to a postgres:// URI (the _postgres test),
 * two cairnd share the database and the workers are split between them,
 * so that the limits are shown to hold across servers, not in one.
 *
 * Nothing here asserts how fast the machine is: counts are taken from the
 * server's own lease times, and waits only bound how long a test may run.
 */
#include <math.h>
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

#include "cairn.h"
#include "harness.h"

#define WORKERS    20
#define MAX_ACTIVE 3
#define RATE       20 /* tasks per second */

struct fx {
	struct server srv, srv2;
	bool two; /* srv2 runs (PostgreSQL) */
	cairn_client *c;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (server_start(&f->srv, NULL) != 0) {
		fail_msg("cannot start cairnd");
	}
	if (f->srv.schema[0] != 0) {
		if (server_start_beside(&f->srv2, &f->srv, NULL) != 0) {
			fail_msg("cannot start a second cairnd");
		}
		f->two = true;
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
	if (f->two) {
		server_stop(&f->srv2);
	}
	server_cleanup(&f->srv);
	free(f);
	return (0);
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* url_of says which server worker i talks to: every other one goes to
 * the second server when there is one. */
static const char *
url_of(const struct fx *f, int i)
{
	return (f->two && i % 2 == 1 ? f->srv2.url : f->srv.url);
}

static void
enqueue_n(cairn_client *c, const char *queue, int n)
{
	cairn_task_spec *specs = calloc((size_t) n, sizeof(*specs));
	cairn_enqueue_result *r = calloc((size_t) n, sizeof(*r));

	for (int i = 0; i < n; i++) {
		specs[i] = (cairn_task_spec) {
			.queue = queue, .payload = "x", .payload_len = 1
		};
	}
	assert_int_equal(cairn_enqueue(c, specs, (size_t) n, r), CAIRN_OK);
	free(specs);
	free(r);
}

static void
set_queue(cairn_client *c, const cairn_queue_settings *s, unsigned fields)
{
	cairn_queue_settings *out = NULL;

	assert_int_equal(cairn_queue_set(c, s, fields, &out), CAIRN_OK);
	assert_string_equal(out->queue, s->queue);
	cairn_queue_settings_free(out, 1);
}

/* ---- max_active -------------------------------------------------------- */

struct shared {
	const struct fx *f;
	const char *queue;
	int total;          /* tasks to finish */
	int hold_ms;        /* how long a worker keeps each task */
	atomic_int done;    /* tasks completed */
	atomic_int holding; /* tasks in workers' hands now */
	atomic_int most;    /* the most held at once */
	atomic_int errors;  /* calls that failed */
	atomic_bool stop;
	/* The rate test: the server's time of each lease. */
	int64_t *leased_at;
	atomic_int nleased;
	int cap;
};

struct worker {
	struct shared *sh;
	int index;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;
	cairn_lease_options lo = { .max_tasks = 1, .wait_ms = 300 };
	cairn_client *c;

	if (cairn_client_open(&c, url_of(sh->f, w->index), NULL, NULL, 0)
	    != CAIRN_OK) {
		atomic_fetch_add(&sh->errors, 1);
		return (NULL);
	}
	while (!atomic_load(&sh->stop) && atomic_load(&sh->done) < sh->total) {
		cairn_task **ts;
		size_t n;
		if (cairn_lease(c, &sh->queue, 1, &lo, &ts, &n) != CAIRN_OK) {
			atomic_fetch_add(&sh->errors, 1);
			sleep_ms(50);
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			int now = atomic_fetch_add(&sh->holding, 1) + 1;
			int most = atomic_load(&sh->most);
			while (now > most
			    && !atomic_compare_exchange_weak(
			        &sh->most, &most, now)) { }
			if (sh->leased_at != NULL) {
				int k = atomic_fetch_add(&sh->nleased, 1);
				if (k < sh->cap) {
					sh->leased_at[k]
					    = ts[i]->updated_at_ms;
				}
			}
			if (sh->hold_ms > 0) {
				sleep_ms(sh->hold_ms);
			}
			/* Let go before the server does: what we count
			 * held is never more than what the server has
			 * ACTIVE. */
			atomic_fetch_sub(&sh->holding, 1);
			if (cairn_complete(
			        c, ts[i]->id, ts[i]->lease_token, NULL, 0)
			    != CAIRN_OK) {
				atomic_fetch_add(&sh->errors, 1);
			}
			atomic_fetch_add(&sh->done, 1);
		}
		cairn_tasks_free(ts, n);
	}
	cairn_client_close(c);
	return (NULL);
}

struct sampler {
	struct shared *sh;
	cairn_client *c[2];
	int nc;
	uint64_t most; /* the most ACTIVE in Stats */
	int samples;
	int errors;
};

/* sampler_main asks each server's Stats for the queue's ACTIVE count as
 * often as it can until the workers are done. */
static void *
sampler_main(void *arg)
{
	struct sampler *s = arg;

	while (!atomic_load(&s->sh->stop)) {
		for (int i = 0; i < s->nc; i++) {
			cairn_queue_stats *st;
			size_t n;
			if (cairn_stats(s->c[i], s->sh->queue, &st, &n)
			    != CAIRN_OK) {
				s->errors++;
				continue;
			}
			for (size_t k = 0; k < n; k++) {
				s->most = st[k].active > s->most ? st[k].active
				                                 : s->most;
			}
			s->samples++;
			cairn_stats_free(st, n);
		}
	}
	return (NULL);
}

/* run_workers runs nworkers on sh (and the sampler, when s is not NULL)
 * until the tasks are done or limit_ms passed. */
static void
run_workers(struct shared *sh, int nworkers, struct sampler *s, int limit_ms)
{
	pthread_t th[WORKERS], sth;
	struct worker w[WORKERS];
	int64_t end = mono_ms() + limit_ms;

	for (int i = 0; i < nworkers; i++) {
		w[i] = (struct worker) { .sh = sh, .index = i };
		assert_int_equal(
		    pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
	}
	if (s != NULL) {
		assert_int_equal(
		    pthread_create(&sth, NULL, sampler_main, s), 0);
	}
	while (atomic_load(&sh->done) < sh->total && mono_ms() < end) {
		sleep_ms(20);
	}
	atomic_store(&sh->stop, true);
	for (int i = 0; i < nworkers; i++) {
		pthread_join(th[i], NULL);
	}
	if (s != NULL) {
		pthread_join(sth, NULL);
	}
}

static void
max_active_holds_with_many_workers(void **state)
{
	struct fx *f = *state;
	cairn_queue_settings s
	    = { .queue = "limited", .max_active = MAX_ACTIVE };
	struct shared sh
	    = { .f = f, .queue = "limited", .total = 90, .hold_ms = 20 };
	struct sampler smp = { .sh = &sh, .nc = 1 };

	set_queue(f->c, &s, CAIRN_QUEUE_MAX_ACTIVE | CAIRN_QUEUE_CREATE);
	enqueue_n(f->c, "limited", sh.total);
	smp.c[0] = f->c;
	if (f->two) {
		assert_int_equal(
		    cairn_client_open(&smp.c[1], f->srv2.url, NULL, NULL, 0),
		    CAIRN_OK);
		smp.nc = 2;
	}
	run_workers(&sh, WORKERS, &smp, 120000);
	if (smp.nc == 2) {
		cairn_client_close(smp.c[1]);
	}
	print_message("max_active %d, %d workers: held at most %d, Stats "
	              "showed at most %llu ACTIVE in %d samples\n",
	    MAX_ACTIVE, WORKERS, atomic_load(&sh.most),
	    (unsigned long long) smp.most, smp.samples);
	assert_int_equal(atomic_load(&sh.errors), 0);
	assert_int_equal(atomic_load(&sh.done), sh.total);
	assert_true(smp.samples > 0);
	assert_true(smp.most <= MAX_ACTIVE);
	assert_true(atomic_load(&sh.most) <= MAX_ACTIVE);
	/* The limit was reached, not just never approached. */
	assert_int_equal(atomic_load(&sh.most), MAX_ACTIVE);
}

/* ---- pause ------------------------------------------------------------- */

struct poll_arg {
	const char *url;
	const char *queue;
	size_t got;
	int rv;
};

static void *
long_poll(void *arg)
{
	struct poll_arg *p = arg;
	cairn_lease_options lo = { .wait_ms = 20000 };
	cairn_client *c;
	cairn_task **ts;

	if ((p->rv = cairn_client_open(&c, p->url, NULL, NULL, 0)) != 0) {
		return (NULL);
	}
	if ((p->rv = cairn_lease(c, &p->queue, 1, &lo, &ts, &p->got)) == 0) {
		cairn_tasks_free(ts, p->got);
	}
	cairn_client_close(c);
	return (NULL);
}

static void
lease_none(const char *url, const char *queue)
{
	cairn_lease_options lo = { .max_tasks = 10 };
	cairn_client *c;
	cairn_task **ts;
	size_t n;

	assert_int_equal(cairn_client_open(&c, url, NULL, NULL, 0), CAIRN_OK);
	assert_int_equal(cairn_lease(c, &queue, 1, &lo, &ts, &n), CAIRN_OK);
	cairn_tasks_free(ts, n);
	cairn_client_close(c);
	assert_int_equal(n, 0);
}

static void
paused_queue_leases_nothing_and_resumes(void **state)
{
	struct fx *f = *state;
	cairn_queue_settings s = { .queue = "paused", .paused = true };
	struct poll_arg p
	    = { .url = f->two ? f->srv2.url : f->srv.url, .queue = "paused" };
	cairn_queue_stats *st;
	pthread_t th;
	size_t n;

	set_queue(f->c, &s, CAIRN_QUEUE_PAUSED | CAIRN_QUEUE_CREATE);
	/* Enqueues still succeed; leases, on every server, take nothing. */
	enqueue_n(f->c, "paused", 5);
	lease_none(f->srv.url, "paused");
	if (f->two) {
		lease_none(f->srv2.url, "paused");
	}
	assert_int_equal(cairn_stats(f->c, "paused", &st, &n), CAIRN_OK);
	assert_int_equal(n, 1);
	assert_int_equal(st[0].pending, 5);
	assert_int_equal(st[0].active, 0);
	cairn_stats_free(st, n);

	/* A long-poll parked on the paused queue (on the other server when
	 * there are two) takes a task once it resumes. */
	assert_int_equal(pthread_create(&th, NULL, long_poll, &p), 0);
	sleep_ms(300);
	s.paused = false;
	set_queue(f->c, &s, CAIRN_QUEUE_PAUSED);
	pthread_join(th, NULL);
	assert_int_equal(p.rv, CAIRN_OK);
	assert_int_equal(p.got, 1);

	/* Pausing again stops leases of what is left. */
	s.paused = true;
	set_queue(f->c, &s, CAIRN_QUEUE_PAUSED);
	lease_none(f->srv.url, "paused");
}

/* ---- rate limit -------------------------------------------------------- */

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;

	return (x < y ? -1 : x > y);
}

static void
rate_limit_holds_over_ten_seconds(void **state)
{
	struct fx *f = *state;
	cairn_queue_settings s = {
		.queue = "rated", .rate_count = RATE, .rate_interval_ms = 1000
	};
	/* More than the 10 s can take, so that the limit, not the supply,
	 * bounds what is leased. */
	struct shared sh = { .f = f, .queue = "rated", .total = 20 * RATE };
	int64_t window = 10000;
	int most = 0, first;

	sh.cap = sh.total;
	sh.leased_at = calloc((size_t) sh.cap, sizeof(*sh.leased_at));
	set_queue(f->c, &s, CAIRN_QUEUE_RATE | CAIRN_QUEUE_CREATE);
	enqueue_n(f->c, "rated", sh.total);
	run_workers(&sh, 8, NULL, 12000);
	int n = atomic_load(&sh.nleased);
	qsort(sh.leased_at, (size_t) n, sizeof(*sh.leased_at), cmp_i64);
	/* In any 10 s of the server's time, the bucket lets through at most
	 * its burst (RATE) and RATE per second. */
	for (int i = 0, j = 0; i < n; i++) {
		while (j < n && sh.leased_at[j] < sh.leased_at[i] + window) {
			j++;
		}
		most = j - i > most ? j - i : most;
	}
	for (first = 0;
	     first < n && sh.leased_at[first] < sh.leased_at[0] + window;
	     first++) { }
	print_message("rate %d/s: %d leased in the first 10 s of server time, "
	              "at most %d in any 10 s (bound %d)\n",
	    RATE, first, most, RATE + 10 * RATE);
	free(sh.leased_at);
	assert_int_equal(atomic_load(&sh.errors), 0);
	assert_true(most <= RATE + 10 * RATE);
	/* And it lets the rate through: within one interval's worth. */
	assert_true(first >= 10 * RATE);
}

/* ---- defaults -------------------------------------------------------- */

static void
queue_defaults_apply_unless_the_task_overrides(void **state)
{
	struct fx *f = *state;
	cairn_queue_settings s = { .queue = "defaults",
		.max_attempts = 3,
		.heartbeat_timeout_ms = 5000,
		.start_to_close_timeout_ms = 60000,
		.retry_initial_backoff_ms = 250,
		.retry_multiplier = 3,
		.retry_max_backoff_ms = 9000 };
	cairn_task_spec plain = { .queue = "defaults" };
	cairn_task_spec own = { .queue = "defaults",
		.max_attempts = 9,
		.heartbeat_timeout_ms = 7000 };
	cairn_enqueue_result r[2];
	cairn_client *c2 = f->c;
	cairn_task *t;

	set_queue(f->c, &s,
	    CAIRN_QUEUE_MAX_ATTEMPTS | CAIRN_QUEUE_HEARTBEAT_TIMEOUT
	        | CAIRN_QUEUE_START_TO_CLOSE_TIMEOUT | CAIRN_QUEUE_RETRY
	        | CAIRN_QUEUE_CREATE);
	/* Set through one server, obeyed by the other. */
	if (f->two) {
		assert_int_equal(
		    cairn_client_open(&c2, f->srv2.url, NULL, NULL, 0),
		    CAIRN_OK);
	}
	cairn_task_spec specs[2] = { plain, own };
	assert_int_equal(cairn_enqueue(c2, specs, 2, r), CAIRN_OK);
	assert_int_equal(cairn_get(f->c, r[0].id, &t), CAIRN_OK);
	assert_int_equal(t->max_attempts, 3);
	assert_int_equal(t->heartbeat_timeout_ms, 5000);
	assert_int_equal(t->start_to_close_timeout_ms, 60000);
	assert_int_equal(t->retry_initial_backoff_ms, 250);
	assert_true(t->retry_multiplier == 3);
	assert_int_equal(t->retry_max_backoff_ms, 9000);
	cairn_task_free(t);
	assert_int_equal(cairn_get(f->c, r[1].id, &t), CAIRN_OK);
	assert_int_equal(t->max_attempts, 9);
	assert_int_equal(t->heartbeat_timeout_ms, 7000);
	assert_int_equal(t->start_to_close_timeout_ms, 60000);
	cairn_task_free(t);
	/* A queue without settings keeps the server's defaults. */
	plain.queue = "plain";
	assert_int_equal(cairn_enqueue(c2, &plain, 1, r), CAIRN_OK);
	assert_int_equal(cairn_get(f->c, r[0].id, &t), CAIRN_OK);
	assert_int_equal(t->max_attempts, 25);
	assert_int_equal(t->heartbeat_timeout_ms, 60000);
	cairn_task_free(t);
	if (c2 != f->c) {
		cairn_client_close(c2);
	}
}

/* ---- bad settings ------------------------------------------------------ */

static void
refused(cairn_client *c, cairn_queue_settings s, unsigned fields, int want,
    const char *text)
{
	int rv = cairn_queue_set(c, &s, fields, NULL);

	if (rv != want || strstr(cairn_client_errmsg(c), text) == NULL) {
		fail_msg("queue set of '%s': %d '%s', wanted %d with '%s'",
		    s.queue, rv, cairn_client_errmsg(c), want, text);
	}
}

static void
bad_settings_are_refused_and_change_nothing(void **state)
{
	struct fx *f = *state;
	cairn_queue_settings s = { .queue = "kept", .max_active = 4 }, *got;
	char long_name[200];

	set_queue(f->c, &s, CAIRN_QUEUE_MAX_ACTIVE | CAIRN_QUEUE_CREATE);
	assert_int_equal(cairn_queue_get(f->c, "kept", &got), CAIRN_OK);
	int64_t updated = got->updated_at_ms;
	cairn_queue_settings_free(got, 1);

	const unsigned all = CAIRN_QUEUE_ALL;
	refused(f->c,
	    (cairn_queue_settings) { .queue = "kept", .max_active = 2000000 },
	    all, CAIRN_INVALID_ARGUMENT, "max_active");
	refused(f->c,
	    (cairn_queue_settings) {
	        .queue = "kept", .max_active = UINT32_MAX },
	    all, CAIRN_INVALID_ARGUMENT, "max_active");
	refused(f->c,
	    (cairn_queue_settings) { .queue = "kept", .rate_count = 5 }, all,
	    CAIRN_INVALID_ARGUMENT, "interval_ms");
	refused(f->c,
	    (cairn_queue_settings) {
	        .queue = "kept", .rate_count = 5, .rate_interval_ms = -1000 },
	    all, CAIRN_INVALID_ARGUMENT, "interval_ms");
	refused(f->c,
	    (cairn_queue_settings) { .queue = "kept",
	        .rate_count = 5,
	        .rate_interval_ms = 3 * 86400000LL },
	    all, CAIRN_INVALID_ARGUMENT, "interval_ms");
	refused(f->c,
	    (cairn_queue_settings) { .queue = "kept",
	        .rate_count = 3000000,
	        .rate_interval_ms = 1000 },
	    all, CAIRN_INVALID_ARGUMENT, "rate");
	refused(f->c,
	    (cairn_queue_settings) { .queue = "kept", .rate_burst = 7 }, all,
	    CAIRN_INVALID_ARGUMENT, "count 0");
	refused(f->c,
	    (cairn_queue_settings) {
	        .queue = "kept", .heartbeat_timeout_ms = -1 },
	    all, CAIRN_INVALID_ARGUMENT, "heartbeat_timeout_ms");
	refused(f->c,
	    (cairn_queue_settings) {
	        .queue = "kept", .retry_multiplier = 0.5 },
	    all, CAIRN_INVALID_ARGUMENT, "multiplier");
	refused(f->c,
	    (cairn_queue_settings) {
	        .queue = "kept", .retry_multiplier = NAN },
	    all, CAIRN_INVALID_ARGUMENT, "multiplier");
	refused(f->c, (cairn_queue_settings) { .queue = "bad name" }, all,
	    CAIRN_INVALID_ARGUMENT, "queue");
	refused(f->c, (cairn_queue_settings) { .queue = "" }, all,
	    CAIRN_INVALID_ARGUMENT, "queue");
	memset(long_name, 'q', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = 0;
	refused(f->c, (cairn_queue_settings) { .queue = long_name }, all,
	    CAIRN_INVALID_ARGUMENT, "queue");
	/* A queue never seen is refused unless created on purpose. */
	refused(f->c,
	    (cairn_queue_settings) { .queue = "typo", .paused = true },
	    CAIRN_QUEUE_PAUSED, CAIRN_NOT_FOUND, "no tasks");
	assert_int_equal(cairn_queue_get(f->c, "typo", &got), CAIRN_NOT_FOUND);

	/* Nothing changed. */
	assert_int_equal(cairn_queue_get(f->c, "kept", &got), CAIRN_OK);
	assert_int_equal(got->max_active, 4);
	assert_int_equal(got->rate_count, 0);
	assert_false(got->paused);
	assert_int_equal(got->updated_at_ms, updated);
	cairn_queue_settings_free(got, 1);
	cairn_queue_settings *all_q;
	size_t n;
	assert_int_equal(cairn_queue_list(f->c, &all_q, &n), CAIRN_OK);
	assert_int_equal(n, 1);
	assert_string_equal(all_q[0].queue, "kept");
	cairn_queue_settings_free(all_q, n);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(bad_settings_are_refused_and_change_nothing),
		T(paused_queue_leases_nothing_and_resumes),
		T(queue_defaults_apply_unless_the_task_overrides),
		T(max_active_holds_with_many_workers),
		T(rate_limit_holds_over_ten_seconds),
	};
#undef T
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
