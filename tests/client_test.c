/*
 * client_test.c - unit tests of libcairn that need no cairnd: status and
 * state names, durations, the library with no server (or a silent one), a
 * fake server speaking the envelope (to check what goes on the wire and
 * how replies are read), per-thread error messages, and the CLI's JSON and
 * base64 writer.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "cairn.h"
#include "cairn.pb-c.h"
#include "cairn_wire.h"
#include "cairn_json.h"

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* free_port returns a loopback TCP port that nothing listens on. */
static int
free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
	close(fd);
	return (ntohs(sa.sin_port));
}

/* ---- names and durations ---------------------------------------------- */

static void
test_durations(void **state)
{
	static const struct {
		const char *text;
		int64_t ms;
	} good[] = {
		{ "0", 0 },
		{ "42", 42 },
		{ "250ms", 250 },
		{ "30s", 30000 },
		{ "5m", 300000 },
		{ "2h", 7200000 },
		{ "1d", 86400000 },
		{ "9223372036854775807", INT64_MAX },
	};
	static const char *const bad[] = { "", "-5s", "-1", " 5s", "5 s", "5x",
		"s", "1.5s", "5sec", "+5", "9223372036854775807d",
		"99999999999999999999", "106751991167301d" };
	int64_t ms;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ms = -1;
		assert_true(cairn_parse_duration(good[i].text, &ms));
		assert_true(ms == good[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ms = 7;
		assert_false(cairn_parse_duration(bad[i], &ms));
		assert_true(ms == 7); /* untouched on failure */
	}
	assert_false(cairn_parse_duration(NULL, &ms));
}

static void
test_names(void **state)
{
	cairn_state s;

	for (int i = CAIRN_STATE_ANY; i <= CAIRN_CANCELED; i++) {
		const char *name = cairn_state_name((cairn_state) i);
		assert_true(cairn_state_parse(name, &s));
		assert_int_equal(s, i);
	}
	assert_string_equal(cairn_state_name(CAIRN_PENDING), "pending");
	assert_string_equal(cairn_state_name((cairn_state) 99), "unknown");
	assert_true(cairn_state_parse("", &s));
	assert_int_equal(s, CAIRN_STATE_ANY);
	assert_true(cairn_state_parse("SUCCEEDED", &s));
	assert_int_equal(s, CAIRN_SUCCEEDED);
	assert_false(cairn_state_parse("done", &s));

	assert_string_equal(cairn_strerror(CAIRN_OK), "OK");
	assert_string_equal(cairn_strerror(CAIRN_NOT_FOUND), "NOT_FOUND");
	assert_string_equal(
	    cairn_strerror(CAIRN_UNAUTHENTICATED), "UNAUTHENTICATED");
	assert_string_equal(cairn_strerror(-1), "UNKNOWN");
	assert_string_equal(cairn_strerror(17), "UNKNOWN");
}

static void
test_null_frees(void **state)
{
	cairn_task_free(NULL);
	cairn_tasks_free(NULL, 3);
	cairn_stats_free(NULL, 2);
	cairn_events_free(NULL, 1);
	cairn_free(NULL);
	cairn_client_close(NULL);
	cairn_client_set_timeout(NULL, 5);
	assert_string_equal(cairn_client_errmsg(NULL), "");
	assert_int_equal(cairn_ping(NULL, NULL, NULL), CAIRN_INVALID_ARGUMENT);
}

/* ---- no server ---------------------------------------------------------- */

static void
test_open_refused(void **state)
{
	cairn_client_options o = { .timeout_ms = 5000 };
	cairn_client *c = (cairn_client *) &o; /* must stay untouched */
	char url[64], err[256] = "";
	int64_t t0 = mono_ms();

	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", free_port());
	assert_int_equal(cairn_client_open(&c, url, &o, err, sizeof(err)),
	    CAIRN_UNAVAILABLE);
	assert_true(mono_ms() - t0 < 2000); /* refused at once, no wait */
	assert_true(c == (cairn_client *) &o);
	assert_non_null(strstr(err, "cannot connect to"));
	assert_non_null(strstr(err, url));
}

static void
test_open_bad_url(void **state)
{
	cairn_client *c = NULL;
	char err[256] = "";

	assert_int_equal(
	    cairn_client_open(&c, "bogus://x", NULL, err, sizeof(err)),
	    CAIRN_INVALID_ARGUMENT);
	assert_non_null(strstr(err, "bogus://x"));
	assert_int_equal(cairn_client_open(&c, NULL, NULL, NULL, 0),
	    CAIRN_INVALID_ARGUMENT);
	assert_null(c);
}

/* A peer that completes TCP handshakes (the kernel does, into the listen
 * backlog) but never speaks SP: the dial must give up at the timeout. */
static void
test_open_silent_peer(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	cairn_client_options o = { .timeout_ms = 300 };
	cairn_client *c = NULL;
	char url[64], err[256] = "";
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int64_t t0;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", ntohs(sa.sin_port));

	t0 = mono_ms();
	assert_int_equal(cairn_client_open(&c, url, &o, err, sizeof(err)),
	    CAIRN_UNAVAILABLE);
	assert_in_range(mono_ms() - t0, 250, 3000);
	assert_non_null(strstr(err, url));
	assert_non_null(strstr(err, "300 ms"));
	close(fd);
}

static cairn_client *
open_lazy(int64_t timeout_ms, char *url, size_t len)
{
	cairn_client_options o
	    = { .timeout_ms = timeout_ms, .lazy_connect = true };
	cairn_client *c = NULL;

	snprintf(url, len, "tcp://127.0.0.1:%d", free_port());
	assert_int_equal(cairn_client_open(&c, url, &o, NULL, 0), CAIRN_OK);
	assert_non_null(c);
	return (c);
}

static void
test_lazy_deadline(void **state)
{
	char url[64];
	cairn_client *c = open_lazy(0, url, sizeof(url));
	cairn_task *t = (cairn_task *) url; /* sentinel: must stay */
	int64_t t0;

	cairn_client_set_timeout(c, 200);
	t0 = mono_ms();
	assert_int_equal(cairn_get(c, 42, &t), CAIRN_DEADLINE_EXCEEDED);
	assert_in_range(mono_ms() - t0, 150, 2000);
	assert_true(t == (cairn_task *) url);
	assert_non_null(strstr(cairn_client_errmsg(c), "no reply from"));
	assert_non_null(strstr(cairn_client_errmsg(c), url));
	assert_non_null(strstr(cairn_client_errmsg(c), "200 ms"));

	/* A long-poll's wait adds to the budget. */
	t0 = mono_ms();
	const char *q = "q";
	cairn_lease_options lo = { .wait_ms = 300 };
	cairn_task **tasks;
	size_t n;
	assert_int_equal(
	    cairn_lease(c, &q, 1, &lo, &tasks, &n), CAIRN_DEADLINE_EXCEEDED);
	assert_in_range(mono_ms() - t0, 450, 3000);
	assert_non_null(strstr(cairn_client_errmsg(c), "500 ms"));
	cairn_client_close(c);
}

static void
test_local_checks(void **state)
{
	char url[64];
	cairn_client *c = open_lazy(100, url, sizeof(url));
	cairn_enqueue_result res[1];
	cairn_task_spec spec = { .queue = NULL };
	cairn_task **tasks;
	size_t n;

	assert_int_equal(
	    cairn_enqueue(c, NULL, 0, res), CAIRN_INVALID_ARGUMENT);
	assert_non_null(strstr(cairn_client_errmsg(c), "no tasks"));
	assert_int_equal(
	    cairn_enqueue(c, &spec, 1, res), CAIRN_INVALID_ARGUMENT);
	assert_non_null(strstr(cairn_client_errmsg(c), "queue is NULL"));
	spec.queue = "q";
	spec.payload_len = 3;
	assert_int_equal(
	    cairn_enqueue(c, &spec, 1, res), CAIRN_INVALID_ARGUMENT);
	assert_int_equal(
	    cairn_lease(c, NULL, 0, NULL, &tasks, &n), CAIRN_INVALID_ARGUMENT);
	assert_int_equal(cairn_heartbeat(c, 1, NULL, NULL, 0, NULL, NULL),
	    CAIRN_INVALID_ARGUMENT);
	assert_non_null(strstr(cairn_client_errmsg(c), "lease_token"));
	assert_int_equal(
	    cairn_complete(c, 1, NULL, NULL, 0), CAIRN_INVALID_ARGUMENT);
	assert_int_equal(
	    cairn_list(c, NULL, CAIRN_STATE_ANY, 0, 0, &tasks, &n, NULL),
	    CAIRN_INVALID_ARGUMENT);
	cairn_client_close(c);
}

/* ---- per-thread messages --------------------------------------------------
 */

struct errmsg_arg {
	cairn_client *c;
	char before[256];
	char after[256];
};

static void *
errmsg_thread(void *p)
{
	struct errmsg_arg *a = p;
	cairn_task **tasks;
	size_t n;

	snprintf(
	    a->before, sizeof(a->before), "%s", cairn_client_errmsg(a->c));
	cairn_lease(a->c, NULL, 0, NULL, &tasks, &n);
	snprintf(a->after, sizeof(a->after), "%s", cairn_client_errmsg(a->c));
	return (NULL);
}

static void
test_errmsg_per_thread(void **state)
{
	char url[64], mine[256];
	cairn_client *c = open_lazy(100, url, sizeof(url));
	cairn_client *other = open_lazy(100, url, sizeof(url));
	struct errmsg_arg a = { .c = c };
	pthread_t thr;
	cairn_task *t;

	assert_string_equal(cairn_client_errmsg(c), "");
	assert_int_equal(cairn_get(c, 1, &t), CAIRN_DEADLINE_EXCEEDED);
	snprintf(mine, sizeof(mine), "%s", cairn_client_errmsg(c));
	assert_non_null(strstr(mine, "no reply"));
	/* Another handle's failures are its own. */
	assert_string_equal(cairn_client_errmsg(other), "");

	assert_int_equal(pthread_create(&thr, NULL, errmsg_thread, &a), 0);
	assert_int_equal(pthread_join(thr, NULL), 0);
	assert_string_equal(a.before, "");
	assert_non_null(strstr(a.after, "no queues"));
	assert_string_equal(cairn_client_errmsg(c), mine);
	cairn_client_close(other);
	cairn_client_close(c);
}

/* Many threads through one handle: each call needs its own context. */
static void *
pool_thread(void *p)
{
	cairn_client *c = p;
	int64_t ms;
	char *v;

	for (int i = 0; i < 3; i++) {
		if (cairn_ping(c, &ms, &v) != CAIRN_DEADLINE_EXCEEDED) {
			return ((void *) 1);
		}
	}
	return (NULL);
}

static void
test_concurrent_calls(void **state)
{
	char url[64];
	cairn_client *c = open_lazy(50, url, sizeof(url));
	pthread_t thr[20];
	void *res;

	for (int i = 0; i < 20; i++) {
		assert_int_equal(
		    pthread_create(&thr[i], NULL, pool_thread, c), 0);
	}
	for (int i = 0; i < 20; i++) {
		assert_int_equal(pthread_join(thr[i], &res), 0);
		assert_null(res);
	}
	cairn_client_close(c);
}

/* ---- a fake server --------------------------------------------------------
 */

/*
 * A REP socket on an ipc path that records each request's envelope and
 * answers what the test set up. It checks what libcairn puts on the wire
 * and how it reads replies, without cairnd.
 */
static struct fake {
	nng_socket sock;
	pthread_t thr;
	char url[128];
	pthread_mutex_t mu;
	/* The last request. */
	char method[32];
	char request_id[64];
	char token[64];
	int64_t deadline_ms;
	uint8_t body[4096];
	size_t body_len;
	/* The answer: an envelope, or raw bytes. */
	int code;
	const char *message;
	uint8_t answer[4096];
	size_t answer_len;
	bool raw;
} fake;

static void
fake_record(const Cairn__V1__Request *req)
{
	pthread_mutex_lock(&fake.mu);
	snprintf(fake.method, sizeof(fake.method), "%s", req->method);
	snprintf(
	    fake.request_id, sizeof(fake.request_id), "%s", req->request_id);
	snprintf(fake.token, sizeof(fake.token), "%s", req->token);
	fake.deadline_ms = req->deadline_ms;
	fake.body_len = req->body.len < sizeof(fake.body) ? req->body.len : 0;
	if (fake.body_len > 0) {
		memcpy(fake.body, req->body.data, fake.body_len);
	}
	pthread_mutex_unlock(&fake.mu);
}

static void *
fake_main(void *arg)
{
	nng_msg *msg;

	while (nng_recvmsg(fake.sock, &msg, 0) == 0) {
		Cairn__V1__Response resp = CAIRN__V1__RESPONSE__INIT;
		Cairn__V1__Request *req = cairn__v1__request__unpack(
		    NULL, nng_msg_len(msg), nng_msg_body(msg));
		uint8_t out[8192];
		size_t len;

		if (req != NULL) {
			fake_record(req);
			cairn__v1__request__free_unpacked(req, NULL);
		}
		pthread_mutex_lock(&fake.mu);
		if (fake.raw) {
			len = fake.answer_len;
			memcpy(out, fake.answer, len);
		} else {
			resp.code = (Cairn__V1__Code) fake.code;
			resp.message = (char *) fake.message;
			resp.body.data = fake.answer;
			resp.body.len = fake.answer_len;
			len = cairn__v1__response__pack(&resp, out);
		}
		pthread_mutex_unlock(&fake.mu);
		nng_msg_clear(msg);
		if (nng_msg_append(msg, out, len) != 0
		    || nng_sendmsg(fake.sock, msg, 0) != 0) {
			nng_msg_free(msg);
		}
	}
	return (NULL);
}

/* fake_answer sets the next answers: code, message and body. */
static void
fake_answer(int code, const char *message, const ProtobufCMessage *body)
{
	pthread_mutex_lock(&fake.mu);
	fake.raw = false;
	fake.code = code;
	fake.message = message != NULL ? message : "";
	fake.answer_len = 0;
	if (body != NULL) {
		assert_true(protobuf_c_message_get_packed_size(body)
		    <= sizeof(fake.answer));
		fake.answer_len = protobuf_c_message_pack(body, fake.answer);
	}
	pthread_mutex_unlock(&fake.mu);
}

/* fake_listen opens the fake server's socket and starts its thread. */
static int
fake_listen(void)
{
	if (nng_rep0_open(&fake.sock) != 0
	    || nng_listen(fake.sock, fake.url, NULL, 0) != 0
	    || pthread_create(&fake.thr, NULL, fake_main, NULL) != 0) {
		return (-1);
	}
	return (0);
}

static void
fake_shut(void)
{
	nng_close(fake.sock);
	pthread_join(fake.thr, NULL);
}

static int
fake_start(void **state)
{
	cairn_client_options o = { .timeout_ms = 2000, .token = "sekrit" };
	cairn_client *c;

	memset(&fake, 0, sizeof(fake));
	pthread_mutex_init(&fake.mu, NULL);
	snprintf(fake.url, sizeof(fake.url),
	    "ipc:///tmp/cairn-client-test-%d.ipc", (int) getpid());
	if (fake_listen() != 0) {
		return (-1);
	}
	if (cairn_client_open(&c, fake.url, &o, NULL, 0) != CAIRN_OK) {
		return (-1);
	}
	*state = c;
	return (0);
}

static int
fake_stop(void **state)
{
	cairn_client_close(*state);
	fake_shut();
	pthread_mutex_destroy(&fake.mu);
	return (0);
}

static void
test_fake_ping(void **state)
{
	cairn_client *c = *state;
	Cairn__V1__PingResponse pr = CAIRN__V1__PING_RESPONSE__INIT;
	int64_t ms = 0;
	char *version = NULL;

	pr.server_time_ms = 1234;
	pr.version = "9.9.9";
	fake_answer(CAIRN_OK, NULL, &pr.base);
	assert_int_equal(cairn_ping(c, &ms, &version), CAIRN_OK);
	assert_true(ms == 1234);
	assert_string_equal(version, "9.9.9");
	cairn_free(version);
	assert_string_equal(fake.method, "Ping");
	assert_string_equal(fake.request_id, ""); /* reads have none */
	assert_string_equal(fake.token, "sekrit");
	assert_true(fake.deadline_ms == 2000);
}

static bool
is_hex32(const char *s)
{
	if (strlen(s) != 32) {
		return (false);
	}
	return (strspn(s, "0123456789abcdef") == 32);
}

static void
test_fake_enqueue(void **state)
{
	cairn_client *c = *state;
	Cairn__V1__EnqueueResponse er = CAIRN__V1__ENQUEUE_RESPONSE__INIT;
	Cairn__V1__EnqueueResult r0 = CAIRN__V1__ENQUEUE_RESULT__INIT;
	Cairn__V1__EnqueueResult r1 = CAIRN__V1__ENQUEUE_RESULT__INIT;
	Cairn__V1__EnqueueResult *rs[] = { &r0, &r1 };
	cairn_task_spec specs[2] = {
		{ .queue = "a", .payload = "\x00\x01", .payload_len = 2 },
		{ .queue = "b",
		    .idempotency_key = "k",
		    .priority = -3,
		    .retry_multiplier = 1.5 },
	};
	cairn_enqueue_result res[2];
	Cairn__V1__EnqueueRequest *req;
	char first_id[64];

	r0.id = 7;
	r0.created = true;
	r1.id = 3;
	er.n_results = 2;
	er.results = rs;
	fake_answer(CAIRN_OK, NULL, &er.base);
	assert_int_equal(cairn_enqueue(c, specs, 2, res), CAIRN_OK);
	assert_true(res[0].id == 7 && res[0].created);
	assert_true(res[1].id == 3 && !res[1].created);
	assert_string_equal(fake.method, "Enqueue");
	assert_true(is_hex32(fake.request_id));

	req = cairn__v1__enqueue_request__unpack(
	    NULL, fake.body_len, fake.body);
	assert_non_null(req);
	assert_int_equal(req->n_tasks, 2);
	assert_string_equal(req->tasks[0]->queue, "a");
	assert_int_equal(req->tasks[0]->payload.len, 2);
	assert_memory_equal(req->tasks[0]->payload.data, "\x00\x01", 2);
	assert_null(req->tasks[0]->retry); /* all zero: left out */
	assert_string_equal(req->tasks[1]->idempotency_key, "k");
	assert_int_equal(req->tasks[1]->priority, -3);
	assert_non_null(req->tasks[1]->retry);
	assert_true(req->tasks[1]->retry->multiplier == 1.5);
	cairn__v1__enqueue_request__free_unpacked(req, NULL);

	/* Each mutating call has its own request id. */
	snprintf(first_id, sizeof(first_id), "%s", fake.request_id);
	assert_int_equal(cairn_enqueue(c, specs, 2, res), CAIRN_OK);
	assert_true(is_hex32(fake.request_id));
	assert_string_not_equal(fake.request_id, first_id);

	/* A reply with the wrong number of results is refused. */
	er.n_results = 1;
	fake_answer(CAIRN_OK, NULL, &er.base);
	assert_int_equal(cairn_enqueue(c, specs, 2, res), CAIRN_INTERNAL);
}

static void
test_fake_errors(void **state)
{
	cairn_client *c = *state;
	cairn_task *t = (cairn_task *) c; /* sentinel */
	Cairn__V1__GetResponse gr = CAIRN__V1__GET_RESPONSE__INIT;

	fake_answer(CAIRN_NOT_FOUND, "task 42 not found", NULL);
	assert_int_equal(cairn_get(c, 42, &t), CAIRN_NOT_FOUND);
	assert_string_equal(cairn_client_errmsg(c), "task 42 not found");
	assert_true(t == (cairn_task *) c);

	fake_answer(CAIRN_FAILED_PRECONDITION, "", NULL);
	assert_int_equal(
	    cairn_complete(c, 1, "tok", "r", 1), CAIRN_FAILED_PRECONDITION);
	assert_string_equal(cairn_client_errmsg(c), "FAILED_PRECONDITION");

	fake_answer(99, "from the future", NULL);
	assert_int_equal(cairn_cancel(c, 1, NULL), CAIRN_UNKNOWN);

	/* OK, but no task in the reply. */
	fake_answer(CAIRN_OK, NULL, &gr.base);
	assert_int_equal(cairn_get(c, 42, &t), CAIRN_INTERNAL);
	assert_non_null(strstr(cairn_client_errmsg(c), "without a task"));

	/* Bytes that are no envelope. */
	pthread_mutex_lock(&fake.mu);
	fake.raw = true;
	memcpy(fake.answer, "\xff\xff\xff\xff", 4);
	fake.answer_len = 4;
	pthread_mutex_unlock(&fake.mu);
	assert_int_equal(cairn_get(c, 42, &t), CAIRN_INTERNAL);
	assert_non_null(strstr(cairn_client_errmsg(c), "malformed"));
	assert_true(t == (cairn_task *) c);
}

static void
test_fake_lease(void **state)
{
	cairn_client *c = *state;
	Cairn__V1__LeaseResponse lr = CAIRN__V1__LEASE_RESPONSE__INIT;
	Cairn__V1__LeasedTask lt = CAIRN__V1__LEASED_TASK__INIT;
	Cairn__V1__LeasedTask *lts[] = { &lt };
	Cairn__V1__Task task = CAIRN__V1__TASK__INIT;
	Cairn__V1__LeaseRequest *req;
	const char *queues[] = { "q1", "q2" };
	cairn_lease_options lo = { .wait_ms = 300, .max_tasks = 4 };
	cairn_task **tasks;
	size_t n;

	task.id = 5;
	task.queue = "q1";
	task.payload.data = (uint8_t *) "\x00\x01";
	task.payload.len = 2;
	task.state = CAIRN__V1__TASK_STATE__ACTIVE;
	task.attempt = 2;
	lt.task = &task;
	lt.lease_token = "tok";
	lt.deadline_ms = 999;
	lr.n_tasks = 1;
	lr.tasks = lts;
	fake_answer(CAIRN_OK, NULL, &lr.base);
	assert_int_equal(cairn_lease(c, queues, 2, &lo, &tasks, &n), CAIRN_OK);
	assert_int_equal(n, 1);
	assert_true(tasks[0]->id == 5);
	assert_string_equal(tasks[0]->queue, "q1");
	assert_string_equal(tasks[0]->lease_token, "tok");
	assert_true(tasks[0]->lease_deadline_ms == 999);
	assert_int_equal(tasks[0]->state, CAIRN_ACTIVE);
	assert_int_equal(tasks[0]->payload_len, 2);
	assert_int_equal(tasks[0]->payload[2], 0); /* NUL after the bytes */
	assert_string_equal(tasks[0]->last_error, "");
	assert_int_equal(tasks[0]->result_len, 0);
	assert_non_null(tasks[0]->result);
	cairn_tasks_free(tasks, n);

	/* The long-poll's wait is in the envelope's deadline. */
	assert_true(fake.deadline_ms == 2300);
	assert_true(is_hex32(fake.request_id));
	req = cairn__v1__lease_request__unpack(NULL, fake.body_len, fake.body);
	assert_non_null(req);
	assert_int_equal(req->n_queues, 2);
	assert_string_equal(req->queues[1], "q2");
	assert_int_equal(req->max_tasks, 4);
	assert_true(req->wait_ms == 300);
	assert_non_null(strchr(req->worker_id, ':')); /* host:pid */
	cairn__v1__lease_request__free_unpacked(req, NULL);

	/* Nothing due: an empty array that cairn_tasks_free takes. */
	lr.n_tasks = 0;
	fake_answer(CAIRN_OK, NULL, &lr.base);
	assert_int_equal(
	    cairn_lease(c, queues, 1, NULL, &tasks, &n), CAIRN_OK);
	assert_int_equal(n, 0);
	cairn_tasks_free(tasks, n);
}

/* A server that goes away and comes back: calls time out meanwhile, and
 * the handle finds the new server by itself. */
static void
test_fake_reconnect(void **state)
{
	cairn_client *c = *state;
	Cairn__V1__PingResponse pr = CAIRN__V1__PING_RESPONSE__INIT;
	int64_t t0;
	int rv;

	fake_answer(CAIRN_OK, NULL, &pr.base);
	assert_int_equal(cairn_ping(c, NULL, NULL), CAIRN_OK);
	fake_shut();

	cairn_client_set_timeout(c, 200);
	assert_int_equal(cairn_ping(c, NULL, NULL), CAIRN_DEADLINE_EXCEEDED);

	assert_int_equal(fake_listen(), 0);
	t0 = mono_ms();
	while ((rv = cairn_ping(c, NULL, NULL)) != CAIRN_OK
	    && mono_ms() - t0 < 5000) {
		assert_int_equal(rv, CAIRN_DEADLINE_EXCEEDED);
	}
	assert_int_equal(rv, CAIRN_OK);
	/* The redial backoff is capped at 2 s. */
	assert_true(mono_ms() - t0 < 3000);
}

#define FAKE_TEST(t) cmocka_unit_test_setup_teardown(t, fake_start, fake_stop)
#define FAKE_SERVER_TESTS                                                     \
	FAKE_TEST(test_fake_ping), FAKE_TEST(test_fake_enqueue),              \
	    FAKE_TEST(test_fake_errors), FAKE_TEST(test_fake_lease),          \
	    FAKE_TEST(test_fake_reconnect)

/* ---- the CLI's JSON writer
 * -------------------------------------------------- */

static char *
json_capture(void (*fn)(struct json *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct json j;

	assert_non_null(f);
	json_init(&j, f);
	fn(&j);
	fclose(f);
	return (buf);
}

static void
json_sample(struct json *j)
{
	static const uint8_t bin[] = { 0xff, 0x00, 'a' };

	json_begin_object(j);
	json_kv_uint(j, "id", UINT64_MAX);
	json_kv_string(j, "s", "a\"b\\c\n\t\x01\x7f é");
	json_kv_int(j, "neg", -5);
	json_key(j, "arr");
	json_begin_array(j);
	json_bool(j, true);
	json_null(j);
	json_double(j, 2.5);
	json_double(j, 0.1);
	json_begin_object(j);
	json_end_object(j);
	json_end_array(j);
	json_kv_bytes(j, "payload", (const uint8_t *) "hi", 2);
	json_kv_bytes(j, "result", bin, sizeof(bin));
	json_kv_bytes(j, "details", NULL, 0);
	json_key(j, "bad");
	json_stringn(j, "x\xc3(", 3); /* invalid UTF-8 in a string */
	json_end_object(j);
	json_end(j);
}

static void
test_json_writer(void **state)
{
	char *out = json_capture(json_sample);

	assert_string_equal(out,
	    "{\"id\":18446744073709551615,"
	    "\"s\":\"a\\\"b\\\\c\\n\\t\\u0001\\u007f \xc3\xa9\","
	    "\"neg\":-5,\"arr\":[true,null,2.5,0.1,{}],"
	    "\"payload\":\"hi\",\"result_base64\":\"/wBh\","
	    "\"details\":\"\",\"bad\":\"x\\ufffd(\"}\n");
	free(out);
}

static void
test_base64(void **state)
{
	static const char *const vec[][2] = { { "", "" }, { "f", "Zg==" },
		{ "fo", "Zm8=" }, { "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" } };
	char out[16];

	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		size_t n = strlen(vec[i][0]);
		assert_int_equal(base64_len(n), strlen(vec[i][1]));
		assert_int_equal(
		    base64_encode((const uint8_t *) vec[i][0], n, out),
		    strlen(vec[i][1]));
		assert_string_equal(out, vec[i][1]);
	}
}

static void
test_utf8(void **state)
{
	static const char *const good[] = { "", "plain", "\xc3\xa9",
		"\xe2\x82\xac", "\xf0\x9d\x84\x9e", "\xf4\x8f\xbf\xbf" };
	static const char *const bad[] = { "\x80", "\xc0\x80", "\xc1\xbf",
		"\xe0\x80\x80", "\xed\xa0\x80", "\xf0\x80\x80\x80",
		"\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xe2\x82", "\xc3" };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_true(cairn__utf8_valid(good[i], strlen(good[i])));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(cairn__utf8_valid(bad[i], strlen(bad[i])));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_null_frees),
		cmocka_unit_test(test_open_refused),
		cmocka_unit_test(test_open_bad_url),
		cmocka_unit_test(test_open_silent_peer),
		cmocka_unit_test(test_lazy_deadline),
		cmocka_unit_test(test_local_checks),
		cmocka_unit_test(test_errmsg_per_thread),
		cmocka_unit_test(test_concurrent_calls),
		FAKE_SERVER_TESTS,
		cmocka_unit_test(test_json_writer),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_utf8),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
