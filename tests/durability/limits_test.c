/*
 * limits_test.c - hostile clients against the real cairnd: connections
 * that announce huge messages, connections that never finish the SP
 * handshake, a client that never reads its replies, too many parked
 * long-polls, and details or results over the size limit. In each, the
 * server's memory stays bounded (VmRSS) and another client keeps being
 * served.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "dur_util.h"
#include "raw.h"

struct fx {
	struct dsrv srv;
	cairn_client *c;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (dsrv_init(&f->srv, "CAIRND", "tcp") != 0) {
		fail_msg("cannot prepare cairnd");
	}
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	cairn_client_close(f->c);
	dsrv_cleanup(&f->srv);
	free(f);
	return (0);
}

static void
start(struct fx *f, const char *const *args)
{
	cairn_client_options o = { .timeout_ms = 3000 };

	assert_int_equal(dsrv_start(&f->srv, args), 0);
	assert_int_equal(
	    cairn_client_open(&f->c, f->srv.url, &o, NULL, 0), CAIRN_OK);
}

/* tcp_connect opens a plain TCP connection to the server's port. */
static int
tcp_connect(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_port = htons((uint16_t) port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *) &a, sizeof(a)) != 0) {
		if (fd >= 0) {
			close(fd);
		}
		return (-1);
	}
	return (fd);
}

/* sp_handshake sends the SP header of a REQ (protocol 0x30) peer and
 * reads the server's. */
static int
sp_handshake(int fd)
{
	static const uint8_t hello[8] = { 0, 'S', 'P', 0, 0, 0x30, 0, 0 };
	uint8_t got[8];
	size_t n = 0;

	if (write(fd, hello, 8) != 8) {
		return (-1);
	}
	while (n < 8) {
		ssize_t k = read(fd, got + n, 8 - n);
		if (k <= 0) {
			return (-1);
		}
		n += (size_t) k;
	}
	return (got[1] == 'S' && got[5] == 0x31 ? 0 : -1);
}

/* send_frame sends one REQ message: length, request id, envelope. */
static int
send_frame(int fd, uint32_t reqid, const uint8_t *env, size_t len)
{
	uint8_t head[12];
	uint64_t total = len + 4;

	for (int i = 0; i < 8; i++) {
		head[i] = (uint8_t) (total >> (56 - 8 * i));
	}
	reqid |= 0x80000000u;
	for (int i = 0; i < 4; i++) {
		head[8 + i] = (uint8_t) (reqid >> (24 - 8 * i));
	}
	return (
	    write(fd, head, 12) == 12 && write(fd, env, len) == (ssize_t) len
	        ? 0
	        : -1);
}

/* served says whether another client gets a ping answered in time. */
static bool
served(struct fx *f, int64_t within_ms)
{
	int64_t t0 = mono_ms();
	int rv = cairn_ping(f->c, NULL, NULL);

	return (rv == CAIRN_OK && mono_ms() - t0 <= within_ms);
}

static void
huge_announced_messages_cost_nothing(void **state)
{
	struct fx *f = *state;
	int fds[8];

	start(f, NULL);
	long before = dsrv_rss_kb(&f->srv);
	/* Each announces 1 GiB and sends a little of it. */
	static const uint8_t gib[8] = { 0, 0, 0, 0, 0x40, 0, 0, 0 };
	uint8_t some[4096] = { 0 };
	for (int i = 0; i < 8; i++) {
		assert_true((fds[i] = tcp_connect(f->srv.port)) >= 0);
		assert_int_equal(sp_handshake(fds[i]), 0);
		(void) !write(fds[i], gib, 8);
		(void) !write(fds[i], some, sizeof(some));
	}
	sleep_ms(500);
	assert_true(served(f, 1000));
	long after = dsrv_rss_kb(&f->srv);
	print_message("rss %ld KiB -> %ld KiB\n", before, after);
	assert_true(after - before < 32 * 1024);
	for (int i = 0; i < 8; i++) {
		close(fds[i]);
	}
}

