/*
 * store/postgres/sched.c - the PostgreSQL backend's cron schedules
 * (store/store_sched.h): prepared statements numbered after the workflow
 * ones, a row per schedule locked by load, and picks that skip the rows
 * another server holds, so that two servers never fire one schedule at
 * the same time (the tick's idempotency key makes a second firing a no-op
 * anyway).
 */
#include <stdlib.h>
#include <string.h>

#include "store/postgres/postgres.h"

#define Q(s) ((struct store_pg *) (s))

#define COLUMNS                                                               \
	"name, cron, zone, queue, payload, priority::int8, "                  \
	"max_attempts::int8, backoff_initial, backoff_multiplier, "           \
	"backoff_max, heartbeat_timeout, start_to_close, missed::int8, "      \
	"paused::int8, next_fire, last_fire, last_task, created_at, "         \
	"updated_at"

const char pgs_schema[]
    = "CREATE TABLE schedules ("
      "  name text PRIMARY KEY,"
      "  cron text NOT NULL,"
      "  zone text NOT NULL,"
      "  queue text NOT NULL,"
      "  payload bytea NOT NULL,"
      "  priority integer NOT NULL,"
      "  max_attempts bigint NOT NULL,"
      "  backoff_initial bigint NOT NULL,"
      "  backoff_multiplier double precision NOT NULL,"
      "  backoff_max bigint NOT NULL,"
      "  heartbeat_timeout bigint NOT NULL,"
      "  start_to_close bigint NOT NULL,"
      "  missed smallint NOT NULL,"
      "  paused smallint NOT NULL,"
      "  next_fire bigint NOT NULL,"
      "  last_fire bigint NOT NULL,"
      "  last_task bigint NOT NULL,"
      "  created_at bigint NOT NULL,"
      "  updated_at bigint NOT NULL"
      ");"
      "CREATE INDEX schedules_next ON schedules (next_fire) WHERE paused = 0;";

#define COLUMNS_PLAIN                                                         \
	"name, cron, zone, queue, payload, priority, max_attempts, "          \
	"backoff_initial, backoff_multiplier, backoff_max, "                  \
	"heartbeat_timeout, start_to_close, missed, paused, next_fire, "      \
	"last_fire, last_task, created_at, updated_at"

#define S(x) [(x) -PGQ_END_]
const char *const pgs_sql[PGS_END_ - PGQ_END_] = {
	S(PGS_INSERT)
	= "INSERT INTO schedules (" COLUMNS_PLAIN ") VALUES ($1, "
	  "$2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
	  "$14, $15, $16, $17, $18, $19) ON CONFLICT (name) DO "
	  "NOTHING RETURNING name",
	S(PGS_LOAD) = "SELECT " COLUMNS " FROM schedules WHERE name = $1 FOR "
	              "UPDATE",
	S(PGS_SAVE) = "UPDATE schedules SET cron = $2, zone = $3, queue = $4, "
	              "payload = $5, priority = $6, max_attempts = $7, "
	              "backoff_initial = $8, backoff_multiplier = $9, "
	              "backoff_max = $10, heartbeat_timeout = $11, "
	              "start_to_close = $12, missed = $13, paused = $14, "
	              "next_fire = $15, last_fire = $16, last_task = $17, "
	              "updated_at = $19 WHERE name = $1 AND $18::int8 IS NOT "
	              "NULL",
	S(PGS_REMOVE) = "DELETE FROM schedules WHERE name = $1 RETURNING name",
	S(PGS_LIST) = "SELECT " COLUMNS " FROM schedules ORDER BY name",
	S(PGS_PICK_DUE) = "SELECT name FROM schedules WHERE paused = 0 AND "
	                  "next_fire <= $1 ORDER BY next_fire LIMIT $2 FOR "
	                  "UPDATE SKIP LOCKED",
	S(PGS_NEXT_FIRE) = "SELECT min(next_fire) FROM schedules WHERE "
	                   "paused = 0",
};

