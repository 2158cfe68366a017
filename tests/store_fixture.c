/*
 * store_fixture.c - the storage contract suite's fixture: a fresh store
 * per test (CAIRN_TEST_STORE names the backend; default a new SQLite file,
 * a PostgreSQL URI gets a new schema), and one-call helpers that run a
 * lifecycle operation in its own transaction at a given time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store_fixture.h"

static int seq;

int
fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *uri = getenv("CAIRN_TEST_STORE");
	struct store_options o = { .sync = STORE_SYNC_FULL };
	char err[256], buf[300];

	seq++;
	if (uri == NULL || uri[0] == 0 || strncmp(uri, "sqlite:", 7) == 0) {
		snprintf(f->path, sizeof(f->path),
		    "%s/cairn-store-test-%d-%d.db",
		    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", getpid(),
		    seq);
		snprintf(buf, sizeof(buf), "sqlite:%s", f->path);
		uri = buf;
	} else {
		snprintf(f->schema, sizeof(f->schema), "contract_%d_%d",
		    getpid(), seq);
		o.schema = f->schema;
	}
	if (store_open(uri, &o, &f->s, err, sizeof(err)) != CAIRN_OK) {
		fail_msg("cannot open %s: %s", uri, err);
	}
	*state = f;
	return (0);
}

int
fx_teardown(void **state)
{
	struct fx *f = *state;
	char p[300];

	store_close(f->s);
	if (f->path[0] != 0) {
		unlink(f->path);
		snprintf(p, sizeof(p), "%s-wal", f->path);
		unlink(p);
		snprintf(p, sizeof(p), "%s-shm", f->path);
		unlink(p);
	}
	free(f);
	return (0);
}

/* ---- helpers: each runs one operation in its own transaction ---- */

void
fx_begin(struct fx *f)
{
	assert_int_equal(store_begin(f->s), CAIRN_OK);
}

void
fx_commit(struct fx *f)
{
	assert_int_equal(store_commit(f->s), CAIRN_OK);
}

struct task_spec
fx_spec(const char *queue, const char *payload)
{
	return ((struct task_spec) {
	    .queue = queue,
	    .payload = (const uint8_t *) payload,
	    .payload_len = payload ? strlen(payload) : 0,
	});
}

uint64_t
fx_enqueue_spec(struct fx *f, struct task_spec sp, int64_t now, bool *created)
{
	uint64_t id = 0;
	bool c = false;

	fx_begin(f);
	assert_int_equal(
	    lifecycle_enqueue(f->s, &sp, 1, now, &id, &c, f->msg), CAIRN_OK);
	fx_commit(f);
	if (created != NULL) {
		*created = c;
	}
	return (id);
}

uint64_t
fx_enqueue(struct fx *f, const char *queue, int64_t now)
{
	return (fx_enqueue_spec(f, fx_spec(queue, "p"), now, NULL));
}

/* lease_n leases up to max from one queue; returns how many, tasks in
 * *out (caller frees). */
size_t
fx_lease_in(struct fx *f, const char *queue, uint32_t max, int64_t now,
    const char *worker, struct task ***out)
{
	const char *qs[] = { queue };
	struct lease_request r = { .queues = qs,
		.nqueues = 1,
		.max_tasks = max,
		.worker_id = worker };
	size_t n = 0;

	assert_int_equal(
	    lifecycle_lease(f->s, &r, now, out, &n, f->msg), CAIRN_OK);
	return (n);
}

size_t
fx_lease_n(struct fx *f, const char *queue, uint32_t max, int64_t now,
    struct task ***out)
{
	fx_begin(f);
	size_t n = fx_lease_in(f, queue, max, now, "w1", out);
	fx_commit(f);
	return (n);
}

/* lease_one leases exactly one task and returns it. */
struct task *
fx_lease_one(struct fx *f, const char *queue, int64_t now)
{
	struct task **ts = NULL;
	assert_int_equal(fx_lease_n(f, queue, 1, now, &ts), 1);
	struct task *t = ts[0];
	free(ts);
	return (t);
}

