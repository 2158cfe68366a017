/*
 * store/postgres/queues.c - the PostgreSQL backend's per-queue settings
 * (store/store_queue.h).
 *
 * Several servers may lease from one queue at once, so the limits are
 * kept in the database: a lease of a limited queue first locks its row
 * (get with lock, FOR UPDATE), then counts the queue's ACTIVE tasks and
 * draws from the row's token bucket, all in its transaction. A second
 * server's lease of that queue waits for the lock, and its count, a new
 * statement in READ COMMITTED, then sees the first one's leases. A queue
 * without limits locks nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres/postgres.h"

#define Q(s) ((struct store_pg *) (s))

#define PGQ_COLUMNS                                                           \
	"name, paused, max_active, rate_count, rate_interval, rate_burst, "   \
	"max_attempts, backoff_initial, backoff_multiplier, backoff_max, "    \
	"heartbeat_timeout, start_to_close, updated_at, bucket_credit, "      \
	"bucket_at"

/*
 * The table, and two wake-ups across servers on channel cairn_due (as
 * the tasks' triggers, store/postgres/schema.c): a change of a queue's
 * limits (a resumed queue, a larger max_active), and the end of a lease
 * in a queue that has a max_active (its slot is free). A write of the
 * bucket alone wakes nobody.
 */
const char pgq_schema[]
    = "CREATE TABLE queues ("
      "  name text COLLATE \"C\" PRIMARY KEY,"
      "  paused boolean NOT NULL DEFAULT false,"
      "  max_active bigint NOT NULL DEFAULT 0,"
      "  rate_count bigint NOT NULL DEFAULT 0,"
      "  rate_interval bigint NOT NULL DEFAULT 0,"
      "  rate_burst bigint NOT NULL DEFAULT 0,"
      "  max_attempts bigint NOT NULL DEFAULT 0,"
      "  backoff_initial bigint NOT NULL DEFAULT 0,"
      "  backoff_multiplier double precision NOT NULL DEFAULT 0,"
      "  backoff_max bigint NOT NULL DEFAULT 0,"
      "  heartbeat_timeout bigint NOT NULL DEFAULT 0,"
      "  start_to_close bigint NOT NULL DEFAULT 0,"
      "  updated_at bigint NOT NULL,"
      "  bucket_credit bigint NOT NULL DEFAULT 0,"
      "  bucket_at bigint NOT NULL DEFAULT 0"
      ");"
      "CREATE FUNCTION notify_queue() RETURNS trigger LANGUAGE plpgsql AS $$"
      " BEGIN PERFORM pg_notify('cairn_due', NEW.name); RETURN NULL; END"
      " $$;"
      "CREATE TRIGGER queues_changed AFTER INSERT OR UPDATE OF paused,"
      "  max_active, rate_count, rate_interval, rate_burst ON queues"
      "  FOR EACH ROW EXECUTE FUNCTION notify_queue();"
      "CREATE FUNCTION notify_freed() RETURNS trigger LANGUAGE plpgsql"
      " SET search_path FROM CURRENT AS $$"
      " BEGIN"
      "  IF EXISTS (SELECT 1 FROM queues q WHERE q.name = NEW.queue"
      "     AND q.max_active > 0) THEN"
      "   PERFORM pg_notify('cairn_due', NEW.queue);"
      "  END IF;"
      "  RETURN NULL;"
      " END $$;"
      /* ACTIVE to PENDING is notified by tasks_due_update already. */
      "CREATE TRIGGER tasks_freed AFTER UPDATE OF state ON tasks"
      "  FOR EACH ROW WHEN (OLD.state = 2 AND NEW.state > 2)"
      "  EXECUTE FUNCTION notify_freed();";

/*
 * enqueue() of the applications' transactions (store/postgres/schema.c)
 * takes the queue's defaults too, as the server's Enqueue does: a field
 * the caller leaves out (NULL, or 0 as the server reads 0) takes the
 * queue's value when it has one, else the server's default.
 */
