/*
 * disconnect_test.c - leases bound to their connection, end to end on the
 * real cairnd (SQLite, and PostgreSQL when CAIRN_TEST_STORE names it):
 *
 *  - a `cairn work` worker killed with SIGKILL has its task leased again
 *    after the grace period, with "worker disconnected" in its history,
 *    long before the task's heartbeat timeout;
 *  - a worker whose connection drops and that heartbeats from a new one
 *    within the grace period keeps its lease;
 *  - Release gives a task back at once (the attempt not counted), or as a
 *    failure when asked, fenced by the token;
 *  - a parked long-poll whose connection closed takes no task;
 *  - a workflow run leased that way is runnable again after the grace
 *    period when its worker's connection closes.
 *
 * Environment (set by ctest): CAIRND, CAIRN_CLI.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "cairn.h"
#include "cairn.pb-c.h"
#include "cairn_workflow.h"
#include "harness.h"

#define GRACE  "2s"
#define HOUR   3600000
#define TOKENS 64

struct fx {
	struct server srv;
	int http_port;
	cairn_client *c;
};

static long metric(int port, const char *name);

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char http[32];

	f->http_port = free_port();
	snprintf(http, sizeof(http), "127.0.0.1:%d", f->http_port);
	/* Long-polls outlast the test: only a close ends the dead one. */
	const char *extra[] = { "--disconnect-grace", GRACE, "--http", http,
		"--max-wait", "10m", NULL };
	if (server_start(&f->srv, extra) != 0) {
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
	server_stop(&f->srv); /* an orderly stop with leases bound */
	server_cleanup(&f->srv);
	free(f);
	return (0);
}

/* enqueue adds a task to queue that no heartbeat timeout would free
 * within the test, and whose retry follows at once. */
static uint64_t
enqueue(cairn_client *c, const char *queue, uint32_t max_attempts)
{
	cairn_task_spec spec = {
		.queue = queue,
		.payload = "x",
		.payload_len = 1,
		.max_attempts = max_attempts,
		.heartbeat_timeout_ms = HOUR,
		.retry_initial_backoff_ms = 1,
		.retry_multiplier = 1.0,
		.retry_max_backoff_ms = 1,
	};
	cairn_enqueue_result r;

	assert_int_equal(cairn_enqueue(c, &spec, 1, &r), CAIRN_OK);
	return (r.id);
}

/* lease1 leases one task of queue (waiting up to wait_ms), or NULL. */
static cairn_task *
lease1(cairn_client *c, const char *queue, int64_t wait_ms, bool bind)
{
	cairn_lease_options o
	    = { .wait_ms = wait_ms, .release_on_disconnect = bind };
	cairn_task **ts, *t = NULL;
	size_t n;

	assert_int_equal(cairn_lease(c, &queue, 1, &o, &ts, &n), CAIRN_OK);
	if (n > 0) {
		t = ts[0];
		ts[0] = NULL;
	}
	cairn_tasks_free(ts, n);
	return (t);
}

static cairn_state
state_of(cairn_client *c, uint64_t id)
{
	cairn_task *t;

	assert_int_equal(cairn_get(c, id, &t), CAIRN_OK);
	cairn_state s = t->state;
	cairn_task_free(t);
	return (s);
}

/* count_events counts the events of task id of kind (and, when not NULL,
 * with message). */
static size_t
count_events(cairn_client *c, uint64_t id, const char *kind, const char *msg)
{
	cairn_event *ev;
	size_t n, k = 0;

	assert_int_equal(cairn_history(c, id, &ev, &n), CAIRN_OK);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(ev[i].kind, kind) == 0
		    && (msg == NULL
		        || (ev[i].message != NULL
		            && strcmp(ev[i].message, msg) == 0))) {
			k++;
		}
	}
	cairn_events_free(ev, n);
	return (k);
}

/* A worker process killed with SIGKILL: the server sees its connection
 * close and releases the task after the grace period, an hour before its
 * heartbeat timeout would have. */
