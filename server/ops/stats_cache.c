/*
 * ops/stats_cache.c - counts read through the engine, kept a while
 * (stats_cache.h).
 */
#include <pthread.h>
#include <stdlib.h>

#include "ops/metrics.h"
#include "ops/probe.h"
#include "ops/stats_cache.h"

struct stats_cache {
	struct engine *engine;
	int64_t ttl_ms;
	int64_t timeout_ms;
	pthread_mutex_t mu; /* held while reading, so a second asker waits
	                       for that read instead of making its own */
	struct stats_snap *cur;
	uint64_t read_at; /* metrics_clock of the last read; 0: never */
};

static void
snap_free(struct stats_snap *s)
{
	if (s != NULL) {
		queue_stats_free(s->st, s->nst);
		free(s->qs);
		wf_type_stats_free(s->wst, s->nwst);
		free(s);
	}
}

struct stats_cache *
stats_cache_new(struct engine *e, int64_t ttl_ms, int64_t timeout_ms)
{
	struct stats_cache *c = calloc(1, sizeof(*c));

	if (c == NULL || (c->cur = calloc(1, sizeof(*c->cur))) == NULL) {
		free(c);
		return (NULL);
	}
	c->cur->refs = 1;
	c->engine = e;
	c->ttl_ms = ttl_ms;
	c->timeout_ms = timeout_ms;
	pthread_mutex_init(&c->mu, NULL);
	return (c);
}

void
stats_cache_free(struct stats_cache *c)
{
	if (c != NULL) {
		snap_free(c->cur);
		pthread_mutex_destroy(&c->mu);
		free(c);
	}
}

/* reread reads both counts into a new snapshot. A read that fails leaves
 * its counts empty (ok false for tasks): what is not known now is not
 * shown as if it were; a store without workflows has no runs. */
static struct stats_snap *
reread(struct stats_cache *c)
{
	struct stats_snap *s = calloc(1, sizeof(*s));
	uint64_t t0 = metrics_clock();
	struct probe *p;

	if (s == NULL) {
		return (NULL);
	}
	s->refs = 1;
	s->at_ms = engine_now(c->engine);
	if ((p = probe_new(OP_STATS)) != NULL
	    && (p = probe_run(c->engine, p, c->timeout_ms)) != NULL
	    && p->op.status == CAIRN_OK) {
		s->ok = true;
		s->st = p->op.out.stats.st;
		s->nst = p->op.out.stats.n;
		p->op.out.stats.st = NULL;
		p->op.out.stats.n = 0;
		s->qs = p->op.out.stats.qs;
		s->nqs = p->op.out.stats.nqs;
		p->op.out.stats.qs = NULL;
		p->op.out.stats.nqs = 0;
	}
	probe_free(p);
	if ((p = probe_new(OP_WF_STATS)) != NULL
	    && (p = probe_run(c->engine, p, c->timeout_ms)) != NULL
	    && p->op.status == CAIRN_OK) {
		s->wst = p->op.out.wf_stats.st;
		s->nwst = p->op.out.wf_stats.n;
		p->op.out.wf_stats.st = NULL;
		p->op.out.wf_stats.n = 0;
	}
	probe_free(p);
	s->took_ns = metrics_clock() - t0;
	return (s);
}

const struct stats_snap *
stats_cache_get(struct stats_cache *c)
{
	uint64_t now = metrics_clock();
	uint64_t min_age = (uint64_t) c->ttl_ms * 1000000u;
	struct stats_snap *s;

	pthread_mutex_lock(&c->mu);
	if (c->cur->took_ns * 10 > min_age) {
		min_age = c->cur->took_ns * 10;
	}
	if (c->read_at == 0 || now - c->read_at >= min_age) {
		c->read_at = now;
		if ((s = reread(c)) != NULL) {
			if (--c->cur->refs == 0) {
				snap_free(c->cur);
			}
			c->cur = s;
		}
	}
	s = c->cur;
	s->refs++;
	pthread_mutex_unlock(&c->mu);
	return (s);
}

void
stats_snap_release(struct stats_cache *c, const struct stats_snap *s)
{
	struct stats_snap *m = (struct stats_snap *) s;

	if (m == NULL) {
		return;
	}
	pthread_mutex_lock(&c->mu);
	if (--m->refs == 0) {
		snap_free(m);
	}
	pthread_mutex_unlock(&c->mu);
}
