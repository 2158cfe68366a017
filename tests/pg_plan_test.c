/*
 * pg_plan_test.c - no statement that the PostgreSQL backend prepares reads
 * a whole table or a whole index, on the backend's own connection, once
 * tasks, events and requests hold 5,000 rows each and are analyzed:
 * (and the workflow tables 5,010 runs, 16,000 log entries and 5,000 signals
 * waiting in inboxes, most runs finished, as retention keeps them):
 * - EXPLAIN EXECUTE of every statement shows no sequential scan. The test
 *   lets the planner choose scans (the backend's connection runs without
 *   them, so that plans cached while the tables were small cannot scan
 *   them once they have grown: pg_prefetch_test), so a statement that no
 *   index serves shows one here;
 * - the statements that find rows by a condition, run with EXPLAIN
 *   (ANALYZE, BUFFERS) in a transaction rolled back, touch at most
 *   MAX_PAGES pages: an index of the wrong shape, read whole, touches
 *   more (dropping the deadline index makes the pick of expired leases
 *   read 22).
 *
 * Run against the cluster of scripts/pg-test-cluster.sh (CAIRN_TEST_STORE).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "store_fixture.h"
#include "store/postgres/postgres.h"

/* Pages (hit or read) that a statement which finds rows by a condition
 * may touch, with 5,000 rows in each table: its index's levels and the
 * rows it finds. */
#define MAX_PAGES 16

/* pages_of sums the pages hit and read on the first "Buffers:" line of
 * an EXPLAIN (ANALYZE, BUFFERS) plan: the top node's, its children's
 * included. */
static int
pages_of(const char *plan)
{
	const char *line = strstr(plan, "Buffers:");
	const char *end, *v;
	int pages = 0;

	assert_non_null(line);
	end = strchr(line, '\n');
	for (int k = 0; k < 2; k++) {
		const char *key = k == 0 ? "hit=" : "read=";
		v = strstr(line, key);
		if (v != NULL && (end == NULL || v < end)) {
			pages += atoi(v + strlen(key));
		}
	}
	return (pages);
}

/* dummy returns a literal of the named type, for EXPLAIN. */
static const char *
dummy(const char *type)
{
	static const struct {
		const char *type, *value;
	} values[] = {
		{ "bigint", "900000001" },
		{ "integer", "1" },
		{ "smallint", "1" },
		{ "double precision", "1.5" },
		{ "boolean", "false" },
		{ "text", "'q'" },
		{ "bytea", "'\\x00'::bytea" },
		{ "bigint[]", "'{1,2}'" },
		{ "text[]", "'{1,2}'" },
		{ "bytea[]", "'{}'::bytea[]" },
	};

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		if (strcmp(values[i].type, type) == 0) {
			return (values[i].value);
		}
	}
	fail_msg("no dummy value for a parameter of type %s", type);
	return (NULL);
}

/* explain returns the plan of prepared statement `name` (malloc'd), on
 * conn out of pipeline mode, with args ("(1, 'q')") or, when NULL, a
 * dummy value for each parameter. */
static char *
explain_with(PGconn *c, const char *name, const char *how, const char *args)
{
	char sql[2048];
	size_t len;
	PGresult *r;

	if (args != NULL) {
		snprintf(sql, sizeof(sql), "EXPLAIN %s EXECUTE %s%s", how,
		    name, args);
		goto run;
	}
	/* The parameter types, one per row. */
	snprintf(sql, sizeof(sql),
	    "SELECT format_type(t, NULL) FROM pg_prepared_statements, "
	    "unnest(parameter_types) AS t WHERE name = '%s'",
	    name);
	r = PQexec(c, sql);
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	len = (size_t) snprintf(
	    sql, sizeof(sql), "EXPLAIN %s EXECUTE %s", how, name);
	for (int i = 0; i < PQntuples(r); i++) {
		len += (size_t) snprintf(sql + len, sizeof(sql) - len, "%s%s",
		    i == 0 ? "(" : ", ", dummy(PQgetvalue(r, i, 0)));
	}
	if (PQntuples(r) > 0) {
		snprintf(sql + len, sizeof(sql) - len, ")");
	}
	PQclear(r);
run:
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	}
	char *plan = calloc(1, 8192);
	assert_non_null(plan);
	len = 0;
	for (int i = 0; i < PQntuples(r) && len < 8000; i++) {
		len += (size_t) snprintf(
		    plan + len, 8192 - len, "%s\n", PQgetvalue(r, i, 0));
	}
	PQclear(r);
	return (plan);
}

static char *
explain(PGconn *c, const char *name, const char *how)
{
	return (explain_with(c, name, how, NULL));
}

/* pages_run runs statement which with args (NULL: dummies) in a
 * transaction rolled back, and fails unless it touched at most MAX_PAGES
 * pages. */
