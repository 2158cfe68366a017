/*
 * wf_worker_test.c - libcairn's workflow worker against a fake server: a
 * REP socket that keeps one run and its log in memory and answers
 * LeaseWorkflow, HeartbeatWorkflow, AdvanceWorkflow, FailWorkflowTask and
 * WorkflowHistory as proto/README.md says cairnd does. Between turns it
 * resolves every pending entry, as if the activities had run.
 *
 * It checks the worker's side of the protocol with no cairnd: a run
 * driven to its end, steps checkpointed with keep_lease, delta leases
 * with `known`, a delta that does not fit read again with History, an
 * advance whose reply is lost resent with the same request id, a lease
 * lost during a long step, heartbeats, unknown types and non-determinism
 * reported with FailWorkflowTask.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "cairn.h"
#include "cairn.pb-c.h"

#define MAXLOG 64

struct fentry {
	Cairn__V1__EntryKind kind;
	char name[64];
	char input[128];
	size_t input_len;
	Cairn__V1__EntryStatus status;
	char result[256];
	size_t result_len;
	uint64_t order;
};

static struct fk {
	nng_socket sock;
	pthread_t thr;
	char url[128];
	pthread_mutex_t mu;

	/* The run. */
	char type[32];
	char input[32];
	Cairn__V1__WorkflowState state;
	char result[512];
	struct fentry log[MAXLOG];
	uint32_t n;
	uint64_t order;
	bool runnable, leased, stuck, nondet;
	char token[32];
	uint32_t attempt;
	char reason[512];

	/* What the worker did. */
	int leases, deltas, entries_sent, advances, checkpoints, heartbeats;
	int fails, histories, resends;
	char rid[64]; /* of the last advance, and its packed answer */
	uint8_t answer[16384];
	size_t answer_len;

	/* Faults to inject. */
	int drop_replies; /* advance replies to lose */
	bool hb_lost;     /* heartbeats answer "lease lost" */
	bool bad_delta;   /* the next delta has a gap */
} fk;

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void
sleep_ms(int64_t ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static void
to_pb(const struct fentry *e, uint32_t seq, bool with_input,
    Cairn__V1__Entry *pb)
{
	cairn__v1__entry__init(pb);
	pb->seq = seq;
	pb->kind = e->kind;
	pb->name = (char *) e->name;
	pb->input_hash = cairn_wf_hash(e->input, e->input_len);
	if (with_input) {
		pb->input.data = (uint8_t *) e->input;
		pb->input.len = e->input_len;
	}
	pb->status = e->status;
	pb->result.data = (uint8_t *) e->result;
	pb->result.len = e->result_len;
	pb->resolved_order = e->order;
}

static void
run_pb(Cairn__V1__WorkflowRun *r)
{
	cairn__v1__workflow_run__init(r);
	r->run_id = 1;
	r->workflow_id = "w1";
	r->type = fk.type;
	r->queue = "workflows";
	r->input.data = (uint8_t *) fk.input;
	r->input.len = strlen(fk.input);
	r->state = fk.state;
	r->log_length = fk.n;
	r->resolved_count = fk.order;
	r->task_attempt = fk.attempt;
}

/* resolve_pending gives every pending entry its outcome: activities
 * return "NAME:INPUT", the rest "". */
static void
resolve_pending(void)
{
	for (uint32_t i = 0; i < fk.n; i++) {
		struct fentry *e = &fk.log[i];
		if (e->status
		    != CAIRN__V1__ENTRY_STATUS__ENTRY_STATUS_PENDING) {
			continue;
		}
		e->status = CAIRN__V1__ENTRY_STATUS__ENTRY_STATUS_COMPLETED;
		if (e->kind == CAIRN__V1__ENTRY_KIND__ENTRY_KIND_ACTIVITY) {
			char out[sizeof(e->result)];
			int n = snprintf(out, sizeof(out), "%s:%.*s", e->name,
			    (int) e->input_len, e->input);
			e->result_len = (size_t) n < sizeof(out)
			    ? (size_t) n
			    : sizeof(out) - 1;
			memcpy(e->result, out, e->result_len);
		}
		e->order = ++fk.order;
	}
}

static size_t
pack(int code, const char *msg, const ProtobufCMessage *body, uint8_t *out)
{
	Cairn__V1__Response resp = CAIRN__V1__RESPONSE__INIT;
	uint8_t buf[16384];

	resp.code = (Cairn__V1__Code) code;
	resp.message = (char *) (msg != NULL ? msg : "");
	if (body != NULL) {
		resp.body.len = protobuf_c_message_pack(body, buf);
		resp.body.data = buf;
	}
	return (cairn__v1__response__pack(&resp, out));
}

static size_t
on_lease(const Cairn__V1__LeaseWorkflowRequest *in, uint8_t *out)
{
	Cairn__V1__LeaseWorkflowResponse resp
	    = CAIRN__V1__LEASE_WORKFLOW_RESPONSE__INIT;
	Cairn__V1__LeasedRun lr = CAIRN__V1__LEASED_RUN__INIT;
	Cairn__V1__WorkflowRun run;
	Cairn__V1__Entry pbs[MAXLOG + 1], *ptrs[MAXLOG + 1];
	const Cairn__V1__KnownRun *k = NULL;

	if (!fk.runnable || fk.leased
	    || fk.state != CAIRN__V1__WORKFLOW_STATE__WORKFLOW_STATE_RUNNING) {
		return (pack(CAIRN_OK, NULL, &resp.base, out));
	}
	for (size_t i = 0; i < in->n_known; i++) {
		if (in->known[i]->run_id == 1) {
			k = in->known[i];
		}
	}
	fk.leases++;
	fk.leased = true;
	fk.runnable = false;
	fk.attempt++;
	snprintf(fk.token, sizeof(fk.token), "tok-%u", fk.attempt);
	run_pb(&run);
	for (uint32_t i = 0; i < fk.n; i++) {
		if (k != NULL && i + 1 <= k->log_length
		    && fk.log[i].order <= k->resolved_count) {
			continue;
		}
		to_pb(&fk.log[i], i + 1, false, &pbs[lr.n_entries]);
		ptrs[lr.n_entries] = &pbs[lr.n_entries];
		lr.n_entries++;
	}
	if (k != NULL && fk.bad_delta && fk.n > 0) {
		/* A server bug: an entry past a gap. */
		fk.bad_delta = false;
		to_pb(&fk.log[fk.n - 1], fk.n + 5, false, &pbs[0]);
		ptrs[0] = &pbs[0];
		lr.n_entries = 1;
	}
	fk.deltas += k != NULL;
	fk.entries_sent += (int) lr.n_entries;
	lr.run = &run;
	lr.lease_token = fk.token;
	lr.deadline_ms = 1;
	lr.delta = k != NULL;
	lr.entries = ptrs;
	resp.leased = &lr;
	return (pack(CAIRN_OK, NULL, &resp.base, out));
}

static bool
lease_ok(const char *token)
{
	return (fk.leased && strcmp(token, fk.token) == 0);
}

static size_t
on_advance(
    const Cairn__V1__AdvanceWorkflowRequest *in, const char *rid, uint8_t *out)
{
	Cairn__V1__AdvanceWorkflowResponse resp
	    = CAIRN__V1__ADVANCE_WORKFLOW_RESPONSE__INIT;
	Cairn__V1__Entry pbs[MAXLOG], *ptrs[MAXLOG];
	size_t len;

	if (strcmp(rid, fk.rid) == 0) {
		fk.resends++;
		memcpy(out, fk.answer, fk.answer_len);
		return (fk.answer_len);
	}
	if (!lease_ok(in->lease_token) || in->expected_seq != fk.n + 1) {
		return (pack(CAIRN_FAILED_PRECONDITION,
		    "lease lost: stale token or seq", NULL, out));
	}
	if (fk.n + in->n_commands > MAXLOG) {
		return (pack(CAIRN_RESOURCE_EXHAUSTED, "too long", NULL, out));
	}
	fk.advances++;
	for (size_t i = 0; i < in->n_commands; i++) {
		const Cairn__V1__Command *c = in->commands[i];
		struct fentry *e = &fk.log[fk.n];
		memset(e, 0, sizeof(*e));
		e->kind = c->kind;
		snprintf(e->name, sizeof(e->name), "%s", c->name);
		e->input_len
		    = c->input.len < sizeof(e->input) ? c->input.len : 0;
		if (e->input_len > 0) {
			memcpy(e->input, c->input.data, e->input_len);
		}
		e->status = c->status;
		if (c->kind == CAIRN__V1__ENTRY_KIND__ENTRY_KIND_STEP
		    || c->kind == CAIRN__V1__ENTRY_KIND__ENTRY_KIND_MARKER) {
			e->result_len = c->result.len < sizeof(e->result)
			    ? c->result.len
			    : 0;
			if (e->result_len > 0) {
				memcpy(
				    e->result, c->result.data, e->result_len);
			}
			e->order = ++fk.order;
		} else {
			e->status
			    = CAIRN__V1__ENTRY_STATUS__ENTRY_STATUS_PENDING;
		}
		to_pb(e, fk.n + 1, false, &pbs[i]);
		ptrs[i] = &pbs[i];
		fk.n++;
	}
	fk.stuck = false;
	if (in->keep_lease) {
		fk.checkpoints++;
	} else {
		fk.leased = false;
		if (in->finish
		    != CAIRN__V1__WORKFLOW_STATE__WORKFLOW_STATE_UNSPECIFIED) {
			fk.state = in->finish;
			snprintf(fk.result, sizeof(fk.result), "%.*s",
			    (int) in->result.len, in->result.data);
		} else {
			fk.runnable = true;
		}
	}
	resp.entries = ptrs;
	resp.n_entries = in->n_commands;
	resp.log_length = fk.n;
	len = pack(CAIRN_OK, NULL, &resp.base, out);
	if (!in->keep_lease && fk.runnable) {
		resolve_pending(); /* the activities run meanwhile */
	}
	snprintf(fk.rid, sizeof(fk.rid), "%s", rid);
	memcpy(fk.answer, out, len);
	fk.answer_len = len;
	return (len);
}

static size_t
on_history(uint8_t *out)
{
	Cairn__V1__WorkflowHistoryResponse resp
	    = CAIRN__V1__WORKFLOW_HISTORY_RESPONSE__INIT;
	Cairn__V1__WorkflowRun run;
	Cairn__V1__Entry pbs[MAXLOG], *ptrs[MAXLOG];

	fk.histories++;
	run_pb(&run);
	for (uint32_t i = 0; i < fk.n; i++) {
		to_pb(&fk.log[i], i + 1, true, &pbs[i]);
		ptrs[i] = &pbs[i];
	}
	resp.run = &run;
	resp.entries = ptrs;
	resp.n_entries = fk.n;
	return (pack(CAIRN_OK, NULL, &resp.base, out));
}

/* answer handles one request (fk.mu held); *drop: send no reply (an
 * empty reply is 0 bytes, a valid message). */
static size_t
answer(const Cairn__V1__Request *req, uint8_t *out, bool *drop)
{
	const ProtobufCMethodDescriptor *md
	    = protobuf_c_service_descriptor_get_method_by_name(
	        &cairn__v1__queue__descriptor, req->method);
	ProtobufCMessage *in;
	size_t len = 0;

	if (md == NULL
	    || (in = protobuf_c_message_unpack(
	            md->input, NULL, req->body.len, req->body.data))
	        == NULL) {
		return (pack(CAIRN_UNIMPLEMENTED, "fake: no", NULL, out));
	}
	if (strcmp(req->method, "LeaseWorkflow") == 0) {
		len = on_lease((Cairn__V1__LeaseWorkflowRequest *) in, out);
	} else if (strcmp(req->method, "AdvanceWorkflow") == 0) {
		len = on_advance((Cairn__V1__AdvanceWorkflowRequest *) in,
		    req->request_id, out);
		if (fk.drop_replies > 0) {
			fk.drop_replies--;
			*drop = true;
		}
	} else if (strcmp(req->method, "HeartbeatWorkflow") == 0) {
		Cairn__V1__HeartbeatWorkflowResponse r
		    = CAIRN__V1__HEARTBEAT_WORKFLOW_RESPONSE__INIT;
		fk.heartbeats++;
		len = fk.hb_lost ? pack(CAIRN_FAILED_PRECONDITION,
		          "lease lost: test", NULL, out)
		                 : pack(CAIRN_OK, NULL, &r.base, out);
		if (fk.hb_lost) {
			fk.leased = false;
		}
	} else if (strcmp(req->method, "FailWorkflowTask") == 0) {
		Cairn__V1__FailWorkflowTaskRequest *f
		    = (Cairn__V1__FailWorkflowTaskRequest *) in;
		Cairn__V1__FailWorkflowTaskResponse r
		    = CAIRN__V1__FAIL_WORKFLOW_TASK_RESPONSE__INIT;
		fk.fails++;
		fk.stuck = true;
		fk.nondet = f->nondeterminism;
		fk.leased = false;
		snprintf(fk.reason, sizeof(fk.reason), "%s", f->error);
		len = pack(CAIRN_OK, NULL, &r.base, out);
	} else if (strcmp(req->method, "WorkflowHistory") == 0) {
		len = on_history(out);
	} else {
		len = pack(CAIRN_UNIMPLEMENTED, "fake: no", NULL, out);
	}
	protobuf_c_message_free_unpacked(in, NULL);
	return (len);
}

static void *
fk_main(void *arg)
{
	static uint8_t out[32768];
	nng_msg *msg;

	while (nng_recvmsg(fk.sock, &msg, 0) == 0) {
		Cairn__V1__Request *req = cairn__v1__request__unpack(
		    NULL, nng_msg_len(msg), nng_msg_body(msg));
		size_t len = 0;
		bool idle, drop = false;

		pthread_mutex_lock(&fk.mu);
		if (req != NULL) {
			len = answer(req, out, &drop);
		}
		idle = req != NULL && strcmp(req->method, "LeaseWorkflow") == 0
		    && !fk.leased && !fk.runnable;
		pthread_mutex_unlock(&fk.mu);
		cairn__v1__request__free_unpacked(req, NULL);
		if (idle) {
			sleep_ms(20); /* a short long-poll */
		}
		nng_msg_clear(msg);
		if (drop || nng_msg_append(msg, out, len) != 0
		    || nng_sendmsg(fk.sock, msg, 0) != 0) {
			nng_msg_free(msg);
		}
	}
	return (NULL);
}

/* ---- the tests' side ------------------------------------------------------
 */

struct fx {
	cairn_client *c;
	cairn_wf_worker *w;
	pthread_t t;
	bool running;
	int rv;
	atomic_int step_runs; /* the test's thread reads it */
	int64_t step_ms;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	cairn_client_options o = { .timeout_ms = 500 };

	memset(&fk, 0, sizeof(fk));
	pthread_mutex_init(&fk.mu, NULL);
	snprintf(fk.url, sizeof(fk.url), "ipc:///tmp/cairn-wf-worker-%d.ipc",
	    (int) getpid());
	fk.state = CAIRN__V1__WORKFLOW_STATE__WORKFLOW_STATE_RUNNING;
	assert_int_equal(nng_rep0_open(&fk.sock), 0);
	assert_int_equal(nng_listen(fk.sock, fk.url, NULL, 0), 0);
	assert_int_equal(pthread_create(&fk.thr, NULL, fk_main, NULL), 0);
	assert_int_equal(
	    cairn_client_open(&f->c, fk.url, &o, NULL, 0), CAIRN_OK);
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	if (f->running) { /* a test that failed midway */
		cairn_wf_worker_stop(f->w);
		pthread_join(f->t, NULL);
	}
	cairn_wf_worker_free(f->w);
	cairn_client_close(f->c);
	nng_close(fk.sock);
	pthread_join(fk.thr, NULL);
	pthread_mutex_destroy(&fk.mu);
	free(f);
	return (0);
}

static int
slow_step(cairn_wf_step_ctx *s, const void *in, size_t len, void *arg)
{
	struct fx *f = arg;

	atomic_fetch_add(&f->step_runs, 1);
	sleep_ms(f->step_ms);
	return (cairn_wf_step_result(s, "made", 4));
}

/* order: reserve, a step, a timer, ship, then both results. */
static int
order(cairn_wf_ctx *ctx, const void *in, size_t len, void *arg)
{
	cairn_wf_outcome a, s, b;
	char out[256];
	int rv;

	if ((rv = cairn_wf_activity(ctx, "reserve", in, len, NULL, &a))
	        != CAIRN_OK
	    || (rv = cairn_wf_step(ctx, "make", slow_step, NULL, 0, arg, &s))
	        != CAIRN_OK
	    || (rv = cairn_wf_sleep(ctx, 10, NULL)) != CAIRN_OK
	    || (rv = cairn_wf_activity(ctx, "ship", in, len, NULL, &b))
	        != CAIRN_OK) {
		return (rv);
	}
	snprintf(out, sizeof(out), "%s+%s+%s", a.result, s.result, b.result);
	return (cairn_wf_succeed(ctx, out, strlen(out)));
}

/* loop: 40 activities, one after the other. */
static int
loop(cairn_wf_ctx *ctx, const void *in, size_t len, void *arg)
{
	for (int i = 0; i < 40; i++) {
		char n[16];
		int rv;
		snprintf(n, sizeof(n), "%d", i);
		rv = cairn_wf_activity(ctx, "a", n, strlen(n), NULL, NULL);
		if (rv != CAIRN_OK) {
			return (rv);
		}
	}
	return (CAIRN_OK);
}

static void *
run_main(void *arg)
{
	struct fx *f = arg;

	f->rv = cairn_wf_worker_run(f->w);
	return (NULL);
}

static void
start(struct fx *f, const char *type, bool cache, int64_t lease_ms)
{
	cairn_wf_worker_options o = { .poll_wait_ms = 100,
		.lease_timeout_ms = lease_ms,
		.no_cache = !cache };

	pthread_mutex_lock(&fk.mu);
	snprintf(fk.type, sizeof(fk.type), "%s", type);
	snprintf(fk.input, sizeof(fk.input), "in");
	fk.runnable = true;
	pthread_mutex_unlock(&fk.mu);
	assert_int_equal(cairn_wf_worker_new(&f->w, f->c, &o), CAIRN_OK);
	assert_int_equal(
	    cairn_wf_worker_register(f->w, "order", order, f), CAIRN_OK);
	assert_int_equal(
	    cairn_wf_worker_register(f->w, "loop", loop, f), CAIRN_OK);
	assert_int_equal(cairn_wf_worker_register(f->w, "order", order, f),
	    CAIRN_ALREADY_EXISTS);
	assert_int_equal(pthread_create(&f->t, NULL, run_main, f), 0);
	f->running = true;
}

/* finish waits until the run ended or a turn failed, then stops the
 * worker. */
static void
finish(struct fx *f, cairn_wf_worker_stats *st)
{
	for (int64_t until = mono_ms() + 10000; mono_ms() < until;) {
		pthread_mutex_lock(&fk.mu);
		bool over = fk.state
		        != CAIRN__V1__WORKFLOW_STATE__WORKFLOW_STATE_RUNNING
		    || fk.fails > 0 || (fk.hb_lost && !fk.leased);
		pthread_mutex_unlock(&fk.mu);
		if (over) {
			break;
		}
		sleep_ms(10);
	}
	cairn_wf_worker_stop(f->w);
	pthread_join(f->t, NULL);
	f->running = false;
	assert_int_equal(f->rv, CAIRN_OK);
	cairn_wf_worker_get_stats(f->w, st);
}

static void
test_run_to_end(void **state)
{
	struct fx *f = *state;
	cairn_wf_worker_stats st;

	start(f, "order", true, 0);
	finish(f, &st);
	assert_int_equal(
	    fk.state, CAIRN__V1__WORKFLOW_STATE__WORKFLOW_STATE_SUCCEEDED);
	assert_string_equal(fk.result, "reserve:in+made+ship:in");
	assert_int_equal(fk.n, 4);
	assert_int_equal(atomic_load(&f->step_runs), 1);
	assert_int_equal(fk.checkpoints, 1); /* the step, with keep_lease */
	assert_int_equal(fk.leases, 4);      /* start, reserve, timer, ship */
	assert_int_equal(fk.deltas, 3);      /* every lease after the first */
	assert_int_equal(fk.fails, 0);
	assert_int_equal(fk.histories, 0);
	assert_int_equal(st.turns, 4);
	assert_int_equal(st.leases_delta, 3);
	/* Each delta carries what changed: 0 + 1 + 2 + 1 entries. */
	assert_int_equal(fk.entries_sent, 4);
}

static void
test_without_cache(void **state)
{
	struct fx *f = *state;
	cairn_wf_worker_stats st;

	start(f, "order", false, 0);
	finish(f, &st);
	assert_int_equal(
	    fk.state, CAIRN__V1__WORKFLOW_STATE__WORKFLOW_STATE_SUCCEEDED);
	assert_int_equal(fk.deltas, 0);
	/* The whole log each time: 0 + 1 + 3 + 4 entries. */
	assert_int_equal(fk.entries_sent, 8);
	assert_int_equal(atomic_load(&f->step_runs), 1);
}

/* The entries a run of 40 activities receives in its 41 turns: one per
 * turn with the cache, the whole log each time without (41 * 40 / 2). */
static void
test_delta_scale(void **state)
{
	struct fx *f = *state;
	cairn_wf_worker_stats st;
	int with;

	start(f, "loop", true, 0);
	finish(f, &st);
	assert_int_equal(
	    fk.state, CAIRN__V1__WORKFLOW_STATE__WORKFLOW_STATE_SUCCEEDED);
	assert_int_equal(fk.leases, 41);
	assert_int_equal(fk.entries_sent, 40);
	with = fk.entries_sent;
	/* The same again, from a fresh log, with no cache. */
	cairn_wf_worker_free(f->w);
	f->w = NULL;
	pthread_mutex_lock(&fk.mu);
	fk.state = CAIRN__V1__WORKFLOW_STATE__WORKFLOW_STATE_RUNNING;
	fk.n = 0;
	fk.order = 0;
	fk.leases = fk.entries_sent = 0;
	pthread_mutex_unlock(&fk.mu);
	start(f, "loop", false, 0);
	finish(f, &st);
	assert_int_equal(fk.entries_sent, 820);
	print_message("40 activities: %d entries leased with the cache, %d "
	              "without\n",
	    with, fk.entries_sent);
}

/* A delta that does not fit the log held is not guessed at: the log is
 * read again with WorkflowHistory. */
static void
test_bad_delta_reads_history(void **state)
{
	struct fx *f = *state;
	cairn_wf_worker_stats st;

	fk.bad_delta = true;
	start(f, "order", true, 0);
	finish(f, &st);
	assert_int_equal(
	    fk.state, CAIRN__V1__WORKFLOW_STATE__WORKFLOW_STATE_SUCCEEDED);
	assert_int_equal(fk.histories, 1);
	assert_int_equal(st.history_loads, 1);
	assert_int_equal(fk.fails, 0);
}

/* An advance whose reply is lost is sent again with the same request id,
 * and the server answers it as the first. */
static void
test_lost_reply_resent(void **state)
{
	struct fx *f = *state;
	cairn_wf_worker_stats st;

	fk.drop_replies = 1;
	start(f, "order", true, 0);
	finish(f, &st);
	assert_int_equal(
	    fk.state, CAIRN__V1__WORKFLOW_STATE__WORKFLOW_STATE_SUCCEEDED);
	assert_int_equal(fk.resends, 1);
	assert_int_equal(fk.n, 4); /* nothing appended twice */
}

/* A long step is heartbeated; a lost lease stops the turn, which then
 * sends nothing more. */
static void
test_heartbeats_and_lost_lease(void **state)
{
	struct fx *f = *state;
	cairn_wf_worker_stats st;

	f->step_ms = 1200;
	start(f, "order", true, 600); /* heartbeats every 200 ms */
	for (int64_t until = mono_ms() + 5000;
	     atomic_load(&f->step_runs) == 0 && mono_ms() < until;) {
		sleep_ms(5);
	}
	sleep_ms(500);
	pthread_mutex_lock(&fk.mu);
	assert_true(fk.heartbeats >= 1);
	fk.hb_lost = true;
	pthread_mutex_unlock(&fk.mu);
	sleep_ms(1200);
	finish(f, &st);
	if (fk.fails != 0) {
		fail_msg("a turn failed: %s", fk.reason);
	}
	assert_int_equal(st.leases_lost, 1);
	assert_int_equal(fk.checkpoints, 0); /* refused: the lease is gone */
	assert_int_equal(fk.n, 1);
}

static void
test_unknown_type(void **state)
{
	struct fx *f = *state;
	cairn_wf_worker_stats st;

	start(f, "invoice", true, 0);
	finish(f, &st);
	assert_int_equal(fk.fails, 1);
	assert_false(fk.nondet);
	assert_non_null(strstr(fk.reason, "no workflow function"));
	assert_non_null(strstr(fk.reason, "\"invoice\""));
	assert_int_equal(st.task_failures, 1);
}

static void
test_nondeterminism_reported(void **state)
{
	struct fx *f = *state;
	cairn_wf_worker_stats st;

	/* A log that another version of the code wrote. */
	fk.n = 1;
	fk.log[0].kind = CAIRN__V1__ENTRY_KIND__ENTRY_KIND_ACTIVITY;
	snprintf(fk.log[0].name, sizeof(fk.log[0].name), "refund");
	fk.log[0].status = CAIRN__V1__ENTRY_STATUS__ENTRY_STATUS_PENDING;
	start(f, "order", true, 0);
	finish(f, &st);
	assert_int_equal(fk.fails, 1);
	assert_true(fk.nondet);
	assert_non_null(strstr(fk.reason, "non-determinism at seq 1"));
	assert_non_null(strstr(fk.reason, "activity \"refund\""));
	assert_int_equal(st.nondeterminism, 1);
	assert_int_equal(fk.n, 1); /* nothing appended */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_run_to_end),
		T(test_without_cache),
		T(test_delta_scale),
		T(test_bad_delta_reads_history),
		T(test_lost_reply_resent),
		T(test_heartbeats_and_lost_lease),
		T(test_unknown_type),
		T(test_nondeterminism_reported),
#undef T
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
