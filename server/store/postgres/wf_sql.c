/*
 * store/postgres/wf_sql.c - the schema of durable workflows on PostgreSQL
 * (migration 2 -> 3) and the SQL of the statements that
 * store/postgres/workflow.c prepares, numbered after the task ones
 * (enum pgw_stmt).
 *
 * The tables mean what SQLite's mean (store/sqlite/wf_sql.c). Rows are
 * locked as task rows are: a run is loaded FOR UPDATE, and its entries
 * and inbox are written only by a transaction that holds its run, so the
 * run's lock serialises everything that touches one run. The picks skip
 * runs that another server holds (FOR UPDATE SKIP LOCKED); the pick of
 * fired timers locks the run of each entry, not the entry, so that every
 * transaction takes a run before its entries and never the other way
 * round.
 */
#include "store/postgres/postgres.h"

/* The filters of ListWorkflows after the one its index serves: $1 after,
 * $2 limit, $3 type, $4 state (0: any), $5 queue, $6 stuck only. */
#define PGW_LIST_FILTERS                                                      \
	"AND ($3::text IS NULL OR type = $3::text) AND ($4::integer = 0 OR "  \
	"state = $4::integer) AND ($5::text IS NULL OR queue = $5::text) "    \
	"AND (NOT $6::boolean OR stuck) ORDER BY id LIMIT $2"
#define PGW_ENTRY_FROM " FROM wf_entries WHERE run_id = $1 AND "

