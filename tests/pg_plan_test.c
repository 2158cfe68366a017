/*
 * pg_plan_test.c - no statement that the PostgreSQL backend prepares reads
 * a whole table or a whole index, on the backend's own connection, once
 * tasks, events and requests hold 5,000 rows each and are analyzed:
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
 * conn out of pipeline mode, with a dummy value for each parameter. */
static char *
explain(PGconn *c, const char *name, const char *how)
{
	char sql[2048];
	size_t len;
	PGresult *r;

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
	PQclear(PQexec(c, "ANALYZE tasks, events, requests"));
	PQclear(PQexec(c, "SET enable_seqscan = on"));
	for (int i = 0; i < PG_COUNT_; i++) {
		snprintf(name, sizeof(name), "cairn_%d", i);
		char *plan = explain(c, name, "");
		if (strstr(plan, "Seq Scan") != NULL) {
			fail_msg(
			    "%s scans a table: %s\n%s", name, pg_sql[i], plan);
		}
		free(plan);
	}
	/* The statements that find rows by a condition, run (in a
	 * transaction rolled back): each reads a few pages of tables of
	 * 5,000 rows. An index of the wrong shape, read whole, reads more. */
	static const enum pg_stmt finders[] = { PG_FIND_KEY, PG_LOAD, PG_GET,
		PG_SAVE, PG_PICK_DUE, PG_PICK_EXPIRED, PG_NEXT_WAKEUP,
		PG_LIST_ANY, PG_LIST_STATE, PG_STATS_DUE, PG_HISTORY, PG_PRUNE,
		PG_REQUEST_GET, PG_REQUEST_PRUNE, PG_LOAD_MANY,
		PG_REQUEST_GET_MANY };
	for (size_t i = 0; i < sizeof(finders) / sizeof(finders[0]); i++) {
		snprintf(name, sizeof(name), "cairn_%d", (int) finders[i]);
		PQclear(PQexec(c, "BEGIN"));
		char *plan = explain(
		    c, name, "(ANALYZE, BUFFERS, COSTS OFF, TIMING OFF)");
		PQclear(PQexec(c, "ROLLBACK"));
		int pages = pages_of(plan);
		if (pages > MAX_PAGES) {
			fail_msg("%s reads %d pages: %s\n%s", name, pages,
			    pg_sql[finders[i]], plan);
		}
		free(plan);
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
