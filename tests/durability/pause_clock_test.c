/*
 * pause_clock_test.c - pauses and clocks. A worker stopped (SIGSTOP) past
 * its lease is refused when it wakes and its task is delivered once more;
 * a server stopped past a lease lets the next worker have the task and
 * never both; the server's clock (cairnd-faultfs) jumping forward ends
 * leases as a pause would, and jumping back neither cuts a lease short
 * nor stretches it: cairnd's time never goes back (engine/guard.c).
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "dur_util.h"

static const char *self;

struct fx {
	struct dsrv srv;
	cairn_client *a, *b; /* two workers */
};

static int
setup_with(void **state, const char *bin)
{
	struct fx *f = calloc(1, sizeof(*f));
	cairn_client_options o = { .timeout_ms = 5000 };

	if (dsrv_init(&f->srv, bin, "tcp") != 0
	    || dsrv_start(&f->srv, NULL) != 0) {
		fail_msg("cannot start %s", bin);
	}
	assert_int_equal(
	    cairn_client_open(&f->a, f->srv.url, &o, NULL, 0), CAIRN_OK);
	assert_int_equal(
	    cairn_client_open(&f->b, f->srv.url, &o, NULL, 0), CAIRN_OK);
	*state = f;
	return (0);
}

static int
setup(void **state)
{
	return (setup_with(state, "CAIRND"));
}

static int
setup_faultfs(void **state)
{
	return (setup_with(state, "CAIRND_FAULTFS"));
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	cairn_client_close(f->a);
	cairn_client_close(f->b);
	dsrv_cleanup(&f->srv);
	free(f);
	return (0);
}

static uint64_t
enqueue(cairn_client *c, int64_t delay_ms)
{
	/* A retry 1 ms after a lease ends, so that the next worker gets
	 * the task at once. */
	cairn_task_spec spec = { .queue = "q",
		.payload = "x",
		.payload_len = 1,
		.delay_ms = delay_ms,
		.retry_initial_backoff_ms = 1 };
	cairn_enqueue_result r;

	assert_int_equal(cairn_enqueue(c, &spec, 1, &r), CAIRN_OK);
	return (r.id);
}

/* lease leases from q with lease timeout lt, waiting up to 300 ms for a
 * task; NULL when none came. */
static cairn_task *
lease(cairn_client *c, int64_t lt)
{
	const char *q = "q";
	cairn_lease_options o = { .lease_timeout_ms = lt, .wait_ms = 300 };
	cairn_task **ts, *t = NULL;
	size_t n;

	assert_int_equal(cairn_lease(c, &q, 1, &o, &ts, &n), CAIRN_OK);
	if (n > 0) {
		t = ts[0];
		ts[0] = NULL;
	}
	cairn_tasks_free(ts, n);
	return (t);
}

static int64_t
server_time(cairn_client *c)
{
	int64_t t;

	assert_int_equal(cairn_ping(c, &t, NULL), CAIRN_OK);
	return (t);
}

static size_t
events(cairn_client *c, uint64_t id, const char *kind)
{
	cairn_event *ev;
	size_t n, k = 0;

	assert_int_equal(cairn_history(c, id, &ev, &n), CAIRN_OK);
	for (size_t i = 0; i < n; i++) {
		k += strcmp(ev[i].kind, kind) == 0;
	}
	cairn_events_free(ev, n);
	return (k);
}

/*
 * The worker process: leases one task (lease timeout 1 s), says so on
 * stdout, and heartbeats every 200 ms until one is refused; then tries to
 * complete, and exits 0 when both were refused with FAILED_PRECONDITION.
 */
static int
worker_main(const char *url)
{
	cairn_client *c;
	cairn_task *t;
	int rv;

	if (cairn_client_open(&c, url, NULL, NULL, 0) != CAIRN_OK
	    || (t = lease(c, 1000)) == NULL) {
		return (2);
	}
	printf("LEASED %llu\n", (unsigned long long) t->id);
	fflush(stdout);
	do {
		sleep_ms(200);
		rv = cairn_heartbeat(
		    c, t->id, t->lease_token, NULL, 0, NULL, NULL);
	} while (rv == CAIRN_OK);
	int done = cairn_complete(c, t->id, t->lease_token, "late", 4);
	printf("HEARTBEAT %d COMPLETE %d\n", rv, done);
	cairn_task_free(t);
	cairn_client_close(c);
	return (rv == CAIRN_FAILED_PRECONDITION
	            && done == CAIRN_FAILED_PRECONDITION
	        ? 0
	        : 1);
}

