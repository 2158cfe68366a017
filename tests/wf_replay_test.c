/*
 * wf_replay_test.c - the workflow replay engine of libcairn against
 * synthetic logs, without a server: matching, non-determinism of kind,
 * name and input hash, entries left over, wait_any by resolved_order,
 * patched() both ways, the poisoned context, steps run and recorded once,
 * recorded values, and the worker's log merge and cache.
 *
 * A small simulated server (record, resolve, drive) records commands as
 * proto/README.md says the server does, so that a workflow can be driven
 * turn by turn to its end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wf_internal.h"

struct fx {
	cairn_workflow_run run;
	struct cairn__wf_log log;
	uint64_t order;  /* the last resolved_order given */
	int checkpoints; /* calls of the checkpoint hook */
	int hook_status; /* what the hook returns; CAIRN_OK: records */
	int step_runs;   /* calls of step functions */
	cairn_wf_ctx *ctx;
	struct cairn__wf_end end;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->run.run_id = 7;
	f->run.workflow_id = "order-7";
	f->run.type = "order";
	f->run.input = (uint8_t *) "book";
	f->run.input_len = 4;
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	cairn__wf_ctx_free(f->ctx);
	cairn__wf_log_clear(&f->log);
	free(f);
	return (0);
}

static char *
dup(const char *s)
{
	return (strdup(s != NULL ? s : ""));
}

static uint8_t *
dup_bytes(const void *p, size_t n)
{
	uint8_t *d = malloc(n + 1);

	if (n > 0) {
		memcpy(d, p, n);
	}
	d[n] = '\0';
	return (d);
}

/* add appends an entry to the log, resolved (order > 0) or pending. */
static void
add(struct fx *f, cairn_wf_kind kind, const char *name, const char *input,
    cairn_wf_status status, const char *result)
{
	cairn_wf_entry e = { 0 };

	e.seq = (uint32_t) f->log.n + 1;
	e.kind = kind;
	e.name = dup(name);
	e.input_hash = cairn_wf_hash(input, input != NULL ? strlen(input) : 0);
	e.input = dup_bytes("", 0); /* a lease leaves inputs out */
	e.status = status;
	e.result = dup_bytes(
	    result != NULL ? result : "", result != NULL ? strlen(result) : 0);
	e.result_len = result != NULL ? strlen(result) : 0;
	e.error = dup(status == CAIRN_WF_ENTRY_FAILED ? result : "");
	e.queue = dup("");
	if (status != CAIRN_WF_ENTRY_PENDING) {
		e.resolved_order = ++f->order;
	}
	assert_true(cairn__wf_log_push(&f->log, &e));
}

/* resolve gives the entry at seq its outcome, as the server would. */
static void
resolve(struct fx *f, uint32_t seq, cairn_wf_status status, const char *res)
{
	cairn_wf_entry *e = &f->log.v[seq - 1];

	assert_int_equal(e->status, CAIRN_WF_ENTRY_PENDING);
	e->status = status;
	free(e->result);
	e->result = dup_bytes(res, strlen(res));
	e->result_len = strlen(res);
	free(e->error);
	e->error = dup(status == CAIRN_WF_ENTRY_COMPLETED ? "" : res);
	e->resolved_order = ++f->order;
}

/* recorded makes the entries the server records for the unsent commands
 * of ctx (pending, unless a step's or marker's outcome came with them). */
static void
record(struct fx *f, cairn_wf_ctx *ctx)
{
	const cairn_wf_command *k;
	cairn_wf_entry *v;
	uint32_t seq;
	size_t n;

	cairn__wf_ctx_unsent(ctx, &k, &n, &seq);
	assert_int_equal(seq, f->log.n + 1);
	v = calloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		v[i].seq = seq + (uint32_t) i;
		v[i].kind = k[i].kind;
		v[i].name = dup(k[i].name);
		v[i].input_hash = cairn_wf_hash(k[i].input, k[i].input_len);
		v[i].input = dup_bytes("", 0);
		v[i].status = k[i].status != CAIRN_WF_ENTRY_UNSPECIFIED
		    ? k[i].status
		    : CAIRN_WF_ENTRY_PENDING;
		v[i].result = dup_bytes(k[i].result, k[i].result_len);
		v[i].result_len = k[i].result_len;
		v[i].error = dup(k[i].error);
		v[i].queue = dup(k[i].activity.queue);
		if (v[i].status != CAIRN_WF_ENTRY_PENDING) {
			v[i].resolved_order = ++f->order;
		}
	}
	assert_int_equal(cairn__wf_ctx_sent(ctx, v, n), CAIRN_OK);
}

