/*
 * bind_test.c - the engine's table of leases bound to their connection
 * (engine/bind.c), fed the ops the engine commits: many leases bound,
 * some ended, the connection closed, a heartbeat from another connection
 * keeping one, and the releases due after the grace period naming exactly
 * the leases still bound to the closed connection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/internal.h"

#define N     600
#define GRACE 1000

static struct task tasks[N + 1];
static struct task *ptrs[N + 1];

static void
token_of(uint64_t id, char *buf)
{
	snprintf(buf, TASK_TOKEN_LEN + 1, "%032llx", (unsigned long long) id);
}

/* lease_by notes a committed Lease on conn of task id (0: it found
 * none) by worker. */
static void
lease_by(struct engine_binds *bs, const char *worker, uint32_t conn,
    uint64_t id, int64_t now)
{
	struct engine_op op
	    = { .kind = OP_LEASE, .conn = conn, .bind_conn = true };

	op.in.lease.req.worker_id = worker;
	if (id != 0) {
		tasks[id].id = id;
		token_of(id, tasks[id].lease_token);
		ptrs[id] = &tasks[id];
		op.out.tasks.tasks = &ptrs[id];
		op.out.tasks.n = 1;
	}
	engine_binds_note(bs, &op, now);
}

/* lease notes a committed Lease on conn of task id. */
static void
lease(struct engine_binds *bs, uint32_t conn, uint64_t id, int64_t now)
{
	struct engine_op op
	    = { .kind = OP_LEASE, .conn = conn, .bind_conn = true };

	tasks[id].id = id;
	token_of(id, tasks[id].lease_token);
	ptrs[id] = &tasks[id];
	op.out.tasks.tasks = &ptrs[id];
	op.out.tasks.n = 1;
	engine_binds_note(bs, &op, now);
}

static void
complete(struct engine_binds *bs, uint64_t id, const char *token)
{
	struct engine_op op = { .kind = OP_COMPLETE, .conn = 7 };

	op.in.touch.id = id;
	op.in.touch.token = token;
	engine_binds_note(bs, &op, 0);
}

static void
heartbeat(struct engine_binds *bs, uint32_t conn, uint64_t id, int64_t now)
{
	struct engine_op op = { .kind = OP_HEARTBEAT, .conn = conn };
	char token[TASK_TOKEN_LEN + 1];

	token_of(id, token);
	op.in.touch.id = id;
	op.in.touch.token = token;
	engine_binds_note(bs, &op, now);
}

/* due takes the releases due at now and marks their ids in seen. */
static size_t
due(struct engine_binds *bs, int64_t now, bool *seen)
{
	struct engine_list l = { 0 };
	size_t n = 0;
	char token[TASK_TOKEN_LEN + 1];

	engine_binds_due(bs, now, &l);
	for (struct engine_op *op = engine_list_take(&l); op != NULL;) {
		struct engine_op *next = op->next;
		assert_int_equal(op->kind, OP_RELEASE);
		assert_true(op->in.release.disconnected);
		token_of(op->in.release.id, token);
		assert_string_equal(op->in.release.token, token);
		assert_false(seen[op->in.release.id]);
		seen[op->in.release.id] = true;
		n++;
		op->done(op); /* frees it */
		op = next;
	}
	return (n);
}

static void
releases_name_exactly_the_leases_still_bound(void **state)
{
	struct engine_binds bs
	    = { .grace_ms = GRACE, .next_release = TASK_TIME_NEVER };
	bool want[N + 1] = { false }, seen[N + 1] = { false };
	char token[TASK_TOKEN_LEN + 1];
	size_t nwant = 0;

	(void) state;
	/* Leases spread over three connections, the table growing. */
	for (uint64_t id = 1; id <= N; id++) {
		lease(&bs, 1 + (uint32_t) (id % 3), id, 0);
	}
	assert_int_equal(bs.n, N);
	/* Every fifth ends (its slot emptied, the probe chains moved up);
	 * a completion with another token changes nothing. */
	for (uint64_t id = 5; id <= N; id += 5) {
		token_of(id, token);
		complete(&bs, id, token);
	}
	complete(&bs, 1, "0000000000000000000000000000dead");
	assert_int_equal(bs.n, N - N / 5);
	/* Connection 2 closes; before it, heartbeats change nothing. */
	heartbeat(&bs, 9, 4, 500);
	engine_binds_close(&bs, 2, 1000);
	assert_true(engine_binds_closed(&bs, 2));
	assert_false(engine_binds_closed(&bs, 1));
	assert_int_equal(due(&bs, 1000 + GRACE - 1, seen), 0);
	/* Within the grace period a worker heartbeats task 4 from a new
	 * connection: bound to that one, it stays. */
	heartbeat(&bs, 9, 4, 1500);
	for (uint64_t id = 1; id <= N; id++) {
		if (id % 3 == 1 && id % 5 != 0 && id != 4) {
			want[id] = true;
			nwant++;
		}
	}
	assert_int_equal(due(&bs, 1000 + GRACE, seen), nwant);
	assert_memory_equal(want, seen, sizeof(want));
	assert_int_equal(bs.n, N - N / 5 - nwant);
	/* A lease committed after its connection closed is due at once
	 * plus the grace period. */
	memset(seen, 0, sizeof(seen));
	lease(&bs, 2, 2, 3000);
	assert_int_equal(due(&bs, 3000 + GRACE, seen), 1);
	assert_true(seen[2]);
	/* Nothing else was due: connections 1, 3 and 9 are open. */
	assert_int_equal(due(&bs, 1000000, seen), 0);
	engine_binds_free(&bs);
}

/* A worker whose connection blinked leases again from a new one, with
 * its worker id: its leases waiting for release are bound to the new
 * connection; another worker's lease rescues nothing. */
static void
a_worker_that_leases_again_keeps_its_leases(void **state)
{
	struct engine_binds bs
	    = { .grace_ms = GRACE, .next_release = TASK_TIME_NEVER };
	bool seen[N + 1] = { false };

	(void) state;
	lease_by(&bs, "w1", 5, 10, 0);
	lease_by(&bs, "w1", 5, 11, 0);
	lease_by(&bs, "w2", 5, 12, 0);
	engine_binds_close(&bs, 5, 100);
	assert_int_equal(bs.pending, 3);
	lease_by(&bs, "w3", 6, 0, 200); /* someone else: nothing */
	lease_by(&bs, "w1", 6, 0, 200); /* found nothing, but is back */
	assert_int_equal(bs.pending, 1);
	assert_int_equal(due(&bs, 100 + GRACE, seen), 1);
	assert_true(seen[12]);
	/* Bound to connection 6 now. */
	engine_binds_close(&bs, 6, 5000);
	assert_int_equal(due(&bs, 5000 + GRACE, seen), 2);
	assert_true(seen[10] && seen[11]);
	assert_int_equal(bs.n, 0);
	assert_int_equal(bs.pending, 0);
	engine_binds_free(&bs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(releases_name_exactly_the_leases_still_bound),
		cmocka_unit_test(a_worker_that_leases_again_keeps_its_leases),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
