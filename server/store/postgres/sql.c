/*
 * store/postgres/sql.c - the SQL of every statement that the PostgreSQL
 * backend prepares on its connection (as "cairn_<n>", n its enum
 * pg_stmt), in one table.
 *
 * Parameters travel as text (numbers) or binary (bytea); results come back
 * binary (store/postgres/read.c). Every statement has an index made for
 * it: the connection runs without sequential scans
 * (store/postgres/postgres.c).
 */
#include "store/postgres/postgres.h"

/* A new task's columns: every insert names them in this order. */
#define SQL_INSERT_TASK                                                       \
	"INSERT INTO tasks (id, queue, payload, priority, state, run_at, "    \
	"attempt, max_attempts, backoff_initial, backoff_multiplier, "        \
	"backoff_max, heartbeat_timeout, start_to_close, idempotency_key, "   \
	"created_at, updated_at, event_seq, wf_run, wf_seq) "
/* The values of one task: $13 its id, from a block taken ahead; $14 and
 * $15 the run and entry of an activity's task. */
#define SQL_INSERT_VALUES                                                     \
	"VALUES ($13, $1, $2, $3, 1, $4, 0, $5, $6, $7, $8, $9, $10, $11, "   \
	"$12, $12, 1, $14, $15)"

const char *const pg_sql[PG_COUNT_] = {
	/* Ids come from blocks taken ahead from the sequence (pg_insert). */
	[PG_INSERT] = SQL_INSERT_TASK SQL_INSERT_VALUES
	" ON CONFLICT DO NOTHING RETURNING id",
	[PG_INSERT_ID] = SQL_INSERT_TASK SQL_INSERT_VALUES,
	[PG_NEXT_IDS]
	= "SELECT nextval(pg_get_serial_sequence('tasks', 'id')) "
	  "FROM generate_series(1, $1)",
	[PG_FIND_KEY] = "SELECT id FROM tasks WHERE queue = $1 AND "
	                "idempotency_key = $2",
	[PG_LOAD] = "SELECT " PG_TASK_COLUMNS " FROM tasks WHERE id = $1 "
	            "FOR UPDATE",
	[PG_GET] = "SELECT " PG_TASK_COLUMNS " FROM tasks WHERE id = $1",
	[PG_SAVE]
	= "UPDATE tasks SET state = $2, run_at = $3, attempt = $4, "
	  "details = $5, result = $6, last_error = $7, "
	  "cancel_requested = $8, worker_id = $9, lease_token = $10, "
	  "lease_deadline = $11, updated_at = $12, finished_at = $13, "
	  "lease_timeout = $14, attempt_deadline = $15, "
	  "lease_outcome = $16, event_seq = $17 WHERE id = $1",
	[PG_ADD_EVENT]
	= "INSERT INTO events (task_id, seq, at, kind, attempt, "
	  "worker_id, message) VALUES ($1, $2, $3, $4, $5, $6, "
	  "$7)",
	/* Picks read whole rows: the loads that follow are answered from
	 * them (store/postgres/rows.c). */
	[PG_PICK_DUE] = "SELECT " PG_TASK_COLUMNS " FROM tasks WHERE "
	                "state = 1 AND queue = $1 AND run_at <= $2 "
	                "ORDER BY priority DESC, run_at, id "
	                "LIMIT $3 FOR UPDATE SKIP LOCKED",
	[PG_PICK_EXPIRED] = "SELECT " PG_TASK_COLUMNS " FROM tasks WHERE "
	                    "state = 2 AND lease_deadline <= $1 "
	                    "ORDER BY lease_deadline "
	                    "LIMIT $2 FOR UPDATE SKIP LOCKED",
	/* Every instant the engine must wake at, one per column, each the
	 * first entry of a partial index: a task or a run becoming due, a
	 * task's or a run's lease ending, a timer or signal timeout. */
	[PG_NEXT_WAKEUP]
	= "SELECT (SELECT min(run_at) FROM tasks WHERE state = 1 AND "
	  "run_at > $1), (SELECT min(lease_deadline) FROM tasks WHERE "
	  "state = 2), (SELECT min(ready_at) FROM wf_runs WHERE phase = 1 "
	  "AND ready_at > $1), (SELECT min(lease_deadline) FROM wf_runs "
	  "WHERE phase = 2), (SELECT min(fire_at) FROM wf_entries WHERE "
	  "status = 1 AND fire_at IS NOT NULL)",
	[PG_LIST_ANY] = "SELECT " PG_TASK_COLUMNS " FROM tasks WHERE "
	                "queue = $1 AND id > $2 ORDER BY id LIMIT $3",
	[PG_LIST_STATE] = "SELECT " PG_TASK_COLUMNS " FROM tasks WHERE "
	                  "queue = $1 AND state = $4 AND id > $2 ORDER BY id "
	                  "LIMIT $3",
	[PG_STATS_COUNTS] = "SELECT queue, state, count(*) FROM tasks WHERE "
	                    "$1::text IS NULL OR queue = $1::text "
	                    "GROUP BY queue, state ORDER BY queue",
	[PG_STATS_DUE] = "SELECT queue, count(*), min(run_at) FROM tasks "
	                 "WHERE state = 1 AND run_at <= $2 AND "
	                 "($1::text IS NULL OR queue = $1::text) "
	                 "GROUP BY queue",
	[PG_HISTORY] = "SELECT at, kind, attempt, worker_id, message FROM "
	               "events WHERE task_id = $1 ORDER BY seq",
	/* One round trip; SKIP LOCKED leaves a task that another server is
	 * reading for update to the next round. */
	[PG_PRUNE] = "WITH doomed AS (SELECT id FROM tasks WHERE state >= 3 "
	             "AND finished_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED), "
	             "gone AS (DELETE FROM events WHERE task_id IN "
	             "(SELECT id FROM doomed)) "
	             "DELETE FROM tasks WHERE id IN (SELECT id FROM doomed) "
	             "RETURNING id",
	[PG_REQUEST_GET] = "SELECT result FROM requests WHERE key = $1",
	[PG_REQUEST_PUT] = "INSERT INTO requests (key, at, result) "
	                   "VALUES ($1, $2, $3)",
	[PG_REQUEST_PRUNE] = "DELETE FROM requests WHERE key IN (SELECT key "
	                     "FROM requests WHERE at < $1 ORDER BY at "
	                     "LIMIT $2 FOR UPDATE SKIP LOCKED)",
	[PG_LOAD_MANY] = "SELECT " PG_TASK_COLUMNS " FROM tasks WHERE "
	                 "id = ANY($1::bigint[]) ORDER BY id FOR UPDATE",
	[PG_REQUEST_GET_MANY] = "SELECT key, result FROM requests WHERE "
	                        "key = ANY($1::text[])",
	/* The gathered forms of PG_INSERT_ID, PG_SAVE and PG_ADD_EVENT: the
	 * same parameters, each an array with a value per row
	 * (store/postgres/gather.c); numbers come as text, as they do to
	 * the single-row statements. */
	[PG_INSERT_MANY] = SQL_INSERT_TASK
	"SELECT id::bigint, queue, payload, priority::integer, 1, "
	"run_at::bigint, 0, max_attempts::bigint, "
	"backoff_initial::bigint, backoff_multiplier::double precision, "
	"backoff_max::bigint, heartbeat_timeout::bigint, "
	"start_to_close::bigint, idempotency_key, created_at::bigint, "
	"created_at::bigint, 1, wf_run::bigint, wf_seq::bigint FROM "
	"unnest($1::text[], $2::bytea[], $3::text[], $4::text[], "
	"$5::text[], $6::text[], $7::text[], $8::text[], $9::text[], "
	"$10::text[], $11::text[], $12::text[], $13::text[], $14::text[], "
	"$15::text[]) AS v(queue, payload, priority, run_at, "
	"max_attempts, backoff_initial, backoff_multiplier, backoff_max, "
	"heartbeat_timeout, start_to_close, idempotency_key, created_at, "
	"id, wf_run, wf_seq)",
	/* The rows are found through the primary key by = ANY, whatever
	 * plan the join gets. */
	[PG_SAVE_MANY]
	= "UPDATE tasks AS t SET state = v.state::smallint, "
	  "run_at = v.run_at::bigint, attempt = v.attempt::bigint, "
	  "details = v.details, result = v.result, "
	  "last_error = v.last_error, "
	  "cancel_requested = v.cancel_requested::boolean, "
	  "worker_id = v.worker_id, lease_token = v.lease_token, "
	  "lease_deadline = v.lease_deadline::bigint, "
	  "updated_at = v.updated_at::bigint, "
	  "finished_at = v.finished_at::bigint, "
	  "lease_timeout = v.lease_timeout::bigint, "
	  "attempt_deadline = v.attempt_deadline::bigint, "
	  "lease_outcome = v.lease_outcome::smallint, "
	  "event_seq = v.event_seq::bigint "
	  "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], "
	  "$5::bytea[], $6::bytea[], $7::text[], $8::text[], $9::text[], "
	  "$10::text[], $11::text[], $12::text[], $13::text[], $14::text[], "
	  "$15::text[], $16::text[], $17::text[]) AS v(id, state, run_at, "
	  "attempt, details, result, last_error, cancel_requested, "
	  "worker_id, lease_token, lease_deadline, updated_at, finished_at, "
	  "lease_timeout, attempt_deadline, lease_outcome, event_seq) "
	  "WHERE t.id = ANY($1::text[]::bigint[]) AND t.id = v.id::bigint",
	[PG_ADD_EVENT_MANY]
	= "INSERT INTO events (task_id, seq, at, kind, attempt, worker_id, "
	  "message) SELECT task_id::bigint, seq::bigint, at::bigint, kind, "
	  "attempt::bigint, worker_id, message FROM unnest($1::text[], "
	  "$2::text[], $3::text[], $4::text[], $5::text[], $6::text[], "
	  "$7::text[]) AS v(task_id, seq, at, kind, attempt, worker_id, "
	  "message)",
};
