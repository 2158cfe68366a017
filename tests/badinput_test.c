/*
 * badinput_test.c - what a broken or hostile client can send, over a raw
 * nng REQ socket: every request gets a clear status, changes nothing in
 * the store, and the server keeps serving.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "cairn.h"
#include "cairn.pb-c.h"
#include "harness.h"

struct fx {
	struct server srv;
	nng_socket sock;
	cairn_client *c;
	char *before; /* the store's stats before the bad request */
};

static const char *const limits[] = { "--max-message", "64KiB",
	"--max-payload", "1KiB", "--max-batch", "10", NULL };

static int
setup_group(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (server_start(&f->srv, limits) != 0) {
		fail_msg("cannot start cairnd");
	}
	assert_int_equal(nng_req0_open(&f->sock), 0);
	nng_socket_set_ms(f->sock, NNG_OPT_RECVTIMEO, 5000);
	assert_int_equal(nng_dial(f->sock, f->srv.url, NULL, 0), 0);
	assert_int_equal(
	    cairn_client_open(&f->c, f->srv.url, NULL, NULL, 0), CAIRN_OK);
	/* Something to protect: a task that is ACTIVE, one PENDING. */
	cairn_task_spec spec
	    = { .queue = "q", .payload = "x", .payload_len = 1 };
	cairn_enqueue_result r;
	assert_int_equal(cairn_enqueue(f->c, &spec, 1, &r), CAIRN_OK);
	assert_int_equal(cairn_enqueue(f->c, &spec, 1, &r), CAIRN_OK);
	const char *q = "q";
	cairn_task **ts;
	size_t n;
	assert_int_equal(cairn_lease(f->c, &q, 1, NULL, &ts, &n), CAIRN_OK);
	cairn_tasks_free(ts, n);
	*state = f;
	return (0);
}

static int
teardown_group(void **state)
{
	struct fx *f = *state;

	nng_close(f->sock);
	cairn_client_close(f->c);
	server_cleanup(&f->srv);
	free(f);
	return (0);
}

/* snapshot describes the whole store: counts per queue and state, and
 * every task's state, attempt and update time. */
static char *
snapshot(cairn_client *c)
{
	char *buf = calloc(1, 8192);
	size_t o = 0, n;
	cairn_queue_stats *st;

	assert_int_equal(cairn_stats(c, NULL, &st, &n), CAIRN_OK);
	for (size_t i = 0; i < n; i++) {
		cairn_task **ts;
		size_t k;
		uint64_t next;
		o += (size_t) snprintf(buf + o, 8192 - o, "%s:%llu/%llu;",
		    st[i].queue, (unsigned long long) st[i].pending,
		    (unsigned long long) st[i].active);
		assert_int_equal(cairn_list(c, st[i].queue, CAIRN_STATE_ANY,
		                     1000, 0, &ts, &k, &next),
		    CAIRN_OK);
		for (size_t j = 0; j < k; j++) {
			o += (size_t) snprintf(buf + o, 8192 - o,
			    "%llu:%d:%u:%lld;", (unsigned long long) ts[j]->id,
			    ts[j]->state, ts[j]->attempt,
			    (long long) ts[j]->updated_at_ms);
		}
		cairn_tasks_free(ts, k);
	}
	cairn_stats_free(st, n);
	return (buf);
}

static int
before(void **state)
{
	struct fx *f = *state;

	f->before = snapshot(f->c);
	return (0);
}

/* after checks that the store is unchanged and the server still serves. */
static int
after(void **state)
{
	struct fx *f = *state;
	char *now = snapshot(f->c);

	assert_string_equal(now, f->before);
	assert_int_equal(cairn_ping(f->c, NULL, NULL), CAIRN_OK);
	free(now);
	free(f->before);
	return (0);
}

/* raw sends bytes and decodes the Response; returns its code and copies
 * its message into msg. */
static int
raw(struct fx *f, const void *data, size_t len, char *msg, size_t msglen)
{
	nng_msg *m;
	int code;

	assert_int_equal(nng_msg_alloc(&m, 0), 0);
	assert_int_equal(nng_msg_append(m, data, len), 0);
	assert_int_equal(nng_sendmsg(f->sock, m, 0), 0);
	assert_int_equal(nng_recvmsg(f->sock, &m, 0), 0);
	Cairn__V1__Response *r = cairn__v1__response__unpack(
	    NULL, nng_msg_len(m), nng_msg_body(m));
	nng_msg_free(m);
	assert_non_null(r);
	code = (int) r->code;
	snprintf(msg, msglen, "%s", r->message);
	assert_true(r->message[0] != 0); /* every refusal says why */
	cairn__v1__response__free_unpacked(r, NULL);
	return (code);
}