static void
paused_worker_is_refused_and_its_task_delivered_again(void **state)
{
	struct fx *f = *state;
	int out[2], status;
	char line[128];
	uint64_t id = enqueue(f->a, 0);

	assert_int_equal(pipe(out), 0);
	pid_t kid = fork();
	if (kid == 0) {
		dup2(out[1], 1);
		execl(self, self, "--worker", f->srv.url, (char *) NULL);
		_exit(127);
	}
	close(out[1]);
	FILE *from = fdopen(out[0], "r");
	assert_non_null(fgets(line, sizeof(line), from));
	assert_int_equal(strtoull(line + 7, NULL, 10), id);
	sleep_ms(500); /* it heartbeats, its lease holds */
	assert_null(lease(f->b, 1000));
	kill(kid, SIGSTOP);
	sleep_ms(1500); /* past its lease */
	cairn_task *t = lease(f->b, 5000);
	assert_non_null(t);
	assert_int_equal(t->id, id);
	assert_int_equal(t->attempt, 2);
	kill(kid, SIGCONT);
	assert_non_null(fgets(line, sizeof(line), from));
	print_message("paused worker: %s", line);
	assert_int_equal(waitpid(kid, &status, 0), kid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	fclose(from);
	assert_int_equal(
	    cairn_complete(f->b, t->id, t->lease_token, "ok", 2), CAIRN_OK);
	cairn_task_free(t);
	assert_int_equal(events(f->a, id, "leased"), 2); /* once more */
	assert_int_equal(events(f->a, id, "completed"), 1);
}

struct race {
	cairn_client *c;
	cairn_task *t;
	int rv;
	cairn_task *got;
};

static void *
heartbeat_thread(void *arg)
{
	struct race *r = arg;

	r->rv = cairn_heartbeat(
	    r->c, r->t->id, r->t->lease_token, NULL, 0, NULL, NULL);
	return (NULL);
}

static void *
lease_thread(void *arg)
{
	struct race *r = arg;

	r->got = lease(r->c, 5000);
	return (NULL);
}

static void
paused_server_never_lets_two_workers_hold_a_task(void **state)
{
	struct fx *f = *state;
	uint64_t id = enqueue(f->a, 0);
	cairn_task *t = lease(f->a, 1000);
	struct race ra = { .c = f->a, .t = t }, rb = { .c = f->b };
	pthread_t ta, tb;

	assert_int_equal(t->id, id);
	kill(f->srv.pid, SIGSTOP);
	sleep_ms(2000);
	kill(f->srv.pid, SIGCONT);
	/* The old holder and a new worker at once, whatever the order. */
	pthread_create(&ta, NULL, heartbeat_thread, &ra);
	pthread_create(&tb, NULL, lease_thread, &rb);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	print_message("after the pause: heartbeat %s, lease %s\n",
	    cairn_strerror(ra.rv), rb.got != NULL ? "got the task" : "none");
	assert_false(ra.rv == CAIRN_OK && rb.got != NULL);
	/* The lease ended during the pause: it is gone. */
	assert_int_equal(ra.rv, CAIRN_FAILED_PRECONDITION);
	assert_non_null(rb.got);
	assert_int_equal(rb.got->attempt, 2);
	assert_int_equal(cairn_complete(f->a, id, t->lease_token, NULL, 0),
	    CAIRN_FAILED_PRECONDITION);
	assert_int_equal(
	    cairn_complete(f->b, id, rb.got->lease_token, NULL, 0), CAIRN_OK);
	cairn_task_free(rb.got);
	cairn_task_free(t);
}

static void
clock_jumping_forward_ends_leases_and_makes_tasks_due(void **state)
{
	struct fx *f = *state;
	uint64_t id = enqueue(f->a, 0);
	uint64_t later = enqueue(f->a, 90000);
	cairn_task *t = lease(f->a, 60000);

	assert_int_equal(t->id, id);
	assert_null(lease(f->b, 60000)); /* the other is not due */
	assert_int_equal(dsrv_ctl(&f->srv, "clock_offset_ms 120000\n"), 0);
	sleep_ms(100);
	assert_true(server_time(f->a) - wall_ms() > 110000);
	/* Two minutes later, by the server's clock: the lease of 60 s is
	 * over and the delayed task due. */
	cairn_task *b1 = lease(f->b, 60000), *b2 = lease(f->b, 60000);
	assert_non_null(b1);
	assert_non_null(b2);
	assert_true((b1->id == id && b2->id == later)
	    || (b1->id == later && b2->id == id));
	assert_int_equal(
	    cairn_heartbeat(f->a, id, t->lease_token, NULL, 0, NULL, NULL),
	    CAIRN_FAILED_PRECONDITION);
	cairn_task_free(t);
	cairn_task_free(b1);
	cairn_task_free(b2);
}

static void
clock_jumping_back_neither_cuts_nor_stretches_a_lease(void **state)
{
	struct fx *f = *state;
	uint64_t id = enqueue(f->a, 0);
	cairn_task *t = lease(f->a, 2000);
	int64_t before = server_time(f->a), deadline;

	assert_int_equal(dsrv_ctl(&f->srv, "clock_offset_ms -3600000\n"), 0);
	sleep_ms(100);
	/* The server's time does not go back an hour. */
	int64_t after = server_time(f->a);
	assert_true(after >= before);
	assert_true(after - before < 5000);
	assert_true(dsrv_log_has(&f->srv, "clock went back"));
	/* The lease is still there, and a heartbeat does not shorten it. */
	assert_null(lease(f->b, 2000));
	assert_int_equal(cairn_heartbeat(f->a, id, t->lease_token, NULL, 0,
	                     NULL, &deadline),
	    CAIRN_OK);
	assert_true(deadline >= t->lease_deadline_ms);
	assert_true(deadline - after >= 1900 && deadline - after <= 2500);
	/* Nor does it last an hour: 2 s of real time later, it is over. */
	sleep_ms(2500);
	cairn_task *b = lease(f->b, 2000);
	assert_non_null(b);
	assert_int_equal(b->id, id);
	assert_int_equal(b->attempt, 2);
	assert_int_equal(
	    cairn_heartbeat(f->a, id, t->lease_token, NULL, 0, NULL, NULL),
	    CAIRN_FAILED_PRECONDITION);
	cairn_task_free(b);
	cairn_task_free(t);
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--worker") == 0) {
		return (worker_main(argv[2]));
	}
	self = argv[0];
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    paused_worker_is_refused_and_its_task_delivered_again,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    paused_server_never_lets_two_workers_hold_a_task, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    clock_jumping_forward_ends_leases_and_makes_tasks_due,
		    setup_faultfs, teardown),
		cmocka_unit_test_setup_teardown(
		    clock_jumping_back_neither_cuts_nor_stretches_a_lease,
		    setup_faultfs, teardown),
	};
	return (cmocka_run_group_tests_name("pause_clock", tests, NULL, NULL));
}
