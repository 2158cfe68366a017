/*
 * workflow_store_test.c - storage contract, part three: the rules of
 * durable workflows (proto/README.md) on the row-level store, for every
 * backend (CAIRN_TEST_STORE). Each helper runs one rule in its own
 * transaction at a time the test chooses; no test sleeps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lifecycle/workflow.h"
#include "store_fixture.h"

/* Notes the rules made in the last transaction. */
static int noted_runnable, noted_finished, noted_due;

static void
note_due(void *arg, const char *queue)
{
	(void) arg;
	(void) queue;
	noted_due++;
}
static void
note_runnable(void *arg, const char *queue)
{
	(void) arg;
	(void) queue;
	noted_runnable++;
}
static void
note_finished(void *arg)
{
	(void) arg;
	noted_finished++;
}
static const struct store_notes notes = {
	.due = note_due,
	.runnable = note_runnable,
	.finished = note_finished,
};

static void
begin(struct fx *f)
{
	noted_runnable = noted_finished = noted_due = 0;
	f->s->notes = &notes;
	fx_begin(f);
}

/* end commits when rv is not a storage fault, as the engine does. */
static int
end(struct fx *f, int rv)
{
	if (rv == CAIRN_OK || rv == CAIRN_FAILED_PRECONDITION
	    || rv == CAIRN_NOT_FOUND || rv == CAIRN_OUT_OF_RANGE
	    || rv == CAIRN_INVALID_ARGUMENT) {
		fx_commit(f);
	} else {
		store_rollback(f->s);
		fail_msg("storage fault %d: %s", rv, f->msg);
	}
	return (rv);
}

static uint64_t
start(struct fx *f, const char *wid, const char *queue, int64_t now,
    bool *created)
{
	struct wf_start st = { .workflow_id = wid,
		.type = "order",
		.queue = queue,
		.input = (const uint8_t *) "in",
		.input_len = 2 };
	uint64_t id = 0;
	bool c;

	begin(f);
	assert_int_equal(
	    end(f, lifecycle_wf_start(f->s, &st, NULL, now, &id, &c, f->msg)),
	    CAIRN_OK);
	if (created != NULL) {
		*created = c;
	}
	return (id);
}

/* lease leases a run of queue (out->run.id 0: none); known may be NULL. */
static void
lease(struct fx *f, const char *queue, int64_t now,
    const struct wf_known *known, struct wf_leased *out)
{
	const char *queues[] = { queue };
	struct wf_lease_request req = { .queues = queues,
		.nqueues = 1,
		.worker_id = "w1",
		.lease_timeout_ms = 30000,
		.known = known,
		.nknown = known != NULL ? 1 : 0 };

	begin(f);
	assert_int_equal(
	    end(f, lifecycle_wf_lease(f->s, &req, NULL, now, out, f->msg)),
	    CAIRN_OK);
}

static int
advance(struct fx *f, const struct wf_leased *l, uint32_t expected,
    struct wf_command *cmds, size_t n, int finish, int64_t now,
    struct wf_advanced *out)
{
	struct wf_advance a = { .run_id = l->run.id,
		.token = l->run.lease_token,
		.expected_seq = expected,
		.commands = cmds,
		.n = n,
		.finish = finish,
		.result = (const uint8_t *) "done",
		.result_len = finish == WF_SUCCEEDED ? 4 : 0,
		.error = finish == WF_FAILED ? "broke" : NULL };
	struct wf_advanced tmp;
	int rv;

	begin(f);
	rv = end(f,
	    lifecycle_wf_advance(
	        f->s, &a, NULL, now, out != NULL ? out : &tmp, f->msg));
	if (out == NULL && rv == CAIRN_OK) {
		wf_advanced_clear(&tmp);
	}
	return (rv);
}

static struct wf_run
load(struct fx *f, uint64_t id)
{
	struct wf_run r;

	begin(f);
	assert_int_equal(store_wf_load(f->s, id, &r), CAIRN_OK);
	fx_commit(f);
	return (r);
}

static struct wf_entry
entry(struct fx *f, uint64_t run, uint32_t seq)
{
	struct wf_entry e;

	begin(f);
	assert_int_equal(store_wf_entry_load(f->s, run, seq, &e), CAIRN_OK);
	fx_commit(f);
	return (e);
}

