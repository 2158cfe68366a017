/*
 * store/postgres/exec.c - how the PostgreSQL backend talks to the server:
 * libpq's pipeline mode, and the mapping of errors to cairn statuses.
 *
 * Round trips, not the database, bound a backend that makes one call per
 * row: on a loaded machine each costs far more than the statement. So the
 * connection stays in pipeline mode, and the writes whose answer is only
 * "done" (save, add_event) are sent without waiting (pg_defer). The next
 * call that needs an answer (a load, a pick, commit) sends its own
 * statement after them and a sync point, then reads every result in
 * order: a transition is then one round trip instead of three. A deferred
 * write that failed is reported by that next call (every statement after
 * it was skipped by the server, and the transaction cannot commit), so no
 * failure is ever lost, though it may surface one call late.
 *
 * Also here, below the files that use them: opening a connection, and
 * what the handle keeps for one transaction (rows picked or read ahead),
 * which a lost connection or the transaction's end forgets.
 *
 * This file and gather.c call each other, on purpose: pg_send flushes the
 * gathered writes before any statement (so that every statement sees
 * them), and the flush sends them through pg_send; a lost connection
 * drops what was gathered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres/postgres.h"

#ifndef LIBPQ_HAS_PIPELINING
#error "the PostgreSQL backend needs libpq 14 or newer (pipeline mode)"
#endif

/* first_line copies the first line of a libpq message. */
static void
first_line(char *dst, size_t cap, const char *msg)
{
	size_t n = msg != NULL ? strcspn(msg, "\n") : 0;

	snprintf(dst, cap, "%.*s", (int) n, msg != NULL ? msg : "");
}

void
pg_lost(struct store_pg *q, const char *why)
{
	first_line(q->lost, sizeof(q->lost), why);
	if (q->lost[0] == 0) {
		snprintf(q->lost, sizeof(q->lost), "connection closed");
	}
	PQfinish(q->conn);
	q->conn = NULL;
	q->sent = 0;
	/* The ids left of the block taken from the sequence may be handed
	 * out again: a database that crashed (or a standby promoted) comes
	 * back with the sequence where its last flushed WAL left it, before
	 * our block if no commit flushed the advance, and another server may
	 * insert them. Take a new block after reconnecting. */
	q->nids = q->next_id = 0;
	pg_gather_drop(q);
	memset(q->keep, 0, sizeof(q->keep));
	atomic_store(&q->backend_pid, 0);
	pg_forget_kept(q);
}

void
pg_forget_picked(struct store_pg *q)
{
	PQclear(q->picked);
	free(q->picked_ids);
	q->picked = NULL;
	q->picked_ids = NULL;
	q->npicked = 0;
}

static int
status_of(const char *state)
{
	if (state == NULL) {
		return (CAIRN_INTERNAL);
	}
	/* Serialization failure, deadlock, and a unique key that another
	 * server's transaction committed first (a request id that two
	 * servers received at once): retrying is safe. */
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0
	    || strcmp(state, "23505") == 0) {
		return (CAIRN_ABORTED);
	}
	if (strcmp(state, "53300") == 0 || strcmp(state, "57014") == 0
	    || strcmp(state, "55P03") == 0) {
		return (CAIRN_UNAVAILABLE); /* connections, timeouts */
	}
	if (strncmp(state, "53", 2) == 0) {
		return (CAIRN_RESOURCE_EXHAUSTED); /* disk full, memory */
	}
	if (strcmp(state, "XX001") == 0 || strcmp(state, "XX002") == 0) {
		return (CAIRN_DATA_LOSS);
	}
	return (CAIRN_INTERNAL);
}

/* is_lost says whether an error means that the connection is gone or
 * useless: broken socket, the server shutting down, or a server that can
 * no longer write (a primary that became a standby after a failover). */
static bool
is_lost(const struct store_pg *q, const char *state)
{
	if (q->conn == NULL || PQstatus(q->conn) == CONNECTION_BAD) {
		return (true);
	}
	return (state != NULL
	    && (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0
	        || strcmp(state, "25006") == 0));
}

