/*
 * store/postgres/postgres.c - the PostgreSQL backend: connection, reconnection
 * and transactions. The SQL of every prepared statement is in
 * store/postgres/sql.c; how statements travel (pipelined) and how errors
 * map is in store/postgres/exec.c.
 *
 * Isolation: transactions run at READ COMMITTED, PostgreSQL's default, on
 * purpose. Every transition loads its row with SELECT ... FOR UPDATE and
 * writes it back in the same transaction, so the row lock, not the
 * snapshot, is what serialises two servers working on one task: the
 * second waits for the first to commit, and READ COMMITTED then hands it
 * the row as the first left it (a REPEATABLE READ transaction would fail
 * with a serialization error there instead). Leasing and expiry pick rows
 * with FOR UPDATE SKIP LOCKED, which rechecks the WHERE clause on the
 * newest version of each row it locks, so a task that another server has
 * just leased is never taken again. An insert whose idempotency key was
 * just committed by another server makes ON CONFLICT DO NOTHING fire, and
 * the next statement (a new snapshot) finds that task.
 *
 * Durability: synchronous_commit is on (off and local become on; an
 * administrator's remote_write or remote_apply is kept): COMMIT returns
 * after the WAL is flushed, and on a synchronous standby too when one is
 * configured. The engine answers only after COMMIT returned.
 *
 * Faults: a lost connection fails the call in progress with UNAVAILABLE
 * and is replaced at the next begin, with backoff; PostgreSQL deals with
 * its own I/O errors (it restarts), so store->io_failed is never set.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/postgres/postgres.h"

#define PG_BACKOFF_MIN_MS  100
#define PG_BACKOFF_MAX_MS  2000
#define PG_SCHEMA_NAME_MAX 63 /* NAMEDATALEN - 1 */

#define Q(s) ((struct store_pg *) (s))

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* configure sets the session: search_path to Cairn's schema, and the
 * commit durability of the store's sync mode. */
static int
configure(struct store_pg *q)
{
	char sql[160];
	int rv;

	snprintf(sql, sizeof(sql), "SET search_path TO %s", q->schema_q);
	if ((rv = pg_exec(q, sql, "setting search_path")) != CAIRN_OK) {
		return (rv);
	}
	/* One engine thread serves every request of this server: a row
	 * lock held for long elsewhere (an application's transaction) must
	 * not stall it. Waiting ends with UNAVAILABLE after 5 s unless the
	 * administrator chose a lock_timeout. */
	rv = pg_exec(q,
	    "SELECT set_config('lock_timeout', '5s', false) "
	    "WHERE current_setting('lock_timeout') = '0'",
	    "setting lock_timeout");
	if (rv != CAIRN_OK) {
		return (rv);
	}
	/* Every statement of this connection has an index made for it. A
	 * plan that PostgreSQL cached while the tables were nearly empty
	 * (and kept until autovacuum next analyzes them) read all of tasks
	 * to load a few rows by id, once per transaction; without sequential
	 * scans to choose from, a plan keeps using the index as the tables
	 * grow. */
	if ((rv = pg_exec(
	         q, "SET enable_seqscan = off", "setting enable_seqscan"))
	    != CAIRN_OK) {
		return (rv);
	}
	/* Read-only: the server refuses every write of the session, so
	 * that nothing can change the schema by mistake. */
	if (q->read_only
	    && (rv = pg_exec(q, "SET default_transaction_read_only = on",
	            "setting default_transaction_read_only"))
	        != CAIRN_OK) {
		return (rv);
	}
	if (q->sync == STORE_SYNC_NORMAL_UNSAFE) {
		return (pg_exec(q, "SET synchronous_commit TO off",
		    "setting synchronous_commit"));
	}
	/* off does not wait for the WAL flush, local not for a synchronous
	 * standby: both become on. remote_write and remote_apply, which an
	 * administrator may have chosen for a standby, are kept. */
	return (pg_exec(q,
	    "SELECT set_config('synchronous_commit', 'on', false) "
	    "WHERE current_setting('synchronous_commit') IN ('off', 'local')",
	    "setting synchronous_commit"));
}

