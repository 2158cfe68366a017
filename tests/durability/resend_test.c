/*
 * resend_test.c - every mutating rpc is safe to receive twice. The server
 * (cairnd-faultfs) is killed right after the COMMIT of a request and
 * before its reply can leave; the same bytes sent again after the restart
 * get the first answer: one task per Enqueue, the same leased tasks with
 * the same tokens. libcairn's own resend after a reconnect (nng's REQ
 * socket) is checked the same way, end to end.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dur_util.h"
#include "faultfs.h"
#include "raw.h"

struct fx {
	struct dsrv srv;
	cairn_client *c;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	cairn_client_options o = { .timeout_ms = 5000 };

	if (dsrv_init(&f->srv, "CAIRND_FAULTFS", "tcp") != 0
	    || dsrv_start(&f->srv, NULL) != 0) {
		fail_msg("cannot start cairnd-faultfs");
	}
	o.lazy_connect = true;
	assert_int_equal(
	    cairn_client_open(&f->c, f->srv.url, &o, NULL, 0), CAIRN_OK);
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

static long
count(struct fx *f, const char *sql)
{
	char *v = dsrv_sql(&f->srv, sql);
	long n;

	assert_non_null(v);
	n = strtol(v, NULL, 10);
	free(v);
	return (n);
}

/* crash_on_next_commit arms the kill and checks that the request sent in
 * env got no reply because of it. */
static void
send_into_crash(struct fx *f, const uint8_t *env, size_t len)
{
	assert_int_equal(dsrv_ctl(&f->srv, "crash_after_commit 1\n"), 0);
	sleep_ms(100);
	assert_int_equal(
	    raw_call(f->srv.url, env, len, 3000, NULL, NULL, NULL, 0), -1);
	assert_int_equal(dsrv_wait_exit(&f->srv, 5000), FAULTFS_EXIT_COMMIT);
	assert_int_equal(dsrv_ctl(&f->srv, ""), -1); /* disarmed for good */
	assert_int_equal(dsrv_start(&f->srv, NULL), 0);
}