static void
pages_run(PGconn *c, int which, const char *args)
{
	char name[32];

	snprintf(name, sizeof(name), "cairn_%d", which);
	PQclear(PQexec(c, "BEGIN"));
	char *plan = explain_with(
	    c, name, "(ANALYZE, BUFFERS, COSTS OFF, TIMING OFF)", args);
	PQclear(PQexec(c, "ROLLBACK"));
	int pages = pages_of(plan);
	if (pages > MAX_PAGES) {
		fail_msg("%s%s reads %d pages: %s\n%s", name,
		    args != NULL ? args : "", pages, pg_stmt_sql(which), plan);
	}
	free(plan);
}

/* fill_workflows gives the workflow tables rows in the proportions that
 * retention leaves: of 5,000 runs, 80% finished, 10% runnable, 10%
 * leased, 1% stuck; three entries each (two resolved, the third pending,
 * a timer for a running run); a signal waiting for each. */
static void
fill_workflows(PGconn *c)
{
	static const char *const sql[] = {
		"INSERT INTO wf_runs (workflow_id, type, queue, input, state, "
		"phase, ready_at, stuck, lease_deadline, created_at, "
		"updated_at, finished_at) SELECT 'w' || g, 't' || g % 3, "
		"'q' || g / 10 % 2, '\\x00', CASE WHEN g % 10 < 8 THEN 3 ELSE "
		"1 "
		"END, CASE g % 10 WHEN 8 THEN 1 WHEN 9 THEN 2 ELSE 0 END, "
		"1700000000000 + g, g % 100 = 8, CASE WHEN g % 10 = 9 THEN "
		"1700000030000 + g END, 1700000000000, 1700000000000, CASE "
		"WHEN g % 10 < 8 THEN 1700000000000 + g END FROM "
		"generate_series(1, 5000) AS g",
		"INSERT INTO wf_entries (run_id, seq, kind, name, input_hash, "
		"input, status, created_at, resolved_order, fire_at) SELECT "
		"r.id, s, 3, 'n', 0, '\\x00', CASE WHEN s < 3 OR r.state "
		"<> 1 THEN 2 ELSE 1 END, 1700000000000, CASE WHEN s < 3 THEN "
		"s ELSE 0 END, CASE WHEN s = 3 AND r.state = 1 THEN "
		"1700000005000 + r.id END FROM wf_runs r, "
		"generate_series(1, 3) AS s",
		/* The last ten, runnable, are of a type and a queue of their
		 * own: a list or pick of them that walks the wrong index
		 * reads all the others first. */
		"INSERT INTO wf_runs (workflow_id, type, queue, input, state, "
		"phase, ready_at, created_at, updated_at) SELECT 'r' || g, "
		"'rare', 'rare', '\\x00', 1, 1, 1700000009000 + g, "
		"1700000000000, 1700000000000 FROM generate_series(1, 10) AS "
		"g",
		/* Run 8 has a long log, all resolved after its timer. */
		"INSERT INTO wf_entries (run_id, seq, kind, name, input_hash, "
		"input, status, created_at, resolved_order) SELECT 8, s, 2, "
		"'a', 0, '\\x00', 2, 1700000000000, s FROM "
		"generate_series(4, 1003) AS s",
		"INSERT INTO wf_inbox (run_id, name, payload, at) SELECT id, "
		"'s', '\\x00', 0 FROM wf_runs",
	};

	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		PGresult *r = PQexec(c, sql[i]);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			fail_msg("%s: %s", sql[i], PQerrorMessage(c));
		}
		PQclear(r);
	}
}

