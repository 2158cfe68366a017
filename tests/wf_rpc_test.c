/*
 * wf_rpc_test.c - the workflow rpcs through libcairn's low-level calls
 * against the real cairnd, as a binding in another language would make
 * them: fenced advances (a stale token or a wrong seq is refused and
 * writes nothing), a resent advance answered as the first, bad input
 * refused with a clear status, workflow_id dedup, and a lease that names
 * the runs it knows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cairn.h"
#include "harness.h"

struct fx {
	struct server srv;
	cairn_client *c;
};

static const char *const manual_q[] = { "manual" };

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (server_start(&f->srv, NULL) != 0) {
		fail_msg("cannot start cairnd");
	}
	assert_int_equal(
	    cairn_client_open(&f->c, f->srv.url, NULL, NULL, 0), CAIRN_OK);
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	cairn_client_close(f->c);
	server_stop(&f->srv);
	server_cleanup(&f->srv);
	free(f);
	return (0);
}

static void
sleep_ms(int64_t ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static void
check(struct fx *f, int rv, int want, const char *what)
{
	if (rv != want) {
		fail_msg("%s: %s (%s), expected %s", what, cairn_strerror(rv),
		    cairn_client_errmsg(f->c), cairn_strerror(want));
	}
}

static uint64_t
start(struct fx *f, const char *id)
{
	uint64_t run_id = 0;

	check(f,
	    cairn_workflow_start(
	        f->c, id, "manual", "manual", "in", 2, &run_id, NULL, NULL),
	    CAIRN_OK, "StartWorkflow");
	return (run_id);
}

static cairn_leased_run *
lease(
    struct fx *f, int64_t lease_ms, const cairn_wf_known *known, size_t nknown)
{
	cairn_wf_lease_options o = { .wait_ms = 3000,
		.worker_id = "rpc-test",
		.lease_timeout_ms = lease_ms,
		.known = known,
		.nknown = nknown };
	cairn_leased_run *lr = NULL;

	check(f, cairn_workflow_lease(f->c, manual_q, 1, &o, &lr), CAIRN_OK,
	    "LeaseWorkflow");
	assert_non_null(lr);
	return (lr);
}

static uint32_t
log_length(struct fx *f, uint64_t run_id)
{
	cairn_workflow_run *r;
	uint32_t n;

	check(f, cairn_workflow_get(f->c, run_id, NULL, &r), CAIRN_OK,
	    "GetWorkflow");
	n = r->log_length;
	cairn_workflow_run_free(r);
	return (n);
}

static const cairn_wf_command timer = {
	.kind = CAIRN_WF_TIMER,
	.name = "t",
	.duration_ms = 60000,
};

/* A stale token, a wrong seq and a garbled command are refused, and
 * nothing is written; the current lease at the right seq appends. */
