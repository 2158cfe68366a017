/*
 * ops/probe.c - engine ops with a time limit (probe.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops/probe.h"

void
probe_free(struct probe *p)
{
	if (p == NULL) {
		return;
	}
	engine_op_clear(&p->op);
	for (size_t i = 0; i < PROBE_KEEP_MAX; i++) {
		free(p->kept[i]);
	}
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

static void
probe_done(struct engine_op *op)
{
	struct probe *p = op->arg;

	pthread_mutex_lock(&p->mu);
	if (p->state == PROBE_ABANDONED) {
		pthread_mutex_unlock(&p->mu);
		probe_free(p);
		return;
	}
	p->state = PROBE_DONE;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

struct probe *
probe_run(struct engine *e, struct probe *p, int64_t timeout_ms)
{
	struct timespec until;
	bool done;

	p->op.done = probe_done;
	p->op.arg = p;
	if (engine_submit(e, &p->op) != CAIRN_OK) {
		probe_free(p);
		return (NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (timeout_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&p->mu);
	while (p->state == PROBE_WAITING
	    && pthread_cond_timedwait(&p->cv, &p->mu, &until) != ETIMEDOUT) { }
	done = p->state == PROBE_DONE;
	if (!done) {
		p->state = PROBE_ABANDONED; /* probe_done frees it */
	}
	pthread_mutex_unlock(&p->mu);
	return (done ? p : NULL);
}

void *
probe_keep(struct probe *p, const void *data, size_t len)
{
	for (size_t i = 0; i < PROBE_KEEP_MAX; i++) {
		if (p->kept[i] == NULL) {
			char *c = malloc(len + 1);
			if (c != NULL) {
				if (data != NULL) {
					memcpy(c, data, len);
				} else {
					memset(c, 0, len);
				}
				c[len] = 0;
			}
			return (p->kept[i] = c);
		}
	}
	return (NULL);
}

struct probe *
probe_new(enum engine_op_kind kind)
{
	struct probe *p = calloc(1, sizeof(*p));
	pthread_condattr_t ca;

	if (p == NULL) {
		return (NULL);
	}
	p->op.kind = kind;
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cv, &ca);
	pthread_condattr_destroy(&ca);
	return (p);
}
