/*
 * crash_check_pg.c - the checker's view of a PostgreSQL store: the same
 * rows and counts as of a SQLite file (crash_check.c), read over libpq
 * from the schema the harness gave cairnd.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "crash.h"

static PGconn *
connect_to(const char *uri, const char *schema)
{
	PGconn *c = PQconnectdb(uri);
	char sql[160];

	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "crash_check: %s", PQerrorMessage(c));
		PQfinish(c);
		return (NULL);
	}
	snprintf(sql, sizeof(sql), "SET search_path TO \"%s\"", schema);
	PQclear(PQexec(c, sql));
	return (c);
}

static uint64_t
scalar(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	uint64_t v = UINT64_MAX;

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
		v = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	}
	PQclear(r);
	return (v);
}

struct crash_row *
crash_rows_pg(const char *uri, const char *schema, bool final,
    struct counts *c, size_t *n)
{
	PGconn *conn = connect_to(uri, schema);
	struct crash_row *rows = NULL;
	PGresult *r;

	*n = 0;
	if (conn == NULL) {
		return (NULL);
	}
	/* The results are ASCII ("done:TOKEN"): escape shows them as is. */
	r = PQexec(conn,
	    "SELECT id, state, attempt, encode(result, 'escape') FROM tasks "
	    "ORDER BY id");
	if (PQresultStatus(r) == PGRES_TUPLES_OK
	    && (rows = calloc((size_t) PQntuples(r) + 1, sizeof(*rows)))
	        != NULL) {
		for (int i = 0; i < PQntuples(r); i++) {
			struct crash_row *row = &rows[(*n)++];
			row->id = strtoull(PQgetvalue(r, i, 0), NULL, 10);
			row->state = atoi(PQgetvalue(r, i, 1));
			row->attempt = atoi(PQgetvalue(r, i, 2));
			snprintf(row->result, sizeof(row->result), "%s",
			    PQgetvalue(r, i, 3));
		}
	}
	PQclear(r);
	if (final) {
		c->dup_keys = scalar(conn, CRASH_SQL_DUP_KEYS);
		c->dup_payloads = scalar(conn, CRASH_SQL_DUP_PAYLOADS);
	}
	PQfinish(conn);
	return (rows);
}