static void
no_statement_reads_a_whole_table(void **state)
{
	struct fx *f = *state;
	PGconn *c = ((struct store_pg *) f->s)->conn;
	static struct task_spec sp[1000];
	static uint64_t ids[1000];
	static bool created[1000];
	char name[32];

	for (int i = 0; i < 1000; i++) {
		sp[i] = fx_spec(i % 2 ? "a" : "b", "x");
	}
	for (int round = 0; round < 5; round++) {
		fx_begin(f);
		assert_int_equal(lifecycle_enqueue(
		                     f->s, sp, 1000, T0, ids, created, f->msg),
		    CAIRN_OK);
		for (int i = 0; i < 1000; i++) {
			snprintf(name, sizeof(name), "E:%d.%d", round, i);
			assert_int_equal(store_request_put(f->s, name, T0,
			                     (const uint8_t *) "5:1", 3),
			    CAIRN_OK);
		}
		fx_commit(f);
	}
	assert_int_equal(PQexitPipelineMode(c), 1);
	fill_workflows(c);
	PQclear(PQexec(c,
	    "ANALYZE tasks, events, requests, wf_runs, wf_entries, "
	    "wf_inbox"));
	PQclear(PQexec(c, "SET enable_seqscan = on"));
	for (int i = 0; i < PGW_END_; i++) {
		snprintf(name, sizeof(name), "cairn_%d", i);
		if (i == PGW_STATS) {
			continue; /* below */
		}
		char *plan = explain(c, name, "");
		if (strstr(plan, "Seq Scan") != NULL) {
			fail_msg("%s scans a table: %s\n%s", name,
			    pg_stmt_sql(i), plan);
		}
		free(plan);
	}
	/* The metrics count every run by type and state, as the tasks'
	 * stats count every task: on the server's connection (without
	 * sequential scans) from an index made for them, alone. */
	PQclear(PQexec(c, "SET enable_seqscan = off"));
	snprintf(name, sizeof(name), "cairn_%d", PGW_STATS);
	char *counts = explain(c, name, "");
	if (strstr(counts, "Index Only Scan") == NULL) {
		fail_msg("%s is not read from an index alone: %s\n%s", name,
		    pg_stmt_sql(PGW_STATS), counts);
	}
	free(counts);
	PQclear(PQexec(c, "SET enable_seqscan = on"));
	/* The statements that find rows by a condition, run (in a
	 * transaction rolled back): each reads a few pages of tables of
	 * 5,000 rows. An index of the wrong shape, read whole, reads more. */
	static const int finders[] = { PG_FIND_KEY, PG_LOAD, PG_GET, PG_SAVE,
		PG_PICK_DUE, PG_PICK_EXPIRED, PG_NEXT_WAKEUP, PG_LIST_ANY,
		PG_LIST_STATE, PG_STATS_DUE, PG_HISTORY, PG_PRUNE,
		PG_REQUEST_GET, PG_REQUEST_PRUNE, PG_LOAD_MANY,
		PG_REQUEST_GET_MANY, PGW_FIND, PGW_LOAD, PGW_SAVE,
		PGW_PICK_READY, PGW_PICK_EXPIRED, PGW_ENTRY_LOAD,
		PGW_ENTRY_SAVE, PGW_ENTRIES, PGW_ENTRIES_DELTA,
		PGW_ENTRIES_PENDING, PGW_HISTORY, PGW_PICK_FIRED,
		PGW_FIND_WAIT, PGW_INBOX_TAKE, PGW_LIST_ANY, PGW_LIST_TYPE,
		PGW_LIST_STATE, PGW_LIST_STUCK, PGW_LIST_QUEUE, PGW_PRUNE };
	for (size_t i = 0; i < sizeof(finders) / sizeof(finders[0]); i++) {
		pages_run(c, finders[i], NULL);
	}
	/* The dummies find nothing; the workflow finders again, with
	 * values that find rows (run 8 is runnable, in queue q0, its third
	 * entry a pending timer, then a thousand entries resolved; all is
	 * due at 1800000000000). */
	static const struct {
		int which;
		const char *args;
	} real[] = {
		{ PGW_FIND, "('w8')" },
		{ PGW_LOAD, "(8)" },
		{ PGW_PICK_READY, "('q0', 1800000000000, 1)" },
		{ PGW_PICK_READY, "('rare', 1800000000000, 1)" },
		{ PGW_PICK_EXPIRED, "(1800000000000, 1)" },
		{ PGW_PICK_FIRED, "(1800000000000, 1)" },
		{ PGW_ENTRIES, "(8, 0, 10)" },
		{ PGW_ENTRIES_DELTA, "(8, 1003, 1002, NULL)" },
		{ PGW_ENTRIES_PENDING, "(8, 0, NULL)" },
		{ PGW_HISTORY, "(8, 990, 10)" },
		{ PGW_INBOX_TAKE, "(8, 's')" },
		{ PGW_LIST_ANY, "(0, 10, NULL, 0, NULL, false)" },
		{ PGW_LIST_TYPE, "(0, 10, 't1', 0, NULL, false)" },
		{ PGW_LIST_TYPE, "(0, 10, 'rare', 0, NULL, false)" },
		{ PGW_LIST_STATE, "(0, 10, NULL, 1, NULL, false)" },
		{ PGW_LIST_STATE, "(0, 10, NULL, 5, NULL, false)" },
		{ PGW_LIST_STUCK, "(0, 10, NULL, 0, NULL, true)" },
		{ PGW_LIST_QUEUE, "(0, 10, NULL, 0, 'q1', false)" },
		{ PGW_LIST_QUEUE, "(0, 10, NULL, 0, 'rare', false)" },
		{ PGW_PRUNE, "(1700000001000, 1)" },
	};
	for (size_t i = 0; i < sizeof(real) / sizeof(real[0]); i++) {
		pages_run(c, real[i].which, real[i].args);
	}
	assert_int_equal(PQenterPipelineMode(c), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    no_statement_reads_a_whole_table, fx_setup, fx_teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