const char pgq_enqueue[]
    = "CREATE OR REPLACE FUNCTION enqueue("
      "  queue text,"
      "  payload bytea,"
      "  priority integer DEFAULT 0,"
      "  delay interval DEFAULT NULL,"
      "  max_attempts integer DEFAULT NULL,"
      "  idempotency_key text DEFAULT NULL,"
      "  heartbeat_timeout interval DEFAULT NULL,"
      "  start_to_close interval DEFAULT NULL,"
      "  backoff_initial interval DEFAULT NULL,"
      "  backoff_multiplier double precision DEFAULT NULL,"
      "  backoff_max interval DEFAULT NULL,"
      "  run_at timestamptz DEFAULT NULL)"
      " RETURNS bigint LANGUAGE plpgsql"
      " SET search_path FROM CURRENT AS $$"
      " DECLARE"
      "  now_ms bigint := floor(extract(epoch FROM clock_timestamp()) * "
      "1000);"
      "  key text := nullif(enqueue.idempotency_key, '');"
      "  mult double precision := coalesce(enqueue.backoff_multiplier, 0);"
      "  qs queues%ROWTYPE;"
      "  due bigint;"
      "  new_id bigint;"
      " BEGIN"
      "  IF enqueue.queue IS NULL OR"
      "     enqueue.queue !~ '^[A-Za-z0-9_.:-]{1,128}$' THEN"
      "   RAISE EXCEPTION 'cairn.enqueue: invalid queue name %',"
      "    quote_nullable(enqueue.queue) USING ERRCODE = '22023';"
      "  END IF;"
      "  IF enqueue.payload IS NULL THEN"
      "   RAISE EXCEPTION 'cairn.enqueue: payload is NULL'"
      "    USING ERRCODE = '22004';"
      "  END IF;"
      "  IF coalesce(enqueue.max_attempts, 0) < 0 THEN"
      "   RAISE EXCEPTION 'cairn.enqueue: max_attempts is negative'"
      "    USING ERRCODE = '22023';"
      "  END IF;"
      "  IF (mult <> 0 AND mult < 1) OR mult > 1000 THEN"
      "   RAISE EXCEPTION 'cairn.enqueue: backoff_multiplier must be 0 "
      "(default) or from 1 to 1000' USING ERRCODE = '22023';"
      "  END IF;"
      "  SELECT * INTO qs FROM queues q WHERE q.name = enqueue.queue;"
      "  IF enqueue.run_at IS NOT NULL THEN"
      "   due := floor(extract(epoch FROM enqueue.run_at) * 1000);"
      "   IF due <= 0 THEN"
      "    RAISE EXCEPTION 'cairn.enqueue: run_at before 1970'"
      "     USING ERRCODE = '22023';"
      "   END IF;"
      "  ELSE"
      "   due := now_ms + interval_ms('delay', enqueue.delay, 0);"
      "  END IF;"
      "  INSERT INTO tasks (queue, payload, priority, state, run_at, "
      "attempt,"
      "    max_attempts, backoff_initial, backoff_multiplier, backoff_max,"
      "    heartbeat_timeout, start_to_close, idempotency_key, created_at,"
      "    updated_at, event_seq)"
      "  VALUES (enqueue.queue, enqueue.payload,"
      "    coalesce(enqueue.priority, 0), 1, due, 0,"
      "    coalesce(nullif(enqueue.max_attempts, 0),"
      "     nullif(qs.max_attempts, 0), 25),"
      "    interval_ms('backoff_initial', enqueue.backoff_initial,"
      "     coalesce(nullif(qs.backoff_initial, 0), 1000)),"
      "    CASE WHEN mult <> 0 THEN mult"
      "     ELSE coalesce(nullif(qs.backoff_multiplier, 0), 2.0) END,"
      "    interval_ms('backoff_max', enqueue.backoff_max,"
      "     coalesce(nullif(qs.backoff_max, 0), 3600000)),"
      "    interval_ms('heartbeat_timeout', enqueue.heartbeat_timeout,"
      "     coalesce(nullif(qs.heartbeat_timeout, 0), 60000)),"
      "    interval_ms('start_to_close', enqueue.start_to_close,"
      "     coalesce(qs.start_to_close, 0)),"
      "    key, now_ms, now_ms, 1)"
      "  ON CONFLICT DO NOTHING RETURNING id INTO new_id;"
      "  IF new_id IS NULL THEN"
      "   SELECT t.id INTO new_id FROM tasks t"
      "    WHERE t.queue = enqueue.queue AND t.idempotency_key = key;"
      "   RETURN new_id;"
      "  END IF;"
      "  INSERT INTO events (task_id, seq, at, kind, attempt)"
      "   VALUES (new_id, 1, now_ms, 'enqueued', 0);"
      "  RETURN new_id;"
      " END $$;";

