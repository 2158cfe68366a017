/*
 * engine_test.c - the engine: group commit (many requests, fewer commits,
 * no answer before its commit), a storage fault that spoils only its own
 * request, long-poll parking and wake-up, await, and an orderly stop.
 *
 * A spy wraps the SQLite backend: it counts commits, slows them down so
 * that requests pile up, and remembers whether writes are uncommitted.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/engine.h"
#include "engine/internal.h"

/* The SQLite backend's table, copied from the opened handle, and a spy
 * that wraps some of its calls. */
static struct store_ops real_ops;
static struct store_ops spy_ops;
static atomic_int spy_commits;
static atomic_bool spy_dirty;        /* writes not yet committed */
static atomic_int answered_dirty;    /* answers sent before commit */
static const char *spy_fail_payload; /* insert of it fails */

static int
spy_insert(struct store *s, const struct task_spec *spec, int64_t now,
    uint64_t *id, bool *created)
{
	atomic_store(&spy_dirty, true);
	if (spy_fail_payload != NULL && spec->payload_len > 0
	    && memcmp(spec->payload, spy_fail_payload, spec->payload_len)
	        == 0) {
		return (
		    store_seterr(s, CAIRN_RESOURCE_EXHAUSTED, "disk full"));
	}
	return (real_ops.insert(s, spec, now, id, created));
}

static int
spy_save(struct store *s, const struct task_row *row)
{
	atomic_store(&spy_dirty, true);
	return (real_ops.save(s, row));
}

static int
spy_commit(struct store *s)
{
	usleep(2000); /* a slow disk: requests pile up meanwhile */
	int rv = real_ops.commit(s);
	atomic_store(&spy_dirty, false);
	atomic_fetch_add(&spy_commits, 1);
	return (rv);
}

static atomic_bool spy_begin_fails; /* a store that cannot be reached */

static int
spy_begin(struct store *s)
{
	if (atomic_load(&spy_begin_fails)) {
		return (
		    store_seterr(s, CAIRN_UNAVAILABLE, "connection refused"));
	}
	return (real_ops.begin(s));
}

static int
spy_rollback(struct store *s)
{
	atomic_store(&spy_dirty, false);
	return (real_ops.rollback(s));
}

struct fx {
	struct store *store;
	struct engine *engine;
	char path[128];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct store_options o = { 0 };
	char uri[160], err[256];

	atomic_store(&spy_begin_fails, false);
	atomic_store(&spy_commits, 0);
	atomic_store(&answered_dirty, 0);
	spy_fail_payload = NULL;
	snprintf(f->path, sizeof(f->path), "/tmp/cairn-engine-test-%d.db",
	    getpid());
	snprintf(uri, sizeof(uri), "sqlite:%s", f->path);
	assert_int_equal(store_open(uri, &o, &f->store, err, sizeof(err)), 0);
	real_ops = *f->store->ops;
	spy_ops = real_ops;
	spy_ops.insert = spy_insert;
	spy_ops.save = spy_save;
	spy_ops.commit = spy_commit;
	spy_ops.begin = spy_begin;
	spy_ops.rollback = spy_rollback;
	f->store->ops = &spy_ops;
	struct engine_config ec = { .store = f->store };
	assert_int_equal(engine_start(&f->engine, &ec), CAIRN_OK);
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char p[160];

	engine_free(f->engine);
	f->store->ops = &real_ops;
	store_close(f->store);
	unlink(f->path);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	free(f);
	return (0);
}

/* A request and a way to wait for its answer. */
struct req {
	struct engine_op op;
	struct task_spec spec;
	uint64_t id;
	bool created;
	const char *queues[1];
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	struct timespec done_at;
};

static void
req_done(struct engine_op *op)
{
	struct req *r = op->arg;

	if (atomic_load(&spy_dirty)) {
		atomic_fetch_add(&answered_dirty, 1);
	}
	pthread_mutex_lock(&r->mu);
	clock_gettime(CLOCK_MONOTONIC, &r->done_at);
	r->done = true;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

static struct req *
req_new(enum engine_op_kind kind)
{
	struct req *r = calloc(1, sizeof(*r));

	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	r->op.kind = kind;
	r->op.arg = r;
	r->op.done = req_done;
	return (r);
}

static struct req *
enqueue_req(const char *queue, const char *payload)
{
	struct req *r = req_new(OP_ENQUEUE);

	r->spec = (struct task_spec) { .queue = queue,
		.payload = (const uint8_t *) payload,
		.payload_len = strlen(payload) };
	r->op.in.enqueue.specs = &r->spec;
	r->op.in.enqueue.n = 1;
	r->op.out.enqueue.ids = &r->id;
	r->op.out.enqueue.created = &r->created;
	return (r);
}

static struct req *
lease_req(const char *queue, int64_t wait_ms)
{
	struct req *r = req_new(OP_LEASE);

	r->queues[0] = queue;
	r->op.in.lease.req = (struct lease_request) {
		.queues = r->queues, .nqueues = 1, .max_tasks = 1
	};
	r->op.in.lease.wait_ms = wait_ms;
	return (r);
}

/* req_wait waits up to ms for the answer; returns whether it came. */
static bool
req_wait(struct req *r, int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long) (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&r->mu);
	while (!r->done) {
		if (pthread_cond_timedwait(&r->cv, &r->mu, &ts) != 0) {
			break;
		}
	}
	bool done = r->done;
	pthread_mutex_unlock(&r->mu);
	return (done);
}