/* hook is the checkpoint: it records like the server, or fails. */
static int
hook(cairn_wf_ctx *ctx, void *arg)
{
	struct fx *f = arg;

	f->checkpoints++;
	if (f->hook_status != CAIRN_OK) {
		if (f->hook_status == CAIRN_FAILED_PRECONDITION) {
			cairn__wf_ctx_lost(ctx);
		}
		return (f->hook_status);
	}
	record(f, ctx);
	return (CAIRN_OK);
}

/* turn runs one turn of fn over the log; f->ctx stays for inspection
 * until the next turn. */
static void
turn(struct fx *f, cairn_wf_fn fn, void *arg)
{
	cairn__wf_ctx_free(f->ctx);
	f->ctx = cairn__wf_ctx_new(&f->run, &f->log, hook, f);
	assert_non_null(f->ctx);
	cairn__wf_ctx_run(f->ctx, fn, arg, &f->end);
}

static size_t
unsent(struct fx *f)
{
	const cairn_wf_command *k;
	uint32_t seq;
	size_t n;

	cairn__wf_ctx_unsent(f->ctx, &k, &n, &seq);
	return (n);
}

/* drive runs turns as the server would, resolving every pending activity
 * and timer with "<name>-done" after each, until the run ends. Returns
 * the number of turns. */
static int
drive(struct fx *f, cairn_wf_fn fn, void *arg)
{
	for (int turns = 1; turns < 50; turns++) {
		turn(f, fn, arg);
		assert_int_equal(f->end.kind, CAIRN__WF_ADVANCE);
		record(f, f->ctx);
		if (f->end.finish != CAIRN_WF_STATE_ANY) {
			return (turns);
		}
		for (size_t i = 0; i < f->log.n; i++) {
			char res[64];
			if (f->log.v[i].status != CAIRN_WF_ENTRY_PENDING) {
				continue;
			}
			snprintf(
			    res, sizeof(res), "%s-done", f->log.v[i].name);
			resolve(
			    f, f->log.v[i].seq, CAIRN_WF_ENTRY_COMPLETED, res);
		}
	}
	fail_msg("the workflow did not end");
	return (0);
}

/* ---- workflows ---------------------------------------------------------- */

/* order: reserve, charge, a one-second timer, ship. */
static int
order_wf(cairn_wf_ctx *ctx, const void *in, size_t len, void *arg)
{
	static const char *const names[] = { "reserve", "charge", "ship" };
	cairn_wf_outcome o;
	char out[256] = "";
	int rv;

	for (int i = 0; i < 3; i++) {
		if (i == 2
		    && (rv = cairn_wf_sleep(ctx, 1000, NULL)) != CAIRN_OK) {
			return (rv);
		}
		rv = cairn_wf_activity(ctx, names[i], in, len, NULL, &o);
		if (rv != CAIRN_OK) {
			return (rv);
		}
		if (o.status != CAIRN_WF_ENTRY_COMPLETED) {
			return (cairn_wf_fail(ctx, o.error));
		}
		strncat(out, (const char *) o.result,
		    sizeof(out) - strlen(out) - 2);
		strcat(out, ";");
	}
	return (cairn_wf_succeed(ctx, out, strlen(out)));
}

static void
test_hash(void **state)
{
	assert_true(cairn_wf_hash("", 0) == 0xcbf29ce484222325ULL);
	assert_true(cairn_wf_hash("a", 1) == 0xaf63dc4c8601ec8cULL);
	assert_true(cairn_wf_hash("foobar", 6) == 0x85944171f73967e8ULL);
}

