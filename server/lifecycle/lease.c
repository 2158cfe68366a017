/*
 * lifecycle/lease.c - leasing: take due PENDING tasks in order priority
 * desc, run_at asc, id asc, from one or more queues, and start an attempt
 * on each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle/lifecycle.h"
#include "lifecycle/limits.h"

static int
row_order(const void *a, const void *b)
{
	const struct task *x = &((const struct task_row *) a)->t;
	const struct task *y = &((const struct task_row *) b)->t;

	if (x->priority != y->priority) {
		return (x->priority > y->priority ? -1 : 1);
	}
	if (x->run_at_ms != y->run_at_ms) {
		return (x->run_at_ms < y->run_at_ms ? -1 : 1);
	}
	return (x->id < y->id ? -1 : x->id > y->id);
}

/* free_shells frees the first n of tasks, not filled yet, and tasks. */
static void
free_shells(struct task **tasks, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(tasks[i]);
	}
	free(tasks);
}

/* dup_of returns the index of the first queue of req named as queue q. */
static size_t
dup_of(const struct lease_request *req, size_t q)
{
	for (size_t i = 0; i < q; i++) {
		if (strcmp(req->queues[i], req->queues[q]) == 0) {
			return (i);
		}
	}
	return (q);
}

/* start_attempt turns a due PENDING row into an ACTIVE one with a fresh
 * token, records the event and saves it. */
static int
start_attempt(struct store *s, struct task_row *row,
    const struct lease_request *req, int64_t now)
{
	struct task_event ev;
	bool by_stc;
	char *worker = NULL;

	if (req->worker_id != NULL && req->worker_id[0] != 0
	    && (worker = strdup(req->worker_id)) == NULL) {
		return (CAIRN_RESOURCE_EXHAUSTED);
	}
	free(row->t.worker_id);
	row->t.worker_id = worker;
	row->t.state = CAIRN_ACTIVE;
	row->t.attempt++;
	row->t.updated_ms = now;
	task_token_new(row->t.lease_token);
	row->outcome = LEASE_NONE;
	row->lease_timeout_ms = req->lease_timeout_ms > 0
	    ? req->lease_timeout_ms
	    : row->t.heartbeat_timeout_ms;
	row->attempt_deadline_ms = row->t.start_to_close_ms > 0
	    ? now + row->t.start_to_close_ms
	    : TASK_TIME_NEVER;
	row->t.lease_deadline_ms = task_lease_deadline(
	    now, row->lease_timeout_ms, row->attempt_deadline_ms, &by_stc);

	ev = (struct task_event) {
		.at_ms = now,
		.kind = "leased",
		.attempt = row->t.attempt,
		.worker_id = row->t.worker_id,
	};
	row->event_seq++;
	int rv = store_add_event(s, row->t.id, row->event_seq, &ev);
	return (rv != CAIRN_OK ? rv : store_save(s, row));
}

/* open_gates reads the limits of every queue of req, in the order of
 * their names, so that servers that lock the rows of limited queues
 * (PostgreSQL) always lock them in one order. A queue named twice gets
 * nothing the second time: its limits are counted once. */
static int
open_gates(struct store *s, const struct lease_request *req, int64_t now,
    struct queue_gate *gates)
{
	bool *open = calloc(req->nqueues, sizeof(*open));
	int rv = CAIRN_OK;

	if (open == NULL) {
		return (CAIRN_RESOURCE_EXHAUSTED);
	}
	for (size_t done = 0; done < req->nqueues && rv == CAIRN_OK; done++) {
		size_t first = req->nqueues;
		for (size_t q = 0; q < req->nqueues; q++) {
			if (!open[q]
			    && (first == req->nqueues
			        || strcmp(req->queues[q], req->queues[first])
			            < 0)) {
				first = q;
			}
		}
		open[first] = true;
		if (dup_of(req, first) < first) {
			memset(&gates[first], 0, sizeof(gates[first]));
			continue; /* allowed 0 */
		}
		rv = lc_gate_open(
		    s, req->queues[first], now, req->max_tasks, &gates[first]);
	}
	free(open);
	return (rv);
}

