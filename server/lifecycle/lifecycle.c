/*
 * lifecycle/lifecycle.c - the task lifecycle rules (proto/README.md says
 * them to clients, "What a worker author needs to know"). Each transition
 * loads a row, decides in C, saves the row and records its history events, all
 * in the engine's open transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle/lifecycle.h"
#include "lifecycle/limits.h"
#include "lifecycle/util.h"
#include "lifecycle/workflow.h"
#include "ops/activity.h"
#include "ops/metrics.h"

/* record appends one event to the row's history. */
static int
record(struct store *s, struct task_row *row, int64_t now, const char *kind,
    const char *message)
{
	struct task_event ev = {
		.at_ms = now,
		.kind = (char *) kind,
		.attempt = row->t.attempt,
		.worker_id = row->t.worker_id,
		.message = (char *) message,
	};

	row->event_seq++;
	return (store_add_event(s, row->t.id, row->event_seq, &ev));
}

/* save writes row back and, when the task has just ended, gives the
 * workflow entry it belongs to (an activity) its outcome in the same
 * transaction. */
static int
save(struct store *s, const struct task_row *row, int64_t now)
{
	int rv = store_save(s, row);

	if (rv == CAIRN_OK && task_state_is_terminal(row->t.state)) {
		rv = lifecycle_wf_task_done(s, row, now);
	}
	return (rv);
}

static void
finish(struct task_row *row, cairn_state state, int64_t now)
{
	row->t.state = state;
	row->t.finished_ms = now;
	row->t.lease_deadline_ms = 0;
}

/*
 * end_attempt decides what follows an attempt that did not succeed: the
 * task is CANCELED when cancellation was asked, FAILED when it may not be
 * retried, and otherwise PENDING again after the backoff. Records the
 * matching event.
 */
static int
end_attempt(struct store *s, struct task_row *row, bool retryable,
    int64_t retry_delay_ms, int64_t now)
{
	char note[64];

	row->t.lease_deadline_ms = 0;
	store_note_freed(s, row->t.queue);
	if (row->t.cancel_requested) {
		finish(row, CAIRN_CANCELED, now);
		return (record(s, row, now, "canceled", NULL));
	}
	activity_note(row->t.queue, now, false);
	if (!retryable || row->t.attempt >= row->t.max_attempts) {
		finish(row, CAIRN_FAILED, now);
		return (record(s, row, now, "failed",
		    retryable ? "attempts exhausted" : "not retryable"));
	}
	int64_t delay = retry_delay_ms > 0
	    ? retry_delay_ms
	    : task_backoff_ms(&row->t.retry, row->t.attempt);
	row->t.state = CAIRN_PENDING;
	row->t.run_at_ms = now + delay;
	snprintf(
	    note, sizeof(note), "next attempt in %lld ms", (long long) delay);
	return (record(s, row, now, "retried", note));
}

/* expire_row ends the lease of an ACTIVE row whose deadline has passed. */
static int
expire_row(struct store *s, struct task_row *row, int64_t now)
{
	bool stc = row->attempt_deadline_ms <= now;
	const char *why = stc ? "start-to-close timeout" : "heartbeat timeout";
	char err[64];
	int rv;

	row->outcome
	    = stc ? LEASE_EXPIRED_START_TO_CLOSE : LEASE_EXPIRED_HEARTBEAT;
	metrics_lease_expired(stc);
	snprintf(err, sizeof(err), "lease expired: %s", why);
	if ((rv = lc_copy_str(&row->t.last_error, err)) != CAIRN_OK
	    || (rv = record(s, row, now, "expired", why)) != CAIRN_OK
	    || (rv = end_attempt(s, row, true, 0, now)) != CAIRN_OK) {
		return (rv);
	}
	row->t.updated_ms = now;
	return (save(s, row, now));
}

int
lifecycle_expire(
    struct store *s, int64_t now, uint32_t limit, size_t *n, char *msg)
{
	uint64_t ids[256];
	size_t got, done = 0;
	int rv;

