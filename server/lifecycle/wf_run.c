/*
 * lifecycle/wf_run.c - runs and their workflow tasks: start, lease,
 * heartbeat, a failed workflow task, and the expiry of leases. A workflow
 * task is leased, heartbeated and fenced by token like a task.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle/replay.h"
#include "lifecycle/wf_internal.h"
#include "ops/metrics.h"

int
wf_load_run(struct store *s, uint64_t id, struct wf_run *run, char *msg)
{
	int rv = store_wf_load(s, id, run);

	if (rv == CAIRN_NOT_FOUND) {
		return (lc_refuse(
		    rv, msg, "workflow run %" PRIu64 " not found", id));
	}
	return (rv != CAIRN_OK ? lc_fault(s, rv, msg) : CAIRN_OK);
}

void
wf_make_runnable(struct store *s, struct wf_run *run, int64_t now)
{
	if (run->state != WF_RUNNING || run->phase != WF_WAITING) {
		return;
	}
	run->phase = WF_RUNNABLE;
	run->ready_at_ms = now;
	store_note_runnable(s, run->queue);
}

void
wf_leased_clear(struct wf_leased *l)
{
	wf_run_clear(&l->run);
	wf_entries_free(l->entries, l->n);
	memset(l, 0, sizeof(*l));
}

void
wf_advanced_clear(struct wf_advanced *a)
{
	wf_entries_free(a->entries, a->n);
	memset(a, 0, sizeof(*a));
}

int
lifecycle_wf_find(struct store *s, const char *workflow_id, uint64_t run_id,
    uint64_t *id, char *msg)
{
	struct wf_run run = { 0 };
	int rv;

	if (run_id != 0) {
		/* Whether it exists: the op that follows loads (and locks)
		 * the run if it changes it. */
		rv = store_wf_get(s, run_id, &run);
		wf_run_clear(&run);
		if (rv == CAIRN_OK) {
			*id = run_id;
			return (rv);
		}
		if (rv == CAIRN_NOT_FOUND) {
			return (lc_refuse(rv, msg,
			    "workflow run %" PRIu64 " not found", run_id));
		}
		return (lc_fault(s, rv, msg));
	}
	rv = store_wf_find(s, workflow_id, id);
	if (rv == CAIRN_NOT_FOUND) {
		return (lc_refuse(
		    rv, msg, "no workflow run with id '%.128s'", workflow_id));
	}
	return (rv != CAIRN_OK ? lc_fault(s, rv, msg) : CAIRN_OK);
}

/* request_key writes the key of a request record: a letter per rpc, so
 * that ids of different rpcs never meet (lifecycle/replay.h). */
static void
request_key(char *key, size_t len, char rpc, const char *request_id)
{
	snprintf(key, len, "%c:%s", rpc, request_id);
}

/* recall looks a request record up; *rec (free) is NULL when unseen. */
static int
recall(
    struct store *s, char rpc, const char *request_id, char **rec, char *msg)
{
	char key[LC_REQUEST_KEY_MAX];
	uint8_t *res = NULL;
	size_t len = 0;
	bool found = false;
	int rv;

	*rec = NULL;
	if (request_id == NULL || request_id[0] == 0) {
		return (CAIRN_OK);
	}
	request_key(key, sizeof(key), rpc, request_id);
	if ((rv = store_request_get(s, key, &found, &res, &len)) != 0) {
		return (lc_fault(s, rv, msg));
	}
	if (found) {
		/* Records are text; the store hands back exactly len bytes. */
		char *text = realloc(res, len + 1);
		if (text == NULL) {
			free(res);
			return (lc_refuse(
			    CAIRN_RESOURCE_EXHAUSTED, msg, "out of memory"));
		}
		text[len] = 0;
		*rec = text;
	}
	return (CAIRN_OK);
}

int
wf_remember(struct store *s, char rpc, const char *request_id, int64_t now,
    const char *rec, char *msg)
{
	char key[LC_REQUEST_KEY_MAX];
	int rv;

	if (request_id == NULL || request_id[0] == 0) {
		return (CAIRN_OK);
	}
	request_key(key, sizeof(key), rpc, request_id);
	rv = store_request_put(
	    s, key, now, (const uint8_t *) rec, strlen(rec));
	return (rv != CAIRN_OK ? lc_fault(s, rv, msg) : CAIRN_OK);
}

int
wf_recall(
    struct store *s, char rpc, const char *request_id, char **rec, char *msg)
{
	return (recall(s, rpc, request_id, rec, msg));
}

