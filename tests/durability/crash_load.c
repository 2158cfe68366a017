/*
 * crash_load.c - the load of the crash harness: producers that enqueue
 * and workers that lease, heartbeat, complete and fail, each with a
 * client of its own, recording what they are told (crash.h). They go on
 * through the server's deaths: a call that fails is retried where that is
 * safe, and otherwise recorded as unknown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crash.h"

struct worker_arg {
	struct load *l;
	int index;
};

static cairn_client *
client(const char *url)
{
	cairn_client_options o = { .timeout_ms = 2000, .lazy_connect = true };
	cairn_client *c = NULL;

	if (cairn_client_open(&c, url, &o, NULL, 0) != CAIRN_OK) {
		abort();
	}
	return (c);
}

/* enqueue_batch sends tasks seq .. seq + n - 1 of producer p. A batch with
 * keys is retried until answered (the keys make that safe); one without
 * keys is sent once, and when unanswered its outcome stays unknown. */
static void
enqueue_batch(
    struct load *l, cairn_client *c, int p, unsigned seq, int n, bool keyed)
{
	cairn_task_spec specs[4];
	cairn_enqueue_result r[4];
	char payload[4][32], key[4][32];
	int64_t first = wall_ms();
	int rv;

	for (int i = 0; i < n; i++) {
		snprintf(payload[i], sizeof(payload[i]), "p%d-%u", p, seq + i);
		snprintf(key[i], sizeof(key[i]), "k%d-%u", p, seq + i);
		specs[i] = (cairn_task_spec) {
			.queue = CRASH_QUEUE,
			.payload = payload[i],
			.payload_len = strlen(payload[i]),
			.max_attempts = CRASH_MAX_ATTEMPTS,
			.idempotency_key = keyed ? key[i] : NULL,
			.retry_initial_backoff_ms = 10,
			.retry_multiplier = 2,
			.retry_max_backoff_ms = 200,
		};
	}
	for (;;) {
		rv = cairn_enqueue(c, specs, (size_t) n, r);
		if (rv == CAIRN_OK) {
			for (int i = 0; i < n; i++) {
				history_enqueued(l->h, r[i].id, first);
			}
			return;
		}
		if (!keyed || atomic_load(&l->stop_producers)) {
			pthread_mutex_lock(&l->h->mu);
			l->h->unknown_enqueues += (uint64_t) n;
			pthread_mutex_unlock(&l->h->mu);
			return;
		}
		sleep_ms(50);
	}
}

static void *
producer(void *arg)
{
	struct worker_arg *a = arg;
	struct load *l = a->l;
	cairn_client *c = client(l->url);
	unsigned seed = l->seed + (unsigned) a->index, seq = 0;

	while (!atomic_load(&l->stop_producers)) {
		int n = 1 + rand_r(&seed) % 3;
		enqueue_batch(l, c, a->index, seq, n, rand_r(&seed) % 2 == 0);
		seq += (unsigned) n;
		sleep_ms(5);
	}
	cairn_client_close(c);
	free(a);
	return (NULL);
}

static bool
retryable(int rv)
{
	return (rv != CAIRN_OK && rv != CAIRN_FAILED_PRECONDITION
	    && rv != CAIRN_NOT_FOUND && rv != CAIRN_INVALID_ARGUMENT);
}

/* finish completes or fails one leased task, retrying with the same token
 * while the answer is unknown. */
static void
finish(struct load *l, cairn_client *c, const cairn_task *t, bool fail)
{
	char result[48];
	int64_t until = mono_ms() + 10000, sent;
	int rv, kind = fail ? CALL_FAIL : CALL_COMPLETE;

	snprintf(result, sizeof(result), "done:%s", t->lease_token);
	history_end_sent(l->h, t->id, t->lease_token, wall_ms(), kind);
	do {
		sent = wall_ms();
		rv = fail ? cairn_fail(c, t->id, t->lease_token, "on purpose",
		         true, 0, NULL, NULL)
		          : cairn_complete(c, t->id, t->lease_token, result,
		              strlen(result));
		if (rv == CAIRN_OK) {
			history_ok(l->h, t->id, t->lease_token, sent, 0, kind);
			return;
		}
		if (retryable(rv)) {
			sleep_ms(100);
		}
	} while (retryable(rv) && mono_ms() < until
	    && !atomic_load(&l->stop_workers));
	if (fail && retryable(rv)) {
		history_fail_unknown(l->h, t->id, t->lease_token);
	}
}

static void
work(struct load *l, cairn_client *c, const cairn_task *t, unsigned *seed)
{
	int64_t deadline, sent;

	if (!history_delivered(l->h, t->id, t->attempt, t->lease_token,
	        t->lease_deadline_ms)) {
		return;
	}
	sleep_ms(rand_r(seed) % 30);
	if (rand_r(seed) % 2 == 0) {
		sent = wall_ms();
		if (cairn_heartbeat(
		        c, t->id, t->lease_token, NULL, 0, NULL, &deadline)
		    == CAIRN_OK) {
			history_ok(l->h, t->id, t->lease_token, sent, deadline,
			    CALL_HEARTBEAT);
		}
	}
	finish(l, c, t, rand_r(seed) % 5 == 0);
}

static void *
worker(void *arg)
{
	struct worker_arg *a = arg;
	struct load *l = a->l;
	cairn_client *c = client(l->url);
	unsigned seed = l->seed * 7 + (unsigned) a->index;
	const char *q = CRASH_QUEUE;
	char wid[16];
	cairn_lease_options o = { .max_tasks = 2,
		.wait_ms = 300,
		.lease_timeout_ms = CRASH_LEASE_MS,
		.worker_id = wid };

	snprintf(wid, sizeof(wid), "w%d", a->index);
	while (!atomic_load(&l->stop_workers)) {
		cairn_task **ts;
		size_t n;
		if (cairn_lease(c, &q, 1, &o, &ts, &n) != CAIRN_OK) {
			sleep_ms(50);
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			work(l, c, ts[i], &seed);
		}
		cairn_tasks_free(ts, n);
	}
	cairn_client_close(c);
	free(a);
	return (NULL);
}

void
load_start(struct load *l)
{
	int k = 0;

	atomic_init(&l->stop_producers, false);
	atomic_init(&l->stop_workers, false);
	for (int i = 0; i < l->nprod + l->nwork && k < 64; i++, k++) {
		struct worker_arg *a = malloc(sizeof(*a));
		a->l = l;
		a->index = i;
		pthread_create(
		    &l->thr[k], NULL, i < l->nprod ? producer : worker, a);
	}
}

void
load_stop_producers(struct load *l)
{
	atomic_store(&l->stop_producers, true);
	for (int i = 0; i < l->nprod; i++) {
		pthread_join(l->thr[i], NULL);
	}
}

void
load_stop(struct load *l)
{
	atomic_store(&l->stop_workers, true);
	for (int i = l->nprod; i < l->nprod + l->nwork; i++) {
		pthread_join(l->thr[i], NULL);
	}
}

void
load_halt(struct load *l)
{
	atomic_store(&l->stop_producers, true);
	atomic_store(&l->stop_workers, true);
	for (int i = 0; i < l->nprod + l->nwork; i++) {
		pthread_join(l->thr[i], NULL);
	}
}
