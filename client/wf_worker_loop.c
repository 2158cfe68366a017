/*
 * wf_worker_loop.c - the threads of the workflow worker: one lease loop
 * per concurrency slot, one heartbeat thread for the turns in progress,
 * and the public functions that make, run, stop and free a worker.
 *
 * Stop requests are an atomic flag (cairn_wf_worker_stop may run in a
 * signal handler), so every wait here is bounded and looks at it again; a
 * long-poll in flight ends by its own wait (poll_wait_ms).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wf_worker.h"

/* lease_one leases a run and runs its turn; returns the lease's status. */
static int
lease_one(struct wf_slot *s)
{
	cairn_wf_worker *w = s->w;
	cairn_wf_lease_options lo = {
		.wait_ms = w->o.poll_wait_ms,
		.worker_id = w->o.worker_id,
		.lease_timeout_ms = w->o.lease_timeout_ms,
		/* A worker that dies gives its runs back within the
		 * server's grace period. */
		.release_on_disconnect = true,
	};
	cairn_wf_known *known = NULL, *sent = NULL;
	cairn_leased_run *lr = NULL;
	int64_t at = cairn__wf_mono_ms();
	int rv;

	if (w->cache.cap > 0
	    && (known = calloc(w->cache.cap, sizeof(*known))) != NULL) {
		pthread_mutex_lock(&w->mu);
		lo.nknown = cairn__wf_cache_known(&w->cache, known);
		pthread_mutex_unlock(&w->mu);
		lo.known = known;
	}
	rv = cairn_workflow_lease(w->c, w->o.queues, w->o.nqueues, &lo, &lr);
	if (rv == CAIRN_OK && lr != NULL) {
		for (size_t i = 0; i < lo.nknown; i++) {
			if (known[i].run_id == lr->run->run_id) {
				sent = &known[i];
			}
		}
		cairn__wf_turn(s, lr, sent, at);
	}
	cairn_leased_run_free(lr);
	free(known);
	return (rv);
}

static void *
slot_main(void *arg)
{
	struct wf_slot *s = arg;
	cairn_wf_worker *w = s->w;
	int64_t backoff = RETRY_MS;
	int rv;

	while (!atomic_load(&w->stop)) {
		rv = lease_one(s);
		if (rv == CAIRN_OK) {
			backoff = RETRY_MS;
		} else if (cairn__wf_transient(rv) || rv == CAIRN_INTERNAL
		    || rv == CAIRN_RESOURCE_EXHAUSTED) {
			/* The server is away: wait for it, a little longer
			 * each time. */
			for (int64_t t = 0;
			     t < backoff && !atomic_load(&w->stop);
			     t += IDLE_MS) {
				cairn__wf_sleep_ms(IDLE_MS);
			}
			backoff = backoff < 5000 ? backoff * 2 : 5000;
		} else {
			pthread_mutex_lock(&w->mu);
			if (w->fatal == CAIRN_OK) {
				w->fatal = rv;
			}
			pthread_mutex_unlock(&w->mu);
			atomic_store(&w->stop, true);
		}
	}
	return (NULL);
}

/* heartbeat_one sends one heartbeat for slot s (mu held, unlocked while
 * the call is made). */
static void
heartbeat_one(cairn_wf_worker *w, struct wf_slot *s, int64_t now)
{
	uint64_t turn = s->turn, run_id = s->run_id;
	bool cancel = false;
	char *token;
	int rv;

	if ((token = strdup(s->token)) == NULL) {
		return;
	}
	pthread_mutex_unlock(&w->mu);
	rv = cairn_workflow_heartbeat(w->c, run_id, token, &cancel, NULL);
	free(token);
	pthread_mutex_lock(&w->mu);
	if (s->turn != turn) {
		return; /* the turn ended meanwhile */
	}
	if (rv == CAIRN_OK) {
		s->deadline = now + w->lease_ms;
		s->next_hb = now + w->hb_ms;
		if (cancel && s->ctx != NULL) {
			cairn__wf_ctx_set_cancel(s->ctx);
		}
	} else if (rv == CAIRN_FAILED_PRECONDITION || rv == CAIRN_NOT_FOUND
	    || cairn__wf_mono_ms() >= s->deadline) {
		/* The turn's next command stops it; nothing it sends can
		 * take effect now. */
		s->lost = true;
		if (s->ctx != NULL) {
			cairn__wf_ctx_lost(s->ctx);
		}
	} else {
		s->next_hb = cairn__wf_mono_ms() + RETRY_MS;
	}
}

