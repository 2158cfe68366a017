/*
 * wf_e2e_test.c - durable workflows end to end: the real cairnd, C
 * workflow workers (threads, or processes killed with SIGKILL) and
 * ordinary task workers for the activities. A workflow of three
 * activities, a step and a timer completes; a worker killed in the middle
 * is replaced without re-running what was recorded; a signal sent before
 * the wait is delivered; a child's result reaches its parent; a changed
 * workflow function leaves the run stuck until the original code is back;
 * cancel reaches a running activity; a signal wait times out; terminate;
 * an unknown type; delta leases.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "wf_fixture.h"

static int
done(struct wf_fx *f, const char *queue)
{
	for (int i = 0; i < WF_FLOWS_NQUEUES; i++) {
		if (strcmp(wf_flows_activity_queues[i], queue) == 0) {
			return (atomic_load(&f->done[i]));
		}
	}
	return (-1);
}

static void
assert_result(const cairn_workflow_run *r, const char *want)
{
	if (r->state != CAIRN_WF_SUCCEEDED) {
		fail_msg("run %llu is %s: %s", (unsigned long long) r->run_id,
		    cairn_workflow_state_name(r->state), r->error);
	}
	assert_int_equal(r->result_len, strlen(want));
	assert_memory_equal(r->result, want, r->result_len);
}

/* The order's log: reserve, charge, receipt, timer, ship; every activity
 * ran once. */
static void
assert_order_log(struct wf_fx *f, uint64_t run_id, int64_t timer_ms)
{
	static const struct {
		cairn_wf_kind kind;
		const char *name;
	} want[] = {
		{ CAIRN_WF_ACTIVITY, "reserve" },
		{ CAIRN_WF_ACTIVITY, "charge" },
		{ CAIRN_WF_STEP, "receipt" },
		{ CAIRN_WF_TIMER, "" },
		{ CAIRN_WF_ACTIVITY, "ship" },
	};
	size_t n;
	cairn_wf_entry *e = wf_history(f, run_id, &n);

	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(e[i].seq, i + 1);
		assert_int_equal(e[i].kind, want[i].kind);
		assert_string_equal(e[i].name, want[i].name);
		assert_int_equal(e[i].status, CAIRN_WF_ENTRY_COMPLETED);
		assert_true(e[i].resolved_order > 0);
		if (e[i].kind == CAIRN_WF_ACTIVITY) {
			assert_int_equal(e[i].attempts, 1);
			assert_true(e[i].task_id > 0);
			assert_string_equal(e[i].queue, want[i].name);
		}
	}
	/* History carries inputs; the step's is the run's input. */
	assert_int_equal(
	    e[2].input_hash, cairn_wf_hash(e[2].input, e[2].input_len));
	assert_true(e[3].fire_at_ms >= e[3].created_at_ms + timer_ms);
	cairn_wf_entries_free(e, n);
}

static void
test_order_completes(void **state)
{
	struct wf_fx *f = *state;
	cairn_wf_worker_stats st;
	cairn_workflow_run *r;
	uint64_t id;

	wf_start_worker(f, 0, 1, true);
	id = wf_start(f, "order", "order-1", "o1");
	r = wf_await(f, id, 30000);
	assert_result(r, "reserve:o1|charge:o1|receipt:o1|ship:o1");
	assert_string_equal(r->workflow_id, "order-1");
	assert_false(r->stuck);
	assert_int_equal(r->log_length, 5);
	cairn_workflow_run_free(r);
	assert_order_log(f, id, 500);
	assert_int_equal(done(f, "reserve"), 1);
	assert_int_equal(done(f, "charge"), 1);
	assert_int_equal(done(f, "ship"), 1);
	assert_int_equal(wf_count_lines(f, "start o1"), 1);
	assert_int_equal(wf_stop_worker(f, 0, &st), CAIRN_OK);
	/* A turn per wait: the start, reserve, charge, the timer, ship. */
	assert_true(st.turns >= 5);
	assert_int_equal(st.task_failures + st.nondeterminism, 0);
}

/* The worker is killed while it runs the step (it holds the lease, and
 * reserve and charge are recorded); another one finishes the run. */
