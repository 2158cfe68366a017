/*
 * lifecycle/wf_resolve.c - entries getting their outcomes: an activity's
 * task ended, a timer fired, a signal arrived or timed out, a child run
 * finished; and runs ending: finished by their code, canceled, terminated.
 *
 * Order matters where rules call each other: a function that holds a run
 * in memory saves it before it calls anything that may load the same run
 * (canceling a task resolves its entry through lifecycle_wf_task_done),
 * so that no stale copy is ever saved over a newer one.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle/wf_internal.h"

int
wf_set_outcome(struct store *s, struct wf_run *run, struct wf_entry *e,
    int status, const uint8_t *result, size_t len, const char *error,
    int64_t now, bool by_worker)
{
	int rv;

	if ((rv = lc_copy_bytes(&e->result, &e->result_len, result, len)) != 0
	    || (rv = lc_copy_str(&e->error, error)) != 0) {
		return (rv);
	}
	e->status = status;
	e->resolved_ms = now;
	e->resolved_order = ++run->resolved_count;
	if (by_worker) {
		run->lease_resolved++;
	}
	run->updated_ms = now;
	wf_make_runnable(s, run, now);
	return (CAIRN_OK);
}

int
wf_resolve(struct store *s, struct wf_run *run, struct wf_entry *e, int status,
    const uint8_t *result, size_t len, const char *error, int64_t now,
    bool by_worker)
{
	int rv = wf_set_outcome(
	    s, run, e, status, result, len, error, now, by_worker);

	return (rv != CAIRN_OK ? rv : store_wf_entry_save(s, run->id, e));
}

int
wf_resolve_ref(struct store *s, uint64_t run_id, uint32_t seq, int status,
    const uint8_t *result, size_t len, const char *error, int64_t now)
{
	struct wf_run run = { 0 };
	struct wf_entry e = { 0 };
	int rv;

	if ((rv = store_wf_load(s, run_id, &run)) != CAIRN_OK) {
		/* A run pruned before its activity ended: nothing waits. */
		return (rv == CAIRN_NOT_FOUND ? CAIRN_OK : rv);
	}
	if ((rv = store_wf_entry_load(s, run_id, seq, &e)) != CAIRN_OK) {
		goto out;
	}
	if (e.status != WF_PENDING) {
		goto out; /* the first outcome recorded wins */
	}
	if (run.state != WF_RUNNING) {
		/* Nothing waits any more (wf_finish leaves no entry
		 * pending; this keeps it so whatever happened). */
		status = WF_CANCELED_ENTRY;
		result = NULL;
		len = 0;
		error = "canceled: the run had finished";
	}
	if ((rv = wf_resolve(
	         s, &run, &e, status, result, len, error, now, false))
	        != CAIRN_OK
	    || (rv = store_wf_save(s, &run)) != CAIRN_OK) {
		goto out;
	}
out:
	wf_entry_clear(&e);
	wf_run_clear(&run);
	return (rv);
}

int
lifecycle_wf_task_done(
    struct store *s, const struct task_row *row, int64_t now)
{
	const struct task *t = &row->t;

	if (row->wf_run == 0) {
		return (CAIRN_OK);
	}
	switch (t->state) {
	case CAIRN_SUCCEEDED:
		return (wf_resolve_ref(s, row->wf_run, row->wf_seq,
		    WF_COMPLETED, t->result, t->result_len, NULL, now));
	case CAIRN_FAILED:
		return (wf_resolve_ref(s, row->wf_run, row->wf_seq,
		    WF_FAILED_ENTRY, NULL, 0,
		    t->last_error != NULL ? t->last_error : "failed", now));
	case CAIRN_CANCELED:
		return (wf_resolve_ref(s, row->wf_run, row->wf_seq,
		    WF_CANCELED_ENTRY, NULL, 0, "canceled", now));
	default:
		return (CAIRN_OK);
	}
}

/* child_outcome maps how a child run ended onto its parent's entry. */
static int
child_outcome(
    const struct wf_run *child, char *text, size_t len, const char **error)
{
	switch (child->state) {
	case WF_SUCCEEDED:
		*error = NULL;
		return (WF_COMPLETED);
	case WF_CANCELED:
		*error = child->error != NULL ? child->error : "canceled";
		return (WF_CANCELED_ENTRY);
	default:
		snprintf(text, len, "child run %" PRIu64 " %s: %s", child->id,
		    wf_state_name(child->state),
		    child->error != NULL ? child->error : "");
		*error = text;
		return (WF_FAILED_ENTRY);
	}
}

/* pending reads the entries of run_id that have no outcome yet. */
static int
pending(struct store *s, uint64_t run_id, struct wf_entry **e, size_t *n,
    char *msg)
{
	struct wf_read q = { .run_id = run_id, .pending_only = true };
	int rv = store_wf_entries(s, &q, e, n);

	return (rv != CAIRN_OK ? lc_fault(s, rv, msg) : CAIRN_OK);
}