#define QS(x) [(x) -PGW_END_]
const char *const pgq_sql[PGQ_END_ - PGW_END_] = {
	QS(PGQ_GET) = "SELECT " PGQ_COLUMNS " FROM queues WHERE name = $1",
	QS(PGQ_LIMITS) = "SELECT " PGQ_COLUMNS " FROM queues WHERE name = $1 "
	                 "AND (paused OR max_active > 0 OR rate_count > 0) "
	                 "FOR UPDATE",
	QS(PGQ_PUT) = "INSERT INTO queues (" PGQ_COLUMNS ") VALUES ($1, $2, "
	              "$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
	              "$15) ON CONFLICT (name) DO UPDATE SET "
	              "paused = EXCLUDED.paused, "
	              "max_active = EXCLUDED.max_active, "
	              "rate_count = EXCLUDED.rate_count, "
	              "rate_interval = EXCLUDED.rate_interval, "
	              "rate_burst = EXCLUDED.rate_burst, "
	              "max_attempts = EXCLUDED.max_attempts, "
	              "backoff_initial = EXCLUDED.backoff_initial, "
	              "backoff_multiplier = EXCLUDED.backoff_multiplier, "
	              "backoff_max = EXCLUDED.backoff_max, "
	              "heartbeat_timeout = EXCLUDED.heartbeat_timeout, "
	              "start_to_close = EXCLUDED.start_to_close, "
	              "updated_at = EXCLUDED.updated_at, "
	              "bucket_credit = EXCLUDED.bucket_credit, "
	              "bucket_at = EXCLUDED.bucket_at",
	QS(PGQ_LIST) = "SELECT " PGQ_COLUMNS " FROM queues ORDER BY name",
	QS(PGQ_ACTIVE) = "SELECT count(*) FROM tasks WHERE queue = $1 AND "
	                 "state = 2",
	QS(PGQ_BUCKET) = "UPDATE queues SET bucket_credit = $2, "
	                 "bucket_at = $3 WHERE name = $1",
	/* In name order, so that servers lock the rows of a batch's limited
	 * queues in one order. */
	QS(PGQ_LIMITS_MANY) = "SELECT " PGQ_COLUMNS " FROM queues WHERE "
	                      "name = ANY($1::text[]) AND (paused OR "
	                      "max_active > 0 OR rate_count > 0) "
	                      "ORDER BY name FOR UPDATE",
	QS(PGQ_GET_MANY) = "SELECT " PGQ_COLUMNS " FROM queues WHERE "
	                   "name = ANY($1::text[])",
};
#undef QS

static PGresult *
pgq_run(struct store_pg *q, enum pgq_stmt which, const struct pg_params *p,
    const char *what, int *status)
{
	/* Numbered after the task and workflow statements (postgres.h). */
	return (pg_run(q, (enum pg_stmt) which, p, what, status));
}

static void
read_row(const PGresult *r, int i, struct queue_settings *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->queue, sizeof(out->queue), "%.*s", PQgetlength(r, i, 0),
	    PQgetvalue(r, i, 0));
	out->paused = pg_i64(r, i, 1, 0) != 0;
	out->max_active = (uint32_t) pg_i64(r, i, 2, 0);
	out->rate_count = (uint32_t) pg_i64(r, i, 3, 0);
	out->rate_interval_ms = pg_i64(r, i, 4, 0);
	out->rate_burst = (uint32_t) pg_i64(r, i, 5, 0);
	out->max_attempts = (uint32_t) pg_i64(r, i, 6, 0);
	out->retry.initial_ms = pg_i64(r, i, 7, 0);
	out->retry.multiplier = pg_f64(r, i, 8);
	out->retry.max_ms = pg_i64(r, i, 9, 0);
	out->heartbeat_timeout_ms = pg_i64(r, i, 10, 0);
	out->start_to_close_ms = pg_i64(r, i, 11, 0);
	out->updated_ms = pg_i64(r, i, 12, 0);
	out->bucket_credit = pg_i64(r, i, 13, 0);
	out->bucket_at_ms = pg_i64(r, i, 14, 0);
}

