/*
 * lifecycle/limits.c - a queue's limits on its leases, and its defaults
 * for its tasks (lifecycle/limits.h).
 *
 * The rate limit is a token bucket of rate_burst tokens (rate_count when
 * 0) that refills at rate_count per rate_interval_ms, kept as integer
 * credit: a token is worth rate_interval_ms, and every millisecond adds
 * rate_count. So the bucket's state is exact and the same on every server
 * that reads the row, whatever the rate.
 */
#include <stdio.h>
#include <string.h>

#include "lifecycle/limits.h"

static int64_t
bucket_cap(const struct queue_settings *q)
{
	uint32_t burst = q->rate_burst > 0 ? q->rate_burst : q->rate_count;

	return ((int64_t) burst * q->rate_interval_ms);
}

int64_t
lc_bucket_refill(const struct queue_settings *q, int64_t now)
{
	int64_t cap = bucket_cap(q);
	int64_t elapsed = now - q->bucket_at_ms;

	if (q->bucket_at_ms == 0 || elapsed >= cap / q->rate_count + 1) {
		return (cap); /* never drawn from, or long enough to refill */
	}
	if (elapsed <= 0) {
		return (q->bucket_credit);
	}
	int64_t credit = q->bucket_credit + elapsed * q->rate_count;
	return (credit < cap ? credit : cap);
}

int
lc_gate_open(struct store *s, const char *queue, int64_t now, uint32_t want,
    struct queue_gate *g)
{
	uint32_t active;
	int rv;

	memset(g, 0, sizeof(*g));
	g->want = want;
	g->allowed = want;
	rv = store_queue_get(s, queue, true, &g->q);
	if (rv == CAIRN_NOT_FOUND) {
		return (CAIRN_OK); /* no limits */
	}
	if (rv != CAIRN_OK) {
		return (rv);
	}
	g->limited = true;
	if (g->q.paused) {
		g->allowed = 0;
		return (CAIRN_OK);
	}
	if (g->q.max_active > 0) {
		if ((rv = store_queue_active(s, queue, &active)) != CAIRN_OK) {
			return (rv);
		}
		uint32_t room
		    = g->q.max_active > active ? g->q.max_active - active : 0;
		if (room < g->allowed) {
			g->allowed = room;
			g->by_active = true;
		}
	}
	if (g->q.rate_count > 0) {
		g->q.bucket_credit = lc_bucket_refill(&g->q, now);
		int64_t tokens = g->q.bucket_credit / g->q.rate_interval_ms;
		if (tokens < (int64_t) g->allowed) {
			g->allowed = (uint32_t) tokens;
			g->by_active = false;
		}
	}
	return (CAIRN_OK);
}

int
lc_gate_close(
    struct store *s, const struct queue_gate *g, uint32_t taken, int64_t now)
{
	const struct queue_settings *q = &g->q;
	int64_t credit;
	int rv;

	if (!g->limited) {
		return (CAIRN_OK);
	}
	credit = q->bucket_credit - (int64_t) taken * q->rate_interval_ms;
	if (q->rate_count > 0 && taken > 0
	    && (rv = store_queue_bucket(s, q->queue, credit, now))
	        != CAIRN_OK) {
		return (rv);
	}
	if (q->paused || g->allowed >= g->want) {
		return (CAIRN_OK); /* a change of the settings wakes it */
	}
	if (g->by_active) {
		store_note_held(s, q->queue, TASK_TIME_NEVER);
	} else {
		/* The next token: the credit it lacks, at rate_count per
		 * millisecond, rounded up. */
		int64_t lack = q->rate_interval_ms - credit;
		store_note_held(s, q->queue,
		    now + (lack + q->rate_count - 1) / q->rate_count);
	}
	return (CAIRN_OK);
}

int
lc_queue_defaults(
    struct store *s, struct queue_defaults *qd, struct task_spec *spec)
{
	const struct queue_settings *q = &qd->q;

	if (!qd->read || strcmp(qd->q.queue, spec->queue) != 0) {
		int rv = store_queue_get(s, spec->queue, false, &qd->q);
		if (rv != CAIRN_OK && rv != CAIRN_NOT_FOUND) {
			return (rv);
		}
		qd->read = true;
		qd->found = rv == CAIRN_OK;
		snprintf(qd->q.queue, sizeof(qd->q.queue), "%s", spec->queue);
	}
	if (!qd->found) {
		return (CAIRN_OK);
	}
	if (spec->max_attempts == 0) {
		spec->max_attempts = q->max_attempts;
	}
	if (spec->heartbeat_timeout_ms == 0) {
		spec->heartbeat_timeout_ms = q->heartbeat_timeout_ms;
	}
	if (spec->start_to_close_ms == 0) {
		spec->start_to_close_ms = q->start_to_close_ms;
	}
	if (spec->retry.initial_ms == 0) {
		spec->retry.initial_ms = q->retry.initial_ms;
	}
	if (spec->retry.multiplier == 0) {
		spec->retry.multiplier = q->retry.multiplier;
	}
	if (spec->retry.max_ms == 0) {
		spec->retry.max_ms = q->retry.max_ms;
	}
	return (CAIRN_OK);
}