static void *
heartbeat_main(void *arg)
{
	cairn_wf_worker *w = arg;
	struct timespec ts;

	pthread_mutex_lock(&w->mu);
	while (!w->quit) {
		for (unsigned i = 0; i < w->o.concurrency; i++) {
			struct wf_slot *s = &w->slots[i];
			int64_t now = cairn__wf_mono_ms();
			if (s->turn != 0 && !s->lost && now >= s->next_hb) {
				heartbeat_one(w, s, now);
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 20 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&w->cv, &w->mu, &ts);
	}
	pthread_mutex_unlock(&w->mu);
	return (NULL);
}

int
cairn_wf_worker_run(cairn_wf_worker *w)
{
	unsigned started = 0;
	bool hb = false;
	int rv;

	if (w == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	w->quit = false;
	w->fatal = CAIRN_OK;
	if (pthread_create(&w->hb_thread, NULL, heartbeat_main, w) == 0) {
		hb = true;
		for (; started < w->o.concurrency; started++) {
			if (pthread_create(&w->slots[started].thread, NULL,
			        slot_main, &w->slots[started])
			    != 0) {
				break;
			}
		}
	}
	if (!hb || started < w->o.concurrency) {
		atomic_store(&w->stop, true);
	}
	/* Whatever ends the loops, the turns in progress run to their end. */
	for (unsigned i = 0; i < started; i++) {
		pthread_join(w->slots[i].thread, NULL);
	}
	pthread_mutex_lock(&w->mu);
	w->quit = true;
	pthread_cond_broadcast(&w->cv);
	rv = w->fatal;
	pthread_mutex_unlock(&w->mu);
	if (hb) {
		pthread_join(w->hb_thread, NULL);
	}
	if (!hb || started < w->o.concurrency) {
		return (cairn__fail(w->c, CAIRN_RESOURCE_EXHAUSTED,
		    "cannot start the workflow worker's threads"));
	}
	return (rv);
}

void
cairn_wf_worker_stop(cairn_wf_worker *w)
{
	if (w != NULL) {
		atomic_store(&w->stop, true);
	}
}

static int
check_options(cairn_client *c, const cairn_wf_worker_options *o)
{
	if (o->nqueues > 0 && o->queues == NULL) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "cairn_wf_worker_new: queues is NULL"));
	}
	for (size_t i = 0; i < o->nqueues; i++) {
		if (o->queues[i] == NULL) {
			return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
			    "cairn_wf_worker_new: queue %zu is NULL", i));
		}
	}
	if (o->poll_wait_ms < 0 || o->lease_timeout_ms < 0
	    || o->heartbeat_ms < 0) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "cairn_wf_worker_new: a negative duration"));
	}
	return (CAIRN_OK);
}

/* defaults fills the zero options of w->o. */
static void
defaults(cairn_wf_worker *w)
{
	if (w->o.nqueues == 0) {
		w->default_queue[0] = CAIRN_WF_DEFAULT_QUEUE;
		w->o.queues = w->default_queue;
		w->o.nqueues = 1;
	}
	if (w->o.concurrency == 0) {
		w->o.concurrency = 1;
	}
	if (w->o.poll_wait_ms == 0) {
		w->o.poll_wait_ms = 5000;
	}
	w->lease_ms = w->o.lease_timeout_ms > 0 ? w->o.lease_timeout_ms
	                                        : DEFAULT_LEASE_MS;
	w->hb_ms = w->o.heartbeat_ms > 0 ? w->o.heartbeat_ms : w->lease_ms / 3;
	if (w->o.cache_runs == 0) {
		w->o.cache_runs = DEFAULT_CACHE;
	}
}

int
cairn_wf_worker_new(cairn_wf_worker **out, cairn_client *c,
    const cairn_wf_worker_options *opts)
{
	static const cairn_wf_worker_options none = { 0 };
	cairn_wf_worker *w;
	pthread_condattr_t ca;
	int rv;

	if (out == NULL || c == NULL) {
		return (c != NULL ? cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		            "cairn_wf_worker_new: out is NULL")
		                  : CAIRN_INVALID_ARGUMENT);
	}
	if (opts == NULL) {
		opts = &none;
	}
	if ((rv = check_options(c, opts)) != CAIRN_OK) {
		return (rv);
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		return (
		    cairn__fail(c, CAIRN_RESOURCE_EXHAUSTED, "out of memory"));
	}
	w->c = c;
	w->o = *opts;
	defaults(w);
	if ((w->slots = calloc(w->o.concurrency, sizeof(*w->slots))) == NULL
	    || !cairn__wf_cache_init(
	        &w->cache, w->o.no_cache ? 0 : w->o.cache_runs)) {
		free(w->slots);
		free(w);
		return (
		    cairn__fail(c, CAIRN_RESOURCE_EXHAUSTED, "out of memory"));
	}
	for (unsigned i = 0; i < w->o.concurrency; i++) {
		w->slots[i].w = w;
	}
	atomic_init(&w->stop, false);
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	*out = w;
	return (CAIRN_OK);
}

int
cairn_wf_worker_register(
    cairn_wf_worker *w, const char *type, cairn_wf_fn fn, void *arg)
{
	struct wf_type *v;

	if (w == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if (type == NULL || type[0] == '\0' || fn == NULL) {
		return (cairn__fail(w->c, CAIRN_INVALID_ARGUMENT,
		    "cairn_wf_worker_register: no type or function"));
	}
	for (size_t i = 0; i < w->ntypes; i++) {
		if (strcmp(w->types[i].name, type) == 0) {
			return (cairn__fail(w->c, CAIRN_ALREADY_EXISTS,
			    "cairn_wf_worker_register: type \"%s\" is "
			    "registered already",
			    type));
		}
	}
	if ((v = realloc(w->types, (w->ntypes + 1) * sizeof(*v))) == NULL) {
		return (cairn__fail(
		    w->c, CAIRN_RESOURCE_EXHAUSTED, "out of memory"));
	}
	w->types = v;
	if ((v[w->ntypes].name = strdup(type)) == NULL) {
		return (cairn__fail(
		    w->c, CAIRN_RESOURCE_EXHAUSTED, "out of memory"));
	}
	v[w->ntypes].fn = fn;
	v[w->ntypes].arg = arg;
	w->ntypes++;
	return (CAIRN_OK);
}

void
cairn_wf_worker_get_stats(cairn_wf_worker *w, cairn_wf_worker_stats *out)
{
	pthread_mutex_lock(&w->mu);
	*out = w->stats;
	pthread_mutex_unlock(&w->mu);
}

void
cairn_wf_worker_free(cairn_wf_worker *w)
{
	if (w == NULL) {
		return;
	}
	for (size_t i = 0; i < w->ntypes; i++) {
		free(w->types[i].name);
	}
	free(w->types);
	cairn__wf_cache_clear(&w->cache);
	free(w->slots);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