static void
idle_connections_are_dropped(void **state)
{
	struct fx *f = *state;
	enum { N = 300 };
	static int fds[N];

	start(f, NULL);
	long before = dsrv_rss_kb(&f->srv);
	int nfds = dsrv_nfds(&f->srv);
	for (int i = 0; i < N; i++) {
		assert_true((fds[i] = tcp_connect(f->srv.port)) >= 0);
	}
	sleep_ms(300);
	assert_true(served(f, 1000));
	print_message("%d silent connections: rss %ld -> %ld KiB, fds %d "
	              "-> %d\n",
	    N, before, dsrv_rss_kb(&f->srv), nfds, dsrv_nfds(&f->srv));
	assert_true(dsrv_rss_kb(&f->srv) - before < 32 * 1024);
	/* nng gives a connection 10 s to finish the SP handshake. */
	int64_t until = mono_ms() + 20000;
	while (dsrv_nfds(&f->srv) > nfds + 10 && mono_ms() < until) {
		sleep_ms(250);
	}
	print_message(
	    "fds after the handshake timeout: %d\n", dsrv_nfds(&f->srv));
	assert_true(dsrv_nfds(&f->srv) <= nfds + 10);
	assert_true(served(f, 1000));
	for (int i = 0; i < N; i++) {
		close(fds[i]);
	}
}

/* flood makes queue "big" hold 20 tasks of 512 KiB and then sends n List
 * requests for all of them (10 MiB each) on one connection that never
 * reads. Returns the connection. */
static int
flood(struct fx *f, int n)
{
	static uint8_t payload[512 * 1024];
	cairn_task_spec spec = { .queue = "big",
		.payload = payload,
		.payload_len = sizeof(payload) };
	cairn_enqueue_result r;
	Cairn__V1__ListRequest lr = CAIRN__V1__LIST_REQUEST__INIT;
	size_t len;
	int fd;

	for (int i = 0; i < 20; i++) {
		assert_int_equal(cairn_enqueue(f->c, &spec, 1, &r), CAIRN_OK);
	}
	lr.queue = "big";
	lr.limit = 20;
	uint8_t *env = raw_envelope("List", &lr.base, NULL, NULL, &len);
	assert_true((fd = tcp_connect(f->srv.port)) >= 0);
	assert_int_equal(sp_handshake(fd), 0);
	for (int i = 0; i < n; i++) {
		assert_int_equal(
		    send_frame(fd, (uint32_t) i + 1, env, len), 0);
	}
	free(env);
	sleep_ms(1000);
	return (fd);
}

static void
a_client_that_never_reads_cannot_stall_others(void **state)
{
	struct fx *f = *state;
	static const char *const args[] = { "--contexts", "8",
		"--send-timeout", "1s", "--max-payload", "1MiB", NULL };

	start(f, args);
	int fd = flood(f, 40);
	/* Its replies hold contexts for a second each, then are dropped:
	 * pings get through among them, in about a second (more in
	 * sanitizer builds, which are slow to build 10 MiB replies); the
	 * control below shows that without it they never do. */
	int ok = 0;
	int64_t t0 = mono_ms();
	cairn_client_set_timeout(f->c, 20000);
	for (int i = 0; i < 5; i++) {
		ok += served(f, 15000);
	}
	long rss = dsrv_rss_kb(&f->srv);
	print_message("5 pings: %d answered, in %lld ms; rss %ld KiB\n", ok,
	    (long long) (mono_ms() - t0), rss);
	assert_int_equal(ok, 5);
	assert_true(rss < 512 * 1024);
	close(fd);
}

static void
without_send_timeout_the_flood_stalls_others(void **state)
{
	struct fx *f = *state;
	static const char *const args[]
	    = { "--contexts", "8", "--send-timeout", "1h", NULL };

	/* The negative control of the test above: the same flood against
	 * a server that waits for ever leaves no context for others. */
	start(f, args);
	int fd = flood(f, 40);
	assert_false(served(f, 3000));
	close(fd); /* the peer is gone: its replies are dropped */
	sleep_ms(500);
	assert_true(served(f, 3000));
}

struct parker {
	const char *url;
	pthread_t thr;
	int rv;
	size_t n;
};

