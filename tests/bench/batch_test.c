/*
 * batch_test.c - end to end, the rpcs that do more per request:
 * CompleteBatch and HeartbeatBatch (one result per item, a lost lease
 * refused alone) and Complete with lease_next (the next task of the same
 * queue, or none).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "cairn.h"
#include "harness.h"

struct fx {
	struct server srv;
	cairn_client *c;
};

static int
setup(void **state)
{
	static struct fx f;

	memset(&f, 0, sizeof(f));
	if (server_start(&f.srv, NULL) != 0
	    || cairn_client_open(&f.c, f.srv.url, NULL, NULL, 0) != CAIRN_OK) {
		server_cleanup(&f.srv);
		return (-1);
	}
	*state = &f;
	return (0);
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	cairn_client_close(f->c);
	server_stop(&f->srv);
	server_cleanup(&f->srv);
	return (0);
}

static void
enqueue(cairn_client *c, const char *queue, size_t n)
{
	cairn_task_spec specs[8];
	cairn_enqueue_result res[8];

	memset(specs, 0, sizeof(specs));
	for (size_t i = 0; i < n; i++) {
		specs[i].queue = queue;
		specs[i].payload = "p";
		specs[i].payload_len = 1;
	}
	assert_int_equal(cairn_enqueue(c, specs, n, res), CAIRN_OK);
}

static size_t
lease(cairn_client *c, const char *queue, uint32_t max, cairn_task ***tasks)
{
	const char *q[1] = { queue };
	cairn_lease_options lo = { .max_tasks = max };
	size_t n = 0;

	assert_int_equal(cairn_lease(c, q, 1, &lo, tasks, &n), CAIRN_OK);
	return (n);
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

static void
test_complete_batch(void **state)
{
	struct fx *f = *state;
	cairn_task **tasks;
	cairn_completion items[3];
	int statuses[3];

	enqueue(f->c, "cb", 3);
	assert_int_equal(lease(f->c, "cb", 3, &tasks), 3);
	for (int i = 0; i < 3; i++) {
		items[i] = (cairn_completion) { .id = tasks[i]->id,
			.lease_token = tasks[i]->lease_token,
			.result = "r",
			.result_len = 1 };
	}
	items[1].lease_token = "not-the-token";
	assert_int_equal(
	    cairn_complete_batch(f->c, items, 3, statuses), CAIRN_OK);
	assert_int_equal(statuses[0], CAIRN_OK);
	assert_int_equal(statuses[1], CAIRN_FAILED_PRECONDITION);
	assert_int_equal(statuses[2], CAIRN_OK);
	assert_non_null(strstr(cairn_client_errmsg(f->c), "lease lost"));
	assert_int_equal(state_of(f->c, tasks[0]->id), CAIRN_SUCCEEDED);
	assert_int_equal(state_of(f->c, tasks[1]->id), CAIRN_ACTIVE);
	assert_int_equal(state_of(f->c, tasks[2]->id), CAIRN_SUCCEEDED);

	/* Repeating a completion that took effect answers OK. */
	assert_int_equal(
	    cairn_complete_batch(f->c, items, 1, statuses), CAIRN_OK);
	assert_int_equal(statuses[0], CAIRN_OK);
	cairn_tasks_free(tasks, 3);
}

static void
test_complete_batch_refuses_bad_items(void **state)
{
	struct fx *f = *state;
	cairn_completion item = { .id = 0, .lease_token = "t" };
	int status;

	assert_int_equal(cairn_complete_batch(f->c, &item, 1, &status),
	    CAIRN_INVALID_ARGUMENT);
	assert_non_null(strstr(cairn_client_errmsg(f->c), "tasks[0].id"));
}

static void
test_heartbeat_batch(void **state)
{
	struct fx *f = *state;
	cairn_task **tasks;
	cairn_heartbeat_item items[2];

	enqueue(f->c, "hb", 2);
	assert_int_equal(lease(f->c, "hb", 2, &tasks), 2);
	memset(items, 0, sizeof(items));
	items[0].id = tasks[0]->id;
	items[0].lease_token = tasks[0]->lease_token;
	items[0].details = "half";
	items[0].details_len = 4;
	items[1].id = tasks[1]->id;
	items[1].lease_token = "stale";
	assert_int_equal(cairn_heartbeat_batch(f->c, items, 2), CAIRN_OK);
	assert_int_equal(items[0].status, CAIRN_OK);
	assert_true(items[0].deadline_ms > 0);
	assert_false(items[0].cancel_requested);
	assert_int_equal(items[1].status, CAIRN_FAILED_PRECONDITION);

	cairn_task *t;
	assert_int_equal(cairn_get(f->c, tasks[0]->id, &t), CAIRN_OK);
	assert_int_equal(t->details_len, 4);
	assert_memory_equal(t->details, "half", 4);
	cairn_task_free(t);
	cairn_tasks_free(tasks, 2);
}

static void
test_complete_next(void **state)
{
	struct fx *f = *state;
	cairn_task **tasks, *next = NULL, *last = NULL;

	enqueue(f->c, "cn", 2);
	assert_int_equal(lease(f->c, "cn", 1, &tasks), 1);
	assert_int_equal(cairn_complete_next(f->c, tasks[0]->id,
	                     tasks[0]->lease_token, "a", 1, NULL, &next),
	    CAIRN_OK);
	assert_int_equal(state_of(f->c, tasks[0]->id), CAIRN_SUCCEEDED);
	assert_non_null(next);
	assert_int_not_equal(next->id, tasks[0]->id);
	assert_non_null(next->lease_token);
	assert_int_equal(next->state, CAIRN_ACTIVE);
	assert_int_equal(next->attempt, 1);
	assert_int_equal(state_of(f->c, next->id), CAIRN_ACTIVE);

	/* The queue is empty now: the last completion leases nothing. */
	assert_int_equal(cairn_complete_next(f->c, next->id, next->lease_token,
	                     NULL, 0, NULL, &last),
	    CAIRN_OK);
	assert_null(last);
	assert_int_equal(state_of(f->c, next->id), CAIRN_SUCCEEDED);

	/* A lost lease is refused, and leases nothing. */
	assert_int_equal(
	    cairn_complete_next(f->c, next->id, "stale", NULL, 0, NULL, &last),
	    CAIRN_FAILED_PRECONDITION);
	cairn_task_free(next);
	cairn_tasks_free(tasks, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_complete_batch),
		cmocka_unit_test(test_complete_batch_refuses_bad_items),
		cmocka_unit_test(test_heartbeat_batch),
		cmocka_unit_test(test_complete_next),
	};

	return (cmocka_run_group_tests(tests, setup, teardown));
}