static struct wf_command
activity(const char *queue, const char *payload)
{
	struct wf_command c = { .kind = WF_ACTIVITY,
		.name = queue,
		.input = (const uint8_t *) payload,
		.input_len = strlen(payload) };

	c.activity.queue = queue;
	return (c);
}

static void
start_is_deduplicated_by_workflow_id(void **state)
{
	struct fx *f = *state;
	bool created;
	uint64_t a = start(f, "order-1", "wf", T0, &created);

	assert_true(created);
	assert_int_equal(noted_runnable, 1);
	assert_int_equal(start(f, "order-1", "wf", T0 + 1, &created), a);
	assert_false(created);
	assert_int_equal(noted_runnable, 0);
	/* An empty id gets one made up; each such start is a new run. */
	uint64_t b = start(f, "", "wf", T0, &created);
	uint64_t c = start(f, NULL, "wf", T0, &created);
	assert_true(b != a && c != b);
	struct wf_run r = load(f, b);
	assert_int_equal(strncmp(r.workflow_id, "wf-", 3), 0);
	assert_int_equal(r.state, WF_RUNNING);
	assert_int_equal(r.phase, WF_RUNNABLE);
	assert_int_equal(r.next_seq, 1);
	wf_run_clear(&r);
}

static void
lease_takes_the_oldest_runnable_run_once(void **state)
{
	struct fx *f = *state;
	uint64_t a = start(f, "a", "wf", T0, NULL);
	uint64_t b = start(f, "b", "wf", T0 + 5, NULL);
	struct wf_leased l1, l2, l3;

	start(f, "other", "elsewhere", T0, NULL);
	lease(f, "wf", T0 + 10, NULL, &l1);
	lease(f, "wf", T0 + 10, NULL, &l2);
	lease(f, "wf", T0 + 10, NULL, &l3);
	assert_int_equal(l1.run.id, a);
	assert_int_equal(l2.run.id, b);
	assert_int_equal(l3.run.id, 0);
	assert_int_equal(l1.run.task_attempt, 1);
	assert_int_equal(l1.run.lease_deadline_ms, T0 + 10 + 30000);
	assert_int_equal(strlen(l1.run.lease_token), TASK_TOKEN_LEN);
	assert_string_equal(l1.run.worker_id, "w1");
	assert_int_equal(l1.n, 0);
	wf_leased_clear(&l1);
	wf_leased_clear(&l2);
	wf_leased_clear(&l3);
}

static void
activity_runs_as_a_task_and_its_result_comes_back(void **state)
{
	struct fx *f = *state;
	uint64_t run = start(f, "w", "wf", T0, NULL);
	struct wf_leased l;
	struct wf_advanced out;
	struct wf_command cmds[2] = { activity("charge", "42 EUR"),
		{ .kind = WF_TIMER, .name = "pause", .duration_ms = 5000 } };

	lease(f, "wf", T0, NULL, &l);
	assert_int_equal(
	    advance(f, &l, 1, cmds, 2, 0, T0 + 1, &out), CAIRN_OK);
	assert_int_equal(noted_due, 1);
	assert_int_equal(out.n, 2);
	assert_int_equal(out.log_length, 2);
	assert_int_equal(out.entries[0].seq, 1);
	assert_int_equal(out.entries[0].status, WF_PENDING);
	assert_true(out.entries[0].task_id != 0);
	assert_int_equal(out.entries[0].input_hash, wf_hash("42 EUR", 6));
	assert_int_equal(out.entries[1].fire_at_ms, T0 + 1 + 5000);
	uint64_t task = out.entries[0].task_id;
	wf_advanced_clear(&out);

	/* The run waits; the task is an ordinary one on its queue. */
	struct wf_run r = load(f, run);
	assert_int_equal(r.phase, WF_WAITING);
	assert_int_equal(r.next_seq, 3);
	wf_run_clear(&r);
	struct task *t = fx_lease_one(f, "charge", T0 + 2);
	assert_int_equal(t->id, task);
	assert_int_equal(t->payload_len, 6);
	assert_memory_equal(t->payload, "42 EUR", 6);
	begin(f);
	assert_int_equal(end(f,
	                     lifecycle_complete(f->s, task, t->lease_token,
	                         (const uint8_t *) "paid", 4, T0 + 3, f->msg)),
	    CAIRN_OK);
	assert_int_equal(noted_runnable, 1);
	task_free(t);

	struct wf_entry e = entry(f, run, 1);
	assert_int_equal(e.status, WF_COMPLETED);
	assert_int_equal(e.result_len, 4);
	assert_memory_equal(e.result, "paid", 4);
	assert_int_equal(e.resolved_order, 1);
	assert_int_equal(e.resolved_ms, T0 + 3);
	wf_entry_clear(&e);

	/* The next lease carries the log with the outcome, not the input. */
	wf_leased_clear(&l);
	lease(f, "wf", T0 + 4, NULL, &l);
	assert_int_equal(l.run.id, run);
	assert_int_equal(l.run.task_attempt, 2);
	assert_int_equal(l.n, 2);
	assert_false(l.delta);
	assert_int_equal(l.entries[0].kind, WF_ACTIVITY);
	assert_string_equal(l.entries[0].name, "charge");
	assert_int_equal(l.entries[0].input_len, 0);
	assert_int_equal(l.entries[1].status, WF_PENDING);
	wf_leased_clear(&l);
}