int
lifecycle_wf_start(struct store *s, const struct wf_start *st,
    const char *request_id, int64_t now, uint64_t *run_id, bool *created,
    char *msg)
{
	char generated[40], rec[32];
	struct wf_start copy = *st;
	char *seen;
	int rv;

	if ((rv = recall(s, 's', request_id, &seen, msg)) != CAIRN_OK) {
		return (rv);
	}
	if (seen != NULL) {
		uint64_t id = 0;
		int ok = sscanf(seen, "%" SCNu64, &id);
		free(seen);
		if (ok != 1) {
			return (lc_refuse(CAIRN_INVALID_ARGUMENT, msg,
			    "request_id %.64s was used before for another "
			    "request",
			    request_id));
		}
		*run_id = id;
		*created = false;
		return (CAIRN_OK);
	}
	if (copy.workflow_id == NULL || copy.workflow_id[0] == 0) {
		char hex[TASK_TOKEN_LEN + 1];
		task_token_new(hex);
		snprintf(generated, sizeof(generated), "wf-%s", hex);
		copy.workflow_id = generated;
	}
	rv = store_wf_insert(s, &copy, now, run_id, created);
	if (rv != CAIRN_OK) {
		return (lc_fault(s, rv, msg));
	}
	if (*created) {
		store_note_runnable(s, copy.queue);
	}
	snprintf(rec, sizeof(rec), "%" PRIu64, *run_id);
	return (wf_remember(s, 's', request_id, now, rec, msg));
}

int
wf_check_lease(struct store *s, struct wf_run *run, const char *token,
    int64_t now, int repeat_ok, bool *repeated, char *msg)
{
	bool same
	    = run->lease_token[0] != 0 && strcmp(run->lease_token, token) == 0;
	int rv;

	*repeated = false;
	if (same && run->state == WF_RUNNING && run->phase == WF_LEASED) {
		if (run->lease_deadline_ms > now) {
			return (CAIRN_OK);
		}
		/* Lost at its deadline, whether or not anything noticed. */
		metrics_wf_lease_expired();
		run->phase = WF_WAITING;
		run->lease_outcome = WF_LEASE_EXPIRED;
		run->lease_deadline_ms = 0;
		run->updated_ms = now;
		wf_make_runnable(s, run, now);
		if ((rv = store_wf_save(s, run)) != CAIRN_OK) {
			return (lc_fault(s, rv, msg));
		}
	} else if (same && repeat_ok != WF_LEASE_NONE
	    && run->lease_outcome == repeat_ok) {
		*repeated = true;
		return (CAIRN_OK);
	}
	if (!same) {
		return (lc_refuse(CAIRN_FAILED_PRECONDITION, msg,
		    "lease lost: the token is not the current lease of run "
		    "%" PRIu64,
		    run->id));
	}
	switch (run->lease_outcome) {
	case WF_LEASE_EXPIRED:
		return (lc_refuse(CAIRN_FAILED_PRECONDITION, msg,
		    "lease lost: the lease of run %" PRIu64 " expired",
		    run->id));
	case WF_LEASE_ENDED:
		return (lc_refuse(CAIRN_FAILED_PRECONDITION, msg,
		    "lease lost: run %" PRIu64 " is %s", run->id,
		    wf_state_name(run->state)));
	default:
		return (lc_refuse(CAIRN_FAILED_PRECONDITION, msg,
		    "lease lost: this lease of run %" PRIu64
		    " already ended its turn",
		    run->id));
	}
}

/* read_log reads the log a leased run is answered with: what the worker
 * lacks when it holds the run in memory, else all of it. */
static int
read_log(
    struct store *s, const struct wf_lease_request *req, struct wf_leased *out)
{
	struct wf_read q = { .run_id = out->run.id };

	for (size_t i = 0; i < req->nknown; i++) {
		const struct wf_known *k = &req->known[i];
		if (k->run_id == out->run.id
		    && k->log_length < out->run.next_seq
		    && k->resolved_count <= out->run.resolved_count) {
			q.after_seq = k->log_length;
			q.delta = true;
			q.after_order = k->resolved_count;
			out->delta = true;
			break;
		}
	}
	return (store_wf_entries(s, &q, &out->entries, &out->n));
}

/* pick chooses the run to lease: of each queue's oldest runnable run, the
 * one that became runnable first. */