/* find_row returns the row of queue in r (-1: none). */
static int
find_row(const PGresult *r, const char *queue)
{
	size_t len = strlen(queue);

	for (int i = 0; i < PQntuples(r); i++) {
		if ((size_t) PQgetlength(r, i, 0) == len
		    && memcmp(PQgetvalue(r, i, 0), queue, len) == 0) {
			return (i);
		}
	}
	return (-1);
}

/* asked says whether rd asked for queue and its answer is still true. */
static bool
asked(const struct pg_qread *rd, const char *queue)
{
	for (size_t i = 0; i < rd->n; i++) {
		if (rd->names[i] != NULL && strcmp(rd->names[i], queue) == 0) {
			return (true);
		}
	}
	return (false);
}

/* from_ahead answers get from what was read ahead, when it can (then
 * *answered is true): the prefetch's reads, or the limits read with a
 * pool opened late. */
static int
from_ahead(struct store_pg *q, const char *queue, bool lock,
    struct queue_settings *out, bool *answered)
{
	struct pg_qread *rd = lock ? &q->ahead.limits : &q->ahead.settings;
	const PGresult *r = NULL;
	int rv, i;

	*answered = false;
	if (asked(rd, queue)) {
		if ((rv = pg_ahead_ready(q)) != CAIRN_OK) {
			return (rv);
		}
		r = rd->r;
	}
	if (r == NULL && lock
	    && (rv = pg_ahead_pool_limits(q, queue, &r)) != CAIRN_OK) {
		return (rv);
	}
	if (r == NULL) {
		return (CAIRN_OK); /* not answered: the caller asks itself */
	}
	*answered = true;
	if ((i = find_row(r, queue)) < 0) {
		return (CAIRN_NOT_FOUND);
	}
	read_row(r, i, out);
	return (CAIRN_OK);
}

/* stale forgets what was read ahead of queue (NULL: of every queue):
 * this transaction writes it. */
static void
stale(struct store_pg *q, const char *queue)
{
	struct pg_qread *rds[] = { &q->ahead.limits, &q->ahead.settings };

	for (size_t k = 0; k < 2; k++) {
		for (size_t i = 0; i < rds[k]->n; i++) {
			if (rds[k]->names[i] != NULL
			    && (queue == NULL
			        || strcmp(rds[k]->names[i], queue) == 0)) {
				free(rds[k]->names[i]);
				rds[k]->names[i] = NULL;
			}
		}
	}
	pg_ahead_pool_stale(q, queue);
}

/* send_read sends the read of the n queues of names into rd. */
static int
send_read(struct store_pg *q, enum pgq_stmt which, const char *const *names,
    size_t n, struct pg_qread *rd)
{
	struct pg_params p = { 0 };
	char *lit;
	int rv;

	if (n == 0 || (rd->names = calloc(n, sizeof(*rd->names))) == NULL) {
		return (CAIRN_OK); /* only a hint */
	}
	for (size_t i = 0; i < n; i++) {
		if ((rd->names[i] = strdup(names[i])) == NULL) {
			break;
		}
		rd->n = i + 1;
	}
	if ((lit = pg_text_array((const char *const *) rd->names, rd->n))
	    == NULL) {
		return (CAIRN_OK);
	}
	pg_p_text(&p, lit);
	rv = pg_send_kept(
	    q, (enum pg_stmt) which, &p, "read queue settings", &rd->r);
	free(lit);
	return (rv);
}

int
pgq_prefetch(struct store_pg *q, const struct store_prefetch *pf)
{
	const char **picks = calloc(pf->npicks + 1, sizeof(*picks));
	int rv;

	if (picks == NULL) {
		return (CAIRN_OK);
	}
	for (size_t i = 0; i < pf->npicks; i++) {
		picks[i] = pf->picks[i].queue;
	}
	rv = send_read(
	    q, PGQ_LIMITS_MANY, picks, pf->npicks, &q->ahead.limits);
	free(picks);
	if (rv == CAIRN_OK) {
		rv = send_read(q, PGQ_GET_MANY, pf->settings, pf->nsettings,
		    &q->ahead.settings);
	}
	return (rv);
}