static void
test_fenced_advance(void **state)
{
	struct fx *f = *state;
	uint64_t id = start(f, NULL);
	cairn_leased_run *first, *second;
	cairn_wf_advance a
	    = { .run_id = id, .commands = &timer, .ncommands = 1 };
	cairn_wf_command garbled = timer;
	cairn_wf_advanced out;
	bool cancel;

	first = lease(f, 300, NULL, 0);
	assert_int_equal(first->run->run_id, id);
	assert_int_equal(first->nentries, 0);
	assert_false(first->delta);
	sleep_ms(800); /* the lease is lost at its deadline */
	second = lease(f, 5000, NULL, 0);
	assert_int_equal(second->run->run_id, id);
	assert_int_equal(second->run->task_attempt, 2);
	assert_string_not_equal(first->lease_token, second->lease_token);

	a.lease_token = first->lease_token;
	a.expected_seq = 1;
	check(f, cairn_workflow_advance(f->c, &a, NULL),
	    CAIRN_FAILED_PRECONDITION, "advance with the stale token");
	assert_non_null(strstr(cairn_client_errmsg(f->c), "lease lost"));
	check(f,
	    cairn_workflow_heartbeat(f->c, id, first->lease_token, NULL, NULL),
	    CAIRN_FAILED_PRECONDITION, "heartbeat with the stale token");
	a.lease_token = second->lease_token;
	a.expected_seq = 2;
	check(f, cairn_workflow_advance(f->c, &a, NULL),
	    CAIRN_FAILED_PRECONDITION, "advance at the wrong seq");
	garbled.kind = CAIRN_WF_KIND_UNSPECIFIED;
	a.commands = &garbled;
	a.expected_seq = 1;
	check(f, cairn_workflow_advance(f->c, &a, NULL),
	    CAIRN_INVALID_ARGUMENT, "advance with a garbled command");
	assert_int_equal(log_length(f, id), 0);

	check(f,
	    cairn_workflow_heartbeat(
	        f->c, id, second->lease_token, &cancel, NULL),
	    CAIRN_OK, "heartbeat");
	a.commands = &timer;
	a.request_id = "rpc-test-advance-1";
	check(f, cairn_workflow_advance(f->c, &a, &out), CAIRN_OK, "advance");
	assert_int_equal(out.nentries, 1);
	assert_int_equal(out.entries[0].seq, 1);
	assert_int_equal(out.entries[0].kind, CAIRN_WF_TIMER);
	assert_int_equal(out.entries[0].status, CAIRN_WF_ENTRY_PENDING);
	assert_true(out.entries[0].fire_at_ms > 0);
	assert_int_equal(out.log_length, 1);
	cairn_wf_entries_free(out.entries, out.nentries);
	/* The same advance again, as after a lost reply: answered as the
	 * first, appended once. */
	check(f, cairn_workflow_advance(f->c, &a, &out), CAIRN_OK,
	    "the advance resent");
	assert_int_equal(out.log_length, 1);
	cairn_wf_entries_free(out.entries, out.nentries);
	assert_int_equal(log_length(f, id), 1);
	cairn_leased_run_free(first);
	cairn_leased_run_free(second);
}

/* A lease of a run the worker names in `known` carries only what it
 * lacks. */
static void
test_known_delta(void **state)
{
	struct fx *f = *state;
	uint64_t id = start(f, NULL);
	cairn_wf_command cmds[2] = { {
		                         .kind = CAIRN_WF_MARKER,
		                         .name = "now",
		                         .input = "1",
		                         .input_len = 1,
		                         .status = CAIRN_WF_ENTRY_COMPLETED,
		                         .result = "1",
		                         .result_len = 1,
		                     },
		{ .kind = CAIRN_WF_TIMER, .duration_ms = 0 } };
	cairn_wf_advance a = { .run_id = id,
		.expected_seq = 1,
		.commands = cmds,
		.ncommands = 2 };
	cairn_leased_run *lr = lease(f, 5000, NULL, 0);
	cairn_wf_known k = { .run_id = id };

	a.lease_token = lr->lease_token;
	k.resolved_count = lr->run->resolved_count;
	check(f, cairn_workflow_advance(f->c, &a, NULL), CAIRN_OK, "advance");
	cairn_leased_run_free(lr);
	/* The timer of 0 ms fires at once and makes the run runnable. */
	k.log_length = 1; /* as if the worker held only the marker */
	lr = lease(f, 5000, &k, 1);
	assert_true(lr->delta);
	assert_int_equal(lr->run->log_length, 2);
	for (size_t i = 0; i < lr->nentries; i++) {
		assert_true(lr->entries[i].seq == 2
		    || lr->entries[i].resolved_order > k.resolved_count);
		assert_int_equal(lr->entries[i].input_len, 0); /* left out */
	}
	assert_int_equal(lr->entries[lr->nentries - 1].seq, 2);
	cairn_leased_run_free(lr);
}