static void
killed_worker_task_is_leased_again(void **state)
{
	struct fx *f = *state;
	const char *cli = getenv("CAIRN_CLI");

	assert_non_null(cli);
	uint64_t id = enqueue(f->c, "dq", 5);
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0); /* the worker and its command die together */
		execl(cli, cli, "--server", f->srv.url, "work", "dq", "--",
		    "sleep", "600", (char *) NULL);
		_exit(127);
	}
	assert_true(pid > 0);
	setpgid(pid, pid);
	for (int i = 0; i < 3000 && state_of(f->c, id) != CAIRN_ACTIVE; i++) {
		sleep_ms(10);
	}
	assert_int_equal(state_of(f->c, id), CAIRN_ACTIVE);
	kill(-pid, SIGKILL);
	waitpid(pid, NULL, 0);

	cairn_task *t = NULL;
	for (int i = 0; i < 3 && t == NULL; i++) {
		t = lease1(f->c, "dq", 60000, false);
	}
	assert_non_null(t);
	assert_int_equal(t->id, id);
	assert_int_equal(t->attempt, 2);
	assert_int_equal(
	    count_events(f->c, id, "expired", "worker disconnected"), 1);
	assert_int_equal(
	    count_events(f->c, id, "expired", "heartbeat timeout"), 0);
	assert_int_equal(
	    metric(f->http_port,
	        "cairn_lease_releases_total{cause=\"disconnect\"}"),
	    1);
	assert_int_equal(
	    cairn_complete(f->c, id, t->lease_token, "ok", 2), CAIRN_OK);
	cairn_task_free(t);
}

/* A worker whose connection drops keeps its lease when it heartbeats
 * from a new connection within the grace period; the lease is then bound
 * to that one. */
static void
reconnecting_worker_keeps_its_lease(void **state)
{
	struct fx *f = *state;
	cairn_client *a, *b;
	char token[TOKENS];

	uint64_t id = enqueue(f->c, "rq", 5);
	assert_int_equal(
	    cairn_client_open(&a, f->srv.url, NULL, NULL, 0), CAIRN_OK);
	cairn_task *t = lease1(a, "rq", 0, true);
	assert_non_null(t);
	snprintf(token, sizeof(token), "%s", t->lease_token);
	cairn_task_free(t);
	cairn_client_close(a);

	assert_int_equal(
	    cairn_client_open(&b, f->srv.url, NULL, NULL, 0), CAIRN_OK);
	assert_int_equal(
	    cairn_heartbeat(b, id, token, NULL, 0, NULL, NULL), CAIRN_OK);
	sleep_ms(4000); /* twice the grace period */
	assert_int_equal(state_of(f->c, id), CAIRN_ACTIVE);
	assert_int_equal(count_events(f->c, id, "expired", NULL), 0);
	assert_int_equal(
	    cairn_heartbeat(b, id, token, NULL, 0, NULL, NULL), CAIRN_OK);

	/* Bound to b now: when b goes, the lease goes. */
	cairn_client_close(b);
	cairn_task *again = lease1(f->c, "rq", 60000, false);
	assert_non_null(again);
	assert_int_equal(again->id, id);
	assert_int_equal(
	    count_events(f->c, id, "expired", "worker disconnected"), 1);
	assert_int_equal(cairn_heartbeat(f->c, id, token, NULL, 0, NULL, NULL),
	    CAIRN_FAILED_PRECONDITION);
	cairn_task_free(again);
}

/* A worker whose connection drops and that long-polls again from a new
 * one with its worker id keeps its leases, before any heartbeat. */