/* gather loads the due candidates of every queue, up to what its limits
 * allow and max per queue. */
static int
gather(struct store *s, const struct lease_request *req, int64_t now,
    uint64_t *ids, struct task_row *rows, size_t *nrows,
    const struct queue_gate *gates)
{
	size_t total = 0, got;
	int rv;

	for (size_t q = 0; q < req->nqueues; q++) {
		if (gates[q].allowed == 0) {
			continue;
		}
		rv = store_pick_due(
		    s, req->queues[q], now, gates[q].allowed, ids, &got);
		if (rv != CAIRN_OK) {
			goto fail;
		}
		for (size_t i = 0; i < got; i++) {
			rv = store_load(s, ids[i], &rows[total]);
			if (rv != CAIRN_OK) {
				goto fail;
			}
			total++;
		}
	}
	*nrows = total;
	return (CAIRN_OK);
fail:
	while (total > 0) {
		task_row_clear(&rows[--total]);
	}
	return (rv);
}

/* close_gates charges each queue's limits with the tasks taken from it. */
static int
close_gates(struct store *s, const struct lease_request *req,
    const struct queue_gate *gates, struct task_row *rows, size_t taken,
    int64_t now)
{
	for (size_t q = 0; q < req->nqueues; q++) {
		uint32_t n = 0;
		int rv;
		if (!gates[q].limited) {
			continue;
		}
		for (size_t i = 0; i < taken; i++) {
			n += strcmp(rows[i].t.queue, req->queues[q]) == 0;
		}
		if ((rv = lc_gate_close(s, &gates[q], n, now)) != CAIRN_OK) {
			return (rv);
		}
	}
	return (CAIRN_OK);
}

int
lifecycle_lease(struct store *s, const struct lease_request *req, int64_t now,
    struct task ***out, size_t *n, char *msg)
{
	size_t cap = (size_t) req->max_tasks * req->nqueues;
	uint64_t *ids = calloc(req->max_tasks, sizeof(*ids));
	struct task_row *rows = calloc(cap, sizeof(*rows));
	struct queue_gate *gates = calloc(req->nqueues, sizeof(*gates));
	struct task **tasks = NULL;
	size_t nrows = 0, taken = 0;
	int rv = CAIRN_RESOURCE_EXHAUSTED;

	if (ids == NULL || rows == NULL || gates == NULL) {
		goto out;
	}
	if ((rv = open_gates(s, req, now, gates)) != CAIRN_OK
	    || (rv = gather(s, req, now, ids, rows, &nrows, gates))
	        != CAIRN_OK) {
		goto out;
	}
	if (req->nqueues > 1) {
		qsort(rows, nrows, sizeof(*rows), row_order);
	}
	taken = nrows < req->max_tasks ? nrows : req->max_tasks;
	if (taken > 0 && (tasks = calloc(taken, sizeof(*tasks))) == NULL) {
		rv = CAIRN_RESOURCE_EXHAUSTED;
		goto out;
	}
	for (size_t i = 0; i < taken; i++) {
		if ((rv = start_attempt(s, &rows[i], req, now)) != CAIRN_OK
		    || (tasks[i] = malloc(sizeof(**tasks))) == NULL) {
			rv = rv != CAIRN_OK ? rv : CAIRN_RESOURCE_EXHAUSTED;
			free_shells(tasks, i + 1);
			goto out;
		}
	}
	if ((rv = close_gates(s, req, gates, rows, taken, now)) != CAIRN_OK) {
		free_shells(tasks, taken);
		goto out;
	}
	for (size_t i = 0; i < taken; i++) {
		*tasks[i] = rows[i].t;
		memset(&rows[i].t, 0, sizeof(rows[i].t));
	}
	*out = tasks;
	*n = taken;
out:
	if (rv != CAIRN_OK) {
		snprintf(msg, LC_MSG_MAX, "%s",
		    rv == CAIRN_RESOURCE_EXHAUSTED ? "out of memory"
		                                   : store_errmsg(s));
	}
	for (size_t i = 0; i < nrows; i++) {
		task_row_clear(&rows[i]);
	}
	free(rows);
	free(gates);
	free(ids);
	return (rv);
}