static int
pick(struct store *s, const struct wf_lease_request *req, int64_t now,
    struct wf_run *best)
{
	for (size_t q = 0; q < req->nqueues; q++) {
		struct wf_run run = { 0 };
		uint64_t id;
		size_t n;
		int rv
		    = store_wf_pick_ready(s, req->queues[q], now, 1, &id, &n);
		if (rv != CAIRN_OK) {
			return (rv);
		}
		if (n == 0) {
			continue;
		}
		if ((rv = store_wf_load(s, id, &run)) != CAIRN_OK) {
			return (rv);
		}
		if (best->id == 0 || run.ready_at_ms < best->ready_at_ms
		    || (run.ready_at_ms == best->ready_at_ms
		        && run.id < best->id)) {
			wf_run_clear(best);
			*best = run;
		} else {
			wf_run_clear(&run);
		}
	}
	return (CAIRN_OK);
}

/* replay_lease answers a resent LeaseWorkflow with the run it leased. */
static int
replay_lease(struct store *s, const char *rec, const char *request_id,
    int64_t now, struct wf_leased *out, char *msg)
{
	char token[TASK_TOKEN_LEN + 1];
	uint64_t id;
	int rv;

	if (sscanf(rec, "%" SCNu64 ":%32s", &id, token) != 2) {
		return (lc_refuse(CAIRN_INVALID_ARGUMENT, msg,
		    "request_id %.64s was used before for another request",
		    request_id));
	}
	if ((rv = wf_load_run(s, id, &out->run, msg)) != CAIRN_OK) {
		return (rv);
	}
	if (strcmp(out->run.lease_token, token) != 0
	    || out->run.phase != WF_LEASED) {
		/* The lease ended since: the worker learns it is lost at
		 * its first call. */
		snprintf(out->run.lease_token, sizeof(out->run.lease_token),
		    "%s", token);
		out->run.lease_deadline_ms = now;
	}
	struct wf_read q = { .run_id = id };
	if ((rv = store_wf_entries(s, &q, &out->entries, &out->n)) != 0) {
		return (lc_fault(s, rv, msg));
	}
	return (CAIRN_OK);
}

int
lifecycle_wf_lease(struct store *s, const struct wf_lease_request *req,
    const char *request_id, int64_t now, struct wf_leased *out, char *msg)
{
	struct wf_run *run = &out->run;
	char rec[64], *seen;
	int rv;

	memset(out, 0, sizeof(*out));
	if ((rv = recall(s, 'w', request_id, &seen, msg)) != CAIRN_OK) {
		return (rv);
	}
	if (seen != NULL) {
		rv = replay_lease(s, seen, request_id, now, out, msg);
		free(seen);
		return (rv);
	}
	if ((rv = pick(s, req, now, run)) != CAIRN_OK) {
		goto fault;
	}
	if (run->id == 0) {
		return (CAIRN_OK); /* nothing runnable: not remembered */
	}
	if ((rv = lc_copy_str(&run->worker_id,
	         req->worker_id != NULL && req->worker_id[0] != 0
	             ? req->worker_id
	             : NULL))
	    != CAIRN_OK) {
		goto fault;
	}
	metrics_wf_task_wait(now - run->ready_at_ms);
	run->phase = WF_LEASED;
	run->task_attempt++;
	run->lease_outcome = WF_LEASE_NONE;
	run->lease_timeout_ms = req->lease_timeout_ms > 0
	    ? req->lease_timeout_ms
	    : WF_DEFAULT_LEASE;
	run->lease_deadline_ms = now + run->lease_timeout_ms;
	run->lease_resolved = run->resolved_count;
	run->updated_ms = now;
	task_token_new(run->lease_token);
	if ((rv = store_wf_save(s, run)) != CAIRN_OK
	    || (rv = read_log(s, req, out)) != CAIRN_OK) {
		goto fault;
	}
	snprintf(
	    rec, sizeof(rec), "%" PRIu64 ":%s", run->id, run->lease_token);
	if ((rv = wf_remember(s, 'w', request_id, now, rec, msg)) != 0) {
		wf_leased_clear(out);
		return (rv);
	}
	return (CAIRN_OK);
fault:
	wf_leased_clear(out);
	return (lc_fault(s, rv, msg));
}