/* call wraps body as method's request in an envelope and sends it. */
static int
call(struct fx *f, const char *method, const ProtobufCMessage *body, char *msg,
    size_t msglen)
{
	Cairn__V1__Request req = CAIRN__V1__REQUEST__INIT;
	uint8_t *b = NULL, *env;
	int code;

	req.method = (char *) method;
	if (body != NULL) {
		req.body.len = protobuf_c_message_get_packed_size(body);
		b = malloc(req.body.len + 1);
		protobuf_c_message_pack(body, b);
		req.body.data = b;
	}
	size_t len = cairn__v1__request__get_packed_size(&req);
	env = malloc(len);
	cairn__v1__request__pack(&req, env);
	code = raw(f, env, len, msg, msglen);
	free(env);
	free(b);
	return (code);
}

static void
unknown_method(void **state)
{
	char msg[256];

	assert_int_equal(call(*state, "DropTables", NULL, msg, sizeof(msg)),
	    CAIRN_UNIMPLEMENTED);
	assert_non_null(strstr(msg, "DropTables"));
	assert_int_equal(
	    call(*state, "", NULL, msg, sizeof(msg)), CAIRN_UNIMPLEMENTED);
}

static void
random_bytes(void **state)
{
	char msg[256];
	uint8_t junk[512];

	srand(7);
	for (int round = 0; round < 20; round++) {
		for (size_t i = 0; i < sizeof(junk); i++) {
			junk[i] = (uint8_t) rand();
		}
		int code = raw(*state, junk,
		    sizeof(junk) - (size_t) round * 20, msg, sizeof(msg));
		assert_true(code == CAIRN_INVALID_ARGUMENT
		    || code == CAIRN_UNIMPLEMENTED);
	}
}

static void
truncated_body(void **state)
{
	Cairn__V1__EnqueueRequest er = CAIRN__V1__ENQUEUE_REQUEST__INIT;
	Cairn__V1__TaskSpec spec = CAIRN__V1__TASK_SPEC__INIT;
	Cairn__V1__TaskSpec *specs[1] = { &spec };
	Cairn__V1__Request req = CAIRN__V1__REQUEST__INIT;
	uint8_t body[256], env[512];
	char msg[256];

	spec.queue = "q";
	spec.payload
	    = (ProtobufCBinaryData) { 20, (uint8_t *) "a payload of 20 b.." };
	er.n_tasks = 1;
	er.tasks = specs;
	size_t len = cairn__v1__enqueue_request__pack(&er, body);
	req.method = "Enqueue";
	req.body.data = body;
	req.body.len = len - 7; /* cut inside the payload */
	size_t elen = cairn__v1__request__pack(&req, env);
	assert_int_equal(
	    raw(*state, env, elen, msg, sizeof(msg)), CAIRN_INVALID_ARGUMENT);
	assert_non_null(strstr(msg, "malformed"));
	/* And an envelope cut short. */
	assert_int_equal(raw(*state, env, elen - 3, msg, sizeof(msg)),
	    CAIRN_INVALID_ARGUMENT);
}

static void
oversized_message(void **state)
{
	size_t len = 100 * 1024; /* the server's limit is 64 KiB */
	uint8_t *big = calloc(1, len);
	char msg[256];

	assert_int_equal(
	    raw(*state, big, len, msg, sizeof(msg)), CAIRN_RESOURCE_EXHAUSTED);
	assert_non_null(strstr(msg, "limit"));
	free(big);
}

static int
enqueue_one(struct fx *f, Cairn__V1__TaskSpec *spec, char *msg)
{
	Cairn__V1__EnqueueRequest er = CAIRN__V1__ENQUEUE_REQUEST__INIT;
	Cairn__V1__TaskSpec *specs[1] = { spec };

	er.n_tasks = 1;
	er.tasks = specs;
	return (call(f, "Enqueue", &er.base, msg, 256));
}

static void
bad_queue_names(void **state)
{
	const char *bad[]
	    = { "", "has space", "semi;colon", "ünïcode", "x\"y" };
	char msg[256], longname[200];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		Cairn__V1__TaskSpec spec = CAIRN__V1__TASK_SPEC__INIT;
		spec.queue = (char *) bad[i];
		assert_int_equal(
		    enqueue_one(*state, &spec, msg), CAIRN_INVALID_ARGUMENT);
		assert_non_null(strstr(msg, "queue"));
	}
	memset(longname, 'a', 129);
	longname[129] = 0;
	Cairn__V1__TaskSpec spec = CAIRN__V1__TASK_SPEC__INIT;
	spec.queue = longname;
	assert_int_equal(
	    enqueue_one(*state, &spec, msg), CAIRN_INVALID_ARGUMENT);
}

