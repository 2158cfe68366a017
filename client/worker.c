/*
 * worker.c - the worker helper (cairn_worker_*): a lease loop on the
 * caller's thread, one thread per concurrency slot that runs the handler,
 * and one heartbeat thread for all the tasks held.
 *
 * Stop requests are atomic flags (cairn_worker_stop may run in a signal
 * handler), so every wait here is bounded and looks at them again; a
 * long-poll in flight ends by its own wait (poll_wait_ms).
 *
 * Times are the monotonic clock's: the server's deadlines are on its
 * clock, so the helper keeps its own, taken when it sent the request that
 * set them, which can only be earlier than the server's.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define IDLE_MS         100 /* how often idle waits look at the flags */
#define RETRY_MS        200 /* between tries of a call that may succeed */
#define GIVE_BACK_DELAY 1   /* ms: an abandoned task is due again at once */

struct cairn_job {
	cairn_worker *w;
	pthread_t thread;
	atomic_int reason; /* cairn_stop_reason */

	/* Under w->mu: */
	cairn_task *task; /* NULL: the slot is free */
	bool ended;       /* outcome sent, or lease lost: no more heartbeats */
	int64_t lease_ms;
	int64_t next_hb;  /* next heartbeat due */
	int64_t deadline; /* past it, the lease is surely gone */
	uint8_t *details; /* for the next heartbeat; NULL: none new */
	size_t details_len;
};

struct cairn_worker {
	cairn_client *c;
	cairn_worker_options o;
	cairn_handler handler;
	void *arg;
	atomic_bool stop, abandon;