int
lifecycle_wf_heartbeat(struct store *s, uint64_t run_id, const char *token,
    int64_t now, bool *cancel_requested, int64_t *deadline, char *msg)
{
	struct wf_run run = { 0 };
	bool repeated;
	int rv;

	if ((rv = wf_load_run(s, run_id, &run, msg)) != CAIRN_OK) {
		return (rv);
	}
	rv = wf_check_lease(
	    s, &run, token, now, WF_LEASE_NONE, &repeated, msg);
	if (rv != CAIRN_OK) {
		goto out;
	}
	run.lease_deadline_ms = now + run.lease_timeout_ms;
	run.updated_ms = now;
	if ((rv = store_wf_save(s, &run)) != CAIRN_OK) {
		rv = lc_fault(s, rv, msg);
		goto out;
	}
	*cancel_requested = run.cancel_requested;
	*deadline = run.lease_deadline_ms;
out:
	wf_run_clear(&run);
	return (rv);
}

int
lifecycle_wf_release(struct store *s, uint64_t run_id, const char *token,
    int64_t now, char *msg)
{
	struct wf_run run = { 0 };
	bool repeated;
	int rv;

	if ((rv = wf_load_run(s, run_id, &run, msg)) != CAIRN_OK) {
		return (rv);
	}
	rv = wf_check_lease(
	    s, &run, token, now, WF_LEASE_EXPIRED, &repeated, msg);
	if (rv == CAIRN_OK && !repeated) {
		/* As an expiry: the next worker replays from the log. */
		run.phase = WF_WAITING;
		run.lease_outcome = WF_LEASE_EXPIRED;
		run.lease_deadline_ms = 0;
		run.updated_ms = now;
		wf_make_runnable(s, &run, now);
		if ((rv = store_wf_save(s, &run)) != CAIRN_OK) {
			rv = lc_fault(s, rv, msg);
		}
	}
	wf_run_clear(&run);
	return (rv);
}

int
lifecycle_wf_fail_task(struct store *s, uint64_t run_id, const char *token,
    const char *error, bool nondeterminism, int64_t now, int64_t *retry_at,
    char *msg)
{
	struct wf_run run = { 0 };
	char reason[LC_MSG_MAX];
	bool repeated;
	int rv;

	if ((rv = wf_load_run(s, run_id, &run, msg)) != CAIRN_OK) {
		return (rv);
	}
	rv = wf_check_lease(
	    s, &run, token, now, WF_LEASE_FAILED, &repeated, msg);
	if (rv != CAIRN_OK || repeated) {
		*retry_at = run.ready_at_ms;
		goto out;
	}
	snprintf(reason, sizeof(reason), "%s%s",
	    nondeterminism ? "non-determinism: " : "", error);
	if ((rv = lc_copy_str(&run.stuck_reason, reason)) != CAIRN_OK) {
		goto fault;
	}
	metrics_wf_task_failed(nondeterminism);
	run.failures++;
	run.stuck = true;
	run.phase = WF_RUNNABLE;
	run.ready_at_ms = now + wf_retry_delay(run.failures);
	run.lease_outcome = WF_LEASE_FAILED;
	run.lease_deadline_ms = 0;
	run.updated_ms = now;
	if ((rv = store_wf_save(s, &run)) != CAIRN_OK) {
		goto fault;
	}
	*retry_at = run.ready_at_ms;
	goto out;
fault:
	rv = lc_fault(s, rv, msg);
out:
	wf_run_clear(&run);
	return (rv);
}

int
lifecycle_wf_expire(
    struct store *s, int64_t now, uint32_t limit, size_t *n, char *msg)
{
	uint64_t ids[64];
	size_t got, done = 0;
	int rv;

	*n = 0;
	while (done < limit) {
		uint32_t want = limit - done < 64 ? limit - done : 64;
		if ((rv = store_wf_pick_expired(s, now, want, ids, &got))
		    != 0) {
			return (lc_fault(s, rv, msg));
		}
		for (size_t i = 0; i < got; i++) {
			struct wf_run run = { 0 };
			if ((rv = store_wf_load(s, ids[i], &run)) != 0) {
				return (lc_fault(s, rv, msg));
			}
			metrics_wf_lease_expired();
			run.phase = WF_WAITING;
			run.lease_outcome = WF_LEASE_EXPIRED;
			run.lease_deadline_ms = 0;
			run.updated_ms = now;
			wf_make_runnable(s, &run, now);
			rv = store_wf_save(s, &run);
			wf_run_clear(&run);
			if (rv != CAIRN_OK) {
				return (lc_fault(s, rv, msg));
			}
		}
		done += got;
		if (got < want) {
			break;
		}
	}
	*n = done;
	return (CAIRN_OK);
}