static void
test_names(void **state)
{
	cairn_workflow_state s;
	cairn_wf_kind k;
	cairn_wf_status st;

	assert_string_equal(
	    cairn_workflow_state_name(CAIRN_WF_TERMINATED), "terminated");
	assert_true(cairn_workflow_state_parse("canceled", &s));
	assert_int_equal(s, CAIRN_WF_CANCELED);
	assert_true(cairn_workflow_state_parse("", &s));
	assert_int_equal(s, CAIRN_WF_STATE_ANY);
	assert_false(cairn_workflow_state_parse("pending", &s));
	assert_string_equal(cairn_workflow_state_name(2), "unknown");
	assert_true(cairn_wf_kind_parse("marker", &k));
	assert_int_equal(k, CAIRN_WF_MARKER);
	assert_false(cairn_wf_kind_parse("", &k));
	assert_true(cairn_wf_status_parse("timed_out", &st));
	assert_int_equal(st, CAIRN_WF_ENTRY_TIMED_OUT);
	assert_string_equal(cairn_wf_status_name(99), "unknown");
}

/* The first turn of a new run asks for the first activity and waits. */
static void
test_first_turn(void **state)
{
	struct fx *f = *state;
	const cairn_wf_command *k;
	uint32_t seq;
	size_t n;

	turn(f, order_wf, NULL);
	assert_int_equal(f->end.kind, CAIRN__WF_ADVANCE);
	assert_int_equal(f->end.finish, CAIRN_WF_STATE_ANY);
	cairn__wf_ctx_unsent(f->ctx, &k, &n, &seq);
	assert_int_equal(n, 1);
	assert_int_equal(seq, 1);
	assert_int_equal(k[0].kind, CAIRN_WF_ACTIVITY);
	assert_string_equal(k[0].name, "reserve");
	assert_string_equal(k[0].activity.queue, "reserve"); /* the default */
	assert_int_equal(k[0].input_len, 4);
	assert_memory_equal(k[0].input, "book", 4);
	assert_false(cairn_wf_is_replaying(f->ctx));
	assert_string_equal(cairn_wf_errmsg(f->ctx),
	    "waiting for seq 1 (activity \"reserve\")");
}

/* Driven to its end, one turn per wait; the last replays every entry. */
static void
test_drive_to_end(void **state)
{
	struct fx *f = *state;

	assert_int_equal(drive(f, order_wf, NULL), 5);
	assert_int_equal(f->end.finish, CAIRN_WF_SUCCEEDED);
	assert_string_equal((const char *) f->end.result,
	    "reserve-done;charge-done;ship-done;");
	assert_int_equal(f->log.n, 4);
	assert_int_equal(f->log.v[2].kind, CAIRN_WF_TIMER);
}

/* A pending entry in the middle suspends the turn there, with nothing
 * new to send. */
static void
test_pending_suspends(void **state)
{
	struct fx *f = *state;

	add(f, CAIRN_WF_ACTIVITY, "reserve", "book", CAIRN_WF_ENTRY_COMPLETED,
	    "r");
	add(f, CAIRN_WF_ACTIVITY, "charge", "book", CAIRN_WF_ENTRY_PENDING,
	    NULL);
	turn(f, order_wf, NULL);
	assert_int_equal(f->end.kind, CAIRN__WF_ADVANCE);
	assert_int_equal(f->end.finish, CAIRN_WF_STATE_ANY);
	assert_int_equal(unsent(f), 0);
	assert_non_null(strstr(cairn_wf_errmsg(f->ctx), "seq 2"));
}

/* A failed activity is an outcome, not a return code. */
static void
test_business_failure(void **state)
{
	struct fx *f = *state;

	add(f, CAIRN_WF_ACTIVITY, "reserve", "book", CAIRN_WF_ENTRY_FAILED,
	    "out of stock");
	turn(f, order_wf, NULL);
	assert_int_equal(f->end.kind, CAIRN__WF_ADVANCE);
	assert_int_equal(f->end.finish, CAIRN_WF_FAILED);
	assert_string_equal(f->end.error, "out of stock");
}

static void
expect_nondeterminism(struct fx *f, const char *const *parts)
{
	turn(f, order_wf, NULL);
	assert_int_equal(f->end.kind, CAIRN__WF_FAIL);
	assert_true(f->end.nondeterminism);
	for (; *parts != NULL; parts++) {
		if (strstr(f->end.message, *parts) == NULL) {
			fail_msg("'%s' not in '%s'", *parts, f->end.message);
		}
	}
	assert_int_equal(unsent(f), 0);
}

static void
test_nondeterminism_kind(void **state)
{
	struct fx *f = *state;
	const char *const parts[]
	    = { "seq 1", "activity \"reserve\"", "timer \"\"", NULL };

	add(f, CAIRN_WF_TIMER, "", NULL, CAIRN_WF_ENTRY_PENDING, NULL);
	expect_nondeterminism(f, parts);
}