const char *const pgw_sql[PGW_END_ - PG_COUNT_] = {
#define W(x) [(x) -PG_COUNT_]
	W(PGW_INSERT) = "INSERT INTO wf_runs (workflow_id, type, queue, "
	                "input, state, phase, ready_at, parent_run, "
	                "parent_seq, created_at, updated_at) VALUES ($1, $2, "
	                "$3, $4, 1, 1, $5, $6, $7, $5, $5) ON CONFLICT DO "
	                "NOTHING RETURNING id",
	W(PGW_FIND) = "SELECT id FROM wf_runs WHERE workflow_id = $1",
	W(PGW_LOAD) = "SELECT " PGW_RUN_COLUMNS " FROM wf_runs WHERE id = $1 "
	              "FOR UPDATE",
	W(PGW_SAVE)
	= "UPDATE wf_runs SET state = $2, phase = $3, ready_at = $4, "
	  "result = $5, error = $6, cancel_requested = $7, "
	  "cancel_delivered = $8, stuck = $9, stuck_reason = $10, "
	  "next_seq = $11, resolved_count = $12, lease_resolved = $13, "
	  "task_attempt = $14, failures = $15, worker_id = $16, "
	  "lease_token = $17, lease_deadline = $18, lease_timeout = $19, "
	  "lease_outcome = $20, updated_at = $21, finished_at = $22 "
	  "WHERE id = $1",
	/* Picks read whole rows: the loads that follow are answered from
	 * them (store/postgres/workflow.c). */
	W(PGW_PICK_READY) = "SELECT " PGW_RUN_COLUMNS " FROM wf_runs WHERE "
	                    "phase = 1 AND queue = $1 AND ready_at <= $2 "
	                    "ORDER BY ready_at, id LIMIT $3 "
	                    "FOR UPDATE SKIP LOCKED",
	W(PGW_PICK_EXPIRED) = "SELECT " PGW_RUN_COLUMNS " FROM wf_runs WHERE "
	                      "phase = 2 AND lease_deadline <= $1 "
	                      "ORDER BY lease_deadline LIMIT $2 "
	                      "FOR UPDATE SKIP LOCKED",
	W(PGW_ENTRY_INSERT)
	= "INSERT INTO wf_entries (run_id, seq, kind, name, input_hash, "
	  "input, status, result, error, created_at, resolved_at, "
	  "resolved_order, task_id, child_run, fire_at) VALUES ($1, $2, $3, "
	  "$4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
	W(PGW_ENTRY_LOAD)
	= "SELECT " PGW_ENTRY_COLUMNS PGW_ENTRY_FROM "seq = $2",
	W(PGW_ENTRY_SAVE)
	= "UPDATE wf_entries SET status = $3, result = $4, error = $5, "
	  "resolved_at = $6, resolved_order = $7, task_id = $8, "
	  "child_run = $9, fire_at = $10 WHERE run_id = $1 AND seq = $2",
	/* LIMIT NULL is no limit. */
	W(PGW_ENTRIES) = "SELECT " PGW_ENTRY_COLUMNS PGW_ENTRY_FROM
	                 "seq > $2 ORDER BY seq LIMIT $3",
	/* Two halves, each on an index, rather than one OR that reads the
	 * whole log of the run; "resolved_order > 0" names the partial
	 * index, which a parameter alone cannot prove. */
	W(PGW_ENTRIES_DELTA)
	= "SELECT " PGW_ENTRY_COLUMNS PGW_ENTRY_FROM
	  "seq > $2 UNION SELECT " PGW_ENTRY_COLUMNS PGW_ENTRY_FROM
	  "resolved_order > $3 AND resolved_order > 0 ORDER BY 1 LIMIT $4",
	W(PGW_ENTRIES_PENDING) = "SELECT " PGW_ENTRY_COLUMNS PGW_ENTRY_FROM
	                         "status = 1 AND seq > $2 ORDER BY seq "
	                         "LIMIT $3",
	W(PGW_HISTORY)
	= "SELECT e.seq, e.kind, e.name, e.input_hash, e.status, e.result, "
	  "e.error, e.created_at, e.resolved_at, e.resolved_order, "
	  "e.task_id, e.child_run, e.fire_at, e.input, t.attempt, t.queue "
	  "FROM wf_entries e LEFT JOIN tasks t ON t.id = e.task_id "
	  "WHERE e.run_id = $1 AND e.seq > $2 ORDER BY e.seq LIMIT $3",
	/* Locks the runs, not the entries (see the top of this file); two
	 * entries of one run lock it once. */
	W(PGW_PICK_FIRED)
	= "SELECT e.run_id, e.seq FROM wf_entries e JOIN wf_runs r ON "
	  "r.id = e.run_id WHERE e.status = 1 AND e.fire_at <= $1 "
	  "ORDER BY e.fire_at LIMIT $2 FOR UPDATE OF r SKIP LOCKED",
	W(PGW_FIND_WAIT)
	= "SELECT seq" PGW_ENTRY_FROM "status = 1 AND kind = 4 AND name = $2 "
	  "ORDER BY seq LIMIT 1",
	W(PGW_INBOX_PUT) = "INSERT INTO wf_inbox (run_id, name, payload, at) "
	                   "VALUES ($1, $2, $3, $4)",
	W(PGW_INBOX_TAKE) = "DELETE FROM wf_inbox WHERE id = (SELECT id FROM "
	                    "wf_inbox WHERE run_id = $1 AND name = $2 "
	                    "ORDER BY id LIMIT 1) RETURNING payload",
	/* Each list walks the index of its first filter in id order. */
	W(PGW_LIST_ANY) = "SELECT " PGW_RUN_COLUMNS " FROM wf_runs WHERE "
	                  "id > $1 " PGW_LIST_FILTERS,
	W(PGW_LIST_TYPE) = "SELECT " PGW_RUN_COLUMNS " FROM wf_runs WHERE "
	                   "type = $3::text AND id > $1 " PGW_LIST_FILTERS,
	W(PGW_LIST_STATE)
	= "SELECT " PGW_RUN_COLUMNS " FROM wf_runs WHERE "
	  "state = $4::integer AND id > $1 " PGW_LIST_FILTERS,
	W(PGW_LIST_STUCK) = "SELECT " PGW_RUN_COLUMNS " FROM wf_runs WHERE "
	                    "stuck AND id > $1 " PGW_LIST_FILTERS,
	W(PGW_LIST_QUEUE) = "SELECT " PGW_RUN_COLUMNS " FROM wf_runs WHERE "
	                    "queue = $5::text AND id > $1 " PGW_LIST_FILTERS,
	W(PGW_STATS) = "SELECT type, state, count(*), count(*) FILTER (WHERE "
	               "stuck) FROM wf_runs GROUP BY type, state "
	               "ORDER BY type, state",
	/* One round trip, as the tasks' prune; SKIP LOCKED leaves a run
	 * that another server holds to the next round. */
	/* As PGW_LOAD, without the lock (store_wf_ops.get). */
	W(PGW_GET) = "SELECT " PGW_RUN_COLUMNS " FROM wf_runs WHERE id = $1",
	/* The runs a transaction is about to change, locked up front in id
	 * order (store/postgres/wf_locks.c): those its ops name ($1), those
	 * of the tasks it loads ($2), and their parents, whose child entries
	 * a finishing run resolves. ORDER BY comes before the locks, so two
	 * servers lock the runs they share in one order. */
	W(PGW_LOCK_RUNS)
	= "WITH named AS (SELECT unnest($1::bigint[]) AS id UNION "
	  "SELECT wf_run FROM tasks WHERE id = ANY($2::bigint[]) AND "
	  "wf_run IS NOT NULL) "
	  "SELECT id FROM wf_runs WHERE id IN (SELECT id FROM named) OR id IN "
	  "(SELECT parent_run FROM wf_runs WHERE id IN (SELECT id FROM named) "
	  "AND parent_run IS NOT NULL) ORDER BY id FOR UPDATE",
	W(PGW_PRUNE)
	= "WITH doomed AS (SELECT id FROM wf_runs WHERE "
	  "state >= 3 AND finished_at < $1 LIMIT $2 "
	  "FOR UPDATE SKIP LOCKED), "
	  "e AS (DELETE FROM wf_entries WHERE run_id IN "
	  "(SELECT id FROM doomed)), "
	  "i AS (DELETE FROM wf_inbox WHERE run_id IN "
	  "(SELECT id FROM doomed)) "
	  "DELETE FROM wf_runs WHERE id IN (SELECT id FROM doomed) "
	  "RETURNING id",
#undef W
};