	while (done < limit) {
		uint32_t want = limit - done < 256 ? limit - done : 256;
		if ((rv = store_pick_expired(s, now, want, ids, &got)) != 0) {
			return (lc_fault(s, rv, msg));
		}
		for (size_t i = 0; i < got; i++) {
			struct task_row row;
			if ((rv = store_load(s, ids[i], &row)) != CAIRN_OK) {
				return (lc_fault(s, rv, msg));
			}
			rv = expire_row(s, &row, now);
			task_row_clear(&row);
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

int
lifecycle_enqueue(struct store *s, struct task_spec *specs, size_t n,
    int64_t now, uint64_t *ids, bool *created, char *msg)
{
	struct queue_defaults qd = { 0 };

	for (size_t i = 0; i < n; i++) {
		struct task_event ev = { .at_ms = now, .kind = "enqueued" };
		int rv;

		/* The queue's defaults first, the server's for what is left.
		 */
		if ((rv = lc_queue_defaults(s, &qd, &specs[i])) != CAIRN_OK) {
			return (lc_fault(s, rv, msg));
		}
		task_spec_apply_defaults(&specs[i]);
		if (specs[i].run_at_ms == 0) {
			specs[i].run_at_ms = now + specs[i].delay_ms;
		}
		rv = store_insert(s, &specs[i], now, &ids[i], &created[i]);
		if (rv == CAIRN_OK && created[i]) {
			rv = store_add_event(s, ids[i], 1, &ev);
		}
		if (rv != CAIRN_OK) {
			return (lc_fault(s, rv, msg));
		}
	}
	return (CAIRN_OK);
}

/*
 * load_lease loads task id for an operation under lease token and checks
 * the fence. Returns OK when the lease is valid now. A lease whose deadline
 * has passed is expired here and then refused. When the token matches a
 * lease that ended with `repeat_ok`, *repeated is set and OK returned, so a
 * client retrying after a lost reply sees success.
 */
static int
load_lease(struct store *s, uint64_t id, const char *token, int64_t now,
    enum lease_outcome repeat_ok, struct task_row *row, bool *repeated,
    char *msg)
{
	int rv;

	*repeated = false;
	if ((rv = store_load(s, id, row)) != CAIRN_OK) {
		if (rv == CAIRN_NOT_FOUND) {
			snprintf(msg, LC_MSG_MAX, "task %llu not found",
			    (unsigned long long) id);
			return (rv);
		}
		return (lc_fault(s, rv, msg));
	}
	bool same = strcmp(row->t.lease_token, token) == 0
	    && row->t.lease_token[0] != 0;
	if (same && row->t.state == CAIRN_ACTIVE) {
		if (row->t.lease_deadline_ms > now) {
			return (CAIRN_OK);
		}
		if ((rv = expire_row(s, row, now)) != CAIRN_OK) {
			return (lc_fault(s, rv, msg));
		}
	} else if (same && repeat_ok != LEASE_NONE
	    && row->outcome == repeat_ok) {
		*repeated = true;
		return (CAIRN_OK);
	}
	return (lc_refuse(CAIRN_FAILED_PRECONDITION, msg, "%s",
	    task_outcome_reason(same ? row->outcome : LEASE_NONE)));
}

int
lifecycle_heartbeat(struct store *s, uint64_t id, const char *token,
    const uint8_t *details, size_t details_len, int64_t now,
    bool *cancel_requested, int64_t *deadline, char *msg)
{
	struct task_row row = { 0 };
	bool repeated, by_stc;
	int rv;

	rv = load_lease(s, id, token, now, LEASE_NONE, &row, &repeated, msg);
	if (rv != CAIRN_OK) {
		goto out;
	}
	if (details_len > 0
	    && (rv = lc_copy_bytes(
	            &row.t.details, &row.t.details_len, details, details_len))
	        != CAIRN_OK) {
		goto out;
	}
	row.t.lease_deadline_ms = task_lease_deadline(
	    now, row.lease_timeout_ms, row.attempt_deadline_ms, &by_stc);
	row.t.updated_ms = now;
	if ((rv = record(s, &row, now, "heartbeat", NULL)) != CAIRN_OK
	    || (rv = store_save(s, &row)) != CAIRN_OK) {
		rv = lc_fault(s, rv, msg);
		goto out;
	}
	*cancel_requested = row.t.cancel_requested;
	*deadline = row.t.lease_deadline_ms;
out:
	task_row_clear(&row);
	return (rv);
}

int
lifecycle_complete(struct store *s, uint64_t id, const char *token,
    const uint8_t *result, size_t result_len, int64_t now, char *msg)
{
	return (lifecycle_complete_q(
	    s, id, token, result, result_len, now, NULL, msg));
}

int
lifecycle_complete_q(struct store *s, uint64_t id, const char *token,
    const uint8_t *result, size_t result_len, int64_t now, char *queue,
    char *msg)
{
	struct task_row row = { 0 };
	bool repeated;
	int rv;

	rv = load_lease(
	    s, id, token, now, LEASE_COMPLETED, &row, &repeated, msg);
	if (rv == CAIRN_OK && queue != NULL) {
		snprintf(queue, TASK_QUEUE_MAX + 1, "%s", row.t.queue);
	}
	if (rv != CAIRN_OK || repeated) {
		goto out;
	}
	if ((rv = lc_copy_bytes(
	         &row.t.result, &row.t.result_len, result, result_len))
	    != CAIRN_OK) {
		goto out;
	}
	finish(&row, CAIRN_SUCCEEDED, now);
	store_note_freed(s, row.t.queue);
	row.outcome = LEASE_COMPLETED;
	row.t.updated_ms = now;
	if ((rv = record(s, &row, now, "completed", NULL)) != CAIRN_OK
	    || (rv = save(s, &row, now)) != CAIRN_OK) {
		rv = lc_fault(s, rv, msg);
		goto out;
	}
	activity_note(row.t.queue, now, true);
out:
	task_row_clear(&row);
	return (rv);
}

int
lifecycle_fail(struct store *s, const struct fail_request *req, int64_t now,
    cairn_state *state, int64_t *run_at, char *msg)
{
	struct task_row row = { 0 };
	bool repeated;
	int rv;

	rv = load_lease(
	    s, req->id, req->token, now, LEASE_FAILED, &row, &repeated, msg);
	if (rv != CAIRN_OK) {
		goto out;
	}
	if (!repeated) {
		row.outcome = LEASE_FAILED;
		row.t.updated_ms = now;
		if ((rv = lc_copy_str(&row.t.last_error, req->error)) != 0
		    || (rv = record(s, &row, now, "failed", req->error)) != 0
		    || (rv = end_attempt(s, &row, !req->non_retryable,
		            req->retry_delay_ms, now))
		        != 0
		    || (rv = save(s, &row, now)) != 0) {
			rv = lc_fault(s, rv, msg);
			goto out;
		}
	}
	*state = row.t.state;
	*run_at = row.t.state == CAIRN_PENDING ? row.t.run_at_ms : 0;
out:
	task_row_clear(&row);
	return (rv);
}

/* give_back puts a released row back to PENDING, due now, with its
 * attempt uncounted (a cancellation asked meanwhile ends it instead). */
static int
give_back(struct store *s, struct task_row *row, int64_t now)
{
	row->t.lease_deadline_ms = 0;
	store_note_freed(s, row->t.queue);
	if (row->t.cancel_requested) {
		finish(row, CAIRN_CANCELED, now);
		return (record(s, row, now, "canceled", NULL));
	}
	row->t.state = CAIRN_PENDING;
	row->t.run_at_ms = now;
	row->t.attempt -= row->t.attempt > 0;
	return (CAIRN_OK);
}

int
lifecycle_release(struct store *s, const struct release_request *req,
    int64_t now, cairn_state *state, int64_t *run_at, char *queue, char *msg)
{
	enum lease_outcome outcome
	    = req->disconnected ? LEASE_DISCONNECTED : LEASE_RELEASED;
	const char *why = req->disconnected ? "worker disconnected"
	    : req->reason != NULL && req->reason[0] != 0 ? req->reason
	                                                 : "released";
	struct task_row row = { 0 };
	bool repeated;
	char err[LC_MSG_MAX];
	int rv;

	rv = load_lease(
	    s, req->id, req->token, now, outcome, &row, &repeated, msg);
	if (rv != CAIRN_OK) {
		goto out;
	}
	if (!repeated) {
		bool counted = req->disconnected || req->count_attempt;
		metrics_lease_released(req->disconnected);
		row.outcome = outcome;
		row.t.updated_ms = now;
		snprintf(err, sizeof(err), "lease released: %s", why);
		/* A disconnection is told as the expiry it replaces. */
		rv = record(s, &row, now,
		    req->disconnected ? "expired" : "released", why);
		if (rv == CAIRN_OK && counted) {
			if ((rv = lc_copy_str(&row.t.last_error, err)) == 0) {
				rv = end_attempt(s, &row, true, 0, now);
			}
		} else if (rv == CAIRN_OK) {
			rv = give_back(s, &row, now);
		}
		if (rv != CAIRN_OK || (rv = save(s, &row, now)) != CAIRN_OK) {
			rv = lc_fault(s, rv, msg);
			goto out;
		}
	}
	*state = row.t.state;
	*run_at = row.t.state == CAIRN_PENDING ? row.t.run_at_ms : 0;
	snprintf(queue, TASK_QUEUE_MAX + 1, "%s", row.t.queue);
out:
	task_row_clear(&row);
	return (rv);
}

int
lifecycle_cancel(
    struct store *s, uint64_t id, int64_t now, cairn_state *state, char *msg)
{
	struct task_row row = { 0 };
	int rv;

	if ((rv = store_load(s, id, &row)) != CAIRN_OK) {
		if (rv == CAIRN_NOT_FOUND) {
			snprintf(msg, LC_MSG_MAX, "task %llu not found",
			    (unsigned long long) id);
			return (rv);
		}
		return (lc_fault(s, rv, msg));
	}
	switch (row.t.state) {
	case CAIRN_PENDING:
		finish(&row, CAIRN_CANCELED, now);
		rv = record(s, &row, now, "canceled", NULL);
		break;
	case CAIRN_ACTIVE:
		if (row.t.cancel_requested) {
			break; /* asked before: nothing new to record */
		}
		row.t.cancel_requested = true;
		rv = record(s, &row, now, "cancel_requested", NULL);
		break;
	case CAIRN_CANCELED:
		break; /* a repeated cancel is not an error */
	default:
		rv = lc_refuse(CAIRN_FAILED_PRECONDITION, msg,
		    "task already %s", cairn_state_name(row.t.state));
		goto out;
	}
	if (rv == CAIRN_OK) {
		row.t.updated_ms = now;
		rv = save(s, &row, now);
	}
	if (rv != CAIRN_OK) {
		rv = lc_fault(s, rv, msg);
		goto out;
	}
	*state = row.t.state;
out:
	task_row_clear(&row);
	return (rv);
}

int
lifecycle_retry(
    struct store *s, uint64_t id, int64_t now, struct task **out, char *msg)
{
	struct task_row row = { 0 };
	struct task *t;
	int rv;

	if ((rv = store_load(s, id, &row)) != CAIRN_OK) {
		if (rv == CAIRN_NOT_FOUND) {
			snprintf(msg, LC_MSG_MAX, "task %llu not found",
			    (unsigned long long) id);
			return (rv);
		}
		return (lc_fault(s, rv, msg));
	}
	if (row.t.state == CAIRN_FAILED || row.t.state == CAIRN_CANCELED) {
		row.t.state = CAIRN_PENDING;
		row.t.attempt = 0;
		row.t.run_at_ms = now;
		row.t.finished_ms = 0;
		row.t.cancel_requested = false;
		row.t.updated_ms = now;
		if ((rv = record(s, &row, now, "retried", "manual retry"))
		        != CAIRN_OK
		    || (rv = store_save(s, &row)) != CAIRN_OK) {
			rv = lc_fault(s, rv, msg);
			goto out;
		}
	} else if (row.t.state != CAIRN_PENDING) {
		/* PENDING passes: a resent Retry must not be an error. */
		rv = lc_refuse(CAIRN_FAILED_PRECONDITION, msg,
		    "only a failed or canceled task can be retried; this "
		    "one is %s",
		    cairn_state_name(row.t.state));
		goto out;
	}
	if ((t = malloc(sizeof(*t))) == NULL) {
		rv = CAIRN_RESOURCE_EXHAUSTED;
		goto out;
	}
	*t = row.t;
	memset(&row.t, 0, sizeof(row.t)); /* ownership moved to t */
	*out = t;
out:
	task_row_clear(&row);
	return (rv);
}