static void
test_nondeterminism_name(void **state)
{
	struct fx *f = *state;
	const char *const parts[] = { "seq 2", "asks for activity \"charge\"",
		"holds activity \"refund\"", NULL };

	add(f, CAIRN_WF_ACTIVITY, "reserve", "book", CAIRN_WF_ENTRY_COMPLETED,
	    "r");
	add(f, CAIRN_WF_ACTIVITY, "refund", "book", CAIRN_WF_ENTRY_PENDING,
	    NULL);
	expect_nondeterminism(f, parts);
}

static void
test_nondeterminism_hash(void **state)
{
	struct fx *f = *state;
	char want[64];
	const char *const parts[] = { "seq 1", want, NULL };

	snprintf(want, sizeof(want), "input hash %016llx",
	    (unsigned long long) cairn_wf_hash("book", 4));
	add(f, CAIRN_WF_ACTIVITY, "reserve", "pen", CAIRN_WF_ENTRY_COMPLETED,
	    "r");
	expect_nondeterminism(f, parts);
}

/* Code that ends, or waits, before the end of its log does not replay
 * it (README step 3). */
static void
test_leftover_entries(void **state)
{
	struct fx *f = *state;
	const char *const parts[] = { "seq 5", "ends the run",
		"log goes on to seq 5", "activity \"gift-wrap\"", NULL };

	add(f, CAIRN_WF_ACTIVITY, "reserve", "book", CAIRN_WF_ENTRY_COMPLETED,
	    "r");
	add(f, CAIRN_WF_ACTIVITY, "charge", "book", CAIRN_WF_ENTRY_COMPLETED,
	    "c");
	add(f, CAIRN_WF_TIMER, "", NULL, CAIRN_WF_ENTRY_COMPLETED, "");
	add(f, CAIRN_WF_ACTIVITY, "ship", "book", CAIRN_WF_ENTRY_COMPLETED,
	    "s");
	add(f, CAIRN_WF_ACTIVITY, "gift-wrap", "book", CAIRN_WF_ENTRY_PENDING,
	    NULL);
	expect_nondeterminism(f, parts);
}

static void
test_leftover_after_wait(void **state)
{
	struct fx *f = *state;
	const char *const parts[]
	    = { "seq 2", "waits", "activity \"charge\"", NULL };

	/* The log says the first run went on past a wait that is pending
	 * now: outcomes never change, so this code is not that run's. */
	add(f, CAIRN_WF_ACTIVITY, "reserve", "book", CAIRN_WF_ENTRY_PENDING,
	    NULL);
	add(f, CAIRN_WF_ACTIVITY, "charge", "book", CAIRN_WF_ENTRY_PENDING,
	    NULL);
	expect_nondeterminism(f, parts);
}

/* ---- wait_any, wait_all ------------------------------------------------ */

struct race {
	cairn_wf_handle which;
	int rv;
};

/* race: two activities, then whichever comes first. */
static int
race_wf(cairn_wf_ctx *ctx, const void *in, size_t len, void *arg)
{
	struct race *r = arg;
	cairn_wf_handle h[2];
	cairn_wf_outcome o;

	if ((r->rv = cairn_wf_start_activity(ctx, "a", "x", 1, NULL, &h[0]))
	        != CAIRN_OK
	    || (r->rv = cairn_wf_start_activity(ctx, "b", "x", 1, NULL, &h[1]))
	        != CAIRN_OK
	    || (r->rv = cairn_wf_wait_any(ctx, h, 2, &r->which, &o))
	        != CAIRN_OK) {
		return (r->rv);
	}
	return (cairn_wf_succeed(ctx, o.result, o.result_len));
}

static void
test_wait_any_order(void **state)
{
	struct fx *f = *state;
	struct race r = { 0 };

	/* Neither resolved: the turn waits, with both to append. */
	turn(f, race_wf, &r);
	assert_int_equal(r.rv, CAIRN_WF_SUSPEND);
	assert_int_equal(unsent(f), 2);
	record(f, f->ctx);

	/* b got its outcome first, then a: b is the one, in every replay,
	 * although a has the lower seq. */
	resolve(f, 2, CAIRN_WF_ENTRY_COMPLETED, "b wins");
	resolve(f, 1, CAIRN_WF_ENTRY_COMPLETED, "a later");
	for (int i = 0; i < 2; i++) {
		turn(f, race_wf, &r);
		assert_int_equal(r.rv, CAIRN_OK);
		assert_int_equal(r.which, 2);
		assert_string_equal((const char *) f->end.result, "b wins");
	}
}