static void
worker_that_leases_again_keeps_its_lease(void **state)
{
	struct fx *f = *state;
	cairn_lease_options o
	    = { .worker_id = "keeper", .release_on_disconnect = true };
	const char *q = "kq", *empty = "kq-empty";
	cairn_task **ts, *t;
	cairn_client *a, *b;
	size_t n;

	uint64_t id = enqueue(f->c, q, 5);
	assert_int_equal(
	    cairn_client_open(&a, f->srv.url, NULL, NULL, 0), CAIRN_OK);
	assert_int_equal(cairn_lease(a, &q, 1, &o, &ts, &n), CAIRN_OK);
	assert_int_equal(n, 1);
	t = ts[0];
	free(ts);
	cairn_client_close(a);
	assert_int_equal(
	    cairn_client_open(&b, f->srv.url, NULL, NULL, 0), CAIRN_OK);
	assert_int_equal(cairn_lease(b, &empty, 1, &o, &ts, &n), CAIRN_OK);
	assert_int_equal(n, 0);
	cairn_tasks_free(ts, n);
	sleep_ms(4000); /* twice the grace period */
	assert_int_equal(state_of(f->c, id), CAIRN_ACTIVE);
	assert_int_equal(count_events(f->c, id, "expired", NULL), 0);
	assert_int_equal(
	    cairn_complete(b, id, t->lease_token, "ok", 2), CAIRN_OK);
	cairn_task_free(t);
	cairn_client_close(b);
}

/* Release gives the task back at once, its attempt uncounted; with
 * count_attempt it is a failure under the retry rules. */
static void
release_gives_a_task_back_at_once(void **state)
{
	struct fx *f = *state;
	cairn_state st;
	char token[TOKENS];

	uint64_t id = enqueue(f->c, "gq", 1);
	cairn_task *t = lease1(f->c, "gq", 0, true);
	assert_non_null(t);
	snprintf(token, sizeof(token), "%s", t->lease_token);
	cairn_task_free(t);
	assert_int_equal(
	    cairn_release(f->c, id, token, "shutting down", false, &st),
	    CAIRN_OK);
	assert_int_equal(st, CAIRN_PENDING);
	/* A repeat after a lost reply is OK; the old token is fenced. */
	assert_int_equal(
	    cairn_release(f->c, id, token, NULL, false, NULL), CAIRN_OK);
	assert_int_equal(cairn_complete(f->c, id, token, "x", 1),
	    CAIRN_FAILED_PRECONDITION);

	t = lease1(f->c, "gq", 0, false);
	assert_non_null(t);
	assert_int_equal(t->id, id);
	assert_int_equal(t->attempt, 1); /* of max_attempts 1: not used up */
	assert_int_equal(
	    count_events(f->c, id, "released", "shutting down"), 1);
	assert_int_equal(metric(f->http_port,
	                     "cairn_lease_releases_total{cause=\"release\"}"),
	    1);

	/* Counted, the only attempt is used up. */
	assert_int_equal(
	    cairn_release(f->c, id, t->lease_token, NULL, true, &st),
	    CAIRN_OK);
	assert_int_equal(st, CAIRN_FAILED);
	cairn_task_free(t);

	/* Bad input is refused and changes nothing. */
	assert_int_equal(cairn_release(f->c, id, "", NULL, false, NULL),
	    CAIRN_INVALID_ARGUMENT);
	assert_int_equal(cairn_release(f->c, 0, token, NULL, false, NULL),
	    CAIRN_INVALID_ARGUMENT);
	assert_int_equal(
	    cairn_release(f->c, id, "not-its-token", NULL, false, NULL),
	    CAIRN_FAILED_PRECONDITION);
	assert_int_equal(
	    cairn_release(f->c, 987654321, "0123456789abcdef0123456789abcdef",
	        NULL, false, NULL),
	    CAIRN_NOT_FOUND);
	assert_int_equal(state_of(f->c, id), CAIRN_FAILED);
}

/* metric reads the value of a line of the server's /metrics that starts
 * with name (with its labels). */