/* run runs schedule statement which (pg_run, numbered after the rest). */
static PGresult *
run(struct store *s, enum pgs_stmt which, const struct pg_params *p,
    const char *what, int *rv)
{
	return (pg_run(Q(s), (enum pg_stmt) which, p, what, rv));
}

/* params adds sc's fields as $1 to $19. */
static void
params(struct pg_params *p, const struct schedule *sc)
{
	pg_p_text(p, sc->name);
	pg_p_text(p, sc->cron);
	pg_p_text(p, sc->zone != NULL ? sc->zone : "");
	pg_p_text(p, sc->queue);
	pg_p_bytes(p, sc->payload, sc->payload_len);
	pg_p_i64(p, sc->priority);
	pg_p_i64(p, sc->max_attempts);
	pg_p_i64(p, sc->retry.initial_ms);
	pg_p_f64(p, sc->retry.multiplier);
	pg_p_i64(p, sc->retry.max_ms);
	pg_p_i64(p, sc->heartbeat_timeout_ms);
	pg_p_i64(p, sc->start_to_close_ms);
	pg_p_i64(p, sc->missed);
	pg_p_i64(p, sc->paused);
	pg_p_i64(p, sc->next_fire_ms);
	pg_p_i64(p, sc->last_fire_ms);
	pg_p_i64(p, (int64_t) sc->last_task_id);
	pg_p_i64(p, sc->created_ms);
	pg_p_i64(p, sc->updated_ms);
}

static int
read_row(const PGresult *r, int i, struct schedule *sc)
{
	int rv;

	memset(sc, 0, sizeof(*sc));
	if ((rv = pg_text(r, i, 0, &sc->name)) != 0
	    || (rv = pg_text(r, i, 1, &sc->cron)) != 0
	    || (rv = pg_text(r, i, 2, &sc->zone)) != 0
	    || (rv = pg_text(r, i, 3, &sc->queue)) != 0
	    || (rv = pg_bytes(r, i, 4, &sc->payload, &sc->payload_len)) != 0) {
		schedule_clear(sc);
		return (rv);
	}
	sc->priority = (int32_t) pg_i64(r, i, 5, 0);
	sc->max_attempts = (uint32_t) pg_i64(r, i, 6, 0);
	sc->retry.initial_ms = pg_i64(r, i, 7, 0);
	sc->retry.multiplier = pg_f64(r, i, 8);
	sc->retry.max_ms = pg_i64(r, i, 9, 0);
	sc->heartbeat_timeout_ms = pg_i64(r, i, 10, 0);
	sc->start_to_close_ms = pg_i64(r, i, 11, 0);
	sc->missed = (int) pg_i64(r, i, 12, 0);
	sc->paused = pg_i64(r, i, 13, 0) != 0;
	sc->next_fire_ms = pg_i64(r, i, 14, 0);
	sc->last_fire_ms = pg_i64(r, i, 15, 0);
	sc->last_task_id = (uint64_t) pg_i64(r, i, 16, 0);
	sc->created_ms = pg_i64(r, i, 17, 0);
	sc->updated_ms = pg_i64(r, i, 18, 0);
	return (CAIRN_OK);
}

static int
pgs_insert(struct store *s, const struct schedule *sc)
{
	struct pg_params p = { 0 };
	PGresult *r;
	int rv = CAIRN_OK;

	params(&p, sc);
	if ((r = run(s, PGS_INSERT, &p, "insert schedule", &rv)) == NULL) {
		return (rv);
	}
	rv = PQntuples(r) == 1 ? CAIRN_OK
	                       : store_seterr(s, CAIRN_ALREADY_EXISTS,
	                           "schedule '%s' exists", sc->name);
	PQclear(r);
	return (rv);
}

static int
pgs_load(struct store *s, const char *name, struct schedule *out)
{
	struct pg_params p = { 0 };
	PGresult *r;
	int rv = CAIRN_OK;

	pg_p_text(&p, name);
	if ((r = run(s, PGS_LOAD, &p, "load schedule", &rv)) == NULL) {
		return (rv);
	}
	if (PQntuples(r) == 0) {
		rv = store_seterr(
		    s, CAIRN_NOT_FOUND, "schedule '%s' not found", name);
	} else if ((rv = read_row(r, 0, out)) != CAIRN_OK) {
		rv = store_seterr(s, rv, "no memory");
	}
	PQclear(r);
	return (rv);
}