static void
test_wait_any_first_seq(void **state)
{
	struct fx *f = *state;
	struct race r = { 0 };

	add(f, CAIRN_WF_ACTIVITY, "a", "x", CAIRN_WF_ENTRY_PENDING, NULL);
	add(f, CAIRN_WF_ACTIVITY, "b", "x", CAIRN_WF_ENTRY_PENDING, NULL);
	resolve(f, 1, CAIRN_WF_ENTRY_FAILED, "a broke");
	resolve(f, 2, CAIRN_WF_ENTRY_COMPLETED, "b");
	turn(f, race_wf, &r);
	assert_int_equal(r.which, 1);
	assert_int_equal(f->end.finish, CAIRN_WF_SUCCEEDED);
}

/* all: three activities at once, then their results in order. */
static int
all_wf(cairn_wf_ctx *ctx, const void *in, size_t len, void *arg)
{
	cairn_wf_handle h[3];
	cairn_wf_outcome o[3];
	char out[128];
	int rv;

	for (int i = 0; i < 3; i++) {
		char name[8];
		snprintf(name, sizeof(name), "p%d", i);
		if ((rv = cairn_wf_start_activity(
		         ctx, name, NULL, 0, NULL, &h[i]))
		    != CAIRN_OK) {
			return (rv);
		}
	}
	if ((rv = cairn_wf_wait_all(ctx, h, 3, o)) != CAIRN_OK) {
		return (rv);
	}
	snprintf(out, sizeof(out), "%s,%s,%s", o[0].result, o[1].result,
	    o[2].result);
	return (cairn_wf_succeed(ctx, out, strlen(out)));
}

static void
test_wait_all(void **state)
{
	struct fx *f = *state;

	turn(f, all_wf, NULL);
	assert_int_equal(unsent(f), 3);
	record(f, f->ctx);
	resolve(f, 3, CAIRN_WF_ENTRY_COMPLETED, "z");
	resolve(f, 1, CAIRN_WF_ENTRY_COMPLETED, "x");
	turn(f, all_wf, NULL);
	assert_int_equal(f->end.kind, CAIRN__WF_ADVANCE);
	assert_int_equal(f->end.finish, CAIRN_WF_STATE_ANY);
	assert_non_null(strstr(cairn_wf_errmsg(f->ctx), "seq 2"));
	resolve(f, 2, CAIRN_WF_ENTRY_COMPLETED, "y");
	turn(f, all_wf, NULL);
	assert_int_equal(f->end.finish, CAIRN_WF_SUCCEEDED);
	assert_string_equal((const char *) f->end.result, "x,y,z");
}

/* ---- patched -------------------------------------------------------------
 */

/* v2 of a workflow: behind patch "fast", a timer before the activity. */
static int
patched_wf(cairn_wf_ctx *ctx, const void *in, size_t len, void *arg)
{
	bool *taken = arg;
	cairn_wf_outcome o;
	int rv;

	if ((rv = cairn_wf_patched(ctx, "fast", taken)) != CAIRN_OK) {
		return (rv);
	}
	if (*taken && (rv = cairn_wf_sleep(ctx, 10, NULL)) != CAIRN_OK) {
		return (rv);
	}
	if ((rv = cairn_wf_activity(ctx, "ship", NULL, 0, NULL, &o))
	    != CAIRN_OK) {
		return (rv);
	}
	return (cairn_wf_succeed(ctx, o.result, o.result_len));
}

static void
test_patched_new_run(void **state)
{
	struct fx *f = *state;
	const cairn_wf_command *k;
	bool taken = false;
	uint32_t seq;
	size_t n;

	turn(f, patched_wf, &taken);
	assert_true(taken);
	cairn__wf_ctx_unsent(f->ctx, &k, &n, &seq);
	assert_int_equal(n, 2);
	assert_int_equal(k[0].kind, CAIRN_WF_MARKER);
	assert_string_equal(k[0].name, "patch:fast");
	assert_int_equal(k[1].kind, CAIRN_WF_TIMER);
	/* Replayed, the marker is found and taken again. */
	record(f, f->ctx);
	resolve(f, 2, CAIRN_WF_ENTRY_COMPLETED, "");
	taken = false;
	turn(f, patched_wf, &taken);
	assert_true(taken);
	assert_int_equal(unsent(f), 1); /* ship */
}