static void
req_free(struct req *r)
{
	engine_op_clear(&r->op);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

struct producer {
	struct engine *engine;
	int n;
};

static void *
produce(void *arg)
{
	struct producer *p = arg;

	for (int i = 0; i < p->n; i++) {
		struct req *r = enqueue_req("q", "x");
		assert_int_equal(engine_submit(p->engine, &r->op), CAIRN_OK);
		assert_true(req_wait(r, 10000));
		assert_int_equal(r->op.status, CAIRN_OK);
		assert_true(r->created);
		req_free(r);
	}
	return (NULL);
}

static void
group_commit_shares_commits(void **state)
{
	struct fx *f = *state;
	enum { THREADS = 16, EACH = 25 };
	pthread_t th[THREADS];
	struct producer p = { f->engine, EACH };
	struct engine_counters c;

	for (int i = 0; i < THREADS; i++) {
		pthread_create(&th[i], NULL, produce, &p);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
	}
	engine_get_counters(f->engine, &c);
	assert_int_equal(c.ops, THREADS * EACH);
	/* 16 requests wait on every 2 ms commit: far fewer commits. */
	assert_true(c.commits < c.ops / 2);
	assert_int_equal(atomic_load(&answered_dirty), 0);
	print_message("%llu requests in %llu commits\n",
	    (unsigned long long) c.ops, (unsigned long long) c.commits);
}

static void
storage_fault_spoils_only_its_request(void **state)
{
	struct fx *f = *state;
	struct req *r[3];

	spy_fail_payload = "poison";
	/* Submitted together, they share one transaction. */
	r[0] = enqueue_req("q", "good1");
	r[1] = enqueue_req("q", "poison");
	r[2] = enqueue_req("q", "good2");
	for (int i = 0; i < 3; i++) {
		assert_int_equal(
		    engine_submit(f->engine, &r[i]->op), CAIRN_OK);
	}
	for (int i = 0; i < 3; i++) {
		assert_true(req_wait(r[i], 5000));
	}
	assert_int_equal(r[0]->op.status, CAIRN_OK);
	assert_int_equal(r[1]->op.status, CAIRN_RESOURCE_EXHAUSTED);
	assert_int_equal(r[2]->op.status, CAIRN_OK);
	assert_int_equal(atomic_load(&answered_dirty), 0);
	for (int i = 0; i < 3; i++) {
		req_free(r[i]);
	}
	/* Both good tasks are there, and only they. */
	struct req *l = lease_req("q", 0);
	l->op.in.lease.req.max_tasks = 10;
	assert_int_equal(engine_submit(f->engine, &l->op), CAIRN_OK);
	assert_true(req_wait(l, 5000));
	assert_int_equal(l->op.out.tasks.n, 2);
	req_free(l);
}

static int64_t
elapsed_ms(const struct timespec *a, const struct timespec *b)
{
	return ((b->tv_sec - a->tv_sec) * 1000
	    + (b->tv_nsec - a->tv_nsec) / 1000000);
}

static void
parked_lease_wakes_on_enqueue(void **state)
{
	struct fx *f = *state;
	struct req *l = lease_req("jobs", 10000);
	struct req *other = lease_req("elsewhere", 10000);

	assert_int_equal(engine_submit(f->engine, &l->op), CAIRN_OK);
	assert_int_equal(engine_submit(f->engine, &other->op), CAIRN_OK);
	assert_false(req_wait(l, 200)); /* parked, not answered */
	struct req *e = enqueue_req("jobs", "wake up");
	assert_int_equal(engine_submit(f->engine, &e->op), CAIRN_OK);
	assert_true(req_wait(e, 5000));
	assert_true(req_wait(l, 1000));
	assert_int_equal(l->op.status, CAIRN_OK);
	assert_int_equal(l->op.out.tasks.n, 1);
	assert_int_equal(l->op.out.tasks.tasks[0]->id, e->id);
	/* The answer follows the enqueue's commit by one more transaction. */
	assert_true(elapsed_ms(&e->done_at, &l->done_at) < 500);
	assert_false(req_wait(other, 50)); /* another queue stays parked */
	req_free(e);
	req_free(l);
	engine_stop(f->engine); /* answers the parked one, empty */
	assert_true(req_wait(other, 1000));
	assert_int_equal(other->op.status, CAIRN_OK);
	assert_int_equal(other->op.out.tasks.n, 0);
	req_free(other);
}

static void
parked_lease_answers_empty_when_wait_ends(void **state)
{
	struct fx *f = *state;
	struct req *l = lease_req("idle", 150);
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(engine_submit(f->engine, &l->op), CAIRN_OK);
	assert_true(req_wait(l, 5000));
	assert_int_equal(l->op.status, CAIRN_OK);
	assert_int_equal(l->op.out.tasks.n, 0);
	assert_true(elapsed_ms(&t0, &l->done_at) >= 140);
	req_free(l);
}

static void
delayed_task_wakes_parked_lease_when_due(void **state)
{
	struct fx *f = *state;
	struct req *l = lease_req("later", 10000);
	struct req *e = enqueue_req("later", "soon");
	struct timespec t0;

	e->spec.delay_ms = 300;
	assert_int_equal(engine_submit(f->engine, &l->op), CAIRN_OK);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(engine_submit(f->engine, &e->op), CAIRN_OK);
	assert_true(req_wait(e, 5000));
	assert_false(req_wait(l, 150));
	assert_true(req_wait(l, 5000));
	assert_int_equal(l->op.out.tasks.n, 1);
	assert_true(elapsed_ms(&t0, &l->done_at) >= 290);
	req_free(e);
	req_free(l);
}

static void
await_wakes_on_completion(void **state)
{
	struct fx *f = *state;
	struct req *e = enqueue_req("aw", "x");

	assert_int_equal(engine_submit(f->engine, &e->op), CAIRN_OK);
	assert_true(req_wait(e, 5000));
	struct req *a = req_new(OP_AWAIT);
	a->op.in.await.id = e->id;
	a->op.in.await.wait_ms = 10000;
	assert_int_equal(engine_submit(f->engine, &a->op), CAIRN_OK);
	assert_false(req_wait(a, 100));

	struct req *l = lease_req("aw", 0);
	assert_int_equal(engine_submit(f->engine, &l->op), CAIRN_OK);
	assert_true(req_wait(l, 5000));
	assert_int_equal(l->op.out.tasks.n, 1);
	struct req *c = req_new(OP_COMPLETE);
	c->op.in.touch.id = e->id;
	c->op.in.touch.token = l->op.out.tasks.tasks[0]->lease_token;
	assert_int_equal(engine_submit(f->engine, &c->op), CAIRN_OK);
	assert_true(req_wait(c, 5000));
	assert_int_equal(c->op.status, CAIRN_OK);
	assert_true(req_wait(a, 1000));
	assert_true(a->op.out.one.done);
	assert_int_equal(a->op.out.one.task->state, CAIRN_SUCCEEDED);
	req_free(c);
	req_free(l);
	req_free(a);
	req_free(e);
}

static void
unreachable_store_changes_nothing_and_says_so(void **state)
{
	struct fx *f = *state;
	struct req *e = enqueue_req("q", "x");

	atomic_store(&spy_begin_fails, true);
	assert_int_equal(engine_submit(f->engine, &e->op), CAIRN_OK);
	assert_true(req_wait(e, 5000));
	assert_int_equal(e->op.status, CAIRN_UNAVAILABLE);
	assert_non_null(strstr(e->op.msg, "nothing was changed"));
	req_free(e);
	/* The store comes back: so does the service. */
	atomic_store(&spy_begin_fails, false);
	e = enqueue_req("q", "y");
	assert_int_equal(engine_submit(f->engine, &e->op), CAIRN_OK);
	assert_true(req_wait(e, 5000));
	assert_int_equal(e->op.status, CAIRN_OK);
	req_free(e);
}

static void
submit_after_stop_is_refused(void **state)
{
	struct fx *f = *state;
	struct req *e = enqueue_req("q", "x");

	engine_stop(f->engine);
	assert_int_equal(engine_submit(f->engine, &e->op), CAIRN_UNAVAILABLE);
	assert_false(e->done);
	req_free(e);
}

/* Every kind of op has a class the engine can use: an apply, and what a
 * long-poll needs when it may wait; nothing past the last kind. */
static void
every_kind_has_its_class(void **state)
{
	(void) state;
	for (int k = 0; k < OP_KIND_COUNT_; k++) {
		const struct engine_op_class *c = engine_op_class(k);
		assert_non_null(c);
		assert_non_null(c->apply);
		if (c->park != ENGINE_PARK_NEVER) {
			assert_non_null(c->wait_ms);
			assert_non_null(c->found);
		}
		if (c->park == ENGINE_PARK_DUE) {
			assert_non_null(c->reads); /* names its queues */
		}
	}
	assert_null(engine_op_class(OP_KIND_COUNT_));
	assert_int_equal(engine_op_class(OP_LEASE)->park, ENGINE_PARK_DUE);
	assert_int_equal(
	    engine_op_class(OP_AWAIT)->park, ENGINE_PARK_TERMINAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_kind_has_its_class),
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(group_commit_shares_commits),
		T(storage_fault_spoils_only_its_request),
		T(parked_lease_wakes_on_enqueue),
		T(parked_lease_answers_empty_when_wait_ends),
		T(delayed_task_wakes_parked_lease_when_due),
		T(await_wakes_on_completion),
		T(unreachable_store_changes_nothing_and_says_so),
		T(submit_after_stop_is_refused),
#undef T
	};
	return (cmocka_run_group_tests_name("engine", tests, NULL, NULL));
}