/* cancel_waits cancels what the entries e (read before they resolved)
 * waited for: their tasks are canceled (an entry still pending resolves
 * when its task ends), their child runs canceled, or terminated. */
static int
cancel_waits(struct store *s, const struct wf_entry *e, size_t n,
    bool terminate, int64_t now, char *msg)
{
	int rv = CAIRN_OK;

	for (size_t i = 0; i < n && rv == CAIRN_OK; i++) {
		cairn_state ts;
		int ws;
		if (e[i].kind == WF_ACTIVITY && e[i].task_id != 0) {
			rv = lifecycle_cancel(s, e[i].task_id, now, &ts, msg);
		} else if (e[i].kind == WF_CHILD && e[i].child_run != 0) {
			rv = terminate
			    ? lifecycle_wf_terminate(s, e[i].child_run,
			        "parent terminated", now, &ws, msg)
			    : lifecycle_wf_cancel(s, e[i].child_run,
			        "parent canceled", now, &ws, msg);
		}
		/* What finished already, or was pruned, needs nothing. */
		if (rv == CAIRN_FAILED_PRECONDITION || rv == CAIRN_NOT_FOUND) {
			rv = CAIRN_OK;
		}
	}
	return (rv);
}

/* resolve_all gives the entries e of the loaded run the outcome CANCELED,
 * except, unless all, those that end by themselves once what they wait
 * for is canceled (activities and children). */
static int
resolve_all(struct store *s, struct wf_run *run, struct wf_entry *e, size_t n,
    bool all, int64_t now, char *msg)
{
	for (size_t i = 0; i < n; i++) {
		if (!all
		    && (e[i].kind == WF_ACTIVITY || e[i].kind == WF_CHILD)) {
			continue;
		}
		int rv = wf_resolve(s, run, &e[i], WF_CANCELED_ENTRY, NULL, 0,
		    "canceled", now, false);
		if (rv != CAIRN_OK) {
			return (lc_fault(s, rv, msg));
		}
	}
	return (CAIRN_OK);
}

int
wf_finish(struct store *s, struct wf_run *run, int state,
    const uint8_t *result, size_t len, const char *error, int64_t now,
    char *msg)
{
	struct wf_entry *e = NULL;
	size_t n = 0;
	int rv;

	if ((rv = pending(s, run->id, &e, &n, msg)) != CAIRN_OK
	    || (rv = resolve_all(s, run, e, n, true, now, msg)) != CAIRN_OK) {
		goto out;
	}
	if ((rv = lc_copy_bytes(&run->result, &run->result_len, result, len))
	        != CAIRN_OK
	    || (rv = lc_copy_str(&run->error, error)) != CAIRN_OK) {
		rv = lc_fault(s, rv, msg);
		goto out;
	}
	run->state = state;
	run->phase = WF_WAITING;
	run->lease_outcome = WF_LEASE_ENDED;
	run->lease_deadline_ms = 0;
	run->finished_ms = now;
	run->updated_ms = now;
	if ((rv = store_wf_save(s, run)) != CAIRN_OK) {
		rv = lc_fault(s, rv, msg);
		goto out;
	}
	store_note_finished(s);
	/* The run is saved as finished: what ends now finds it so. */
	rv = cancel_waits(s, e, n, state == WF_TERMINATED, now, msg);
	if (rv == CAIRN_OK && run->parent_run != 0) {
		char buf[LC_MSG_MAX];
		const char *err;
		int st = child_outcome(run, buf, sizeof(buf), &err);
		rv = wf_resolve_ref(s, run->parent_run, run->parent_seq, st,
		    run->result, run->result_len, err, now);
		if (rv != CAIRN_OK) {
			rv = lc_fault(s, rv, msg);
		}
	}
out:
	wf_entries_free(e, n);
	return (rv);
}

int
lifecycle_wf_cancel(struct store *s, uint64_t run_id, const char *reason,
    int64_t now, int *state, char *msg)
{
	struct wf_run run = { 0 };
	struct wf_entry *e = NULL;
	size_t n = 0;
	int rv;

	(void) reason; /* the code learns it through CANCELED outcomes */
	if ((rv = wf_load_run(s, run_id, &run, msg)) != CAIRN_OK) {
		return (rv);
	}
	if (run.state == WF_CANCELED || run.state == WF_TERMINATED
	    || (run.state == WF_RUNNING && run.cancel_requested)) {
		*state = run.state; /* asked before: nothing new */
		goto out;
	}
	if (run.state != WF_RUNNING) {
		rv = lc_refuse(CAIRN_FAILED_PRECONDITION, msg,
		    "workflow run %" PRIu64 " already %s", run_id,
		    wf_state_name(run.state));
		goto out;
	}
	if ((rv = pending(s, run_id, &e, &n, msg)) != CAIRN_OK
	    || (rv = resolve_all(s, &run, e, n, false, now, msg)) != 0) {
		goto out;
	}
	run.cancel_requested = true;
	/* Any wait at all: the code sees the cancel through it. */
	run.cancel_delivered = n > 0;
	run.updated_ms = now;
	wf_make_runnable(s, &run, now);
	if ((rv = store_wf_save(s, &run)) != CAIRN_OK) {
		rv = lc_fault(s, rv, msg);
		goto out;
	}
	if ((rv = cancel_waits(s, e, n, false, now, msg)) == CAIRN_OK) {
		*state = WF_RUNNING;
	}
out:
	wf_entries_free(e, n);
	wf_run_clear(&run);
	return (rv);
}