void
pgq_forget(struct store_pg *q)
{
	struct pg_qread *rds[] = { &q->ahead.limits, &q->ahead.settings };

	for (size_t k = 0; k < 2; k++) {
		pg_unkeep(q, &rds[k]->r);
		PQclear(rds[k]->r);
		for (size_t i = 0; i < rds[k]->n; i++) {
			free(rds[k]->names[i]);
		}
		free(rds[k]->names);
		memset(rds[k], 0, sizeof(*rds[k]));
	}
}

static int
pgq_get(
    struct store *s, const char *queue, bool lock, struct queue_settings *out)
{
	struct pg_params p = { 0 };
	bool answered;
	PGresult *r;
	int rv;

	rv = from_ahead(Q(s), queue, lock, out, &answered);
	if (rv != CAIRN_OK || answered) {
		return (rv);
	}
	pg_p_text(&p, queue);
	r = pgq_run(Q(s), lock ? PGQ_LIMITS : PGQ_GET, &p, "queue get", &rv);
	if (r == NULL) {
		return (rv);
	}
	if (PQntuples(r) == 0) {
		rv = CAIRN_NOT_FOUND;
	} else {
		read_row(r, 0, out);
	}
	PQclear(r);
	return (rv);
}

static int
pgq_put(struct store *s, const struct queue_settings *q)
{
	struct pg_params p = { 0 };
	PGresult *r;
	int rv;

	pg_p_text(&p, q->queue);
	pg_p_i64(&p, q->paused);
	pg_p_i64(&p, q->max_active);
	pg_p_i64(&p, q->rate_count);
	pg_p_i64(&p, q->rate_interval_ms);
	pg_p_i64(&p, q->rate_burst);
	pg_p_i64(&p, q->max_attempts);
	pg_p_i64(&p, q->retry.initial_ms);
	pg_p_f64(&p, q->retry.multiplier);
	pg_p_i64(&p, q->retry.max_ms);
	pg_p_i64(&p, q->heartbeat_timeout_ms);
	pg_p_i64(&p, q->start_to_close_ms);
	pg_p_i64(&p, q->updated_ms);
	pg_p_i64(&p, q->bucket_credit);
	pg_p_i64(&p, q->bucket_at_ms);
	stale(Q(s), NULL);
	if ((r = pgq_run(Q(s), PGQ_PUT, &p, "queue put", &rv)) != NULL) {
		PQclear(r);
	}
	return (rv);
}

static int
pgq_list(struct store *s, struct queue_settings **out, size_t *n)
{
	struct pg_params p = { 0 };
	struct queue_settings *arr;
	PGresult *r;
	int rv, rows;

	if ((r = pgq_run(Q(s), PGQ_LIST, &p, "queue list", &rv)) == NULL) {
		return (rv);
	}
	rows = PQntuples(r);
	if ((arr = calloc((size_t) rows + 1, sizeof(*arr))) == NULL) {
		PQclear(r);
		return (store_seterr(s, CAIRN_RESOURCE_EXHAUSTED,
		    "out of memory listing queues"));
	}
	for (int i = 0; i < rows; i++) {
		read_row(r, i, &arr[i]);
	}
	PQclear(r);
	*out = arr;
	*n = (size_t) rows;
	return (CAIRN_OK);
}

static int
pgq_active(struct store *s, const char *queue, uint32_t *n)
{
	struct pg_params p = { 0 };
	PGresult *r;
	int64_t v;
	int rv;

	pg_p_text(&p, queue);
	if ((r = pgq_run(Q(s), PGQ_ACTIVE, &p, "queue active", &rv)) == NULL) {
		return (rv);
	}
	v = PQntuples(r) > 0 ? pg_i64(r, 0, 0, 0) : 0;
	PQclear(r);
	*n = v > UINT32_MAX ? UINT32_MAX : (uint32_t) v;
	return (CAIRN_OK);
}

static int
pgq_bucket(struct store *s, const char *queue, int64_t credit, int64_t at)
{
	struct pg_params p = { 0 };

	stale(Q(s), queue);
	pg_p_text(&p, queue);
	pg_p_i64(&p, credit);
	pg_p_i64(&p, at);
	/* No answer needed: sent with the transaction's other writes. */
	return (pg_defer(Q(s), (enum pg_stmt) PGQ_BUCKET, &p, "queue bucket"));
}

const struct store_queue_ops pg_queue_ops = {
	.get = pgq_get,
	.put = pgq_put,
	.list = pgq_list,
	.active = pgq_active,
	.bucket = pgq_bucket,
};