static void *
park(void *arg)
{
	struct parker *p = arg;
	const char *q = "idle";
	cairn_lease_options lo = { .wait_ms = 4000 };
	cairn_client *c;
	cairn_task **ts = NULL;

	p->rv = cairn_client_open(&c, p->url, NULL, NULL, 0);
	if (p->rv == CAIRN_OK) {
		p->rv = cairn_lease(c, &q, 1, &lo, &ts, &p->n);
		cairn_tasks_free(ts, p->n);
		cairn_client_close(c);
	}
	return (NULL);
}

static void
parked_long_polls_are_limited(void **state)
{
	struct fx *f = *state;
	static const char *const args[]
	    = { "--contexts", "16", "--max-parked", "4", NULL };
	struct parker p[4];
	const char *q = "idle";
	cairn_lease_options lo = { .wait_ms = 4000 };
	cairn_task **ts;
	size_t n;

	start(f, args);
	for (int i = 0; i < 4; i++) {
		p[i] = (struct parker) { .url = f->srv.url, .rv = -1 };
		pthread_create(&p[i].thr, NULL, park, &p[i]);
	}
	sleep_ms(500);
	int64_t t0 = mono_ms();
	assert_int_equal(
	    cairn_lease(f->c, &q, 1, &lo, &ts, &n), CAIRN_RESOURCE_EXHAUSTED);
	assert_true(mono_ms() - t0 < 1000);
	assert_non_null(strstr(cairn_client_errmsg(f->c), "long-polls"));
	assert_true(served(f, 500));
	/* A lease that finds a task does not park, and is not refused. */
	cairn_task_spec spec
	    = { .queue = "other", .payload = "x", .payload_len = 1 };
	cairn_enqueue_result r;
	const char *q2 = "other";
	assert_int_equal(cairn_enqueue(f->c, &spec, 1, &r), CAIRN_OK);
	assert_int_equal(cairn_lease(f->c, &q2, 1, &lo, &ts, &n), CAIRN_OK);
	assert_int_equal(n, 1);
	cairn_tasks_free(ts, n);
	/* The parked ones end their wait normally: empty, not an error. */
	for (int i = 0; i < 4; i++) {
		pthread_join(p[i].thr, NULL);
		assert_int_equal(p[i].rv, CAIRN_OK);
		assert_int_equal(p[i].n, 0);
	}
}

static void
details_and_results_over_the_limit(void **state)
{
	struct fx *f = *state;
	static const char *const args[] = { "--max-payload", "1KiB", NULL };
	static uint8_t big[1025];
	cairn_task_spec spec
	    = { .queue = "q", .payload = "x", .payload_len = 1 };
	cairn_enqueue_result r;
	const char *q = "q";
	cairn_task **ts, *g;
	size_t n;

	start(f, args);
	assert_int_equal(cairn_enqueue(f->c, &spec, 1, &r), CAIRN_OK);
	assert_int_equal(cairn_lease(f->c, &q, 1, NULL, &ts, &n), CAIRN_OK);
	assert_int_equal(n, 1);
	assert_int_equal(cairn_heartbeat(f->c, r.id, ts[0]->lease_token, big,
	                     sizeof(big), NULL, NULL),
	    CAIRN_INVALID_ARGUMENT);
	assert_non_null(strstr(cairn_client_errmsg(f->c), "details"));
	assert_int_equal(
	    cairn_complete(f->c, r.id, ts[0]->lease_token, big, sizeof(big)),
	    CAIRN_INVALID_ARGUMENT);
	assert_non_null(strstr(cairn_client_errmsg(f->c), "result"));
	assert_int_equal(cairn_get(f->c, r.id, &g), CAIRN_OK);
	assert_int_equal(g->state, CAIRN_ACTIVE);
	assert_int_equal(g->details_len, 0);
	cairn_task_free(g);
	assert_int_equal(cairn_complete(f->c, r.id, ts[0]->lease_token, big,
	                     sizeof(big) - 1),
	    CAIRN_OK);
	cairn_tasks_free(ts, n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(huge_announced_messages_cost_nothing),
		T(idle_connections_are_dropped),
		T(a_client_that_never_reads_cannot_stall_others),
		T(without_send_timeout_the_flood_stalls_others),
		T(parked_long_polls_are_limited),
		T(details_and_results_over_the_limit),
#undef T
	};
	signal(SIGPIPE, SIG_IGN);
	return (cmocka_run_group_tests_name("limits", tests, NULL, NULL));
}