static void
an_activity_that_fails_fails_its_entry(void **state)
{
	struct fx *f = *state;
	uint64_t run = start(f, "w", "wf", T0, NULL);
	struct wf_leased l;
	struct wf_advanced out;
	struct wf_command c = activity("flaky", "x");

	c.activity.max_attempts = 1;
	lease(f, "wf", T0, NULL, &l);
	assert_int_equal(advance(f, &l, 1, &c, 1, 0, T0, &out), CAIRN_OK);
	struct task *t = fx_lease_one(f, "flaky", T0 + 1);
	assert_int_equal(fx_fail_task(f, t->id, t->lease_token, false, 0,
	                     T0 + 2, NULL, NULL),
	    CAIRN_OK);
	struct wf_entry e = entry(f, run, 1);
	assert_int_equal(e.status, WF_FAILED_ENTRY);
	assert_non_null(e.error);
	wf_entry_clear(&e);
	task_free(t);
	wf_advanced_clear(&out);
	wf_leased_clear(&l);
}

static void
advance_is_fenced_by_token_and_seq(void **state)
{
	struct fx *f = *state;
	uint64_t run = start(f, "w", "wf", T0, NULL);
	struct wf_leased l;
	struct wf_command step = { .kind = WF_STEP,
		.name = "plan",
		.status = WF_COMPLETED,
		.result = (const uint8_t *) "p",
		.result_len = 1 };

	lease(f, "wf", T0, NULL, &l);
	/* The wrong seq: refused, nothing written. */
	assert_int_equal(advance(f, &l, 2, &step, 1, 0, T0 + 1, NULL),
	    CAIRN_FAILED_PRECONDITION);
	assert_non_null(strstr(f->msg, "seq 1"));
	struct wf_run r = load(f, run);
	assert_int_equal(r.next_seq, 1);
	assert_int_equal(r.phase, WF_LEASED);
	wf_run_clear(&r);
	/* A stale token: refused. */
	struct wf_leased stale = l;
	snprintf(stale.run.lease_token, sizeof(stale.run.lease_token), "%s",
	    "0123456789abcdef0123456789abcdef");
	assert_int_equal(advance(f, &stale, 1, &step, 1, 0, T0 + 1, NULL),
	    CAIRN_FAILED_PRECONDITION);
	assert_non_null(strstr(f->msg, "lease lost"));
	/* The lease ends at its deadline: refused, and runnable again. */
	assert_int_equal(advance(f, &l, 1, &step, 1, 0, T0 + 30000, NULL),
	    CAIRN_FAILED_PRECONDITION);
	assert_non_null(strstr(f->msg, "expired"));
	struct wf_leased again;
	lease(f, "wf", T0 + 30001, NULL, &again);
	assert_int_equal(again.run.id, run);
	assert_int_equal(again.run.task_attempt, 2);
	/* The old token stays refused; the new one appends. */
	assert_int_equal(advance(f, &l, 1, &step, 1, 0, T0 + 30002, NULL),
	    CAIRN_FAILED_PRECONDITION);
	assert_int_equal(
	    advance(f, &again, 1, &step, 1, 0, T0 + 30002, NULL), CAIRN_OK);
	/* A repeat of an advance that took effect (a new turn is needed to
	 * append again). */
	assert_int_equal(advance(f, &again, 2, &step, 1, 0, T0 + 30003, NULL),
	    CAIRN_FAILED_PRECONDITION);
	wf_leased_clear(&l);
	wf_leased_clear(&again);
}