static void
test_kill_mid_run(void **state)
{
	struct wf_fx *f = *state;
	const char *const slow[] = { "--step-log", f->step_log, "--step-sleep",
		"4000", "--lease-timeout", "1500", "--timer", "300", NULL };
	const char *const fast[] = { "--step-log", f->step_log,
		"--lease-timeout", "1500", "--timer", "300", NULL };
	cairn_workflow_run *r;
	pid_t a, b;
	uint64_t id;

	a = wf_spawn_worker(f, slow);
	id = wf_start(f, "order", NULL, "k1");
	for (int64_t until = wf_now_ms() + 15000;
	     wf_count_lines(f, "start k1") == 0 && wf_now_ms() < until;) {
		wf_sleep_ms(20);
	}
	assert_int_equal(wf_count_lines(f, "start k1"), 1);
	wf_kill_worker(f, a, SIGKILL);

	b = wf_spawn_worker(f, fast);
	r = wf_await(f, id, 30000);
	wf_kill_worker(f, b, SIGTERM);
	assert_result(r, "reserve:k1|charge:k1|receipt:k1|ship:k1");
	cairn_workflow_run_free(r);
	/* Recorded activities were not run again; the step, not recorded
	 * when the first worker died, ran twice (at least once), and once
	 * recorded was replayed, not run, at the turns after. */
	assert_int_equal(done(f, "reserve"), 1);
	assert_int_equal(done(f, "charge"), 1);
	assert_int_equal(done(f, "ship"), 1);
	assert_int_equal(wf_count_lines(f, "start k1"), 2);
	assert_int_equal(wf_count_lines(f, "done k1"), 1);
	assert_order_log(f, id, 300);
}

static void
test_signal_before_wait(void **state)
{
	struct wf_fx *f = *state;
	cairn_workflow_run *r;
	uint64_t id, rid = 0;
	uint32_t seq = 99;

	id = wf_start(f, "inbox", "inbox-1", NULL);
	/* No worker yet: the run cannot be waiting for the signal. */
	assert_int_equal(cairn_workflow_signal(
	                     f->c, 0, "inbox-1", "go", "hello", 5, &rid, &seq),
	    CAIRN_OK);
	assert_int_equal(rid, id);
	assert_int_equal(seq, 0);
	wf_start_worker(f, 0, 1, true);
	r = wf_await(f, id, 30000);
	assert_result(r, "hello");
	cairn_workflow_run_free(r);
	/* A finished run takes no more signals. */
	assert_int_equal(
	    cairn_workflow_signal(f->c, id, NULL, "go", "x", 1, NULL, NULL),
	    CAIRN_FAILED_PRECONDITION);
}

static void
test_child_result(void **state)
{
	struct wf_fx *f = *state;
	cairn_workflow_run *r, *c;
	cairn_wf_entry *e;
	uint64_t id, child;
	size_t n;

	wf_start_worker(f, 0, 1, true);
	id = wf_start(f, "parent", "parent-1", "x");
	r = wf_await(f, id, 30000);
	assert_result(r, "parent(child:x)");
	cairn_workflow_run_free(r);
	e = wf_history(f, id, &n);
	assert_int_equal(n, 1);
	assert_int_equal(e[0].kind, CAIRN_WF_CHILD);
	assert_string_equal(e[0].name, "child");
	child = e[0].child_run_id;
	cairn_wf_entries_free(e, n);
	assert_true(child > 0);
	assert_int_equal(cairn_workflow_get(f->c, child, NULL, &c), CAIRN_OK);
	assert_int_equal(c->parent_run_id, id);
	assert_int_equal(c->parent_seq, 1);
	assert_string_equal(c->workflow_id, "parent-1/1");
	assert_result(c, "child:x");
	cairn_workflow_run_free(c);
}

/* A changed function is reported as non-deterministic: the run is stuck,
 * still running; the original code finishes it. */
static void
test_changed_code_stuck(void **state)
{
	struct wf_fx *f = *state;
	cairn_wf_worker_stats st;
	cairn_workflow_run *r;
	uint64_t id;

	wf_start_worker(f, 0, 1, true);
	id = wf_start(f, "approval", "appr-1", "a1");
	assert_true(wf_wait_log(f, id, CAIRN_WF_SIGNAL, "approve", 15000));
	assert_int_equal(wf_stop_worker(f, 0, NULL), CAIRN_OK);

	wf_start_worker(f, 1, 2, true);
	assert_int_equal(cairn_workflow_signal(
	                     f->c, id, NULL, "approve", "yes", 3, NULL, NULL),
	    CAIRN_OK);
	r = wf_wait_stuck(f, id, 15000);
	assert_non_null(r);
	assert_int_equal(r->state, CAIRN_WF_RUNNING);
	assert_non_null(strstr(r->stuck_reason, "non-determinism"));
	assert_non_null(strstr(r->stuck_reason, "charge2"));
	assert_non_null(strstr(r->stuck_reason, "approve"));
	cairn_workflow_run_free(r);
	assert_int_equal(wf_stop_worker(f, 1, &st), CAIRN_OK);
	assert_true(st.nondeterminism >= 1);
	assert_int_equal(done(f, "charge2"), 0);

	wf_start_worker(f, 0, 1, true);
	r = wf_await(f, id, 90000);
	assert_result(r, "approved:ship:yes");
	assert_false(r->stuck);
	cairn_workflow_run_free(r);
}

