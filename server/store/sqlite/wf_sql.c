/*
 * store/sqlite/wf_sql.c - the SQL of the workflow statements (runs, log
 * entries, inboxes), prepared at open like sq_sql.
 */
#include "store/sqlite/sqlite.h"

#define SQW_LIST_FILTERS                                                      \
	"AND (?3 IS NULL OR type = ?3) AND (?4 = 0 OR state = ?4) AND "       \
	"(?5 IS NULL OR queue = ?5) AND (?6 = 0 OR stuck = 1) ORDER BY id "   \
	"LIMIT ?2"

const char *const sqw_sql[SQW_COUNT_] = {
	[SQW_INSERT] = "INSERT INTO wf_runs (workflow_id, type, queue, input, "
	               "state, phase, ready_at, parent_run, parent_seq, "
	               "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, 1, 1, "
	               "?5, ?6, ?7, ?5, ?5) ON CONFLICT DO NOTHING",
	[SQW_FIND] = "SELECT id FROM wf_runs WHERE workflow_id = ?1",
	[SQW_LOAD] = "SELECT " SQW_RUN_COLUMNS " FROM wf_runs WHERE id = ?1",
	[SQW_SAVE] = "UPDATE wf_runs SET state = ?2, phase = ?3, "
	             "ready_at = ?4, result = ?5, error = ?6, "
	             "cancel_requested = ?7, cancel_delivered = ?8, "
	             "stuck = ?9, stuck_reason = ?10, next_seq = ?11, "
	             "resolved_count = ?12, lease_resolved = ?13, "
	             "task_attempt = ?14, failures = ?15, worker_id = ?16, "
	             "lease_token = ?17, lease_deadline = ?18, "
	             "lease_timeout = ?19, lease_outcome = ?20, "
	             "updated_at = ?21, finished_at = ?22 WHERE id = ?1",
	[SQW_PICK_READY] = "SELECT id FROM wf_runs WHERE phase = 1 AND "
	                   "queue = ?1 AND ready_at <= ?2 ORDER BY ready_at, "
	                   "id LIMIT ?3",
	[SQW_PICK_EXPIRED] = "SELECT id FROM wf_runs WHERE phase = 2 AND "
	                     "lease_deadline <= ?1 ORDER BY lease_deadline "
	                     "LIMIT ?2",
	[SQW_NEXT_WAKEUP]
	= "SELECT min(v) FROM (SELECT min(ready_at) AS v FROM wf_runs "
	  "WHERE phase = 1 AND ready_at > ?1 UNION ALL SELECT "
	  "min(lease_deadline) FROM wf_runs WHERE phase = 2 UNION ALL "
	  "SELECT min(fire_at) FROM wf_entries WHERE status = 1 AND "
	  "fire_at IS NOT NULL)",
	[SQW_ENTRY_INSERT]
	= "INSERT INTO wf_entries (run_id, seq, kind, name, input_hash, "
	  "input, status, result, error, created_at, resolved_at, "
	  "resolved_order, task_id, child_run, fire_at) VALUES (?1, ?2, "
	  "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
	[SQW_ENTRY_LOAD] = "SELECT " SQW_ENTRY_COLUMNS
	                   ", NULL, NULL, NULL FROM wf_entries WHERE "
	                   "run_id = ?1 AND seq = ?2",
	[SQW_ENTRY_SAVE]
	= "UPDATE wf_entries SET status = ?3, result = ?4, error = ?5, "
	  "resolved_at = ?6, resolved_order = ?7, task_id = ?8, "
	  "child_run = ?9, fire_at = ?10 WHERE run_id = ?1 AND seq = ?2",
	[SQW_ENTRIES] = "SELECT " SQW_ENTRY_COLUMNS
	                ", NULL, NULL, NULL FROM wf_entries WHERE "
	                "run_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
	/* Two halves, each on an index, rather than one OR that reads the
	 * whole log of the run. */
	[SQW_ENTRIES_DELTA]
	= "SELECT " SQW_ENTRY_COLUMNS
	  ", NULL, NULL, NULL FROM wf_entries WHERE run_id = ?1 AND seq > ?2 "
	  "UNION SELECT " SQW_ENTRY_COLUMNS
	  ", NULL, NULL, NULL FROM wf_entries INDEXED BY "
	  "wf_entries_resolved WHERE run_id = ?1 AND resolved_order > ?3 AND "
	  "resolved_order > 0 ORDER BY 1 LIMIT ?4",
	/* The planner would walk the run's whole log by its key: a long
	 * log has few pending entries, which their index finds. */
	[SQW_ENTRIES_PENDING]
	= "SELECT " SQW_ENTRY_COLUMNS
	  ", NULL, NULL, NULL FROM wf_entries INDEXED BY "
	  "wf_entries_pending WHERE run_id = ?1 AND "
	  "status = 1 AND seq > ?2 ORDER BY seq LIMIT ?3",
	[SQW_HISTORY] = "SELECT e.seq, e.kind, e.name, e.input_hash, "
	                "e.status, e.result, e.error, e.created_at, "
	                "e.resolved_at, e.resolved_order, e.task_id, "
	                "e.child_run, e.fire_at, e.input, t.attempt, t.queue "
	                "FROM wf_entries e LEFT JOIN tasks t ON "
	                "t.id = e.task_id WHERE e.run_id = ?1 AND e.seq > ?2 "
	                "ORDER BY e.seq LIMIT ?3",
	[SQW_PICK_FIRED] = "SELECT run_id, seq FROM wf_entries WHERE "
	                   "status = 1 AND fire_at <= ?1 ORDER BY fire_at "
	                   "LIMIT ?2",
	[SQW_FIND_WAIT] = "SELECT seq FROM wf_entries INDEXED BY "
	                  "wf_entries_pending WHERE run_id = ?1 AND "
	                  "status = 1 AND kind = 4 AND name = ?2 ORDER BY "
	                  "seq LIMIT 1",
	[SQW_INBOX_PUT] = "INSERT INTO wf_inbox (run_id, name, payload, at) "
	                  "VALUES (?1, ?2, ?3, ?4)",
	[SQW_INBOX_PEEK] = "SELECT id, payload FROM wf_inbox WHERE "
	                   "run_id = ?1 AND name = ?2 ORDER BY id LIMIT 1",
	[SQW_INBOX_DELETE] = "DELETE FROM wf_inbox WHERE id = ?1",
	/* ?1 after, ?2 limit, then the filters: ?3 type, ?4 state, ?5
	 * queue, ?6 stuck only; each list reads the index of its first
	 * filter in id order. */
	[SQW_LIST_ANY] = "SELECT " SQW_RUN_COLUMNS " FROM wf_runs WHERE "
	                 "id > ?1 " SQW_LIST_FILTERS,
	[SQW_LIST_TYPE] = "SELECT " SQW_RUN_COLUMNS " FROM wf_runs WHERE "
	                  "type = ?3 AND id > ?1 " SQW_LIST_FILTERS,
	[SQW_LIST_STATE] = "SELECT " SQW_RUN_COLUMNS " FROM wf_runs WHERE "
	                   "state = ?4 AND id > ?1 " SQW_LIST_FILTERS,
	[SQW_LIST_STUCK] = "SELECT " SQW_RUN_COLUMNS " FROM wf_runs WHERE "
	                   "stuck = 1 AND id > ?1 " SQW_LIST_FILTERS,
	[SQW_STATS] = "SELECT type, state, count(*), sum(stuck) FROM wf_runs "
	              "GROUP BY type, state ORDER BY type",
	[SQW_PRUNE_PICK] = "SELECT id FROM wf_runs WHERE state >= 3 AND "
	                   "finished_at < ?1 LIMIT ?2",
	[SQW_PRUNE_ENTRIES] = "DELETE FROM wf_entries WHERE run_id = ?1",
	[SQW_PRUNE_INBOX] = "DELETE FROM wf_inbox WHERE run_id = ?1",
	[SQW_PRUNE_RUN] = "DELETE FROM wf_runs WHERE id = ?1",
	[SQW_ANY] = "SELECT 1 FROM wf_runs LIMIT 1",
};

