/*
 * lifecycle/wf_advance.c - AdvanceWorkflow: a worker's turn appended to a
 * run's log, fenced by lease token and expected seq (a version-checked
 * append), with the tasks, timers and child runs its commands start, all
 * in the engine's transaction.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle/wf_internal.h"
#include "ops/metrics.h"

/* A turn in progress: the run, what the commands appended, and whether a
 * cancel not yet seen by the code is delivered to the waits they add. */
struct turn {
	struct store *s;
	struct wf_run *run;
	int64_t now;
	bool deliver_cancel;
	bool delivered;
	struct wf_entry *out; /* as recorded, one per command */
	size_t n;
	char *msg;
};

static bool
is_wait(int kind)
{
	return (kind == WF_ACTIVITY || kind == WF_TIMER || kind == WF_SIGNAL
	    || kind == WF_CHILD);
}

/* start_activity enqueues the task of an activity entry, keyed by run and
 * seq so that it exists once, and linked back to the entry. */
static int
start_activity(struct turn *t, const struct wf_command *c, struct wf_entry *e)
{
	struct task_spec spec = c->activity;
	char key[64];
	bool created;
	int rv;

	snprintf(key, sizeof(key), "wf:%" PRIu64 ":%u", t->run->id, e->seq);
	spec.payload = c->input;
	spec.payload_len = c->input_len;
	spec.idempotency_key = key;
	spec.wf_run = t->run->id;
	spec.wf_seq = e->seq;
	rv = lifecycle_enqueue(
	    t->s, &spec, 1, t->now, &e->task_id, &created, t->msg);
	if (rv == CAIRN_OK && spec.run_at_ms <= t->now) {
		store_note_due(t->s, spec.queue);
	}
	return (rv == CAIRN_OK ? lc_copy_str(&e->queue, spec.queue) : rv);
}

/* start_child starts the child run of a child entry; a workflow_id that
 * another run holds resolves the entry FAILED at once. */
static int
start_child(struct turn *t, const struct wf_command *c, struct wf_entry *e)
{
	char wid[WF_ID_MAX + 16], err[LC_MSG_MAX];
	struct wf_start st = {
		.workflow_id = c->child_workflow_id,
		.type = c->name,
		.queue = c->child_queue,
		.input = c->input,
		.input_len = c->input_len,
		.parent_run = t->run->id,
		.parent_seq = e->seq,
	};
	bool created;
	int rv;

	if (st.workflow_id == NULL || st.workflow_id[0] == 0) {
		snprintf(
		    wid, sizeof(wid), "%s/%u", t->run->workflow_id, e->seq);
		st.workflow_id = wid;
	}
	if (st.queue == NULL || st.queue[0] == 0) {
		st.queue = t->run->queue;
	}
	rv = store_wf_insert(t->s, &st, t->now, &e->child_run, &created);
	if (rv != CAIRN_OK) {
		return (lc_fault(t->s, rv, t->msg));
	}
	if (created) {
		store_note_runnable(t->s, st.queue);
		return (CAIRN_OK);
	}
	snprintf(err, sizeof(err),
	    "workflow_id '%.128s' is taken by run %" PRIu64, st.workflow_id,
	    e->child_run);
	e->child_run = 0;
	return (wf_set_outcome(
	    t->s, t->run, e, WF_FAILED_ENTRY, NULL, 0, err, t->now, false));
}

/* start_signal_wait takes the oldest signal of its name waiting in the
 * run's inbox, or leaves the entry pending until one comes. */
static int
start_signal_wait(
    struct turn *t, const struct wf_command *c, struct wf_entry *e)
{
	uint8_t *payload = NULL;
	size_t len = 0;
	int rv;

	if (c->duration_ms > 0) {
		e->fire_at_ms = t->now + c->duration_ms;
	}
	rv = store_wf_inbox_take(t->s, t->run->id, c->name, &payload, &len);
	if (rv == CAIRN_NOT_FOUND) {
		return (CAIRN_OK);
	}
	if (rv == CAIRN_OK) {
		rv = wf_set_outcome(t->s, t->run, e, WF_COMPLETED, payload,
		    len, NULL, t->now, false);
	}
	free(payload);
	return (rv);
}