struct task *
fx_get(struct fx *f, uint64_t id)
{
	struct task *t = NULL;

	fx_begin(f);
	assert_int_equal(store_get(f->s, id, &t), CAIRN_OK);
	fx_commit(f);
	return (t);
}

int
fx_complete(struct fx *f, uint64_t id, const char *token, const char *result,
    int64_t now)
{
	fx_begin(f);
	int rv = lifecycle_complete(f->s, id, token, (const uint8_t *) result,
	    result ? strlen(result) : 0, now, f->msg);
	fx_commit(f);
	return (rv);
}

int
fx_heartbeat(struct fx *f, uint64_t id, const char *token, const char *details,
    int64_t now, bool *cancel, int64_t *deadline)
{
	bool c;
	int64_t d;

	fx_begin(f);
	int rv
	    = lifecycle_heartbeat(f->s, id, token, (const uint8_t *) details,
	        details ? strlen(details) : 0, now, &c, &d, f->msg);
	fx_commit(f);
	if (rv == CAIRN_OK && cancel != NULL) {
		*cancel = c;
	}
	if (rv == CAIRN_OK && deadline != NULL) {
		*deadline = d;
	}
	return (rv);
}

int
fx_fail_task(struct fx *f, uint64_t id, const char *token, bool non_retryable,
    int64_t delay, int64_t now, cairn_state *state, int64_t *run_at)
{
	struct fail_request r = { .id = id,
		.token = token,
		.error = "boom",
		.non_retryable = non_retryable,
		.retry_delay_ms = delay };
	cairn_state st = 0;
	int64_t ra = 0;

	fx_begin(f);
	int rv = lifecycle_fail(f->s, &r, now, &st, &ra, f->msg);
	fx_commit(f);
	if (state) {
		*state = st;
	}
	if (run_at) {
		*run_at = ra;
	}
	return (rv);
}

size_t
fx_expire(struct fx *f, int64_t now)
{
	size_t n = 0;

	fx_begin(f);
	assert_int_equal(
	    lifecycle_expire(f->s, now, 1000, &n, f->msg), CAIRN_OK);
	fx_commit(f);
	return (n);
}

cairn_state
fx_state_of(struct fx *f, uint64_t id)
{
	struct task *t = fx_get(f, id);
	cairn_state s = t->state;
	task_free(t);
	return (s);
}

uint64_t
fx_wf_start(struct fx *f, const char *type, const char *queue, int64_t now)
{
	struct wf_start st = { .type = type,
		.queue = queue,
		.input = (const uint8_t *) "in",
		.input_len = 2 };
	uint64_t id;
	bool created;

	fx_begin(f);
	assert_int_equal(
	    lifecycle_wf_start(f->s, &st, NULL, now, &id, &created, f->msg),
	    CAIRN_OK);
	fx_commit(f);
	return (id);
}

uint64_t
fx_wf_lease(struct fx *f, const char *queue, int64_t now,
    char token[TASK_TOKEN_LEN + 1])
{
	const char *queues[] = { queue };
	struct wf_lease_request req
	    = { .queues = queues, .nqueues = 1, .lease_timeout_ms = 30000 };
	struct wf_leased l;

	fx_begin(f);
	assert_int_equal(
	    lifecycle_wf_lease(f->s, &req, NULL, now, &l, f->msg), CAIRN_OK);
	fx_commit(f);
	uint64_t id = l.run.id;
	snprintf(token, TASK_TOKEN_LEN + 1, "%s", l.run.lease_token);
	wf_leased_clear(&l);
	return (id);
}

void
fx_wf_advance(struct fx *f, uint64_t run, const char *token, uint32_t expected,
    struct wf_command *cmds, size_t n, int finish, int64_t now)
{
	struct wf_advance a = { .run_id = run,
		.token = token,
		.expected_seq = expected,
		.commands = cmds,
		.n = n,
		.finish = finish };
	struct wf_advanced out;

	fx_begin(f);
	assert_int_equal(
	    lifecycle_wf_advance(f->s, &a, NULL, now, &out, f->msg), CAIRN_OK);
	fx_commit(f);
	wf_advanced_clear(&out);
}
