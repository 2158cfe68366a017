/*
 * store/sqlite/sql.c - the SQL of every statement that the SQLite backend
 * prepares once at open (enum sq_stmt).
 */
#include "store/sqlite/sqlite.h"

const char *const sq_sql[SQ_COUNT_] = {
	[SQ_BEGIN] = "BEGIN IMMEDIATE",
	[SQ_COMMIT] = "COMMIT",
	[SQ_ROLLBACK] = "ROLLBACK",
	[SQ_INSERT] = "INSERT INTO tasks (queue, payload, priority, state, "
	              "run_at, attempt, max_attempts, backoff_initial, "
	              "backoff_multiplier, backoff_max, heartbeat_timeout, "
	              "start_to_close, idempotency_key, created_at, "
	              "updated_at, event_seq, wf_run, wf_seq) VALUES (?1, ?2, "
	              "?3, 1, ?4, 0, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, "
	              "1, ?13, ?14) "
	              "ON CONFLICT DO NOTHING",
	[SQ_FIND_KEY] = "SELECT id FROM tasks WHERE queue = ?1 AND "
	                "idempotency_key = ?2",
	[SQ_LOAD] = "SELECT " SQ_TASK_COLUMNS " FROM tasks WHERE id = ?1",
	[SQ_SAVE]
	= "UPDATE tasks SET state = ?2, run_at = ?3, attempt = ?4, "
	  "details = ?5, result = ?6, last_error = ?7, "
	  "cancel_requested = ?8, worker_id = ?9, lease_token = ?10, "
	  "lease_deadline = ?11, updated_at = ?12, finished_at = ?13, "
	  "lease_timeout = ?14, attempt_deadline = ?15, "
	  "lease_outcome = ?16, event_seq = ?17 WHERE id = ?1",
	[SQ_ADD_EVENT]
	= "INSERT INTO events (task_id, seq, at, kind, attempt, "
	  "worker_id, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
	  "?7)",
	[SQ_PICK_DUE] = "SELECT id FROM tasks WHERE state = 1 AND queue = ?1 "
	                "AND run_at <= ?2 ORDER BY priority DESC, run_at, id "
	                "LIMIT ?3",
	[SQ_PICK_EXPIRED] = "SELECT id FROM tasks WHERE state = 2 AND "
	                    "lease_deadline <= ?1 ORDER BY lease_deadline "
	                    "LIMIT ?2",
	[SQ_NEXT_DUE] = "SELECT min(run_at) FROM tasks WHERE state = 1 AND "
	                "run_at > ?1",
	[SQ_NEXT_DEADLINE] = "SELECT min(lease_deadline) FROM tasks WHERE "
	                     "state = 2",
	[SQ_LIST_ANY] = "SELECT " SQ_TASK_COLUMNS " FROM tasks WHERE "
	                "queue = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
	[SQ_LIST_STATE] = "SELECT " SQ_TASK_COLUMNS " FROM tasks WHERE "
	                  "queue = ?1 AND state = ?4 AND id > ?2 ORDER BY id "
	                  "LIMIT ?3",
	[SQ_STATS_COUNTS] = "SELECT queue, state, count(*) FROM tasks WHERE "
	                    "?1 IS NULL OR queue = ?1 GROUP BY queue, state "
	                    "ORDER BY queue",
	[SQ_STATS_DUE] = "SELECT queue, count(*), min(run_at) FROM tasks "
	                 "WHERE state = 1 AND run_at <= ?2 AND "
	                 "(?1 IS NULL OR queue = ?1) GROUP BY queue",
	[SQ_HISTORY] = "SELECT at, kind, attempt, worker_id, message FROM "
	               "events WHERE task_id = ?1 ORDER BY seq",
	[SQ_PRUNE_PICK] = "SELECT id FROM tasks WHERE state >= 3 AND "
	                  "finished_at < ?1 LIMIT ?2",
	[SQ_PRUNE_EVENTS] = "DELETE FROM events WHERE task_id = ?1",
	[SQ_PRUNE_TASK] = "DELETE FROM tasks WHERE id = ?1",
	[SQ_REQUEST_GET] = "SELECT result FROM requests WHERE key = ?1",
	[SQ_REQUEST_PUT] = "INSERT INTO requests (key, at, result) "
	                   "VALUES (?1, ?2, ?3)",
	/* It runs in every transaction. "+key" keeps the planner on
	 * requests_at, so that when nothing is old enough it is one index
	 * seek; on the primary key it built the IN list (an ephemeral
	 * table) every time: a tenth of the work of a single-task commit. */
	[SQ_REQUEST_PRUNE]
	= "DELETE FROM requests WHERE at < ?1 AND +key IN "
	  "(SELECT key FROM requests WHERE at < ?1 ORDER BY "
	  "at LIMIT ?2)",
};