int
lifecycle_wf_terminate(struct store *s, uint64_t run_id, const char *reason,
    int64_t now, int *state, char *msg)
{
	struct wf_run run = { 0 };
	char error[LC_MSG_MAX];
	int rv;

	if ((rv = wf_load_run(s, run_id, &run, msg)) != CAIRN_OK) {
		return (rv);
	}
	if (run.state == WF_TERMINATED) {
		*state = run.state; /* a repeated terminate */
		goto out;
	}
	if (run.state != WF_RUNNING) {
		rv = lc_refuse(CAIRN_FAILED_PRECONDITION, msg,
		    "workflow run %" PRIu64 " already %s", run_id,
		    wf_state_name(run.state));
		goto out;
	}
	/* The state says terminated; the error is the operator's why. */
	snprintf(error, sizeof(error), "%s",
	    reason != NULL && reason[0] != 0 ? reason : "terminated");
	rv = wf_finish(s, &run, WF_TERMINATED, NULL, 0, error, now, msg);
	if (rv == CAIRN_OK) {
		*state = WF_TERMINATED;
	}
out:
	wf_run_clear(&run);
	return (rv);
}

int
lifecycle_wf_signal(struct store *s, uint64_t run_id, const char *name,
    const uint8_t *payload, size_t len, const char *request_id, int64_t now,
    uint32_t *delivered, char *msg)
{
	struct wf_run run = { 0 };
	struct wf_entry e = { 0 };
	char rec[32], *seen;
	uint32_t seq = 0;
	int rv;

	if ((rv = wf_recall(s, 'g', request_id, &seen, msg)) != CAIRN_OK) {
		return (rv);
	}
	if (seen != NULL) {
		unsigned d = 0;
		int ok = sscanf(seen, "%u", &d);
		free(seen);
		if (ok != 1) {
			return (lc_refuse(CAIRN_INVALID_ARGUMENT, msg,
			    "request_id %.64s was used before for another "
			    "request",
			    request_id));
		}
		*delivered = d;
		return (CAIRN_OK);
	}
	if ((rv = wf_load_run(s, run_id, &run, msg)) != CAIRN_OK) {
		return (rv);
	}
	if (run.state != WF_RUNNING) {
		rv = lc_refuse(CAIRN_FAILED_PRECONDITION, msg,
		    "workflow run %" PRIu64 " already %s; the signal was "
		    "not delivered",
		    run_id, wf_state_name(run.state));
		goto out;
	}
	rv = store_wf_find_wait(s, run_id, name, &seq);
	if (rv == CAIRN_NOT_FOUND) {
		seq = 0;
		rv = store_wf_inbox_put(s, run_id, name, payload, len, now);
	} else if (rv == CAIRN_OK
	    && (rv = store_wf_entry_load(s, run_id, seq, &e)) == CAIRN_OK
	    && (rv = wf_resolve(
	            s, &run, &e, WF_COMPLETED, payload, len, NULL, now, false))
	        == CAIRN_OK) {
		rv = store_wf_save(s, &run);
	}
	if (rv != CAIRN_OK) {
		rv = lc_fault(s, rv, msg);
		goto out;
	}
	*delivered = seq;
	snprintf(rec, sizeof(rec), "%u", seq);
	rv = wf_remember(s, 'g', request_id, now, rec, msg);
out:
	wf_entry_clear(&e);
	wf_run_clear(&run);
	return (rv);
}

int
lifecycle_wf_fire(
    struct store *s, int64_t now, uint32_t limit, size_t *n, char *msg)
{
	struct wf_ref refs[64];
	size_t got;
	int rv;

	/* One pass: what is left comes due again at the next wakeup. */
	*n = 0;
	limit = limit < 64 ? limit : 64;
	if ((rv = store_wf_pick_fired(s, now, limit, refs, &got)) != 0) {
		return (lc_fault(s, rv, msg));
	}
	for (size_t i = 0; i < got; i++) {
		struct wf_entry e = { 0 };
		rv = store_wf_entry_load(s, refs[i].run_id, refs[i].seq, &e);
		bool timer = e.kind == WF_TIMER;
		wf_entry_clear(&e);
		if (rv == CAIRN_OK) {
			rv = wf_resolve_ref(s, refs[i].run_id, refs[i].seq,
			    timer ? WF_COMPLETED : WF_TIMED_OUT, NULL, 0,
			    timer ? NULL : "timed out", now);
		}
		if (rv != CAIRN_OK) {
			return (lc_fault(s, rv, msg));
		}
	}
	*n = got;
	return (CAIRN_OK);
}