static void
test_patched_old_run(void **state)
{
	struct fx *f = *state;
	bool taken = true;

	/* Recorded by the code before the patch: ship first. */
	add(f, CAIRN_WF_ACTIVITY, "ship", "", CAIRN_WF_ENTRY_COMPLETED, "s");
	turn(f, patched_wf, &taken);
	assert_false(taken);
	assert_int_equal(f->end.kind, CAIRN__WF_ADVANCE);
	assert_int_equal(f->end.finish, CAIRN_WF_SUCCEEDED);
	assert_int_equal(unsent(f), 0);
}

/* ---- the poisoned context ------------------------------------------------
 */

struct sloppy {
	int after[3];
};

/* sloppy ignores what its calls return and goes on. */
static int
sloppy_wf(cairn_wf_ctx *ctx, const void *in, size_t len, void *arg)
{
	struct sloppy *s = arg;
	cairn_wf_handle h = 0;
	int64_t now;

	(void) cairn_wf_activity(ctx, "a", NULL, 0, NULL, NULL);
	s->after[0] = cairn_wf_start_activity(ctx, "b", NULL, 0, NULL, &h);
	s->after[1] = cairn_wf_now(ctx, &now);
	s->after[2] = cairn_wf_succeed(ctx, "x", 1);
	return (CAIRN_OK);
}

static void
test_poisoned_after_suspend(void **state)
{
	struct fx *f = *state;
	struct sloppy s;

	turn(f, sloppy_wf, &s);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(s.after[i], CAIRN_WF_SUSPEND);
	}
	/* Nothing after the suspension was recorded, and the return of
	 * CAIRN_OK did not finish the run. */
	assert_int_equal(f->end.kind, CAIRN__WF_ADVANCE);
	assert_int_equal(f->end.finish, CAIRN_WF_STATE_ANY);
	assert_int_equal(unsent(f), 1);
}

static void
test_poisoned_after_nondeterminism(void **state)
{
	struct fx *f = *state;
	struct sloppy s;

	add(f, CAIRN_WF_TIMER, "", NULL, CAIRN_WF_ENTRY_COMPLETED, "");
	turn(f, sloppy_wf, &s);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(s.after[i], CAIRN_WF_NONDETERMINISM);
	}
	assert_int_equal(f->end.kind, CAIRN__WF_FAIL);
	assert_true(f->end.nondeterminism);
	assert_int_equal(unsent(f), 0);
}

static int
bad_handle_wf(cairn_wf_ctx *ctx, const void *in, size_t len, void *arg)
{
	return (cairn_wf_wait(ctx, 3, NULL));
}

static int
after_end_wf(cairn_wf_ctx *ctx, const void *in, size_t len, void *arg)
{
	(void) cairn_wf_succeed(ctx, NULL, 0);
	return (cairn_wf_sleep(ctx, 5, NULL));
}

static int
returns_error_wf(cairn_wf_ctx *ctx, const void *in, size_t len, void *arg)
{
	return (CAIRN_UNAVAILABLE);
}

/* Bugs in the code fail the turn (the run is stuck and retried), never
 * the run, and never as non-determinism. */
static void
test_code_bugs_fail_the_turn(void **state)
{
	struct fx *f = *state;

	turn(f, bad_handle_wf, NULL);
	assert_int_equal(f->end.kind, CAIRN__WF_FAIL);
	assert_false(f->end.nondeterminism);
	assert_non_null(strstr(f->end.message, "handle 3"));
	turn(f, after_end_wf, NULL);
	assert_int_equal(f->end.kind, CAIRN__WF_FAIL);
	assert_non_null(strstr(f->end.message, "after the workflow"));
	turn(f, returns_error_wf, NULL);
	assert_int_equal(f->end.kind, CAIRN__WF_FAIL);
	assert_non_null(strstr(f->end.message, "UNAVAILABLE"));
}

/* ---- steps ----------------------------------------------------------- */

struct steps {
	int runs;
	int fail_with; /* a step function's return */
	cairn_wf_outcome o[2];
};