static void
expired_leases_are_swept(void **state)
{
	struct fx *f = *state;
	uint64_t run = start(f, "w", "wf", T0, NULL);
	struct wf_leased l;
	size_t n;

	lease(f, "wf", T0, NULL, &l);
	begin(f);
	assert_int_equal(
	    end(f, lifecycle_wf_expire(f->s, T0 + 29999, 100, &n, f->msg)),
	    CAIRN_OK);
	assert_int_equal(n, 0);
	begin(f);
	assert_int_equal(
	    end(f, lifecycle_wf_expire(f->s, T0 + 30000, 100, &n, f->msg)),
	    CAIRN_OK);
	assert_int_equal(n, 1);
	assert_int_equal(noted_runnable, 1);
	struct wf_run r = load(f, run);
	assert_int_equal(r.phase, WF_RUNNABLE);
	wf_run_clear(&r);
	wf_leased_clear(&l);
}

static void
steps_need_no_new_turn_but_server_outcomes_do(void **state)
{
	struct fx *f = *state;
	uint64_t run = start(f, "w", "wf", T0, NULL);
	struct wf_leased l;
	struct wf_command step = { .kind = WF_STEP,
		.name = "plan",
		.status = WF_COMPLETED,
		.result = (const uint8_t *) "p",
		.result_len = 1 };
	struct wf_command timer = { .kind = WF_TIMER, .duration_ms = 0 };

	lease(f, "wf", T0, NULL, &l);
	assert_int_equal(
	    advance(f, &l, 1, &step, 1, 0, T0 + 1, NULL), CAIRN_OK);
	struct wf_run r = load(f, run);
	assert_int_equal(r.phase, WF_WAITING); /* nothing new to see */
	wf_run_clear(&r);
	wf_leased_clear(&l);

	/* A timer of 0 fires at once, and the run is runnable. */
	start(f, "w2", "wf2", T0, NULL);
	lease(f, "wf2", T0, NULL, &l);
	assert_int_equal(
	    advance(f, &l, 1, &timer, 1, 0, T0 + 1, NULL), CAIRN_OK);
	size_t n;
	begin(f);
	assert_int_equal(
	    end(f, lifecycle_wf_fire(f->s, T0 + 1, 100, &n, f->msg)),
	    CAIRN_OK);
	assert_int_equal(n, 1);
	r = load(f, l.run.id);
	assert_int_equal(r.phase, WF_RUNNABLE);
	wf_run_clear(&r);
	struct wf_entry e = entry(f, l.run.id, 1);
	assert_int_equal(e.status, WF_COMPLETED);
	wf_entry_clear(&e);
	wf_leased_clear(&l);
}

static int
signal(struct fx *f, uint64_t run, const char *name, const char *payload,
    int64_t now, uint32_t *delivered)
{
	begin(f);
	return (end(f,
	    lifecycle_wf_signal(f->s, run, name, (const uint8_t *) payload,
	        strlen(payload), NULL, now, delivered, f->msg)));
}