static int
prepare_all(struct store_pg *q)
{
	char name[32];

	for (int i = 0; i < PGS_END_; i++) {
		snprintf(name, sizeof(name), "cairn_%d", i);
		PGresult *r
		    = PQprepare(q->conn, name, pg_stmt_sql(i), 0, NULL);
		int rv = PQresultStatus(r) == PGRES_COMMAND_OK
		    ? CAIRN_OK
		    : pg_fail(q, r, "preparing statements");
		PQclear(r);
		if (rv != CAIRN_OK) {
			return (rv);
		}
	}
	return (CAIRN_OK);
}

/* connect_all opens q's connection, sets it up, migrates the schema when
 * asked (at open), and prepares the statements. */
static int
connect_all(struct store_pg *q, bool migrate)
{
	int rv;

	q->conn = pg_connect(q->uri, "cairnd");
	if (q->conn == NULL) {
		return (store_seterr(&q->base, CAIRN_RESOURCE_EXHAUSTED,
		    "postgres: out of memory"));
	}
	if (PQstatus(q->conn) != CONNECTION_OK) {
		pg_lost(q, PQerrorMessage(q->conn));
		return (store_seterr(&q->base, CAIRN_UNAVAILABLE,
		    "postgres: cannot connect: %s", q->lost));
	}
	if (PQserverVersion(q->conn) < 110000) {
		pg_lost(q, "server older than PostgreSQL 11");
		return (store_seterr(&q->base, CAIRN_FAILED_PRECONDITION,
		    "postgres: Cairn needs PostgreSQL 11 or newer"));
	}
	if ((rv = configure(q)) != CAIRN_OK
	    || (!q->read_only && (rv = pg_take_serve_lock(q)) != CAIRN_OK)
	    || (migrate && !q->read_only && (rv = pg_migrate(q)) != CAIRN_OK)
	    || (migrate && q->read_only
	        && (rv = pg_check_version(q)) != CAIRN_OK)
	    || (rv = prepare_all(q)) != CAIRN_OK
	    || (rv = pgw_check_runs(q)) != CAIRN_OK) {
		if (q->conn != NULL) {
			pg_lost(q, q->base.errmsg);
		}
		return (rv);
	}
	/* From here on, statements are pipelined (store/postgres/exec.c). */
	if (!PQenterPipelineMode(q->conn)) {
		return (pg_fail(q, NULL, "entering pipeline mode"));
	}
	atomic_store(&q->backend_pid, PQbackendPID(q->conn));
	return (CAIRN_OK);
}

/* control sends one transaction-control command and syncs; *tag (may be
 * NULL) gets its command tag. */
static int
control(struct store_pg *q, const char *sql, char *tag, size_t taglen)
{
	PGresult *r = NULL;
	int rv;

	if ((rv = pg_send(q, -1, sql, NULL, sql)) != CAIRN_OK
	    || (rv = pg_sync(q, &r)) != CAIRN_OK) {
		return (rv);
	}
	if (tag != NULL) {
		snprintf(tag, taglen, "%s", PQcmdStatus(r));
	}
	PQclear(r);
	return (CAIRN_OK);
}

/* idle says whether nothing is pending and no transaction is open. */
static bool
idle(const struct store_pg *q)
{
	return (q->sent == 0 && PQtransactionStatus(q->conn) == PQTRANS_IDLE);
}

/*
 * reconnect replaces a lost connection. Attempts are spaced out (100 ms,
 * doubling up to 2 s) so that a server that is down is not hammered by
 * every request; between attempts calls fail at once with UNAVAILABLE.
 */
static int
reconnect(struct store_pg *q)
{
	int64_t t = mono_ms();
	int rv;

	if (q->backoff_ms > 0 && t - q->last_attempt_ms < q->backoff_ms) {
		return (store_seterr(&q->base, CAIRN_UNAVAILABLE,
		    "postgres: not connected (%s); next attempt in %lld ms",
		    q->lost,
		    (long long) (q->last_attempt_ms + q->backoff_ms - t)));
	}
	q->last_attempt_ms = t;
	if ((rv = connect_all(q, false)) == CAIRN_OK) {
		q->backoff_ms = 0;
		return (CAIRN_OK);
	}
	q->backoff_ms = q->backoff_ms == 0          ? PG_BACKOFF_MIN_MS
	    : q->backoff_ms * 2 > PG_BACKOFF_MAX_MS ? PG_BACKOFF_MAX_MS
	                                            : q->backoff_ms * 2;
	return (rv == CAIRN_RESOURCE_EXHAUSTED ? rv : CAIRN_UNAVAILABLE);
}