/* Migration 2 -> 3 (store/postgres/schema.c). */
const char pgw_schema[]
    /* An activity's task names its run and entry. */
    = "ALTER TABLE tasks ADD COLUMN wf_run bigint, ADD COLUMN wf_seq bigint;"
      "CREATE TABLE wf_runs ("
      "  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
      "  workflow_id text COLLATE \"C\" NOT NULL,"
      "  type text COLLATE \"C\" NOT NULL,"
      "  queue text COLLATE \"C\" NOT NULL,"
      "  input bytea NOT NULL,"
      "  state smallint NOT NULL,"
      "  phase smallint NOT NULL,"
      "  ready_at bigint NOT NULL,"
      "  result bytea,"
      "  error text,"
      "  cancel_requested boolean NOT NULL DEFAULT false,"
      "  cancel_delivered boolean NOT NULL DEFAULT false,"
      "  stuck boolean NOT NULL DEFAULT false,"
      "  stuck_reason text,"
      "  next_seq bigint NOT NULL DEFAULT 1,"
      "  resolved_count bigint NOT NULL DEFAULT 0,"
      "  lease_resolved bigint NOT NULL DEFAULT 0,"
      "  task_attempt bigint NOT NULL DEFAULT 0,"
      "  failures bigint NOT NULL DEFAULT 0,"
      "  worker_id text,"
      "  lease_token text,"
      "  lease_deadline bigint,"
      "  lease_timeout bigint NOT NULL DEFAULT 0,"
      "  lease_outcome smallint NOT NULL DEFAULT 0,"
      "  parent_run bigint,"
      "  parent_seq bigint,"
      "  created_at bigint NOT NULL,"
      "  updated_at bigint NOT NULL,"
      "  finished_at bigint"
      ");"
      /* One run per workflow_id while it is retained; insert's
       * ON CONFLICT DO NOTHING relies on it. */
      "CREATE UNIQUE INDEX wf_runs_workflow_id ON wf_runs (workflow_id);"
      /* Lease order within a queue, over runnable runs only. */
      "CREATE INDEX wf_runs_ready ON wf_runs (queue, ready_at, id)"
      "  WHERE phase = 1;"
      /* When a run that waits for its retry becomes runnable. In the
       * picks' order too, so that a pick the planner serves from it
       * reads no more rows than it takes (SQLite's has ready_at alone). */
      "CREATE INDEX wf_runs_ready_at ON wf_runs (ready_at, id)"
      "  WHERE phase = 1;"
      /* Leases to expire. */
      "CREATE INDEX wf_runs_leased ON wf_runs (lease_deadline)"
      "  WHERE phase = 2;"
      /* Retention. */
      "CREATE INDEX wf_runs_finished ON wf_runs (finished_at)"
      "  WHERE state >= 3;"
      /* The metrics (read from the index alone), and lists by type,
       * state, queue, or of stuck runs. */
      "CREATE INDEX wf_runs_type ON wf_runs (type, state, stuck);"
      "CREATE INDEX wf_runs_type_id ON wf_runs (type, id);"
      "CREATE INDEX wf_runs_state ON wf_runs (state, id);"
      "CREATE INDEX wf_runs_queue ON wf_runs (queue, id);"
      "CREATE INDEX wf_runs_stuck ON wf_runs (id) WHERE stuck;"
      "CREATE TABLE wf_entries ("
      "  run_id bigint NOT NULL,"
      "  seq bigint NOT NULL,"
      "  kind smallint NOT NULL,"
      "  name text COLLATE \"C\" NOT NULL,"
      "  input_hash bigint NOT NULL,"
      "  input bytea NOT NULL,"
      "  status smallint NOT NULL,"
      "  result bytea,"
      "  error text,"
      "  created_at bigint NOT NULL,"
      "  resolved_at bigint,"
      "  resolved_order bigint NOT NULL DEFAULT 0,"
      "  task_id bigint,"
      "  child_run bigint,"
      "  fire_at bigint,"
      "  PRIMARY KEY (run_id, seq)"
      ");"
      /* Timers and signal timeouts that come due. */
      "CREATE INDEX wf_entries_fire ON wf_entries (fire_at)"
      "  WHERE status = 1 AND fire_at IS NOT NULL;"
      /* A run's pending entries: cancel, and the wait a signal ends. */
      "CREATE INDEX wf_entries_pending ON wf_entries (run_id, kind, name,"
      "  seq) WHERE status = 1;"
      /* What resolved since a worker last saw the run. */
      "CREATE INDEX wf_entries_resolved ON wf_entries (run_id,"
      "  resolved_order) WHERE resolved_order > 0;"
      "CREATE TABLE wf_inbox ("
      "  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
      "  run_id bigint NOT NULL,"
      "  name text COLLATE \"C\" NOT NULL,"
      "  payload bytea NOT NULL,"
      "  at bigint NOT NULL"
      ");"
      "CREATE INDEX wf_inbox_run ON wf_inbox (run_id, name, id);"
      /*
       * Wake-ups across servers, on the channel of tasks (notify_due):
       * a run that becomes runnable (started, or back from waiting, a
       * lease or a failed turn) sends '@' and its queue, so that parked
       * LeaseWorkflow calls of that queue look again; a run that ends
       * sends '!', so that parked AwaitWorkflow calls look again. Task
       * queues cannot start with either character (queue names are
       * [A-Za-z0-9_.:-]), so the engine tells the three apart by the
       * first byte. As for tasks, PostgreSQL sends at commit and folds
       * duplicates within a transaction.
       */
      "CREATE FUNCTION notify_runnable() RETURNS trigger LANGUAGE plpgsql"
      " AS $$ BEGIN PERFORM pg_notify('cairn_due', '@' || NEW.queue);"
      " RETURN NULL; END $$;"
      "CREATE FUNCTION notify_finished() RETURNS trigger LANGUAGE plpgsql"
      " AS $$ BEGIN PERFORM pg_notify('cairn_due', '!'); RETURN NULL; END"
      " $$;"
      "CREATE TRIGGER wf_runs_runnable_insert AFTER INSERT ON wf_runs"
      "  FOR EACH ROW WHEN (NEW.phase = 1) EXECUTE FUNCTION"
      "  notify_runnable();"
      "CREATE TRIGGER wf_runs_runnable_update AFTER UPDATE OF phase ON"
      "  wf_runs FOR EACH ROW WHEN (NEW.phase = 1 AND OLD.phase <> 1)"
      "  EXECUTE FUNCTION notify_runnable();"
      "CREATE TRIGGER wf_runs_finished AFTER UPDATE OF state ON wf_runs"
      "  FOR EACH ROW WHEN (NEW.state >= 3 AND OLD.state < 3)"
      "  EXECUTE FUNCTION notify_finished();";