/* append records one command as entry e (already numbered). */
static int
append(struct turn *t, const struct wf_command *c, struct wf_entry *e)
{
	int rv = CAIRN_OK;

	e->kind = c->kind;
	e->created_ms = t->now;
	e->status = WF_PENDING;
	e->input_hash = wf_hash(c->input, c->input_len);
	if ((rv = lc_copy_str(&e->name, c->name != NULL ? c->name : ""))
	        != CAIRN_OK
	    || (rv = lc_copy_bytes(
	            &e->input, &e->input_len, c->input, c->input_len))
	        != CAIRN_OK) {
		return (rv);
	}
	if (t->deliver_cancel && is_wait(c->kind)) {
		/* The code asks to wait on something new before it has seen
		 * the cancel: this wait is how it sees it. */
		t->delivered = true;
		rv = wf_set_outcome(t->s, t->run, e, WF_CANCELED_ENTRY, NULL,
		    0, "canceled", t->now, false);
	} else {
		switch (c->kind) {
		case WF_STEP:
		case WF_MARKER:
			rv = wf_set_outcome(t->s, t->run, e, c->status,
			    c->result, c->result_len, c->error, t->now, true);
			break;
		case WF_ACTIVITY:
			rv = start_activity(t, c, e);
			break;
		case WF_TIMER:
			e->fire_at_ms = t->now + c->duration_ms;
			break;
		case WF_SIGNAL:
			rv = start_signal_wait(t, c, e);
			break;
		case WF_CHILD:
			rv = start_child(t, c, e);
			break;
		}
	}
	if (rv != CAIRN_OK) {
		return (rv);
	}
	return (store_wf_entry_insert(t->s, t->run->id, e));
}

/* end_turn ends the turn as the advance says: the run finishes, keeps
 * its lease, or waits (runnable at once if something resolved since it
 * was leased that the worker did not record itself). */
static int
end_turn(struct turn *t, const struct wf_advance *a, struct wf_advanced *out)
{
	struct wf_run *run = t->run;
	int rv;

	run->failures = 0;
	run->stuck = false;
	free(run->stuck_reason);
	run->stuck_reason = NULL;
	run->updated_ms = t->now;
	if (t->delivered) {
		run->cancel_delivered = true;
	}
	if (a->finish != 0) {
		return (wf_finish(t->s, run, a->finish, a->result,
		    a->result_len, a->error, t->now, t->msg));
	}
	if (a->keep_lease) {
		run->lease_deadline_ms = t->now + run->lease_timeout_ms;
		out->deadline = run->lease_deadline_ms;
	} else {
		run->phase = WF_WAITING;
		run->lease_outcome = WF_LEASE_ADVANCED;
		run->lease_deadline_ms = 0;
		if (run->resolved_count > run->lease_resolved) {
			wf_make_runnable(t->s, run, t->now);
		}
	}
	rv = store_wf_save(t->s, run);
	return (rv != CAIRN_OK ? lc_fault(t->s, rv, t->msg) : CAIRN_OK);
}

/* replay_advance answers a resent advance from its record: "FIRST:N" are
 * the seqs it appended. */
static int
replay_advance(struct store *s, const struct wf_advance *a, const char *rec,
    const char *request_id, struct wf_advanced *out, char *msg)
{
	struct wf_run run = { 0 };
	unsigned first, n;
	int rv;

	if (sscanf(rec, "%u:%u", &first, &n) != 2) {
		return (lc_refuse(CAIRN_INVALID_ARGUMENT, msg,
		    "request_id %.64s was used before for another request",
		    request_id));
	}
	if ((rv = wf_load_run(s, a->run_id, &run, msg)) != CAIRN_OK) {
		return (rv);
	}
	struct wf_read q = {
		.run_id = a->run_id,
		.after_seq = first - 1,
		.limit = n,
		.with_input = false,
	};
	if (n > 0
	    && (rv = store_wf_entries(s, &q, &out->entries, &out->n))
	        != CAIRN_OK) {
		rv = lc_fault(s, rv, msg);
	}
	out->log_length = run.next_seq - 1;
	out->deadline = run.phase == WF_LEASED ? run.lease_deadline_ms : 0;
	out->cancel_requested = run.cancel_requested;
	wf_run_clear(&run);
	return (rv);
}