/*
 * alive says whether an idle connection is still usable, without a round
 * trip. A server that went away (a restart, a failover, an administrator's
 * kill) sent a last message or closed the socket, which is then readable
 * although nothing was asked. A server has next to nothing else to say to
 * an idle session that does not LISTEN (a changed setting after a reload),
 * so a readable socket is taken as a lost connection: at worst one
 * needless reconnection.
 */
static bool
alive(struct store_pg *q)
{
	struct pollfd p = { .fd = PQsocket(q->conn), .events = POLLIN };

	return (p.fd >= 0 && poll(&p, 1, 0) == 0);
}

static int
pg_begin(struct store *s)
{
	struct store_pg *q = Q(s);
	int rv;

	pg_forget_kept(q);
	pg_gather_drop(q); /* of a transaction that did not end well */
	if (q->conn != NULL && !idle(q)) {
		/* Left open by a failed commit: discard it. */
		control(q, "ROLLBACK", NULL, 0);
	}
	if (q->conn != NULL && !alive(q)) {
		/* Nothing of the transaction has happened: replace the
		 * connection at once. */
		PQconsumeInput(q->conn); /* for its message */
		pg_lost(q, PQerrorMessage(q->conn));
		q->backoff_ms = 0;
	}
	if (q->conn == NULL && (rv = reconnect(q)) != CAIRN_OK) {
		return (rv);
	}
	/* Sent with the transaction's first statement: no round trip of
	 * its own. */
	return (pg_send(q, -1, "BEGIN", NULL, "begin"));
}

static int
pg_commit(struct store *s)
{
	struct store_pg *q = Q(s);
	char tag[16];
	int rv;

	pg_forget_kept(q);
	if (q->conn == NULL) {
		return (store_seterr(s, CAIRN_UNAVAILABLE,
		    "postgres: commit: connection lost (%s)", q->lost));
	}
	/* Deferred writes are checked here too: if one failed, the server
	 * skipped the COMMIT and the error is the write's. */
	rv = control(q, "COMMIT", tag, sizeof(tag));
	if (rv == CAIRN_OK && strcmp(tag, "COMMIT") != 0) {
		/* COMMIT of a transaction that had failed rolls it back. */
		rv = store_seterr(s, CAIRN_INTERNAL,
		    "postgres: commit: the transaction had failed and was "
		    "rolled back");
	}
	if (rv != CAIRN_OK && q->conn != NULL && !idle(q)) {
		control(q, "ROLLBACK", NULL, 0);
	}
	return (rv);
}

/* pg_commit_wakeup sends the next wakeup's query just before COMMIT:
 * both answers come back in the commit's round trip. */
static int
pg_commit_wakeup(struct store *s, int64_t now, int64_t *at)
{
	struct store_pg *q = Q(s);
	struct pg_params p = { 0 };
	PGresult *r = NULL;
	int rv;

	pg_p_i64(&p, now);
	if (q->conn != NULL
	    && (rv = pg_send_kept(q, PG_NEXT_WAKEUP, &p, "next wakeup", &r))
	        != CAIRN_OK) {
		return (rv);
	}
	rv = pg_commit(s);
	pg_unkeep(q, &r); /* if never synced: the slot goes away */
	if (rv == CAIRN_OK) {
		/* Committed: without the answer, look again at once. */
		*at = r != NULL ? pg_wakeup_of(r) : now;
	}
	PQclear(r);
	return (rv);
}

/* pg_flush_op: the engine ended a request; send what it gathered while
 * the engine goes on with the next. */
static int
pg_flush_op(struct store *s)
{
	return (pg_flush(Q(s)));
}

static int
pg_rollback(struct store *s)
{
	struct store_pg *q = Q(s);

	pg_forget_kept(q);
	pg_gather_drop(q);
	if (q->conn == NULL || idle(q)) {
		return (CAIRN_OK); /* nothing open, or the server dropped it */
	}
	/* The results of deferred writes do not matter any more: the
	 * rollback's own outcome is the answer. */
	control(q, "ROLLBACK", NULL, 0);
	if (q->conn == NULL || idle(q)) {
		return (CAIRN_OK);
	}
	return (store_seterr(s, CAIRN_INTERNAL,
	    "postgres: rollback: the transaction is still open"));
}