static void
signals_before_a_wait_are_kept_in_order(void **state)
{
	struct fx *f = *state;
	uint64_t run = start(f, "w", "wf", T0, NULL);
	struct wf_leased l;
	struct wf_advanced out;
	uint32_t d = 99;
	struct wf_command waits[3] = {
		{ .kind = WF_SIGNAL, .name = "approve" },
		{ .kind = WF_SIGNAL, .name = "approve" },
		{ .kind = WF_SIGNAL, .name = "approve", .duration_ms = 1000 },
	};

	assert_int_equal(signal(f, run, "approve", "first", T0, &d), 0);
	assert_int_equal(d, 0);
	assert_int_equal(signal(f, run, "other", "x", T0, &d), 0);
	assert_int_equal(signal(f, run, "approve", "second", T0, &d), 0);
	lease(f, "wf", T0 + 1, NULL, &l);
	assert_int_equal(advance(f, &l, 1, waits, 3, 0, T0 + 2, &out), 0);
	assert_int_equal(out.entries[0].status, WF_COMPLETED);
	assert_memory_equal(out.entries[0].result, "first", 5);
	assert_int_equal(out.entries[1].status, WF_COMPLETED);
	assert_memory_equal(out.entries[1].result, "second", 6);
	assert_int_equal(out.entries[2].status, WF_PENDING);
	assert_int_equal(out.entries[2].fire_at_ms, T0 + 2 + 1000);
	wf_advanced_clear(&out);
	/* Resolved by the server: the run needs a new turn at once. */
	struct wf_run r = load(f, run);
	assert_int_equal(r.phase, WF_RUNNABLE);
	wf_run_clear(&r);
	/* A signal after the wait completes it. */
	assert_int_equal(signal(f, run, "approve", "third", T0 + 3, &d), 0);
	assert_int_equal(d, 3);
	struct wf_entry e = entry(f, run, 3);
	assert_int_equal(e.status, WF_COMPLETED);
	assert_memory_equal(e.result, "third", 5);
	wf_entry_clear(&e);
	wf_leased_clear(&l);
}

static void
a_signal_wait_times_out(void **state)
{
	struct fx *f = *state;
	uint64_t run = start(f, "w", "wf", T0, NULL);
	struct wf_leased l;
	struct wf_command w
	    = { .kind = WF_SIGNAL, .name = "approve", .duration_ms = 1000 };
	size_t n;
	uint32_t d;

	lease(f, "wf", T0, NULL, &l);
	assert_int_equal(advance(f, &l, 1, &w, 1, 0, T0, NULL), CAIRN_OK);
	begin(f);
	assert_int_equal(
	    end(f, lifecycle_wf_fire(f->s, T0 + 1000, 100, &n, f->msg)), 0);
	assert_int_equal(n, 1);
	struct wf_entry e = entry(f, run, 1);
	assert_int_equal(e.status, WF_TIMED_OUT);
	wf_entry_clear(&e);
	/* A late signal waits in the inbox for a next wait. */
	assert_int_equal(signal(f, run, "approve", "late", T0 + 2000, &d), 0);
	assert_int_equal(d, 0);
	wf_leased_clear(&l);
}

static void
a_child_run_completes_its_parents_entry(void **state)
{
	struct fx *f = *state;
	uint64_t parent = start(f, "p", "wf", T0, NULL);
	struct wf_leased l, cl;
	struct wf_advanced out;
	struct wf_command c = { .kind = WF_CHILD,
		.name = "ship",
		.input = (const uint8_t *) "box",
		.input_len = 3,
		.child_queue = "kids" };

	lease(f, "wf", T0, NULL, &l);
	assert_int_equal(advance(f, &l, 1, &c, 1, 0, T0, &out), CAIRN_OK);
	uint64_t child = out.entries[0].child_run;
	assert_true(child != 0);
	wf_advanced_clear(&out);
	lease(f, "kids", T0 + 1, NULL, &cl);
	assert_int_equal(cl.run.id, child);
	assert_string_equal(cl.run.workflow_id, "p/1");
	assert_string_equal(cl.run.type, "ship");
	assert_int_equal(cl.run.parent_run, parent);
	assert_int_equal(
	    advance(f, &cl, 1, NULL, 0, WF_SUCCEEDED, T0 + 2, NULL), CAIRN_OK);
	assert_int_equal(noted_finished, 1);
	struct wf_entry e = entry(f, parent, 1);
	assert_int_equal(e.status, WF_COMPLETED);
	assert_memory_equal(e.result, "done", 4);
	wf_entry_clear(&e);
	struct wf_run r = load(f, parent);
	assert_int_equal(r.phase, WF_RUNNABLE);
	wf_run_clear(&r);
	/* A second child with a taken id fails its entry at once. */
	wf_leased_clear(&l);
	lease(f, "wf", T0 + 3, NULL, &l);
	c.child_workflow_id = "p/1";
	assert_int_equal(advance(f, &l, 2, &c, 1, 0, T0 + 4, &out), CAIRN_OK);
	assert_int_equal(out.entries[0].status, WF_FAILED_ENTRY);
	assert_non_null(strstr(out.entries[0].error, "taken"));
	wf_advanced_clear(&out);
	wf_leased_clear(&l);
	wf_leased_clear(&cl);
}