/* check_turn loads the run and checks the fence: the lease, the seq, the
 * size of the log. */
static int
check_turn(struct store *s, const struct wf_advance *a, int64_t now,
    struct wf_run *run, char *msg)
{
	uint32_t max = a->max_log != 0 ? a->max_log : WF_DEFAULT_MAX_LOG;
	bool repeated;
	int rv;

	if ((rv = wf_load_run(s, a->run_id, run, msg)) != CAIRN_OK) {
		return (rv);
	}
	rv = wf_check_lease(
	    s, run, a->token, now, WF_LEASE_NONE, &repeated, msg);
	if (rv != CAIRN_OK) {
		return (rv);
	}
	if (a->expected_seq != run->next_seq) {
		return (lc_refuse(CAIRN_FAILED_PRECONDITION, msg,
		    "the log of run %" PRIu64 " is at seq %u; this advance "
		    "expects to append at %u",
		    run->id, run->next_seq, a->expected_seq));
	}
	if ((uint64_t) run->next_seq - 1 + a->n > max) {
		return (lc_refuse(CAIRN_OUT_OF_RANGE, msg,
		    "log full: run %" PRIu64 "'s log would have %" PRIu64
		    " entries; the limit is %u",
		    run->id, (uint64_t) run->next_seq - 1 + a->n, max));
	}
	return (CAIRN_OK);
}

int
lifecycle_wf_advance(struct store *s, const struct wf_advance *a,
    const char *request_id, int64_t now, struct wf_advanced *out, char *msg)
{
	struct wf_run run = { 0 };
	struct turn t = { .s = s, .run = &run, .now = now, .msg = msg };
	char rec[32], *seen;
	uint32_t first;
	int rv;

	memset(out, 0, sizeof(*out));
	if ((rv = wf_recall(s, 'a', request_id, &seen, msg)) != CAIRN_OK) {
		return (rv);
	}
	if (seen != NULL) {
		rv = replay_advance(s, a, seen, request_id, out, msg);
		free(seen);
		return (rv);
	}
	if ((rv = check_turn(s, a, now, &run, msg)) != CAIRN_OK) {
		goto out;
	}
	if (a->n > 0 && (t.out = calloc(a->n, sizeof(*t.out))) == NULL) {
		rv = lc_refuse(CAIRN_RESOURCE_EXHAUSTED, msg, "out of memory");
		goto out;
	}
	first = run.next_seq;
	t.deliver_cancel = run.cancel_requested && !run.cancel_delivered;
	for (size_t i = 0; i < a->n; i++) {
		t.out[i].seq = run.next_seq++;
		t.n = i + 1;
		if ((rv = append(&t, &a->commands[i], &t.out[i])) != 0) {
			if (msg[0] == 0) {
				lc_fault(s, rv, msg);
			}
			goto out;
		}
	}
	if ((rv = end_turn(&t, a, out)) != CAIRN_OK) {
		goto out;
	}
	metrics_wf_appended(a->n);
	snprintf(rec, sizeof(rec), "%u:%zu", first, a->n);
	if ((rv = wf_remember(s, 'a', request_id, now, rec, msg)) != 0) {
		goto out;
	}
	out->entries = t.out;
	out->n = t.n;
	t.out = NULL;
	out->log_length = run.next_seq - 1;
	out->cancel_requested = run.cancel_requested;
out:
	wf_entries_free(t.out, t.n);
	wf_run_clear(&run);
	return (rv);
}