static int
pgs_save(struct store *s, const struct schedule *sc)
{
	struct pg_params p = { 0 };
	PGresult *r;
	int rv = CAIRN_OK;

	params(&p, sc);
	if ((r = run(s, PGS_SAVE, &p, "save schedule", &rv)) == NULL) {
		return (rv);
	}
	PQclear(r);
	return (CAIRN_OK);
}

static int
pgs_remove(struct store *s, const char *name)
{
	struct pg_params p = { 0 };
	PGresult *r;
	int rv = CAIRN_OK;

	pg_p_text(&p, name);
	if ((r = run(s, PGS_REMOVE, &p, "delete schedule", &rv)) == NULL) {
		return (rv);
	}
	rv = PQntuples(r) > 0 ? CAIRN_OK
	                      : store_seterr(s, CAIRN_NOT_FOUND,
	                          "schedule '%s' not found", name);
	PQclear(r);
	return (rv);
}

static int
pgs_list(struct store *s, struct schedule **out, size_t *n)
{
	struct pg_params p = { 0 };
	PGresult *r;
	int rv = CAIRN_OK, rows, got = 0;

	if ((r = run(s, PGS_LIST, &p, "list schedules", &rv)) == NULL) {
		return (rv);
	}
	rows = PQntuples(r);
	struct schedule *v = calloc(rows > 0 ? (size_t) rows : 1, sizeof(*v));
	for (; v != NULL && got < rows; got++) {
		if ((rv = read_row(r, got, &v[got])) != CAIRN_OK) {
			break;
		}
	}
	PQclear(r);
	if (v == NULL || rv != CAIRN_OK) {
		schedules_free(v, (size_t) got);
		return (
		    store_seterr(s, CAIRN_RESOURCE_EXHAUSTED, "no memory"));
	}
	*out = v;
	*n = (size_t) rows;
	return (CAIRN_OK);
}

static int
pgs_pick_due(
    struct store *s, int64_t now, uint32_t max, char ***names, size_t *n)
{
	struct pg_params p = { 0 };
	PGresult *r;
	int rv = CAIRN_OK, rows, got = 0;

	pg_p_i64(&p, now);
	pg_p_i64(&p, max);
	if ((r = run(s, PGS_PICK_DUE, &p, "pick schedules", &rv)) == NULL) {
		return (rv);
	}
	rows = PQntuples(r);
	char **v = calloc(rows > 0 ? (size_t) rows : 1, sizeof(*v));
	for (; v != NULL && got < rows; got++) {
		if ((rv = pg_text(r, got, 0, &v[got])) != CAIRN_OK) {
			break;
		}
	}
	PQclear(r);
	if (v == NULL || rv != CAIRN_OK) {
		names_free(v, (size_t) got);
		return (
		    store_seterr(s, CAIRN_RESOURCE_EXHAUSTED, "no memory"));
	}
	*names = v;
	*n = (size_t) rows;
	return (CAIRN_OK);
}

static int
pgs_next_fire(struct store *s, int64_t *at)
{
	struct pg_params p = { 0 };
	PGresult *r;
	int rv = CAIRN_OK;

	if ((r = run(s, PGS_NEXT_FIRE, &p, "next tick", &rv)) == NULL) {
		return (rv);
	}
	*at = pg_i64(r, 0, 0, TASK_TIME_NEVER);
	PQclear(r);
	return (CAIRN_OK);
}

const struct store_sched_ops pg_sched_ops = {
	.insert = pgs_insert,
	.load = pgs_load,
	.save = pgs_save,
	.remove = pgs_remove,
	.list = pgs_list,
	.pick_due = pgs_pick_due,
	.next_fire = pgs_next_fire,
};