	pthread_mutex_t mu;
	pthread_cond_t cv; /* a slot freed, a task handed out, quit */
	cairn_job *jobs;   /* o.concurrency of them */
	unsigned nfree;
	bool quit;
	pthread_t hb_thread;
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void
sleep_ms(int64_t ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* wait_ms waits on w->cv (mu held) for at most ms. */
static void
wait_ms(cairn_worker *w, int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(&w->cv, &w->mu, &ts);
}

static bool
transient(int status)
{
	return (status == CAIRN_UNAVAILABLE
	    || status == CAIRN_DEADLINE_EXCEEDED
	    || status == CAIRN_RESOURCE_EXHAUSTED
	    || status == CAIRN_CANCELLED);
}

cairn_stop_reason
cairn_job_stop_reason(cairn_job *j)
{
	int r = atomic_load(&j->reason);

	if (r == CAIRN_JOB_RUN && atomic_load(&j->w->abandon)) {
		return (CAIRN_JOB_ABANDONED);
	}
	return ((cairn_stop_reason) r);
}

cairn_stop_reason
cairn_job_wait_stop(cairn_job *j, int64_t ms)
{
	int64_t until = mono_ms() + (ms > 0 ? ms : 0);
	cairn_stop_reason r;

	while ((r = cairn_job_stop_reason(j)) == CAIRN_JOB_RUN) {
		int64_t left = until - mono_ms();
		if (left <= 0) {
			break;
		}
		sleep_ms(left < 20 ? left : 20);
	}
	return (r);
}

int
cairn_job_set_details(cairn_job *j, const void *details, size_t len)
{
	uint8_t *copy = malloc(len > 0 ? len : 1);

	if (copy == NULL) {
		return (CAIRN_RESOURCE_EXHAUSTED);
	}
	if (len > 0) {
		memcpy(copy, details, len);
	}
	pthread_mutex_lock(&j->w->mu);
	free(j->details);
	j->details = copy;
	j->details_len = len;
	pthread_mutex_unlock(&j->w->mu);
	return (CAIRN_OK);
}

/* deadline returns when the job's lease is surely gone. */
static int64_t
deadline(cairn_job *j)
{
	int64_t d;

	pthread_mutex_lock(&j->w->mu);
	d = j->deadline;
	pthread_mutex_unlock(&j->w->mu);
	return (d);
}

/* end marks the job's outcome as sent; false when it already was. */
static bool
end(cairn_job *j)
{
	bool first;

	pthread_mutex_lock(&j->w->mu);
	first = !j->ended;
	j->ended = true;
	pthread_mutex_unlock(&j->w->mu);
	return (first);
}

/* The server's fencing makes a repeated Complete or Fail that took effect
 * answer OK, so a call whose reply was lost is simply made again, until
 * the lease would be gone anyway. */
int
cairn_job_complete(cairn_job *j, const void *result, size_t len)
{
	cairn_task *t = j->task;
	int rv;

	if (!end(j)) {
		return (cairn__fail(j->w->c, CAIRN_FAILED_PRECONDITION,
		    "task %llu: already completed or failed",
		    (unsigned long long) t->id));
	}
	while (transient(rv = cairn_complete(
	                     j->w->c, t->id, t->lease_token, result, len))
	    && mono_ms() < deadline(j)) {
		sleep_ms(RETRY_MS);
	}
	return (rv);
}

static int
job_fail(cairn_job *j, const char *error, bool retryable, int64_t delay)
{
	cairn_task *t = j->task;
	int rv;

	if (!end(j)) {
		return (cairn__fail(j->w->c, CAIRN_FAILED_PRECONDITION,
		    "task %llu: already completed or failed",
		    (unsigned long long) t->id));
	}
	while (transient(rv = cairn_fail(j->w->c, t->id, t->lease_token, error,
	                     retryable, delay, NULL, NULL))
	    && mono_ms() < deadline(j)) {
		sleep_ms(RETRY_MS);
	}
	return (rv);
}

int
cairn_job_fail(cairn_job *j, const char *error, bool retryable)
{
	/* An abandoned task goes back at once rather than after a backoff:
	 * nothing went wrong with it. */
	return (job_fail(j, error, retryable,
	    cairn_job_stop_reason(j) == CAIRN_JOB_ABANDONED ? GIVE_BACK_DELAY
	                                                    : 0));
}

/* finish gives the default outcome of a handler that returned without
 * one. */
static void
finish(cairn_job *j)
{
	switch (cairn_job_stop_reason(j)) {
	case CAIRN_JOB_RUN:
		(void) cairn_job_complete(j, NULL, 0);
		break;
	case CAIRN_JOB_CANCELED:
		/* The server ends a canceled task CANCELED on this fail. */
		(void) job_fail(j, "canceled while running", true, 0);
		break;
	case CAIRN_JOB_ABANDONED:
		(void) job_fail(j, "worker stopped; task given back", true,
		    GIVE_BACK_DELAY);
		break;
	case CAIRN_JOB_LEASE_LOST:
		(void) end(j); /* another worker may hold it now */
		break;
	}
}

static void *
job_main(void *arg)
{
	cairn_job *j = arg;
	cairn_worker *w = j->w;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (j->task == NULL && !w->quit) {
			pthread_cond_wait(&w->cv, &w->mu);
		}
		if (j->task == NULL) {
			break;
		}
		pthread_mutex_unlock(&w->mu);
		w->handler(j, j->task, w->arg);
		pthread_mutex_lock(&w->mu);
		bool ended = j->ended;
		pthread_mutex_unlock(&w->mu);
		if (!ended) {
			finish(j);
		}
		pthread_mutex_lock(&w->mu);
		cairn_task_free(j->task);
		j->task = NULL;
		free(j->details);
		j->details = NULL;
		w->nfree++;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return (NULL);
}

/* heartbeat_one sends one heartbeat for slot j, due at now. */
static void
heartbeat_one(cairn_worker *w, cairn_job *j, int64_t now)
{
	char token[64];
	uint64_t id = j->task->id;
	uint8_t *details = j->details;
	size_t dlen = j->details_len;
	bool cancel = false;
	int rv;

	snprintf(token, sizeof(token), "%s", j->task->lease_token);
	j->details = NULL;
	pthread_mutex_unlock(&w->mu);
	rv = cairn_heartbeat(w->c, id, token, details, dlen, &cancel, NULL);
	pthread_mutex_lock(&w->mu);
	if (j->task == NULL || j->task->id != id || j->ended) {
		free(details);
		return; /* the handler finished meanwhile */
	}
	if (rv == CAIRN_OK) {
		free(details);
		j->deadline = now + j->lease_ms;
		j->next_hb = now
		    + (w->o.heartbeat_ms > 0 ? w->o.heartbeat_ms
		                             : j->lease_ms / 3);
		if (cancel) {
			atomic_store(&j->reason, CAIRN_JOB_CANCELED);
		}
	} else if (rv == CAIRN_FAILED_PRECONDITION || rv == CAIRN_NOT_FOUND
	    || mono_ms() >= j->deadline) {
		free(details);
		atomic_store(&j->reason, CAIRN_JOB_LEASE_LOST);
		j->ended = true;
	} else {
		/* Not reached: try again soon, details included. */
		if (j->details == NULL) {
			j->details = details;
			j->details_len = dlen;
		} else {
			free(details);
		}
		j->next_hb = mono_ms() + RETRY_MS;
	}
}

static void *
heartbeat_main(void *arg)
{
	cairn_worker *w = arg;

	pthread_mutex_lock(&w->mu);
	while (!w->quit) {
		for (unsigned i = 0; i < w->o.concurrency; i++) {
			cairn_job *j = &w->jobs[i];
			int64_t now = mono_ms();
			if (j->task != NULL && !j->ended
			    && now >= j->next_hb) {
				heartbeat_one(w, j, now);
			}
		}
		wait_ms(w, 20);
	}
	pthread_mutex_unlock(&w->mu);
	return (NULL);
}

/* hand_out gives a leased task to a free slot (mu held); leased_at is when
 * the lease was asked for. */
static void
hand_out(cairn_worker *w, cairn_task *t, int64_t leased_at)
{
	for (unsigned i = 0; i < w->o.concurrency; i++) {
		cairn_job *j = &w->jobs[i];
		if (j->task != NULL) {
			continue;
		}
		j->task = t;
		j->ended = false;
		atomic_store(&j->reason, CAIRN_JOB_RUN);
		j->lease_ms = w->o.lease_timeout_ms > 0 ? w->o.lease_timeout_ms
		    : t->heartbeat_timeout_ms > 0 ? t->heartbeat_timeout_ms
		                                  : 60000;
		j->deadline = leased_at + j->lease_ms;
		j->next_hb = mono_ms()
		    + (w->o.heartbeat_ms > 0 ? w->o.heartbeat_ms
		                             : j->lease_ms / 3);
		w->nfree--;
		pthread_cond_broadcast(&w->cv);
		return;
	}
}

/* lease_some leases up to want tasks and hands them out. Returns the
 * lease's status. */
static int
lease_some(cairn_worker *w, uint32_t want, uint64_t *started)
{
	cairn_lease_options lo = {
		.max_tasks = want,
		.wait_ms = w->o.poll_wait_ms,
		.worker_id = w->o.worker_id,
		.lease_timeout_ms = w->o.lease_timeout_ms,
		/* A worker that dies gives its tasks back within the
		 * server's grace period, not their heartbeat timeout. */
		.release_on_disconnect = true,
	};
	int64_t at = mono_ms();
	cairn_task **ts;
	size_t n;
	int rv;

	rv = cairn_lease(w->c, w->o.queues, w->o.nqueues, &lo, &ts, &n);
	if (rv != CAIRN_OK) {
		return (rv);
	}
	pthread_mutex_lock(&w->mu);
	for (size_t i = 0; i < n; i++) {
		if (atomic_load(&w->stop)) {
			/* Leased after the stop: not started, so given back
			 * rather than held. */
			pthread_mutex_unlock(&w->mu);
			(void) cairn_release(w->c, ts[i]->id,
			    ts[i]->lease_token,
			    "worker stopping; task given back", false, NULL);
			cairn_task_free(ts[i]);
			pthread_mutex_lock(&w->mu);
			continue;
		}
		hand_out(w, ts[i], at);
		(*started)++;
	}
	pthread_mutex_unlock(&w->mu);
	free(ts); /* the tasks now belong to the slots */
	return (CAIRN_OK);
}

/* lease_loop runs until a stop, max_tasks, or a lease that cannot work. */
static int
lease_loop(cairn_worker *w)
{
	int64_t backoff = RETRY_MS;
	uint64_t started = 0;
	int rv;

	while (!atomic_load(&w->stop)) {
		uint64_t left = w->o.max_tasks > 0 ? w->o.max_tasks - started
		                                   : UINT32_MAX;
		if (left == 0) {
			break;
		}
		pthread_mutex_lock(&w->mu);
		while (w->nfree == 0 && !atomic_load(&w->stop)) {
			wait_ms(w, IDLE_MS);
		}
		uint32_t want = w->nfree < left ? w->nfree : (uint32_t) left;
		pthread_mutex_unlock(&w->mu);
		if (atomic_load(&w->stop)) {
			break;
		}
		rv = lease_some(w, want, &started);
		if (rv == CAIRN_OK) {
			backoff = RETRY_MS;
		} else if (transient(rv) || rv == CAIRN_INTERNAL) {
			/* The server is away: wait for it, a little longer
			 * each time. */
			for (int64_t t = 0;
			     t < backoff && !atomic_load(&w->stop);
			     t += IDLE_MS) {
				sleep_ms(IDLE_MS);
			}
			backoff = backoff < 5000 ? backoff * 2 : 5000;
		} else {
			return (rv);
		}
	}
	return (CAIRN_OK);
}

int
cairn_worker_run(cairn_worker *w)
{
	unsigned started = 0;
	bool hb = false;
	int rv = CAIRN_OK;

	if (w == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	w->quit = false;
	w->nfree = w->o.concurrency;
	for (; started < w->o.concurrency; started++) {
		if (pthread_create(&w->jobs[started].thread, NULL, job_main,
		        &w->jobs[started])
		    != 0) {
			break;
		}
	}
	if (started == w->o.concurrency
	    && pthread_create(&w->hb_thread, NULL, heartbeat_main, w) == 0) {
		hb = true;
	}
	if (!hb) {
		rv = cairn__fail(w->c, CAIRN_RESOURCE_EXHAUSTED,
		    "cannot start the worker's threads");
		atomic_store(&w->stop, true);
	} else {
		rv = lease_loop(w);
	}
	/* Whatever ended the loop, the tasks held run to their end. */
	pthread_mutex_lock(&w->mu);
	while (w->nfree < w->o.concurrency) {
		wait_ms(w, IDLE_MS);
	}
	w->quit = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	for (unsigned i = 0; i < started; i++) {
		pthread_join(w->jobs[i].thread, NULL);
	}
	if (hb) {
		pthread_join(w->hb_thread, NULL);
	}
	return (rv);
}

void
cairn_worker_stop(cairn_worker *w, bool abandon)
{
	if (w == NULL) {
		return;
	}
	if (abandon) {
		atomic_store(&w->abandon, true);
	}
	atomic_store(&w->stop, true);
}

int
cairn_worker_new(cairn_worker **out, cairn_client *c,
    const cairn_worker_options *opts, cairn_handler handler, void *arg)
{
	cairn_worker *w;
	pthread_condattr_t ca;

	if (out == NULL || c == NULL || opts == NULL || handler == NULL
	    || opts->queues == NULL || opts->nqueues == 0) {
		return (c != NULL ? cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		            "cairn_worker_new: no queues or handler")
		                  : CAIRN_INVALID_ARGUMENT);
	}
	if (opts->poll_wait_ms < 0 || opts->lease_timeout_ms < 0
	    || opts->heartbeat_ms < 0) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "cairn_worker_new: a negative duration"));
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		return (
		    cairn__fail(c, CAIRN_RESOURCE_EXHAUSTED, "out of memory"));
	}
	w->c = c;
	w->o = *opts;
	w->handler = handler;
	w->arg = arg;
	if (w->o.concurrency == 0) {
		w->o.concurrency = 1;
	}
	if (w->o.poll_wait_ms == 0) {
		w->o.poll_wait_ms = 5000;
	}
	if ((w->jobs = calloc(w->o.concurrency, sizeof(*w->jobs))) == NULL) {
		free(w);
		return (
		    cairn__fail(c, CAIRN_RESOURCE_EXHAUSTED, "out of memory"));
	}
	for (unsigned i = 0; i < w->o.concurrency; i++) {
		w->jobs[i].w = w;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	*out = w;
	return (CAIRN_OK);
}

void
cairn_worker_free(cairn_worker *w)
{
	if (w == NULL) {
		return;
	}
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w->jobs);
	free(w);
}