static void
cancel_reaches_timers_tasks_and_new_waits(void **state)
{
	struct fx *f = *state;
	uint64_t run = start(f, "w", "wf", T0, NULL);
	struct wf_leased l;
	struct wf_advanced out;
	struct wf_command cmds[2] = { activity("work", "a"),
		{ .kind = WF_TIMER, .duration_ms = 60000 } };
	int st;

	lease(f, "wf", T0, NULL, &l);
	assert_int_equal(advance(f, &l, 1, cmds, 2, 0, T0, &out), CAIRN_OK);
	uint64_t task = out.entries[0].task_id;
	wf_advanced_clear(&out);
	struct task *t = fx_lease_one(f, "work", T0 + 1);
	begin(f);
	assert_int_equal(
	    end(f,
	        lifecycle_wf_cancel(f->s, run, "stop", T0 + 2, &st, f->msg)),
	    CAIRN_OK);
	assert_int_equal(st, WF_RUNNING);
	/* The timer is canceled at once; the running task is flagged. */
	struct wf_entry e = entry(f, run, 2);
	assert_int_equal(e.status, WF_CANCELED_ENTRY);
	wf_entry_clear(&e);
	bool cancel = false;
	assert_int_equal(
	    fx_heartbeat(f, task, t->lease_token, NULL, T0 + 3, &cancel, NULL),
	    CAIRN_OK);
	assert_true(cancel);
	assert_int_equal(fx_fail_task(f, task, t->lease_token, false, 0,
	                     T0 + 4, NULL, NULL),
	    CAIRN_OK);
	e = entry(f, run, 1);
	assert_int_equal(e.status, WF_CANCELED_ENTRY);
	wf_entry_clear(&e);
	task_free(t);
	/* The code ends as canceled. */
	wf_leased_clear(&l);
	lease(f, "wf", T0 + 5, NULL, &l);
	assert_true(l.run.cancel_requested);
	assert_int_equal(
	    advance(f, &l, 3, NULL, 0, WF_CANCELED, T0 + 6, NULL), CAIRN_OK);
	struct wf_run r = load(f, run);
	assert_int_equal(r.state, WF_CANCELED);
	wf_run_clear(&r);
	/* Cancel again: a no-op. */
	begin(f);
	assert_int_equal(
	    end(f, lifecycle_wf_cancel(f->s, run, NULL, T0 + 7, &st, f->msg)),
	    CAIRN_OK);
	assert_int_equal(st, WF_CANCELED);
	wf_leased_clear(&l);
}

static void
cancel_mid_turn_is_seen_at_the_next_wait(void **state)
{
	struct fx *f = *state;
	uint64_t run = start(f, "w", "wf", T0, NULL);
	struct wf_leased l;
	struct wf_advanced out;
	struct wf_command cmds[2] = { { .kind = WF_TIMER, .duration_ms = 10 },
		activity("work", "a") };
	int st;

	lease(f, "wf", T0, NULL, &l);
	begin(f);
	assert_int_equal(
	    end(f, lifecycle_wf_cancel(f->s, run, NULL, T0 + 1, &st, f->msg)),
	    CAIRN_OK);
	assert_int_equal(
	    advance(f, &l, 1, cmds, 2, 0, T0 + 2, &out), CAIRN_OK);
	assert_int_equal(out.entries[0].status, WF_CANCELED_ENTRY);
	assert_int_equal(out.entries[1].status, WF_CANCELED_ENTRY);
	assert_int_equal(out.entries[1].task_id, 0); /* never enqueued */
	wf_advanced_clear(&out);
	/* Seen once: what it asks for afterwards (cleanup) runs. */
	wf_leased_clear(&l);
	lease(f, "wf", T0 + 3, NULL, &l);
	assert_int_equal(l.run.id, run);
	struct wf_command cleanup = activity("undo", "a");
	assert_int_equal(
	    advance(f, &l, 3, &cleanup, 1, 0, T0 + 4, &out), CAIRN_OK);
	assert_int_equal(out.entries[0].status, WF_PENDING);
	assert_true(out.entries[0].task_id != 0);
	wf_advanced_clear(&out);
	wf_leased_clear(&l);
}