static long
metric(int port, const char *name)
{
	struct sockaddr_in a
	    = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
	static char buf[1 << 18];
	const char *req = "GET /metrics HTTP/1.0\r\n\r\n";
	size_t got = 0;
	ssize_t r;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *) &a, sizeof(a)), 0);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t) strlen(req));
	while (got < sizeof(buf) - 1
	    && (r = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0) {
		got += (size_t) r;
	}
	close(fd);
	buf[got] = 0;
	char line[128];
	snprintf(line, sizeof(line), "\n%s ", name);
	const char *p = strstr(buf, line);
	assert_non_null(p);
	return (strtol(p + strlen(line), NULL, 10));
}

static long
parked(int port)
{
	return (metric(port, "cairn_parked_requests"));
}

static void
wait_parked(int port, long want)
{
	for (int i = 0; i < 6000 && parked(port) != want; i++) {
		sleep_ms(10);
	}
	assert_int_equal(parked(port), want);
}

/* A long-poll whose connection closed takes no task: before, the task
 * went to it and stayed leased to nobody until its heartbeat timeout. */
static void
dead_long_poll_takes_nothing(void **state)
{
	struct fx *f = *state;
	Cairn__V1__LeaseRequest lr = CAIRN__V1__LEASE_REQUEST__INIT;
	Cairn__V1__Request env = CAIRN__V1__REQUEST__INIT;
	char *queues[] = { "lp" };
	uint8_t body[256], msg[512];
	nng_socket s;

	lr.queues = queues;
	lr.n_queues = 1;
	lr.wait_ms = 600000;
	env.method = "Lease";
	env.body.len = cairn__v1__lease_request__pack(&lr, body);
	env.body.data = body;
	size_t len = cairn__v1__request__pack(&env, msg);
	assert_int_equal(nng_req0_open(&s), 0);
	assert_int_equal(nng_dial(s, f->srv.url, NULL, 0), 0);
	assert_int_equal(nng_send(s, msg, len, 0), 0);
	wait_parked(f->http_port, 1);
	nng_close(s);
	wait_parked(f->http_port, 0);

	uint64_t id = enqueue(f->c, "lp", 5);
	cairn_task *t = lease1(f->c, "lp", 0, false);
	assert_non_null(t);
	assert_int_equal(t->id, id);
	assert_int_equal(t->attempt, 1);
	assert_int_equal(count_events(f->c, id, "leased", NULL), 1);
	cairn_task_free(t);
}

/* A workflow worker's connection closes: its run is leased again after
 * the grace period, not the lease timeout (an hour here). */
static void
dead_workflow_worker_gives_its_run_back(void **state)
{
	struct fx *f = *state;
	const char *queue = "wfq";
	cairn_wf_lease_options o
	    = { .lease_timeout_ms = HOUR, .release_on_disconnect = true };
	cairn_leased_run *lr = NULL;
	cairn_client *a;
	uint64_t run;

	assert_int_equal(cairn_workflow_start(f->c, "bound-run", "t", queue,
	                     "x", 1, &run, NULL, NULL),
	    CAIRN_OK);
	assert_int_equal(
	    cairn_client_open(&a, f->srv.url, NULL, NULL, 0), CAIRN_OK);
	assert_int_equal(cairn_workflow_lease(a, &queue, 1, &o, &lr), 0);
	assert_non_null(lr);
	assert_int_equal(lr->run->run_id, run);
	cairn_leased_run_free(lr);
	cairn_client_close(a);

	cairn_wf_lease_options again = { .wait_ms = 60000 };
	lr = NULL;
	for (int i = 0; i < 3 && lr == NULL; i++) {
		assert_int_equal(
		    cairn_workflow_lease(f->c, &queue, 1, &again, &lr), 0);
	}
	assert_non_null(lr);
	assert_int_equal(lr->run->run_id, run);
	assert_int_equal(lr->run->task_attempt, 2);
	cairn_leased_run_free(lr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    killed_worker_task_is_leased_again, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    reconnecting_worker_keeps_its_lease, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    worker_that_leases_again_keeps_its_lease, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    release_gives_a_task_back_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    dead_long_poll_takes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    dead_workflow_worker_gives_its_run_back, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