/* The schema of workflows (migration 2 -> 3 of store/sqlite/sqlite.c). */
const char sqw_schema[]
    /* An activity's task names its run and entry. */
    = "ALTER TABLE tasks ADD COLUMN wf_run INTEGER;"
      "ALTER TABLE tasks ADD COLUMN wf_seq INTEGER;"
      "CREATE TABLE wf_runs ("
      "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
      "  workflow_id TEXT NOT NULL,"
      "  type TEXT NOT NULL,"
      "  queue TEXT NOT NULL,"
      "  input BLOB NOT NULL,"
      "  state INTEGER NOT NULL,"
      "  phase INTEGER NOT NULL,"
      "  ready_at INTEGER NOT NULL,"
      "  result BLOB,"
      "  error TEXT,"
      "  cancel_requested INTEGER NOT NULL DEFAULT 0,"
      "  cancel_delivered INTEGER NOT NULL DEFAULT 0,"
      "  stuck INTEGER NOT NULL DEFAULT 0,"
      "  stuck_reason TEXT,"
      "  next_seq INTEGER NOT NULL DEFAULT 1,"
      "  resolved_count INTEGER NOT NULL DEFAULT 0,"
      "  lease_resolved INTEGER NOT NULL DEFAULT 0,"
      "  task_attempt INTEGER NOT NULL DEFAULT 0,"
      "  failures INTEGER NOT NULL DEFAULT 0,"
      "  worker_id TEXT,"
      "  lease_token TEXT,"
      "  lease_deadline INTEGER,"
      "  lease_timeout INTEGER NOT NULL DEFAULT 0,"
      "  lease_outcome INTEGER NOT NULL DEFAULT 0,"
      "  parent_run INTEGER,"
      "  parent_seq INTEGER,"
      "  created_at INTEGER NOT NULL,"
      "  updated_at INTEGER NOT NULL,"
      "  finished_at INTEGER"
      ");"
      /* One run per workflow_id while it is retained. */
      "CREATE UNIQUE INDEX wf_runs_workflow_id ON wf_runs (workflow_id);"
      /* Lease order within a queue, over runnable runs only. */
      "CREATE INDEX wf_runs_ready ON wf_runs (queue, ready_at, id)"
      "  WHERE phase = 1;"
      /* When a run that waits for its retry becomes runnable. */
      "CREATE INDEX wf_runs_ready_at ON wf_runs (ready_at) WHERE phase = 1;"
      /* Leases to expire. */
      "CREATE INDEX wf_runs_leased ON wf_runs (lease_deadline)"
      "  WHERE phase = 2;"
      /* Retention. */
      "CREATE INDEX wf_runs_finished ON wf_runs (finished_at)"
      "  WHERE state >= 3;"
      /* List by type or state, stuck runs, and the metrics. */
      "CREATE INDEX wf_runs_type ON wf_runs (type, state);"
      "CREATE INDEX wf_runs_type_id ON wf_runs (type, id);"
      "CREATE INDEX wf_runs_state ON wf_runs (state, id);"
      "CREATE INDEX wf_runs_stuck ON wf_runs (id) WHERE stuck = 1;"
      "CREATE TABLE wf_entries ("
      "  run_id INTEGER NOT NULL,"
      "  seq INTEGER NOT NULL,"
      "  kind INTEGER NOT NULL,"
      "  name TEXT NOT NULL,"
      "  input_hash INTEGER NOT NULL,"
      "  input BLOB NOT NULL,"
      "  status INTEGER NOT NULL,"
      "  result BLOB,"
      "  error TEXT,"
      "  created_at INTEGER NOT NULL,"
      "  resolved_at INTEGER,"
      "  resolved_order INTEGER NOT NULL DEFAULT 0,"
      "  task_id INTEGER,"
      "  child_run INTEGER,"
      "  fire_at INTEGER,"
      "  PRIMARY KEY (run_id, seq)"
      ") WITHOUT ROWID;"
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
      "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
      "  run_id INTEGER NOT NULL,"
      "  name TEXT NOT NULL,"
      "  payload BLOB NOT NULL,"
      "  at INTEGER NOT NULL"
      ");"
      "CREATE INDEX wf_inbox_run ON wf_inbox (run_id, name, id);";