static void
terminate_ends_the_run_and_its_work(void **state)
{
	struct fx *f = *state;
	uint64_t run = start(f, "w", "wf", T0, NULL);
	struct wf_leased l;
	struct wf_advanced out;
	struct wf_command c = activity("work", "a");
	struct wf_command kid = { .kind = WF_CHILD, .name = "sub" };
	struct wf_command both[2] = { c, kid };
	int st;

	lease(f, "wf", T0, NULL, &l);
	assert_int_equal(advance(f, &l, 1, both, 2, 0, T0, &out), CAIRN_OK);
	uint64_t task = out.entries[0].task_id;
	uint64_t child = out.entries[1].child_run;
	wf_advanced_clear(&out);
	begin(f);
	assert_int_equal(end(f,
	                     lifecycle_wf_terminate(
	                         f->s, run, "operator", T0 + 1, &st, f->msg)),
	    CAIRN_OK);
	assert_int_equal(st, WF_TERMINATED);
	struct wf_run r = load(f, run);
	assert_int_equal(r.state, WF_TERMINATED);
	assert_string_equal(r.error, "operator");
	wf_run_clear(&r);
	assert_int_equal(fx_state_of(f, task), CAIRN_CANCELED);
	r = load(f, child);
	assert_int_equal(r.state, WF_TERMINATED);
	wf_run_clear(&r);
	/* The worker's lease is void; a signal is refused. */
	assert_int_equal(
	    advance(f, &l, 3, NULL, 0, WF_SUCCEEDED, T0 + 2, NULL),
	    CAIRN_FAILED_PRECONDITION);
	uint32_t d;
	assert_int_equal(
	    signal(f, run, "x", "y", T0 + 3, &d), CAIRN_FAILED_PRECONDITION);
	wf_leased_clear(&l);
}

static void
a_failed_workflow_task_marks_the_run_stuck(void **state)
{
	struct fx *f = *state;
	uint64_t run = start(f, "w", "wf", T0, NULL);
	struct wf_leased l;
	int64_t retry_at;

	lease(f, "wf", T0, NULL, &l);
	begin(f);
	assert_int_equal(
	    end(f,
	        lifecycle_wf_fail_task(f->s, run, l.run.lease_token,
	            "asked for a timer", true, T0 + 1, &retry_at, f->msg)),
	    CAIRN_OK);
	assert_int_equal(retry_at, T0 + 1 + 1000);
	/* Repeating it answers the same. */
	begin(f);
	assert_int_equal(
	    end(f,
	        lifecycle_wf_fail_task(f->s, run, l.run.lease_token,
	            "asked for a timer", true, T0 + 2, &retry_at, f->msg)),
	    CAIRN_OK);
	assert_int_equal(retry_at, T0 + 1 + 1000);
	struct wf_run r = load(f, run);
	assert_true(r.stuck);
	assert_string_equal(
	    r.stuck_reason, "non-determinism: asked for a timer");
	assert_int_equal(r.state, WF_RUNNING);
	wf_run_clear(&r);
	wf_leased_clear(&l);
	lease(f, "wf", T0 + 999, NULL, &l);
	assert_int_equal(l.run.id, 0); /* not before the backoff */
	lease(f, "wf", T0 + 1001, NULL, &l);
	assert_int_equal(l.run.id, run);
	assert_int_equal(
	    advance(f, &l, 1, NULL, 0, WF_SUCCEEDED, T0 + 1002, NULL), 0);
	r = load(f, run);
	assert_false(r.stuck);
	assert_int_equal(r.state, WF_SUCCEEDED);
	wf_run_clear(&r);
	wf_leased_clear(&l);
}

static void
the_log_has_a_limit(void **state)
{
	struct fx *f = *state;
	uint64_t run = start(f, "w", "wf", T0, NULL);
	struct wf_leased l;
	struct wf_command m[3];
	struct wf_advance a;
	struct wf_advanced out;

	for (int i = 0; i < 3; i++) {
		m[i] = (struct wf_command) { .kind = WF_MARKER,
			.name = "now",
			.status = WF_COMPLETED };
	}
	lease(f, "wf", T0, NULL, &l);
	a = (struct wf_advance) { .run_id = run,
		.token = l.run.lease_token,
		.expected_seq = 1,
		.commands = m,
		.n = 3,
		.keep_lease = true,
		.max_log = 2 };
	begin(f);
	assert_int_equal(
	    end(f, lifecycle_wf_advance(f->s, &a, NULL, T0, &out, f->msg)),
	    CAIRN_OUT_OF_RANGE);
	assert_non_null(strstr(f->msg, "log full"));
	struct wf_run r = load(f, run);
	assert_int_equal(r.next_seq, 1);
	wf_run_clear(&r);
	a.n = 2;
	begin(f);
	assert_int_equal(
	    end(f, lifecycle_wf_advance(f->s, &a, NULL, T0, &out, f->msg)),
	    CAIRN_OK);
	assert_int_equal(out.deadline, T0 + 30000); /* keep_lease */
	wf_advanced_clear(&out);
	wf_leased_clear(&l);
}

