/*
 * plan_test.c - the statements on the path of every request use their
 * indexes: EXPLAIN QUERY PLAN of each, on a store with tasks in every
 * state, must show no full scan of a table and (for the picks) no sort,
 * so that the cost of a lease does not grow with the backlog. It prints
 * the plans; docs/BENCHMARKS.md quotes them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lifecycle/lifecycle.h"
#include "lifecycle/workflow.h"
#include "store/sqlite/sqlite.h"

#define NOW 1700000000000LL

static const struct {
	enum sq_stmt which;
	const char *name;
	bool ordered; /* must come out of an index in order */
} hot[] = {
	{ SQ_INSERT, "insert", false },
	{ SQ_FIND_KEY, "find_key", false },
	{ SQ_LOAD, "load", false },
	{ SQ_SAVE, "save", false },
	{ SQ_ADD_EVENT, "add_event", false },
	{ SQ_PICK_DUE, "pick_due", true },
	{ SQ_PICK_EXPIRED, "pick_expired", true },
	{ SQ_NEXT_DUE, "next_due", false },
	{ SQ_NEXT_DEADLINE, "next_deadline", false },
	{ SQ_PRUNE_PICK, "prune_pick", false },
	{ SQ_REQUEST_GET, "request_get", false },
	{ SQ_REQUEST_PRUNE, "request_prune", true },
};

/* The workflow statements, but the metrics count of runs by type and
 * state, which reads an index whole by design (like the tasks' stats). */
static const struct {
	enum sqw_stmt which;
	const char *name;
	bool ordered;
} hot_wf[] = {
	{ SQW_INSERT, "wf_insert", false },
	{ SQW_FIND, "wf_find", false },
	{ SQW_LOAD, "wf_load", false },
	{ SQW_SAVE, "wf_save", false },
	{ SQW_PICK_READY, "wf_pick_ready", true },
	{ SQW_PICK_EXPIRED, "wf_pick_expired", true },
	{ SQW_NEXT_WAKEUP, "wf_next_wakeup", false },
	{ SQW_ENTRY_INSERT, "wf_entry_insert", false },
	{ SQW_ENTRY_LOAD, "wf_entry_load", false },
	{ SQW_ENTRY_SAVE, "wf_entry_save", false },
	{ SQW_ENTRIES, "wf_entries", true },
	{ SQW_ENTRIES_DELTA, "wf_entries_delta", false },
	{ SQW_ENTRIES_PENDING, "wf_entries_pending", false },
	{ SQW_HISTORY, "wf_history", true },
	{ SQW_PICK_FIRED, "wf_pick_fired", true },
	{ SQW_FIND_WAIT, "wf_find_wait", true },
	{ SQW_INBOX_PUT, "wf_inbox_put", false },
	{ SQW_INBOX_PEEK, "wf_inbox_peek", true },
	{ SQW_INBOX_DELETE, "wf_inbox_delete", false },
	{ SQW_LIST_ANY, "wf_list_any", true },
	{ SQW_LIST_TYPE, "wf_list_type", true },
	{ SQW_LIST_STATE, "wf_list_state", true },
	{ SQW_LIST_STUCK, "wf_list_stuck", true },
	{ SQW_PRUNE_PICK, "wf_prune_pick", false },
	{ SQW_PRUNE_ENTRIES, "wf_prune_entries", false },
	{ SQW_PRUNE_INBOX, "wf_prune_inbox", false },
	{ SQW_PRUNE_RUN, "wf_prune_run", false },
	{ SQW_ANY, "wf_any", false },
};

/* fill_runs makes runs that wait, with entries of every kind. */
static void
fill_runs(struct store *s)
{
	char msg[LC_MSG_MAX], wid[32];
	const char *q[1] = { "wf" };
	struct wf_lease_request req = { .queues = q, .nqueues = 1 };
	struct wf_command cmds[3] = {
		{ .kind = WF_TIMER, .duration_ms = 1000 },
		{ .kind = WF_SIGNAL, .name = "go", .duration_ms = 500 },
		{ .kind = WF_STEP, .name = "s", .status = WF_COMPLETED },
	};

	assert_int_equal(store_begin(s), CAIRN_OK);
	for (int i = 0; i < 50; i++) {
		struct wf_start st = { .workflow_id = wid,
			.type = i % 2 ? "a" : "b",
			.queue = "wf" };
		struct wf_leased l;
		struct wf_advanced out;
		uint64_t id;
		bool created;
		snprintf(wid, sizeof(wid), "w%d", i);
		assert_int_equal(
		    lifecycle_wf_start(s, &st, NULL, NOW, &id, &created, msg),
		    CAIRN_OK);
		assert_int_equal(
		    lifecycle_wf_lease(s, &req, NULL, NOW, &l, msg), CAIRN_OK);
		struct wf_advance a = { .run_id = l.run.id,
			.token = l.run.lease_token,
			.expected_seq = 1,
			.commands = cmds,
			.n = 3 };
		assert_int_equal(
		    lifecycle_wf_advance(s, &a, NULL, NOW, &out, msg),
		    CAIRN_OK);
		wf_advanced_clear(&out);
		wf_leased_clear(&l);
	}
	assert_int_equal(store_commit(s), CAIRN_OK);
}