static void
test_bad_input(void **state)
{
	struct fx *f = *state;
	size_t big = 2u << 20;
	char *input = calloc(1, big);
	cairn_workflow_run *r;
	cairn_wf_entry *e;
	uint64_t id = 0;
	size_t n;

	check(f, cairn_workflow_get(f->c, 424242, NULL, &r), CAIRN_NOT_FOUND,
	    "get an unknown run");
	check(f, cairn_workflow_get(f->c, 0, "no-such-id", &r),
	    CAIRN_NOT_FOUND, "get an unknown workflow id");
	check(f,
	    cairn_workflow_signal(f->c, 424242, NULL, "s", "", 0, NULL, NULL),
	    CAIRN_NOT_FOUND, "signal an unknown run");
	check(f, cairn_workflow_cancel(f->c, 424242, NULL, NULL, NULL),
	    CAIRN_NOT_FOUND, "cancel an unknown run");
	check(f,
	    cairn_workflow_history(
	        f->c, 424242, NULL, 0, 0, NULL, &e, &n, NULL),
	    CAIRN_NOT_FOUND, "history of an unknown run");
	check(f,
	    cairn_workflow_start(
	        f->c, NULL, "", NULL, NULL, 0, &id, NULL, NULL),
	    CAIRN_INVALID_ARGUMENT, "start with no type");
	check(f,
	    cairn_workflow_start(
	        f->c, NULL, "bad type!", NULL, NULL, 0, &id, NULL, NULL),
	    CAIRN_INVALID_ARGUMENT, "start with a bad type");
	check(f,
	    cairn_workflow_start(
	        f->c, NULL, "manual", "bad queue!", NULL, 0, &id, NULL, NULL),
	    CAIRN_INVALID_ARGUMENT, "start on a bad queue");
	check(f,
	    cairn_workflow_start(
	        f->c, NULL, "manual", NULL, input, big, &id, NULL, NULL),
	    CAIRN_INVALID_ARGUMENT, "start with an oversized input");
	free(input);
	/* The library's own checks: a run must be named. */
	check(f, cairn_workflow_get(f->c, 0, NULL, &r), CAIRN_INVALID_ARGUMENT,
	    "get with no run named");
	/* Nothing was created by any of them. */
	{
		cairn_workflow_run **runs;
		check(f,
		    cairn_workflow_list(f->c, NULL, 0, 0, &runs, &n, NULL),
		    CAIRN_OK, "list");
		assert_int_equal(n, 0);
		cairn_workflow_runs_free(runs, n);
	}
}

static void
test_workflow_id_dedup(void **state)
{
	struct fx *f = *state;
	uint64_t a = 0, b = 0;
	char *wfid = NULL;
	bool created = true;
	cairn_workflow_run **runs;
	cairn_workflow_filter filter
	    = { .type = "manual", .state = CAIRN_WF_RUNNING };
	size_t n;

	a = start(f, "once");
	check(f,
	    cairn_workflow_start(f->c, "once", "manual", "manual", "other", 5,
	        &b, &wfid, &created),
	    CAIRN_OK, "the second start");
	assert_int_equal(a, b);
	assert_false(created);
	assert_string_equal(wfid, "once");
	cairn_free(wfid);
	/* An empty id: the server makes one up. */
	check(f,
	    cairn_workflow_start(
	        f->c, NULL, "manual", "manual", NULL, 0, &b, &wfid, &created),
	    CAIRN_OK, "a start without id");
	assert_true(created);
	assert_true(wfid[0] != '\0');
	cairn_free(wfid);
	check(f, cairn_workflow_list(f->c, &filter, 0, 0, &runs, &n, NULL),
	    CAIRN_OK, "list");
	assert_int_equal(n, 2);
	assert_true(runs[0]->run_id < runs[1]->run_id);
	cairn_workflow_runs_free(runs, n);
	filter.state = CAIRN_WF_SUCCEEDED;
	check(f, cairn_workflow_list(f->c, &filter, 0, 0, &runs, &n, NULL),
	    CAIRN_OK, "list succeeded");
	assert_int_equal(n, 0);
	cairn_workflow_runs_free(runs, n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_fenced_advance),
		T(test_known_delta),
		T(test_bad_input),
		T(test_workflow_id_dedup),
#undef T
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