static int
count_step(cairn_wf_step_ctx *s, const void *in, size_t len, void *arg)
{
	struct steps *st = arg;
	char out[64];

	st->runs++;
	if (st->fail_with != CAIRN_OK) {
		return (st->fail_with);
	}
	if (len == 3 && memcmp(in, "bad", 3) == 0) {
		return (cairn_wf_step_fail(s, "bad input"));
	}
	snprintf(out, sizeof(out), "made-%.*s", (int) len, (const char *) in);
	return (cairn_wf_step_result(s, out, strlen(out)));
}

/* steps: two steps (the second fails as a business outcome), then an
 * activity. */
static int
steps_wf(cairn_wf_ctx *ctx, const void *in, size_t len, void *arg)
{
	struct steps *st = arg;
	int rv;

	if ((rv = cairn_wf_step(
	         ctx, "make", count_step, "one", 3, st, &st->o[0]))
	        != CAIRN_OK
	    || (rv = cairn_wf_step(
	            ctx, "make", count_step, "bad", 3, st, &st->o[1]))
	        != CAIRN_OK
	    || (rv = cairn_wf_activity(ctx, "use", NULL, 0, NULL, NULL))
	        != CAIRN_OK) {
		return (rv);
	}
	return (CAIRN_OK);
}

static void
test_steps_once(void **state)
{
	struct fx *f = *state;
	struct steps st = { 0 };

	turn(f, steps_wf, &st);
	assert_int_equal(st.runs, 2);
	assert_int_equal(f->checkpoints, 2); /* one per step, at once */
	assert_int_equal(f->log.n, 2);       /* both recorded */
	assert_int_equal(st.o[0].status, CAIRN_WF_ENTRY_COMPLETED);
	assert_string_equal((const char *) st.o[0].result, "made-one");
	assert_int_equal(st.o[1].status, CAIRN_WF_ENTRY_FAILED);
	assert_string_equal(st.o[1].error, "bad input");
	assert_int_equal(unsent(f), 1); /* the activity, at the end */
	record(f, f->ctx);
	resolve(f, 3, CAIRN_WF_ENTRY_COMPLETED, "");

	memset(&st, 0, sizeof(st));
	turn(f, steps_wf, &st);
	assert_int_equal(st.runs, 0); /* replayed, not run */
	assert_int_equal(f->checkpoints, 2);
	assert_string_equal((const char *) st.o[0].result, "made-one");
	assert_string_equal(st.o[1].error, "bad input");
	assert_int_equal(f->end.finish, CAIRN_WF_SUCCEEDED);
}

/* A step that returns a status records nothing: the turn fails and the
 * step runs again at the next one. */
static void
test_step_transient_failure(void **state)
{
	struct fx *f = *state;
	struct steps st = { .fail_with = CAIRN_UNAVAILABLE };

	turn(f, steps_wf, &st);
	assert_int_equal(st.runs, 1);
	assert_int_equal(f->checkpoints, 0);
	assert_int_equal(f->log.n, 0);
	assert_int_equal(f->end.kind, CAIRN__WF_FAIL);
	assert_false(f->end.nondeterminism);
	assert_non_null(strstr(f->end.message, "not recorded"));
}

/* A checkpoint refused for a lost lease ends the turn with nothing to
 * send. */
static void
test_step_lease_lost(void **state)
{
	struct fx *f = *state;
	struct steps st = { 0 };

	f->hook_status = CAIRN_FAILED_PRECONDITION;
	turn(f, steps_wf, &st);
	assert_int_equal(st.runs, 1);
	assert_int_equal(f->end.kind, CAIRN__WF_LOST);
}

/* ---- recorded values -----------------------------------------------------
 */

struct values {
	int64_t now;
	uint64_t rnd;
};

static int
values_wf(cairn_wf_ctx *ctx, const void *in, size_t len, void *arg)
{
	struct values *v = arg;
	int rv;

	if ((rv = cairn_wf_now(ctx, &v->now)) != CAIRN_OK
	    || (rv = cairn_wf_random(ctx, &v->rnd)) != CAIRN_OK
	    || (rv = cairn_wf_sleep(ctx, 10, NULL)) != CAIRN_OK) {
		return (rv);
	}
	return (CAIRN_OK);
}