static void
pg_close(struct store *s)
{
	struct store_pg *q = Q(s);

	if (q == NULL) {
		return;
	}
	pg_forget_kept(q);
	pg_gather_free(q);
	PQfinish(q->conn);
	free(q->uri);
	free(q->schema);
	free(q->schema_q);
	free(q);
}

char *
pg_quote_ident(const char *name)
{
	char *out = malloc(strlen(name) * 2 + 3), *p = out;

	if (out == NULL) {
		return (NULL);
	}
	*p++ = '"';
	for (; *name != 0; name++) {
		if (*name == '"') {
			*p++ = '"';
		}
		*p++ = *name;
	}
	*p++ = '"';
	*p = 0;
	return (out);
}

static const struct store_ops pg_ops;

static int
pg_open(const char *uri, const struct store_options *opts, struct store **out,
    char *err, size_t errlen)
{
	const char *schema
	    = opts != NULL && opts->schema != NULL ? opts->schema : "cairn";
	struct store_pg *q;
	int rv;

	if (schema[0] == 0 || strlen(schema) > PG_SCHEMA_NAME_MAX) {
		snprintf(err, errlen, "schema name '%s': 1 to %d bytes",
		    schema, PG_SCHEMA_NAME_MAX);
		return (CAIRN_INVALID_ARGUMENT);
	}
	if ((q = calloc(1, sizeof(*q))) == NULL
	    || (q->uri = strdup(uri)) == NULL
	    || (q->schema = strdup(schema)) == NULL
	    || (q->schema_q = pg_quote_ident(schema)) == NULL) {
		pg_close(q != NULL ? &q->base : NULL);
		snprintf(err, errlen, "out of memory");
		return (CAIRN_RESOURCE_EXHAUSTED);
	}
	q->base.ops = &pg_ops;
	q->sync = opts != NULL ? opts->sync : STORE_SYNC_FULL;
	q->read_only = opts != NULL && opts->read_only;
	atomic_init(&q->backend_pid, 0);
	if ((rv = connect_all(q, true)) != CAIRN_OK) {
		snprintf(err, errlen, "%s", q->base.errmsg);
		pg_close(&q->base);
		return (rv);
	}
	*out = &q->base;
	return (CAIRN_OK);
}

int
store_postgres_backend_pid(const struct store *s)
{
	if (s == NULL || s->ops != &pg_ops) {
		return (0);
	}
	return (atomic_load(&((struct store_pg *) s)->backend_pid));
}

static const struct store_ops pg_ops = {
	.version = STORE_OPS_VERSION,
	.close = pg_close,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.insert = pg_insert,
	.load = pg_load,
	.save = pg_save,
	.add_event = pg_add_event,
	.pick_due = pg_pick_due,
	.pick_expired = pg_pick_expired,
	.next_wakeup = pg_next_wakeup,
	.get = pg_get,
	.list = pg_list,
	.stats = pg_stats,
	.history = pg_history,
	.find_key = pg_find_key,
	.prune = pg_prune,
	.request_get = pg_request_get,
	.request_put = pg_request_put,
	.request_prune = pg_request_prune,
	.prefetch = pg_prefetch,
	.commit_wakeup = pg_commit_wakeup,
	.flush = pg_flush_op,
	.wf = &pg_wf_ops,
	.queues = &pg_queue_ops,
	.sched = &pg_sched_ops,
};

static const char *const schemes[] = { "postgres://", "postgresql://", NULL };

/* The only symbol of this backend that the rest of the server sees. */
const struct store_backend store_postgres_backend = {
	.version = STORE_OPS_VERSION,
	.name = "postgres",
	.schemes = schemes,
	.ops = &pg_ops,
	.open = pg_open,
	/* No online backup: PostgreSQL has its own (pg_basebackup, pg_dump,
	 * continuous archiving); the rpc answers UNIMPLEMENTED. */
	.backup = NULL,
	.watch = pg_watch,
	.unwatch = pg_unwatch,
};