int
pg_fail(struct store_pg *q, const PGresult *res, const char *what)
{
	const char *state
	    = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary = res != NULL
	    ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
	    : NULL;
	char text[160];

	first_line(text, sizeof(text),
	    primary != NULL       ? primary
	        : q->conn != NULL ? PQerrorMessage(q->conn)
	                          : q->lost);
	if (is_lost(q, state)) {
		pg_lost(q, text);
		return (store_seterr(&q->base, CAIRN_UNAVAILABLE,
		    "postgres: %s: connection lost (%s); cairnd reconnects",
		    what, q->lost));
	}
	return (store_seterr(&q->base, status_of(state),
	    "postgres: %s: %s (SQLSTATE %s)", what, text,
	    state != NULL ? state : "none"));
}

int
pg_exec(struct store_pg *q, const char *sql, const char *what)
{
	PGresult *r = PQexec(q->conn, sql);
	int rv = CAIRN_OK;

	if (PQresultStatus(r) != PGRES_COMMAND_OK
	    && PQresultStatus(r) != PGRES_TUPLES_OK) {
		rv = pg_fail(q, r, what);
	}
	PQclear(r);
	return (rv);
}

int
pg_send(struct store_pg *q, int which, const char *sql,
    const struct pg_params *p, const char *what)
{
	char name[32];
	int ok;

	if (q->conn == NULL) {
		return (store_seterr(&q->base, CAIRN_UNAVAILABLE,
		    "postgres: %s: not connected (%s)", what, q->lost));
	}
	/* Gathered writes go first: whatever follows may read them. */
	int rv = pg_flush(q);
	if (rv != CAIRN_OK) {
		return (rv);
	}
	if (sql != NULL) {
		ok = PQsendQueryParams(
		    q->conn, sql, 0, NULL, NULL, NULL, NULL, 1);
	} else {
		/* libpq copies the parameters into its buffer here: they
		 * need not outlive the call. */
		snprintf(name, sizeof(name), "cairn_%d", which);
		ok = PQsendQueryPrepared(
		    q->conn, name, p->n, p->v, p->len, p->fmt, 1);
	}
	if (!ok) {
		return (pg_fail(q, NULL, what));
	}
	q->what[q->sent < PG_MAX_SENT ? q->sent : PG_MAX_SENT - 1] = what;
	q->sent++;
	return (CAIRN_OK);
}

/* next_result reads the result of the next command of the pipeline and
 * the NULL that ends it. NULL when the connection failed. */
static PGresult *
next_result(struct store_pg *q)
{
	PGresult *r = PQgetResult(q->conn), *extra;

	if (r == NULL) {
		return (NULL);
	}
	while ((extra = PQgetResult(q->conn)) != NULL) {
		PQclear(extra); /* none expected: one statement per command */
	}
	return (r);
}

int
pg_sync(struct store_pg *q, PGresult **last)
{
	int n = q->sent, rv = CAIRN_OK;
	PGresult **keep[PG_MAX_SENT];
	PGresult *r;

	q->sent = 0;
	memcpy(keep, q->keep, sizeof(keep));
	memset(q->keep, 0, sizeof(q->keep));
	if (last != NULL) {
		*last = NULL;
	}
	if (!PQpipelineSync(q->conn)) {
		return (pg_fail(q, NULL, n > 0 ? q->what[0] : "sync"));
	}
	q->round_trips++;
	for (int i = 0; i < n; i++) {
		const char *what
		    = q->what[i < PG_MAX_SENT ? i : PG_MAX_SENT - 1];
		if ((r = next_result(q)) == NULL) {
			return (pg_fail(q, NULL, what));
		}
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
			if (i == n - 1 && last != NULL && rv == CAIRN_OK) {
				*last = r;
				continue;
			}
			if (i < PG_MAX_SENT && keep[i] != NULL) {
				*keep[i] = r;
				continue;
			}
		} else if (st != PGRES_PIPELINE_ABORTED && rv == CAIRN_OK) {
			/* The first failure; what follows was skipped. */
			rv = pg_fail(q, r, what);
			if (q->conn == NULL) {
				PQclear(r);
				return (rv);
			}
		}
		PQclear(r);
	}
	r = PQgetResult(q->conn);
	if (PQresultStatus(r) != PGRES_PIPELINE_SYNC && rv == CAIRN_OK) {
		rv = pg_fail(q, r, "sync");
	}
	PQclear(r);
	if (rv != CAIRN_OK && last != NULL) {
		PQclear(*last);
		*last = NULL;
	}
	return (rv);
}