static void
negative_durations(void **state)
{
	char msg[256];
	Cairn__V1__TaskSpec spec = CAIRN__V1__TASK_SPEC__INIT;
	Cairn__V1__RetryPolicy rp = CAIRN__V1__RETRY_POLICY__INIT;

	spec.queue = "q";
	spec.delay_ms = -1;
	assert_int_equal(
	    enqueue_one(*state, &spec, msg), CAIRN_INVALID_ARGUMENT);
	assert_non_null(strstr(msg, "delay_ms"));
	spec.delay_ms = 0;
	spec.heartbeat_timeout_ms = -5;
	assert_int_equal(
	    enqueue_one(*state, &spec, msg), CAIRN_INVALID_ARGUMENT);
	spec.heartbeat_timeout_ms = 0;
	rp.max_backoff_ms = -1;
	spec.retry = &rp;
	assert_int_equal(
	    enqueue_one(*state, &spec, msg), CAIRN_INVALID_ARGUMENT);
	rp.max_backoff_ms = 0;
	rp.multiplier = 0.5;
	assert_int_equal(
	    enqueue_one(*state, &spec, msg), CAIRN_INVALID_ARGUMENT);

	Cairn__V1__LeaseRequest lr = CAIRN__V1__LEASE_REQUEST__INIT;
	char *qs[] = { "q" };
	lr.n_queues = 1;
	lr.queues = qs;
	lr.wait_ms = -100;
	assert_int_equal(call(*state, "Lease", &lr.base, msg, sizeof(msg)),
	    CAIRN_INVALID_ARGUMENT);
	assert_non_null(strstr(msg, "wait_ms"));
}

static void
wrong_lease_token(void **state)
{
	struct fx *f = *state;
	Cairn__V1__CompleteRequest cr = CAIRN__V1__COMPLETE_REQUEST__INIT;
	char msg[256];

	cr.id = 1; /* the ACTIVE task */
	cr.lease_token = "00000000000000000000000000000000";
	assert_int_equal(call(f, "Complete", &cr.base, msg, sizeof(msg)),
	    CAIRN_FAILED_PRECONDITION);
	assert_non_null(strstr(msg, "lease lost"));
	cr.lease_token = "";
	assert_int_equal(call(f, "Complete", &cr.base, msg, sizeof(msg)),
	    CAIRN_INVALID_ARGUMENT);
	cr.id = 0;
	cr.lease_token = "abc";
	assert_int_equal(call(f, "Complete", &cr.base, msg, sizeof(msg)),
	    CAIRN_INVALID_ARGUMENT);
	cr.id = 999999;
	assert_int_equal(
	    call(f, "Complete", &cr.base, msg, sizeof(msg)), CAIRN_NOT_FOUND);
}

static void
batch_and_payload_over_limits(void **state)
{
	Cairn__V1__EnqueueRequest er = CAIRN__V1__ENQUEUE_REQUEST__INIT;
	Cairn__V1__TaskSpec spec = CAIRN__V1__TASK_SPEC__INIT;
	Cairn__V1__TaskSpec *specs[11];
	char msg[256];
	uint8_t payload[2048] = { 0 };

	spec.queue = "q";
	for (int i = 0; i < 11; i++) {
		specs[i] = &spec;
	}
	er.n_tasks = 11; /* the limit is 10 */
	er.tasks = specs;
	assert_int_equal(call(*state, "Enqueue", &er.base, msg, sizeof(msg)),
	    CAIRN_INVALID_ARGUMENT);
	assert_non_null(strstr(msg, "batch"));
	er.n_tasks = 0;
	assert_int_equal(call(*state, "Enqueue", &er.base, msg, sizeof(msg)),
	    CAIRN_INVALID_ARGUMENT);
	/* One bad task spoils the whole batch, before anything is stored. */
	er.n_tasks = 3;
	Cairn__V1__TaskSpec big = CAIRN__V1__TASK_SPEC__INIT;
	big.queue = "q";
	big.payload = (ProtobufCBinaryData) { sizeof(payload), payload };
	specs[2] = &big;
	assert_int_equal(call(*state, "Enqueue", &er.base, msg, sizeof(msg)),
	    CAIRN_INVALID_ARGUMENT);
	assert_non_null(strstr(msg, "tasks[2].payload"));
}

static void
invalid_utf8_text(void **state)
{
	char msg[256];
	Cairn__V1__TaskSpec spec = CAIRN__V1__TASK_SPEC__INIT;

	spec.queue = "q";
	spec.idempotency_key = "\xc3\x28";
	assert_int_equal(
	    enqueue_one(*state, &spec, msg), CAIRN_INVALID_ARGUMENT);
	assert_non_null(strstr(msg, "UTF-8"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, before, after)
		T(unknown_method),
		T(random_bytes),
		T(truncated_body),
		T(oversized_message),
		T(bad_queue_names),
		T(negative_durations),
		T(wrong_lease_token),
		T(batch_and_payload_over_limits),
		T(invalid_utf8_text),
#undef T
	};
	return (cmocka_run_group_tests_name(
	    "badinput", tests, setup_group, teardown_group));
}