static void
test_cancel_reaches_activity(void **state)
{
	struct wf_fx *f = *state;
	cairn_workflow_state st;
	cairn_workflow_run *r;
	cairn_wf_entry *e;
	uint64_t id;
	size_t n;

	wf_start_worker(f, 0, 1, true);
	id = wf_start(f, "slow", "slow-1", "s");
	for (int64_t until = wf_now_ms() + 15000;
	     !atomic_load(&f->slow_started) && wf_now_ms() < until;) {
		wf_sleep_ms(20);
	}
	assert_true(atomic_load(&f->slow_started));
	assert_int_equal(
	    cairn_workflow_cancel(f->c, 0, "slow-1", "enough", &st), CAIRN_OK);
	assert_int_equal(st, CAIRN_WF_RUNNING);
	/* Repeating it changes nothing. */
	assert_int_equal(
	    cairn_workflow_cancel(f->c, id, NULL, NULL, &st), CAIRN_OK);
	r = wf_await(f, id, 30000);
	assert_int_equal(r->state, CAIRN_WF_CANCELED);
	assert_string_equal(r->error, "canceled while slow ran");
	cairn_workflow_run_free(r);
	assert_int_equal(atomic_load(&f->slow_reason), CAIRN_JOB_CANCELED);
	e = wf_history(f, id, &n);
	assert_int_equal(n, 1);
	assert_int_equal(e[0].status, CAIRN_WF_ENTRY_CANCELED);
	cairn_wf_entries_free(e, n);
}

static void
test_signal_timeout(void **state)
{
	struct wf_fx *f = *state;
	cairn_workflow_run *r;
	uint64_t id;

	wf_start_worker(f, 0, 1, true);
	id = wf_start(f, "expect", NULL, NULL);
	r = wf_await(f, id, 30000);
	assert_result(r, "timed_out");
	cairn_workflow_run_free(r);
}

static void
test_terminate(void **state)
{
	struct wf_fx *f = *state;
	cairn_workflow_state st;
	cairn_workflow_run *r;
	uint64_t id;

	wf_start_worker(f, 0, 1, true);
	id = wf_start(f, "approval", "appr-2", "a2");
	assert_true(wf_wait_log(f, id, CAIRN_WF_SIGNAL, "approve", 15000));
	assert_int_equal(
	    cairn_workflow_terminate(f->c, id, NULL, "no longer wanted", &st),
	    CAIRN_OK);
	assert_int_equal(st, CAIRN_WF_TERMINATED);
	r = wf_await(f, id, 5000);
	assert_int_equal(r->state, CAIRN_WF_TERMINATED);
	assert_string_equal(r->error, "no longer wanted");
	cairn_workflow_run_free(r);
	assert_int_equal(cairn_workflow_signal(
	                     f->c, id, NULL, "approve", "", 0, NULL, NULL),
	    CAIRN_FAILED_PRECONDITION);
}

static void
test_unknown_type_stuck(void **state)
{
	struct wf_fx *f = *state;
	cairn_workflow_run *r;
	uint64_t id;

	wf_start_worker(f, 0, 1, true);
	id = wf_start(f, "nobody-runs-this", NULL, NULL);
	r = wf_wait_stuck(f, id, 15000);
	assert_non_null(r);
	assert_int_equal(r->state, CAIRN_WF_RUNNING);
	assert_non_null(strstr(r->stuck_reason, "no workflow function"));
	assert_non_null(strstr(r->stuck_reason, "nobody-runs-this"));
	cairn_workflow_run_free(r);
}

/* A worker that keeps the logs it held is sent only what changed; one
 * that keeps none is sent the whole log at every turn. */
static void
test_delta_leases(void **state)
{
	struct wf_fx *f = *state;
	cairn_wf_worker_stats with, without;
	cairn_workflow_run *r;

	wf_start_worker(f, 0, 1, true);
	r = wf_await(f, wf_start(f, "order", NULL, "d1"), 30000);
	cairn_workflow_run_free(r);
	assert_int_equal(wf_stop_worker(f, 0, &with), CAIRN_OK);
	wf_start_worker(f, 0, 1, false);
	r = wf_await(f, wf_start(f, "order", NULL, "d2"), 30000);
	cairn_workflow_run_free(r);
	assert_int_equal(wf_stop_worker(f, 0, &without), CAIRN_OK);
	print_message("delta leases: %llu turns, %llu full + %llu delta "
	              "leases, %llu entries received; without the cache: "
	              "%llu turns, %llu entries\n",
	    (unsigned long long) with.turns,
	    (unsigned long long) with.leases_full,
	    (unsigned long long) with.leases_delta,
	    (unsigned long long) with.entries_leased,
	    (unsigned long long) without.turns,
	    (unsigned long long) without.entries_leased);
	assert_true(with.leases_delta >= 3);
	assert_int_equal(with.history_loads, 0);
	assert_int_equal(without.leases_delta, 0);
	assert_true(with.entries_leased < without.entries_leased);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, wf_setup, wf_teardown)
		T(test_order_completes),
		T(test_kill_mid_run),
		T(test_signal_before_wait),
		T(test_child_result),
		T(test_changed_code_stuck),
		T(test_cancel_reaches_activity),
		T(test_signal_timeout),
		T(test_terminate),
		T(test_unknown_type_stuck),
		T(test_delta_leases),
#undef T
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