static void
test_values_replay(void **state)
{
	struct fx *f = *state;
	struct values first, again;

	turn(f, values_wf, &first);
	assert_true(first.now > 1700000000000LL);
	record(f, f->ctx);
	assert_int_equal(f->log.v[0].kind, CAIRN_WF_MARKER);
	assert_string_equal(f->log.v[0].name, "now");
	assert_string_equal(f->log.v[1].name, "random");
	resolve(f, 3, CAIRN_WF_ENTRY_COMPLETED, "");
	turn(f, values_wf, &again);
	assert_true(again.now == first.now);
	assert_true(again.rnd == first.rnd);
	assert_int_equal(f->end.finish, CAIRN_WF_SUCCEEDED);
}

/* ---- the worker's log merge and cache ---------------------------------- */

static void
test_log_merge(void **state)
{
	struct fx *f = *state;
	struct fx d = { 0 };

	add(f, CAIRN_WF_ACTIVITY, "a", "", CAIRN_WF_ENTRY_PENDING, NULL);
	add(f, CAIRN_WF_TIMER, "", NULL, CAIRN_WF_ENTRY_PENDING, NULL);
	/* A delta: seq 1 resolved, seq 3 new. */
	add(&d, CAIRN_WF_ACTIVITY, "a", "", CAIRN_WF_ENTRY_COMPLETED, "r");
	add(&d, CAIRN_WF_TIMER, "", NULL, CAIRN_WF_ENTRY_PENDING, NULL);
	add(&d, CAIRN_WF_SIGNAL, "go", NULL, CAIRN_WF_ENTRY_PENDING, NULL);
	cairn__wf_entry_clear(&d.log.v[1]); /* the timer is not new */
	d.log.v[1] = d.log.v[2];
	d.log.v[1].seq = 3;
	d.log.n = 2;
	assert_true(cairn__wf_log_merge(&f->log, d.log.v, d.log.n));
	assert_int_equal(f->log.n, 3);
	assert_int_equal(f->log.v[0].status, CAIRN_WF_ENTRY_COMPLETED);
	assert_string_equal(f->log.v[2].name, "go");
	/* A gap cannot be merged. */
	cairn__wf_log_clear(&d.log);
	add(&d, CAIRN_WF_TIMER, "", NULL, CAIRN_WF_ENTRY_PENDING, NULL);
	d.log.v[0].seq = 5;
	assert_false(cairn__wf_log_merge(&f->log, d.log.v, d.log.n));
	cairn__wf_log_clear(&d.log);
}

static void
test_cache(void **state)
{
	struct cairn__wf_cache c;
	struct cairn__wf_cached e;
	cairn_wf_known k[2];

	assert_true(cairn__wf_cache_init(&c, 2));
	for (uint64_t id = 1; id <= 3; id++) {
		e = (struct cairn__wf_cached) { .run_id = id,
			.log_length = (uint32_t) id * 10 };
		cairn__wf_cache_put(&c, &e);
		if (id == 2) {
			/* run 1 used again: run 2 is the oldest now */
			assert_true(cairn__wf_cache_take(&c, 1, &e));
			cairn__wf_cache_put(&c, &e);
		}
	}
	assert_int_equal(cairn__wf_cache_known(&c, k), 2);
	assert_false(cairn__wf_cache_take(&c, 2, &e));
	assert_true(cairn__wf_cache_take(&c, 3, &e));
	assert_int_equal(e.log_length, 30);
	cairn__wf_log_clear(&e.log);
	assert_int_equal(cairn__wf_cache_known(&c, k), 1);
	assert_int_equal(k[0].run_id, 1);
	cairn__wf_cache_clear(&c);
	(void) state;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_names),
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_first_turn),
		T(test_drive_to_end),
		T(test_pending_suspends),
		T(test_business_failure),
		T(test_nondeterminism_kind),
		T(test_nondeterminism_name),
		T(test_nondeterminism_hash),
		T(test_leftover_entries),
		T(test_leftover_after_wait),
		T(test_wait_any_order),
		T(test_wait_any_first_seq),
		T(test_wait_all),
		T(test_patched_new_run),
		T(test_patched_old_run),
		T(test_poisoned_after_suspend),
		T(test_poisoned_after_nondeterminism),
		T(test_code_bugs_fail_the_turn),
		T(test_steps_once),
		T(test_step_transient_failure),
		T(test_step_lease_lost),
		T(test_values_replay),
		T(test_log_merge),
		T(test_cache),
#undef T
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