static void
a_known_run_gets_only_what_it_lacks(void **state)
{
	struct fx *f = *state;
	uint64_t run = start(f, "w", "wf", T0, NULL);
	struct wf_leased l;
	struct wf_advanced out;
	struct wf_command cmds[3] = { activity("a", "1"), activity("b", "2"),
		{ .kind = WF_STEP, .name = "s", .status = WF_COMPLETED } };

	lease(f, "wf", T0, NULL, &l);
	assert_int_equal(advance(f, &l, 1, cmds, 3, 0, T0, &out), CAIRN_OK);
	uint64_t task_b = out.entries[1].task_id;
	wf_advanced_clear(&out);
	struct wf_known k = { .run_id = run,
		.log_length = 3,
		.resolved_count = l.run.resolved_count + 1 }; /* the step */
	struct task *t = fx_lease_one(f, "b", T0 + 1);
	assert_int_equal(t->id, task_b);
	assert_int_equal(
	    fx_complete(f, t->id, t->lease_token, "B", T0 + 2), CAIRN_OK);
	task_free(t);
	wf_leased_clear(&l);
	lease(f, "wf", T0 + 3, &k, &l);
	assert_int_equal(l.run.id, run);
	assert_true(l.delta);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.entries[0].seq, 2);
	assert_int_equal(l.entries[0].status, WF_COMPLETED);
	wf_leased_clear(&l);
}

static void
finished_runs_are_pruned_with_their_logs(void **state)
{
	struct fx *f = *state;
	uint64_t run = start(f, "w", "wf", T0, NULL);
	struct wf_leased l;
	struct wf_command s
	    = { .kind = WF_STEP, .name = "s", .status = WF_COMPLETED };
	size_t n;

	lease(f, "wf", T0, NULL, &l);
	assert_int_equal(
	    advance(f, &l, 1, &s, 1, WF_SUCCEEDED, T0 + 10, NULL), CAIRN_OK);
	begin(f);
	assert_int_equal(store_wf_prune(f->s, T0 + 10, 100, &n), CAIRN_OK);
	fx_commit(f);
	assert_int_equal(n, 0);
	begin(f);
	assert_int_equal(store_wf_prune(f->s, T0 + 11, 100, &n), CAIRN_OK);
	fx_commit(f);
	assert_int_equal(n, 1);
	struct wf_run r;
	struct wf_entry e;
	begin(f);
	assert_int_equal(store_wf_load(f->s, run, &r), CAIRN_NOT_FOUND);
	assert_int_equal(
	    store_wf_entry_load(f->s, run, 1, &e), CAIRN_NOT_FOUND);
	fx_commit(f);
	wf_leased_clear(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
		T(start_is_deduplicated_by_workflow_id),
		T(lease_takes_the_oldest_runnable_run_once),
		T(activity_runs_as_a_task_and_its_result_comes_back),
		T(an_activity_that_fails_fails_its_entry),
		T(advance_is_fenced_by_token_and_seq),
		T(expired_leases_are_swept),
		T(steps_need_no_new_turn_but_server_outcomes_do),
		T(signals_before_a_wait_are_kept_in_order),
		T(a_signal_wait_times_out),
		T(a_child_run_completes_its_parents_entry),
		T(cancel_reaches_timers_tasks_and_new_waits),
		T(cancel_mid_turn_is_seen_at_the_next_wait),
		T(terminate_ends_the_run_and_its_work),
		T(a_failed_workflow_task_marks_the_run_stuck),
		T(the_log_has_a_limit),
		T(a_known_run_gets_only_what_it_lacks),
		T(finished_runs_are_pruned_with_their_logs),
#undef T
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