static void
enqueue_resent_after_commit_makes_one_task(void **state)
{
	struct fx *f = *state;
	Cairn__V1__EnqueueRequest er = CAIRN__V1__ENQUEUE_REQUEST__INIT;
	Cairn__V1__TaskSpec spec = CAIRN__V1__TASK_SPEC__INIT, *specs[2];
	Cairn__V1__EnqueueResponse *r1, *r2;
	size_t len;

	spec.queue = "q";
	specs[0] = specs[1] = &spec;
	er.n_tasks = 2;
	er.tasks = specs;
	uint8_t *env = raw_envelope("Enqueue", &er.base, NULL, "e-1", &len);
	send_into_crash(f, env, len);
	assert_int_equal(count(f, "SELECT count(*) FROM tasks"), 2);

	/* The resend: the same two ids, created, and nothing new. */
	assert_int_equal(raw_call(f->srv.url, env, len, 5000,
	                     &cairn__v1__enqueue_response__descriptor,
	                     (ProtobufCMessage **) &r1, NULL, 0),
	    0);
	assert_int_equal(r1->n_results, 2);
	assert_true(r1->results[0]->created && r1->results[1]->created);
	assert_int_equal(count(f, "SELECT count(*) FROM tasks"), 2);
	assert_int_equal(raw_call(f->srv.url, env, len, 5000,
	                     &cairn__v1__enqueue_response__descriptor,
	                     (ProtobufCMessage **) &r2, NULL, 0),
	    0);
	assert_int_equal(r2->results[0]->id, r1->results[0]->id);
	assert_int_equal(r2->results[1]->id, r1->results[1]->id);
	assert_int_equal(
	    count(f, "SELECT min(id) FROM tasks"), (long) r1->results[0]->id);
	protobuf_c_message_free_unpacked(&r1->base, NULL);
	protobuf_c_message_free_unpacked(&r2->base, NULL);
	free(env);

	/* Another request id is another request. */
	env = raw_envelope("Enqueue", &er.base, NULL, "e-2", &len);
	assert_int_equal(
	    raw_call(f->srv.url, env, len, 5000, NULL, NULL, NULL, 0), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM tasks"), 4);
	free(env);
	/* The same id for a request of another size is refused. */
	er.n_tasks = 1;
	env = raw_envelope("Enqueue", &er.base, NULL, "e-2", &len);
	assert_int_equal(
	    raw_call(f->srv.url, env, len, 5000, NULL, NULL, NULL, 0),
	    CAIRN_INVALID_ARGUMENT);
	assert_int_equal(count(f, "SELECT count(*) FROM tasks"), 4);
	free(env);
}

static void
lease_resent_after_commit_returns_the_same_tasks(void **state)
{
	struct fx *f = *state;
	Cairn__V1__LeaseRequest lr = CAIRN__V1__LEASE_REQUEST__INIT;
	Cairn__V1__LeaseResponse *r;
	char *q = "q", sql[128];
	cairn_task_spec spec
	    = { .queue = "q", .payload = "x", .payload_len = 1 };
	cairn_enqueue_result er;
	size_t len;

	for (int i = 0; i < 3; i++) {
		assert_int_equal(cairn_enqueue(f->c, &spec, 1, &er), CAIRN_OK);
	}
	lr.queues = &q;
	lr.n_queues = 1;
	lr.max_tasks = 2;
	uint8_t *env = raw_envelope("Lease", &lr.base, NULL, "l-1", &len);
	send_into_crash(f, env, len);
	assert_int_equal(
	    count(f, "SELECT count(*) FROM tasks WHERE state = 2"), 2);

	assert_int_equal(raw_call(f->srv.url, env, len, 5000,
	                     &cairn__v1__lease_response__descriptor,
	                     (ProtobufCMessage **) &r, NULL, 0),
	    0);
	assert_int_equal(r->n_tasks, 2);
	for (size_t i = 0; i < 2; i++) {
		char *tok;
		snprintf(sql, sizeof(sql),
		    "SELECT lease_token FROM tasks WHERE id = %llu AND "
		    "state = 2",
		    (unsigned long long) r->tasks[i]->task->id);
		assert_non_null(tok = dsrv_sql(&f->srv, sql));
		assert_string_equal(tok, r->tasks[i]->lease_token);
		assert_true(r->tasks[i]->deadline_ms > wall_ms());
		free(tok);
	}
	/* Nothing more was leased, and the replayed token works. */
	assert_int_equal(
	    count(f, "SELECT count(*) FROM tasks WHERE state = 2"), 2);
	assert_int_equal(cairn_complete(f->c, r->tasks[0]->task->id,
	                     r->tasks[0]->lease_token, NULL, 0),
	    CAIRN_OK);
	/* Replayed again after that: the ended lease has its deadline now. */
	Cairn__V1__LeaseResponse *again;
	assert_int_equal(raw_call(f->srv.url, env, len, 5000,
	                     &cairn__v1__lease_response__descriptor,
	                     (ProtobufCMessage **) &again, NULL, 0),
	    0);
	assert_int_equal(again->n_tasks, 2);
	assert_true(again->tasks[0]->deadline_ms <= wall_ms());
	assert_int_equal(
	    cairn_heartbeat(f->c, again->tasks[0]->task->id,
	        again->tasks[0]->lease_token, NULL, 0, NULL, NULL),
	    CAIRN_FAILED_PRECONDITION);
	protobuf_c_message_free_unpacked(&again->base, NULL);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	free(env);

	/* A new request leases the third task, only. */
	env = raw_envelope("Lease", &lr.base, NULL, "l-2", &len);
	assert_int_equal(raw_call(f->srv.url, env, len, 5000,
	                     &cairn__v1__lease_response__descriptor,
	                     (ProtobufCMessage **) &r, NULL, 0),
	    0);
	assert_int_equal(r->n_tasks, 1);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	free(env);
}

/* twice sends the same envelope twice and checks both answers' codes. */
static void
twice(struct fx *f, const char *method, const ProtobufCMessage *m, int want)
{
	size_t len;
	uint8_t *env = raw_envelope(method, m, NULL, "t-1", &len);

	assert_int_equal(
	    raw_call(f->srv.url, env, len, 5000, NULL, NULL, NULL, 0), want);
	assert_int_equal(
	    raw_call(f->srv.url, env, len, 5000, NULL, NULL, NULL, 0), want);
	free(env);
}

static void
every_mutating_rpc_is_safe_twice(void **state)
{
	struct fx *f = *state;
	const char *q = "twice";
	cairn_task_spec spec = { .queue = "twice",
		.payload = "x",
		.payload_len = 1,
		.max_attempts = 3 };
	cairn_enqueue_result er;
	cairn_task **ts, *g;
	size_t n;

	assert_int_equal(cairn_enqueue(f->c, &spec, 1, &er), CAIRN_OK);
	assert_int_equal(cairn_lease(f->c, &q, 1, NULL, &ts, &n), CAIRN_OK);
	assert_int_equal(n, 1);

	Cairn__V1__HeartbeatRequest hb = CAIRN__V1__HEARTBEAT_REQUEST__INIT;
	hb.id = er.id;
	hb.lease_token = ts[0]->lease_token;
	twice(f, "Heartbeat", &hb.base, 0);

	/* Fail twice: one attempt used, not two. */
	Cairn__V1__FailRequest fr = CAIRN__V1__FAIL_REQUEST__INIT;
	fr.id = er.id;
	fr.lease_token = ts[0]->lease_token;
	fr.error = "boom";
	fr.retry_delay_ms = 1;
	twice(f, "Fail", &fr.base, 0);
	assert_int_equal(cairn_get(f->c, er.id, &g), CAIRN_OK);
	assert_int_equal(g->state, CAIRN_PENDING);
	assert_int_equal(g->attempt, 1);
	cairn_task_free(g);
	cairn_tasks_free(ts, n);

	/* Complete twice: succeeded once, the second answered OK. */
	sleep_ms(20);
	assert_int_equal(cairn_lease(f->c, &q, 1, NULL, &ts, &n), CAIRN_OK);
	assert_int_equal(n, 1);
	Cairn__V1__CompleteRequest cr = CAIRN__V1__COMPLETE_REQUEST__INIT;
	cr.id = er.id;
	cr.lease_token = ts[0]->lease_token;
	twice(f, "Complete", &cr.base, 0);
	assert_int_equal(count(f,
	                     "SELECT count(*) FROM events WHERE "
	                     "kind = 'completed'"),
	    1);
	cairn_tasks_free(ts, n);

	/* Cancel and Retry of another task. */
	assert_int_equal(cairn_enqueue(f->c, &spec, 1, &er), CAIRN_OK);
	Cairn__V1__CancelRequest cn = CAIRN__V1__CANCEL_REQUEST__INIT;
	cn.id = er.id;
	twice(f, "Cancel", &cn.base, 0);
	Cairn__V1__RetryRequest rr = CAIRN__V1__RETRY_REQUEST__INIT;
	rr.id = er.id;
	twice(f, "Retry", &rr.base, 0);
	assert_int_equal(cairn_get(f->c, er.id, &g), CAIRN_OK);
	assert_int_equal(g->state, CAIRN_PENDING);
	cairn_task_free(g);
	assert_int_equal(count(f, "SELECT count(*) FROM tasks"), 2);
}

struct call {
	cairn_client *c;
	int rv;
	cairn_enqueue_result r;
	cairn_task **ts;
	size_t n;
	bool lease;
};

static void *
call_thread(void *arg)
{
	struct call *k = arg;
	cairn_task_spec spec
	    = { .queue = "auto", .payload = "x", .payload_len = 1 };
	const char *q = "auto";
	cairn_lease_options lo = { .max_tasks = 2 };

	k->rv = k->lease ? cairn_lease(k->c, &q, 1, &lo, &k->ts, &k->n)
	                 : cairn_enqueue(k->c, &spec, 1, &k->r);
	return (NULL);
}

/* through_crash makes one libcairn call while the server dies after its
 * commit and comes back: nng resends it on the new connection. */
static void
through_crash(struct fx *f, struct call *k)
{
	pthread_t t;

	assert_int_equal(dsrv_ctl(&f->srv, "crash_after_commit 1\n"), 0);
	sleep_ms(100);
	pthread_create(&t, NULL, call_thread, k);
	assert_int_equal(dsrv_wait_exit(&f->srv, 5000), FAULTFS_EXIT_COMMIT);
	dsrv_ctl(&f->srv, "");
	assert_int_equal(dsrv_start(&f->srv, NULL), 0);
	pthread_join(t, NULL);
}

static void
libcairn_resends_after_reconnect_safely(void **state)
{
	struct fx *f = *state;
	cairn_client_options o = { .timeout_ms = 20000 };
	struct call k = { 0 };

	assert_int_equal(
	    cairn_client_open(&k.c, f->srv.url, &o, NULL, 0), CAIRN_OK);
	through_crash(f, &k);
	assert_int_equal(k.rv, CAIRN_OK);
	assert_true(k.r.created);
	assert_int_equal(count(f, "SELECT count(*) FROM tasks"), 1);

	cairn_task_spec spec
	    = { .queue = "auto", .payload = "x", .payload_len = 1 };
	cairn_enqueue_result er;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(cairn_enqueue(k.c, &spec, 1, &er), CAIRN_OK);
	}
	k.lease = true;
	through_crash(f, &k);
	assert_int_equal(k.rv, CAIRN_OK);
	assert_int_equal(k.n, 2);
	assert_int_equal(
	    count(f, "SELECT count(*) FROM tasks WHERE state = 2"), 2);
	for (size_t i = 0; i < k.n; i++) {
		assert_int_equal(cairn_complete(k.c, k.ts[i]->id,
		                     k.ts[i]->lease_token, NULL, 0),
		    CAIRN_OK);
	}
	cairn_tasks_free(k.ts, k.n);
	cairn_client_close(k.c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(enqueue_resent_after_commit_makes_one_task),
		T(lease_resent_after_commit_returns_the_same_tasks),
		T(every_mutating_rpc_is_safe_twice),
		T(libcairn_resends_after_reconnect_safely),
#undef T
	};
	return (cmocka_run_group_tests_name("resend", tests, NULL, NULL));
}