/* fill makes tasks in every state the lease path meets. */
static void
fill(struct store *s)
{
	struct task_spec specs[200];
	uint64_t ids[200];
	bool created[200];
	char msg[LC_MSG_MAX];
	const char *q[1] = { "plan" };
	struct lease_request req
	    = { .queues = q, .nqueues = 1, .max_tasks = 50 };
	struct task **tasks;
	size_t n;

	memset(specs, 0, sizeof(specs));
	for (int i = 0; i < 200; i++) {
		specs[i].queue = "plan";
		specs[i].payload = (const uint8_t *) "x";
		specs[i].payload_len = 1;
	}
	assert_int_equal(store_begin(s), CAIRN_OK);
	assert_int_equal(
	    lifecycle_enqueue(s, specs, 200, NOW, ids, created, msg),
	    CAIRN_OK);
	assert_int_equal(
	    lifecycle_lease(s, &req, NOW, &tasks, &n, msg), CAIRN_OK);
	for (size_t i = 0; i < n / 2; i++) {
		assert_int_equal(lifecycle_complete(s, tasks[i]->id,
		                     tasks[i]->lease_token, NULL, 0, NOW, msg),
		    CAIRN_OK);
	}
	task_array_free(tasks, n);
	assert_int_equal(store_commit(s), CAIRN_OK);
}

/* check_plan prints the plan of one statement and checks it. */
static void
check_plan(sqlite3 *db, const char *name, const char *sql, bool ordered)
{
	char *eqp = NULL;
	sqlite3_stmt *st;
	bool bad = false;

	assert_int_not_equal(asprintf(&eqp, "EXPLAIN QUERY PLAN %s", sql), -1);
	assert_int_equal(
	    sqlite3_prepare_v2(db, eqp, -1, &st, NULL), SQLITE_OK);
	printf("%s:\n", name);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *d = (const char *) sqlite3_column_text(st, 3);
		printf("    %s\n", d);
		/* "SCAN t" alone reads the whole table; "SCAN t USING INDEX"
		 * walks an index in order and stops at its LIMIT. */
		if (strncmp(d, "SCAN ", 5) == 0
		    && strstr(d, "INDEX") == NULL) {
			bad = true;
		}
		if (ordered && strstr(d, "TEMP B-TREE") != NULL) {
			bad = true;
		}
	}
	sqlite3_finalize(st);
	free(eqp);
	if (bad) {
		fail_msg("%s: the plan scans a table or sorts", name);
	}
}

static void
test_hot_statements_use_indexes(void **state)
{
	char dir[] = "/tmp/cairn-plan-XXXXXX", uri[64], err[256];
	struct store *s;

	(void) state;
	assert_non_null(mkdtemp(dir));
	snprintf(uri, sizeof(uri), "sqlite:%s/db", dir);
	assert_int_equal(
	    store_open(uri, NULL, &s, err, sizeof(err)), CAIRN_OK);
	fill(s);
	fill_runs(s);
	for (size_t i = 0; i < sizeof(hot) / sizeof(hot[0]); i++) {
		check_plan(((struct store_sqlite *) s)->db, hot[i].name,
		    sq_sql[hot[i].which], hot[i].ordered);
	}
	for (size_t i = 0; i < sizeof(hot_wf) / sizeof(hot_wf[0]); i++) {
		check_plan(((struct store_sqlite *) s)->db, hot_wf[i].name,
		    sqw_sql[hot_wf[i].which], hot_wf[i].ordered);
	}
	store_close(s);
	char path[128];
	const char *files[] = { "db", "db-wal", "db-shm" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hot_statements_use_indexes),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