PGresult *
pg_run(struct store_pg *q, enum pg_stmt which, const struct pg_params *p,
    const char *what, int *status)
{
	PGresult *r = NULL;

	if ((*status = pg_send(q, (int) which, NULL, p, what)) == CAIRN_OK) {
		*status = pg_sync(q, &r);
	}
	return (*status == CAIRN_OK ? r : NULL);
}

int
pg_send_kept(struct store_pg *q, enum pg_stmt which, const struct pg_params *p,
    const char *what, PGresult **slot)
{
	int rv = CAIRN_OK;

	*slot = NULL;
	/* Room for it among the remembered positions. */
	if (q->sent >= PG_MAX_SENT - 1 && (rv = pg_sync(q, NULL)) != 0) {
		return (rv);
	}
	if ((rv = pg_send(q, (int) which, NULL, p, what)) == CAIRN_OK) {
		q->keep[q->sent - 1] = slot;
	}
	return (rv);
}

void
pg_unkeep(struct store_pg *q, PGresult **slot)
{
	for (int i = 0; i < PG_MAX_SENT; i++) {
		if (q->keep[i] == slot) {
			q->keep[i] = NULL;
		}
	}
}

int
pg_defer(struct store_pg *q, enum pg_stmt which, const struct pg_params *p,
    const char *what)
{
	int rv = pg_send(q, (int) which, NULL, p, what);

	/* Bounded: a long run of writes is synced in slices. */
	if (rv == CAIRN_OK && q->sent >= PG_MAX_SENT) {
		rv = pg_sync(q, NULL);
	}
	return (rv);
}

/* quiet drops the server's notices (such as "already exists, skipping"):
 * libpq would print them on stderr, and a library never prints. */
static void
quiet(void *arg, const char *message)
{
	(void) arg;
	(void) message;
}

PGconn *
pg_connect(const char *uri, const char *application_name)
{
	/* libpq lets a later keyword override an earlier one, and the URI
	 * (expanded from dbname) comes last: these are defaults that the
	 * URI may change. Keepalives notice a dead server while idle. */
	const char *const keys[]
	    = { "connect_timeout", "keepalives_idle", "keepalives_interval",
		      "keepalives_count", "application_name", "dbname", NULL };
	const char *const values[]
	    = { "5", "30", "10", "3", application_name, uri, NULL };

	PGconn *conn = PQconnectdbParams(keys, values, 1);

	if (conn != NULL) {
		PQsetNoticeProcessor(conn, quiet, NULL);
	}
	return (conn);
}

void
pg_kept_clear(struct pg_kept *k)
{
	PQclear(k->r);
	free(k->ids);
	memset(k, 0, sizeof(*k));
}

void
pg_forget_kept(struct store_pg *q)
{
	pg_forget_picked(q);
	pgw_forget(q);
	pg_unkeep(q, &q->ahead.rows.r);
	pg_unkeep(q, &q->ahead.records);
	for (size_t i = 0; i < q->ahead.npools; i++) {
		pg_unkeep(q, &q->ahead.pools[i].kept.r);
	}
	pg_ahead_pool_stale(q, NULL);
	pgq_forget(q);
	pg_kept_clear(&q->ahead.rows);
	PQclear(q->ahead.records);
	for (size_t i = 0; i < q->ahead.nkeys; i++) {
		free(q->ahead.keys[i]);
	}
	free(q->ahead.keys);
	for (size_t i = 0; i < q->ahead.npools; i++) {
		free(q->ahead.pools[i].queue);
		pg_kept_clear(&q->ahead.pools[i].kept);
	}
	free(q->ahead.pools);
	memset(&q->ahead, 0, sizeof(q->ahead));
}
